"""Alembic environment: migrations run on the connection handed in by ``db.session.migrate``."""

from __future__ import annotations

from alembic import context

from twin_server.db.orm import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through twin_server.db.session.migrate(engine)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things in place; batch mode rebuilds tables instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
