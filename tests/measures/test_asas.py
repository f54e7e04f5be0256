"""ASAS20, ASAS40, ASAS 5/6 and ASAS partial remission (clinical-measures.md §10.4, §13.7-13.8).

Cases are constructed from the published definitions (Anderson 2001, R29; Brandt 2004, R30); the
CRP domain is checked against W33 (Turkish J Rheumatol note).
"""

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rheumetrics.errors import ValidationError
from rheumetrics.measures.asas import (
    asas20,
    asas40,
    asas56,
    asas_crp_percent_improvement,
    asas_partial_remission,
)
from rheumetrics.measures.conventions import Conventions


def visit(ptga, pain, basfi, q5, q6=None, crp=10.0, lsf=10.0, pain_item="total_back_pain"):
    """One visit; inflammation = mean(q5, q6), q6 defaults to q5 so the domain equals q5."""
    return {
        "ptga": ptga,
        pain_item: pain,
        "basfi": basfi,
        "basdai_q5": q5,
        "basdai_q6": q5 if q6 is None else q6,
        "crp_mg_l": crp,
        "lateral_spinal_flexion_cm": lsf,
    }


BASE = visit(6, 6, 6, 6)

# --- ASAS20 (Anderson 2001): >= 20 % and >= 1 unit in >= 3 of 4; remaining not worse by both ---


@pytest.mark.parametrize(
    ("followup", "expected", "why"),
    [
        (visit(4, 4, 4, 4), True, "all four improve"),
        (visit(4.8, 4.8, 4.8, 6), True, "three improve by exactly 20 % and 1.2 units"),
        (visit(4, 4, 4, 7), True, "remaining worsens by 1 unit but only 16.7 %"),
        (visit(4, 4, 4, 7.2), False, "remaining worsens by 20 % and 1.2 units"),
        (visit(4, 4, 6, 6), False, "only two domains improve"),
        (visit(5.1, 5.1, 5.1, 6), False, "three improve 15 %, not 20 %"),
    ],
)
def test_asas20_definition(followup, expected, why):
    assert asas20(BASE, followup) is expected, why


def test_asas20_absolute_arm_needed():
    # 20 % but less than 1 unit (2.0 -> 1.5) does not count as improvement (Anderson 2001).
    base = visit(2, 2, 2, 2)
    assert asas20(base, visit(1.5, 1.5, 1.5, 1.5)) is False
    # A remaining domain worse by 40 % but only 0.8 unit is not "worsening" for ASAS20.
    assert asas20(visit(6, 6, 6, 2), visit(4, 4, 4, 2.8)) is True


def test_asas20_decimal_safe_at_both_arms():
    # 5.5 -> 4.4: a fall of 1.1 (1.0999999999999996 in floats) and 20 % (0.19999999999999993).
    base, follow = visit(5.5, 5.5, 5.5, 5.5), visit(4.4, 4.4, 4.4, 5.5)
    assert (5.5 - 4.4) / 5.5 < 0.2
    assert asas20(base, follow) is True


def test_asas20_worsening_from_zero_baseline_convention():
    # §12.6 (package decision): relative change from 0 is undefined. Default: worsening is judged
    # on the >= 1 unit arm alone; "never" counts no worsening from 0.
    base, follow = visit(6, 6, 6, 0), visit(4, 4, 4, 1)
    assert asas20(base, follow) is False
    assert asas20(base, visit(4, 4, 4, 0.5)) is True
    assert asas20(base, follow, Conventions(asas_worsening_from_zero="never")) is True


# --- ASAS40 (Brandt 2004): >= 40 % and >= 2 units in >= 3 of 4; no worsening at all in the rest --


@pytest.mark.parametrize(
    ("followup", "expected", "why"),
    [
        (visit(3.6, 3.6, 3.6, 6), True, "three improve by exactly 40 % and 2.4 units"),
        (visit(3, 3, 3, 6.1), False, "remaining worsens by 0.1"),
        (visit(3, 3, 3, 5), True, "remaining improves a little"),
        (visit(3, 3, 4.5, 6), False, "only two reach 40 %"),
    ],
)
def test_asas40_definition(followup, expected, why):
    assert asas40(BASE, followup) is expected, why


def test_asas40_needs_two_units():
    # 4 -> 2.4 is 40 % but only 1.6 units: not an ASAS40 improvement.
    assert asas40(visit(4, 4, 4, 4), visit(2.4, 2.4, 2.4, 2.4)) is False
    assert asas20(visit(4, 4, 4, 4), visit(2.4, 2.4, 2.4, 2.4)) is True


# --- ASAS 5/6 (Brandt 2004): >= 20 % in >= 5 of 6 domains -------------------------------------


def test_w33_crp_domain_plain_and_uln_adjusted():
    # W33: CRP 2.0 -> 1.5 mg/dL (20 -> 15 mg/L): plain 25 % (default); ULN-adjusted 33 % (ULN 0.5
    # mg/dL = 5 mg/L).
    assert asas_crp_percent_improvement(20.0, 15.0) == pytest.approx(25.0)
    uln = Conventions(asas_crp_change="uln_adjusted", asas_crp_uln_mg_l=5.0)
    assert asas_crp_percent_improvement(20.0, 15.0, uln) == pytest.approx(100 / 3, abs=1e-6)


def test_asas56_counts_six_domains_with_flexion_improving_upward():
    base = visit(6, 6, 6, 6, crp=20, lsf=10)
    # Four ASAS domains + CRP improve, flexion falls: 5 of 6.
    assert asas56(base, visit(4, 4, 4, 4, crp=15, lsf=8)) is True
    # Four domains improve; CRP unchanged; flexion falls: 4 of 6.
    assert asas56(base, visit(4, 4, 4, 4, crp=20, lsf=8)) is False
    # Flexion rising by 20 % is an improvement (10 -> 12 cm), CRP unchanged: 5 of 6.
    assert asas56(base, visit(4, 4, 4, 4, crp=20, lsf=12)) is True
    # Three ASAS domains + CRP + flexion: 5 of 6.
    assert asas56(base, visit(4, 4, 4, 6, crp=15, lsf=12)) is True


def test_asas56_crp_convention_changes_the_result():
    # CRP 10 -> 8.5 mg/L: plain 15 % (not improved); ULN 5 mg/L: 1.5 / 5 = 30 % (improved).
    base = visit(6, 6, 6, 6, crp=10, lsf=10)
    follow = visit(4, 4, 4, 4, crp=8.5, lsf=10)
    assert asas56(base, follow) is False
    uln = Conventions(asas_crp_change="uln_adjusted", asas_crp_uln_mg_l=5.0)
    assert asas56(base, follow, uln) is True
    # Baseline at or below the ULN: ULN-adjusted change undefined -> not improved (documented).
    assert asas56(visit(6, 6, 6, 6, crp=5, lsf=10), visit(4, 4, 4, 4, crp=1, lsf=10), uln) is False


def test_asas56_zero_baselines_do_not_improve():
    # §12.6: flexion from 0 cm and CRP from 0 have no relative change: not improved.
    base = visit(6, 6, 6, 6, crp=0, lsf=0)
    assert asas56(base, visit(4, 4, 4, 4, crp=0, lsf=5)) is False


def test_uln_adjusted_needs_a_uln():
    with pytest.raises(ValueError, match="asas_crp_uln_mg_l"):
        Conventions(asas_crp_change="uln_adjusted")


# --- partial remission -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("v", "le2", "lt2"),
    [
        (visit(2, 2, 2, 2), True, False),  # exactly 2 in each domain: "<= 2" (ASAS handbook)
        (visit(1, 1, 1, 1), True, True),
        (visit(1, 1, 2.1, 1), False, False),
        (visit(1, 1, 1, 2, q6=2.5), False, False),  # inflammation = mean(2, 2.5) = 2.25
        (visit(1, 1, 1, 1.5, q6=2.5), True, False),  # inflammation = 2.0
        (visit(1.1, 1, 1, 1, q6=1), True, True),
    ],
)
def test_partial_remission(v, le2, lt2):
    # §10.4 / §13.7: each of the 4 domains <= 2 (0-10); Machado 2011's "< 2" as the alternative.
    assert asas_partial_remission(v) is le2
    assert asas_partial_remission(v, Conventions(asas_partial_remission_below_2=True)) is lt2


# --- conventions, shapes, validation -----------------------------------------------------------


def test_pain_item_convention_selects_the_column():
    # §13.7: the pain domain is a named convention; the chosen column decides the result.
    conv = Conventions(asas_pain_item="basdai_q2")
    base = visit(6, 6, 6, 6, pain_item="basdai_q2")
    assert asas20(base, visit(4, 4, 4, 6, pain_item="basdai_q2"), conv) is True
    with pytest.raises(ValidationError, match="total_back_pain"):
        asas20(base, visit(4, 4, 4, 6, pain_item="basdai_q2"))  # default pain column absent
    # Total back pain improves while night pain worsens by 20 % and 1.2 units.
    b = {**visit(6, 6, 6, 6), "nocturnal_back_pain": 6}
    f = {**visit(4, 4, 4, 6), "nocturnal_back_pain": 7.2}
    assert asas20(b, f) is True
    assert asas20(b, f, Conventions(asas_pain_item="nocturnal_back_pain")) is False


def test_missing_columns_of_both_visits_reported_together():
    b = {"ptga": 5}
    f = {"ptga": 4, "basfi": 3, "pain_mm": 40}
    with pytest.raises(ValidationError) as err:
        asas20(b, f)
    problems = [(p.field, p.rule) for p in err.value.problems]
    assert ("basfi", "column is missing from the baseline") in problems
    assert any(f == "total_back_pain" and "follow-up" in r for f, r in problems)
    assert len(problems) == 4 + 3


def test_bad_values_of_both_visits_reported_together():
    b = pd.DataFrame([visit(6, 6, 6, 6), visit(6, 12, 6, 6)])
    f = pd.DataFrame([visit(4, 4, -1, 4), visit(4, 4, 4, 4)])
    with pytest.raises(ValidationError) as err:
        asas20(b, f)
    got = {(p.record, p.field) for p in err.value.problems}
    assert got == {(1, "total_back_pain (baseline)"), (0, "basfi (follow-up)")}
    out = asas20(b, f, lenient=True)
    assert out.dtype == "boolean" and out.isna().all()


def test_dataframes_paired_by_index():
    b = pd.DataFrame([visit(6, 6, 6, 6), visit(6, 6, 6, 6)], index=["p1", "p2"])
    f = pd.DataFrame([visit(4, 4, 4, 4), visit(6, 6, 6, 6)], index=["p1", "p2"])
    out = asas20(b, f)
    assert list(out.index) == ["p1", "p2"] and out.tolist() == [True, False]
    with pytest.raises(ValueError, match="different indexes"):
        asas20(b, f.set_axis(["p2", "p1"]))


# --- properties -------------------------------------------------------------------------------

score = st.floats(0, 10)
domains = st.tuples(score, score, score, score, score)


def _visit(t, crp=10.0, lsf=10.0):
    return visit(t[0], t[1], t[2], t[3], q6=t[4], crp=crp, lsf=lsf)


@given(st.lists(st.tuples(domains, domains), min_size=1, max_size=15))
def test_vectorised_equals_scalar(pairs):
    b = pd.DataFrame([_visit(x) for x, _ in pairs])
    f = pd.DataFrame([_visit(y) for _, y in pairs])
    for fn in (asas20, asas40, asas56):
        vec = fn(b, f)
        for i, (x, y) in enumerate(pairs):
            assert bool(vec.iloc[i]) is fn(_visit(x), _visit(y))
    pr = asas_partial_remission(f)
    for i, (_, y) in enumerate(pairs):
        assert bool(pr.iloc[i]) is asas_partial_remission(_visit(y))


@given(domains, domains, st.integers(0, 4), st.floats(0, 10))
def test_better_followup_never_loses_a_response(x, y, pos, drop):
    better = list(y)
    better[pos] = max(0.0, better[pos] - drop)
    for fn in (asas20, asas40, asas56):
        if fn(_visit(x), _visit(y)):
            assert fn(_visit(x), _visit(tuple(better)))
    if asas_partial_remission(_visit(y)):
        assert asas_partial_remission(_visit(tuple(better)))
