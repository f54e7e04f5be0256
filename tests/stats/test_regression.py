"""Linear and logistic regression against published output (stats-reference.md §5b; Greene)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.datasets import spector

from rheumetrics.errors import ValidationError
from rheumetrics.stats import linear_regression, logistic_regression

REFDATA = Path(__file__).resolve().parents[3] / "shared" / "refdata"
needs_refdata = pytest.mark.skipif(not REFDATA.is_dir(), reason="shared/refdata not available")


@needs_refdata
def test_stackloss_r_lm_output():
    # stats-reference.md §5b (R datasets-Ex.Rout.save): estimates, SEs, t, p; residual SE 3.243 on
    # 17 df; R2 0.9136, adjusted 0.8983; F 59.9 on 3 and 17 df, p 3.016e-09
    data = pd.read_csv(REFDATA / "R_stackloss.csv", keep_default_na=False)
    out = linear_regression(data, "stack_loss", ["air_flow"], ["water_temp", "acid_conc"])
    res = out.set_index("term")
    published = {
        "Intercept": (-39.9197, 11.8960, -3.356, 0.00375),
        "air_flow": (0.7156, 0.1349, 5.307, 5.8e-05),
        "water_temp": (1.2953, 0.3680, 3.520, 0.00263),
        "acid_conc": (-0.1521, 0.1563, -0.973, 0.34405),
    }
    for term, (est, se, t, p) in published.items():
        assert res.loc[term, "estimate"] == pytest.approx(est, abs=5e-5)
        assert res.loc[term, "se"] == pytest.approx(se, abs=5e-5)
        assert res.loc[term, "stat"] == pytest.approx(t, abs=5e-4)
        assert res.loc[term, "p"] == pytest.approx(p, rel=1e-2)  # R prints 3 significant digits
    assert res.loc["air_flow", "role"] == "predictor"
    assert res.loc["acid_conc", "role"] == "confounder"
    model = out.attrs["model"]
    assert model["sigma"] == pytest.approx(3.243, abs=5e-4)
    assert model["df_resid"] == 17
    assert model["r2"] == pytest.approx(0.9136, abs=5e-5)
    assert model["r2_adj"] == pytest.approx(0.8983, abs=5e-5)
    assert model["f"] == pytest.approx(59.9, abs=0.05)
    assert model["f_p"] == pytest.approx(3.016e-09, abs=5e-13)


def test_logit_spector_mazzeo_greene_table():
    # Spector & Mazzeo (1980) data; logit estimates (SE) as printed by Greene, Econometric
    # Analysis (5th ed., 2003, Table 21.1): constant -13.021 (4.931), GPA 2.826 (1.263),
    # TUCE 0.095 (0.142), PSI 2.379 (1.065)
    data = spector.load_pandas().data
    out = logistic_regression(data, "GRADE", ["PSI"], ["GPA", "TUCE"]).set_index("term")
    published = {
        "Intercept": (-13.021, 4.931),
        "GPA": (2.826, 1.263),
        "TUCE": (0.095, 0.142),
        "PSI": (2.379, 1.065),
    }
    for term, (est, se) in published.items():
        assert out.loc[term, "estimate"] == pytest.approx(est, abs=5e-4)
        assert out.loc[term, "se"] == pytest.approx(se, abs=5e-4)
    assert out.loc["PSI", "odds_ratio"] == pytest.approx(np.exp(out.loc["PSI", "estimate"]))


def test_categorical_confounder_is_dummy_coded_against_reference():
    df = pd.DataFrame(
        {
            "d_mri": [1.0, 2.0, 0.5, 3.0, 2.5, 1.5, 0.0, 2.2],
            "d_das": [0.5, 1.5, 0.2, 2.0, 1.8, 1.0, -0.3, 1.7],
            "sex": ["F", "M", "F", "M", "F", "F", "M", "M"],
        }
    )
    out = linear_regression(df, "d_mri", ["d_das"], ["sex"], reference={"sex": "M"})
    assert out["term"].tolist() == ["Intercept", "d_das", "sex: F vs M"]


def test_missing_rows_and_bad_outcomes_are_reported():
    df = pd.DataFrame({"y": [0, 1, 2, 1], "x": [1.0, None, 3.0, 4.0]})
    with pytest.raises(ValidationError) as err:
        logistic_regression(df, "y", ["x"])
    assert err.value.problems[0].record == 1
    with pytest.raises(ValidationError, match="must be 0 or 1"):
        logistic_regression(df, "y", ["x"], missing="drop")
