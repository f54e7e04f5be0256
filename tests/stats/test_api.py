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
    assert "p" in out.columns and "method" in out.columns
    assert not {"pval", "p_value", "statistic"} & set(out.columns)


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
    problems = err.value.to_frame()
    assert problems[["record", "field"]].values.tolist() == [[1, "x"], [0, "y"]]
