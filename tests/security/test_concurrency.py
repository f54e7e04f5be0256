"""Concurrent imports of overlapping patients, in two real processes, on SQLite and PostgreSQL:
the second waits for the first and then plans against what it committed; a writer that waits
longer than ``--lock-wait`` stops with one line and prints no patient data."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

from rheumetrics.store import load_visits

# The real import, holding its transaction open once the visits are written until the file
# argv[5] exists (or 120 s pass).
HOLDER = """
import sys, time
from pathlib import Path
import rheumetrics.store.bulk as bulk
from rheumetrics.store import import_file, make_engine

original = bulk.insert_frame

def pausing(conn, table, df, progress=None):
    original(conn, table, df, progress)
    if table == "visit":
        Path(sys.argv[4]).write_text("holding the store")
        end = time.monotonic() + 120
        while not Path(sys.argv[5]).exists() and time.monotonic() < end:
            time.sleep(0.05)

bulk.insert_frame = pausing
import_file(make_engine(sys.argv[1]), sys.argv[2], sys.argv[3])
"""


def _hold(tmp_path: Path, db_url: str, src: Path, mapping: Path) -> subprocess.Popen:
    """Start an import that holds the store until :func:`_release`."""
    script = tmp_path / "holder.py"
    script.write_text(HOLDER)
    marker = tmp_path / "marker"
    release = tmp_path / "release"
    proc = subprocess.Popen(
        [sys.executable, str(script), db_url, str(src), str(mapping), str(marker), str(release)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "holder never reached the pause"
        time.sleep(0.05)
    return proc


def _release(tmp_path: Path) -> None:
    (tmp_path / "release").write_text("go")


def _wait_until_blocked(db_url: str, proc: subprocess.Popen, path: Path) -> None:
    """Return once the importing process ``proc`` is waiting for the store's lock: a session
    waiting on a lock (PostgreSQL), or the database file open plus a moment (SQLite)."""
    deadline = time.monotonic() + 120
    engine = create_engine(db_url) if db_url.startswith("postgresql") else None
    try:
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            if engine is not None:
                with engine.connect() as conn:
                    waiting = conn.execute(text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND pid <> pg_backend_pid() AND datname = current_database()")).scalar_one()  # fmt: skip
                if waiting:
                    return
            else:
                fds = Path(f"/proc/{proc.pid}/fd")
                if any(str(path) in os.path.realpath(fd) for fd in fds.iterdir()):
                    time.sleep(2)
                    return
            time.sleep(0.1)
        raise AssertionError("the second import never reached the store")
    finally:
        if engine is not None:
            engine.dispose()


def _cli_import(db_url: str, src: Path, mapping: Path, *extra: str) -> subprocess.Popen:
    cmd = [sys.executable, "-c", "from rheumetrics.cli import app; app()", "import", str(src), "-m", str(mapping),
           "--db", db_url, *extra]  # fmt: skip
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_overlapping_imports_wait_for_each_other(
    engine: Engine, db_url: str, clinic, h, tmp_path: Path
) -> None:
    a, mapping = clinic(h.visits[:3], name="a.csv")  # P1 x2, P2 x1
    b, mapping = clinic(
        [*h.visits[:2], *[dict(v, patient="P3") for v in h.visits[2:]]], name="b.csv"
    )
    holder = _hold(tmp_path, db_url, a, mapping)
    second = _cli_import(db_url, b, mapping)  # starts while the first holds the store
    _wait_until_blocked(db_url, second, tmp_path / "store.sqlite")
    _release(tmp_path)
    out_b, err_b = second.communicate(timeout=120)
    _, err_a = holder.communicate(timeout=120)
    assert holder.returncode == 0, err_a
    assert second.returncode == 0, out_b + err_b
    assert "Traceback" not in out_b + err_b
    v = load_visits(engine)
    assert sorted(v["patient_id"].unique()) == ["P1", "P2", "P3"]
    assert len(v) == 5 and not v.duplicated(["patient_id", "visit_date"]).any()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM patient")).scalar_one() == 3


def test_a_writer_that_waits_too_long_stops_with_one_line(
    engine: Engine, db_url: str, clinic, h, tmp_path: Path
) -> None:
    a, mapping = clinic(h.visits[:2], name="a.csv")
    b, mapping = clinic([dict(v, patient="SECRET-PATIENT-7") for v in h.visits[:2]], name="b.csv")
    holder = _hold(tmp_path, db_url, a, mapping)
    try:
        started = time.monotonic()
        second = _cli_import(db_url, b, mapping, "--lock-wait", "1")
        out, err = second.communicate(timeout=60)
        waited = time.monotonic() - started
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=30)
    text_ = out + err
    assert second.returncode == 1
    assert "busy" in text_ and "nothing was stored" in text_
    assert "Traceback" not in text_ and "SECRET-PATIENT-7" not in text_ and "INSERT" not in text_
    assert len([line for line in text_.splitlines() if line.strip()]) <= 3
    assert waited < 30
    engine.dispose()
    assert load_visits(engine).empty  # neither import stored anything


def test_an_unreachable_database_is_one_line(clinic, h, tmp_path: Path) -> None:
    src, mapping = clinic(h.visits[:2])
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"
    proc = _cli_import(url, src, mapping)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in out + err and "nothing was stored" in out + err
    assert "P1" not in out + err


def test_database_messages_lose_quoted_values() -> None:
    from sqlalchemy.exc import DBAPIError

    from rheumetrics.store.store_lock import store_error

    class Orig(Exception):
        pass

    orig = Orig('invalid input syntax for type integer: "Jane Smith"\nDETAIL: row (P1, ...)')
    err = store_error(DBAPIError("INSERT ...", {"k": "P1"}, orig), "f.csv", 1)
    assert "Jane Smith" not in str(err) and "P1" not in str(err) and "INSERT" not in str(err)
    orig = Orig('duplicate key value violates unique constraint "patient_patient_key_key"')
    assert '"patient_patient_key_key"' in str(store_error(DBAPIError("x", {}, orig), "f.csv", 1))
