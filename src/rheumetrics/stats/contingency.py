"""Tests on tables of counts: chi-square, Fisher's exact test, Cochran-Mantel-Haenszel, McNemar.

Exact tests are exact: Fisher's test of r x c tables and the exact median test enumerate
every table with the observed margins by the network algorithm
(:mod:`rheumetrics.stats.exact_tables`); a Monte Carlo p is given only when asked for, seeded
and labelled in the ``method`` column. Where packages disagree the variant is a named
parameter recorded in ``attrs["conventions"]``.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from rheumetrics.errors import ProblemCollector
from rheumetrics.stats._common import (
    ALTERNATIVES,
    Alternative,
    check_choice,
    check_columns,
    check_range,
    result_frame,
    seed_label,
)

__all__ = ["chi_square", "cmh_test", "contingency_table", "fisher_exact", "mcnemar_test"]


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
    # a True among counts is not a count of 1: look at the cells before NumPy casts them
    cells = np.asarray(table, dtype=object)
    has_bool = any(isinstance(v, bool | np.bool_) for v in cells.ravel())
    if arr.ndim not in dims:
        problems.add("-", "table", arr.shape, f"must have {' or '.join(map(str, dims))} dimensions")
    elif (
        has_bool
        or arr.dtype.kind not in "iuf"
        or not np.all(np.isfinite(arr))
        or np.any(arr < 0)
        or np.any(arr != np.round(arr))
    ):
        problems.add("-", "table", cells.tolist(), "counts must be non-negative integers")
    problems.raise_if_any()
    return arr.astype(np.int64)


def chi_square(table: Any, *, yates: bool = True) -> pd.DataFrame:
    """Pearson chi-square test of independence for an r x c table, with effect sizes.

    ``yates`` applies Yates' continuity correction to 2 x 2 tables only (R ``chisq.test`` and
    scipy default True; SAS prints the uncorrected statistic first). The likelihood-ratio G
    test, Cramér's V, the contingency coefficient and the smallest expected count are returned
    alongside (Agresti 2013, *Categorical Data Analysis*, 3rd ed., §3.2).

    Examples
    --------
    >>> res = chi_square([[762, 327, 468], [484, 239, 477]]).iloc[0]  # Agresti, party x gender
    >>> round(float(res["stat"]), 2), int(res["df"]), f"{res['p']:.4g}"
    (30.07, 2, '2.954e-07')
    """
    from scipy import stats

    arr = _as_table(table, 2)
    chi2, p, dof, expected = stats.chi2_contingency(arr, correction=yates)
    g2, p_g, _, _ = stats.chi2_contingency(arr, correction=False, lambda_="log-likelihood")
    chi2_plain = stats.chi2_contingency(arr, correction=False)[0]
    n = arr.sum()
    k = min(arr.shape) - 1
    applied = bool(yates and arr.shape == (2, 2))
    return result_frame(
        {
            "stat": float(chi2),
            "df": int(dof),
            "p": float(p),
            "method": "chi-square approximation",
            "lr_stat": float(g2),
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


def _p_from_tail(pmf: np.ndarray, observed: int, alternative: str, rel: float = 1e-7) -> float:
    """p of an exact discrete test (support 0..len-1): R's two-sided rule sums P <= P(obs)."""
    if alternative == "less":
        return float(min(1.0, pmf[: observed + 1].sum()))
    if alternative == "greater":
        return float(min(1.0, pmf[observed:].sum()))
    return float(min(1.0, pmf[pmf <= pmf[observed] * (1 + rel)].sum()))


def fisher_exact(
    table: Any,
    *,
    alternative: Alternative = "two-sided",
    confidence: float = 0.95,
    method: Literal["exact", "monte_carlo"] = "exact",
    max_nodes: int = 2_000_000,
    n_resamples: int = 100_000,
    rng: np.random.Generator | int | None = None,
) -> pd.DataFrame:
    """Fisher's exact test for 2 x 2 and r x c tables (Fisher 1935; Freeman & Halton 1951).

    For 2 x 2 tables (scipy) the odds ratio is the conditional maximum-likelihood estimate
    with its exact conditional CI, as R ``fisher.test`` prints. The two-sided p sums the
    tables no more probable than the observed one (relative tolerance 1e-7, as R). Larger
    tables are enumerated exactly by the network algorithm of Mehta & Patel (1983,
    doi:10.1080/01621459.1983.10477989; see :mod:`rheumetrics.stats.exact_tables`), as fast as
    R's FEXACT on a 4 x 5 table with n = 126; a table needing more than ``max_nodes`` network
    nodes at once is refused with a message (R's ``workspace`` limit plays the same role).
    ``method="monte_carlo"`` instead draws ``n_resamples`` random tables with the observed
    margins (scipy; pass ``rng``, a seed or Generator, for reproducible results); the
    ``method`` column then says so, with the seed.

    Examples
    --------
    >>> job = [[1, 3, 10, 6], [2, 3, 10, 7], [1, 6, 14, 12], [0, 1, 9, 11]]  # R ?fisher.test
    >>> f"{fisher_exact(job)['p'].iloc[0]:.4f}"
    '0.7827'
    """
    from scipy import stats

    check_choice("alternative", alternative, ALTERNATIVES)
    check_choice("method", method, ("exact", "monte_carlo"))
    check_range("confidence", confidence, 0.0, 1.0)
    arr = _as_table(table, 2)
    row: dict[str, Any] = {"odds_ratio": np.nan, "ci_low": np.nan, "ci_high": np.nan}
    label = "exact"
    if arr.shape == (2, 2) and method == "exact":
        p = float(stats.fisher_exact(arr, alternative=alternative).pvalue)
        res = stats.contingency.odds_ratio(arr, kind="conditional")
        ci = res.confidence_interval(confidence_level=confidence, alternative=alternative)
        row = {
            "odds_ratio": float(res.statistic),
            "ci_low": float(ci.low),
            "ci_high": float(ci.high),
        }
    else:
        if arr.shape != (2, 2):
            check_choice("alternative (r x c table)", alternative, ("two-sided",))
        if method == "exact":
            from rheumetrics.stats.exact_tables import fisher_statistic, network_p

            arr = arr[arr.sum(axis=1) > 0][:, arr.sum(axis=0) > 0]
            oriented = arr if arr.shape[0] <= arr.shape[1] else arr.T
            oriented = oriented[:, np.argsort(-oriented.sum(axis=0), kind="stable")]
            p = network_p(
                oriented,
                fisher_statistic,
                tolerance=1e-7,
                max_nodes=max_nodes,
                symmetric_rows=True,
            )
        else:
            mc = stats.MonteCarloMethod(n_resamples=n_resamples, rng=np.random.default_rng(rng))
            p = float(stats.fisher_exact(arr, method=mc).pvalue)
            label = f"Monte Carlo ({n_resamples} tables, {seed_label(rng)})"
    return result_frame(
        {"p": p, "method": label, **row, "n": int(arr.sum()), "alternative": alternative},
        {
            "test": "Fisher exact",
            "odds_ratio": "conditional MLE",
            "two_sided": "sum of P <= P(observed)",
            "method": label,
        },
    )


def _hypergeom_null(arr: np.ndarray) -> tuple[np.ndarray, int]:
    """Null distribution of S = sum_k a_k (cell [0, 0] of each 2 x 2 stratum) and its minimum."""
    from scipy import stats

    dist, low = np.ones(1), 0
    for k in range(arr.shape[2]):
        t = arr[:, :, k]
        m, n, c = int(t[0].sum()), int(t[1].sum()), int(t[:, 0].sum())
        support = np.arange(max(0, c - n), min(c, m) + 1)
        dist = np.convolve(dist, stats.hypergeom.pmf(support, m + n, m, c))
        low += int(support[0])
    return dist, low


def _exact_cmh(arr: np.ndarray, alternative: str, confidence: float) -> dict[str, Any]:
    """Exact conditional test and conditional MLE of the common odds ratio (R mantelhaen.test)."""
    from scipy.optimize import brentq

    null, low = _hypergeom_null(arr)
    s = int(arr[0, 0, :].sum()) - low
    hi = null.size - 1
    support = np.arange(null.size)
    log_null = np.log(np.where(null > 0, null, np.finfo(float).tiny))

    def density(psi: float) -> np.ndarray:
        d = log_null + np.log(psi) * support
        d = np.exp(d - d.max())
        return d / d.sum()

    def mean(psi: float) -> float:
        return float((support * density(psi)).sum())

    def tail(psi: float, upper: bool) -> float:
        d = density(psi)
        return float(d[s:].sum() if upper else d[: s + 1].sum())

    def solve(func: Any, target: float) -> float:
        """psi with func(psi) = target; func rises with psi on (0, inf)."""
        if func(1.0) > target:
            return float(brentq(lambda t: func(t) - target, 1e-300, 1.0, xtol=1e-14))
        if func(1.0) < target:
            return float(1 / brentq(lambda t: func(1 / t) - target, 1e-300, 1.0, xtol=1e-14))
        return 1.0

    mle = 0.0 if s == 0 else np.inf if s == hi else solve(mean, s)

    def ci_low(a: float) -> float:
        return 0.0 if s == 0 else solve(lambda t: tail(t, True), a)

    def ci_high(a: float) -> float:
        return np.inf if s == hi else solve(lambda t: -tail(t, False), -a)

    a = 1 - confidence
    ci = {
        "less": (0.0, ci_high(a)),
        "greater": (ci_low(a), np.inf),
        "two-sided": (ci_low(a / 2), ci_high(a / 2)),
    }[alternative]
    return {
        "stat": float(arr[0, 0, :].sum()),
        "df": np.nan,
        "p": _p_from_tail(null, s, alternative),
        "method": "exact",
        "common_odds_ratio": mle,
        "ci_low": ci[0],
        "ci_high": ci[1],
    }


def _mantel_haenszel_or(arr: np.ndarray, confidence: float) -> dict[str, float]:
    """Mantel-Haenszel common odds ratio with the Robins-Breslow-Greenland CI (statsmodels).

    When sum(a d / n) or sum(b c / n) is 0 the estimate is 0 or infinite (undefined if both)
    and the CI, built on its logarithm, is undefined: NaN, as R ``mantelhaen.test`` prints.
    """
    from statsmodels.stats.contingency_tables import StratifiedTable

    n = arr.sum(axis=(0, 1))
    ad = float((arr[0, 0] * arr[1, 1] / n).sum())
    bc = float((arr[0, 1] * arr[1, 0] / n).sum())
    if ad == 0 or bc == 0:
        estimate = np.inf if ad > 0 else 0.0 if bc > 0 else np.nan
        return {"common_odds_ratio": estimate, "ci_low": np.nan, "ci_high": np.nan}
    st = StratifiedTable([arr[:, :, k] for k in range(arr.shape[2])])
    low, high = st.oddsratio_pooled_confint(alpha=1 - confidence)
    return {
        "common_odds_ratio": float(st.oddsratio_pooled),
        "ci_low": float(low),
        "ci_high": float(high),
    }


def cmh_test(
    table: Any,
    *,
    correction: bool = True,
    exact: bool = False,
    alternative: Alternative = "two-sided",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Cochran-Mantel-Haenszel test of conditional independence in an I x J x K table.

    The last axis holds the K strata. The general-association statistic of Landis, Heyman &
    Koch (1978, doi:10.2307/1402373) is computed for any I x J (df = (I-1)(J-1)), as R
    ``mantelhaen.test``. For 2 x 2 x K tables ``correction`` applies the continuity correction
    as R does, only when |sum(a_k - E a_k)| >= 0.5 (Mantel & Haenszel 1959), and the common
    odds ratio is the Mantel-Haenszel estimate with the Robins, Breslow & Greenland (1986) CI
    (statsmodels ``StratifiedTable``). ``exact=True`` (2 x 2 x K) gives the exact conditional
    test instead: p from the convolution of the strata's hypergeometric distributions,
    ``stat`` = S = sum of the [0, 0] cells, the conditional maximum-likelihood common odds
    ratio and its exact CI (Mehta, Patel & Gray 1985, doi:10.1080/01621459.1985.10478227; R
    ``mantelhaen.test(exact = TRUE)``). ``alternative`` applies to 2 x 2 x K tables.

    Examples
    --------
    >>> flat = [0, 0, 6, 5, 3, 0, 3, 6, 6, 2, 0, 4, 5, 6, 1, 0, 2, 5, 0, 0]  # R ?mantelhaen.test
    >>> rabbits = np.array(flat).reshape(5, 2, 2).transpose(2, 1, 0)
    >>> res = cmh_test(rabbits).iloc[0]
    >>> round(float(res["stat"]), 4), round(float(res["p"]), 5)
    (3.9286, 0.04747)
    >>> res = cmh_test(rabbits, exact=True).iloc[0]
    >>> round(float(res["p"]), 5), round(float(res["common_odds_ratio"]), 3)
    (0.03994, 10.361)
    """
    from scipy import stats

    check_range("confidence", confidence, 0.0, 1.0)
    check_choice("alternative", alternative, ALTERNATIVES)
    arr = _as_table(table, 3).astype(float)
    n_i, n_j, _ = arr.shape
    keep = arr.sum(axis=(0, 1)) > 1  # strata with fewer than two subjects carry no information
    arr = arr[:, :, keep]
    is_2x2 = arr.shape[:2] == (2, 2)
    if not is_2x2:
        check_choice("alternative (I x J x K table)", alternative, ("two-sided",))
    if exact:
        if not is_2x2:
            problems = ProblemCollector("invalid argument 'exact'")
            problems.add("-", "exact", True, "the exact conditional test needs a 2 x 2 x K table")
            problems.raise_if_any()
        exact_row = _exact_cmh(arr.astype(np.int64), alternative, confidence)
        return result_frame(
            {**exact_row, "n": int(arr.sum()), "alternative": alternative},
            {
                "test": "exact conditional test of independence in 2 x 2 x K tables",
                "method": "exact",
                "odds_ratio": "conditional MLE",
                "confidence": confidence,
            },
        )
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
    row: dict[str, Any] = {}
    applied = False
    method = "chi-square approximation"
    if is_2x2:
        applied = bool(correction and abs(diff[0]) >= 0.5)
        if cov[0, 0] == 0:
            # every stratum has a zero row or column margin: S is fixed, nothing to test
            stat, p = np.nan, np.nan
            method = "not estimable: every stratum has a zero row or column total"
        elif alternative == "two-sided":
            stat = (abs(diff[0]) - (0.5 if applied else 0.0)) ** 2 / cov[0, 0]
            p = float(stats.chi2.sf(stat, 1))
        else:
            stat = (diff[0] - (np.sign(diff[0]) * 0.5 if applied else 0.0)) / np.sqrt(cov[0, 0])
            p = float(stats.norm.sf(stat) if alternative == "greater" else stats.norm.cdf(stat))
            stat = stat**2
        row = _mantel_haenszel_or(arr, confidence)
    else:
        stat = float(diff @ np.linalg.solve(cov, diff))
        p = float(stats.chi2.sf(stat, (n_i - 1) * (n_j - 1)))
    return result_frame(
        {
            "stat": float(stat),
            "df": (n_i - 1) * (n_j - 1),
            "p": p,
            "method": method,
            **row,
            "n": int(arr.sum()),
            "alternative": alternative,
        },
        {
            "test": "Cochran-Mantel-Haenszel general association",
            "continuity_correction": applied,
            "odds_ratio_ci": "Robins-Breslow-Greenland" if is_2x2 else None,
            "confidence": confidence,
        },
    )


def mcnemar_test(
    table: Any,
    *,
    method: Literal["chi-square", "exact"] = "chi-square",
    correction: bool = True,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """McNemar's test of paired proportions (McNemar 1947, doi:10.1007/BF02295996).

    ``table`` is the r x r table of paired classifications (rows: first, columns: second
    measurement). ``method="chi-square"``: sum over i < j of (n_ij - n_ji)^2 / (n_ij + n_ji)
    on r(r-1)/2 df (Bowker 1948 for r > 2), with R's continuity correction |n_12 - n_21| - 1
    for 2 x 2 tables when ``correction`` and the table is not symmetric (R ``mcnemar.test``).
    ``method="exact"`` (2 x 2): the binomial test of n_12 among the n_12 + n_21 discordant
    pairs at 1/2 (R ``binom.test``), with the odds ratio n_12 / n_21 and its exact CI from
    the Clopper-Pearson interval of n_12 / (n_12 + n_21) (Breslow & Day 1980, §7.3).

    Examples
    --------
    >>> votes = [[794, 150], [86, 570]]  # R ?mcnemar.test, Agresti (1990) presidential approval
    >>> res = mcnemar_test(votes).iloc[0]
    >>> round(float(res["stat"]), 3), f"{res['p']:.3g}"
    (16.818, '4.11e-05')
    """
    from scipy import stats

    check_choice("method", method, ("chi-square", "exact"))
    check_range("confidence", confidence, 0.0, 1.0)
    arr = _as_table(table, 2)
    r = arr.shape[0]
    problems = ProblemCollector("invalid McNemar table")
    if arr.shape[1] != r or r < 2:
        problems.add("-", "table", arr.shape, "must be square (r x r, r >= 2)")
    elif method == "exact" and r != 2:
        problems.add("-", "method", method, "the exact test needs a 2 x 2 table")
    problems.raise_if_any()
    b, c = int(arr[0, 1]), int(arr[1, 0])
    row: dict[str, Any] = {"odds_ratio": np.nan, "ci_low": np.nan, "ci_high": np.nan}
    if r == 2:
        row["odds_ratio"] = b / c if c else np.inf
    if method == "exact":
        test = stats.binomtest(b, b + c, 0.5) if b + c else None
        p = 1.0 if test is None else float(test.pvalue)
        if test is not None:
            ci = test.proportion_ci(confidence_level=confidence, method="exact")
            row["ci_low"] = ci.low / (1 - ci.low)
            row["ci_high"] = ci.high / (1 - ci.high) if ci.high < 1 else np.inf
        stat, df, label, applied = float(b), np.nan, "exact", False
    else:
        upper = np.triu_indices(r, 1)
        diff = (arr - arr.T)[upper].astype(float)
        both = (arr + arr.T)[upper].astype(float)
        applied = bool(correction and r == 2 and diff[0] != 0)
        num = (np.abs(diff) - 1) ** 2 if applied else diff**2
        with np.errstate(invalid="ignore", divide="ignore"):
            stat = float((num / both).sum())
        df = r * (r - 1) // 2
        p = float(stats.chi2.sf(stat, df))
        label = "chi-square approximation"
    return result_frame(
        {"stat": stat, "df": df, "p": p, "method": label, **row, "n": int(arr.sum())},
        {
            "test": "McNemar" if r == 2 else "Bowker symmetry",
            "method": label,
            "continuity_correction": applied,
            "confidence": confidence,
        },
    )
