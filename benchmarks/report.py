"""Study report timings: the command users run, the bundled NZ report, and synthetic studies at
three sizes.

The command: ``rheumetrics report nz_mri --out nz.html`` in a fresh process (a new folder, so the
first run imports the example into a new store; the second finds it built), wall seconds and the
child's CPU seconds (``getrusage(RUSAGE_CHILDREN)``), median of ``--runs``; and the import of
``rheumetrics.study.report`` alone in a fresh interpreter (the start-up every report pays).
Targets: NZ report < 5 s; a 10,000-patient study < 5 s (issue 13); a 100,000-patient registry
study < 60 s. The synthetic cohorts are drawn by the example generator
(``examples/synthetic_cohorts.py``, not timed), written as plain files with the ``nz_mri`` study
file pointed at them; the timed part loads and scores the cohort (per-site imaging reads), runs
every analysis and writes the HTML report and its CSV tables. Each phase is printed in wall and
CPU seconds (``time.process_time``, all threads: on a shared machine wall time mostly measures
the load), at three sizes (a quarter, a half and all of ``--patients``) with the growth exponents;
``--large`` adds one more study (the 60 s target). No peer tool writes this report.

Run: ``.venv/bin/python benchmarks/report.py [--patients 10000] [--large 100000]``
(``--command-only``: the command and the import only).
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

sys.path.insert(0, str(Path(__file__).parents[1] / "examples"))

from synthetic_cohorts import synthetic_cohort, write_file_study

from rheumetrics.study.model import load_study
from rheumetrics.study.report import run_study, write_report
from sweep import Timing, load, print_growth, three_sizes


def _child(args: list[str], cwd: Path) -> Timing:
    """Wall seconds and the child's CPU seconds (user + system) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, cwd=cwd)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return Timing(wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))


def _median(runs: list[Timing]) -> Timing:
    return Timing(statistics.median(r.wall for r in runs), statistics.median(r.cpu for r in runs))


def command(runs: int) -> None:
    """The command as users run it, end to end, in fresh processes."""
    cli = str(Path(sys.executable).with_name("rheumetrics"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        imports = _median([_child([sys.executable, "-c", "import rheumetrics.study.report"],
                                  folder) for _ in range(runs)])  # fmt: skip
        print(f"import rheumetrics.study.report (fresh interpreter): {imports.wall:.2f} s wall, "
              f"{imports.cpu:.2f} s CPU (median of {runs}); {load()}")  # fmt: skip
        first = _child([cli, "report", "nz_mri", "--out", "nz.html"], folder)
        print(f"rheumetrics report nz_mri --out nz.html, first run (builds the store): "
              f"{first.wall:.2f} s wall, {first.cpu:.2f} s CPU")  # fmt: skip
        again = _median([_child([cli, "report", "nz_mri", "--out", "nz.html"], folder)
                         for _ in range(runs)])  # fmt: skip
        print(f"rheumetrics report nz_mri --out nz.html, store built: {again.wall:.2f} s wall, "
              f"{again.cpu:.2f} s CPU (median of {runs}; target < 5 s); {load()}")  # fmt: skip


def _now() -> Timing:
    return Timing(time.perf_counter(), time.process_time())


def _timed(study_path: str | Path, out: Path, db_url: str | None = None) -> Timing:
    marks: list[tuple[str, Timing]] = []
    start = _now()
    rep = run_study(
        load_study(study_path),
        db_url=db_url,
        progress=lambda msg: marks.append((msg, _now())),
    )
    computed = _now()
    write_report(rep, out)
    done = _now()
    for (msg, at), nxt in zip(marks, [*(m[1] for m in marks[1:]), computed], strict=True):
        print(f"  {msg:<40s} {nxt.wall - at.wall:6.2f} s wall {nxt.cpu - at.cpu:6.2f} s CPU")
    print(f"  {'writing HTML and CSV':<40s} {done.wall - computed.wall:6.2f} s wall "
          f"{done.cpu - computed.cpu:6.2f} s CPU")  # fmt: skip
    return Timing(done.wall - start.wall, done.cpu - start.cpu)


def nz_report() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = f"sqlite:///{folder / 'nz.sqlite'}"
        first = _timed("nz_mri", folder / "nz.html", db)
        print(f"NZ report, first run (imports the example into a new store): {first.wall:.2f} s "
              f"wall, {first.cpu:.2f} s CPU")  # fmt: skip
        again = _timed("nz_mri", folder / "nz.html", db)
        print(f"NZ report, store already built: {again.wall:.2f} s wall, {again.cpu:.2f} s CPU "
              "(target < 5 s)")  # fmt: skip


def synthetic_study(n_patients: int, target: float) -> Timing:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        records = synthetic_cohort(n_patients, seed=2024)
        study_path = write_file_study(records, folder)
        print(f"cohort: {n_patients:,} patients, {len(records.visits):,} visits, "
              f"{len(records.reads):,} imaging reads (drawn and written in "
              f"{time.perf_counter() - t0:.1f} s, not timed); {load()}")  # fmt: skip
        total = _timed(study_path, folder / "report.html")
        print(f"{n_patients:,}-patient study report: {total.wall:.2f} s wall, {total.cpu:.2f} s "
              f"CPU (target < {target:g} s)")  # fmt: skip
        return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000, help="top size of the sweep")
    parser.add_argument("--large", type=int, default=0, help="one more study of this size")
    parser.add_argument("--no-nz", action="store_true", help="skip the NZ report")
    parser.add_argument("--runs", type=int, default=3, help="runs of each command (median)")
    parser.add_argument("--command-only", action="store_true",
                        help="only the command users run (and the import)")  # fmt: skip
    args = parser.parse_args()
    print(f"Machine: {load()}, shared with other jobs; wall figures vary with the load.")
    if not args.no_nz:
        command(args.runs)
        if args.command_only:
            return
        nz_report()
    sizes = three_sizes(args.patients)
    runs = [synthetic_study(n, 5.0) for n in sizes]
    print_growth(sizes, {"wall": [r.wall for r in runs], "CPU": [r.cpu for r in runs]})
    if args.large:
        synthetic_study(args.large, 60.0)


if __name__ == "__main__":
    main()
