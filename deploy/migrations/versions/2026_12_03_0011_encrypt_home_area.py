"""encrypt home area: young_person.home_area becomes an encrypted column

The migration runs without the field keys (`samsyn db upgrade` runs as the schema owner, who
never needs them), so it only widens the column and marks every value it finds in clear with
``v0.``. Reads refuse that mark; `samsyn keys reencrypt` (and `samsyn run` right after it
migrates) encrypts the marked values for their rows.

Downgrading needs the field keys to turn encrypted values back into text: `samsyn db
downgrade` installs them; without them, a database holding encrypted home areas is refused.

Revision ID: 0011
Revises: 0014
Create Date: 2026-12-03 01:00:00.000000
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MARK = "v0."  # common.crypto.PLAINTEXT_MARK, spelled out: migrations keep their own values


def upgrade() -> None:
    with op.batch_alter_table("young_person", schema=None) as batch_op:
        batch_op.alter_column(
            "home_area",
            existing_type=sa.String(length=100),
            type_=sa.String(),
            existing_nullable=True,
        )
    op.execute(
        sa.text(
            "UPDATE young_person SET home_area = :mark || home_area WHERE home_area IS NOT NULL"
        ).bindparams(mark=MARK)
    )


def downgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT id, home_area FROM young_person WHERE home_area IS NOT NULL")
    ).all()
    for row_id, stored in rows:
        connection.execute(
            sa.text("UPDATE young_person SET home_area = :plain WHERE id = :id").bindparams(
                sa.bindparam("id", type_=sa.Uuid())
            ),
            {"plain": _plaintext(uuid.UUID(str(row_id)), stored), "id": uuid.UUID(str(row_id))},
        )
    with op.batch_alter_table("young_person", schema=None) as batch_op:
        batch_op.alter_column(
            "home_area",
            existing_type=sa.String(),
            type_=sa.String(length=100),
            existing_nullable=True,
        )


def _plaintext(row_id: uuid.UUID, stored: str) -> str:
    if stored.startswith(MARK):
        return stored[len(MARK) :]
    from common.crypto import KeyMaterialError, field_keyring  # only to turn values back

    try:
        return field_keyring().decrypt(stored, context="young_person.home_area", row_id=row_id)
    except KeyMaterialError as exc:
        raise RuntimeError(
            f"cannot downgrade 0011: young_person.home_area of row {row_id} is encrypted and "
            f"the field keys do not open it ({exc}); run `samsyn db downgrade` with the keys"
        ) from None
