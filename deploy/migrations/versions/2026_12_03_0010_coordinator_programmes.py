"""coordinator programmes: a coordinator sees the cases of the programmes they coordinate

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 01:00:00.000000

Existing coordinators keep the reach they had (every case) by getting both programmes.
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("programmes", sa.JSON(), nullable=False, server_default="[]"))
    users = sa.table(
        "app_user", sa.column("id"), sa.column("roles"), sa.column("programmes", sa.JSON())
    )
    rows = op.get_bind().execute(sa.select(users.c.id, users.c.roles)).all()
    coordinators = [row.id for row in rows if "coordinator" in _roles(row.roles)]
    if coordinators:
        op.execute(
            users.update().where(users.c.id.in_(coordinators)).values(programmes=["SSPF", "SIG"])
        )


def _roles(value: object) -> list[str]:
    """JSON as the driver gives it: text on SQLite, decoded on PostgreSQL."""
    decoded = json.loads(value) if isinstance(value, str) else value
    return [str(role) for role in decoded] if isinstance(decoded, list) else []


def downgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("programmes")
