"""The web application's own tables: users, sessions, audit trail, clinician decisions, record
versions.

They live in their own SQLAlchemy :class:`~sqlalchemy.MetaData` (not the store's) and are created
with ``create_all`` on the store's engine when the application starts (:func:`ensure_tables`).
The store's Alembic history is left untouched, so the cohort store and its migrations can evolve
independently; every app table is new (``app_`` prefix) and refers to store rows by their natural
keys (patient key, visit id) without database foreign keys across the two metadata objects.
See ``docs/app.md`` ("Database tables").
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

#: Metadata of the application's tables (separate from ``rheumetrics.store.models.Base``).
APP_METADATA = MetaData()

#: Roles, each with what it may do (enforced server-side by :mod:`rheumetrics.app.security`).
ROLES = {
    "admin": "manage users, read the audit trail; also everything a clinician may do",
    "clinician": "enter and edit patients, visits, therapies and treatment decisions",
    "data_manager": "import and export data; read patients",
    "researcher": "read-only, de-identified views (no birth year, no free-text reasons)",
}

_ID = BigInteger().with_variant(Integer, "sqlite")

USER = Table(
    "app_user",
    APP_METADATA,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

#: Server-side sessions: the cookie carries a random token, the row its SHA-256 (a copy of this
#: table does not give working cookies), the user, the CSRF token and when it was last used.
#: Deleting a row ends the session at once (sign-out, user disabled, password changed).
SESSION = Table(
    "app_session",
    APP_METADATA,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created", BigInteger, nullable=False),  # UTC seconds since 1970
    Column("last_seen", BigInteger, nullable=False),  # UTC seconds since 1970
    Index("ix_app_session_user", "user_id"),
)

AUDIT = Table(
    "app_audit",
    APP_METADATA,
    Column("id", _ID, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("username", String(64), nullable=False),
    Column("action", String(16), nullable=False),  # create, update, delete, login, ...
    Column("entity", String(32), nullable=False),  # patient, visit, therapy, decision, user
    Column("entity_key", String(128), nullable=False),
    Column("before", JSON),
    Column("after", JSON),
    Index("ix_app_audit_entity", "entity", "entity_key"),
)

DECISION = Table(
    "app_decision",
    APP_METADATA,
    Column("id", _ID, primary_key=True),
    Column("patient_key", String(64), nullable=False),
    Column("visit_id", _ID, nullable=False),
    Column("visit_date", Date, nullable=False),
    Column("strategy", String(64), nullable=False),
    Column("recommended_action", String(32), nullable=False),
    Column("recommended_text", Text),
    Column("actual_action", String(32), nullable=False),
    Column("accepted", Boolean, nullable=False),
    Column("adherent", Boolean),
    Column("reason", Text),
    Column("username", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("visit_id", name="uq_app_decision_visit"),
)

#: One version counter per edited record (optimistic locking): ``entity`` + ``record_key``.
RECORD_VERSION = Table(
    "app_record_version",
    APP_METADATA,
    Column("entity", String(32), primary_key=True),
    Column("record_key", String(128), primary_key=True),
    Column("version", Integer, nullable=False),
)

#: What the visit form records beyond the store's items: the joint set shown, the lab sample date,
#: joints marked prosthesis/absent (stored as "not assessed" in the store's joint masks).
VISIT_NOTE = Table(
    "app_visit_note",
    APP_METADATA,
    Column("visit_id", _ID, primary_key=True),
    Column("joint_set", String(4), nullable=False),
    Column("lab_date", Date),
    Column("absent_joints", JSON),
)

#: The treat-to-target strategy chosen for each patient (default per diagnosis otherwise).
PATIENT_STRATEGY = Table(
    "app_patient_strategy",
    APP_METADATA,
    Column("patient_key", String(64), primary_key=True),
    Column("strategy", String(64), nullable=False),
)

#: Each patient's latest treat-to-target decision (:mod:`rheumetrics.app.stored_decisions`): valid
#: only while the strategy, its version and the digest of the engine's inputs all match.
DECISION_LOG = Table(
    "app_decision_log",
    APP_METADATA,
    Column("patient_key", String(64), primary_key=True),
    Column("strategy", String(64), nullable=False),
    Column("strategy_version", String(64), nullable=False),
    Column("inputs", String(64), nullable=False),
    Column("summary", JSON, nullable=False),
    Column("computed_at", DateTime(timezone=True), nullable=False),
)


def ensure_tables(engine: Engine) -> None:
    """Create the application's tables that do not exist yet (idempotent)."""
    APP_METADATA.create_all(engine, checkfirst=True)
