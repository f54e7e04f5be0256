"""Adjusted (least-squares, estimated marginal) group means from a linear model.

The adjusted mean of a group is the linear model's prediction for that group on a reference
grid: numeric covariates at their means over the rows used, and every other categorical
covariate averaged over its levels. ``weights="equal"`` averages the levels with equal
weights (SAS ``LSMEANS``, R ``emmeans``; Searle, Speed & Milliken 1980,
doi:10.1080/00031305.1980.10483031); ``weights="proportional"`` weights them by their share of
the rows, which is the prediction at every dummy column's mean (R ``predict(lm,
interval = "confidence")`` on a numeric 0/1 coding). The difference between two groups'
adjusted means is the model's group coefficient whatever the weights; its t test is the
between-group p-value of the adjusted analysis (ANCOVA).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from rheumetrics.errors import ProblemCollector
from rheumetrics.stats._common import Missing, check_choice, check_range, column_names, result_frame
from rheumetrics.stats.regression import Columns, _design

__all__ = ["adjusted_means"]

Weights = Literal["equal", "proportional"]


def adjusted_means(
    data: pd.DataFrame,
    outcome: str,
    by: str,
    predictors: Columns = (),
    confounders: Columns = (),
    *,
    reference: Mapping[str, Any] | None = None,
    weights: Weights = "equal",
    confidence: float = 0.95,
    missing: Missing = "raise",
) -> pd.DataFrame:
    """Adjusted mean of ``outcome`` in each level of ``by`` and each level's difference from
    the reference level, from the OLS fit of ``outcome`` on ``by``, ``predictors`` and
    ``confounders`` (no interactions).

    Returns one row per level (``kind = "adjusted mean"``: level, estimate, se, df, stat, p of
    the mean against 0, t-based ci_low and ci_high, n of the level among the rows used) and one
    per non-reference level (``kind = "difference"``, level ``"B - A"``: the adjusted
    difference from the reference level and its t test). ``attrs["model"]`` has n, n_dropped,
    df_resid and the covariate values of the reference grid.

    Examples
    --------
    >>> d = pd.DataFrame({"y": [1.0, 2.0, 3.5, 3.0, 4.5, 6.0], "x": [1, 2, 3, 1, 2, 3],
    ...                   "g": ["a", "a", "a", "b", "b", "b"]})
    >>> res = adjusted_means(d, "y", "g", "x")
    >>> res[["kind", "level"]].values.tolist()
    [['adjusted mean', 'a'], ['adjusted mean', 'b'], ['difference', 'b - a']]
    >>> [round(float(v), 4) for v in res["estimate"]]
    [2.1667, 4.5, 2.3333]
    """
    import statsmodels.api as sm
    from scipy import stats

    check_choice("weights", weights, ("equal", "proportional"))
    check_range("confidence", confidence, 0.0, 1.0)
    preds, conf = column_names(predictors), column_names(confounders)
    y, design, roles, dropped = _design(data, outcome, [by, *preds], conf, reference or {}, missing)
    if not any(roles[c][1] == by and roles[c][2] for c in design.columns):
        problems = ProblemCollector("adjusted means")
        problems.add("-", by, None, "must be a categorical column with at least two levels")
        problems.raise_if_any()
    y = pd.to_numeric(y, errors="raise").astype(float)
    fit = sm.OLS(y, design).fit()
    beta = fit.params.to_numpy()
    cov = np.asarray(fit.cov_params())
    df = float(fit.df_resid)
    # the reference grid: numeric columns at their means, dummies of other factors averaged
    grid = np.zeros(len(design.columns))
    by_columns: dict[str, int] = {}
    levels_of: dict[str, list[str]] = {}
    for k, name in enumerate(design.columns):
        role, variable, level = roles[name]
        if role == "intercept":
            grid[k] = 1.0
        elif variable == by and level:
            by_columns[level] = k
        elif level:
            levels_of.setdefault(variable, []).append(name)
        else:
            grid[k] = float(design[name].mean())
    for names in levels_of.values():
        for name in names:
            k = design.columns.get_loc(name)
            n_levels = len(names) + 1  # the reference level has no column
            grid[k] = 1.0 / n_levels if weights == "equal" else float(design[name].mean())
    series = data.loc[design.index, by].astype(str)
    ref_level = next(lv for lv in series.unique() if lv not in by_columns)
    order = [ref_level, *by_columns]
    quantile = float(stats.t.isf((1 - confidence) / 2, df))
    rows: list[dict[str, Any]] = []

    def row(kind: str, level: str, vector: np.ndarray, n: int) -> dict[str, Any]:
        est = float(vector @ beta)
        se = float(np.sqrt(vector @ cov @ vector))
        t = est / se if se > 0 else np.nan
        return {"kind": kind, "level": level, "estimate": est, "se": se, "df": df, "stat": t,
                "p": float(2 * stats.t.sf(abs(t), df)), "ci_low": est - quantile * se,
                "ci_high": est + quantile * se, "n": n}  # fmt: skip

    counts = series.value_counts()
    for level in order:
        vector = grid.copy()
        if level in by_columns:
            vector[by_columns[level]] = 1.0
        rows.append(row("adjusted mean", level, vector, int(counts.get(level, 0))))
    for level, k in by_columns.items():
        vector = np.zeros(len(grid))
        vector[k] = 1.0
        n = int(counts.get(level, 0) + counts.get(ref_level, 0))
        rows.append(row("difference", f"{level} - {ref_level}", vector, n))
    out = result_frame(
        rows,
        {
            "model": "OLS, no interactions",
            "weights": weights,
            "grid": "numeric covariates at their means; other factors "
            + ("averaged with equal weights" if weights == "equal" else "at their observed shares"),
            "ci": "t",
            "confounders": conf,
        },
    )
    out.attrs["model"] = {
        "n": int(fit.nobs),
        "n_dropped": dropped,
        "df_resid": df,
        "grid": {str(c): float(v) for c, v in zip(design.columns, grid, strict=True)},
    }
    return out
