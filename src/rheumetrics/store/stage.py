"""Turn a raw source frame into checked store records, reporting every problem with its row.

:func:`stage` applies a :class:`~rheumetrics.store.mapping.Mapping` to a raw frame (from
:mod:`rheumetrics.store.readers`) and returns a :class:`Staged` batch: patients, visits (items in
canonical units, per-joint findings packed), therapies and imaging reads, plus every problem found
(file, row, column, value, rule) and the set of bad source rows. Nothing is written here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rheumetrics import joints as joint_catalogue
from rheumetrics.errors import Problem, ProblemCollector, ValidationError
from rheumetrics.imaging.reads import validate_reads
from rheumetrics.numeric import snap
from rheumetrics.schema import records as F
from rheumetrics.schema import validate as V
from rheumetrics.schema.fields import Field
from rheumetrics.schema.therapies import check_therapies
from rheumetrics.store import jointbits
from rheumetrics.store import redcap as rc
from rheumetrics.store.items import allowed_units, conversion_factor, items
from rheumetrics.store.mapping import FieldSpec, Mapping
from rheumetrics.store.models import DIAGNOSES

PATIENT_COLUMNS = ("diagnosis", "diagnosis_snomed", "sex", "birth_year", "rf", "acpa", "hla_b27")
#: Recorded joint counts and the joint set each one counts (joint sets of the joint catalogue).
COUNT_SETS = {c: s for s, c in joint_catalogue.COUNT_COLUMNS.items()}


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


class _Ctx:
    """Parsing context of one (sub)frame of the source."""

    def __init__(self, mapping: Mapping, raw: pd.DataFrame, rep: V.Reporter) -> None:
        self.m = mapping
        self.raw = raw
        self.rep = rep

    def column(self, spec: FieldSpec, key: str) -> tuple[pd.Series, str]:
        """Raw values of a field (constant, column, or code-translated column) and its name."""
        if spec.column is None:
            return pd.Series(
                [spec.constant] * len(self.raw), index=self.raw.index, dtype=object
            ), key
        if spec.column not in self.raw.columns:
            self.rep.file_problem(
                spec.column, None, f"column named by the mapping ({key}) is not in the file"
            )
            return pd.Series(
                [None] * len(self.raw), index=self.raw.index, dtype=object
            ), spec.column
        raw = self.raw[spec.column]
        if spec.values is not None:
            raw = V.apply_value_map(raw, spec.values, spec.column, self.rep)
        return raw, spec.column

    def field(
        self, specs: dict[str, FieldSpec], key: str, ftype: Field, default: Any = None
    ) -> pd.Series:
        spec = specs.get(key)
        if spec is None:
            if ftype.required:
                self.rep.file_problem(key, None, "required field is not mapped")
            return pd.Series([default] * len(self.raw), index=self.raw.index, dtype=object)
        raw, name = self.column(spec, key)
        return V.parse_field(raw, ftype, name, self.rep, spec.date_format or self.m.date_format)


def stage(mapping: Mapping, raw: pd.DataFrame, source: str) -> Staged:
    """Check ``raw`` against ``mapping`` and build the records to store."""
    prep = V.Reporter(source, raw.index)
    pctx = _Ctx(mapping, raw, prep)
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
        ctx = _Ctx(mapping, subsets["visit"], rep)
        if mapping.layout == "long":
            visits = _long_visits(ctx, pid)
        else:
            visits = _wide_visits(ctx, pid, subsets.get("event_kind"))
    if "therapy" in subsets:
        rep = V.Reporter(source, subsets["therapy"].index)
        reps.append(rep)
        therapies = _therapies(_Ctx(mapping, subsets["therapy"], rep), pid)
    if "imaging" in subsets:
        rep = V.Reporter(source, subsets["imaging"].index)
        reps.append(rep)
        imaging = _imaging(_Ctx(mapping, subsets["imaging"], rep), pid)
    patients = _assemble_patients(mapping, prows, pid, prep)
    problems = V.with_keys([p for r in reps for p in r.problems], _natural_keys(mapping, raw))
    bad = set().union(*(set(r.rows[r.bad]) for r in reps))
    keep = lambda df: df[~df["_row"].isin(bad)] if df is not None else None  # noqa: E731
    if visits is not None and mapping.layout == "long":
        visits = _pivot_long(visits, bad)
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


# -- patients -------------------------------------------------------------------------------


def _patient_rows(ctx: _Ctx) -> pd.DataFrame:
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


# -- visits -----------------------------------------------------------------------------------


def _visit_keys(ctx: _Ctx, pid: pd.Series, event_kind: pd.Series | None) -> pd.DataFrame:
    assert ctx.m.visit is not None
    spec = ctx.m.visit.get("date")
    if spec is not None and spec.offset_unit is not None:
        date = _offset_date(ctx, spec)
    else:
        date = ctx.field(ctx.m.visit, "date", F.VISIT_FIELDS["date"])
    kind = ctx.field(ctx.m.visit, "kind", F.VISIT_FIELDS["kind"], default="routine")
    if event_kind is not None:
        kind = event_kind.reindex(ctx.raw.index)
    label = ctx.field(ctx.m.visit, "label", F.VISIT_FIELDS["label"])
    return pd.DataFrame({"patient_key": pid.reindex(ctx.raw.index), "visit_date": date,
                         "kind": kind, "label": label, "_row": ctx.raw.index}, index=ctx.raw.index)  # fmt: skip


def _offset_date(ctx: _Ctx, spec: FieldSpec) -> pd.Series:
    raw, col = ctx.column(spec, "date")
    anchor = pd.Timestamp(spec.anchor)
    # the same future-date check as a date column: an offset may not reach past today
    today = pd.Timestamp(dt.date.today())
    if spec.offset_unit == "days":
        most = max(0, (today - anchor).days)
    else:
        most = max(0, (today.year - anchor.year) * 12 + today.month - anchor.month
                   - (today.day < anchor.day))  # fmt: skip
    rule = (f"must be a whole number of {spec.offset_unit} after {spec.anchor}, from 0 to {most} "
            "(the date may not be in the future)")  # fmt: skip
    n = V.check_range(
        V.parse_number(raw, col, ctx.rep, rule), raw, col, ctx.rep, 0, most, True, rule
    )
    out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[s]")
    if spec.offset_unit == "days":
        out[:] = anchor + pd.to_timedelta(n, unit="D")
    else:
        for k in n.dropna().unique():
            out[n == k] = anchor + pd.DateOffset(months=int(k))
    return out


def _item_values(ctx: _Ctx, name: str, spec: FieldSpec) -> tuple[pd.Series, pd.Series | None]:
    """Canonical values of one item and, for labs, the unit each arrived in."""
    item = items()[name]
    raw, col = ctx.column(spec, name)
    num = V.parse_number(raw, col, ctx.rep, item.rule)
    units: pd.Series | None = None
    if spec.unit_column is not None:
        if spec.unit_column not in ctx.raw.columns:
            ctx.rep.file_problem(
                spec.unit_column, None, "unit column named by the mapping is not in the file"
            )
            return num * np.nan, None
        units = ctx.raw[spec.unit_column].astype("string").str.strip()
        factors = units.map({u: conversion_factor(name, u) for u in allowed_units(name)})
        factor = pd.to_numeric(factors, errors="coerce")
        has_value = num.notna().to_numpy()
        no_unit = has_value & units.isna().to_numpy()
        wrong = has_value & ~no_unit & factor.isna().to_numpy()
        allowed = ", ".join(allowed_units(name))
        ctx.rep.flag(
            no_unit, spec.unit_column, units, f"{name} has a value but no unit; allowed: {allowed}"
        )
        ctx.rep.flag(
            wrong, spec.unit_column, units, f"unit not accepted for {name}; allowed: {allowed}"
        )
        num = num * factor
    elif spec.unit is not None:
        num = num * (conversion_factor(name, spec.unit) or np.nan)
        units = pd.Series(spec.unit, index=num.index).where(num.notna())
    conv = (
        ""
        if (spec.unit in (None, item.unit) and units is None)
        else " after conversion to " + item.unit
    )
    vals = V.check_range(
        num,
        raw,
        col,
        ctx.rep,
        item.min,
        item.max,
        item.integer,
        item.rule + conv,
        lo_inclusive=item.min_inclusive,
    )
    return pd.Series(snap(vals.to_numpy(dtype=float)), index=vals.index), units


def _joint_masks(ctx: _Ctx) -> dict[str, np.ndarray]:
    js = ctx.m.joints
    assert js is not None
    n = len(ctx.raw)
    out: dict[str, np.ndarray] = {}
    allowed = (
        "must be " + " or ".join([*js.true_values, *js.false_values]) + " or empty (not assessed)"
    )
    for state in ("tender", "swollen"):
        flags = np.zeros((n, jointbits.N_JOINTS), dtype=bool)
        assessed = np.zeros((n, jointbits.N_JOINTS), dtype=bool)
        cols = dict(js.columns.get(state, {}))
        if state in js.checkbox:
            found = rc.checkbox_columns(list(ctx.raw.columns), js.checkbox[state])
            for code, col in found.items():
                if code not in js.choices:
                    ctx.rep.file_problem(
                        col,
                        code,
                        "checkbox choice code has no joint id in [joints] choices (unknown joint)",
                    )
            cols = {js.choices[c]: col for c, col in found.items() if c in js.choices}
        if state in js.pattern:
            prefix, _, suffix = js.pattern[state].partition("{joint}")
            for col in ctx.raw.columns:
                jid = str(col)[len(prefix) : len(str(col)) - len(suffix) if suffix else None]
                if (
                    str(col).startswith(prefix)
                    and str(col).endswith(suffix)
                    and jid not in jointbits.BIT_OF
                ):
                    ctx.rep.file_problem(
                        str(col),
                        jid,
                        "unknown joint id in column name; joint ids are "
                        "{R|L}_{NAME} as in the joint catalogue, e.g. R_MCP2",
                    )
        for joint, col in cols.items():
            if col not in ctx.raw.columns:
                continue
            raw = ctx.raw[col]
            na = V.missing(raw)
            if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(
                raw.dtype
            ):
                v = raw.to_numpy(dtype=float)
                t = np.isin(v, [float(x) for x in js.true_values if _isnum(x)])
                f = np.isin(v, [float(x) for x in js.false_values if _isnum(x)])
            else:
                text = raw.astype("string").str.strip()
                t = text.isin(js.true_values).fillna(False).to_numpy(dtype=bool)
                f = text.isin(js.false_values).fillna(False).to_numpy(dtype=bool)
            ctx.rep.flag(~na & ~t & ~f, col, raw, allowed)
            i = jointbits.BIT_OF[joint]
            flags[:, i] = t
            assessed[:, i] = t | f
        out[state] = flags
        out[f"{state}_assessed"] = assessed
    return out


def _isnum(x: str) -> bool:
    try:
        float(x)
    except ValueError:
        return False
    return True


def _wide_visits(ctx: _Ctx, pid: pd.Series, event_kind: pd.Series | None) -> pd.DataFrame:
    df = _visit_keys(ctx, pid, event_kind)
    for name, spec in ctx.m.values.items():
        df[name], units = _item_values(ctx, name, spec)
        if items()[name].table == "lab":
            df[f"{name}_source_unit"] = units.astype(object) if units is not None else None
            df.loc[df[name].isna(), f"{name}_source_unit"] = None
    if ctx.m.joints is not None:
        masks = _joint_masks(ctx)
        _check_counts(ctx, df, masks)
        has = masks["tender_assessed"].any(axis=1) | masks["swollen_assessed"].any(axis=1)
        for key in jointbits.MASKS:
            df[key] = jointbits.pack(masks[key])
        df["has_exam"] = has
    _check_duplicate_visits(ctx, df)
    return df


def _check_counts(ctx: _Ctx, df: pd.DataFrame, masks: dict[str, np.ndarray]) -> None:
    """Recorded counts must equal the counts of the per-joint findings over the same set."""
    for col, set_name in COUNT_SETS.items():
        if col not in df.columns:
            continue
        state = "tender" if set_name.startswith("tender") else "swollen"
        derived = jointbits.count(
            masks[state], masks[f"{state}_assessed"], joint_catalogue.joint_set(set_name)
        )
        rec = df[col].to_numpy(dtype=float)
        bad = ~np.isnan(rec) & ~np.isnan(derived) & (rec != derived)
        src = ctx.m.values[col].column or col
        for i in np.flatnonzero(bad):
            ctx.rep.add(
                int(i),
                src,
                rec[i],
                f"{col} = {rec[i]:g} but the per-joint findings give "
                f"{derived[i]:g} over the {set_name} set",
            )


def _check_duplicate_visits(ctx: _Ctx, df: pd.DataFrame) -> None:
    keys = df[["patient_key", "visit_date"]]
    valid = keys.notna().all(axis=1).to_numpy()
    dup = valid & keys.duplicated(keep=False).to_numpy()
    if not dup.any():
        return
    rows = (
        df.loc[dup, "_row"].groupby([keys["patient_key"][dup], keys["visit_date"][dup]]).agg(list)
    )
    col = (ctx.m.visit or {}).get("date")
    field_name = col.column if col is not None and col.column else "visit date"
    for i in np.flatnonzero(dup):
        others = rows[(keys.iat[i, 0], keys.iat[i, 1])]
        ctx.rep.add(
            int(i),
            field_name,
            str(keys.iat[i, 1].date()),
            f"duplicate visit: patient {keys.iat[i, 0]} has this date in rows "
            + ", ".join(map(str, others)),
        )


def _long_visits(ctx: _Ctx, pid: pd.Series) -> pd.DataFrame:
    ls = ctx.m.long
    assert ls is not None
    df = _visit_keys(ctx, pid, None)
    for col in (ls.item, ls.value) + ((ls.unit,) if ls.unit else ()):
        if col not in ctx.raw.columns:
            ctx.rep.file_problem(col, None, "column named in [long] is not in the file")
            return df.iloc[:0]
    code = ctx.raw[ls.item].astype("string").str.strip()
    item = code.map(ls.items)
    ignored = code.isin(ls.ignore).fillna(False).to_numpy(dtype=bool)
    unknown = ~V.missing(ctx.raw[ls.item]) & ~ignored & item.isna().to_numpy()
    ctx.rep.flag(
        unknown,
        ls.item,
        code,
        "item code not in [long] items (nor in ignore): " + ", ".join(ls.items),
    )
    ctx.rep.flag(V.missing(ctx.raw[ls.item]), ls.item, code, "required; the item this row measures")
    df["item"] = item
    df["value"] = np.nan
    df["unit"] = None
    for name in dict.fromkeys(ls.items.values()):
        rows = (item == name).fillna(False).to_numpy(dtype=bool)
        if not rows.any():
            continue
        spec = FieldSpec(column=ls.value, unit_column=ls.unit)
        sub = _Ctx(ctx.m, ctx.raw[rows], V.Reporter(ctx.rep.source, ctx.raw.index[rows]))
        vals, units = _item_values(sub, name, spec)
        ctx.rep.problems += sub.rep.problems
        ctx.rep.bad[rows] |= sub.rep.bad
        df.loc[rows, "value"] = vals.to_numpy()
        if units is not None:
            df.loc[rows, "unit"] = units.astype(object).to_numpy()
    keep = ~ignored
    key = df[["patient_key", "visit_date", "item"]]
    dup = keep & key.notna().all(axis=1).to_numpy() & key.duplicated(keep=False).to_numpy()
    ctx.rep.flag(dup, ls.item, code, "the same item is given twice for one patient and date")
    for col in ("kind", "label"):
        vis = df.loc[keep, ["patient_key", "visit_date", col]].dropna()
        n = vis.astype(str).groupby(["patient_key", "visit_date"])[col].nunique()
        conflicted = set(n.index[n > 1])
        if conflicted:
            mask = keep & np.array(
                [
                    (k, d) in conflicted
                    for k, d in zip(df["patient_key"], df["visit_date"], strict=True)
                ]
            )
            ctx.rep.flag(mask, col, df[col], f"visit {col} differs between rows of the same visit")
    return df[keep]


def _pivot_long(df: pd.DataFrame, bad: set[Any]) -> pd.DataFrame:
    good = df[~df["_row"].isin(bad)]
    keys = ["patient_key", "visit_date"]
    visits = good.groupby(keys, sort=False).agg(kind=("kind", "first"), label=("label", "first"),
                                                _row=("_row", "first"))  # fmt: skip
    values = good.pivot(index=keys, columns="item", values="value")
    units = good.pivot(index=keys, columns="item", values="unit")
    out = visits.join(values)
    for name in values.columns:
        if items()[name].table == "lab":
            out[f"{name}_source_unit"] = units[name].astype(object).where(out[name].notna(), None)
    out["kind"] = out["kind"].fillna("routine")
    return out.reset_index()


# -- therapies and imaging reads -------------------------------------------------------------


def _records(ctx: _Ctx, pid: pd.Series, specs: dict[str, FieldSpec], known: dict[str, Field],
             defaults: dict[str, Any]) -> pd.DataFrame:  # fmt: skip
    df = pd.DataFrame(
        {"patient_key": pid.reindex(ctx.raw.index), "_row": ctx.raw.index}, index=ctx.raw.index
    )
    for key, ftype in known.items():
        df[key] = ctx.field(specs, key, ftype, default=defaults.get(key))
    return df


def _flag_duplicates(ctx: _Ctx, df: pd.DataFrame, keys: list[str], what: str) -> None:
    sub = df[keys]
    dup = sub.notna().all(axis=1).to_numpy() & sub.duplicated(keep=False).to_numpy()
    ctx.rep.flag(
        dup, keys[1], df[keys[1]], f"duplicate {what}: the same {', '.join(keys)} appears twice"
    )


def _therapies(ctx: _Ctx, pid: pd.Series) -> pd.DataFrame:
    assert ctx.m.therapy is not None
    df = _records(ctx, pid, ctx.m.therapy, F.THERAPY_FIELDS, {})
    stop_before = (df["stop_date"] < df["start_date"]).fillna(False).to_numpy(dtype=bool)
    col = ctx.m.therapy.get("stop_date")
    ctx.rep.flag(
        stop_before,
        (col.column if col else None) or "stop_date",
        df["stop_date"].astype(str),
        "stop date is before the start date",
    )
    _flag_duplicates(ctx, df, ["patient_key", "drug", "start_date"], "therapy")
    _check_drugs(ctx, df)
    return df


def _check_drugs(ctx: _Ctx, df: pd.DataFrame) -> None:
    """Drug, class, route, dose unit and dose of each therapy not yet flagged against the drug
    catalogue, with the treat-to-target engine's own check, so that the store keeps only
    therapies the engine can use."""
    assert ctx.m.therapy is not None
    positions = np.flatnonzero(~ctx.rep.bad & df["drug"].notna().to_numpy())
    if not len(positions):
        return
    rows = df.iloc[positions].reset_index(drop=True)
    dose = rows["dose"].to_numpy(dtype=float, na_value=np.nan)
    pc = ProblemCollector()
    check_therapies(rows, dose, np.full(len(rows), np.nan), pc, ctx.rep.source)
    for problem in pc.problems:
        spec = ctx.m.therapy.get(problem.field)
        column = (spec.column if spec else None) or problem.field
        ctx.rep.add(int(positions[problem.record]), column, problem.value, problem.rule)


def _imaging(ctx: _Ctx, pid: pd.Series) -> pd.DataFrame:
    assert ctx.m.imaging is not None
    df = _records(
        ctx,
        pid,
        ctx.m.imaging,
        F.IMAGING_FIELDS,
        F.IMAGING_DEFAULTS,
    )
    df["not_assessable"] = df["not_assessable"].astype("boolean").fillna(False)
    na_grade = df["grade"].isna().to_numpy()
    flagged = df["not_assessable"].to_numpy(dtype=bool)
    gcol = ctx.m.imaging["grade"].column if "grade" in ctx.m.imaging else "grade"
    ctx.rep.flag(
        na_grade & ~flagged & ~ctx.rep.bad,
        gcol or "grade",
        None,
        "grade is missing; give a grade or mark the site not assessable",
    )
    ctx.rep.flag(
        ~na_grade & flagged,
        gcol or "grade",
        df["grade"],
        "a not-assessable site must have no grade",
    )
    keys = ["patient_key", *F.IMAGING_READ_KEY[1:]]
    _flag_duplicates(ctx, df, keys, "imaging read")
    _check_catalogue(ctx, df)
    return df


def _check_catalogue(ctx: _Ctx, df: pd.DataFrame) -> None:
    """Systems, versions, sites, features, sides, per-site scales and designs of the reads against
    the imaging catalogue (:func:`rheumetrics.imaging.validate_reads`), on rows not yet flagged."""
    positions = np.flatnonzero(~ctx.rep.bad)
    if not len(positions):
        return
    reads = df.iloc[positions].rename(columns={"patient_key": "patient_id"}).reset_index(drop=True)
    try:
        validate_reads(reads)
    except ValidationError as err:
        for problem in err.problems:
            if isinstance(problem.record, (int, np.integer)):
                ctx.rep.add(
                    int(positions[problem.record]),
                    problem.field,
                    problem.value,
                    problem.rule,
                )


# -- REDCap ---------------------------------------------------------------------------------


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
