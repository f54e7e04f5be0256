"""Benchmark: treat-to-target decisions for 1,000,000 visits of 100,000 patients under one strategy.

Synthetic cohort: 10 visits per patient 3 months apart, SDAI drawn at random, methotrexate from the
first visit, prednisolone for half the patients, adalimumab added at month 6 for a third, and a
dose taper row for a tenth. Prints visits per second and peak memory
(process maximum resident set size; tracemalloc is not used because it slows NumPy several-fold) (target < 30 s on one core).

    .venv/bin/python benchmarks/t2t.py [--patients 100000] [--visits 10] [--strategy eular2022_ra]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from rheumetrics.t2t import decide, load_strategy, summarise


def cohort(patients: int, visits: int, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    pid = np.repeat(np.arange(patients), visits)
    start = np.datetime64("2015-01-01") + rng.integers(0, 1500, patients).astype("timedelta64[D]")
    k = np.tile(np.arange(visits), patients)
    dates = np.repeat(start, visits) + (k * 91).astype("timedelta64[D]")
    sdai = np.round(rng.gamma(2.0, 5.0, len(pid)), 1)
    sdai[rng.random(len(pid)) < 0.02] = np.nan  # some visits without SDAI
    v = pd.DataFrame(
        {
            "patient_id": pid,
            "visit_date": dates,
            "sdai": sdai,
            "sjc28": rng.integers(0, 6, len(pid)),
            "intolerance": rng.random(len(pid)) < 0.01,
            "acpa_positive": np.repeat(rng.random(patients) < 0.6, visits),
        }
    )
    p = np.arange(patients)
    gc = p[rng.random(patients) < 0.5]
    bio = p[rng.random(patients) < 0.33]
    tap = p[rng.random(patients) < 0.1]
    rows = [
        pd.DataFrame(
            {
                "patient_id": p,
                "drug": "methotrexate",
                "drug_class": "csDMARD",
                "dose": 20.0,
                "start_date": start,
                "stop_date": pd.NaT,
            }
        ),
        pd.DataFrame(
            {
                "patient_id": gc,
                "drug": "prednisolone",
                "drug_class": "glucocorticoid",
                "dose": 7.5,
                "start_date": start[gc],
                "stop_date": start[gc] + np.timedelta64(120, "D"),
            }
        ),
        pd.DataFrame(
            {
                "patient_id": bio,
                "drug": "adalimumab",
                "drug_class": "bDMARD",
                "dose": 40.0,
                "start_date": start[bio] + np.timedelta64(182, "D"),
                "stop_date": start[bio] + np.timedelta64(600, "D"),
            }
        ),
        pd.DataFrame(
            {
                "patient_id": tap,
                "drug": "adalimumab",
                "drug_class": "bDMARD",
                "dose": 20.0,
                "start_date": start[tap] + np.timedelta64(600, "D"),
                "stop_date": pd.NaT,
                "reason": "taper",
            }
        ),
    ]
    return v, pd.concat(rows, ignore_index=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=100_000)
    ap.add_argument("--visits", type=int, default=10)
    ap.add_argument("--strategy", default="eular2022_ra")
    args = ap.parse_args()
    visits, therapies = cohort(args.patients, args.visits)
    strategy = load_strategy(args.strategy)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    t0 = time.perf_counter()
    log = decide(visits, strategy, therapies)
    elapsed = time.perf_counter() - t0
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    summary = summarise(log)
    n = len(log)
    print(
        f"strategy {strategy.id}: {n:,} visits of {args.patients:,} patients, {len(therapies):,} therapy rows"
    )
    print(f"decisions in {elapsed:.2f} s: {n / elapsed:,.0f} visits/s")
    print(
        f"peak memory (process max RSS): {rss_after:,.0f} MiB, of which {rss_after - rss_before:,.0f} MiB above the input data"
    )
    print(log["action"].value_counts().to_string())
    print(summary[["metric", "value", "n"]].to_string(index=False))


if __name__ == "__main__":
    main()
