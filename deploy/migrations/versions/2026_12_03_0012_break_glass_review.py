"""break-glass review: the auditor's outcome, who reviewed and when, an optional note

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 01:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("break_glass_grant", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reviewed_by", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("review_outcome", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("review_note", sa.String(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_break_glass_grant_reviewed_by_app_user"),
            "app_user",
            ["reviewed_by"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.create_check_constraint(
            op.f("ck_break_glass_grant_review_outcome"),
            "review_outcome IS NULL OR review_outcome IN ('justified', 'not_justified')",
        )
        batch_op.create_check_constraint(
            op.f("ck_break_glass_grant_review_complete"),
            "(reviewed_at IS NULL) = (reviewed_by IS NULL) "
            "AND (reviewed_at IS NULL) = (review_outcome IS NULL)",
        )


def downgrade() -> None:
    with op.batch_alter_table("break_glass_grant", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_break_glass_grant_review_complete"), type_="check")
        batch_op.drop_constraint(op.f("ck_break_glass_grant_review_outcome"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_break_glass_grant_reviewed_by_app_user"), type_="foreignkey"
        )
        batch_op.drop_column("review_note")
        batch_op.drop_column("review_outcome")
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("reviewed_by")
