"""Multiple linear and logistic regression adjusted for named confounders (statsmodels).

The design matrix is built here, not by a formula parser, so column names need no quoting:
numeric columns enter as they are; text, boolean and categorical columns are dummy-coded
against a reference level (the first category of a pandas Categorical, else the first in
sorted order; override with ``reference``). Terms carry readable labels (``Intercept``,
``age_years``, ``sex: male vs female``) with the ``variable`` and ``level`` behind them, and
their role (``intercept``, ``predictor``, ``confounder``) so a report can show the
predictors and say which confounders they were adjusted for. Both models report the test
statistic as ``stat`` with its ``df`` (t on the residual df for least squares; Wald z, df
NaN, for the logistic model) and say which in ``method``. Rows with a missing value in any used column are
an error unless ``missing="drop"``, which drops them and reports how many.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from rheumetrics.errors import ProblemCollector
from rheumetrics.stats._common import (
    Missing,
    check_choice,
    check_columns,
    check_range,
    column_names,
    result_frame,
)

__all__ = ["linear_regression", "logistic_regression"]


Columns = str | Sequence[str]


def _design(
    data: pd.DataFrame,
    outcome: str,
    predictors: Columns,
    confounders: Columns,
    reference: Mapping[str, Any],
    missing: Missing,
) -> tuple[pd.Series, pd.DataFrame, dict[str, tuple[str, str, str]], int]:
    check_choice("missing", missing, ("raise", "drop"))
    predictors, confounders = column_names(predictors), column_names(confounders)
    used = [outcome, *predictors, *confounders]
    check_columns(data, used)
    problems = ProblemCollector("regression input")
    overlap = set(predictors) & set(confounders) | ({outcome} & set(used[1:]))
    for col in sorted(overlap):
        problems.add(
            "-",
            col,
            None,
            "a column may appear only once among outcome, predictors and confounders",
        )
    if not predictors:
        problems.add("-", "predictors", [], "name at least one predictor")
    sub = data[used]
    na_rows = sub.isna().any(axis=1)
    if missing == "raise":
        for label in sub.index[na_rows]:
            cols = [c for c in used if pd.isna(sub.at[label, c])]
            problems.add(
                label, ", ".join(cols), None, "missing; pass missing='drop' to omit the row"
            )
    problems.raise_if_any()
    sub = sub[~na_rows]

    columns: dict[str, pd.Series] = {"Intercept": pd.Series(1.0, index=sub.index)}
    roles = {"Intercept": ("intercept", "", "")}
    for col in [*predictors, *confounders]:
        role = "predictor" if col in predictors else "confounder"
        series = sub[col]
        if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
            if isinstance(series.dtype, pd.CategoricalDtype):
                levels = [lv for lv in series.cat.categories if lv in set(series)]
            else:
                levels = sorted(series.unique().tolist())
            ref = reference.get(col, levels[0])
            if ref not in levels:
                problems.add("-", col, ref, f"reference level not found; levels: {levels}")
                continue
            for level in levels:
                if level != ref:
                    name = f"{col}: {level} vs {ref}"
                    columns[name] = (series == level).astype(float)
                    roles[name] = (role, col, str(level))
        else:
            columns[col] = series.astype(float)
            roles[col] = (role, col, "")
    problems.raise_if_any()
    design = pd.DataFrame(columns)
    if np.linalg.matrix_rank(design.to_numpy()) < design.shape[1]:
        problems.add(
            "-", "design", list(design.columns), "columns are collinear (or a level never varies)"
        )
        problems.raise_if_any()
    return sub[outcome], design, roles, int(na_rows.sum())


def _term_rows(
    fit: Any, roles: Mapping[str, tuple[str, str, str]], confidence: float, df: float, method: str
) -> list[dict[str, Any]]:
    ci = np.asarray(fit.conf_int(alpha=1 - confidence))
    rows = []
    for i, term in enumerate(fit.model.exog_names):
        role, variable, level = roles[term]
        rows.append(
            {
                "term": term,
                "variable": variable,
                "level": level,
                "role": role,
                "estimate": float(fit.params.iloc[i]),
                "se": float(fit.bse.iloc[i]),
                "stat": float(fit.tvalues.iloc[i]),
                "df": df,
                "p": float(fit.pvalues.iloc[i]),
                "method": method,
                "ci_low": float(ci[i, 0]),
                "ci_high": float(ci[i, 1]),
            }
        )
    return rows


def linear_regression(
    data: pd.DataFrame,
    outcome: str,
    predictors: Columns,
    confounders: Columns = (),
    *,
    reference: Mapping[str, Any] | None = None,
    confidence: float = 0.95,
    missing: Missing = "raise",
) -> pd.DataFrame:
    """Ordinary least squares of ``outcome`` on predictors adjusted for confounders.

    ``predictors`` and ``confounders`` are column names (one name or a list). Returns one row
    per term: term, variable, level, role, estimate, se, stat (t), df (residual), p, method,
    ci_low, ci_high (t-based CI). Model-level figures are in ``attrs["model"]``: n, n_dropped,
    df_resid, r2, r2_adj, sigma (residual standard error), f, f_p. Matches R ``lm``.

    Examples
    --------
    >>> data = pd.DataFrame({"y": [1.0, 2.1, 2.9, 4.2, 5.1, 5.8], "x": [1, 2, 3, 4, 5, 6],
    ...                      "sex": ["f", "m", "f", "m", "f", "m"]})
    >>> linear_regression(data, "y", "x", "sex")["term"].tolist()
    ['Intercept', 'x', 'sex: m vs f']
    """
    import statsmodels.api as sm

    check_range("confidence", confidence, 0.0, 1.0)
    y, design, roles, dropped = _design(
        data, outcome, predictors, confounders, reference or {}, missing
    )
    y = pd.to_numeric(y, errors="raise").astype(float)
    fit = sm.OLS(y, design).fit()
    out = result_frame(
        _term_rows(fit, roles, confidence, float(fit.df_resid), "t"),
        {
            "model": "OLS",
            "coding": "treatment (dummy) coding",
            "ci": "t",
            "confounders": column_names(confounders),
        },
    )
    out.attrs["model"] = {
        "n": int(fit.nobs),
        "n_dropped": dropped,
        "df_resid": float(fit.df_resid),
        "r2": float(fit.rsquared),
        "r2_adj": float(fit.rsquared_adj),
        "sigma": float(np.sqrt(fit.scale)),
        "f": float(fit.fvalue),
        "f_p": float(fit.f_pvalue),
    }
    return out


def logistic_regression(
    data: pd.DataFrame,
    outcome: str,
    predictors: Columns,
    confounders: Columns = (),
    *,
    reference: Mapping[str, Any] | None = None,
    confidence: float = 0.95,
    missing: Missing = "raise",
) -> pd.DataFrame:
    """Binary logistic regression (maximum likelihood, statsmodels ``Logit``).

    ``outcome`` must hold only 0/1 (or booleans). Returns one row per term with the log-odds
    estimate, se, stat (Wald z; df NaN), p, method, Wald CI, and the odds ratio with its CI
    (``odds_ratio``, ``or_ci_low``, ``or_ci_high``), as R ``glm(family = binomial)`` with
    ``confint.default``. ``attrs["model"]`` has n, n_dropped, log-likelihood, McFadden
    pseudo-R2, LR chi-square and its p, and whether the fit converged (Hosmer, Lemeshow &
    Sturdivant 2013, *Applied Logistic Regression*, 3rd ed., ch. 1-2).

    Examples
    --------
    >>> data = pd.DataFrame({"y": [0, 0, 1, 0, 1, 1, 0, 1], "x": [1, 2, 3, 4, 5, 6, 7, 8]})
    >>> res = logistic_regression(data, "y", "x")
    >>> res["term"].tolist(), res["method"].iloc[1]
    (['Intercept', 'x'], 'Wald z')
    """
    import statsmodels.api as sm

    check_range("confidence", confidence, 0.0, 1.0)
    y, design, roles, dropped = _design(
        data, outcome, predictors, confounders, reference or {}, missing
    )
    y_num = pd.to_numeric(y.astype("object").map({True: 1, False: 0}).fillna(y), errors="coerce")
    bad = ~y_num.isin([0, 1])
    if bad.any():
        problems = ProblemCollector("logistic regression outcome")
        for label in y.index[bad]:
            problems.add(label, outcome, y.at[label], "must be 0 or 1")
        problems.raise_if_any()
    fit = sm.Logit(y_num.astype(float), design).fit(disp=0)
    rows = _term_rows(fit, roles, confidence, np.nan, "Wald z")
    for row in rows:
        row |= {
            "odds_ratio": float(np.exp(row["estimate"])),
            "or_ci_low": float(np.exp(row["ci_low"])),
            "or_ci_high": float(np.exp(row["ci_high"])),
        }
    out = result_frame(
        rows,
        {
            "model": "logit (ML)",
            "coding": "treatment (dummy) coding",
            "ci": "Wald",
            "confounders": column_names(confounders),
        },
    )
    out.attrs["model"] = {
        "n": int(fit.nobs),
        "n_dropped": dropped,
        "log_likelihood": float(fit.llf),
        "pseudo_r2": float(fit.prsquared),
        "lr_chi2": float(fit.llr),
        "lr_p": float(fit.llr_pvalue),
        "converged": bool(fit.mle_retvals["converged"]),
    }
    return out
