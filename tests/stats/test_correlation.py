"""Spearman and Pearson correlation against published R output (stats-reference.md §2a)."""

import numpy as np
import pandas as pd
import pytest

from rheumetrics.errors import ValidationError
from rheumetrics.stats import correlation_table, pearson, spearman

# Hollander & Wolfe (1973, p. 187), tuna quality; R cor.test example output
X = [44.4, 45.9, 41.9, 53.3, 44.7, 44.1, 50.7, 45.2, 60.1]
Y = [2.6, 3.1, 2.5, 5.0, 3.6, 4.0, 5.2, 2.8, 3.8]


def test_spearman_exact_r_cor_test():
    # stats-reference.md §2a: S = 48, p = 0.0484, rho = 0.6 (alternative = "greater", exact)
    res = spearman(X, Y, alternative="greater").iloc[0]
    assert res["r"] == pytest.approx(0.6)
    assert res["p"] == pytest.approx(0.0484, abs=5e-5)
    assert res["method"] == "exact" and res["permutations"] == 362880


def test_spearman_asymptotic_is_the_t_approximation():
    # stats-reference.md §2a: scipy.stats.spearmanr's t approximation gives p = 0.043811
    res = spearman(X, Y, alternative="greater", method="asymptotic").iloc[0]
    assert res["p"] == pytest.approx(0.043811, abs=5e-7)


def test_spearman_monte_carlo_permutation_close_to_exact():
    # 100,000 random pairings; the Monte Carlo SE at p = 0.0484 is 0.00068
    res = spearman(X, Y, alternative="greater", method="permutation", rng=7).iloc[0]
    assert abs(res["p"] - 0.048399) < 4 * np.sqrt(0.0484 * 0.9516 / 100_000)
    assert res["permutations"] == 100_000
    assert res["method"] == "Monte Carlo permutation (100000 pairings, seed 7)"


def test_pearson_r_cor_test_one_sided():
    # stats-reference.md §2a: t = 1.8411, df = 7, p = 0.05409, r = 0.5711816,
    # one-sided 95% CI -0.02223023 to 1
    res = pearson(X, Y, alternative="greater").iloc[0]
    assert res["r"] == pytest.approx(0.5711816, abs=5e-8)
    assert res["stat"] == pytest.approx(1.8411, abs=5e-5)
    assert res["p"] == pytest.approx(0.05409, abs=5e-6)
    assert res["ci_low"] == pytest.approx(-0.02223023, abs=5e-9)
    assert res["ci_high"] == 1.0


def test_spearman_ci_variants_are_recorded_and_ordered():
    # Fieller et al. (1957) and Bonett & Wright (2000) only widen the Fisher-z SE
    widths = {}
    for ci in ("fisher_z", "fieller", "bonett_wright"):
        res = spearman(X, Y, ci=ci)
        assert res.attrs["conventions"]["ci_method"] == ci
        widths[ci] = float(res["ci_high"].iloc[0] - res["ci_low"].iloc[0])
    assert widths["fisher_z"] < widths["fieller"] < widths["bonett_wright"]


def test_bootstrap_ci_contains_estimate():
    rng = np.random.default_rng(3)
    a = rng.normal(size=80)
    b = 0.5 * a + rng.normal(size=80)
    res = spearman(a, b, ci="bootstrap", n_bootstrap=2000, rng=1).iloc[0]
    assert res["ci_low"] < res["r"] < res["ci_high"]


def test_correlation_table_drops_missing_pairs_and_labels_rows():
    df = pd.DataFrame({"d_das": [*X, np.nan], "d_mri": [*Y, 1.0], "d_teno": [*Y[::-1], 2.0]})
    out = correlation_table(df, "d_das", ["d_mri", "d_teno"])
    assert out["y"].tolist() == ["d_mri", "d_teno"]
    assert out["n"].tolist() == [9, 9] and out["n_dropped"].tolist() == [1, 1]
    assert out["r"].iloc[0] == pytest.approx(0.6)


def test_exact_refused_beyond_enumeration_limit():
    with pytest.raises(ValidationError, match="method"):
        spearman(np.arange(12.0), np.arange(12.0) ** 2, method="exact")
