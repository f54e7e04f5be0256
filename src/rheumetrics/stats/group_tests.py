"""Comparisons between independent groups.

Mood's median test, the Mann-Whitney (Wilcoxon rank-sum) test, Pearson's chi-square and the
likelihood-ratio test, Fisher's exact test and the (generalized) Cochran-Mantel-Haenszel test.
Where packages disagree the variant is a named parameter and is recorded in
``attrs["conventions"]``; see ``docs/statistics.md`` and ``stats-reference.md`` §4.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import gammaln
from statsmodels.stats.contingency_tables import StratifiedTable

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

__all__ = [
    "chi_square",
    "cmh_test",
    "contingency_table",
    "fisher_exact",
    "mann_whitney",
    "median_test",
]


def _groups_from(
    groups: Sequence[Any] | pd.DataFrame, value: str | None, group: str | None, missing: Missing
) -> tuple[list[np.ndarray], list[Any], int]:
    if isinstance(groups, pd.DataFrame):
        if value is None or group is None:
            raise TypeError("with a DataFrame, give value= and group= column names")
        check_columns(groups, [value, group])
        labels = sorted(groups[group].dropna().unique().tolist())
        named = {
            f"{value}[{group}={lab}]": groups.loc[groups[group] == lab, value] for lab in labels
        }
    else:
        labels = list(range(1, len(groups) + 1))
        named = {f"group {lab}": g for lab, g in zip(labels, groups, strict=True)}
    arrays, dropped = numeric_vectors(named, missing=missing)
    if len(arrays) < 2:
        problems = ProblemCollector("group comparison")
        problems.add("-", group or "groups", labels, "needs at least two groups")
        problems.raise_if_any()
    return arrays, labels, dropped


def median_test(
    *groups: Any,
    data: pd.DataFrame | None = None,
    value: str | None = None,
    group: str | None = None,
    variant: MedianVariant = "pearson",
    correction: bool = False,
    ties: Literal["below", "above", "ignore"] = "below",
    missing: Missing = "raise",
) -> pd.DataFrame:
    """Mood's median test for k >= 2 independent groups (Mood 1950; Conover 1999 §4.3).

    Every value is classified as above or not above the grand median (``ties="below"``: values
    equal to the median count as not above, as in SAS ``NPAR1WAY MEDIAN`` and agricolae) and the
    2 x k table is tested.

    Parameters
    ----------
    *groups : array-likes, one per group (or use ``data``, ``value``, ``group``).
    variant : ``"pearson"``: Pearson chi-square on the 2 x k table (Mood's test as printed by
        agricolae ``Median.test`` and scipy). ``"permutation"``: the permutation (hypergeometric)
        variance, chi-square x (N-1)/N, which is SAS ``NPAR1WAY MEDIAN`` and coin; for two groups
        SAS prints it as Z = sqrt of it ("median two-sample test"). ``"exact"``: Fisher's exact
        test on the 2 x k table.
    correction : Yates correction, only for ``variant="pearson"`` with two groups (scipy's
        default is True; ours is False, as Mood's test is usually stated).
    ties : passed to :func:`scipy.stats.median_test`.

    Returns
    -------
    One row: statistic, df, p, grand_median, n, n_dropped, variant, plus ``above_<g>`` and
    ``n_<g>`` counts per group.
    """
    check_choice("variant", variant, ("pearson", "permutation", "exact"))
    check_choice("ties", ties, ("below", "above", "ignore"))
    arrays, labels, dropped = _groups_from(
        data if data is not None else list(groups), value, group, missing
    )
    use_yates = bool(correction and variant == "pearson" and len(arrays) == 2)
    stat, p, grand_median, table = stats.median_test(*arrays, ties=ties, correction=use_yates)
    n_total = int(table.sum())
    df = len(arrays) - 1
    if variant == "permutation":
        stat = stat * (n_total - 1) / n_total
        p = stats.chi2.sf(stat, df)
    elif variant == "exact":
        stat = np.nan
        p = stats.fisher_exact(table).pvalue
    row: dict[str, Any] = {
        "statistic": float(stat),
        "df": df,
        "p": float(p),
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
            "variant": variant,
            "yates_correction": use_yates,
            "ties": ties,
            "test": "Mood median test",
        },
    )


def mann_whitney(
    x: Any,
    y: Any,
    *,
    alternative: Alternative = "two-sided",
    method: Literal["auto", "exact", "asymptotic"] = "auto",
    continuity: bool = True,
    missing: Missing = "raise",
) -> pd.DataFrame:
    """Mann-Whitney U / Wilcoxon rank-sum test (scipy ``mannwhitneyu``).

    ``statistic`` is U for ``x`` (R's ``W``). ``method="auto"`` is exact for small samples
    without ties, otherwise the normal approximation with tie-corrected variance and, when
    ``continuity`` (R's and scipy's default), the continuity correction. Also returns the
    Hodges-Lehmann shift estimate (median of all x - y differences) and the probability of
    superiority U / (n_x n_y), which is the AUC of x against y.
    """
    check_choice("alternative", alternative, ALTERNATIVES)
    check_choice("method", method, ("auto", "exact", "asymptotic"))
    (xa, ya), dropped = numeric_vectors({"x": x, "y": y}, missing=missing)
    res = stats.mannwhitneyu(
        xa, ya, alternative=alternative, method=method, use_continuity=continuity
    )
    u = float(res.statistic)
    return result_frame(
        {
            "statistic": u,
            "p": float(res.pvalue),
            "n_x": xa.size,
            "n_y": ya.size,
            "n_dropped": dropped,
            "hodges_lehmann": float(np.median(np.subtract.outer(xa, ya))),
            "prob_superiority": u / (xa.size * ya.size),
            "alternative": alternative,
            "method": method,
        },
        {"test": "Mann-Whitney U", "method": method, "continuity": continuity},
    )


def contingency_table(
    data: pd.DataFrame, row: str, column: str, strata: str | None = None
) -> np.ndarray:
    """Cross-tabulate ``row`` x ``column`` (x ``strata``) into a count array (levels sorted)."""
    cols = [row, column, *([strata] if strata else [])]
    check_columns(data, cols)
    sub = data[cols].dropna()
    levels = [sorted(sub[c].unique().tolist()) for c in cols]
    counts = sub.groupby(cols, observed=True).size()
    full = pd.MultiIndex.from_product(levels, names=cols) if len(cols) > 1 else levels[0]
    return counts.reindex(full, fill_value=0).to_numpy().reshape([len(lv) for lv in levels])


def _as_table(table: Any, ndim: int | tuple[int, ...]) -> np.ndarray:
    arr = np.asarray(table)
    dims = (ndim,) if isinstance(ndim, int) else ndim
    problems = ProblemCollector("invalid contingency table")
    if arr.ndim not in dims:
        problems.add("-", "table", arr.shape, f"must have {' or '.join(map(str, dims))} dimensions")
    elif not np.issubdtype(arr.dtype, np.number) or np.any(arr < 0) or np.any(arr != np.round(arr)):
        problems.add("-", "table", arr.tolist(), "counts must be non-negative integers")
    problems.raise_if_any()
    return arr.astype(np.int64)


def chi_square(table: Any, *, yates: bool = True) -> pd.DataFrame:
    """Pearson chi-square test of independence for an r x c table, with effect sizes.

    ``yates`` applies Yates' continuity correction to 2 x 2 tables only (R ``chisq.test`` and
    scipy default True; SAS prints the uncorrected statistic first). The likelihood-ratio G
    test, Cramér's V, the contingency coefficient and the smallest expected count are returned
    alongside (stats-reference.md §4d).
    """
    arr = _as_table(table, 2)
    chi2, p, dof, expected = stats.chi2_contingency(arr, correction=yates)
    g2, p_g, _, _ = stats.chi2_contingency(arr, correction=False, lambda_="log-likelihood")
    chi2_plain = stats.chi2_contingency(arr, correction=False)[0]
    n = arr.sum()
    k = min(arr.shape) - 1
    applied = bool(yates and arr.shape == (2, 2))
    return result_frame(
        {
            "statistic": float(chi2),
            "df": int(dof),
            "p": float(p),
            "lr_statistic": float(g2),
            "lr_p": float(p_g),
            "cramers_v": float(np.sqrt(chi2_plain / (n * k))) if k > 0 else np.nan,
            "contingency_coefficient": float(np.sqrt(chi2_plain / (chi2_plain + n))),
            "min_expected": float(expected.min()),
            "n": int(n),
            "yates": applied,
        },
        {
            "test": "Pearson chi-square",
            "yates_correction": applied,
            "effect_sizes_from": "uncorrected chi-square",
        },
    )


def _fisher_2xc_p(arr: np.ndarray, max_tables: int) -> float | None:
    """Exact two-sided Fisher p for a 2 x c table by enumerating every first row (None if too many)."""
    cols = arr.sum(axis=0)
    r1 = int(arr[0].sum())
    partial = np.zeros((1, 0), dtype=np.int64)
    for j, cap in enumerate(cols):
        left = int(cols[j + 1 :].sum())
        cand = np.arange(cap + 1)
        partial = np.hstack(
            [np.repeat(partial, cand.size, axis=0), np.tile(cand, partial.shape[0])[:, None]]
        )
        s = partial.sum(axis=1)
        partial = partial[(s <= r1) & (s + left >= r1)]
        if partial.shape[0] > max_tables:
            return None
    second = cols - partial
    log_p = -(gammaln(partial + 1) + gammaln(second + 1)).sum(axis=1)
    log_p_obs = -gammaln(arr + 1).sum()
    weights = np.exp(log_p - log_p.max())
    # R's relative tolerance 1e-7 keeps tables exactly as probable as the observed one
    return float(weights[log_p <= log_p_obs + 1e-7].sum() / weights.sum())


def fisher_exact(
    table: Any,
    *,
    alternative: Alternative = "two-sided",
    confidence: float = 0.95,
    max_tables: int = 5_000_000,
    n_resamples: int = 100_000,
    rng: np.random.Generator | int | None = None,
) -> pd.DataFrame:
    """Fisher's exact test for 2 x 2 and larger tables.

    For 2 x 2 tables (scipy) the odds ratio is the conditional maximum-likelihood estimate
    with its exact conditional CI, as R ``fisher.test`` prints; the two-sided p sums the tables
    no more probable than the observed one (R's and scipy's definition).
    Tables with two rows or two columns are enumerated exactly (up to ``max_tables`` tables);
    larger r x c tables, which need the network algorithm of Mehta & Patel (1983) for an
    exact answer, get a Monte Carlo p from ``n_resamples`` random tables with the observed
    margins (scipy), and ``method`` says so. r x c tables accept only ``"two-sided"``.
    """
    check_choice("alternative", alternative, ALTERNATIVES)
    arr = _as_table(table, 2)
    row: dict[str, Any] = {"odds_ratio": np.nan, "ci_low": np.nan, "ci_high": np.nan}
    if arr.shape == (2, 2):
        p: float | None = float(stats.fisher_exact(arr, alternative=alternative).pvalue)
        res = stats.contingency.odds_ratio(arr, kind="conditional")
        ci = res.confidence_interval(confidence_level=confidence, alternative=alternative)
        row = {
            "odds_ratio": float(res.statistic),
            "ci_low": float(ci.low),
            "ci_high": float(ci.high),
        }
        method = "exact"
    else:
        check_choice("alternative (r x c table)", alternative, ("two-sided",))
        p = None
        if min(arr.shape) == 2:
            p = _fisher_2xc_p(arr if arr.shape[0] == 2 else arr.T, max_tables)
        method = "exact"
        if p is None:
            mc = stats.MonteCarloMethod(n_resamples=n_resamples, rng=np.random.default_rng(rng))
            p = float(stats.fisher_exact(arr, method=mc).pvalue)
            method = f"monte_carlo({n_resamples})"
    return result_frame(
        {"p": p, **row, "n": int(arr.sum()), "alternative": alternative, "method": method},
        {
            "test": "Fisher exact",
            "odds_ratio": "conditional MLE",
            "two_sided": "sum of P <= P(observed)",
            "method": method,
        },
    )


def cmh_test(table: Any, *, correction: bool = True, confidence: float = 0.95) -> pd.DataFrame:
    """Cochran-Mantel-Haenszel test of conditional independence in an I x J x K table.

    The last axis holds the K strata. The general-association statistic of Landis, Heyman &
    Koch (1978) is computed for any I x J (df = (I-1)(J-1)), as R ``mantelhaen.test``. For
    2 x 2 x K tables ``correction`` applies the continuity correction (R's default) and the
    Mantel-Haenszel common odds ratio is returned with the Robins-Breslow-Greenland CI
    (statsmodels ``StratifiedTable``).
    """
    check_range("confidence", confidence, 0.0, 1.0)
    arr = _as_table(table, 3).astype(float)
    n_i, n_j, _ = arr.shape
    keep = arr.sum(axis=(0, 1)) > 1  # strata with fewer than two subjects carry no information
    arr = arr[:, :, keep]
    diff = np.zeros((n_i - 1) * (n_j - 1))
    cov = np.zeros((diff.size, diff.size))
    for k in range(arr.shape[2]):
        t = arr[:, :, k]
        n = t.sum()
        rows, cols = t.sum(axis=1), t.sum(axis=0)
        obs = t[:-1, :-1].ravel()
        exp = np.outer(rows[:-1], cols[:-1]).ravel() / n
        v_rows = np.diag(rows[:-1]) * n - np.outer(rows[:-1], rows[:-1])
        v_cols = np.diag(cols[:-1]) * n - np.outer(cols[:-1], cols[:-1])
        diff += obs - exp
        cov += np.kron(v_rows, v_cols) / (n * n * (n - 1))
    is_2x2 = arr.shape[:2] == (2, 2)
    row: dict[str, Any] = {}
    if is_2x2:
        delta = abs(diff[0]) - (0.5 if correction else 0.0)
        stat = max(delta, 0.0) ** 2 / cov[0, 0]
        st = StratifiedTable([arr[:, :, k] for k in range(arr.shape[2])])
        low, high = st.oddsratio_pooled_confint(alpha=1 - confidence)
        row = {
            "common_odds_ratio": float(st.oddsratio_pooled),
            "ci_low": float(low),
            "ci_high": float(high),
        }
    else:
        stat = float(diff @ np.linalg.solve(cov, diff))
    df = (n_i - 1) * (n_j - 1)
    return result_frame(
        {
            "statistic": float(stat),
            "df": df,
            "p": float(stats.chi2.sf(stat, df)),
            **row,
            "n": int(arr.sum()),
        },
        {
            "test": "Cochran-Mantel-Haenszel general association",
            "continuity_correction": bool(correction and is_2x2),
            "odds_ratio_ci": "Robins-Breslow-Greenland" if is_2x2 else None,
        },
    )
