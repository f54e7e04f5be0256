"""Clinical scores and imaging totals over a Parquet dataset, one file (partition) at a time.

Each partition is scored with the in-memory functions (:func:`rheumetrics.measures.score_frame`,
:func:`rheumetrics.imaging.validate_reads` and :func:`~rheumetrics.imaging.score_reads`), so the rows
are the ones the in-memory path gives; only their order follows the files. A partition holds whole
patients (see :mod:`rheumetrics.scale.dataset`), so every read and every patient history is scored
in one piece. Bad input raises one :class:`~rheumetrics.errors.ValidationError` naming the file
and the record key (``visit_id``, or the row of the file) of every problem in the failing file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import dask
import dask.dataframe as dd
import pandas as pd
import pyarrow.parquet as pq

from rheumetrics.errors import ValidationError
from rheumetrics.imaging import reader_mean, score_reads, validate_reads
from rheumetrics.measures import DEFAULT, Conventions, panel, score_frame
from rheumetrics.measures import compiled as loops
from rheumetrics.scale import jointmasks
from rheumetrics.scale.dataset import Dataset, read_file


class _PortableValidationError(ValidationError):
    """A ValidationError that crosses process boundaries (worker to client) intact."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (ValidationError, (self.problems, self.context))


def _located(err: ValidationError, path: Path) -> _PortableValidationError:
    problems = [dataclasses.replace(p, source=p.source or str(path)) for p in err.problems]
    return _PortableValidationError(problems, err.context)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Categoricals as strings, so partitions with different categories concatenate cleanly."""
    for col in frame.columns:
        if isinstance(frame[col].dtype, pd.CategoricalDtype):
            frame[col] = frame[col].astype("string")
    return frame


def score_file(
    path: Path,
    conventions: Conventions = DEFAULT,
    measures: tuple[str, ...] | None = None,
    lenient: bool = False,
    read_columns: tuple[str, ...] | None = None,
    compiled: bool | None = None,
) -> pd.DataFrame:
    """Scores of one visits file: its columns (masks dropped) plus score and category columns
    (``compiled`` as for :func:`~rheumetrics.measures.score_frame`, except that True uses the
    NumPy path on a worker without Numba)."""
    if compiled and loops.available() is not None:
        compiled = None
    table = pq.read_table(path, columns=list(read_columns) if read_columns else None)
    visits = jointmasks.to_frame_with_counts(table)
    if "visit_id" in visits.columns:
        visits = visits.set_index("visit_id", drop=False)
        visits.index.name = None
    try:
        scores = score_frame(
            visits, conventions, lenient=lenient, measures=measures, compiled=compiled
        )
    except ValidationError as err:
        raise _located(err, path) from None
    out = pd.concat([visits.drop(columns=scores.columns, errors="ignore"), scores], axis=1)
    return out.reset_index(drop=True)  # score categories are the same in every partition


def scored_reads(path: Path, by_side: bool = False, derived: bool = True) -> pd.DataFrame:
    """Validated imaging totals of one reads file (all reads of its patients), as
    :func:`rheumetrics.imaging.score_reads` gives them; problems name the file and row."""
    reads = read_file(path)
    reads.index = pd.RangeIndex(2, 2 + len(reads), name="row")
    try:
        valid = validate_reads(reads, source=str(path))
    except ValidationError as err:
        raise _located(err, path) from None
    return score_reads(valid, by_side=by_side, derived=derived)


def imaging_file(
    path: Path, by_side: bool = False, derived: bool = True, means: bool = False
) -> pd.DataFrame:
    """:func:`scored_reads` with categories as text; with ``means``, their means over readers
    (:func:`rheumetrics.imaging.reader_mean`)."""
    scores = scored_reads(path, by_side, derived)
    return _plain(reader_mean(scores) if means else scores)


def _frame(files: list[Path], fn: Callable[..., pd.DataFrame], *args: Any) -> dd.DataFrame:
    """A Dask frame with one partition per file, each computed by ``fn(path, *args)``."""
    meta = fn(files[0], *args).iloc[:0]
    return dd.from_map(fn, files, *[[a] * len(files) for a in args], meta=meta,
                       enforce_metadata=False)  # fmt: skip


def scores_frame(
    dataset: Dataset,
    conventions: Conventions = DEFAULT,
    *,
    measures: Iterable[str] | None = None,
    lenient: bool = False,
    columns: Iterable[str] | None = None,
) -> dd.DataFrame:
    """Lazy Dask frame of the scored visits of a dataset (one partition per visits file).

    A dataset of :data:`~rheumetrics.measures.panel.COMPILED_ROWS` visits or more is scored with
    the compiled loop by the workers where Numba is installed: each loads it once for all its
    files.
    """
    files = dataset.files("visits")
    chosen = tuple(measures) if measures else None
    cols = tuple(columns) if columns else None
    large = dataset.n_rows("visits") >= panel.COMPILED_ROWS
    return _frame(files, score_file, conventions, chosen, lenient, cols, True if large else None)


def imaging_frame(
    dataset: Dataset, *, by_side: bool = False, derived: bool = True, means: bool = False
) -> dd.DataFrame:
    """Lazy Dask frame of the imaging totals (or, with ``means``, their reader means) of a
    dataset, one partition per reads file."""
    return _frame(dataset.files("imaging_reads"), imaging_file, by_side, derived, means)


def _file_problems(path: Path, fn: Callable[..., pd.DataFrame], args: tuple[Any, ...]) -> list[Any]:
    try:
        fn(path, *args)
    except ValidationError as err:
        return list(err.problems)
    return []


def all_problems(
    dataset: Dataset,
    conventions: Conventions = DEFAULT,
    *,
    measures: Iterable[str] | None = None,
    table: str = "visits",
) -> ValidationError | None:
    """Every problem of every file (a run stops at the first failing file): one error, or None."""
    if table == "visits":
        fn: Callable[..., pd.DataFrame] = score_file
        args: tuple[Any, ...] = (conventions, tuple(measures) if measures else None, False, None)
    else:
        fn, args = imaging_file, (False, True, False)
    found = dask.compute(*[dask.delayed(_file_problems)(p, fn, args) for p in dataset.files(table)])
    problems = [p for part in found for p in part]
    return ValidationError(problems, f"invalid {table}") if problems else None


def write_frame(frame: dd.DataFrame, out: str | Path) -> Path:
    """Compute a Dask frame into ``out``: a folder of Parquet files (one per partition), or one
    ``.csv``/``.parquet`` file (gathered in this process: only for results that fit in memory)."""
    out = Path(out)
    if out.suffix.lower() in (".csv", ".parquet"):
        result = frame.compute()
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix.lower() == ".csv":
            result.to_csv(out, index=False)
        else:
            result.to_parquet(out, index=False)
        return out
    out.mkdir(parents=True, exist_ok=True)
    tasks = [dask.delayed(_write_part)(part, out / f"part-{i:05d}.parquet")
             for i, part in enumerate(frame.to_delayed())]  # fmt: skip
    dask.compute(*tasks)
    return out


def _write_part(part: pd.DataFrame, path: Path) -> int:
    part.to_parquet(path, index=False)
    return len(part)
