"""Study report timings: the bundled NZ report, and 10,000- and 100,000-patient studies.

Targets: NZ report < 5 s; a 10,000-patient study < 15 s (issue 13 asks < 5 s); a
100,000-patient registry study < 60 s. The large cohorts are drawn by the example generator
(``examples/synthetic_cohorts.py``, not timed), written as plain files with the ``nz_mri``
study file pointed at them; the timed part loads and scores the cohort (per-site imaging reads),
runs every analysis and writes the HTML report and its CSV tables. Each phase is printed.
Run: ``.venv/bin/python benchmarks/report.py [n_patients ...]`` (default 10000 100000).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "examples"))

from synthetic_cohorts import synthetic_cohort, write_file_study

from rheumetrics.study.model import load_study
from rheumetrics.study.report import run_study, write_report


def _timed(study_path: str | Path, out: Path, db_url: str | None = None) -> float:
    marks: list[tuple[str, float]] = []
    start = time.perf_counter()
    rep = run_study(
        load_study(study_path),
        db_url=db_url,
        progress=lambda msg: marks.append((msg, time.perf_counter())),
    )
    computed = time.perf_counter()
    write_report(rep, out)
    done = time.perf_counter()
    for (msg, at), nxt in zip(marks, [*(m[1] for m in marks[1:]), computed], strict=True):
        print(f"  {msg:<40s} {nxt - at:6.2f} s")
    print(f"  {'writing HTML and CSV':<40s} {done - computed:6.2f} s")
    return done - start


def nz_report() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = f"sqlite:///{folder / 'nz.sqlite'}"
        first = _timed("nz_mri", folder / "nz.html", db)
        print(f"NZ report, first run (imports the example into a new store): {first:.2f} s")
        again = _timed("nz_mri", folder / "nz.html", db)
        print(f"NZ report, store already built: {again:.2f} s (target < 5 s)")


def large(n_patients: int, target: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        records = synthetic_cohort(n_patients, seed=2024)
        study_path = write_file_study(records, folder)
        print(f"cohort: {n_patients:,} patients, {len(records.visits):,} visits, "
              f"{len(records.reads):,} imaging reads (drawn and written in "
              f"{time.perf_counter() - t0:.1f} s, not timed)")  # fmt: skip
        total = _timed(study_path, folder / "report.html")
        print(f"{n_patients:,}-patient study report: {total:.2f} s (target < {target:g} s)")


def main(sizes: list[int]) -> None:
    print("Machine: 2 cores shared with other jobs; figures vary with the load.")
    nz_report()
    for n in sizes:
        large(n, 15.0 if n <= 10_000 else 60.0)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10_000, 100_000])
