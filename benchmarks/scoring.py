"""Benchmark: score N synthetic visits with the full RA panel, validation included.

Panel: DAS28-ESR, DAS28-CRP, SDAI, CDAI with their categories, and Boolean remission 2022.
Prints visits per second, peak memory (traced allocations during scoring, against the input
frame's size) and the speed-up over scoring the same rows one at a time with the scalar
functions, as peer calculators are used. Run: ``python benchmarks/scoring.py [--visits N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import tracemalloc

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core

import numpy as np
import pandas as pd

from rheumetrics.measures import boolean_remission, cdai, das28_crp, das28_esr, sdai
from rheumetrics.measures.panel import score_frame

PANEL = ["das28_esr", "das28_crp", "sdai", "cdai", "boolean_remission_2022"]


def synthetic(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "tjc28": rng.integers(0, 29, n).astype(float),
            "sjc28": rng.integers(0, 29, n).astype(float),
            "esr_mm_h": rng.integers(1, 120, n).astype(float),
            "crp_mg_l": np.round(rng.gamma(1.2, 12.0, n), 1),
            "gh_mm": rng.integers(0, 101, n).astype(float),
            "ptga": rng.integers(0, 21, n) / 2.0,
            "phga": rng.integers(0, 21, n) / 2.0,
        }
    )


def row_at_a_time(df: pd.DataFrame) -> None:
    for r in df.itertuples(index=False):
        for fn, args in (
            (das28_esr, (r.tjc28, r.sjc28, r.esr_mm_h, r.gh_mm)),
            (das28_crp, (r.tjc28, r.sjc28, r.crp_mg_l, r.gh_mm)),
            (sdai, (r.tjc28, r.sjc28, r.ptga, r.phga, r.crp_mg_l)),
            (cdai, (r.tjc28, r.sjc28, r.ptga, r.phga)),
        ):
            fn.category(fn(*args))
        boolean_remission(r.tjc28, r.sjc28, r.ptga, r.crp_mg_l, version="2022")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--visits", type=int, default=10_000_000)
    parser.add_argument("--baseline-rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the median is shown")
    args = parser.parse_args()

    df = synthetic(args.visits)
    input_mb = df.memory_usage(deep=True).sum() / 2**20
    score_frame(df.head(1000), measures=PANEL)  # warm up

    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        out = score_frame(df, measures=PANEL)
        times.append(time.perf_counter() - t0)
        assert len(out) == len(df)
        del out
    elapsed = statistics.median(times)

    tracemalloc.start()  # a separate run: tracing slows allocation
    score_frame(df, measures=PANEL)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    sample = df.head(args.baseline_rows)
    t0 = time.perf_counter()
    row_at_a_time(sample)
    per_row = (time.perf_counter() - t0) / len(sample)
    vec_per_row = elapsed / len(df)

    print(f"visits scored            {len(df):,}")
    print(f"panel                    {', '.join(PANEL)} (+ categories, validation)")
    print(
        f"elapsed (median of {args.repeat})   {elapsed:.2f} s  (runs: {', '.join(f'{t:.2f}' for t in times)})"
    )
    print(
        f"visits per second        {len(df) / elapsed:,.0f} (median), {len(df) / min(times):,.0f} (best)"
    )
    print(f"input frame              {input_mb:,.0f} MiB")
    print(
        f"peak traced memory       {peak / 2**20:,.0f} MiB ({peak / 2**20 / input_mb:.2f} x input)"
    )
    print(f"row-at-a-time baseline   {1 / per_row:,.0f} visits/s ({len(sample):,} rows sampled)")
    print(f"speed-up over baseline   {per_row / vec_per_row:,.0f} x")


if __name__ == "__main__":
    main()
