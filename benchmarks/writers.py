"""Benchmark: the formula-safe CSV writer against plain ``pandas.DataFrame.to_csv``.

A tidy visit table (default 1,000,000 rows: patient key, date, visit label with some text that
starts with formula characters, ten numeric columns) is written both ways; the script prints CPU
seconds and the ratio safe / plain (CPU time stays fair on a busy machine).

    .venv/bin/python benchmarks/writers.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from rheumetrics.schema.writers import write_csv


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
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    df = table(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.process_time()
        df.to_csv(Path(tmp) / "plain.csv", index=False, date_format="%Y-%m-%d")
        plain = time.process_time() - t
        t = time.process_time()
        write_csv(df, Path(tmp) / "safe.csv", date_format="%Y-%m-%d")
        safe = time.process_time() - t
    print(f"rows               {args.rows:>12,}")
    print(f"pandas to_csv      {plain:>10.2f} s CPU")
    print(f"write_csv (safe)   {safe:>10.2f} s CPU")
    print(f"ratio safe / plain {safe / plain:>10.2f}")


if __name__ == "__main__":
    main()
