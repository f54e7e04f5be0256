"""Turn a raw source frame into checked store records, reporting every problem with its row.

:func:`stage` applies a :class:`~rheumetrics.store.mapping.Mapping` to a raw frame (from
:mod:`rheumetrics.store.readers`) and returns a :class:`Staged` batch: patients, visits (items in
canonical units, per-joint findings packed), therapies and imaging reads, plus every problem found
(file, row, column, value, rule) and the set of bad source rows. Nothing is written here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rheumetrics.errors import Problem
from rheumetrics.schema import records as F
from rheumetrics.schema import validate as V
from rheumetrics.store import redcap as rc
from rheumetrics.store.mapping import Mapping
from rheumetrics.store.models import DIAGNOSES
from rheumetrics.store.source_frame import SourceFrame
from rheumetrics.store.staged_records import staged_imaging, staged_therapies
from rheumetrics.store.staged_visits import long_visits, pivot_long, wide_visits

PATIENT_COLUMNS = ("diagnosis", "diagnosis_snomed", "sex", "birth_year", "rf", "acpa", "hla_b27")


@dataclass
class Staged:
    """One source file, checked and in store shape."""

    source: str
    raw: pd.DataFrame
    patients: pd.DataFrame  # index patient_key
    visits: pd.DataFrame  # patient_key, visit_date, kind, label, items, masks, has_exam, _row
    therapies: pd.DataFrame
    imaging: pd.DataFrame
    problems: list[Problem]
    bad_rows: set[Any]
    items: tuple[str, ...]  # items this source supplies
    has_joints: bool
    patient_fields: tuple[str, ...] = field(default=())
    visit_fields: tuple[str, ...] = field(default=())  # kind / label when the mapping gives them
    warnings: list[str] = field(default_factory=list)  # likely unit mix-ups


def stage(mapping: Mapping, raw: pd.DataFrame, source: str) -> Staged:
    """Check ``raw`` against ``mapping`` and build the records to store."""
    prep = V.Reporter(source, raw.index)
    pctx = SourceFrame(mapping, raw, prep)
    pid = pctx.field(mapping.patient, "id", F.PATIENT_FIELDS["id"])
    prows = _patient_rows(pctx)
    reps = [prep]
    visits = therapies = imaging = None
    if mapping.format == "redcap":
        subsets = _redcap_subsets(mapping, raw, reps, source)
    else:
        subsets = {"visit": raw} if mapping.visit is not None else {}
        if mapping.therapy is not None:
            subsets["therapy"] = raw
        if mapping.imaging is not None:
            subsets["imaging"] = raw
    if "visit" in subsets:
        rep = V.Reporter(source, subsets["visit"].index)
        reps.append(rep)
        ctx = SourceFrame(mapping, subsets["visit"], rep)
        if mapping.layout == "long":
            visits = long_visits(ctx, pid)
        else:
            visits = wide_visits(ctx, pid, subsets.get("event_kind"))
    if "therapy" in subsets:
        rep = V.Reporter(source, subsets["therapy"].index)
        reps.append(rep)
        therapies = staged_therapies(SourceFrame(mapping, subsets["therapy"], rep), pid)
    if "imaging" in subsets:
        rep = V.Reporter(source, subsets["imaging"].index)
        reps.append(rep)
        imaging = staged_imaging(SourceFrame(mapping, subsets["imaging"], rep), pid)
    patients = _assemble_patients(mapping, prows, pid, prep)
    problems = V.with_keys([p for r in reps for p in r.problems], _natural_keys(mapping, raw))
    bad = set().union(*(set(r.rows[r.bad]) for r in reps))
    keep = lambda df: df[~df["_row"].isin(bad)] if df is not None else None  # noqa: E731
    if visits is not None and mapping.layout == "long":
        visits = pivot_long(visits, bad)
    elif visits is not None:
        visits = keep(visits)
    empty = pd.DataFrame({"patient_key": pd.Series(dtype=object), "_row": pd.Series(dtype=object)})
    return Staged(
        source=source,
        raw=raw,
        patients=patients,
        visits=visits if visits is not None else empty,
        therapies=keep(therapies) if therapies is not None else empty,
        imaging=keep(imaging) if imaging is not None else empty,
        problems=problems,
        bad_rows=bad,
        items=tuple(mapping.values)
        if mapping.layout == "wide"
        else tuple(dict.fromkeys(mapping.long.items.values()) if mapping.long else ()),
        has_joints=mapping.joints is not None,
        visit_fields=tuple(
            f
            for f in ("kind", "label")
            if f in (mapping.visit or {})
            or (f == "kind" and mapping.redcap and mapping.redcap.events)
        ),
        patient_fields=tuple(k for k in mapping.patient if k != "id")
        + (("attributes",) if mapping.attributes else ()),
    )


def _natural_keys(mapping: Mapping, raw: pd.DataFrame) -> pd.DataFrame:
    """Raw natural-key columns by line: patient id and visit date (REDCap: record and event)."""
    if mapping.format == "redcap":
        cols = {c: c for c in ("record_id", "redcap_event_name")}
    else:
        cols = {}
        for name, spec in (("patient_id", mapping.patient.get("id")),
                           ("visit_date", (mapping.visit or {}).get("date"))):  # fmt: skip
            if spec is not None and spec.column is not None and spec.offset_unit is None:
                cols[name] = spec.column
    present = {k: c for k, c in cols.items() if c in raw.columns}
    return pd.DataFrame({k: raw[c] for k, c in present.items()}, index=raw.index)


def _patient_rows(ctx: SourceFrame) -> pd.DataFrame:
    cols: dict[str, pd.Series] = {}
    for key in ("diagnosis", "sex", "birth_year", "rf", "acpa", "hla_b27"):
        cols[key] = ctx.field(ctx.m.patient, key, F.PATIENT_FIELDS[key])
    cols["diagnosis_snomed"] = cols["diagnosis"].map(DIAGNOSES, na_action="ignore")
    out = pd.DataFrame(cols, index=ctx.raw.index)
    if not ctx.m.attributes:
        return out
    # all attributes at once (a mapping may name thousands): text, or numbers when a whole
    # column reads as numbers
    raw = pd.DataFrame(
        {f"attr:{name}": ctx.column(spec, name)[0] for name, spec in ctx.m.attributes.items()},
        index=ctx.raw.index,
    )
    long = raw.stack().astype("string").str.strip()  # stack drops the missing cells
    num = pd.to_numeric(long, errors="coerce")
    numeric = num.notna().groupby(level=1).all().reindex(raw.columns, fill_value=True)
    values = long.astype(object).where(
        ~numeric.reindex(long.index.get_level_values(1)).to_numpy(), num
    )
    attrs = values.unstack().reindex(index=raw.index, columns=raw.columns)
    attrs = attrs.astype(object).where(attrs.notna(), None)
    return pd.concat([out, attrs], axis=1)


def _assemble_patients(
    mapping: Mapping, prows: pd.DataFrame, pid: pd.Series, rep: V.Reporter
) -> pd.DataFrame:
    """One row per patient key; values that disagree between rows are problems."""
    df = prows.assign(patient_key=pid)
    df = df[df["patient_key"].notna().to_numpy() & ~rep.bad]
    # one long series (patient, column) -> value finds the columns with a conflict at once
    cells = df.set_index("patient_key")[list(prows.columns)].stack().astype(str)
    per_key = cells.groupby(level=[0, 1], sort=False).nunique()
    clashing = set(per_key.index.get_level_values(1)[per_key.to_numpy() > 1])
    for col in [c for c in prows.columns if c in clashing]:
        sub = df[["patient_key", col]].dropna()
        if sub.empty:
            continue
        text = sub.astype(str)
        pairs = text.drop_duplicates()
        per_key = pairs["patient_key"].value_counts()
        conflicted = per_key.index[per_key > 1]
        if not len(conflicted):
            continue
        seen = pairs[pairs["patient_key"].isin(conflicted)].groupby("patient_key")[col].unique()
        name = col.removeprefix("attr:")
        spec = mapping.attributes[name] if col.startswith("attr:") else mapping.patient.get(col)
        src = (spec.column if spec is not None else None) or name
        rows = text[text["patient_key"].isin(conflicted)]
        for label, key, value in zip(rows.index, rows["patient_key"], rows[col], strict=True):
            rule = f"patient {key} has conflicting values: " + ", ".join(sorted(seen[key]))
            rep.add(rep.rows.get_loc(label), src, value, rule)
    good = df[~rep.bad[rep.rows.get_indexer(df.index)]]
    first = good.groupby("patient_key", sort=False).first()
    out = pd.DataFrame(index=first.index)
    out["_row"] = (
        good.reset_index().groupby("patient_key", sort=False)[good.index.name or "index"].first()
    )
    for col in PATIENT_COLUMNS:
        out[col] = first[col].astype(object).where(first[col].notna(), None)
    attr_cols = [c for c in first.columns if c.startswith("attr:")]
    out["attributes"] = [
        {
            c.removeprefix("attr:"): _json_value(v)
            for c, v in zip(attr_cols, vals, strict=True)
            if pd.notna(v)
        }
        or None
        for vals in first[attr_cols].itertuples(index=False, name=None)
    ]
    return out


def _json_value(v: Any) -> Any:
    if isinstance(v, (np.integer, np.floating)):
        return v.item()
    return v


def _redcap_subsets(
    mapping: Mapping, raw: pd.DataFrame, reps: list[V.Reporter], source: str
) -> dict[str, Any]:
    """Split a REDCap export into event rows (visits) and repeating-instrument rows."""
    assert mapping.redcap is not None
    rep = V.Reporter(source, raw.index)
    reps.append(rep)
    instrument = raw[rc.REPEAT_INSTRUMENT].astype("string") if rc.REPEAT_INSTRUMENT in raw else \
        pd.Series(pd.NA, index=raw.index, dtype="string")  # fmt: skip
    plain = instrument.isna().to_numpy()
    out: dict[str, Any] = {}
    if mapping.visit is not None:
        if rc.EVENT in raw.columns:
            event = raw[rc.EVENT].astype("string")
            listed = event.isin(list(mapping.redcap.events)).fillna(False).to_numpy(dtype=bool)
            spec = mapping.visit.get("date")
            if spec is not None and spec.column in raw.columns:
                stray = plain & ~listed & ~V.missing(raw[spec.column])
                rep.flag(
                    stray,
                    rc.EVENT,
                    event,
                    "event has a visit date but is not listed in [redcap] events",
                )
            id_spec = mapping.patient.get("id")
            if id_spec is not None and id_spec.column:
                for pos, rule in rc.duplicate_events(raw, id_spec.column, plain & listed).items():
                    rep.add(pos, rc.EVENT, str(event.iat[pos]), rule)
            out["visit"] = raw[plain & listed]
            out["event_kind"] = event[plain & listed].map(mapping.redcap.events)
        else:
            out["visit"] = raw[plain]
    for key, name in (("therapy", mapping.redcap.therapy_instrument),
                      ("imaging", mapping.redcap.imaging_instrument)):  # fmt: skip
        if name:
            out[key] = raw[(instrument == name).fillna(False).to_numpy(dtype=bool)]
    known = {i for i in (mapping.redcap.therapy_instrument, mapping.redcap.imaging_instrument) if i}
    stray_inst = ~plain & ~instrument.isin(list(known)).fillna(False).to_numpy(dtype=bool)
    rep.flag(
        stray_inst,
        rc.REPEAT_INSTRUMENT,
        instrument,
        "repeating instrument not mapped ([redcap] therapy_instrument / imaging_instrument)",
    )
    return out
