from sqlalchemy import literal
from sqlmodel import Session, select


def database_answers(session: Session) -> None:
    """Raises if the database cannot run a trivial query."""
    session.exec(select(literal(1))).one()
