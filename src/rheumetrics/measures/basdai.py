"""BASDAI (Garrett 1994) and the BASDAI50 response.

``BASDAI = (Q1 + Q2 + Q3 + Q4 + (Q5 + Q6) / 2) / 5`` on six 0-10 items: the two
morning-stiffness items (Q5 severity, Q6 duration) are averaged first, so they weigh as one. Not the mean of Q1-4 and of Q5-6. Q6 is the 0-10 duration scale
(10 = 2 hours or more); a duration in hours or minutes is mapped onto it by
:func:`rheumetrics.measures.units.stiffness_duration_to_q6` (columns ``morning_stiffness_h`` or
``morning_stiffness_min`` in :func:`~rheumetrics.measures.units.to_canonical`).

Questionnaire wording is copyrighted and not shipped; only the scoring is implemented.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rheumetrics.measures import fields
from rheumetrics.measures.base import Measure, register
from rheumetrics.measures.conventions import DEFAULT, Conventions
from rheumetrics.measures.paired import absolute_change, prepare_paired, relative_change

_GARRETT = "Garrett S et al. J Rheumatol 1994;21:2286-2291 (PMID 7699630)"

#: BASDAI items (item wording paraphrased; the questionnaire text is not shipped).
BASDAI_ITEMS: dict[str, str] = {
    "basdai_q1": "BASDAI Q1: fatigue / tiredness",
    "basdai_q2": "BASDAI Q2: neck, back or hip pain (also the ASDAS back-pain item)",
    "basdai_q3": "BASDAI Q3: pain/swelling in other joints (also the ASDAS peripheral item)",
    "basdai_q4": "BASDAI Q4: discomfort from areas tender to touch or pressure",
    "basdai_q5": "BASDAI Q5: severity of morning stiffness",
    "basdai_q6": "BASDAI Q6: duration of morning stiffness, 0-10 (10 = 2 h or more; "
    "also the ASDAS item)",
}

fields.register(
    *(fields.nrs(name, label) for name, label in BASDAI_ITEMS.items()),
    # A BASDAI value as input to BASDAI50 (the score itself is the measure below).
    fields.Field("basdai", "BASDAI score (input to BASDAI50)", "score", 0, 10),
)


def _basdai(c: Conventions, basdai_q1, basdai_q2, basdai_q3, basdai_q4, basdai_q5, basdai_q6):
    return (basdai_q1 + basdai_q2 + basdai_q3 + basdai_q4 + (basdai_q5 + basdai_q6) / 2.0) / 5.0


basdai = register(
    Measure(
        name="basdai",
        label="Bath Ankylosing Spondylitis Disease Activity Index",
        inputs=tuple(BASDAI_ITEMS),
        formula="(Q1 + Q2 + Q3 + Q4 + (Q5 + Q6)/2) / 5, items 0-10",
        reference=_GARRETT,
        compute=_basdai,
        digits=1,
        cutoffs="basdai_cutoffs",
        note="Range 0-10; active disease >= 4.",
    )
)


def basdai50(
    baseline: Any, followup: Any, conventions: Conventions = DEFAULT, *, lenient: bool = False
) -> Any:
    """BASDAI50 response: BASDAI falls by >= 50 % **or** by >= 2 units (0-10).

    The "or >= 2 units" arm follows the ASAS recommendations for starting anti-TNF therapy
    (Braun J et al. Ann Rheum Dis 2003;62:817-824, doi:10.1136/ard.62.9.817) and is set by
    ``conventions.basdai50_units`` (None: 50 % only). Compared on unrounded values after
    snapping; a baseline of 0 cannot respond.

    Parameters
    ----------
    baseline, followup : BASDAI values (scalars, arrays or Series with the same index).

    Returns
    -------
    bool for scalars, a nullable boolean Series for Series, a 1.0/0.0/NaN array for arrays.

    Examples
    --------
    >>> basdai50(6.0, 3.0), basdai50(5.0, 3.0), basdai50(5.0, 3.5)
    (True, True, False)
    """
    p = prepare_paired(
        {"basdai": baseline}, {"basdai": followup}, context="BASDAI50", lenient=lenient
    )
    b, f = p.baseline["basdai"], p.followup["basdai"]
    ok = relative_change(b, f) >= 0.5
    if conventions.basdai50_units is not None:
        ok = ok | (absolute_change(b, f) >= conventions.basdai50_units)
    return p.flag(np.asarray(ok), "basdai50")
