"""Passwords, sessions, CSRF tokens, login throttling and roles.

- Passwords are hashed with Argon2id (RFC 9106) through ``argon2-cffi``'s defaults.
- A session is a row of ``app_session`` (:data:`~rheumetrics.app.tables.SESSION`) and a signed
  cookie (``itsdangerous``) holding a random token whose SHA-256 is the row's key; the cookie is
  ``HttpOnly``, ``SameSite=Strict`` and ``Secure`` when the request came over HTTPS. Every request
  reads the row and the user: signing out, disabling the user or changing the password deletes
  the rows, so a copied cookie stops working at once; a session unused for the idle timeout or
  older than :data:`SESSION_SECONDS` ends (OWASP Session Management Cheat Sheet, "Session
  Expiration"). A changed role takes effect at the next request.
- Every state-changing request (POST) must carry the session's CSRF token in the form field
  ``csrf_token`` or the header ``X-CSRF-Token`` (OWASP CSRF Prevention Cheat Sheet, "synchronizer
  token pattern"); the login form uses a signed double-submit cookie instead.
- Login throttling: after :attr:`Throttle.limit` failures for one user name or one client address
  within :attr:`Throttle.window` seconds, further attempts are refused until the window passes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import Connection, delete, insert, or_, select, update

from rheumetrics.app.tables import ROLES, SESSION, USER
from rheumetrics.errors import RheumetricsError

SESSION_COOKIE = "rm_session"
LOGIN_COOKIE = "rm_login"
SESSION_SECONDS = 8 * 3600
#: A session unused for this long ends (``serve --idle-minutes``).
IDLE_SECONDS = 30 * 60
#: ``last_seen`` is written at most this often per session (not on every request).
TOUCH_SECONDS = 60

_HASHER = PasswordHasher()  # argon2id, RFC 9106 low-memory profile defaults of argon2-cffi
MIN_PASSWORD = 10

#: What each role may do; routes ask for a permission, never for a role name.
PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"read", "identified", "edit", "users", "audit", "data"}),
    "clinician": frozenset({"read", "identified", "edit"}),
    "data_manager": frozenset({"read", "identified", "data"}),
    "researcher": frozenset({"read"}),
}
assert set(PERMISSIONS) == set(ROLES)


@dataclass(frozen=True)
class User:
    """The signed-in user."""

    id: int
    username: str
    role: str

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())


def hash_password(password: str) -> str:
    """Argon2id hash of ``password`` (PHC string format)."""
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """True when ``password`` matches ``stored_hash``."""
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def add_user(conn: Connection, username: str, password: str, role: str) -> int:
    """Create a user; raises :class:`RheumetricsError` naming what is wrong."""
    problems: list[str] = []
    _check_password(password, problems)
    if role not in ROLES:
        problems.append(f"role {role!r}: must be one of {', '.join(ROLES)}")
    if (
        not username
        or len(username) > 64
        or not username.replace("_", "").replace(".", "").isalnum()
    ):
        problems.append(f"username {username!r}: must be 1-64 letters, digits, '.' or '_'")
    if conn.execute(select(USER.c.id).where(USER.c.username == username)).first():
        problems.append(f"username {username!r}: already exists")
    if problems:
        raise RheumetricsError("cannot add user: " + "; ".join(problems))
    row = {
        "username": username,
        "password_hash": hash_password(password),
        "role": role,
        "active": True,
        "created_at": dt.datetime.now(dt.UTC),
    }
    new = conn.execute(insert(USER).values(**row).returning(USER.c.id)).scalar()
    assert new is not None
    return int(new)


def _check_password(password: str, problems: list[str]) -> None:
    if len(password) < MIN_PASSWORD:
        problems.append(f"password: must be at least {MIN_PASSWORD} characters")


def set_active(conn: Connection, username: str, active: bool) -> None:
    """Enable or disable a user; disabling ends their open sessions."""
    conn.execute(update(USER).where(USER.c.username == username).values(active=active))
    if not active:
        end_sessions(conn, username)


def set_password(conn: Connection, username: str, password: str) -> None:
    """Set a user's password (Argon2id) and end all their open sessions."""
    problems: list[str] = []
    _check_password(password, problems)
    if conn.execute(select(USER.c.id).where(USER.c.username == username)).first() is None:
        problems.append(f"username {username!r}: no such user")
    if problems:
        raise RheumetricsError("cannot set the password: " + "; ".join(problems))
    hashed = hash_password(password)
    conn.execute(update(USER).where(USER.c.username == username).values(password_hash=hashed))
    end_sessions(conn, username)


def end_sessions(conn: Connection, username: str) -> int:
    """Delete every session of a user; returns how many there were."""
    ids = select(USER.c.id).where(USER.c.username == username).scalar_subquery()
    return int(conn.execute(delete(SESSION).where(SESSION.c.user_id == ids)).rowcount or 0)


def authenticate(conn: Connection, username: str, password: str) -> User | None:
    """The active user with these credentials, else None (same work whether or not it exists)."""
    row = conn.execute(
        select(USER.c.id, USER.c.username, USER.c.role, USER.c.password_hash, USER.c.active).where(
            USER.c.username == username
        )
    ).first()
    if row is None:
        verify_password(_DUMMY_HASH, password)  # equalise timing for unknown names
        return None
    if not verify_password(row.password_hash, password) or not row.active:
        return None
    return User(int(row.id), row.username, row.role)


_DUMMY_HASH = _HASHER.hash(secrets.token_hex(16))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    """A valid session read from its cookie."""

    user: User
    csrf: str
    token_hash: str
    stale: bool  # last_seen is older than TOUCH_SECONDS: record this use


class Sessions:
    """Server-side sessions behind signed cookies carrying ``{"s": random token}``.

    ``idle``: seconds without a request after which a session ends; ``clock``: UTC seconds since
    1970 (replaceable in tests).
    """

    def __init__(
        self, secret: str, idle: int = IDLE_SECONDS, clock: Callable[[], float] = time.time
    ) -> None:
        self._s = URLSafeTimedSerializer(secret, salt="rheumetrics-session")
        self._login = URLSafeTimedSerializer(secret, salt="rheumetrics-login")
        self.idle, self.clock = idle, clock

    def issue(self, conn: Connection, user_id: int) -> tuple[str, str]:
        """Start a session: a new cookie value and its CSRF token. Ended and expired sessions
        of every user are cleared at the same time."""
        now = int(self.clock())
        self.clear_expired(conn, now)
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        conn.execute(
            insert(SESSION).values(
                token_hash=_hash(token), user_id=user_id, csrf=csrf, created=now, last_seen=now
            )
        )
        return self._s.dumps({"s": token}), csrf

    def clear_expired(self, conn: Connection, now: int) -> None:
        s = SESSION
        conn.execute(
            delete(s).where(
                or_(s.c.last_seen < now - self.idle, s.c.created < now - SESSION_SECONDS)
            )
        )

    def token_hash(self, cookie: str | None) -> str | None:
        """The session key of a cookie whose signature is valid (None otherwise)."""
        if not cookie:
            return None
        try:
            data = self._s.loads(cookie, max_age=SESSION_SECONDS)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("s"), str):
            return None
        return _hash(data["s"])

    def read(self, conn: Connection, cookie: str | None) -> Session | None:
        """The session of a cookie when its row exists, its user is active and it has neither
        been idle for :attr:`idle` seconds nor lasted :data:`SESSION_SECONDS` (one query)."""
        key = self.token_hash(cookie)
        if key is None:
            return None
        s, u = SESSION, USER
        row = conn.execute(
            select(u.c.id, u.c.username, u.c.role, s.c.csrf, s.c.created, s.c.last_seen)
            .select_from(s.join(u, u.c.id == s.c.user_id))
            .where(s.c.token_hash == key, u.c.active.is_(True))
        ).first()
        now = self.clock()
        if row is None or now - row.last_seen > self.idle or now - row.created > SESSION_SECONDS:
            return None
        user = User(int(row.id), row.username, row.role)
        return Session(user, row.csrf, key, now - row.last_seen >= TOUCH_SECONDS)

    def touch(self, conn: Connection, key: str) -> None:
        """Record that the session was used now (restarts its idle time)."""
        now = int(self.clock())
        conn.execute(update(SESSION).where(SESSION.c.token_hash == key).values(last_seen=now))

    def end(self, conn: Connection, cookie: str | None) -> None:
        """End the session of this cookie (sign-out)."""
        key = self.token_hash(cookie)
        if key is not None:
            conn.execute(delete(SESSION).where(SESSION.c.token_hash == key))

    def login_token(self) -> tuple[str, str]:
        """Cookie value and form token of the login form (signed double submit)."""
        token = secrets.token_urlsafe(32)
        return self._login.dumps(token), token

    def check_login_token(self, cookie: str | None, form_token: str | None) -> bool:
        if not cookie or not form_token:
            return False
        try:
            token = self._login.loads(cookie, max_age=3600)
        except BadSignature:
            return False
        return tokens_match(str(token), form_token)


def tokens_match(expected: str, given: str | None) -> bool:
    """Constant-time comparison of CSRF tokens."""
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


class Throttle:
    """Failed logins per user name and per client address in a sliding window."""

    def __init__(self, limit: int = 5, window: float = 900.0) -> None:
        self.limit, self.window = limit, window
        self._fails: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._fails[key]
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def blocked(self, *keys: str) -> float:
        """Seconds to wait before another attempt (0 when allowed)."""
        now = time.monotonic()
        with self._lock:
            wait = 0.0
            for key in keys:
                q = self._recent(key, now)
                if len(q) >= self.limit:
                    wait = max(wait, self.window - (now - q[0]))
            return wait

    def fail(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def clear(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._fails.pop(key, None)
