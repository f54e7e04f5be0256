"""Query results as pandas frames: one query, one driver call, one parameter per filter.

Every read-back of the store (:mod:`rheumetrics.store.visit_frames`,
:mod:`rheumetrics.store.record_frames`) goes through :func:`fetch_frame`; on SQLite a large result
comes through ADBC as Arrow (:func:`fetch_arrow`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    ARRAY,
    JSON,
    Connection,
    Engine,
    Select,
    String,
    Table,
    any_,
    bindparam,
    func,
    select,
)
from sqlalchemy.types import NullType

from rheumetrics.store.models import (
    PATIENT,
)


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
NULL_NUMBER = "9e999"


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


def fetch_filtered(
    conn: Connection, stmt: Select[Any], patients: Iterable[str] | None
) -> pd.DataFrame:
    if patients is not None:
        stmt = stmt.where(member_of(conn, PATIENT.c.patient_key, patients))
    return fetch_frame(conn, stmt)


class connected:
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
