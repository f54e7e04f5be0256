"""SDAI (Smolen 2003) and CDAI (Aletaha 2005).

``SDAI = TJC28 + SJC28 + PtGA + PhGA + CRP[mg/dL]``; ``CDAI`` is the same without CRP.
Globals are on 0-10. CRP is taken in the canonical **mg/L** and divided
by 10 here: feeding mg/L unconverted would inflate SDAI by 0.9 x CRP.
"""

from __future__ import annotations

import numpy as np

from rheumetrics.measures.base import Measure, add_into, register, shared_term
from rheumetrics.measures.conventions import Conventions


def _clinical_sum(tjc28, sjc28, ptga, phga) -> np.ndarray:
    # ((TJC + SJC) + PtGA) + PhGA, in place after the first sum
    return add_into(add_into(tjc28 + sjc28, ptga), phga)


def _cdai(c: Conventions, tjc28, sjc28, ptga, phga) -> np.ndarray:
    return shared_term("cdai", _clinical_sum, tjc28, sjc28, ptga, phga)


def _sdai(c: Conventions, tjc28, sjc28, ptga, phga, crp_mg_l) -> np.ndarray:
    # CDAI's sum plus CRP/10, added in the same order as written out
    return add_into(crp_mg_l / 10.0, shared_term("cdai", _clinical_sum, tjc28, sjc28, ptga, phga))


sdai = register(
    Measure(
        name="sdai",
        store=True,
        t2t_index="SDAI",
        loinc=("75845-8", "Total score [SDAI]"),
        label="Simplified Disease Activity Index",
        inputs=("tjc28", "sjc28", "ptga", "phga", "crp_mg_l"),
        formula="TJC28 + SJC28 + PtGA(0-10) + PhGA(0-10) + CRP[mg/dL] (= crp_mg_l / 10)",
        reference="Smolen JS et al. Rheumatology 2003;42:244-257, doi:10.1093/rheumatology/keg072",
        compute=_sdai,
        digits=1,
        cutoffs="sdai_cutoffs",
        note="Range 0-86 with CRP bounded at 10 mg/dL; unbounded above in principle.",
    )
)
cdai = register(
    Measure(
        name="cdai",
        store=True,
        t2t_index="CDAI",
        loinc=("75847-4", "Total score [CDAI]"),
        label="Clinical Disease Activity Index",
        inputs=("tjc28", "sjc28", "ptga", "phga"),
        formula="TJC28 + SJC28 + PtGA(0-10) + PhGA(0-10)",
        reference="Aletaha D et al. Arthritis Res Ther 2005;7:R796-R806, doi:10.1186/ar1740",
        compute=_cdai,
        digits=1,
        cutoffs="cdai_cutoffs",
        note="Range 0-76.",
    )
)
