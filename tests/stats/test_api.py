"""The statistics API is uniform: p, stat, method columns; confidence=; single names accepted."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from rheumetrics import stats as st

DATA = pd.DataFrame(
    {
        "y": [1.0, 2.1, 2.9, 4.2, 5.1, 5.8, 7.2, 7.9],
        "x": [1, 2, 3, 4, 5, 6, 7, 8],
        "z": [2.0, 1.0, 4.0, 3.0, 6.0, 5.0, 8.0, 7.0],
        "sex": ["female", "male"] * 4,
        "event": [0, 0, 1, 0, 1, 1, 0, 1],
    }
)


def test_a_single_name_is_one_column_not_its_characters():
    assert linear_terms("x") == linear_terms(["x"])
    one = st.correlation_table(DATA, "y", "x")
    assert one["y"].tolist() == ["x"]
    assert set(st.describe(DATA, "y")["variable"]) == {"y"}
    assert set(st.count_percent(DATA, "sex")["variable"]) == {"sex"}


def linear_terms(predictors: str | list[str]) -> list[str]:
    return st.linear_regression(DATA, "y", predictors, "sex")["term"].tolist()


def test_regression_terms_are_readable_and_both_models_name_stat_and_df_alike():
    lin = st.linear_regression(DATA, "y", "x", "sex")
    assert lin["term"].tolist() == ["Intercept", "x", "sex: male vs female"]
    assert lin[["variable", "level"]].iloc[2].tolist() == ["sex", "male"]
    logit = st.logistic_regression(DATA, "event", "z")
    for frame in (lin, logit):
        assert {"stat", "df", "p", "method"} <= set(frame.columns)
    assert (lin["df"] == 5).all() and set(lin["method"]) == {"t"}


@pytest.mark.parametrize(
    "frame",
    [
        lambda: st.median_test([1, 2, 3, 4], [3, 4, 5, 6, 7]),
        lambda: st.mann_whitney([1, 2, 3, 4], [3, 4, 5, 6, 7]),
        lambda: st.wilcoxon_signed_rank([1.0, -2.0, 3.0, 4.5, 0.5]),
        lambda: st.spearman(DATA["x"], DATA["z"]),
        lambda: st.pearson(DATA["x"], DATA["z"]),
        lambda: st.chi_square([[10, 5], [3, 12]]),
        lambda: st.fisher_exact([[10, 5], [3, 12]]),
        lambda: st.mcnemar_test([[10, 5], [3, 12]]),
        lambda: st.cmh_test(np.array([[[3, 4], [2, 5]], [[1, 3], [4, 2]]])),
        lambda: st.delong_test(DATA["event"], DATA["x"], DATA["z"]),
        lambda: st.meta_analysis([0.1, 0.3, 0.2], [0.01, 0.02, 0.015]),
        lambda: st.icc(
            pd.concat([DATA.assign(rater="a"), DATA.assign(rater="b", y=DATA["z"])]),
            "x",
            "rater",
            "y",
        ),
    ],
)
def test_every_test_reports_p_and_which_method_ran(frame):
    out = frame()
    assert {"p", "method"} <= set(out.columns)
    # the test statistic is always `stat` (Fisher's exact test has none, as in R)
    assert "stat" in out.columns or out.attrs["conventions"]["test"] == "Fisher exact"
    assert not {"pval", "p_value", "statistic", "F", "chi2"} & set(out.columns)


def test_confidence_is_the_only_interval_argument():
    long = pd.DataFrame(
        {"t": [1, 2, 3, 1, 2, 3], "r": list("aaabbb"), "s": [1.0, 2.0, 4.0, 1.0, 3.0, 4.0]}
    )
    wide = st.icc(long, "t", "r", "s", confidence=0.99).set_index("form")
    narrow = st.icc(long, "t", "r", "s", confidence=0.9).set_index("form")
    assert wide.loc["ICC(3,1)", "ci_low"] < narrow.loc["ICC(3,1)", "ci_low"]
    with pytest.raises(TypeError):
        st.icc(long, "t", "r", "s", alpha=0.05)  # type: ignore[call-arg]


def test_importing_the_package_loads_neither_scipy_nor_statsmodels():
    code = (
        "import sys, rheumetrics.stats; "
        "print(sorted(m for m in ('scipy', 'statsmodels', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert "median_test" in dir(st)
    with pytest.raises(AttributeError):
        st.no_such_function  # noqa: B018


def test_numeric_arrays_pass_through_without_a_copy_and_booleans_are_refused():
    from rheumetrics.errors import ValidationError
    from rheumetrics.stats._common import validated_floats

    values = np.linspace(0.0, 1.0, 1000)
    (out,), mask = validated_floats({"x": values})
    assert np.shares_memory(out, values) and not mask.any()
    series = pd.Series(values)
    (from_series,), _ = validated_floats({"x": series})
    assert np.shares_memory(from_series, series.to_numpy())
    with pytest.raises(ValidationError) as err:
        st.mann_whitney([1.0, True, 3.0], [np.inf, 2.0, 5.0])
    problems = err.value.to_frame()  # problems come sorted by record (rheumetrics.errors)
    assert problems[["record", "field"]].values.tolist() == [[0, "y"], [1, "x"]]


@pytest.mark.parametrize(
    "bad",
    [
        ["1", "２", "3"],  # full-width digit
        ["1", "١", "3"],  # Arabic-Indic digit
        ["1", "1_0", "3"],  # Python's digit grouping
        ["1", "2\xa0", "3"],  # non-breaking space padding
        ["1", "inf", "3"],
        [1.0, b"2", 3.0],
        [1.0, 2 + 0j, 3.0],
        np.array([1 + 0j, 2, 3]),
        np.array([True, False, True]),
        np.array(["2020-01-01", "2020-02-01", "2020-03-01"], dtype="datetime64[ns]"),
        np.array([1, 2, 3], dtype="timedelta64[D]"),
    ],
)
def test_values_that_are_not_plain_numbers_are_refused_not_coerced(bad):
    from rheumetrics.errors import ValidationError

    with pytest.raises(ValidationError, match="must be a finite number"):
        st.mann_whitney(bad, [1.0, 2.0, 5.0])


def test_plain_numeric_text_is_read_as_a_number():
    from rheumetrics.stats._common import validated_floats

    (out,), mask = validated_floats({"x": [" 1.5", "2e1", "-3", None]}, missing="drop")
    assert out[:3].tolist() == [1.5, 20.0, -3.0] and mask.tolist() == [False] * 3 + [True]


def test_argument_values_are_real_numbers_not_booleans_or_text():
    from rheumetrics.errors import ValidationError

    for bad in (True, "0.4", np.inf):
        with pytest.raises(ValidationError, match="'rho'"):
            st.power_correlation(bad, n=40)
    with pytest.raises(ValidationError, match="'confidence'"):
        st.spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5], confidence="0.95")


def test_roc_truth_with_a_third_value_is_refused_not_counted_as_negative():
    from rheumetrics.errors import ValidationError

    with pytest.raises(ValidationError, match="two values"):
        st.roc_auc([0, 1, 2, 0], [1.0, 2.0, 3.0, 4.0])
    assert st.roc_auc([False, True, True, False], [1, 3, 2, 4])["auc"].iloc[0] == 0.5


def test_problem_values_are_shown_as_given():
    from rheumetrics.errors import ValidationError

    with pytest.raises(ValidationError) as err:
        st.meta_analysis([True, 0.3, 0.2], [0.01, 0.02, 0.015])
    assert err.value.to_frame()["value"].tolist() == [True]
