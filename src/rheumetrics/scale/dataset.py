"""The Parquet dataset layout: tables split into patient hash buckets, schema from the field registry.

A dataset is a folder::

    ROOT/_rheumetrics.json                  layout version, bucket count, tables, package version,
                                            source (score run and conventions of a store export)
    ROOT/visits/bucket=0007/part-0.parquet  one or more files per bucket
    ROOT/imaging_reads/bucket=0007/...      (and therapies/, patients/ when exported)

A patient's rows of every table are in the bucket ``bucket_of(patient_id)`` and every file holds all
rows of its patients, so per-patient work (treat-to-target histories, change scores) runs on one
file at a time and memory is bounded by the largest file, not by the cohort. The bucket is a stable
hash (:func:`pandas.util.hash_array`, SipHash-2-4 with pandas' fixed key) of the patient key, so it
does not depend on the process, platform or order of the rows.

Columns declared in :data:`rheumetrics.measures.FIELDS` are written as ``float64`` with their
label, unit and allowed interval in the Arrow field metadata; the packed per-joint findings
(``tender``, ``tender_assessed``, ``swollen``, ``swollen_assessed``) are 9-byte fixed-size binary
masks (bit ``i`` = joint ``i`` of :data:`rheumetrics.store.jointbits.STORAGE_ORDER`, little-endian).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from rheumetrics import __version__
from rheumetrics.errors import RheumetricsError
from rheumetrics.measures import FIELDS
from rheumetrics.store.jointbits import MASK_BYTES, MASKS

#: File naming the dataset and its layout.
MANIFEST = "_rheumetrics.json"
LAYOUT_VERSION = 1
#: Default number of patient buckets (files per table, for exports of registry size).
DEFAULT_BUCKETS = 64
TABLES = ("visits", "imaging_reads", "therapies", "patients")


@dataclass(frozen=True)
class Dataset:
    """An opened dataset: its folder, bucket count and the tables it holds."""

    root: Path
    buckets: int
    tables: tuple[str, ...]
    #: What the store export recorded: ``score_run``, ``conventions``, ``package_version`` of the
    #: scores and the store's ``schema_revision`` (empty for generated datasets).
    source: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False)

    def files(self, table: str) -> list[Path]:
        """Parquet files of ``table`` in bucket order (empty buckets have no file)."""
        if table not in self.tables:
            raise RheumetricsError(
                f"{self.root}: the dataset has no {table} table (it has {', '.join(self.tables)})"
            )
        return sorted((self.root / table).glob("bucket=*/*.parquet"))

    def bucket_files(self, table: str) -> dict[int, list[Path]]:
        """Files of ``table`` by bucket number."""
        out: dict[int, list[Path]] = {}
        for path in self.files(table):
            out.setdefault(int(path.parent.name.split("=")[1]), []).append(path)
        return out

    def n_rows(self, table: str) -> int:
        """Rows of ``table``, from the Parquet footers (no data read)."""
        return sum(pq.ParquetFile(p).metadata.num_rows for p in self.files(table))


def bucket_of(patient_ids: Iterable[object] | pd.Series, buckets: int) -> np.ndarray:
    """Bucket number ``0..buckets-1`` of each patient key (stable across processes and runs).

    >>> b = bucket_of(["P001", "P002", "P001"], 16)
    >>> bool(b[0] == b[2] == bucket_of(["P001"], 16)[0]), bool(0 <= b.min() and b.max() < 16)
    (True, True)
    """
    keys = np.asarray(pd.Series(patient_ids, dtype=object).astype(str), dtype=object)
    return (pd.util.hash_array(keys, categorize=True) % np.uint64(buckets)).astype(np.int64)


def is_dataset(path: str | Path) -> bool:
    """True when ``path`` is a folder written by :func:`write_table` (it holds the manifest)."""
    return (Path(path) / MANIFEST).is_file()


def open_dataset(path: str | Path) -> Dataset:
    """Open a dataset folder; a clear error when it is not one."""
    root = Path(path)
    if not is_dataset(root):
        raise RheumetricsError(f"{root}: not a rheumetrics Parquet dataset (no {MANIFEST})")
    manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    if manifest.get("layout") != LAYOUT_VERSION:
        raise RheumetricsError(
            f"{root}: dataset layout {manifest.get('layout')!r}; this version reads {LAYOUT_VERSION}"
        )
    return Dataset(root, int(manifest["buckets"]), tuple(manifest["tables"]),
                   dict(manifest.get("source") or {}))  # fmt: skip


def record_source(root: str | Path, source: dict[str, Any]) -> None:
    """Record in the manifest where the dataset's rows come from (see :attr:`Dataset.source`)."""
    path = Path(root) / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["source"] = source
    path.write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")


def arrow_schema(frame: pd.DataFrame) -> pa.Schema:
    """Arrow schema of a table: declared fields as float64 with unit and interval metadata."""
    base = pa.Schema.from_pandas(frame, preserve_index=False)
    fields = []
    for field in base:
        declared = FIELDS.get(field.name)
        if declared is not None:
            meta = {
                "label": declared.label,
                "unit": declared.unit,
                "low": f"{declared.low:g}",
                "high": f"{declared.high:g}",
                "low_inclusive": str(declared.low_inclusive).lower(),
                "integer": str(declared.integer).lower(),
            }
            if declared.step:
                meta["step"] = f"{declared.step:g}"
            fields.append(pa.field(field.name, pa.float64(), metadata=meta))
        elif field.name in MASKS:
            fields.append(
                pa.field(field.name, pa.binary(MASK_BYTES), metadata={"format": "jointbits"})
            )
        else:
            fields.append(field.remove_metadata())
    return pa.schema(fields)


def _as_table(frame: pd.DataFrame) -> pa.Table:
    schema = arrow_schema(frame)
    columns = {}
    for name in frame.columns:
        target = schema.field(name).type
        values = frame[name]
        if name in MASKS:
            columns[name] = pa.array(values.tolist(), type=target)
        elif name in FIELDS:
            columns[name] = pa.array(values.astype("Float64").to_numpy(float, na_value=np.nan),
                                     type=target, from_pandas=True)  # fmt: skip
        else:
            columns[name] = pa.Array.from_pandas(values)
    return pa.Table.from_pydict(columns, schema=schema)


def write_table(
    root: str | Path,
    table: str,
    frame: pd.DataFrame,
    *,
    buckets: int = DEFAULT_BUCKETS,
    part: int = 0,
    patient_column: str = "patient_id",
) -> None:
    """Write ``frame`` as file ``part`` of each of its buckets and record the table in the manifest.

    Call once per table for an export; a generator writing a large table in pieces calls it with
    ``part = 0, 1, ...``, each piece holding all rows of its patients.
    """
    if table not in TABLES:
        raise ValueError(f"table must be one of {TABLES}")
    root = Path(root)
    if frame.index.name is not None:
        frame = frame.reset_index()
    if patient_column not in frame.columns:
        raise RheumetricsError(f"{table}: no {patient_column} column to bucket the rows by")
    write_arrow(root, table, _as_table(frame.reset_index(drop=True)), buckets=buckets, part=part,
                patient_column=patient_column)  # fmt: skip


def write_arrow(
    root: str | Path,
    table: str,
    data: pa.Table,
    *,
    buckets: int = DEFAULT_BUCKETS,
    part: int = 0,
    patient_column: str = "patient_id",
) -> None:
    """:func:`write_table` for an Arrow table (for generators that build columns directly)."""
    if table not in TABLES:
        raise ValueError(f"table must be one of {TABLES}")
    root = Path(root)
    _update_manifest(root, table, buckets)
    bucket = bucket_of(data.column(patient_column).to_pandas(), buckets)
    order = np.argsort(bucket, kind="stable")
    bounds = np.flatnonzero(np.diff(bucket[order])) + 1
    for chunk in np.split(order, bounds):
        if not len(chunk):
            continue
        b = int(bucket[chunk[0]])
        folder = root / table / f"bucket={b:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(
            data.take(pa.array(chunk)),
            folder / f"part-{part}.parquet",
            row_group_size=256_000,
            compression="zstd",
        )


def _update_manifest(root: Path, table: str, buckets: int) -> None:
    root.mkdir(parents=True, exist_ok=True)
    path = root / MANIFEST
    if path.exists():
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if manifest["buckets"] != buckets:
            raise RheumetricsError(
                f"{root}: dataset has {manifest['buckets']} buckets, not {buckets}"
            )
    else:
        manifest = {"layout": LAYOUT_VERSION, "buckets": buckets, "tables": [],
                    "rheumetrics": __version__}  # fmt: skip
    if table not in manifest["tables"]:
        manifest["tables"].append(table)
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def read_file(path: str | Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """One file of a dataset as pandas (masks stay ``bytes``; declared fields float64)."""
    return pq.read_table(path, columns=list(columns) if columns else None).to_pandas()
