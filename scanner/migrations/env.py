"""Alembic environment: runs on the connection that ``scanner.storage.upgrade`` passes in."""
from __future__ import annotations

from alembic import context

from scanner.storage import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - doxwatch always passes one
    raise RuntimeError("run migrations through scanner.storage.upgrade()")

def _ours(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    """APScheduler's job table is created by migration 0002 but mapped by APScheduler, not by us."""
    table = getattr(obj, "table", obj) if type_ != "table" else obj
    return getattr(table, "name", name) != "apscheduler_jobs"


context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True, include_object=_ours)
with context.begin_transaction():
    context.run_migrations()
