"""Totals, subsets, derived totals, reader means, states and positivity (imaging-scores.md)."""

import pandas as pd
import pytest

from rheumetrics.imaging import imaging_states, reader_mean, score_reads, site_positivity, sites

# imaging-scores.md §7.6 RAMRIS example: synovitis per region
SYN_76 = {"DRUJ": 1, "RADIOCARPAL": 2, "IC_CMC": 1, "MCP2": 2, "MCP3": 1, "MCP4": 0, "MCP5": 0}


def row(scores, feature, subset="all", **keys):
    sel = scores[(scores["feature"] == feature) & (scores["subset"] == subset)]
    for k, v in keys.items():
        sel = sel[sel[k] == v]
    assert len(sel) == 1, sel
    return sel.iloc[0]


def test_ramris_worked_example_imaging_scores_7_6(reads_of):
    build_reads = reads_of
    # synovitis 7 / 21 -> above the acceptable-state cut-off (> 5)
    scores = score_reads(build_reads(SYN_76))
    r = row(scores, "synovitis")
    assert (r["score"], r["max_possible"], r["n_sites_scored"], r["set_max"]) == (7, 21, 7, 21)
    state = imaging_states(scores, ["ramris_synovitis_acceptable"]).iloc[0]
    assert bool(state["applicable"]) and not state["met"]


def test_per_site_positivity_worked_example_imaging_scores_7_6(reads_of):
    build_reads = reads_of
    # only 2/7 meet the ">= 2 per joint" rule (Saltzherr). The text says "4/7 sites have grade
    # >= 1", but its own grades (1, 2, 1, 2, 1, 0, 0) have five such sites: the reference miscounts.
    reads = build_reads(SYN_76)
    assert site_positivity(reads, 1)["positive"].sum() == 5
    pos = site_positivity(reads, 2)
    assert pos["positive"].sum() == 2
    assert set(pos.loc[pos["positive"].astype(bool), "joint_id"]) == {"R_WRIST", "R_MCP2"}


def test_positivity_reader_rules_leiden_both_readers(reads_of):
    build_reads = reads_of
    # Leiden: present only when both readers score >= 1 (imaging-scores.md §1.5)
    a = build_reads({"DRUJ": 1, "MCP2": 1, "MCP3": 0})
    b = build_reads({"DRUJ": 1, "MCP2": 0, "MCP3": 0}, reader="R2")
    reads = pd.concat([a, b], ignore_index=True)
    each = site_positivity(reads, 1, readers="each").set_index("site")["positive"]
    anyr = site_positivity(reads, 1, readers="any").set_index("site")["positive"]
    mean = site_positivity(reads, 1, readers="mean").set_index("site")["positive"]
    assert list(each[["DRUJ", "MCP2", "MCP3"]]) == [True, False, False]
    assert list(anyr[["DRUJ", "MCP2", "MCP3"]]) == [True, True, False]
    assert list(mean[["DRUJ", "MCP2", "MCP3"]]) == [True, False, False]  # mean 0.5 < 1


def test_not_assessable_site_lowers_the_maximum_not_the_site_set(reads_of):
    build_reads = reads_of
    reads = build_reads({**SYN_76, "RADIOCARPAL": None})
    r = row(score_reads(reads), "synovitis")
    assert (r["score"], r["max_possible"], r["n_sites_scored"]) == (5, 18, 6)
    assert (r["n_not_assessable"], r["n_sites_in_set"], r["set_max"]) == (1, 7, 21)
    positivity = site_positivity(reads, 1).set_index("site")["positive"]
    assert pd.isna(positivity["RADIOCARPAL"])


def test_subsets_wrist_and_mcp(reads_of):
    build_reads = reads_of
    scores = score_reads(build_reads(SYN_76))
    wrist, mcp = row(scores, "synovitis", "wrist"), row(scores, "synovitis", "mcp")
    assert (wrist["score"], wrist["set_max"], wrist["n_sites_scored"]) == (4, 9, 3)
    assert (mcp["score"], mcp["set_max"], mcp["n_sites_scored"]) == (3, 12, 4)


def bilateral_wrists(build_reads):
    frames = []
    for side in ("L", "R"):
        for feature in ("synovitis", "osteitis", "erosion"):
            cat = sites("ramris", "2002")
            wrist = cat[(cat["feature"] == feature) & (cat["region"] == "wrist")]
            frames.append(build_reads(dict.fromkeys(wrist["site"], 1), feature=feature, side=side))
    return pd.concat(frames, ignore_index=True)


def test_bilateral_wrists_site_set_mo_2015(reads_of):
    build_reads = reads_of
    # bilateral wrists only: synovitis 0-18, BME 0-90, erosion 0-300 (Mo et al., ARD 2015)
    scores = score_reads(bilateral_wrists(build_reads))
    for feature, maximum in (("synovitis", 18), ("osteitis", 90), ("erosion", 300)):
        r = row(scores, feature, "wrist")
        assert (r["set_max"], r["max_possible"], r["sides"]) == (maximum, maximum, "L+R")
    per_side = score_reads(bilateral_wrists(build_reads), by_side=True)
    assert row(per_side, "erosion", "wrist", side="L")["set_max"] == 150


def test_weighted_inflammation_baker_2017(reads_of):
    build_reads = reads_of
    # synovitis + 2 x osteitis (Baker et al. 2017), maximum 21 + 2 x 69 = 159 on the standard set
    cat = sites("ramris", "2002")
    osteitis = dict.fromkeys(cat.loc[cat["feature"] == "osteitis", "site"], 0) | {"LUNATE": 3}
    reads = pd.concat([build_reads(SYN_76), build_reads(osteitis, feature="osteitis")])
    r = row(score_reads(reads), "weighted_inflammation")
    assert (r["score"], r["max_possible"], r["set_max"]) == (7 + 2 * 3, 159, 159)
    low = imaging_states(score_reads(reads), ["baker_low_weighted_inflammation"]).iloc[0]
    assert not low["met"]  # 13 > 9


def test_combined_mri_inflammation_nz_study_seed_001(reads_of):
    build_reads = reads_of
    # MRI(i) = synovitis + osteitis + tenosynovitis (RAMRIS + Haavardsholm), seed 001
    reads = pd.concat(
        [
            build_reads(SYN_76),
            build_reads({"LUNATE": 2, "CAPITATE": 1}, feature="osteitis"),
            build_reads({"EXT_I": 2, "EXT_VI": 1}, system="haavardsholm", version="2007",
                        feature="tenosynovitis"),
        ]
    )  # fmt: skip
    scores = score_reads(reads)
    r = row(scores, "inflammation", system="ramris+haavardsholm")
    assert (r["score"], r["version"], r["n_sites_scored"]) == (7 + 3 + 3, "2002+2007", 11)
    assert r["max_possible"] == 21 + 6 + 6
    # no tenosynovitis read -> no combined score
    partial = score_reads(
        pd.concat([build_reads(SYN_76), build_reads({"LUNATE": 2}, feature="osteitis")])
    )
    assert not (partial["feature"] == "inflammation").any()


def test_reader_mean_is_real_valued_and_states_compare_real_numbers(reads_of):
    build_reads = reads_of
    # imaging-scores.md §0.3: "synovitis <= 5" on reader means; 5.5 is not acceptable, 5.0 is
    a = build_reads(SYN_76 | {"DRUJ": 0, "RADIOCARPAL": 1})  # 5
    b = build_reads(SYN_76 | {"RADIOCARPAL": 1}, reader="R2")  # 6
    means = reader_mean(score_reads(pd.concat([a, b])))
    r = row(means, "synovitis")
    assert (r["score"], r["n_readers"], r["sites_differ"]) == (5.5, 2, False)
    assert not imaging_states(means, ["ramris_synovitis_acceptable"]).iloc[0]["met"]
    same = reader_mean(score_reads(pd.concat([a, a.assign(reader="R2")])))
    assert imaging_states(same, ["ramris_synovitis_acceptable"]).iloc[0]["met"]


def test_state_tied_to_a_scale_is_na_for_other_site_sets(reads_of):
    # Gandjbakhch 2014 cut-off is on the 0-21 unilateral wrist + MCP2-5 scale
    build_reads = reads_of
    wrist_only = build_reads({"DRUJ": 1, "RADIOCARPAL": 0, "IC_CMC": 0})
    not_assessable = build_reads(SYN_76 | {"MCP5": None})
    for reads in (wrist_only, not_assessable):
        state = imaging_states(score_reads(reads), ["ramris_synovitis_acceptable"]).iloc[0]
        assert not state["applicable"] and pd.isna(state["met"])


def test_no_bme_state_imagine_ra(reads_of):
    build_reads = reads_of
    cat = sites("ramris", "2002")
    bones = cat.loc[cat["feature"] == "osteitis", "site"]
    none = score_reads(build_reads(dict.fromkeys(bones, 0), feature="osteitis"))
    some = score_reads(build_reads(dict.fromkeys(bones, 0) | {"HAMATE": 1}, feature="osteitis"))
    assert imaging_states(none, ["ramris_no_bme"]).iloc[0]["met"]
    assert not imaging_states(some, ["ramris_no_bme"]).iloc[0]["met"]


def sij_reads(build_reads, bme_quadrants):
    """SPARCC SIJ reads of both joints: ``bme_quadrants`` positive BME quadrants on the left."""
    cat = sites("sparcc_sij")
    frames = []
    for side in ("L", "R"):
        for feature in ("bme", "intensity", "depth"):
            sel = cat.loc[cat["feature"] == feature, "site"]
            grades = dict.fromkeys(sel, 0)
            if feature == "bme" and side == "L":
                grades |= dict.fromkeys(list(sel)[:bme_quadrants], 1)
            frames.append(build_reads(grades, system="sparcc_sij", version="standard",
                                      feature=feature, side=side))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize(("positive", "remission"), [(0, True), (1, True), (2, False)])
def test_sparcc_sij_remission_below_2_rapid_axspa(positive, remission, reads_of):
    build_reads = reads_of
    # RAPID-axSpA (Braun et al., RMD Open 2017): SIJ inflammation present >= 2, remission < 2
    scores = score_reads(sij_reads(build_reads, positive))
    r = row(scores, "inflammation", system="sparcc_sij")
    assert (r["score"], r["set_max"]) == (positive, 72)
    assert imaging_states(scores, ["sparcc_sij_remission"]).iloc[0]["met"] == remission


@pytest.mark.parametrize(("grade_sum", "remission"), [(2, True), (3, False)])
def test_berlin_spine_remission_at_most_2_rapid_axspa(grade_sum, remission, reads_of):
    build_reads = reads_of
    # RAPID-axSpA: spine MRI inflammation present > 2, remission <= 2 (Berlin spine)
    units = list(sites("berlin_spine")["site"])
    grades = dict.fromkeys(units, 0) | {"L1_L2": grade_sum - 1, "L2_L3": 1}
    reads = build_reads(grades, system="berlin_spine", version="standard", feature="bme", side="M")
    scores = score_reads(reads)
    assert row(scores, "bme")["set_max"] == 69 and row(scores, "bme")["sides"] == "M"
    assert imaging_states(scores, ["berlin_spine_remission"]).iloc[0]["met"] == remission


def test_svdh_total_over_hands_and_feet(reads_of):
    build_reads = reads_of
    cat = sites("svdh")
    frames = [
        build_reads(dict.fromkeys(cat.loc[cat["feature"] == f, "site"], 1), system="svdh",
                    version="standard", feature=f, side=s)
        for f in ("erosion", "jsn") for s in ("L", "R")
    ]  # fmt: skip
    scores = score_reads(pd.concat(frames))
    total = row(scores, "total", system="svdh")
    assert (total["score"], total["set_max"], total["n_sites_scored"]) == (86, 448, 86)
    assert row(scores, "total", "hands", system="svdh")["set_max"] == 280


def test_combined_total_pairs_every_version_read_in_one_visit(reads_of):
    # two RAMRIS versions read in the same visit: each pairs with the tenosynovitis read, as a join
    parts = [reads_of(SYN_76, version=v) for v in ("2002", "2016")] + [
        reads_of({"LUNATE": 2}, feature="osteitis", version=v) for v in ("2002", "2016")
    ]
    parts.append(reads_of({"EXT_I": 2}, system="haavardsholm", version="2007",
                          feature="tenosynovitis"))  # fmt: skip
    scores = score_reads(pd.concat(parts, ignore_index=True))
    combined = scores[(scores["system"] == "ramris+haavardsholm") & (scores["subset"] == "all")]
    assert sorted(combined["version"]) == ["2002+2007", "2016+2007"]
    assert set(combined["score"]) == {7 + 2 + 2}


def test_combined_total_takes_one_system_from_one_version(reads_of):
    # synovitis read with RAMRIS 2002 and osteitis with 2016: no RAMRIS read has both components
    parts = [
        reads_of(SYN_76, version="2002"),
        reads_of({"LUNATE": 2}, feature="osteitis", version="2016"),
        reads_of({"EXT_I": 2}, system="haavardsholm", version="2007", feature="tenosynovitis"),
    ]
    scores = score_reads(pd.concat(parts, ignore_index=True))
    assert not (scores["system"] == "ramris+haavardsholm").any()
