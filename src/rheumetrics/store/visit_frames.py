"""Visits read back from the store as one frame, with their stored scores.

A visit frame has one row per visit, indexed by ``visit_id``, with ``patient_id`` (the
pseudonymous patient key), ``visit_date`` (datetime64), ``visit_kind``, every stored item in its
canonical unit, joint counts (recorded, else counted from the per-joint findings over the
standard set, missing if any joint of the set was not assessed), and optionally per-joint
``tender_<JOINT>``/``swollen_<JOINT>`` columns and the stored scores.

Each frame is one query: filters travel as one parameter (:func:`~rheumetrics.store.sql_frames.member_of`), rows come from the
driver in one ``fetchall``, and item or score columns without a single stored value are not
fetched at all (they are added as missing).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Connection,
    Engine,
    Float,
    Integer,
    Select,
    String,
    case,
    cast,
    func,
    literal_column,
    select,
)

from rheumetrics import joints as joint_catalogue
from rheumetrics.errors import RheumetricsError
from rheumetrics.measures import Conventions
from rheumetrics.store import jointbits
from rheumetrics.store.items import ITEM_TABLES, items, table_items
from rheumetrics.store.models import (
    BOOLEAN_SCORES,
    ITEM_TABLE_OBJECTS,
    JOINT_EXAM,
    PATIENT,
    SCORE_NAMES,
    VISIT,
    VISIT_SCORE,
)
from rheumetrics.store.score_runs import (
    DERIVED_HAQ,
    category_labels,
    choose_run,
    other_scores,
    score_columns,
)
from rheumetrics.store.sql_frames import (
    NULL_NUMBER,
    arrow_source,
    connected,
    fetch_arrow,
    fetch_frame,
    member_of,
    populated,
)


def _day_number(conn: Connection, column: Any) -> Any:
    """A date column as days since 1970-01-01 (an integer: no text to parse)."""
    if conn.dialect.name == "postgresql":
        return column - literal_column("DATE '1970-01-01'")
    return cast(func.julianday(column) - 2440587.5, Integer)


def _category_codes(column: Any, labels: tuple[str, ...]) -> Any:
    """A category column as its position in the cut-off set's labels (-2 if not one of them)."""
    return case(*[(column == label, i) for i, label in enumerate(labels)],
                else_=case((column.is_(None), -1), else_=-2))  # fmt: skip


def _visit_select(
    conn: Connection,
    joints: bool,
    run: int | None,
    labels: dict[str, tuple[str, ...]],
    where: Any,
    arrow: bool = False,
) -> tuple[Select[Any], list[str]]:
    """The visit join (patient, items, masks, scores of ``run``) and the item and score columns
    left out because no stored row has a value in them (through Arrow, where a missing value costs
    no Python object, every column is read and nothing is left out).

    Text that repeats is fetched as numbers: the patient as its row id (keys are looked up once
    per patient), the visit date as a day number, score categories as label positions.
    """
    v = VISIT
    cols: list[Any] = [v.c.id.label("visit_id"), v.c.patient_id.label("_patient"),
                       _day_number(conn, v.c.visit_date).label("_day"),
                       v.c.kind.label("visit_kind"), v.c.label.label("visit_label")]  # fmt: skip
    src: Any = v
    empty: list[str] = []
    for name in ITEM_TABLES:
        t = ITEM_TABLE_OBJECTS[name]
        names = table_items(name)
        filled = set(names) if arrow else populated(conn, t, names)
        empty += [i for i in names if i not in filled]
        if filled:
            cols += [_nullable(t.c[i], arrow) for i in names if i in filled]
            src = src.outerjoin(t, t.c.visit_id == v.c.id)
    if joints:
        j = JOINT_EXAM
        cols += [
            func.coalesce(j.c[m], func.zeroblob(jointbits.MASK_BYTES)).label(m) if arrow else j.c[m]
            for m in jointbits.MASKS
        ]  # a visit without an examination: nothing assessed
        src = src.outerjoin(j, j.c.visit_id == v.c.id)
    if run is not None:
        sv = VISIT_SCORE
        score_cols = [c.name for c in sv.c if c.name not in ("run_id", "visit_id")]
        filled = set(score_cols) if arrow else populated(conn, sv, score_cols, sv.c.run_id == run)
        empty += [_score_label(c) for c in score_cols if c not in filled]
        for c in score_cols:
            if c not in filled:
                continue
            score = c.removesuffix("_category")
            if c.endswith("_category") and score in labels:
                cols.append(_category_codes(sv.c[c], labels[score]).label(c))
            else:
                cols.append(_nullable(sv.c[c], arrow).label(_score_label(c)))
        src = src.outerjoin(sv, (sv.c.visit_id == v.c.id) & (sv.c.run_id == run))
    stmt = select(*cols).select_from(src)
    return (stmt.where(where) if where is not None else stmt), empty


def _nullable(column: Any, arrow: bool) -> Any:
    """A nullable column as read: through Arrow, NULL becomes a stand-in of a fixed type (the
    ADBC driver types a column from its first rows), numbers always REAL."""
    if not arrow:
        return column
    if isinstance(column.type, String):
        return func.coalesce(column, "").label(column.name)
    return func.coalesce(cast(column, Float), literal_column(NULL_NUMBER)).label(column.name)


def _score_label(column: str) -> str:
    """Name of a ``visit_score`` column in the visit join (``haq_di`` is also an item)."""
    return DERIVED_HAQ if column == "haq_di" else column


def visit_table(
    conn: Connection,
    *,
    patients: Iterable[str] | None = None,
    visit_ids: Iterable[int] | None = None,
    joints: bool = True,
    run: int | None = None,
    labels: dict[str, tuple[str, ...]] | None = None,
    arrow: bool = False,
) -> pd.DataFrame:
    """Stored visits with items, (packed) joint masks and the raw scores of score run ``run``,
    indexed by ``visit_id`` and sorted by patient and date: one query.

    ``labels`` are the ordered category labels of each score under the run's conventions;
    those categories come back as ordered Categoricals.
    """
    labels = labels or {}
    where = None  # ``arrow``: read through ADBC where possible (the caller has no pending writes)
    if visit_ids is not None:
        where = member_of(conn, VISIT.c.id, visit_ids)
    elif patients is not None:
        pids = select(PATIENT.c.id).where(member_of(conn, PATIENT.c.patient_key, patients))
        where = VISIT.c.patient_id.in_(pids)
    path = arrow_source(conn) if arrow else None
    stmt, empty = _visit_select(conn, joints, run, labels, where, arrow=path is not None)
    df = fetch_arrow(path, conn, stmt) if path is not None else fetch_frame(conn, stmt)
    n = len(df)
    keys = fetch_frame(conn, select(PATIENT.c.id, PATIENT.c.patient_key))
    ids = keys["id"].to_numpy(dtype="int64")
    by_id = np.argsort(ids)
    pos = (
        by_id[np.searchsorted(ids, df["_patient"].to_numpy(dtype="int64"), sorter=by_id)]
        if n
        else np.empty(0, np.int64)
    )
    key_values = keys["patient_key"].to_numpy(dtype=object)
    key_rank = np.empty(len(key_values), dtype=np.int64)
    key_rank[np.argsort(key_values, kind="stable")] = np.arange(len(key_values))
    day = df.pop("_day").to_numpy(dtype="int64") if n else np.empty(0, np.int64)
    df["patient_id"] = pd.Series(key_values[pos], index=df.index, dtype=object)
    df["visit_date"] = day.astype("datetime64[D]").astype("datetime64[s]")
    order_rows = np.lexsort((day, key_rank[pos])) if n else np.empty(0, np.int64)
    df = df.drop(columns="_patient")
    for name, item in items().items():
        values = (
            df[name].to_numpy(dtype="float64", na_value=np.nan)
            if name in df
            else np.full(n, np.nan)
        )
        df[name] = pd.array(values, dtype="Int64") if item.integer else values
    for name in empty:
        if name not in df:
            df[name] = None if name.endswith("_category") else np.nan
    if run is not None:
        for name in (*SCORE_NAMES, *BOOLEAN_SCORES):
            label = _score_label(name)
            df[label] = df[label].to_numpy(dtype="float64", na_value=np.nan)
        for name, cats in labels.items():
            if name not in SCORE_NAMES:
                continue  # kept in visit_score_value
            col = f"{name}_category"
            codes = df[col].to_numpy(dtype="float64", na_value=-1).astype(np.int64)
            if (codes < -1).any():
                raise RheumetricsError(f"score run {run}: a stored {col} is not one of {cats}")
            df[col] = pd.Categorical.from_codes(codes, categories=list(cats), ordered=True)
    if joints:
        for m in jointbits.MASKS:
            df[m] = df[m].astype(object)
    df["visit_id"] = df["visit_id"].astype("int64")
    order = ["visit_id", "patient_id", "visit_date", "visit_kind", "visit_label"]
    for name in ITEM_TABLES:
        order += list(table_items(name))
    order += list(jointbits.MASKS) if joints else []
    if run is not None:
        order += [
            _score_label(c.name) for c in VISIT_SCORE.c if c.name not in ("run_id", "visit_id")
        ]
    return df[order].iloc[order_rows].set_index("visit_id")


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
    run: int | Conventions | None = None,
    joints: bool = False,
) -> pd.DataFrame:
    """Visit frame of all or some patients, read back in one query.

    Parameters
    ----------
    patients : patient keys to load; all when None.
    scores : join the derived scores of one score run, chosen explicitly: ``run`` is a run id,
        or the :class:`~rheumetrics.measures.Conventions` whose run to use; None means the
        default conventions (:data:`rheumetrics.measures.DEFAULT`) under this package version.
        Never "the newest run": a store without that run raises an error naming the runs it
        has. The conventions and package version of the run are in ``attrs["conventions"]``,
        ``attrs["package_version"]`` and ``attrs["score_run"]``.
    joints : add per-joint ``tender_<JOINT>``/``swollen_<JOINT>`` columns (1, 0, NA).
    """
    with connected(engine) as conn:
        meta = choose_run(conn, run) if scores else None
        labels = category_labels(meta["conventions"]) if meta is not None else {}
        df = visit_table(
            conn,
            patients=patients,
            run=None if meta is None else meta["id"],
            labels=labels,
            arrow=not isinstance(engine, Connection),  # our own connection: nothing pending
        )
        others = other_scores(conn, meta["id"], df.index, labels) if meta is not None else None
    masks = unpack_masks(df)  # visits without an examination: nothing assessed
    out = add_counts(df.drop(columns=list(jointbits.MASKS)), masks)
    if joints:
        wide = jointbits.findings_to_frame(
            masks["tender"], masks["tender_assessed"], masks["swollen"],
            masks["swollen_assessed"], index=out.index)  # fmt: skip
        out = out.join(wide)
    if scores:
        out = score_columns(out, meta, others)
    return out
