"""oidc logout and login locks: the ID token a session needs for RP-initiated logout, and
the rows that serialise concurrent login attempts

Revision ID: 0014
Revises: 0010
Create Date: 2026-12-03 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("oidc_issuer_name", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("oidc_id_token", sa.String(), nullable=True))

    op.create_table(
        "login_lock",
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("slot", name=op.f("pk_login_lock")),
    )


def downgrade() -> None:
    op.drop_table("login_lock")
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.drop_column("oidc_id_token")
        batch_op.drop_column("oidc_issuer_name")
