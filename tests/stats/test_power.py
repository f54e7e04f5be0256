"""Sample size and power against published results (stats-reference.md §8)."""

import pytest

from rheumetrics.errors import ValidationError
from rheumetrics.stats import power_correlation, power_noninferiority, power_two_means

# R's uniroot (power.t.test, pwr) stops at tol = .Machine$double.eps^0.25 = 1.22e-4, so digits of
# a published *sample size* beyond that are solver noise; power values are exact to print.
UNIROOT_TOL = 1.22e-4


def test_exact_correlation_n46_for_rho_04():
    # §8a: exact bivariate-normal (G*Power exact): n = 46, power 0.802251; n = 45 gives 0.793176;
    # critical r 0.290706. The NZ seed study's "46 patients".
    res = power_correlation(0.4, power=0.80).iloc[0]
    assert res["n_required"] == 46
    assert res["power"] == pytest.approx(0.802251, abs=5e-7)
    assert res["critical_r"] == pytest.approx(0.290706, abs=5e-7)
    assert power_correlation(0.4, n=45)["power"].iloc[0] == pytest.approx(0.793176, abs=5e-7)


def test_exact_correlation_rho_03():
    # §8a: n = 84, power 0.800339
    res = power_correlation(0.3, power=0.80).iloc[0]
    assert res["n_required"] == 84
    assert res["power"] == pytest.approx(0.800339, abs=5e-7)


def test_exact_power_is_alpha_under_the_null():
    # §8a: the exact procedure has power = alpha at rho = 0 (checked just off zero)
    assert power_correlation(1e-9, n=30)["power"].iloc[0] == pytest.approx(0.05, abs=1e-6)


def test_fisher_z_textbook_formula():
    # §8a: ((z.975 + z.80) / atanh rho)^2 + 3 = 46.73 -> 47 (rho 0.4) and 84.93 -> 85 (rho 0.3)
    res = power_correlation(0.4, power=0.80, method="fisher_z").iloc[0]
    assert res["n"] == pytest.approx(46.73, abs=5e-3) and res["n_required"] == 47
    res = power_correlation(0.3, power=0.80, method="fisher_z").iloc[0]
    assert res["n"] == pytest.approx(84.93, abs=5e-3) and res["n_required"] == 85


def test_cohen_pwr_r_test():
    # §8a: pwr.r.test(r = 0.3, power = 0.8): n = 84.07364; r = 0.3, n = 50: power = 0.5715558;
    # r = 0.4: 45.916 -> 46
    assert power_correlation(0.3, power=0.8, method="cohen")["n"].iloc[0] == pytest.approx(
        84.07364, abs=UNIROOT_TOL
    )
    assert power_correlation(0.3, n=50, method="cohen")["power"].iloc[0] == pytest.approx(
        0.5715558, abs=5e-8
    )
    res = power_correlation(0.4, power=0.8, method="cohen").iloc[0]
    assert res["n"] == pytest.approx(45.916, abs=5e-4) and res["n_required"] == 46


def test_two_means_r_power_t_test():
    # §8b: power.t.test(n = 20, delta = 1): power = 0.8689528 (one tail, strict = FALSE)
    upper = power_two_means(delta=1, n=20, two_sided_tails="upper")
    assert upper["power"].iloc[0] == pytest.approx(0.8689528, abs=5e-8)
    # power.t.test(power = .90, delta = 1): n = 22.0211; one-sided: n = 17.84713
    n2 = power_two_means(delta=1, power=0.9, two_sided_tails="upper")["n_group1"].iloc[0]
    assert n2 == pytest.approx(22.0211, abs=UNIROOT_TOL)
    n1 = power_two_means(delta=1, power=0.9, sided="one-sided")["n_group1"].iloc[0]
    assert n1 == pytest.approx(17.84713, abs=UNIROOT_TOL)


def test_two_means_pwr_t_test():
    # §8b: pwr.t.test(d = 0.5, power = 0.8): n = 63.76561 -> 64 per group, power at 64 = 0.801460;
    # d = 0.8: n = 25.52458
    res = power_two_means(delta=0.5, power=0.8).iloc[0]
    assert res["n_group1"] == pytest.approx(63.76561, abs=UNIROOT_TOL)
    assert res["n_required_group1"] == 64
    assert res["power_at_required"] == pytest.approx(0.801460, abs=5e-7)
    assert power_two_means(delta=0.8, power=0.8)["n_group1"].iloc[0] == pytest.approx(
        25.52458, abs=UNIROOT_TOL
    )


def test_noninferiority_equals_shifted_one_sided_t_test():
    # H0: new - ref <= -margin is a one-sided t test of a shift of (difference + margin): with
    # margin 1 SD, no true difference, alpha 0.05 and 90% power it needs the 17.84713 per group
    # of power.t.test(power = .90, delta = 1, alternative = "one.sided") (§8b)
    res = power_noninferiority(margin=1, sd=1, power=0.9, alpha=0.05).iloc[0]
    assert res["n_group1"] == pytest.approx(17.84713, abs=UNIROOT_TOL)
    assert res["n_required_group1"] == 18


def test_arguments_are_checked():
    with pytest.raises(ValidationError, match="exactly one"):
        power_correlation(0.4)
    with pytest.raises(ValidationError, match="margin"):
        power_noninferiority(margin=-1, sd=1, power=0.8)
