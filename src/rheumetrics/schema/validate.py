"""One vectorised validator: raw columns + field declarations -> typed columns + Problems.

Every parser takes a raw column (strings from CSV/REDCap, or typed cells from Excel/Parquet),
returns the parsed column and reports each value it cannot use as a
:class:`~rheumetrics.errors.Problem` naming the source, the line, the field, the raw value and
what is allowed. Nothing is coerced silently: a boolean in a numeric field, an infinity or an
overflowing literal (``inf``, ``Infinity``, ``1e400``), digits outside ASCII (full-width ``１０``,
Arabic-Indic), digit separators (``1_0``) are all problems, never numbers.

Examples
--------
>>> import pandas as pd
>>> from rheumetrics.schema.fields import FIELDS
>>> raw = pd.DataFrame({"crp_mg_l": ["5", "inf", "１０", "True"]},
...                    index=pd.RangeIndex(2, 6, name="line"))
>>> parsed, problems = validate_frame(raw, {"crp_mg_l": FIELDS["crp_mg_l"]}, "labs.csv")
>>> parsed["crp_mg_l"].tolist()[0]
5.0
>>> print(problems[1])
labs.csv: line 4, field 'crp_mg_l', value '１０': not a number; must be a number >= 0 and <= 1000 mg/L
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from rheumetrics.errors import Problem
from rheumetrics.numeric import snap
from rheumetrics.schema.fields import EARLIEST_DATE, Field
from rheumetrics.schema.vocab import FALSE_WORDS, TRUE_WORDS

#: A number as text: ASCII digits, optional sign, decimal point and exponent; nothing else.
NUMBER_PATTERN = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"


class Reporter:
    """Collects the problems of one source (or part of it) and remembers which rows are bad.

    ``rows`` are the row labels a user sees; integer labels are the source lines.
    """

    def __init__(self, source: str, rows: pd.Index) -> None:
        self.source = source
        self.rows = rows
        self.problems: list[Problem] = []
        self.bad = np.zeros(len(rows), dtype=bool)

    def _problem(self, row: Any, field: str, value: Any, rule: str) -> Problem:
        value = None if value is pd.NA or (isinstance(value, float) and np.isnan(value)) else value
        line = int(row) if isinstance(row, (int, np.integer)) else None
        record = line if line is not None else row
        return Problem(record, field, value, rule, self.source, line=line)

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
        for i in np.flatnonzero(mask):  # only the flagged rows: problems are few
            v = vals[i] if vals is not None else values
            text = rule(v) if callable(rule) else rule
            self.problems.append(self._problem(self.rows[i], field, v, text))

    def add(self, pos: int, field: str, value: Any, rule: str) -> None:
        """Report one problem at row position ``pos``."""
        self.bad[pos] = True
        self.problems.append(self._problem(self.rows[pos], field, value, rule))

    def file_problem(self, field: str, value: Any, rule: str) -> None:
        """A problem with the file as a whole (e.g. a missing column); every row is unusable."""
        self.bad[:] = True
        self.problems.append(Problem("(file)", field, value, rule, self.source))


def with_keys(problems: list[Problem], keys: pd.DataFrame) -> list[Problem]:
    """The problems with the natural key of their line attached.

    ``keys`` is indexed by line and holds the raw key columns (e.g. patient id and visit date);
    a missing key value is left out.
    """
    if keys.empty or not problems:
        return problems
    out = []
    lookup = keys.astype(object).where(keys.notna(), None)
    for p in problems:
        if p.line is None or p.key or p.line not in lookup.index:
            out.append(p)
            continue
        row = lookup.loc[p.line]
        if isinstance(row, pd.DataFrame):
            row = row.iloc[0]
        key = tuple((str(k), v) for k, v in row.items() if v is not None and str(v).strip() != "")
        out.append(Problem(p.record, p.field, p.value, p.rule, p.source, p.line, key))
    return out


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
    """Translate source codes with a ``values`` table; unknown codes are problems."""
    text = _strip(raw)
    na = missing(raw)
    out = text.map(dict(table)).astype(object)
    unknown = ~na & out.isna().to_numpy()
    allowed = ", ".join(repr(k) for k in table)
    rep.flag(unknown, field, raw, f"code not in the mapping's values table ({allowed})")
    out[na | unknown] = None
    return out


def parse_number(raw: pd.Series, field: str, rep: Reporter, rule: str) -> pd.Series:
    """Float column; anything that is not plainly a finite number is a problem.

    ``rule`` says what is allowed (the field's interval), also for values that are not numbers.
    """
    if pd.api.types.is_bool_dtype(raw.dtype):
        rep.flag(~raw.isna().to_numpy(), field, raw, f"not a number (a true/false value); {rule}")
        return pd.Series(np.nan, index=raw.index)
    if pd.api.types.is_numeric_dtype(raw.dtype):
        num = raw.astype("float64")
        inf = np.isinf(num.to_numpy())
        if not inf.any():  # the usual case: no mask, no copy
            return num
        rep.flag(inf, field, raw, f"not a finite number; {rule}")
        return num.where(~inf)
    na = missing(raw)
    if raw.dtype == object:  # typed cells (Excel): booleans are not numbers
        is_bool = raw.map(lambda v: isinstance(v, (bool, np.bool_))).to_numpy(dtype=bool)
        typed = raw.map(lambda v: isinstance(v, (int, float, np.number))).to_numpy(dtype=bool)
    else:
        is_bool = typed = np.zeros(len(raw), dtype=bool)
    text = _strip(raw)
    plain = text.str.fullmatch(NUMBER_PATTERN).fillna(False).to_numpy(dtype=bool)
    ok = (plain | typed) & ~is_bool & ~na
    values = pd.Series(np.nan, index=raw.index, dtype="float64")
    if ok.any():
        values[ok] = pd.to_numeric(raw[ok].astype(str), errors="coerce").astype("float64")
    rep.flag(is_bool & ~na, field, raw, f"not a number (a true/false value); {rule}")
    rep.flag(~na & ~ok & ~is_bool, field, raw, f"not a number; {rule}")
    inf = np.isinf(values.to_numpy())
    rep.flag(inf, field, raw, f"not a finite number; {rule}")
    values[inf] = np.nan
    return values


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
    step: float | None = None,
) -> pd.Series:
    """NaN-out and report values outside ``[lo, hi]`` (``(lo, hi]`` when ``lo_inclusive`` is
    false), not integral, or off ``step`` (compared after snap)."""
    with np.errstate(invalid="ignore", over="ignore"):  # snapping 1e300 overflows to inf: bad
        v = snap(values.to_numpy(dtype=float))
        ok = ~np.isnan(v)
        bad = ok & np.isinf(v)
        if lo is not None:
            bad |= ok & ((v < lo) if lo_inclusive else (v <= lo))
        if hi is not None:
            bad |= ok & (v > hi)
        if integer:
            bad |= ok & (v != np.round(v))
        if step:
            q = v / step
            bad |= ok & (np.abs(q - np.round(q)) > 1e-9)
    if not bad.any():
        return values
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
    rule = f"date must be on or after {EARLIEST_DATE.isoformat()} and not in the future"
    rep.flag(out_of_range, field, raw, rule)
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
    rep.flag(bad, field, raw, Field(field, kind="bool").rule)
    out = pd.Series(pd.array([None] * len(raw), dtype="boolean"), index=raw.index)
    out[is_true] = True
    out[is_false] = False
    return out


def parse_field(raw: pd.Series, spec: Field, field: str, rep: Reporter, fmt: str) -> pd.Series:
    """Parse one column of any :class:`~rheumetrics.schema.fields.Field` kind."""
    na = missing(raw)
    if spec.required:
        rep.flag(na, field, raw, f"required; {spec.rule}")
    if spec.kind == "date":
        return parse_date(raw, field, rep, fmt)
    if spec.kind == "bool":
        return parse_bool(raw, field, rep)
    if spec.numeric:
        num = parse_number(raw, field, rep, spec.rule)
        return check_range(num, raw, field, rep, spec.low, spec.high, spec.integer, spec.rule,
                           spec.low_inclusive, spec.step)  # fmt: skip
    text = _strip(raw)
    if spec.kind == "enum":
        bad = ~na & ~text.isin([str(c) for c in spec.choices]).fillna(False).to_numpy(dtype=bool)
    else:
        bad = ~na & (text.str.len() > spec.max_len).fillna(False).to_numpy(dtype=bool)
    rep.flag(bad, field, raw, spec.rule)
    out = text.astype(object)
    out[na | bad] = None
    return out


def validate_frame(
    raw: pd.DataFrame,
    fields: Mapping[str, Field],
    source: str,
    *,
    key: tuple[str, ...] = ("patient_id", "visit_date"),
    date_format: str = "%Y-%m-%d",
) -> tuple[pd.DataFrame, list[Problem]]:
    """Typed columns of ``raw`` for every declared field it has, and every problem found.

    ``raw`` is indexed by source line (as :func:`rheumetrics.schema.readers.read_source` gives
    it); columns without a declaration pass through unchanged. Problems carry the natural key
    (the ``key`` columns present) and come sorted by line.
    """
    rep = Reporter(source, raw.index)
    out = raw.copy()
    for name, spec in fields.items():
        if name in raw.columns:
            out[name] = parse_field(raw[name], spec, name, rep, date_format)
        elif spec.required:
            rep.file_problem(name, None, "required column is missing")
    keys = raw[[k for k in key if k in raw.columns]]
    problems = with_keys(rep.problems, keys)
    return out, sorted(problems, key=Problem.sort_key)
