"""Response criteria against clinical-measures.md §4, §5.3, §7 and §14 (W30, W32, W33), with the
peer-pitfalls.md §2 #14 and #15 regressions. Property tests compare with exact rational oracles.
"""

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rheumetrics.errors import ValidationError
from rheumetrics.measures.response import (
    acr_n,
    acr_response,
    cdai_mcid,
    cdai_response,
    eular_response,
    sdai_response,
)

# --------------------------------------------------------------------------- EULAR response


@pytest.mark.parametrize(
    ("baseline", "followup", "expected", "case"),
    [
        (5.80, 3.00, "good", "W30a"),
        (6.50, 5.40, "none", "W30b"),
        (4.00, 2.80, "moderate", "W30c: Δ = 1.2 is not > 1.2 (naive floats say good)"),
        (6.00, 4.70, "moderate", "W30d"),
        (6.40, 5.20, "none", "W30e: Δ = 1.2 with present > 5.1 (naive floats say moderate)"),
    ],
)
def test_w30_eular_response(baseline, followup, expected, case):
    # §14 W30, derived from the EULAR table (van Gestel 1996, §4)
    assert eular_response(baseline, followup) == expected, case


def test_14_das28_3_64_to_2_44_is_moderate_not_good():
    # §2 #14: acreular's test expects "Good" only because 3.64 - 2.44 = 1.2000000000000002
    assert 3.64 - 2.44 > 1.2  # the float trap is real
    assert eular_response(3.64, 2.44) == "moderate"


@pytest.mark.parametrize(
    ("baseline", "followup", "expected"),
    [
        (4.0, 2.4, "good"),  # Δ 1.6 > 1.2, present <= 2.4
        (4.0, 2.5, "moderate"),  # Δ 1.5 > 1.2, present > 2.4
        (5.0, 3.75, "moderate"),  # Δ 1.25 > 1.2, present > 3.7: moderate (not none)
        (4.5, 3.8, "none"),  # 0.6 < Δ 0.7 <= 1.2, present > 3.7
        (3.0, 2.3, "moderate"),  # 0.6 < Δ 0.7 <= 1.2, present <= 3.7
    ],
)
def test_eular_response_original_das_bands(baseline, followup, expected):
    # §4: original-DAS version, present bands <= 2.4 / <= 3.7 (ARD response-criteria table)
    assert eular_response(baseline, followup, scale="das") == expected


def test_eular_response_shapes_and_recorded_scale():
    b = pd.Series([5.8, 4.0, 6.4], index=["a", "b", "c"])
    f = pd.Series([3.0, 2.8, 5.2], index=["a", "b", "c"])
    out = eular_response(b, f)
    assert list(out.index) == ["a", "b", "c"] and out.cat.ordered
    assert out.tolist() == ["good", "moderate", "none"]
    assert out.attrs["conventions"] == {"scale": "das28"}
    cat = eular_response(np.array([5.8, 4.0]), np.array([3.0, 2.8]))
    assert isinstance(cat, pd.Categorical) and list(cat) == ["good", "moderate"]


def test_eular_response_reports_every_problem_of_both_visits():
    with pytest.raises(ValidationError) as err:
        eular_response([5.0, 12.0, 4.0], [3.0, 2.0, np.nan])
    fields = [(p.record, p.field) for p in err.value.problems]
    assert fields == [(1, "das28 (baseline)"), (2, "das28 (follow-up)")]
    lenient = eular_response([5.0, 12.0, 4.0], [3.0, 2.0, np.nan], lenient=True)
    assert lenient[0] == "good" and pd.isna(lenient[1]) and pd.isna(lenient[2])
    with pytest.raises(ValueError, match="different indexes"):
        eular_response(pd.Series([5.0], index=[1]), pd.Series([3.0], index=[2]))


# --------------------------------------------------------------------------- ACR20/50/70, ACR-N

# §14 W32 (constructed from the definition); pain and globals on 0-10 (W32 gives mm).
W32_BASE = dict(tjc68=20, sjc66=10, pain=6.0, ptga=7.0, phga=6.0, haq_di=1.5, crp_mg_l=30.0)
W32_FOLLOW = dict(tjc68=15, sjc66=8, pain=5.0, ptga=5.0, phga=4.0, haq_di=1.25, crp_mg_l=20.0)


def test_w32_acr20_yes_acr50_no():
    # §14 W32: TJC 25 %, SJC 20 %, 3 of 5 others >= 20 % -> ACR20 yes; ACR50 no
    assert acr_response(W32_BASE, W32_FOLLOW, 20) is True
    assert acr_response(W32_BASE, W32_FOLLOW, 50) is False
    assert acr_response(W32_BASE, W32_FOLLOW, 70) is False
    # ACR-N = min(25, 20, median(16.7, 28.6, 33.3, 16.7, 33.3) = 28.6) = 20
    assert acr_n(W32_BASE, W32_FOLLOW) == pytest.approx(20.0)


def test_acr20_exactly_20_percent_counts_decimal_safely():
    # §7: ">= N %" includes exactly N %. 1.0 -> 0.8 is exactly 20 % but 19.999999999999996 in floats
    base = dict(tjc68=10, sjc66=10, pain=1.0, ptga=5.5, phga=8.0, haq_di=1.0, crp_mg_l=10.0)
    follow = dict(tjc68=8, sjc66=8, pain=0.8, ptga=4.4, phga=6.4, haq_di=1.0, crp_mg_l=10.0)
    assert (1.0 - 0.8) / 1.0 * 100 < 20
    assert acr_response(base, follow, 20) is True


def test_15_joint_counts_above_28_are_used_not_dropped():
    # §2 #15: acreular caps counts at 28 and silently drops larger ones; ACR uses 68/66 counts
    base = W32_BASE | {"tjc68": 40, "sjc66": 30}
    follow = W32_FOLLOW | {"tjc68": 20, "sjc66": 15}
    assert acr_response(base, follow, 50) is False  # 50 %, 50 %, but others < 50 %
    assert acr_n(base, follow) == pytest.approx(28.571428571, abs=1e-6)
    with pytest.raises(ValidationError, match=r"tjc28 \(baseline\)"):
        acr_response(
            {**W32_BASE, "tjc28": 40, "sjc28": 10},
            {**W32_FOLLOW, "tjc28": 20, "sjc28": 8},
            joints="28",
        )


def test_15_zero_baseline_is_not_improved_never_nan_or_inf():
    # §2 #15 / §12.6 package convention: a domain with baseline 0 counts as not improved
    base = W32_BASE | {"haq_di": 0.0}
    follow = W32_FOLLOW | {"haq_di": 0.0}
    assert acr_response(base, follow, 20) is True  # pain? no; ptga, phga, crp yes: still 3 of 5
    base2 = base | {"crp_mg_l": 0.0}
    follow2 = follow | {"crp_mg_l": 0.0}
    assert acr_response(base2, follow2, 20) is False  # only ptga and phga left: 2 of 5
    value = acr_n(base2, follow2)
    assert np.isfinite(value)
    no_tender = W32_BASE | {"tjc68": 0}
    assert acr_response(no_tender, W32_FOLLOW | {"tjc68": 0}, 20) is False
    assert acr_n(no_tender, W32_FOLLOW | {"tjc68": 0}) == 0.0


def test_15_missing_core_item_never_passes_silently():
    # §2 #15: with na.rm a patient passes with core items missing. Here: an error naming the
    # item and visit (strict), or NA (lenient), even when every other item improved 100 %.
    base = W32_BASE
    follow = dict.fromkeys(W32_FOLLOW, 0.0) | {"haq_di": np.nan}
    with pytest.raises(ValidationError, match=r"haq_di \(follow-up\)"):
        acr_response(base, follow, 20)
    assert acr_response(base, follow, 20, lenient=True) is None
    assert np.isnan(acr_n(base, follow, lenient=True))
    with pytest.raises(ValidationError, match="column is missing from the baseline"):
        acr_response({k: v for k, v in base.items() if k != "phga"}, follow, 20)


def test_w33_apr_plain_versus_uln_adjusted():
    # §14 W33 / §13.8 arithmetic: CRP 2.0 -> 1.5 mg/dL (20 -> 15 mg/L); plain 25 %;
    # ULN-adjusted with ULN 0.5 mg/dL (5 mg/L): (20 - 15) / (20 - 5) = 33.3 %.
    # Joint counts, pain, PtGA improve 100 %, PhGA and HAQ not at all: ACR-N = the APR change.
    base = dict(tjc68=10, sjc66=10, pain=5.0, ptga=5.0, phga=5.0, haq_di=1.0, crp_mg_l=20.0)
    follow = dict(tjc68=0, sjc66=0, pain=0.0, ptga=0.0, phga=5.0, haq_di=1.0, crp_mg_l=15.0)
    assert acr_n(base, follow) == pytest.approx(25.0)
    assert acr_n(base, follow, apr_uln=5.0) == pytest.approx(100 / 3)
    assert acr_response(base, follow, 30) is False
    assert acr_response(base, follow, 30, apr_uln=5.0) is True


def test_acr_with_esr_and_28_joint_counts():
    base = dict(tjc28=10, sjc28=10, pain=5.0, ptga=5.0, phga=5.0, haq_di=1.0, esr_mm_h=40.0)
    follow = dict(tjc28=5, sjc28=5, pain=2.5, ptga=2.5, phga=2.5, haq_di=0.5, esr_mm_h=20.0)
    assert acr_response(base, follow, 50, joints="28", apr="esr_mm_h") is True
    assert acr_response(base, follow, 70, joints="28", apr="esr_mm_h") is False


def test_acr_on_frames_keeps_the_index_and_records_conventions():
    base = pd.DataFrame([W32_BASE, W32_BASE], index=["p1", "p2"])
    follow = pd.DataFrame([W32_FOLLOW, W32_BASE], index=["p1", "p2"])
    out = acr_response(base, follow, 20)
    assert out.dtype == "boolean" and out.tolist() == [True, False]
    assert out.attrs["conventions"]["joints"] == "68/66"
    assert out.attrs["conventions"]["zero_baseline"] == "not_improved"


# --------------------------------------------------------------------------- SDAI / CDAI response


@pytest.mark.parametrize(
    ("baseline", "followup", "expected"),
    [
        (30.0, 16.0, "none"),  # 46.7 %
        (30.0, 15.0, "minor"),  # exactly 50 %
        (30.0, 9.0, "moderate"),  # exactly 70 %
        (30.0, 4.5, "major"),  # exactly 85 %
        (6.0, 0.9, "major"),  # exactly 85 %, 84.99999999999999 in naive floats
        (10.0, 12.0, "none"),  # worse
        (0.0, 0.0, "none"),  # zero baseline: not improved (§12.6 package convention)
    ],
)
def test_sdai_percent_response(baseline, followup, expected):
    # §5.3: Aletaha 2012 minor >= 50 %, moderate >= 70 %, major >= 85 %
    assert sdai_response(baseline, followup) == expected


def test_cdai_percent_response_and_range():
    # §5.3: the same percentages applied to CDAI; 27.0 -> 8.1 is exactly 70 % (69.999... in floats)
    assert cdai_response(27.0, 8.1) == "moderate"
    with pytest.raises(ValidationError, match=r"cdai \(baseline\)"):
        cdai_response(80.0, 10.0)  # CDAI is at most 76
    out = cdai_response(pd.Series([20.0, np.nan]), pd.Series([2.0, 1.0]), lenient=True)
    assert out.tolist()[0] == "major" and pd.isna(out.tolist()[1])


@pytest.mark.parametrize(
    ("baseline", "followup", "expected"),
    [
        (30.0, 18.0, "improved"),  # high: Δ 12 >= 12
        (30.0, 18.5, "not_improved"),  # high: Δ 11.5
        (22.0, 16.0, "improved"),  # 22 is moderate (<= 22): Δ 6 >= 6
        (15.0, 9.0, "improved"),  # moderate: Δ 6
        (15.0, 9.5, "not_improved"),  # moderate: Δ 5.5
        (8.0, 7.0, "improved"),  # low: Δ 1
        (8.0, 9.5, "not_improved"),  # low: +1.5 < 2
        (8.0, 10.0, "worsened"),  # low: +2
        (10.0, 12.0, "worsened"),  # 10 is low (<= 10): +2
        (15.0, 30.0, "not_improved"),  # no worsening MCID from moderate in Curtis 2015
        (2.3, 1.3, "improved"),  # Δ 1.0 (0.9999999999999998 in floats)
    ],
)
def test_cdai_mcid_curtis_2015(baseline, followup, expected):
    # §5.3 / §11b: Curtis 2015 (R13) improvement 12 / 6 / 1 from high / moderate / low,
    # worsening 2 from low disease activity
    assert cdai_mcid(baseline, followup) == expected


# --------------------------------------------------------------------------- properties

das28_2dp = st.integers(0, 1000)  # DAS28 in hundredths, 0.00-10.00


def eular_oracle(b100: int, f100: int) -> str:
    """The EULAR table (§4) on exact rationals."""
    delta, present = Fraction(b100 - f100, 100), Fraction(f100, 100)
    if delta > Fraction(12, 10):
        return "good" if present <= Fraction(32, 10) else "moderate"
    if delta > Fraction(6, 10) and present <= Fraction(51, 10):
        return "moderate"
    return "none"


@settings(max_examples=150, deadline=None)
@given(das28_2dp, das28_2dp)
def test_property_eular_matches_exact_table(b, f):
    assert eular_response(b / 100, f / 100) == eular_oracle(b, f)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(das28_2dp, das28_2dp), min_size=1, max_size=12), das28_2dp)
def test_property_eular_vectorised_and_monotone_in_baseline(pairs, extra):
    b = np.array([p[0] for p in pairs]) / 100
    f = np.array([p[1] for p in pairs]) / 100
    vec = eular_response(b, f)
    assert list(vec) == [eular_response(x, y) for x, y in zip(b, f, strict=True)]
    higher = eular_response(np.maximum(b, extra / 100), f)  # more improvement, same present
    assert all(h >= v for h, v in zip(higher.codes, vec.codes, strict=True))


count = st.integers(0, 68)
tenth = st.integers(0, 100)  # 0.0-10.0 in tenths
DOMAINS = ("tjc68", "sjc66", "pain", "ptga", "phga", "haq_di", "crp_mg_l")
visit = st.fixed_dictionaries(
    {"tjc68": count, "sjc66": st.integers(0, 66), "pain": tenth, "ptga": tenth, "phga": tenth,
     "haq_di": st.integers(0, 30), "crp_mg_l": st.integers(0, 2000)}
)  # fmt: skip
SCALE = {"tjc68": 1, "sjc66": 1, "pain": 10, "ptga": 10, "phga": 10, "haq_di": 10, "crp_mg_l": 10}


def as_values(v: dict[str, int]) -> dict[str, float]:
    return {k: v[k] / SCALE[k] for k in DOMAINS}


def acr_oracle(b: dict[str, int], f: dict[str, int], n: int) -> bool:
    """Felson 1995 (§7) on exact rationals; baseline 0 = not improved (§12.6)."""

    def improved(k: str) -> bool:
        return b[k] > 0 and Fraction(b[k] - f[k], b[k]) * 100 >= n

    others = sum(improved(k) for k in ("pain", "ptga", "phga", "haq_di", "crp_mg_l"))
    return improved("tjc68") and improved("sjc66") and others >= 3


@settings(max_examples=120, deadline=None)
@given(visit, visit, st.sampled_from([20, 50, 70]))
def test_property_acr_matches_exact_definition(b, f, n):
    base, follow = as_values(b), as_values(f)
    assert acr_response(base, follow, n) is acr_oracle(b, f, n)
    value = acr_n(base, follow)
    assert value <= 100
    assert (value >= n) is acr_oracle(b, f, n)  # ACR-N >= N exactly when ACR-N response


@settings(max_examples=60, deadline=None)
@given(visit, visit, st.sampled_from(DOMAINS))
def test_property_acr_n_monotone_in_each_follow_up_domain(b, f, domain):
    base, follow = as_values(b), as_values(f)
    halved = follow[domain] // 2 if SCALE[domain] == 1 else follow[domain] / 2  # counts: whole
    better = follow | {domain: halved}  # a lower follow-up value is more improvement
    assert acr_n(base, better) >= acr_n(base, follow)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(visit, visit), min_size=1, max_size=8))
def test_property_acr_vectorised_equals_scalar(pairs):
    base = pd.DataFrame([as_values(p[0]) for p in pairs])
    follow = pd.DataFrame([as_values(p[1]) for p in pairs])
    vec = acr_response(base, follow, 20)
    assert vec.tolist() == [acr_response(as_values(p[0]), as_values(p[1]), 20) for p in pairs]
    arrays = acr_n({k: base[k].to_numpy() for k in DOMAINS},
                   {k: follow[k].to_numpy() for k in DOMAINS})  # fmt: skip
    np.testing.assert_array_equal(arrays, acr_n(base, follow).to_numpy())


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 760), st.integers(0, 760), st.integers(0, 760))
def test_property_cdai_response_and_mcid_monotone_in_follow_up(b, f1, f2):
    lo, hi = sorted((f1, f2))  # a lower follow-up CDAI is the better outcome
    response = ["none", "minor", "moderate", "major"]
    mcid = ["worsened", "not_improved", "improved"]
    base = b / 10
    assert response.index(cdai_response(base, lo / 10)) >= response.index(
        cdai_response(base, hi / 10)
    )
    assert mcid.index(cdai_mcid(base, lo / 10)) >= mcid.index(cdai_mcid(base, hi / 10))
