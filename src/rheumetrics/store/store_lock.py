"""One writer at a time: the store's write lock for an import, and one-line database errors.

Imports into one store run one after the other (a PostgreSQL advisory lock per store, SQLite's
write lock), waiting up to ``lock_wait`` seconds; a database failure is reported in one line
without the SQL statement or its parameters, which hold patient data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from rheumetrics.errors import RheumetricsError

#: PostgreSQL advisory lock (this key, hash of the store's schema) taken by every import for its
#: transaction: imports into the same store run one after the other, each planning against what
#: the previous one committed.
IMPORT_LOCK_KEY = 0x7268  # "rh"


class StoreBusyError(RheumetricsError):
    """The store stayed locked by another writer for longer than the import would wait."""


@contextmanager
def sqlite_wait(conn: Connection, lock_wait: float) -> Iterator[None]:
    """On SQLite, wait up to ``lock_wait`` seconds for the write lock (busy timeout) for this
    import, then restore the engine's usual timeout (PostgreSQL sets ``lock_timeout``)."""
    if conn.dialect.name != "sqlite":
        yield
        return
    raw = conn.connection.driver_connection
    assert raw is not None
    raw.execute(f"PRAGMA busy_timeout={max(1, int(lock_wait * 1000))}")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


#: The store engine's usual SQLite busy timeout, restored after an import.
SQLITE_BUSY_TIMEOUT_MS = 30_000


#: A double-quoted literal in a database message that is not the name of a schema object.
_QUOTED_VALUE = re.compile(r'(?<!constraint )(?<!relation )(?<!column )(?<!table )"[^"]*"')


def store_error(exc: DBAPIError, source: str, lock_wait: float) -> RheumetricsError:
    """One line for a database failure, without the statement or its parameters (which hold
    patient data)."""
    orig = exc.orig
    first = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    first = _QUOTED_VALUE.sub('"..."', first)  # a value quoted in the message may be patient data
    lock_codes = ("55P03",)  # PostgreSQL lock_not_available
    if "database is locked" in first or getattr(orig, "sqlstate", None) in lock_codes:
        return StoreBusyError(
            f"{source}: the store is busy with another writer and stayed locked for "
            f"{lock_wait:g} s; nothing was stored, try again (or wait longer with --lock-wait)"
        )
    return RheumetricsError(
        f"{source}: import failed in the database ({type(orig).__name__}: {first}); "
        "nothing was stored"
    )
