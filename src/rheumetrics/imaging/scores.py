"""Feature totals, subsets, derived totals and multi-reader means from per-site reads.

Every score row carries the site set it covers: ``subset`` (a named set of regions), ``sides`` scored
(``L``, ``R``, ``L+R`` or ``M``), the number of sites scored, the maximum possible score over the
sites actually scored, and the nominal size and maximum of the site set (the published ranges, e.g.
RAMRIS synovitis 0-21 for one wrist + MCP2-5, hold only for the full site set: Østergaard et al.,
J Rheumatol 2003;30:1385).
Not-assessable sites add nothing to the score or the maximum and are counted separately; no
imputation is made.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from rheumetrics.imaging import catalogue
from rheumetrics.imaging._codes import group_codes
from rheumetrics.imaging.reads import READ_KEYS, ValidatedReads, ensure_valid

#: Columns that identify a score row (a frame holds those it needs).
ID_COLUMNS = (
    "patient_id",
    "timepoint",
    "reader",
    "session",
    "side",
    "system",
    "version",
    "feature",
    "subset",
)
#: Per-subset arrays gathered by :func:`score_reads` (group rows, subset code, values, side bits).
_PART_COLUMNS = (
    "_row",
    "subset",
    "score",
    "max_possible",
    "n_sites_scored",
    "n_not_assessable",
    "n_sites_in_set",
    "set_max",
    "_bits",
)
#: Value columns of a score row.
VALUE_COLUMNS = (
    "score",
    "max_possible",
    "n_sites_scored",
    "n_not_assessable",
    "n_sites_in_set",
    "set_max",
)
_SIDE_BITS = {"L": 1, "R": 2, "M": 4}
_SIDE_TEXT = np.array(["", "L", "R", "L+R", "M", "L+M", "R+M", "L+R+M"], dtype=object)


@cache
def _subset_table() -> tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Subset names and, per catalogue row, its system, region and feature ids; nominal sizes.

    Returns ``(names, system_region_member[system_id, region_id, j], row_codes[3, row],
    nominal_n[feature_id, j], nominal_max[feature_id, j])`` where ``row_codes`` holds each catalogue
    row's system id, region id and feature (system|version|feature) id.
    """
    cat = catalogue._sites()
    specs = catalogue.systems()
    names = tuple(sorted({s for spec in specs.values() for s in spec.subsets}))
    system_id, system_names = pd.factorize(cat["system"], sort=False)
    region_id, region_names = pd.factorize(cat["region"], sort=False)
    feature_id, uniques = pd.factorize(
        cat["system"] + "|" + cat["version"] + "|" + cat["feature"], sort=False
    )
    member = np.zeros((len(system_names), len(region_names), len(names)), dtype=bool)
    for s_i, system in enumerate(system_names):
        for j, name in enumerate(names):
            regions = specs[system].subsets.get(name, ())
            member[s_i, :, j] = np.isin(region_names, list(regions))
    row_member = member[system_id, region_id]  # (row, subset)
    nominal_n = np.zeros((len(uniques), len(names)))
    nominal_max = np.zeros((len(uniques), len(names)))
    smax = cat["scale_max"].to_numpy()
    for j in range(len(names)):
        nominal_n[:, j] = np.bincount(feature_id, weights=row_member[:, j], minlength=len(uniques))
        nominal_max[:, j] = np.bincount(
            feature_id, weights=row_member[:, j] * smax, minlength=len(uniques)
        )
    codes = np.vstack([system_id, region_id, feature_id])
    return names, member, codes, nominal_n, nominal_max


def _dense(code: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Ranks ``0..G-1`` of the distinct values of ``code`` (in ``[0, size)``) and each one's first row."""
    n = len(code)
    if size <= 2**25:
        seen = np.bincount(code, minlength=size) > 0
        dense = (np.cumsum(seen) - 1)[code]
        n_groups = int(seen.sum())
    else:
        uniq, dense = np.unique(code, return_inverse=True)
        n_groups = len(uniq)
    first = np.empty(n_groups, dtype=np.int64)
    first[dense[::-1]] = np.arange(n - 1, -1, -1)
    return dense.astype(np.int64), first


def score_reads(
    reads: pd.DataFrame | ValidatedReads,
    *,
    by_side: bool = False,
    derived: bool = True,
) -> pd.DataFrame:
    """Totals of every feature over every named subset, per read.

    Parameters
    ----------
    reads : DataFrame or ValidatedReads
        Read records (validated here when given raw, see :func:`validate_reads`).
    by_side : bool
        Score each side separately (one row per side) instead of over the sides read together.
    derived : bool
        Add the derived totals of ``totals.toml`` (SvdH total, SPARCC inflammation, combined MRI
        inflammation, weighted inflammation...), each only when all its components were read.

    Returns
    -------
    DataFrame
        One row per read x feature x subset with ``patient_id, timepoint, reader, session,
        [side,] system, version, feature, subset, score, max_possible, n_sites_scored,
        n_not_assessable, n_sites_in_set, set_max, sides, design``.

    Notes
    -----
    Grades are summed once per read, feature and region (one pass over the records); a subset's
    total is then the sum over its regions, so the cost does not grow with the number of subsets.
    """
    valid = ensure_valid(reads)
    df, row = valid.frame, valid.catalogue_row
    names, member, codes, nominal_n, nominal_max = _subset_table()
    if valid.read_id is None or valid.read_first is None:
        read_id, read_first = group_codes(df, list(READ_KEYS))
    else:
        read_id, read_first = valid.read_id, valid.read_first
    n_reads = len(read_first)
    side_code = df["side"].cat.codes.to_numpy().astype(np.int64)  # L, R, M
    feature_code = df["feature"].cat.codes.to_numpy().astype(np.int64)
    n_feature_codes = len(df["feature"].cat.categories)
    # groups in the order of (read keys, [side,] feature), as group_codes would number them
    unit = read_id * 3 + side_code if by_side else read_id
    group, first = _dense(
        unit * n_feature_codes + feature_code,
        (n_reads * 3 if by_side else n_reads) * n_feature_codes,
    )
    n_groups = len(first)
    keys = [*READ_KEYS, *(["side"] if by_side else []), "feature"]

    # one pass over the records: sums per group x region
    region_of_row = codes[1]
    present_regions = np.flatnonzero(np.bincount(region_of_row[row], minlength=member.shape[1]))
    region_local = np.full(member.shape[1], -1, dtype=np.int64)
    region_local[present_regions] = np.arange(len(present_regions))
    n_reg = len(present_regions)
    cell = group * n_reg + region_local[region_of_row[row]]
    size = n_groups * n_reg
    grade = df["grade"].to_numpy()
    scored = ~np.isnan(grade)
    count = np.bincount(cell, minlength=size).reshape(n_groups, n_reg)
    n_scored = np.bincount(cell, weights=scored, minlength=size).reshape(n_groups, n_reg)
    points = np.bincount(cell[scored], weights=grade[scored], minlength=size).reshape(
        n_groups, n_reg
    )
    smax = catalogue._sites()["scale_max"].to_numpy()
    maxima = np.bincount(cell[scored], weights=smax[row[scored]], minlength=size).reshape(
        n_groups, n_reg
    )
    side_seen = (np.bincount(cell * 3 + side_code, minlength=size * 3) > 0).reshape(
        n_groups, n_reg, 3
    )

    group_row = row[first]
    group_system = codes[0][group_row]
    group_feature = codes[2][group_row]
    key_rows = df[keys].iloc[first].reset_index(drop=True)
    design = _labels(df["design"])[first]
    group_read = read_id[first]

    # every subset's rows gathered as index arrays, then the key columns taken once
    parts: dict[str, list[np.ndarray]] = {c: [] for c in _PART_COLUMNS}
    for j in range(len(names)):
        in_subset = member[group_system][:, present_regions, j]  # (group, region)
        if not in_subset.any():
            continue
        cnt = (count * in_subset).sum(axis=1)
        present = np.flatnonzero(cnt > 0)
        if not len(present):
            continue
        seen = (side_seen & in_subset[:, :, None]).any(axis=1)  # (group, side)
        bits = seen[:, 0] * 1 + seen[:, 1] * 2 + seen[:, 2] * 4
        n_sides = seen.sum(axis=1)
        n_sc = (n_scored * in_subset).sum(axis=1)
        parts["_row"].append(present)
        parts["subset"].append(np.full(len(present), j, dtype=np.int8))
        parts["score"].append((points * in_subset).sum(axis=1)[present])
        parts["max_possible"].append((maxima * in_subset).sum(axis=1)[present])
        parts["n_sites_scored"].append(n_sc[present].astype(np.int64))
        parts["n_not_assessable"].append((cnt - n_sc)[present].astype(np.int64))
        parts["n_sites_in_set"].append(
            (nominal_n[group_feature, j] * n_sides)[present].astype(np.int64)
        )
        parts["set_max"].append((nominal_max[group_feature, j] * n_sides)[present])
        parts["_bits"].append(bits[present].astype(np.int64))
    columns = [*ID_COLUMNS[:4], *(["side"] if by_side else []), *ID_COLUMNS[5:], *VALUE_COLUMNS]
    columns += ["_bits", "design"]
    if not parts["_row"]:
        return pd.DataFrame(columns=[c for c in columns if c != "_bits"] + ["sides"])
    rows = np.concatenate(parts["_row"])
    features = key_rows.iloc[rows].reset_index(drop=True)
    features["subset"] = pd.Categorical.from_codes(
        np.concatenate(parts["subset"]), categories=names
    )
    for col in _PART_COLUMNS[2:]:
        features[col] = np.concatenate(parts[col])
    features["design"] = design[rows]
    features["_read"] = group_read[rows]
    frames = [features[columns]]
    if derived:
        visit_id, _ = group_codes(
            df.iloc[read_first], ["patient_id", "timepoint", "reader", "session"]
        )
        frames += _derived_totals(features, by_side, visit_id)
    labels = ("system", "version", "feature", "subset")
    merged = {
        col: union_categoricals(
            [pd.Categorical(f[col]) for f in frames], sort_categories=True, ignore_order=True
        )
        for col in labels
    }
    out = pd.concat([f.drop(columns=list(labels)) for f in frames], ignore_index=True)
    for col in labels:
        out[col] = merged[col]
    out["sides"] = _SIDE_TEXT[out.pop("_bits").to_numpy()]
    out = out[[c for c in columns if c != "_bits"] + ["sides"]]
    out.attrs["conventions"] = {
        "score": "sum of grades over the sites scored",
        "max_possible": "sum of the per-site maxima over the sites scored",
        "not_assessable": "excluded from score and max_possible, counted in n_not_assessable; no imputation",
        "set_max": "nominal maximum of the subset over the sides scored",
        "by_side": by_side,
        "derived_totals": {t.id: t.source for t in catalogue.totals().values()} if derived else {},
    }
    return out


def _derived_totals(
    features: pd.DataFrame, by_side: bool, visit_of_read: np.ndarray
) -> list[pd.DataFrame]:
    """Weighted sums of feature totals of one read (``totals.toml``), when all components exist.

    A total of one system combines rows of the same read; a total across systems combines the reads
    of one patient, time point, reader and session. Rows are matched on dense integer cells, in the
    order of the first component's rows.
    """
    subset = features["subset"].cat.codes.to_numpy().astype(np.int64)
    n_subsets = len(features["subset"].cat.categories)
    side = features["side"].cat.codes.to_numpy().astype(np.int64) if by_side else 0
    n_side = 3 if by_side else 1
    read = features["_read"].to_numpy()
    system = features["system"].cat
    feature = features["feature"].cat
    out = []
    for total in catalogue.totals().values():
        single_system = len({c.system for c in total.components}) == 1
        unit = read if single_system else visit_of_read[read]
        n_units = len(visit_of_read) if single_system else int(visit_of_read.max()) + 1
        cell = (unit * n_side + side) * n_subsets + subset
        size = n_units * n_side * n_subsets
        rows: list[np.ndarray] = []
        for comp in total.components:
            if comp.system not in system.categories or comp.feature not in feature.categories:
                break
            sel = np.flatnonzero(
                (system.codes.to_numpy() == system.categories.get_loc(comp.system))
                & (feature.codes.to_numpy() == feature.categories.get_loc(comp.feature))
            )
            if not len(sel):
                break
            rows.append(sel)
        if len(rows) < len(total.components):
            continue
        if any(np.bincount(cell[sel], minlength=size).max() > 1 for sel in rows):
            # a component read twice (e.g. two versions in one visit): pair them by joins
            out += _merged_total(features, total, by_side)
            continue
        at = []
        have = np.ones(size, dtype=bool)
        for sel in rows:
            index = np.full(size, -1, dtype=np.int64)
            index[cell[sel]] = sel
            have &= index >= 0
            at.append(index)
        cells = np.flatnonzero(have)
        if not single_system:  # components of one system come from one read (one version)
            version = features["version"].cat.codes.to_numpy()
            first: dict[str, int] = {}
            for i, comp in enumerate(total.components):
                j = first.setdefault(comp.system, i)
                if j != i:
                    cells = cells[version[at[i][cells]] == version[at[j][cells]]]
        cells = cells[np.argsort(at[0][cells], kind="stable")]
        if not len(cells):
            continue
        idx = [a[cells] for a in at]
        on = [
            "patient_id",
            "timepoint",
            "reader",
            "session",
            *(["side"] if by_side else []),
            "subset",
        ]
        result = features[on].iloc[idx[0]].reset_index(drop=True)
        result["system"] = pd.Categorical.from_codes(
            np.zeros(len(cells), dtype=np.int8), categories=[total.system]
        )
        if single_system:
            result["version"] = features["version"].array.take(idx[0])
        else:
            seen: dict[str, int] = {}
            for i, comp in enumerate(total.components):
                seen.setdefault(comp.system, i)
            version = (
                features["version"].iloc[idx[next(iter(seen.values()))]].astype(str).to_numpy()
            )
            for i in list(seen.values())[1:]:
                version = version + "+" + features["version"].iloc[idx[i]].astype(str).to_numpy()
            result["version"] = pd.Categorical(version)
        result["feature"] = pd.Categorical.from_codes(
            np.zeros(len(cells), dtype=np.int8), categories=[total.feature]
        )
        for col in VALUE_COLUMNS:
            result[col] = sum(
                features[col].to_numpy()[ix] * (comp.weight if col in _WEIGHTED else 1)
                for ix, comp in zip(idx, total.components, strict=True)
            )
        bits = features["_bits"].to_numpy()[idx[0]]
        for ix in idx[1:]:
            bits = bits | features["_bits"].to_numpy()[ix]
        result["_bits"] = bits
        result["design"] = features["design"].to_numpy()[idx[0]]
        out.append(result)
    return out


def _labels(values: pd.Series) -> np.ndarray:
    """The labels of a categorical column as an object array (without converting every row)."""
    codes = values.cat.codes.to_numpy()
    labels = np.empty(len(values.cat.categories) + 1, dtype=object)  # last: missing (code -1)
    labels[:-1] = values.cat.categories.to_numpy(dtype=object)
    return labels[codes]


#: Value columns scaled by a component's weight in a derived total.
_WEIGHTED = frozenset({"score", "max_possible", "set_max"})


def _merged_total(
    features: pd.DataFrame, total: catalogue.Total, by_side: bool
) -> list[pd.DataFrame]:
    """One derived total by joins on the key columns (when a component occurs twice per cell,
    e.g. two versions of one system read in one visit: each version pairs with the other systems)."""
    read_cols = [
        "patient_id",
        "timepoint",
        "reader",
        "session",
        *(["side"] if by_side else []),
        "subset",
    ]
    single_system = len({c.system for c in total.components}) == 1
    on = read_cols + (["version"] if single_system else [])
    merged: pd.DataFrame | None = None
    for i, comp in enumerate(total.components):
        sel = features[(features["system"] == comp.system) & (features["feature"] == comp.feature)]
        part = sel[
            [*on, *([] if single_system else ["version"]), *VALUE_COLUMNS, "_bits", "design"]
        ]
        part = part.rename(columns={c: f"{c}_{i}" for c in part.columns if c not in on})
        for col in _WEIGHTED:
            part[f"{col}_{i}"] = part[f"{col}_{i}"] * comp.weight
        merged = part if merged is None else merged.merge(part, on=on, how="inner")
    if merged is None or merged.empty:
        return []
    if not single_system:  # components of one system come from one read (one version)
        first: dict[str, int] = {}
        for i, comp in enumerate(total.components):
            j = first.setdefault(comp.system, i)
            if j != i:
                merged = merged[merged[f"version_{i}"] == merged[f"version_{j}"]]
        if merged.empty:
            return []
    idx = range(len(total.components))
    result = merged[on].copy()
    result["system"] = total.system
    if not single_system:
        seen: dict[str, int] = {}
        for i, comp in enumerate(total.components):
            seen.setdefault(comp.system, i)
        version = merged[f"version_{next(iter(seen.values()))}"].astype(str)
        for i in list(seen.values())[1:]:
            version = version + "+" + merged[f"version_{i}"].astype(str)
        result["version"] = version
    result["feature"] = total.feature
    for col in VALUE_COLUMNS:
        result[col] = sum(merged[f"{col}_{i}"] for i in idx)
    bits = merged["_bits_0"]
    for i in list(idx)[1:]:
        bits = bits | merged[f"_bits_{i}"]
    result["_bits"] = bits
    result["design"] = merged["design_0"]
    return [result]


def reader_mean(frame: pd.DataFrame, *, over: str = "reader") -> pd.DataFrame:
    """Mean over readers (or sessions) of score or change rows with otherwise equal keys.

    Scores (``score``, ``baseline``, ``followup``, ``change``) are averaged, so results are real
    numbers. ``n_readers`` counts the rows averaged; ``max_possible`` and
    ``set_max`` are the largest and ``n_sites_scored`` the smallest over readers, and
    ``sites_differ`` flags readers who scored different numbers of sites.
    """
    keys = [c for c in ID_COLUMNS if c in frame.columns and c != over]
    keys += [c for c in ("baseline_timepoint", "followup_timepoint") if c in frame.columns]
    means = [c for c in ("score", "baseline", "followup", "change") if c in frame.columns]
    agg: dict[str, tuple[str, str]] = {c: (c, "mean") for c in means}
    agg["n_readers"] = (means[0], "size")
    for col, how in (("max_possible", "max"), ("set_max", "max"), ("n_sites_in_set", "max")):
        if col in frame.columns:
            agg[col] = (col, how)
    if "n_sites_scored" in frame.columns:
        agg["n_sites_scored"] = ("n_sites_scored", "min")
        agg["_n_sites_max"] = ("n_sites_scored", "max")
    for col in ("sides", "design"):
        if col in frame.columns:
            agg[col] = (col, "first")
    if "sites_differ" in frame.columns:
        agg["_sites_differ_any"] = ("sites_differ", "max")
    out = frame.groupby(keys, observed=True, sort=False, dropna=False).agg(**agg).reset_index()
    differ = np.zeros(len(out), dtype=bool)
    if "_n_sites_max" in out.columns:
        differ |= (out.pop("_n_sites_max") != out["n_sites_scored"]).to_numpy()
    if "_sites_differ_any" in out.columns:
        differ |= out.pop("_sites_differ_any").astype(bool).to_numpy()
    out["sites_differ"] = differ
    out.attrs["conventions"] = {
        **frame.attrs.get("conventions", {}),
        "reader_mean": f"arithmetic mean over '{over}'",
    }
    return out
