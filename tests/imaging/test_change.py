"""Change scores, direction of change (seed 001 Table 3) and named progression/repair rules."""

import numpy as np
import pandas as pd
import pytest

from rheumetrics.errors import ValidationError
from rheumetrics.imaging import (
    ChangeRule,
    change_scores,
    classify_change,
    direction_of_change,
    direction_summary,
    mean_change,
    score_reads,
)
from rheumetrics.numeric import round_display

# seed 001 (NZ escalation study) Table 3: (decrease, increase, no change) -> published percentages
TABLE_3 = {
    ("MRI(i)", "A"): ((16, 16, 10), (38.1, 38.1, 23.81)),
    ("MRI(i)", "B"): ((13, 3, 8), (54.17, 12.5, 33.33)),
    ("osteitis", "A"): ((15, 9, 20), (34.09, 20.45, 45.45)),
    ("osteitis", "B"): ((8, 6, 10), (33.33, 25.0, 41.67)),
    ("synovitis", "A"): ((15, 9, 18), (35.71, 21.43, 42.86)),
    ("synovitis", "B"): ((11, 1, 12), (45.83, 4.17, 50.0)),
}


def test_direction_summary_reproduces_nz_study_table_3():
    rows = []
    for (score, group), ((dec, inc, same), _) in TABLE_3.items():
        change = [-2.0] * dec + [1.0] * inc + [0.0] * same
        rows += [{"score": score, "group": group, "change": c} for c in change]
    changes = pd.DataFrame(rows)
    changes["direction"] = direction_of_change(changes["change"])
    summary = direction_summary(changes, by=["score", "group"]).set_index(
        ["score", "group", "direction"]
    )
    for (score, group), (counts, percents) in TABLE_3.items():
        for label, n, pct in zip(
            ("decrease", "increase", "no_change"), counts, percents, strict=True
        ):
            got = summary.loc[(score, group, label)]
            assert got["n"] == n
            assert round_display(got["percent"], 2) == pytest.approx(pct)


def test_direction_uses_snapped_values_and_keeps_na():
    change = pd.Series([0.1 + 0.2 - 0.3, -1e-12, 0.5, -0.5, np.nan])
    direction = direction_of_change(change)
    assert list(direction.iloc[:4]) == ["no_change", "no_change", "increase", "decrease"]
    assert pd.isna(direction.iloc[4])
    assert direction.dtype.ordered
    assert list(direction_of_change(change, tolerance=0.5).iloc[2:4]) == ["no_change"] * 2


def two_timepoint_scores(build_reads, base, follow, reader="R1"):
    sites = ["DRUJ", "RADIOCARPAL", "IC_CMC", "MCP2", "MCP3", "MCP4", "MCP5"]
    frames = []
    for tp, grades in (("baseline", base), ("week12", follow)):
        grades = dict(zip(sites, grades, strict=False))
        frames.append(build_reads(grades, timepoint=tp, reader=reader))
    return pd.concat(frames, ignore_index=True)


def test_change_per_reader_and_averaged(reads_of):
    a = two_timepoint_scores(reads_of, [1, 1, 1, 1, 0, 0, 0], [2, 1, 1, 1, 1, 0, 0])
    b = two_timepoint_scores(reads_of, [1, 1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 0, 0, 0], "R2")
    scores = score_reads(pd.concat([a, b]))
    changes = change_scores(scores, "baseline", "week12")
    syn = changes[(changes["feature"] == "synovitis") & (changes["subset"] == "all")]
    assert dict(zip(syn["reader"], syn["change"], strict=True)) == {"R1": 2.0, "R2": 0.0}
    assert dict(zip(syn["reader"], syn["direction"], strict=True)) == {
        "R1": "increase",
        "R2": "no_change",
    }
    mean = mean_change(changes)
    r = mean[(mean["feature"] == "synovitis") & (mean["subset"] == "all")].iloc[0]
    assert (r["change"], r["direction"], r["n_readers"]) == (1.0, "increase", 2)


def test_change_flags_different_site_sets_and_missing_time_points(reads_of):
    a = two_timepoint_scores(reads_of, [1, 1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 0, 0])
    b = reads_of({"DRUJ": 1}, reader="R2")  # baseline only
    changes = change_scores(score_reads(pd.concat([a, b])), "baseline", "week12")
    syn = changes[(changes["feature"] == "synovitis") & (changes["subset"] == "all")]
    syn = syn.set_index("reader")
    assert bool(syn.loc["R1", "sites_differ"])
    assert pd.isna(syn.loc["R2", "change"])


def test_change_rejects_unknown_time_points(reads_of):
    scores = score_reads(reads_of({"DRUJ": 1}))
    with pytest.raises(ValidationError, match="available: baseline"):
        change_scores(scores, "baseline", "month6")


def frame(values, feature="erosion"):
    return pd.DataFrame({"feature": feature, "change": values})


def test_progression_and_repair_thresholds_seed_004():
    # seed 004 (IL-6 study): progression = change > 0.5, repair = change < -0.5 (also Baker 2017)
    out = classify_change(frame([1.0, 0.5, 0.0, -0.5, -1.0, np.nan]))
    assert list(out["prog_gt_0_5"].iloc[:5]) == [True, False, False, False, False]
    assert list(out["repair_lt_neg0_5"].iloc[:5]) == [False, False, False, False, True]
    assert out["prog_gt_0_5"].isna().iloc[5]
    assert "Rheumatology (Oxford) 2017;56:1089" in out.attrs["conventions"]["rules"]["prog_gt_0_5"]


def test_rule_threshold_compared_on_snapped_values():
    # 0.7 - 0.2 is 0.49999999999999994 in binary; a reader mean of 0 and 1 is exactly 0.5
    out = classify_change(frame([0.7 - 0.2, (0 + 1) / 2, 0.2 + 0.4]), ["prog_gt_0_5"])
    assert list(out["prog_gt_0_5"]) == [False, False, True]


def test_imagine_ra_non_progression_le_0():
    # IMAGINE-RA: no radiographic progression = change in total SvdH <= 0
    out = classify_change(frame([0.0, -1.0, 0.5], "total"), ["nonprog_le_0", "prog_gt_0"])
    assert list(out["nonprog_le_0"]) == [True, True, False]
    assert list(out["prog_gt_0"]) == [False, False, True]


def test_sdc_and_mcid_rules_need_their_threshold_and_record_it():
    with pytest.raises(ValidationError, match="needs sdc"):
        classify_change(frame([1.0]), ["prog_gt_sdc"])
    out = classify_change(frame([1.678, 1.7]), ["prog_gt_sdc", "prog_ge_sdc"], sdc=1.678)
    assert list(out["prog_gt_sdc"]) == [False, True]
    assert list(out["prog_ge_sdc"]) == [True, True]
    assert "sdc = 1.678" in out.attrs["conventions"]["rules"]["prog_gt_sdc"]
    per_feature = classify_change(
        pd.DataFrame({"feature": ["erosion", "total"], "change": [5.0, 5.0]}),
        ["prog_ge_mcid"],
        mcid={"erosion": 6.0, "total": 5.0},
    )
    assert list(per_feature["prog_ge_mcid"]) == [False, True]
    with pytest.raises(ValidationError, match="no mcid"):
        classify_change(frame([1.0], "jsn"), ["prog_ge_mcid"], mcid={"erosion": 5.0})


def test_msasss_progression_at_least_2_baraliakos_2007():
    out = classify_change(frame([2.0, 1.9], "corner"), ["msasss_prog"])
    assert list(out["msasss_prog"]) == [True, False]


def test_custom_rule_and_unknown_rule():
    rule = ChangeRule("rapid", "rapid progression", ">=", "study protocol", value=5.0)
    assert list(classify_change(frame([5.0, 4.0]), [rule])["rapid"]) == [True, False]
    with pytest.raises(ValidationError, match="unknown rule"):
        classify_change(frame([1.0]), ["prog_gt_1"])
