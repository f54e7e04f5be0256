"""A REDCap-style export (records CSV + 18-column data dictionary; events, a repeating
instrument, checkbox joint fields ``field___code``; ecosystem.md §4) imports through a mapping."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from rheumetrics.errors import ValidationError
from rheumetrics.numeric import round_display
from rheumetrics.store import import_file, load_therapies, load_visits


@pytest.fixture
def redcap(tmp_path: Path, h) -> tuple[Path, Path]:
    for name in ("redcap_records.csv", "redcap_dictionary.csv", "redcap_mapping.toml"):
        shutil.copy(h.data / name, tmp_path / name)
    return tmp_path / "redcap_records.csv", tmp_path / "redcap_mapping.toml"


def test_redcap_export_imports_events_checkboxes_and_repeats(engine: Engine, redcap) -> None:
    records, mapping = redcap
    result = import_file(engine, records, mapping)
    assert (result.patients_added, result.visits_added, result.therapies_added) == (2, 3, 3)
    v = load_visits(engine, joints=True).set_index(["patient_id", "visit_date"])
    base = v.loc[("1001", pd.Timestamp("2023-01-10"))]
    assert base["visit_kind"] == "baseline"
    assert v.loc[("1001", pd.Timestamp("2023-04-12")), "visit_kind"] == "follow_up"
    assert (base["tjc28"], base["sjc28"]) == (4, 5)
    assert base["tender_R_SHOULDER"] == 1 and base["tender_R_ELBOW"] == 0
    assert pd.isna(base["tender_R_HIP"])  # not in the 28-joint checkbox: not assessed
    assert pd.isna(base["tjc68"])  # so no 68-joint count
    # clinical-measures.md §14: W1 4.56 (moderate), W5 2.94 (low), W6 3.56 (moderate)
    got = round_display(v["das28_esr"].to_numpy(), 2)
    assert list(got) == [4.56, 2.94, 3.56]
    assert list(v["das28_esr_category"].astype(str)) == ["moderate", "low", "moderate"]
    t = load_therapies(engine)
    mtx = t[t["drug"] == "methotrexate"].iloc[0]
    assert (mtx["drug_class"], mtx["route"], mtx["stop_reason"]) == (
        "csDMARD",
        "oral",
        "inefficacy",
    )
    assert mtx["stop_date"] == pd.Timestamp("2023-06-01")
    assert t.loc[t["drug"] == "adalimumab", "route"].item() == "sc"


def test_redcap_reimport_changes_nothing(engine: Engine, redcap, h) -> None:
    import_file(engine, *redcap)
    before = h.snapshot(engine)
    assert not import_file(engine, *redcap).changed
    assert h.snapshot(engine) == before


def test_mapping_must_fit_the_data_dictionary(engine: Engine, redcap) -> None:
    records, mapping = redcap
    text = (
        mapping.read_text()
        .replace('"28" = "L_KNEE"', '"99" = "L_KNEE"')
        .replace('gh_mm = "gh"', 'gh_mm = "ghx"')
    )
    mapping.write_text(text)
    with pytest.raises(ValidationError) as err:
        import_file(engine, records, mapping)
    got = {(p.field, p.rule) for p in err.value.problems}
    assert ("ghx", "field is not in the REDCap data dictionary") in got
    assert ("tender28___99", "choice code not defined for this field in the dictionary") in got
    assert ("tender28___28", "dictionary choice has no joint id in [joints] choices") in got


def test_unlisted_event_with_a_visit_date_is_a_problem(engine: Engine, redcap) -> None:
    records, mapping = redcap
    mapping.write_text(mapping.read_text().replace(', month_3_arm_1 = "follow_up"', ""))
    with pytest.raises(ValidationError) as err:
        import_file(engine, records, mapping)
    (p,) = err.value.problems
    assert (p.record, p.field, p.value) == (5, "redcap_event_name", "month_3_arm_1")
    assert "not listed" in p.rule


def test_redcap_problems_name_the_line_record_id_and_event(engine: Engine, redcap) -> None:
    records, mapping = redcap
    mapping.write_text(mapping.read_text().replace(', month_3_arm_1 = "follow_up"', ""))
    with pytest.raises(ValidationError) as err:
        import_file(engine, records, mapping)
    (p,) = err.value.problems
    assert p.line == 5  # header = line 1
    assert dict(p.key)["redcap_event_name"] == "month_3_arm_1"
    assert "record_id" in dict(p.key)
    assert str(p).startswith("redcap_records.csv: line 5 (record_id ")
