"""``rheumetrics export tidy|fhir|deid --dataset DIR``: the store's exports from a Parquet dataset.

The files are written by the store's own writers (:mod:`rheumetrics.store.export`) from the
dataset's rows, range by range in the store's order (:mod:`rheumetrics.scale.key_ranges`), so a
dataset exported from a store gives the files that store gives, while memory stays at about one
bucket: frames are put back in the store's column types (:func:`as_store_visits`,
:func:`as_store_patients`, :func:`as_store_therapies`) and the output is written as it comes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rheumetrics.errors import RheumetricsError
from rheumetrics.scale import jointmasks
from rheumetrics.scale.dataset import Dataset
from rheumetrics.scale.key_ranges import key_ranges
from rheumetrics.store import jointbits


def as_store_visits(frame: pd.DataFrame, joints: bool = False) -> pd.DataFrame:
    """A dataset visits frame as :func:`rheumetrics.store.load_visits` gives it (with scores;
    ``joints``: the per-joint ``tender_<JOINT>``/``swollen_<JOINT>`` columns from the masks)."""
    from rheumetrics.store.items import items
    from rheumetrics.store.models import BOOLEAN_SCORES

    out = frame.drop(columns=[m for m in jointbits.MASKS if m in frame.columns])
    declared = items()
    for name in out.columns:
        if name in declared and declared[name].integer:
            out[name] = pd.array(out[name].to_numpy(float, na_value=np.nan), dtype="Int64")
        elif name in BOOLEAN_SCORES:
            out[name] = out[name].astype("boolean")
    out["patient_id"] = out["patient_id"].astype(object)
    out["visit_date"] = out["visit_date"].astype("datetime64[s]")
    if joints:
        masks = {m: jointmasks.unpack_column(frame[m]) for m in jointbits.MASKS}
        wide = jointbits.findings_to_frame(masks["tender"], masks["tender_assessed"],
                                           masks["swollen"], masks["swollen_assessed"],
                                           index=out.index)  # fmt: skip
        out = pd.concat([out, wide], axis=1)
    return out.set_index("visit_id")


def as_store_patients(frame: pd.DataFrame) -> pd.DataFrame:
    """A dataset patients frame as :func:`rheumetrics.store.load_patients` gives it."""
    out = frame.copy()
    out["birth_year"] = pd.array(out["birth_year"].to_numpy(float, na_value=np.nan), dtype="Int64")
    for col in ("rf", "acpa", "hla_b27"):
        if col in out.columns:
            out[col] = out[col].astype("boolean")
    return out.set_index("patient_id").rename_axis("patient_key").sort_index()


def as_store_therapies(frame: pd.DataFrame) -> pd.DataFrame:
    """A dataset therapies frame as :func:`rheumetrics.store.load_therapies` gives it."""
    out = frame.reset_index(drop=True)
    for col in ("start_date", "stop_date"):
        out[col] = out[col].astype("datetime64[s]")
    return out


def _source(dataset: Dataset, run: int | None, tables: tuple[str, ...] = ()) -> dict[str, Any]:
    """The score run the dataset holds; a different ``run`` asked for, or a dataset without one
    of ``tables``, is refused."""
    for table in tables:
        dataset.files(table)  # names the tables the dataset has
    held = dataset.source.get("score_run")
    if run is not None and run != held:
        raise RheumetricsError(
            f"{dataset.root}: the dataset holds the scores of score run {held} (the run it was "
            f"exported with), not run {run}; export the store again with --run {run}"
        )
    return dataset.source


Progress = Callable[[int], None] | None


def export_tidy_dataset(
    dataset: Dataset,
    path: str | Path,
    patients: Sequence[str] | None = None,
    *,
    run: int | None = None,
    joints: bool = False,
    progress: Progress = None,
) -> Path:
    """:func:`rheumetrics.store.export_tidy` of the store the dataset was exported from."""
    from rheumetrics.store.export.tidy import tidy_meta, write_frames

    path = Path(path)
    source = _source(dataset, run, ("visits",))
    with key_ranges(dataset, ["visits"], patients, progress=progress, spill_dir=path.parent) as r:
        meta = tidy_meta(source, source.get("schema_revision"), r.rows["visits"])
        frames = (as_store_visits(f, joints).reset_index() for f in r.frames("visits"))
        return write_frames(frames, path, meta)


def export_fhir_dataset(
    dataset: Dataset,
    path: str | Path,
    patients: Sequence[str] | None = None,
    *,
    run: int | None = None,
    joints: bool = True,
    progress: Progress = None,
) -> Path:
    """:func:`rheumetrics.store.export_fhir` of the store the dataset was exported from."""
    from rheumetrics.store.export.fhir import (
        PROJECT_BASE,
        patient_entries,
        therapy_entries,
        visit_entries,
        write_bundle,
    )

    path = Path(path)
    tables = ["patients", "visits", "therapies"]
    _source(dataset, run, tuple(tables))
    base = f"{PROJECT_BASE}/store"
    with key_ranges(dataset, tables, patients, progress=progress, spill_dir=path.parent) as r:

        def entries() -> Iterator[dict[str, Any]]:
            for frame in r.frames("patients"):
                yield from patient_entries(as_store_patients(frame), base)
            for frame in r.frames("visits"):
                yield from visit_entries(as_store_visits(frame, joints), joints, base)
            first = 0
            for frame in r.frames("therapies"):
                yield from therapy_entries(as_store_therapies(frame), base, first)
                first += len(frame)

        return write_bundle(entries(), path)


def export_deidentified_dataset(
    dataset: Dataset,
    out_dir: str | Path,
    *,
    secret: str | bytes | None = None,
    max_shift_days: int = 180,
    fmt: str = "csv",
    patients: Sequence[str] | None = None,
    progress: Progress = None,
) -> dict[str, Path]:
    """:func:`rheumetrics.store.export_deidentified` of the store the dataset was exported from.

    Patients are split into ranges of their pseudonyms, so each range de-identified in turn
    continues the pseudonym order of the whole export.
    """
    from rheumetrics.store.export.deid import (
        check_export,
        deid_meta,
        deidentify,
        secret_key,
        write_deidentified,
    )

    check_export(fmt, max_shift_days)
    tables = ["patients", "visits", "therapies"]
    _source(dataset, None, tuple(tables))
    key = secret_key(secret)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with key_ranges(dataset, tables, patients, secret=key, progress=progress, spill_dir=out) as r:
        if not r.rows["visits"] and not r.rows["therapies"]:
            raise RheumetricsError(f"{dataset.root}: no visits or therapies to export")
        meta = deid_meta(dataset.source, bool(secret), max_shift_days)
        pieces = (
            deidentify(as_store_visits(v), as_store_patients(p), as_store_therapies(t), key,
                       max_shift_days)
            for v, p, t in zip(r.frames("visits"), r.frames("patients"), r.frames("therapies"),
                               strict=True)
            if len(v) or len(t)
        )  # fmt: skip
        return write_deidentified(pieces, out, fmt, meta)
