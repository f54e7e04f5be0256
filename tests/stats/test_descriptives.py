"""Descriptive summaries against published figures (stats-reference.md §4b, §5b, §9)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from rheumetrics.errors import ValidationError
from rheumetrics.stats import count_percent, describe

REFDATA = Path(__file__).resolve().parents[3] / "shared" / "refdata"
needs_refdata = pytest.mark.skipif(not REFDATA.is_dir(), reason="shared/refdata not available")


@needs_refdata
def test_median_min_max_iqr_of_stackloss_residuals_r_quantiles():
    # stats-reference.md §5b: R prints the residual quantiles (type 7)
    # Min -7.2377, 1Q -1.7117, Median -0.4551, 3Q 2.3614, Max 5.6978
    data = pd.read_csv(REFDATA / "R_stackloss.csv", keep_default_na=False)
    fit = sm.OLS(
        data["stack_loss"], sm.add_constant(data[["air_flow", "water_temp", "acid_conc"]])
    ).fit()
    frame = pd.DataFrame({"resid": fit.resid})
    row = describe(frame, ["resid"], summary="median_iqr", digits=4).iloc[0]
    assert row["min"] == pytest.approx(-7.2377, abs=5e-5)
    assert row["q1"] == pytest.approx(-1.7117, abs=5e-5)
    assert row["median"] == pytest.approx(-0.4551, abs=5e-5)
    assert row["q3"] == pytest.approx(2.3614, abs=5e-5)
    assert row["max"] == pytest.approx(5.6978, abs=5e-5)
    assert row["text"] == "-0.4551 (-1.7117, 2.3614)"
    ranged = describe(frame, ["resid"], summary="median_range", digits=4, minus="\u2212").iloc[0]
    assert ranged["text"] == "\u22120.4551 (\u22127.2377, 5.6978)"


@needs_refdata
def test_mean_sd_bland_altman_1986_differences():
    # stats-reference.md §9: first readings Wright - mini: mean difference -2.1, SD 38.8
    data = pd.read_csv(REFDATA / "bland_altman_1986_pefr.csv", keep_default_na=False)
    frame = pd.DataFrame({"diff": data["wright1"] - data["mini1"]})
    assert describe(frame, ["diff"], summary="mean_sd")["text"].iloc[0] == "-2.1 (38.8)"


@needs_refdata
def test_grand_median_sweetpotato():
    # stats-reference.md §4b: grand median 28.25 (agricolae prints it rounded, 28)
    data = pd.read_csv(REFDATA / "agricolae_sweetpotato.csv", keep_default_na=False)
    out = describe(data, ["yield"], by="virus")
    assert out.loc[out["group"] == "all", "median"].iloc[0] == pytest.approx(28.25)
    assert out["group"].tolist() == ["all", "cc", "fc", "ff", "oo"]


def test_count_percent_seed_study_table1_gender():
    # Seed study 001, Table 1: Female 60 (75%), 42 (73.68%) in group A, 18 (78.26%) in group B
    df = pd.DataFrame(
        {"group": ["A"] * 57 + ["B"] * 23, "sex": ["F"] * 42 + ["M"] * 15 + ["F"] * 18 + ["M"] * 5}
    )
    out = count_percent(df, ["sex"], by="group", digits=2, percent_sign=True)
    female = out[out["level"] == "F"].set_index("group")
    assert female.loc["all", "n"] == 60 and female.loc["all", "percent"] == pytest.approx(75.0)
    assert female.loc["A", "text"] == "42 (73.68%)"
    assert female.loc["B", "text"] == "18 (78.26%)"


def test_half_up_display_rounding_and_missing_counts():
    df = pd.DataFrame({"x": [0.125, 0.125, np.nan]})
    row = describe(df, ["x"], summary="mean_sd", digits=2).iloc[0]
    assert row["text"].startswith("0.13 (")  # half-up, not banker's 0.12
    assert row["n"] == 2 and row["n_missing"] == 1


def test_non_numeric_values_are_reported_with_their_rows():
    df = pd.DataFrame({"age": [50, "fifty", 60, "?"]})
    with pytest.raises(ValidationError) as err:
        describe(df, ["age"])
    assert err.value.to_frame()["record"].tolist() == [1, 3]
