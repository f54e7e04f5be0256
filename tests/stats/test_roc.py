"""ROC analysis against Hanley & McNeil (1982) and Stata's roctab output of the same data."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy import stats

from rheumetrics.errors import ValidationError
from rheumetrics.stats import delong_test, mann_whitney, plot_roc, roc_auc, roc_curve, youden_cutoff

# Hanley & McNeil (1982), Radiology 143:29, Table 1: CT ratings 1 (definitely normal) to 5
# (definitely abnormal) of 58 normal and 51 abnormal patients.
NORMAL = np.repeat([1, 2, 3, 4, 5], [33, 6, 6, 11, 2])
ABNORMAL = np.repeat([1, 2, 3, 4, 5], [3, 2, 2, 11, 33])
TRUTH = np.r_[np.zeros(58, int), np.ones(51, int)]
RATING = np.r_[NORMAL, ABNORMAL]


def test_auc_and_delong_ci_hanley_mcneil_data():
    # Hanley & McNeil (1982): area 0.893. Stata [R] roctab, example 1 (the same data, DeLong SE):
    # ROC area 0.8932, Std. Err. 0.0307, asymptotic normal 95% CI 0.83295 - 0.95339
    res = roc_auc(TRUTH, RATING).iloc[0]
    assert res["auc"] == pytest.approx(0.8932, abs=5e-5)
    assert res["se"] == pytest.approx(0.0307, abs=5e-5)
    assert res["ci_low"] == pytest.approx(0.83295, abs=5e-6)
    assert res["ci_high"] == pytest.approx(0.95339, abs=5e-6)
    assert (res["n_pos"], res["n_neg"]) == (51, 58)


def test_hanley_mcneil_standard_error():
    # Hanley & McNeil (1982), p. 32: SE(A) = 0.032 for A = 0.893 with 51 and 58 patients
    res = roc_auc(TRUTH, RATING, se_method="hanley_mcneil").iloc[0]
    assert res["se"] == pytest.approx(0.032, abs=5e-4)


def test_roc_points_hanley_mcneil_table_1():
    # Hanley & McNeil (1982) Table 1, true- and false-positive fractions at each rating cut-off
    curve = roc_curve(TRUTH, RATING).set_index("threshold")
    published = {5: (0.65, 0.03), 4: (0.86, 0.22), 3: (0.90, 0.33), 2: (0.94, 0.43)}
    for cut, (tpf, fpf) in published.items():
        assert curve.loc[cut, "sensitivity"] == pytest.approx(tpf, abs=5e-3)
        assert 1 - curve.loc[cut, "specificity"] == pytest.approx(fpf, abs=5e-3)


def test_youden_cutoff_rating_4():
    # From the Table 1 fractions J is largest at ">= 4" (0.86 - 0.22); midpoint convention 3.5
    best = youden_cutoff(TRUTH, RATING).iloc[0]
    assert best["threshold"] == 4
    assert best["sensitivity"] == pytest.approx(0.86, abs=5e-3)
    assert 1 - best["specificity"] == pytest.approx(0.22, abs=5e-3)
    assert youden_cutoff(TRUTH, RATING, threshold="midpoint")["threshold"].iloc[0] == 3.5


def test_auc_is_the_mann_whitney_probability():
    # R ?wilcox.test example (W = 35 for 10 vs 5 values): AUC = W / (10 * 5) = 0.7
    x = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
    y = [1.15, 0.88, 0.90, 0.74, 1.21]
    auc = roc_auc([1] * 10 + [0] * 5, x + y)["auc"].iloc[0]
    assert auc == pytest.approx(35 / 50)
    assert mann_whitney(x, y)["prob_superiority"].iloc[0] == pytest.approx(auc)


def test_delong_paired_test_properties():
    # The paired variance of one AUC with itself is its DeLong variance; a monotone transform of
    # a score leaves every placement value, hence the AUC, unchanged.
    rng = np.random.default_rng(11)
    noisy = RATING + rng.normal(0, 1.5, RATING.size)
    res = delong_test(TRUTH, RATING, noisy).iloc[0]
    single = roc_auc(TRUTH, noisy).iloc[0]
    assert res["auc1"] == pytest.approx(0.8932, abs=5e-5)
    assert res["auc2"] == pytest.approx(single["auc"])
    assert res["p"] == pytest.approx(2 * stats.norm.sf(abs(res["z"])))
    same = delong_test(TRUTH, noisy, np.exp(noisy)).iloc[0]
    assert same["difference"] == pytest.approx(0.0, abs=1e-12)
    assert same["correlation"] == pytest.approx(1.0)


def test_lower_is_positive_and_errors():
    res = roc_auc(TRUTH, -RATING, higher_is_positive=False)["auc"].iloc[0]
    assert res == pytest.approx(0.8932, abs=5e-5)
    with pytest.raises(ValidationError, match="positives"):
        roc_auc([0, 0, 0], [1.0, 2.0, 3.0])
    with pytest.raises(ValidationError, match="missing"):
        roc_auc(pd.Series([0, 1, None]), [1.0, 2.0, 3.0])


def test_plot_roc_returns_figure():
    fig = plot_roc({"MRI": roc_curve(TRUTH, RATING)})
    assert isinstance(fig, Figure)
