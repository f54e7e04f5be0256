"""Per-application state and the request dependencies: the signed-in user, permissions, CSRF."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy import Connection, Engine

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


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A write transaction; on SQLite it takes the write lock at once (``BEGIN IMMEDIATE``), so a
    writer waits for another instead of failing half-way on a lock upgrade."""
    with engine.connect() as conn:
        conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():
            yield conn


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
    if found.stale:
        with writing(c.engine) as conn:
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
