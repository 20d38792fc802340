"""agency area and deactivation; the referral's first meeting, stored for the follow-up

`agency.area` names the part of the municipality (stadsdel, kommundel) a unit serves: a
referral lands in the inbox of the social-services unit of the young person's area.
`agency.deactivated_at` retires a unit without deleting it (its history stays), and
`agency.version` guards the administrator's edits.

`referral.first_meeting_at` / `days_to_first_meeting`: the start of the first meeting of the
linked case whose minutes were finalised, and the days from the referral to it (Europe/
Stockholm dates), stored when it happens so the follow-up never recomputes history.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agency", schema=None) as batch_op:
        batch_op.add_column(sa.Column("area", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("first_meeting_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("days_to_first_meeting", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_column("days_to_first_meeting")
        batch_op.drop_column("first_meeting_at")
    with op.batch_alter_table("agency", schema=None) as batch_op:
        batch_op.drop_column("version")
        batch_op.drop_column("deactivated_at")
        batch_op.drop_column("area")
