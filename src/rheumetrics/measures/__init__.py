"""Clinical composite measures for RA, axSpA and PsA: pure, vectorised, validated.

Each measure is a :class:`~rheumetrics.measures.base.Measure` registered in
:data:`~rheumetrics.measures.base.MEASURES`; call it with scalars, arrays or Series, e.g.
``das28_esr(tjc28=4, sjc28=5, esr_mm_h=44, gh_mm=12)``. :func:`score_frame` scores a whole table.
"""

from rheumetrics.measures.base import MEASURES, Measure
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
from rheumetrics.measures.remission import boolean_remission, index_remission
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
    "boolean_remission",
    "cdai",
    "cutoff_set",
    "das",
    "das28_crp",
    "das28_crp_3v",
    "das28_esr",
    "das28_esr_3v",
    "das_3v",
    "das_crp",
    "das_crp_3v",
    "das_to_das28",
    "index_remission",
    "sdai",
]
