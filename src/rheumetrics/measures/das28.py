"""DAS28 (Prevoo 1995) and the original DAS (van der Heijde 1990).

Formulas as published by das-score.nl. ESR enters as
``ln(ESR)`` (not ``ln(ESR + 1)``) and must be >= 1 mm/h (see ``fields``); CRP enters in **mg/L** as
``ln(CRP + 1)``, so CRP = 0 is valid. The global item ``gh_mm`` is a 0-100 mm VAS (not 0-10).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rheumetrics.measures.base import Measure, register
from rheumetrics.measures.conventions import Conventions
from rheumetrics.measures.formulas import Linear, Term

_PREVOO = (
    "Prevoo MLL et al. Arthritis Rheum 1995;38:44-48, doi:10.1002/art.1780380107; "
    "formulas as on https://www.das-score.nl"
)


#: 0.56*sqrt(TJC28) + 0.28*sqrt(SJC28), the joint terms of every DAS28 form.
_JOINTS = (Term("tjc28", 0.56, "sqrt"), Term("sjc28", 0.28, "sqrt"))
_ESR = Term("esr_mm_h", 0.70, "log")
_CRP = Term("crp_mg_l", 0.36, "log1p")  # ln(CRP + 1), CRP in mg/L
_GLOBAL = Term("gh_mm", 0.014)


das28_esr = register(
    Measure(
        name="das28_esr",
        store=True,
        t2t_index="DAS28-ESR",
        label="DAS28-ESR (4 variables)",
        inputs=("tjc28", "sjc28", "esr_mm_h", "gh_mm"),
        reference=_PREVOO,
        compute=Linear((*_JOINTS, _ESR, _GLOBAL)),
        digits=2,
        cutoffs="das28_esr_cutoffs",
        note="No fixed minimum (ln ESR); practical maximum about 9.4.",
    )
)
das28_esr_3v = register(
    Measure(
        name="das28_esr_3v",
        store=True,
        t2t_index="DAS28-ESR (3 variables)",
        label="DAS28-ESR (3 variables, no global assessment)",
        inputs=("tjc28", "sjc28", "esr_mm_h"),
        reference=_PREVOO,
        compute=Linear((*_JOINTS, _ESR), scale=1.08, offset=0.16),
        digits=2,
        cutoffs="das28_esr_cutoffs",
    )
)
das28_crp = register(
    Measure(
        name="das28_crp",
        store=True,
        t2t_index="DAS28-CRP",
        label="DAS28-CRP (4 variables)",
        inputs=("tjc28", "sjc28", "crp_mg_l", "gh_mm"),
        reference=_PREVOO,
        compute=Linear((*_JOINTS, _CRP, _GLOBAL), offset=0.96),
        digits=2,
        cutoffs="das28_crp_cutoffs",
        note="Minimum 0.96 (all inputs zero).",
    )
)
das28_crp_3v = register(
    Measure(
        name="das28_crp_3v",
        store=True,
        t2t_index="DAS28-CRP (3 variables)",
        label="DAS28-CRP (3 variables, no global assessment)",
        inputs=("tjc28", "sjc28", "crp_mg_l"),
        reference=_PREVOO,
        compute=Linear((*_JOINTS, _CRP), scale=1.10, offset=1.15),
        digits=2,
        cutoffs="das28_crp_cutoffs",
        note="Minimum 1.15 (all inputs zero).",
    )
)

# Original DAS (44 swollen joints + Ritchie index). Unrounded coefficients per medicalalgorithms /
# third-party code; rounded ones per das-score.nl.
_DAS_COEF = {
    "unrounded": {"rai": 0.53938, "sjc": 0.06465, "esr": 0.330, "gh": 0.00722, "c3": 0.224},
    "rounded": {"rai": 0.54, "sjc": 0.065, "esr": 0.33, "gh": 0.0072, "c3": 0.22},
}
_VDH = (
    "van der Heijde DM et al. Ann Rheum Dis 1990;49:916-920, doi:10.1136/ard.49.11.916; "
    "formulas as on https://www.das-score.nl"
)


def _das_joints(c: Conventions, rai: np.ndarray, sjc44: np.ndarray) -> np.ndarray:
    k = _DAS_COEF[c.das_coefficients]
    return k["rai"] * np.sqrt(rai) + k["sjc"] * sjc44


def _das4(c: Conventions, rai, sjc44, esr_mm_h, gh_mm):
    k = _DAS_COEF[c.das_coefficients]
    return _das_joints(c, rai, sjc44) + k["esr"] * np.log(esr_mm_h) + k["gh"] * gh_mm


def _das3(c: Conventions, rai, sjc44, esr_mm_h):
    k = _DAS_COEF[c.das_coefficients]
    return _das_joints(c, rai, sjc44) + k["esr"] * np.log(esr_mm_h) + k["c3"]


def _das_crp4(c: Conventions, rai, sjc44, crp_mg_l, gh_mm):
    return 0.54 * np.sqrt(rai) + 0.065 * sjc44 + 0.17 * np.log1p(crp_mg_l) + 0.0072 * gh_mm + 0.45


def _das_crp3(c: Conventions, rai, sjc44, crp_mg_l):
    return 0.54 * np.sqrt(rai) + 0.065 * sjc44 + 0.17 * np.log1p(crp_mg_l) + 0.65


das = register(
    Measure(
        name="das",
        label="DAS (original, 4 variables, ESR)",
        inputs=("rai", "sjc44", "esr_mm_h", "gh_mm"),
        formula="0.53938*sqrt(RAI) + 0.06465*SJC44 + 0.330*ln(ESR) + 0.00722*GH "
        "(das_coefficients='rounded': 0.54, 0.065, 0.33, 0.0072)",
        reference=_VDH,
        compute=_das4,
        digits=2,
        cutoffs="das_cutoffs",
        conventions=("das_coefficients",),
    )
)
das_3v = register(
    Measure(
        name="das_3v",
        label="DAS (original, 3 variables, ESR)",
        inputs=("rai", "sjc44", "esr_mm_h"),
        formula="0.53938*sqrt(RAI) + 0.06465*SJC44 + 0.330*ln(ESR) + 0.224 "
        "(rounded: 0.54, 0.065, 0.33, constant 0.22)",
        reference=_VDH,
        compute=_das3,
        digits=2,
        cutoffs="das_cutoffs",
        conventions=("das_coefficients",),
    )
)
das_crp = register(
    Measure(
        name="das_crp",
        label="DAS-CRP (original, 4 variables)",
        inputs=("rai", "sjc44", "crp_mg_l", "gh_mm"),
        formula="0.54*sqrt(RAI) + 0.065*SJC44 + 0.17*ln(CRP[mg/L] + 1) + 0.0072*GH + 0.45",
        reference=_VDH,
        compute=_das_crp4,
        digits=2,
        cutoffs="das_cutoffs",
    )
)
das_crp_3v = register(
    Measure(
        name="das_crp_3v",
        label="DAS-CRP (original, 3 variables)",
        inputs=("rai", "sjc44", "crp_mg_l"),
        formula="0.54*sqrt(RAI) + 0.065*SJC44 + 0.17*ln(CRP[mg/L] + 1) + 0.65",
        reference=_VDH,
        compute=_das_crp3,
        digits=2,
        cutoffs="das_cutoffs",
    )
)


def das_to_das28(das_value: Any) -> Any:
    """Transform an original DAS value to the DAS28 scale: ``1.072*DAS + 0.938`` (das-score.nl)."""
    return 1.072 * das_value + 0.938
