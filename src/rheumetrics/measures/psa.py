"""Psoriatic arthritis: DAPSA and cDAPSA (Schoels 2010/2016), their response, MDA and VLDA.

``DAPSA = TJC68 + SJC66 + PtGA + pain + CRP[mg/dL]``; ``cDAPSA`` leaves out CRP.
Globals and pain are 0-10. CRP is taken in the canonical
**mg/L** (``crp_mg_l``) and divided by 10 here (1 mg/dL = 10 mg/L), as for SDAI.

MDA (Coates 2010) is met with at least 5 of 7 criteria; VLDA with all 7 (Lubrano 2021). Pain and
patient global use the canonical 0-10 columns ``pain`` and ``ptga``; the published
15 mm and 20 mm VAS thresholds are 1.5 and 2.0 there (columns ``pain_mm`` / ``ptga_mm`` are
converted by :func:`~rheumetrics.measures.units.to_canonical`), so one quantity keeps one column.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from rheumetrics.measures import fields

# Importing haq registers the ``haq_di`` field (0-3) that MDA uses.
from rheumetrics.measures import haq as _haq  # noqa: F401
from rheumetrics.measures.base import Measure, register
from rheumetrics.measures.conventions import Conventions
from rheumetrics.measures.formulas import Linear, Term
from rheumetrics.measures.itemized import ItemizedMeasure, RowCheck, RowIssue
from rheumetrics.measures.paired import prepare_paired, relative_change
from rheumetrics.numeric import snap

_SCHOELS = (
    "Schoels M et al. Ann Rheum Dis 2010;69:1441-1447, doi:10.1136/ard.2009.122259; states "
    "Schoels MM et al. Ann Rheum Dis 2016;75:811-818, doi:10.1136/annrheumdis-2015-207507"
)
_COATES = (
    "Coates LC, Fransen J, Helliwell PS. Ann Rheum Dis 2010;69:48-53, doi:10.1136/ard.2008.102053"
)

fields.register(
    fields.Field("pasi", "Psoriasis Area and Severity Index", "score", 0, 72),
    fields.Field("bsa_pct", "body surface area affected by psoriasis", "%", 0, 100),
    # Coates 2010 counts tender entheseal points without naming one index; 66 is a plausibility
    # bound (the largest common index, Mander, has 66 sites).
    fields.count("tender_entheses", "tender entheseal points (count)", 66),
    # Largest DAPSA with the canonical bounds: 68 + 66 + 10 + 10 + 100 mg/dL.
    fields.Field("dapsa", "DAPSA or cDAPSA value (input to DAPSA response)", "score", 0, 254),
)


#: ((TJC68 + SJC66) + PtGA) + pain, as written.
_CLINICAL = (Term("tjc68"), Term("sjc66"), Term("ptga"), Term("pain"))


dapsa = register(
    Measure(
        name="dapsa",
        store=True,
        label="Disease Activity in PSoriatic Arthritis",
        inputs=("tjc68", "sjc66", "ptga", "pain", "crp_mg_l"),
        reference=_SCHOELS,
        compute=Linear((*_CLINICAL, Term("crp_mg_l", transform="tenth"))),
        digits=1,
        cutoffs="dapsa_cutoffs",
    )
)
cdapsa = register(
    Measure(
        name="cdapsa",
        store=True,
        label="clinical DAPSA (without CRP)",
        inputs=("tjc68", "sjc66", "ptga", "pain"),
        reference=_SCHOELS,
        compute=Linear(_CLINICAL),
        digits=1,
        cutoffs="cdapsa_cutoffs",
        note="The moderate/high bound 27 is used by analogy with DAPSA; Schoels 2016 reports it for DAPSA only.",
    )
)

#: DAPSA response labels, worst to best: DAPSA50 / 75 / 85 = minor / moderate / major.
RESPONSE_LABELS = ("none", "minor", "moderate", "major")
RESPONSE_FRACTIONS = (0.50, 0.75, 0.85)


def dapsa_response(baseline: Any, followup: Any, *, lenient: bool = False) -> Any:
    """DAPSA (or cDAPSA) response: improvement >= 50 % "minor" (DAPSA50), >= 75 % "moderate"
    (DAPSA75), >= 85 % "major" (DAPSA85); otherwise "none" (Schoels 2016). Relative change is snapped; a baseline of 0 cannot respond.

    Returns a label for scalars, an ordered Categorical for arrays, a categorical Series for Series.

    Examples
    --------
    >>> dapsa_response(20.0, 10.0), dapsa_response(20.0, 3.0), dapsa_response(20.0, 12.0)
    ('minor', 'major', 'none')
    """
    p = prepare_paired(
        {"dapsa": baseline}, {"dapsa": followup}, context="DAPSA response", lenient=lenient
    )
    rel = relative_change(p.baseline["dapsa"], p.followup["dapsa"])
    codes = sum((rel >= t).astype(int) for t in RESPONSE_FRACTIONS)
    return p.category(np.asarray(codes), RESPONSE_LABELS, "dapsa_response")


_MDA_INPUTS = ("tjc68", "sjc66", "pasi", "bsa_pct", "pain", "ptga", "haq_di", "tender_entheses")


def _mda_criteria(tjc68, sjc66, pasi, bsa_pct, pain, ptga, haq_di, tender_entheses):
    """Met (1.0), not met (0.0) or unknown (NaN) for each of the 7 criteria (Coates 2010)."""
    met = [
        snap(tjc68) <= 1,
        snap(sjc66) <= 1,
        None,
        snap(pain) <= 1.5,  # VAS <= 15 mm
        snap(ptga) <= 2.0,  # VAS <= 20 mm
        snap(haq_di) <= 0.5,
        snap(tender_entheses) <= 1,
    ]
    # Skin: PASI <= 1 or BSA <= 3 %; met if a given arm is met, unknown if not met and one arm
    # is missing.
    skin_met = (snap(pasi) <= 1) | (snap(bsa_pct) <= 3)
    skin_unknown = ~skin_met & (np.isnan(pasi) | np.isnan(bsa_pct))
    out = [np.asarray(m, dtype=float) for m in met if m is not None]
    out.insert(2, np.where(skin_unknown, np.nan, skin_met.astype(float)))
    return out


def _mda_flag(needed: int):
    """Decide ">= needed of 7 criteria" where the known criteria settle it, else NaN."""

    def compute(c: Conventions, tjc68, sjc66, pasi, bsa_pct, pain, ptga, haq_di, tender_entheses):
        crit = _mda_criteria(tjc68, sjc66, pasi, bsa_pct, pain, ptga, haq_di, tender_entheses)
        stacked = np.stack(np.broadcast_arrays(*crit))
        met = np.nansum(stacked, axis=0)
        unknown = np.isnan(stacked).sum(axis=0)
        return np.where(met >= needed, 1.0, np.where(met + unknown < needed, 0.0, np.nan))

    return compute


def _skin_check(needed: int, name: str) -> RowCheck:
    """Row rule: PASI and BSA may each be missing, unless the skin criterion then decides."""

    def check(c: Conventions, a: Mapping[str, np.ndarray]) -> list[RowIssue]:
        undecided = np.isnan(_mda_flag(needed)(c, *(a[k] for k in _MDA_INPUTS)))
        issues = []
        for field, other in (("pasi", "bsa_pct"), ("bsa_pct", "pasi")):
            rule = f"is missing and {other} does not settle the skin criterion; {name} needs it"
            issues.append(RowIssue(undecided & np.isnan(a[field]), field, a[field], _says(rule)))
        return issues

    return check


def _says(text: str) -> Callable[[int], str]:
    def rule(pos: int) -> str:
        return text

    return rule


_MDA_CRITERIA = (
    "TJC68 <= 1; SJC66 <= 1; PASI <= 1 or BSA <= 3 %; pain <= 1.5 (15 mm VAS); "
    "PtGA <= 2 (20 mm VAS); HAQ-DI <= 0.5; tender entheseal points <= 1"
)

mda = register(
    ItemizedMeasure(
        name="mda",
        label="PsA minimal disease activity (5 of 7 criteria)",
        inputs=_MDA_INPUTS,
        formula=f"at least 5 of: {_MDA_CRITERIA}",
        reference=_COATES,
        compute=_mda_flag(5),
        digits=0,
        optional=("pasi", "bsa_pct"),
        kind="flag",
        check=_skin_check(5, "mda"),
        any_of=("pasi", "bsa_pct"),
        note="PASI or BSA may be missing (not both, unless the other six criteria decide).",
    )
)
vlda = register(
    ItemizedMeasure(
        name="vlda",
        label="PsA very low disease activity (7 of 7 MDA criteria)",
        inputs=_MDA_INPUTS,
        formula=f"all of: {_MDA_CRITERIA}",
        reference=_COATES,
        compute=_mda_flag(7),
        digits=0,
        optional=("pasi", "bsa_pct"),
        kind="flag",
        check=_skin_check(7, "vlda"),
        any_of=("pasi", "bsa_pct"),
        note="PASI or BSA may be missing (not both, unless another criterion is already unmet).",
    )
)
