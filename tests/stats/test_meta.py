"""Meta-analysis against metafor / Stata metan (stats-reference.md §7a) and Borenstein (2009)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from rheumetrics.errors import ValidationError
from rheumetrics.stats import effect_sizes, forest_plot, meta_analysis

REFDATA = Path(__file__).resolve().parents[3] / "shared" / "refdata"
needs_refdata = pytest.mark.skipif(not REFDATA.is_dir(), reason="shared/refdata not available")


def _bcg(measure: str = "RR") -> pd.DataFrame:
    data = pd.read_csv(REFDATA / "metadat_dat_bcg.csv", keep_default_na=False)
    data["n_t"] = data["tpos"] + data["tneg"]
    data["n_c"] = data["cpos"] + data["cneg"]
    return effect_sizes(
        data, measure, study="author", events_t="tpos", n_t="n_t", events_c="cpos", n_c="n_c"
    )


@needs_refdata
def test_bcg_log_risk_ratios_metafor_readme():
    # stats-reference.md §7a (metafor README): yi and vi to 4 dp
    es = _bcg()
    yi = [-0.8893, -1.5854, -1.3481, -1.4416, -0.2175, -0.7861, -1.6209, 0.0120, -0.4694,
          -1.3713, -0.3394, 0.4459, -0.0173]  # fmt: skip
    vi = [0.3256, 0.1946, 0.4154, 0.0200, 0.0512, 0.0069, 0.2230, 0.0040, 0.0564, 0.0730,
          0.0124, 0.5325, 0.0714]  # fmt: skip
    np.testing.assert_allclose(es["yi"], yi, atol=5e-5)
    np.testing.assert_allclose(es["vi"], vi, atol=5e-5)


@needs_refdata
def test_fixed_effect_bcg_stata_metan():
    # est -0.4303, CI -0.5097 to -0.3509, z -10.6247, Q = 152.2330 (df 12); RR 0.6503 (0.6007-0.7040)
    es = _bcg()
    res = meta_analysis(es["yi"], es["vi"], method="FE").iloc[0]
    assert res["estimate"] == pytest.approx(-0.4303, abs=5e-5)
    assert res["ci_low"] == pytest.approx(-0.5097, abs=5e-5)
    assert res["ci_high"] == pytest.approx(-0.3509, abs=5e-5)
    assert res["stat"] == pytest.approx(-10.6247, abs=5e-5)
    assert res["q"] == pytest.approx(152.2330, abs=5e-5) and res["q_df"] == 12
    assert np.exp(res["estimate"]) == pytest.approx(0.6503, abs=5e-5)
    assert np.exp(res["ci_low"]) == pytest.approx(0.6007, abs=5e-5)
    assert np.exp(res["ci_high"]) == pytest.approx(0.7040, abs=5e-5)


@needs_refdata
def test_dersimonian_laird_bcg_stata_metan():
    # est -0.7141, CI -1.0644 to -0.3638, z -3.9952, tau2 0.3088, I2 92.1173 %; RR 0.4896 (0.3449-0.6950)
    es = _bcg()
    res = meta_analysis(es["yi"], es["vi"], method="DL").iloc[0]
    assert res["estimate"] == pytest.approx(-0.7141, abs=5e-5)
    assert res["ci_low"] == pytest.approx(-1.0644, abs=5e-5)
    assert res["ci_high"] == pytest.approx(-0.3638, abs=5e-5)
    assert res["stat"] == pytest.approx(-3.9952, abs=5e-5)
    assert res["tau2"] == pytest.approx(0.3088, abs=5e-5)
    assert res["i2"] == pytest.approx(92.1173, abs=5e-5)
    assert np.exp([res["estimate"], res["ci_low"], res["ci_high"]]) == pytest.approx(
        [0.4896, 0.3449, 0.6950], abs=5e-5
    )


@needs_refdata
def test_reml_bcg_metafor():
    # tau2 0.3132 (SE 0.1664), tau 0.5597, I2 92.22 %, H2 12.86; est -0.7145, SE 0.1798,
    # z -3.9744, CI -1.0669 to -0.3622; full-precision tau2 0.313243325980895 (metafor tests)
    es = _bcg()
    res = meta_analysis(es["yi"], es["vi"], method="REML").iloc[0]
    # metafor stops Fisher scoring when tau2 changes by < 1e-5 (its default threshold), so its
    # 15-digit value is the REML root only to about 1e-7
    assert res["tau2"] == pytest.approx(0.313243325980895, abs=1e-7)
    assert res["tau2_se"] == pytest.approx(0.1664, abs=5e-5)
    assert res["tau"] == pytest.approx(0.5597, abs=5e-5)
    assert res["i2"] == pytest.approx(92.22, abs=5e-3)
    assert res["h2"] == pytest.approx(12.86, abs=5e-3)
    assert res["estimate"] == pytest.approx(-0.7145, abs=5e-5)
    assert res["se"] == pytest.approx(0.1798, abs=5e-5)
    assert res["stat"] == pytest.approx(-3.9744, abs=5e-5)
    assert (res["ci_low"], res["ci_high"]) == pytest.approx((-1.0669, -0.3622), abs=5e-5)
    assert res["converged"]


@needs_refdata
def test_reml_knapp_hartung_bcg_metafor_readme():
    # est -0.7145, SE 0.1808, t -3.9522, df 12, p 0.0019, CI -1.1084 to -0.3206;
    # predicted RR 0.49 (CI 0.33-0.73, PI 0.14-1.76)
    es = _bcg()
    out = meta_analysis(es["yi"], es["vi"], method="REML", knapp_hartung=True, prediction="metafor")
    res = out.iloc[0]
    assert res["se"] == pytest.approx(0.1808, abs=5e-5)
    assert res["stat"] == pytest.approx(-3.9522, abs=5e-5)
    assert res["df"] == 12
    assert res["p"] == pytest.approx(0.0019, abs=5e-5)
    assert (res["ci_low"], res["ci_high"]) == pytest.approx((-1.1084, -0.3206), abs=5e-5)
    ratios = np.exp([res["estimate"], res["ci_low"], res["ci_high"], res["pi_low"], res["pi_high"]])
    assert ratios == pytest.approx([0.49, 0.33, 0.73, 0.14, 1.76], abs=5e-3)
    assert out.attrs["conventions"]["prediction_interval"] == "metafor"


@needs_refdata
def test_log_odds_ratio_dl_bcg():
    # stats-reference.md §7a: OR scale DL est -0.747, tau2 0.3663, I2 92.6, FE Q 163.16
    es = _bcg("OR")
    res = meta_analysis(es["yi"], es["vi"], method="DL").iloc[0]
    assert res["estimate"] == pytest.approx(-0.747, abs=5e-4)
    assert res["tau2"] == pytest.approx(0.3663, abs=5e-5)
    assert res["i2"] == pytest.approx(92.6, abs=0.05)
    assert res["q"] == pytest.approx(163.16, abs=5e-3)


def _two_groups() -> pd.DataFrame:
    # Borenstein et al. (2009) ch. 4 worked example: means 103 vs 100, SD 5.5 vs 4.5, n 50 each
    return pd.DataFrame(
        {"m1": [103.0], "s1": [5.5], "n1": [50], "m2": [100.0], "s2": [4.5], "n2": [50]}
    )


def _cols() -> dict[str, str]:
    return {"mean_t": "m1", "sd_t": "s1", "n_t": "n1", "mean_c": "m2", "sd_c": "s2", "n_c": "n2"}


def test_hedges_g_borenstein_2009():
    # d = 0.5970, J = 0.9923, g = 0.5924, V(g) = 0.0411 (Borenstein et al. 2009, pp. 26-27)
    row = effect_sizes(_two_groups(), "SMD", **_cols()).iloc[0]
    assert row["d"] == pytest.approx(0.5970, abs=5e-5)
    assert row["j"] == pytest.approx(0.9923, abs=5e-5)
    assert row["yi"] == pytest.approx(0.5924, abs=5e-5)
    assert row["vi"] == pytest.approx(0.0411, abs=5e-5)


def test_raw_mean_difference_borenstein_2009():
    # D = 3.000, V(D) = 1.0100 with the pooled SD 5.0249 (Borenstein et al. 2009, p. 22)
    row = effect_sizes(_two_groups(), "MD", **_cols()).iloc[0]
    assert row["yi"] == pytest.approx(3.0)
    assert row["vi"] == pytest.approx(1.0100, abs=5e-5)


def test_higgins_prediction_interval_uses_t_k_minus_2():
    yi, vi = [0.1, 0.5, 0.9, 0.2], [0.04, 0.05, 0.06, 0.03]
    higgins = meta_analysis(yi, vi, method="DL", prediction="higgins").iloc[0]
    half = (higgins["pi_high"] - higgins["pi_low"]) / 2
    from scipy import stats

    expected = stats.t(2).ppf(0.975) * np.sqrt(higgins["tau2"] + higgins["se"] ** 2)
    assert half == pytest.approx(expected)


def test_invalid_inputs_are_reported():
    bad = pd.DataFrame({"e1": [5, 12], "n1": [10, 10], "e2": [1, 2], "n2": [10, 10]})
    with pytest.raises(ValidationError, match="between 0 and the group size"):
        effect_sizes(bad, "RR", events_t="e1", n_t="n1", events_c="e2", n_c="n2")
    with pytest.raises(ValidationError, match="> 0"):
        meta_analysis([0.1, 0.2], [0.1, 0.0])
    with pytest.raises(ValidationError, match="random-effects"):
        meta_analysis([0.1, 0.2], [0.1, 0.1], method="FE", knapp_hartung=True)


@needs_refdata
def test_forest_plot_returns_figure():
    es = _bcg()
    res = meta_analysis(es["yi"], es["vi"], studies=es["study"])
    fig = forest_plot(res, exponentiate=True, xlabel="risk ratio")
    assert isinstance(fig, Figure)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    # one row per trial in the table's order, then the pooled estimate and the prediction interval
    assert labels == [*es["study"], "REML pooled", "Prediction interval"]


def test_forest_plot_prints_weight_and_estimate_ci_columns():
    yi, vi = [0.1, 0.5, 0.9, 0.2], [0.04, 0.05, 0.06, 0.03]
    res = meta_analysis(yi, vi, studies=["A", "B", "C", "D"], method="DL")
    texts = [t.get_text() for t in forest_plot(res).axes[0].texts]
    studies = res.attrs["studies"]
    assert texts[:2] == ["Weight", "Estimate [95% CI]"]
    for i, row in studies.iterrows():
        assert texts[2 + 2 * i] == f"{row['weight_percent']:.1f}%"
        assert texts[3 + 2 * i] == f"{row['yi']:.2f} [{row['ci_low']:.2f}, {row['ci_high']:.2f}]"
    pooled = res.iloc[0]
    assert texts[-3] == "100%"
    assert (
        texts[-2] == f"{pooled['estimate']:.2f} [{pooled['ci_low']:.2f}, {pooled['ci_high']:.2f}]"
    )
    assert texts[-1] == f"[{pooled['pi_low']:.2f}, {pooled['pi_high']:.2f}]"
    # ratios are printed as ratios
    ratio_texts = [t.get_text() for t in forest_plot(res, exponentiate=True).axes[0].texts]
    assert ratio_texts[3] == (
        f"{np.exp(0.1):.2f} [{np.exp(studies['ci_low'][0]):.2f}, {np.exp(studies['ci_high'][0]):.2f}]"
    )
