"""Tests for differences between subgroups of a meta-analysis.

Two tests are in use and they answer slightly different questions, so the choice is a named
convention (``test``):

* ``"q_between"`` (default): each subgroup is pooled on its own (its own tau²) and the subgroup
  estimates are compared by Cochran's Q of their fixed-effect pooling, on (number of subgroups
  - 1) df. This is the test RevMan prints (Deeks, Higgins & Altman, *Cochrane Handbook* §10.11.3.1;
  Borenstein et al. 2009, *Introduction to Meta-Analysis*, ch. 19, "separate estimates of
  tau²") and R meta's ``test.subgroup``.
* ``"moderator"``: a mixed-effects meta-regression on the subgroup as a categorical moderator,
  with one residual tau² common to all subgroups, and the omnibus Wald test QM of its
  coefficients (chi-square on (subgroups - 1) df; with Knapp-Hartung, QM / m on F(m, k - p)).
  This is R metafor's ``rma(yi, vi, mods = ~ factor(subgroup))`` (Viechtbauer 2010, *J Stat Softw*
  36(3), doi:10.18637/jss.v036.i03; Knapp & Hartung 2003, *Stat Med* 22:2693-2710).

tau² of the meta-regression is REML (Fisher scoring; Viechtbauer 2005, *J Educ Behav Stat*
30:261-293) or the DerSimonian-Laird moment estimator generalised to meta-regression
(Raudenbush 2009, in *The Handbook of Research Synthesis*, 2nd ed., ch. 16), as metafor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from rheumetrics.errors import ProblemCollector
from rheumetrics.stats._common import check_choice, result_frame, validated_floats
from rheumetrics.stats.meta import Method, meta_analysis, projection, reml_tau2

SubgroupTest = Literal["q_between", "moderator"]

#: How each test is named in a report, with its source.
SUBGROUP_TESTS = {
    "q_between": "Q-between test of the subgroup estimates (each subgroup with its own tau²; "
    "RevMan, Cochrane Handbook §10.11.3.1; Borenstein et al. 2009, ch. 19)",
    "moderator": "omnibus test QM of a mixed-effects meta-regression on the subgroup (one common "
    "tau²; metafor rma with mods, Viechtbauer 2010, J Stat Softw 36(3))",
}

__all__ = ["SUBGROUP_TESTS", "subgroup_differences"]


def _design(groups: np.ndarray) -> tuple[np.ndarray, list[Any]]:
    """Intercept plus one dummy per subgroup after the first (in order of appearance)."""
    levels = list(dict.fromkeys(groups.tolist()))
    dummies = [(groups == level).astype(float) for level in levels[1:]]
    return np.column_stack([np.ones(groups.size), *dummies]), levels


def _residual_tau2(
    y: np.ndarray, v: np.ndarray, x: np.ndarray, method: Method
) -> tuple[float, bool]:
    """Residual tau² of a meta-regression: FE 0, DL moments, REML by Fisher scoring."""
    k, p = x.shape
    _, p_fe = projection(x, 1 / v)
    dl = max(0.0, float((y @ p_fe @ y - (k - p)) / np.trace(p_fe)))
    if method != "REML":
        return (0.0 if method == "FE" else dl), True
    tau2, _, converged = reml_tau2(y, v, x, dl)
    return tau2, converged


def subgroup_differences(
    yi: Any,
    vi: Any,
    subgroups: Sequence[Any],
    *,
    test: SubgroupTest = "q_between",
    method: Method = "REML",
    knapp_hartung: bool = False,
) -> pd.DataFrame:
    """Test whether the pooled effect differs between subgroups (see the module docstring).

    Parameters
    ----------
    yi, vi : effect sizes and sampling variances.
    subgroups : the subgroup of each study (at least two distinct values).
    test : ``"q_between"`` (default; RevMan) or ``"moderator"`` (metafor's QM).
    method, knapp_hartung : the pooling model within subgroups (``"q_between"``; a subgroup of
        one study is taken as it is) or of the meta-regression (``"moderator"``).

    Returns
    -------
    One row: test, stat, df, df2 (F denominator, Knapp-Hartung moderator test only), p,
    method, tau2 (residual tau² of the meta-regression; NaN for Q-between), n_subgroups, k.

    Examples
    --------
    >>> yi, vi = [0.1, 0.3, 0.9, 1.1, 1.0], [0.02, 0.03, 0.02, 0.04, 0.03]
    >>> res = subgroup_differences(yi, vi, ["a", "a", "b", "b", "b"]).iloc[0]
    >>> round(float(res["stat"]), 2), int(res["df"]), f"{res['p']:.2g}"
    (29.91, 1, '4.5e-08')
    """
    check_choice("test", test, ("q_between", "moderator"))
    check_choice("method", method, ("FE", "DL", "REML"))
    (y, v), _ = validated_floats({"yi": yi, "vi": vi}, missing="raise")
    groups = np.asarray(list(subgroups), dtype=object)
    problems = ProblemCollector("subgroup test input")
    if groups.size != y.size:
        problems.add("-", "subgroups", groups.size, f"needs one subgroup per study ({y.size})")
    elif len(set(groups.tolist())) < 2:
        problems.add("-", "subgroups", sorted(set(map(str, groups))), "needs two or more subgroups")
    problems.raise_if_any()
    x, levels = _design(groups)
    m = len(levels) - 1
    df2, tau2, converged = np.nan, np.nan, True
    if test == "q_between":
        est, se = [], []
        for level in levels:
            inside = groups == level
            if inside.sum() == 1:
                est.append(float(y[inside][0]))
                se.append(float(np.sqrt(v[inside][0])))
                continue
            res = meta_analysis(y[inside], v[inside], method=method, knapp_hartung=knapp_hartung)
            est.append(float(res["estimate"].iloc[0]))
            se.append(float(res["se"].iloc[0]))
        between = meta_analysis(est, np.square(se), method="FE").iloc[0]
        stat, p, label = float(between["q"]), float(between["q_p"]), "chi-square approximation"
    else:
        k, n_par = x.shape
        problems = ProblemCollector("subgroup test input")
        if k <= n_par:
            problems.add("-", "subgroups", k, f"a meta-regression on {m + 1} subgroups needs more "
                         f"than {n_par} studies")  # fmt: skip
        problems.raise_if_any()
        tau2, converged = _residual_tau2(y, v, x, method)
        w = 1 / (v + tau2)
        vb, proj = projection(x, w)
        b = vb @ (x.T @ (w * y))
        if knapp_hartung:
            vb = vb * float(y @ proj @ y) / (k - n_par)
        coef = b[1:]
        stat = float(coef @ np.linalg.solve(vb[1:, 1:], coef))
        if knapp_hartung:
            stat /= m
            df2 = float(k - n_par)
            p, label = float(stats.f.sf(stat, m, df2)), "F approximation"
        else:
            p, label = float(stats.chi2.sf(stat, m)), "chi-square approximation"
    return result_frame(
        {
            "test": test,
            "stat": stat,
            "df": m,
            "df2": df2,
            "p": p,
            "method": label,
            "tau2": tau2,
            "converged": converged,
            "n_subgroups": m + 1,
            "k": int(y.size),
        },
        {
            "subgroup_test": test,
            "described_as": SUBGROUP_TESTS[test],
            "model": method + ("+KH" if knapp_hartung else ""),
        },
    )
