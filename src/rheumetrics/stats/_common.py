"""Input checks and result framing shared by the statistics modules.

Every public statistics function validates its inputs here (so messages read the same
everywhere) and returns a tidy :class:`pandas.DataFrame` whose ``attrs["conventions"]`` records
every choice that changes a number (variant, zero handling, CI method...).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from rheumetrics.errors import ProblemCollector, ValidationError

Alternative = Literal["two-sided", "less", "greater"]
Missing = Literal["raise", "drop"]

ALTERNATIVES: tuple[str, ...] = ("two-sided", "less", "greater")


def check_choice(name: str, value: Any, allowed: Iterable[Any]) -> None:
    """Raise :class:`ValidationError` if ``value`` is not one of ``allowed``."""
    allowed = tuple(allowed)
    if value not in allowed:
        problems = ProblemCollector(f"invalid argument {name!r}")
        problems.add("-", name, value, f"must be one of {', '.join(map(repr, allowed))}")
        problems.raise_if_any()


def check_range(
    name: str, value: float, low: float, high: float, *, inclusive: bool = False
) -> None:
    """Raise unless ``low < value < high`` (or ``<=`` when ``inclusive``)."""
    ok = low <= value <= high if inclusive else low < value < high
    if not (np.isfinite(value) and ok):
        sign = "<=" if inclusive else "<"
        problems = ProblemCollector(f"invalid argument {name!r}")
        problems.add("-", name, value, f"must satisfy {low} {sign} {name} {sign} {high}")
        problems.raise_if_any()


def _as_float(values: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Float array, missing mask and invalid mask of one input, without a Python list.

    Float and integer NumPy arrays (and Series of those dtypes) pass straight through; only
    object or text input goes through :func:`pandas.to_numeric`. Booleans are refused, as
    they are not measurements.
    """
    raw = values.to_numpy() if isinstance(values, pd.Series) else values
    if isinstance(raw, np.ndarray) and raw.dtype.kind in "fiu":
        arr = np.ravel(raw).astype(float, copy=False)
        is_na = np.isnan(arr)
        return arr, is_na, np.isinf(arr)
    series = (
        values
        if isinstance(values, pd.Series)
        else pd.Series(np.ravel(np.asarray(values, dtype=object)))
    )
    is_na = series.isna().to_numpy()
    kinds = series.map(type)
    is_bool = kinds.isin([bool, np.bool_]).to_numpy()
    arr = pd.to_numeric(series.mask(is_bool), errors="coerce").to_numpy(
        dtype=float, na_value=np.nan
    )
    bad = (np.isnan(arr) & ~is_na) | np.isinf(arr) | is_bool
    return arr, is_na, bad


def validated_floats(
    named: Mapping[str, Any], *, missing: Missing = "raise", extra_missing: Any = None
) -> tuple[list[np.ndarray], np.ndarray]:
    """Check every value of equally long array-likes; return float arrays (NaN kept) and the NA mask.

    Non-numeric or infinite values are always an error; missing values (NaN/None/NA, plus the
    records flagged in ``extra_missing``) are an error when ``missing="raise"``. The mask marks
    records missing in any input, for pairwise deletion.
    """
    check_choice("missing", missing, ("raise", "drop"))
    problems = ProblemCollector("invalid statistics input")
    arrays: list[np.ndarray] = []
    sizes = {}
    any_na: np.ndarray | None = None
    for field, values in named.items():
        arr, is_na, bad = _as_float(values)
        if bad.any() or (missing == "raise" and is_na.any()):
            series = values if isinstance(values, pd.Series) else pd.Series(np.ravel(values))
            labels = series.index
            for i in np.flatnonzero(bad):
                problems.add(labels[i], field, series.iloc[i], "must be a finite number")
            if missing == "raise":
                for i in np.flatnonzero(is_na):
                    problems.add(
                        labels[i], field, series.iloc[i], "missing; pass missing='drop' to omit"
                    )
        arrays.append(arr)
        sizes[field] = arr.size
        any_na = (
            is_na if any_na is None else (any_na | is_na if any_na.size == is_na.size else any_na)
        )
    if len(set(sizes.values())) > 1:
        problems.add("-", "/".join(named), sizes, "inputs must have the same length")
    problems.raise_if_any()
    mask = np.zeros(0, bool) if any_na is None else any_na
    if extra_missing is not None:
        mask = mask | np.asarray(extra_missing, dtype=bool)
    return arrays, mask


def numeric_vectors(
    named: Mapping[str, Any],
    *,
    missing: Missing = "raise",
    paired: bool = False,
    min_n: int = 1,
) -> tuple[list[np.ndarray], int]:
    """Turn array-likes into float arrays, checking every value.

    Non-numeric values are always an error. Missing values (NaN/None/NA) are an error when
    ``missing="raise"``; with ``missing="drop"`` they are removed (pairwise when ``paired``) and
    the number of dropped records is returned, so callers can report it.
    """
    if paired:
        arrays, mask = validated_floats(named, missing=missing)
        arrays = [a[~mask] for a in arrays]
        dropped = int(mask.sum())
    else:
        arrays, dropped = [], 0
        problems = ProblemCollector("invalid statistics input")
        for field, values in named.items():
            try:
                (arr,), mask = validated_floats({field: values}, missing=missing)
            except ValidationError as err:
                problems.extend(err.problems)
                continue
            arrays.append(arr[~mask])
            dropped += int(mask.sum())
        problems.raise_if_any()
    problems = ProblemCollector("invalid statistics input")
    for field, arr in zip(named, arrays, strict=True):
        if arr.size < min_n:
            problems.add("-", field, arr.size, f"needs at least {min_n} non-missing values")
    problems.raise_if_any()
    return arrays, dropped


def column_names(columns: str | Iterable[str]) -> list[str]:
    """One column name or several, as a list (a single string is one name, not characters)."""
    return [columns] if isinstance(columns, str) else list(columns)


def check_columns(df: pd.DataFrame, columns: Iterable[str], *, where: str = "data") -> None:
    """Raise one error naming every requested column that ``df`` lacks."""
    problems = ProblemCollector(f"missing columns in {where}")
    for col in columns:
        if col not in df.columns:
            problems.add(
                "-", col, None, f"column not found; available: {', '.join(map(str, df.columns))}"
            )
    problems.raise_if_any()


def seed_label(rng: Any) -> str:
    """How a Monte Carlo result can be repeated: its integer seed, or that it cannot."""
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return f"seed {int(rng)}"
    if rng is None:
        return "unseeded"
    return "seeded Generator"


def result_frame(
    rows: list[dict[str, Any]] | dict[str, Any], conventions: Mapping[str, Any]
) -> pd.DataFrame:
    """Build the tidy result frame and record the conventions used."""
    frame = pd.DataFrame([rows] if isinstance(rows, dict) else rows)
    frame.attrs["conventions"] = dict(conventions)
    return frame
