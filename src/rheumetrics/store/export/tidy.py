"""Tidy export: one row per visit with every stored item, joint count and derived score.

The conventions and package version that produced the scores travel with the file: in a
``<file>.meta.json`` sidecar for CSV and Parquet, and in the Parquet schema metadata as well.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine

from rheumetrics import __version__
from rheumetrics.errors import RheumetricsError
from rheumetrics.schema.writers import write_csv
from rheumetrics.store.database import current_revision
from rheumetrics.store.visit_frames import load_visits


def write_frame(df: pd.DataFrame, path: Path, meta: dict[str, Any]) -> Path:
    """Write ``df`` as CSV or Parquet (by suffix) with a ``.meta.json`` sidecar.

    CSV goes through :func:`rheumetrics.schema.writers.write_csv`: text cells that a spreadsheet
    would run as formulas are escaped and cells holding line breaks are quoted.
    """
    return write_frames([df], path, meta)


def write_frames(frames: Iterable[pd.DataFrame], path: Path, meta: dict[str, Any]) -> Path:
    """:func:`write_frame` for a table arriving in pieces with the same columns, written as they
    come (memory: one piece); the file equals the one the pieces concatenated would give."""
    with FrameWriter(path, meta) as writer:
        for frame in frames:
            writer.write(frame)
    return path


class FrameWriter:
    """A CSV or Parquet file (by suffix) written piece by piece, then its ``.meta.json`` sidecar.

    The pieces go to a hidden ``.<name>.partial`` file renamed to ``path`` when all are written,
    so a failed export leaves no partial file under the export's name.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "t.csv"
    >>> with FrameWriter(path, {"what": "example"}) as w:
    ...     w.write(pd.DataFrame({"a": [1]}))
    ...     w.write(pd.DataFrame({"a": [2]}))
    >>> path.read_text().split()
    ['a', '1', '2']
    """

    def __init__(self, path: Path, meta: dict[str, Any]) -> None:
        self.path, self.meta = Path(path), meta
        self._partial = self.path.with_name(f".{self.path.name}.partial")
        self.suffix = self.path.suffix.lower()
        if self.suffix not in (".csv", ".parquet"):
            raise ValueError(f"{path}: export format comes from the suffix, .csv or .parquet")
        self._parquet: pq.ParquetWriter | None = None
        self._started = False

    def write(self, frame: pd.DataFrame) -> None:
        """Append ``frame`` (the first piece gives the header, even when empty)."""
        if self._started and frame.empty:
            return
        if self.suffix == ".csv":
            write_csv(frame, self._partial, date_format="%Y-%m-%d",
                      mode="a" if self._started else "w", header=not self._started)  # fmt: skip
        else:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self._parquet is None:  # an all-missing first piece: text columns
                schema = pa.schema([f.with_type(pa.string()) if pa.types.is_null(f.type) else f
                                    for f in table.schema])  # fmt: skip
                attrs = json.dumps({"rheumetrics": json.dumps(self.meta, default=str)})
                schema = schema.with_metadata({**(schema.metadata or {}),
                                               b"PANDAS_ATTRS": attrs.encode()})  # fmt: skip
                self._parquet = pq.ParquetWriter(self._partial, schema)
            self._parquet.write_table(table.cast(self._parquet.schema))
        self._started = True

    def __enter__(self) -> FrameWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._parquet is not None:
            self._parquet.close()
        if exc[0] is not None:
            self._partial.unlink(missing_ok=True)
            return
        if not self._started:
            raise RheumetricsError(f"{self.path}: nothing to write (no table was given)")
        self._partial.replace(self.path)
        Path(f"{self.path}.meta.json").write_text(
            json.dumps(self.meta, indent=2, default=str), encoding="utf-8"
        )


def tidy_meta(attrs: dict[str, Any], schema_revision: str | None, rows: int) -> dict[str, Any]:
    """The sidecar of a tidy export of visits read with ``attrs`` (score run, conventions)."""
    return {
        "what": "rheumetrics tidy visit export",
        "exported_at": dt.datetime.now(dt.UTC).isoformat(),
        "exported_by": f"rheumetrics {__version__}",
        "schema_revision": schema_revision,
        "score_run": attrs.get("score_run"),
        "scores_package_version": attrs.get("package_version"),
        "conventions": attrs.get("conventions"),
        "rows": rows,
    }


def export_tidy(
    engine: Engine,
    path: str | Path,
    patients: Iterable[str] | None = None,
    *,
    run: int | None = None,
    joints: bool = False,
) -> Path:
    """Write the visit frame with scores to ``path`` (.csv or .parquet); returns the path."""
    visits = load_visits(engine, patients, scores=True, run=run, joints=joints)
    meta = tidy_meta(visits.attrs, current_revision(engine), len(visits))
    return write_frames([visits.reset_index()], Path(path), meta)
