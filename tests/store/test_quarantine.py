"""Quarantine mode keeps every valid row, stores the bad ones with their reasons, and a
re-import of the same file adds nothing."""

from __future__ import annotations

import json

from sqlalchemy import Engine, text

from rheumetrics.store import import_file, load_visits


def test_quarantine_keeps_valid_rows_and_records_bad_ones(engine: Engine, clinic, h) -> None:
    v = h.visits
    v[1]["override"] = {"crp": "-3"}  # row 3 impossible CRP
    v[3]["override"] = {"date": "01/06/2021"}  # row 5 wrong date format
    src, m = clinic(v)
    result = import_file(engine, src, m, mode="quarantine")
    assert result.visits_added == 2 and result.quarantined_rows == 2
    visits = load_visits(engine)
    assert sorted(visits["visit_date"].dt.strftime("%Y-%m-%d")) == ["2020-01-15", "2021-03-01"]
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT row, field, value, rule, raw FROM quarantine ORDER BY row")
        ).all()
    assert [(r[0], r[1], r[2]) for r in rows] == [("3", "crp", "-3"), ("5", "date", "01/06/2021")]
    assert "must be a number >= 0" in rows[0][3]
    raw = rows[1][4] if isinstance(rows[1][4], dict) else json.loads(rows[1][4])
    assert raw["patient"] == "P2" and raw["date"] == "01/06/2021"  # the whole source row is kept
    before = h.snapshot(engine)
    again = import_file(engine, src, m, mode="quarantine")
    assert not again.changed and h.snapshot(engine) == before


def test_fixed_rows_can_be_imported_afterwards(engine: Engine, clinic, h) -> None:
    v = h.visits
    v[1]["override"] = {"crp": "-3"}
    src, m = clinic(v, name="first.csv")
    import_file(engine, src, m, mode="quarantine")
    fixed, m = clinic(name="fixed.csv")
    result = import_file(engine, fixed, m)
    assert result.visits_added == 1 and result.visits_updated == 0
    assert len(load_visits(engine)) == 4
