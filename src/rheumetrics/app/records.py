"""Writes from the web forms into the cohort store, each with its audit row and version check.

Every write runs in one transaction: the store rows, the record's version counter
(:data:`~rheumetrics.app.tables.RECORD_VERSION`) and the audit row commit together or not at all.
Optimistic locking: an edit form carries the version it was loaded at; saving checks and bumps it
with one ``UPDATE ... WHERE version = :loaded`` and a second editor who loaded the same version gets
:class:`Conflict` instead of overwriting the first editor's change. Records imported by the store
have no version row yet and count as version 0.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, delete, insert, select, update

from rheumetrics.app import audit
from rheumetrics.app.forms import JOINT_SETS, VisitInput
from rheumetrics.app.livescore import joint_counts, joint_masks
from rheumetrics.app.tables import DECISION, PATIENT_STRATEGY, RECORD_VERSION, VISIT_NOTE
from rheumetrics.errors import Problem, RheumetricsError
from rheumetrics.store.items import ITEM_TABLES, items, table_items
from rheumetrics.store.jointbits import MASKS, STORAGE_ORDER, pack, unpack
from rheumetrics.store.models import (
    DIAGNOSES,
    ITEM_TABLE_OBJECTS,
    JOINT_EXAM,
    PATIENT,
    SEXES,
    VISIT,
)
from rheumetrics.store.scoring import score_inputs, score_visits, store_scores


class Conflict(RheumetricsError):
    """The record changed since the form was loaded."""

    def __init__(self, entity: str, key: str, loaded: int, current: int) -> None:
        self.entity, self.key, self.loaded, self.current = entity, key, loaded, current
        super().__init__(
            f"{entity} {key} was changed by someone else since you opened it (you loaded version "
            f"{loaded}, it is now version {current}); nothing was saved. Reload to see their "
            "change, then enter yours again."
        )


class FormProblems(RheumetricsError):
    """Problems with submitted values; nothing was stored."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def version(conn: Connection, entity: str, key: str) -> int:
    """Current version of a record (0 when it was never edited through the app)."""
    v = conn.execute(
        select(RECORD_VERSION.c.version).where(
            RECORD_VERSION.c.entity == entity, RECORD_VERSION.c.record_key == key
        )
    ).scalar()
    return int(v or 0)


def bump(conn: Connection, entity: str, key: str, loaded: int) -> int:
    """Move a record from version ``loaded`` to ``loaded + 1``; :class:`Conflict` if it moved."""
    rv = RECORD_VERSION
    res = conn.execute(
        update(rv)
        .where(rv.c.entity == entity, rv.c.record_key == key, rv.c.version == loaded)
        .values(version=loaded + 1)
    )
    if res.rowcount == 1:
        return loaded + 1
    current = version(conn, entity, key)
    if current == 0 and loaded == 0:
        conn.execute(insert(rv).values(entity=entity, record_key=key, version=1))
        return 1
    raise Conflict(entity, key, loaded, current)


def patient_id(conn: Connection, key: str) -> int:
    pid = conn.execute(select(PATIENT.c.id).where(PATIENT.c.patient_key == key)).scalar()
    if pid is None:
        raise RheumetricsError(f"no patient {key!r}")
    return int(pid)


def create_patient(conn: Connection, user: str, form: dict[str, str]) -> str:
    """Create a patient from the new-patient form; returns its key."""
    problems: list[Problem] = []
    src = "patient form"
    key = form.get("patient_key", "").strip()
    if (
        not key
        or len(key) > 64
        or not all(c.isascii() and (c.isalnum() or c in "-_.") for c in key)
    ):
        problems.append(
            Problem(
                src,
                "patient_key",
                key,
                "must be 1-64 ASCII letters, digits, '-', '_' or '.' (a pseudonym, never a name or hospital number)",
            )
        )
    elif conn.execute(select(PATIENT.c.id).where(PATIENT.c.patient_key == key)).first():
        problems.append(Problem(src, "patient_key", key, "already exists"))
    diagnosis = form.get("diagnosis", "")
    if diagnosis not in DIAGNOSES:
        problems.append(
            Problem(src, "diagnosis", diagnosis, f"must be one of {', '.join(DIAGNOSES)}")
        )
    sex = form.get("sex", "unknown") or "unknown"
    if sex not in SEXES:
        problems.append(Problem(src, "sex", sex, f"must be one of {', '.join(SEXES)}"))
    raw_year = form.get("birth_year", "").strip()
    year = None
    this_year = dt.date.today().year
    if raw_year:
        if (
            not (raw_year.isascii() and raw_year.isdigit())
            or not 1900 <= int(raw_year) <= this_year
        ):
            problems.append(
                Problem(src, "birth_year", raw_year, f"must be a year 1900-{this_year}")
            )
        else:
            year = int(raw_year)
    strategy = form.get("strategy", "")
    from rheumetrics.app.decision_support import strategy_choices

    if strategy and strategy not in strategy_choices():
        problems.append(
            Problem(src, "strategy", strategy, f"must be one of {', '.join(strategy_choices())}")
        )
    if problems:
        raise FormProblems(problems)
    row = {
        "patient_key": key,
        "diagnosis": diagnosis,
        "diagnosis_snomed": DIAGNOSES[diagnosis],
        "sex": sex,
        "birth_year": year,
    }
    conn.execute(insert(PATIENT).values(**row))
    if strategy:
        conn.execute(insert(PATIENT_STRATEGY).values(patient_key=key, strategy=strategy))
    conn.execute(insert(RECORD_VERSION).values(entity="patient", record_key=key, version=1))
    audit.record(conn, user, "create", "patient", key, None, {**row, "strategy": strategy or None})
    return key


def set_strategy(conn: Connection, user: str, key: str, strategy: str, loaded: int) -> None:
    """Choose the patient's treat-to-target strategy (version-checked)."""
    from rheumetrics.app.decision_support import strategy_choices

    if strategy not in strategy_choices():
        raise FormProblems(
            [
                Problem(
                    "patient form",
                    "strategy",
                    strategy,
                    f"must be one of {', '.join(strategy_choices())}",
                )
            ]
        )
    before = conn.execute(
        select(PATIENT_STRATEGY.c.strategy).where(PATIENT_STRATEGY.c.patient_key == key)
    ).scalar()
    bump(conn, "patient", key, loaded)
    conn.execute(delete(PATIENT_STRATEGY).where(PATIENT_STRATEGY.c.patient_key == key))
    conn.execute(insert(PATIENT_STRATEGY).values(patient_key=key, strategy=strategy))
    audit.record(conn, user, "update", "patient", key, {"strategy": before}, {"strategy": strategy})


def stored_visit(conn: Connection, visit_id: int) -> dict[str, Any] | None:
    """One stored visit: patient key, date, kind, every store item (None where missing) and the
    packed joint masks, in one indexed query (None when there is no such visit)."""
    v = VISIT
    cols: list[Any] = [PATIENT.c.patient_key, v.c.visit_date, v.c.kind]
    src: Any = v.join(PATIENT, PATIENT.c.id == v.c.patient_id)
    for name in ITEM_TABLES:
        t = ITEM_TABLE_OBJECTS[name]
        cols += [t.c[i] for i in table_items(name)]
        src = src.outerjoin(t, t.c.visit_id == v.c.id)
    cols += [JOINT_EXAM.c[m] for m in MASKS]
    src = src.outerjoin(JOINT_EXAM, JOINT_EXAM.c.visit_id == v.c.id)
    row = conn.execute(select(*cols).select_from(src).where(v.c.id == visit_id)).mappings().first()
    return None if row is None else dict(row)


def visit_form_values(conn: Connection, visit_id: int) -> dict[str, Any]:
    """A stored visit as visit-form values (strings), with its version and patient key."""
    row = stored_visit(conn, visit_id)
    if row is None:
        raise RheumetricsError(f"no visit {visit_id}")
    flags = {m: unpack([row[m]])[0] for m in MASKS}
    found = (
        conn.execute(select(VISIT_NOTE).where(VISIT_NOTE.c.visit_id == visit_id)).mappings().first()
    )
    note: dict[str, Any] = dict(found) if found else {}
    absent = set(note.get("absent_joints") or [])
    out: dict[str, Any] = {
        "visit_date": pd.Timestamp(row["visit_date"]).date().isoformat(),
        "kind": row["kind"],
        "joint_set": note.get("joint_set") or "28",
        "lab_date": note["lab_date"].isoformat() if note.get("lab_date") else "",
        "patient_key": row["patient_key"],
    }
    for i, j in enumerate(STORAGE_ORDER):
        t, s = flags["tender"][i], flags["swollen"][i]
        if j in absent:
            out[f"j_{j}"] = "p"
        elif not (flags["tender_assessed"][i] and flags["swollen_assessed"][i]):
            out[f"j_{j}"] = "x"
        else:
            out[f"j_{j}"] = "b" if t and s else "t" if t else "s" if s else "n"
    for name in items():
        v = row.get(name)
        if v is not None and not pd.isna(v):
            out[name] = f"{float(v):g}"
    unit = conn.execute(
        select(ITEM_TABLE_OBJECTS["lab"].c.crp_mg_l_source_unit).where(
            ITEM_TABLE_OBJECTS["lab"].c.visit_id == visit_id
        )
    ).scalar()
    out["crp_unit"] = unit if unit in ("mg/L", "mg/dL") else "mg/L"
    if "crp_mg_l" in out:
        factor = 10.0 if out["crp_unit"] == "mg/dL" else 1.0
        out["crp"] = f"{float(out['crp_mg_l']) / factor:g}"
    for name in list(out):
        if name.startswith("haq_aid_"):
            out[name] = "1" if out[name] in ("1", "1.0") else ""
    return out


@dataclass(frozen=True)
class ScoredVisit:
    """A visit form's stored scores, computed before its write transaction: ``kept`` are the
    items the form does not write (table "reported") that the scores were computed with."""

    kept: dict[str, Any]
    scores: pd.DataFrame


def kept_items(conn: Connection, visit_id: int | None) -> dict[str, Any]:
    """The stored items of a visit that the form does not write (table "reported"); they stay."""
    stored = (stored_visit(conn, visit_id) if visit_id is not None else None) or {}
    return {i: stored.get(i) for i in table_items("reported") if stored.get(i) is not None}


def score_visit(v: VisitInput, kept: dict[str, Any] | None = None) -> ScoredVisit | None:
    """The scores :func:`save_visit` stores for this form (None for a form with problems), to
    compute before the write transaction; ``kept``: :func:`kept_items` of an edited visit."""
    if v.problems:
        return None
    kept = kept or {}
    written = {**_written(_item_rows(v)), **kept}
    return ScoredVisit(kept, score_visits(_score_inputs(0, written, v)))


def save_visit(
    conn: Connection,
    user: str,
    key: str,
    v: VisitInput,
    visit_id: int | None = None,
    loaded: int = 0,
    scored: ScoredVisit | None = None,
) -> int:
    """Create (``visit_id`` None) or update a visit from a valid form; returns the visit id.

    ``scored``: :func:`score_visit` of the form, computed before the transaction; used unless
    the kept items changed meanwhile (then the visit is scored here)."""
    if v.problems:
        raise FormProblems(v.problems)
    pid = patient_id(conn, key)
    clash = conn.execute(
        select(VISIT.c.id).where(VISIT.c.patient_id == pid, VISIT.c.visit_date == v.visit_date)
    ).scalar()
    if clash is not None and clash != visit_id:
        raise FormProblems(
            [
                Problem(
                    "visit form",
                    "visit_date",
                    v.visit_date.isoformat(),
                    f"patient {key} already has a visit on this date; edit that visit instead",
                )
            ]
        )
    before = None
    if visit_id is None:
        visit_id = int(
            conn.execute(
                insert(VISIT)
                .values(patient_id=pid, visit_date=v.visit_date, kind=v.kind)
                .returning(VISIT.c.id)
            ).scalar_one()
        )
        conn.execute(
            insert(RECORD_VERSION).values(entity="visit", record_key=str(visit_id), version=1)
        )
    else:
        before = visit_form_values(conn, visit_id)
        if before["patient_key"] != key:
            raise RheumetricsError(f"visit {visit_id} belongs to another patient")
        bump(conn, "visit", str(visit_id), loaded)
        conn.execute(
            update(VISIT).where(VISIT.c.id == visit_id).values(visit_date=v.visit_date, kind=v.kind)
        )
        for t in (*ITEM_TABLE_OBJECTS.values(), JOINT_EXAM, VISIT_NOTE):
            if t.name != "reported":
                conn.execute(delete(t).where(t.c.visit_id == visit_id))
    written = _write_visit_rows(conn, visit_id, v)
    kept = kept_items(conn, visit_id) if before is not None else {}
    written.update(kept)
    inputs = _score_inputs(visit_id, written, v)
    scores = None
    if scored is not None and scored.kept == kept:
        scores = scored.scores.set_axis(inputs.index)
    store_scores(conn, inputs, replace=before is not None, scores=scores)
    audit.record(
        conn,
        user,
        "create" if before is None else "update",
        "visit",
        f"{key}/{visit_id}",
        _audit_view(before),
        v.as_record(),
    )
    return visit_id


def _audit_view(before: dict[str, Any] | None) -> dict[str, Any] | None:
    if before is None:
        return None
    return {k: v for k, v in before.items() if not (k.startswith("j_") and v == "x")}


def _score_inputs(visit_id: int, written: dict[str, Any], v: VisitInput) -> pd.DataFrame:
    """The scoring inputs of the visit just written, as the store reads them back
    (:func:`rheumetrics.store.visit_table` then :func:`rheumetrics.store.visit_frames.add_counts`:
    every store item, missing where nothing was written; a joint count not recorded is counted
    from the per-joint findings) without reading the store again."""
    row = {name: written.get(name) for name in items()}
    for col, n in joint_counts(v.joints).items():
        if row.get(col) is None:
            row[col] = n
    frame = pd.DataFrame(
        {k: [np.nan if x is None else x] for k, x in row.items()},
        index=pd.Index([visit_id], name="visit_id"),
        dtype="float64",
    )
    return score_inputs(frame)


def _item_rows(v: VisitInput) -> dict[str, dict[str, Any]]:
    """The item table rows (table name -> values) a visit form writes."""
    counts = joint_counts(v.joints)
    values: dict[str, Any] = {**v.values}
    # counts come from the per-joint findings (the store derives them); the 28-joint counts are
    # also recorded so exports without per-joint data keep them.
    values["tjc28"], values["sjc28"] = counts["tjc28"], counts["sjc28"]
    rows = {}
    for name in ("clinical", "lab", "pro"):
        row = {i: values.get(i) for i in table_items(name) if values.get(i) is not None}
        if name == "lab":
            if "crp_mg_l" in row:
                row["crp_mg_l_source_unit"] = v.crp_unit
            if "esr_mm_h" in row:
                row["esr_mm_h_source_unit"] = "mm/h"
        if row:
            rows[name] = row
    return rows


def _written(rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The store item values of :func:`_item_rows`."""
    return {i: x for row in rows.values() for i, x in row.items() if i in items()}


def _write_visit_rows(conn: Connection, visit_id: int, v: VisitInput) -> dict[str, Any]:
    """Write the visit's item rows, joint examination and note; returns the item values written."""
    masks = joint_masks(v.joints)
    conn.execute(
        insert(JOINT_EXAM).values(visit_id=visit_id, **{m: pack(masks[m])[0] for m in MASKS})
    )
    rows = _item_rows(v)
    for name, row in rows.items():
        conn.execute(insert(ITEM_TABLE_OBJECTS[name]).values(visit_id=visit_id, **row))
    written = _written(rows)
    absent = [j for j, s in v.joints.items() if s == "p"]
    assert v.joint_set in JOINT_SETS
    conn.execute(
        insert(VISIT_NOTE).values(
            visit_id=visit_id,
            joint_set=v.joint_set,
            lab_date=v.lab_date,
            absent_joints=absent or None,
        )
    )
    return written


def record_decision(
    conn: Connection,
    user: str,
    key: str,
    visit_id: int,
    decision: dict[str, Any],
    form: dict[str, str],
) -> None:
    """Store the clinician's decision at a visit: accept the recommendation or override it."""
    from rheumetrics.app.decision_support import ACTIONS, adherent

    src = "decision form"
    choice = form.get("choice", "")
    problems: list[Problem] = []
    if choice not in ("accept", "override"):
        problems.append(Problem(src, "choice", choice, "must be accept or override"))
    elif choice == "accept" and adherent(decision["action"], decision["action"]) is None:
        problems.append(
            Problem(
                src,
                "choice",
                choice,
                f"the engine recommended no action ({decision['action']}: "
                "see the missing data); record an override with the action taken",
            )
        )
    actual = decision["action"] if choice == "accept" else form.get("actual_action", "")
    reason = form.get("reason", "").strip()
    if choice == "override":
        if actual not in ACTIONS:
            problems.append(
                Problem(src, "actual_action", actual, f"must be one of {', '.join(ACTIONS)}")
            )
        if len(reason) < 3:
            problems.append(
                Problem(src, "reason", reason, "an override needs a reason (at least 3 characters)")
            )
    if problems:
        raise FormProblems(problems)
    prior = conn.execute(select(DECISION).where(DECISION.c.visit_id == visit_id)).mappings().first()
    loaded = int(form.get("version", "0") or 0) if form.get("version", "0").isdigit() else -1
    bump(conn, "decision", str(visit_id), loaded)
    row = {
        "patient_key": key,
        "visit_id": visit_id,
        "visit_date": decision["visit_date"],
        "strategy": decision["strategy"],
        "recommended_action": decision["action"],
        "recommended_text": decision["sentence"],
        "actual_action": actual,
        "accepted": choice == "accept",
        "adherent": adherent(decision["action"], actual),
        "reason": reason or None,
        "username": user,
        "at": dt.datetime.now(dt.UTC),
    }
    if prior is not None:
        conn.execute(delete(DECISION).where(DECISION.c.visit_id == visit_id))
    conn.execute(insert(DECISION).values(**row))
    view = {k: (str(x) if isinstance(x, dt.date | dt.datetime) else x) for k, x in row.items()}
    before = (
        None
        if prior is None
        else {
            k: (str(x) if isinstance(x, dt.date | dt.datetime) else x)
            for k, x in dict(prior).items()
        }
    )
    audit.record(
        conn, user, "update" if prior else "create", "decision", f"{key}/{visit_id}", before, view
    )
