"""Imaging totals, reader means, imaging states and change scores of a dataset, in one pass.

Each reads file holds every read of its patients (see :mod:`rheumetrics.scale.dataset`), so the
imaging package's own functions run on it unchanged: :func:`~rheumetrics.imaging.score_reads`,
:func:`~rheumetrics.imaging.reader_mean`, :func:`~rheumetrics.imaging.imaging_states` and
:func:`~rheumetrics.imaging.change.change_scores` with
:func:`~rheumetrics.imaging.change.mean_change` and
:func:`~rheumetrics.imaging.change.classify_change`. A reader mean or a change score never
crosses patients, so the rows are the in-memory ones; only their order follows the files. The
time points asked for are checked against the whole dataset first, and a file holding none of a
patient at one of them gives the rows the in-memory path gives (a change with one side missing).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dask
import pandas as pd
import pyarrow.parquet as pq

from rheumetrics.errors import ProblemCollector
from rheumetrics.imaging import reader_mean
from rheumetrics.scale.dataset import Dataset
from rheumetrics.scale.scores import _plain, scored_reads

#: Outputs in the order the in-memory command writes them.
OUTPUTS = ("out", "means", "states", "change")
_ABSENT = "\x00absent"  # patient key of the placeholder row of a time point absent from a file


@dataclass(frozen=True)
class ChangeRequest:
    """The change scores asked for: time points, classification rules and their thresholds."""

    baseline: str
    followup: str
    rules: tuple[str, ...] = ()
    sdc: float | None = None
    mcid: float | None = None


def _change(scores: pd.DataFrame, request: ChangeRequest) -> tuple[pd.DataFrame, dict[str, Any]]:
    from rheumetrics.imaging.change import change_scores, classify_change, mean_change

    have = set(scores["timepoint"].astype(str))
    absent = [t for t in (request.baseline, request.followup) if t not in have]
    if absent:  # a placeholder row per absent time point, dropped below
        scores = _plain(scores.copy())
        filler = scores.iloc[[0] * len(absent)].assign(patient_id=_ABSENT, timepoint=absent)
        scores = pd.concat([scores, filler], ignore_index=True)
    per_reader = change_scores(scores, request.baseline, request.followup)
    conventions = {"change": per_reader.attrs["conventions"]["change"]}
    if absent:
        per_reader = per_reader[per_reader["patient_id"] != _ABSENT]
    averaged = mean_change(per_reader).assign(reader="mean")
    both = pd.concat([per_reader, averaged], ignore_index=True)
    if request.rules:
        both = classify_change(both, request.rules, sdc=request.sdc, mcid=request.mcid)
        conventions["rules"] = both.attrs["conventions"]["rules"]
    return both, conventions


def _file_outputs(
    path: Path,
    wanted: Mapping[str, Path | None],
    request: ChangeRequest | None,
) -> tuple[dict[str, pd.DataFrame | None], dict[str, Any]]:
    """The asked-for outputs of one reads file: written to their folders (``wanted[k]`` a part
    file) or returned (``wanted[k]`` None); and the conventions used."""
    from rheumetrics.imaging import imaging_states

    scores = scored_reads(path)
    conventions: dict[str, Any] = dict(scores.attrs.get("conventions", {}))
    frames: dict[str, pd.DataFrame] = {"out": scores}
    mean = reader_mean(scores) if {"means", "states"} & set(wanted) else None
    if "means" in wanted:
        frames["means"] = mean
    if "states" in wanted:
        frames["states"] = imaging_states(mean)
        conventions["states"] = frames["states"].attrs["conventions"]["states"]
    if "change" in wanted and request is not None:
        frames["change"], found = _change(scores, request)
        conventions.update(found)
    result: dict[str, pd.DataFrame | None] = {}
    for key, frame in frames.items():
        part = wanted[key]
        frame = _plain(frame.reset_index(drop=True))
        if part is not None:
            frame.to_parquet(part, index=False)
            result[key] = None
        else:
            result[key] = frame
    return result, conventions


def check_timepoints(dataset: Dataset, request: ChangeRequest) -> None:
    """The error :func:`~rheumetrics.imaging.change.change_scores` gives, for the whole dataset."""
    found: set[str] = set()
    for path in dataset.files("imaging_reads"):
        column = pq.read_table(path, columns=["timepoint"]).column(0)
        found |= {str(t) for t in column.unique().to_pylist() if t is not None}
    problems = ProblemCollector("invalid change request")
    available = sorted(found)
    for field, label in (("baseline", request.baseline), ("followup", request.followup)):
        if label not in found:
            problems.add("-", field, label,
                         f"time point not in the scores; available: {', '.join(available)}")  # fmt: skip
    if request.baseline == request.followup:
        problems.add("-", "followup", request.followup, "must differ from baseline")
    problems.raise_if_any()


def run_imaging(
    dataset: Dataset,
    targets: Mapping[str, str | Path],
    request: ChangeRequest | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[dict[str, pd.DataFrame | Path], dict[str, Any]]:
    """Score the reads of ``dataset`` and derive the outputs named in ``targets``, each file once.

    ``targets`` maps ``out``, ``means``, ``states``, ``change`` to a path: a folder receives one
    Parquet file per reads file; a ``.csv``/``.xlsx``/``.parquet`` name gets the rows gathered
    here (returned as a frame, for the caller to write). ``change`` needs ``request``.
    Returns the gathered frames (or the folders) and the conventions used.
    """
    from rheumetrics.scale.cluster import compute_all

    unknown = set(targets) - set(OUTPUTS)
    if unknown:
        raise ValueError(f"unknown outputs {sorted(unknown)}; known: {', '.join(OUTPUTS)}")
    if "change" in targets:
        if request is None:
            raise ValueError("change scores need a ChangeRequest (baseline and follow-up)")
        check_timepoints(dataset, request)
    folders = {k: Path(v) for k, v in targets.items() if not _is_file(v)}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    files = dataset.files("imaging_reads")
    tasks = []
    for i, path in enumerate(files):
        wanted = {k: (folders[k] / f"part-{i:05d}.parquet" if k in folders else None)
                  for k in targets}  # fmt: skip
        tasks.append(dask.delayed(_file_outputs)(path, wanted, request))
    parts = compute_all(tasks, progress)
    conventions = parts[0][1] if parts else {}
    result: dict[str, pd.DataFrame | Path] = {}
    for key in targets:
        if key in folders:
            result[key] = folders[key]
        else:
            frames: Sequence[Any] = [p[0][key] for p in parts if p[0].get(key) is not None]
            result[key] = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return result, conventions


def _is_file(target: str | Path) -> bool:
    return Path(target).suffix.lower() in (".csv", ".xlsx", ".parquet")
