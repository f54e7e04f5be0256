"""A dataset's rows in patient-key (or pseudonym) order, out of core: a range-partitioned sort.

Buckets hold patients by hash, but exports list patients in key order (as the store reads them).
:func:`key_ranges` sorts without holding the cohort: each bucket's files are split by sort-key
range into spill files (in parallel on the workers); then each range, about one bucket's size,
is read, sorted and handed on in turn. Within a patient the rows keep their order in the bucket,
which is the store's order (a patient's rows are written in one piece by ``export parquet``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import dask
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from rheumetrics.scale.dataset import Dataset, bucket_of

#: Keys sampled per patients file to place the range boundaries.
SAMPLE_PER_FILE = 2_000

Route = Callable[[np.ndarray], np.ndarray]


def by_key(splitters: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Range of each patient key: keys ordered as Python (and the store) order text.

    >>> by_key(np.array(["P2", "P5"], dtype=object), np.array(["P1", "P2", "P3", "P9"], dtype=object))
    array([0, 1, 1, 2])
    """
    return np.searchsorted(splitters, keys, side="right")


def by_pseudonym(secret: bytes, n_ranges: int, keys: np.ndarray) -> np.ndarray:
    """Range of each patient's pseudonym (:func:`rheumetrics.store.export.deid.pseudonym`, whose
    hex digits are uniform): ranges follow the pseudonyms' order.

    >>> from rheumetrics.store.export.deid import pseudonym
    >>> keys = np.array([f"P{i}" for i in range(200)], dtype=object)
    >>> ranges = by_pseudonym(b"k", 8, keys)
    >>> by_name = sorted(zip([pseudonym(b"k", k) for k in keys], ranges))
    >>> [r for _, r in by_name] == sorted(ranges), sorted(set(ranges.tolist())) == list(range(8))
    (True, True)
    """
    from rheumetrics.store.export.deid import pseudonym

    uniq, inverse = np.unique(keys.astype(str), return_inverse=True)
    lead = np.array([int(pseudonym(secret, k)[1:9], 16) for k in uniq], dtype=np.int64)
    return (lead * n_ranges >> 32)[inverse]


def key_splitters(dataset: Dataset, n_ranges: int) -> np.ndarray:
    """``n_ranges - 1`` boundaries between ranges of about equal numbers of patients."""
    table = "patients" if "patients" in dataset.tables else "visits"
    sample = []
    for path in dataset.files(table):
        ids = pq.read_table(path, columns=["patient_id"]).column("patient_id")
        ids = pc.unique(ids).to_numpy(zero_copy_only=False).astype(str)
        step = max(1, len(ids) // SAMPLE_PER_FILE)
        sample.append(ids[::step])
    keys = np.unique(np.concatenate(sample)) if sample else np.array([], dtype=str)
    if len(keys) == 0:
        return keys.astype(object)
    picks = np.linspace(0, len(keys), n_ranges + 1)[1:-1].astype(int)
    return np.unique(keys[picks]).astype(object)


def _spill_bucket(
    files: dict[str, list[Path]], route: Route, keep: frozenset[str] | None, folder: Path, b: int
) -> dict[str, int]:
    """Split each file of one bucket by range into ``folder/<table>/<range>/<bucket>-<part>``."""
    rows: dict[str, int] = {}
    for table, paths in files.items():
        rows[table] = 0
        for part, path in enumerate(paths):
            data = pq.read_table(path)
            if keep is not None:
                data = data.filter(pc.is_in(data.column("patient_id"), pa.array(sorted(keep))))
            keys = data.column("patient_id").to_numpy(zero_copy_only=False).astype(object)
            ranges = route(keys) if len(keys) else np.empty(0, np.int64)
            order = np.argsort(ranges, kind="stable")
            bounds = np.flatnonzero(np.diff(ranges[order])) + 1
            for chunk in np.split(order, bounds):
                if len(chunk):
                    target = folder / table / f"{int(ranges[chunk[0]]):05d}"
                    target.mkdir(parents=True, exist_ok=True)
                    pq.write_table(
                        data.take(pa.array(chunk)), target / f"{b:05d}-{part:05d}.parquet"
                    )
            rows[table] += data.num_rows
    return rows


@dataclass(frozen=True)
class Ranges:
    """Spilled rows: :meth:`frames` gives a table's rows range by range, in sort order."""

    folder: Path
    n_ranges: int
    rows: dict[str, int]
    sort_by_key: bool
    templates: dict[str, Path]  # a file of each table, for the columns of an empty range

    def frames(self, table: str) -> Iterator[pd.DataFrame]:
        """Each range of ``table`` as one frame (rows of a patient in their bucket order; an
        empty range as an empty frame with the table's columns)."""
        for r in range(self.n_ranges):
            paths = sorted((self.folder / table / f"{r:05d}").glob("*.parquet"))
            if not paths:
                template = self.templates.get(table)
                yield (pq.read_schema(template).empty_table().to_pandas() if template
                       else pd.DataFrame(columns=["patient_id"]))  # fmt: skip
                continue
            frame = pd.concat([pq.read_table(p).to_pandas() for p in paths], ignore_index=True)
            if self.sort_by_key:  # patients never span files of a bucket, nor two buckets
                frame = frame.sort_values("patient_id", kind="stable", ignore_index=True)
            yield frame


@contextmanager
def key_ranges(
    dataset: Dataset,
    tables: Sequence[str],
    patients: Sequence[str] | None = None,
    *,
    secret: bytes | None = None,
    progress: Callable[[int], None] | None = None,
    spill_dir: Path | None = None,
) -> Iterator[Ranges]:
    """Spill ``tables`` of ``dataset`` (only ``patients``, when given) into sort-key ranges.

    Sorted by patient key, or by pseudonym under ``secret`` (the ranges are then in pseudonym
    order and each range is sorted by its consumer). The spill files go to a temporary folder
    in ``spill_dir`` (the workers must see it: a local cluster, or a shared file system) and are
    removed on exit.
    """
    from rheumetrics.scale.cluster import compute_all

    n_ranges = max(1, dataset.buckets)
    route: Route
    if secret is None:
        route = partial(by_key, key_splitters(dataset, n_ranges))
    else:
        route = partial(by_pseudonym, secret, n_ranges)
    keep = frozenset(map(str, patients)) if patients is not None else None
    chosen = set(bucket_of(sorted(keep), dataset.buckets).tolist()) if keep else None
    by_bucket: dict[int, dict[str, list[Path]]] = {}
    for table in tables:
        if table not in dataset.tables:
            continue
        for b, paths in dataset.bucket_files(table).items():
            if chosen is None or b in chosen:
                by_bucket.setdefault(b, {})[table] = paths
    with tempfile.TemporaryDirectory(prefix=".rheumetrics-ranges-", dir=spill_dir) as tmp:
        folder = Path(tmp)
        tasks = [dask.delayed(_spill_bucket)(by_bucket[b], route, keep, folder, b)
                 for b in sorted(by_bucket)]  # fmt: skip
        rows: dict[str, int] = dict.fromkeys(tables, 0)
        for counted in compute_all(tasks, progress):
            for table, n in counted.items():
                rows[table] += n
        templates = {
            t: dataset.files(t)[0] for t in tables if t in dataset.tables and dataset.files(t)
        }
        yield Ranges(folder, n_ranges, rows, secret is None, templates)
