"""One field declaration: name, label, unit, interval, kind, choices, step, required.

Every column that crosses a boundary (a scoring input, a stored item, a patient or therapy record
field, an imaging read) is a :class:`Field`. The measures validate their inputs with it, the store
builds its columns and check messages from it, and the validator
(:func:`rheumetrics.schema.validate.parse_field`) turns a raw source column into typed values and
:class:`~rheumetrics.errors.Problem` records with it.

Column names carry their unit (``crp_mg_l``, ``esr_mm_h``, ``gh_mm``) so that a value cannot be
read in another unit by accident. Every numeric field has a finite upper bound, so an infinity or
an overflowing literal (``1e400``) is always a problem, never a value.

Examples
--------
>>> from rheumetrics.schema.fields import FIELDS, Field
>>> FIELDS["crp_mg_l"].rule
'must be a number >= 0 and <= 1000 mg/L'
>>> Field("dose", "dose", "mg", 0, 1e5).invalid(np.array([1.0, np.inf, np.nan, -1.0])).tolist()
[False, True, False, True]
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Kind = Literal["number", "integer", "date", "bool", "enum", "text"]
KINDS: tuple[str, ...] = ("number", "integer", "date", "bool", "enum", "text")
#: Earliest date accepted anywhere (an earlier one is taken as a typing error).
EARLIEST_DATE = dt.date(1900, 1, 1)
#: Units not spelled out in messages (the scale is in the field's label).
_SILENT_UNITS = ("", "count", "score", "0-10", "0-3", "{#}", "{score}")


@dataclass(frozen=True)
class Field:
    """A column with its unit and allowed values.

    Parameters
    ----------
    name, label, unit : column name, what it means, and its unit (UCUM-like spelling).
    low, high : interval of a numeric field; ``high`` must be finite.
    low_inclusive, high_inclusive : whether the interval's ends are allowed.
    integer : shorthand for ``kind="integer"`` (kept for the measures' declarations).
    step : numeric values must be multiples of this (e.g. 0.5 on a 21-circle VAS).
    kind : number, integer, date, bool, enum or text.
    choices : allowed values of an enum field.
    required : a missing value is a problem.
    max_len : longest text of a text field.
    """

    name: str
    label: str = ""
    unit: str = ""
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    integer: bool = False
    step: float | None = None
    kind: Kind = "number"
    choices: tuple[Any, ...] = ()
    required: bool = False
    high_inclusive: bool = True
    max_len: int = 64

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"field {self.name!r}: kind must be one of {', '.join(KINDS)}")
        if self.integer and self.kind == "number":
            object.__setattr__(self, "kind", "integer")
        object.__setattr__(self, "integer", self.kind == "integer")
        if self.numeric:
            if self.high is None or not np.isfinite(self.high):
                raise ValueError(f"numeric field {self.name!r} needs a finite upper bound")
            if self.low is None or not np.isfinite(self.low):
                raise ValueError(f"numeric field {self.name!r} needs a finite lower bound")
        if self.kind == "enum" and not self.choices:
            raise ValueError(f"enum field {self.name!r} needs choices")

    @property
    def numeric(self) -> bool:
        return self.kind in ("number", "integer")

    @property
    def rule(self) -> str:
        """What is allowed, in words (the same text from every entry point)."""
        if self.kind == "enum":
            return "must be one of " + ", ".join(map(str, self.choices))
        if self.kind == "date":
            return f"must be a date on or after {EARLIEST_DATE.isoformat()} and not in the future"
        if self.kind == "bool":
            from rheumetrics.schema.vocab import FALSE_WORDS, TRUE_WORDS

            return "must be true or false (" + "/".join(TRUE_WORDS + FALSE_WORDS) + ")"
        if self.kind == "text":
            return f"must be text of at most {self.max_len} characters"
        assert self.low is not None and self.high is not None
        kind = "an integer" if self.integer else "a number"
        low = f"{'>=' if self.low_inclusive else '>'} {self.low:g}"
        high = f"{'<=' if self.high_inclusive else '<'} {self.high:g}"
        unit = "" if self.unit in _SILENT_UNITS else f" {self.unit}"
        step = f" in steps of {self.step:g}" if self.step else ""
        return f"must be {kind} {low} and {high}{unit}{step}"

    def invalid(self, x: np.ndarray) -> np.ndarray:
        """Mask of present values outside the allowed set (NaN is missing, not invalid)."""
        assert self.low is not None and self.high is not None
        x = np.asarray(x, dtype=float)
        with np.errstate(invalid="ignore"):
            bad = (x < self.low) if self.low_inclusive else (x <= self.low)
            bad |= (x > self.high) if self.high_inclusive else (x >= self.high)
            bad |= np.isinf(x)
            if self.integer:
                bad |= (x - np.floor(x)) > 0  # False for NaN: missing is not invalid
            if self.step:
                q = x / self.step
                bad |= np.abs(q - np.round(q)) > 1e-9
        return bad


#: Every registered field by name. The measures register their inputs on import; the store's
#: items and record fields are declared with the same class.
FIELDS: dict[str, Field] = {}


def register(*fields: Field) -> None:
    """Add fields to :data:`FIELDS` (a name may be registered once, or again identically)."""
    for f in fields:
        if FIELDS.get(f.name, f) != f:
            raise ValueError(f"field {f.name!r} registered twice with different definitions")
        FIELDS[f.name] = f


def count(name: str, label: str, n: int) -> Field:
    """A joint count over ``n`` joints."""
    return Field(name, label, "count", 0, n, integer=True)


def nrs(name: str, label: str) -> Field:
    """A 0-10 patient- or physician-reported scale (10-cm VAS in cm or 0-10 NRS)."""
    return Field(name, label, "0-10", 0, 10)


register(
    count("tjc28", "tender joint count, 28 joints", 28),
    count("sjc28", "swollen joint count, 28 joints", 28),
    count("sjc44", "swollen joint count, 44 joints", 44),
    count("tjc68", "tender joint count, 68 joints", 68),
    count("sjc66", "swollen joint count, 66 joints", 66),
    Field("rai", "Ritchie articular index (26 units graded 0-3)", "score", 0, 78, integer=True),
    # ESR: the Westergren ESR is read in whole millimetres after 1 hour (Jou JM et al., ICSH.
    # Int J Lab Hematol 2011;33:125-132, doi:10.1111/j.1751-553X.2011.01302.x), so below 1 mm/h
    # is not a reading; DAS28 takes ln(ESR) (Prevoo ML et al. Arthritis Rheum 1995;38:44-48),
    # undefined at 0 and negative below 1 (an ESR of 0.01 would give a DAS28 in "remission").
    # 300 mm/h is the plausibility ceiling.
    Field("esr_mm_h", "erythrocyte sedimentation rate, Westergren", "mm/h", 1, 300),
    Field("crp_mg_l", "C-reactive protein", "mg/L", 0, 1000),
    Field("gh_mm", "patient general health / global disease activity, 100-mm VAS", "mm", 0, 100),
    nrs("ptga", "patient global assessment of disease activity"),
    nrs("phga", "physician (evaluator) global assessment of disease activity"),
    nrs("pain", "patient pain"),
)
