"""Read the store back as the shared frames: visit frames (contracts.md) and therapy frames.

A visit frame has one row per visit, indexed by ``visit_id``, with ``patient_id`` (the
pseudonymous patient key), ``visit_date`` (datetime64), ``visit_kind``, every stored item in its
canonical unit, joint counts (recorded, else counted from the per-joint findings over the
standard set, missing if any joint of the set was not assessed), and optionally per-joint
``tender_<JOINT>``/``swollen_<JOINT>`` columns and the stored scores.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields as dc_fields
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, Select, false, func, select

from rheumetrics import joints as joint_catalogue
from rheumetrics.store import bulk, jointbits
from rheumetrics.store.items import ITEM_TABLES, items, table_items
from rheumetrics.store.models import (
    BOOLEAN_SCORES,
    IMAGING_READ,
    ITEM_TABLE_OBJECTS,
    JOINT_EXAM,
    PATIENT,
    SCORE_NAMES,
    SCORE_RUN,
    THERAPY,
    VISIT,
    VISIT_SCORE,
)

THERAPY_COLUMNS = ("patient_id", "drug", "drug_class", "dose", "dose_unit", "route",
                   "start_date", "stop_date", "stop_reason")  # fmt: skip


def _rows(conn: Connection, stmt: Select[Any]) -> pd.DataFrame:
    result = conn.execute(stmt)
    keys = list(result.keys())
    rows = result.fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in keys]
    return pd.DataFrame(
        {k: pd.Series(list(c), dtype=object) for k, c in zip(keys, columns, strict=True)}
    )


def _visit_select(joints: bool) -> Select[Any]:
    v, p = VISIT, PATIENT
    cols: list[Any] = [v.c.id.label("visit_id"), p.c.patient_key.label("patient_id"),
                       v.c.visit_date, v.c.kind.label("visit_kind"),
                       v.c.label.label("visit_label")]  # fmt: skip
    src = v.join(p, v.c.patient_id == p.c.id)
    for name in ITEM_TABLES:
        t = ITEM_TABLE_OBJECTS[name]
        cols += [t.c[i] for i in table_items(name)]
        src = src.outerjoin(t, t.c.visit_id == v.c.id)
    if joints:
        j = JOINT_EXAM
        cols += [j.c[m] for m in jointbits.MASKS]
        src = src.outerjoin(j, j.c.visit_id == v.c.id)
    return select(*cols).select_from(src)


def visit_table(
    conn: Connection,
    *,
    patients: Iterable[str] | None = None,
    visit_ids: Iterable[int] | None = None,
    joints: bool = True,
) -> pd.DataFrame:
    """Stored visits with items and (packed) joint masks, indexed by ``visit_id``."""
    stmt = _visit_select(joints)
    parts = []
    if visit_ids is not None:
        for chunk in bulk.in_chunks(list(visit_ids)):
            parts.append(_rows(conn, stmt.where(VISIT.c.id.in_(chunk))))
    elif patients is not None:
        for chunk in bulk.in_chunks(list(patients)):
            parts.append(_rows(conn, stmt.where(PATIENT.c.patient_key.in_(chunk))))
    else:
        parts.append(_rows(conn, stmt))
    df = pd.concat(parts, ignore_index=True) if parts else _rows(conn, stmt.where(false()))
    df["visit_date"] = bulk.to_dates(df["visit_date"])
    for name, item in items().items():
        df[name] = pd.to_numeric(df[name], errors="raise").astype("float64")
        if item.integer:
            df[name] = df[name].astype("Int64")
    df["patient_id"] = df["patient_id"].astype(object)
    return df.set_index("visit_id").sort_values(["patient_id", "visit_date"])


def unpack_masks(df: pd.DataFrame) -> dict[str, np.ndarray]:
    """The four boolean ``(n, 68)`` finding arrays of a frame with packed mask columns."""
    return {m: jointbits.unpack(df[m].tolist()) for m in jointbits.MASKS}


def add_counts(df: pd.DataFrame, masks: dict[str, np.ndarray]) -> pd.DataFrame:
    """Fill missing joint counts from the per-joint findings (no proration)."""
    out = df.copy()
    for set_name, col in joint_catalogue.COUNT_COLUMNS.items():
        state = "tender" if set_name.startswith("tender") else "swollen"
        derived = jointbits.count(masks[state], masks[f"{state}_assessed"],
                                  joint_catalogue.joint_set(set_name))  # fmt: skip
        recorded = out[col].astype("Float64") if col in out else pd.Series(np.nan, index=out.index)
        out[col] = recorded.fillna(pd.Series(derived, index=out.index)).astype("Int64")
    return out


def load_visits(
    engine: Engine | Connection,
    patients: Iterable[str] | None = None,
    *,
    scores: bool = True,
    run: int | None = None,
    joints: bool = False,
) -> pd.DataFrame:
    """Visit frame (contracts.md) of all or some patients.

    Parameters
    ----------
    patients : patient keys to load; all when None.
    scores : join the derived scores of score run ``run`` (default: the newest run); the
        conventions and package version of that run are in ``attrs["conventions"]`` and
        ``attrs["package_version"]``.
    joints : add per-joint ``tender_<JOINT>``/``swollen_<JOINT>`` columns (1, 0, NA).
    """
    with _connect(engine) as conn:
        df = visit_table(conn, patients=patients)
        masks = unpack_masks(df)  # visits without an examination: nothing assessed
        out = add_counts(df.drop(columns=list(jointbits.MASKS)), masks)
        if joints:
            wide = jointbits.findings_to_frame(
                masks["tender"], masks["tender_assessed"], masks["swollen"],
                masks["swollen_assessed"], index=out.index)  # fmt: skip
            out = out.join(wide)
        if scores:
            out = _join_scores(conn, out, run)
    return out


def _join_scores(conn: Connection, df: pd.DataFrame, run: int | None) -> pd.DataFrame:
    if run is None:
        run = conn.execute(select(func.max(SCORE_RUN.c.id))).scalar()
    if run is None:
        df.attrs["conventions"] = None
        return df
    st = SCORE_RUN
    meta = conn.execute(select(st).where(st.c.id == run)).mappings().one_or_none()
    sv = VISIT_SCORE
    cols = [sv.c.visit_id] + [c for c in sv.c if c.name not in ("run_id", "visit_id")]
    parts = [
        _rows(conn, select(*cols).where(sv.c.run_id == run, sv.c.visit_id.in_(chunk)))
        for chunk in bulk.in_chunks(df.index.tolist())
    ]
    scores = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=[c.name for c in cols])
    )
    scores = scores.set_index("visit_id")
    # haq_di is both an input item and a derived score: a recorded value wins, the derived one
    # fills visits where only the HAQ categories were recorded.
    derived_haq = pd.to_numeric(scores.pop("haq_di")).astype("float64")
    out = df.join(scores, how="left")
    out["haq_di"] = out["haq_di"].fillna(derived_haq.reindex(out.index))
    conventions = meta["conventions"] if meta is not None else {}
    labels = category_labels(conventions)
    for name in SCORE_NAMES:
        out[name] = pd.to_numeric(out[name]).astype("float64")  # haq_di: recorded or derived
        cat = f"{name}_category"
        if name in labels:
            out[cat] = pd.Categorical(out[cat], categories=list(labels[name]), ordered=True)
    for name in BOOLEAN_SCORES:
        out[name] = out[name].astype("boolean")
    out.attrs["conventions"] = conventions
    out.attrs["package_version"] = meta["package_version"] if meta is not None else None
    out.attrs["score_run"] = run
    return out


def category_labels(conventions: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """Ordered category labels of each score under the recorded conventions."""
    from rheumetrics.measures import MEASURES, Conventions

    known = {f.name for f in dc_fields(Conventions)}
    conv = Conventions(**{k: v for k, v in conventions.items() if k in known})
    out = {}
    for name in SCORE_NAMES:
        m = MEASURES.get(name)
        cs = m.cutoff_set(conv) if m is not None else None
        if cs is not None:
            out[name] = tuple(cs.labels)
    return out


def load_therapies(
    engine: Engine | Connection, patients: Iterable[str] | None = None
) -> pd.DataFrame:
    """Therapy frame: one row per drug course (columns :data:`THERAPY_COLUMNS`)."""
    t, p = THERAPY, PATIENT
    stmt = select(
        p.c.patient_key.label("patient_id"), *[t.c[c] for c in THERAPY_COLUMNS[1:]]
    ).select_from(t.join(p, t.c.patient_id == p.c.id))
    with _connect(engine) as conn:
        df = _filtered(conn, stmt, patients)
    for col in ("start_date", "stop_date"):
        df[col] = pd.to_datetime(df[col]).astype("datetime64[s]")
    df["dose"] = pd.to_numeric(df["dose"]).astype("float64")
    return df.sort_values(["patient_id", "start_date", "drug"], ignore_index=True)


#: Store column -> column of a read record in :mod:`rheumetrics.imaging` (``validate_reads``).
IMAGING_COLUMNS = {
    "time_point": "timepoint",
    "scoring_system": "system",
    "scoring_version": "version",
    "reading_session": "session",
    "reading_design": "design",
}


def load_imaging_reads(
    engine: Engine | Connection, patients: Iterable[str] | None = None
) -> pd.DataFrame:
    """Imaging reads, one row per reader, site and feature (imaging-scores.md §0), with the
    column names of :mod:`rheumetrics.imaging` so they can be scored directly."""
    r, p = IMAGING_READ, PATIENT
    cols = [c for c in r.c if c.name not in ("id", "patient_id")]
    stmt = select(p.c.patient_key.label("patient_id"), *cols).select_from(
        r.join(p, r.c.patient_id == p.c.id)
    )
    with _connect(engine) as conn:
        df = _filtered(conn, stmt, patients)
    df["image_date"] = pd.to_datetime(df["image_date"]).astype("datetime64[s]")
    df["grade"] = pd.to_numeric(df["grade"]).astype("float64")
    df["not_assessable"] = df["not_assessable"].astype(bool)
    return df.rename(columns=IMAGING_COLUMNS)


def load_patients(
    engine: Engine | Connection, patients: Iterable[str] | None = None
) -> pd.DataFrame:
    """Patients indexed by key: diagnosis (+ SNOMED CT), sex, birth year, serology, attributes."""
    p = PATIENT
    stmt = select(*[c for c in p.c if c.name != "id"])
    with _connect(engine) as conn:
        df = _filtered(conn, stmt, patients)
    df["birth_year"] = pd.to_numeric(df["birth_year"]).astype("Int64")
    for col in ("rf", "acpa", "hla_b27"):
        df[col] = df[col].astype("boolean")
    return df.set_index("patient_key").sort_index()


def _filtered(conn: Connection, stmt: Select[Any], patients: Iterable[str] | None) -> pd.DataFrame:
    if patients is None:
        return _rows(conn, stmt)
    parts = [_rows(conn, stmt.where(PATIENT.c.patient_key.in_(chunk)))
             for chunk in bulk.in_chunks(list(patients))]  # fmt: skip
    return pd.concat(parts, ignore_index=True) if parts else _rows(conn, stmt.where(false()))


class _connect:
    """Use a given connection as is, or open (and close) one on an engine."""

    def __init__(self, target: Engine | Connection) -> None:
        self.target = target
        self.conn: Connection | None = None

    def __enter__(self) -> Connection:
        if isinstance(self.target, Connection):
            return self.target
        self.conn = self.target.connect()
        return self.conn

    def __exit__(self, *exc: object) -> None:
        if self.conn is not None:
            self.conn.close()
