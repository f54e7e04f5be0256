"""The catalogue of per-visit values the store keeps (``items.csv``) and their unit conversions.

Each item has one canonical unit (the one in its name or the 0-10 scale of the contracts), a
valid range (a :class:`~rheumetrics.schema.fields.Field`), the table it lives in and, where LOINC
has one, a LOINC code (LOINC, Regenstrief Institute, https://loinc.org). Source units are converted to the canonical unit once, at import, with
the factors in ``units.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import numpy as np
import pandas as pd

from rheumetrics.schema.fields import FIELDS, Field

#: Tables holding one row per visit, in the order they are written.
ITEM_TABLES = ("clinical", "lab", "pro", "reported")


@dataclass(frozen=True)
class Item:
    """One stored per-visit value: a :class:`~rheumetrics.schema.fields.Field` with the table it
    lives in and its FHIR observation category and LOINC code."""

    field: Field
    table: str
    category: str  # FHIR observation category: exam, laboratory, survey
    loinc: str | None
    loinc_display: str | None
    range_source: str

    @property
    def name(self) -> str:
        return self.field.name

    @property
    def label(self) -> str:
        return self.field.label

    @property
    def unit(self) -> str:
        return self.field.unit

    @property
    def min(self) -> float:
        assert self.field.low is not None
        return self.field.low

    @property
    def max(self) -> float:
        assert self.field.high is not None
        return self.field.high

    @property
    def min_inclusive(self) -> bool:
        return self.field.low_inclusive

    @property
    def integer(self) -> bool:
        """Whole numbers (stored in an integer column)."""
        return self.field.integer or self.field.step == 1.0

    @property
    def rule(self) -> str:
        """What is allowed, in the field's words (the same text the measures give)."""
        return self.field.rule


def _read(name: str) -> pd.DataFrame:
    with files("rheumetrics.store").joinpath(name).open(encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


def _reported_maximum(measure: str) -> float:
    """Largest value a measure's formula gives with every input at its allowed extreme."""
    from rheumetrics.measures import MEASURES

    m = MEASURES[measure]
    extremes = [np.array([FIELDS[i].low, FIELDS[i].high], dtype=float) for i in m.inputs]
    grid = np.meshgrid(*extremes, indexing="ij")
    values = m(**{i: g.ravel() for i, g in zip(m.inputs, grid, strict=True)}, lenient=True)
    return float(np.ceil(np.nanmax(np.asarray(values, dtype=float)) * 100) / 100)


@cache
def items() -> dict[str, Item]:
    """All items by name, in catalogue order.

    An item that is also a scoring input *is* the measures' field
    (:data:`rheumetrics.schema.fields.FIELDS`), so the store never accepts a value the scores
    would reject (e.g. ESR 0, where ln(ESR) is undefined) and the two cannot drift apart. A
    reported score without a published maximum (``max = formula``) is bounded by the largest
    value its formula gives with inputs in their allowed ranges.
    """
    import rheumetrics.measures  # noqa: F401  (registers the measures' fields)

    out: dict[str, Item] = {}
    for r in _read("items.csv").itertuples(index=False):
        spec = FIELDS.get(r.name)
        if spec is None:
            high = (
                _reported_maximum(r.max.removeprefix("formula:"))
                if r.max.startswith("formula:")
                else float(r.max)
            )
            spec = Field(r.name, r.label, r.unit, float(r.min), high, integer=r.integer == "1")
            source = r.range_source
        else:
            source = "rheumetrics.measures field " + spec.name
        out[r.name] = Item(
            field=spec,
            table=r.table,
            category=r.category,
            loinc=r.loinc or None,
            loinc_display=r.loinc_display or None,
            range_source=source,
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
