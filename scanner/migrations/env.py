"""Alembic environment: runs on the connection that ``scanner.storage.upgrade`` passes in."""
from __future__ import annotations

from alembic import context

from scanner.storage import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - doxwatch always passes one
    raise RuntimeError("run migrations through scanner.storage.upgrade()")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
