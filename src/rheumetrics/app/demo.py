"""The ``--demo`` store: the bundled synthetic example cohort with one demo user per role.

The example cohort records DAS28-CRP inputs (joint counts, CRP, patient global) but no physician
global, so its patients follow the IMAGINE-RA conventional arm (target DAS28-CRP <= 3.2), whose index
can be computed from what was recorded.
"""

from __future__ import annotations

import secrets
from importlib.resources import files
from pathlib import Path

from sqlalchemy import Engine, insert, select

from rheumetrics.app.security import add_user
from rheumetrics.app.tables import PATIENT_STRATEGY, ensure_tables
from rheumetrics.store.database import init_db, make_engine
from rheumetrics.store.importer import import_file
from rheumetrics.store.models import PATIENT

#: Strategy of the demo patients (see the module docstring).
DEMO_STRATEGY = "imagine_ra_conventional"
#: Demo users (role -> user name); passwords are random per run and printed at start.
DEMO_USERS = {
    "admin": "admin",
    "clinician": "clinician",
    "data_manager": "datamanager",
    "researcher": "researcher",
}


def build_demo(path: Path) -> tuple[Engine, dict[str, str]]:
    """A SQLite store at ``path`` holding the synthetic example cohort; returns the engine and the
    demo users' passwords."""
    engine = make_engine(f"sqlite:///{path}")
    init_db(engine)
    ensure_tables(engine)
    data = files("rheumetrics") / "data" / "nz_synthetic"
    for name in ("visits", "therapies", "imaging"):
        source = "imaging_reads" if name == "imaging" else name
        import_file(
            engine,
            str(data / f"nz_synthetic_{source}.csv"),
            str(data / f"nz_synthetic_{name}.toml"),
        )
    passwords = {}
    with engine.begin() as conn:
        keys = conn.execute(select(PATIENT.c.patient_key)).scalars().all()
        conn.execute(
            insert(PATIENT_STRATEGY),
            [{"patient_key": k, "strategy": DEMO_STRATEGY} for k in keys],
        )
        for role, user in DEMO_USERS.items():
            passwords[user] = secrets.token_urlsafe(9)
            add_user(conn, user, passwords[user], role)
    return engine, passwords
