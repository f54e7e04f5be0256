"""Comparisons of a numeric variable between independent groups: median and rank-sum tests.

Mood's k-sample median test (asymptotic or exact by the network algorithm) and the
Mann-Whitney (Wilcoxon rank-sum) test with the Hodges-Lehmann shift and its CI. Where
packages disagree the variant is a named parameter, recorded in ``attrs["conventions"]``.
Tables of counts are in :mod:`rheumetrics.stats.contingency`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from rheumetrics.errors import ProblemCollector
from rheumetrics.stats._common import (
    ALTERNATIVES,
    Alternative,
    Missing,
    check_choice,
    check_columns,
    check_range,
    numeric_vectors,
    result_frame,
)

MedianVariant = Literal["pearson", "permutation", "exact"]
ExactOrdering = Literal["probability", "chi-square"]

#: ``method="auto"`` of :func:`mann_whitney` is exact below this size (both samples, no ties).
EXACT_MAX_N = 50

__all__ = ["EXACT_MAX_N", "hodges_lehmann", "mann_whitney", "median_test"]


def _groups_from(
    groups: Sequence[Any] | pd.DataFrame, value: str | None, group: str | None, missing: Missing
) -> tuple[list[np.ndarray], list[Any], int]:
    if isinstance(groups, pd.DataFrame):
        if value is None or group is None:
            raise TypeError("with a DataFrame, give value= and group= column names")
        check_columns(groups, [value, group])
        codes, labels = pd.factorize(groups[group], sort=True)
        values = groups[value]
        named = {f"{value}[{group}={lab}]": values[codes == i] for i, lab in enumerate(labels)}
        labels = list(labels)
    else:
        labels = list(range(1, len(groups) + 1))
        named = {f"group {lab}": g for lab, g in zip(labels, groups, strict=True)}
    arrays, dropped = numeric_vectors(named, missing=missing)
    if len(arrays) < 2:
        problems = ProblemCollector("group comparison")
        problems.add("-", group or "groups", labels, "needs at least two groups")
        problems.raise_if_any()
    return arrays, labels, dropped


def _median_exact_p(above: np.ndarray, sizes: np.ndarray) -> float:
    """Exact P(X^2 >= observed) over all 2 x k tables with the observed margins."""
    from rheumetrics.stats.exact_tables import network_p

    total, r1 = int(sizes.sum()), int(above.sum())
    r2 = total - r1
    scale = float(r1) * r2

    def share(j: int, cand: np.ndarray) -> np.ndarray:
        return np.asarray((total * cand[:, 0] - sizes[j] * r1) ** 2 / (sizes[j] * scale))

    table = np.vstack([above, sizes - above])
    return network_p(table, share, tolerance=1e-7 * max(1.0, r1))


def _median_scores_test(arrays: list[np.ndarray], labels: list[Any], dropped: int) -> pd.DataFrame:
    """SAS NPAR1WAY median scores with tied values averaged (see :func:`median_test`)."""
    from scipy import stats

    x = np.concatenate(arrays)
    n = x.size
    ordinary = (np.arange(1, n + 1) > (n + 1) / 2).astype(float)
    values, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    sorted_scores = np.bincount(np.searchsorted(values, np.sort(x)), weights=ordinary)
    scores = (sorted_scores / counts)[inverse]
    spread = float(((scores - scores.mean()) ** 2).sum())
    edges = np.cumsum([0, *(a.size for a in arrays)])
    sums = np.array([scores[a:b].sum() for a, b in itertools.pairwise(edges)])
    sizes = np.diff(edges).astype(float)
    if spread > 0:
        stat = float((n - 1) * (sizes * (sums / sizes - scores.mean()) ** 2).sum() / spread)
        p = float(stats.chi2.sf(stat, len(arrays) - 1))
    else:  # every score equal: no information
        stat, p = 0.0, 1.0
    row: dict[str, Any] = {"stat": stat, "df": len(arrays) - 1, "p": p,
                           "method": "chi-square approximation", "grand_median": float(np.median(x)),
                           "n": n, "n_dropped": dropped, "variant": "permutation"}  # fmt: skip
    for lab, total, size in zip(labels, sums, sizes, strict=True):
        row[f"above_{lab}"] = float(total)
        row[f"n_{lab}"] = int(size)
    return result_frame(row, {"test": "Mood median test", "variant": "permutation",
                              "method": "chi-square approximation", "yates_correction": False,
                              "ties": "mean", "exact_ordering": None})  # fmt: skip


def median_test(
    *groups: Any,
    data: pd.DataFrame | None = None,
    value: str | None = None,
    group: str | None = None,
    variant: MedianVariant = "pearson",
    exact_ordering: ExactOrdering = "probability",
    correction: bool = False,
    ties: Literal["below", "above", "ignore", "mean"] = "below",
    missing: Missing = "raise",
) -> pd.DataFrame:
    """Mood's median test for k >= 2 independent groups (Mood 1950; Conover 1999 §4.3).

    Every value is classified as above or not above the grand median (``ties="below"``: values
    equal to the median count as not above, as in SAS ``NPAR1WAY MEDIAN`` and agricolae) and the
    2 x k table is tested.

    Parameters
    ----------
    *groups : array-likes, one per group (or use ``data``, ``value``, ``group``).
    variant : ``"pearson"``: Pearson chi-square on the 2 x k table, chi-square p (agricolae
        ``Median.test``, scipy). ``"permutation"``: the permutation variance, chi-square x
        (N-1)/N, chi-square p (SAS ``NPAR1WAY MEDIAN``, coin asymptotic). ``"exact"``: the exact
        conditional p over every 2 x k table with the observed margins (multivariate
        hypergeometric), enumerated by the network algorithm of Mehta & Patel (1983,
        doi:10.1080/01621459.1983.10477989); never a resample.
    exact_ordering : which tables count as at least as extreme for ``variant="exact"``:
        ``"probability"`` (default): no more probable than the observed one, i.e. Fisher's
        exact test of the 2 x k table (Freeman & Halton 1951, doi:10.1093/biomet/38.1-2.141;
        R ``fisher.test``); ``"chi-square"``: Pearson chi-square at least the observed one
        (StatXact, SAS ``EXACT MEDIAN``).
    correction : Yates correction, only for ``variant="pearson"`` with two groups.
    ties : where values equal to the grand median go (:func:`scipy.stats.median_test`);
        ``"mean"`` (only with ``variant="permutation"``): the median scores of SAS ``NPAR1WAY
        MEDIAN`` exactly, 1 for sorted positions above (n + 1) / 2 and 0 otherwise, averaged
        over each run of tied values, tested by the linear rank statistic with its permutation
        variance (SAS/STAT User's Guide, NPAR1WAY "Tied Values" and "Median Scores"); it equals
        ``"below"`` unless a run of ties straddles the median. ``above_<g>`` is then each
        group's sum of scores.

    Returns
    -------
    One row: stat (Pearson or permutation chi-square), df, p, method, grand_median, n,
    n_dropped, variant, plus ``above_<g>`` and ``n_<g>`` counts per group.

    Examples
    --------
    >>> corn = [[83, 91, 94, 89, 89, 96, 91, 92, 90], [91, 90, 81, 83, 84, 83, 88, 91, 89, 84],
    ...         [101, 100, 91, 93, 96, 95, 94], [78, 82, 81, 77, 79, 81, 80, 81]]
    >>> res = median_test(*corn, variant="exact").iloc[0]
    >>> round(float(res["stat"]), 2), f"{res['p']:.3g}", res["method"]
    (17.54, '0.000163', 'exact')
    """
    from scipy import stats

    check_choice("variant", variant, ("pearson", "permutation", "exact"))
    check_choice("exact_ordering", exact_ordering, ("probability", "chi-square"))
    check_choice("ties", ties, ("below", "above", "ignore", "mean"))
    if ties == "mean" and variant != "permutation":
        check_choice("variant (with ties='mean')", variant, ("permutation",))
    arrays, labels, dropped = _groups_from(
        data if data is not None else list(groups), value, group, missing
    )
    if ties == "mean":
        return _median_scores_test(arrays, labels, dropped)
    use_yates = bool(correction and variant == "pearson" and len(arrays) == 2)
    stat, p, grand_median, table = stats.median_test(*arrays, ties=ties, correction=use_yates)
    n_total = int(table.sum())
    df = len(arrays) - 1
    method = "chi-square approximation"
    if variant == "permutation":
        stat = stat * (n_total - 1) / n_total
        p = stats.chi2.sf(stat, df)
    elif variant == "exact" and exact_ordering == "chi-square":
        p = _median_exact_p(table[0], table.sum(axis=0))
        method = "exact"
    elif variant == "exact":
        from rheumetrics.stats.contingency import fisher_exact

        p = float(fisher_exact(table)["p"].iloc[0])
        method = "exact"
    row: dict[str, Any] = {
        "stat": float(stat),
        "df": df,
        "p": float(p),
        "method": method,
        "grand_median": float(grand_median),
        "n": n_total,
        "n_dropped": dropped,
        "variant": variant,
    }
    for lab, above, size in zip(labels, table[0], table.sum(axis=0), strict=True):
        row[f"above_{lab}"] = int(above)
        row[f"n_{lab}"] = int(size)
    return result_frame(
        row,
        {
            "test": "Mood median test",
            "variant": variant,
            "method": method,
            "yates_correction": use_yates,
            "ties": ties,
            "exact_ordering": exact_ordering if variant == "exact" else None,
        },
    )


def _wilcoxon_counts(m: int, n: int) -> np.ndarray:
    """Number of arrangements giving each U = 0..mn (Gaussian binomial coefficients)."""
    poly = np.zeros(m * n + 1)
    poly[0] = 1.0
    for i in range(1, m + 1):
        poly[n + i :] -= poly[: m * n + 1 - n - i].copy()  # times (1 - q^(n+i))
        for u in range(i, m * n + 1):  # divided by (1 - q^i)
            poly[u] += poly[u - i]
    return poly


def hodges_lehmann(
    x: Any,
    y: Any,
    *,
    confidence: float = 0.95,
    exact: bool | None = None,
    missing: Missing = "raise",
) -> pd.DataFrame:
    """Hodges-Lehmann estimate of the shift x - y with its distribution-free CI.

    The estimate is the median of all differences x_i - y_j (Hodges & Lehmann 1963,
    doi:10.1214/aoms/1177704172); the CI runs between the order statistics of the differences
    at the ranks given by the null distribution of the Mann-Whitney U (Bauer 1972,
    doi:10.1080/01621459.1972.10481279). ``exact`` (default: both samples below
    :data:`EXACT_MAX_N` and no ties) uses the exact U distribution, as R ``wilcox.test(...,
    conf.int=TRUE)``; otherwise the normal approximation of Hollander & Wolfe (1999, eq. 4.41)
    rounds mn/2 - z sqrt(mn(m+n+1)/12) (R instead inverts the continuity-corrected normal test
    numerically, which can differ in the last digits). Computed in O(n log n) time and O(n)
    memory (:mod:`rheumetrics.stats.hodges_lehmann`).

    Returns
    -------
    One row: estimate, ci_low, ci_high, confidence, method, n_x, n_y.

    Examples
    --------
    >>> x = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
    >>> y = [1.15, 0.88, 0.90, 0.74, 1.21]
    >>> res = hodges_lehmann(x, y)[["estimate", "ci_low", "ci_high"]].iloc[0]
    >>> [round(float(v), 3) for v in res]  # R wilcox.test: 0.305, -0.150, 0.760
    [0.305, -0.15, 0.76]
    """
    from scipy import stats

    from rheumetrics.stats.hodges_lehmann import difference_order_statistics

    check_range("confidence", confidence, 0.0, 1.0)
    (xa, ya), _ = numeric_vectors({"x": x, "y": y}, missing=missing)
    m, n = xa.size, ya.size
    total = m * n
    if exact is None:
        exact = m < EXACT_MAX_N and n < EXACT_MAX_N and np.unique(np.r_[xa, ya]).size == m + n
    half = (1 - confidence) / 2
    if exact:
        cdf = np.cumsum(_wilcoxon_counts(min(m, n), max(m, n)))
        cdf /= cdf[-1]
        qu = max(int(np.searchsorted(cdf, half * (1 - 64 * np.finfo(float).eps))), 1)
    else:
        sd = np.sqrt(total * (m + n + 1) / 12)
        qu = max(int(np.floor(total / 2 - stats.norm.ppf(1 - half) * sd + 0.5)), 1)
    mid = np.array([(total - 1) // 2, total // 2])
    limits = np.array([qu - 1, total - qu])
    values = difference_order_statistics(xa, ya, np.r_[mid, limits])
    return result_frame(
        {
            "estimate": float(values[:2].mean()),
            "ci_low": float(values[2]),
            "ci_high": float(values[3]),
            "confidence": confidence,
            "method": "exact" if exact else "normal approximation",
            "n_x": m,
            "n_y": n,
        },
        {"estimate": "Hodges-Lehmann median of differences", "ci": "Bauer (1972) order statistics"},
    )


def _shift_columns(
    xa: np.ndarray, ya: np.ndarray, wanted: bool, confidence: float, exact: bool
) -> dict[str, float]:
    if not wanted:
        return {}
    hl = hodges_lehmann(xa, ya, confidence=confidence, exact=exact).iloc[0]
    return {
        "hodges_lehmann": float(hl["estimate"]),
        "hl_ci_low": float(hl["ci_low"]),
        "hl_ci_high": float(hl["ci_high"]),
    }


def _u_statistic(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """U of x (mid-ranks for ties) and the tie term sum(t^3 - t), from the two samples."""
    xs, ys = np.sort(x, kind="stable"), np.sort(y, kind="stable")
    below = np.searchsorted(ys, xs, side="left")
    equal = np.searchsorted(ys, xs, side="right") - below
    u = float(below.sum() + 0.5 * equal.sum())
    pooled = np.sort(np.concatenate([xs, ys]), kind="stable")  # merges two sorted runs
    edges = np.flatnonzero(np.diff(pooled)) + 1
    runs = np.diff(np.concatenate([[0], edges, [pooled.size]])).astype(float)
    return u, float((runs**3 - runs).sum())


def mann_whitney(
    x: Any,
    y: Any,
    *,
    alternative: Alternative = "two-sided",
    method: Literal["auto", "exact", "asymptotic"] = "auto",
    continuity: bool = True,
    conf_int: bool = False,
    confidence: float = 0.95,
    missing: Missing = "raise",
) -> pd.DataFrame:
    """Mann-Whitney U / Wilcoxon rank-sum test (Mann & Whitney 1947, doi:10.1214/aoms/1177730491).

    ``stat`` is U for ``x`` (R's ``W``). ``method="auto"`` is exact when both samples are
    smaller than :data:`EXACT_MAX_N` and there are no ties (R's rule), otherwise the normal
    approximation with tie-corrected variance and, when ``continuity`` (R's and scipy's
    default), the continuity correction. Also returns the probability of superiority
    U / (n_x n_y), the AUC of x against y, and, with ``conf_int=True`` (R's argument), the
    Hodges-Lehmann shift estimate with its CI at ``confidence`` (:func:`hodges_lehmann`;
    ``hodges_lehmann``, ``hl_ci_low``, ``hl_ci_high``). Time O(n log n), memory O(n).

    Examples
    --------
    >>> x = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
    >>> y = [1.15, 0.88, 0.90, 0.74, 1.21]
    >>> res = mann_whitney(x, y, alternative="greater").iloc[0]  # R: W = 35, p-value = 0.1272
    >>> float(res["stat"]), round(float(res["p"]), 4), res["method"]
    (35.0, 0.1272, 'exact')
    """
    from scipy import stats

    check_choice("alternative", alternative, ALTERNATIVES)
    check_choice("method", method, ("auto", "exact", "asymptotic"))
    check_range("confidence", confidence, 0.0, 1.0)
    (xa, ya), dropped = numeric_vectors({"x": x, "y": y}, missing=missing, min_n=1)
    m, n = xa.size, ya.size
    u, tie_term = _u_statistic(xa, ya)
    use = method
    if method == "auto":
        use = "exact" if m < EXACT_MAX_N and n < EXACT_MAX_N and tie_term == 0 else "asymptotic"
    z = np.nan
    if use == "exact":
        p = float(stats.mannwhitneyu(xa, ya, alternative=alternative, method="exact").pvalue)
    else:
        big_n = m + n
        var = m * n / 12 * (big_n + 1 - tie_term / (big_n * (big_n - 1)))
        diff = u - m * n / 2
        shift = {"two-sided": np.sign(diff) * 0.5, "greater": 0.5, "less": -0.5}[alternative]
        z = (diff - (shift if continuity else 0.0)) / np.sqrt(var) if var > 0 else np.nan
        p = {
            "greater": stats.norm.sf(z),
            "less": stats.norm.cdf(z),
            "two-sided": min(1.0, 2 * stats.norm.sf(abs(z))),
        }[alternative]
    label = "exact" if use == "exact" else "normal approximation"
    return result_frame(
        {
            "stat": u,
            "p": float(p),
            "z": float(z),
            "method": label,
            "n_x": m,
            "n_y": n,
            "n_dropped": dropped,
            "prob_superiority": u / (m * n),
            "alternative": alternative,
            **_shift_columns(xa, ya, conf_int, confidence, use == "exact"),
        },
        {
            "test": "Mann-Whitney U",
            "method": label,
            "continuity": bool(continuity and use != "exact"),
            "confidence": confidence,
        },
    )
