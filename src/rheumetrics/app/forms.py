"""The visit form: which fields it has, and strict parsing that names field, value and rule.

Allowed values come from the store's item catalogue (:func:`rheumetrics.store.items.items`), which
takes every scoring input's range from :data:`rheumetrics.measures.FIELDS`; nothing is re-declared
here. Numbers must be plain ASCII decimals: no Unicode digits, no ``inf``/``nan``, no thousands
separators. A form with any problem stores nothing and is shown again with every problem listed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rheumetrics.errors import Problem
from rheumetrics.joints import joint_set
from rheumetrics.measures.haq import HAQ_CATEGORIES
from rheumetrics.measures.units import ALTERNATIVES
from rheumetrics.store.items import items
from rheumetrics.store.jointbits import STORAGE_ORDER
from rheumetrics.store.models import VISIT_KINDS

_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)

#: Joint states of the homunculus: code -> label.
JOINT_STATES = {
    "n": "assessed: neither tender nor swollen",
    "t": "tender",
    "s": "swollen",
    "b": "tender and swollen",
    "x": "not assessed",
    "p": "prosthesis or absent",
}
#: Joint sets the form offers: name -> joints shown (68 covers the 66 swollen joints as well).
JOINT_SETS = {
    "28": joint_set("tender28"),
    "44": tuple(dict.fromkeys(joint_set("swollen44") + joint_set("tender28"))),
    "68": joint_set("tender68"),
}
#: CRP units the form accepts -> factor to mg/L (from ``rheumetrics.measures.units``).
CRP_UNITS = {"mg/L": 1.0, "mg/dL": ALTERNATIVES["crp_mg_dl"][1]}

#: Numeric inputs by section, in form order (store item names, canonical units).
RA_FIELDS = ("esr_mm_h", "gh_mm", "ptga", "phga", "pain")
AXSPA_FIELDS = tuple(f"basdai_q{i}" for i in range(1, 7))
HAQ_FIELDS = tuple(f"haq_{c}" for c in HAQ_CATEGORIES)
HAQ_AID_FIELDS = tuple(f"haq_aid_{c}" for c in HAQ_CATEGORIES)
NUMERIC_FIELDS = (*RA_FIELDS, *AXSPA_FIELDS, *HAQ_FIELDS)
SOURCE = "visit form"


@dataclass
class VisitInput:
    """A parsed, valid visit form (canonical units)."""

    visit_date: dt.date
    kind: str
    joint_set: str
    joints: dict[str, str]  # joint id -> state code (every one of the 68)
    values: dict[str, float | None]  # store item -> value
    crp_unit: str
    crp_entered: float | None
    lab_date: dt.date | None
    problems: list[Problem] = field(default_factory=list)

    def as_record(self) -> dict[str, Any]:
        """JSON-able form of the visit (for the audit trail)."""
        return {
            "visit_date": self.visit_date.isoformat(),
            "kind": self.kind,
            "joint_set": self.joint_set,
            "joints": {j: s for j, s in self.joints.items() if s != "x"},
            "values": {k: v for k, v in self.values.items() if v is not None},
            "crp_unit": self.crp_unit,
            "lab_date": self.lab_date.isoformat() if self.lab_date else None,
        }


def parse_number(raw: str) -> float | None:
    """A plain ASCII decimal, None when blank; ValueError otherwise."""
    text = raw.strip()
    if not text:
        return None
    if not _NUMBER.fullmatch(text):
        raise ValueError(text)
    return float(text)


def parse_date(raw: str) -> dt.date | None:
    text = raw.strip()
    if not text:
        return None
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text, re.ASCII):
        raise ValueError(text)
    return dt.date.fromisoformat(text)


def _check(name: str, raw: str, problems: list[Problem], factor: float = 1.0) -> float | None:
    item = items()[name]
    try:
        value = parse_number(raw)
    except ValueError:
        problems.append(
            Problem(SOURCE, name, raw, f"must be a plain decimal number; {item.rule()}")
        )
        return None
    if value is None:
        return None
    value *= factor
    low_ok = value >= item.min if item.min_inclusive else value > item.min
    if not low_ok or value > item.max or (item.integer and value != int(value)):
        problems.append(Problem(SOURCE, name, raw, item.rule()))
        return None
    return value


def parse_visit(form: Mapping[str, str], *, lenient_date: bool = False) -> VisitInput:
    """Parse a submitted visit form; problems are collected in ``.problems`` (never raised).

    ``lenient_date``: a missing visit date is not a problem (the live score panel).
    """
    problems: list[Problem] = []
    raw_date = form.get("visit_date", "")
    try:
        visit_date = parse_date(raw_date)
    except ValueError:
        problems.append(Problem(SOURCE, "visit_date", raw_date, "must be a date YYYY-MM-DD"))
        visit_date = None
    if visit_date is None and not lenient_date and not problems:
        problems.append(Problem(SOURCE, "visit_date", raw_date, "is required (YYYY-MM-DD)"))
    kind = form.get("kind", "routine")
    if kind not in VISIT_KINDS:
        problems.append(Problem(SOURCE, "kind", kind, f"must be one of {', '.join(VISIT_KINDS)}"))
    jset = form.get("joint_set", "28")
    if jset not in JOINT_SETS:
        problems.append(Problem(SOURCE, "joint_set", jset, "must be 28, 44 or 68"))
        jset = "28"
    joints: dict[str, str] = {}
    for j in STORAGE_ORDER:
        state = form.get(f"j_{j}", "x")
        if state not in JOINT_STATES:
            allowed = ", ".join(f"{k} ({v})" for k, v in JOINT_STATES.items())
            problems.append(Problem(SOURCE, f"j_{j}", state, f"must be one of {allowed}"))
            state = "x"
        joints[j] = state
    values: dict[str, float | None] = {
        n: _check(n, form.get(n, ""), problems) for n in NUMERIC_FIELDS
    }
    unit = form.get("crp_unit", "mg/L")
    crp_entered = None
    if unit not in CRP_UNITS:
        problems.append(Problem(SOURCE, "crp_unit", unit, f"must be one of {', '.join(CRP_UNITS)}"))
        values["crp_mg_l"] = None
    else:
        raw = form.get("crp", "")
        values["crp_mg_l"] = _check("crp_mg_l", raw, problems, CRP_UNITS[unit])
        if problems and problems[-1].field == "crp_mg_l":
            problems[-1] = Problem(
                SOURCE, "crp", f"{raw} {unit}", f"{problems[-1].rule} after conversion to mg/L"
            )
        crp_entered = None if values["crp_mg_l"] is None else values["crp_mg_l"] / CRP_UNITS[unit]
    for name in HAQ_AID_FIELDS:
        raw = form.get(name, "")
        if raw not in ("", "0", "1"):
            problems.append(Problem(SOURCE, name, raw, "must be 1 (used) or empty (not used)"))
        values[name] = 1.0 if raw == "1" else None
    raw_lab = form.get("lab_date", "")
    try:
        lab_date = parse_date(raw_lab)
    except ValueError:
        problems.append(Problem(SOURCE, "lab_date", raw_lab, "must be a date YYYY-MM-DD"))
        lab_date = None
    if lab_date and visit_date and lab_date > visit_date:
        problems.append(
            Problem(SOURCE, "lab_date", raw_lab, f"must not be after the visit date {visit_date}")
        )
    return VisitInput(
        visit_date=visit_date or dt.date.today(),
        kind=kind if kind in VISIT_KINDS else "routine",
        joint_set=jset,
        joints=joints,
        values=values,
        crp_unit=unit if unit in CRP_UNITS else "mg/L",
        crp_entered=crp_entered,
        lab_date=lab_date,
        problems=problems,
    )


def label(name: str) -> str:
    """The catalogue label of a store item."""
    return items()[name].label
