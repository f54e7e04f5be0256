"""Patient list, new patient, patient page (trend, timeline, labs/PROs, imaging), strategy, therapy."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy import select

from rheumetrics.app import decision_support as ds
from rheumetrics.app import queries, records
from rheumetrics.app.charts import time_axis, timeline_svg, trend_svg
from rheumetrics.app.context import CurrentUser, check_csrf, ctx, render, require
from rheumetrics.app.security import User
from rheumetrics.measures.cutoffs import cutoff_set
from rheumetrics.store.models import DIAGNOSES, DRUG_CLASSES, ROUTES, SEXES, THERAPY

router = APIRouter()


async def form_dict(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


@router.get("/")
def home(user: CurrentUser) -> Response:
    return RedirectResponse("/patients", status_code=303)


@router.get("/patients")
def patient_list(request: Request, user: CurrentUser, q: str = "", page: int = 1) -> Response:
    require(user, "read")
    c = ctx(request)
    size = c.settings.page_size
    page = max(page, 1)
    with c.engine.connect() as conn:
        keys, total = queries.patient_page_keys(conn, q.strip()[:64], size, (page - 1) * size)
        rows = queries.patient_rows(conn, keys, dt.date.today())
    return render(request, "patients.html", rows=rows, q=q, page=page, total=total,
                  pages=max(1, -(-total // size)))  # fmt: skip


@router.get("/patients/new")
def new_patient_form(request: Request, user: CurrentUser) -> Response:
    require(user, "edit")
    return _patient_form(request, {}, [])


def _patient_form(
    request: Request, values: dict[str, str], problems: list[Any], status: int = 200
) -> Response:
    return render(request, "patient_new.html", status_code=status, values=values, problems=problems,
                  diagnoses=list(DIAGNOSES), sexes=SEXES, strategies=ds.strategy_choices())  # fmt: skip


@router.post("/patients/new", dependencies=[Depends(check_csrf)])
async def new_patient(request: Request, user: CurrentUser) -> Response:
    require(user, "edit")
    form = await form_dict(request)
    try:
        with ctx(request).engine.begin() as conn:
            key = records.create_patient(conn, user.username, form)
    except records.FormProblems as exc:
        return _patient_form(request, form, exc.problems, 422)
    return RedirectResponse(f"/patients/{key}", status_code=303)


@router.get("/patients/{key}")
def patient_page(
    request: Request, key: str, user: CurrentUser, index: str | None = None
) -> Response:
    require(user, "read")
    c = ctx(request)
    with c.engine.connect() as conn:
        h = queries.patient_history(conn, key)
        pversion = records.version(conn, "patient", key)
    if h is None:
        raise HTTPException(404, f"no patient {key}")
    s = h.strategy
    v = h.visits
    chosen = index if index in queries.SCORE_COLUMNS and index in v.columns else s.index
    dates = [d.date() for d in v["visit_date"]] if not v.empty else []
    tdates = (
        [pd.Timestamp(x).date() for x in h.therapies["start_date"]] if not h.therapies.empty else []
    )
    axis = time_axis(dates, tdates)
    values = v[chosen].astype(float).tolist() if chosen in v else []
    target = s.target.index_threshold if chosen == s.index else None
    try:
        cs = cutoff_set(s.cutoffs) if chosen == s.index else _default_cutoffs(chosen)
    except KeyError:
        cs = None
    trend = Markup(trend_svg(dates, values, _label(chosen, s), cs, target, axis))
    timeline = Markup(timeline_svg(h.therapies, axis, dt.date.today()))
    latest = None
    if not v.empty:
        last = v.iloc[-1]
        latest = ds.decision_at(h.log, last["visit_date"])
        if latest is not None:
            latest["visit_id"] = int(v.index[-1])
    with c.engine.connect() as conn:
        dversion = records.version(conn, "decision", str(latest["visit_id"])) if latest else 0
        t = THERAPY
        ongoing = conn.execute(
            select(t.c.id, t.c.drug, t.c.start_date)
            .where(t.c.patient_id == records.patient_id(conn, key), t.c.stop_date.is_(None))
            .order_by(t.c.start_date)
        ).all()
    therapy_ids = [{"id": r.id, "text": f"{r.drug} since {r.start_date}"} for r in ongoing]
    table = _visit_rows(h, user)
    return render(request, "patient.html", key=key, h=h, s=s, trend=trend, timeline=timeline,
                  latest=latest, table=table, recorded=h.decisions.get(latest["visit_id"]) if latest else None,
                  actions=ds.ACTIONS, strategies=ds.strategy_choices(), pversion=pversion, dversion=dversion,
                  index_choices=[x for x in queries.SCORE_COLUMNS if x in v.columns], chosen=chosen,
                  drug_classes=DRUG_CLASSES, therapy_ids=therapy_ids, routes=ROUTES, identified=user.can("identified"))  # fmt: skip


def _label(name: str, s: Any) -> str:
    from rheumetrics.measures import MEASURES

    return s.index_label if name == s.index else MEASURES[name].label


def _default_cutoffs(name: str) -> Any:
    from rheumetrics.measures import DEFAULT, MEASURES

    return MEASURES[name].cutoff_set(DEFAULT)


def _visit_rows(h: queries.History, user: User) -> list[dict[str, Any]]:
    rows = []
    log = h.log.set_index("visit_date") if not h.log.empty else None
    for vid, r in h.visits.iloc[::-1].iterrows():
        d = h.decisions.get(int(str(vid)))
        action = None
        if log is not None and r["visit_date"] in log.index:
            action = log.loc[[r["visit_date"]], "action"].iloc[-1]
        rows.append({
            "id": int(str(vid)), "date": r["visit_date"].date(), "kind": r["visit_kind"],
            "values": {c: r.get(c) for c in ("tjc28", "sjc28", "esr_mm_h", "crp_mg_l", "gh_mm", "ptga", "phga", "pain", "haq_di",
                                             "das28_esr", "das28_crp", "sdai", "cdai", "asdas_crp", "basdai")},
            "action": action,
            "recorded": None if d is None else (d["actual_action"] + ("" if d["accepted"] else " (override)")),
        })  # fmt: skip
    return rows


@router.post("/patients/{key}/strategy", dependencies=[Depends(check_csrf)])
async def change_strategy(request: Request, key: str, user: CurrentUser) -> Response:
    require(user, "edit")
    form = await form_dict(request)
    loaded = int(form.get("version", "0")) if form.get("version", "0").isdigit() else -1
    try:
        with ctx(request).engine.begin() as conn:
            records.patient_id(conn, key)
            records.set_strategy(conn, user.username, key, form.get("strategy", ""), loaded)
    except records.FormProblems as exc:
        return render(
            request, "message.html", status_code=422, title="Not saved", problems=exc.problems
        )
    return RedirectResponse(f"/patients/{key}", status_code=303)


@router.post("/patients/{key}/therapy", dependencies=[Depends(check_csrf)])
async def therapy(request: Request, key: str, user: CurrentUser) -> Response:
    require(user, "edit")
    form = await form_dict(request)
    try:
        with ctx(request).engine.begin() as conn:
            records.add_therapy(conn, user.username, key, form)
    except records.FormProblems as exc:
        return render(request, "message.html", status_code=422, title="Therapy not saved",
                      problems=exc.problems, back=f"/patients/{key}")  # fmt: skip
    return RedirectResponse(f"/patients/{key}#treatment", status_code=303)
