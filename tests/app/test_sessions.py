"""Server-side sessions on SQLite and PostgreSQL: sign-out, disabling a user and changing a
password end every copy of a session cookie at once; idle and absolute timeouts."""

from __future__ import annotations

import time

from sqlalchemy import select
from starlette.testclient import TestClient
from typer.testing import CliRunner

from rheumetrics.app.security import (
    IDLE_SECONDS,
    SESSION_COOKIE,
    SESSION_SECONDS,
    TOUCH_SECONDS,
    authenticate,
    set_active,
    set_password,
)
from rheumetrics.app.tables import SESSION

from .conftest import PASSWORD, Client


def copy_of(c: Client) -> TestClient:
    """Another browser holding a copy of the signed-in client's session cookie."""
    other = TestClient(c.http.app, base_url="http://testserver")
    other.cookies.set(SESSION_COOKIE, c.http.cookies[SESSION_COOKIE])
    return other


def signed_out(http: TestClient) -> bool:
    r = http.get("/patients", follow_redirects=False)
    assert r.status_code in (200, 303), r.status_code
    return r.status_code == 303 and r.headers["location"].startswith("/login")


def test_sign_out_ends_every_copy_of_the_cookie(app, signed_in):
    c = signed_in("clinician")
    copy = copy_of(c)
    assert not signed_out(copy)
    assert c.post("/logout", {}).status_code == 303
    assert signed_out(copy) and signed_out(c.http)
    other = signed_in("clinician2")  # other users' sessions are untouched
    assert not signed_out(other.http)


def test_session_row_holds_only_a_hash_of_the_cookie_token(app, signed_in):
    c = signed_in("clinician")
    cookie = c.http.cookies[SESSION_COOKIE]
    with app.state.ctx.engine.connect() as conn:
        rows = conn.execute(select(SESSION)).mappings().all()
    assert len(rows) == 1
    token_hash = rows[0]["token_hash"]
    assert len(token_hash) == 64 and token_hash not in cookie
    assert app.state.ctx.sessions.token_hash(cookie) == token_hash
    # a cookie with a valid signature but no row is refused
    with app.state.ctx.engine.begin() as conn:
        conn.execute(SESSION.delete())
    assert signed_out(c.http)


def test_disabling_a_user_ends_their_sessions_at_once(app, signed_in):
    c, other = signed_in("clinician"), signed_in("clinician2")
    copy = copy_of(c)
    with app.state.ctx.engine.begin() as conn:
        set_active(conn, "clinician", False)
    assert signed_out(copy) and signed_out(c.http)
    assert not signed_out(other.http)
    with app.state.ctx.engine.begin() as conn:
        set_active(conn, "clinician", True)
    assert signed_out(copy)  # enabling again does not revive an ended session
    assert not signed_out(signed_in("clinician").http)


def test_password_change_ends_sessions_and_only_the_new_password_works(app, signed_in):
    c = signed_in("clinician")
    copy = copy_of(c)
    with app.state.ctx.engine.begin() as conn:
        set_password(conn, "clinician", "a new passphrase")
    assert signed_out(copy) and signed_out(c.http)
    with app.state.ctx.engine.connect() as conn:
        assert authenticate(conn, "clinician", PASSWORD) is None
        assert authenticate(conn, "clinician", "a new passphrase") is not None


def test_idle_timeout_and_absolute_lifetime(app, signed_in):
    sessions = app.state.ctx.sessions
    start = time.time()
    c = signed_in("clinician")
    try:
        # each use restarts the idle time (last use written at most once a minute)
        for minutes in (20, 40, 60):
            sessions.clock = lambda m=minutes: start + m * 60
            assert not signed_out(c.http), minutes
        sessions.clock = lambda: start + 60 * 60 + IDLE_SECONDS - TOUCH_SECONDS
        assert not signed_out(c.http)
        sessions.clock = lambda: start + 60 * 60 + 2 * IDLE_SECONDS
        assert signed_out(c.http)
        # a session in use all day still ends after SESSION_SECONDS
        sessions.clock = lambda: start
        d = signed_in("clinician2")
        t = start
        while t < start + SESSION_SECONDS - IDLE_SECONDS:
            t += IDLE_SECONDS - TOUCH_SECONDS
            sessions.clock = lambda t=t: t
            assert not signed_out(d.http)
        sessions.clock = lambda: start + SESSION_SECONDS + 1
        assert signed_out(d.http)
    finally:
        sessions.clock = time.time


def test_expired_sessions_are_cleared_at_the_next_sign_in(app, signed_in):
    sessions = app.state.ctx.sessions
    start = time.time()
    try:
        signed_in("clinician")
        sessions.clock = lambda: start + IDLE_SECONDS + 10
        signed_in("clinician2")
        with app.state.ctx.engine.connect() as conn:
            assert len(conn.execute(select(SESSION)).all()) == 1
    finally:
        sessions.clock = time.time


def test_user_password_and_disable_commands_end_sessions(tmp_path):
    from rheumetrics.cli import app as cli

    from .conftest import make_app

    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    app = make_app(url)
    try:
        c = Client(app, "clinician")
        assert not signed_out(c.http)
        r = CliRunner().invoke(
            cli,
            ["user", "password", "clinician", "--password-stdin", "--db", url],
            input="another passphrase\n",
        )
        assert r.exit_code == 0, r.output
        assert signed_out(c.http)
        r = CliRunner().invoke(
            cli, ["user", "password", "clinician", "--password-stdin", "--db", url], input="short\n"
        )
        assert r.exit_code == 2 and "at least 10 characters" in r.output
        r = CliRunner().invoke(
            cli,
            ["user", "password", "nobody", "--password-stdin", "--db", url],
            input="another passphrase\n",
        )
        assert r.exit_code == 2 and "no such user" in r.output
        d = Client(app, "clinician2")
        assert (
            CliRunner().invoke(cli, ["user", "disable", "clinician2", "--db", url]).exit_code == 0
        )
        assert signed_out(d.http)
    finally:
        app.state.ctx.engine.dispose()


def test_a_busy_store_skips_recording_last_use_but_serves_the_request(tmp_path):
    """While another process holds SQLite's write lock, a request whose session's last use is
    due to be written is still served at once (the write is skipped, the next request retries)."""
    import sqlite3

    from .conftest import make_app

    path = tmp_path / "busy.sqlite"
    app = make_app(f"sqlite:///{path}")
    sessions = app.state.ctx.sessions
    start = time.time()
    try:
        c = Client(app, "clinician")
        with app.state.ctx.engine.connect() as conn:
            seen = conn.execute(select(SESSION.c.last_seen)).scalar_one()
        sessions.clock = lambda: start + 10 * 60
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        t = time.monotonic()
        assert not signed_out(c.http)
        assert time.monotonic() - t < 5
        other.execute("ROLLBACK")
        other.close()
        with app.state.ctx.engine.connect() as conn:
            assert conn.execute(select(SESSION.c.last_seen)).scalar_one() == seen
        assert not signed_out(c.http)  # lock free again: the last use is recorded
        with app.state.ctx.engine.connect() as conn:
            assert conn.execute(select(SESSION.c.last_seen)).scalar_one() == int(start + 600)
    finally:
        sessions.clock = time.time
        app.state.ctx.engine.dispose()
