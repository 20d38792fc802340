"""audit pending queue: the sequencer finds unintegrated events without scanning the log

Every new audit event gets a row in `audit_pending` from a database trigger, in the same
transaction; the sequencer reads the queue instead of anti-joining the last hour of events
against the leaves (which grew with the traffic and, under load, with every round), and
deletes a row when its event has a leaf. The queue is a work list, not part of the log:
verify checks it against the leaves.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 15:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_pending",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_audit_pending")),
    )
    op.create_index(
        "ix_audit_pending_occurred_at", "audit_pending", ["occurred_at", "event_id"], unique=False
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_event_enqueue() RETURNS trigger LANGUAGE plpgsql AS "
            "$$BEGIN INSERT INTO audit_pending (event_id, occurred_at) "
            "VALUES (NEW.id, NEW.occurred_at); RETURN NULL; END$$"
        )
        op.execute(
            "CREATE TRIGGER audit_event_enqueue AFTER INSERT ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION audit_event_enqueue()"
        )
    else:
        op.execute(
            "CREATE TRIGGER audit_event_enqueue AFTER INSERT ON audit_event "
            "BEGIN INSERT INTO audit_pending (event_id, occurred_at) "
            "VALUES (NEW.id, NEW.occurred_at); END"
        )
    op.execute(
        "INSERT INTO audit_pending (event_id, occurred_at) SELECT e.id, e.occurred_at "
        "FROM audit_event e "
        "LEFT JOIN audit_leaf l ON l.event_id = e.id WHERE l.position IS NULL"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_enqueue ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_enqueue()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_enqueue")
    op.drop_index("ix_audit_pending_occurred_at", table_name="audit_pending")
    op.drop_table("audit_pending")
