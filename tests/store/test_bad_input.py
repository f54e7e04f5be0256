"""Every class of bad input is reported (file, row, column, value, rule), all together, and an
all-or-nothing import of a bad file stores nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from rheumetrics.errors import ValidationError
from rheumetrics.store import check_mapping, import_file, load_mapping
from rheumetrics.store.mapping import parse_mapping


def _problems(err: pytest.ExceptionInfo[ValidationError]) -> dict[tuple[object, str], str]:
    return {(p.record, p.field): p.rule for p in err.value.problems}


def test_every_bad_value_is_reported_with_its_row_and_nothing_is_stored(
    engine: Engine, clinic, h
) -> None:
    v = h.visits
    v[0]["override"] = {"esr": "-5"}  # impossible value (row 2)
    v[1]["override"] = {"date": "2020-02-30"}  # not a date (row 3)
    v[2]["override"] = {"crp_unit": "mmol/L"}  # wrong unit (row 4)
    v[3]["override"] = {"t_R_WRIST": "2", "ptga": "lots"}  # joint value and number (row 5)
    v.append({**v[3], "override": {}})  # duplicate visit of row 5 (row 6)
    v.append(
        {**v[2], "date": "2099-01-01", "sex": "X", "override": {}}
    )  # future date, unmapped code (row 7)
    src, mapping = clinic(v)
    before = h.snapshot(engine)
    with pytest.raises(ValidationError) as err:
        import_file(engine, src, mapping)
    got = _problems(err)
    # ESR must be >= 1 mm/h: read in whole mm (ICSH 2011); ln(ESR) is undefined at 0
    assert "must be a number >= 1 and <= 300" in got[(2, "esr")]
    assert "not a date in the format %Y-%m-%d" in got[(3, "date")]
    assert "unit not accepted for crp_mg_l" in got[(4, "crp_unit")]
    assert "mg/dL" in got[(4, "crp_unit")]  # says what is allowed
    assert "must be 1 or 0 or empty" in got[(5, "t_R_WRIST")]
    assert "not a number" in got[(5, "ptga")]
    assert "duplicate visit" in got[(6, "date")]
    assert "not in the future" in got[(7, "date")]
    assert "values table" in got[(7, "sex")]
    assert all(p.source == "clinic.csv" for p in err.value.problems)
    frame = err.value.to_frame()
    assert list(frame.columns) == ["source", "line", "record", "key", "field", "value", "rule"]
    rows = [p for p in err.value.problems if p.record != "(file)"]
    assert all(p.line == p.record for p in rows)  # CSV header = line 1, first data row = line 2
    assert [p.line for p in rows] == sorted(p.line for p in rows)  # sorted by line
    esr = next(p for p in rows if p.field == "esr")
    assert dict(esr.key) == {"patient_id": "P1", "visit_date": "2020-01-15"}
    assert "clinic.csv: line 2 (patient_id P1, visit_date 2020-01-15), field 'esr'" in str(esr)
    assert ("-5" in frame["value"].astype(str).tolist()) and ("mmol/L" in frame["value"].tolist())
    assert h.snapshot(engine) == before


def test_impossible_counts_and_count_joint_disagreement(engine: Engine, clinic, h) -> None:
    mapping = h.mapping.replace('phga = "phga"', 'phga = "phga"\ntjc28 = "tjc28"\nsjc28 = "sjc28"')
    v = h.visits
    for row in v:
        row["override"] = {"tjc28": "", "sjc28": ""}
    v[0]["override"] = {"tjc28": "4", "sjc28": "29"}  # sjc28 > 28 is impossible (row 2)
    v[1]["override"] = {"tjc28": "3", "sjc28": "1"}  # joints give 1 tender joint (row 3)
    src, m = clinic(v, mapping=mapping)
    with pytest.raises(ValidationError) as err:
        import_file(engine, src, m)
    got = _problems(err)
    assert "<= 28" in got[(2, "sjc28")]
    assert "tjc28 = 3 but the per-joint findings give 1" in got[(3, "tjc28")]
    assert (2, "tjc28") not in got  # 4 agrees with the findings


def test_unknown_joint_id_in_a_column_name(engine: Engine, clinic, h) -> None:
    v = h.visits
    v[0]["override"] = {"t_R_MCP6": "1"}
    src, m = clinic(v)
    with pytest.raises(ValidationError) as err:
        import_file(engine, src, m, mode="quarantine")  # a whole-file problem stops quarantine too
    (p,) = [p for p in err.value.problems if p.field == "t_R_MCP6"]
    assert p.value == "R_MCP6" and "unknown joint id" in p.rule


def test_conflicting_patient_data_between_rows(engine: Engine, clinic, h) -> None:
    v = h.visits
    v[1]["sex"] = "M"  # P1 is F in row 2
    src, m = clinic(v)
    with pytest.raises(ValidationError) as err:
        import_file(engine, src, m)
    rules = [p.rule for p in err.value.problems if p.field == "sex"]
    assert len(rules) == 2 and all(
        "patient P1 has conflicting values: female, male" in r for r in rules
    )


def test_mapping_errors_are_all_reported_at_once(tmp_path) -> None:
    text = """
[source]
format = "xls"
colour = "blue"

[patient]
id = "pid"
diagnosis = { value = "gout" }

[visit]
date = "d"

[values]
crp_mg_l = { column = "crp", unit = "mmol/L" }
das99 = "x"

[joints]
tender = { columns = { R_MCP9 = "t9" } }
"""
    with pytest.raises(ValidationError) as err:
        parse_mapping(text)
    got = {(p.record, p.field): (p.value, p.rule) for p in err.value.problems}
    assert got[("source", "format")][0] == "xls"
    assert "unknown key" in got[("source", "colour")][1]
    assert "must be one of ra" in got[("patient.diagnosis", "value")][1]
    assert "allowed: mg/L" in got[("values.crp_mg_l", "unit")][1]
    assert "unknown item" in got[("values", "das99")][1]
    assert "unknown joint id" in got[("joints.tender.columns", "R_MCP9")][1]
    assert len(err.value.problems) == 6


def test_invalid_toml_and_missing_patient_table() -> None:
    with pytest.raises(ValidationError, match="not valid TOML"):
        parse_mapping("[source\nformat = 'csv'")
    with pytest.raises(ValidationError, match="a \\[patient\\] table"):
        parse_mapping("[visit]\ndate = 'd'\n")


def test_check_mapping_against_the_source_header(clinic, h) -> None:
    src, m = clinic()
    assert load_mapping(m).format == "csv"
    check_mapping(m, src)  # fits
    bad = m.with_name("bad.toml")
    bad.write_text(h.mapping.replace('gh_mm = "gh"', 'gh_mm = "general_health"'), encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        check_mapping(bad, src)
    assert [(p.field, p.rule) for p in err.value.problems] == [
        ("general_health", "column named by the mapping is not in the file")
    ]
