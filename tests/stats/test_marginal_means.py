"""Adjusted (least-squares) means against base R on simulated data (r/adjusted_means.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rheumetrics import stats as st
from rheumetrics.errors import ValidationError

CASES = json.loads((Path(__file__).parent / "data" / "adjusted_means_r.json").read_text())["cases"]


def _fit(case: dict, weights: str) -> pd.DataFrame:
    data = pd.DataFrame(case["data"]).reindex(columns=["y", "g", "f", "x1", "x2"])
    return st.adjusted_means(data, "y", "g", ["x1", "x2"], ["f"], weights=weights,  # type: ignore[arg-type]
                             confidence=case["conf"], missing="drop")  # fmt: skip


@pytest.mark.parametrize("k", range(len(CASES)))
@pytest.mark.parametrize("weights", ["equal", "proportional"])
def test_adjusted_means_match_r(k: int, weights: str) -> None:
    case = CASES[k]
    got = _fit(case, weights)
    means = got[got["kind"] == "adjusted mean"].set_index("level")
    want = pd.DataFrame(case["result"]["means"][weights]).set_index("level")
    assert sorted(means.index) == sorted(want.index)
    for col in ("estimate", "se", "ci_low", "ci_high"):
        np.testing.assert_allclose(means.loc[want.index, col], want[col], rtol=1e-9, atol=1e-10)
    assert means.loc[want.index, "n"].tolist() == want["n"].tolist()
    assert (got["df"] == case["result"]["df"]).all()


@pytest.mark.parametrize("k", range(len(CASES)))
def test_adjusted_differences_match_r(k: int) -> None:
    case = CASES[k]
    for weights in ("equal", "proportional"):  # the difference does not depend on the grid
        got = _fit(case, weights)
        diff = got[got["kind"] == "difference"].set_index("level")
        want = pd.DataFrame(case["result"]["differences"]).set_index("level")
        for col in ("estimate", "se", "stat", "p", "ci_low", "ci_high"):
            np.testing.assert_allclose(diff.loc[want.index, col], want[col], rtol=1e-9, atol=1e-12)


def test_grouping_must_be_categorical() -> None:
    data = pd.DataFrame({"y": [1.0, 2, 3, 4, 5], "g": [1, 2, 1, 2, 1], "x": [1, 5, 2, 3, 4]})
    with pytest.raises(ValidationError, match="categorical"):
        st.adjusted_means(data, "y", "g", "x")


def test_weights_must_be_named() -> None:
    data = pd.DataFrame({"y": [1.0, 2, 3, 4], "g": ["a", "b", "a", "b"], "x": [1, 5, 2, 3]})
    with pytest.raises(ValidationError, match="weights"):
        st.adjusted_means(data, "y", "g", "x", weights="balanced")  # type: ignore[arg-type]
