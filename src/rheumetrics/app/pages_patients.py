"""Patient list, new patient, patient page (trend, timeline, labs/PROs, imaging), strategy, therapy."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from rheumetrics.app import decision_support as ds
from rheumetrics.app import queries, records, therapy_records
from rheumetrics.app.charts import time_axis, timeline_svg, trend_svg
from rheumetrics.app.context import CurrentUser, FormData, check_csrf, ctx, render, require, writing
from rheumetrics.app.security import User
from rheumetrics.app.stored_decisions import store_if_free
from rheumetrics.measures.cutoffs import cutoff_set
from rheumetrics.store.models import DIAGNOSES, DRUG_CLASSES, ROUTES, SEXES

router = APIRouter()


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
        rows, fresh = queries.patient_rows(conn, keys, dt.date.today())
    store_if_free(c.engine, fresh)
    return render(
        request,
        "patients.html",
        rows=rows,
        q=q,
        page=page,
        total=total,
        pages=max(1, -(-total // size)),
    )


@router.get("/patients/new")
def new_patient_form(request: Request, user: CurrentUser) -> Response:
    require(user, "edit")
    return _patient_form(request, {}, [])


def _patient_form(
    request: Request, values: dict[str, str], problems: list[Any], status: int = 200
) -> Response:
    return render(
        request,
        "patient_new.html",
        status_code=status,
        values=values,
        problems=problems,
        diagnoses=list(DIAGNOSES),
        sexes=SEXES,
        strategies=ds.strategy_choices(),
    )


@router.post("/patients/new", dependencies=[Depends(check_csrf)])
def new_patient(request: Request, user: CurrentUser, form: FormData) -> Response:
    require(user, "edit")
    try:
        with writing(ctx(request).engine) as conn:
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
        if h is None:
            raise HTTPException(404, f"no patient {key}")
        pversion = records.version(conn, "patient", key)
        latest = None if h.summary is None or h.summary.latest is None else dict(h.summary.latest)
        if latest is not None:
            latest["visit_id"] = int(h.visits.index[-1])
        dversion = records.version(conn, "decision", str(latest["visit_id"])) if latest else 0
    store_if_free(c.engine, h.fresh)
    s = h.strategy
    v = h.visits
    chosen = index if index in queries.SCORE_COLUMNS and index in v.columns else s.index_name
    dates = [d.date() for d in v["visit_date"]] if not v.empty else []
    tdates = (
        [pd.Timestamp(x).date() for x in h.therapies["start_date"]] if not h.therapies.empty else []
    )
    axis = time_axis(dates, tdates)
    values = v[chosen].astype(float).tolist() if chosen in v else []
    target = s.target.index_threshold if chosen == s.index_name else None
    try:
        cs = cutoff_set(s.cutoffs) if chosen == s.index_name else _default_cutoffs(chosen)
    except KeyError:
        cs = None
    trend = Markup(trend_svg(dates, values, _label(chosen, s), cs, target, axis))
    timeline = Markup(timeline_svg(h.therapies, axis, dt.date.today()))
    ongoing = h.therapies[h.therapies["stop_date"].isna()]
    therapy_ids = [
        {"id": int(r.id), "text": f"{r.drug} since {pd.Timestamp(r.start_date).date()}"}
        for r in ongoing.itertuples()
    ]
    acceptable = latest is not None and ds.adherent(latest["action"], latest["action"]) is not None
    return render(
        request,
        "patient.html",
        key=key,
        h=h,
        s=s,
        trend=trend,
        timeline=timeline,
        latest=latest,
        acceptable=acceptable,
        table=_visit_rows(h, user),
        recorded=h.decisions.get(latest["visit_id"]) if latest else None,
        actions=ds.ACTIONS,
        strategies=ds.strategy_choices(),
        pversion=pversion,
        dversion=dversion,
        index_choices=[x for x in queries.SCORE_COLUMNS if x in v.columns],
        chosen=chosen,
        drug_classes=DRUG_CLASSES,
        therapy_ids=therapy_ids,
        routes=ROUTES,
        identified=user.can("identified"),
    )


def _label(name: str, s: Any) -> str:
    from rheumetrics.measures import MEASURES

    return s.index_label if name == s.index_name else MEASURES[name].label


def _default_cutoffs(name: str) -> Any:
    from rheumetrics.measures import DEFAULT, MEASURES

    return MEASURES[name].cutoff_set(DEFAULT)


#: Columns of the visits table on the patient page.
TABLE_COLUMNS = (
    "tjc28",
    "sjc28",
    "esr_mm_h",
    "crp_mg_l",
    "gh_mm",
    "ptga",
    "phga",
    "pain",
    "haq_di",
    "das28_esr",
    "das28_crp",
    "sdai",
    "cdai",
    "asdas_crp",
    "basdai",
)


def _visit_rows(h: queries.History, user: User) -> list[dict[str, Any]]:
    v = h.visits.iloc[::-1]
    if v.empty:
        return []
    actions = dict(h.summary.actions) if h.summary is not None else {}
    action = [actions.get(d) for d in v["visit_date"].dt.date]
    values = v.reindex(columns=list(TABLE_COLUMNS)).astype(float).round(2)
    cells = values.where(values.notna(), None).to_numpy(dtype=object).tolist()
    rows = []
    for vid, when, kind, act, row in zip(
        v.index, v["visit_date"], v["visit_kind"], action, cells, strict=True
    ):
        d = h.decisions.get(int(vid))
        rows.append(
            {
                "id": int(vid),
                "date": when.date(),
                "kind": kind,
                "values": dict(zip(TABLE_COLUMNS, row, strict=True)),
                "action": act,
                "recorded": None
                if d is None
                else (d["actual_action"] + ("" if d["accepted"] else " (override)")),
            }
        )
    return rows


@router.post("/patients/{key}/strategy", dependencies=[Depends(check_csrf)])
def change_strategy(request: Request, key: str, user: CurrentUser, form: FormData) -> Response:
    require(user, "edit")
    loaded = int(form.get("version", "0")) if form.get("version", "0").isdigit() else -1
    try:
        with writing(ctx(request).engine) as conn:
            records.patient_id(conn, key)
            records.set_strategy(conn, user.username, key, form.get("strategy", ""), loaded)
    except records.FormProblems as exc:
        return render(
            request, "message.html", status_code=422, title="Not saved", problems=exc.problems
        )
    queries.refresh_decision(ctx(request).engine, key)
    return RedirectResponse(f"/patients/{key}", status_code=303)


@router.post("/patients/{key}/therapy", dependencies=[Depends(check_csrf)])
def therapy(request: Request, key: str, user: CurrentUser, form: FormData) -> Response:
    require(user, "edit")
    try:
        with writing(ctx(request).engine) as conn:
            therapy_records.add_therapy(conn, user.username, key, form)
    except records.FormProblems as exc:
        return render(
            request,
            "message.html",
            status_code=422,
            title="Therapy not saved",
            problems=exc.problems,
            back=f"/patients/{key}",
        )
    queries.refresh_decision(ctx(request).engine, key)
    return RedirectResponse(f"/patients/{key}#treatment", status_code=303)
