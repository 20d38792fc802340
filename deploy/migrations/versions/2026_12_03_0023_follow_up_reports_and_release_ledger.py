"""the follow-up report and the release ledger (append-only, like the audit tables)

`follow_up_report`: the coordinator's narrative per activity and period, draft or published,
version. `statistics_release`: one row per publication with the frozen JSON, CSV and PDF, their
SHA-256 and the release's, the audit checkpoint, the disclosure view (suppressed values never
stored). The database refuses UPDATE and DELETE on `statistics_release` (and TRUNCATE on
PostgreSQL).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEDGER = "statistics_release"


def upgrade() -> None:
    op.create_table(
        "follow_up_report",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("activity_id", sa.Uuid(), nullable=False),
        sa.Column("period_code", sa.String(length=16), nullable=False),
        sa.Column("narrative", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("last_release", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "state IN ('draft', 'published')", name=op.f("ck_follow_up_report_state")
        ),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["agreement_activity.id"],
            name=op.f("fk_follow_up_report_activity_id_agreement_activity"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreement.id"],
            name=op.f("fk_follow_up_report_agreement_id_agreement"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["app_user.id"],
            name=op.f("fk_follow_up_report_created_by_app_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["app_user.id"],
            name=op.f("fk_follow_up_report_updated_by_app_user"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_report")),
        sa.UniqueConstraint(
            "activity_id", "period_code", name=op.f("uq_follow_up_report_activity_id_period_code")
        ),
    )
    op.create_index(op.f("ix_follow_up_report_agreement_id"), "follow_up_report", ["agreement_id"])
    op.create_table(
        LEDGER,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Uuid(), nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("period_code", sa.String(length=16), nullable=False),
        sa.Column("corrects", sa.Integer(), nullable=True),
        sa.Column("document_json", sa.LargeBinary(), nullable=False),
        sa.Column("document_csv", sa.LargeBinary(), nullable=False),
        sa.Column("document_pdf", sa.LargeBinary(), nullable=False),
        sa.Column("json_sha256", sa.String(length=64), nullable=False),
        sa.Column("csv_sha256", sa.String(length=64), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("release_sha256", sa.String(length=64), nullable=False),
        sa.Column("checkpoint_size", sa.BigInteger(), nullable=True),
        sa.Column("checkpoint_root", sa.String(length=64), nullable=True),
        sa.Column("disclosure", sa.JSON(), nullable=False),
        sa.Column("published_by", sa.Uuid(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("number >= 1", name=op.f("ck_statistics_release_number")),
        sa.CheckConstraint(
            "corrects IS NULL OR corrects < number", name=op.f("ck_statistics_release_corrects")
        ),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["agreement_activity.id"],
            name=op.f("fk_statistics_release_activity_id_agreement_activity"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreement.id"],
            name=op.f("fk_statistics_release_agreement_id_agreement"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["published_by"],
            ["app_user.id"],
            name=op.f("fk_statistics_release_published_by_app_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["follow_up_report.id"],
            name=op.f("fk_statistics_release_report_id_follow_up_report"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statistics_release")),
        sa.UniqueConstraint(
            "agreement_id", "number", name=op.f("uq_statistics_release_agreement_id_number")
        ),
        sa.UniqueConstraint("release_sha256", name=op.f("uq_statistics_release_release_sha256")),
    )
    op.create_index(op.f("ix_statistics_release_agreement_id"), LEDGER, ["agreement_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END$$"
        )
        op.execute(
            f"CREATE TRIGGER {LEDGER}_no_change BEFORE UPDATE OR DELETE ON {LEDGER} "
            "FOR EACH ROW EXECUTE FUNCTION ledger_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {LEDGER}_no_truncate BEFORE TRUNCATE ON {LEDGER} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {LEDGER}_no_{verb.lower()} BEFORE {verb} ON {LEDGER} "
                f"BEGIN SELECT RAISE(ABORT, '{LEDGER} is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {LEDGER}_no_change ON {LEDGER}")
        op.execute(f"DROP TRIGGER IF EXISTS {LEDGER}_no_truncate ON {LEDGER}")
        op.execute("DROP FUNCTION IF EXISTS ledger_append_only()")
    else:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {LEDGER}_no_{verb}")
    op.drop_index(op.f("ix_statistics_release_agreement_id"), table_name=LEDGER)
    op.drop_table(LEDGER)
    op.drop_index(op.f("ix_follow_up_report_agreement_id"), table_name="follow_up_report")
    op.drop_table("follow_up_report")
