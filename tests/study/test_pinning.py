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
