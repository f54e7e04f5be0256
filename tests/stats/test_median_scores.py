"""Mood's median test with SAS NPAR1WAY median scores (ties averaged) against R coin's
independence_test of the same scores (r/median_scores.R), on tied data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rheumetrics import stats as st
from rheumetrics.errors import ValidationError

DATA = json.loads((Path(__file__).parent / "data" / "median_scores_r.json").read_text())["cases"]


@pytest.mark.parametrize("k", range(len(DATA)))
def test_sas_median_scores_match_coin(k: int) -> None:
    case = DATA[k]
    frame = pd.DataFrame({"x": case["x"], "g": case["g"]})
    res = st.median_test(data=frame, value="x", group="g", variant="permutation", ties="mean")
    row = res.iloc[0]
    assert row["stat"] == pytest.approx(case["stat"], rel=1e-10, abs=1e-12)
    assert row["p"] == pytest.approx(case["p"], rel=1e-10, abs=1e-14)
    sums = [row[f"above_{g}"] for g in sorted(set(case["g"]))]
    np.testing.assert_allclose(sums, case["score_sums"], rtol=1e-12)
    assert res.attrs["conventions"]["ties"] == "mean"


def test_averaged_ties_differ_from_ties_below_only_when_a_run_straddles_the_median() -> None:
    differ = 0
    for case in DATA:
        frame = pd.DataFrame({"x": case["x"], "g": case["g"]})
        mean = st.median_test(data=frame, value="x", group="g", variant="permutation", ties="mean")
        below = st.median_test(data=frame, value="x", group="g", variant="permutation")
        x = np.sort(np.asarray(case["x"], dtype=float))
        n = x.size
        # the run of ties at the median straddles (n + 1) / 2 when values on both sides are equal
        straddles = x[int(np.floor((n + 1) / 2)) - 1] == x[int(np.floor((n + 1) / 2))]
        if not straddles:
            assert mean["p"].iloc[0] == pytest.approx(below["p"].iloc[0], rel=1e-12)
        differ += int(abs(mean["p"].iloc[0] - below["p"].iloc[0]) > 1e-9)
    assert differ >= 10  # the R cases exercise the tied median


def test_mean_ties_need_the_permutation_variant() -> None:
    with pytest.raises(ValidationError, match="permutation"):
        st.median_test([1, 2, 3], [2, 3, 4], variant="pearson", ties="mean")
