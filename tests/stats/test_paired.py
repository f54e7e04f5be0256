"""Wilcoxon signed-rank test against published results (stats-reference.md §3)."""

import numpy as np
import pytest

from rheumetrics.errors import ValidationError
from rheumetrics.stats import wilcoxon_signed_rank

# Hollander & Wolfe (1973, p. 29f), Hamilton depression scale (stats-reference.md §3a)
FIRST = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
SECOND = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]

# coin regtest_2sample "ties handling" (stats-reference.md §3b): one zero, ties at |d| = 3 and 5
Y1 = [14, 18, 2, 4, -5, 14, -3, -1, 1, 6, 3, 3]
X1 = [8, 26, -7, -1, 2, 9, 0, -4, 13, 3, 3, 4]


def test_exact_greater_hollander_wolfe():
    # wilcox.test(x, y, paired = TRUE, alternative = "greater"): V = 40, p = 0.01953
    res = wilcoxon_signed_rank(FIRST, SECOND, alternative="greater").iloc[0]
    assert res["stat"] == 40
    assert res["p"] == pytest.approx(0.01953, abs=5e-6)
    assert res["method"] == "exact"


def test_exact_two_sided_hollander_wolfe():
    # wilcox.test(change ~ 1): V = 5, p = 0.03906
    res = wilcoxon_signed_rank(np.subtract(SECOND, FIRST)).iloc[0]
    assert res["stat"] == 5
    assert res["p"] == pytest.approx(0.03906, abs=5e-6)


def test_asymptotic_without_correction_hollander_wolfe():
    # wilcox.test(y - x, alternative = "less", exact = FALSE, correct = FALSE): p = 0.01908
    diff = np.subtract(SECOND, FIRST)
    res = wilcoxon_signed_rank(diff, alternative="less", method="asymptotic").iloc[0]
    assert res["p"] == pytest.approx(0.01908, abs=5e-6)
    assert res.name == 0 and res["method"] == "normal approximation"


@pytest.mark.parametrize(
    ("zero_method", "expected"),
    [("wilcox", 0.4741211), ("pratt", 0.4609375)],  # coin, exact, alternative = "greater"
)
def test_exact_with_zeros_and_ties_matches_coin(zero_method, expected):
    res = wilcoxon_signed_rank(Y1, X1, alternative="greater", zero_method=zero_method).iloc[0]
    assert res["p"] == pytest.approx(expected, abs=5e-8)
    assert res["n_zero"] == 1
    assert res["method"] == "exact"


def test_pratt_asymptotic_cureton_variance():
    # stats-reference.md §3b: T+ = 40, E = 38.5, Var = 161.625, z = 0.117988, p = 0.453039
    res = wilcoxon_signed_rank(
        Y1, X1, alternative="greater", zero_method="pratt", method="asymptotic"
    )
    row = res.iloc[0]
    assert row["stat"] == 40
    assert row["z"] == pytest.approx((40 - 38.5) / np.sqrt(161.625))
    assert row["p"] == pytest.approx(0.453039, abs=5e-7)
    assert res.attrs["conventions"]["zero_method"] == "pratt"


def test_missing_pairs_are_an_error_unless_dropped():
    with pytest.raises(ValidationError, match="missing"):
        wilcoxon_signed_rank([1.0, 2.0, None], [0.5, 1.0, 1.0])
    res = wilcoxon_signed_rank([1.0, 2.0, None, 4.0], [0.5, 1.0, 1.0, 3.0], missing="drop")
    assert res["n"].iloc[0] == 3 and res["n_dropped"].iloc[0] == 1
