"""Exports for data managers (identified, tidy) and for every reader (de-identified)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.background import BackgroundTask
from starlette.responses import FileResponse

from rheumetrics.app import audit
from rheumetrics.app.context import CurrentUser, ctx, render, require, writing
from rheumetrics.store.export import export_deidentified, export_tidy

router = APIRouter()


@router.get("/data")
def data_page(request: Request, user: CurrentUser) -> Response:
    require(user, "read")
    return render(request, "data.html")


def _send(path: Path, folder: tempfile.TemporaryDirectory[str], name: str) -> Response:
    return FileResponse(
        path, media_type="text/csv", filename=name, background=BackgroundTask(folder.cleanup)
    )


@router.get("/data/visits.csv")
def tidy_visits(request: Request, user: CurrentUser) -> Response:
    """The identified visit frame with scores (``rheumetrics export --format tidy``)."""
    require(user, "data")
    engine = ctx(request).engine
    folder = tempfile.TemporaryDirectory(prefix="rheumetrics-export-")
    path = export_tidy(engine, Path(folder.name) / "visits.csv")
    with writing(engine) as conn:
        audit.record(conn, user.username, "export", "cohort", "visits.csv (identified)")
    return _send(path, folder, "visits.csv")


@router.get("/data/deidentified-visits.csv")
def deidentified_visits(request: Request, user: CurrentUser) -> Response:
    """Visits with keyed-hash ids and per-patient shifted dates (``rheumetrics.store.export``)."""
    require(user, "read")
    engine = ctx(request).engine
    folder = tempfile.TemporaryDirectory(prefix="rheumetrics-export-")
    paths = export_deidentified(engine, folder.name)
    with writing(engine) as conn:
        audit.record(conn, user.username, "export", "cohort", "visits.csv (de-identified)")
    return _send(paths["visits"], folder, "deidentified-visits.csv")
