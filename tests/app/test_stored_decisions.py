"""The stored latest decision of a patient always equals what the treat-to-target engine computes
now from the patient's current records, after every kind of edit, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import html
import logging

import pandas as pd
from sqlalchemy import select, text

from rheumetrics.app import decision_support as ds
from rheumetrics.app import queries, records
from rheumetrics.app import stored_decisions as sd
from rheumetrics.app.tables import DECISION_LOG
from rheumetrics.store import bulk
from rheumetrics.store.models import PATIENT, THERAPY, VISIT
from rheumetrics.t2t import decide

from .conftest import new_patient, visit_form

TENDER = ("R_WRIST", "L_MCP2", "L_PIP3", "R_PIP2")
SWOLLEN = ("R_WRIST", "R_KNEE", "L_MCP3")


def fresh(engine, key: str) -> sd.Summary:
    """The engine's decision now, from the records read independently of the stored one."""
    with engine.connect() as conn:
        row = conn.execute(select(PATIENT).where(PATIENT.c.patient_key == key)).mappings().one()
        chosen = queries.strategies(conn, [key]).get(key)
        s = ds.strategy_for(row["diagnosis"], chosen)
        raw = queries.patient_visits(conn, {int(row["id"]): key})
        visits = queries.engine_visits(conn, raw, s, [key])
        ther = queries.patient_therapies(conn, {int(row["id"]): key}).drop(columns="id")
    log = decide(
        visits.reset_index(drop=True),
        s,
        None if ther.empty else ther.rename(columns={"stop_reason": "reason"}),
    )
    return sd.summarise(log)


def stored(engine, key: str) -> tuple[sd.Summary, str]:
    with engine.connect() as conn:
        r = conn.execute(select(DECISION_LOG).where(DECISION_LOG.c.patient_key == key)).one()
    return sd.Summary.from_json(r.summary), r.strategy


def page_summary(engine, key: str) -> tuple[sd.Summary | None, list]:
    with engine.connect() as conn:
        h = queries.patient_history(conn, key)
    assert h is not None
    return h.summary, h.fresh


def check(app, key: str, strategy: str = "eular2022_ra") -> sd.Summary:
    """Stored = fresh engine call, and the page reads it without running the engine."""
    engine = app.state.ctx.engine
    now = fresh(engine, key)
    got, sid = stored(engine, key)
    assert got == now and sid == strategy
    shown, computed = page_summary(engine, key)
    assert shown == now and computed == []
    return now


def test_stored_decision_follows_every_kind_of_edit(app, signed_in):
    c = signed_in("clinician")
    engine = app.state.ctx.engine
    new_patient(c, "P-1")
    start = {"drug": "methotrexate", "drug_class": "csDMARD", "start_date": "2023-01-02",
             "dose": "15", "dose_unit": "mg/week", "route": "oral"}  # fmt: skip
    assert c.post("/patients/P-1/therapy", start).status_code == 303
    high = dict(esr_mm_h="40", gh_mm="60", ptga="6", phga="5", crp="25")
    assert (
        c.post(
            "/patients/P-1/visits/new", visit_form("2023-01-10", TENDER, SWOLLEN, **high)
        ).status_code
        == 303
    )
    first = check(app, "P-1")
    assert first.latest is not None and first.latest["visit_date"] == dt.date(2023, 1, 10)
    # a second visit (new latest decision)
    assert (
        c.post(
            "/patients/P-1/visits/new", visit_form("2023-05-10", TENDER, SWOLLEN, **high)
        ).status_code
        == 303
    )
    second = check(app, "P-1")
    assert second.latest is not None and second.latest["visit_date"] == dt.date(2023, 5, 10)
    # editing the last visit into remission changes the decision
    with engine.connect() as conn:
        vid = conn.execute(select(VISIT.c.id).order_by(VISIT.c.visit_date.desc())).first()[0]
    low = dict(esr_mm_h="5", gh_mm="2", ptga="0", phga="0", crp="1", version="1")
    assert c.post(f"/visits/{vid}/edit", visit_form("2023-05-10", **low)).status_code == 303
    edited = check(app, "P-1")
    assert edited.latest is not None
    assert edited.latest["index_value"] != second.latest["index_value"]
    # stopping the course, then starting another
    with engine.connect() as conn:
        tid = conn.execute(select(THERAPY.c.id)).scalar_one()
    stop = {"stop_therapy_id": str(tid), "stop_date": "2023-04-01", "stop_reason": "inefficacy"}
    assert c.post("/patients/P-1/therapy", stop).status_code == 303
    check(app, "P-1")
    start2 = {**start, "drug": "sulfasalazine", "start_date": "2023-04-02", "dose": "2000",
              "dose_unit": "mg/day"}  # fmt: skip
    assert c.post("/patients/P-1/therapy", start2).status_code == 303
    check(app, "P-1")
    # another strategy
    with engine.connect() as conn:
        version = records.version(conn, "patient", "P-1")
    r = c.post("/patients/P-1/strategy", {"strategy": "acr2021_ra", "version": str(version)})
    assert r.status_code == 303
    check(app, "P-1", "acr2021_ra")
    page = c.get("/patients/P-1").text
    latest = fresh(engine, "P-1").latest
    assert latest is not None and html.escape(latest["sentence"], quote=False) in page


def test_changes_made_outside_the_app_and_engine_upgrades_are_seen(app, signed_in, monkeypatch):
    c = signed_in("clinician")
    engine = app.state.ctx.engine
    new_patient(c, "P-2")
    form = visit_form(
        "2024-02-01", TENDER, SWOLLEN, esr_mm_h="30", gh_mm="50", ptga="5", phga="4", crp="12"
    )
    assert c.post("/patients/P-2/visits/new", form).status_code == 303
    before = check(app, "P-2")
    # e.g. `rheumetrics import` or a correction in the database: the app was not told
    with engine.begin() as conn:
        conn.execute(text("UPDATE clinical SET phga = 0"))
        conn.execute(text("UPDATE pro SET ptga = 0, gh_mm = 0"))
    now = fresh(engine, "P-2")
    assert now != before and stored(engine, "P-2")[0] == before  # the stored row is stale
    shown, computed = page_summary(engine, "P-2")
    assert shown == now and len(computed) == 1  # recomputed, never the stale row
    assert c.get("/patients/P-2").status_code == 200  # the page view stores the new one
    check(app, "P-2")
    # a new engine or strategy file: every stored decision is stale
    with engine.connect() as conn:
        old = conn.execute(select(DECISION_LOG.c.strategy_version)).scalar_one()
    monkeypatch.setattr(sd, "engine_version", lambda: "another engine")
    monkeypatch.setattr(sd, "_VERSIONS", {})
    shown, computed = page_summary(engine, "P-2")
    assert shown == now and len(computed) == 1 and computed[0]["strategy_version"] != old
    c.get("/patients/P-2")
    check(app, "P-2")


def test_filled_in_bulk_equals_one_engine_call_per_patient(app, signed_in):
    """``fill_decisions`` runs the engine over many patients at once; each stored decision must
    equal the engine run on that patient alone, and the list page shows it."""
    c = signed_in("clinician")
    engine = app.state.ctx.engine
    n = 12
    patients = pd.DataFrame(
        {
            "id": range(1, n + 1),
            "patient_key": [f"B{i:03d}" for i in range(1, n + 1)],
            "diagnosis": ["ra"] * (n - 2) + ["axspa"] * 2,
            "sex": "female",
            "birth_year": 1970,
        }
    )
    pid = [i for i in range(1, n + 1) for _ in range(3)]
    visits = pd.DataFrame(
        {
            "id": range(1, len(pid) + 1),
            "patient_id": pid,
            "visit_date": [
                f"2022-0{1 + 3 * k}-1{i % 10}" for i in range(1, n + 1) for k in range(3)
            ],
            "kind": "routine",
        }
    )
    vid = visits["id"]
    clinical = pd.DataFrame({"visit_id": vid, "tjc28": vid % 9, "sjc28": vid % 5,
                             "phga": (vid % 10).astype(float)})  # fmt: skip
    lab = pd.DataFrame({"visit_id": vid, "esr_mm_h": 5.0 + vid % 50, "crp_mg_l": 1.0 + vid % 30,
                        "esr_mm_h_source_unit": "mm/h", "crp_mg_l_source_unit": "mg/L"})  # fmt: skip
    pro = pd.DataFrame({"visit_id": vid, "gh_mm": (vid * 7 % 100).astype(float),
                        "ptga": (vid % 10).astype(float)})  # fmt: skip
    therapy = pd.DataFrame(
        {
            "id": range(1, 7),
            "patient_id": [1, 2, 3, 3, 4, 11],
            "drug": [
                "methotrexate",
                "methotrexate",
                "methotrexate",
                "adalimumab",
                "sulfasalazine",
                "adalimumab",
            ],
            "drug_class": ["csDMARD", "csDMARD", "csDMARD", "bDMARD", "csDMARD", "bDMARD"],
            "dose": [15.0, 20.0, 15.0, 40.0, 2000.0, 40.0],
            "dose_unit": ["mg/week", "mg/week", "mg/week", "mg/2 weeks", "mg/day", "mg/2 weeks"],
            "route": ["oral", "oral", "oral", "sc", "oral", "sc"],
            "start_date": [
                "2021-06-01",
                "2021-06-01",
                "2021-01-01",
                "2022-05-01",
                "2022-01-01",
                "2021-03-01",
            ],
            "stop_date": [None, "2022-06-01", None, None, None, None],
            "stop_reason": [None, "adverse_event", None, None, None, None],
        }
    )
    with engine.begin() as conn:
        for name, frame in (("patient", patients), ("visit", visits), ("clinical", clinical),
                            ("lab", lab), ("pro", pro), ("therapy", therapy)):  # fmt: skip
            bulk.insert_frame(conn, name, frame)
    assert queries.fill_decisions(engine, chunk=5) == n
    assert queries.fill_decisions(engine, chunk=5) == 0  # all still valid
    for key in patients["patient_key"]:
        diagnosis = patients.set_index("patient_key").loc[key, "diagnosis"]
        check(app, key, "eular2022_ra" if diagnosis == "ra" else "asas_eular2022_axspa")
    listing = c.get("/patients", params={"q": "B00"}).text
    latest = fresh(engine, "B003").latest
    assert latest is not None and f"{latest['index_value']:.2f}" in listing


def test_serve_fills_missing_decisions_at_start(app, signed_in, caplog):
    from rheumetrics.app.cli import _fill_decisions

    c = signed_in("clinician")
    engine = app.state.ctx.engine
    new_patient(c, "P-3")
    form = visit_form("2024-03-01", TENDER, SWOLLEN, esr_mm_h="20", gh_mm="40", ptga="4", phga="3")
    assert c.post("/patients/P-3/visits/new", form).status_code == 303
    with engine.begin() as conn:
        conn.execute(DECISION_LOG.delete())
    with caplog.at_level(logging.INFO, logger="rheumetrics.app"):
        _fill_decisions(engine)
    assert "stored the latest decision of 1 patients" in caplog.text and "P-3" not in caplog.text
    check(app, "P-3")
