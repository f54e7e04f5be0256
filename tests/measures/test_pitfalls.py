"""Regression tests for the peer mistakes in peer-pitfalls.md §2 (items owned by the RA core).

Each asserts the correct value, so the mistake cannot creep in.
"""

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from rheumetrics.errors import UnitWarning, ValidationError
from rheumetrics.measures import MEASURES, Conventions, das28_crp, das28_esr, sdai
from rheumetrics.measures.panel import score_frame
from rheumetrics.numeric import round_display, snap


def test_1_das28_esr_uses_ln_esr_not_ln_esr_plus_1():
    # §2 #1: TJC 4, SJC 5, ESR 7, PGA 50 -> correct 3.81 (ln(ESR+1) would give 3.90)
    assert round_display(das28_esr(4, 5, 7, 50), 2) == 3.81


@pytest.mark.parametrize("esr", [0, -1])
def test_2_esr_zero_or_negative_is_an_error_never_minus_infinity(esr):
    with pytest.raises(ValidationError, match="esr_mm_h"):
        das28_esr(2, 2, esr, 10)
    out = das28_esr([2], [2], [esr], [10], lenient=True)
    assert np.isnan(out[0]) and not np.isinf(out[0])


def test_3_crp_units_das28_crp_in_mg_l_sdai_in_mg_dl():
    # §2 #3: CRP 1.5 mg/dL = 15 mg/L; TJC 2, SJC 2, GH 30: DAS28-CRP with 15 mg/L
    assert das28_crp(2, 2, 15, 30) == pytest.approx(
        0.56 * math.sqrt(2) + 0.28 * math.sqrt(2) + 0.36 * math.log(16) + 0.014 * 30 + 0.96
    )
    frame = pd.DataFrame(
        {"tjc28": [1], "sjc28": [0], "ptga": [1.0], "phga": [0.0], "crp_mg_dl": [1.0]}
    )
    assert score_frame(frame)["sdai"].iloc[0] == pytest.approx(3.0)  # W20 via the mg/dL column


def test_3_crp_mg_dl_that_looks_like_mg_l_warns():
    frame = pd.DataFrame(
        {"tjc28": [1], "sjc28": [0], "ptga": [1.0], "phga": [0.0], "crp_mg_dl": [45.0]}
    )
    with pytest.warns(UnitWarning, match="mg/L"):
        score_frame(frame)


def test_4_patient_global_scales_are_distinct():
    # §2 #4: DAS28 takes GH on 0-100 mm; SDAI/CDAI/Boolean take PtGA on 0-10.
    with pytest.raises(ValidationError, match="ptga"):
        sdai(1, 1, 45, 2, 5)  # a mm value passed as 0-10
    frame = pd.DataFrame({"tjc28": [1], "sjc28": [1], "ptga_mm": [45.0], "phga": [2.0]})
    assert score_frame(frame)["cdai"].iloc[0] == pytest.approx(8.5)


@pytest.mark.parametrize(
    ("cutoffs", "expected"), [("das28_eular", "low"), ("das28_acr2012", "moderate")]
)
def test_11_das28_exactly_3_2(cutoffs, expected):
    # §2 #11 / clinical-measures §13.2: EULAR low <= 3.2; ACR 2012 low < 3.2
    conv = Conventions(das28_esr_cutoffs=cutoffs)
    assert MEASURES["das28_esr"].category(3.2, conv) == expected


@pytest.mark.parametrize(
    ("cutoffs", "value", "expected"),
    [
        ("das28_eular", 2.5, "remission"),
        ("das28crp_fleischmann", 2.5, "low"),  # §2.3 Fleischmann 2015 remission < 2.4
        ("das28crp_fleischmann", 2.9, "low"),
        ("das28crp_fleischmann", 4.7, "high"),  # Fleischmann 2017 HDA > 4.6
        ("das28crp_inoue", 2.3, "low"),  # Inoue 2007 remission < 2.3
    ],
)
def test_12_das28_crp_cutoff_sets_are_named_and_recorded(cutoffs, value, expected):
    conv = Conventions(das28_crp_cutoffs=cutoffs)
    assert MEASURES["das28_crp"].category(value, conv) == expected
    frame = pd.DataFrame({"tjc28": [0], "sjc28": [0], "crp_mg_l": [0.0], "gh_mm": [0.0]})
    assert score_frame(frame, conv).attrs["conventions"]["das28_crp_cutoffs"] == cutoffs


def test_13_no_rounding_before_classifying():
    # §2 #13: CDAI 2.6 is remission (rounding to 0 dp would say 3 -> low); SDAI 3.4 is low.
    assert MEASURES["cdai"].category(2.6) == "remission"
    assert MEASURES["sdai"].category(3.4) == "low"
    # A DAS28 of 2.57 is remission even though it displays as 2.6 at 1 dp.
    assert MEASURES["das28_esr"].category(2.57) == "remission"


def test_13_display_rounding_is_half_up_by_default():
    # §2 #13: Python's round(2.675, 2) gives 2.67; das-score.nl/Excel round half away from zero.
    assert round_display(2.675, 2) == 2.68
    assert round_display(2.675, 2, "half_even") == 2.68  # half-even on the decimal value: 2.68
    assert round_display(2.665, 2, "half_even") == 2.66
    assert round_display(-2.675, 2) == -2.68


def test_19_non_integer_esr_accepted_non_integer_counts_rejected():
    # §2 #19: ESR and PtGA need not be integers; joint counts must be.
    assert das28_esr(2, 2, 12.5, 10.5) > 0
    with pytest.raises(ValidationError, match="must be an integer"):
        das28_esr(2.5, 2, 12, 10)


def test_20_non_numeric_input_is_an_error_not_silently_na():
    frame = pd.DataFrame(
        {"tjc28": ["A", "2"], "sjc28": [1, 1], "esr_mm_h": [10, 10], "gh_mm": [5, 5]}
    )
    with pytest.raises(ValidationError) as info:
        score_frame(frame)
    assert [(p.record, p.field, p.value) for p in info.value.problems] == [(0, "tjc28", "A")]


def test_snapping_never_overflows_a_huge_value() -> None:
    # 1e300 * 10**9 overflows; a value that large has no decimals to remove and stays itself
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = snap(np.array([1e300, -1e300, 2.8000000000000003, np.inf, np.nan]))
    assert got[:2].tolist() == [1e300, -1e300]
    assert got[2] == 2.8 and got[3] == np.inf and np.isnan(got[4])
