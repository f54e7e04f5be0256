"""The catalogue of per-visit values the store keeps (``items.csv``) and their unit conversions.

Each item has one canonical unit (the one in its name or the 0-10 scale of the contracts), a
valid range with the source of that range, the table it lives in and, where ecosystem.md §1.1
lists one, a LOINC code. Source units are converted to the canonical unit once, at import, with
the factors in ``units.csv``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import pandas as pd

#: Tables holding one row per visit, in the order they are written.
ITEM_TABLES = ("clinical", "lab", "pro", "reported")


@dataclass(frozen=True)
class Item:
    """One stored per-visit value."""

    name: str
    table: str
    unit: str
    min: float
    max: float  # math.inf when unbounded above
    integer: bool
    category: str  # FHIR observation category: exam, laboratory, survey
    loinc: str | None
    loinc_display: str | None
    label: str
    range_source: str
    min_inclusive: bool = True

    def rule(self) -> str:
        """Human-readable allowed range."""
        kind = "an integer" if self.integer else "a number"
        lower = f"{'>=' if self.min_inclusive else '>'} {self.min:g}"
        upper = "" if math.isinf(self.max) else f" and <= {self.max:g}"
        return f"must be {kind} {lower}{upper} ({self.unit}; {self.range_source})"


def _read(name: str) -> pd.DataFrame:
    with files("rheumetrics.store").joinpath(name).open(encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


@cache
def items() -> dict[str, Item]:
    """All items by name, in catalogue order.

    An item that is also a scoring input takes its allowed values from the measures' field
    registry (:data:`rheumetrics.measures.FIELDS`), so the store never accepts a value the scores
    would reject (e.g. ESR 0, where ln(ESR) is undefined) and the two cannot drift apart.
    """
    from rheumetrics.measures import FIELDS

    out: dict[str, Item] = {}
    for r in _read("items.csv").itertuples(index=False):
        spec = FIELDS.get(r.name)
        if spec is not None:
            out[r.name] = Item(
                name=r.name,
                table=r.table,
                unit=r.unit,
                min=spec.low,
                max=spec.high,
                integer=spec.integer,
                category=r.category,
                loinc=r.loinc or None,
                loinc_display=r.loinc_display or None,
                label=r.label,
                range_source="rheumetrics.measures field " + spec.name,
                min_inclusive=spec.low_inclusive,
            )
            continue
        out[r.name] = Item(
            name=r.name,
            table=r.table,
            unit=r.unit,
            min=float(r.min),
            max=float(r.max) if r.max else math.inf,
            integer=r.integer == "1",
            category=r.category,
            loinc=r.loinc or None,
            loinc_display=r.loinc_display or None,
            label=r.label,
            range_source=r.range_source,
        )
    return out


def table_items(table: str) -> tuple[str, ...]:
    """Names of the items stored in ``table``."""
    return tuple(i.name for i in items().values() if i.table == table)


@cache
def unit_factors() -> dict[str, dict[str, float]]:
    """``{canonical unit: {accepted source unit: factor to canonical}}``."""
    out: dict[str, dict[str, float]] = {}
    for r in _read("units.csv").itertuples(index=False):
        out.setdefault(r.item_unit, {})[r.source_unit] = float(r.factor)
    return out


def conversion_factor(item: str, source_unit: str | None) -> float | None:
    """Factor turning ``source_unit`` into ``item``'s canonical unit; None if not allowed.

    ``None`` as source unit means "already canonical".
    """
    unit = items()[item].unit
    if source_unit is None:
        return 1.0
    return unit_factors().get(unit, {}).get(source_unit)


def allowed_units(item: str) -> tuple[str, ...]:
    """Source units accepted for ``item``."""
    return tuple(unit_factors().get(items()[item].unit, {}))
