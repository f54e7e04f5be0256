"""A process killed in the middle of an import leaves the store exactly as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import Engine

from rheumetrics.store import import_file

# Runs the real import, but stops for good right after the visit rows are written (the children,
# scores and commit are still to come), so the parent can kill it mid-transaction.
CHILD = """
import sys, time
from pathlib import Path
import rheumetrics.store.bulk as bulk
from rheumetrics.store import import_file, make_engine

original = bulk.insert_frame

def pausing(conn, table, df, progress=None):
    original(conn, table, df, progress)
    if table == "visit":
        Path(sys.argv[4]).write_text("visits written, transaction open")
        time.sleep(120)

bulk.insert_frame = pausing
import_file(make_engine(sys.argv[1]), sys.argv[2], sys.argv[3])
"""


def test_kill_during_import_leaves_store_unchanged(
    engine: Engine, db_url: str, clinic, h, tmp_path: Path
) -> None:
    first, mapping = clinic(h.visits[:2], name="first.csv")
    import_file(engine, first, mapping)
    before = h.snapshot(engine)
    second, mapping = clinic(name="second.csv")
    marker = tmp_path / "marker"
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    proc = subprocess.Popen(
        [sys.executable, str(script), db_url, str(second), str(mapping), str(marker)]
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, "import process ended before it reached the pause"
            assert time.monotonic() < deadline, "import process never reached the pause"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    engine.dispose()
    assert h.snapshot(engine) == before
    result = import_file(engine, second, mapping)  # the store is usable and unlocked
    assert result.visits_added == 2 and result.visits_updated == 0
