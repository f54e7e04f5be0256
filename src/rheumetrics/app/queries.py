"""Reads for the pages: the patient list, one patient's history, the cohort dashboard figures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, func, select

from rheumetrics.app import decision_support as ds
from rheumetrics.app.tables import DECISION, PATIENT_STRATEGY, VISIT_NOTE
from rheumetrics.measures import DEFAULT, score_frame
from rheumetrics.measures.cutoffs import cutoff_set
from rheumetrics.store.loaders import load_imaging_reads, load_therapies, load_visits
from rheumetrics.store.models import PATIENT, VISIT

SCORE_COLUMNS = ("das28_esr", "das28_crp", "sdai", "cdai", "asdas_crp", "basdai")


@dataclass
class PatientRow:
    key: str
    diagnosis: str | None
    last_visit: dt.date | None
    index_label: str
    index_value: str
    category: str | None
    at_target: bool | None
    overdue: bool
    next_visit: dt.date | None


def strategies(conn: Connection, keys: list[str]) -> dict[str, str]:
    ps = PATIENT_STRATEGY
    rows = conn.execute(select(ps.c.patient_key, ps.c.strategy).where(ps.c.patient_key.in_(keys)))
    return {r.patient_key: r.strategy for r in rows}


def patient_page_keys(
    conn: Connection, search: str, limit: int, offset: int
) -> tuple[list[tuple[str, str | None]], int]:
    """One page of (patient key, diagnosis) matching a key prefix, and the total matched."""
    p = PATIENT
    cond = p.c.patient_key.like(f"{_escape_like(search)}%", escape="\\") if search else None
    stmt = (
        select(p.c.patient_key, p.c.diagnosis).order_by(p.c.patient_key).limit(limit).offset(offset)
    )
    total = select(func.count()).select_from(p)
    if cond is not None:
        stmt, total = stmt.where(cond), total.where(cond)
    rows = [(r.patient_key, r.diagnosis) for r in conn.execute(stmt)]
    return rows, int(conn.execute(total).scalar() or 0)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def patient_rows(
    conn: Connection, page: list[tuple[str, str | None]], today: dt.date
) -> list[PatientRow]:
    """Current activity, target and overdue status of the patients of one list page."""
    keys = [k for k, _ in page]
    chosen = strategies(conn, keys)
    visits = load_visits(conn, keys, scores=False)
    therapies = load_therapies(conn, keys)
    diag = dict(page)
    out: dict[str, PatientRow] = {}
    groups: dict[str, list[str]] = {}
    for k in keys:
        groups.setdefault(ds.strategy_for(diag[k], chosen.get(k)).id, []).append(k)
    for sid, members in groups.items():
        s = ds.strategy(sid)
        v = visits[visits["patient_id"].isin(members)]
        log = ds.decision_log(v, therapies[therapies["patient_id"].isin(members)], s)
        last = (
            log.groupby("patient_id").tail(1).set_index("patient_id")
            if not log.empty
            else pd.DataFrame()
        )
        cs = cutoff_set(s.cutoffs)
        for k in members:
            if k in last.index:
                r = last.loc[k]
                value = r["index_value"]
                nv = (
                    None
                    if pd.isna(r["next_visit_date"])
                    else pd.Timestamp(r["next_visit_date"]).date()
                )
                out[k] = PatientRow(
                    k, diag[k], pd.Timestamp(r["visit_date"]).date(), s.index_label,
                    "" if pd.isna(value) else f"{value:.2f}",
                    None if pd.isna(value) else cs.classify(float(value)),
                    None if pd.isna(r["target_met"]) else bool(r["target_met"]),
                    nv is not None and nv < today, nv,
                )  # fmt: skip
            else:
                out[k] = PatientRow(k, diag[k], None, s.index_label, "", None, None, True, None)
    return [out[k] for k in keys]


@dataclass
class History:
    patient: dict[str, Any]
    strategy: Any
    visits: pd.DataFrame  # with score columns
    therapies: pd.DataFrame
    log: pd.DataFrame
    decisions: dict[int, dict[str, Any]]
    imaging: pd.DataFrame
    notes: dict[int, dict[str, Any]]


def patient_history(conn: Connection, key: str) -> History | None:
    row = conn.execute(select(PATIENT).where(PATIENT.c.patient_key == key)).mappings().first()
    if row is None:
        return None
    chosen = strategies(conn, [key]).get(key)
    s = ds.strategy_for(row["diagnosis"], chosen)
    visits = load_visits(conn, [key], scores=False)
    therapies = load_therapies(conn, [key])
    log = ds.decision_log(visits, therapies, s)
    if not visits.empty:
        scores = score_frame(
            visits,
            DEFAULT,
            lenient=True,
            measures=[m for m in SCORE_COLUMNS if _has_inputs(visits, m)],
        )
        visits = visits.join(scores[[c for c in scores.columns if not c.endswith("_reason")]])
    ids = visits.index.tolist()
    decisions = {
        int(r["visit_id"]): dict(r)
        for r in conn.execute(select(DECISION).where(DECISION.c.visit_id.in_(ids))).mappings()
    } if ids else {}  # fmt: skip
    notes = {
        int(r["visit_id"]): dict(r)
        for r in conn.execute(select(VISIT_NOTE).where(VISIT_NOTE.c.visit_id.in_(ids))).mappings()
    } if ids else {}  # fmt: skip
    reads = load_imaging_reads(conn, [key])
    return History(dict(row), s, visits, therapies, log, decisions, imaging_summary(reads), notes)


def _has_inputs(visits: pd.DataFrame, name: str) -> bool:
    from rheumetrics.measures import MEASURES

    return all(f in visits.columns for f in MEASURES[name].inputs)


def imaging_summary(reads: pd.DataFrame) -> pd.DataFrame:
    """Per time point and scoring system: feature totals (mean over readers of each reader's sum)
    and whether any oedema/osteitis was graded above 0."""
    if reads.empty:
        return pd.DataFrame(
            columns=["timepoint", "image_date", "system", "feature", "total", "readers"]
        )
    r = reads[~reads["not_assessable"]]
    per_reader = r.groupby(["timepoint", "system", "feature", "reader"], sort=True).agg(
        total=("grade", "sum"), image_date=("image_date", "min"))  # fmt: skip
    out = per_reader.groupby(level=["timepoint", "system", "feature"]).agg(
        total=("total", "mean"), readers=("total", "size"), image_date=("image_date", "min"))  # fmt: skip
    return out.reset_index().sort_values(["image_date", "system", "feature"])


def dashboard(conn: Connection, today: dt.date) -> dict[str, Any]:
    """Cohort figures: share at target at the last visit, escalations, overdue, adherence."""
    p = conn.execute(select(PATIENT.c.patient_key, PATIENT.c.diagnosis)).all()
    diag = {k: d for k, d in p}
    chosen = strategies(conn, list(diag)) if len(diag) < 30000 else {}
    visits = load_visits(conn, scores=False)
    therapies = load_therapies(conn)
    groups: dict[str, list[str]] = {}
    for k, d in diag.items():
        groups.setdefault(ds.strategy_for(d, chosen.get(k)).id, []).append(k)
    figures = []
    for sid, members in sorted(groups.items()):
        s = ds.strategy(sid)
        v = visits[visits["patient_id"].isin(members)]
        log = ds.decision_log(v, therapies[therapies["patient_id"].isin(members)], s)
        if log.empty:
            continue
        last = log.groupby("patient_id").tail(1)
        nv = pd.to_datetime(last["next_visit_date"])
        figures.append({
            "strategy": s.name, "target": s.target_text, "patients": len(last),
            "at_target": float(last["target_met"].astype("boolean").fillna(False).mean()),
            "escalations": int((log["action"] == "escalate").sum()),
            "escalated_patients": int(log.loc[log["action"] == "escalate", "patient_id"].nunique()),
            "overdue": int((nv < pd.Timestamp(today)).sum()),
            "observed_adherence": _share(log["adherent"]),
        })  # fmt: skip
    d = DECISION
    rec = conn.execute(select(d.c.accepted, d.c.adherent)).all()
    recorded = {
        "decisions": len(rec),
        "accepted": sum(1 for a, _ in rec if a),
        "adherence": _share(pd.Series([x for _, x in rec], dtype="boolean")),
    }
    n_visits = int(conn.execute(select(func.count()).select_from(VISIT)).scalar() or 0)
    return {"figures": figures, "recorded": recorded, "patients": len(diag), "visits": n_visits}


def _share(s: pd.Series) -> float | None:
    known = s.dropna()
    return None if known.empty else float(np.mean(known.astype(bool)))
