"""The order-statistic construction behind the synthetic example prints the figures it is given."""

from __future__ import annotations

import numpy as np
import pytest
from pinning import Summary, median_pair, pin_groups

from rheumetrics.numeric import round_display


def test_median_pair_on_a_grid() -> None:
    # HAQ-DI moves in eighths: a median printed 1.06 over 84 values is (1 + 1.125) / 2
    assert median_pair(1.06, 84, 0.125, 2) == (1.0, 1.125)
    assert median_pair(0.88, 57, 0.125, 2) == (0.875, 0.875)
    assert median_pair(5.5, 42, 1.0, 1) == (5.0, 6.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pinned_groups_print_the_published_figures(seed: int) -> None:
    # seed 001 Table 2, HAQ at Visit 1: A 0.88 (0, 2.13), B 1.38 (0.13, 2.5), all 1.06
    groups = {"A": Summary(57, 0.88, 0, 2.13), "B": Summary(27, 1.38, 0.13, 2.5)}
    pins = pin_groups(np.random.default_rng(seed), groups, 1.06, step=0.125, digits=2)
    for g, s in groups.items():
        v = pins[g].values
        assert v.size == s.n
        shown = [float(round_display(x, 2)) for x in (np.median(v), v.min(), v.max())]
        assert shown == [s.median, s.low, s.high]
        assert np.all((pins[g].lo <= v) & (v <= pins[g].hi))
        assert np.all(np.isclose(v / 0.125, np.round(v / 0.125)))
    both = np.concatenate([pins["A"].values, pins["B"].values])
    assert float(round_display(np.median(both), 2)) == 1.06


def test_generator_median_test_p_is_the_statistic_of_the_report() -> None:
    from pinning import median_test_p

    from rheumetrics import stats as st

    rng = np.random.default_rng(4)
    for _ in range(50):
        a = rng.integers(0, 9, int(rng.integers(5, 50))).astype(float)
        b = rng.integers(0, 12, int(rng.integers(5, 30))).astype(float)
        want = st.median_test(a, b, variant="permutation", ties="mean")["p"].iloc[0]
        assert median_test_p(a, b) == pytest.approx(want, rel=1e-12)


def test_pins_can_be_searched_for_a_published_p_value() -> None:
    from pinning import median_test_p, p_cost

    # seed 001 Table 1, disease duration (months): A 30 (3, 408), B 72 (15, 240), all 36, p 0.0014
    groups = {"A": Summary(57, 30, 3, 408), "B": Summary(23, 72, 15, 240)}

    def accept(p: dict) -> float:
        return p_cost(median_test_p(p["A"].values, p["B"].values), 0.0014, 4)

    pins = pin_groups(np.random.default_rng(0), groups, 36, step=1.0, digits=1, accept=accept)
    p = median_test_p(pins["A"].values, pins["B"].values)
    assert float(round_display(p, 4)) == 0.0014
    both = np.concatenate([pins["A"].values, pins["B"].values])
    assert float(np.median(both)) == 36 and float(np.median(pins["B"].values)) == 72


def test_split_median_leaves_no_tie_across_the_overall_median() -> None:
    groups = {"A": Summary(57, 424, 324, 604), "B": Summary(27, 515, 336, 664)}
    pins = pin_groups(np.random.default_rng(1), groups, 450, step=1.0, digits=1, split_median=True)
    both = np.sort(np.concatenate([pins["A"].values, pins["B"].values]))
    assert both[41] < both[42] and float(np.median(both)) == 450


def test_anneal_never_loses_a_kept_figure() -> None:
    from pinning import Term, Variable, anneal

    # five records of one group holding 0..4: a kept figure (record 0 holds 0) and a searched
    # one (records 0, 1 and 3 sum to 7, met also by moves that would lose the kept figure)
    x = np.arange(5, dtype=float)
    var = Variable(x.copy(), x.copy(), x.copy(), 1.0, [np.arange(5)])
    state = {"x": var.values}
    kept = Term("kept", ("x",), lambda st: abs(float(st["x"][0])))
    searched = Term("searched", ("x",), lambda st: abs(float(st["x"][[0, 1, 3]].sum()) - 7))
    for seed in range(5):
        left = anneal({"x": var}, [searched], np.random.default_rng(seed), iterations=2_000,
                      keep=[kept])  # fmt: skip
        assert left == 0 and state["x"][0] == 0 and state["x"][[1, 3]].sum() == 7
        assert sorted(state["x"]) == [0, 1, 2, 3, 4]  # values exchanged, never changed
        var.values[:] = np.arange(5.0)  # a fresh start for the next seed
