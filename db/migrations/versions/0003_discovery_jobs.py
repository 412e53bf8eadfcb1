"""discovery jobs: status, failure, single-flight question hash, lease

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 16:30:00.000000

Every discovery stored before this revision was made synchronously and stored
only on success: it becomes COMPLETED, with one provider attempt, finished
when it was made.
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"

_TABLE = "competitor_discoveries"
_ACTIVE = sa.text("status IN ('PENDING', 'RUNNING')")


def upgrade() -> None:
    with op.batch_alter_table(_TABLE) as batch:
        batch.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="COMPLETED")
        )
        batch.add_column(sa.Column("question_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("website_analysis_data", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("failure_code", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("failure_message", sa.Text(), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("lease_owner", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
        batch.alter_column("result", existing_type=sa.JSON(), nullable=True)
    op.execute(sa.text(f"UPDATE {_TABLE} SET finished_at = created_at"))  # noqa: S608 - a constant
    # The defaults only filled the existing rows; new rows always say what they are.
    with op.batch_alter_table(_TABLE) as batch:
        batch.alter_column("status", existing_type=sa.String(length=16), server_default=None)
        batch.alter_column("attempts", existing_type=sa.Integer(), server_default=None)
    op.create_index(
        "uq_competitor_discoveries_active_question",
        _TABLE,
        ["user_id", "question_hash"],
        unique=True,
        sqlite_where=_ACTIVE,
        postgresql_where=_ACTIVE,
    )
    op.create_index(
        "ix_competitor_discoveries_active_lease",
        _TABLE,
        ["lease_expires_at"],
        sqlite_where=_ACTIVE,
        postgresql_where=_ACTIVE,
    )


def downgrade() -> None:
    op.drop_index("ix_competitor_discoveries_active_lease", table_name=_TABLE)
    op.drop_index("uq_competitor_discoveries_active_question", table_name=_TABLE)
    # Revision 0002 stored successful discoveries only, each with its result.
    op.execute(sa.text(f"DELETE FROM {_TABLE} WHERE status <> 'COMPLETED'"))  # noqa: S608
    with op.batch_alter_table(_TABLE) as batch:
        batch.alter_column("result", existing_type=sa.JSON(), nullable=False)
        for column in (
            "finished_at",
            "lease_expires_at",
            "lease_owner",
            "attempts",
            "failure_message",
            "failure_code",
            "website_analysis_data",
            "question_hash",
            "status",
        ):
            batch.drop_column(column)
