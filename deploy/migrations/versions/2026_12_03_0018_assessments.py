"""cylinder-model assessments: levels and factor catalogues with history, and assessments

The default levels (0 and A-D, after the police model) and the risk and protective factor
catalogues of DESIGN §5 are seeded here with `is_default` set: a default set the municipality
replaces with its own wording (a change is a new version; the seeded rows stay for history).
`assessment` is a shared entry of category risk; its factors, rationale and participants are
encrypted at rest by the application.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 18:00:00.000000
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (code, rank, wording): 0 at the bottom, A at the top (A the most criminally active and
# influential, D young people at risk on the edge of the network).
DEFAULT_LEVELS = (
    ("0", 0, "Ingen känd risk"),
    ("D", 1, "Ung i riskzonen, i utkanten av ett kriminellt nätverk"),
    ("C", 2, "Deltar i brott tillsammans med andra i nätverket"),
    ("B", 3, "Brottsaktiv i nätverket, med inflytande över yngre"),
    ("A", 4, "Bland de mest brottsaktiva och inflytelserika i nätverket"),
)
DEFAULT_RISK_FACTORS = (
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
DEFAULT_PROTECTIVE_FACTORS = (
    "Regelbunden skolgång",
    "Meningsfull fritidsaktivitet",
    "Engagerad vårdnadshavare",
    "Prosociala kamrater",
    "Egen motivation till förändring",
    "Trygg vuxen i skola/fritid",
    "Arbete eller praktik (feriepraktik)",
)


def upgrade() -> None:
    level = op.create_table(
        "cylinder_level",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("wording", sa.String(length=300), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=True),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["recorded_by"],
            ["app_user.id"],
            name=op.f("fk_cylinder_level_recorded_by_app_user"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cylinder_level")),
        sa.UniqueConstraint("code", "version", name=op.f("uq_cylinder_level_code_version")),
    )
    with op.batch_alter_table("cylinder_level", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cylinder_level_code"), ["code"], unique=False)

    factor = op.create_table(
        "assessment_factor",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("factor_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=True),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('risk', 'protective')", name=op.f("ck_assessment_factor_kind")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"],
            ["app_user.id"],
            name=op.f("fk_assessment_factor_recorded_by_app_user"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_factor")),
        sa.UniqueConstraint(
            "factor_id", "version", name=op.f("uq_assessment_factor_factor_id_version")
        ),
    )
    with op.batch_alter_table("assessment_factor", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assessment_factor_factor_id"), ["factor_id"], unique=False
        )

    op.create_table(
        "assessment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("level_id", sa.Uuid(), nullable=False),
        sa.Column("level_code", sa.String(length=8), nullable=False),
        sa.Column("level_rank", sa.Integer(), nullable=False),
        sa.Column("level_wording", sa.String(length=300), nullable=False),
        sa.Column("factors", sa.String(), nullable=False),
        sa.Column("rationale", sa.String(), nullable=False),
        sa.Column("participants", sa.String(), nullable=False),
        sa.Column("meeting_id", sa.Uuid(), nullable=True),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("author_agency_id", sa.Uuid(), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("category = 'risk'", name=op.f("ck_assessment_category")),
        sa.CheckConstraint(
            "visibility IN ('team', 'own_agency')", name=op.f("ck_assessment_visibility")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_file.id"],
            name=op.f("fk_assessment_case_id_case_file"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["level_id"],
            ["cylinder_level.id"],
            name=op.f("fk_assessment_level_id_cylinder_level"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name=op.f("fk_assessment_meeting_id_meeting")
        ),
        sa.ForeignKeyConstraint(
            ["author_agency_id"],
            ["agency.id"],
            name=op.f("fk_assessment_author_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"],
            ["app_user.id"],
            name=op.f("fk_assessment_recorded_by_app_user"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment")),
    )
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assessment_case_id"), ["case_id"], unique=False)

    now = datetime.now(UTC)
    seeded = {"version": 1, "is_default": True, "retired": False, "recorded_at": now}
    op.bulk_insert(
        level,
        [
            {"id": uuid.uuid4(), "code": code, "rank": rank, "wording": wording, **seeded}
            for code, rank, wording in DEFAULT_LEVELS
        ],
    )
    op.bulk_insert(
        factor,
        [
            {
                "id": uuid.uuid4(),
                "factor_id": uuid.uuid4(),
                "kind": kind,
                "rank": rank,
                "text": text,
                **seeded,
            }
            for kind, texts in (
                ("risk", DEFAULT_RISK_FACTORS),
                ("protective", DEFAULT_PROTECTIVE_FACTORS),
            )
            for rank, text in enumerate(texts, start=1)
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_case_id"))
    op.drop_table("assessment")
    with op.batch_alter_table("assessment_factor", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_factor_factor_id"))
    op.drop_table("assessment_factor")
    with op.batch_alter_table("cylinder_level", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cylinder_level_code"))
    op.drop_table("cylinder_level")
