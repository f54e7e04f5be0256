"""Spearman and Pearson correlation with exact, permutation and asymptotic p-values and CIs.

p-values (``method``):

- ``"exact"``: all n! pairings are enumerated (n <= :data:`EXACT_MAX_N`); with ties this is the
  exact permutation distribution given the mid-ranks. R ``cor.test`` is exact for n <= 9.
- ``"permutation"``: Monte Carlo over ``n_permutations`` random pairings, vectorised in blocks;
  p = (b + 1) / (B + 1) (Phipson & Smyth 2010), so it is never 0.
- ``"asymptotic"``: t = r sqrt((n-2)/(1-r^2)) on n-2 df, as R ``exact=FALSE``, SAS and scipy.
- ``"edgeworth"`` (Spearman): the Edgeworth series of Best & Roberts (1975), Algorithm AS 89,
  *J R Stat Soc C* 24:377-379, doi:10.2307/2347111, for S = (n^3 - n)(1 - r)/6; R ``cor.test``
  uses it for 10 <= n < 1290 without ties.
- ``"auto"`` (Spearman, R's rule): exact for n <= :data:`EXACT_MAX_N`, the Edgeworth series for
  n < 1290 without ties, otherwise asymptotic.

Two-sided permutation p-values count |r*| >= |r|; one-sided ones count r* >= r (or <=).

Confidence intervals (``ci``) are on Fisher's z = atanh(r) scale with SE 1/sqrt(n-3)
(``"fisher_z"``, Pearson's standard, as R), 1.06/(n-3) variance (``"fieller"``, Fieller, Hartley &
Pearson 1957) or (1 + r^2/2)/(n-3) (``"bonett_wright"``, Bonett & Wright 2000, the default for
Spearman), or a BCa bootstrap (``"bootstrap"``, vectorised, Efron 1987). A one-sided test gets a
one-sided interval, as R prints.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import permutations
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
    column_names,
    numeric_vectors,
    result_frame,
    seed_label,
)

CorrMethod = Literal["auto", "exact", "edgeworth", "permutation", "asymptotic"]
CiMethod = Literal["fisher_z", "fieller", "bonett_wright", "bootstrap"]

#: Largest n for which every one of the n! pairings is enumerated.
EXACT_MAX_N = 9
#: Largest n (exclusive) for the Edgeworth series under ``method="auto"`` (R's limit).
EDGEWORTH_MAX_N = 1290
#: Permutations evaluated per vectorised block (bounds memory at about 8 * n * BLOCK bytes).
BLOCK = 10_000

__all__ = ["EXACT_MAX_N", "correlation_table", "pearson", "permutation_p", "spearman"]


_AS89 = (0.2274, 0.2531, 0.1745, 0.0758, 0.1033, 0.3932, 0.0879, 0.0151, 0.0072, 0.0831,
         0.0131, 4.6e-4)  # fmt: skip


def _edgeworth_upper(s_stat: float, n: int) -> float:
    """P(S >= s_stat) for Spearman's S under independence, Edgeworth series (AS 89)."""
    from scipy import stats

    if s_stat <= 0:
        return 1.0
    if s_stat > n * (n * n - 1) / 3:
        return 0.0
    c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12 = _AS89
    b = 1 / n
    x = (6 * (s_stat - 1) * b / (n * n - 1) - 1) * math.sqrt(1 / b - 1)
    y = x * x
    u = x * b * (c1 + b * (c2 + c3 * b) + y * (-c4 + b * (c5 + c6 * b) - y * b * (
        c7 + c8 * b - y * (c9 - c10 * b + y * b * (c11 - c12 * y)))))  # fmt: skip
    return float(min(1.0, max(0.0, u / math.exp(y / 2) + stats.norm.sf(x))))


def _edgeworth_p(r: float, n: int, alternative: str) -> tuple[float, float]:
    """(S, p) as R ``cor.test(method = "spearman")`` for 10 <= n < 1290 without ties."""
    s_stat = (n**3 - n) * (1 - r) / 6
    q = round(s_stat)

    def lower(v: float) -> float:  # P(S <= v); S moves in steps of 2
        return 1 - _edgeworth_upper(v + 2, n)

    if alternative == "greater":
        return s_stat, lower(q)
    if alternative == "less":
        return s_stat, _edgeworth_upper(q, n)
    p = _edgeworth_upper(q, n) if s_stat > (n**3 - n) / 6 else lower(q)
    return s_stat, min(2 * p, 1.0)


def _corr_along(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    a = a - a.mean(axis=axis, keepdims=True)
    b = b - b.mean(axis=axis, keepdims=True)
    return (a * b).sum(axis) / np.sqrt((a * a).sum(axis) * (b * b).sum(axis))


def _ranks(a: np.ndarray) -> tuple[np.ndarray, bool]:
    """Mid-ranks of ``a`` and whether it has ties (one sort)."""
    from scipy import stats

    order = np.argsort(a, kind="stable")
    ordered = a[order]
    if np.any(ordered[1:] == ordered[:-1]):
        return stats.rankdata(a), True
    ranks = np.empty(a.size)
    ranks[order] = np.arange(1, a.size + 1)
    return ranks, False


def _spearman_along(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    from scipy import stats

    return _corr_along(stats.rankdata(a, axis=axis), stats.rankdata(b, axis=axis), axis)


def _tail_count(values: np.ndarray, observed: float, alternative: str) -> int:
    tol = 1e-12 * max(1.0, abs(observed))
    if alternative == "greater":
        return int((values >= observed - tol).sum())
    if alternative == "less":
        return int((values <= observed + tol).sum())
    return int((np.abs(values) >= abs(observed) - tol).sum())


def permutation_p(
    a: np.ndarray,
    b: np.ndarray,
    *,
    alternative: Alternative = "two-sided",
    exact: bool = False,
    n_permutations: int = 100_000,
    rng: np.random.Generator | int | None = None,
) -> tuple[float, int]:
    """Permutation p-value of the Pearson correlation of ``a`` and ``b`` (pass ranks for Spearman).

    The denominator is invariant under permutation, so each permuted correlation is one dot
    product: blocks of permutations become one matrix product. Returns (p, permutations used).
    """
    ac = a - a.mean()
    bc = b - b.mean()
    scale = math.sqrt(float(ac @ ac) * float(bc @ bc))
    observed = float(ac @ bc) / scale
    if exact:
        n = a.size
        total = math.factorial(n)
        flat = np.fromiter(
            (i for perm in permutations(range(n)) for i in perm), dtype=np.int8, count=total * n
        ).reshape(total, n)
        hits = sum(
            _tail_count(bc[flat[s : s + BLOCK * 10]] @ ac / scale, observed, alternative)
            for s in range(0, total, BLOCK * 10)
        )
        return hits / total, total
    gen = np.random.default_rng(rng)
    hits = 0
    done = 0
    while done < n_permutations:
        size = min(BLOCK, n_permutations - done)
        block = gen.permuted(np.broadcast_to(bc, (size, bc.size)), axis=1)
        hits += _tail_count(block @ ac / scale, observed, alternative)
        done += size
    return (hits + 1) / (n_permutations + 1), n_permutations


def _fisher_ci(
    r: float, n: int, se: float, confidence: float, alternative: str
) -> tuple[float, float]:
    from scipy import stats

    if n <= 3 or abs(r) >= 1:
        return (np.nan, np.nan) if n <= 3 else (r, r)
    z = math.atanh(r)
    if alternative == "two-sided":
        q = stats.norm.ppf(0.5 + confidence / 2)
        return math.tanh(z - q * se), math.tanh(z + q * se)
    q = stats.norm.ppf(confidence)
    return (
        (math.tanh(z - q * se), 1.0) if alternative == "greater" else (-1.0, math.tanh(z + q * se))
    )


def _correlate(
    kind: str,
    x: Any,
    y: Any,
    alternative: Alternative,
    method: str,
    ci: str,
    confidence: float,
    n_permutations: int,
    n_bootstrap: int,
    rng: np.random.Generator | int | None,
    missing: Missing,
) -> pd.DataFrame:
    from scipy import stats

    check_choice("alternative", alternative, ALTERNATIVES)
    check_choice("method", method, ("auto", "exact", "edgeworth", "permutation", "asymptotic"))
    check_choice("ci", ci, ("fisher_z", "fieller", "bonett_wright", "bootstrap"))
    check_range("confidence", confidence, 0.0, 1.0)
    (xa, ya), dropped = numeric_vectors({"x": x, "y": y}, missing=missing, paired=True, min_n=3)
    n = xa.size
    tied = False
    if kind == "spearman":
        (a, tied_x), (b, tied_y) = _ranks(xa), _ranks(ya)
        tied = tied_x or tied_y
    else:
        a, b = xa, ya
    r = float(_corr_along(a, b))
    if method == "auto":
        method = (
            "exact"
            if n <= EXACT_MAX_N
            else "edgeworth"
            if kind == "spearman" and n < EDGEWORTH_MAX_N and not tied
            else "asymptotic"
        )
    problems = ProblemCollector("correlation")
    if method == "edgeworth" and (kind != "spearman" or tied):
        problems.add("-", "method", method, "the Edgeworth series is for Spearman without ties")
    problems.raise_if_any()
    if method == "exact" and n > EXACT_MAX_N:
        problems = ProblemCollector("correlation")
        problems.add(
            "-",
            "method",
            method,
            f"exact enumeration needs n <= {EXACT_MAX_N} (n = {n}); "
            "use 'permutation' or 'asymptotic'",
        )
        problems.raise_if_any()
    used = 0
    t_stat = r * math.sqrt((n - 2) / (1 - r * r)) if abs(r) < 1 else math.copysign(math.inf, r)
    if method == "edgeworth":
        p = _edgeworth_p(r, n, alternative)[1]
    elif method == "asymptotic":
        dist = stats.t(n - 2)
        p = {
            "greater": dist.sf(t_stat),
            "less": dist.cdf(t_stat),
            "two-sided": 2 * dist.sf(abs(t_stat)),
        }[alternative]
    else:
        p, used = permutation_p(
            a,
            b,
            alternative=alternative,
            exact=method == "exact",
            n_permutations=n_permutations,
            rng=rng,
        )
    if ci == "bootstrap":
        func = _spearman_along if kind == "spearman" else _corr_along
        res = stats.bootstrap(
            (xa, ya),
            func,
            paired=True,
            vectorized=True,
            n_resamples=n_bootstrap,
            confidence_level=confidence,
            alternative=alternative,
            method="BCa",
            rng=np.random.default_rng(rng),
        )
        low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    else:
        var = {"fisher_z": 1.0, "fieller": 1.06, "bonett_wright": 1 + r * r / 2}[ci] / max(n - 3, 1)
        low, high = _fisher_ci(r, n, math.sqrt(var), confidence, alternative)
    return result_frame(
        {
            "r": r,
            "p": float(p),
            "stat": float(t_stat),
            "df": n - 2,
            "n": n,
            "n_dropped": dropped,
            "ci_low": low,
            "ci_high": high,
            "method": {
                "asymptotic": "t approximation",
                "edgeworth": "Edgeworth series (AS 89)",
                "permutation": f"Monte Carlo permutation ({used} pairings, {seed_label(rng)})",
            }.get(method, method),
            "alternative": alternative,
            "ci_method": ci,
            "permutations": used,
        },
        {
            "correlation": kind,
            "p_method": method,
            "ci_method": ci,
            "confidence": confidence,
            "permutation_p": "(b + 1) / (B + 1)" if method == "permutation" else None,
        },
    )


def spearman(
    x: Any,
    y: Any,
    *,
    alternative: Alternative = "two-sided",
    method: CorrMethod = "auto",
    ci: CiMethod = "bonett_wright",
    confidence: float = 0.95,
    n_permutations: int = 100_000,
    n_bootstrap: int = 10_000,
    rng: np.random.Generator | int | None = None,
    missing: Missing = "raise",
) -> pd.DataFrame:
    """Spearman's rank correlation (mid-ranks for ties) with p-value and CI.

    See the module docstring for ``method`` and ``ci``. Returns one row: r, p, t, n,
    n_dropped, ci_low, ci_high, method, alternative, ci_method, permutations.

    Examples
    --------
    >>> x = [44.4, 45.9, 41.9, 53.3, 44.7, 44.1, 50.7, 45.2, 60.1]
    >>> y = [2.6, 3.1, 2.5, 5.0, 3.6, 4.0, 5.2, 2.8, 3.8]
    >>> round(float(spearman(x, y, alternative="greater")["p"].iloc[0]), 4)  # exact, R: 0.0484
    0.0484
    """
    return _correlate(
        "spearman",
        x,
        y,
        alternative,
        method,
        ci,
        confidence,
        n_permutations,
        n_bootstrap,
        rng,
        missing,
    )


def pearson(
    x: Any,
    y: Any,
    *,
    alternative: Alternative = "two-sided",
    method: Literal["exact", "permutation", "asymptotic"] = "asymptotic",
    ci: CiMethod = "fisher_z",
    confidence: float = 0.95,
    n_permutations: int = 100_000,
    n_bootstrap: int = 10_000,
    rng: np.random.Generator | int | None = None,
    missing: Missing = "raise",
) -> pd.DataFrame:
    """Pearson's product-moment correlation with p-value and CI (defaults as R ``cor.test``).

    Pearson (1896), *Phil Trans R Soc A* 187:253-318; Fisher z interval (Fisher 1921). See the
    module docstring for ``method`` and ``ci``.

    Examples
    --------
    >>> x = [44.4, 45.9, 41.9, 53.3, 44.7, 44.1, 50.7, 45.2, 60.1]
    >>> y = [2.6, 3.1, 2.5, 5.0, 3.6, 4.0, 5.2, 2.8, 3.8]
    >>> res = pearson(x, y).iloc[0]  # R cor.test: t = 1.8411, df = 7, p-value = 0.1082
    >>> round(float(res["stat"]), 4), int(res["df"]), round(float(res["p"]), 4), res["method"]
    (1.8411, 7, 0.1082, 't approximation')
    """
    return _correlate(
        "pearson",
        x,
        y,
        alternative,
        method,
        ci,
        confidence,
        n_permutations,
        n_bootstrap,
        rng,
        missing,
    )


def correlation_table(
    data: pd.DataFrame,
    x: str,
    ys: str | Sequence[str],
    *,
    kind: Literal["spearman", "pearson"] = "spearman",
    **options: Any,
) -> pd.DataFrame:
    """Correlate column ``x`` with each column of ``ys``; one row per pair (missing pairs dropped).

    ``ys`` is one column name or a list; ``options`` go to :func:`spearman` or :func:`pearson`.

    Examples
    --------
    >>> data = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 1, 4, 3, 5], "c": [5, 4, 3, 1, 2]})
    >>> correlation_table(data, "a", ["b", "c"])[["y", "r"]].values.tolist()
    [['b', 0.8], ['c', -0.9]]
    """
    check_choice("kind", kind, ("spearman", "pearson"))
    ys = column_names(ys)
    check_columns(data, [x, *ys])
    func = spearman if kind == "spearman" else pearson
    options.setdefault("missing", "drop")
    parts = []
    conventions: dict[str, Any] = {}
    for col in ys:
        part = func(data[x], data[col], **options)
        conventions = part.attrs["conventions"]
        parts.append(part.assign(x=x, y=col))
    out = pd.concat(parts, ignore_index=True)
    out = out[["x", "y", *[c for c in out.columns if c not in ("x", "y")]]]
    out.attrs["conventions"] = conventions
    return out
