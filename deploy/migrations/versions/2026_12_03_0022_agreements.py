"""the collaboration agreement: parties, goal areas, activities, targets, the follow-up grid

`agreement`: name, dates (`ends_on` exclusive), the follow-up period kind, `k`, the grid
(breakdowns, areas and school agency ids as JSON arrays), who follows up, `grid_frozen_at`
(set when the first report is published), version.
`agreement_party`, `agreement_goal_area` (letter unique per agreement), `agreement_activity`
(goal area, coverage: programmes, schools, areas) and `agreement_target` (an indicator's row,
kind, comparison and value).

Municipal configuration: no case or young-person reference, no personal data.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agreement",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("period_kind", sa.String(length=16), nullable=False),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("breakdowns", sa.JSON(), nullable=False),
        sa.Column("areas", sa.JSON(), nullable=False),
        sa.Column("school_agency_ids", sa.JSON(), nullable=False),
        sa.Column("follow_up_by", sa.String(length=200), nullable=False),
        sa.Column("grid_frozen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "period_kind IN ('tertial', 'half_year', 'school_term', 'year')",
            name=op.f("ck_agreement_period_kind"),
        ),
        sa.CheckConstraint("k >= 3 AND k <= 20", name=op.f("ck_agreement_k")),
        sa.CheckConstraint("starts_on < ends_on", name=op.f("ck_agreement_dates")),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["app_user.id"],
            name=op.f("fk_agreement_created_by_app_user"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement")),
    )
    op.create_table(
        "agreement_goal_area",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("letter", sa.String(length=1), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreement.id"],
            name=op.f("fk_agreement_goal_area_agreement_id_agreement"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_goal_area")),
        sa.UniqueConstraint(
            "agreement_id", "letter", name=op.f("uq_agreement_goal_area_agreement_id_letter")
        ),
    )
    op.create_index(
        op.f("ix_agreement_goal_area_agreement_id"), "agreement_goal_area", ["agreement_id"]
    )
    op.create_table(
        "agreement_party",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_agreement_party_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreement.id"],
            name=op.f("fk_agreement_party_agreement_id_agreement"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_party")),
    )
    op.create_index(op.f("ix_agreement_party_agreement_id"), "agreement_party", ["agreement_id"])
    op.create_table(
        "agreement_activity",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("goal_area_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("programmes", sa.JSON(), nullable=False),
        sa.Column("school_agency_ids", sa.JSON(), nullable=False),
        sa.Column("areas", sa.JSON(), nullable=False),
        sa.Column("responsible", sa.String(length=300), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreement.id"],
            name=op.f("fk_agreement_activity_agreement_id_agreement"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["goal_area_id"],
            ["agreement_goal_area.id"],
            name=op.f("fk_agreement_activity_goal_area_id_agreement_goal_area"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_activity")),
    )
    op.create_index(
        op.f("ix_agreement_activity_agreement_id"), "agreement_activity", ["agreement_id"]
    )
    op.create_index(
        op.f("ix_agreement_activity_goal_area_id"), "agreement_activity", ["goal_area_id"]
    )
    op.create_table(
        "agreement_target",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("activity_id", sa.Uuid(), nullable=False),
        sa.Column("indicator", sa.String(length=64), nullable=False),
        sa.Column("row_code", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("comparison", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "comparison IN ('at_least', 'at_most')", name=op.f("ck_agreement_target_comparison")
        ),
        sa.CheckConstraint(
            "kind IN ('count', 'share', 'median_days')", name=op.f("ck_agreement_target_kind")
        ),
        sa.CheckConstraint("value >= 0", name=op.f("ck_agreement_target_value")),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["agreement_activity.id"],
            name=op.f("fk_agreement_target_activity_id_agreement_activity"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_target")),
    )
    op.create_index(op.f("ix_agreement_target_activity_id"), "agreement_target", ["activity_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_agreement_target_activity_id"), table_name="agreement_target")
    op.drop_table("agreement_target")
    op.drop_index(op.f("ix_agreement_activity_goal_area_id"), table_name="agreement_activity")
    op.drop_index(op.f("ix_agreement_activity_agreement_id"), table_name="agreement_activity")
    op.drop_table("agreement_activity")
    op.drop_index(op.f("ix_agreement_party_agreement_id"), table_name="agreement_party")
    op.drop_table("agreement_party")
    op.drop_index(op.f("ix_agreement_goal_area_agreement_id"), table_name="agreement_goal_area")
    op.drop_table("agreement_goal_area")
    op.drop_table("agreement")
