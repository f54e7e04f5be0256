"""The scalar API refuses exactly what score_frame refuses (no silent coercion), and ESR < 1."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rheumetrics.errors import ValidationError
from rheumetrics.measures import das28_esr, score_frame, sdai

NOT_NUMBERS = [
    pytest.param("１２", id="full-width digits"),
    pytest.param("١٢", id="Arabic-Indic digits"),
    pytest.param("1_0", id="underscore"),
    pytest.param("\xa012", id="non-breaking space"),
    pytest.param("12\u2009", id="thin space"),
    pytest.param("nan", id="nan text"),
    pytest.param("inf", id="inf text"),
    pytest.param(True, id="bool"),
    pytest.param(np.False_, id="numpy bool"),
    pytest.param(b"12", id="bytes"),
    pytest.param(12 + 0j, id="complex"),
    pytest.param(np.datetime64("2020-01-01"), id="datetime64"),
    pytest.param(np.timedelta64(3, "D"), id="timedelta64"),
]


@pytest.mark.parametrize("bad", NOT_NUMBERS)
def test_scalar_api_refuses_what_is_not_a_plain_number(bad):
    with pytest.raises(ValidationError) as err:
        das28_esr(tjc28=bad, sjc28=5, esr_mm_h=44, gh_mm=12)
    (problem,) = err.value.problems
    assert problem.field == "tjc28"
    assert "must be an integer >= 0 and <= 28" in problem.rule  # says what is allowed


@pytest.mark.parametrize("bad", NOT_NUMBERS)
def test_score_frame_refuses_the_same_values(bad):
    tjc28 = pd.Series([bad, 4], dtype=object)  # one bad value in an otherwise valid column
    df = pd.DataFrame({"tjc28": tjc28, "sjc28": [5, 5], "esr_mm_h": [44, 44], "gh_mm": [12, 12]})
    with pytest.raises(ValidationError) as err:
        score_frame(df, measures=["das28_esr"])
    assert {(p.record, p.field) for p in err.value.problems} == {(0, "tjc28")}


@pytest.mark.parametrize(
    "column",
    [
        pytest.param(pd.Series([True, False]), id="bool"),
        pytest.param(pd.Series([True, None], dtype="boolean"), id="nullable boolean"),
        pytest.param(pd.Series([b"1", b"2"]), id="bytes"),
        pytest.param(pd.Series([1 + 0j, 2 + 0j]), id="complex"),
        pytest.param(pd.to_datetime(pd.Series(["2020-01-01", "2020-01-02"])), id="datetime"),
        pytest.param(pd.to_timedelta(pd.Series([1, 2]), unit="D"), id="timedelta"),
    ],
)
def test_score_frame_column_of_a_non_number_dtype_is_a_problem_with_a_reason(column):
    df = pd.DataFrame({"tjc28": column, "sjc28": [1, 2], "esr_mm_h": [10, 20], "gh_mm": [5, 5]})
    with pytest.raises(ValidationError) as err:
        score_frame(df)
    tjc = [p for p in err.value.problems if p.field == "tjc28" and p.value is not None]
    assert tjc and all("; got " in p.rule for p in tjc)


def test_plain_text_numbers_are_accepted_as_numbers():
    assert das28_esr(tjc28=" 4 ", sjc28="5", esr_mm_h="44", gh_mm="1.2e1") == das28_esr(
        4, 5, 44, 12
    )
    assert sdai(tjc28=np.int64(4), sjc28=2, ptga=4.0, phga=3, crp_mg_l=12) == pytest.approx(14.2)


@pytest.mark.parametrize("esr", [0.01, 0.5, 0.999, 0])
def test_esr_below_1_mm_h_is_refused_not_a_negative_das28_in_remission(esr):
    # 0.01 used to give DAS28-ESR -3.22 classed "remission"; Westergren ESR is whole mm (ICSH 2011)
    with pytest.raises(ValidationError, match=r"esr_mm_h.*>= 1 and <= 300 mm/h"):
        das28_esr(tjc28=0, sjc28=0, esr_mm_h=esr, gh_mm=0)
    out = score_frame(
        pd.DataFrame({"tjc28": [0], "sjc28": [0], "esr_mm_h": [esr], "gh_mm": [0]}), lenient=True
    )
    assert out["das28_esr"].isna().all()


def test_esr_of_1_mm_h_is_the_lowest_reading():
    # 0.70 * ln(1) = 0: DAS28-ESR with every input at its minimum is 0
    assert das28_esr(tjc28=0, sjc28=0, esr_mm_h=1, gh_mm=0) == 0.0


_NUMBERISH = st.one_of(
    st.text(alphabet="0123456789.-+eE _\u00a0１２٣", max_size=6),
    st.integers(-5, 40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.booleans(),
    st.binary(max_size=3),
    st.complex_numbers(max_magnitude=30),
)


@settings(max_examples=300)
@given(_NUMBERISH)
def test_scalar_api_and_score_frame_accept_and_refuse_the_same_values(value):
    def scalar():
        return das28_esr(tjc28=value, sjc28=5, esr_mm_h=44, gh_mm=12)

    def frame():
        df = pd.DataFrame({"tjc28": pd.Series([value], dtype=object), "sjc28": [5],
                           "esr_mm_h": [44], "gh_mm": [12]})  # fmt: skip
        return score_frame(df, measures=["das28_esr"])["das28_esr"].iloc[0]

    outcomes = []
    for fn in (scalar, frame):
        try:
            outcomes.append(("value", fn()))
        except ValidationError:
            outcomes.append(("refused", None))
    assert outcomes[0][0] == outcomes[1][0]
    if outcomes[0][0] == "value":
        assert outcomes[0][1] == pytest.approx(outcomes[1][1])
