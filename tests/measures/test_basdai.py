"""BASDAI, morning-stiffness duration and BASDAI50 (clinical-measures.md §10.2, §14 W24).

peer-pitfalls.md §2 #10 (formula, active threshold, Q6 in hours/minutes) has regression tests here.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rheumetrics.errors import ValidationError
from rheumetrics.measures.basdai import basdai, basdai50
from rheumetrics.measures.conventions import Conventions
from rheumetrics.measures.panel import score_frame
from rheumetrics.measures.units import stiffness_duration_to_q6, to_canonical
from rheumetrics.numeric import round_display


@pytest.mark.parametrize(
    ("items", "expected", "state", "source"),
    [
        ((2, 10, 7, 1, 9, 3), 5.2, "active", "W24a CamCOPS basdai_tests.py"),
        ((6, 5, 4, 3, 7, 5), 4.8, "active", "W24b calculatorlib.com worked example"),
        ((7, 8, 5, 6, 7, 6), 6.5, "active", "W24c novacalculator.com worked example"),
        ((2, 1, 1, 0, 2, 1), 1.1, "not_active", "W24d novacalculator.com worked example"),
        ((1, 2, 2, 2, 1, 3), 1.8, "not_active", "W24e RheumaComposites.jl test"),
    ],
)
def test_basdai_worked_examples(items, expected, state, source):
    value = basdai(*items)
    assert round_display(value, 1) == expected, source
    assert basdai.category(value) == state, source


def test_pitfall_10_formula_averages_stiffness_items_first():
    # §2 #10: (6,5,4,3,7,5) is 4.8; (mean Q1-4 + mean Q5-6)/2 would give 5.3.
    assert basdai(6, 5, 4, 3, 7, 5) == pytest.approx(4.8)
    # Q1-Q4 weigh 1/5 each, Q5 and Q6 1/10 each (Garrett 1994).
    zero = [0.0] * 6
    for i, weight in enumerate([0.2, 0.2, 0.2, 0.2, 0.1, 0.1]):
        items = list(zero)
        items[i] = 1.0
        assert basdai(*items) == pytest.approx(weight)


@pytest.mark.parametrize(
    ("value", "state"), [(3.99, "not_active"), (4.0, "active"), (4.01, "active")]
)
def test_pitfall_10_active_is_at_least_4(value, state):
    # §2 #10 / §10.2: BASDAI >= 4 is active disease (not "< 4 = remission" nor "<= 4").
    assert basdai.category(value) == state


def test_pitfall_10_exactly_4_in_floating_point_is_active():
    # These items give exactly 4.0 in decimal but 3.999999999999999 in binary floating point.
    value = basdai(0.7, 9.6, 1.0, 5.5, 5.2, 1.2)
    assert value < 4.0
    assert basdai.category(value) == "active"


@pytest.mark.parametrize(
    ("duration", "unit", "q6"),
    [
        # §10.2 anchors: 0, 1/2, 1, 1 1/2, 2+ hours -> 0, 2.5, 5, 7.5, 10 (Garrett 1994)
        (0, "h", 0.0),
        (0.5, "h", 2.5),
        (1, "h", 5.0),
        (1.5, "h", 7.5),
        (2, "h", 10.0),
        (3, "h", 10.0),
        (0, "min", 0.0),
        (30, "min", 2.5),
        (90, "min", 7.5),
        (120, "min", 10.0),
        (150, "min", 10.0),
    ],
)
def test_pitfall_10_stiffness_duration_in_hours_or_minutes(duration, unit, q6):
    assert stiffness_duration_to_q6(duration, unit) == pytest.approx(q6)


def test_stiffness_duration_rejects_impossible_values_all_together():
    with pytest.raises(ValidationError) as err:
        stiffness_duration_to_q6(pd.Series([-5.0, 60.0, 2000.0], index=["a", "b", "c"]), "min")
    assert [(p.record, p.field) for p in err.value.problems] == [
        ("a", "morning_stiffness_min"),
        ("c", "morning_stiffness_min"),
    ]


def test_to_canonical_converts_hours_and_refuses_two_sources():
    df = pd.DataFrame({"morning_stiffness_h": [0.5, 2.5, np.nan]})
    out = to_canonical(df)
    assert "morning_stiffness_h" not in out
    assert out["basdai_q6"].tolist()[:2] == [2.5, 10.0]
    assert np.isnan(out["basdai_q6"].iloc[2])
    with pytest.raises(ValidationError, match="give only one of"):
        to_canonical(pd.DataFrame({"morning_stiffness_h": [1.0], "basdai_q6": [5.0]}))
    with pytest.raises(ValidationError, match="must be a number"):
        to_canonical(pd.DataFrame({"morning_stiffness_min": ["ten"]}))


def test_score_frame_scores_basdai_from_duration_in_hours():
    visits = pd.DataFrame(
        {
            "basdai_q1": [6.0],
            "basdai_q2": [5.0],
            "basdai_q3": [4.0],
            "basdai_q4": [3.0],
            "basdai_q5": [7.0],
            "morning_stiffness_h": [1.0],  # -> Q6 = 5, so W24b: 4.8
        }
    )
    out = score_frame(visits)
    assert out["basdai"].iloc[0] == pytest.approx(4.8)
    assert out["basdai_category"].iloc[0] == "active"
    assert out.attrs["conventions"]["basdai_cutoffs"] == "basdai_active"


def test_bad_items_named_with_record_and_rule():
    with pytest.raises(ValidationError) as err:
        basdai(pd.Series([2, 12]), 10, 7, 1, 9, pd.Series([3, np.nan]))
    problems = {(p.record, p.field): p.rule for p in err.value.problems}
    assert set(problems) == {(1, "basdai_q1"), (1, "basdai_q6")}
    assert "<= 10" in problems[(1, "basdai_q1")]
    assert "missing" in problems[(1, "basdai_q6")]


# --- BASDAI50 --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("baseline", "followup", "with_units", "fifty_only"),
    [
        (6.0, 3.0, True, True),  # exactly 50 %
        (3.0, 1.5, True, True),  # exactly 50 % of a low baseline
        (2.8, 1.4, True, True),  # exactly 50 %, 1.4 units
        (5.0, 3.0, True, False),  # 40 % but a fall of 2 units: the [K] absolute arm
        (8.0, 6.1, False, False),  # 23.75 %, 1.9 units
        (3.0, 1.6, False, False),
        (0.0, 0.0, False, False),  # a baseline of 0 cannot respond (§12.6)
        (4.0, 5.0, False, False),
    ],
)
def test_basdai50(baseline, followup, with_units, fifty_only):
    # §10.2 / §11b: >= 50 % [V1] or >= 2 units [K]
    assert basdai50(baseline, followup) is with_units
    assert basdai50(baseline, followup, Conventions(basdai50_units=None)) is fifty_only


def test_basdai50_shapes_and_validation():
    b = pd.Series([6.0, 5.0, 4.0], index=[10, 11, 12])
    f = pd.Series([3.0, 3.5, np.nan], index=[10, 11, 12])
    out = basdai50(b, f, lenient=True)
    assert out.dtype == "boolean" and list(out.index) == [10, 11, 12]
    assert out.iloc[0] and not out.iloc[1] and pd.isna(out.iloc[2])
    assert list(basdai50(np.array([6.0, 5.0]), np.array([3.0, 3.5]))) == [1.0, 0.0]
    with pytest.raises(ValidationError) as err:
        basdai50(b, f)
    assert [(p.record, p.field) for p in err.value.problems] == [(12, "basdai (follow-up)")]
    with pytest.raises(ValueError, match="different indexes"):
        basdai50(b, f.set_axis([1, 2, 3]))


# --- properties -------------------------------------------------------------------------------

item = st.floats(0, 10)


@given(st.lists(item, min_size=6, max_size=6))
def test_range_0_to_10(items):
    assert 0 <= basdai(*items) <= 10 + 1e-12


@given(st.lists(item, min_size=6, max_size=6), st.integers(0, 5), st.floats(0, 10))
def test_monotone_in_each_item(items, pos, bump):
    more = list(items)
    more[pos] = min(10.0, more[pos] + bump)
    assert basdai(*more) >= basdai(*items)


@given(st.lists(st.lists(item, min_size=6, max_size=6), min_size=1, max_size=20))
def test_vectorised_equals_scalar(rows):
    cols = [np.array(c) for c in zip(*rows, strict=True)]
    vec = basdai(*cols)
    for i, r in enumerate(rows):
        assert vec[i] == basdai(*r)


@given(st.lists(st.tuples(item, item), min_size=1, max_size=20))
def test_basdai50_vectorised_equals_scalar(pairs):
    b, f = (np.array(c) for c in zip(*pairs, strict=True))
    vec = basdai50(b, f)
    for i, (x, y) in enumerate(pairs):
        assert bool(vec[i]) is basdai50(x, y)
