"""Read-record validation: every problem named and reported together (issue 3, design.md)."""

import pandas as pd
import pytest

from rheumetrics.errors import ValidationError
from rheumetrics.imaging import read_reads, sites, validate_reads

SYN_SITES = ["DRUJ", "RADIOCARPAL", "IC_CMC", "MCP2", "MCP3", "MCP4", "MCP5"]


def problems_of(frame):
    with pytest.raises(ValidationError) as err:
        validate_reads(frame)
    return err.value.problems


@pytest.mark.parametrize(
    ("system", "version", "feature", "site", "grade", "scale"),
    [
        # imaging-scores.md §1.3: erosion 0-10 in whole steps, synovitis/BME 0-3, JSN 0-4
        ("ramris", "2002", "erosion", "LUNATE", 11, "0-10 in steps of 1"),
        ("ramris", "2002", "erosion", "LUNATE", 2.5, "0-10 in steps of 1"),
        ("ramris", "2002", "erosion", "LUNATE", -1, "0-10 in steps of 1"),
        ("ramris", "2002", "synovitis", "DRUJ", 4, "0-3 in steps of 1"),
        ("ramris", "2002", "osteitis", "CAPITATE", 3.5, "0-3 in steps of 1"),
        ("ramris", "2016", "jsn", "CMC1", 5, "0-4 in steps of 1"),
        # §4.2: SPARCC binary per quadrant; ASspiMRI-a 0-6; Berlin spine 0-3
        ("sparcc_sij", "standard", "bme", "S1_ILIAC_UPPER", 2, "0-1 in steps of 1"),
        ("asspimri_a", "2003", "activity", "L1_L2", 7, "0-6 in steps of 1"),
        ("berlin_spine", "standard", "bme", "L1_L2", 4, "0-3 in steps of 1"),
        # §5.1: SvdH hand erosion 0-5, foot erosion 0-10, JSN 0-4; §6.1 mSASSS 0-3
        ("svdh", "standard", "erosion", "MCP2", 6, "0-5 in steps of 1"),
        ("svdh", "standard", "erosion", "MTP1", 11, "0-10 in steps of 1"),
        ("msasss", "2005", "corner", "L1_UPPER", 4, "0-3 in steps of 1"),
    ],
)
def test_off_scale_grade_is_rejected_with_the_site_scale(
    system, version, feature, site, grade, scale
):
    side = "M" if system in ("asspimri_a", "berlin_spine", "msasss") else "R"
    frame = pd.DataFrame(
        [dict(patient_id="P1", timepoint="t0", reader="A", side=side, system=system,
              version=version, feature=feature, site=site, grade=grade)]
    )  # fmt: skip
    (problem,) = problems_of(frame)
    assert problem.field == "grade" and problem.value == grade
    assert scale in problem.rule and site in problem.rule


@pytest.mark.parametrize(
    ("system", "version", "feature", "site", "grade"),
    [
        ("ramris", "2002", "erosion", "LUNATE", 10),  # a fused bone scores 10 (§1.3)
        ("svdh", "standard", "erosion", "MTP1", 10),  # foot joints 0-10 (§5.1)
        ("sparcc_sij", "standard", "depth", "S6", 1),
    ],
)
def test_top_of_scale_is_accepted(system, version, feature, site, grade):
    frame = pd.DataFrame(
        [dict(patient_id="P1", timepoint="t0", reader="A", side="L", system=system,
              version=version, feature=feature, site=site, grade=grade)]
    )  # fmt: skip
    assert validate_reads(frame).frame["grade"].iloc[0] == grade


def test_all_problems_reported_together_naming_record_field_value(reads_of):
    frame = reads_of(dict(zip(SYN_SITES, [1, 2, 1, 2, 1, 0, 0], strict=True)))
    frame.loc[0, "grade"] = 4
    frame.loc[1, "site"] = "MCP9"
    frame.loc[2, "feature"] = "sinovitis"
    frame.loc[3, "system"] = "ramrys"
    frame.loc[4, "version"] = "2010"
    frame.loc[5, "side"] = "X"
    problems = problems_of(frame)
    found = {(p.record, p.field, p.value) for p in problems}
    assert found == {
        (0, "grade", 4),
        (1, "site", "MCP9"),
        (2, "feature", "sinovitis"),
        (3, "system", "ramrys"),
        (4, "version", "2010"),
        (5, "side", "X"),
    }
    assert any("features are erosion, osteitis, synovitis" in p.rule for p in problems)


def test_site_scored_twice_in_one_read_names_both_records(reads_of):
    frame = reads_of({"DRUJ": 1, "MCP2": 2})
    frame = pd.concat([frame, frame.iloc[[0]].assign(grade=2)], ignore_index=True)
    problems = problems_of(frame)
    assert {(p.record, p.field) for p in problems} == {(0, "site"), (2, "site")}
    assert "also record 2" in problems[0].rule


def test_same_site_by_two_readers_or_sessions_is_fine(reads_of):
    one = reads_of({"DRUJ": 1})
    frame = pd.concat([one, one.assign(reader="R2"), one.assign(session="2")], ignore_index=True)
    assert len(validate_reads(frame).frame) == 3


def test_not_assessable_rules(reads_of):
    frame = reads_of({"DRUJ": None, "MCP2": None, "MCP3": 1}).astype({"not_assessable": object})
    frame.loc[1, "grade"] = 2  # grade given although flagged
    frame.loc[2, "not_assessable"] = "maybe"
    frame = pd.concat([frame, reads_of({"MCP4": None}).assign(not_assessable=False)])
    problems = problems_of(frame.reset_index(drop=True))
    rules = {(p.record, p.field): p.rule for p in problems}
    assert "flagged not assessable" in rules[(1, "grade")]
    assert "true/false" in rules[(2, "not_assessable")]
    assert "missing" in rules[(3, "grade")]
    assert (0, "grade") not in rules


def test_side_rules_for_per_side_and_midline_sites():
    rows = [
        dict(system="ramris", version="2002", feature="synovitis", site="DRUJ", side=None),
        dict(system="msasss", version="2005", feature="corner", site="C2_LOWER", side="L"),
        dict(system="msasss", version="2005", feature="corner", site="C3_UPPER", side=None),
    ]
    frame = pd.DataFrame(
        [{**r, "patient_id": "P", "timepoint": "t", "reader": "A", "grade": 1} for r in rows]
    )
    problems = problems_of(frame)
    assert {(p.record, p.field) for p in problems} == {(0, "side"), (1, "side")}
    ok = validate_reads(frame.iloc[[2]])
    assert ok.frame["side"].iloc[0] == "M"


def test_modality_and_design_checks(reads_of):
    frame = reads_of({"DRUJ": 1, "MCP2": 1, "MCP3": 1})
    frame["modality"] = ["MRI", "XR", None]
    frame["design"] = ["paired_known_order", "paired_known_order", "guess"]
    problems = problems_of(frame)
    fields = {(p.record, p.field) for p in problems}
    assert (1, "modality") in fields and (2, "design") in fields


def test_one_read_has_one_design(reads_of):
    frame = reads_of({"DRUJ": 1, "MCP2": 1})
    frame["design"] = ["paired_known_order", "unpaired"]
    (problem,) = problems_of(frame)
    assert problem.field == "design" and "one reading design" in problem.rule


def test_missing_columns_and_values_are_named(reads_of):
    frame = reads_of({"DRUJ": 1}).drop(columns=["reader", "grade"])
    assert {p.field for p in problems_of(frame)} == {"reader", "grade"}
    frame = reads_of({"DRUJ": 1})
    frame.loc[0, "patient_id"] = None
    (problem,) = problems_of(frame)
    assert problem.field == "patient_id"


def test_numeric_version_labels_and_defaults(reads_of):
    frame = reads_of({"DRUJ": 1}, version=2002).drop(columns=["not_assessable"])
    out = validate_reads(frame).frame.iloc[0]
    assert out["version"] == "2002" and out["session"] == "1" and out["design"] == "unspecified"
    assert out["modality"] == "MRI" and not out["not_assessable"]


def test_read_reads_names_file_lines_and_skips_comment_header(tmp_path):
    path = tmp_path / "reads.csv"
    path.write_text(
        "# synthetic\n"
        "patient_id,timepoint,side,system,version,reader,site,feature,grade,not_assessable\n"
        "P1,t0,R,ramris,2002,A,DRUJ,synovitis,1,false\n"
        "P1,t0,R,ramris,2002,A,MCP2,synovitis,x,false\n"
    )
    frame = read_reads(path)
    assert list(frame.index) == [3, 4]
    with pytest.raises(ValidationError) as err:
        validate_reads(frame, source=str(path))
    (problem,) = err.value.problems
    assert (problem.record, problem.field, problem.value) == (4, "grade", "x")
    assert problem.source == str(path)


def test_example_reads_file_is_valid_and_labelled_synthetic():
    from importlib.resources import files

    path = files("rheumetrics") / "data" / "example_imaging_reads.csv"
    assert path.read_text().startswith("# SYNTHETIC")
    valid = validate_reads(read_reads(str(path)))
    assert valid.frame["not_assessable"].sum() == 2
    assert set(valid.frame["system"]) == {"ramris", "haavardsholm"}
    assert len(sites("ramris", "2002")) + len(sites("haavardsholm")) == 63
