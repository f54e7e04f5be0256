"""One unit converter: the factors from each accepted source unit to each canonical unit.

The table (``units.csv``) is the one declaration of every conversion: the store converts
imported values with it, and the measures derive their alternative-unit columns (``crp_mg_dl``,
``ptga_mm``, ``gh_cm``, ...) from it. Units are UCUM codes (https://ucum.org): ``{score}`` for a
0-10 scale, ``{#}`` for a count. 1 mg/dL = 10 mg/L.

Examples
--------
>>> factor("mg/L", "mg/dL")
10.0
>>> factor("{score}", "mm")
0.1
>>> factor("mg/L", "mmol/L") is None
True
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import pandas as pd


@cache
def unit_factors() -> dict[str, dict[str, float]]:
    """``{canonical unit: {accepted source unit: factor to canonical}}``."""
    with files("rheumetrics.schema").joinpath("units.csv").open(encoding="utf-8") as fh:
        table = pd.read_csv(fh, dtype=str, keep_default_na=False)
    out: dict[str, dict[str, float]] = {}
    for r in table.itertuples(index=False):
        out.setdefault(r.item_unit, {})[r.source_unit] = float(r.factor)
    return out


def factor(canonical: str, source: str) -> float | None:
    """Factor turning values in ``source`` units into ``canonical`` units; None if not allowed."""
    return unit_factors().get(canonical, {}).get(source)


def accepted(canonical: str) -> tuple[str, ...]:
    """Source units accepted for values kept in ``canonical`` units."""
    return tuple(unit_factors().get(canonical, {}))
