"""CLI start-up cost: CPU time of ``rheumetrics --help``, ``--version`` and scoring a 10-row file,
and the import time of each subpackage, each in a fresh interpreter.

Targets (issue: cheap start-up): ``--help`` under 0.5 s CPU, a 10-row score under 1 s.
Then ``rheumetrics score`` on visits files of three sizes (a quarter, a half and all of
``--rows``) next to the pandas script a user would otherwise write, as a CPU ratio, with the
growth exponents.
Run: ``.venv/bin/python benchmarks/startup.py`` (or ``make bench-startup``). Figures are medians of
five runs; the machine is shared, so compare the ratios more than the absolute numbers.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sweep import load, print_growth, three_sizes

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


#: The peer for scoring a file: a pandas script a user would write (read, DAS28-ESR and SDAI with
#: their categories as column expressions, write), no validation.
PANDAS_SCRIPT = """
import sys
import numpy as np
import pandas as pd
df = pd.read_csv(sys.argv[1])
das28 = (0.56 * np.sqrt(df.tjc28) + 0.28 * np.sqrt(df.sjc28) + 0.70 * np.log(df.esr_mm_h)
         + 0.014 * df.gh_mm)
sdai = df.tjc28 + df.sjc28 + df.ptga + df.phga + df.crp_mg_l / 10
out = pd.DataFrame({"das28_esr": das28, "sdai": sdai})
out["das28_esr_category"] = pd.cut(das28, [-np.inf, 2.6, 3.2, 5.1, np.inf])
out["sdai_category"] = pd.cut(sdai, [-np.inf, 3.3, 11, 26, np.inf])
out.to_csv(sys.argv[2], index=False)
"""


def visits_file(folder: Path, rows: int) -> Path:
    """The example visits repeated to ``rows`` rows."""
    lines = (ROOT / "examples/data/visits.csv").read_text().splitlines()
    body = [lines[1 + i % (len(lines) - 1)] for i in range(rows)]
    path = folder / f"visits_{rows}.csv"
    path.write_text("\n".join([lines[0], *body]) + "\n")
    return path


def score_sweep(cli: list[str], folder: Path, top: int) -> None:
    """``rheumetrics score`` on files of three sizes next to the pandas script; exponents."""
    sizes = three_sizes(top)
    cpu: dict[str, list[float]] = {"rheumetrics score": [], "pandas script": []}
    print(
        f"\n{'score a visits file':<40} {'CPU s':>7} {'wall s':>7}  {'ratio to pandas (CPU)':>21}"
    )
    for n in sizes:
        path = visits_file(folder, n)
        ours, _ = _median([*cli, "score", str(path), "-m", "das28_esr", "-m", "sdai", "--out",
                           str(folder / "ours.csv")])  # fmt: skip
        peer, _ = _median([sys.executable, "-c", PANDAS_SCRIPT, str(path), str(folder / "p.csv")])
        cpu["rheumetrics score"].append(ours)
        cpu["pandas script"].append(peer)
        print(
            f"{'rheumetrics score, ' + f'{n:,} rows':<40} {ours:7.3f} {'':>7}  {ours / peer:21.2f}"
        )
        print(f"{'pandas script, ' + f'{n:,} rows':<40} {peer:7.3f}")
    print_growth(sizes, cpu, "CPU time (start-up included)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="top size of the score sweep")
    opts = parser.parse_args()
    print(load())
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
        score_sweep(cli, Path(tmp), opts.rows)
    print()
    print(f"{'import (fresh interpreter)':<40} {'CPU s':>7} {'wall s':>7}")
    for pkg in SUBPACKAGES:
        cpu, wall = _median([sys.executable, "-c", f"import rheumetrics.{pkg}"])
        print(f"{'rheumetrics.' + pkg:<40} {cpu:7.3f} {wall:7.3f}")


if __name__ == "__main__":
    main()
