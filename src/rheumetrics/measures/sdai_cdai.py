"""SDAI (Smolen 2003) and CDAI (Aletaha 2005).

``SDAI = TJC28 + SJC28 + PtGA + PhGA + CRP[mg/dL]``; ``CDAI`` is the same without CRP.
Globals are on 0-10. CRP is taken in the canonical **mg/L** and divided
by 10 here: feeding mg/L unconverted would inflate SDAI by 0.9 x CRP.
"""

from __future__ import annotations

from rheumetrics.measures.base import Measure, register
from rheumetrics.measures.formulas import Linear, Term

#: ((TJC28 + SJC28) + PtGA) + PhGA, as written.
_CLINICAL = (Term("tjc28"), Term("sjc28"), Term("ptga"), Term("phga"))


sdai = register(
    Measure(
        name="sdai",
        store=True,
        t2t_index="SDAI",
        loinc=("75845-8", "Total score [SDAI]"),
        label="Simplified Disease Activity Index",
        inputs=("tjc28", "sjc28", "ptga", "phga", "crp_mg_l"),
        reference="Smolen JS et al. Rheumatology 2003;42:244-257, doi:10.1093/rheumatology/keg072",
        compute=Linear((*_CLINICAL, Term("crp_mg_l", transform="tenth"))),
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
        reference="Aletaha D et al. Arthritis Res Ther 2005;7:R796-R806, doi:10.1186/ar1740",
        compute=Linear(_CLINICAL),
        digits=1,
        cutoffs="cdai_cutoffs",
        note="Range 0-76.",
    )
)
