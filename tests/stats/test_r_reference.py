"""Exact tests and new methods against values computed by R (``r/stats_reference.R``).

The R script writes ``tests/stats/data/r_reference.json``; these tests only read it.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rheumetrics.stats import (
    cmh_test,
    delong_test,
    effect_sizes,
    fisher_exact,
    hodges_lehmann,
    logistic_regression,
    mann_whitney,
    mcnemar_test,
    mean_sd_from_quantiles,
    median_test,
    meta_analysis,
    spearman,
    wilcoxon_signed_rank,
)

R = json.loads((Path(__file__).parent / "data" / "r_reference.json").read_text())


def _array3(nested: list[Any]) -> np.ndarray:
    return np.array(nested, dtype=float).astype(np.int64)


def _num(value: Any) -> float:
    return float(value)  # JSON holds "Inf" for R's Inf


def test_exact_k_sample_median_test_corn_conover():
    ref = R["median_corn"]
    res = median_test(*ref["groups"], variant="exact").iloc[0]
    assert res["p"] == pytest.approx(ref["p_probability"], rel=1e-9)  # 0.000163
    assert res["stat"] == pytest.approx(ref["stat"], rel=1e-12)
    assert res["grand_median"] == ref["grand_median"]
    assert res["method"] == "exact"
    chisq = median_test(*ref["groups"], variant="exact", exact_ordering="chi-square").iloc[0]
    assert chisq["p"] == pytest.approx(ref["p_chisq"], rel=1e-9)


@pytest.mark.parametrize("case", R["median_two_sample_coin"])
def test_exact_two_sample_median_test_matches_coin(case):
    # coin median_test(distribution = "exact"): two-sided |T - E T| ordering = chi-square ordering
    res = median_test(case["x"], case["y"], variant="exact", exact_ordering="chi-square")
    assert res["p"].iloc[0] == pytest.approx(case["p"], rel=1e-7)


@pytest.mark.parametrize("case", R["fisher_rxc"])
def test_fisher_exact_r_by_c_matches_r_fisher_test(case):
    res = fisher_exact(case["table"]).iloc[0]
    assert res["p"] == pytest.approx(case["p"], rel=1e-7)
    assert res["method"] == "exact"
    assert fisher_exact(np.array(case["table"]).T)["p"].iloc[0] == pytest.approx(
        case["p"], rel=1e-7
    )


@pytest.mark.parametrize("case", R["fisher_rxc"] + R["fisher_rxc_large"])
def test_fisher_exact_r_by_c_within_1e_10_of_r(case):
    # the first large case is the 4 x 5 table (n = 126) of the issue-14 review
    assert fisher_exact(case["table"])["p"].iloc[0] == pytest.approx(case["p"], abs=1e-10)


def test_fisher_exact_r_by_c_large_set_covers_the_review_table():
    assert R["fisher_rxc_large"][0]["table"][0] == [4, 9, 6, 7, 10]
    assert len(R["fisher_rxc_large"]) >= 20


@pytest.mark.parametrize("name", ["rabbits", "small_delta", "random"])
def test_cmh_matches_r_mantelhaen_test(name):
    ref = R["cmh"][name]
    table = _array3(ref["table"])
    res = cmh_test(table).iloc[0]
    assert res["stat"] == pytest.approx(ref["stat"], rel=1e-9)
    assert res["p"] == pytest.approx(ref["p"], rel=1e-9)
    assert res["common_odds_ratio"] == pytest.approx(ref["mh_or"], rel=1e-9)
    assert [res["ci_low"], res["ci_high"]] == pytest.approx(ref["mh_ci"], rel=1e-7)
    plain = cmh_test(table, correction=False).iloc[0]
    assert plain["stat"] == pytest.approx(ref["stat_uncorrected"], rel=1e-9)


def test_cmh_continuity_correction_only_when_r_applies_it():
    # |sum(a - E a)| = 0.4 < 0.5: R leaves the statistic uncorrected (it used to become 0, p = 1)
    res = cmh_test(_array3(R["cmh"]["small_delta"]["table"]))
    assert res["stat"].iloc[0] == pytest.approx(R["cmh"]["small_delta"]["stat_uncorrected"])
    assert res.attrs["conventions"]["continuity_correction"] is False


@pytest.mark.parametrize("name", ["infinite_or", "no_information"])
def test_cmh_zero_cells_match_r_without_runtime_warnings(name):
    ref = R["cmh_zero_cells"][name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no divide-by-zero warning may escape
        res = cmh_test(_array3(ref["table"])).iloc[0]
    for ours, theirs in [(res["stat"], ref["stat"]), (res["p"], ref["p"]),
                         (res["common_odds_ratio"], ref["mh_or"]),
                         (res["ci_low"], ref["mh_ci"][0]), (res["ci_high"], ref["mh_ci"][1])]:  # fmt: skip
        if np.isnan(_num(theirs)):
            assert np.isnan(ours)
        else:
            assert ours == pytest.approx(_num(theirs), rel=1e-10)
    if name == "no_information":
        assert res["method"].startswith("not estimable")


@pytest.mark.parametrize("name", ["rabbits", "small_delta", "random"])
def test_exact_cmh_bounds_solve_their_equations_where_r_stops_early(name):
    # our conditional MLE solves E[S] = s and each CI bound puts exactly 2.5% in its tail;
    # R's uniroot (tol ~1.2e-4) stops nearby: on the rabbits table its upper bound 529.84 leaves
    # 2.5078% in the lower tail (docs/statistics.md)
    from rheumetrics.stats.contingency import _hypergeom_null

    ref = R["cmh"][name]
    arr = _array3(ref["table"])
    null, low = _hypergeom_null(arr)
    s, support = int(arr[0, 0, :].sum()) - low, np.arange(null.size)

    def density(psi: float) -> np.ndarray:
        d = np.log(np.where(null > 0, null, np.finfo(float).tiny)) + np.log(psi) * support
        d = np.exp(d - d.max())
        return d / d.sum()

    res = cmh_test(arr, exact=True).iloc[0]
    assert (support * density(res["common_odds_ratio"])).sum() == pytest.approx(s, abs=1e-9)
    assert density(res["ci_low"])[s:].sum() == pytest.approx(0.025, abs=1e-10)
    assert density(res["ci_high"])[: s + 1].sum() == pytest.approx(0.025, abs=1e-10)
    r_tails = [density(_num(ref["exact_ci"][0]))[s:].sum(),
               density(_num(ref["exact_ci"][1]))[: s + 1].sum()]  # fmt: skip
    assert r_tails == pytest.approx([0.025, 0.025], abs=1e-4)


def _close_ratio(ours: float, r_value: float) -> bool:
    # R's uniroot() stops at tol = 1.2e-4 on the root in (0, 1) (the ratio or its reciprocal)
    if np.isinf(r_value) or r_value == 0:
        return ours == r_value
    scale = min(r_value, 1 / r_value)
    return abs(min(ours, 1 / ours) - scale) < 2e-4 if r_value > 1 else abs(ours - r_value) < 2e-4


@pytest.mark.parametrize("name", ["rabbits", "small_delta", "random"])
def test_exact_conditional_cmh_matches_r(name):
    ref = R["cmh"][name]
    table = _array3(ref["table"])
    res = cmh_test(table, exact=True).iloc[0]
    assert res["method"] == "exact"
    assert res["p"] == pytest.approx(ref["exact_p"], rel=1e-9)
    assert _close_ratio(res["common_odds_ratio"], ref["exact_or"])
    assert _close_ratio(res["ci_low"], ref["exact_ci"][0])
    assert _close_ratio(res["ci_high"], ref["exact_ci"][1])
    less = cmh_test(table, exact=True, alternative="less").iloc[0]
    greater = cmh_test(table, exact=True, alternative="greater").iloc[0]
    assert less["p"] == pytest.approx(ref["exact_p_less"], rel=1e-9)
    assert greater["p"] == pytest.approx(ref["exact_p_greater"], rel=1e-9)
    assert _close_ratio(less["ci_high"], _num(ref["exact_ci_less"][1]))
    assert _close_ratio(greater["ci_low"], _num(ref["exact_ci_greater"][0]))
    assert greater["ci_high"] == np.inf and less["ci_low"] == 0


@pytest.mark.parametrize("case", R["mcnemar"])
def test_mcnemar_matches_r(case):
    res = mcnemar_test(case["table"]).iloc[0]
    assert res["stat"] == pytest.approx(case["stat"], rel=1e-9)
    assert res["df"] == case["df"]
    assert res["p"] == pytest.approx(case["p"], rel=1e-9)
    plain = mcnemar_test(case["table"], correction=False).iloc[0]
    assert plain["stat"] == pytest.approx(case["stat_uncorrected"], rel=1e-9)
    if "exact_p" in case:
        exact = mcnemar_test(case["table"], method="exact").iloc[0]
        assert exact["p"] == pytest.approx(case["exact_p"], rel=1e-9)
        assert [exact["ci_low"], exact["ci_high"]] == pytest.approx(case["exact_or_ci"], rel=1e-7)
        assert exact["method"] == "exact"


@pytest.mark.parametrize("case", R["spearman_edgeworth"])
def test_spearman_default_is_r_edgeworth_series(case):
    for alt, key in (("two-sided", "p_two.sided"), ("greater", "p_greater"), ("less", "p_less")):
        res = spearman(case["x"], case["y"], alternative=alt).iloc[0]
        assert res["r"] == pytest.approx(case["rho"], rel=1e-12)
        assert res["p"] == pytest.approx(case[key], rel=1e-9, abs=1e-15), alt
        expected = "Edgeworth series (AS 89)" if len(case["x"]) < 1290 else "t approximation"
        assert res["method"] == expected


def test_delong_identical_rankings_give_z0_p1_as_proc():
    ref = R["delong"]
    same = delong_test(ref["truth"], ref["s1"], ref["s2"]).iloc[0]
    assert (same["z"], same["p"]) == (ref["identical"]["z"], ref["identical"]["p"])
    other = delong_test(ref["truth"], ref["s1"], ref["s3"]).iloc[0]
    assert other["z"] == pytest.approx(ref["different"]["z"], rel=1e-9)
    assert other["p"] == pytest.approx(ref["different"]["p"], rel=1e-9)


def test_logistic_regression_matches_r_glm():
    ref = R["logistic"]
    data = pd.DataFrame(ref["data"])
    out = logistic_regression(data, "progression", "il6", ["age", "sex", "group"])
    labels = {"(Intercept)": "Intercept", "sexmale": "sex: male vs female",
              "groupB": "group: B vs A", "groupC": "group: C vs A"}  # fmt: skip
    res = out.set_index("term")
    for i, term in enumerate(ref["terms"]):
        row = res.loc[labels.get(term, term)]
        assert row["estimate"] == pytest.approx(ref["estimate"][i], rel=1e-6)
        assert row["se"] == pytest.approx(ref["se"][i], rel=1e-5)
        assert row["stat"] == pytest.approx(ref["z"][i], rel=1e-5)
        assert row["p"] == pytest.approx(ref["p"][i], rel=1e-4)
        assert row["odds_ratio"] == pytest.approx(ref["or"][i], rel=1e-6)
        assert row["or_ci_low"] == pytest.approx(ref["or_ci_low"][i], rel=1e-5)
        assert row["or_ci_high"] == pytest.approx(ref["or_ci_high"][i], rel=1e-5)
    assert out.attrs["model"]["log_likelihood"] == pytest.approx(ref["loglik"], rel=1e-9)
    assert set(out["method"]) == {"Wald z"} and out["df"].isna().all()


@pytest.mark.parametrize("case", R["wilcoxon_pratt"])
def test_wilcoxon_pratt_exact_matches_coin(case):
    res = wilcoxon_signed_rank(case["x"], case["y"], zero_method="pratt", method="exact")
    assert res["p"].iloc[0] == pytest.approx(case["p"], rel=1e-9)
    greater = wilcoxon_signed_rank(
        case["x"], case["y"], zero_method="pratt", method="exact", alternative="greater"
    )
    assert greater["p"].iloc[0] == pytest.approx(case["p_greater"], rel=1e-9)


def test_pooled_correlation_fisher_z_matches_metafor():
    ref = R["meta_zcor"]
    table = pd.DataFrame({"r": ref["ri"], "n": ref["ni"]})
    es = effect_sizes(table, "ZCOR", r="r", n="n")
    np.testing.assert_allclose(es["yi"], ref["yi"], rtol=1e-12)
    np.testing.assert_allclose(es["vi"], ref["vi"], rtol=1e-12)
    res = meta_analysis(es["yi"], es["vi"], back_transform="tanh").iloc[0]
    assert res["estimate"] == pytest.approx(ref["estimate"], rel=1e-6)
    assert res["se"] == pytest.approx(ref["se"], rel=1e-5)
    assert res["tau2"] == pytest.approx(ref["tau2"], rel=1e-5)
    assert res["pooled"] == pytest.approx(ref["pooled"], rel=1e-6)
    assert [res["pooled_ci_low"], res["pooled_ci_high"]] == pytest.approx(
        ref["pooled_ci"], rel=1e-5
    )


def test_mean_difference_default_is_metafor_unpooled_variance():
    ref = R["meta_md"]
    data = pd.DataFrame(ref["data"])
    cols = {"mean_t": "m1", "sd_t": "sd1", "n_t": "n1", "mean_c": "m2", "sd_c": "sd2", "n_c": "n2"}
    es = effect_sizes(data, "MD", **cols)
    np.testing.assert_allclose(es["yi"], ref["yi"], rtol=1e-12)
    np.testing.assert_allclose(es["vi"], ref["vi"], rtol=1e-12)
    res = meta_analysis(es["yi"], es["vi"]).iloc[0]
    assert res["estimate"] == pytest.approx(ref["estimate"], rel=1e-6)
    assert res["tau2"] == pytest.approx(ref["tau2"], rel=1e-5, abs=1e-8)
    pooled = effect_sizes(data, "MD", md_variance="pooled", **cols)
    assert not np.allclose(pooled["vi"], ref["vi"])


def test_mean_difference_variances_match_metafor_vtypes():
    # escalc(measure = "MD"): vtype "LS" (default) and "UB" are the unpooled variance,
    # "HO" (homoscedastic) the pooled one
    ref = R["meta_md"]
    data = pd.DataFrame(ref["data"])
    cols = {"mean_t": "m1", "sd_t": "sd1", "n_t": "n1", "mean_c": "m2", "sd_c": "sd2", "n_c": "n2"}
    unpooled = effect_sizes(data, "MD", md_variance="unpooled", **cols)
    np.testing.assert_allclose(unpooled["vi"], ref["vi_ls"], rtol=1e-12)
    np.testing.assert_allclose(unpooled["vi"], ref["vi_ub"], rtol=1e-12)
    pooled = effect_sizes(data, "MD", md_variance="pooled", **cols)
    np.testing.assert_allclose(pooled["vi"], ref["vi_ho"], rtol=1e-12)


@pytest.mark.parametrize("case", R["hodges_lehmann"])
def test_hodges_lehmann_and_exact_ci_match_r_wilcox_test(case):
    res = hodges_lehmann(case["x"], case["y"]).iloc[0]
    assert res["method"] == "exact"
    assert res["estimate"] == pytest.approx(case["estimate"], abs=1e-9)
    assert [res["ci_low"], res["ci_high"]] == pytest.approx(case["ci"], abs=1e-9)
    ninety = hodges_lehmann(case["x"], case["y"], confidence=0.9).iloc[0]
    assert [ninety["ci_low"], ninety["ci_high"]] == pytest.approx(case["ci90"], abs=1e-9)
    mw = mann_whitney(case["x"], case["y"]).iloc[0]
    assert mw["stat"] == case["W"] and mw["p"] == pytest.approx(case["p"], rel=1e-9)
    assert "hodges_lehmann" not in mw  # computed on request, as R's conf.int = TRUE
    with_ci = mann_whitney(case["x"], case["y"], conf_int=True).iloc[0]
    assert with_ci["hodges_lehmann"] == pytest.approx(case["estimate"], abs=1e-9)
    assert [with_ci["hl_ci_low"], with_ci["hl_ci_high"]] == pytest.approx(case["ci"], abs=1e-9)


@pytest.mark.parametrize("case", R["mann_whitney_ties"])
def test_mann_whitney_with_ties_matches_r_normal_approximation(case):
    for alt, key in (("two-sided", "p_two.sided"), ("greater", "p_greater"), ("less", "p_less")):
        res = mann_whitney(case["x"], case["y"], alternative=alt).iloc[0]
        assert res["stat"] == case["W"]
        assert res["p"] == pytest.approx(case[key], rel=1e-9), alt
        assert res["method"] == "normal approximation"


def test_hodges_lehmann_selection_equals_all_differences_on_large_samples():
    rng = np.random.default_rng(3)
    x, y = rng.normal(0.3, 1, 1500), rng.integers(-3, 4, 1100).astype(float)
    res = hodges_lehmann(x, y).iloc[0]
    diffs = np.sort(np.subtract.outer(x, y).ravel())
    assert res["estimate"] == np.median(diffs)
    z = 1.959963984540054
    qu = int(np.floor(x.size * y.size / 2 - z * np.sqrt(x.size * y.size * 2601 / 12) + 0.5))
    assert (res["ci_low"], res["ci_high"]) == (diffs[qu - 1], diffs[x.size * y.size - qu])


@pytest.mark.parametrize(
    ("method", "given", "mean_key", "sd_key"),
    [
        ("hozo", ("min", "median", "max"), "hozo_mean", "hozo_sd"),
        ("wan", ("min", "median", "max"), "wan_s1_mean", "wan_s1_sd"),
        ("wan", ("q1", "median", "q3"), "wan_s2_mean", "wan_s2_sd"),
        ("wan", ("min", "q1", "median", "q3", "max"), "wan_s3_mean", "wan_s3_sd"),
        ("luo", ("min", "median", "max"), "luo_s1_mean", "wan_s1_sd"),
        ("luo", ("q1", "median", "q3"), "luo_s2_mean", "wan_s2_sd"),
        ("luo", ("min", "q1", "median", "q3", "max"), "luo_s3_mean", "wan_s3_sd"),
    ],
)
def test_median_quantiles_to_mean_sd(method, given, mean_key, sd_key):
    ref = R["conversion"]
    data = pd.DataFrame(ref["data"])
    names = {"min": "minimum", "max": "maximum"}
    kwargs = {names.get(name, name): data[name] for name in given}
    res = mean_sd_from_quantiles(n=data["n"], method=method, **kwargs)
    np.testing.assert_allclose(res["mean"], ref[mean_key], rtol=1e-12)
    np.testing.assert_allclose(res["sd"], ref[sd_key], rtol=1e-12)
    assert set(res["method"]) == {method}
