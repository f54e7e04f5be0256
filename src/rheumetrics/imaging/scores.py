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
    """Subset names; per catalogue row membership; per catalogue row its feature's nominal sizes.

    Returns ``(names, member[row, j], feature_id[row], nominal_n[feature_id, j],
    nominal_max[feature_id, j])``.
    """
    cat = catalogue._sites()
    specs = catalogue.systems()
    names = tuple(sorted({s for spec in specs.values() for s in spec.subsets}))
    member = np.zeros((len(cat), len(names)), dtype=bool)
    regions = cat["region"].to_numpy()
    for j, name in enumerate(names):
        for system, spec in specs.items():
            if name in spec.subsets:
                member[:, j] |= (cat["system"].to_numpy() == system) & np.isin(
                    regions, spec.subsets[name]
                )
    feature_id, uniques = pd.factorize(
        cat["system"] + "|" + cat["version"] + "|" + cat["feature"], sort=False
    )
    nominal_n = np.zeros((len(uniques), len(names)))
    nominal_max = np.zeros((len(uniques), len(names)))
    smax = cat["scale_max"].to_numpy()
    for j in range(len(names)):
        nominal_n[:, j] = np.bincount(feature_id, weights=member[:, j], minlength=len(uniques))
        nominal_max[:, j] = np.bincount(
            feature_id, weights=member[:, j] * smax, minlength=len(uniques)
        )
    return names, member, feature_id, nominal_n, nominal_max


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
    """
    valid = ensure_valid(reads)
    df, row = valid.frame, valid.catalogue_row
    keys = [*READ_KEYS, *(["side"] if by_side else []), "feature"]
    group, first = group_codes(df, keys)
    n_groups = len(first)
    names, member, feature_id, nominal_n, nominal_max = _subset_table()

    grade = df["grade"].to_numpy()
    scored = ~np.isnan(grade)
    points = np.where(scored, grade, 0.0)
    maxima = np.where(scored, catalogue._sites()["scale_max"].to_numpy()[row], 0.0)
    side_bits = df["side"].map(_SIDE_BITS).astype(int).to_numpy()
    group_feature = feature_id[row[first]]
    key_rows = df[keys].iloc[first].reset_index(drop=True)
    design = df["design"].iloc[first].reset_index(drop=True)

    parts = []
    for j in range(len(names)):
        m = member[row, j]
        if not m.any():
            continue
        g = group[m]
        count = np.bincount(g, minlength=n_groups)
        present = np.flatnonzero(count > 0)
        bits = np.zeros(n_groups, dtype=np.int64)
        for bit in (1, 2, 4):
            bits |= np.where(
                np.bincount(g, weights=side_bits[m] == bit, minlength=n_groups) > 0, bit, 0
            )
        n_sides = np.where(bits & 1, 1, 0) + np.where(bits & 2, 1, 0) + np.where(bits & 4, 1, 0)
        n_scored = np.bincount(g, weights=scored[m], minlength=n_groups)
        part = key_rows.iloc[present].assign(
            subset=pd.Categorical.from_codes(np.full(len(present), j), categories=names),
            score=np.bincount(g, weights=points[m], minlength=n_groups)[present],
            max_possible=np.bincount(g, weights=maxima[m], minlength=n_groups)[present],
            n_sites_scored=n_scored[present].astype(np.int64),
            n_not_assessable=(count - n_scored)[present].astype(np.int64),
            n_sites_in_set=(nominal_n[group_feature, j] * n_sides)[present].astype(np.int64),
            set_max=(nominal_max[group_feature, j] * n_sides)[present],
            _bits=bits[present],
            design=design.iloc[present].to_numpy(),
        )
        parts.append(part)
    columns = [*ID_COLUMNS[:4], *(["side"] if by_side else []), *ID_COLUMNS[5:], *VALUE_COLUMNS]
    columns += ["_bits", "design"]
    if not parts:
        return pd.DataFrame(columns=[c for c in columns if c != "_bits"] + ["sides"])
    features = pd.concat(parts, ignore_index=True)[columns]
    frames = [features]
    if derived:
        frames += _derived_totals(features, by_side)
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else features
    for col in ("system", "version", "feature", "subset"):
        out[col] = out[col].astype("category")
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


def _derived_totals(features: pd.DataFrame, by_side: bool) -> list[pd.DataFrame]:
    """Weighted sums of feature totals of one read (``totals.toml``), when all components exist."""
    read_cols = [
        "patient_id",
        "timepoint",
        "reader",
        "session",
        *(["side"] if by_side else []),
        "subset",
    ]
    out = []
    for total in catalogue.totals().values():
        single_system = len({c.system for c in total.components}) == 1
        on = read_cols + (["version"] if single_system else [])
        merged: pd.DataFrame | None = None
        for i, comp in enumerate(total.components):
            sel = features[
                (features["system"] == comp.system) & (features["feature"] == comp.feature)
            ]
            if sel.empty:
                merged = None
                break
            part = sel[
                [*on, *([] if single_system else ["version"]), *VALUE_COLUMNS, "_bits", "design"]
            ]
            part = part.rename(columns={c: f"{c}_{i}" for c in part.columns if c not in on})
            for col in ("score", "max_possible", "set_max"):
                part[f"{col}_{i}"] = part[f"{col}_{i}"] * comp.weight
            merged = part if merged is None else merged.merge(part, on=on, how="inner")
        if merged is None or merged.empty:
            continue
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
        out.append(result)
    return out


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
