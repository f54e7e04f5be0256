"""Passwords, sessions, CSRF tokens, login throttling and roles.

- Passwords are hashed with Argon2id (RFC 9106) through ``argon2-cffi``'s defaults.
- A session is a signed cookie (``itsdangerous``) holding the user id and the session's CSRF
  token; it is ``HttpOnly``, ``SameSite=Strict`` and ``Secure`` when the request came over HTTPS.
  The user is re-read on every request, so a deactivated user or a changed role takes effect at once.
- Every state-changing request (POST) must carry the session's CSRF token in the form field
  ``csrf_token`` or the header ``X-CSRF-Token`` (OWASP CSRF Prevention Cheat Sheet, "synchronizer
  token pattern"); the login form uses a signed double-submit cookie instead.
- Login throttling: after :attr:`Throttle.limit` failures for one user name or one client address
  within :attr:`Throttle.window` seconds, further attempts are refused until the window passes.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import Connection, insert, select, update

from rheumetrics.app.tables import ROLES, USER
from rheumetrics.errors import RheumetricsError

SESSION_COOKIE = "rm_session"
LOGIN_COOKIE = "rm_login"
SESSION_SECONDS = 8 * 3600

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
    problems = []
    if role not in ROLES:
        problems.append(f"role {role!r}: must be one of {', '.join(ROLES)}")
    if (
        not username
        or len(username) > 64
        or not username.replace("_", "").replace(".", "").isalnum()
    ):
        problems.append(f"username {username!r}: must be 1-64 letters, digits, '.' or '_'")
    if len(password) < MIN_PASSWORD:
        problems.append(f"password: must be at least {MIN_PASSWORD} characters")
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


def set_active(conn: Connection, username: str, active: bool) -> None:
    conn.execute(update(USER).where(USER.c.username == username).values(active=active))


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


def load_user(conn: Connection, user_id: int) -> User | None:
    row = conn.execute(
        select(USER.c.id, USER.c.username, USER.c.role).where(
            USER.c.id == user_id, USER.c.active.is_(True)
        )
    ).first()
    return None if row is None else User(int(row.id), row.username, row.role)


class Sessions:
    """Signed session cookies carrying ``{"u": user id, "c": CSRF token}``."""

    def __init__(self, secret: str) -> None:
        self._s = URLSafeTimedSerializer(secret, salt="rheumetrics-session")
        self._login = URLSafeTimedSerializer(secret, salt="rheumetrics-login")

    def issue(self, user_id: int) -> tuple[str, str]:
        """A new cookie value and its CSRF token."""
        token = secrets.token_urlsafe(32)
        return self._s.dumps({"u": user_id, "c": token}), token

    def read(self, cookie: str | None) -> tuple[int, str] | None:
        if not cookie:
            return None
        try:
            data = self._s.loads(cookie, max_age=SESSION_SECONDS)
        except BadSignature:
            return None
        if not isinstance(data, dict) or "u" not in data or "c" not in data:
            return None
        return int(data["u"]), str(data["c"])

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
