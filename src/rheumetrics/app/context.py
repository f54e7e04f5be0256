"""Per-application state and the request dependencies: the signed-in user, permissions, CSRF."""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.resources import files
from typing import IO, Annotated, Any

try:
    import fcntl
except ImportError:  # not POSIX: threads still queue per process
    fcntl = None  # type: ignore[assignment]

from fastapi import Depends, HTTPException, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

from rheumetrics.app.security import (
    SESSION_COOKIE,
    Sessions,
    Throttle,
    User,
    tokens_match,
)

TEMPLATES = Jinja2Templates(directory=str(files("rheumetrics.app") / "templates"))


@dataclass
class Settings:
    """Server options (``rheumetrics serve``)."""

    stale_lab_days: int = 30
    idle_minutes: int = 30
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    page_size: int = 50


@dataclass
class AppContext:
    engine: Engine
    settings: Settings
    sessions: Sessions
    throttle: Throttle
    cache: dict[str, Any] = field(default_factory=dict)


#: One writer at a time per process: threads queue here in order instead of polling SQLite's
#: write lock against each other (SQLite's busy handler is not a queue and can starve a writer).
_WRITER = threading.Lock()
#: Per process and SQLite file: the open lock file that queues the writers of all worker
#: processes (``serve --workers N``) in the kernel instead of SQLite's sleeping busy handler.
_LOCK_FILES: dict[tuple[int, str], IO[bytes]] = {}


def _lock_file(engine: Engine) -> IO[bytes] | None:
    """The writers' lock file of a SQLite database file (None: no file, or not POSIX)."""
    db = engine.url.database
    if fcntl is None or engine.dialect.name != "sqlite" or db in (None, "", ":memory:"):
        return None
    key = (os.getpid(), str(db))
    if key not in _LOCK_FILES:
        _LOCK_FILES[key] = open(f"{db}-writers.lock", "ab")  # noqa: SIM115 (kept open)
    return _LOCK_FILES[key]


@contextmanager
def _writers_queue(engine: Engine, wait: bool = True) -> Iterator[bool]:
    """Hold the app's writer queue of this store (threads of this process, then processes);
    yields False when ``wait`` is False and another writer holds it. PostgreSQL needs none."""
    if engine.dialect.name != "sqlite":
        yield True
        return
    if not _WRITER.acquire(blocking=wait):
        yield False
        return
    try:
        f = _lock_file(engine)
        if f is None:
            yield True
            return
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
    finally:
        _WRITER.release()


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A write transaction; on SQLite it takes the write lock at once (``BEGIN IMMEDIATE``), so a
    writer waits for another instead of failing half-way on a lock upgrade, after queueing
    behind the app's other writers in every worker process (a lock file beside the database;
    other programs writing to the store, such as an import, still meet SQLite's busy timeout)."""
    with _writers_queue(engine), engine.connect() as conn:
        conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():
            yield conn


@contextmanager
def writing_if_free(engine: Engine) -> Iterator[Connection | None]:
    """A write transaction when it can start without waiting, else None (for bookkeeping that
    may be skipped, such as a session's last use). On SQLite the busy timeout is set to 0 for
    this one attempt and restored afterwards."""
    sqlite = engine.dialect.name == "sqlite"
    with _writers_queue(engine, wait=False) as free:
        if not free:
            yield None
            return
        with engine.connect() as conn:
            if sqlite:
                _busy_timeout(conn, 0)
            try:
                try:
                    trans = conn.execution_options(sqlite_begin="IMMEDIATE").begin()
                except OperationalError:  # another process holds the write lock
                    yield None
                    return
                with trans:
                    yield conn
            finally:
                if sqlite:
                    _busy_timeout(conn, SQLITE_BUSY_MS)


def _busy_timeout(conn: Connection, ms: int) -> None:
    """Set SQLite's busy timeout on the driver connection (outside any transaction)."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    cur = raw.cursor()
    cur.execute(f"PRAGMA busy_timeout={int(ms)}")
    cur.close()


#: The busy timeout every SQLite connection of the store has (``rheumetrics.store.database``).
SQLITE_BUSY_MS = 30000


class NotSignedIn(Exception):
    """Raised by :func:`current_user` for a request without a valid session."""


def ctx(request: Request) -> AppContext:
    return request.app.state.ctx


def session(request: Request) -> tuple[User, str]:
    """The signed-in user and the session's CSRF token; :class:`NotSignedIn` otherwise.

    Read once per request (one query for the session row and its user); the session's last use
    is written at most once a minute (:data:`rheumetrics.app.security.TOUCH_SECONDS`).
    """
    known = getattr(request.state, "session", None)
    if known is not None:
        return known
    c = ctx(request)
    with c.engine.connect() as conn:
        found = c.sessions.read(conn, request.cookies.get(SESSION_COOKIE))
    if found is None:
        raise NotSignedIn
    if found.stale:  # skipped while another request writes; the next request tries again
        with writing_if_free(c.engine) as conn:
            if conn is not None:
                c.sessions.touch(conn, found.token_hash)
    request.state.user, request.state.csrf = found.user, found.csrf
    request.state.session = (found.user, found.csrf)
    return found.user, found.csrf


def current_user(request: Request) -> User:
    return session(request)[0]


async def form_dict(request: Request) -> dict[str, str]:
    """The submitted form's text fields (read on the event loop; the route itself is a plain
    function run in the thread pool, so its database and CPU work never blocks other requests)."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


#: The submitted form as a route parameter (``form: FormData``).
FormData = Annotated[dict[str, str], Depends(form_dict)]


def check_csrf(request: Request, form: FormData) -> None:
    """403 unless the request carries the session's CSRF token (form field or header)."""
    _, token = session(request)
    given = request.headers.get("x-csrf-token")
    if given is None:
        given = form.get("csrf_token")
    if not tokens_match(token, given):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")


#: The signed-in user as a route parameter (``user: CurrentUser``).
CurrentUser = Annotated[User, Depends(current_user)]


def require(user: User, permission: str) -> None:
    """403 unless ``user`` has ``permission``."""
    if not user.can(permission):
        raise HTTPException(403, f"your role ({user.role}) may not do this ({permission})")


def render(request: Request, name: str, status_code: int = 200, **values: Any) -> Any:
    """A page rendered with the user and CSRF token available to the template."""
    values.setdefault("user", getattr(request.state, "user", None))
    values.setdefault("csrf", getattr(request.state, "csrf", ""))
    return TEMPLATES.TemplateResponse(request, name, values, status_code=status_code)
