"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""
% if branch_labels or depends_on:

from collections.abc import Sequence
% endif

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}

revision: str = ${repr(up_revision)}
down_revision: str | None = ${repr(down_revision)}
## Alembic reads these two as None when a revision leaves them out.
% if branch_labels:
branch_labels: str | Sequence[str] = ${repr(branch_labels)}
% endif
% if depends_on:
depends_on: str | Sequence[str] = ${repr(depends_on)}
% endif


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
