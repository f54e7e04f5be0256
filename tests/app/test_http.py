"""HTTP-level tests of the clinic app on SQLite and PostgreSQL (the ``app`` fixture runs both)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from rheumetrics.app.tables import AUDIT, DECISION, USER
from rheumetrics.measures import das28_esr, sdai
from rheumetrics.store.models import VISIT, VISIT_SCORE

from .conftest import PASSWORD, csrf_of, new_patient, visit_form

TENDER = ("R_WRIST", "L_MCP2", "L_PIP3")
SWOLLEN = ("R_WRIST", "R_KNEE")


def _visits(app) -> int:
    with app.state.ctx.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(VISIT)).scalar() or 0)


def test_anonymous_requests_are_redirected_or_refused(app, signed_in):
    c = signed_in(None)
    r = c.get("/patients", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/patients"
    assert c.get("/patients/P-001", follow_redirects=False).status_code == 303
    assert c.get("/admin/audit", follow_redirects=False).status_code == 303
    assert c.post("/api/score", {}, csrf=False).status_code == 401
    assert c.get("/login").status_code == 200
    assert c.get("/static/app.js").status_code == 200


def test_session_cookie_flags_and_argon2id_hashes(app):
    from starlette.testclient import TestClient

    http = TestClient(app)
    page = http.get("/login")
    r = http.post(
        "/login",
        data={"username": "admin", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    cookie = r.headers["set-cookie"].lower()
    assert "rm_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    with app.state.ctx.engine.connect() as conn:
        hashes = conn.execute(select(USER.c.password_hash)).scalars().all()
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert "default-src 'self'" in r.headers["content-security-policy"]


def test_login_throttled_after_repeated_failures(app):
    from starlette.testclient import TestClient

    http = TestClient(app)
    for _ in range(5):
        page = http.get("/login")
        r = http.post(
            "/login",
            data={"username": "admin", "password": "wrong", "csrf_token": csrf_of(page.text)},
        )
        assert r.status_code == 401
    page = http.get("/login")
    r = http.post(
        "/login", data={"username": "admin", "password": PASSWORD, "csrf_token": csrf_of(page.text)}
    )
    assert r.status_code == 429 and "Retry-After" in r.headers


def test_missing_or_wrong_csrf_token_is_refused(app, signed_in):
    c = signed_in("clinician")
    data = {"patient_key": "P-009", "diagnosis": "ra"}
    assert c.post("/patients/new", data, csrf=False).status_code == 403
    assert c.post("/patients/new", {**data, "csrf_token": "forged"}, csrf=False).status_code == 403
    assert c.post("/api/score", {}, csrf=False).status_code == 403
    from starlette.testclient import TestClient

    login = TestClient(app).post("/login", data={"username": "admin", "password": PASSWORD})
    assert login.status_code == 403
    assert "P-009" not in c.get("/patients").text


def test_researcher_reads_but_cannot_edit(app, signed_in):
    new_patient(signed_in("clinician"))
    r = signed_in("researcher")
    page = r.get("/patients/P-001")
    assert page.status_code == 200 and "born 1960" not in page.text and "New visit" not in page.text
    assert r.get("/patients/P-001/visits/new").status_code == 403
    assert r.post("/patients/P-001/visits/new", visit_form("2024-01-10")).status_code == 403
    assert r.post("/patients/new", {"patient_key": "P-002", "diagnosis": "ra"}).status_code == 403
    assert r.get("/admin/audit").status_code == 403
    assert r.get("/admin/users").status_code == 403
    assert _visits(app) == 0


def test_saved_visit_is_scored_and_shown(app, signed_in):
    c = signed_in("clinician")
    new_patient(c)
    form = visit_form(
        "2024-01-10",
        TENDER,
        SWOLLEN,
        esr_mm_h="30",
        gh_mm="50",
        ptga="5",
        phga="4",
        crp="1.5",
        crp_unit="mg/dL",
    )
    assert c.post("/patients/P-001/visits/new", form).status_code == 303
    with app.state.ctx.engine.connect() as conn:
        row = conn.execute(select(VISIT_SCORE.c.das28_esr, VISIT_SCORE.c.sdai)).one()
    # 3 tender, 2 swollen of 28; CRP 1.5 mg/dL = 15 mg/L stored canonical
    assert row.das28_esr == pytest.approx(das28_esr(tjc28=3, sjc28=2, esr_mm_h=30, gh_mm=50))
    assert row.sdai == pytest.approx(sdai(tjc28=3, sjc28=2, ptga=5, phga=4, crp_mg_l=15))
    page = c.get("/patients/P-001").text
    assert "2024-01-10" in page and "<svg" in page and "target" in page


def test_form_errors_name_field_value_rule_and_store_nothing(app, signed_in):
    c = signed_in("clinician")
    new_patient(c)
    form = visit_form(
        "2024-01-10", esr_mm_h="0", gh_mm="120", ptga="٣", crp="5", crp_unit="furlongs"
    )
    r = c.post("/patients/P-001/visits/new", form)
    assert r.status_code == 422
    text = r.text
    # ESR is read in whole mm/h from 1 (ICSH, Jou et al. 2011): 0 is not a reading
    assert "esr_mm_h" in text and "must be a number &gt;= 1" in text
    assert "gh_mm" in text and "<code>120</code>" in text and "&lt;= 100" in text
    assert "ptga" in text and "plain decimal" in text
    assert "crp_unit" in text and "mg/dL" in text
    assert _visits(app) == 0


def test_live_score_panel_and_warnings(app, signed_in):
    c = signed_in("clinician")
    form = visit_form(
        "2024-03-01",
        TENDER,
        SWOLLEN,
        esr_mm_h="30",
        gh_mm="50",
        crp="45",
        crp_unit="mg/dL",
        lab_date="2023-12-01",
        diagnosis="ra",
    )
    r = c.post("/api/score", form)
    assert r.status_code == 200
    expected = das28_esr(tjc28=3, sjc28=2, esr_mm_h=30, gh_mm=50)
    assert f"{expected:.2f}" in r.text
    assert "was it measured in mg/L" in r.text
    assert "91 days older than the visit" in r.text
    assert "missing" in r.text  # CDAI/SDAI: no physician global given
    empty = c.post("/api/score", visit_form("2024-03-01", diagnosis="axspa"))
    assert 'data-score="asdas_crp"' in empty.text and "missing" in empty.text


def test_concurrent_edits_give_a_conflict_not_a_lost_update(app, signed_in):
    a, b = signed_in("clinician"), signed_in("clinician2")
    new_patient(a)
    assert (
        a.post("/patients/P-001/visits/new", visit_form("2024-01-10", esr_mm_h="20")).status_code
        == 303
    )
    with app.state.ctx.engine.connect() as conn:
        vid = conn.execute(select(VISIT.c.id)).scalar_one()
    form_a, form_b = a.get(f"/visits/{vid}/edit").text, b.get(f"/visits/{vid}/edit").text
    assert 'name="version" value="1"' in form_a and 'name="version" value="1"' in form_b
    assert (
        a.post(
            f"/visits/{vid}/edit", visit_form("2024-01-10", esr_mm_h="25", version="1")
        ).status_code
        == 303
    )
    r = b.post(f"/visits/{vid}/edit", visit_form("2024-01-10", esr_mm_h="99", version="1"))
    assert r.status_code == 409 and "changed by someone else" in r.text
    assert 'name="esr_mm_h" value="25"' in a.get(f"/visits/{vid}/edit").text


def test_decision_accept_override_and_audit(app, signed_in):
    c = signed_in("clinician")
    new_patient(c)
    c.post(
        "/patients/P-001/therapy",
        {
            "drug": "methotrexate",
            "drug_class": "csDMARD",
            "start_date": "2023-06-01",
            "dose": "15",
            "dose_unit": "mg/week",
            "route": "oral",
        },
    )
    form = visit_form(
        "2024-01-10", TENDER, SWOLLEN, esr_mm_h="30", gh_mm="50", ptga="5", phga="4", crp="15"
    )
    assert c.post("/patients/P-001/visits/new", form).status_code == 303
    with app.state.ctx.engine.connect() as conn:
        vid = conn.execute(select(VISIT.c.id)).scalar_one()
    page = c.get("/patients/P-001").text
    assert "Treat-to-target decision" in page and "methotrexate" in page
    bad = c.post(
        f"/visits/{vid}/decision",
        {"choice": "override", "actual_action": "continue", "reason": "", "version": "0"},
    )
    assert bad.status_code == 422 and "reason" in bad.text
    ok = c.post(
        f"/visits/{vid}/decision",
        {
            "choice": "override",
            "actual_action": "continue",
            "reason": "patient prefers to wait",
            "version": "0",
        },
    )
    assert ok.status_code == 303
    with app.state.ctx.engine.connect() as conn:
        d = conn.execute(select(DECISION)).mappings().one()
        audit_rows = conn.execute(select(AUDIT.c.entity, AUDIT.c.action, AUDIT.c.username)).all()
    assert (
        d["actual_action"] == "continue"
        and not d["accepted"]
        and d["reason"] == "patient prefers to wait"
    )
    assert {
        ("patient", "create"),
        ("visit", "create"),
        ("therapy", "create"),
        ("decision", "create"),
    } <= {(e, a) for e, a, _ in audit_rows}
    assert signed_in("clinician").get("/admin/audit").status_code == 403
    audit_page = signed_in("admin").get("/admin/audit").text
    assert "patient prefers to wait" in audit_page and "clinician" in audit_page
    stale = c.post(f"/visits/{vid}/decision", {"choice": "accept", "version": "0"})
    assert stale.status_code == 409
    dash = c.get("/dashboard").text
    assert "1 recorded" in dash


def test_no_patient_key_in_logs(app, signed_in, caplog):
    c = signed_in("clinician")
    with caplog.at_level(logging.INFO, logger="rheumetrics.app"):
        new_patient(c, "SECRET-KEY-77")
        c.get("/patients/SECRET-KEY-77")
        c.post("/patients/SECRET-KEY-77/visits/new", visit_form("2024-01-10", esr_mm_h="0"))
    assert caplog.records and "/patients/{key}" in caplog.text
    assert "SECRET-KEY-77" not in caplog.text


def test_user_add_command(tmp_path):
    from rheumetrics.cli import app as cli

    url = f"sqlite:///{tmp_path / 'u.sqlite'}"
    r = CliRunner().invoke(
        cli, ["user", "add", "boss", "--db", url, "--password-stdin"], input="long enough pw\n"
    )
    assert r.exit_code == 0, r.output
    bad = CliRunner().invoke(
        cli,
        ["user", "add", "x", "--role", "king", "--db", url, "--password-stdin"],
        input="short\n",
    )
    assert bad.exit_code == 2 and "role 'king'" in bad.output and "at least 10" in bad.output


def test_exports_by_role(app, signed_in):
    c = signed_in("clinician")
    new_patient(c)
    assert (
        c.post("/patients/P-001/visits/new", visit_form("2024-01-10", esr_mm_h="20")).status_code
        == 303
    )
    researcher = signed_in("researcher")
    assert researcher.get("/data/visits.csv").status_code == 403
    deid = researcher.get("/data/deidentified-visits.csv")
    assert deid.status_code == 200 and "P-001" not in deid.text and "esr_mm_h" in deid.text
    tidy = signed_in("datamanager").get("/data/visits.csv")
    assert tidy.status_code == 200 and "P-001" in tidy.text
    assert (
        signed_in("datamanager")
        .post("/patients/new", {"patient_key": "X", "diagnosis": "ra"})
        .status_code
        == 403
    )


def test_unexpected_errors_keep_patient_data_out_of_logs(app, signed_in, caplog, monkeypatch):
    from rheumetrics.app import queries

    c = signed_in("clinician")
    new_patient(c, "LEAKY-42")

    def broken(*_args, **_kwargs):
        raise RuntimeError("database said something about LEAKY-42")

    monkeypatch.setattr(queries, "patient_history", broken)
    with caplog.at_level(logging.INFO, logger="rheumetrics.app"):
        r = c.get("/patients/LEAKY-42")
    assert r.status_code == 500 and "LEAKY-42" not in r.text
    assert "RuntimeError" in caplog.text and "LEAKY-42" not in caplog.text


def test_login_redirects_only_to_local_paths(app):
    from starlette.testclient import TestClient

    http = TestClient(app)
    for target, expected in (
        ("/patients", "/patients"),
        ("//evil.example", "/"),
        ("/\\\\evil.example", "/"),
        ("https://evil.example/", "/"),
    ):
        page = http.get("/login")
        r = http.post(
            "/login",
            data={
                "username": "admin",
                "password": PASSWORD,
                "next": target,
                "csrf_token": csrf_of(page.text),
            },
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == expected, target


def test_disabled_user_is_signed_out(tmp_path):
    from rheumetrics.cli import app as cli

    from .conftest import Client, make_app

    url = f"sqlite:///{tmp_path / 'd.sqlite'}"
    app = make_app(url)
    c = Client(app, "clinician")
    assert c.get("/patients").status_code == 200
    r = CliRunner().invoke(cli, ["user", "disable", "clinician", "--db", url])
    assert r.exit_code == 0, r.output
    assert c.get("/patients", follow_redirects=False).status_code == 303
    assert CliRunner().invoke(cli, ["user", "disable", "nobody", "--db", url]).exit_code == 2
    app.state.ctx.engine.dispose()


def test_records_the_engine_cannot_use_are_named_on_the_page(app, signed_in):
    """A therapy whose dose unit the drug catalogue does not know (stored before the catalogue
    checks) does not break the patient page: the decision panel names the problem."""
    c = signed_in("clinician")
    new_patient(c)
    c.post(
        "/patients/P-001/therapy",
        {"drug": "methotrexate", "drug_class": "csDMARD", "start_date": "2023-06-01",
         "dose": "15", "dose_unit": "mg/week", "route": "oral"},
    )  # fmt: skip
    form = visit_form("2024-01-10", TENDER, SWOLLEN, esr_mm_h="30", gh_mm="50", ptga="5", phga="4")
    assert c.post("/patients/P-001/visits/new", form).status_code == 303
    with app.state.ctx.engine.begin() as conn:
        conn.execute(text("UPDATE therapy SET dose_unit = 'mg'"))
    page = c.get("/patients/P-001")
    assert page.status_code == 200
    assert "The engine cannot decide from the stored records" in page.text
    assert "dose_unit" in page.text


def test_scores_stored_on_save_equal_the_stores_own_scoring(app, signed_in):
    """The app scores a saved visit from the values it wrote; the result must equal what the
    store's own read-back and scoring (``rheumetrics.store.scoring.rescore``) give."""
    import numpy as np
    from sqlalchemy import insert

    from rheumetrics.store.models import ITEM_TABLE_OBJECTS
    from rheumetrics.store.scoring import rescore

    c = signed_in("clinician")
    new_patient(c)
    forms = [
        visit_form("2024-01-10", TENDER, SWOLLEN, esr_mm_h="30", gh_mm="50", ptga="5", phga="4",
                   crp="1.5", crp_unit="mg/dL", haq_dressing="1", haq_aid_walking="1"),
        visit_form("2024-04-10", (), SWOLLEN, esr_mm_h="12", ptga="2", crp="4", pain="3"),
        visit_form("2024-07-10", joint_set="68", esr_mm_h="8", gh_mm="10"),
    ]  # fmt: skip
    forms[2].update({f"j_{k}": "t" for k in ("R_ANKLE", "L_MTP3")})
    for form in forms:
        assert c.post("/patients/P-001/visits/new", form).status_code == 303
    engine = app.state.ctx.engine
    with engine.connect() as conn:
        vid = conn.execute(select(VISIT.c.id).order_by(VISIT.c.id)).scalars().first()
    with engine.begin() as conn:  # an imported item the form does not edit
        conn.execute(
            insert(ITEM_TABLE_OBJECTS["reported"]).values(visit_id=vid, das28_reported=3.1)
        )
    edit = visit_form("2024-01-10", TENDER, (), esr_mm_h="31", gh_mm="40", version="1")
    assert c.post(f"/visits/{vid}/edit", edit).status_code == 303

    def scores() -> dict:
        with engine.connect() as conn:
            rows = conn.execute(select(VISIT_SCORE).order_by(VISIT_SCORE.c.visit_id)).mappings()
            return {r["visit_id"]: dict(r) for r in rows}

    saved = scores()
    assert len(saved) == 3
    rescore(engine)
    again = scores()
    for visit_id, row in again.items():
        for col, value in row.items():
            mine = saved[visit_id][col]
            if isinstance(value, float) or isinstance(mine, float):
                assert np.isnan(value) if mine is None or np.isnan(mine) else value == mine, col
            else:
                assert mine == value, (visit_id, col)


def test_patient_search_is_a_case_sensitive_key_prefix(app, signed_in):
    c = signed_in("clinician")
    for key in ("AB-1", "AB-2", "AB_3", "ABC", "ab-4", "X.1"):
        new_patient(c, key)

    def found(q: str) -> set[str]:
        page = c.get("/patients", params={"q": q}).text
        return {k for k in ("AB-1", "AB-2", "AB_3", "ABC", "ab-4", "X.1") if f">{k}<" in page}

    assert found("AB") == {"AB-1", "AB-2", "AB_3", "ABC"}
    assert found("AB-") == {"AB-1", "AB-2"}
    assert found("AB_") == {"AB_3"}  # '_' is literal, not a wildcard
    assert found("X.") == {"X.1"}
    assert found("ab") == {"ab-4"}
    assert found("") == {"AB-1", "AB-2", "AB_3", "ABC", "ab-4", "X.1"}
    assert found("Z") == set()
