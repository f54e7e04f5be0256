"""Schema, migrations, engine URL resolution and the packed joint masks."""

from __future__ import annotations

import numpy as np
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sqlalchemy import Engine, text

from rheumetrics.errors import RheumetricsError
from rheumetrics.joints import JOINTS, joint_set
from rheumetrics.store import jointbits
from rheumetrics.store.database import (
    DEFAULT_URL,
    URL_ENV,
    head_revision,
    make_engine,
    require_current,
    resolve_url,
)
from rheumetrics.store.models import Base


def test_migrations_create_exactly_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_init_is_idempotent_and_at_head(engine: Engine) -> None:
    from rheumetrics.store.database import current_revision, init_db

    assert init_db(engine) == head_revision() == current_revision(engine)


def test_exam_joint_order_matches_the_joint_catalogue(engine: Engine) -> None:
    # The bit order seeded by migration 0001 is the catalogue's 68 joints (contracts.md), in order.
    with engine.connect() as conn:
        stored = [r[0] for r in conn.execute(text("SELECT joint_id FROM exam_joint ORDER BY bit"))]
    assert (
        stored == list(jointbits.STORAGE_ORDER) == list(JOINTS["id"]) == list(joint_set("tender68"))
    )
    assert len(stored) == 68


def test_store_refuses_an_uninitialised_database(tmp_path) -> None:
    eng = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    with pytest.raises(RheumetricsError, match="rheumetrics db init"):
        require_current(eng)


def test_url_resolution_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(URL_ENV, raising=False)
    assert resolve_url(None) == DEFAULT_URL == "sqlite:///rheumetrics.sqlite"
    monkeypatch.setenv(URL_ENV, "sqlite:///from-env.sqlite")
    assert resolve_url(None) == "sqlite:///from-env.sqlite"
    assert resolve_url("sqlite:///given.sqlite") == "sqlite:///given.sqlite"


@given(arrays(np.bool_, st.tuples(st.integers(0, 20), st.just(68))))
def test_pack_unpack_round_trip(flags: np.ndarray) -> None:
    packed = jointbits.pack(flags)
    assert all(len(m) == jointbits.MASK_BYTES == 9 for m in packed)
    assert np.array_equal(jointbits.unpack(packed).reshape(flags.shape), flags)


def test_count_is_missing_when_a_joint_of_the_set_was_not_assessed() -> None:
    das28 = joint_set("tender28")
    flags = np.zeros((2, 68), dtype=bool)
    assessed = np.ones((2, 68), dtype=bool)
    flags[:, [jointbits.BIT_OF[j] for j in das28[:3]]] = True
    assessed[1, jointbits.BIT_OF[das28[-1]]] = False
    counts = jointbits.count(flags, assessed, das28)
    assert counts[0] == 3
    assert np.isnan(counts[1])


def test_large_postgres_load_restores_every_foreign_key(
    engine: Engine, clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Large imports check foreign keys set-based at the end (PostgreSQL manual, "Populating a
    # Database"); forced here on a small file. The constraints must all be back afterwards.
    from sqlalchemy import inspect

    from rheumetrics.store import bulk, import_file

    def fks() -> set[tuple[str, str]]:
        insp = inspect(engine)
        return {
            (t, fk["referred_table"]) for t in bulk.BULK_TABLES for fk in insp.get_foreign_keys(t)
        }

    before = fks()
    assert ("visit", "patient") in before and ("joint_exam", "visit") in before
    monkeypatch.setattr(bulk, "BULK_FK_THRESHOLD", 1)
    assert import_file(engine, *clinic()).visits_added == 4
    assert fks() == before
