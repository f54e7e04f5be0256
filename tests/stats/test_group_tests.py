"""Group comparisons and table tests against published results (R help pages, seed study)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rheumetrics.errors import ValidationError
from rheumetrics.stats import (
    chi_square,
    cmh_test,
    contingency_table,
    fisher_exact,
    mann_whitney,
    median_test,
)

REFDATA = Path(__file__).resolve().parents[3] / "shared" / "refdata"
needs_refdata = pytest.mark.skipif(not REFDATA.is_dir(), reason="shared/refdata not available")


def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(REFDATA / name, keep_default_na=False)


def _arthritis() -> pd.DataFrame:
    return _csv("vcd_Arthritis_KochEdwards1988.csv")


@needs_refdata
def test_median_test_sweetpotato_agricolae_tutorial_5_5():
    # stats-reference.md §4b: "Chi Square = 6.7 DF = 3 P.Value 0.083, Median = 28"
    res = median_test(data=_csv("agricolae_sweetpotato.csv"), value="yield", group="virus").iloc[0]
    assert res["stat"] == pytest.approx(6.7, abs=0.05)
    assert res["df"] == 3
    assert res["p"] == pytest.approx(0.083, abs=5e-4)
    assert round(res["grand_median"]) == 28


@needs_refdata
def test_median_test_permutation_variant_is_scaled_pearson():
    # stats-reference.md §4 library map: coin/SAS use the permutation variance, (N-1)/N * chi2
    data = _csv("agricolae_sweetpotato.csv")
    pearson = median_test(data=data, value="yield", group="virus")
    perm = median_test(data=data, value="yield", group="virus", variant="permutation")
    assert perm["stat"].iloc[0] == pytest.approx(6.7 * 11 / 12, abs=0.05)
    assert perm["stat"].iloc[0] == pytest.approx(pearson["stat"].iloc[0] * 11 / 12)
    assert perm.attrs["conventions"]["variant"] == "permutation"
    assert perm["method"].iloc[0] == "chi-square approximation"


def test_mann_whitney_r_wilcox_test_example():
    # R ?wilcox.test (Hollander & Wolfe 1973 p. 69): W = 35, p-value = 0.1272 (exact, greater);
    # exact = FALSE, correct = FALSE: p-value = 0.1103
    x = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
    y = [1.15, 0.88, 0.90, 0.74, 1.21]
    res = mann_whitney(x, y, alternative="greater").iloc[0]
    assert res["stat"] == 35
    assert res["p"] == pytest.approx(0.1272, abs=5e-5)
    approx = mann_whitney(x, y, alternative="greater", method="asymptotic", continuity=False)
    assert approx["p"].iloc[0] == pytest.approx(0.1103, abs=5e-5)


def test_chi_square_agresti_party_gender():
    # stats-reference.md §4d: X-squared = 30.07, df = 2, p-value = 2.954e-07
    res = chi_square([[762, 327, 468], [484, 239, 477]]).iloc[0]
    assert res["stat"] == pytest.approx(30.07, abs=5e-3)
    assert res["df"] == 2
    assert res["p"] == pytest.approx(2.954e-07, abs=5e-11)


def test_chi_square_yates_default_and_uncorrected_sas():
    # stats-reference.md §4d: 2x2 matrix(c(12,5,7,7)) Yates p = 0.4233054;
    # CAMIS bronchitis uncorrected chi2 = 12.1804, p = 0.0005 (SAS)
    assert chi_square([[12, 7], [5, 7]])["p"].iloc[0] == pytest.approx(0.4233054, abs=5e-8)
    res = chi_square([[26, 44], [247, 1002]], yates=False).iloc[0]
    assert res["stat"] == pytest.approx(12.1804, abs=5e-5)
    assert res["p"] == pytest.approx(0.0005, abs=5e-5)
    assert not res["yates"]


@needs_refdata
def test_chi_square_arthritis_koch_edwards_vcd_assocstats():
    # stats-reference.md §4d: Pearson 13.055 (p 0.0014626), LR 13.530 (p 0.0011536),
    # contingency coefficient 0.367, Cramér's V 0.394
    table = contingency_table(_arthritis(), "Treatment", "Improved")
    assert table.tolist() == [[7, 29, 7], [21, 13, 7]]  # Marked, None, Some (sorted levels)
    res = chi_square(table).iloc[0]
    assert res["stat"] == pytest.approx(13.055, abs=5e-4)
    assert res["p"] == pytest.approx(0.0014626, abs=5e-8)
    assert res["lr_stat"] == pytest.approx(13.530, abs=5e-4)
    assert res["lr_p"] == pytest.approx(0.0011536, abs=5e-8)
    assert res["contingency_coefficient"] == pytest.approx(0.367, abs=5e-4)
    assert res["cramers_v"] == pytest.approx(0.394, abs=5e-4)


def test_seed_study_table1_gender_chi_square_and_methotrexate_fisher():
    # Seed study 001 (NZ MRI vs DAS28-CRP), Table 1: gender F/M 42/15 vs 18/5, chi-square p = 0.67;
    # on methotrexate yes/no 49/8 vs 21/2, p = 0.72 (the value of Fisher's exact test)
    assert chi_square([[42, 15], [18, 5]], yates=False)["p"].iloc[0] == pytest.approx(
        0.67, abs=5e-3
    )
    assert fisher_exact([[49, 8], [21, 2]])["p"].iloc[0] == pytest.approx(0.72, abs=5e-3)


def test_fisher_exact_r_help_page_examples():
    # R ?fisher.test: TeaTasting greater p = 0.2429; Convictions less p-value = 0.0004652
    tea = fisher_exact([[3, 1], [1, 3]], alternative="greater").iloc[0]
    assert tea["p"] == pytest.approx(0.2429, abs=5e-5)
    convictions = fisher_exact([[2, 15], [10, 3]], alternative="less").iloc[0]
    assert convictions["p"] == pytest.approx(0.0004652, abs=5e-8)


@needs_refdata
def test_fisher_exact_2x3_arthritis_kabacoff():
    # fisher.test(Treatment x Improved) on vcd::Arthritis: p-value = 0.001393 (R in Action)
    table = contingency_table(_arthritis(), "Treatment", "Improved")
    res = fisher_exact(table).iloc[0]
    assert res["p"] == pytest.approx(0.001393, abs=5e-7)
    assert res["method"] == "exact"
    assert fisher_exact(table.T)["p"].iloc[0] == pytest.approx(0.001393, abs=5e-7)


def test_fisher_exact_4x4_job_satisfaction_monte_carlo_is_seeded_and_labelled():
    # R ?fisher.test, Agresti (2002, p. 57) Job satisfaction: exact p = 0.7827. Asked for, the
    # Monte Carlo p is labelled with its size and seed, repeats with the seed, and lies within
    # 4 Monte Carlo SEs (SE = sqrt(p(1-p)/B) = 0.0013) of the exact value.
    job = np.array([[1, 2, 1, 0], [3, 3, 6, 1], [10, 10, 14, 9], [6, 7, 12, 11]]).T
    res = fisher_exact(job, method="monte_carlo", rng=2024).iloc[0]
    assert res["method"] == "Monte Carlo (100000 tables, seed 2024)"
    assert abs(res["p"] - 0.7827) < 4 * np.sqrt(0.7827 * 0.2173 / 100_000)
    again = fisher_exact(job, method="monte_carlo", rng=2024).iloc[0]
    assert again["p"] == res["p"]


@needs_refdata
def test_cmh_arthritis_general_association():
    # stats-reference.md §4d: mantelhaen.test(Treatment x Improved x Sex): M^2 = 14.632, df 2,
    # p = 0.0006647
    table = contingency_table(_arthritis(), "Treatment", "Improved", "Sex")
    res = cmh_test(table).iloc[0]
    assert res["stat"] == pytest.approx(14.632, abs=5e-4)
    assert res["df"] == 2
    assert res["p"] == pytest.approx(0.0006647, abs=5e-8)


def test_cmh_2x2xk_rabbits_r_help_page():
    # R ?mantelhaen.test, penicillin and rabbits (Agresti): Mantel-Haenszel X-squared = 3.9286,
    # df = 1, p-value = 0.04747; common odds ratio 7, 95% CI 1.026713 - 47.725133
    flat = [0, 0, 6, 5, 3, 0, 3, 6, 6, 2, 0, 4, 5, 6, 1, 0, 2, 5, 0, 0]
    rabbits = np.array(flat).reshape(5, 2, 2).transpose(2, 1, 0)  # R's column-major array
    res = cmh_test(rabbits).iloc[0]
    assert res["stat"] == pytest.approx(3.9286, abs=5e-5)
    assert res["p"] == pytest.approx(0.04747, abs=5e-6)
    assert res["common_odds_ratio"] == pytest.approx(7.0)
    assert res["ci_low"] == pytest.approx(1.026713, abs=5e-7)
    assert res["ci_high"] == pytest.approx(47.725133, abs=5e-7)


def test_bad_tables_and_groups_report_every_problem():
    with pytest.raises(ValidationError, match="non-negative integers"):
        chi_square([[1, -2], [3, 4]])
    with pytest.raises(ValidationError) as err:
        mann_whitney([1, "x", 3], [1, 2, None])
    fields = set(err.value.to_frame()["field"])
    assert fields == {"x", "y"}
    res = mann_whitney([1, 2, 3, 4], [2, 5, None, 6], missing="drop").iloc[0]
    assert res["n_dropped"] == 1 and res["n_y"] == 3
