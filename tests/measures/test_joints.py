"""Joint catalogue (clinical-measures.md §1) and joint counts from per-joint findings."""

import pandas as pd
import pytest

from rheumetrics.errors import ValidationError
from rheumetrics.joints import JOINTS, RITCHIE_UNITS, joint_counts, joint_set, long_to_wide


@pytest.mark.parametrize(
    ("name", "size"), [("tender28", 28), ("swollen44", 44), ("tender68", 68), ("swollen66", 66)]
)
def test_set_sizes(name, size):
    # §1.1 28 joints; §1.2 44 swollen; §1.3 68 tender / 66 swollen
    assert len(joint_set(name)) == size


def test_28_joint_set_members():
    # §1.1: shoulders, elbows, wrists, MCP1-5, PIP1-5 (thumb IP = PIP1), knees; no DIP/hip/ankle/foot
    joints = set(joint_set("tender28"))
    assert {"R_PIP1", "L_PIP1", "R_KNEE", "L_SHOULDER"} <= joints
    assert not any(
        j.split("_", 1)[1].startswith(("DIP", "HIP", "ANKLE", "MTP", "TOE")) for j in joints
    )


def test_hips_are_tender_only():
    # §1.3: swollen 66 = tender 68 minus the hips
    assert set(joint_set("tender68")) - set(joint_set("swollen66")) == {"R_HIP", "L_HIP"}


def test_ritchie_has_26_units():
    # §1.4: 4 single units + 11 bilateral pairs = 26, graded 0-3 (total 0-78)
    assert len(RITCHIE_UNITS) == 26 and len(JOINTS) == 68


def test_counts_long_format_and_not_assessed():
    rows = [{"visit": 1, "joint_id": j, "tender": 0, "swollen": 0} for j in joint_set("tender68")]
    rows[0]["tender"] = 1
    rows[1]["swollen"] = 1
    rows[2]["tender"] = None
    wide = long_to_wide(pd.DataFrame(rows), ["visit"])
    counts = joint_counts(wide, sets=("tender68", "swollen66"))
    assert pd.isna(counts["tjc68"].iloc[0]) and counts["tjc68_n_assessed"].iloc[0] == 67
    assert counts["sjc66"].iloc[0] == 1
    lenient = joint_counts(wide, sets=("tender68",), not_assessed="assessed_only")
    assert lenient["tjc68"].iloc[0] == 1


def test_long_format_problems_reported_together():
    df = pd.DataFrame(
        {"visit": [1, 1, 1], "joint_id": ["R_MCP2", "R_MCP9", "R_MCP2"], "tender": [1, 2, 0]}
    )
    with pytest.raises(ValidationError) as info:
        long_to_wide(df, ["visit"])
    rules = sorted(p.rule for p in info.value.problems)
    assert len(rules) == 3 and any("more than once" in r for r in rules)
