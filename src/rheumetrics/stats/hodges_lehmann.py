"""Hodges-Lehmann shift estimate and its distribution-free CI without all pairwise differences.

The estimate is the median of the n_x n_y differences x_i - y_j (Hodges & Lehmann 1963, *Ann
Math Stat* 34:598-611, doi:10.1214/aoms/1177704172); the CI limits are order statistics of the
same differences (Bauer 1972, *J Am Stat Assoc* 67:687-690, doi:10.1080/01621459.1972.10481279).
Order statistics are selected on the two sorted samples, never forming the differences: the
number of differences <= d is one merge-like ``searchsorted`` (O(n log n)), and each round
draws a random sample of the still-possible differences and keeps only the band between two
of its order statistics that must contain the wanted ranks (Floyd & Rivest 1975, *Commun ACM*
18:165-172, doi:10.1145/360680.360691, applied to the implicit sorted matrix as Monahan 1984,
*ACM Trans Math Softw* 10:265-270, doi:10.1145/1271.319414). A few rounds leave O(n) candidates,
which are then formed and partitioned: time O(n log n), memory O(n).
"""

from __future__ import annotations

import numpy as np

__all__ = ["difference_order_statistics"]

_SAMPLE = 65_536


def _bounds(xs: np.ndarray, ys: np.ndarray, value: float, side: str) -> np.ndarray:
    """Per x_i, the index in ys from which x_i - y_j <= value ('left') or < value ('right')."""
    return np.searchsorted(ys, xs - value, side=side)  # type: ignore[call-overload]


def difference_order_statistics(x: np.ndarray, y: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """Values of the given 0-based ranks among all differences ``x_i - y_j`` (sorted order).

    Equivalent to ``np.sort(np.subtract.outer(x, y).ravel())[ranks]`` in O((m + n) log(m + n))
    time and O(m + n) memory.

    Examples
    --------
    >>> x, y = np.array([1.0, 4.0, 9.0]), np.array([0.0, 2.0])
    >>> difference_order_statistics(x, y, np.array([0, 2, 5])).tolist()
    [-1.0, 2.0, 9.0]
    """
    xs, ys = (
        np.sort(np.asarray(x, float), kind="stable"),
        np.sort(np.asarray(y, float), kind="stable"),
    )
    ranks = np.asarray(ranks, dtype=np.int64)
    limit = max(xs.size + ys.size, 1 << 18)
    out = np.empty(ranks.size)
    order = np.argsort(ranks)
    first = 0
    while first < order.size:  # neighbouring ranks (a median's two middle values) share a band
        last = first
        while last + 1 < order.size and ranks[order[last + 1]] - ranks[order[first]] < limit // 2:
            last += 1
        chosen = order[first : last + 1]
        out[chosen] = _select(xs, ys, ranks[chosen], limit)
        first = last + 1
    return out


def _select(xs: np.ndarray, ys: np.ndarray, ks: np.ndarray, limit: int) -> np.ndarray:
    """Order statistics of ranks ``ks`` (all within ``limit`` of each other)."""
    m, n = xs.size, ys.size
    k_lo, k_hi = int(ks.min()), int(ks.max())
    rng = np.random.default_rng(0)  # chooses pivots only; the result does not depend on it
    # Row i's differences x_i - y_j fall as j rises. The band still holding the wanted ranks is
    # columns [hi_start_i, lo_end_i): j >= lo_end_i lie below it, j < hi_start_i above it.
    lo_end = np.full(m, n, dtype=np.int64)
    hi_start = np.zeros(m, dtype=np.int64)
    while True:
        width = lo_end - hi_start
        cum = np.cumsum(width)
        active = int(cum[-1])
        below = int((n - lo_end).sum())
        if active <= limit:
            live = np.flatnonzero(width)
            w = width[live]
            offsets = np.repeat(hi_start[live] - (np.cumsum(w) - w), w)
            values = np.repeat(xs[live], w) - ys[np.arange(active) + offsets]
            t = np.clip(ks - below, 0, max(active - 1, 0))
            return np.partition(values, np.unique(t))[t]
        draw = np.sort(rng.integers(0, active, size=_SAMPLE))
        row = np.searchsorted(cum, draw, side="right")
        col = hi_start[row] + draw - (cum[row] - width[row])
        sample = np.sort(xs[row] - ys[col])
        spread = 3 * np.sqrt(_SAMPLE)
        i_lo = int(np.floor((k_lo - below) / active * _SAMPLE - spread))
        i_hi = int(np.ceil((k_hi - below) / active * _SAMPLE + spread))
        moved = False
        if i_lo >= 0:
            new_end = _bounds(xs, ys, sample[i_lo], "left")  # <= pivot from here on
            if int((n - new_end).sum()) <= k_lo:
                lo_end, moved = np.minimum(lo_end, new_end), True
        if i_hi < _SAMPLE:
            new_start = _bounds(xs, ys, sample[i_hi], "right")  # < pivot from here on
            if int((n - new_start).sum()) > k_hi:
                hi_start, moved = np.maximum(hi_start, new_start), True
        if not moved:
            limit = active  # the band no longer narrows (heavy ties): finish directly
