"""Cohort dashboard, users and the audit trail."""

from __future__ import annotations

import datetime as dt
import time

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from rheumetrics.app import audit, queries
from rheumetrics.app.context import CurrentUser, FormData, check_csrf, ctx, render, require, writing
from rheumetrics.app.security import add_user
from rheumetrics.app.stored_decisions import store_if_free
from rheumetrics.app.tables import ROLES, USER
from rheumetrics.errors import RheumetricsError

router = APIRouter()
DASHBOARD_SECONDS = 60.0


@router.get("/dashboard")
def dashboard(request: Request, user: CurrentUser) -> Response:
    require(user, "read")
    c = ctx(request)
    cached = c.cache.get("dashboard")
    if cached is None or time.monotonic() - cached[0] > DASHBOARD_SECONDS:
        with c.engine.connect() as conn:
            figures, fresh = queries.dashboard(conn, dt.date.today())
        store_if_free(c.engine, fresh)
        cached = (time.monotonic(), figures)
        c.cache["dashboard"] = cached
    return render(request, "dashboard.html", d=cached[1])


@router.get("/admin/users")
def users(request: Request, user: CurrentUser, error: str | None = None) -> Response:
    require(user, "users")
    with ctx(request).engine.connect() as conn:
        rows = conn.execute(
            select(USER.c.username, USER.c.role, USER.c.active, USER.c.created_at).order_by(
                USER.c.username
            )
        ).all()
    return render(request, "users.html", rows=rows, roles=ROLES, error=error)


@router.post("/admin/users", dependencies=[Depends(check_csrf)])
def create_user(request: Request, user: CurrentUser, form: FormData) -> Response:
    require(user, "users")
    try:
        with writing(ctx(request).engine) as conn:
            add_user(conn, form.get("username", ""), form.get("password", ""), form.get("role", ""))
            audit.record(
                conn,
                user.username,
                "create",
                "user",
                form.get("username", ""),
                None,
                {"username": form.get("username"), "role": form.get("role")},
            )
    except RheumetricsError as exc:
        return users(request, user, str(exc))
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/admin/audit")
def audit_page(
    request: Request, user: CurrentUser, page: int = 1, entity: str | None = None
) -> Response:
    require(user, "audit")
    page = max(page, 1)
    with ctx(request).engine.connect() as conn:
        rows = audit.page(conn, 100, (page - 1) * 100, entity or None)
        total = audit.count(conn)
    return render(
        request,
        "audit.html",
        rows=rows.to_dict("records"),
        page=page,
        total=total,
        entity=entity or "",
    )
