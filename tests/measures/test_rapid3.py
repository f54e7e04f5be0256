"""RAPID3 against clinical-measures.md §9 and §14 W23, with the peer-pitfalls.md §2 #18 regression."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rheumetrics.errors import ValidationError
from rheumetrics.measures.rapid3 import MDHAQ_FN_ITEMS, fn_from_raw, rapid3
from rheumetrics.numeric import round_display

ITEMS = list(MDHAQ_FN_ITEMS)
# W23 (CamCOPS rapid3_tests.py): MDHAQ a-j = 1,2,3,0,1,0,3,0,1,2 (raw 13 -> FN 4.3)
W23 = dict(zip(ITEMS, [1, 2, 3, 0, 1, 0, 3, 0, 1, 2], strict=True))


def test_w23_rapid3_is_6_8_moderate():
    # §14 W23: pain 0.5, PtGA 2.0 -> RAPID3 6.8 -> moderate severity
    value = rapid3(**W23, pain=0.5, ptga=2.0)
    assert round_display(value, 1) == 6.8
    assert rapid3.category(value) == "moderate"


def test_w23_with_precomputed_fn():
    # §9.1: FN may be given pre-computed (0-10); W23's FN is 4.3
    assert round_display(rapid3(mdhaq_fn=4.3, pain=0.5, ptga=2.0), 1) == 6.8
    # consistent items and FN together are accepted
    assert round_display(rapid3(**W23, mdhaq_fn=4.3, pain=0.5, ptga=2.0), 1) == 6.8


@pytest.mark.parametrize(("raw", "fn"), [(0, 0.0), (1, 0.3), (2, 0.7), (3, 1.0), (10, 3.3),
                                         (13, 4.3), (29, 9.7), (30, 10.0)])  # fmt: skip
def test_fn_conversion_table(raw, fn):
    # §9.1: raw/3 rounded to 1 decimal (1->0.3, 2->0.7, 3->1.0, 10->3.3, 13->4.3, 30->10)
    assert fn_from_raw(raw) == fn


def test_18_fn_is_raw_over_3_rounded_not_mean_times_3_33():
    # §2 #18: peers take "raw 0-3 mean x 3.33" (30 -> 9.99) or leave FN unrounded (13 -> 4.333).
    top = dict.fromkeys(ITEMS, 3)
    assert rapid3(**top, pain=10, ptga=10) == 30.0  # maximum 30 (§9.2), not 29.99
    assert rapid3(**W23, pain=0, ptga=0) == 4.3  # not 4.333...


def test_18_items_k_to_m_are_not_part_of_fn():
    # §2 #18 / §9.1: sleep, anxiety and depression (items k-m) are not scored in FN
    assert len(ITEMS) == 10 and ITEMS[-1] == "mdhaq_j"
    with pytest.raises(TypeError, match="mdhaq_k"):
        rapid3(**W23, mdhaq_k=2, pain=0.5, ptga=2.0)


def test_fn_disagreeing_with_the_items_is_an_error_not_a_silent_choice():
    with pytest.raises(ValidationError, match="mdhaq_fn") as err:
        rapid3(**W23, mdhaq_fn=4.0, pain=0.5, ptga=2.0)
    assert "raw 13 -> FN 4.3" in str(err.value)


def test_missing_item_without_fn_is_named_strict_and_nan_lenient():
    items = {k: v for k, v in W23.items() if k != "mdhaq_f"}
    with pytest.raises(ValidationError, match="missing: mdhaq_f"):
        rapid3(**items, pain=0.5, ptga=2.0)
    inputs = items | {"mdhaq_f": np.nan, "mdhaq_fn": np.nan, "pain": 0.5, "ptga": 2.0}
    out, prepared = rapid3.evaluate(inputs, lenient=True)
    assert np.isnan(out) and "mdhaq_f" in prepared.problems[0].rule


@pytest.mark.parametrize(("column", "value"), [("mdhaq_c", 4), ("mdhaq_c", 0.5), ("pain", 10.5),
                                               ("ptga", -1), ("mdhaq_fn", 11)])  # fmt: skip
def test_out_of_range_inputs_are_named(column, value):
    with pytest.raises(ValidationError, match=column):
        rapid3(**(W23 | {"pain": 1.0, "ptga": 1.0, column: value}))


@pytest.mark.parametrize(("value", "category"), [(3.0, "near_remission"), (3.5, "low"),
                                                 (6.0, "low"), (6.5, "moderate"),
                                                 (12.0, "moderate"), (12.5, "high")])  # fmt: skip
def test_categories(value, category):
    # §9.2 (mdhaq.org, CamCOPS): near-remission <= 3, low <= 6, moderate <= 12, high > 12
    assert rapid3.category(value) == category


def test_category_is_decided_on_decimal_safe_values():
    # FN 0.7 (raw 2) + pain 2.3 + PtGA 3.0 is exactly 6.0 (low), though floats sum to 5.999...
    value = rapid3(**(dict.fromkeys(ITEMS, 0) | {"mdhaq_a": 2}), pain=2.3, ptga=3.0)
    assert rapid3.category(value) == "low"
    assert round_display(value, 1) == 6.0


def test_series_in_series_out():
    frame = pd.DataFrame([W23 | {"pain": 0.5, "ptga": 2.0}, dict.fromkeys(ITEMS, 0)
                          | {"pain": 0.0, "ptga": 0.0}], index=["x", "y"])  # fmt: skip
    out = rapid3(**{c: frame[c] for c in frame.columns})
    assert list(out.index) == ["x", "y"]
    assert round_display(out.to_numpy(), 1).tolist() == [6.8, 0.0]


# --------------------------------------------------------------------------- properties

item = st.integers(0, 3)
half_steps = st.integers(0, 20).map(lambda k: k / 2)  # 21-circle VAS, 0.5 steps (§9.1)


@settings(max_examples=60, deadline=None)
@given(st.lists(item, min_size=10, max_size=10), half_steps, half_steps, st.integers(0, 11))
def test_property_range_and_monotone_in_each_component(values, pain, ptga, which):
    row = dict(zip(ITEMS, values, strict=True))
    base = rapid3(**row, pain=pain, ptga=ptga)
    assert 0 <= base <= 30
    if which < 10:
        col = ITEMS[which]
        assert rapid3(**(row | {col: min(row[col] + 1, 3)}), pain=pain, ptga=ptga) >= base
    elif which == 10:
        assert rapid3(**row, pain=min(pain + 0.5, 10), ptga=ptga) >= base
    else:
        assert rapid3(**row, pain=pain, ptga=min(ptga + 0.5, 10)) >= base


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.lists(item, min_size=10, max_size=10), half_steps, half_steps),
                min_size=1, max_size=8))  # fmt: skip
def test_property_vectorised_equals_scalar(rows):
    items = np.array([r[0] for r in rows], dtype=float)
    vec = rapid3(**{c: items[:, i] for i, c in enumerate(ITEMS)},
                 pain=np.array([r[1] for r in rows]), ptga=np.array([r[2] for r in rows]))  # fmt: skip
    scalar = [rapid3(**dict(zip(ITEMS, r[0], strict=True)), pain=r[1], ptga=r[2]) for r in rows]
    np.testing.assert_array_equal(vec, np.array(scalar))
