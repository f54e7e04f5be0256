"""Meta-analysis: effect sizes, fixed and random effects, heterogeneity.

Effect sizes (:func:`effect_sizes`) follow Borenstein, Hedges, Higgins & Rothstein (2009),
*Introduction to Meta-Analysis*, ch. 4-6: log risk ratio, log odds ratio, raw mean difference,
the standardized mean difference (Hedges' g) and Fisher's z of a correlation. Pooling (:func:`meta_analysis`) is
inverse-variance: fixed effect (``"FE"``), DerSimonian & Laird (1986) (``"DL"``) or REML
(``"REML"``, Fisher scoring, Viechtbauer 2005), optionally with the Knapp & Hartung (2003)
t-based SE. Heterogeneity: Cochran's Q, tau^2, I^2 and H^2 with the "typical within-study
variance" definition of Higgins & Thompson (2002) that metafor uses for every estimator (for
DL it equals (Q - df) / Q). These are written here because statsmodels has no REML or
Knapp-Hartung.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import special, stats

from rheumetrics.errors import ProblemCollector
from rheumetrics.stats._common import (
    check_choice,
    check_columns,
    check_range,
    result_frame,
    validated_floats,
)

Measure = Literal["RR", "OR", "MD", "SMD", "ZCOR"]
BackTransform = Literal["none", "exp", "tanh"]
Method = Literal["FE", "DL", "REML"]
Prediction = Literal["higgins", "metafor"]

__all__ = ["effect_sizes", "meta_analysis"]


def _columns(data: pd.DataFrame, spec: dict[str, str | None]) -> dict[str, np.ndarray]:
    problems = ProblemCollector("effect_sizes arguments")
    for arg, col in spec.items():
        if col is None:
            problems.add("-", arg, None, "column name required for this measure")
    problems.raise_if_any()
    names = {arg: str(col) for arg, col in spec.items()}
    check_columns(data, names.values())
    arrays, _ = validated_floats({names[a]: data[names[a]] for a in names}, missing="raise")
    return dict(zip(names, arrays, strict=True))


def effect_sizes(
    data: pd.DataFrame,
    measure: Measure,
    *,
    study: str | None = None,
    events_t: str | None = None,
    n_t: str | None = None,
    events_c: str | None = None,
    n_c: str | None = None,
    mean_t: str | None = None,
    sd_t: str | None = None,
    mean_c: str | None = None,
    sd_c: str | None = None,
    r: str | None = None,
    n: str | None = None,
    zero_cell: float = 0.5,
    smd_method: Literal["borenstein", "hedges_exact"] = "borenstein",
    md_variance: Literal["unpooled", "pooled"] = "unpooled",
) -> pd.DataFrame:
    """Per-study effect sizes ``yi`` and sampling variances ``vi`` (arguments are column names).

    Parameters
    ----------
    measure : ``"RR"`` log risk ratio, ``"OR"`` log odds ratio (need events_t, n_t, events_c,
        n_c); ``"MD"`` raw mean difference, ``"SMD"`` Hedges' g (need mean_t, sd_t, n_t, mean_c,
        sd_c, n_c). Treatment minus (or over) control. ``"ZCOR"`` Fisher's z = atanh(r) of a
        correlation ``r`` from ``n`` subjects, variance 1/(n - 3) (metafor ``escalc(measure =
        "ZCOR")``; Borenstein 2009 ch. 6); pool it and back-transform with
        ``meta_analysis(..., back_transform="tanh")``.
    zero_cell : added to every cell of a 2 x 2 table holding a zero (metafor ``add=1/2,
        to="only0"``); 0 disables it, and a zero cell is then an error.
    smd_method : ``"borenstein"``: J = 1 - 3 / (4 df - 1), g = J d, V(g) = J^2 (1/n_t + 1/n_c +
        d^2 / (2 (n_t + n_c))) (Borenstein 2009 eq. 4.18-4.24); ``"hedges_exact"``: the exact
        gamma-function J (Hedges 1981) and V(g) = 1/n_t + 1/n_c + g^2 / (2 (n_t + n_c))
        (metafor's default).
    md_variance : variance of a raw mean difference: ``"unpooled"`` sd_t^2/n_t + sd_c^2/n_c
        (default, metafor ``escalc(measure = "MD")``, which does not assume equal variances) or
        ``"pooled"`` (n_t + n_c)/(n_t n_c) s_pooled^2 (Borenstein 2009 eq. 4.5).

    Returns
    -------
    DataFrame with study, yi, vi, sei, measure (and ``zero_cell_added`` for binary measures).

    Examples
    --------
    >>> table = pd.DataFrame({"study": ["A", "B"], "r": [0.5, 0.3], "n": [28, 103]})
    >>> es = effect_sizes(table, "ZCOR", study="study", r="r", n="n")
    >>> es[["yi", "vi"]].round(4).values.tolist()
    [[0.5493, 0.04], [0.3095, 0.01]]
    """
    check_choice("measure", measure, ("RR", "OR", "MD", "SMD", "ZCOR"))
    check_choice("smd_method", smd_method, ("borenstein", "hedges_exact"))
    check_choice("md_variance", md_variance, ("unpooled", "pooled"))
    problems = ProblemCollector("effect_sizes input")
    labels = data[study].tolist() if study else list(data.index)
    extra: dict[str, Any] = {}
    if measure in ("RR", "OR"):
        c = _columns(data, {"events_t": events_t, "n_t": n_t, "events_c": events_c, "n_c": n_c})
        a, b = c["events_t"], c["n_t"] - c["events_t"]
        cc, d = c["events_c"], c["n_c"] - c["events_c"]
        for i, lab in enumerate(labels):
            for arg, val, total in (
                ("events_t", a[i], c["n_t"][i]),
                ("events_c", cc[i], c["n_c"][i]),
            ):
                if not 0 <= val <= total or val != round(val):
                    problems.add(
                        lab,
                        arg,
                        val,
                        f"must be a whole number between 0 and the group size {total}",
                    )
        has_zero = (np.vstack([a, b, cc, d]) == 0).any(axis=0)
        if zero_cell == 0:
            for lab in np.asarray(labels, dtype=object)[has_zero]:
                problems.add(
                    lab, "2x2 table", 0, "zero cell; set zero_cell > 0 to add a correction"
                )
        problems.raise_if_any()
        add = np.where(has_zero, zero_cell, 0.0)
        a, b, cc, d = a + add, b + add, cc + add, d + add
        if measure == "RR":
            yi = np.log(a / (a + b)) - np.log(cc / (cc + d))
            vi = 1 / a - 1 / (a + b) + 1 / cc - 1 / (cc + d)
        else:
            yi = np.log(a * d / (b * cc))
            vi = 1 / a + 1 / b + 1 / cc + 1 / d
        extra = {"zero_cell_added": add}
    elif measure == "ZCOR":
        c = _columns(data, {"r": r, "n": n})
        for i, lab in enumerate(labels):
            if not -1 < c["r"][i] < 1:
                problems.add(lab, "r", c["r"][i], "must lie strictly between -1 and 1")
            if c["n"][i] < 4 or c["n"][i] != round(c["n"][i]):
                problems.add(lab, "n", c["n"][i], "must be a whole number >= 4")
        problems.raise_if_any()
        yi, vi = np.arctanh(c["r"]), 1 / (c["n"] - 3)
    else:
        c = _columns(
            data,
            {
                "mean_t": mean_t,
                "sd_t": sd_t,
                "n_t": n_t,
                "mean_c": mean_c,
                "sd_c": sd_c,
                "n_c": n_c,
            },
        )
        for i, lab in enumerate(labels):
            for arg in ("sd_t", "sd_c"):
                if c[arg][i] <= 0:
                    problems.add(lab, arg, c[arg][i], "must be > 0")
            for arg in ("n_t", "n_c"):
                if c[arg][i] < 2 or c[arg][i] != round(c[arg][i]):
                    problems.add(lab, arg, c[arg][i], "must be a whole number >= 2")
        problems.raise_if_any()
        n1, n2 = c["n_t"], c["n_c"]
        df = n1 + n2 - 2
        s_pooled = np.sqrt(((n1 - 1) * c["sd_t"] ** 2 + (n2 - 1) * c["sd_c"] ** 2) / df)
        diff = c["mean_t"] - c["mean_c"]
        if measure == "MD":
            yi = diff
            if md_variance == "unpooled":
                vi = c["sd_t"] ** 2 / n1 + c["sd_c"] ** 2 / n2
            else:
                vi = (n1 + n2) / (n1 * n2) * s_pooled**2
        else:
            dval = diff / s_pooled
            if smd_method == "borenstein":
                j = 1 - 3 / (4 * df - 1)
                yi = j * dval
                vi = j**2 * ((n1 + n2) / (n1 * n2) + dval**2 / (2 * (n1 + n2)))
            else:
                j = np.exp(
                    special.gammaln(df / 2)
                    - np.log(np.sqrt(df / 2))
                    - special.gammaln((df - 1) / 2)
                )
                yi = j * dval
                vi = 1 / n1 + 1 / n2 + yi**2 / (2 * (n1 + n2))
            extra = {"d": dval, "j": j}
    out = pd.DataFrame(
        {"study": labels, "yi": yi, "vi": vi, "sei": np.sqrt(vi), **extra, "measure": measure}
    )
    out.attrs["conventions"] = {
        "measure": measure,
        "direction": "treatment vs control",
        "zero_cell": zero_cell if measure in ("RR", "OR") else None,
        "smd_method": smd_method if measure == "SMD" else None,
        "md_variance": md_variance if measure == "MD" else None,
    }
    return out


def projection(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(X'WX)^-1`` and ``P = W - W X (X'WX)^-1 X'W`` of a weighted (meta-)regression on ``x``."""
    xtwx_inv = np.linalg.inv(x.T @ (w[:, None] * x))
    wx = w[:, None] * x
    return xtwx_inv, np.diag(w) - wx @ xtwx_inv @ wx.T


def _scoring_terms(
    y: np.ndarray, v: np.ndarray, x: np.ndarray, tau2: float
) -> tuple[float, float, float]:
    """``y'PPy``, ``tr(P)`` and ``tr(PP)`` at ``tau2`` without forming the k x k matrix P
    (O(k p^2)): with W = diag(1/(v + tau2)) and A = (X'WX)^-1, tr(P) = tr(W) - tr(A X'W^2X) and
    tr(PP) = tr(W^2) - 2 tr(A X'W^3X) + tr((A X'W^2X)^2)."""
    w = 1 / (v + tau2)
    a = np.linalg.inv(x.T @ (w[:, None] * x))
    a_w2 = a @ (x.T @ ((w**2)[:, None] * x))
    a_w3 = a @ (x.T @ ((w**3)[:, None] * x))
    py = w * y - w * (x @ (a @ (x.T @ (w * y))))
    tr_p = w.sum() - np.trace(a_w2)
    tr_pp = (w**2).sum() - 2 * np.trace(a_w3) + np.trace(a_w2 @ a_w2)
    return float(py @ py), float(tr_p), float(tr_pp)


def reml_tau2(
    y: np.ndarray,
    v: np.ndarray,
    x: np.ndarray,
    start: float,
    tol: float = 1e-10,
    max_iter: int = 200,
) -> tuple[float, float, bool]:
    """REML (residual) tau^2 of a random-effects meta-regression on ``x`` (a column of ones for
    the pooled estimate) by Fisher scoring, halving a step that would make tau^2 negative as
    metafor does (Viechtbauer 2005, doi:10.3102/10769986030003261); returns (tau2, its SE,
    converged). Memory is linear in the number of studies."""
    tau2 = max(start, 0.0)
    converged = False
    for _ in range(max_iter):
        ypy, tr_p, tr_pp = _scoring_terms(y, v, x, tau2)
        step = (ypy - tr_p) / tr_pp
        while tau2 + step < 0:
            step /= 2
            if abs(step) < 1e-12:
                step = -tau2
                break
        tau2 += step
        if abs(step) < tol:
            converged = True
            break
    return tau2, float(np.sqrt(2 / _scoring_terms(y, v, x, tau2)[2])), converged


def meta_analysis(
    yi: Any,
    vi: Any,
    *,
    method: Method = "REML",
    knapp_hartung: bool = False,
    prediction: Prediction = "metafor",
    confidence: float = 0.95,
    studies: Sequence[Any] | None = None,
    back_transform: BackTransform = "none",
) -> pd.DataFrame:
    """Pool effect sizes ``yi`` with sampling variances ``vi`` by inverse-variance weighting.

    Parameters
    ----------
    method : ``"FE"`` fixed (common) effect, ``"DL"`` DerSimonian-Laird, ``"REML"`` (default).
    knapp_hartung : Knapp-Hartung SE and t(k-1) tests and CIs (random-effects models only).
    prediction : prediction interval for the effect in a new study, mu +- crit * sqrt(tau^2 +
        SE^2) (Riley, Higgins & Deeks 2011, *BMJ* 342:d549). ``"metafor"`` (default): crit is
        the one of the CI, the normal quantile, or t(k-1) with Knapp-Hartung, so that with
        tau^2 = 0 the interval equals the CI (R metafor ``predict.rma``; Viechtbauer 2010,
        *J Stat Softw* 36(3), doi:10.18637/jss.v036.i03). ``"higgins"``: crit from t(k-2)
        (Higgins, Thompson & Spiegelhalter 2009, *J R Stat Soc A* 172:137-159; Cochrane
        Handbook §10.10.4.3; metafor ``predict(..., pi.type = "riley")``), undefined for
        k = 2.
    studies : labels for the per-study table.
    back_transform : ``"exp"`` (log RR / log OR) or ``"tanh"`` (Fisher's z to r) adds the
        pooled estimate, CI and prediction interval on the natural scale (``pooled``,
        ``pooled_ci_low``...), as metafor ``predict(res, transf = ...)``.

    Returns
    -------
    One row: model, k, estimate, se, stat, df (NaN for z), p, method, ci_low, ci_high, pi_low,
    pi_high, tau2, tau2_se (REML), tau, q, q_df, q_p, i2 (%), h2, converged. ``attrs["studies"]``
    holds the per-study yi, ci and percentage weights (for :func:`rheumetrics.stats.forest_plot`).

    Examples
    --------
    >>> res = meta_analysis([0.1, 0.3, 0.2, 0.5], [0.01, 0.02, 0.015, 0.03]).iloc[0]
    >>> [round(float(res[c]), 3) for c in ("estimate", "se", "p", "tau2")]  # metafor rma()
    [0.235, 0.077, 0.002, 0.007]
    """
    check_choice("method", method, ("FE", "DL", "REML"))
    check_choice("back_transform", back_transform, ("none", "exp", "tanh"))
    check_choice("prediction", prediction, ("higgins", "metafor"))
    check_range("confidence", confidence, 0.0, 1.0)
    (y, v), _ = validated_floats({"yi": yi, "vi": vi}, missing="raise")
    problems = ProblemCollector("meta_analysis input")
    for i in np.flatnonzero(v <= 0):
        problems.add(i, "vi", v[i], "sampling variances must be > 0")
    if y.size < 2:
        problems.add("-", "yi", y.size, "needs at least 2 studies")
    if knapp_hartung and method == "FE":
        problems.add("-", "knapp_hartung", True, "applies to random-effects models (DL, REML) only")
    problems.raise_if_any()
    k = y.size
    w = 1 / v
    sw = w.sum()
    mu_fe = (w * y).sum() / sw
    q = float((w * (y - mu_fe) ** 2).sum())
    c = sw - (w**2).sum() / sw
    tau2, tau2_se, converged = 0.0, np.nan, True
    if method == "DL":
        tau2 = max(0.0, (q - (k - 1)) / c)
    elif method == "REML":
        tau2, tau2_se, converged = reml_tau2(y, v, np.ones((k, 1)), max(0.0, (q - (k - 1)) / c))
    wr = 1 / (v + tau2)
    swr = wr.sum()
    mu = float((wr * y).sum() / swr)
    se = float(np.sqrt(1 / swr))
    df = np.nan
    dist: Any = stats.norm
    if knapp_hartung:
        df = k - 1
        se = float(np.sqrt((wr * (y - mu) ** 2).sum() / (k - 1) / swr))
        dist = stats.t(df)
    stat = mu / se
    crit = float(dist.ppf(0.5 + confidence / 2))
    if prediction == "higgins":
        pi_crit = float(stats.t(k - 2).ppf(0.5 + confidence / 2)) if k > 2 else np.nan
    else:
        pi_crit = crit
    pi_half = pi_crit * np.sqrt(tau2 + se**2)
    s2 = (k - 1) * sw / (sw**2 - (w**2).sum())  # typical within-study variance
    if method == "FE":
        i2 = max(0.0, (q - (k - 1)) / q) * 100 if q > 0 else 0.0
        h2 = q / (k - 1)
    else:
        i2 = 100 * tau2 / (tau2 + s2)
        h2 = (tau2 + s2) / s2
    weights = wr if method != "FE" else w
    z_ci = stats.norm.ppf(0.5 + confidence / 2)
    study_frame = pd.DataFrame(
        {
            "study": list(studies) if studies is not None else list(range(1, k + 1)),
            "yi": y,
            "vi": v,
            "ci_low": y - z_ci * np.sqrt(v),
            "ci_high": y + z_ci * np.sqrt(v),
            "weight_percent": 100 * weights / weights.sum(),
        }
    )
    out = result_frame(
        {
            "model": method + ("+KH" if knapp_hartung else ""),
            "k": k,
            "estimate": mu,
            "se": se,
            "stat": stat,
            "df": df,
            "p": float(2 * dist.sf(abs(stat))),
            "method": "t approximation" if knapp_hartung else "normal approximation",
            "ci_low": mu - crit * se,
            "ci_high": mu + crit * se,
            "pi_low": mu - pi_half if method != "FE" else np.nan,
            "pi_high": mu + pi_half if method != "FE" else np.nan,
            "tau2": tau2,
            "tau2_se": tau2_se,
            "tau": float(np.sqrt(tau2)),
            "q": q,
            "q_df": k - 1,
            "q_p": float(stats.chi2.sf(q, k - 1)),
            "i2": i2,
            "h2": h2,
            "converged": converged,
        },
        {
            "method": method,
            "knapp_hartung": knapp_hartung,
            "prediction_interval": prediction if method != "FE" else None,
            "i2": "tau2 / (tau2 + typical within-study variance)"
            if method != "FE"
            else "(Q - df) / Q",
            "confidence": confidence,
        },
    )
    if back_transform != "none":
        func = np.exp if back_transform == "exp" else np.tanh
        for col in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high"):
            name = "pooled" if col == "estimate" else f"pooled_{col}"
            out[name] = func(out[col])
        out.attrs["conventions"]["back_transform"] = back_transform
    out.attrs["studies"] = study_frame
    return out
