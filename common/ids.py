import uuid


def new_id() -> uuid.UUID:
    """Public ids are random: they reveal nothing about order or count."""
    return uuid.uuid4()
