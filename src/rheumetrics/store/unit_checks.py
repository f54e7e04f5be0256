"""Likely unit mix-ups in an import, found by the scoring core's own detectors.

A CRP typed in mg/dL into a mg/L column (1.57 for 15.7 mg/L) is a valid number, so it is not a
problem; but the pattern is recognisable, and ``rheumetrics score`` warns about it with
:func:`rheumetrics.measures.units.crp_unit_warning`. The importer runs the same detectors on the
values as they arrived (before unit conversion) and reports warnings, never changes a value.
"""

from __future__ import annotations

import warnings

import pandas as pd

from rheumetrics.errors import UnitWarning
from rheumetrics.measures.units import crp_unit_warning, warn_crp_unit


def unit_warnings(visits: pd.DataFrame, source: str) -> list[str]:
    """Warnings for the staged visits of ``source`` (CRP given in mg/L that looks like mg/dL, or
    given in mg/dL that looks like mg/L).

    Examples
    --------
    >>> visits = pd.DataFrame({"crp_mg_l": [1.57, 0.42, 12.0],
    ...                        "crp_mg_l_source_unit": [None, "mg/L", None]})
    >>> print(unit_warnings(visits, "clinic.csv")[0])  # doctest: +ELLIPSIS
    clinic.csv: crp_mg_l: 2 of 3 values are below 10 with hundredths (e.g. 1.57), as CRP in mg/dL ...
    """
    if "crp_mg_l" not in visits.columns or visits.empty:
        return []
    unit = visits.get("crp_mg_l_source_unit")
    given = (
        unit.astype("string").str.strip().str.casefold().fillna("mg/l")
        if unit is not None
        else pd.Series("mg/l", index=visits.index, dtype="string")
    )
    crp = pd.to_numeric(visits["crp_mg_l"], errors="coerce")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnitWarning)
        crp_unit_warning(crp[given.eq("mg/l").to_numpy()].to_frame("crp_mg_l"))
        as_given = crp[given.eq("mg/dl").to_numpy()].to_numpy(dtype=float, na_value=float("nan"))
        warn_crp_unit(as_given / 10, "mg/dL")
    hint = ' (in the mapping: crp_mg_l = { column = ..., unit = "mg/dL" } or unit_column)'
    return [f"{source}: {w.message}{hint}" for w in caught if issubclass(w.category, UnitWarning)]
