"""ASDAS-CRP and ASDAS-ESR (Lukas 2009), states (Machado 2011, 2018 names) and improvement.

Inputs: back pain = **BASDAI Q2** (``basdai_q2``), duration of
morning stiffness = **BASDAI Q6** (``basdai_q6``; the *duration*, not the severity Q5),
patient global assessment of disease activity ``ptga`` (0-10), peripheral pain/swelling =
**BASDAI Q3** (``basdai_q3``), and CRP in **mg/L** or ESR in mm/h. ASDAS reuses the BASDAI item
columns rather than separate ``asdas_*`` columns because Lukas 2009 defines its items as those
BASDAI questions: one answer, one column, no chance of the two copies disagreeing.

Conventions (recorded with every result):

- ``asdas_coefficients``: "lukas2009", the published 3-decimal weights (default; Lukas 2009, ARD
  axSpA review, RMD Open 2025), or "rounded", the 2-decimal weights of ASAS teaching
  material and most calculators. They differ by up to ~0.04-0.06.
- ``asdas_crp_floor_mg_l``: CRP below 2 mg/L is set to 2 mg/L (Machado 2015; ASAS calculator),
  so ASDAS-CRP cannot fall below ~0.64. None disables it (as the Cambio GDL rules do).
  ASDAS-ESR has no floor.
- ``asdas_cutoffs``: "asdas_2018" names the 1.3 to < 2.1 band "low" (Machado 2018);
  "asdas_2011" keeps "moderate". Bands are half-open with no gap:
  inactive < 1.3 <= low < 2.1 <= high <= 3.5 < very high.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Importing basdai registers the BASDAI item fields used here.
from rheumetrics.measures import basdai as _basdai  # noqa: F401
from rheumetrics.measures import fields
from rheumetrics.measures.base import Measure, register
from rheumetrics.measures.conventions import Conventions
from rheumetrics.measures.paired import absolute_change, prepare_paired

# ASDAS items: BASDAI Q2 (back pain), Q6 (stiffness duration), PtGA, BASDAI Q3 (peripheral).
_ITEMS = ("basdai_q2", "basdai_q6", "ptga", "basdai_q3")

#: Weights of (back pain, stiffness duration, patient global, peripheral, lab term) by set.
COEFFICIENTS: dict[str, dict[str, tuple[float, float, float, float, float]]] = {
    # Lukas 2009 "ASDAS C" and "ASDAS B".
    "lukas2009": {
        "crp": (0.121, 0.058, 0.110, 0.073, 0.579),
        "esr": (0.079, 0.069, 0.113, 0.086, 0.293),
    },
    # 2-decimal weights of ASAS teaching material and calculators.
    "rounded": {"crp": (0.12, 0.06, 0.11, 0.07, 0.58), "esr": (0.08, 0.07, 0.11, 0.09, 0.29)},
}

_LUKAS = (
    "Lukas C et al. Ann Rheum Dis 2009;68:18-24, doi:10.1136/ard.2008.094870; cut-offs Machado P "
    "et al. Ann Rheum Dis 2011;70:47-53, doi:10.1136/ard.2010.138594; state names Machado PM et "
    "al. Ann Rheum Dis 2018;77:1539-1540, doi:10.1136/annrheumdis-2018-213184"
)

fields.register(
    fields.Field(
        "asdas", "ASDAS value, CRP or ESR version (input to ASDAS improvement)", "score", 0, 10
    )
)


def _items(w: tuple[float, ...], q2: Any, q6: Any, ptga: Any, q3: Any) -> Any:
    return w[0] * q2 + w[1] * q6 + w[2] * ptga + w[3] * q3


def _asdas_crp(c: Conventions, basdai_q2, basdai_q6, ptga, basdai_q3, crp_mg_l):
    w = COEFFICIENTS[c.asdas_coefficients]["crp"]
    crp = (
        crp_mg_l if c.asdas_crp_floor_mg_l is None else np.maximum(crp_mg_l, c.asdas_crp_floor_mg_l)
    )
    return _items(w, basdai_q2, basdai_q6, ptga, basdai_q3) + w[4] * np.log1p(crp)


def _asdas_esr(c: Conventions, basdai_q2, basdai_q6, ptga, basdai_q3, esr_mm_h):
    w = COEFFICIENTS[c.asdas_coefficients]["esr"]
    return _items(w, basdai_q2, basdai_q6, ptga, basdai_q3) + w[4] * np.sqrt(esr_mm_h)


asdas_crp = register(
    Measure(
        name="asdas_crp",
        store=True,
        t2t_index="ASDAS-CRP",
        label="Axial Spondyloarthritis Disease Activity Score, CRP version",
        inputs=(*_ITEMS, "crp_mg_l"),
        formula="0.121*BackPain(BASDAI Q2) + 0.058*StiffnessDuration(BASDAI Q6) + 0.110*PtGA "
        "+ 0.073*Peripheral(BASDAI Q3) + 0.579*ln(max(CRP[mg/L], 2) + 1) "
        "(asdas_coefficients='rounded': 0.12, 0.06, 0.11, 0.07, 0.58; CRP floor "
        "asdas_crp_floor_mg_l, None to disable)",
        reference=_LUKAS
        + "; CRP floor Machado P et al. Arthritis Rheumatol 2015;67:408-413, doi:10.1002/art.38921",
        compute=_asdas_crp,
        digits=2,
        cutoffs="asdas_cutoffs",
        conventions=("asdas_coefficients", "asdas_crp_floor_mg_l"),
        note="Minimum about 0.64 with the 2 mg/L CRP floor.",
    )
)
asdas_esr = register(
    Measure(
        name="asdas_esr",
        store=True,
        t2t_index="ASDAS-ESR",
        label="Axial Spondyloarthritis Disease Activity Score, ESR version",
        inputs=(*_ITEMS, "esr_mm_h"),
        formula="0.079*BackPain(BASDAI Q2) + 0.069*StiffnessDuration(BASDAI Q6) + 0.113*PtGA "
        "+ 0.086*Peripheral(BASDAI Q3) + 0.293*sqrt(ESR[mm/h]) "
        "(asdas_coefficients='rounded': 0.08, 0.07, 0.11, 0.09, 0.29)",
        reference=_LUKAS,
        compute=_asdas_esr,
        digits=2,
        cutoffs="asdas_cutoffs",
        conventions=("asdas_coefficients",),
    )
)

#: Change in ASDAS units (Machado 2011; worsening Molto 2018).
CLINICALLY_IMPORTANT_IMPROVEMENT = 1.1
MAJOR_IMPROVEMENT = 2.0
CLINICALLY_IMPORTANT_WORSENING = 0.9
#: ASDAS change categories, worst to best.
CHANGE_LABELS = (
    "clinically_important_worsening",
    "no_important_change",
    "clinically_important_improvement",
    "major_improvement",
)


def asdas_improvement(baseline: Any, followup: Any, *, lenient: bool = False) -> Any:
    """ASDAS change category between two visits (same ASDAS version at both).

    Decrease >= 2.0: "major_improvement"; decrease >= 1.1: "clinically_important_improvement"
    (Machado 2011); increase >= 0.9: "clinically_important_worsening" (Molto 2018);
    otherwise "no_important_change". Decided on unrounded,
    snapped differences, so 3.80 -> 2.60 (a fall of 1.2 in floating point 1.1999999999999997) is a
    clinically important improvement. A major improvement is also clinically important.

    Returns
    -------
    str for scalars; an ordered Categorical for arrays; a categorical Series for Series.

    Examples
    --------
    >>> asdas_improvement(3.8, 2.6), asdas_improvement(4.0, 1.9), asdas_improvement(1.2, 2.1)
    ('clinically_important_improvement', 'major_improvement', 'clinically_important_worsening')
    """
    p = prepare_paired(
        {"asdas": baseline}, {"asdas": followup}, context="ASDAS improvement", lenient=lenient
    )
    fall = absolute_change(p.baseline["asdas"], p.followup["asdas"])
    codes = np.where(
        fall >= MAJOR_IMPROVEMENT,
        3,
        np.where(
            fall >= CLINICALLY_IMPORTANT_IMPROVEMENT,
            2,
            np.where(-fall >= CLINICALLY_IMPORTANT_WORSENING, 0, 1),
        ),
    )
    return p.category(codes, CHANGE_LABELS, "asdas_improvement")
