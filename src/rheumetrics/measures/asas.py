"""ASAS response criteria (ASAS20, ASAS40, ASAS 5/6) and ASAS partial remission.

Four ASAS domains on 0-10:

- patient global ``ptga``;
- pain, the column named by ``conventions.asas_pain_item``: ``total_back_pain`` (default, ASAS
  handbook), ``nocturnal_back_pain`` (some trials) or ``basdai_q2``;
- function ``basfi`` (the BASFI score, see :mod:`rheumetrics.measures.basfi`);
- inflammation, the mean of BASDAI Q5 and Q6 (``basdai_q5``, ``basdai_q6``).

ASAS 5/6 adds CRP (``crp_mg_l``; plain or ULN-adjusted change, ``conventions.asas_crp_change``) and spinal mobility, lateral spinal flexion in cm (``lateral_spinal_flexion_cm``), where an
**increase** is the improvement.

Relative changes are snapped before comparison (``(3.0 - 2.4)/3.0`` meets 20 %). A baseline of 0
has no relative change (a package decision): on a 0-10 scale nothing can improve from 0
anyway; lateral spinal flexion from 0 cm and a ULN-adjusted CRP from a baseline at or below the ULN
count as not improved; ASAS20 worsening from 0 follows ``conventions.asas_worsening_from_zero``.

Every function takes the two visits as mappings or DataFrames of canonical columns, paired by
position (arrays) or index label (Series / DataFrames).
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Importing basdai and basfi registers the item and score fields used here.
from rheumetrics.measures import basdai as _basdai  # noqa: F401
from rheumetrics.measures import basfi as _basfi  # noqa: F401
from rheumetrics.measures import fields
from rheumetrics.measures.conventions import DEFAULT, Conventions
from rheumetrics.measures.paired import (
    Paired,
    Visit,
    absolute_change,
    as_flag,
    column_pairs,
    prepare_paired,
    prepare_visit,
    relative_change,
)
from rheumetrics.numeric import snap

fields.register(
    fields.nrs("total_back_pain", "total back pain due to axSpA, past week (ASAS pain domain)"),
    fields.nrs("nocturnal_back_pain", "back pain at night due to axSpA, past week"),
    # 0-50 cm is a plausibility bound (BASMI lateral spinal flexion, mean of left and right).
    fields.Field(
        "lateral_spinal_flexion_cm", "lateral spinal flexion (mean of sides)", "cm", 0, 50
    ),
)

_INFLAMMATION = ("basdai_q5", "basdai_q6")


def _domain_columns(conventions: Conventions) -> tuple[str, ...]:
    return ("ptga", conventions.asas_pain_item, "basfi", *_INFLAMMATION)


def _four_domains(v: dict[str, np.ndarray], conventions: Conventions) -> list[np.ndarray]:
    """Patient global, pain, function, inflammation (mean of BASDAI Q5 and Q6)."""
    inflammation = (v["basdai_q5"] + v["basdai_q6"]) / 2.0
    return [v["ptga"], v[conventions.asas_pain_item], v["basfi"], inflammation]


def _paired(
    baseline: Visit, followup: Visit, names: tuple[str, ...], context: str, lenient: bool
) -> Paired:
    b, f = column_pairs(baseline, followup, names)
    return prepare_paired(b, f, context=context, lenient=lenient)


def asas20(
    baseline: Visit, followup: Visit, conventions: Conventions = DEFAULT, *, lenient: bool = False
) -> Any:
    """ASAS20 (Anderson 2001): improvement >= 20 % **and** >= 1 unit in >= 3 of the 4
    domains, and no worsening of >= 20 % **and** >= 1 unit in the remaining domain.

    Returns bool for scalar inputs, a nullable boolean Series for Series/DataFrames, and a
    1.0/0.0/NaN array for arrays.
    """
    p = _paired(baseline, followup, _domain_columns(conventions), "ASAS20", lenient)
    improved = np.zeros(p.invalid.shape, dtype=int)
    worsened = np.zeros(p.invalid.shape, dtype=bool)
    for b, f in zip(
        _four_domains(p.baseline, conventions), _four_domains(p.followup, conventions), strict=True
    ):
        improved += (relative_change(b, f) >= 0.2) & (absolute_change(b, f) >= 1.0)
        rise = absolute_change(b, f, increase=True) >= 1.0
        relative_rise = relative_change(b, f, increase=True) >= 0.2
        if conventions.asas_worsening_from_zero == "absolute_only":
            relative_rise |= b == 0
        worsened |= rise & relative_rise
    return p.flag((improved >= 3) & ~worsened, "asas20")


def asas40(
    baseline: Visit, followup: Visit, conventions: Conventions = DEFAULT, *, lenient: bool = False
) -> Any:
    """ASAS40 (Brandt 2004): improvement >= 40 % **and** >= 2 units in >= 3 of the 4
    domains, and no worsening at all in the remaining domain. Shapes as :func:`asas20`."""
    p = _paired(baseline, followup, _domain_columns(conventions), "ASAS40", lenient)
    improved = np.zeros(p.invalid.shape, dtype=int)
    worsened = np.zeros(p.invalid.shape, dtype=bool)
    for b, f in zip(
        _four_domains(p.baseline, conventions), _four_domains(p.followup, conventions), strict=True
    ):
        improved += (relative_change(b, f) >= 0.4) & (absolute_change(b, f) >= 2.0)
        worsened |= absolute_change(b, f) < 0
    return p.flag((improved >= 3) & ~worsened, "asas40")


def crp_improvement(b: np.ndarray, f: np.ndarray, conventions: Conventions) -> np.ndarray:
    """CRP improvement as a fraction: plain ``(b - f)/b`` or ULN-adjusted ``(b - f)/(b - ULN)``.

    ULN-adjusted change is undefined, so NaN (not improved), when the baseline is at
    or below the ULN.
    """
    if conventions.asas_crp_change == "plain":
        return relative_change(b, f)
    uln = float(conventions.asas_crp_uln_mg_l or 0.0)
    above = snap(b - uln) > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(above, (b - f) / np.where(above, b - uln, 1.0), np.nan)
    return snap(ratio)


def asas_crp_percent_improvement(
    baseline_mg_l: Any, followup_mg_l: Any, conventions: Conventions = DEFAULT
) -> Any:
    """The ASAS 5/6 CRP-domain improvement in percent under ``conventions.asas_crp_change``.

    Examples
    --------
    CRP 2.0 -> 1.5 mg/dL (20 -> 15 mg/L): plain 25 %, ULN-adjusted (ULN 0.5 mg/dL) 33.3 %.

    >>> asas_crp_percent_improvement(20.0, 15.0)
    25.0
    """
    p = prepare_paired(
        {"crp_mg_l": baseline_mg_l}, {"crp_mg_l": followup_mg_l}, context="CRP improvement"
    )
    pct = crp_improvement(p.baseline["crp_mg_l"], p.followup["crp_mg_l"], conventions) * 100.0
    return float(pct) if p.scalar else pct


def asas56(
    baseline: Visit, followup: Visit, conventions: Conventions = DEFAULT, *, lenient: bool = False
) -> Any:
    """ASAS 5/6 (Brandt 2004): improvement >= 20 % in >= 5 of 6 domains (the 4 ASAS
    domains, CRP and lateral spinal flexion, which improves by increasing). Shapes as
    :func:`asas20`."""
    names = (*_domain_columns(conventions), "crp_mg_l", "lateral_spinal_flexion_cm")
    p = _paired(baseline, followup, names, "ASAS 5/6", lenient)
    improved = np.zeros(p.invalid.shape, dtype=int)
    for b, f in zip(
        _four_domains(p.baseline, conventions), _four_domains(p.followup, conventions), strict=True
    ):
        improved += relative_change(b, f) >= 0.2
    bc, fc = p.baseline["crp_mg_l"], p.followup["crp_mg_l"]
    improved += crp_improvement(bc, fc, conventions) >= 0.2
    bl, fl = p.baseline["lateral_spinal_flexion_cm"], p.followup["lateral_spinal_flexion_cm"]
    improved += relative_change(bl, fl, increase=True) >= 0.2
    return p.flag(improved >= 5, "asas56")


def asas_partial_remission(
    visit: Visit, conventions: Conventions = DEFAULT, *, lenient: bool = False
) -> Any:
    """ASAS partial remission: a value <= 2 (0-10) in each of the 4 ASAS domains (Anderson
    2001, ASAS handbook; ``conventions.asas_partial_remission_below_2`` gives Machado 2011's
    "< 2"). One visit; shapes as :func:`asas20`."""
    p = prepare_visit(
        visit, _domain_columns(conventions), context="ASAS partial remission", lenient=lenient
    )
    ok = np.ones(p.invalid.shape, dtype=bool)
    for value in _four_domains(p.arrays, conventions):
        v = snap(value)
        ok &= (v < 2.0) if conventions.asas_partial_remission_below_2 else (v <= 2.0)
    return as_flag(ok, p.invalid, p.scalar, p.index, "asas_partial_remission")
