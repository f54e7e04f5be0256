"""Fast bulk reads and writes inside an open transaction (SQLite executemany, PostgreSQL COPY).

The ORM is right for single records; for a million visits it is not. These helpers move whole
DataFrames in and out with the driver's bulk path, on the caller's connection, so they take part
in the caller's transaction (an import stays all-or-nothing).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Connection, inspect

#: Rows per executemany / COPY chunk (bounds the memory of the Python-side copies).
CHUNK = 200_000


def _cell_values(col: pd.Series) -> np.ndarray:
    """Object array of driver-ready values (None for missing) for one column."""
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        txt = col.dt.strftime("%Y-%m-%d").astype(object).to_numpy()
        return np.asarray(np.where(col.isna().to_numpy(), None, txt), dtype=object)
    if pd.api.types.is_bool_dtype(col.dtype):
        arr = col.astype(object).to_numpy()
        return np.asarray(np.where(col.isna().to_numpy(), None, arr), dtype=object)
    if pd.api.types.is_integer_dtype(col.dtype) or pd.api.types.is_float_dtype(col.dtype):
        values = col.to_numpy(dtype=float, na_value=np.nan)
        out = values.astype(object)
        out[np.isnan(values)] = None
        return out
    arr = col.astype(object).to_numpy()
    mask = pd.isna(col).to_numpy()
    if mask.any():
        arr = arr.copy()
        arr[mask] = None
    return arr


def insert_frame(
    conn: Connection,
    table: str,
    df: pd.DataFrame,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Insert every row of ``df`` (columns = table columns) into ``table``."""
    if df.empty:
        return
    dialect = conn.dialect.name
    cols = list(df.columns)
    for start in range(0, len(df), CHUNK):
        part = df.iloc[start : start + CHUNK]
        if dialect == "postgresql":
            _copy(conn, table, part)
        else:
            arrays = [_cell_values(part[c]) for c in cols]
            marks = ", ".join("?" for _ in cols)
            sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})"
            conn.exec_driver_sql(sql, list(zip(*arrays, strict=True)))
        if progress is not None:
            progress(min(start + CHUNK, len(df)))


def _copy(conn: Connection, table: str, part: pd.DataFrame) -> None:
    """PostgreSQL ``COPY ... FROM STDIN (FORMAT csv)`` on the caller's transaction.

    The CSV text is written by Arrow's C++ writer; an empty unquoted field is NULL (the store never
    keeps empty strings) and bytes go in PostgreSQL's ``\\x`` hex form.
    """
    out: dict[str, pa.Array] = {}
    for c in part.columns:
        col = part[c]
        if pd.api.types.is_datetime64_any_dtype(col.dtype):
            out[c] = pa.Array.from_pandas(col.dt.strftime("%Y-%m-%d"))
        elif col.dtype == object and len(col) and isinstance(col.iloc[0], bytes):
            out[c] = _bytea_hex(col.tolist())
        else:
            out[c] = pa.Array.from_pandas(col)  # NaN and None become NULL
    buf = io.BytesIO()
    opts = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    pacsv.write_csv(pa.table(out), buf, opts)
    raw = conn.connection.dbapi_connection
    assert raw is not None
    sql = f"COPY {table} ({', '.join(part.columns)}) FROM STDIN (FORMAT csv)"
    cur = raw.cursor()
    try:
        with cur.copy(sql) as cp:  # psycopg 3 cursor
            cp.write(buf.getvalue())
    finally:
        cur.close()


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def _bytea_hex(values: list[bytes]) -> pa.Array:
    """Equal-length byte strings as PostgreSQL ``\\x<hex>`` text, built without a Python loop."""
    width = len(values[0])
    if any(len(v) != width for v in values):
        return pa.array(["\\x" + v.hex() for v in values], type=pa.string())
    raw = np.frombuffer(b"".join(values), dtype=np.uint8).reshape(len(values), width)
    text = np.empty((len(values), 2 + 2 * width), dtype=np.uint8)
    text[:, 0], text[:, 1] = ord("\\"), ord("x")
    text[:, 2::2], text[:, 3::2] = _HEX[raw >> 4], _HEX[raw & 15]
    offsets = np.arange(len(values) + 1, dtype=np.int32) * text.shape[1]
    return pa.StringArray.from_buffers(
        len(values), pa.py_buffer(offsets), pa.py_buffer(text.tobytes())
    )


def allocate_ids(conn: Connection, table: str, n: int) -> np.ndarray:
    """``n`` new primary-key values of ``table`` for rows written with explicit ids.

    PostgreSQL draws them from the table's sequence (safe with concurrent writers); SQLite counts
    on from the largest id, which is safe because an import holds SQLite's write lock
    (``BEGIN IMMEDIATE``).
    """
    if n == 0:
        return np.empty(0, dtype=np.int64)
    if conn.dialect.name == "postgresql":
        sql = f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, {int(n)})"
        return np.fromiter((r[0] for r in conn.exec_driver_sql(sql)), dtype=np.int64, count=n)
    top = conn.exec_driver_sql(f"SELECT COALESCE(MAX(id), 0) FROM {table}").scalar_one()
    return np.arange(int(top) + 1, int(top) + 1 + n, dtype=np.int64)


def to_dates(col: pd.Series) -> pd.Series:
    """Dates as read from either database (ISO text on SQLite, date objects on PostgreSQL)."""
    if col.empty:
        return pd.Series(col, dtype="datetime64[s]")
    if isinstance(col.iloc[0], dt.date):
        return pd.to_datetime(col).astype("datetime64[s]")
    return pd.to_datetime(col, format="%Y-%m-%d").astype("datetime64[s]")


def in_chunks(values: Sequence[Any], size: int = 5000) -> list[list[Any]]:
    """Split ``values`` for ``IN (...)`` lists that stay under driver parameter limits."""
    vals = list(values)
    return [vals[i : i + size] for i in range(0, len(vals), size)]


#: New visits from which a PostgreSQL import checks foreign keys once, set-based, at the end.
BULK_FK_THRESHOLD = 50_000
#: Tables whose foreign keys a bulk load relaxes (children of visit, and visit itself).
BULK_TABLES = ("visit", "joint_exam", "clinical", "lab", "pro", "reported", "visit_score",
               "visit_score_value")  # fmt: skip


@contextmanager
def foreign_keys_checked_at_end(conn: Connection, enabled: bool) -> Iterator[None]:
    """Drop the bulk tables' foreign keys for a large load and add them back afterwards.

    PostgreSQL checks a foreign key row by row on insert but "in bulk" when the constraint is
    added, which is much faster for large loads (PostgreSQL manual, "Populating a Database",
    section "Remove Foreign Key Constraints"). Everything happens inside the caller's transaction:
    the constraints are re-added (and every row checked) before commit, and a failure or a kill
    rolls back the drop with the data. While it runs, the tables are locked against other writers
    and readers. Does nothing unless ``enabled`` and the database is PostgreSQL.
    """
    if not enabled or conn.dialect.name != "postgresql":
        yield
        return
    insp = inspect(conn)
    dropped = []
    for table in BULK_TABLES:
        for fk in insp.get_foreign_keys(table):
            conn.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{fk["name"]}"')
            dropped.append((table, fk))
    yield
    for table, fk in dropped:
        ondelete = (fk.get("options") or {}).get("ondelete")
        conn.exec_driver_sql(
            f'ALTER TABLE {table} ADD CONSTRAINT "{fk["name"]}" FOREIGN KEY '
            f"({', '.join(fk['constrained_columns'])}) REFERENCES {fk['referred_table']} "
            f"({', '.join(fk['referred_columns'])})"
            + (f" ON DELETE {ondelete}" if ondelete else "")
        )
