"""kill -9 at every stage of an import (SQLite and PostgreSQL), in quarantine mode too, and while
an import waits for another: the store is exactly as before, passes its integrity check, and the
same import then succeeds. Extends ``tests/store/test_kill.py`` (killed after the visit rows)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from rheumetrics.store import import_file

# The real import, stopping for good right after the rows of table argv[5] are written.
CHILD = """
import sys, time
from pathlib import Path
import rheumetrics.store.bulk as bulk
from rheumetrics.store import import_file, make_engine

original = bulk.insert_frame

def pausing(conn, table, df, progress=None):
    original(conn, table, df, progress)
    if table == sys.argv[5]:
        Path(sys.argv[4]).write_text("paused with the transaction open")
        time.sleep(120)

bulk.insert_frame = pausing
import_file(make_engine(sys.argv[1]), sys.argv[2], sys.argv[3], mode=sys.argv[6])
"""


def _start(tmp_path: Path, db_url: str, src: Path, mapping: Path, table: str, mode: str,
           name: str = "child") -> tuple[subprocess.Popen, Path]:  # fmt: skip
    script = tmp_path / f"{name}.py"
    script.write_text(CHILD)
    marker = tmp_path / f"{name}.marker"
    proc = subprocess.Popen(
        [sys.executable, str(script), db_url, str(src), str(mapping), str(marker), table, mode]
    )
    return proc, marker


def _wait_for(proc: subprocess.Popen, marker: Path) -> None:
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None, "import process ended before it reached the pause"
        assert time.monotonic() < deadline, "import process never reached the pause"
        time.sleep(0.05)


def _kill(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def _integrity(engine: Engine) -> None:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
        orphans = conn.execute(text(
            "SELECT count(*) FROM visit_score s LEFT JOIN visit v ON v.id = s.visit_id "
            "WHERE v.id IS NULL")).scalar_one()  # fmt: skip
        assert orphans == 0


@pytest.mark.parametrize(
    ("table", "mode"),
    [("lab", "all_or_nothing"), ("joint_exam", "all_or_nothing"),
     ("visit_score", "all_or_nothing"), ("visit_score", "quarantine")],
)  # fmt: skip
def test_kill_at_each_stage_leaves_the_store_unchanged(
    engine: Engine, db_url: str, clinic, h, tmp_path: Path, table: str, mode: str
) -> None:
    first, mapping = clinic(h.visits[:2], name="first.csv")
    import_file(engine, first, mapping)
    before = h.snapshot(engine)
    v = h.visits
    if mode == "quarantine":
        v[3]["override"] = {"crp": "-3"}  # one bad row to quarantine
    second, mapping = clinic(v, name="second.csv")
    proc, marker = _start(tmp_path, db_url, second, mapping, table, mode)
    try:
        _wait_for(proc, marker)
    finally:
        _kill(proc)
    engine.dispose()
    assert h.snapshot(engine) == before
    _integrity(engine)
    result = import_file(engine, second, mapping, mode=mode)  # usable and unlocked
    assert result.visits_added == (1 if mode == "quarantine" else 2)
    assert result.quarantined_rows == (1 if mode == "quarantine" else 0)


def test_kill_while_waiting_for_another_import(
    engine: Engine, db_url: str, clinic, h, tmp_path: Path
) -> None:
    """The first import holds the store; the second waits; the second is killed, then the first:
    nothing of either is stored and the store takes the import afterwards."""
    before = h.snapshot(engine)
    a, mapping = clinic(h.visits[:2], name="a.csv")
    b, mapping = clinic(h.visits[2:], name="b.csv")
    first, marker = _start(tmp_path, db_url, a, mapping, "visit", "all_or_nothing", "first")
    second = None
    try:
        _wait_for(first, marker)
        second, _ = _start(tmp_path, db_url, b, mapping, "visit", "all_or_nothing", "second")
        time.sleep(3)  # the second is now starting up or waiting for the store's lock
        assert second.poll() is None
    finally:
        if second is not None:
            _kill(second)
        _kill(first)
    engine.dispose()
    assert h.snapshot(engine) == before
    _integrity(engine)
    assert import_file(engine, b, mapping).visits_added == 2
