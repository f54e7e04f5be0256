"""Sample size and power: correlation, two-group means, non-inferiority.

Give either ``n`` (to get the power) or ``power`` (to get the sample size); the result row
holds both, the real-valued n and the whole number to recruit (rounded up).

Correlation (``power_correlation``), H0: rho = 0, test of the sample r with critical value from
t(n-2):

- ``"exact"``: the exact distribution of r under a bivariate normal with correlation rho
  (Fisher 1915; Hotelling 1953, the 2F1 form of the density), as G*Power's "Exact - Correlation:
  bivariate normal model". The smallest whole n reaching the power is returned.
- ``"fisher_z"``: the textbook normal approximation n = ((z_a + z_b) / atanh rho)^2 + 3.
- ``"cohen"``: Cohen (1988) as R ``pwr.r.test``: z' = atanh(rho) + rho / (2(n-1)) against the
  critical r from t(n-2).

For rho = 0.4, two-sided alpha 0.05 and 80% power these give 46, 47 and 46 (45.9); the NZ
study's "46 patients" is the exact answer.

Means (``power_two_means``, ``power_noninferiority``) use the noncentral t distribution
(as G*Power, R ``power.t.test`` and ``pwr``) or, with ``method="z"``, the normal approximation
(Julious 2004).
"""

from __future__ import annotations

import math
from typing import Literal

import pandas as pd
from scipy import integrate, optimize, special, stats

from rheumetrics.errors import ProblemCollector
from rheumetrics.stats._common import check_choice, check_range, result_frame

CorrelationMethod = Literal["exact", "fisher_z", "cohen"]
Sided = Literal["two-sided", "one-sided"]

__all__ = [
    "correlation_power_exact",
    "power_correlation",
    "power_noninferiority",
    "power_two_means",
]


def _one_of(n: float | None, power: float | None) -> None:
    problems = ProblemCollector("power arguments")
    if (n is None) == (power is None):
        problems.add("-", "n/power", (n, power), "give exactly one of n and power")
    problems.raise_if_any()
    if power is not None:
        check_range("power", power, 0.0, 1.0)


def _nonzero(name: str, value: float) -> None:
    if value == 0:
        problems = ProblemCollector("power arguments")
        problems.add("-", name, value, "the effect must be non-zero (power equals alpha under H0)")
        problems.raise_if_any()


def _r_density(r: float, rho: float, n: int) -> float:
    """Density of the sample correlation of n bivariate-normal pairs (Hotelling 1953 eq. 30)."""
    log_f = (
        math.log(n - 2)
        + special.gammaln(n - 1)
        + (n - 1) / 2 * math.log1p(-rho * rho)
        + (n - 4) / 2 * math.log1p(-r * r)
        - 0.5 * math.log(2 * math.pi)
        - special.gammaln(n - 0.5)
        - (n - 1.5) * math.log1p(-rho * r)
    )
    return math.exp(log_f) * special.hyp2f1(0.5, 0.5, n - 0.5, (1 + rho * r) / 2)


def _critical_r(n: int | float, alpha: float, sided: str) -> float:
    t = stats.t.ppf(1 - (alpha / 2 if sided == "two-sided" else alpha), n - 2)
    return float(t / math.sqrt(t * t + n - 2))


def correlation_power_exact(
    rho: float, n: int, alpha: float = 0.05, sided: Sided = "two-sided"
) -> float:
    """Exact power of the test of rho = 0 for a true correlation ``rho`` with ``n`` pairs."""
    rc = _critical_r(n, alpha, sided)
    rho_abs = abs(rho)  # by symmetry; one-sided power is taken in the direction of the effect
    upper = integrate.quad(
        _r_density, rc, 1.0, args=(rho_abs, n), epsabs=1e-13, epsrel=1e-11, limit=200
    )[0]
    if sided == "one-sided":
        return upper
    lower = integrate.quad(
        _r_density, -1.0, -rc, args=(rho_abs, n), epsabs=1e-13, epsrel=1e-11, limit=200
    )[0]
    return upper + lower


def _power_fisher(rho: float, n: float, alpha: float, sided: str) -> float:
    z = abs(math.atanh(rho)) * math.sqrt(n - 3)
    if sided == "one-sided":
        return float(stats.norm.cdf(z - stats.norm.ppf(1 - alpha)))
    q = stats.norm.ppf(1 - alpha / 2)
    return float(stats.norm.cdf(z - q) + stats.norm.cdf(-z - q))


def _power_cohen(rho: float, n: float, alpha: float, sided: str) -> float:
    rho = abs(rho)
    zr = math.atanh(rho) + rho / (2 * (n - 1))
    zrc = math.atanh(_critical_r(n, alpha, sided))
    if sided == "one-sided":
        return float(stats.norm.cdf((zr - zrc) * math.sqrt(n - 3)))
    return float(
        stats.norm.cdf((zr - zrc) * math.sqrt(n - 3))
        + stats.norm.cdf((-zr - zrc) * math.sqrt(n - 3))
    )


def power_correlation(
    rho: float,
    *,
    n: int | None = None,
    power: float | None = None,
    alpha: float = 0.05,
    sided: Sided = "two-sided",
    method: CorrelationMethod = "exact",
) -> pd.DataFrame:
    """Power of, or sample size for, the test that a correlation is zero (see module docstring).

    Returns one row: method, rho, alpha, sided, n (real-valued for the approximations, whole
    for exact), n_required (whole, rounded up), power (achieved at n_required), critical_r.
    """
    check_choice("method", method, ("exact", "fisher_z", "cohen"))
    check_choice("sided", sided, ("two-sided", "one-sided"))
    check_range("rho", rho, -1.0, 1.0)
    check_range("alpha", alpha, 0.0, 1.0)
    _one_of(n, power)
    _nonzero("rho", rho)
    funcs = {
        "exact": lambda m: correlation_power_exact(rho, int(m), alpha, sided),
        "fisher_z": lambda m: _power_fisher(rho, m, alpha, sided),
        "cohen": lambda m: _power_cohen(rho, m, alpha, sided),
    }
    func = funcs[method]
    if n is not None:
        check_range("n", n, 4.0, math.inf, inclusive=True)
        n_real: float = float(n)
        n_req = int(n)
    else:
        assert power is not None
        z_a = stats.norm.ppf(1 - (alpha / 2 if sided == "two-sided" else alpha))
        approx = ((z_a + stats.norm.ppf(power)) / math.atanh(abs(rho))) ** 2 + 3
        if method == "fisher_z":
            n_real = float(approx)
        elif method == "cohen":
            n_real = float(
                optimize.brentq(lambda m: func(m) - power, 4.0 + 1e-9, 10 * approx + 50, xtol=1e-10)
            )
        else:
            m = max(4, math.floor(approx) - 3)
            while func(m) < power:
                m += 1
            while m > 4 and func(m - 1) >= power:
                m -= 1
            n_real = float(m)
        n_req = math.ceil(n_real - 1e-9)
    return result_frame(
        {
            "method": method,
            "rho": rho,
            "alpha": alpha,
            "sided": sided,
            "n": n_real,
            "n_required": n_req,
            "power": float(func(n_req)),
            "critical_r": _critical_r(n_req, alpha, sided),
        },
        {
            "test": "H0: rho = 0",
            "method": method,
            "critical_value": "t(n-2)" if method != "fisher_z" else "normal",
        },
    )


def _t_power(ncp: float, df: float, alpha: float, sided: str, tails: str) -> float:
    if sided == "one-sided":
        return float(stats.nct.sf(stats.t.ppf(1 - alpha, df), df, ncp))
    crit = stats.t.ppf(1 - alpha / 2, df)
    upper = stats.nct.sf(crit, df, ncp)
    # P(T' < -crit | ncp) = P(T' > crit | -ncp); scipy's cdf returns NaN far in the tail
    return float(upper + (stats.nct.sf(crit, df, -ncp) if tails == "both" else 0.0))


def _z_power(shift: float, alpha: float, sided: str, tails: str) -> float:
    if sided == "one-sided":
        return float(stats.norm.cdf(shift - stats.norm.ppf(1 - alpha)))
    q = stats.norm.ppf(1 - alpha / 2)
    return float(
        stats.norm.cdf(shift - q) + (stats.norm.cdf(-shift - q) if tails == "both" else 0.0)
    )


def _solve_means(
    effect: float,
    n: float | None,
    power: float | None,
    alpha: float,
    sided: str,
    ratio: float,
    method: str,
    tails: str,
) -> tuple[float, float, float]:
    """Return (n per control group, n treatment, power); effect is in SD units."""

    def pw(n1: float) -> float:
        n2 = ratio * n1
        scale = math.sqrt(n1 * n2 / (n1 + n2))
        if method == "z":
            return _z_power(effect * scale, alpha, sided, tails)
        return _t_power(effect * scale, n1 + n2 - 2, alpha, sided, tails)

    if n is not None:
        return float(n), ratio * float(n), pw(float(n))
    assert power is not None
    low = 2.0 / ratio + 1e-6 if method == "t" else 1e-6
    z = stats.norm.ppf(1 - (alpha / 2 if sided == "two-sided" else alpha)) + stats.norm.ppf(power)
    high = 10 * (1 + 1 / ratio) * (z / effect) ** 2 + 10
    n1 = float(optimize.brentq(lambda m: pw(m) - power, low, high, xtol=1e-10))
    return n1, ratio * n1, power


def power_two_means(
    *,
    delta: float,
    sd: float = 1.0,
    n: float | None = None,
    power: float | None = None,
    alpha: float = 0.05,
    sided: Sided = "two-sided",
    ratio: float = 1.0,
    method: Literal["t", "z"] = "t",
    two_sided_tails: Literal["both", "upper"] = "both",
) -> pd.DataFrame:
    """Power of, or sample size for, a two-sample t test of a difference ``delta`` (SD ``sd``).

    ``n`` is the size of the first group; the second has ``ratio * n``. ``two_sided_tails``:
    ``"both"`` counts rejections in either tail (G*Power, ``pwr``, statsmodels); ``"upper"`` only
    in the direction of the effect, as R ``power.t.test`` (``strict = FALSE``, its default).
    """
    check_choice("sided", sided, ("two-sided", "one-sided"))
    check_choice("method", method, ("t", "z"))
    check_choice("two_sided_tails", two_sided_tails, ("both", "upper"))
    check_range("alpha", alpha, 0.0, 1.0)
    check_range("sd", sd, 0.0, math.inf)
    check_range("ratio", ratio, 0.0, math.inf)
    _one_of(n, power)
    _nonzero("delta", delta)
    effect = abs(delta) / sd
    n1, n2, achieved = _solve_means(effect, n, power, alpha, sided, ratio, method, two_sided_tails)
    n1_req = math.ceil(n1 - 1e-9)
    n2_req = math.ceil(ratio * n1_req - 1e-9)
    return result_frame(
        {
            "delta": delta,
            "sd": sd,
            "effect_size_d": effect,
            "alpha": alpha,
            "sided": sided,
            "n_group1": n1,
            "n_group2": n2,
            "n_required_group1": n1_req,
            "n_required_group2": n2_req,
            "power": achieved,
            "power_at_required": _solve_means(
                effect, n1_req, None, alpha, sided, ratio, method, two_sided_tails
            )[2],
        },
        {
            "test": "two-sample t" if method == "t" else "two-sample z",
            "two_sided_tails": two_sided_tails,
        },
    )


def power_noninferiority(
    *,
    margin: float,
    sd: float,
    difference: float = 0.0,
    n: float | None = None,
    power: float | None = None,
    alpha: float = 0.025,
    ratio: float = 1.0,
    method: Literal["t", "z"] = "t",
) -> pd.DataFrame:
    """Non-inferiority of a new treatment on a mean outcome (higher = better).

    H0: mu_new - mu_ref <= -margin against H1: > -margin, one-sided at ``alpha`` (default
    0.025, the ICH E9 convention for a one-sided test). ``difference`` is the true mu_new - mu_ref
    assumed for the power. With ``method="t"`` the power is that of a one-sided two-sample t test
    of the shifted hypothesis (noncentral t, ncp = (difference + margin) / (sd sqrt(1/n1 + 1/n2)));
    ``method="z"`` gives n = (z_{1-alpha} + z_{1-beta})^2 sd^2 (1 + 1/ratio) / (difference +
    margin)^2 (Julious 2004; Chow, Shao & Wang 2008 §3.2).
    """
    check_range("margin", margin, 0.0, math.inf)
    check_range("sd", sd, 0.0, math.inf)
    check_range("alpha", alpha, 0.0, 1.0)
    check_range("ratio", ratio, 0.0, math.inf)
    check_choice("method", method, ("t", "z"))
    _one_of(n, power)
    shift = difference + margin
    if shift <= 0:
        check_range("difference + margin", shift, 0.0, math.inf)
    n1, n2, achieved = _solve_means(
        shift / sd, n, power, alpha, "one-sided", ratio, method, "upper"
    )
    n1_req = math.ceil(n1 - 1e-9)
    return result_frame(
        {
            "margin": margin,
            "difference": difference,
            "sd": sd,
            "alpha": alpha,
            "n_group1": n1,
            "n_group2": n2,
            "n_required_group1": n1_req,
            "n_required_group2": math.ceil(ratio * n1_req - 1e-9),
            "power": achieved,
        },
        {"hypothesis": "H0: new - reference <= -margin (one-sided)", "method": method},
    )
