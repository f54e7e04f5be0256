"""Clinical composite measures for RA, axSpA and PsA: pure, vectorised, validated.

Each measure is a :class:`~rheumetrics.measures.base.Measure` registered in
:data:`~rheumetrics.measures.base.MEASURES`; call it with scalars, arrays or Series, e.g.
``das28_esr(tjc28=4, sjc28=5, esr_mm_h=44, gh_mm=12)``. :func:`score_frame` scores a whole table.
"""

from rheumetrics.measures.asas import (
    asas20,
    asas40,
    asas56,
    asas_crp_percent_improvement,
    asas_partial_remission,
)
from rheumetrics.measures.asdas import asdas_crp, asdas_esr, asdas_improvement
from rheumetrics.measures.basdai import basdai, basdai50
from rheumetrics.measures.base import MEASURES, Measure
from rheumetrics.measures.basfi import basfi
from rheumetrics.measures.conventions import DEFAULT, Conventions
from rheumetrics.measures.cutoffs import CUTOFF_SETS, CutoffSet, cutoff_set
from rheumetrics.measures.das28 import (
    das,
    das28_crp,
    das28_crp_3v,
    das28_esr,
    das28_esr_3v,
    das_3v,
    das_crp,
    das_crp_3v,
    das_to_das28,
)
from rheumetrics.measures.fields import FIELDS, Field
from rheumetrics.measures.haq import haq_breakdown, haq_di, haq_di_band, haq_di_improved
from rheumetrics.measures.panel import available_measures, score_frame
from rheumetrics.measures.psa import cdapsa, dapsa, dapsa_response, mda, vlda
from rheumetrics.measures.rapid3 import fn_from_raw, rapid3
from rheumetrics.measures.remission import boolean_remission, index_remission
from rheumetrics.measures.response import (
    acr_n,
    acr_response,
    cdai_mcid,
    cdai_response,
    eular_response,
    sdai_response,
)
from rheumetrics.measures.sdai_cdai import cdai, sdai

__all__ = [
    "CUTOFF_SETS",
    "DEFAULT",
    "FIELDS",
    "MEASURES",
    "Conventions",
    "CutoffSet",
    "Field",
    "Measure",
    "acr_n",
    "acr_response",
    "asas20",
    "asas40",
    "asas56",
    "asas_crp_percent_improvement",
    "asas_partial_remission",
    "asdas_crp",
    "asdas_esr",
    "asdas_improvement",
    "available_measures",
    "basdai",
    "basdai50",
    "basfi",
    "boolean_remission",
    "cdai",
    "cdai_mcid",
    "cdai_response",
    "cdapsa",
    "cutoff_set",
    "dapsa",
    "dapsa_response",
    "das",
    "das28_crp",
    "das28_crp_3v",
    "das28_esr",
    "das28_esr_3v",
    "das_3v",
    "das_crp",
    "das_crp_3v",
    "das_to_das28",
    "eular_response",
    "fn_from_raw",
    "haq_breakdown",
    "haq_di",
    "haq_di_band",
    "haq_di_improved",
    "index_remission",
    "mda",
    "rapid3",
    "score_frame",
    "sdai",
    "sdai_response",
    "vlda",
]
