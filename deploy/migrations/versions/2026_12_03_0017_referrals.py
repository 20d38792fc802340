"""referrals (aktualiseringar) and their configuration: grounds, eligibility, capacity

The configuration is seeded with the defaults of DESIGN §5 and issue 13, marked `is_default`
(to be reviewed by each municipality): the referral grounds, age bands (SSPF 12-17; SIG 13-20
with the recorded crime criteria) and capacity (police contact persons: 2 open SIG cases
each; a coordinator: 12).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 16:00:00.000000
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GROUNDS = (
    "Hög skolfrånvaro",
    "Aggressivt beteende",
    "Kamrater som begår brott",
    "Har begått brott",
    "Kamrater som använder alkohol/droger",
    "Har använt alkohol/droger",
    "Utsätter sig för risker / vistas i olämpliga miljöer",
    "Saknar meningsfull fritid",
    "Nya äldre kamrater",
    "Nya dyra kläder/telefon, två telefoner",
    "Oförklarade pengar eller Swish-överföringar",
    "Oro från vårdnadshavare",
)
BANDS = (
    ("SSPF", "SSPF 12–17 år", 12, 17, False),
    ("SIG", "SIG 13–20 år", 13, 20, True),
)
CAPACITY = (
    ("SIG", "police", "contact_person", 2),
    ("SIG", "social_services", "coordinator", 12),
    ("SSPF", "social_services", "coordinator", 12),
)


def upgrade() -> None:
    op.create_table(
        "referral_setting",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["app_user.id"],
            name=op.f("fk_referral_setting_updated_by_app_user"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_referral_setting")),
    )
    grounds = op.create_table(
        "referral_ground",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_ground")),
    )
    bands = op.create_table(
        "eligibility_rule",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("programme", sa.String(length=8), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("min_age", sa.Integer(), nullable=False),
        sa.Column("max_age", sa.Integer(), nullable=False),
        sa.Column("requires_crime_criteria", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "programme IN ('SSPF', 'SIG')", name=op.f("ck_eligibility_rule_programme")
        ),
        sa.CheckConstraint(
            "min_age >= 0 AND max_age >= min_age", name=op.f("ck_eligibility_rule_ages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eligibility_rule")),
    )
    capacity = op.create_table(
        "capacity_rule",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("programme", sa.String(length=8), nullable=False),
        sa.Column("agency_kind", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("per_person", sa.Integer(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("programme IN ('SSPF', 'SIG')", name=op.f("ck_capacity_rule_programme")),
        sa.CheckConstraint("per_person >= 1", name=op.f("ck_capacity_rule_per_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capacity_rule")),
    )
    op.create_table(
        "referral",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("sender_user_id", sa.Uuid(), nullable=False),
        sa.Column("sender_agency_id", sa.Uuid(), nullable=False),
        sa.Column("receiving_agency_id", sa.Uuid(), nullable=False),
        sa.Column("personnummer_index", sa.String(length=64), nullable=True),
        sa.Column("personnummer", sa.String(), nullable=True),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("programme", sa.String(length=8), nullable=False),
        sa.Column("case_programme", sa.String(length=8), nullable=True),
        sa.Column("ground_ids", sa.JSON(), nullable=False),
        sa.Column("text", sa.String(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("decision", sa.String(length=32), nullable=True),
        sa.Column("decline_reason", sa.String(), nullable=True),
        sa.Column("crime_criteria_met", sa.Boolean(), nullable=True),
        sa.Column("crime_criteria_confirmed_by", sa.Uuid(), nullable=True),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("days_to_decision", sa.Integer(), nullable=True),
        sa.Column("waiting_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "programme IN ('SSPF', 'SIG', 'assess')", name=op.f("ck_referral_programme")
        ),
        sa.CheckConstraint(
            "status IN ('received', 'under_assessment', 'waiting', 'taken_up', 'not_taken_up')",
            name=op.f("ck_referral_status"),
        ),
        sa.CheckConstraint(
            "decision IS NULL OR decision IN ('start_assessment', 'open_case', 'attach', "
            "'wait_list', 'decline')",
            name=op.f("ck_referral_decision"),
        ),
        sa.CheckConstraint(
            "(personnummer_index IS NULL) = (personnummer IS NULL) "
            "AND (personnummer_index IS NOT NULL OR (name IS NOT NULL AND birth_year IS NOT NULL))",
            name=op.f("ck_referral_identified"),
        ),
        sa.ForeignKeyConstraint(
            ["sender_user_id"],
            ["app_user.id"],
            name=op.f("fk_referral_sender_user_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["sender_agency_id"],
            ["agency.id"],
            name=op.f("fk_referral_sender_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["receiving_agency_id"],
            ["agency.id"],
            name=op.f("fk_referral_receiving_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["crime_criteria_confirmed_by"],
            ["app_user.id"],
            name=op.f("fk_referral_crime_criteria_confirmed_by_app_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["app_user.id"],
            name=op.f("fk_referral_decided_by_app_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_file.id"],
            name=op.f("fk_referral_case_id_case_file"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral")),
    )
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_referral_sender_user_id"), ["sender_user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_referral_receiving_agency_id"), ["receiving_agency_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_referral_personnummer_index"), ["personnummer_index"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_referral_status"), ["status"], unique=False)

    now = datetime.now(UTC)
    op.bulk_insert(
        grounds,
        [
            {
                "id": uuid.uuid4(),
                "label": label,
                "position": position,
                "is_default": True,
                "created_at": now,
                "retired_at": None,
            }
            for position, label in enumerate(GROUNDS)
        ],
    )
    op.bulk_insert(
        bands,
        [
            {
                "id": uuid.uuid4(),
                "programme": programme,
                "label": label,
                "min_age": low,
                "max_age": high,
                "requires_crime_criteria": crime,
                "is_default": True,
                "created_at": now,
                "retired_at": None,
            }
            for programme, label, low, high, crime in BANDS
        ],
    )
    op.bulk_insert(
        capacity,
        [
            {
                "id": uuid.uuid4(),
                "programme": programme,
                "agency_kind": kind,
                "role": role,
                "per_person": per_person,
                "is_default": True,
                "created_at": now,
                "retired_at": None,
            }
            for programme, kind, role, per_person in CAPACITY
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_status"))
        batch_op.drop_index(batch_op.f("ix_referral_personnummer_index"))
        batch_op.drop_index(batch_op.f("ix_referral_receiving_agency_id"))
        batch_op.drop_index(batch_op.f("ix_referral_sender_user_id"))
    op.drop_table("referral")
    op.drop_table("capacity_rule")
    op.drop_table("eligibility_rule")
    op.drop_table("referral_ground")
    op.drop_table("referral_setting")
