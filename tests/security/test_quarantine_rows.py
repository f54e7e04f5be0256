"""Quarantine mode keeps every valid row: a conflict on a patient's first row in the file sets
aside that row only, never the patient's other new rows (issue: 20,000 of 20,002 rows stored)."""

from __future__ import annotations

from sqlalchemy import Engine, text

from rheumetrics.store import import_file, load_visits


def _dates(engine: Engine, patient: str) -> list[str]:
    v = load_visits(engine)
    return sorted(v.loc[v["patient_id"] == patient, "visit_date"].dt.strftime("%Y-%m-%d"))


def _quarantined(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [
            tuple(r) for r in conn.execute(text("SELECT row, field FROM quarantine ORDER BY row"))
        ]


def test_visit_conflict_on_first_row_keeps_the_patients_other_rows(
    engine: Engine, clinic, h
) -> None:
    src, m = clinic(h.visits[:1], name="first.csv")  # P1 baseline stored
    import_file(engine, src, m)
    later = [dict(h.visits[0], override={"esr": "45"})]  # row 2: conflicts with stored ESR 44
    for month, date in enumerate(("2020-04-15", "2020-07-15", "2020-10-15"), start=1):
        later.append(dict(h.visits[1], date=date, visit=f"month {3 * month}"))
    later += h.visits[2:]  # P2, new
    src2, m = clinic(later, name="second.csv")
    result = import_file(engine, src2, m, mode="quarantine")
    assert result.visits_added == 5 and result.quarantined_rows == 1
    assert _dates(engine, "P1") == ["2020-01-15", "2020-04-15", "2020-07-15", "2020-10-15"]
    assert _dates(engine, "P2") == ["2021-03-01", "2021-06-01"]
    assert _quarantined(engine) == [("2", "esr_mm_h")]
    stored = load_visits(engine)
    assert stored.loc[stored["visit_date"] == "2020-01-15", "esr_mm_h"].item() == 44
    again = import_file(engine, src2, m, mode="quarantine")  # re-import: nothing new
    assert not again.changed


def test_patient_field_conflict_keeps_the_patient_and_stores_the_other_rows(
    engine: Engine, clinic, h
) -> None:
    src, m = clinic(h.visits[:1], name="first.csv")
    import_file(engine, src, m)
    later = [dict(v, sex="M") for v in h.visits[:2]]  # P1's sex differs from the stored F
    src2, m = clinic(later, name="second.csv")
    result = import_file(engine, src2, m, mode="quarantine")
    assert result.quarantined_rows == 1 and result.visits_added == 1
    assert _dates(engine, "P1") == ["2020-01-15", "2020-04-15"]
    with engine.connect() as conn:
        sex = conn.execute(text("SELECT sex FROM patient WHERE patient_key = 'P1'")).scalar_one()
    assert sex == "female"  # the stored value is never replaced silently
    assert _quarantined(engine) == [("2", "sex")]


def test_every_row_is_stored_or_quarantined(engine: Engine, clinic, h) -> None:
    """20 patients x 3 visits stored, then 20 x 5 rows whose first rows conflict: 80 new
    visits stored and the 20 conflicting rows quarantined (nothing lost)."""
    base = h.visits[0]
    first = [
        dict(base, patient=f"Q{i}", date=f"2019-0{1 + j}-10") for i in range(20) for j in range(3)
    ]
    src, m = clinic(first, name="first.csv")
    assert import_file(engine, src, m).visits_added == 60
    rows = []
    for i in range(20):
        rows.append(dict(base, patient=f"Q{i}", date="2019-01-10", override={"esr": "50"}))
        rows += [dict(base, patient=f"Q{i}", date=f"2020-0{1 + j}-10") for j in range(4)]
    src2, m = clinic(rows, name="second.csv")
    result = import_file(engine, src2, m, mode="quarantine")
    assert result.visits_added == 80 and result.quarantined_rows == 20
    assert len(load_visits(engine)) == 140
