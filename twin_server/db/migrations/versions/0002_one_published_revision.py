"""at most one published revision per model

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_WHERE = sa.text("state = 'PUBLISHED'")


def upgrade() -> None:
    op.create_index(
        "uq_revisions_one_published",
        "revisions",
        ["model_id"],
        unique=True,
        sqlite_where=_WHERE,
        postgresql_where=_WHERE,
    )


def downgrade() -> None:
    op.drop_index("uq_revisions_one_published", table_name="revisions")
