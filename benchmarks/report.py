"""Full study report for a 10,000-patient synthetic escalation cohort (issue 6 target: < 30 s).

Draws the cohort with ``rheumetrics.study.synthetic.synthetic_cohort`` (not timed), writes it as
plain files with the ``nz_mri`` study file pointed at them, then times loading and scoring the
cohort (1.4 million per-site imaging reads), every analysis, and writing the HTML report and
its CSV tables. Run: ``.venv/bin/python benchmarks/report.py [n_patients]``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from synthetic_cohorts import synthetic_cohort, write_file_study

from rheumetrics.study.model import load_study
from rheumetrics.study.report import run_study, write_report


def main(n_patients: int = 10_000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        records = synthetic_cohort(n_patients, seed=2024)
        study_path = write_file_study(records, folder)
        t1 = time.perf_counter()
        print(f"cohort: {n_patients:,} patients, {len(records.visits):,} visits, "
              f"{len(records.reads):,} imaging reads (drawn and written in {t1 - t0:.1f} s, not timed)")  # fmt: skip
        marks: list[tuple[str, float]] = []
        start = time.perf_counter()
        rep = run_study(
            load_study(study_path), progress=lambda msg: marks.append((msg, time.perf_counter()))
        )
        computed = time.perf_counter()
        write_report(rep, folder / "report.html")
        done = time.perf_counter()
        for (msg, at), nxt in zip(marks, [*(m[1] for m in marks[1:]), computed], strict=True):
            print(f"  {msg:<32s} {nxt - at:6.2f} s")
        print(f"  {'writing HTML and CSV':<32s} {done - computed:6.2f} s")
        print(f"full report: {done - start:.2f} s (target < 30 s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
