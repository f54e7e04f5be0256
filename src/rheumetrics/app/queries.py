"""Reads for the pages: the patient list, one patient's history, the cohort dashboard figures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, func, select

from rheumetrics.app import decision_support as ds
from rheumetrics.app.context import writing
from rheumetrics.app.livescore import joint_set_ids
from rheumetrics.app.stored_decisions import (
    Resolved,
    Summary,
    resolve,
    store,
    store_if_free,
)
from rheumetrics.app.tables import DECISION, PATIENT_STRATEGY
from rheumetrics.measures import MEASURES
from rheumetrics.measures.cutoffs import cutoff_set
from rheumetrics.store.jointbits import MASKS, count, unpack
from rheumetrics.store.models import (
    IMAGING_READ,
    ITEM_TABLE_OBJECTS,
    JOINT_EXAM,
    PATIENT,
    THERAPY,
    VISIT,
)
from rheumetrics.store.record_frames import THERAPY_COLUMNS, load_imaging_reads
from rheumetrics.t2t.strategy import Strategy

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


def strategies(conn: Connection, keys: list[str] | None) -> dict[str, str]:
    """The strategy chosen for each of these patients (all patients when None)."""
    ps = PATIENT_STRATEGY
    stmt = select(ps.c.patient_key, ps.c.strategy)
    if keys is not None:
        stmt = stmt.where(ps.c.patient_key.in_(keys))
    return {r.patient_key: r.strategy for r in conn.execute(stmt)}


def patient_page_keys(
    conn: Connection, search: str, limit: int, offset: int
) -> tuple[list[tuple[int, str, str | None]], int]:
    """One page of (patient id, key, diagnosis) whose key starts with ``search`` (as typed:
    case-sensitive on every backend), and the total matched.

    On SQLite the prefix is a key range, so both the page and the count read the unique index
    on ``patient_key`` instead of scanning the table (SQLite's ``LIKE`` ignores ASCII case and
    cannot use that index); elsewhere it is ``LIKE 'prefix%'``.
    """
    p = PATIENT
    stmt = (
        select(p.c.id, p.c.patient_key, p.c.diagnosis)
        .order_by(p.c.patient_key)
        .limit(limit)
        .offset(offset)
    )
    total = select(func.count()).select_from(p)
    if search:
        cond = _prefix(conn, p.c.patient_key, search)
        stmt, total = stmt.where(cond), total.where(cond)
    rows = [(int(r.id), r.patient_key, r.diagnosis) for r in conn.execute(stmt)]
    return rows, int(conn.execute(total).scalar() or 0)


def _prefix(conn: Connection, column: Any, search: str) -> Any:
    """``column`` starts with ``search`` (case-sensitive)."""
    if conn.dialect.name == "sqlite" and ord(search[-1]) < 0xD7FF:
        # BINARY collation: UTF-8 byte order is code point order
        return (column >= search) & (column < search[:-1] + chr(ord(search[-1]) + 1))
    return column.like(f"{_escape_like(search)}%", escape="\\")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def patient_rows(
    conn: Connection, page: list[tuple[int, str, str | None]], today: dt.date
) -> tuple[list[PatientRow], list[dict[str, Any]]]:
    """Current activity, target and overdue status of the patients of one list page, from their
    latest decisions (:mod:`rheumetrics.app.stored_decisions`), and the decisions computed now
    (to be stored)."""
    chosen, resolved = decisions_for(conn, page)
    out = []
    for _, k, d in page:
        s = chosen[k]
        summary = resolved.summaries.get(k)
        last = None if summary is None else summary.latest
        if last is None:
            out.append(PatientRow(k, d, None, s.index_label, "", None, None, True, None))
            continue
        value = last["index_value"]
        due = last["next_visit_date"]
        met = last["target_met"]
        out.append(
            PatientRow(
                k,
                d,
                last["visit_date"],
                s.index_label,
                "" if value is None else f"{value:.2f}",
                None if value is None else cutoff_set(s.cutoffs).classify(float(value)),
                None if met is None else bool(met),
                due is not None and due < today,
                due,
            )
        )
    return out, resolved.fresh


def decisions_for(
    conn: Connection, page: list[tuple[int, str, str | None]]
) -> tuple[dict[str, Strategy], Resolved]:
    """Each patient's strategy and latest decision (patient id, key, diagnosis of each): stored
    where still valid, else computed by the engine (one call per strategy)."""
    keys = [k for _, k, _ in page]
    chosen = strategies(conn, keys)
    ids = {i: k for i, k, _ in page}
    visits = patient_visits(conn, ids)
    therapies = patient_therapies(conn, ids).drop(columns="id")
    strategy_of = {k: ds.strategy_for(d, chosen.get(k)) for _, k, d in page}
    groups: dict[str, list[str]] = {}
    for k, s in strategy_of.items():
        groups.setdefault(s.id, []).append(k)
    resolved = Resolved()
    for members in groups.values():
        s, m = strategy_of[members[0]], set(members)
        v = engine_visits(conn, visits[visits["patient_id"].isin(m)], s, members)
        resolve(conn, s, v, therapies[therapies["patient_id"].isin(m)], resolved)
    return strategy_of, resolved


def fill_decisions(
    engine: Engine, chunk: int = 5000, progress: Callable[[int, int], None] | None = None
) -> int:
    """Store the latest decision of every patient whose stored one is missing or stale, ``chunk``
    patients at a time (the engine runs vectorised over each chunk, one short write transaction
    each); returns how many were computed."""
    with engine.connect() as conn:
        everyone = [
            (int(i), k, d)
            for i, k, d in conn.execute(
                select(PATIENT.c.id, PATIENT.c.patient_key, PATIENT.c.diagnosis).order_by(
                    PATIENT.c.id
                )
            )
        ]
    computed = 0
    for start in range(0, len(everyone), chunk):
        with engine.connect() as conn:
            _, resolved = decisions_for(conn, everyone[start : start + chunk])
        if resolved.fresh:
            with writing(engine) as conn:
                store(conn, resolved.fresh)
        computed += resolved.computed
        if progress is not None:
            progress(min(start + chunk, len(everyone)), len(everyone))
    return computed


def refresh_decision(engine: Engine, key: str) -> None:
    """Compute and store one patient's latest decision (after their history or strategy changed;
    skipped when another request is writing: the next page view stores it)."""
    with engine.connect() as conn:
        row = conn.execute(
            select(PATIENT.c.id, PATIENT.c.diagnosis).where(PATIENT.c.patient_key == key)
        ).first()
        if row is None:
            return
        _, resolved = decisions_for(conn, [(int(row.id), key, row.diagnosis)])
    store_if_free(engine, resolved.fresh)


def engine_visits(
    conn: Connection,
    visits: pd.DataFrame,
    s: Strategy,
    keys: list[str],
    index: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The engine's input for these visits (:func:`patient_visits`): with the strategy's index
    (``index``, when already computed by :func:`history_scores`) and, for strategies that use
    it, the MRI bone marrow oedema total."""
    v = visits.join(history_scores(visits, s.index_name, only=True) if index is None else index)
    if ds.needs_mri(s):
        v = ds.with_mri_oedema(v, load_imaging_reads(conn, keys))
    return v


@dataclass
class History:
    patient: dict[str, Any]
    strategy: Any
    visits: pd.DataFrame  # with score columns
    therapies: pd.DataFrame
    summary: Summary | None  # the latest decision (None without visits)
    engine_visits: pd.DataFrame  # the engine's input
    fresh: list[dict[str, Any]]  # the summary when computed now (to be stored)
    decisions: dict[int, dict[str, Any]]
    imaging: pd.DataFrame


#: Visit values read for one patient's page (store item -> table).
PAGE_ITEMS = {
    "clinical": ("tjc28", "sjc28", "phga"),
    "lab": ("esr_mm_h", "crp_mg_l"),
    "pro": ("gh_mm", "ptga", "pain", "haq_di", *(f"basdai_q{i}" for i in range(1, 7))),
}


def patient_visits(conn: Connection, patients: dict[int, str]) -> pd.DataFrame:
    """Some patients' visits (patient id -> key) with the values the pages show, indexed by visit
    id and sorted by patient and date.

    One query over the visit, its item tables and its joint examination; 28-joint counts are the
    recorded ones, else counted from the per-joint findings (missing when a joint of the set was
    not assessed; no proration), as :mod:`rheumetrics.store.visit_frames` does for whole cohorts.
    """
    v = VISIT
    cols: list[Any] = [v.c.id, v.c.visit_date, v.c.kind, v.c.patient_id]
    src: Any = v
    for table, shown in PAGE_ITEMS.items():
        t = ITEM_TABLE_OBJECTS[table]
        cols += [t.c[n] for n in shown]
        src = src.outerjoin(t, t.c.visit_id == v.c.id)
    j = JOINT_EXAM
    cols += [j.c[m] for m in MASKS]
    src = src.outerjoin(j, j.c.visit_id == v.c.id)
    rows = conn.execute(
        select(*cols)
        .select_from(src)
        .where(v.c.patient_id.in_(list(patients)))
        .order_by(v.c.patient_id, v.c.visit_date)
    ).all()
    names = [n for ns in PAGE_ITEMS.values() for n in ns]
    data = (
        list(zip(*rows, strict=True)) if rows else [() for _ in range(4 + len(names) + len(MASKS))]
    )
    out = pd.DataFrame(
        {n: np.array(data[4 + k], dtype=float) for k, n in enumerate(names)},
        index=pd.Index(np.array(data[0], dtype=np.int64), name="visit_id"),
    )
    out.insert(0, "patient_id", [patients[p] for p in data[3]])
    out.insert(
        1, "visit_date", pd.to_datetime(pd.Series(data[1], dtype=object).astype(str)).to_numpy()
    )
    out.insert(2, "visit_kind", list(data[2]))
    masks = {m: unpack(list(data[4 + len(names) + k])) for k, m in enumerate(MASKS)}
    for set_name, col in (("tender28", "tjc28"), ("swollen28", "sjc28")):
        state = "tender" if set_name.startswith("tender") else "swollen"
        derived = count(masks[state], masks[f"{state}_assessed"], joint_set_ids(set_name))
        out[col] = np.where(np.isnan(out[col].to_numpy()), derived, out[col].to_numpy())
    return out


def patient_therapies(conn: Connection, patients: dict[int, str]) -> pd.DataFrame:
    """Some patients' drug courses (the columns of :func:`rheumetrics.store.load_therapies` and
    the course id)."""
    t = THERAPY
    rows = conn.execute(
        select(t)
        .where(t.c.patient_id.in_(list(patients)))
        .order_by(t.c.patient_id, t.c.start_date, t.c.drug)
    ).all()
    names = [c.name for c in t.c]
    data = dict(zip(names, zip(*rows, strict=True), strict=True)) if rows else {}
    df = pd.DataFrame(
        {n: pd.Series(data.get(n, ()), dtype=None if rows else object) for n in names}
    )
    df["patient_id"] = pd.Series([patients[p] for p in data.get("patient_id", ())], dtype=object)
    for col in ("start_date", "stop_date"):
        # dates (None: not stopped) as day-exact datetimes, with no per-value parsing
        df[col] = np.array(data.get(col, ()), dtype="datetime64[D]").astype("datetime64[s]")
    df["dose"] = np.array([np.nan if x is None else x for x in data.get("dose", ())], dtype=float)
    return df[["id", *THERAPY_COLUMNS]]


def history_scores(
    visits: pd.DataFrame, extra: str | None = None, *, only: bool = False
) -> pd.DataFrame:
    """Scores of each visit (NaN where an input is missing or invalid), by the measures' own
    validated functions: :data:`SCORE_COLUMNS` and ``extra``, or ``extra`` alone (``only``)."""
    out = {}
    names = [extra] if only and extra else [*SCORE_COLUMNS, *([extra] if extra else [])]
    for name in dict.fromkeys(names):
        m = MEASURES[name]
        if all(f in visits.columns for f in m.inputs):
            out[name] = m(lenient=True, **{f: visits[f].to_numpy(dtype=float) for f in m.inputs})
    return pd.DataFrame(out, index=visits.index)


def patient_history(conn: Connection, key: str) -> History | None:
    row = conn.execute(select(PATIENT).where(PATIENT.c.patient_key == key)).mappings().first()
    if row is None:
        return None
    chosen = strategies(conn, [key]).get(key)
    s = ds.strategy_for(row["diagnosis"], chosen)
    raw = patient_visits(conn, {int(row["id"]): key})
    therapies = patient_therapies(conn, {int(row["id"]): key})
    shown = history_scores(raw, s.index_name)
    engine_input = engine_visits(conn, raw, s, [key], shown[[s.index_name]])
    resolved = resolve(conn, s, engine_input, therapies.drop(columns="id"))
    visits = engine_input.join(shown[[c for c in shown if c not in engine_input]])
    ids = visits.index.tolist()
    decisions = (
        {
            int(r["visit_id"]): dict(r)
            for r in conn.execute(select(DECISION).where(DECISION.c.visit_id.in_(ids))).mappings()
        }
        if ids
        else {}
    )
    reads = imaging_totals(conn, int(row["id"]))
    summary = resolved.summaries.get(key)
    return History(
        dict(row), s, visits, therapies, summary, engine_input, resolved.fresh, decisions, reads
    )


def imaging_totals(conn: Connection, patient_id: int) -> pd.DataFrame:
    """Per time point, scoring system and feature: the mean over readers of each reader's total
    of assessable grades, and the number of readers (one grouped query)."""
    r = IMAGING_READ
    per_reader = (
        select(
            r.c.timepoint,
            r.c.system,
            r.c.feature,
            r.c.reader,
            func.sum(r.c.grade).label("total"),
            func.min(r.c.image_date).label("image_date"),
        )
        .where(r.c.patient_id == patient_id, r.c.not_assessable.is_(False))
        .group_by(r.c.timepoint, r.c.system, r.c.feature, r.c.reader)
    )
    df = pd.DataFrame(
        conn.execute(per_reader).all(),
        columns=["timepoint", "system", "feature", "reader", "total", "image_date"],
    )
    if df.empty:
        return pd.DataFrame(
            columns=["timepoint", "image_date", "system", "feature", "total", "readers"]
        )
    df["image_date"] = pd.to_datetime(df["image_date"].astype(object))
    df["total"] = df["total"].astype(float)
    out = df.groupby(["timepoint", "system", "feature"], sort=True).agg(
        total=("total", "mean"), readers=("total", "size"), image_date=("image_date", "min")
    )
    return out.reset_index().sort_values(["image_date", "system", "feature"])


def dashboard(conn: Connection, today: dt.date) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Cohort figures: share at target at the last visit, escalations, overdue, adherence; from
    every patient's latest decision (:mod:`rheumetrics.app.stored_decisions`: the stored one where
    still valid, else the engine's), and the decisions computed now (to be stored)."""
    everyone = [
        (int(i), k, d)
        for i, k, d in conn.execute(
            select(PATIENT.c.id, PATIENT.c.patient_key, PATIENT.c.diagnosis)
        )
    ]
    strategy_of, resolved = decisions_for(conn, everyone)
    groups: dict[str, list[Summary]] = {}
    for _, k, _ in everyone:
        summary = resolved.summaries.get(k)
        if summary is not None and summary.latest is not None:
            groups.setdefault(strategy_of[k].id, []).append(summary)
    figures = []
    for sid, summaries in sorted(groups.items()):
        s = ds.strategy(sid)
        latest = [x.latest for x in summaries if x.latest is not None]
        escalating = [sum(a == "escalate" for _, a in x.actions) for x in summaries]
        due = [r["next_visit_date"] for r in latest]
        followed = [a for x in summaries for a in x.adherent]
        figures.append(
            {
                "strategy": s.name,
                "target": s.target_text,
                "patients": len(latest),
                "at_target": float(np.mean([r["target_met"] is True for r in latest])),
                "escalations": int(sum(escalating)),
                "escalated_patients": sum(n > 0 for n in escalating),
                "overdue": sum(d is not None and d < today for d in due),
                "observed_adherence": _share(pd.Series(followed, dtype="boolean")),
            }
        )
    d = DECISION
    rec = conn.execute(select(d.c.accepted, d.c.adherent)).all()
    recorded = {
        "decisions": len(rec),
        "accepted": sum(1 for a, _ in rec if a),
        "adherence": _share(pd.Series([x for _, x in rec], dtype="boolean")),
    }
    n_visits = int(conn.execute(select(func.count()).select_from(VISIT)).scalar() or 0)
    figures_all = {"figures": figures, "recorded": recorded, "patients": len(everyone),
                   "visits": n_visits}  # fmt: skip
    return figures_all, resolved.fresh


def _share(s: pd.Series) -> float | None:
    known = s.dropna()
    return None if known.empty else float(np.mean(known.astype(bool)))
