"""ACR/EULAR Boolean and index-based remission (clinical-measures.md §6)."""

import pandas as pd
import pytest

from rheumetrics.measures import MEASURES, boolean_remission, index_remission


def test_w31_boolean_2011_vs_2022():
    # W31 (RheumaComposites.jl tests): TJC 1, SJC 0, PtGA 1.4, CRP 0.4 mg/dL (= 4 mg/L)
    assert boolean_remission(1, 0, 1.4, 4.0, version="2011") is False
    assert boolean_remission(1, 0, 1.4, 4.0, version="2022") is True
    # 2011 clinical-practice version (no CRP): PtGA 1.4 > 1 -> not in remission
    assert boolean_remission(1, 0, 1.4, version="2011") is False
    assert MEASURES["boolean_remission_2011"](1, 0, 1.4, 4.0) is False
    assert MEASURES["boolean_remission_2022"](1, 0, 1.4, 4.0) is True
    assert MEASURES["boolean_remission_2011_practice"](1, 0, 1.4) is False


@pytest.mark.parametrize(
    ("tjc", "sjc", "ptga", "crp_mg_l", "expected"),
    [
        (1, 1, 2.0, 10.0, True),  # every criterion exactly at its bound (all are "<=", §6.2)
        (2, 1, 2.0, 10.0, False),
        (1, 2, 2.0, 10.0, False),
        (1, 1, 2.5, 10.0, False),  # peer-pitfalls §2 #17: 2022 PtGA bound is 2, not 1.5 or 2.5
        (1, 1, 1.5, 10.0, True),
        (1, 1, 2.0, 10.1, False),  # CRP <= 1 mg/dL = 10 mg/L
    ],
)
def test_boolean_2022_bounds(tjc, sjc, ptga, crp_mg_l, expected):
    assert boolean_remission(tjc, sjc, ptga, crp_mg_l, version="2022") is expected


def test_boolean_with_68_joint_counts_and_series():
    s = boolean_remission(pd.Series([1, 3]), pd.Series([0, 0]), pd.Series([1, 1]), joints=68)
    assert s.dtype == "boolean" and list(s) == [True, False]


def test_index_based_remission():
    # §6.1: SDAI <= 3.3 (trials), CDAI <= 2.8 (practice)
    assert index_remission(sdai=3.3) is True
    assert index_remission(sdai=3.31) is False
    assert index_remission(cdai=2.8) is True
    assert index_remission(cdai=1.1 + 1.7) is True  # 2.8000000000000003 in floating point
    with pytest.raises(TypeError):
        index_remission(sdai=1, cdai=1)
