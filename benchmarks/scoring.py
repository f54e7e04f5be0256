"""Benchmark: score N synthetic visits with the full RA panel, validation included.

Panel: DAS28-ESR, DAS28-CRP, SDAI, CDAI with their categories, and Boolean remission 2022.
Prints visits per second, peak memory (traced allocations during scoring, against the input
frame's size) and, side by side as ratios to ``score_frame``:

- the same rows scored one at a time with the scalar functions, as peer calculators are used;
- the same formulas as plain pandas column expressions (``pd.cut`` categories, no validation);
- polars expressions, when polars is installed;
- naive NumPy on float arrays (``searchsorted`` categories, no validation);
- the memory roofline: reading the 7 input columns once and writing the outputs once (4 float64
  scores, 4 int8 category codes, 2 boolean arrays) at this machine's measured copy bandwidth.

Run: ``python benchmarks/scoring.py [--visits N]`` (README figure: the default 10 million).
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


#: DAS28 EULAR / SDAI / CDAI (Aletaha 2005) cut-offs, as bin edges for the peers' categories.
CUTS = {
    "das28_esr": [2.6, 3.2, 5.1],
    "das28_crp": [2.6, 3.2, 5.1],
    "sdai": [3.3, 11.0, 26.0],
    "cdai": [2.8, 10.0, 22.0],
}
LABELS = ["remission", "low", "moderate", "high"]
#: Bytes per visit a single pass must move: 7 float64 inputs read; 4 float64 scores, 4 int8
#: category codes and the Boolean result (value + missing mask) written.
BYTES_PER_VISIT = 7 * 8 + 4 * 8 + 4 * 1 + 2 * 1


def pandas_expressions(df: pd.DataFrame) -> pd.DataFrame:
    joints = 0.56 * np.sqrt(df["tjc28"]) + 0.28 * np.sqrt(df["sjc28"])
    out = pd.DataFrame(
        {
            "das28_esr": joints + 0.70 * np.log(df["esr_mm_h"]) + 0.014 * df["gh_mm"],
            "das28_crp": joints + 0.36 * np.log1p(df["crp_mg_l"]) + 0.014 * df["gh_mm"] + 0.96,
            "sdai": df["tjc28"] + df["sjc28"] + df["ptga"] + df["phga"] + df["crp_mg_l"] / 10,
            "cdai": df["tjc28"] + df["sjc28"] + df["ptga"] + df["phga"],
        }
    )
    for name, edges in CUTS.items():
        out[f"{name}_category"] = pd.cut(out[name], [-np.inf, *edges, np.inf], labels=LABELS)
    out["boolean_remission_2022"] = (
        (df["tjc28"] <= 1) & (df["sjc28"] <= 1) & (df["ptga"] <= 2) & (df["crp_mg_l"] <= 10)
    )
    return out


def numpy_naive(cols: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    t, s, e, c, g, pt, ph = (cols[k] for k in ("tjc28", "sjc28", "esr_mm_h", "crp_mg_l", "gh_mm",
                                                 "ptga", "phga"))  # fmt: skip
    joints = 0.56 * np.sqrt(t) + 0.28 * np.sqrt(s)
    out = {
        "das28_esr": joints + 0.70 * np.log(e) + 0.014 * g,
        "das28_crp": joints + 0.36 * np.log1p(c) + 0.014 * g + 0.96,
        "sdai": t + s + pt + ph + c / 10,
        "cdai": t + s + pt + ph,
    }
    for name, edges in CUTS.items():
        out[f"{name}_category"] = np.searchsorted(edges, out[name]).astype(np.int8)
    out["boolean_remission_2022"] = (t <= 1) & (s <= 1) & (pt <= 2) & (c <= 10)
    return out


def polars_expressions(df: object) -> object:
    import polars as pl

    joints = 0.56 * pl.col("tjc28").sqrt() + 0.28 * pl.col("sjc28").sqrt()
    scores = {
        "das28_esr": joints + 0.70 * pl.col("esr_mm_h").log() + 0.014 * pl.col("gh_mm"),
        "das28_crp": joints + 0.36 * pl.col("crp_mg_l").log1p() + 0.014 * pl.col("gh_mm") + 0.96,
        "sdai": pl.sum_horizontal("tjc28", "sjc28", "ptga", "phga") + pl.col("crp_mg_l") / 10,
        "cdai": pl.sum_horizontal("tjc28", "sjc28", "ptga", "phga"),
    }
    exprs = [e.alias(n) for n, e in scores.items()]
    exprs += [e.cut(CUTS[n], labels=LABELS).alias(f"{n}_category") for n, e in scores.items()]
    exprs.append(
        ((pl.col("tjc28") <= 1) & (pl.col("sjc28") <= 1) & (pl.col("ptga") <= 2)
         & (pl.col("crp_mg_l") <= 10)).alias("boolean_remission_2022")
    )  # fmt: skip
    return df.select(exprs)  # type: ignore[attr-defined]


def copy_bandwidth(nbytes: int = 2**28, repeat: int = 5) -> float:
    """Bytes per second moved by ``np.copyto`` (read + write) on arrays beyond the caches."""
    src = np.ones(nbytes // 8)
    dst = np.empty_like(src)
    best = min(_time(lambda: np.copyto(dst, src)) for _ in range(repeat))
    return 2 * nbytes / best


def _time(fn) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _median_time(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    return statistics.median(_time(fn) for _ in range(repeat))


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

    # side by side: the same panel by other means (time relative to score_frame's median)
    cols = {c: df[c].to_numpy() for c in df.columns}
    peers = {
        "pandas column expressions": lambda: pandas_expressions(df),
        "naive NumPy": lambda: numpy_naive(cols),
    }
    try:
        import polars as pl

        frame = pl.from_pandas(df)
        peers["polars expressions"] = lambda: polars_expressions(frame)
    except ImportError:
        print("polars                   not installed (pip install polars to compare)")
    check = pandas_expressions(df.head(100_000))
    ours = score_frame(df.head(100_000), measures=PANEL)
    for name in CUTS:
        np.testing.assert_allclose(check[name].to_numpy(), ours[name].to_numpy(), rtol=1e-12)
    bandwidth = copy_bandwidth()
    roofline = len(df) * BYTES_PER_VISIT / bandwidth
    print()
    print(f"{'same panel by':<42} {'seconds':>8} {'visits/s':>14} {'score_frame / it':>17}")
    print(f"{'score_frame (validated)':<42} {elapsed:8.3f} {len(df) / elapsed:14,.0f} {1:17.2f}")
    for name, fn in peers.items():
        t = _median_time(fn, args.repeat)
        print(f"{name + ' (no validation)':<42} {t:8.3f} {len(df) / t:14,.0f} {elapsed / t:17.2f}")
    print(f"{'memory roofline':<42} {roofline:8.3f} {len(df) / roofline:14,.0f} "
          f"{elapsed / roofline:17.2f}")  # fmt: skip
    print(f"  ({BYTES_PER_VISIT} bytes/visit at the measured copy bandwidth "
          f"{bandwidth / 1e9:.1f} GB/s; target: score_frame within 3 x the roofline)")  # fmt: skip


if __name__ == "__main__":
    main()
