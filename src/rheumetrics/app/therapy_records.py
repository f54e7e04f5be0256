"""Therapy courses written from the patient page: start a course or stop one, with its audit row.

The course is checked against the drug catalogue as an import would be (the same problems), and
the write, the record's version bump and the audit row commit in one transaction
(:mod:`rheumetrics.app.records`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, insert, select, update

from rheumetrics.app import audit
from rheumetrics.app.records import FormProblems, patient_id
from rheumetrics.errors import Problem
from rheumetrics.store.models import THERAPY


def add_therapy(conn: Connection, user: str, key: str, form: dict[str, str]) -> None:
    """Start a drug course, or stop one (``stop_therapy_id`` with stop date and reason)."""
    from rheumetrics.app.forms import parse_date, parse_number
    from rheumetrics.store.models import DRUG_CLASSES, ROUTES

    pid = patient_id(conn, key)
    src = "therapy form"
    problems: list[Problem] = []
    stop_id = form.get("stop_therapy_id", "").strip()
    if stop_id:
        tid = int(stop_id) if stop_id.isascii() and stop_id.isdigit() else -1
        row = (
            conn.execute(select(THERAPY).where(THERAPY.c.id == tid, THERAPY.c.patient_id == pid))
            .mappings()
            .first()
        )
        if row is None:
            raise FormProblems(
                [Problem(src, "stop_therapy_id", stop_id, "must be a course of this patient")]
            )
        try:
            stop = parse_date(form.get("stop_date", ""))
        except ValueError:
            stop = None
        if stop is None or stop < row["start_date"]:
            problems.append(
                Problem(
                    src,
                    "stop_date",
                    form.get("stop_date", ""),
                    f"must be a date YYYY-MM-DD on or after the start {row['start_date']}",
                )
            )
        reason = form.get("stop_reason", "").strip()[:32]
        if not reason:
            problems.append(
                Problem(
                    src,
                    "stop_reason",
                    reason,
                    "is required (e.g. inefficacy, adverse_event, remission)",
                )
            )
        if problems:
            raise FormProblems(problems)
        conn.execute(
            update(THERAPY)
            .where(THERAPY.c.id == row["id"])
            .values(stop_date=stop, stop_reason=reason)
        )
        audit.record(
            conn,
            user,
            "update",
            "therapy",
            f"{key}/{row['id']}",
            {"stop_date": None},
            {"stop_date": stop.isoformat() if stop else None, "stop_reason": reason},
        )
        return
    drug = form.get("drug", "").strip().lower()
    if not drug or len(drug) > 64:
        problems.append(Problem(src, "drug", drug, "is required (1-64 characters)"))
    drug_class = form.get("drug_class", "")
    if drug_class not in DRUG_CLASSES:
        problems.append(
            Problem(src, "drug_class", drug_class, f"must be one of {', '.join(DRUG_CLASSES)}")
        )
    route = form.get("route", "") or None
    if route is not None and route not in ROUTES:
        problems.append(Problem(src, "route", route, f"must be one of {', '.join(ROUTES)}"))
    try:
        start = parse_date(form.get("start_date", ""))
        if start is None:
            problems.append(Problem(src, "start_date", "", "is required (YYYY-MM-DD)"))
    except ValueError:
        start = None
        problems.append(
            Problem(src, "start_date", form.get("start_date"), "must be a date YYYY-MM-DD")
        )
    dose = None
    try:
        dose = parse_number(form.get("dose", ""))
        if dose is not None and dose <= 0:
            problems.append(Problem(src, "dose", form.get("dose"), "must be a number > 0"))
    except ValueError:
        problems.append(
            Problem(src, "dose", form.get("dose"), "must be a plain decimal number > 0")
        )
    unit = form.get("dose_unit", "").strip()[:16] or None
    if problems:
        raise FormProblems(problems)
    row2 = {
        "patient_id": pid,
        "drug": drug,
        "drug_class": drug_class,
        "dose": dose,
        "dose_unit": unit,
        "route": route,
        "start_date": start,
    }
    if conn.execute(
        select(THERAPY.c.id).where(
            THERAPY.c.patient_id == pid, THERAPY.c.drug == drug, THERAPY.c.start_date == start
        )
    ).first():
        raise FormProblems(
            [Problem(src, "start_date", str(start), f"{drug} already starts on this date")]
        )
    conn.execute(insert(THERAPY).values(**row2))
    audit.record(
        conn,
        user,
        "create",
        "therapy",
        f"{key}/{drug}/{start}",
        None,
        {
            k: (str(x) if isinstance(x, dt.date) else x)
            for k, x in row2.items()
            if k != "patient_id"
        },
    )
