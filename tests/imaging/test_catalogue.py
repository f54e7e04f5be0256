"""Site catalogue: site counts and ranges per site set against the published figures
(imaging-scores.md §1.2-1.4, §2, §4.2, §5.1-5.2, §6.1), and unverified entries marked."""

import pytest

from rheumetrics.errors import ValidationError
from rheumetrics.imaging import site_set, site_set_max, sites, state_definitions, systems, totals

# imaging-scores.md §1.4: (feature, subset, sides) -> published maximum
RAMRIS_RANGES = {
    # unilateral wrist + MCP2-5, the standard set: syn 0-21, BME 0-69, erosion 0-230 [V];
    # JSN 0-84, TS 0-39 [D]
    ("synovitis", "all", 1): 21,
    ("osteitis", "all", 1): 69,
    ("erosion", "all", 1): 230,
    ("jsn", "all", 1): 84,
    ("tenosynovitis", "all", 1): 39,
    # wrist only, unilateral [D]: 9 / 45 / 150 / 68 / 27
    ("synovitis", "wrist", 1): 9,
    ("osteitis", "wrist", 1): 45,
    ("erosion", "wrist", 1): 150,
    ("jsn", "wrist", 1): 68,
    ("tenosynovitis", "wrist", 1): 27,
    # MCP2-5 only, unilateral [D]: 12 / 24 / 80 / 16 / 12
    ("synovitis", "mcp", 1): 12,
    ("osteitis", "mcp", 1): 24,
    ("erosion", "mcp", 1): 80,
    ("jsn", "mcp", 1): 16,
    ("tenosynovitis", "mcp", 1): 12,
    # bilateral wrists only: 18 / 90 / 300 (Mo et al., Ann Rheum Dis 2015;74 Suppl 2:428) [V]
    ("synovitis", "wrist", 2): 18,
    ("osteitis", "wrist", 2): 90,
    ("erosion", "wrist", 2): 300,
}


@pytest.mark.parametrize(("feature", "subset", "sides"), list(RAMRIS_RANGES))
def test_ramris_2016_ranges_imaging_scores_1_4(feature, subset, sides):
    expected = RAMRIS_RANGES[(feature, subset, sides)]
    assert site_set_max("ramris", "2016", feature, subset, sides=sides) == expected


@pytest.mark.parametrize("feature", ["synovitis", "osteitis", "erosion"])
def test_ramris_2002_has_the_three_original_features_with_the_same_ranges(feature):
    # imaging-scores.md §1: 2002 = synovitis, BME, erosion; JSN and tenosynovitis added in 2016
    assert site_set_max("ramris", "2002", feature) == RAMRIS_RANGES[(feature, "all", 1)]
    assert set(sites("ramris", "2002")["feature"]) == {"synovitis", "osteitis", "erosion"}


def test_ramris_site_counts_imaging_scores_1_2():
    # 7 synovitis regions; 23 bones = 15 wrist + 8 MCP; 21 JSN = 17 wrist + 4 MCP; 13 TS = 9 + 4
    counts = {
        ("synovitis", "wrist"): 3,
        ("synovitis", "mcp"): 4,
        ("osteitis", "wrist"): 15,
        ("osteitis", "mcp"): 8,
        ("erosion", "wrist"): 15,
        ("erosion", "mcp"): 8,
        ("jsn", "wrist"): 17,
        ("jsn", "mcp"): 4,
        ("tenosynovitis", "wrist"): 9,
        ("tenosynovitis", "mcp"): 4,
    }
    for (feature, subset), n in counts.items():
        assert len(site_set("ramris", "2016", feature, subset)) == n, (feature, subset)
    assert "CMC1" not in set(site_set("ramris", "2016", "synovitis")["site"])


def test_ramris_derived_totals_ranges_imaging_scores_1_4():
    # total RAMRIS 0-320 [D]; weighted inflammation synovitis + 2 x osteitis 0-159 [D]
    assert site_set_max("ramris", "2002", "total") == 320
    assert site_set_max("ramris", "2002", "weighted_inflammation") == 159


def test_tenosynovitis_scores_imaging_scores_2():
    # Haavardsholm 2007: 10 areas (6 extensor + 4 flexor), 0-3 each, total 0-30 [V]
    assert len(site_set("haavardsholm", "2007", "tenosynovitis")) == 10
    assert site_set_max("haavardsholm", "2007", "tenosynovitis") == 30


def test_axspa_mri_ranges_imaging_scores_4_2():
    # SPARCC SIJ 0-72 [V]; Berlin SIJ 0-12 per joint, 0-24 total [V]; ASspiMRI-a 0-138 [V];
    # Berlin spine 0-69 [D]; SPARCC spine 0-108 for 6 DVUs, 0-414 for all 23 [D]
    assert site_set_max("sparcc_sij", "standard", "inflammation", sides=2) == 72
    assert site_set_max("berlin_sij", "standard", "bme") == 12
    assert site_set_max("berlin_sij", "standard", "bme", sides=2) == 24
    assert site_set_max("asspimri_a", "2003", "activity") == 138
    assert site_set_max("berlin_spine", "standard", "bme") == 69
    assert site_set_max("sparcc_spine", "standard", "inflammation") == 414
    six = ["C5_C6", "C6_C7", "T8_T9", "T9_T10", "L3_L4", "L4_L5"]
    assert site_set_max("sparcc_spine", "standard", "inflammation", units=six) == 108


def test_spinal_units_are_the_23_of_imaging_scores_4_1():
    units = list(dict.fromkeys(sites("asspimri_a")["site"]))
    assert len(units) == 23
    assert units[0] == "C2_C3" and units[5] == "C7_T1" and units[-1] == "L5_S1"
    by_region = sites("asspimri_a")["region"].value_counts().to_dict()
    assert by_region == {"cervical": 6, "thoracic": 12, "lumbar": 5}


def test_svdh_ranges_imaging_scores_5_1():
    # erosion hands 0-160, feet 0-120, total 0-280; JSN 0-120 / 0-48 / 0-168; total 0-448 [V]
    assert site_set_max("svdh", "standard", "erosion", "hands", sides=2) == 160
    assert site_set_max("svdh", "standard", "erosion", "feet", sides=2) == 120
    assert site_set_max("svdh", "standard", "erosion", sides=2) == 280
    assert site_set_max("svdh", "standard", "jsn", "hands", sides=2) == 120
    assert site_set_max("svdh", "standard", "jsn", "feet", sides=2) == 48
    assert site_set_max("svdh", "standard", "jsn", sides=2) == 168
    assert site_set_max("svdh", "standard", "total", sides=2) == 448
    assert site_set_max("svdh", "standard", "total", "hands", sides=2) == 280
    assert site_set_max("svdh", "standard", "total", "feet", sides=2) == 168
    # per hand: 16 erosion areas, 15 JSN areas; per foot: 6 and 6
    assert len(site_set("svdh", "standard", "erosion", "hands")) == 16
    assert len(site_set("svdh", "standard", "jsn", "hands")) == 15
    assert len(site_set("svdh", "standard", "erosion", "feet")) == 6


def test_sharp_1985_ranges_imaging_scores_5_2_and_seed_003():
    # erosions 0-170 (17 areas x 0-5 x 2 hands), JSN 0-144 (18 x 0-4 x 2), total 0-314 (seed 003)
    assert len(site_set("sharp1985", "1985", "erosion")) == 17
    assert len(site_set("sharp1985", "1985", "jsn")) == 18
    assert site_set_max("sharp1985", "1985", "erosion", sides=2) == 170
    assert site_set_max("sharp1985", "1985", "jsn", sides=2) == 144
    assert site_set_max("sharp1985", "1985", "total", sides=2) == 314


def test_msasss_imaging_scores_6_1():
    # 24 anterior corners (12 cervical, 12 lumbar), 0-3 each, total 0-72 [V]
    assert len(site_set("msasss", "2005", "corner", "cervical")) == 12
    assert len(site_set("msasss", "2005", "corner", "lumbar")) == 12
    assert site_set_max("msasss", "2005", "corner") == 72


def test_midline_systems_have_one_side():
    with pytest.raises(ValidationError, match="sides"):
        site_set_max("msasss", "2005", "corner", sides=2)


def test_unverified_sites_are_marked_imaging_scores_8():
    cat = sites()
    unverified = cat[~cat["verified"]]
    # §8 item 4: tenosynovitis flexor partitions; item 11: RAMRIS JSN at MCP; item 8: SvdH CMC1
    assert set(unverified.loc[unverified["system"] == "haavardsholm", "site"]) == {
        "FLEX_1",
        "FLEX_2",
        "FLEX_3",
        "FLEX_4",
    }
    ramris = unverified[unverified["system"] == "ramris"]
    assert set(ramris.loc[ramris["feature"] == "tenosynovitis", "site"]) == {
        "FLEX_W1",
        "FLEX_W2",
        "FLEX_W3",
    }
    assert set(ramris.loc[ramris["feature"] == "jsn", "site"]) == {"MCP2", "MCP3", "MCP4", "MCP5"}
    assert set(unverified.loc[unverified["system"] == "svdh", "site"]) == {"CMC1"}
    # §4.2: SPARCC spine and Berlin spine structures are [R]
    assert not cat.loc[cat["system"].isin(["sparcc_spine", "berlin_spine"]), "verified"].any()
    assert (unverified["note"] != "").all()
    assert not systems()["sparcc_spine"].verified and not systems()["berlin_spine"].verified


def test_catalogue_integrity():
    cat = sites()
    assert not cat.duplicated(["system", "version", "feature", "site"]).any()
    assert (cat["scale_min"] < cat["scale_max"]).all() and (cat["scale_step"] > 0).all()
    assert set(cat["side"]) <= {"LR", "M"}
    specs = systems()
    for system, spec in specs.items():
        regions = set(cat.loc[cat["system"] == system, "region"])
        assert set(spec.subsets["all"]) == regions, system
        assert set(cat.loc[cat["system"] == system, "version"]) == set(spec.versions)
    for total in totals().values():
        for comp in total.components:
            assert ((cat["system"] == comp.system) & (cat["feature"] == comp.feature)).any()
    for state in state_definitions().values():
        assert state.system in specs and state.subset in specs[state.system].subsets


def test_unknown_catalogue_entries_are_named():
    with pytest.raises(ValidationError, match="must be one of 2002, 2016"):
        site_set_max("ramris", "2010", "synovitis")
    with pytest.raises(ValidationError, match="feature"):
        site_set_max("ramris", "2002", "jsn")
