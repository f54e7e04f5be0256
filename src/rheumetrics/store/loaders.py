"""Read the store back as analysis frames: visits (with scores), therapies, imaging reads, patients.

A visit frame has one row per visit, indexed by ``visit_id``, with ``patient_id`` (the
pseudonymous patient key), ``visit_date`` (datetime64), ``visit_kind``, every stored item in its
canonical unit, joint counts (recorded, else counted from the per-joint findings over the
standard set, missing if any joint of the set was not assessed), and optionally per-joint
``tender_<JOINT>``/``swollen_<JOINT>`` columns and the stored scores.

Each frame is one query: filters travel as one parameter (:func:`member_of`), rows come from the
driver in one ``fetchall``, and item or score columns without a single stored value are not
fetched at all (they are added as missing).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import fields as dc_fields
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    ARRAY,
    JSON,
    Connection,
    Engine,
    Float,
    Integer,
    Select,
    String,
    Table,
    any_,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.types import NullType

from rheumetrics import __version__
from rheumetrics import joints as joint_catalogue
from rheumetrics.errors import RheumetricsError
from rheumetrics.measures import DEFAULT, Conventions
from rheumetrics.measures.base import stored_measures
from rheumetrics.store import jointbits
from rheumetrics.store.items import ITEM_TABLES, items, table_items
from rheumetrics.store.models import (
    BOOLEAN_SCORES,
    IMAGING_READ,
    ITEM_TABLE_OBJECTS,
    JOINT_EXAM,
    PATIENT,
    SCORE_NAMES,
    SCORE_RUN,
    SCORE_VALUE,
    THERAPY,
    VISIT,
    VISIT_SCORE,
)

THERAPY_COLUMNS = ("patient_id", "drug", "drug_class", "dose", "dose_unit", "route",
                   "start_date", "stop_date", "stop_reason")  # fmt: skip


def fetch_frame(conn: Connection, stmt: Select[Any]) -> pd.DataFrame:
    """Run one query and build its frame from the driver's rows in one call.

    The rows are taken from the DBAPI cursor with ``fetchall`` (no per-row SQLAlchemy objects)
    and turned into columns by pandas' record conversion (as ``pandas.read_sql`` does).
    """
    result = conn.execute(stmt)
    keys = list(result.keys())
    cursor = getattr(result, "cursor", None)
    rows = cursor.fetchall() if cursor is not None else result.fetchall()
    result.close()
    if not rows:
        return pd.DataFrame({k: pd.Series(dtype=object) for k in keys})
    df = pd.DataFrame.from_records(rows, columns=keys, coerce_float=True)
    for col in stmt.selected_columns:  # JSON text (SQLite) is decoded as SQLAlchemy would
        if isinstance(col.type, JSON) and df[col.name].map(type).eq(str).any():
            df[col.name] = df[col.name].map(lambda v: json.loads(v) if isinstance(v, str) else v)
    return df


#: Stands for NULL in a numeric column read through Arrow: every stored number is finite
#: (each field has finite bounds), so +infinity is never a value.
_NULL_NUMBER = "9e999"


def arrow_source(conn: Connection) -> str | None:
    """Path of the SQLite file behind ``conn`` when it can be read through ADBC (Arrow), else None.

    The ADBC SQLite driver (Apache Arrow ADBC, https://arrow.apache.org/adbc/) returns columns
    as Arrow arrays without a Python object per value. It opens its own connection, so it is used
    only for reads that need no uncommitted writes of the caller (see :func:`load_visits`).
    """
    if conn.dialect.name != "sqlite":
        return None
    db = conn.engine.url.database
    if not db or db == ":memory:" or db.startswith("file:"):
        return None
    try:
        import adbc_driver_sqlite.dbapi  # noqa: F401
    except ImportError:
        return None
    return db


def fetch_arrow(path: str, conn: Connection, stmt: Select[Any]) -> pd.DataFrame:
    """Run ``stmt`` on the SQLite file ``path`` through ADBC; NULL stand-ins become missing."""
    import adbc_driver_sqlite.dbapi as adbc

    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    with adbc.connect(path) as lite, lite.cursor() as cur:
        cur.execute(sql)
        table = cur.fetch_arrow_table()
    df = table.to_pandas()
    for col in df.columns:
        if df[col].dtype.kind == "f":
            values = df[col].to_numpy()
            if np.isinf(values).any():
                df[col] = np.where(np.isinf(values), np.nan, values)
        elif (df[col].dtype == object or pd.api.types.is_string_dtype(df[col].dtype)) and (
            len(df) and (df[col] == "").any()
        ):
            df[col] = df[col].astype(object).where(df[col] != "", None)
    return df


def member_of(conn: Connection, column: Any, values: Iterable[Any]) -> Any:
    """``column IN values`` as one query whatever the number of values.

    The values travel as one parameter: a JSON array unpacked by ``json_each`` on SQLite, an
    array compared with ``= ANY`` on PostgreSQL (no chunks of a few thousand ids).
    """
    vals = [v.item() if isinstance(v, np.generic) else v for v in values]
    if conn.dialect.name == "postgresql":
        element = column.type if not isinstance(column.type, NullType) else String()
        return column == any_(bindparam(None, vals, type_=ARRAY(element)))
    each = func.json_each(bindparam(None, json.dumps(vals), type_=String())).table_valued("value")
    return column.in_(select(each.c.value))


def populated(
    conn: Connection, table: Table, columns: Iterable[str], where: Any = None
) -> set[str]:
    """The columns of ``table`` holding at least one value (one aggregate scan).

    Reading back only the populated item columns of a wide, sparse table avoids fetching
    millions of NULLs; the others are added as missing.
    """
    cols = list(columns)
    if not cols:
        return set()
    stmt = select(*[func.count(table.c[c]) for c in cols])
    if where is not None:
        stmt = stmt.where(where)
    counts = conn.execute(stmt).one()
    return {c for c, n in zip(cols, counts, strict=True) if n}


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
    return func.coalesce(cast(column, Float), literal_column(_NULL_NUMBER)).label(column.name)


def _score_label(column: str) -> str:
    """Name of a ``visit_score`` column in the visit join (``haq_di`` is also an item)."""
    return DERIVED_HAQ if column == "haq_di" else column


#: The derived HAQ-DI of a score run in the visit join, before it fills the recorded one.
DERIVED_HAQ = "haq_di_derived"


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
    with _connect(engine) as conn:
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
        out = _score_columns(out, meta, others)
    return out


def _other_measures() -> list[str]:
    """Stored measures without a ``visit_score`` column (kept in ``visit_score_value``)."""
    return [m.name for m in stored_measures() if m.name not in (*SCORE_NAMES, *BOOLEAN_SCORES)]


def other_scores(
    conn: Connection, run: int, index: pd.Index, labels: dict[str, tuple[str, ...]]
) -> pd.DataFrame:
    """Values (and categories) of the stored measures kept in ``visit_score_value``, one column
    each, on ``index`` (visit ids)."""
    names = _other_measures()
    out = pd.DataFrame(index=index)
    if not names:
        return out
    sv = SCORE_VALUE
    long = fetch_frame(conn, select(sv.c.visit_id, sv.c.measure, sv.c.value, sv.c.category)
                       .where(sv.c.run_id == run))  # fmt: skip
    for name in names:
        part = long[long["measure"] == name].set_index("visit_id")
        out[name] = part["value"].astype("float64").reindex(index)
        cat = part["category"].reindex(index)
        out[f"{name}_category"] = (
            pd.Categorical(cat, categories=list(labels[name]), ordered=True)
            if name in labels
            else cat.astype(object)
        )
    return out


def score_runs(conn: Connection) -> pd.DataFrame:
    """The stored score runs: id, package version, conventions, created."""
    st = SCORE_RUN
    rows = conn.execute(select(st).order_by(st.c.id)).mappings().all()
    return pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in st.c])


def choose_run(conn: Connection, run: int | Conventions | None) -> dict[str, Any] | None:
    """The score run ``run`` names (an id, or conventions under this package version).

    None when the store has no score run at all (nothing has been scored yet).
    """
    from rheumetrics.store.scoring import conventions_key

    st = SCORE_RUN
    if isinstance(run, int):
        found = conn.execute(select(st).where(st.c.id == run)).mappings().one_or_none()
        if found is None:
            raise RheumetricsError(f"score run {run} is not in the store; {_runs_text(conn)}")
        return dict(found)
    conventions = DEFAULT if run is None else run
    key = conventions_key(conventions)
    found = conn.execute(
        select(st).where(st.c.package_version == __version__, st.c.conventions_key == key)
    ).mappings().one_or_none()  # fmt: skip
    if found is not None:
        return dict(found)
    if conn.execute(select(func.count()).select_from(st)).scalar() == 0:
        return None
    raise RheumetricsError(
        f"the store has no score run for {'the default' if run is None else 'these'} conventions "
        f"under rheumetrics {__version__}; choose one by id (run=...) or score the visits under "
        f"these conventions (`rheumetrics db rescore`); {_runs_text(conn)}"
    )


def _runs_text(conn: Connection) -> str:
    runs = score_runs(conn)
    if runs.empty:
        return "the store has no score runs"
    listed = ", ".join(f"{r.id} (rheumetrics {r.package_version})" for r in runs.itertuples())
    return f"stored runs: {listed}"


def _score_columns(
    df: pd.DataFrame, meta: dict[str, Any] | None, others: pd.DataFrame | None
) -> pd.DataFrame:
    """Typed score columns; ``haq_di`` recorded wins over derived."""
    out = df.copy()
    if meta is None or others is None:
        for name in (*SCORE_NAMES, *_other_measures()):
            out[f"{name}_category"] = None
            if name != "haq_di":
                out[name] = np.nan
        for name in BOOLEAN_SCORES:
            out[name] = pd.array([None] * len(out), dtype="boolean")
        out.attrs["conventions"] = None
        return out
    for col in others.columns:
        out[col] = others[col]
    # haq_di is both an input item and a derived score: a recorded value wins, the derived one
    # fills visits where only the HAQ categories (or items) were recorded.
    derived = out.pop(DERIVED_HAQ).to_numpy(dtype="float64")
    out["haq_di"] = out["haq_di"].fillna(pd.Series(derived, index=out.index))
    conventions = meta["conventions"]
    for name in BOOLEAN_SCORES:
        flag = out[name].to_numpy(dtype="float64")
        out[name] = pd.array(np.where(np.isnan(flag), None, flag == 1), dtype="boolean")
    out.attrs["conventions"] = conventions
    out.attrs["package_version"] = meta["package_version"]
    out.attrs["score_run"] = meta["id"]
    return out


def category_labels(conventions: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """Ordered category labels of each score under the recorded conventions."""
    known = {f.name for f in dc_fields(Conventions)}
    conv = Conventions(**{k: v for k, v in conventions.items() if k in known})
    out = {}
    for m in stored_measures():
        name = m.name
        cs = m.cutoff_set(conv)
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


def load_imaging_reads(
    engine: Engine | Connection, patients: Iterable[str] | None = None
) -> pd.DataFrame:
    """Imaging reads, one row per reader, site and feature, in the columns of
    :data:`rheumetrics.schema.records.IMAGING_FIELDS` (those of :mod:`rheumetrics.imaging`, so
    they can be scored directly)."""
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
    return df


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
    if patients is not None:
        stmt = stmt.where(member_of(conn, PATIENT.c.patient_key, patients))
    return fetch_frame(conn, stmt)


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
