"""``rheumetrics serve`` and ``rheumetrics user add``."""

from __future__ import annotations

import getpass
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import typer

from rheumetrics.errors import RheumetricsError

user_app = typer.Typer(help="Manage the users of the web application.", no_args_is_help=True)


def serve_command(
    db: str = typer.Option(
        None,
        "--db",
        help="Cohort store URL (default: $RHEUMETRICS_DB_URL, else ./rheumetrics.sqlite).",
    ),
    demo: bool = typer.Option(
        False,
        "--demo",
        help="Serve the bundled synthetic example cohort with demo users (a temporary SQLite store).",
    ),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    stale_lab_days: int = typer.Option(
        30, help="Flag lab values older than this many days before the visit."
    ),
    idle_minutes: int = typer.Option(
        30, min=1, max=24 * 60, help="Sign a session out after this many minutes without a request."
    ),
    secret_file: Path = typer.Option(
        None,
        help="File holding the session signing key (default: a new key per start, so restarts sign everyone out).",
    ),
    workers: int = typer.Option(
        1,
        min=1,
        max=32,
        help="Worker processes (each keeps its own login-throttle counters and caches).",
    ),
) -> None:
    """Run the clinic web application (server-rendered pages, no internet needed)."""
    import uvicorn

    from rheumetrics.app import Settings, create_app
    from rheumetrics.app.application import IDLE_ENV, SECRET_ENV, STALE_ENV
    from rheumetrics.store.database import URL_ENV

    settings = Settings(stale_lab_days=stale_lab_days, idle_minutes=idle_minutes)
    if secret_file is not None:
        settings.secret = secret_file.read_text(encoding="utf-8").strip()
    if demo:
        from rheumetrics.app.demo import build_demo

        folder = Path(tempfile.mkdtemp(prefix="rheumetrics-demo-"))
        engine, passwords = build_demo(folder / "demo.sqlite")
        typer.echo("demo users (synthetic data only):")
        for name, pw in passwords.items():
            typer.echo(f"  {name:12s} {pw}")
        app = create_app(engine, settings)
    else:
        try:
            app = create_app(db, settings) if db else create_app(_default_url(), settings)
        except RheumetricsError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # each patient's latest decision, stored where missing or stale, while the server starts
    threading.Thread(target=_fill_decisions, args=(app.state.ctx.engine,), daemon=True).start()
    typer.echo(f"serving on http://{host}:{port}/")
    # access_log off: uvicorn's access log prints paths, which hold patient keys; the app logs the
    # route template instead (rheumetrics.app.application).
    if workers == 1:
        uvicorn.run(app, host=host, port=port, access_log=False, log_level="info")
        return
    os.environ[URL_ENV] = app.state.ctx.engine.url.render_as_string(hide_password=False)
    os.environ[SECRET_ENV] = settings.secret
    os.environ[STALE_ENV] = str(settings.stale_lab_days)
    os.environ[IDLE_ENV] = str(settings.idle_minutes)
    app.state.ctx.engine.dispose()
    uvicorn.run(
        "rheumetrics.app.application:app_from_environment",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        access_log=False,
        log_level="info",
    )


def _fill_decisions(engine: Any) -> None:
    """Store every patient's latest treat-to-target decision that is missing or stale
    (:func:`rheumetrics.app.queries.fill_decisions`); pages compute any they still miss."""
    from rheumetrics.app.queries import fill_decisions

    log = logging.getLogger("rheumetrics.app")
    try:
        log.info("stored the latest decision of %d patients", fill_decisions(engine))
    except Exception as exc:  # only the type: the message may hold values
        log.error("filling the stored decisions stopped: %s", type(exc).__name__)


def _default_url() -> str:
    from rheumetrics.store.database import resolve_url

    return resolve_url(None)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return typer.get_text_stream("stdin").readline().rstrip("\n")
    password = getpass.getpass("password: ")
    if getpass.getpass("again: ") != password:
        typer.echo("error: the passwords differ", err=True)
        raise typer.Exit(2)
    return password


@user_app.command("add")
def user_add(
    username: str = typer.Argument(..., help="User name (letters, digits, '.', '_')."),
    role: str = typer.Option("admin", help="admin, clinician, data_manager or researcher."),
    db: str = typer.Option(None, "--db", help="Cohort store URL."),
    password_stdin: bool = typer.Option(
        False, help="Read the password from standard input (for scripts)."
    ),
) -> None:
    """Create a user (the first admin, typically)."""
    from rheumetrics.app.security import add_user
    from rheumetrics.app.tables import ensure_tables
    from rheumetrics.store.database import init_db, make_engine

    password = _read_password(password_stdin)
    engine = make_engine(db)
    try:
        init_db(engine)
        ensure_tables(engine)
        with engine.begin() as conn:
            add_user(conn, username, password, role)
    except RheumetricsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    typer.echo(f"user {username} ({role}) added")


@user_app.command("disable")
def user_disable(
    username: str = typer.Argument(..., help="User name."),
    db: str = typer.Option(None, "--db", help="Cohort store URL."),
    enable: bool = typer.Option(False, "--enable", help="Enable the user again instead."),
) -> None:
    """Disable a user (their open sessions end at once), or enable one again."""
    from sqlalchemy import select

    from rheumetrics.app import audit
    from rheumetrics.app.security import set_active
    from rheumetrics.app.tables import USER, ensure_tables
    from rheumetrics.store.database import make_engine

    engine = make_engine(db)
    try:
        ensure_tables(engine)
        with engine.begin() as conn:
            if conn.execute(select(USER.c.id).where(USER.c.username == username)).first() is None:
                typer.echo(f"error: no user {username!r}", err=True)
                raise typer.Exit(2)
            set_active(conn, username, enable)
            audit.record(
                conn, "(command line)", "update", "user", username, None, {"active": enable}
            )
    finally:
        engine.dispose()
    typer.echo(f"user {username} {'enabled' if enable else 'disabled'}")


@user_app.command("password")
def user_password(
    username: str = typer.Argument(..., help="User name."),
    db: str = typer.Option(None, "--db", help="Cohort store URL."),
    password_stdin: bool = typer.Option(
        False, help="Read the new password from standard input (for scripts)."
    ),
) -> None:
    """Set a user's password; their open sessions end at once."""
    from rheumetrics.app import audit
    from rheumetrics.app.security import set_password
    from rheumetrics.app.tables import ensure_tables
    from rheumetrics.store.database import make_engine

    password = _read_password(password_stdin)
    engine = make_engine(db)
    try:
        ensure_tables(engine)
        with engine.begin() as conn:
            set_password(conn, username, password)
            audit.record(
                conn, "(command line)", "update", "user", username, None, {"password": "changed"}
            )
    except RheumetricsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    typer.echo(f"password of {username} changed; their sessions were ended")
