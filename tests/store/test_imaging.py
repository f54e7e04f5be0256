"""Imaging reads (imaging-scores.md §0): one row per patient, time point, side, modality,
system + version, reader, session, site and feature, with a grade or a not-assessable flag."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from rheumetrics.errors import ValidationError
from rheumetrics.store import import_file, load_imaging_reads

MAPPING = """
[patient]
id = "patient"
[imaging]
timepoint = "tp"
image_date = "date"
side = "side"
modality = { value = "MRI" }
system = { value = "ramris" }
version = { value = "2002" }
reader = "reader"
design = { value = "paired_blinded_order" }
site = "site"
feature = "feature"
grade = "grade"
not_assessable = "na"
"""

ROWS = [
    {"patient": "P1", "tp": "baseline", "date": "2021-01-05", "side": "R", "reader": "A", "site": "MCP2", "feature": "synovitis", "grade": "2", "na": "no"},
    {"patient": "P1", "tp": "baseline", "date": "2021-01-05", "side": "R", "reader": "A", "site": "MCP3", "feature": "synovitis", "grade": "", "na": "yes"},
    {"patient": "P1", "tp": "week 52", "date": "2022-01-04", "side": "R", "reader": "A", "site": "MCP2", "feature": "synovitis", "grade": "1", "na": "no"},
]  # fmt: skip


def test_imaging_reads_round_trip(engine: Engine, h, tmp_path) -> None:
    src = h.write_csv(tmp_path / "reads.csv", ROWS)
    (tmp_path / "reads.toml").write_text(MAPPING)
    result = import_file(engine, src, tmp_path / "reads.toml")
    assert result.imaging_added == 3
    reads = load_imaging_reads(engine).sort_values(["timepoint", "site"], ignore_index=True)
    assert list(reads["grade"].fillna(-1)) == [2, -1, 1]
    assert list(reads["not_assessable"]) == [False, True, False]
    assert set(reads["design"]) == {"paired_blinded_order"} and set(reads["session"]) == {"1"}
    assert not import_file(engine, src, tmp_path / "reads.toml").changed


def test_imaging_read_rules(engine: Engine, h, tmp_path) -> None:
    rows = [dict(r) for r in ROWS]
    rows[0]["grade"] = ""  # no grade, not flagged (row 2)
    rows[1]["grade"] = "1"  # graded but flagged not assessable (row 3)
    rows.append(dict(ROWS[2]))  # duplicate read (rows 4 and 5)
    rows.append({**ROWS[0], "site": "MCP4", "side": "X"})  # row 6
    src = h.write_csv(tmp_path / "reads.csv", rows)
    (tmp_path / "reads.toml").write_text(MAPPING)
    with pytest.raises(ValidationError) as err:
        import_file(engine, src, tmp_path / "reads.toml")
    got = {(p.record, p.field): p.rule for p in err.value.problems}
    assert "give a grade or mark the site not assessable" in got[(2, "grade")]
    assert "must have no grade" in got[(3, "grade")]
    assert "must be one of L, R, M, B" in got[(6, "side")]
    assert "duplicate imaging read" in got[(4, "timepoint")]
    assert "duplicate imaging read" in got[(5, "timepoint")]


def test_reads_are_checked_against_the_imaging_catalogue(engine: Engine, h, tmp_path) -> None:
    # imaging-scores.md §1.2-1.3: RAMRIS 2002 synovitis sites (no MCP1) graded 0-3 in whole steps
    rows = [dict(r) for r in ROWS]
    rows[0]["grade"] = "4"  # off the 0-3 synovitis scale
    rows[2]["site"] = "MCP1"  # not a RAMRIS synovitis site
    src = h.write_csv(tmp_path / "reads.csv", rows)
    (tmp_path / "reads.toml").write_text(MAPPING)
    with pytest.raises(ValidationError) as err:
        import_file(engine, src, tmp_path / "reads.toml")
    got = {(p.record, p.field): p.rule for p in err.value.problems}
    assert "off the scale" in got[(2, "grade")] and "0-3" in got[(2, "grade")]
    assert (4, "site") in got
    assert load_imaging_reads(engine).empty  # nothing stored
