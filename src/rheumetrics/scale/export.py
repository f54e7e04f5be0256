"""``rheumetrics export parquet``: the store as a Parquet dataset, through the store's public API.

Patients are exported in batches (:data:`PATIENTS_PER_BATCH` at a time) so memory is bounded by the
batch, not the store; each batch is written as one file per bucket (``part-<batch>.parquet``), which
keeps every patient's rows in one file. Visits carry the stored scores of the chosen score run and
the per-joint findings as packed masks; the manifest records the score run, its conventions and
the store's schema revision (:attr:`rheumetrics.scale.dataset.Dataset.source`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from rheumetrics.errors import RheumetricsError
from rheumetrics.scale import jointmasks
from rheumetrics.scale.dataset import DEFAULT_BUCKETS, MANIFEST, record_source, write_table
from rheumetrics.store import load_imaging_reads, load_patients, load_therapies, load_visits
from rheumetrics.store.database import current_revision

PATIENTS_PER_BATCH = 20_000


def export_parquet(
    engine: Engine,
    out: str | Path,
    patients: Iterable[str] | None = None,
    *,
    buckets: int = DEFAULT_BUCKETS,
    run: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Write visits, therapies, imaging reads and patients of the store to the dataset ``out``.

    Returns the number of rows written per table. ``out`` must not hold a dataset already.
    ``progress(done, total)`` is called with the patients written after each batch.
    """
    out = Path(out)
    if (out / MANIFEST).exists() or (out.exists() and any(out.iterdir())):
        raise RheumetricsError(f"{out}: folder exists and is not empty; choose a new folder")
    keys = list(patients) if patients is not None else load_patients(engine).index.tolist()
    written = {"patients": 0, "visits": 0, "therapies": 0, "imaging_reads": 0}
    if not keys:
        raise RheumetricsError("the store holds no patients to export")
    source: dict[str, Any] = {"schema_revision": current_revision(engine)}
    for part, start in enumerate(range(0, len(keys), PATIENTS_PER_BATCH)):
        batch = keys[start : start + PATIENTS_PER_BATCH]
        people = load_patients(engine, batch).rename_axis("patient_id").reset_index()
        write_table(out, "patients", people, buckets=buckets, part=part)
        loaded = load_visits(engine, batch, run=run, joints=True)
        source.update(
            {k: loaded.attrs.get(k) for k in ("score_run", "conventions", "package_version")}
        )
        visits = jointmasks.pack_wide(loaded)
        write_table(out, "visits", visits, buckets=buckets, part=part)
        therapies = load_therapies(engine, batch)
        write_table(out, "therapies", therapies, buckets=buckets, part=part)
        reads = load_imaging_reads(engine, batch)
        write_table(out, "imaging_reads", reads, buckets=buckets, part=part)
        written["patients"] += len(people)
        written["visits"] += len(visits)
        written["therapies"] += len(therapies)
        written["imaging_reads"] += len(reads)
        if progress is not None:
            progress(start + len(batch), len(keys))
    record_source(out, source)
    return written
