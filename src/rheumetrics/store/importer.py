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
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from rheumetrics import __version__
from rheumetrics.errors import Problem, RheumetricsError, ValidationError
from rheumetrics.measures import DEFAULT, Conventions
from rheumetrics.numeric import snap
from rheumetrics.schema import records as F
from rheumetrics.store import bulk, jointbits
from rheumetrics.store import redcap as rc
from rheumetrics.store.engine import require_current
from rheumetrics.store.items import items, table_items
from rheumetrics.store.loaders import add_counts, unpack_masks, visit_table
from rheumetrics.store.mapping import Mapping, load_mapping
from rheumetrics.store.models import (
    IMAGING_READ,
    IMPORT_RUN,
    ITEM_TABLE_OBJECTS,
    JOINT_EXAM,
    PATIENT,
    QUARANTINE,
    THERAPY,
    VISIT,
)
from rheumetrics.store.readers import read_source
from rheumetrics.store.scoring import score_inputs, store_scores
from rheumetrics.store.stage import PATIENT_COLUMNS, Staged, stage

Mode = Literal["all_or_nothing", "quarantine"]
OnConflict = Literal["error", "update"]
Progress = Callable[[str, int, int], None]


@dataclass
class ImportResult:
    """What an import did."""

    source: str
    mode: str
    rows: int
    patients_added: int = 0
    patients_updated: int = 0
    visits_added: int = 0
    visits_updated: int = 0
    therapies_added: int = 0
    therapies_updated: int = 0
    imaging_added: int = 0
    imaging_updated: int = 0
    visits_scored: int = 0
    quarantined_rows: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        counts = (self.patients_added, self.patients_updated, self.visits_added, self.visits_updated,
                  self.therapies_added, self.therapies_updated, self.imaging_added,
                  self.imaging_updated, self.quarantined_rows)  # fmt: skip
        return any(counts)

    def summary(self) -> dict[str, Any]:
        keys = ("rows", "patients_added", "patients_updated", "visits_added", "visits_updated",
                "therapies_added", "therapies_updated", "imaging_added", "imaging_updated",
                "visits_scored", "quarantined_rows")  # fmt: skip
        return {k: getattr(self, k) for k in keys}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def prepare(
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
    return stage(m, raw, name)


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
    _tick(progress, "read and check", 0, 1)
    staged = prepare(m, path, dictionary)
    _tick(progress, "read and check", 1, 1)
    whole_file = [p for p in staged.problems if p.record in ("(file)", "(header)")]
    if whole_file or (staged.problems and mode == "all_or_nothing"):
        raise ValidationError(
            staged.problems, f"{staged.source}: import refused, nothing was stored"
        )
    result = ImportResult(source=staged.source, mode=mode, rows=len(staged.raw))
    sha = _sha256(path)
    try:
        require_current(engine)
        with (
            engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn,
            _sqlite_wait(conn, lock_wait),
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
        raise _store_error(exc, staged.source, lock_wait) from None
    return result


#: PostgreSQL advisory lock (this key, hash of the store's schema) taken by every import for its
#: transaction: imports into the same store run one after the other, each planning against what
#: the previous one committed.
IMPORT_LOCK_KEY = 0x7268  # "rh"


class StoreBusyError(RheumetricsError):
    """The store stayed locked by another writer for longer than the import would wait."""


@contextmanager
def _sqlite_wait(conn: Connection, lock_wait: float) -> Iterator[None]:
    """On SQLite, wait up to ``lock_wait`` seconds for the write lock (busy timeout) for this
    import, then restore the engine's usual timeout (PostgreSQL sets ``lock_timeout``)."""
    if conn.dialect.name != "sqlite":
        yield
        return
    raw = conn.connection.driver_connection
    assert raw is not None
    raw.execute(f"PRAGMA busy_timeout={max(1, int(lock_wait * 1000))}")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


#: The store engine's usual SQLite busy timeout, restored after an import.
SQLITE_BUSY_TIMEOUT_MS = 30_000


#: A double-quoted literal in a database message that is not the name of a schema object.
_QUOTED_VALUE = re.compile(r'(?<!constraint )(?<!relation )(?<!column )(?<!table )"[^"]*"')


def _store_error(exc: DBAPIError, source: str, lock_wait: float) -> RheumetricsError:
    """One line for a database failure, without the statement or its parameters (which hold
    patient data)."""
    orig = exc.orig
    first = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    first = _QUOTED_VALUE.sub('"..."', first)  # a value quoted in the message may be patient data
    lock_codes = ("55P03",)  # PostgreSQL lock_not_available
    if "database is locked" in first or getattr(orig, "sqlstate", None) in lock_codes:
        return StoreBusyError(
            f"{source}: the store is busy with another writer and stayed locked for "
            f"{lock_wait:g} s; nothing was stored, try again (or wait longer with --lock-wait)"
        )
    return RheumetricsError(
        f"{source}: import failed in the database ({type(orig).__name__}: {first}); "
        "nothing was stored"
    )


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
    writer = _Writer(conn, staged, on_conflict, progress)
    writer.plan()
    if writer.conflicts:
        if mode == "all_or_nothing":
            raise ValidationError(
                writer.conflicts, f"{staged.source}: import refused, nothing was stored"
            )
        staged.problems += writer.conflicts
        staged.bad_rows |= writer.conflict_rows
        staged = _drop_rows(staged, writer.conflict_rows, writer.patient_conflicts)
        writer = _Writer(conn, staged, on_conflict, progress)
        writer.plan()
    large = len(writer.visit_inserts) >= bulk.BULK_FK_THRESHOLD
    with bulk.foreign_keys_checked_at_end(conn, enabled=large):
        writer.apply(result)
        if score and writer.changed_visits:
            _tick(progress, "score", 0, len(writer.changed_visits))
            result.visits_scored = _score(conn, writer, conventions, progress)
    result.problems = staged.problems
    quarantined = _quarantine_rows(conn, staged, sha) if mode == "quarantine" else []
    result.quarantined_rows = len({p.record for p in quarantined})
    if result.changed:
        run = conn.execute(insert(IMPORT_RUN).values(
            source=str(path), source_sha256=sha, mapping_sha256=m.sha256, mode=mode,
            package_version=__version__, started_at=started, finished_at=dt.datetime.now(dt.UTC),
            summary=result.summary()).returning(IMPORT_RUN.c.id)).scalar()  # fmt: skip
        if quarantined:
            records = [
                {**q, "import_run_id": run} for q in _quarantine_records(staged, sha, quarantined)
            ]
            for start in range(0, len(records), 5000):
                conn.execute(insert(QUARANTINE), records[start : start + 5000])


def _tick(progress: Progress | None, stage_name: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage_name, done, total)


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


def _quarantine_rows(conn: Connection, staged: Staged, sha: str) -> list[Problem]:
    """Problems not yet in the quarantine table (re-importing the same file adds nothing)."""
    if not staged.problems:
        return []
    q = QUARANTINE
    stored = {
        (r.row, r.field, r.rule)
        for r in conn.execute(select(q.c.row, q.c.field, q.c.rule).where(q.c.source_sha256 == sha))
    }
    return [p for p in staged.problems if (str(p.record), p.field, p.rule) not in stored]


def _quarantine_records(staged: Staged, sha: str, problems: list[Problem]) -> list[dict[str, Any]]:
    out = []
    for p in problems:
        raw = None
        if p.record in staged.raw.index:
            row = staged.raw.loc[p.record]
            raw = {str(k): _plain(v) for k, v in row.items() if not _isna(v)}
        out.append({"source_sha256": sha, "row": str(p.record), "field": p.field,
                    "value": None if p.value is None else str(p.value), "rule": p.rule, "raw": raw})  # fmt: skip
    return out


def _isna(v: Any) -> bool:
    return v is None or (not isinstance(v, (list, dict, bytes)) and bool(pd.isna(v)))


def _plain(v: Any) -> Any:
    if isinstance(v, (np.generic,)):
        return v.item()
    if isinstance(v, (pd.Timestamp, dt.date)):
        return v.isoformat()
    return v


class _Writer:
    """Plans an import against the stored rows, then applies it on the open transaction."""

    def __init__(
        self, conn: Connection, staged: Staged, on_conflict: OnConflict, progress: Progress | None
    ) -> None:
        self.conn = conn
        self.s = staged
        self.update = on_conflict == "update"
        self.progress = progress
        self.conflicts: list[Problem] = []
        self.conflict_rows: set[Any] = set()
        self.patient_conflicts: set[Any] = set()  # patient keys whose own fields conflict
        self.changed_visits: set[int] = set()
        self.new_visit_frame: pd.DataFrame | None = None

    def conflict(self, row: Any, field_name: str, new: Any, stored: Any, what: str) -> None:
        self.conflict_rows.add(row)
        self.conflicts.append(Problem(
            row, field_name, _plain(new),
            f"{what} already holds {_plain(stored)!r}; a stored value is never replaced silently "
            "(re-import with on_conflict='update' / --update to replace it)", self.s.source))  # fmt: skip

    # -- patients ------------------------------------------------------------------------

    def plan(self) -> None:
        s = self.s
        p = PATIENT
        keys = list(s.patients.index) + [
            k
            for df in (s.visits, s.therapies, s.imaging)
            for k in df["patient_key"].dropna().unique()
        ]
        keys = list(dict.fromkeys(keys))
        stored = pd.concat(
            [pd.DataFrame(self.conn.execute(select(p).where(p.c.patient_key.in_(c))).mappings().all(),
                          columns=[col.name for col in p.c]) for c in bulk.in_chunks(keys)]
            or [pd.DataFrame(columns=[col.name for col in p.c])], ignore_index=True)  # fmt: skip
        stored = stored.set_index("patient_key")
        self.patient_ids: dict[str, int] = dict(zip(stored.index, stored["id"], strict=True))
        self.new_patients = s.patients[~s.patients.index.isin(stored.index)]
        self.patient_updates: list[tuple[int, dict[str, Any]]] = []
        fields_ = [f for f in s.patient_fields if f != "attributes"]
        if "diagnosis" in fields_:
            fields_.append("diagnosis_snomed")
        for key, row in s.patients[s.patients.index.isin(stored.index)].iterrows():
            old = stored.loc[key]
            changes: dict[str, Any] = {}
            for f in fields_:
                new_v, old_v = row[f], old[f]
                if _isna(new_v) or (not _isna(old_v) and _same(new_v, old_v)):
                    continue
                if _isna(old_v) or self.update:
                    changes[f] = _plain(new_v)
                elif f != "diagnosis_snomed":
                    self.patient_conflicts.add(key)
                    self.conflict(row["_row"], f, new_v, old_v, f"patient {key}: {f}")
            if "attributes" in s.patient_fields and row["attributes"]:
                merged = dict(old["attributes"] or {})
                for k, v in row["attributes"].items():
                    if k in merged and merged[k] != v and not self.update:
                        self.patient_conflicts.add(key)
                        self.conflict(row["_row"], k, v, merged[k], f"patient {key}: attribute {k}")
                    merged[k] = v
                if merged != (old["attributes"] or {}):
                    changes["attributes"] = merged
            if changes:
                self.patient_updates.append((int(old["id"]), changes))
        self._plan_visits(stored)
        self._plan_records("therapy", s.therapies, F.THERAPY_KEY, THERAPY)
        self._plan_records("imaging_read", s.imaging, F.IMAGING_READ_KEY, IMAGING_READ)

    # -- visits ------------------------------------------------------------------------

    def _plan_visits(self, stored_patients: pd.DataFrame) -> None:
        v = self.s.visits
        self.visit_inserts = v.iloc[:0]
        self.visit_field_updates: list[tuple[int, dict[str, Any]]] = []
        self.item_plans: dict[str, tuple[pd.DataFrame, list[tuple[int, dict[str, Any]]]]] = {}
        self.exam_plan: tuple[pd.DataFrame, list[tuple[int, dict[str, Any]]]] = (v.iloc[:0], [])
        if v.empty or "visit_date" not in v:
            return
        pid = v["patient_key"].map(self.patient_ids)
        known = pid.notna().to_numpy()
        existing = visit_table(self.conn, patients=v.loc[known, "patient_key"].unique().tolist())
        ex_key = pd.Series(existing.index, index=pd.MultiIndex.from_arrays(
            [existing["patient_id"].to_numpy(), existing["visit_date"].to_numpy()])) if len(existing) else None  # fmt: skip
        if ex_key is not None:
            vid = pd.Series(ex_key.reindex(pd.MultiIndex.from_arrays(
                [v["patient_key"].to_numpy(), v["visit_date"].to_numpy()])).to_numpy(), index=v.index)  # fmt: skip
        else:
            vid = pd.Series(np.nan, index=v.index)
        is_new = vid.isna().to_numpy()
        self.visit_inserts = v[is_new]
        old = v[~is_new].assign(_visit_id=vid[~is_new].astype("int64"))
        if old.empty:
            return
        ex = existing.loc[old["_visit_id"]]
        ex.index = old.index
        for f in self.s.visit_fields:
            for i in np.flatnonzero(_differs(old[f], ex[f"visit_{f}"])):
                row = old.iloc[i]
                stored_v = ex.iloc[i][f"visit_{f}"]
                if _isna(stored_v) or self.update:
                    self.visit_field_updates.append((int(row["_visit_id"]), {f: row[f]}))
                else:
                    self.conflict(
                        row["_row"],
                        f,
                        row[f],
                        stored_v,
                        f"visit of patient {row['patient_key']} on {row['visit_date'].date()}: {f}",
                    )
        for table in ("clinical", "lab", "pro", "reported"):
            cols = [c for c in table_items(table) if c in self.s.items]
            if not cols:
                continue
            updates: list[tuple[int, dict[str, Any]]] = []
            has_row = ex[cols].notna().any(axis=1).to_numpy()  # stored visit has this table's row
            fresh = old[~has_row & old[cols].notna().any(axis=1).to_numpy()]
            for c in cols:
                new_c, old_c = old[c].to_numpy(dtype=float), ex[c].to_numpy(dtype=float)
                both = ~np.isnan(new_c) & ~np.isnan(old_c)
                diff = both & (snap(new_c) != snap(old_c))
                fill = has_row & ~np.isnan(new_c) & np.isnan(old_c)
                for i in np.flatnonzero(diff | fill):
                    row = old.iloc[i]
                    if fill[i] or self.update:
                        updates.append((int(row["_visit_id"]), _item_update(table, c, row)))
                    else:
                        self.conflict(
                            row["_row"],
                            c,
                            new_c[i],
                            old_c[i],
                            f"visit of patient {row['patient_key']} on {row['visit_date'].date()}: {c}",
                        )
            self.item_plans[table] = (fresh, _merge_updates(updates))
        if self.s.has_joints and "tender" in old:
            self._plan_exams(old, ex)

    def _plan_exams(self, old: pd.DataFrame, ex: pd.DataFrame) -> None:
        new_has = old["has_exam"].to_numpy(dtype=bool)
        stored_has = ex["tender"].notna().to_numpy()
        fresh = old[new_has & ~stored_has]
        both = new_has & stored_has
        updates: list[tuple[int, dict[str, Any]]] = []
        if both.any():
            o, e = old[both], ex[both]
            new_m, old_m = unpack_masks(o), unpack_masks(e)
            for state in ("tender", "swollen"):
                na, oa = new_m[f"{state}_assessed"], old_m[f"{state}_assessed"]
                clash = na & oa & (new_m[state] != old_m[state])
                for i, j in zip(*np.nonzero(clash), strict=True):
                    row = o.iloc[i]
                    if not self.update:
                        self.conflict(
                            row["_row"],
                            f"{state}_{jointbits.STORAGE_ORDER[j]}",
                            int(new_m[state][i, j]),
                            int(old_m[state][i, j]),
                            f"visit of patient {row['patient_key']} on "
                            f"{row['visit_date'].date()}: {state} {jointbits.STORAGE_ORDER[j]}",
                        )
                merged_flags = np.where(na, new_m[state], old_m[state])
                new_m[state], new_m[f"{state}_assessed"] = merged_flags, na | oa
            for i in range(len(o)):
                changed = any(not np.array_equal(new_m[k][i], old_m[k][i]) for k in jointbits.MASKS)
                if changed:
                    packed = {k: jointbits.pack(new_m[k][i : i + 1])[0] for k in jointbits.MASKS}
                    updates.append((int(o.iloc[i]["_visit_id"]), packed))
        self.exam_plan = (fresh, updates)

    # -- therapies and imaging reads ------------------------------------------------------

    def _plan_records(self, table: str, df: pd.DataFrame, key: tuple[str, ...], t: Any) -> None:
        plan: tuple[pd.DataFrame, list[tuple[int, dict[str, Any]]]] = (df.iloc[:0], [])
        setattr(self, f"{table}_plan", plan)
        if df.empty or len(df.columns) <= 2:
            return
        df = df.assign(patient_id=df["patient_key"].map(self.patient_ids))
        known = df["patient_id"].notna().to_numpy()
        cols = [c.name for c in t.c if c.name != "id"]
        stored = pd.concat(
            [pd.DataFrame(self.conn.execute(select(t).where(t.c.patient_id.in_(c))).mappings().all(),
                          columns=["id", *cols]) for c in bulk.in_chunks(df.loc[known, "patient_id"].astype(int).unique().tolist())]
            or [pd.DataFrame(columns=["id", *cols])], ignore_index=True)  # fmt: skip
        for c in cols:
            if c.endswith("_date"):
                stored[c] = pd.to_datetime(stored[c]).astype("datetime64[s]")
        if stored.empty:
            setattr(self, f"{table}_plan", (df, []))
            return
        stored["patient_id"] = stored["patient_id"].astype(float)
        merged = df.reset_index().merge(stored, on=list(key), how="left", suffixes=("", "__stored"))
        is_new = merged["id"].isna().to_numpy()
        updates = []
        for c in cols:
            if c in key or c == "patient_id" or f"{c}__stored" not in merged:
                continue
            for i in np.flatnonzero(~is_new & _differs(merged[c], merged[f"{c}__stored"])):
                row = merged.iloc[i]
                if _isna(row[c]):
                    continue
                if _isna(row[f"{c}__stored"]) or self.update:
                    updates.append((int(row["id"]), {c: _plain(row[c])}))
                else:
                    self.conflict(
                        row["_row"],
                        c,
                        row[c],
                        row[f"{c}__stored"],
                        f"{table} of patient {row['patient_key']}: {c}",
                    )
        setattr(self, f"{table}_plan", (df[is_new], _merge_updates(updates)))

    # -- apply --------------------------------------------------------------------------

    def apply(self, result: ImportResult) -> None:
        conn = self.conn
        p = PATIENT
        if len(self.new_patients):
            rows = self.new_patients.reset_index().rename(columns={"index": "patient_key"})
            records = [{k: _plain(v) if not _isna(v) else None for k, v in r.items()}
                       for r in rows[["patient_key", *PATIENT_COLUMNS, "attributes"]].to_dict("records")]  # fmt: skip
            for chunk in range(0, len(records), 5000):
                conn.execute(insert(p), records[chunk : chunk + 5000])
            new_ids = {
                r.patient_key: r.id
                for c in bulk.in_chunks(list(self.new_patients.index))
                for r in conn.execute(select(p.c.id, p.c.patient_key).where(p.c.patient_key.in_(c)))
            }
            self.patient_ids.update(new_ids)
        for pid, changes in self.patient_updates:
            conn.execute(update(p).where(p.c.id == pid).values(**changes))
        result.patients_added, result.patients_updated = (
            len(self.new_patients),
            len(self.patient_updates),
        )
        self._apply_visits(result)
        for table, t in (("therapy", THERAPY), ("imaging_read", IMAGING_READ)):
            new, updates = getattr(self, f"{table}_plan")
            if len(new):
                cols = [c.name for c in t.c if c.name not in ("id", "patient_id")]
                frame = new.assign(
                    patient_id=new["patient_key"].map(self.patient_ids).astype("int64")
                )
                bulk.insert_frame(conn, table, frame[["patient_id", *cols]].reset_index(drop=True))
            for rid, changes in updates:
                conn.execute(update(t).where(t.c.id == rid).values(**changes))
            prefix = "therapies" if table == "therapy" else "imaging"
            setattr(result, f"{prefix}_added", len(new))
            setattr(result, f"{prefix}_updated", len(updates))

    def _apply_visits(self, result: ImportResult) -> None:
        conn, new = self.conn, self.visit_inserts
        total = len(new)
        if total:
            pid = new["patient_key"].map(self.patient_ids).astype("int64")
            vid = bulk.allocate_ids(conn, "visit", total)
            frame = pd.DataFrame({"id": vid, "patient_id": pid.to_numpy(),
                                  "visit_date": new["visit_date"].to_numpy(),
                                  "kind": new["kind"].fillna("routine").to_numpy(),
                                  "label": new["label"].to_numpy() if "label" in new else None})  # fmt: skip
            _tick(self.progress, "store visits", 0, total)
            bulk.insert_frame(
                conn, "visit", frame, lambda d: _tick(self.progress, "store visits", d, total)
            )
            new = new.assign(visit_id=vid)
            self.new_visit_frame = new.set_index("visit_id")
            self.changed_visits.update(vid.tolist())
            for table in ("clinical", "lab", "pro", "reported"):
                self._insert_items(table, new)
            if self.s.has_joints and "tender" in new:
                self._insert_exams(new[new["has_exam"].to_numpy(dtype=bool)])
        updated: set[int] = set()
        for vid_, changes in self.visit_field_updates:
            conn.execute(update(VISIT).where(VISIT.c.id == vid_).values(**changes))
            updated.add(vid_)
        for table, (fresh, updates) in self.item_plans.items():
            self._insert_items(table, fresh.assign(visit_id=fresh["_visit_id"]))
            updated.update(fresh["_visit_id"].tolist())
            t = ITEM_TABLE_OBJECTS[table]
            for vid_, changes in updates:
                conn.execute(update(t).where(t.c.visit_id == vid_).values(**changes))
                updated.add(vid_)
        fresh, updates = self.exam_plan
        if len(fresh):
            self._insert_exams(fresh.assign(visit_id=fresh["_visit_id"]))
            updated.update(fresh["_visit_id"].tolist())
        j = JOINT_EXAM
        for vid_, changes in updates:
            conn.execute(update(j).where(j.c.visit_id == vid_).values(**changes))
            updated.add(vid_)
        self.changed_visits |= updated
        result.visits_added, result.visits_updated = total, len(updated)

    def _insert_items(self, table: str, df: pd.DataFrame) -> None:
        cols = [c for c in table_items(table) if c in df.columns]
        if not cols or df.empty:
            return
        rows = df[df[cols].notna().any(axis=1).to_numpy()]
        out = pd.DataFrame({"visit_id": rows["visit_id"].to_numpy()})
        for c in cols:
            vals = rows[c].to_numpy(dtype=float)
            out[c] = pd.array(vals, dtype="Int64") if items()[c].integer else vals
            if table == "lab":
                unit = rows.get(f"{c}_source_unit")
                out[f"{c}_source_unit"] = unit.to_numpy() if unit is not None else None
        bulk.insert_frame(self.conn, table, out)

    def _insert_exams(self, df: pd.DataFrame) -> None:
        if df.empty:
            return
        out = pd.DataFrame({"visit_id": df["visit_id"].to_numpy()})
        for m in jointbits.MASKS:
            out[m] = df[m].to_numpy()
        bulk.insert_frame(self.conn, "joint_exam", out)


def _item_update(table: str, col: str, row: pd.Series) -> dict[str, Any]:
    value = float(row[col])
    out: dict[str, Any] = {col: int(value) if items()[col].integer else value}
    if table == "lab" and f"{col}_source_unit" in row:
        out[f"{col}_source_unit"] = (
            None if _isna(row[f"{col}_source_unit"]) else row[f"{col}_source_unit"]
        )
    return out


def _merge_updates(updates: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, dict[str, Any]]]:
    merged: dict[int, dict[str, Any]] = {}
    for rid, changes in updates:
        merged.setdefault(rid, {}).update(changes)
    return list(merged.items())


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (float, int, np.number)) and isinstance(b, (float, int, np.number)):
        return bool(snap(float(a)) == snap(float(b)))
    return bool(_plain(a) == _plain(b))


def _differs(a: pd.Series, b: pd.Series) -> np.ndarray:
    out = np.zeros(len(a), dtype=bool)
    for i, (x, y) in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
        if _isna(x) and _isna(y):
            continue
        out[i] = _isna(x) != _isna(y) or not _same(x, y)
    return out


def _score(
    conn: Connection, writer: _Writer, conventions: Conventions, progress: Progress | None
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
    tick = lambda d: _tick(progress, "score", d, total)  # noqa: E731
    if writer.new_visit_frame is not None:
        store_scores(conn, frames[0], conventions, tick, replace=False)
    if changed:
        store_scores(conn, frames[-1], conventions, tick)
    return total


def _inputs_from(visits: pd.DataFrame) -> pd.DataFrame:
    if "tender" in visits:
        masks = unpack_masks(visits)
    else:
        empty = np.zeros((len(visits), jointbits.N_JOINTS), dtype=bool)
        masks = dict.fromkeys(jointbits.MASKS, empty)
    return score_inputs(add_counts(visits, masks))
