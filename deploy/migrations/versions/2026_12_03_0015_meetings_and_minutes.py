"""meetings and minutes: meetings of a case, their attendance and their minute items

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-03 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = "'start', 'network', 'team', 'follow_up', 'emergency_stop', 'worry_talk'"
CATEGORIES = "'basic', 'school', 'social', 'police', 'leisure', 'health', 'risk', 'plan'"


def upgrade() -> None:
    op.create_table(
        "meeting",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place", sa.String(), nullable=False),
        sa.Column("chair_user_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("minutes_state", sa.String(length=16), nullable=False),
        sa.Column("finalised_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finalised_by", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.CheckConstraint(f"kind IN ({KINDS})", name=op.f("ck_meeting_kind")),
        sa.CheckConstraint("status IN ('scheduled', 'cancelled')", name=op.f("ck_meeting_status")),
        sa.CheckConstraint(
            "minutes_state IN ('draft', 'final')", name=op.f("ck_meeting_minutes_state")
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_meeting_ends_after_start")),
        sa.CheckConstraint(
            "(minutes_state = 'final') = (finalised_at IS NOT NULL) "
            "AND (finalised_at IS NULL) = (finalised_by IS NULL)",
            name=op.f("ck_meeting_finalised"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_file.id"],
            name=op.f("fk_meeting_case_id_case_file"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["chair_user_id"],
            ["app_user.id"],
            name=op.f("fk_meeting_chair_user_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["finalised_by"],
            ["app_user.id"],
            name=op.f("fk_meeting_finalised_by_app_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["app_user.id"],
            name=op.f("fk_meeting_created_by_app_user"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting")),
    )
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_meeting_starts_at"), ["starts_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_meeting_chair_user_id"), ["chair_user_id"], unique=False
        )

    op.create_table(
        "meeting_attendee",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("meeting_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("guardian_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("role_text", sa.String(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "kind IN ('user', 'young_person', 'guardian', 'other')",
            name=op.f("ck_meeting_attendee_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('invited', 'came', 'absent')", name=op.f("ck_meeting_attendee_status")
        ),
        sa.CheckConstraint(
            "(kind = 'user') = (user_id IS NOT NULL) "
            "AND (kind = 'guardian') = (guardian_id IS NOT NULL) "
            "AND (kind = 'other') = (name IS NOT NULL)",
            name=op.f("ck_meeting_attendee_kind_fields"),
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
            name=op.f("fk_meeting_attendee_meeting_id_meeting"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_meeting_attendee_user_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["guardian_id"],
            ["guardian.id"],
            name=op.f("fk_meeting_attendee_guardian_id_guardian"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_attendee")),
    )
    with op.batch_alter_table("meeting_attendee", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meeting_attendee_meeting_id"), ["meeting_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_meeting_attendee_user_id"), ["user_id"], unique=False)

    op.create_table(
        "minute_item",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("meeting_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("heading", sa.String(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("author_user_id", sa.Uuid(), nullable=False),
        sa.Column("author_agency_id", sa.Uuid(), nullable=False),
        sa.Column("decision", sa.Boolean(), nullable=False),
        sa.Column("amends_item_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(f"category IN ({CATEGORIES})", name=op.f("ck_minute_item_category")),
        sa.CheckConstraint(
            "visibility IN ('team', 'own_agency')", name=op.f("ck_minute_item_visibility")
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
            name=op.f("fk_minute_item_meeting_id_meeting"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_file.id"],
            name=op.f("fk_minute_item_case_id_case_file"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_user_id"],
            ["app_user.id"],
            name=op.f("fk_minute_item_author_user_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["author_agency_id"],
            ["agency.id"],
            name=op.f("fk_minute_item_author_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["amends_item_id"],
            ["minute_item.id"],
            name=op.f("fk_minute_item_amends_item_id_minute_item"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_minute_item")),
    )
    with op.batch_alter_table("minute_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_minute_item_meeting_id"), ["meeting_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_minute_item_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("minute_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_minute_item_case_id"))
        batch_op.drop_index(batch_op.f("ix_minute_item_meeting_id"))
    op.drop_table("minute_item")
    with op.batch_alter_table("meeting_attendee", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_attendee_user_id"))
        batch_op.drop_index(batch_op.f("ix_meeting_attendee_meeting_id"))
    op.drop_table("meeting_attendee")
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_chair_user_id"))
        batch_op.drop_index(batch_op.f("ix_meeting_starts_at"))
        batch_op.drop_index(batch_op.f("ix_meeting_case_id"))
    op.drop_table("meeting")
