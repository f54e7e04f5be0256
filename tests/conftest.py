"""Fixtures shared by every test package: a database of each kind.

PostgreSQL comes from ``$RHEUMETRICS_TEST_PG_URL`` (``.ci/postgres.sh`` starts one); each test gets
its own schema, dropped afterwards. Without the variable the PostgreSQL cases are skipped locally
and fail under CI, so CI never passes without them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

PG_URL = os.environ.get("RHEUMETRICS_TEST_PG_URL")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    if not PG_URL:
        if os.environ.get("CI") == "true":
            pytest.fail("RHEUMETRICS_TEST_PG_URL is not set: the PostgreSQL tests must run in CI")
        pytest.skip("RHEUMETRICS_TEST_PG_URL is not set")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
