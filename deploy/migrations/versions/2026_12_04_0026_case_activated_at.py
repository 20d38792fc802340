"""case_file.activated_at: when a case first became active, kept on the case

The follow-up report reads, for every case of a city, when it first became active. It searched
the history for it, one index probe per case: at 50,000 cases 0.1 s on SQLite and over 0.2 s
on PostgreSQL of a report that must take under 2 s. The case now keeps it, set by its first
change to active; existing cases get it from their history.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04 19:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_file", schema=None) as batch_op:
        batch_op.add_column(sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE case_file SET activated_at = ("
        " SELECT min(changed.changed_at) FROM case_state_change AS changed"
        " WHERE changed.case_id = case_file.id AND changed.to_state = 'active')"
    )


def downgrade() -> None:
    with op.batch_alter_table("case_file", schema=None) as batch_op:
        batch_op.drop_column("activated_at")
