"""Paired comparisons: the Wilcoxon signed-rank test with a stated zero-handling rule.

Zero differences are handled as Wilcoxon (1945) did, by dropping them before ranking
(``zero_method="wilcox"``, R ``wilcox.test`` and scipy default), or as Pratt (1959) proposed, by
ranking them with the others and then giving their ranks no sign (``"pratt"``, coin's
default). Ties get mid-ranks. The exact p-value is the permutation distribution of T+ over
the 2^m equally likely sign patterns of the m non-zero differences *given the observed
mid-ranks*, computed by dynamic programming over doubled ranks, so it stays exact with ties
and zeros (this is coin's exact ``wilcoxsign_test``; the classical table is exact only
without ties; Hothorn et al. 2006, doi:10.1198/000313006X118430).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from rheumetrics.stats._common import (
    ALTERNATIVES,
    Alternative,
    Missing,
    check_choice,
    numeric_vectors,
    result_frame,
)

ZeroMethod = Literal["wilcox", "pratt"]

#: ``method="auto"`` is exact up to this many non-zero differences, asymptotic beyond.
EXACT_MAX_N = 400

__all__ = ["EXACT_MAX_N", "wilcoxon_signed_rank"]


def _signed_rank_null(ranks2: np.ndarray) -> np.ndarray:
    """Null distribution of 2*T+ (doubled mid-ranks are integers) over all sign patterns."""
    dist = np.zeros(int(ranks2.sum()) + 1)
    dist[0] = 1.0
    top = 0
    for r in ranks2.astype(np.int64):
        shifted = np.zeros_like(dist)
        shifted[r : top + r + 1] = dist[: top + 1]
        dist = 0.5 * (dist + shifted)
        top += r
    return dist


def wilcoxon_signed_rank(
    x: Any,
    y: Any = None,
    *,
    zero_method: ZeroMethod = "wilcox",
    alternative: Alternative = "two-sided",
    method: Literal["auto", "exact", "asymptotic"] = "auto",
    correction: bool = False,
    missing: Missing = "raise",
) -> pd.DataFrame:
    """Wilcoxon signed-rank test of ``x - y`` (or of ``x`` alone) against zero.

    Parameters
    ----------
    x, y : paired samples (``y`` omitted: ``x`` holds the differences).
    zero_method : ``"wilcox"`` (drop zeros; default, as R and scipy) or ``"pratt"`` (rank zeros).
    alternative : ``"greater"`` means x - y tends to be positive.
    method : ``"exact"`` (conditional permutation distribution, see module docstring),
        ``"asymptotic"`` (normal approximation with tie-corrected variance; for Pratt the
        Cureton (1967) mean and variance), or ``"auto"``: exact when the number of non-zero
        differences is at most :data:`EXACT_MAX_N`.
    correction : continuity correction of the normal approximation (R's default is True,
        scipy's False; ours False).

    Returns
    -------
    One row: stat (T+, R's ``V``), p, z (asymptotic only), n, n_zero, n_dropped,
    median_difference, method, zero_method, alternative.

    References
    ----------
    Wilcoxon F (1945). Biometrics Bulletin 1:80-83, doi:10.2307/3001968. Pratt JW (1959).
    J Am Stat Assoc 54:655-667, doi:10.1080/01621459.1959.10501526.

    Examples
    --------
    A single arm's changes, zeros ranked as Pratt proposed (coin ``wilcoxsign_test(d ~ 0,
    zero.method = "Pratt", distribution = "exact")``: p = 0.078125):

    >>> d = [-2, 0, 1.5, 3, 3, 4.5, -1, 2, 0, 5]
    >>> res = wilcoxon_signed_rank(d, zero_method="pratt").iloc[0]
    >>> float(res["stat"]), float(res["p"]), res["method"]
    (43.5, 0.078125, 'exact')
    """
    check_choice("zero_method", zero_method, ("wilcox", "pratt"))
    check_choice("alternative", alternative, ALTERNATIVES)
    check_choice("method", method, ("auto", "exact", "asymptotic"))
    if y is None:
        (d,), dropped = numeric_vectors({"difference": x}, missing=missing)
    else:
        (xa, ya), dropped = numeric_vectors({"x": x, "y": y}, missing=missing, paired=True)
        d = xa - ya
    zero = d == 0
    ranked = d[~zero] if zero_method == "wilcox" else d
    ranks = stats.rankdata(np.abs(ranked))
    signs = np.sign(ranked)
    nonzero = signs != 0
    t_plus = float(ranks[signs > 0].sum())
    r = ranks[nonzero]
    m = int(r.size)
    mean = r.sum() / 2.0
    var = float((r**2).sum() / 4.0)  # permutation variance of T+, exact with ties and zeros
    use = ("exact" if m <= EXACT_MAX_N else "asymptotic") if method == "auto" else method
    z = np.nan
    if m == 0:
        p = 1.0
    elif use == "exact":
        dist = _signed_rank_null(np.round(2 * r).astype(np.int64))
        t2 = round(2 * t_plus)
        upper = dist[t2:].sum()
        lower = dist[: t2 + 1].sum()
        if alternative == "greater":
            p = upper
        elif alternative == "less":
            p = lower
        else:
            values = np.arange(dist.size)
            p = dist[np.abs(values - 2 * mean) >= abs(t2 - 2 * mean) - 1e-9].sum()
        p = float(min(p, 1.0))
    else:
        diff = t_plus - mean
        if correction:
            diff -= 0.5 * (
                np.sign(diff)
                if alternative == "two-sided"
                else (1 if alternative == "greater" else -1)
            )
        z = diff / np.sqrt(var)
        p = float(
            {
                "greater": stats.norm.sf(z),
                "less": stats.norm.cdf(z),
                "two-sided": 2 * stats.norm.sf(abs(z)),
            }[alternative]
        )
    return result_frame(
        {
            "stat": t_plus,
            "p": p,
            "z": float(z),
            "n": int(d.size),
            "n_zero": int(zero.sum()),
            "n_dropped": dropped,
            "median_difference": float(np.median(d)),
            "method": "exact" if use == "exact" else "normal approximation",
            "zero_method": zero_method,
            "alternative": alternative,
        },
        {
            "test": "Wilcoxon signed-rank",
            "zero_method": zero_method,
            "method": use,
            "ties": "mid-ranks; exact distribution conditional on them",
            "continuity_correction": bool(correction and use == "asymptotic"),
        },
    )
