"""Natural keys: a stored value is never overwritten silently; missing values are filled in."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from rheumetrics.errors import ValidationError
from rheumetrics.numeric import round_display
from rheumetrics.store import import_file, load_visits


def test_changed_value_is_a_conflict_unless_update(engine: Engine, clinic, h) -> None:
    import_file(engine, *clinic())
    before = h.snapshot(engine)
    v = h.visits
    # becomes worked example W5 (clinical-measures.md §14): TJC28 2, SJC28 2, ESR 10, GH 10 -> 2.94
    v[0].update(
        esr="10", gh="10", tender=["R_KNEE", "L_KNEE", "L_ANKLE"], swollen=["R_PIP2", "L_PIP2"]
    )
    src, m = clinic(v, name="changed.csv")
    with pytest.raises(ValidationError) as err:
        import_file(engine, src, m)
    got = {(p.record, p.field): p for p in err.value.problems}
    assert "already holds 44.0" in got[(2, "esr_mm_h")].rule
    assert got[(2, "tender_L_ANKLE")].value == 1
    assert h.snapshot(engine) == before
    result = import_file(engine, src, m, on_conflict="update")
    assert result.visits_updated == 1 and result.visits_scored == 1
    first = load_visits(engine).iloc[0]
    assert (first["esr_mm_h"], first["tjc28"], first["sjc28"], first["tjc68"]) == (10, 2, 2, 3)
    assert round_display(first["das28_esr"], 2) == 2.94  # W5, re-scored after the update


def test_second_file_fills_missing_values(engine: Engine, clinic, h, tmp_path) -> None:
    import_file(engine, *clinic())
    labs = h.write_csv(
        tmp_path / "labs.csv", [{"patient": "P2", "date": "2021-06-01", "esr": "20"}]
    )
    mapping = tmp_path / "labs.toml"
    mapping.write_text(
        '[patient]\nid = "patient"\n[visit]\ndate = "date"\n[values]\nesr_mm_h = "esr"\n'
    )
    result = import_file(engine, labs, mapping)
    assert (result.visits_added, result.visits_updated, result.patients_updated) == (0, 1, 0)
    row = load_visits(engine, ["P2"]).iloc[1]
    assert row["esr_mm_h"] == 20 and row["ptga"] == 2  # filled in, earlier values kept
    assert not import_file(engine, labs, mapping).changed
