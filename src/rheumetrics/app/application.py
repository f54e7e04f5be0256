"""The FastAPI application: routers, static assets, security headers, error pages, request log.

>>> from rheumetrics.app import create_app
>>> app = create_app("sqlite://")   # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from importlib.resources import files

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from rheumetrics.app import pages_admin, pages_auth, pages_data, pages_patients, pages_visits
from rheumetrics.app.context import AppContext, NotSignedIn, Settings, render
from rheumetrics.app.records import Conflict
from rheumetrics.app.security import Sessions, Throttle
from rheumetrics.app.tables import ensure_tables
from rheumetrics.store.database import init_db, make_engine

log = logging.getLogger("rheumetrics.app")

#: Content Security Policy: only this server's own scripts, styles and images (no CDN, no inline).
CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'"


def create_app(db: str | Engine, settings: Settings | None = None, *, init: bool = True) -> FastAPI:
    """The web application on the store at ``db`` (URL or engine).

    ``init``: bring the store schema up to date (``rheumetrics db init``) and create the
    application's tables (:func:`rheumetrics.app.tables.ensure_tables`).
    """
    engine = make_engine(db) if isinstance(db, str) else db
    if init:
        init_db(engine)
        ensure_tables(engine)
        if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            # write-ahead log: readers never wait for the writer (SQLite docs, "Write-Ahead Logging")
            set_wal(engine)
    settings = settings or Settings()
    app = FastAPI(title="rheumetrics", docs_url=None, redoc_url=None, openapi_url=None)
    sessions = Sessions(settings.secret, idle=settings.idle_minutes * 60)
    app.state.ctx = AppContext(engine, settings, sessions, Throttle())
    app.mount(
        "/static", StaticFiles(directory=str(files("rheumetrics.app") / "static")), name="static"
    )
    for module in (pages_auth, pages_patients, pages_visits, pages_admin, pages_data):
        app.include_router(module.router)

    @app.middleware("http")
    async def headers_and_log(request: Request, call_next):
        start, cpu = time.perf_counter(), time.process_time()
        try:
            response: Response = await call_next(request)
        except Exception as exc:
            # only the exception's type: its message may hold values (e.g. SQL parameters)
            where = getattr(request.scope.get("route"), "path", "(unmatched)")
            log.error("unexpected error on %s %s: %s", request.method, where, type(exc).__name__)
            response = PlainTextResponse("internal error: nothing was saved", status_code=500)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = response.headers.get("Cache-Control", "no-store")
        route = request.scope.get("route")
        # the route template, never the path: no patient key reaches the log
        path = getattr(route, "path", "(unmatched)")
        ms = (time.perf_counter() - start) * 1000
        # cpu: process CPU time during the request (exact when requests do not overlap)
        cpu_ms = (time.process_time() - cpu) * 1000
        response.headers["Server-Timing"] = f"app;dur={ms:.1f}, cpu;dur={cpu_ms:.1f}"
        log.info("%s %s %d %.1f ms", request.method, path, response.status_code, ms)
        return response

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, _exc: NotSignedIn) -> Response:
        if request.method == "GET" and not request.url.path.startswith("/api/"):
            target = request.url.path
            return RedirectResponse(f"/login?next={target}", status_code=303)
        return PlainTextResponse("sign in first", status_code=401)

    @app.exception_handler(Conflict)
    async def conflict(request: Request, exc: Conflict) -> Response:
        return render(
            request, "message.html", status_code=409, title="Edit conflict", message=str(exc)
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith(("/api/", "/static/")):
            return PlainTextResponse(str(exc.detail), status_code=exc.status_code)
        return render(
            request,
            "message.html",
            status_code=exc.status_code,
            title=f"Error {exc.status_code}",
            message=str(exc.detail),
        )

    return app


def set_wal(engine: Engine) -> str:
    """Switch a SQLite database file to write-ahead logging (outside any transaction, as SQLite
    requires); returns the journal mode now in force."""
    raw = engine.raw_connection()
    try:
        mode = raw.driver_connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]  # type: ignore[union-attr]
    finally:
        raw.close()
    return str(mode)


#: Environment variables read by :func:`app_from_environment` (set by ``rheumetrics serve``).
SECRET_ENV, STALE_ENV = "RHEUMETRICS_APP_SECRET", "RHEUMETRICS_APP_STALE_LAB_DAYS"
IDLE_ENV = "RHEUMETRICS_APP_IDLE_MINUTES"


def app_from_environment() -> FastAPI:
    """The app for one of several uvicorn worker processes (``serve --workers N``).

    The store URL comes from ``$RHEUMETRICS_DB_URL`` and the session signing key from
    ``$RHEUMETRICS_APP_SECRET`` (shared, so a session signed by one worker is valid in all); the
    parent process has already brought the schema up to date.
    """
    import os

    from rheumetrics.store.database import resolve_url

    secret = os.environ.get(SECRET_ENV)
    if not secret:
        raise RuntimeError(f"${SECRET_ENV} must be set for worker processes")
    settings = Settings(
        stale_lab_days=int(os.environ.get(STALE_ENV, "30")),
        idle_minutes=int(os.environ.get(IDLE_ENV, "30")),
        secret=secret,
    )
    return create_app(resolve_url(None), settings, init=False)
