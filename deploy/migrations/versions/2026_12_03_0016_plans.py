"""the plan: goals and commitments (shared entries of category plan)

`plan_commitment.decided_at_meeting_id` refers to the meeting (0015) that decided it.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_VISIBILITY = "visibility IN ('team', 'own_agency')"


def upgrade() -> None:
    op.create_table(
        "plan_goal",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("author_agency_id", sa.Uuid(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'reached', 'dropped')", name=op.f("ck_plan_goal_status")
        ),
        sa.CheckConstraint("category = 'plan'", name=op.f("ck_plan_goal_category")),
        sa.CheckConstraint(_VISIBILITY, name=op.f("ck_plan_goal_visibility")),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_file.id"],
            name=op.f("fk_plan_goal_case_id_case_file"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_agency_id"],
            ["agency.id"],
            name=op.f("fk_plan_goal_author_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["app_user.id"],
            name=op.f("fk_plan_goal_created_by_app_user"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_goal")),
    )
    with op.batch_alter_table("plan_goal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_goal_case_id"), ["case_id"], unique=False)

    op.create_table(
        "plan_commitment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("what", sa.String(), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("person_user_id", sa.Uuid(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.String(), nullable=True),
        sa.Column("decided_at_meeting_id", sa.Uuid(), nullable=True),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_by", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'done', 'cancelled')", name=op.f("ck_plan_commitment_status")
        ),
        sa.CheckConstraint("category = 'plan'", name=op.f("ck_plan_commitment_category")),
        sa.CheckConstraint(_VISIBILITY, name=op.f("ck_plan_commitment_visibility")),
        sa.CheckConstraint(
            "(status = 'done') = (completed_at IS NOT NULL) "
            "AND (completed_at IS NULL) = (completed_by IS NULL)",
            name=op.f("ck_plan_commitment_completion"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_file.id"],
            name=op.f("fk_plan_commitment_case_id_case_file"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_at_meeting_id"],
            ["meeting.id"],
            name=op.f("fk_plan_commitment_decided_at_meeting_id_meeting"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_plan_commitment_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["person_user_id"],
            ["app_user.id"],
            name=op.f("fk_plan_commitment_person_user_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["app_user.id"],
            name=op.f("fk_plan_commitment_created_by_app_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["completed_by"],
            ["app_user.id"],
            name=op.f("fk_plan_commitment_completed_by_app_user"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_commitment")),
    )
    with op.batch_alter_table("plan_commitment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_commitment_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_plan_commitment_agency_id"), ["agency_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_plan_commitment_person_user_id"), ["person_user_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("plan_commitment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_commitment_person_user_id"))
        batch_op.drop_index(batch_op.f("ix_plan_commitment_agency_id"))
        batch_op.drop_index(batch_op.f("ix_plan_commitment_case_id"))
    op.drop_table("plan_commitment")
    with op.batch_alter_table("plan_goal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_goal_case_id"))
    op.drop_table("plan_goal")
