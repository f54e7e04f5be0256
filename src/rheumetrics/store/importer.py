"""Import a source file into the store: all-or-nothing by default, or quarantine mode.

Flow: read the file raw -> :func:`~rheumetrics.store.stage.stage` (every problem with its file,
row, column, value and rule) -> plan against what is stored, by natural keys (patient key;
patient + visit date; patient + drug + start date; the imaging read key) -> write everything in
one transaction -> score the visits that changed.

- ``mode="all_or_nothing"`` (default): any problem raises :class:`ValidationError` and nothing is
  written; a crash or a kill during the write leaves the store as it was (one transaction).
- ``mode="quarantine"``: valid rows are stored, bad rows go to the ``quarantine`` table with
  their reasons; every source row is either stored or quarantined (a row that conflicts with the
  store sets aside that row only, never the patient's other rows). Problems with the file as a
  whole (a missing column, a mapping that does not fit) still stop the import.
- Imports into one store run one after the other (a PostgreSQL advisory lock per store, SQLite's
  write lock), waiting up to ``lock_wait`` seconds; database failures are reported in one line,
  without SQL or patient data.
- Re-importing the same file changes nothing. A value already stored is never overwritten
  silently: a different value is a conflict (a problem) unless ``on_conflict="update"``; a value
  missing from the store is filled in; a value missing from the file leaves the store as is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, insert, text
from sqlalchemy.exc import DBAPIError

from rheumetrics import __version__
from rheumetrics.errors import Problem, ValidationError
from rheumetrics.measures import DEFAULT, Conventions
from rheumetrics.store import bulk, jointbits
from rheumetrics.store import redcap as rc
from rheumetrics.store.database import require_current
from rheumetrics.store.import_plan import ImportPlan, ImportResult, OnConflict, Progress, tick
from rheumetrics.store.mapping import Mapping, load_mapping
from rheumetrics.store.models import (
    IMPORT_RUN,
    QUARANTINE,
)
from rheumetrics.store.quarantine import new_problems, quarantine_records
from rheumetrics.store.readers import read_source
from rheumetrics.store.scoring import score_inputs, store_scores
from rheumetrics.store.stage import Staged, stage
from rheumetrics.store.store_lock import IMPORT_LOCK_KEY, sqlite_wait, store_error
from rheumetrics.store.unit_checks import unit_warnings
from rheumetrics.store.visit_frames import add_counts, unpack_masks, visit_table

Mode = Literal["all_or_nothing", "quarantine"]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def stage_file(
    mapping: Mapping | str | Path, source: str | Path, dictionary: str | Path | None = None
) -> Staged:
    """Read and check ``source`` with ``mapping`` without touching any database."""
    m = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
    path = Path(source)
    raw = read_source(m, path)
    name = path.name
    dict_path = Path(dictionary) if dictionary else (m.redcap.dictionary if m.redcap else None)
    if m.format == "redcap" and dict_path is not None:
        try:
            dd = rc.read_dictionary(dict_path)
        except (OSError, ValueError) as exc:
            raise ValidationError(
                [Problem("(file)", "dictionary", str(dict_path), f"cannot read: {exc}")],
                "unreadable REDCap data dictionary",
            ) from exc
        problems = rc.check_dictionary(m, dd, dict_path.name)
        if problems:
            raise ValidationError(problems, "mapping does not fit the REDCap data dictionary")
    staged = stage(m, raw, name)
    staged.warnings = unit_warnings(staged.visits, staged.source)
    return staged


def import_file(
    engine: Engine,
    source: str | Path,
    mapping: Mapping | str | Path,
    *,
    mode: Mode = "all_or_nothing",
    on_conflict: OnConflict = "error",
    dictionary: str | Path | None = None,
    score: bool = True,
    conventions: Conventions = DEFAULT,
    progress: Progress | None = None,
    lock_wait: float = 600.0,
) -> ImportResult:
    """Import one file; see the module docstring for the guarantees.

    Concurrent imports into one store run one after the other: an import waits up to
    ``lock_wait`` seconds for the store's write lock, then stops with a one-line
    :class:`StoreBusyError` (nothing stored). A database failure is reported in one line without
    the SQL statement or its parameters, so no patient data reaches the terminal or a log.
    """
    if mode not in ("all_or_nothing", "quarantine"):
        raise ValueError(f"mode must be 'all_or_nothing' or 'quarantine', not {mode!r}")
    if on_conflict not in ("error", "update"):
        raise ValueError(f"on_conflict must be 'error' or 'update', not {on_conflict!r}")
    m = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
    path = Path(source)
    started = dt.datetime.now(dt.UTC)
    tick(progress, "read and check", 0, 1)
    staged = stage_file(m, path, dictionary)
    tick(progress, "read and check", 1, 1)
    whole_file = [p for p in staged.problems if p.record in ("(file)", "(header)")]
    if whole_file or (staged.problems and mode == "all_or_nothing"):
        raise ValidationError(
            staged.problems, f"{staged.source}: import refused, nothing was stored"
        )
    result = ImportResult(
        source=staged.source, mode=mode, rows=len(staged.raw), warnings=staged.warnings
    )
    sha = _sha256(path)
    try:
        require_current(engine)
        with (
            engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn,
            sqlite_wait(conn, lock_wait),
            conn.begin(),
        ):
            if conn.dialect.name == "postgresql":
                conn.execute(text(f"SET LOCAL lock_timeout = {max(1, int(lock_wait * 1000))}"))
                conn.execute(
                    text("SELECT pg_advisory_xact_lock(:k, hashtext(current_schema()))"),
                    {"k": IMPORT_LOCK_KEY},
                )
            _write(conn, staged, m, path, sha, started, result, mode, on_conflict, score,
                   conventions, progress)  # fmt: skip
    except DBAPIError as exc:
        raise store_error(exc, staged.source, lock_wait) from None
    return result


def _write(
    conn: Connection,
    staged: Staged,
    m: Mapping,
    path: Path,
    sha: str,
    started: dt.datetime,
    result: ImportResult,
    mode: Mode,
    on_conflict: OnConflict,
    score: bool,
    conventions: Conventions,
    progress: Progress | None,
) -> None:
    """Plan and write one import on an open transaction (see :func:`import_file`)."""
    writer = ImportPlan(conn, staged, on_conflict, progress)
    writer.plan()
    if writer.conflicts:
        if mode == "all_or_nothing":
            raise ValidationError(
                writer.conflicts, f"{staged.source}: import refused, nothing was stored"
            )
        staged.problems += writer.conflicts
        staged.bad_rows |= writer.conflict_rows
        staged = _drop_rows(staged, writer.conflict_rows, writer.patient_conflicts)
        writer = ImportPlan(conn, staged, on_conflict, progress)
        writer.plan()
    large = len(writer.visit_inserts) >= bulk.BULK_FK_THRESHOLD
    with bulk.foreign_keys_checked_at_end(conn, enabled=large):
        writer.apply(result)
        if score and writer.changed_visits:
            tick(progress, "score", 0, len(writer.changed_visits))
            result.visits_scored = _score(conn, writer, conventions, progress)
    result.problems = staged.problems
    quarantined = new_problems(conn, staged, sha) if mode == "quarantine" else []
    result.quarantined_rows = len({p.record for p in quarantined})
    if result.changed:
        run = conn.execute(insert(IMPORT_RUN).values(
            source=str(path), source_sha256=sha, mapping_sha256=m.sha256, mode=mode,
            package_version=__version__, started_at=started, finished_at=dt.datetime.now(dt.UTC),
            summary=result.summary()).returning(IMPORT_RUN.c.id)).scalar()  # fmt: skip
        if quarantined:
            records = [
                {**q, "import_run_id": run} for q in quarantine_records(staged, sha, quarantined)
            ]
            for start in range(0, len(records), 5000):
                conn.execute(insert(QUARANTINE), records[start : start + 5000])


def _drop_rows(staged: Staged, rows: set[Any], patient_conflicts: set[Any]) -> Staged:
    """Set aside the conflicting source rows, and nothing else.

    A conflict on a patient's own fields (``patient_conflicts``) keeps the stored patient as it
    is; the patient's other rows (visits, therapies, reads) still go in: only the rows that
    conflict are quarantined, so every source row is either stored or in quarantine.
    """

    def keep(df: pd.DataFrame) -> pd.DataFrame:
        return df[~df["_row"].isin(rows)] if "_row" in df else df

    staged.visits = keep(staged.visits)
    staged.therapies = keep(staged.therapies)
    staged.imaging = keep(staged.imaging)
    staged.patients = staged.patients[~staged.patients.index.isin(patient_conflicts)]
    return staged


def _score(
    conn: Connection, writer: ImportPlan, conventions: Conventions, progress: Progress | None
) -> int:
    """Score the new visits from memory and the updated ones from the store."""
    changed = set(writer.changed_visits)
    total = len(changed)
    frames = []
    if writer.new_visit_frame is not None:
        new = writer.new_visit_frame
        frames.append(_inputs_from(new))
        changed -= set(new.index)
    if changed:
        frames.append(_inputs_from(visit_table(conn, visit_ids=sorted(changed))))
    scored = lambda d: tick(progress, "score", d, total)  # noqa: E731
    if writer.new_visit_frame is not None:
        store_scores(conn, frames[0], conventions, scored, replace=False)
    if changed:
        store_scores(conn, frames[-1], conventions, scored)
    return total


def _inputs_from(visits: pd.DataFrame) -> pd.DataFrame:
    if "tender" in visits:
        masks = unpack_masks(visits)
    else:
        empty = np.zeros((len(visits), jointbits.N_JOINTS), dtype=bool)
        masks = dict.fromkeys(jointbits.MASKS, empty)
    return score_inputs(add_counts(visits, masks))
