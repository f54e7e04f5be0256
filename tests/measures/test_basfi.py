"""BASFI: the mean of ten 0-10 items (Calin 1994; clinical-measures.md §10.3)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rheumetrics.errors import ValidationError
from rheumetrics.measures.basfi import BASFI_ITEMS, basfi
from rheumetrics.measures.panel import score_frame


@pytest.mark.parametrize(
    ("items", "expected", "source"),
    [
        # awell-score BASFI test vectors (min, median, max and its "random" response = 4.6)
        ([0] * 10, 0.0, "awell-score basfi min_response"),
        ([5] * 10, 5.0, "awell-score basfi median_response"),
        ([10] * 10, 10.0, "awell-score basfi max_response"),
        ([1, 10, 2, 10, 0, 4, 5, 7, 6, 1], 4.6, "awell-score basfi random_response"),
    ],
)
def test_basfi_published_vectors(items, expected, source):
    assert basfi(*items) == pytest.approx(expected), source


def test_each_item_weighs_one_tenth():
    # §10.3: BASFI = mean of the 10 items, so every item has the same weight.
    for i in range(10):
        items = [0.0] * 10
        items[i] = 1.0
        assert basfi(*items) == pytest.approx(0.1)


def test_no_categories_and_one_decimal_display():
    assert basfi.cutoffs is None
    assert basfi.display(4.65) == 4.7  # half-up display rounding, 1 dp
    with pytest.raises(ValueError, match="no categories"):
        basfi.category(4.6)


def test_every_bad_item_reported():
    with pytest.raises(ValidationError) as err:
        basfi(11, *([5] * 8), -0.5)
    assert {p.field for p in err.value.problems} == {"basfi_q1", "basfi_q10"}


def test_score_frame_and_missing_item():
    visits = pd.DataFrame({name: [5.0, 5.0] for name in BASFI_ITEMS})
    visits.loc[1, "basfi_q7"] = np.nan
    with pytest.raises(ValidationError, match="basfi_q7"):
        score_frame(visits)
    out = score_frame(visits, lenient=True)
    assert out["basfi"].iloc[0] == 5.0 and np.isnan(out["basfi"].iloc[1])
    assert "basfi_q7 missing" in out["basfi_reason"].iloc[1]


item = st.floats(0, 10)


@given(st.lists(item, min_size=10, max_size=10), st.integers(0, 9), st.floats(0, 10))
def test_range_and_monotone(items, pos, bump):
    value = basfi(*items)
    assert 0 <= value <= 10 + 1e-12
    more = list(items)
    more[pos] = min(10.0, more[pos] + bump)
    assert basfi(*more) >= value


@given(st.lists(st.lists(item, min_size=10, max_size=10), min_size=1, max_size=20))
def test_vectorised_equals_scalar(rows):
    cols = [np.array(c) for c in zip(*rows, strict=True)]
    vec = basfi(*cols)
    for i, r in enumerate(rows):
        assert vec[i] == basfi(*r)
