"""Database URL resolution, engine creation and schema migration (``rheumetrics db init``)."""

from __future__ import annotations

import os
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event

from rheumetrics.errors import RheumetricsError

#: Environment variable holding the database URL when none is given.
URL_ENV = "RHEUMETRICS_DB_URL"
#: Used when neither an explicit URL nor the environment variable is set (a file in the cwd).
DEFAULT_URL = "sqlite:///rheumetrics.sqlite"


def resolve_url(url: str | None = None) -> str:
    """The URL given, else ``$RHEUMETRICS_DB_URL``, else :data:`DEFAULT_URL`."""
    return url or os.environ.get(URL_ENV) or DEFAULT_URL


def _sqlite_setup(engine: Engine) -> None:
    """Real transactions on SQLite, foreign-key checks on.

    Transactions start with a deferred BEGIN; a connection with the execution option
    ``sqlite_begin="IMMEDIATE"`` (used by imports) takes the write lock at once, so a writer never
    fails half-way on a lock upgrade.

    pysqlite's own transaction handling is switched off so that BEGIN/COMMIT, DDL included,
    are exactly what SQLAlchemy asks for (SQLAlchemy docs, "Serializable isolation / Savepoints /
    Transactional DDL" for pysqlite).
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Engine for ``url`` (resolved with :func:`resolve_url`)."""
    engine = create_engine(resolve_url(url), **kwargs)
    if engine.dialect.name == "sqlite":
        _sqlite_setup(engine)
    return engine


def alembic_config(engine: Engine) -> Config:
    """Alembic configuration pointing at the migrations shipped inside the package."""
    cfg = Config()
    cfg.set_main_option("script_location", "rheumetrics.store:migrations")
    cfg.attributes["engine"] = engine
    return cfg


def init_db(engine: Engine) -> str:
    """Create or upgrade the schema to the newest migration (``alembic upgrade head``).

    Returns the revision the database is at afterwards.
    """
    command.upgrade(alembic_config(engine), "head")
    return current_revision(engine) or ""


def current_revision(engine: Engine) -> str | None:
    """Revision the database is at, or None for an empty database."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """Newest migration shipped with this package."""
    cfg = Config()
    cfg.set_main_option("script_location", "rheumetrics.store:migrations")
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def require_current(engine: Engine) -> None:
    """Raise a clear error unless the schema is at the newest migration."""
    rev, head = current_revision(engine), head_revision()
    if rev != head:
        raise RheumetricsError(
            f"database {engine.url.render_as_string(hide_password=True)} is at schema revision "
            f"{rev or 'none'}, this rheumetrics needs {head}: run `rheumetrics db init`"
        )
