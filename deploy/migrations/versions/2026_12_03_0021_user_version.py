"""app_user.version: guards the administrator's edits of an account

An administrator changes an account's agency, roles and programmes, disables and enables it,
resets its second factor and lifts a lockout from a page; an edit based on an older read of the
account is refused (409) instead of silently overwriting what another administrator did.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("version")
