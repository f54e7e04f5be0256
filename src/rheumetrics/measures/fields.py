"""Canonical input fields: one name, one unit, one allowed range each.

Column names carry their unit (``crp_mg_l``, ``esr_mm_h``, ``gh_mm``) so a value cannot silently be
read in another unit. Modules that define measures register the
fields they need here; ``docs/measures.md`` lists them all, generated from this registry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Field:
    """An input column with its unit and allowed values (bounds inclusive unless stated)."""

    name: str
    label: str
    unit: str
    low: float
    high: float
    low_inclusive: bool = True
    integer: bool = False
    step: float | None = None  # values must be multiples of this (e.g. 0.5 on a 21-circle VAS)

    @property
    def rule(self) -> str:
        """What is allowed, in words, for error messages."""
        kind = "an integer" if self.integer else "a number"
        low = f"{'>=' if self.low_inclusive else '>'} {self.low:g}"
        unit = "" if self.unit in ("count", "score", "0-10", "0-3") else f" {self.unit}"
        step = f" in steps of {self.step:g}" if self.step else ""
        return f"must be {kind} {low} and <= {self.high:g}{unit}{step}"

    def invalid(self, x: np.ndarray) -> np.ndarray:
        """Mask of present values outside the allowed set (NaN is not invalid, only missing)."""
        with np.errstate(invalid="ignore"):
            bad = (x < self.low) if self.low_inclusive else (x <= self.low)
            bad |= x > self.high
            bad |= np.isinf(x)
            if self.integer:
                bad |= (x - np.floor(x)) > 0  # False for NaN: missing is not invalid
            if self.step:
                q = x / self.step
                bad |= np.abs(q - np.round(q)) > 1e-9
        return bad


FIELDS: dict[str, Field] = {}


def register(*fields: Field) -> None:
    """Add fields to the registry (a name may be registered once, or again identically)."""
    for f in fields:
        if FIELDS.get(f.name, f) != f:
            raise ValueError(f"field {f.name!r} registered twice with different definitions")
        FIELDS[f.name] = f


def count(name: str, label: str, n: int) -> Field:
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
    # is not a reading; DAS28 takes ln(ESR), undefined at 0 and negative below 1 (an ESR of 0.01
    # would give a DAS28 in "remission"). 300 mm/h is the plausibility ceiling.
    Field("esr_mm_h", "erythrocyte sedimentation rate, Westergren", "mm/h", 1, 300),
    Field("crp_mg_l", "C-reactive protein", "mg/L", 0, 1000),
    Field("gh_mm", "patient general health / global disease activity, 100-mm VAS", "mm", 0, 100),
    nrs("ptga", "patient global assessment of disease activity"),
    nrs("phga", "physician (evaluator) global assessment of disease activity"),
    nrs("pain", "patient pain"),
)
