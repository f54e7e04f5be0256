"""Visits of a source file in store shape: items in canonical units and per-joint findings.

Wide files give one row per visit; long files one row per value, pivoted to one row per visit.
Every problem names its line, column, value and rule.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from rheumetrics import joints as joint_catalogue
from rheumetrics.numeric import snap
from rheumetrics.schema import records as F
from rheumetrics.schema import validate as V
from rheumetrics.store import jointbits
from rheumetrics.store import redcap as rc
from rheumetrics.store.items import allowed_units, conversion_factor, items
from rheumetrics.store.mapping import FieldSpec
from rheumetrics.store.source_frame import SourceFrame

#: Recorded joint counts and the joint set each one counts (joint sets of the joint catalogue).
COUNT_SETS = {c: s for s, c in joint_catalogue.COUNT_COLUMNS.items()}


def _visit_keys(ctx: SourceFrame, pid: pd.Series, event_kind: pd.Series | None) -> pd.DataFrame:
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


def _offset_date(ctx: SourceFrame, spec: FieldSpec) -> pd.Series:
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


def _item_values(
    ctx: SourceFrame, name: str, spec: FieldSpec
) -> tuple[pd.Series, pd.Series | None]:
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


def _joint_masks(ctx: SourceFrame) -> dict[str, np.ndarray]:
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


def wide_visits(ctx: SourceFrame, pid: pd.Series, event_kind: pd.Series | None) -> pd.DataFrame:
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


def _check_counts(ctx: SourceFrame, df: pd.DataFrame, masks: dict[str, np.ndarray]) -> None:
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


def _check_duplicate_visits(ctx: SourceFrame, df: pd.DataFrame) -> None:
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


def long_visits(ctx: SourceFrame, pid: pd.Series) -> pd.DataFrame:
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
        sub = SourceFrame(ctx.m, ctx.raw[rows], V.Reporter(ctx.rep.source, ctx.raw.index[rows]))
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


def pivot_long(df: pd.DataFrame, bad: set[Any]) -> pd.DataFrame:
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
