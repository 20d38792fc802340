"""case state reasons: why each state change happened, and system-made changes

The consent sweep moves cases without a person behind the move, so `changed_by` may be empty,
and every change now says why it happened. Earlier changes get "opened" (the first) or
"manual": a case paused before this revision is treated as paused by hand and resumes only by
hand, the cautious reading.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REASONS = (
    "'opened', 'manual', 'consent_complete', 'consent_refused', 'consent_withdrawn', "
    "'consent_expired', 'signer_missing', 'consent_incomplete'"
)


def upgrade() -> None:
    with op.batch_alter_table("case_state_change", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.String(length=32), nullable=True))
    op.execute(
        "UPDATE case_state_change "
        "SET reason = CASE WHEN from_state IS NULL THEN 'opened' ELSE 'manual' END"
    )
    with op.batch_alter_table("case_state_change", schema=None) as batch_op:
        batch_op.alter_column("reason", existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column("changed_by", existing_type=sa.Uuid(), nullable=True)
        batch_op.create_check_constraint(
            op.f("ck_case_state_change_reason"), f"reason IN ({REASONS})"
        )
        batch_op.create_check_constraint(
            op.f("ck_case_state_change_manual_has_a_person"),
            "changed_by IS NOT NULL OR reason != 'manual'",
        )

    with op.batch_alter_table("case_file", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state_reason", sa.String(length=32), nullable=True))
    op.execute(
        "UPDATE case_file SET state_reason = "
        "CASE WHEN state = 'referred' THEN 'opened' ELSE 'manual' END"
    )
    with op.batch_alter_table("case_file", schema=None) as batch_op:
        batch_op.alter_column("state_reason", existing_type=sa.String(length=32), nullable=False)
        batch_op.create_check_constraint(
            op.f("ck_case_file_state_reason"), f"state_reason IN ({REASONS})"
        )


def downgrade() -> None:
    # Changes the system made have no person to name: the old schema cannot hold them, and
    # history is not thrown away to make it fit.
    system_made = op.get_bind().execute(
        sa.text("SELECT count(*) FROM case_state_change WHERE changed_by IS NULL")
    )
    if system_made.scalar_one():
        raise RuntimeError("case history holds changes made by the system; cannot downgrade")
    with op.batch_alter_table("case_file", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_case_file_state_reason"), type_="check")
        batch_op.drop_column("state_reason")
    with op.batch_alter_table("case_state_change", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_case_state_change_manual_has_a_person"), type_="check")
        batch_op.drop_constraint(op.f("ck_case_state_change_reason"), type_="check")
        batch_op.alter_column("changed_by", existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_column("reason")
