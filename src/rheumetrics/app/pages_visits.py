"""New and edited visits (homunculus, labs, PROs), the live score panel, the clinician's decision."""

from __future__ import annotations

from typing import Any

import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from rheumetrics.app import decision_support as ds
from rheumetrics.app import queries, records
from rheumetrics.app.context import CurrentUser, FormData, check_csrf, ctx, render, require, writing
from rheumetrics.app.forms import (
    AXSPA_FIELDS,
    CRP_UNITS,
    HAQ_FIELDS,
    JOINT_SETS,
    JOINT_STATES,
    RA_FIELDS,
    label,
    parse_visit,
)
from rheumetrics.app.homunculus import HEIGHT, OUTLINE, WIDTH, spots
from rheumetrics.app.livescore import panel
from rheumetrics.measures.haq import HAQ_CATEGORIES
from rheumetrics.store.items import items
from rheumetrics.store.models import PATIENT, VISIT_KINDS

router = APIRouter()


def _diagnosis(request: Request, key: str) -> str | None:
    with ctx(request).engine.connect() as conn:
        row = conn.execute(select(PATIENT.c.diagnosis).where(PATIENT.c.patient_key == key)).first()
    if row is None:
        raise HTTPException(404, f"no patient {key}")
    return row.diagnosis


def _form_page(
    request: Request,
    key: str,
    values: dict[str, str],
    problems: list[Any],
    *,
    visit_id: int | None,
    version: int,
    status: int = 200,
) -> Response:
    diagnosis = _diagnosis(request, key)
    v = parse_visit(values, lenient_date=True)
    sets = {name: list(joints) for name, joints in JOINT_SETS.items()}
    fields = {n: items()[n] for n in (*RA_FIELDS, *AXSPA_FIELDS, *HAQ_FIELDS, "crp_mg_l")}
    return render(
        request,
        "visit_form.html",
        status_code=status,
        key=key,
        values=values,
        problems=problems,
        visit_id=visit_id,
        version=version,
        spots=spots(),
        outline=OUTLINE,
        width=WIDTH,
        height=HEIGHT,
        joint_sets=sets,
        joint_states=JOINT_STATES,
        kinds=VISIT_KINDS,
        ra_fields=RA_FIELDS,
        axspa_fields=AXSPA_FIELDS,
        haq=HAQ_CATEGORIES,
        fields=fields,
        crp_units=list(CRP_UNITS),
        label=label,
        panel=panel(v, diagnosis, ctx(request).settings.stale_lab_days),
        axspa=diagnosis in ("axspa", "as", "spa"),
        chosen_set=values.get("joint_set", "28"),
    )


def _new_values(jset: str = "28") -> dict[str, str]:
    shown = set(JOINT_SETS.get(jset, JOINT_SETS["28"]))
    values = {f"j_{s.id}": ("n" if s.id in shown else "x") for s in spots()}
    values.update({"joint_set": jset, "kind": "routine", "crp_unit": "mg/L"})
    return values


@router.get("/patients/{key}/visits/new")
def new_visit_form(request: Request, key: str, user: CurrentUser, set: str = "28") -> Response:
    require(user, "edit")
    return _form_page(
        request, key, _new_values(set if set in JOINT_SETS else "28"), [], visit_id=None, version=0
    )


@router.post("/patients/{key}/visits/new", dependencies=[Depends(check_csrf)])
def new_visit(request: Request, key: str, user: CurrentUser, form: FormData) -> Response:
    require(user, "edit")
    v = parse_visit(form)
    scored = records.score_visit(v)  # before the write transaction, which stays short
    try:
        with writing(ctx(request).engine) as conn:
            records.save_visit(conn, user.username, key, v, scored=scored)
    except records.FormProblems as exc:
        return _form_page(request, key, form, exc.problems, visit_id=None, version=0, status=422)
    queries.refresh_decision(ctx(request).engine, key)
    return RedirectResponse(f"/patients/{key}", status_code=303)


@router.get("/visits/{visit_id}/edit")
def edit_visit_form(request: Request, visit_id: int, user: CurrentUser) -> Response:
    require(user, "edit")
    with ctx(request).engine.connect() as conn:
        try:
            values = records.visit_form_values(conn, visit_id)
        except records.RheumetricsError:
            raise HTTPException(404, f"no visit {visit_id}") from None
        version = records.version(conn, "visit", str(visit_id))
    key = values.pop("patient_key")
    return _form_page(request, key, values, [], visit_id=visit_id, version=version)


@router.post("/visits/{visit_id}/edit", dependencies=[Depends(check_csrf)])
def edit_visit(request: Request, visit_id: int, user: CurrentUser, form: FormData) -> Response:
    require(user, "edit")
    loaded = int(form["version"]) if form.get("version", "").isdigit() else -1
    with ctx(request).engine.connect() as conn:
        try:
            key = records.visit_form_values(conn, visit_id)["patient_key"]
        except records.RheumetricsError:
            raise HTTPException(404, f"no visit {visit_id}") from None
        kept = records.kept_items(conn, visit_id)
    v = parse_visit(form)
    scored = records.score_visit(v, kept)  # before the write transaction, which stays short
    try:
        with writing(ctx(request).engine) as conn:
            records.save_visit(conn, user.username, key, v, visit_id, loaded, scored)
    except records.FormProblems as exc:
        return _form_page(
            request, key, form, exc.problems, visit_id=visit_id, version=loaded, status=422
        )
    queries.refresh_decision(ctx(request).engine, key)
    return RedirectResponse(f"/patients/{key}", status_code=303)


@router.post("/api/score", dependencies=[Depends(check_csrf)])
def live_score(request: Request, user: CurrentUser, form: FormData) -> Response:
    """The score panel for the form as it is now (HTML fragment; nothing is stored)."""
    require(user, "read")
    v = parse_visit(form, lenient_date=True)
    diagnosis = (
        form.get("diagnosis")
        if form.get("diagnosis") in ("ra", "axspa", "as", "spa", "psa")
        else None
    )
    p = panel(v, diagnosis, ctx(request).settings.stale_lab_days)
    html = render(request, "score_panel.html", panel=p, problems=v.problems)
    return HTMLResponse(html.body, headers={"Cache-Control": "no-store"})


@router.post("/visits/{visit_id}/decision", dependencies=[Depends(check_csrf)])
def decision(request: Request, visit_id: int, user: CurrentUser, form: FormData) -> Response:
    require(user, "edit")
    c = ctx(request)
    with c.engine.connect() as conn:
        try:
            key = records.visit_form_values(conn, visit_id)["patient_key"]
        except records.RheumetricsError:
            raise HTTPException(404, f"no visit {visit_id}") from None
        h = queries.patient_history(conn, key)
    assert h is not None
    when = pd.Timestamp(h.visits.loc[visit_id, "visit_date"])
    log = ds.decision_log(h.engine_visits, h.therapies.drop(columns="id"), h.strategy)
    d = ds.decision_at(log, when)
    if d is None:
        raise HTTPException(404, "no decision for this visit")
    d["strategy"] = h.strategy.id
    try:
        with writing(c.engine) as conn:
            records.record_decision(conn, user.username, key, visit_id, d, form)
    except records.FormProblems as exc:
        return render(
            request,
            "message.html",
            status_code=422,
            title="Decision not saved",
            problems=exc.problems,
            back=f"/patients/{key}",
        )
    return RedirectResponse(f"/patients/{key}#decision", status_code=303)
