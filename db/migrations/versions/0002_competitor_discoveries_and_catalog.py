"""competitor discoveries and catalog

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 02:48:24.588061
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"


def upgrade() -> None:
    op.create_table(
        "catalog_entries",
        sa.Column("domain", sa.String(length=255), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("industry", sa.Text(), nullable=False),
        sa.Column("social", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("domain", name=op.f("pk_catalog_entries")),
    )
    op.create_table(
        "competitor_discoveries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("domain", sa.String(length=255), nullable=False),
        sa.Column("industry_context", sa.String(length=200), nullable=True),
        sa.Column("requested_results", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competitor_discoveries")),
    )
    op.create_index(
        "ix_competitor_discoveries_user_id_created_at",
        "competitor_discoveries",
        ["user_id", "created_at"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_competitor_discoveries_user_id_created_at", table_name="competitor_discoveries"
    )
    op.drop_table("competitor_discoveries")
    op.drop_table("catalog_entries")
