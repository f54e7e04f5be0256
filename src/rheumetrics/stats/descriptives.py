"""Descriptive statistics printed the way clinical papers print them.

``median (min, max)``, ``median (IQR)``, ``mean (SD)`` and ``n (%)``, overall or by group, as
tidy frames holding both the numbers and the formatted text. Missing values are counted and
reported (``n_missing``), never silently folded in.

Quantiles follow a named definition (Hyndman & Fan 1996): ``"linear"`` is their type 7, the
default of R and NumPy; ``"weibull"`` is type 6 (SPSS, Minitab); ``"averaged_inverted_cdf"`` is
type 2 (SAS ``PCTLDEF=5``, the SAS default). Display rounding is half-up by default
(:func:`rheumetrics.numeric.round_display`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from rheumetrics.errors import ProblemCollector
from rheumetrics.numeric import RoundingMode, round_display
from rheumetrics.stats._common import check_choice, check_columns, column_names

Summary = Literal["median_range", "median_iqr", "mean_sd"]
QuantileMethod = Literal["linear", "weibull", "averaged_inverted_cdf", "hazen", "median_unbiased"]
QUANTILE_METHODS: tuple[QuantileMethod, ...] = (
    "linear",
    "weibull",
    "averaged_inverted_cdf",
    "hazen",
    "median_unbiased",
)

__all__ = ["count_percent", "describe", "format_number"]


def format_number(
    value: float, digits: int, rounding: RoundingMode | str = "half_up", minus: str = "-"
) -> str:
    """Format one number at ``digits`` decimals with display rounding; NaN prints as ``"NA"``."""
    if value is None or not np.isfinite(value):
        return "NA"
    rounded = float(round_display(value, digits, rounding))
    text = f"{abs(rounded):.{digits}f}"
    return f"{minus}{text}" if rounded < 0 else text


def _group_items(data: pd.DataFrame, by: str | None) -> list[tuple[Any, pd.DataFrame]]:
    items: list[tuple[Any, pd.DataFrame]] = [("all", data)]
    if by is not None:
        items += [(key, part) for key, part in data.groupby(by, sort=True, observed=True)]
    return items


def describe(
    data: pd.DataFrame,
    columns: str | Sequence[str],
    by: str | None = None,
    *,
    summary: Summary = "median_range",
    digits: int = 1,
    quantile_method: QuantileMethod = "linear",
    rounding: RoundingMode | str = "half_up",
    minus: str = "-",
) -> pd.DataFrame:
    """Summarise numeric columns overall (group ``"all"``) and by ``by``.

    Parameters
    ----------
    data : DataFrame
    columns : names of numeric columns to summarise.
    by : optional grouping column; one row per column and group, plus the ``"all"`` rows.
    summary : which summary the ``text`` column prints: ``"median_range"`` -> ``"54.5 (24.0, 82.0)"``,
        ``"median_iqr"`` -> ``"median (Q1, Q3)"``, ``"mean_sd"`` -> ``"mean (SD)"``.
    digits : decimals shown in ``text`` (numbers in the other columns are unrounded).
    quantile_method : NumPy quantile method for Q1/median/Q3 (see module docstring).
    rounding, minus : display rounding mode and the minus sign used in ``text``.

    Returns
    -------
    DataFrame with columns variable, group, n, n_missing, mean, sd (n-1 denominator), median,
    q1, q3, min, max, text.

    Examples
    --------
    >>> df = pd.DataFrame({"age": [24, 50, 82], "grp": ["A", "A", "B"]})
    >>> describe(df, ["age"], summary="median_range", digits=0)["text"].tolist()
    ['50 (24, 82)']
    """
    check_choice("summary", summary, ("median_range", "median_iqr", "mean_sd"))
    check_choice("quantile_method", quantile_method, QUANTILE_METHODS)
    columns = column_names(columns)
    check_columns(data, [*columns, *([by] if by else [])])
    problems = ProblemCollector("describe: non-numeric values")
    for col in columns:
        numeric = pd.to_numeric(data[col], errors="coerce")
        for label in data.index[numeric.isna() & data[col].notna()]:
            problems.add(label, col, data.at[label, col], "must be numeric")
    problems.raise_if_any()

    rows: list[dict[str, Any]] = []
    for col in columns:
        for key, part in _group_items(data, by):
            values = pd.to_numeric(part[col], errors="coerce").to_numpy(
                dtype=float, na_value=np.nan
            )
            present = values[~np.isnan(values)]
            row: dict[str, Any] = {
                "variable": col,
                "group": key,
                "n": int(present.size),
                "n_missing": int(values.size - present.size),
            }
            if present.size:
                q1, med, q3 = np.quantile(present, [0.25, 0.5, 0.75], method=quantile_method)
                row |= {
                    "mean": float(present.mean()),
                    "sd": float(present.std(ddof=1)) if present.size > 1 else np.nan,
                    "median": float(med),
                    "q1": float(q1),
                    "q3": float(q3),
                    "min": float(present.min()),
                    "max": float(present.max()),
                }
            else:
                row |= dict.fromkeys(("mean", "sd", "median", "q1", "q3", "min", "max"), np.nan)

            def fmt(v: float) -> str:
                return format_number(v, digits, rounding, minus)

            if summary == "median_range":
                row["text"] = f"{fmt(row['median'])} ({fmt(row['min'])}, {fmt(row['max'])})"
            elif summary == "median_iqr":
                row["text"] = f"{fmt(row['median'])} ({fmt(row['q1'])}, {fmt(row['q3'])})"
            else:
                row["text"] = f"{fmt(row['mean'])} ({fmt(row['sd'])})"
            rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs["conventions"] = {
        "summary": summary,
        "quantile_method": quantile_method,
        "sd_denominator": "n-1",
        "digits": digits,
        "rounding": str(RoundingMode(rounding)),
        "missing": "excluded and counted in n_missing",
    }
    return out


def count_percent(
    data: pd.DataFrame,
    columns: str | Sequence[str],
    by: str | None = None,
    *,
    digits: int = 1,
    percent_sign: bool = False,
    rounding: RoundingMode | str = "half_up",
) -> pd.DataFrame:
    """Counts and percentages of every level of categorical columns, as ``"n (%)"``.

    Percentages use the non-missing values of the group as denominator; missing values are
    reported as their own ``n_missing`` column. Levels follow the categorical order when the
    column is a pandas Categorical, otherwise sorted order.

    Returns
    -------
    DataFrame with columns variable, group, level, n, total, n_missing, percent, text
    (``"42 (73.7)"``, or ``"42 (73.7%)"`` with ``percent_sign``).
    """
    columns = column_names(columns)
    check_columns(data, [*columns, *([by] if by else [])])
    rows: list[dict[str, Any]] = []
    for col in columns:
        series = data[col]
        if isinstance(series.dtype, pd.CategoricalDtype):
            levels = list(series.cat.categories)
        else:
            levels = sorted(series.dropna().unique().tolist(), key=lambda v: (str(type(v)), v))
        for key, part in _group_items(data, by):
            values = part[col]
            total = int(values.notna().sum())
            counts = values.value_counts(dropna=True)
            for level in levels:
                n = int(counts.get(level, 0))
                percent = 100.0 * n / total if total else np.nan
                shown = format_number(percent, digits, rounding)
                rows.append(
                    {
                        "variable": col,
                        "group": key,
                        "level": level,
                        "n": n,
                        "total": total,
                        "n_missing": int(values.isna().sum()),
                        "percent": percent,
                        "text": f"{n} ({shown}{'%' if percent_sign else ''})",
                    }
                )
    out = pd.DataFrame(rows)
    out.attrs["conventions"] = {
        "denominator": "non-missing values of the group",
        "digits": digits,
        "rounding": str(RoundingMode(rounding)),
    }
    return out
