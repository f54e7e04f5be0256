"""A study's cohort read from a Parquet dataset, bucket by bucket (``rheumetrics report --dataset``).

The heavy part of a report's cohort is per patient: reading the visits and deriving the joint
counts from the masks, and scoring every imaging read
(:func:`rheumetrics.cohort.imaging_totals`). Each bucket does that on a worker and keeps only what
the study uses (the visits' date and outcome columns, the imaging totals of the study's systems
and features), so the cohort handed to :func:`rheumetrics.study.report.run_study` is a few
columns per visit and one row per imaging total; enrolment, visit windows and the statistics then
run as for a cohort read from the store, with the same results.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dask
import pandas as pd
import pyarrow.parquet as pq

from rheumetrics.scale import jointmasks
from rheumetrics.scale.dataset import Dataset, read_file

if TYPE_CHECKING:
    from rheumetrics.study.cohort import Cohort
    from rheumetrics.study.model import Study

_THERAPY_COLUMNS = ["patient_id", "drug", "drug_class", "start_date", "stop_date"]


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _bucket(
    files: dict[str, list[Path]], visit_columns: list[str], systems: set[tuple[str, str]]
) -> dict[str, pd.DataFrame]:
    """What the study needs from one bucket."""
    from rheumetrics.cohort import imaging_totals

    out: dict[str, pd.DataFrame] = {}
    visits = _concat([jointmasks.to_frame_with_counts(pq.read_table(p))
                      for p in files.get("visits", [])])  # fmt: skip
    if len(visits):
        keep = [c for c in ["visit_id", *visit_columns] if c in visits.columns]
        visits = visits[keep]
    out["visits"] = visits
    out["patients"] = _concat([read_file(p) for p in files.get("patients", [])])
    out["therapies"] = _concat([read_file(p) for p in files.get("therapies", [])])
    reads = _concat([read_file(p) for p in files.get("imaging_reads", [])])
    totals = imaging_totals(reads) if len(reads) else pd.DataFrame()
    if len(totals) and systems:
        pairs = totals["system"].astype(str) + "\x00" + totals["feature"].astype(str)
        totals = totals[pairs.isin({f"{s}\x00{f}" for s, f in systems})]
    out["imaging"] = totals.reset_index(drop=True)
    return out


def _attributes(patients: pd.DataFrame) -> pd.DataFrame:
    """Patient attributes (a JSON object per patient in the export) as columns."""
    if "attributes" not in patients.columns:
        return patients

    def parse(value: Any) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        if isinstance(value, str) and value:
            parsed = json.loads(value)
            return parsed if isinstance(parsed, dict) else {}
        return {}

    attrs = pd.DataFrame([parse(a) for a in patients["attributes"]], index=patients.index)
    return patients.drop(columns=["attributes"]).join(attrs)


def dataset_cohort(
    study: Study, dataset: Dataset, progress: Callable[[int], None] | None = None
) -> Cohort:
    """The cohort of ``study`` from ``dataset``, each bucket read and reduced once."""
    from rheumetrics.scale.cluster import compute_all
    from rheumetrics.study.cohort import Cohort

    visit_columns = ["patient_id", "visit_date"]
    visit_columns += [str(o.column) for o in study.outcomes if not o.is_imaging]
    systems = {(o.imaging.system, o.imaging.feature) for o in study.outcomes if o.imaging}
    by_bucket: dict[int, dict[str, list[Path]]] = {}
    for table in dataset.tables:
        for b, paths in dataset.bucket_files(table).items():
            by_bucket.setdefault(b, {})[table] = paths
    tasks = [dask.delayed(_bucket)(by_bucket[b], list(dict.fromkeys(visit_columns)), systems)
             for b in sorted(by_bucket)]  # fmt: skip
    parts = compute_all(tasks, progress)
    visits = _concat([p["visits"] for p in parts])
    if "visit_id" in visits.columns:
        visits = visits.sort_values("visit_id", kind="stable").drop(columns="visit_id")
    visits = visits.reset_index(drop=True)
    patients = _concat([p["patients"] for p in parts])
    if len(patients):
        patients["patient_id"] = patients["patient_id"].astype(str)
        patients = _attributes(patients.set_index("patient_id").sort_index())
    else:
        patients = pd.DataFrame(index=pd.Index(sorted(visits["patient_id"].unique()),
                                               name="patient_id"))  # fmt: skip
    therapies = _concat([p["therapies"] for p in parts])
    if therapies.empty:
        therapies = pd.DataFrame(columns=_THERAPY_COLUMNS)
    imaging = _concat([p["imaging"] for p in parts])
    return Cohort(patients=patients, visits=visits, therapies=therapies, imaging=imaging,
                  source=f"Parquet dataset {dataset.root}")  # fmt: skip
