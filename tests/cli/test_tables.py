"""Terminal tables stay readable in an 80-column terminal (no truncated names)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

READS = Path(__file__).resolve().parents[2] / "src/rheumetrics/data/example_imaging_reads.csv"


def test_agreement_table_fits_80_columns_with_whole_icc_form_names():
    env = {**os.environ, "COLUMNS": "80"}
    code = "from rheumetrics.cli import app; app()"
    run = subprocess.run([sys.executable, "-c", code, "agreement", str(READS)],
                         capture_output=True, text=True, env=env, check=True)  # fmt: skip
    lines = run.stderr.splitlines()
    assert max(len(line) for line in lines) <= 80
    for form in ("ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)"):
        assert any(form in line for line in lines), form
    assert "…" not in run.stderr  # nothing cut off with an ellipsis
