"""Benchmark: the formula-safe CSV writer against plain ``pandas.DataFrame.to_csv``.

A tidy visit table (default 1,000,000 rows: patient key, date, visit label with some text that
starts with formula characters, ten numeric columns) is written both ways at three sizes (a
quarter, a half and all of ``--rows``); the script prints CPU seconds, the ratio safe / plain (CPU
time stays fair on a busy machine) and the growth exponents of time.

    .venv/bin/python benchmarks/writers.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import functools
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from rheumetrics.schema.writers import write_csv
from sweep import load, print_growth, three_sizes, timed


def table(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    labels = np.array(["baseline", "month 3", '=HYPERLINK("x")', "-P1", "@A1", "follow up"])
    df = pd.DataFrame({
        "patient_id": pd.Series(rng.integers(0, rows // 10 + 1, rows)).map("P{:07d}".format),
        "visit_date": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, rows), unit="D"),
        "visit_label": labels[rng.integers(0, len(labels), rows)],
    })  # fmt: skip
    for i in range(10):
        df[f"x{i}"] = rng.normal(size=rows).round(2)
    return df


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000, help="top size")
    args = parser.parse_args()
    sizes = three_sizes(args.rows)
    cpu: dict[str, list[float]] = {"pandas to_csv": [], "write_csv (safe)": []}
    print(f"{load()}; CPU seconds, best of 2")
    print(f"{'rows':>11} {'pandas to_csv':>14} {'write_csv (safe)':>17} {'safe / plain':>13}")
    with tempfile.TemporaryDirectory() as tmp:
        plain_path, safe_path = Path(tmp) / "plain.csv", Path(tmp) / "safe.csv"
        for n in sizes:
            df = table(n)
            runs = {
                "pandas to_csv": functools.partial(
                    df.to_csv, plain_path, index=False, date_format="%Y-%m-%d"
                ),
                "write_csv (safe)": functools.partial(
                    write_csv, df, safe_path, date_format="%Y-%m-%d"
                ),
            }
            best = {name: min(timed(run).cpu for _ in range(2)) for name, run in runs.items()}
            for name, t in best.items():
                cpu[name].append(t)
            plain, safe = best["pandas to_csv"], best["write_csv (safe)"]
            print(f"{n:>11,} {plain:>12.2f} s {safe:>15.2f} s {safe / plain:>13.2f}")
    print_growth(sizes, cpu, "CPU time")


if __name__ == "__main__":
    main()
