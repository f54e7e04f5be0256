"""DAPSA, cDAPSA, DAPSA response, MDA and VLDA (clinical-measures.md §11, §14 W34)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rheumetrics.errors import ValidationError
from rheumetrics.measures.panel import score_frame
from rheumetrics.measures.psa import RESPONSE_LABELS, cdapsa, dapsa, dapsa_response, mda, vlda
from rheumetrics.measures.units import to_canonical
from rheumetrics.numeric import round_display


def mg_dl(x):
    return x * 10.0  # the canonical CRP column is mg/L


def test_dapsa_w34():
    # W34 (RheumaComposites.jl test): TJC 1, SJC 1, CRP 3 mg/dL, PtGA 1, pain 1 -> 7.0, low.
    value = dapsa(tjc68=1, sjc66=1, ptga=1, pain=1, crp_mg_l=mg_dl(3))
    assert round_display(value, 1) == 7.0
    assert dapsa.category(value) == "low"


def test_dapsa_crp_enters_in_mg_dl():
    # §11.1 / §0: DAPSA adds CRP in mg/dL; 30 mg/L adds 3, not 30 (peer-pitfalls.md §2 #3).
    assert dapsa(1, 1, 1, 1, 30.0) - cdapsa(1, 1, 1, 1) == pytest.approx(3.0)


@pytest.mark.parametrize(
    ("measure", "value", "category"),
    [
        # Schoels 2016 (R31): DAPSA <= 4 / <= 14 / <= 28 / > 28
        (dapsa, 4.0, "remission"),
        (dapsa, 4.1, "low"),
        (dapsa, 14.0, "low"),
        (dapsa, 28.0, "moderate"),
        (dapsa, 28.1, "high"),
        # cDAPSA <= 4 / <= 13 [V2]; <= 27 / > 27 [K]
        (cdapsa, 4.0, "remission"),
        (cdapsa, 13.0, "low"),
        (cdapsa, 13.1, "moderate"),
        (cdapsa, 27.0, "moderate"),
        (cdapsa, 27.1, "high"),
    ],
)
def test_category_boundaries(measure, value, category):
    assert measure.category(value) == category


def test_dapsa_boundary_is_decimal_safe():
    # PtGA 5.3 + pain 8.3 + CRP 0.4 mg/dL = 14 exactly, 14.000000000000002 in floating point: low.
    value = dapsa(0, 0, 5.3, 8.3, 4.0)
    assert value > 14.0
    assert dapsa.category(value) == "low"


def test_dapsa_validation_uses_68_and_66_counts():
    with pytest.raises(ValidationError) as err:
        dapsa([69, 1], [1, 67], 1, 1, 3)
    assert {(p.record, p.field) for p in err.value.problems} == {(0, "tjc68"), (1, "sjc66")}


# --- response ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("baseline", "followup", "expected"),
    [
        (20.0, 10.0, "minor"),  # DAPSA50: exactly 50 %
        (20.0, 5.0, "moderate"),  # DAPSA75: exactly 75 %
        (2.8, 0.7, "moderate"),  # 75 %, computed as 0.7499999999999999 in floating point
        (20.0, 3.0, "major"),  # DAPSA85: exactly 85 %
        (20.0, 10.2, "none"),  # 49 %
        (10.0, 12.0, "none"),  # worse
        (0.0, 0.0, "none"),  # a baseline of 0 cannot respond (§12.6)
    ],
)
def test_dapsa_response(baseline, followup, expected):
    # Schoels 2016 (R31): DAPSA50 / 75 / 85 = minor / moderate / major response.
    assert dapsa_response(baseline, followup) == expected


def test_dapsa_response_shapes():
    b = pd.Series([20.0, 20.0], index=["x", "y"])
    out = dapsa_response(b, pd.Series([3.0, 15.0], index=["x", "y"]))
    assert out.tolist() == ["major", "none"] and list(out.cat.categories) == list(RESPONSE_LABELS)
    with pytest.raises(ValidationError, match=r"dapsa \(follow-up\)"):
        dapsa_response(20.0, -1.0)


# --- MDA / VLDA (Coates 2010; Lubrano 2021) ---------------------------------------------------

# All seven criteria met, each exactly at its threshold.
AT_THRESHOLD = {
    "tjc68": 1,
    "sjc66": 1,
    "pasi": 1.0,
    "bsa_pct": 3.0,
    "pain": 1.5,  # 15 mm VAS
    "ptga": 2.0,  # 20 mm VAS
    "haq_di": 0.5,
    "tender_entheses": 1,
}
FAILING = {
    "tjc68": 2,
    "sjc66": 2,
    "pasi": 1.1,
    "bsa_pct": 3.1,
    "pain": 1.6,
    "ptga": 2.1,
    "haq_di": 0.625,
    "tender_entheses": 2,
}
CRITERIA = ["tjc68", "sjc66", "skin", "pain", "ptga", "haq_di", "tender_entheses"]


def with_failures(*names):
    v = dict(AT_THRESHOLD)
    for n in names:
        if n == "skin":
            v.update(pasi=FAILING["pasi"], bsa_pct=FAILING["bsa_pct"])
        else:
            v[n] = FAILING[n]
    return v


def test_mda_and_vlda_all_at_threshold():
    # Coates 2010: every threshold is inclusive ("<="); 7 of 7 is also VLDA.
    assert mda(**AT_THRESHOLD) is True
    assert vlda(**AT_THRESHOLD) is True


@pytest.mark.parametrize("failed", CRITERIA)
def test_each_criterion_counts_once(failed):
    # 6 of 7: MDA (>= 5) but not VLDA (7 of 7).
    v = with_failures(failed)
    assert mda(**v) is True
    assert vlda(**v) is False


@pytest.mark.parametrize(("n_failed", "expected"), [(2, True), (3, False), (7, False)])
def test_mda_needs_five_of_seven(n_failed, expected):
    assert mda(**with_failures(*CRITERIA[:n_failed])) is expected


def test_skin_criterion_is_pasi_or_bsa():
    assert mda(**{**with_failures("tjc68", "sjc66"), "pasi": 5.0, "bsa_pct": 2.0}) is True
    assert mda(**{**with_failures("tjc68", "sjc66"), "pasi": 0.5, "bsa_pct": 10.0}) is True
    assert mda(**{**with_failures("tjc68", "sjc66"), "pasi": 5.0, "bsa_pct": 10.0}) is False


def test_missing_skin_measure_decided_when_possible_else_error():
    no_skin = {**AT_THRESHOLD, "pasi": np.nan, "bsa_pct": np.nan}
    assert mda(**no_skin) is True  # six other criteria met: 6 >= 5 whatever the skin
    assert mda(**{**no_skin, "tjc68": 2, "sjc66": 2, "pain": 9.0}) is False  # at most 4 of 7
    assert mda(**{k: v for k, v in AT_THRESHOLD.items() if k != "bsa_pct"}) is True  # optional
    with pytest.raises(ValidationError) as err:
        mda(**{**no_skin, "tjc68": 2, "sjc66": 2})  # 4 known met + unknown skin: undecided
    assert {p.field for p in err.value.problems} == {"pasi", "bsa_pct"}
    with pytest.raises(ValidationError, match="bsa_pct"):
        vlda(**{**AT_THRESHOLD, "pasi": 2.0, "bsa_pct": np.nan})  # BSA could still meet it
    assert vlda(**{**AT_THRESHOLD, "pasi": 2.0, "bsa_pct": np.nan}, lenient=True) is None


def test_mda_pain_and_global_from_mm_columns():
    # Coates 2010 thresholds are 15 mm and 20 mm on a 100-mm VAS; mm columns convert to 0-10.
    frame = pd.DataFrame(
        {**{k: [v] for k, v in AT_THRESHOLD.items() if k not in ("pain", "ptga")}}
        | {"pain_mm": [15.0], "ptga_mm": [20.0]}
    )
    canonical = to_canonical(frame)
    assert mda(*(canonical[k] for k in mda.inputs)).iloc[0]
    assert vlda(*(canonical[k] for k in mda.inputs)).iloc[0]
    frame.loc[0, "pain_mm"] = 16.0
    assert not vlda(*(to_canonical(frame)[k] for k in mda.inputs)).iloc[0]


def test_score_frame_scores_psa_measures():
    visits = pd.DataFrame(
        [
            {**AT_THRESHOLD, "crp_mg_l": 30.0},
            {**with_failures("tjc68", "sjc66", "pain"), "crp_mg_l": 5.0},
        ]
    )
    out = score_frame(visits)
    # 1 + 1 + 2 + 1.5 + 3.0 mg/dL = 8.5; 2 + 2 + 2 + 1.6 + 0.5 mg/dL = 8.1 (§11.1)
    assert out["dapsa"].tolist() == pytest.approx([8.5, 8.1])
    assert out["dapsa_category"].tolist() == ["low", "low"]
    assert out["mda"].tolist() == [True, False] and out["mda"].dtype == "boolean"
    assert out["vlda"].tolist() == [True, False]
    assert out.attrs["conventions"]["dapsa_cutoffs"] == "dapsa_schoels"


# --- properties -------------------------------------------------------------------------------

counts68 = st.integers(0, 68)
counts66 = st.integers(0, 66)
scale = st.floats(0, 10)
crp = st.floats(0, 1000)


@given(counts68, counts66, scale, scale, crp)
def test_dapsa_range_and_relation_to_cdapsa(t, s, pt, pa, c):
    value = dapsa(t, s, pt, pa, c)
    assert 0 <= value <= 68 + 66 + 10 + 10 + 100 + 1e-9
    assert value == pytest.approx(cdapsa(t, s, pt, pa) + c / 10)


@given(counts68, counts66, scale, scale, crp, st.integers(0, 4), st.floats(0, 10))
def test_dapsa_monotone_in_each_component(t, s, pt, pa, c, pos, bump):
    args = [t, s, pt, pa, c]
    more = list(args)
    limits = [68, 66, 10.0, 10.0, 1000.0]
    step = int(bump) if pos < 2 else bump
    more[pos] = min(limits[pos], more[pos] + step)
    assert dapsa(*more) >= dapsa(*args)


@given(st.lists(st.tuples(counts68, counts66, scale, scale, crp), min_size=1, max_size=20))
def test_dapsa_vectorised_equals_scalar(rows):
    cols = [np.array(c) for c in zip(*rows, strict=True)]
    vec = dapsa(*cols)
    for i, r in enumerate(rows):
        assert vec[i] == dapsa(*r)


mda_row = st.fixed_dictionaries(
    {
        "tjc68": st.integers(0, 3),
        "sjc66": st.integers(0, 3),
        "pasi": st.floats(0, 3),
        "bsa_pct": st.floats(0, 6),
        "pain": st.floats(0, 3),
        "ptga": st.floats(0, 4),
        "haq_di": st.floats(0, 1),
        "tender_entheses": st.integers(0, 3),
    }
)


@given(st.lists(mda_row, min_size=1, max_size=20))
def test_mda_vectorised_equals_scalar_and_vlda_implies_mda(rows):
    frame = pd.DataFrame(rows)
    vec_mda = mda(*(frame[k] for k in mda.inputs))
    vec_vlda = vlda(*(frame[k] for k in mda.inputs))
    for i, r in enumerate(rows):
        assert bool(vec_mda.iloc[i]) is mda(**r)
        assert bool(vec_vlda.iloc[i]) is vlda(**r)
        if vlda(**r):
            assert mda(**r)
