"""The one place where units are converted: units live in column names and in this one converter.

Users may supply a column in another unit under its own unit-bearing name; :func:`to_canonical`
converts it once, at the boundary, to the canonical column. Giving both forms of one quantity is an
error, never a silent choice.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
import pandas as pd

from rheumetrics.errors import ProblemCollector, UnitWarning, ValidationError

#: alternative column -> (canonical column, factor to multiply by). 1 mg/dL = 10 mg/L.
ALTERNATIVES: dict[str, tuple[str, float]] = {
    "crp_mg_dl": ("crp_mg_l", 10.0),
    "ptga_mm": ("ptga", 0.1),
    "phga_mm": ("phga", 0.1),
    "pain_mm": ("pain", 0.1),
    "gh_cm": ("gh_mm", 10.0),
}

#: A CRP above this many mg/dL (300 mg/L) is implausible and is most likely mg/L given as mg/dL.
CRP_MG_DL_IMPLAUSIBLE = 30.0


def warn_crp_unit(values: np.ndarray, unit: str) -> None:
    """Warn when CRP values given as mg/dL look like mg/L (above 30 mg/dL = 300 mg/L)."""
    if unit == "mg/dL" and np.nanmax(values, initial=-np.inf) > CRP_MG_DL_IMPLAUSIBLE:
        warnings.warn(
            f"CRP values above {CRP_MG_DL_IMPLAUSIBLE:g} mg/dL found: are they in mg/L? "
            "Use the crp_mg_l column for mg/L (1 mg/dL = 10 mg/L).",
            UnitWarning,
            stacklevel=3,
        )


#: CRP values below this many mg/L ...
CRP_MG_L_SMALL = 10.0
#: ... given with hundredths in at least this share of a ``crp_mg_l`` column look like mg/dL.
CRP_MG_DL_SHARE = 0.5


def crp_unit_warning(df: pd.DataFrame) -> None:
    """Warn when a ``crp_mg_l`` column looks like it holds mg/dL values (1.57 typed for 15.7).

    Laboratories report CRP in mg/L to at most one decimal and in mg/dL to two (0.57 mg/dL), so a
    column whose values are mostly below 10 with a hundredths digit is most likely mg/dL; a
    warning, not an error (high-sensitivity CRP is reported in mg/L with hundredths).

    Examples
    --------
    >>> import warnings, pandas as pd
    >>> with warnings.catch_warnings(record=True) as seen:
    ...     warnings.simplefilter("always")
    ...     crp_unit_warning(pd.DataFrame({"crp_mg_l": [1.57, 0.42, 12.0]}))
    >>> print(seen[0].message)  # doctest: +ELLIPSIS
    crp_mg_l: 2 of 3 values are below 10 with hundredths (e.g. 1.57), as CRP in mg/dL is ...
    """
    if "crp_mg_l" not in df.columns:
        return
    values = pd.to_numeric(df["crp_mg_l"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    values = values[np.isfinite(values)]
    if not len(values):
        return
    tenths = values * 10
    with np.errstate(invalid="ignore"):
        looks = (values < CRP_MG_L_SMALL) & (np.abs(tenths - np.round(tenths)) > 1e-6)
    if looks.sum() and looks.mean() >= CRP_MG_DL_SHARE:
        warnings.warn(
            f"crp_mg_l: {looks.sum()} of {len(values)} values are below {CRP_MG_L_SMALL:g} with "
            f"hundredths (e.g. {values[looks][0]:g}), as CRP in mg/dL is reported; if they are "
            "mg/dL, name the column crp_mg_dl (1 mg/dL = 10 mg/L)",
            UnitWarning,
            stacklevel=2,
        )


def to_canonical(df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with alternative-unit columns converted to their canonical columns.

    Examples
    --------
    >>> import pandas as pd
    >>> to_canonical(pd.DataFrame({"crp_mg_dl": [1.5], "ptga_mm": [40]})).to_dict("list")
    {'crp_mg_l': [15.0], 'ptga': [4.0]}
    """
    problems = ProblemCollector("unit conversion")
    out = df
    for alt, (canonical, factor) in ALTERNATIVES.items():
        if alt not in df.columns:
            continue
        if canonical in df.columns:
            problems.add("all", alt, "column", f"give either {alt} or {canonical}, not both")
            continue
        values = pd.to_numeric(df[alt], errors="coerce")
        bad = values.isna() & df[alt].notna()
        for rec, v in df.loc[bad, alt].items():
            problems.add(rec, alt, v, "must be a number")
        if alt == "crp_mg_dl":
            warn_crp_unit(values.to_numpy(dtype=float, na_value=np.nan), "mg/dL")
        out = out.drop(columns=alt).assign(**{canonical: values * factor})
    out = _stiffness_columns_to_q6(out, problems)
    problems.raise_if_any()
    return out


# --- BASDAI Q6 from a morning-stiffness duration (a mapping, not a plain factor) -----------------
#
# BASDAI question 6 is the duration of morning stiffness on a 0-10 scale anchored at 0, 1/2, 1,
# 1 1/2 and 2 or more hours = 0, 2.5, 5, 7.5, 10 (Garrett S et al. J Rheumatol 1994;21:2286-2291). A
# duration recorded in hours or minutes maps linearly onto it: 0 h -> 0, >= 2 h -> 10.

#: Alternative columns for ``basdai_q6`` giving the duration itself, with minutes per unit.
STIFFNESS_DURATION_COLUMNS: dict[str, float] = {
    "morning_stiffness_h": 60.0,
    "morning_stiffness_min": 1.0,
}
#: Durations of 2 hours or more score 10.
STIFFNESS_FULL_SCALE_MIN = 120.0
#: Longest duration accepted (a plausibility bound, not part of the BASDAI definition).
STIFFNESS_MAX_MIN = 24 * 60.0


def _stiffness_problem(minutes: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (minutes < 0) | (minutes > STIFFNESS_MAX_MIN) | np.isinf(minutes)


def stiffness_duration_to_q6(duration: Any, unit: Literal["h", "min"]) -> Any:
    """BASDAI Q6 (0-10) from a morning-stiffness duration in hours or minutes.

    ``min(minutes, 120) / 12``: 0 h -> 0, 1 h -> 5, 2 h or more -> 10 (Garrett 1994).
    Accepts a scalar, array or Series; NaN stays NaN. Durations below 0 or above 24 h are an error
    naming every bad value.
    """
    column = {"h": "morning_stiffness_h", "min": "morning_stiffness_min"}[unit]
    series = duration if isinstance(duration, pd.Series) else None
    minutes = np.asarray(duration, dtype=float) * STIFFNESS_DURATION_COLUMNS[column]
    bad = _stiffness_problem(minutes)
    if bad.any():
        problems = ProblemCollector("morning-stiffness duration")
        values = np.asarray(duration, dtype=float)
        labels = series.index if series is not None else None
        for pos in np.flatnonzero(bad.reshape(-1)):
            record = labels[pos] if labels is not None else pos
            problems.add(record, column, float(values.reshape(-1)[pos]), _STIFFNESS_RULE[unit])
        problems.raise_if_any()
    q6 = np.minimum(minutes, STIFFNESS_FULL_SCALE_MIN) / (STIFFNESS_FULL_SCALE_MIN / 10.0)
    if series is not None:
        return pd.Series(q6, index=series.index, name="basdai_q6")
    return float(q6) if q6.ndim == 0 else q6


_STIFFNESS_RULE = {
    "h": f"must be a duration >= 0 and <= {STIFFNESS_MAX_MIN / 60:g} h",
    "min": f"must be a duration >= 0 and <= {STIFFNESS_MAX_MIN:g} min",
}


def _stiffness_columns_to_q6(df: pd.DataFrame, problems: ProblemCollector) -> pd.DataFrame:
    """Replace a ``morning_stiffness_h`` / ``_min`` column by ``basdai_q6`` (collecting problems)."""
    given = [c for c in STIFFNESS_DURATION_COLUMNS if c in df.columns]
    if not given:
        return df
    if len(given) > 1 or "basdai_q6" in df.columns:
        both = ", ".join([*given, *(["basdai_q6"] if "basdai_q6" in df.columns else [])])
        problems.add("all", given[0], "column", f"give only one of {both}")
        return df
    col = given[0]
    values = pd.to_numeric(df[col], errors="coerce")
    for rec, v in df.loc[values.isna() & df[col].notna(), col].items():
        problems.add(rec, col, v, "must be a number")
    unit: Literal["h", "min"] = "h" if col.endswith("_h") else "min"
    try:
        q6 = stiffness_duration_to_q6(values, unit)
    except ValidationError as err:
        problems.extend(err.problems)
        return df
    return df.drop(columns=col).assign(basdai_q6=q6)
