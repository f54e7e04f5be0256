"""Prediction intervals and subgroup-difference tests against R metafor 3.8
(values from r/meta_subgroups.R, stored in data/meta_subgroups_r.json)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rheumetrics.errors import ValidationError
from rheumetrics.stats import meta_analysis
from rheumetrics.stats.meta_subgroups import subgroup_differences

R = json.loads((Path(__file__).parent / "data" / "meta_subgroups_r.json").read_text())
CASES = [(name, model) for name in ("axspa", "bcg") for model in R[name]["models"]]


def _ref(name: str, model: str) -> tuple[dict, dict]:
    return R[name], R[name]["models"][model]


@pytest.mark.parametrize(("name", "model"), CASES)
def test_prediction_intervals_match_metafor_predict(name, model):
    data, ref = _ref(name, model)
    kwargs = {"method": ref["method"], "knapp_hartung": ref["knapp_hartung"]}
    default = meta_analysis(data["yi"], data["vi"], **kwargs).iloc[0]
    assert default["estimate"] == pytest.approx(ref["overall"]["estimate"], rel=1e-8)
    assert [default["pi_low"], default["pi_high"]] == pytest.approx(
        ref["overall"]["pi_metafor"], rel=1e-8
    )
    higgins = meta_analysis(data["yi"], data["vi"], prediction="higgins", **kwargs).iloc[0]
    assert [higgins["pi_low"], higgins["pi_high"]] == pytest.approx(
        ref["overall"]["pi_higgins"], rel=1e-8
    )


@pytest.mark.parametrize(("name", "model"), CASES)
def test_subgroup_prediction_intervals_match_metafor(name, model):
    data, ref = _ref(name, model)
    groups = np.array(data["subgroup"])
    for level, sub in ref["subgroups"].items():
        inside = groups == level
        if sub["k"] < 2:
            continue
        res = meta_analysis(np.array(data["yi"])[inside], np.array(data["vi"])[inside],
                            method=ref["method"], knapp_hartung=ref["knapp_hartung"]).iloc[0]  # fmt: skip
        assert [res["pi_low"], res["pi_high"]] == pytest.approx(sub["pi_metafor"], rel=1e-8)


def test_metafor_interval_small_subgroup_and_tau2_zero():
    # the k = 3 subgroup "ASspiMRI-a, 2 years" of the review: metafor's PI -5.08 to 1.11
    # (Higgins t(1) gave -22 to 18)
    data, ref = _ref("axspa", "REML_z")
    sub = ref["subgroups"]["ASspiMRI-a, 2 years"]
    inside = np.array(data["subgroup"]) == "ASspiMRI-a, 2 years"
    res = meta_analysis(np.array(data["yi"])[inside], np.array(data["vi"])[inside]).iloc[0]
    assert [res["pi_low"], res["pi_high"]] == pytest.approx([-5.08, 1.11], abs=5e-3)
    assert [res["pi_low"], res["pi_high"]] == pytest.approx(sub["pi_metafor"], rel=1e-8)
    homogeneous = meta_analysis([0.1, 0.11, 0.09], [0.04, 0.05, 0.06]).iloc[0]
    assert homogeneous["tau2"] == 0
    assert homogeneous["pi_low"] == pytest.approx(homogeneous["ci_low"])
    assert homogeneous["pi_high"] == pytest.approx(homogeneous["ci_high"])


@pytest.mark.parametrize(("name", "model"), CASES)
@pytest.mark.parametrize("test", ["q_between", "moderator"])
def test_subgroup_tests_match_metafor(name, model, test):
    data, ref = _ref(name, model)
    res = subgroup_differences(data["yi"], data["vi"], data["subgroup"], test=test,
                               method=ref["method"], knapp_hartung=ref["knapp_hartung"]).iloc[0]  # fmt: skip
    expected = ref[test]
    assert res["stat"] == pytest.approx(expected["stat"], rel=1e-8)
    assert res["df"] == expected["df"]
    assert res["p"] == pytest.approx(expected["p"], rel=1e-8)
    if test == "moderator":
        assert res["tau2"] == pytest.approx(expected["tau2"], rel=1e-7)
        if ref["knapp_hartung"]:
            assert res["df2"] == expected["df2"]
            assert res["method"] == "F approximation"
    assert res.name == 0 and res["test"] == test


def test_review_figures_q_between_and_moderator():
    # issue 14 review: Q = 9.96, p = 0.041 (RevMan style); metafor QM = 7.77, p = 0.100
    data = R["axspa"]
    q_frame = subgroup_differences(data["yi"], data["vi"], data["subgroup"])
    assert "RevMan" in q_frame.attrs["conventions"]["described_as"]
    q = q_frame.iloc[0]
    qm = subgroup_differences(data["yi"], data["vi"], data["subgroup"], test="moderator").iloc[0]
    assert (round(q["stat"], 2), round(q["p"], 3)) == (9.96, 0.041)
    assert (round(qm["stat"], 2), round(qm["p"], 3)) == (7.77, 0.100)


def test_subgroup_test_input_errors():
    with pytest.raises(ValidationError, match="two or more subgroups"):
        subgroup_differences([0.1, 0.2], [0.1, 0.1], ["a", "a"])
    with pytest.raises(ValidationError, match="one subgroup per study"):
        subgroup_differences([0.1, 0.2], [0.1, 0.1], ["a"])
    with pytest.raises(ValidationError, match="test"):
        subgroup_differences([0.1, 0.2], [0.1, 0.1], ["a", "b"], test="anova")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="needs more than"):
        subgroup_differences([0.1, 0.2], [0.1, 0.1], ["a", "b"], test="moderator")
