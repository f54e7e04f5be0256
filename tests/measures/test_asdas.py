"""ASDAS-CRP / ASDAS-ESR, states and improvement (clinical-measures.md §10.1, §13.4-13.5, §14).

Worked examples W25-W29 and W36 are cited by ID; peer-pitfalls.md §2 items #5-#9 each have a
regression test asserting the correct value.
"""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rheumetrics.errors import ValidationError
from rheumetrics.measures.asdas import (
    CHANGE_LABELS,
    COEFFICIENTS,
    asdas_crp,
    asdas_esr,
    asdas_improvement,
)
from rheumetrics.measures.conventions import Conventions
from rheumetrics.measures.panel import score_frame
from rheumetrics.numeric import round_display

LUKAS = Conventions()  # default: published 3-decimal coefficients, 2 mg/L CRP floor, 2018 names
ROUNDED = Conventions(asdas_coefficients="rounded")
ROUNDED_NO_FLOOR = Conventions(asdas_coefficients="rounded", asdas_crp_floor_mg_l=None)


def category(value, conventions=LUKAS):
    return asdas_crp.category(value, conventions)


# --- worked examples (§14) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "crp", "conventions", "expected", "state", "source"),
    [
        # W25: GDL ASDAS-CRP.v1 (no floor, 2-dp) 1.91; with the floor 2.44 (2-dp) / 2.45 (3-dp)
        ((5, 5, 5, 5), 0.2, ROUNDED_NO_FLOOR, 1.91, "low", "W25 Cambio GDL suite, no floor"),
        ((5, 5, 5, 5), 0.2, ROUNDED, 2.44, "high", "W25 with 2 mg/L floor, 2-dp coefficients"),
        ((5, 5, 5, 5), 0.2, LUKAS, 2.45, "high", "W25 with 2 mg/L floor, 3-dp coefficients"),
        # W26: GDL suite, both coefficient sets -> 1.00 inactive
        ((1, 1, 1, 1), 2.0, ROUNDED, 1.00, "inactive", "W26 GDL suite, 2-dp"),
        ((1, 1, 1, 1), 2.0, LUKAS, 1.00, "inactive", "W26 GDL suite, 3-dp"),
        # W27: GDL 3.71 without floor; 4.24 / 4.26 with floor -> very high
        ((10, 10, 10, 10), 0.2, ROUNDED_NO_FLOOR, 3.71, "very_high", "W27 GDL suite, no floor"),
        ((10, 10, 10, 10), 0.2, ROUNDED, 4.24, "very_high", "W27 with floor, 2-dp"),
        ((10, 10, 10, 10), 0.2, LUKAS, 4.26, "very_high", "W27 with floor, 3-dp"),
        # W28: inputs from the cliot R package example -> 3.36 (3-dp) / 3.35 (2-dp), high
        ((6, 5, 6, 4), 10.0, LUKAS, 3.36, "high", "W28 cliot example, 3-dp"),
        ((6, 5, 6, 4), 10.0, ROUNDED, 3.35, "high", "W28 cliot example, 2-dp"),
    ],
)
def test_asdas_crp_worked_examples(items, crp, conventions, expected, state, source):
    value = asdas_crp(*items, crp, conventions=conventions)
    assert round_display(value, 2) == expected, source
    assert category(value, conventions) == state, source


@pytest.mark.parametrize(
    ("conventions", "expected", "unrounded"),
    [(LUKAS, 3.31, 3.3060), (ROUNDED, 3.30, 3.3000)],
)
def test_asdas_esr_worked_example_w29(conventions, expected, unrounded):
    # W29: back pain 6, duration 5, PtGA 6, peripheral 4, ESR 25 mm/h (cliot example) -> high
    value = asdas_esr(6, 5, 6, 4, 25, conventions=conventions)
    assert round_display(value, 2) == expected
    assert value == pytest.approx(unrounded, abs=5e-5)
    assert asdas_esr.category(value, conventions) == "high"


def test_asdas_improvement_w36():
    # W36 (Machado 2011 cut-offs): 3.80 -> 2.60 is a fall of 1.20: clinically important (>= 1.1),
    # not major (< 2.0).
    assert asdas_improvement(3.80, 2.60) == "clinically_important_improvement"
    # W36 also says "state high -> high", but by the §10.1 table (Machado 2011: very high > 3.5)
    # 3.80 is very high; the published cut-offs win over the example's note.
    assert category(3.80) == "very_high"
    assert category(2.60) == "high"


# --- peer-pitfalls.md §2 regressions ---------------------------------------------------------


def test_pitfall_5_crp_floor_applied_by_default():
    # §2 #5: all items 5, CRP 0.2 mg/L -> 2.44 "high" with the floor, not 1.91 "low" without it
    # (ASAS calculator; Machado 2015, R24). The floor is on by default and recorded.
    assert LUKAS.asdas_crp_floor_mg_l == 2.0
    assert round_display(asdas_crp(5, 5, 5, 5, 0.2, conventions=ROUNDED), 2) == 2.44
    assert category(asdas_crp(5, 5, 5, 5, 0.2)) == "high"
    # CRP below 2 mg/L scores as 2 mg/L; above it is used as given.
    assert asdas_crp(5, 5, 5, 5, 0.0) == asdas_crp(5, 5, 5, 5, 2.0)
    assert asdas_crp(5, 5, 5, 5, 2.5) > asdas_crp(5, 5, 5, 5, 2.0)


def test_pitfall_5_minimum_asdas_crp_with_floor():
    # §10.1: with the floor, the minimum ASDAS-CRP is 0.579 * ln(3) ~ 0.64, not 0.
    assert asdas_crp(0, 0, 0, 0, 0) == pytest.approx(0.579 * math.log(3))
    assert round_display(asdas_crp(0, 0, 0, 0, 0), 2) == 0.64


def test_pitfall_5_asdas_esr_has_no_floor():
    # §10.1: the ESR version has no equivalent floor.
    assert asdas_esr(0, 0, 0, 0, 1) == pytest.approx(0.293)


@pytest.mark.parametrize(
    ("item", "crp_weight", "esr_weight"),
    [
        ("basdai_q2", 0.121, 0.079),  # back pain
        ("basdai_q6", 0.058, 0.069),  # duration of morning stiffness
        ("ptga", 0.110, 0.113),  # patient global
        ("basdai_q3", 0.073, 0.086),  # peripheral pain/swelling
    ],
)
def test_pitfall_6_each_item_carries_its_published_weight(item, crp_weight, esr_weight):
    # §2 #6 / Lukas 2009 "ASDAS C" and "ASDAS B": one peer swapped the stiffness and global weights.
    base = {"basdai_q2": 0, "basdai_q6": 0, "ptga": 0, "basdai_q3": 0}
    one = {**base, item: 1}
    assert asdas_crp(**one, crp_mg_l=5) - asdas_crp(**base, crp_mg_l=5) == pytest.approx(crp_weight)
    assert asdas_esr(**one, esr_mm_h=9) - asdas_esr(**base, esr_mm_h=9) == pytest.approx(esr_weight)


def test_pitfall_6_lab_weights_and_rounded_set():
    # Lukas 2009: 0.579 * ln(CRP + 1) and 0.293 * sqrt(ESR); rounded set 0.58 / 0.29 (§10.1).
    assert asdas_crp(0, 0, 0, 0, 9, conventions=LUKAS.with_(asdas_crp_floor_mg_l=None)) == (
        pytest.approx(0.579 * math.log(10))
    )
    assert asdas_esr(0, 0, 0, 0, 16, conventions=ROUNDED) == pytest.approx(0.29 * 4)
    assert COEFFICIENTS["rounded"]["crp"] == (0.12, 0.06, 0.11, 0.07, 0.58)
    assert COEFFICIENTS["rounded"]["esr"] == (0.08, 0.07, 0.11, 0.09, 0.29)


def test_pitfall_7_uses_stiffness_duration_and_patient_global():
    # §2 #7: ASDAS uses the *duration* of morning stiffness (BASDAI Q6), not the severity (Q5),
    # and the patient global assessment itself, not a mean of BASDAI items.
    assert asdas_crp.inputs == ("basdai_q2", "basdai_q6", "ptga", "basdai_q3", "crp_mg_l")
    assert "basdai_q5" not in asdas_esr.inputs


@pytest.mark.parametrize(
    ("value", "state_2018", "state_2011"),
    [
        (1.29, "inactive", "inactive"),
        (1.3, "low", "moderate"),
        (2.09, "low", "moderate"),
        (2.1, "high", "high"),
        (3.5, "high", "high"),
        (3.51, "very_high", "very_high"),
    ],
)
def test_pitfall_8_2018_names_and_2011_names(value, state_2018, state_2011):
    # §2 #8: ASAS 2018 renamed 1.3 to < 2.1 "low" (was "moderate", Machado 2011); cut-offs unchanged.
    assert category(value) == state_2018
    assert category(value, Conventions(asdas_cutoffs="asdas_2011")) == state_2011


def test_pitfall_9_asdas_esr_all_fives_is_high_not_low():
    # §2 #9: GDL expects "2 / Low" for items 5 and ESR 5; the unrounded score is 2.40 -> high.
    value = asdas_esr(5, 5, 5, 5, 5, conventions=ROUNDED)
    assert round_display(value, 2) == 2.40
    assert asdas_esr.category(value, ROUNDED) == "high"
    assert asdas_esr.category(asdas_esr(5, 5, 5, 5, 5)) == "high"  # 2.39 with 3-dp weights


def test_pitfall_9_no_gap_and_no_overlap_between_low_and_high():
    # §13.5: half-open bands; every value in (2.0, 2.1) is low, exactly 2.1 is high only.
    values = np.array([2.0, 2.01, 2.05, 2.099999, 2.1, 2.100001])
    cats = list(category(values))
    assert cats == ["low", "low", "low", "low", "high", "high"]


def test_pitfall_9_state_decided_before_display_rounding():
    # §13.5: ASDAS 2.096 displays as 2.10 but is low.
    assert round_display(2.096, 2) == 2.10
    assert category(2.096) == "low"


# --- improvement -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("baseline", "followup", "expected"),
    [
        (3.3, 1.3, "major_improvement"),  # fall 2.0 (1.9999999999999998 in floats) >= 2.0
        (4.0, 2.0, "major_improvement"),
        (3.0, 1.9, "clinically_important_improvement"),  # 1.1 (1.0999999999999999 in floats)
        (3.0, 1.91, "no_important_change"),
        (2.0, 2.0, "no_important_change"),
        (1.2, 2.1, "clinically_important_worsening"),  # rise 0.9 >= 0.9 (Molto 2018)
        (1.2, 2.09, "no_important_change"),
    ],
)
def test_improvement_thresholds_are_decimal_safe(baseline, followup, expected):
    # Machado 2011 (R23): improvement >= 1.1 / >= 2.0; Molto 2018 (R26): worsening >= 0.9.
    assert asdas_improvement(baseline, followup) == expected


def test_improvement_vectorised_and_series():
    b = pd.Series([3.8, 4.0, 1.2], index=["p1", "p2", "p3"])
    f = pd.Series([2.6, 1.9, 2.3], index=["p1", "p2", "p3"])
    out = asdas_improvement(b, f)
    assert list(out.index) == ["p1", "p2", "p3"]
    assert list(out) == [
        "clinically_important_improvement",
        "major_improvement",
        "clinically_important_worsening",
    ]
    assert list(out.cat.categories) == list(CHANGE_LABELS) and out.cat.ordered
    arr = asdas_improvement(np.array([3.8, 2.0]), np.array([2.6, 2.0]))
    assert list(arr) == ["clinically_important_improvement", "no_important_change"]


def test_improvement_reports_both_visits_and_lenient_gives_na():
    with pytest.raises(ValidationError) as err:
        asdas_improvement([3.0, -1.0], [11.0, 2.0])
    fields = {(p.record, p.field) for p in err.value.problems}
    assert fields == {(1, "asdas (baseline)"), (0, "asdas (follow-up)")}
    out = asdas_improvement([3.0, 4.0], [np.nan, 1.9], lenient=True)
    assert pd.isna(out[0]) and out[1] == "major_improvement"


# --- validation, frames, recorded conventions -------------------------------------------------


def test_bad_items_all_reported():
    with pytest.raises(ValidationError) as err:
        asdas_crp([5, 11], [5, 5], [5, 5], [-1, 5], [3, 3])
    assert {(p.record, p.field) for p in err.value.problems} == {(0, "basdai_q3"), (1, "basdai_q2")}
    assert "<= 10" in str(err.value)


def test_lenient_gives_nan_for_bad_rows():
    out = asdas_crp([5, 11], 5, 5, 5, 3, lenient=True)
    assert np.isnan(out[1]) and np.isfinite(out[0])


def test_score_frame_computes_asdas_with_categories_and_records_conventions():
    visits = pd.DataFrame(
        {
            "basdai_q2": [5.0, 6.0],
            "basdai_q3": [5.0, 4.0],
            "basdai_q6": [5.0, 5.0],
            "ptga": [5.0, 6.0],
            "crp_mg_l": [0.2, 10.0],
            "esr_mm_h": [5.0, 25.0],
        },
        index=["a", "b"],
    )
    out = score_frame(visits, ROUNDED)
    assert round_display(out.loc["a", "asdas_crp"], 2) == 2.44  # W25 with floor, 2-dp
    assert list(out["asdas_crp_category"]) == ["high", "high"]
    assert round_display(out.loc["b", "asdas_esr"], 2) == 3.30  # W29, 2-dp
    conv = out.attrs["conventions"]
    assert conv["asdas_coefficients"] == "rounded"
    assert conv["asdas_crp_floor_mg_l"] == 2.0
    assert conv["asdas_cutoffs"] == "asdas_2018"


def test_score_frame_accepts_stiffness_duration_in_minutes():
    # BASDAI Q6 given as 60 min maps to 5 (clinical-measures.md §10.2 anchors).
    visits = pd.DataFrame(
        {
            "basdai_q2": [6.0],
            "basdai_q3": [4.0],
            "morning_stiffness_min": [60.0],
            "ptga": [6.0],
            "crp_mg_l": [10.0],
        }
    )
    out = score_frame(visits)
    assert round_display(out["asdas_crp"].iloc[0], 2) == 3.36  # W28 (duration 5), 3-dp


# --- properties -------------------------------------------------------------------------------

item = st.floats(0, 10)
crp = st.floats(0, 1000)
esr = st.floats(1, 300)  # the allowed ESR range (>= 1 mm/h)
conv = st.sampled_from([LUKAS, ROUNDED, ROUNDED_NO_FLOOR])


@given(item, item, item, item, crp, conv)
def test_asdas_crp_range(q2, q6, pt, q3, c, conventions):
    value = asdas_crp(q2, q6, pt, q3, c, conventions=conventions)
    floor = conventions.asdas_crp_floor_mg_l or 0.0
    w = COEFFICIENTS[conventions.asdas_coefficients]["crp"]
    assert w[4] * math.log1p(floor) - 1e-12 <= value <= sum(w[:4]) * 10 + w[4] * math.log1p(1000)


@given(st.integers(0, 4), item, item, item, item, crp, st.floats(0, 5), conv)
def test_asdas_crp_monotone_in_each_component(pos, q2, q6, pt, q3, c, bump, conventions):
    args = [q2, q6, pt, q3, c]
    more = list(args)
    more[pos] = min(more[pos] + bump, 10.0) if pos < 4 else min(more[pos] + bump, 1000.0)
    assert asdas_crp(*more, conventions=conventions) >= asdas_crp(*args, conventions=conventions)


@given(st.integers(0, 4), item, item, item, item, esr, st.floats(0, 5))
def test_asdas_esr_monotone_in_each_component(pos, q2, q6, pt, q3, e, bump):
    args = [q2, q6, pt, q3, e]
    more = list(args)
    more[pos] = min(more[pos] + bump, 10.0) if pos < 4 else min(more[pos] + bump, 300.0)
    assert asdas_esr(*more) >= asdas_esr(*args)


@given(st.lists(st.tuples(item, item, item, item, crp, esr), min_size=1, max_size=20), conv)
def test_vectorised_equals_scalar(rows, conventions):
    cols = [np.array(c) for c in zip(*rows, strict=True)]
    vec_crp = asdas_crp(*cols[:5], conventions=conventions)
    vec_esr = asdas_esr(*cols[:4], cols[5], conventions=conventions)
    for i, r in enumerate(rows):
        assert vec_crp[i] == asdas_crp(*r[:5], conventions=conventions)
        assert vec_esr[i] == asdas_esr(*r[:4], r[5], conventions=conventions)


@given(st.floats(0, 10), st.floats(0, 10))
def test_improvement_is_the_published_rule(b, f):
    label = asdas_improvement(b, f)
    fall = round(b - f, 9)
    expected = (
        "major_improvement"
        if fall >= 2.0
        else "clinically_important_improvement"
        if fall >= 1.1
        else "clinically_important_worsening"
        if -fall >= 0.9
        else "no_important_change"
    )
    assert label == expected
