"""onboarding progress and steps

Revision ID: 0001
Revises:
Create Date: 2026-11-28 02:39:38.072294
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None


def upgrade() -> None:

    op.create_table(
        "onboarding_progress",
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_onboarding_progress")),
    )
    op.create_table(
        "onboarding_steps",
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("encrypted_secrets", sa.LargeBinary(), nullable=True),
        sa.Column("validation_errors", sa.JSON(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["onboarding_progress.user_id"],
            name=op.f("fk_onboarding_steps_user_id_onboarding_progress"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "number", name=op.f("pk_onboarding_steps")),
    )


def downgrade() -> None:

    op.drop_table("onboarding_steps")
    op.drop_table("onboarding_progress")
