"""Typed record fields and the vectorised parsers that turn source columns into stored values.

Every parser takes a raw column (strings from CSV/Excel/REDCap, or typed columns from Parquet),
returns the parsed column and reports each value it cannot use as a
:class:`~rheumetrics.errors.Problem` naming the source row, the source column, the raw value and
the rule. Nothing is coerced silently: an unparseable value is a problem, never a NaN.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rheumetrics.errors import Problem
from rheumetrics.numeric import snap
from rheumetrics.store import models

#: Spellings accepted for booleans when the mapping gives no ``values`` table (case-insensitive).
TRUE_WORDS = ("1", "true", "yes", "y")
FALSE_WORDS = ("0", "false", "no", "n")
#: Earliest date accepted anywhere (before it a date is taken as a typing error).
EARLIEST_DATE = dt.date(1900, 1, 1)

STOP_REASONS = (
    "inefficacy",
    "adverse_event",
    "remission",
    "patient_preference",
    "pregnancy",
    "cost",
    "other",
    "unknown",
)
MODALITIES = ("MRI", "XR", "US", "CT")


@dataclass(frozen=True)
class FieldType:
    """What a record field holds and what is allowed."""

    kind: str  # text | enum | number | integer | date | bool
    required: bool = False
    choices: tuple[Any, ...] = ()
    min: float | None = None
    max: float | None = None
    max_len: int = 64

    def rule(self) -> str:
        if self.kind == "enum":
            return "must be one of " + ", ".join(map(str, self.choices))
        if self.kind == "date":
            return "must be a date on or after 1900-01-01 and not in the future"
        if self.kind == "bool":
            return "must be true or false (" + "/".join(TRUE_WORDS + FALSE_WORDS) + ")"
        if self.kind in ("number", "integer"):
            kind = "an integer" if self.kind == "integer" else "a number"
            lo = "" if self.min is None else f" >= {self.min:g}"
            hi = "" if self.max is None else f" and <= {self.max:g}"
            return f"must be {kind}{lo}{hi}"
        return f"must be text of at most {self.max_len} characters"


PATIENT_FIELDS: dict[str, FieldType] = {
    "id": FieldType("text", required=True),
    "diagnosis": FieldType("enum", choices=tuple(models.DIAGNOSES)),
    "sex": FieldType("enum", choices=models.SEXES),
    "birth_year": FieldType("integer", min=1900, max=dt.date.today().year),
    "rf": FieldType("bool"),
    "acpa": FieldType("bool"),
    "hla_b27": FieldType("bool"),
}
VISIT_FIELDS: dict[str, FieldType] = {
    "date": FieldType("date", required=True),
    "kind": FieldType("enum", choices=models.VISIT_KINDS),
    "label": FieldType("text"),
}
THERAPY_FIELDS: dict[str, FieldType] = {
    "drug": FieldType("text", required=True),
    "drug_class": FieldType("enum", required=True, choices=models.DRUG_CLASSES),
    "dose": FieldType("number", min=0),
    "dose_unit": FieldType("text", max_len=16),
    "route": FieldType("enum", choices=models.ROUTES),
    "start_date": FieldType("date", required=True),
    "stop_date": FieldType("date"),
    "stop_reason": FieldType("enum", choices=STOP_REASONS),
}
IMAGING_FIELDS: dict[str, FieldType] = {
    "time_point": FieldType("text", required=True, max_len=32),
    "image_date": FieldType("date"),
    "side": FieldType("enum", required=True, choices=models.SIDES),
    "modality": FieldType("enum", required=True, choices=MODALITIES),
    "scoring_system": FieldType("text", required=True, max_len=32),
    "scoring_version": FieldType("text", required=True, max_len=32),
    "reader": FieldType("text", required=True, max_len=32),
    "reading_session": FieldType("text", max_len=32),
    "reading_design": FieldType("enum", choices=models.READING_DESIGNS),
    "site": FieldType("text", required=True, max_len=48),
    "feature": FieldType("text", required=True, max_len=32),
    "grade": FieldType("number", min=0),
    "not_assessable": FieldType("bool"),
}


class Reporter:
    """Collects problems for one source file and remembers which rows are bad."""

    def __init__(self, source: str, rows: pd.Index) -> None:
        self.source = source
        self.rows = rows  # row labels as the user sees them (line numbers)
        self.problems: list[Problem] = []
        self.bad = np.zeros(len(rows), dtype=bool)

    def flag(
        self, mask: np.ndarray, field: str, values: Any, rule: str | Callable[[Any], str]
    ) -> None:
        """Report every position where ``mask`` is true."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        self.bad |= mask
        scalar = values is None or np.isscalar(values)
        vals = None if scalar else np.asarray(values, dtype=object)
        for i in np.flatnonzero(mask):
            v = vals[i] if vals is not None else values
            v = None if v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v
            text = rule(v) if callable(rule) else rule
            self.problems.append(Problem(self.rows[i], field, v, text, self.source))

    def add(self, pos: int, field: str, value: Any, rule: str) -> None:
        """Report one problem at row position ``pos``."""
        self.bad[pos] = True
        value = None if value is pd.NA or (isinstance(value, float) and np.isnan(value)) else value
        self.problems.append(Problem(self.rows[pos], field, value, rule, self.source))

    def file_problem(self, field: str, value: Any, rule: str) -> None:
        """A problem with the file as a whole (e.g. a missing column); every row is unusable."""
        self.bad[:] = True
        self.problems.append(Problem("(file)", field, value, rule, self.source))


def missing(raw: pd.Series) -> np.ndarray:
    """True where a raw value is missing (NA, or blank text)."""
    na = raw.isna().to_numpy(dtype=bool, copy=True)
    if _is_text(raw):
        na |= (raw.fillna("").astype(str).str.strip() == "").to_numpy(dtype=bool)
    return na


def _is_text(raw: pd.Series) -> bool:
    return raw.dtype == object or pd.api.types.is_string_dtype(raw.dtype)


def _strip(raw: pd.Series) -> pd.Series:
    return raw.astype("string").str.strip()


def apply_value_map(
    raw: pd.Series, table: Mapping[str, Any], field: str, rep: Reporter
) -> pd.Series:
    """Translate source codes with the mapping's ``values`` table; unknown codes are problems."""
    text = _strip(raw)
    na = missing(raw)
    out = text.map(dict(table)).astype(object)
    unknown = ~na & out.isna().to_numpy()
    allowed = ", ".join(repr(k) for k in table)
    rep.flag(unknown, field, raw, f"code not in the mapping's values table ({allowed})")
    out[na | unknown] = None
    return out


def parse_number(raw: pd.Series, field: str, rep: Reporter, rule: str) -> pd.Series:
    """Float column; non-numbers are problems (``rule`` says what is allowed)."""
    if pd.api.types.is_bool_dtype(raw.dtype):
        rep.flag(~raw.isna().to_numpy(), field, raw, rule)
        return pd.Series(np.nan, index=raw.index)
    if pd.api.types.is_numeric_dtype(raw.dtype):
        return raw.astype("float64")
    na = missing(raw)
    num = pd.to_numeric(_strip(raw), errors="coerce").astype("float64")
    bad = ~na & num.isna().to_numpy()
    rep.flag(bad, field, raw, f"not a number; {rule}")
    return num


def check_range(
    values: pd.Series,
    raw: pd.Series,
    field: str,
    rep: Reporter,
    lo: float | None,
    hi: float | None,
    integer: bool,
    rule: str,
    lo_inclusive: bool = True,
) -> pd.Series:
    """NaN-out and report values outside ``[lo, hi]`` (``(lo, hi]`` when ``lo_inclusive`` is
    false) or not integral (compared after snap)."""
    v = snap(values.to_numpy(dtype=float))
    ok = ~np.isnan(v)
    bad = np.zeros(len(v), dtype=bool)
    with np.errstate(invalid="ignore"):
        if lo is not None:
            bad |= ok & ((v < lo) if lo_inclusive else (v <= lo))
        if hi is not None:
            bad |= ok & (v > hi)
        if integer:
            bad |= ok & (v != np.round(v))
    rep.flag(bad, field, raw, rule)
    out = values.copy()
    out[bad] = np.nan
    return out


def parse_date(raw: pd.Series, field: str, rep: Reporter, fmt: str) -> pd.Series:
    """datetime64 column; unparseable, pre-1900 and future dates are problems."""
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        parsed = pd.to_datetime(raw).dt.tz_localize(None) if raw.dt.tz else pd.to_datetime(raw)
        na = raw.isna().to_numpy()
    elif raw.dtype == object and raw.map(lambda x: isinstance(x, dt.date)).any():
        parsed = pd.to_datetime(raw, errors="coerce")
        na = raw.isna().to_numpy()
        rep.flag(~na & parsed.isna().to_numpy(), field, raw, f"not a date in the format {fmt}")
    else:
        na = missing(raw)
        parsed = pd.to_datetime(_strip(raw), format=fmt, errors="coerce")
        rep.flag(~na & parsed.isna().to_numpy(), field, raw, f"not a date in the format {fmt}")
    parsed = parsed.astype("datetime64[s]").dt.normalize()
    today = pd.Timestamp(dt.date.today())
    out_of_range = (parsed < pd.Timestamp(EARLIEST_DATE)) | (parsed > today)
    out_of_range = out_of_range.fillna(False).to_numpy(dtype=bool)
    rep.flag(out_of_range, field, raw, "date must be on or after 1900-01-01 and not in the future")
    parsed[out_of_range] = pd.NaT
    return parsed


def parse_bool(raw: pd.Series, field: str, rep: Reporter) -> pd.Series:
    """Nullable boolean column from the accepted spellings (or 0/1 numbers)."""
    if pd.api.types.is_bool_dtype(raw.dtype):
        return raw.astype("boolean")
    na = missing(raw)
    text = raw.astype("string").str.strip().str.lower()
    if pd.api.types.is_numeric_dtype(raw.dtype):
        text = pd.Series(
            np.where(na, None, raw.astype(str).str.replace(r"\.0$", "", regex=True)),
            index=raw.index,
            dtype="string",
        )
    is_true = text.isin(TRUE_WORDS).fillna(False).to_numpy(dtype=bool)
    is_false = text.isin(FALSE_WORDS).fillna(False).to_numpy(dtype=bool)
    bad = ~na & ~is_true & ~is_false
    rep.flag(bad, field, raw, FieldType("bool").rule())
    out = pd.Series(pd.array([None] * len(raw), dtype="boolean"), index=raw.index)
    out[is_true] = True
    out[is_false] = False
    return out


def parse_field(raw: pd.Series, ftype: FieldType, field: str, rep: Reporter, fmt: str) -> pd.Series:
    """Parse one record field of any :class:`FieldType` kind."""
    na = missing(raw)
    if ftype.required:
        rep.flag(na, field, raw, f"required; {ftype.rule()}")
    if ftype.kind == "date":
        return parse_date(raw, field, rep, fmt)
    if ftype.kind == "bool":
        return parse_bool(raw, field, rep)
    if ftype.kind in ("number", "integer"):
        num = parse_number(raw, field, rep, ftype.rule())
        return check_range(
            num, raw, field, rep, ftype.min, ftype.max, ftype.kind == "integer", ftype.rule()
        )
    text = _strip(raw)
    if ftype.kind == "enum":
        bad = ~na & ~text.isin([str(c) for c in ftype.choices]).fillna(False).to_numpy(dtype=bool)
    else:
        bad = ~na & (text.str.len() > ftype.max_len).fillna(False).to_numpy(dtype=bool)
    rep.flag(bad, field, raw, ftype.rule())
    out = text.astype(object)
    out[na | bad] = None
    return out
