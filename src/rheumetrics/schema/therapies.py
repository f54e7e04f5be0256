"""Therapy records checked against the drug catalogue: one check for the importer and the engine.

A therapy record names a drug (name or alias in :mod:`rheumetrics.schema.drugs`), and may give its
class, route, dose and dose unit. :func:`check_therapies` resolves each record to its catalogue
entry and reports, as :class:`~rheumetrics.errors.Problem` records, whatever the treat-to-target
engine could not use: an unknown drug (unless its class is ``other``: a drug that is not a DMARD,
glucocorticoid or NSAID, which the engine ignores), a class or route the catalogue does not give
the drug, a dose unit that does not convert to the catalogue's unit, a dose above the label
maximum. The store's importer and :func:`rheumetrics.t2t.inputs.prepare_therapies` both call it,
so a record the store accepts is a record the engine can use.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from rheumetrics.errors import ProblemCollector
>>> t = pd.DataFrame({"drug": ["MTX", "aspirin"], "drug_class": ["csDMARD", "csDMARD"],
...                   "route": ["oral", None], "dose_unit": ["mg", None]})
>>> pc = ProblemCollector()
>>> checked = check_therapies(t, np.array([15.0, 300.0]), np.full(2, np.nan), pc, "t.csv")
>>> [(p.record, p.field, p.value) for p in pc.problems]
[(0, 'dose_unit', 'mg'), (1, 'drug', 'aspirin')]
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from rheumetrics.errors import ProblemCollector
from rheumetrics.schema.drugs import dose_factor, drug_names, find_drug, normalise_name
from rheumetrics.schema.vocab import DRUG_CLASSES

#: Other spellings of the routes of :data:`rheumetrics.schema.vocab.ROUTES`.
ROUTE_SPELLINGS = {
    "intraarticular": "intra-articular",
    "intra_articular": "intra-articular",
    "ia": "intra-articular",
    "subcutaneous": "sc",
    "intravenous": "iv",
    "po": "oral",
}


class CheckedTherapies(NamedTuple):
    """Per record: canonical drug name, class, route, dose and tolerated dose in the catalogue
    unit of the route ("" / NaN where a record has a problem or the value is not given)."""

    names: np.ndarray
    classes: np.ndarray
    routes: np.ndarray
    doses: np.ndarray
    tolerated: np.ndarray


def _text(t: pd.DataFrame, column: str) -> pd.Series:
    if column in t:
        return t[column].astype("string").str.strip()
    return pd.Series(pd.NA, index=t.index, dtype="string")


def _factorize_rows(frame: pd.DataFrame) -> tuple[np.ndarray, list[tuple[Any, ...]]]:
    """Codes of the distinct rows of ``frame`` (no missing values) in order of first appearance,
    and those rows: each column factorized, the column codes combined into one integer per row
    (cheaper than a MultiIndex for the few rows of one patient, and vectorised for many)."""
    codes = np.zeros(len(frame), dtype=np.int64)
    levels = []
    for col in frame.columns:
        c, u = pd.factorize(frame[col])
        # re-factorized at each step, so the combined code stays below rows x distinct values
        codes = pd.factorize(codes * max(len(u), 1) + c)[0]
        levels.append((c, np.asarray(u, dtype=object)))
    at = np.unique(codes, return_index=True)[1]  # first row of each code (codes by appearance)
    rows = list(zip(*(u[c[at]] for c, u in levels), strict=True))
    return codes, rows


def check_therapies(
    t: pd.DataFrame,
    dose: np.ndarray,
    tolerated: np.ndarray,
    pc: ProblemCollector,
    source: str,
) -> CheckedTherapies:
    """Check therapy records against the drug catalogue, one look-up per distinct record kind.

    Parameters
    ----------
    t : frame with ``drug`` and optional ``drug_class``, ``route``, ``dose_unit``; its index
        labels the records in the problems.
    dose, tolerated : doses and documented maximum tolerated doses as floats (NaN when not given),
        in ``dose_unit`` (the catalogue unit of the route when no unit is given).
    pc : collects a problem per bad record (field, value and what the catalogue allows).
    source : file or table name for the problems.
    """
    n = len(t)
    names = np.full(n, "", dtype=object)
    classes = np.full(n, "", dtype=object)
    routes = np.full(n, "", dtype=object)
    doses = np.full(n, np.nan)
    tol_out = np.full(n, np.nan)
    given_route = _text(t, "route").str.casefold()
    combos = pd.DataFrame(
        {
            "drug": t["drug"].astype("string"),
            "cls": t["drug_class"].astype("string")
            if "drug_class" in t
            else pd.Series(pd.NA, index=t.index, dtype="string"),
            "route": given_route,
            "unit": _text(t, "dose_unit"),
        }
    )
    codes, uniq = _factorize_rows(combos.fillna("\x00"))
    for k, (drug_text, cls, route, unit) in enumerate(uniq):
        rows = np.flatnonzero(codes == k)
        recs = t.index[rows]
        cls = None if cls == "\x00" else cls
        route = None if route == "\x00" else route
        unit = None if unit == "\x00" else unit

        def add(field: str, value: object, rule: str, recs: pd.Index = recs) -> None:
            for rec in recs:
                pc.add(rec, field, value, rule, source)

        if drug_text == "\x00":
            continue  # reported as required by the caller
        if cls is not None and cls not in DRUG_CLASSES:
            add("drug_class", cls, f"must be one of {', '.join(DRUG_CLASSES)}")
            continue
        d = find_drug(drug_text)
        if d is None:
            if cls == "other":  # outside the catalogue, declared as not a DMARD: ignored
                names[rows] = normalise_name(drug_text)
                classes[rows] = "other"
                routes[rows] = route or ""
                continue
            add("drug", drug_text,
                "unknown drug: not in the drug catalogue (give drug_class 'other' for a drug that "
                f"is not a DMARD, glucocorticoid or NSAID); known: {', '.join(drug_names())}")  # fmt: skip
            continue
        if cls is not None and cls != d.drug_class:
            add("drug_class", cls, f"{d.label} is a {d.drug_class} in the drug catalogue")
            continue
        route_key = ROUTE_SPELLINGS.get(route or "", route)
        if route_key is not None and route_key not in d.routes:
            add("route", route, f"{d.label} is catalogued for {', '.join(d.routes)}")
            continue
        dosing = d.dosing_for(route_key)
        factor = 1.0
        if unit is not None:
            try:
                factor = dose_factor(unit, dosing.unit)
            except ValueError:
                add("dose_unit", unit,
                    f"{d.label} ({dosing.route}) is dosed in {dosing.unit} (or a convertible unit)")  # fmt: skip
                continue
        x = dose[rows] * factor
        tol = tolerated[rows] * factor
        with np.errstate(invalid="ignore"):
            bad = (x <= 0) | (x > dosing.label_max * (1 + 1e-9))
            bad_tol = (tol <= 0) | (tol > dosing.label_max * (1 + 1e-9))
        for pos, val in zip(rows[bad], dose[rows][bad], strict=True):
            pc.add(t.index[pos], "dose", float(val),
                   f"{d.label} {dosing.route}: must be > 0 and at most the label maximum "
                   f"{dosing.label_max:g} {dosing.unit} (usual {dosing.usual[0]:g}-{dosing.usual[1]:g})",
                   source)  # fmt: skip
        for pos, val in zip(rows[bad_tol], tolerated[rows][bad_tol], strict=True):
            pc.add(t.index[pos], "max_tolerated_dose", float(val),
                   f"must be > 0 and at most {dosing.label_max:g} {dosing.unit}", source)  # fmt: skip
        names[rows] = d.name
        classes[rows] = d.drug_class
        routes[rows] = dosing.route
        doses[rows] = x
        tol_out[rows] = tol
    return CheckedTherapies(names, classes, routes, doses, tol_out)
