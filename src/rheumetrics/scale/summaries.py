"""Cohort summaries computed per partition and combined exactly.

Counts and shares add up across partitions. Quantiles are exact: the type-7 quantile of Hyndman &
Fan (Am Stat 1996;50:361-5; R's default) is found by narrowing in on the order statistics it needs,
one pass over the partitions per step: a pass for count, minimum and maximum, a pass counting the
values in :data:`BINS` equal bins, then the few values in the bins that hold the wanted ranks are
gathered and sorted (a bin holding more than :data:`GATHER_AT_MOST` values is split again). The
result equals ``numpy.quantile(values, q)`` on the whole column. Means are combined from
per-partition sums (relative difference from a one-pass sum below ``n * 2**-52``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd

BINS = 65_536
GATHER_AT_MOST = 2_000_000


def _values(part: pd.DataFrame, column: str) -> np.ndarray:
    x = pd.to_numeric(part[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return x[~np.isnan(x)]


def _moments(
    part: pd.DataFrame, columns: Sequence[str]
) -> dict[str, tuple[int, int, float, float, float]]:
    out = {}
    for col in columns:
        x = _values(part, col)
        out[col] = (
            len(x),
            len(part) - len(x),
            float(x.sum()) if len(x) else 0.0,
            float(x.min()) if len(x) else math.inf,
            float(x.max()) if len(x) else -math.inf,
        )
    return out


def _bin(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    if hi <= lo:
        return np.zeros(len(x), dtype=np.int64)
    idx = np.floor((x - lo) / (hi - lo) * BINS).astype(np.int64)
    return np.clip(idx, 0, BINS - 1)


def _histogram(part: pd.DataFrame, column: str, lo: float, hi: float) -> np.ndarray:
    x = _values(part, column)
    x = x[(x >= lo) & (x <= hi)]
    return np.bincount(_bin(x, lo, hi), minlength=BINS)


def _gather(part: pd.DataFrame, column: str, lo: float, hi: float, bins: np.ndarray) -> np.ndarray:
    x = _values(part, column)
    x = x[(x >= lo) & (x <= hi)]
    return x[np.isin(_bin(x, lo, hi), bins)]


def _bin_range(
    part: pd.DataFrame, column: str, lo: float, hi: float, b: int
) -> tuple[float, float]:
    x = _values(part, column)
    x = x[(x >= lo) & (x <= hi)]
    x = x[_bin(x, lo, hi) == b]
    return (float(x.min()), float(x.max())) if len(x) else (math.inf, -math.inf)


def _order_statistics(
    parts: Sequence[Any], column: str, ranks: Sequence[int], lo: float, hi: float, below: int
) -> dict[int, float]:
    """Values of the given 0-based ranks, knowing ``below`` values lie under ``lo``."""
    if hi <= lo:
        return dict.fromkeys(ranks, lo)
    counts = np.sum(dask.compute(*[dask.delayed(_histogram)(p, column, lo, hi) for p in parts]),
                    axis=0)  # fmt: skip
    cumulative = np.cumsum(counts)
    bin_of = {r: int(np.searchsorted(cumulative, r - below, side="right")) for r in ranks}
    result: dict[int, float] = {}
    small = sorted({b for b in bin_of.values() if counts[b] <= GATHER_AT_MOST})
    if small:
        gathered = np.sort(np.concatenate(dask.compute(
            *[dask.delayed(_gather)(p, column, lo, hi, np.array(small)) for p in parts])))  # fmt: skip
        start = {b: int(cumulative[b] - counts[b]) for b in small}
        offset = {}
        position = 0
        for b in small:
            offset[b] = position
            position += int(counts[b])
        for r, b in bin_of.items():
            if b in offset:
                result[r] = float(gathered[offset[b] + (r - below - start[b])])
    for r, b in bin_of.items():
        if r in result:
            continue
        # a crowded bin: its values are exactly those in [min, max] of the bin (binning is
        # monotone), so narrow to that interval; ties end with min == max
        ranges = dask.compute(*[dask.delayed(_bin_range)(p, column, lo, hi, b) for p in parts])
        b_lo = min(r_[0] for r_ in ranges)
        b_hi = max(r_[1] for r_ in ranges)
        before = below + int(cumulative[b] - counts[b])
        result.update(_order_statistics(parts, column, [r], b_lo, b_hi, before))
    return result


def quantiles(
    ddf: dd.DataFrame, column: str, qs: Sequence[float] = (0.25, 0.5, 0.75)
) -> dict[float, float]:
    """Exact type-7 quantiles of a column of a Dask frame (NaN ignored), equal to ``numpy.quantile``.

    >>> import dask.dataframe as dd, pandas as pd
    >>> ddf = dd.from_pandas(pd.DataFrame({"x": [5.0, 1.0, 3.0, None, 2.0]}), npartitions=2)
    >>> quantiles(ddf, "x", [0.5])
    {0.5: 2.5}
    """
    parts = ddf[[column]].to_delayed()
    moments = dask.compute(*[dask.delayed(_moments)(p, [column]) for p in parts])
    n = sum(m[column][0] for m in moments)
    if n == 0:
        return {q: math.nan for q in qs}
    lo = min(m[column][3] for m in moments)
    hi = max(m[column][4] for m in moments)
    wanted: dict[float, tuple[int, int, float]] = {}
    for q in qs:
        h = (n - 1) * q
        k = math.floor(h)
        wanted[q] = (k, min(k + 1, n - 1), h - k)
    ranks = sorted({r for k, k1, _ in wanted.values() for r in (k, k1)})
    stats = _order_statistics(parts, column, ranks, lo, hi, 0)
    return {q: stats[k] + frac * (stats[k1] - stats[k]) for q, (k, k1, frac) in wanted.items()}


def _category_counts(part: pd.DataFrame, column: str) -> pd.Series:
    return part[column].astype("string").fillna("<NA>").value_counts()


def category_counts(ddf: dd.DataFrame, column: str) -> pd.DataFrame:
    """Counts and shares of each value of a column (missing as ``<NA>``), summed over partitions."""
    parts = ddf[[column]].to_delayed()
    counts = dask.compute(*[dask.delayed(_category_counts)(p, column) for p in parts])
    total = pd.concat(counts).groupby(level=0).sum().sort_index()
    n = int(total.sum())
    return pd.DataFrame({"value": total.index.astype(str), "n": total.to_numpy(dtype=np.int64),
                         "share": total.to_numpy() / n if n else np.nan})  # fmt: skip


def score_summary(ddf: dd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """n, missing, mean, min, quartiles and max of numeric columns, combined across partitions.

    Returns one row per column (``measure``) with ``n, n_missing, mean, min, q1, median, q3, max``.
    """
    parts = ddf[list(columns)].to_delayed()
    moments = dask.compute(*[dask.delayed(_moments)(p, list(columns)) for p in parts])
    rows = []
    for col in columns:
        n = sum(m[col][0] for m in moments)
        missing = sum(m[col][1] for m in moments)
        total = math.fsum(m[col][2] for m in moments)
        q = quantiles(ddf, col) if n else dict.fromkeys((0.25, 0.5, 0.75), math.nan)
        rows.append({
            "measure": col, "n": n, "n_missing": missing, "mean": total / n if n else math.nan,
            "min": min(m[col][3] for m in moments) if n else math.nan, "q1": q[0.25],
            "median": q[0.5], "q3": q[0.75],
            "max": max(m[col][4] for m in moments) if n else math.nan,
        })  # fmt: skip
    return pd.DataFrame(rows)
