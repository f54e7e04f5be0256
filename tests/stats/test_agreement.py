"""ICC, Bland-Altman, SDC and SRM against published values (stats-reference.md §1 and §9,
imaging-scores.md §7.6)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rheumetrics.errors import ValidationError
from rheumetrics.stats.agreement import bland_altman, icc, sdc, srm

REFDATA = Path(__file__).resolve().parents[3] / "shared" / "refdata"

# Shrout & Fleiss 1979, Psychol Bull 86:420, p. 423: 6 targets x 4 judges (stats-reference.md §1)
SF_WIDE = pd.DataFrame(
    {
        "target": [1, 2, 3, 4, 5, 6],
        "J1": [9, 6, 8, 7, 10, 6],
        "J2": [2, 1, 4, 1, 5, 2],
        "J3": [5, 3, 6, 2, 6, 4],
        "J4": [8, 2, 8, 6, 9, 7],
    }
)
SF = SF_WIDE.melt(id_vars="target", var_name="judge", value_name="rating")

# Bland & Altman 1986, Lancet i:307, peak expiratory flow (l/min), first readings
PEFR_WRIGHT = [494, 395, 516, 434, 476, 557, 413, 442, 650, 433, 417, 656, 267, 478, 178, 423, 427]
PEFR_MINI = [512, 430, 520, 428, 500, 600, 364, 380, 658, 445, 432, 626, 260, 477, 259, 350, 451]

# imaging-scores.md §7.6 worked example: change scores of 6 patients by two readers
READER_A = [2, 0, 5, 1, 3, 0]
READER_B = [1, 0, 4, 2, 5, 1]

# Student's sleep data (R datasets::sleep): extra sleep, drug 1 and drug 2, same 10 patients
SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def long(a, b, names=("A", "B")):
    n = len(a)
    return pd.DataFrame(
        {
            "target": list(range(n)) * 2,
            "rater": [names[0]] * n + [names[1]] * n,
            "value": list(a) + list(b),
        }
    )


def within(value, published, decimals):
    """True when ``value`` rounds to ``published`` at the published number of decimals."""
    return abs(value - published) <= 0.5 * 10**-decimals + 1e-12


@pytest.mark.skipif(not REFDATA.is_dir(), reason="shared/refdata not available")
def test_embedded_reference_data_match_refdata_files():
    sf = pd.read_csv(REFDATA / "shrout_fleiss_1979.csv", keep_default_na=False)
    pd.testing.assert_frame_equal(sf, SF_WIDE)
    ba = pd.read_csv(REFDATA / "bland_altman_1986_pefr.csv", keep_default_na=False)
    assert ba["wright1"].tolist() == PEFR_WRIGHT
    assert ba["mini1"].tolist() == PEFR_MINI


def test_anova_mean_squares_shrout_fleiss_1979_p423():
    # Shrout & Fleiss 1979 p. 423: BMS 11.24, WMS 6.26, JMS 32.49, EMS 1.02
    ms = icc(SF, "target", "judge", "rating").attrs["anova"]
    assert within(ms["BMS"], 11.24, 2)
    assert within(ms["WMS"], 6.26, 2)
    assert within(ms["JMS"], 32.49, 2)
    assert within(ms["EMS"], 1.02, 2)


# form: (ICC 2 dp S&F, F 1 dp, df1, df2, p (psych, 5 dp), CI low, digits, CI high, digits)
PUBLISHED = {
    "ICC(1,1)": (0.17, 1.8, 5, 18, 0.16477, -0.133, 3, 0.72, 2),
    "ICC(2,1)": (0.29, 11.0, 5, 15, 0.00013, 0.019, 3, 0.76, 2),
    "ICC(3,1)": (0.71, 11.0, 5, 15, 0.00013, 0.342, 3, 0.95, 2),
    "ICC(1,k)": (0.44, 1.8, 5, 18, 0.16477, -0.884, 3, 0.91, 2),
    "ICC(2,k)": (0.62, 11.0, 5, 15, 0.00013, 0.071, 3, 0.93, 2),
    "ICC(3,k)": (0.91, 11.0, 5, 15, 0.00013, 0.676, 3, 0.99, 2),
}


@pytest.mark.parametrize("form", list(PUBLISHED))
def test_icc_shrout_fleiss_1979_table_and_psych_cis(form):
    # ICCs: Shrout & Fleiss 1979 p. 423 (2 dp); F, df, p and 95% CIs: psych::ICC output quoted in
    # stats-reference.md §1, at its printed precision
    value, f, df1, df2, p, lo, lo_dp, hi, hi_dp = PUBLISHED[form]
    row = icc(SF, "target", "judge", "rating").set_index("form").loc[form]
    assert within(row["icc"], value, 2)
    assert within(row["F"], f, 1)
    assert (row["df1"], row["df2"]) == (df1, df2)
    assert within(row["p"], p, 5)
    assert within(row["ci_low"], lo, lo_dp)
    assert within(row["ci_high"], hi, hi_dp)
    assert (row["n"], row["k"]) == (6, 4)


def test_icc2_satterthwaite_df_psych():
    # psych R/ICC.R: Satterthwaite df v = 4.785144 for the S&F data (stats-reference.md §1)
    conventions = icc(SF, "target", "judge", "rating").attrs["conventions"]
    assert within(conventions["satterthwaite_df"], 4.785144, 6)


def test_icc_worked_example_imaging_scores_7_6():
    # imaging-scores.md §7.6: ICC(1,1) 0.8214, ICC(2,1) 0.8198, ICC(3,1) 0.8053, ICC(2,k) 0.9010,
    # ICC(3,k) 0.8922; mean squares BMS 6.8, JMS 0.3333, EMS 0.7333, WMS 0.6667
    res = icc(long(READER_A, READER_B), "target", "rater", "value")
    by = res.set_index("form")["icc"]
    assert within(by["ICC(1,1)"], 0.8214, 4)
    assert within(by["ICC(2,1)"], 0.8198, 4)
    assert within(by["ICC(3,1)"], 0.8053, 4)
    assert within(by["ICC(2,k)"], 0.9010, 4)
    assert within(by["ICC(3,k)"], 0.8922, 4)
    ms = res.attrs["anova"]
    assert within(ms["BMS"], 6.8, 4) and within(ms["JMS"], 0.3333, 4)
    assert within(ms["EMS"], 0.7333, 4) and within(ms["WMS"], 0.6667, 4)


def test_icc_targets_may_span_several_columns():
    data = SF.assign(site="wrist", visit=SF["target"])
    res = icc(data, ["site", "visit"], "judge", "rating").set_index("form")
    assert within(res.loc["ICC(3,1)", "icc"], 0.71, 2)


def test_icc_missing_rating_raises_or_drops_and_counts():
    data = SF[~((SF["target"] == 3) & (SF["judge"] == "J2"))]
    with pytest.raises(ValidationError, match="no rating from rater"):
        icc(data, "target", "judge", "rating")
    res = icc(data, "target", "judge", "rating", missing="drop")
    assert res["n"].iloc[0] == 5
    assert res.attrs["conventions"]["targets_dropped"] == 1


def test_icc_rejects_duplicate_and_non_numeric_ratings_together():
    data = pd.concat([SF, SF.iloc[[0]]]).astype({"rating": object})
    data.iloc[3, data.columns.get_loc("rating")] = "seven"
    with pytest.raises(ValidationError) as err:
        icc(data, "target", "judge", "rating")
    rules = [p.rule for p in err.value.problems]
    assert "must be a finite number" in rules
    assert rules.count("target rated twice by the same rater") == 2


def test_icc_needs_two_raters():
    with pytest.raises(ValidationError, match="at least 2 raters"):
        icc(SF[SF["judge"] == "J1"], "target", "judge", "rating")


def test_bland_altman_1986_pefr_published_bias_sd_and_limits():
    # Bland & Altman 1986: Wright - mini, mean difference -2.1, SD 38.8, limits -79.7 to 75.5
    # (mean +/- 2 SD, computed by the paper from the rounded mean and SD; stats-reference.md §9)
    data = long(PEFR_WRIGHT, PEFR_MINI, names=("wright", "mini"))
    row = bland_altman(data, "target", "rater", "value", multiplier=2).iloc[0]
    assert (row["rater_a"], row["rater_b"], row["n"]) == ("wright", "mini", 17)
    assert within(row["bias"], -2.1, 1)
    assert within(row["sd_diff"], 38.8, 1)
    bias, sd = round(row["bias"], 1), round(row["sd_diff"], 1)
    assert within(bias - 2 * sd, -79.7, 1) and within(bias + 2 * sd, 75.5, 1)
    # unrounded limits differ from the printed ones only by that rounding
    assert row["loa_low"] == pytest.approx(-79.7, abs=0.1)
    assert row["loa_high"] == pytest.approx(75.5, abs=0.1)


def test_bland_altman_pair_sets_the_sign():
    data = long(PEFR_WRIGHT, PEFR_MINI, names=("wright", "mini"))
    row = bland_altman(data, "target", "rater", "value", pair=("mini", "wright")).iloc[0]
    assert within(row["bias"], 2.1, 1)
    assert row["loa_high"] - row["bias"] == pytest.approx(1.96 * row["sd_diff"])


def test_bland_altman_needs_exactly_two_raters():
    with pytest.raises(ValidationError, match="exactly two raters"):
        bland_altman(SF, "target", "judge", "rating")


def test_sdc_bruynesteyn_and_loa_worked_example_imaging_scores_7_6():
    # imaging-scores.md §7.6: SD_delta 1.2111; SDC (k = 1) 1.678, (k = 2) 1.187; LoA half-width 2.374
    data = long(READER_A, READER_B)
    one = sdc(data, "target", "rater", "value", method="bruynesteyn", k=1).iloc[0]
    two = sdc(data, "target", "rater", "value", method="bruynesteyn", k=2).iloc[0]
    loa = sdc(data, "target", "rater", "value", method="loa").iloc[0]
    assert within(one["sd_diff"], 1.2111, 4)
    assert within(one["sdc"], 1.678, 3)
    assert within(two["sdc"], 1.187, 3)
    assert within(loa["sdc"], 2.374, 3)
    assert "sqrt(2) * sqrt(k)" in one["formula"] and one["method"] == "bruynesteyn"


def test_sdc_sem_anova_from_shrout_fleiss_ems():
    # SEM = sqrt(EMS) with EMS = 1.02 (Shrout & Fleiss 1979 p. 423); SDC = 1.96 * sqrt(2) * SEM
    # = 2.80 at that precision (stats-reference.md §9 gives 2.799 from the unrounded EMS)
    row = sdc(SF, "target", "judge", "rating", method="sem_anova", scale_max=10).iloc[0]
    assert within(row["sem"], 1.01, 2)
    assert within(row["sdc"], 2.80, 2)
    assert row["sdc_pct_max"] == pytest.approx(10 * row["sdc"])
    assert row["sdc_group"] == pytest.approx(row["sdc"] / np.sqrt(6))


def test_sdc_rejects_unknown_method_and_bad_k():
    data = long(READER_A, READER_B)
    with pytest.raises(ValidationError, match="method"):
        sdc(data, "target", "rater", "value", method="magic")
    with pytest.raises(ValidationError, match="whole number"):
        sdc(data, "target", "rater", "value", k=0)


def test_srm_equals_paired_t_over_root_n_sleep_data():
    # R sleep data: paired t = -4.0621 (df 9), so |SRM| = 4.0621 / sqrt(10) = 1.2845
    # (stats-reference.md §9; mean difference -1.58)
    change = pd.DataFrame({"change": np.subtract(SLEEP_1, SLEEP_2)})
    row = srm(change, "change").iloc[0]
    assert within(row["mean"], -1.58, 2)
    assert within(row["srm"], -4.0621 / np.sqrt(10), 4)


def test_srm_worked_example_reader_mean_imaging_scores_7_6():
    # imaging-scores.md §7.6: mean of readers per patient: mean change 2.0, SD 1.844, SRM 1.085
    change = pd.DataFrame({"change": (np.array(READER_A) + np.array(READER_B)) / 2})
    row = srm(change, "change").iloc[0]
    assert within(row["sd"], 1.844, 3)
    assert within(row["srm"], 1.085, 3)


def test_srm_by_group_and_missing_policy():
    data = long(READER_A, READER_B).rename(columns={"value": "change"})
    data.loc[0, "change"] = np.nan
    with pytest.raises(ValidationError, match="missing"):
        srm(data, "change", by="rater")
    res = srm(data, "change", by="rater", missing="drop").set_index("rater")
    assert res.loc["A", "n"] == 5 and res.loc["B", "n"] == 6
