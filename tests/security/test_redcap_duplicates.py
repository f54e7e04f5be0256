"""A REDCap export holding the same record id and event twice is a problem naming both lines,
not two baseline visits."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from rheumetrics.errors import ValidationError
from rheumetrics.store import import_file, load_visits

DATA = Path(__file__).parents[1] / "store" / "data"


def _records_with_a_repeated_event(tmp_path: Path) -> Path:
    lines = (DATA / "redcap_records.csv").read_text(encoding="utf-8").splitlines()
    twin = lines[1].replace("2023-01-10", "2023-02-10", 1)  # record 1001, baseline_arm_1 again
    assert twin != lines[1]
    out = tmp_path / "records.csv"
    out.write_text("\n".join([*lines, twin]) + "\n", encoding="utf-8")
    for name in ("redcap_mapping.toml", "redcap_dictionary.csv"):
        (tmp_path / name).write_text((DATA / name).read_text(encoding="utf-8"), encoding="utf-8")
    return out


def test_repeated_record_and_event_is_refused_naming_both_lines(
    engine: Engine, tmp_path: Path
) -> None:
    src = _records_with_a_repeated_event(tmp_path)
    last = len(src.read_text().splitlines())
    with pytest.raises(ValidationError) as err:
        import_file(engine, src, tmp_path / "redcap_mapping.toml")
    dup = [p for p in err.value.problems if p.field == "redcap_event_name"]
    assert sorted(p.record for p in dup) == [2, last]
    assert all(f"lines 2 and {last}" in p.rule and "1001" in p.rule for p in dup)
    assert load_visits(engine).empty


def test_quarantine_sets_both_rows_aside(engine: Engine, tmp_path: Path) -> None:
    src = _records_with_a_repeated_event(tmp_path)
    result = import_file(engine, src, tmp_path / "redcap_mapping.toml", mode="quarantine")
    visits = load_visits(engine)
    baseline = visits[(visits["patient_id"] == "1001") & (visits["visit_kind"] == "baseline")]
    assert baseline.empty  # neither of the two conflicting baselines is stored
    assert result.quarantined_rows == 2
