"""discovery reservations: the rate limit's ledger, which a hard reset leaves

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 00:00:00

The rate limit counted discovery rows, which a hard reset deletes; from here
on it counts these rows instead. Discoveries made before the upgrade have no
reservation: for the one minute after it, a user may start up to the limit
again. Nothing else is lost, so nothing is backfilled.
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"

_TABLE = "discovery_reservations"
# Each index's name and columns, created in this order and dropped in the reverse.
_INDEXES = (
    ("ix_discovery_reservations_user_id_reserved_at", ["user_id", "reserved_at"]),
    ("ix_discovery_reservations_reserved_at", ["reserved_at"]),
)


def upgrade() -> None:
    op.create_table(
        _TABLE,
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("reserved_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discovery_reservations")),
    )
    for name, columns in _INDEXES:
        op.create_index(name, _TABLE, columns)


def downgrade() -> None:
    for name, _columns in reversed(_INDEXES):
        op.drop_index(name, table_name=_TABLE)
    op.drop_table(_TABLE)
