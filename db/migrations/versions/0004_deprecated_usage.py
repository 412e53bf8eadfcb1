"""deprecated usage per coordinate, client and day

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 00:00:00
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"

_TABLE = "deprecated_usage"


def upgrade() -> None:
    op.create_table(
        _TABLE,
        sa.Column("coordinate", sa.String(length=255), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("uses", sa.BigInteger(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("coordinate", "client", "day", name=op.f("pk_deprecated_usage")),
    )


def downgrade() -> None:
    op.drop_table(_TABLE)
