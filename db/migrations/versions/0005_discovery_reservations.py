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


def upgrade() -> None:
    op.create_table(
        _TABLE,
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("reserved_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discovery_reservations")),
    )
    op.create_index(
        "ix_discovery_reservations_user_id_reserved_at", _TABLE, ["user_id", "reserved_at"]
    )
    op.create_index("ix_discovery_reservations_reserved_at", _TABLE, ["reserved_at"])


def downgrade() -> None:
    op.drop_index("ix_discovery_reservations_reserved_at", table_name=_TABLE)
    op.drop_index("ix_discovery_reservations_user_id_reserved_at", table_name=_TABLE)
    op.drop_table(_TABLE)
