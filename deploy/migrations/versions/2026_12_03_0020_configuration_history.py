"""the municipality's consent ages with history, and one history of every configuration change

`consent_policy`: the consent ages (the young person signs too from this age; alone from the
adult age), one row per version; the row in force has no `superseded_at`. Empty at first: the
process settings apply until the administrator changes the ages.

`config_change`: who changed which configuration when, with the old and new value (JSON).
Written in the same transaction as the change; no personal data.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consent_policy",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("young_person_from_age", sa.Integer(), nullable=False),
        sa.Column("adult_age", sa.Integer(), nullable=False),
        sa.Column("in_force_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=True),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "young_person_from_age > 0 AND young_person_from_age <= adult_age",
            name=op.f("ck_consent_policy_ages"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"],
            ["app_user.id"],
            name=op.f("fk_consent_policy_recorded_by_app_user"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_policy")),
        sa.UniqueConstraint("version", name=op.f("uq_consent_policy_version")),
    )
    op.create_table(
        "config_change",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["changed_by"],
            ["app_user.id"],
            name=op.f("fk_config_change_changed_by_app_user"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_change")),
    )
    with op.batch_alter_table("config_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_config_change_changed_at"), ["changed_at"])
        batch_op.create_index(batch_op.f("ix_config_change_kind"), ["kind"])


def downgrade() -> None:
    with op.batch_alter_table("config_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_config_change_kind"))
        batch_op.drop_index(batch_op.f("ix_config_change_changed_at"))
    op.drop_table("config_change")
    op.drop_table("consent_policy")
