"""Alembic environment: runs the package's migrations on the engine passed in by ``init_db``."""

from __future__ import annotations

from alembic import context

from rheumetrics.store.models import Base

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
