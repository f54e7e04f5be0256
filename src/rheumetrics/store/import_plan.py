"""The plan of one import against what is stored, by natural keys, and its application.

A value already stored is never overwritten silently: a different value is a conflict (a
problem) unless ``on_conflict="update"``; a value missing from the store is filled in; a value
missing from the file leaves the store as is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from sqlalchemy import Connection, insert, select, update

from rheumetrics.errors import Problem
from rheumetrics.numeric import snap
from rheumetrics.schema import records as F
from rheumetrics.store import bulk, jointbits
from rheumetrics.store.items import items, table_items
from rheumetrics.store.models import (
    IMAGING_READ,
    ITEM_TABLE_OBJECTS,
    JOINT_EXAM,
    PATIENT,
    THERAPY,
    VISIT,
)
from rheumetrics.store.stage import PATIENT_COLUMNS, Staged
from rheumetrics.store.visit_frames import unpack_masks, visit_table


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
    warnings: list[str] = field(default_factory=list)  # likely unit mix-ups

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


OnConflict = Literal["error", "update"]


Progress = Callable[[str, int, int], None]


def tick(progress: Progress | None, stage_name: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage_name, done, total)


def is_missing(v: Any) -> bool:
    return v is None or (not isinstance(v, (list, dict, bytes)) and bool(pd.isna(v)))


def plain(v: Any) -> Any:
    if isinstance(v, (np.generic,)):
        return v.item()
    if isinstance(v, (pd.Timestamp, dt.date)):
        return v.isoformat()
    return v


class ImportPlan:
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
            row, field_name, plain(new),
            f"{what} already holds {plain(stored)!r}; a stored value is never replaced silently "
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
                if is_missing(new_v) or (not is_missing(old_v) and _same(new_v, old_v)):
                    continue
                if is_missing(old_v) or self.update:
                    changes[f] = plain(new_v)
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
                if is_missing(stored_v) or self.update:
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
                if is_missing(row[c]):
                    continue
                if is_missing(row[f"{c}__stored"]) or self.update:
                    updates.append((int(row["id"]), {c: plain(row[c])}))
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
            records = [{k: plain(v) if not is_missing(v) else None for k, v in r.items()}
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
            tick(self.progress, "store visits", 0, total)
            bulk.insert_frame(
                conn, "visit", frame, lambda d: tick(self.progress, "store visits", d, total)
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
            None if is_missing(row[f"{col}_source_unit"]) else row[f"{col}_source_unit"]
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
    return bool(plain(a) == plain(b))


def _differs(a: pd.Series, b: pd.Series) -> np.ndarray:
    out = np.zeros(len(a), dtype=bool)
    for i, (x, y) in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
        if is_missing(x) and is_missing(y):
            continue
        out[i] = is_missing(x) != is_missing(y) or not _same(x, y)
    return out
