"""Treat-to-target decisions over a Parquet dataset, one patient bucket at a time.

The decisions themselves come from the t2t package through one adapter, :func:`decide_partition`,
which calls its public entry (:func:`rheumetrics.t2t.decide`); everything else here only moves
partitions. A bucket holds every visit, therapy and imaging read of its patients, so histories
(time since the last change, months in target, ladder step) are complete within it and the log
equals the in-memory one; each visit gets the MRI osteitis total of its RAMRIS reads, as from the store
(IMAGINE-RA's MRI strategy targets it). :func:`decision_summary` combines per-bucket counts exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dask
import dask.dataframe as dd
import pandas as pd
import pyarrow as pa
import pyarrow.compute
import pyarrow.parquet as pq

from rheumetrics.cohort.frames import MRI_WINDOW_DAYS
from rheumetrics.scale import jointmasks
from rheumetrics.scale.dataset import Dataset, read_file


def decide_partition(
    visits: pd.DataFrame,
    therapies: pd.DataFrame | None,
    strategy: str,
    options: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> pd.DataFrame:
    """The adapter: the t2t package's decision log for the patients of one partition
    (``kwargs``: ``contraindications``, ``event_flags_missing`` of :func:`rheumetrics.t2t.decide`)."""
    from rheumetrics.t2t import decide, load_strategy

    if visits.empty:
        return pd.DataFrame()
    return decide(visits, load_strategy(strategy, dict(options or {})), therapies, **kwargs)


def _visits(tables: list[pa.Table], read_files: list[Path], mri_window_days: int) -> pd.DataFrame:
    """A bucket's visits as the engine takes them: joint counts from the masks, and each visit's
    MRI osteitis total from the bucket's RAMRIS reads (as :func:`rheumetrics.cohort.t2t_inputs`
    gives them for the store)."""
    from rheumetrics.cohort import with_mri_bme_total

    visits = pd.concat([jointmasks.to_frame_with_counts(t) for t in tables], ignore_index=True)
    if "visit_id" in visits.columns:
        visits = visits.set_index("visit_id")
    if read_files:
        reads = pd.concat([read_file(p) for p in read_files], ignore_index=True)
        reads = reads[reads["patient_id"].isin(visits["patient_id"])]
        visits = with_mri_bme_total(visits, reads, mri_window_days)
    return visits


def _bucket_log(
    visit_files: list[Path],
    therapy_files: list[Path],
    strategy: str,
    options: Mapping[str, str] | None,
    read_files: list[Path] | None = None,
    mri_window_days: int = MRI_WINDOW_DAYS,
    **kwargs: Any,
) -> pd.DataFrame:
    tables = [pq.read_table(p) for p in visit_files]
    visits = _visits(tables, read_files or [], mri_window_days)
    therapies = (
        pd.concat([read_file(p) for p in therapy_files], ignore_index=True)
        if therapy_files
        else None
    )
    log = decide_partition(visits, therapies, strategy, options, **kwargs)
    return _plain(log).reset_index(drop=True)


_BucketArgs = tuple[list[Path], list[Path], str, Mapping[str, str] | None, list[Path]]


def _bucket_log_of(args: _BucketArgs) -> pd.DataFrame:
    return _bucket_log(*args)


def decisions_frame(
    dataset: Dataset, strategy: str, options: Mapping[str, str] | None = None
) -> dd.DataFrame:
    """Lazy Dask frame of the decision log, one partition per patient bucket."""
    visits = dataset.bucket_files("visits")
    therapies = dataset.bucket_files("therapies") if "therapies" in dataset.tables else {}
    reads = dataset.bucket_files("imaging_reads") if "imaging_reads" in dataset.tables else {}
    buckets = sorted(visits)
    args = [(visits[b], therapies.get(b, []), strategy, options, reads.get(b, [])) for b in buckets]
    return dd.from_map(_bucket_log_of, args, meta=_meta(args[0]), enforce_metadata=False)


def _meta(args: _BucketArgs) -> pd.DataFrame:
    """The log's columns and types, from the first few patients of the first bucket."""
    visit_files, therapy_files, strategy, options, read_files = args
    table = pq.read_table(visit_files[0])
    first = table.column("patient_id").to_pandas().drop_duplicates().head(20)
    head = table.filter(pa.compute.is_in(table.column("patient_id"), pa.array(first)))
    visits = _visits([head], read_files, MRI_WINDOW_DAYS)
    therapies = None
    if therapy_files:
        therapies = read_file(therapy_files[0])
        therapies = therapies[therapies["patient_id"].isin(first)]
    log = decide_partition(visits, therapies, strategy, options)
    return _plain(log).reset_index(drop=True).iloc[:0]


def _plain(log: pd.DataFrame) -> pd.DataFrame:
    for col in log.columns:
        if isinstance(log[col].dtype, pd.CategoricalDtype):
            log[col] = log[col].astype("string")
    return log


def _counts(log: pd.DataFrame) -> dict[str, int]:
    if log.empty:
        return {}
    met = log["target_met"]
    per_patient = met.fillna(False).astype(bool).groupby(log["patient_id"]).any()
    counts = {
        "patients": int(log["patient_id"].nunique()),
        "visits": len(log),
        "visits_target_known": int(met.notna().sum()),
        "visits_at_target": int(met.fillna(False).astype(bool).sum()),
        "patients_reaching_target": int(per_patient.sum()),
    }
    for action, n in log["action"].astype("string").fillna("<NA>").value_counts().items():
        counts[f"action={action}"] = int(n)
    return counts


def decision_summary(log: dd.DataFrame) -> pd.DataFrame:
    """Counts and shares of a decision log, summed over partitions (exact: patients never span two).

    Rows: ``patients``, ``visits``, ``visits_at_target`` (share of visits with known status),
    ``visits_target_unknown``, ``patients_reaching_target`` and one ``action=...`` row per action.
    """
    parts = dask.compute(*[dask.delayed(_counts)(p) for p in log.to_delayed()])
    total: dict[str, int] = {}
    for part in parts:
        for key, n in part.items():
            total[key] = total.get(key, 0) + n
    patients, visits = total.get("patients", 0), total.get("visits", 0)
    known = total.get("visits_target_known", 0)
    rows = [
        ("patients", float(patients), patients),
        ("visits", float(visits), visits),
        ("visits_at_target", total.get("visits_at_target", 0) / known if known else float("nan"), known),
        ("visits_target_unknown", (visits - known) / visits if visits else float("nan"), visits),
        ("patients_reaching_target",
         total.get("patients_reaching_target", 0) / patients if patients else float("nan"), patients),
    ]  # fmt: skip
    rows += [
        (key, n / visits, visits) for key, n in sorted(total.items()) if key.startswith("action=")
    ]
    return pd.DataFrame(rows, columns=["metric", "value", "n"])
