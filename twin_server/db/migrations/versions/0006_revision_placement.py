"""revisions placed on the map: footprint, georeference, warnings

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("footprint_local_json", sa.Text),
    ("footprint_json", sa.Text),
    ("georef_kind", lambda: sa.String(length=32)),
    ("georef_crs", lambda: sa.String(length=400)),
    ("center_lon", sa.Float),
    ("center_lat", sa.Float),
    ("georef_warnings_json", sa.Text),
    ("placed_at", lambda: sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table("revisions") as batch:
        for name, kind in _COLUMNS:
            batch.add_column(sa.Column(name, kind(), nullable=True))
        batch.create_index("ix_revisions_placed_at", ["placed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("revisions") as batch:
        batch.drop_index("ix_revisions_placed_at")
        for name, _ in reversed(_COLUMNS):
            batch.drop_column(name)
