"""HAQ-DI against clinical-measures.md §8 and §14 W22, with peer-pitfalls.md §2 #16 regressions."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rheumetrics.errors import ValidationError
from rheumetrics.measures.conventions import Conventions
from rheumetrics.measures.haq import (
    HAQ_AIDS,
    HAQ_HELP,
    HAQ_INPUTS,
    HAQ_ITEMS,
    HAQ_MCID,
    haq_breakdown,
    haq_di,
    haq_di_band,
    haq_di_improved,
)

ALTERNATIVE = Conventions(haq_method="alternative")
ITEM_COLUMNS = [c for cols in HAQ_ITEMS.values() for c in cols]

# W22 (awell-score HAQ test vector): items per category, with the aids/help ticked.
W22 = {
    "haq_dressing_1": 2, "haq_dressing_2": 1, "haq_dressing_aid": 1, "haq_dressing_help": 1,
    "haq_arising_1": 0, "haq_arising_2": 3, "haq_arising_aid": 1, "haq_arising_help": 1,
    "haq_eating_1": 1, "haq_eating_2": 0, "haq_eating_3": 2,
    "haq_walking_1": 0, "haq_walking_2": 1, "haq_walking_help": 1,
    "haq_hygiene_1": 0, "haq_hygiene_2": 1, "haq_hygiene_3": 1, "haq_hygiene_aid": 1,
    "haq_hygiene_help": 1,
    "haq_reach_1": 3, "haq_reach_2": 3,
    "haq_grip_1": 1, "haq_grip_2": 1, "haq_grip_3": 3,
    "haq_activities_1": 0, "haq_activities_2": 0, "haq_activities_3": 1,
}  # fmt: skip


def all_items(score: int) -> dict[str, int]:
    return dict.fromkeys(ITEM_COLUMNS, score)


def only(categories: list[str], score: int = 1) -> dict[str, int]:
    """Every item of the given categories answered with ``score``; other categories blank."""
    return {c: score for cat in categories for c in HAQ_ITEMS[cat]}


# --------------------------------------------------------------------------- worked example W22


def test_w22_standard_di_is_2_250():
    # §14 W22, awell-score test vector: standard DI 2.25 (categories 2,3,2,2,2,3,3,1)
    assert haq_di(**W22) == 2.25


def test_w22_alternative_di_is_2_000():
    # §14 W22: alternative DI (aids/help ignored) 2.000 (categories 2,3,2,1,1,3,3,1)
    assert haq_di(**W22, conventions=ALTERNATIVE) == 2.0


@pytest.mark.parametrize(
    ("conventions", "expected"),
    [(Conventions(), [2, 3, 2, 2, 2, 3, 3, 1]), (ALTERNATIVE, [2, 3, 2, 1, 1, 3, 3, 1])],
)
def test_w22_category_scores(conventions, expected):
    # §14 W22 category scores as listed in clinical-measures.md
    out = haq_breakdown(pd.DataFrame([W22]), conventions)
    cats = [f"haq_{c}" for c in HAQ_ITEMS]
    assert out.loc[0, cats].tolist() == expected
    assert out.loc[0, "haq_categories_scored"] == 8
    assert out.attrs["conventions"]["haq_method"] == conventions.haq_method


# --------------------------------------------------------------------------- §8.3 rules, pitfall #16


def test_16_aid_and_help_together_raise_to_2_not_beyond():
    # §2 #16: RheumDAS adds 2 per tick (capped at 3); §8.3 step 2 raises 0 or 1 to exactly 2.
    row = all_items(0) | {"haq_grip_aid": 1, "haq_grip_help": 1}
    assert haq_di(**row) == pytest.approx(2 / 8)  # grip 2, the other seven 0


def test_16_aids_do_not_change_a_category_already_at_3():
    # §8.3 step 2: scores already 2 or 3 are unchanged
    row = all_items(3) | {c: 1 for c in (*HAQ_AIDS.values(), *HAQ_HELP.values())}
    assert haq_di(**row) == 3.0


def test_16_six_of_eight_categories_is_enough():
    # §8.3 step 4 (Stanford, >= 6 of 8); awell-score would return null with 6 (§2 #16)
    row = only(["dressing", "arising", "eating", "walking", "hygiene", "reach"], 1) | {
        "haq_dressing_1": 3
    }
    assert haq_di(**row) == pytest.approx((3 + 1 + 1 + 1 + 1 + 1) / 6)  # divided by 6, not 8


def test_16_five_of_eight_categories_is_a_problem_in_strict_mode():
    row = only(["dressing", "arising", "eating", "walking", "hygiene"])
    with pytest.raises(ValidationError, match=r"only 5 of 8 HAQ categories") as err:
        haq_di(**row)
    problem = err.value.problems[0]
    assert problem.field == "haq_di" and problem.value == 5
    assert "reach, grip, activities" in problem.rule


def test_16_five_of_eight_is_nan_with_a_visible_reason_in_lenient_mode():
    frame = pd.DataFrame(
        [W22, only(["dressing", "arising", "eating", "walking", "hygiene"])], index=["p1", "p2"]
    )
    out = haq_breakdown(frame, lenient=True)
    assert out.loc["p1", "haq_di"] == 2.25 and pd.isna(out.loc["p1", "haq_di_reason"])
    assert np.isnan(out.loc["p2", "haq_di"])
    assert "only 5 of 8 HAQ categories" in out.loc["p2", "haq_di_reason"]
    _, prepared = haq_di.evaluate(frame.reindex(columns=HAQ_INPUTS), lenient=True)
    assert [p.record for p in prepared.problems] == ["p2"]


def test_16_strict_breakdown_names_the_record_label():
    frame = pd.DataFrame([W22, only(["dressing"])], index=["p1", "p2"])
    with pytest.raises(ValidationError) as err:
        haq_breakdown(frame)
    assert [p.record for p in err.value.problems] == ["p2"]


def test_16_a_category_is_scored_from_its_answered_items():
    # §8.3 step 1 (Stanford): grip scored from its one answered item (awell requires all items)
    row = all_items(0)
    del row["haq_grip_2"], row["haq_grip_3"]
    row["haq_grip_1"] = 3
    assert haq_di(**row) == pytest.approx(3 / 8)


def test_min_categories_convention_seven_as_clinhaq():
    # §13.6: CLINHAQ / awell-compatible minimum of 7 categories
    row = only(["dressing", "arising", "eating", "walking", "hygiene", "reach"])
    assert haq_di(**row) == 1.0
    with pytest.raises(ValidationError, match="at least 7"):
        haq_di(**row, conventions=Conventions(haq_min_categories=7))


def test_aids_on_an_unanswered_category_do_not_create_a_score():
    # §8.3: aids adjust a category score; they are not an answer
    row = only(["dressing", "arising", "eating", "walking", "hygiene", "reach"], 0) | {
        "haq_grip_aid": 1,
        "haq_activities_help": 1,
    }
    assert haq_di(**row) == 0.0


@pytest.mark.parametrize(("bathtub_is_aid", "expected"), [(True, (2 + 7 * 1) / 8), (False, 1.0)])
def test_bathtub_seat_convention(bathtub_is_aid, expected):
    # §8.2 / §13.6: the Stanford form lists a bathtub seat under hygiene; CLINHAQ/awell do not
    row = all_items(1) | {"haq_hygiene_bathtub_seat": 1}
    conv = Conventions(haq_bathtub_seat_is_hygiene_aid=bathtub_is_aid)
    assert haq_di(**row, conventions=conv) == pytest.approx(expected)


def test_alternative_method_ignores_aids_and_help():
    row = all_items(0) | {c: 1 for c in (*HAQ_AIDS.values(), *HAQ_HELP.values())}
    assert haq_di(**row) == 2.0
    assert haq_di(**row, conventions=ALTERNATIVE) == 0.0


@pytest.mark.parametrize(
    ("column", "value"),
    [("haq_reach_1", 4), ("haq_reach_1", 1.5), ("haq_grip_aid", 2), ("haq_eating_2", -1)],
)
def test_out_of_range_item_or_flag_is_named(column, value):
    with pytest.raises(ValidationError, match=column):
        haq_di(**(all_items(1) | {column: value}))


def test_non_numeric_item_is_a_problem_not_a_coercion():
    frame = pd.DataFrame([all_items(1) | {"haq_reach_1": "two"}])
    with pytest.raises(ValidationError, match="haq_reach_1"):
        haq_breakdown(frame)


def test_series_in_series_out():
    frame = pd.DataFrame([W22, all_items(1)], index=["a", "b"])
    out = haq_di(**{c: frame[c] for c in frame.columns})
    assert isinstance(out, pd.Series) and list(out.index) == ["a", "b"]
    assert out.tolist() == [2.25, 1.0]


# --------------------------------------------------------------------------- bands and MCID


@pytest.mark.parametrize(
    ("value", "band"),
    [(0.0, "mild_to_moderate"), (1.0, "mild_to_moderate"), (1.125, "moderate_to_severe"),
     (2.0, "moderate_to_severe"), (2.125, "severe"), (3.0, "severe")],
)  # fmt: skip
def test_haq_di_bands(value, band):
    # §8.3 interpretive bands 0-1 / >1-2 / >2-3 (rheumakit; J Rheumatol 2008)
    assert haq_di_band(value) == band


def test_haq_di_band_rejects_impossible_values_and_keeps_series_shape():
    with pytest.raises(ValidationError, match="haq_di"):
        haq_di_band(3.5)
    out = haq_di_band(pd.Series([0.5, np.nan, 2.5], index=[7, 8, 9]), lenient=True)
    assert list(out.index) == [7, 8, 9] and out.cat.ordered
    assert out.tolist()[0] == "mild_to_moderate" and pd.isna(out.tolist()[1])


@pytest.mark.parametrize(
    ("baseline", "followup", "improved"),
    [
        (1.5, 1.25, True),  # 0.25 >= 0.22
        (1.47, 1.25, True),  # exactly 0.22 (1.47 - 1.25 = 0.21999999999999997 in floats)
        (1.0, 0.875, False),  # 0.125
        (1.0, 1.5, False),  # worse
    ],
)
def test_haq_mcid_0_22(baseline, followup, improved):
    # §8.4: MCID 0.22 (Wells 1993; V2 usage), decided on the snapped difference
    assert HAQ_MCID == 0.22
    assert haq_di_improved(baseline, followup) is improved


def test_haq_mcid_vectorised_and_validated():
    out = haq_di_improved(pd.Series([1.5, 2.0]), pd.Series([1.0, 1.9]))
    assert out.dtype == "boolean" and out.tolist() == [True, False]
    with pytest.raises(ValidationError, match=r"haq_di \(follow-up\)"):
        haq_di_improved(1.0, 3.5)
    assert haq_di_improved(1.5, 1.125, mcid=0.375) is True  # Ward 2015 alternative


# --------------------------------------------------------------------------- properties

item = st.integers(0, 3)
flag = st.sampled_from([0, 1])
full_rows = st.fixed_dictionaries(
    {c: item for c in ITEM_COLUMNS}
    | {c: flag for c in (*HAQ_AIDS.values(), *HAQ_HELP.values(), "haq_hygiene_bathtub_seat")}
)


@settings(max_examples=40, deadline=None)
@given(full_rows, st.sampled_from(ITEM_COLUMNS))
def test_property_range_grid_and_monotone_in_each_item(row, column):
    di = haq_di(**row)
    alt = haq_di(**row, conventions=ALTERNATIVE)
    assert 0 <= alt <= di <= 3  # aids/help only ever raise the standard DI
    assert (di * 8) == int(di * 8)  # all 8 categories scored: a multiple of 0.125 (§8.3)
    worse = row | {column: min(row[column] + 1, 3)}
    assert haq_di(**worse) >= di
    assert haq_di(**worse, conventions=ALTERNATIVE) >= alt


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {c: st.one_of(st.none(), item) for c in ITEM_COLUMNS}
            | {c: flag for c in HAQ_HELP.values()}
        ),
        min_size=1,
        max_size=6,
    )
)
def test_property_vectorised_equals_scalar(rows):
    frame = pd.DataFrame(rows, dtype=float)
    vec = haq_di(**{c: frame[c].to_numpy() for c in frame.columns}, lenient=True)
    scalar = [haq_di(**{k: v for k, v in r.items() if v is not None}, lenient=True) for r in rows]
    np.testing.assert_array_equal(vec, np.array(scalar, dtype=float))
