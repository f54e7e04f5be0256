"""CLI start-up cost: CPU time of ``rheumetrics --help``, ``--version`` and scoring a 10-row file,
and the import time of each subpackage, each in a fresh interpreter.

Targets (issue: cheap start-up): ``--help`` under 0.5 s CPU, a 10-row score under 1 s.
Run: ``.venv/bin/python benchmarks/startup.py`` (or ``make bench-startup``). Figures are medians of
five runs; the machine is shared, so compare the ratios more than the absolute numbers.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 5
SUBPACKAGES = ("cli", "schema", "measures", "stats", "imaging", "store", "t2t", "study")


def _cpu(args: list[str]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def _median(args: list[str]) -> tuple[float, float]:
    runs = [_cpu(args) for _ in range(RUNS)]
    return statistics.median(c for c, _ in runs), statistics.median(w for _, w in runs)


def main() -> None:
    cli = [sys.executable, "-c", "from rheumetrics.cli import app; app()"]
    with tempfile.TemporaryDirectory() as tmp:
        ten = Path(tmp) / "ten.csv"
        lines = (ROOT / "examples/data/visits.csv").read_text().splitlines()[:11]
        ten.write_text("\n".join(lines) + "\n")
        cases = {
            "rheumetrics --help": [*cli, "--help"],
            "rheumetrics --version": [*cli, "--version"],
            "rheumetrics score (10 rows)": [*cli, "score", str(ten), "--out", f"{tmp}/s.csv"],
            "python -c pass (interpreter alone)": [sys.executable, "-c", "pass"],
        }
        print(f"{'command':<40} {'CPU s':>7} {'wall s':>7}  target")
        targets = {"rheumetrics --help": 0.5, "rheumetrics score (10 rows)": 1.0}
        for name, args in cases.items():
            cpu, wall = _median(args)
            target = f"< {targets[name]:g} s CPU" if name in targets else ""
            print(f"{name:<40} {cpu:7.3f} {wall:7.3f}  {target}")
    print()
    print(f"{'import (fresh interpreter)':<40} {'CPU s':>7} {'wall s':>7}")
    for pkg in SUBPACKAGES:
        cpu, wall = _median([sys.executable, "-c", f"import rheumetrics.{pkg}"])
        print(f"{'rheumetrics.' + pkg:<40} {cpu:7.3f} {wall:7.3f}")


if __name__ == "__main__":
    main()
