"""Read records: one grade of one site by one reader, validated once at the boundary.

A read record (one per site, feature and reader, as the OMERACT RAMRIS scoring sheets are laid out:
Østergaard et al., J Rheumatol 2017;44:1706) has the columns

=================  ========  ==============================================================
column             required  meaning
=================  ========  ==============================================================
patient_id         yes       patient
timepoint          yes       time point label (e.g. ``"baseline"``, ``"week12"``)
system             yes       scoring system id (``rheumetrics.imaging.systems()``)
version            yes       system version (e.g. RAMRIS ``"2002"`` or ``"2016"``)
reader             yes       reader id
site               yes       site id from the catalogue (``rheumetrics.imaging.sites()``)
feature            yes       feature (``synovitis``, ``osteitis``, ``erosion``, ``jsn`` ...)
grade              yes       grade on the site's scale; blank only when not assessable
side               per site  ``L`` or ``R`` for sites scored per side; blank or ``M`` for midline
modality           no        ``MRI`` or ``XR``; must match the system when given
session            no        reading session (default ``"1"``), for repeated reads by one reader
design             no        reading design: one of :data:`DESIGNS` (default ``"unspecified"``)
not_assessable     no        true when the site could not be scored (default false)
=================  ========  ==============================================================

A *read* is everything one reader scored for one patient at one time point in one session with one
system and version.
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from rheumetrics.errors import ProblemCollector, RheumetricsError
from rheumetrics.imaging import catalogue
from rheumetrics.imaging._codes import as_labels, group_codes
from rheumetrics.io import read_table
from rheumetrics.numeric import snap

REQUIRED_COLUMNS = (
    "patient_id",
    "timepoint",
    "system",
    "version",
    "reader",
    "site",
    "feature",
    "grade",
)
#: Optional columns and the value used when the column is absent.
OPTIONAL_COLUMNS: dict[str, object] = {
    "side": None,
    "modality": None,
    "session": "1",
    "design": "unspecified",
    "not_assessable": False,
}
#: Columns identifying one read.
READ_KEYS = ("patient_id", "timepoint", "system", "version", "reader", "session")
#: Reading designs (the smallest detectable change depends on the design: Bruynesteyn et al.,
#: Ann Rheum Dis 2005;64:179, doi:10.1136/ard.2003.018457).
DESIGNS = ("paired_known_order", "paired_blinded_order", "unpaired", "unspecified")

_TRUE = frozenset({"true", "yes", "1", "y", "t"})
_FALSE = frozenset({"false", "no", "0", "n", "f", ""})


@dataclass(frozen=True)
class ValidatedReads:
    """Reads that passed :func:`validate_reads`.

    ``frame`` holds the normalised records (categorical key columns, float ``grade`` with NaN when
    not assessable, boolean ``not_assessable``, ``side`` in L/R/M); ``catalogue_row`` gives each
    record's row in :func:`rheumetrics.imaging.sites` order of the full catalogue.
    """

    frame: pd.DataFrame
    catalogue_row: np.ndarray
    source: str | None = None
    #: Dense id of each record's read (:data:`READ_KEYS`), numbered in key order, and the first
    #: record of each read.
    read_id: np.ndarray | None = None
    read_first: np.ndarray | None = None


def read_reads(path: str | PathLike[str]) -> pd.DataFrame:
    """Read a table of read records (.csv, .xlsx or .parquet), keeping CSV values as text.

    In a CSV, leading lines starting with ``#`` are comments and the index is the file line number
    of each record, so problems name the line to fix; in other formats it is the row number counting
    the header as row 1.
    """
    path = Path(path)
    if path.suffix.lower() != ".csv":
        frame = read_table(path)
        frame.index = pd.RangeIndex(2, 2 + len(frame), name="row")
        return frame
    if not path.exists():
        raise RheumetricsError(f"{path}: no such file")
    with path.open(encoding="utf-8") as handle:
        skipped = 0
        for line in handle:
            if not line.startswith("#"):
                break
            skipped += 1
    frame = pd.read_csv(path, skiprows=skipped, dtype=str, keep_default_na=False, na_values=[""])
    frame.index = pd.RangeIndex(skipped + 2, skipped + 2 + len(frame), name="line")
    return frame


def _recode(labels: pd.Series, allowed: tuple[str, ...]) -> np.ndarray:
    """Codes of a categorical in ``allowed`` order: -1 for missing, -2 for any other value."""
    mapping = np.array(
        [allowed.index(c) if c in allowed else -2 for c in labels.cat.categories] + [-1]
    )
    return mapping[labels.cat.codes.to_numpy()]


def _flags(values: pd.Series, problems: ProblemCollector, source: str | None) -> np.ndarray:
    if pd.api.types.is_bool_dtype(values.dtype) and not values.isna().any():
        return values.to_numpy(dtype=bool)
    labels = as_labels(values)
    mapping = {}
    for cat in labels.cat.categories:
        key = str(cat).strip().lower()
        mapping[cat] = True if key in _TRUE else False if key in _FALSE else None
    bad_cats = [c for c, v in mapping.items() if v is None]
    codes = labels.cat.codes.to_numpy()
    lookup = np.array([bool(mapping[c]) for c in labels.cat.categories] + [False])
    for i in np.flatnonzero(labels.isin(bad_cats).to_numpy()):
        problems.add(
            values.index[i],
            "not_assessable",
            values.iloc[i],
            "must be true/false (or yes/no, 1/0)",
            source,
        )
    return lookup[codes]


def _duplicated(key: np.ndarray) -> np.ndarray:
    """True for every element whose value occurs more than once.

    Records usually arrive grouped by read with sites in catalogue order, where one pass over the
    keys proves there are none; otherwise the keys are sorted (O(n log n), memory linear in n).
    """
    n = len(key)
    dup = np.zeros(n, dtype=bool)
    if n < 2 or (np.diff(key) > 0).all():
        return dup
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    same = ordered[1:] == ordered[:-1]
    if same.any():
        hit = np.zeros(n, dtype=bool)
        hit[1:] |= same
        hit[:-1] |= same
        dup[order] = hit
    return dup


def validate_reads(reads: pd.DataFrame, *, source: str | None = None) -> ValidatedReads:
    """Check every read record against the catalogue; report all problems together.

    Raises :class:`~rheumetrics.errors.ValidationError` naming record, field, value and what is
    allowed for: missing columns or values, unknown system/version/feature/site, a side that does
    not fit the site, a modality that does not fit the system, a grade off the site's scale (range
    and step), a grade given for a not-assessable site, a site scored twice in one read, a read with
    more than one reading design, an unknown design.
    """
    problems = ProblemCollector("invalid imaging reads")
    for col in REQUIRED_COLUMNS:
        if col not in reads.columns:
            problems.add("-", col, None, "required column is missing", source)
    problems.raise_if_any()

    index = reads.index
    out = pd.DataFrame(index=index)
    for col in ("patient_id", "timepoint", "system", "version", "reader", "site", "feature"):
        out[col] = as_labels(reads[col])
        for i in np.flatnonzero(out[col].isna().to_numpy()):
            problems.add(index[i], col, None, "required; must not be empty", source)
    n = len(reads)
    for col in ("side", "modality", "session", "design"):
        default = OPTIONAL_COLUMNS[col]
        if col not in reads.columns:
            if default is None:  # side / modality: missing, resolved from the catalogue below
                out[col] = pd.Categorical.from_codes(np.full(n, -1, np.int8), categories=["-"])
            else:
                out[col] = pd.Categorical.from_codes(np.zeros(n, np.int8), categories=[default])
            continue
        values = as_labels(reads[col])
        if default is not None and values.isna().any():
            if default not in values.cat.categories:
                values = values.cat.add_categories([default])
            values = values.fillna(default)
        out[col] = values
    not_assessable = (
        _flags(reads["not_assessable"], problems, source)
        if "not_assessable" in reads.columns
        else np.zeros(len(reads), dtype=bool)
    )

    # catalogue lookup on the distinct (system, version, feature, site) combinations
    cat = catalogue._sites()
    known = {
        key: i
        for i, key in enumerate(
            zip(cat["system"], cat["version"], cat["feature"], cat["site"], strict=True)
        )
    }
    specs = catalogue.systems()
    combo, first = group_codes(out, ["system", "version", "feature", "site"])
    combo_row = np.full(len(first), -1, dtype=np.int64)
    combo_problem: dict[int, tuple[str, object, str]] = {}
    heads = out[["system", "version", "feature", "site"]].iloc[first]
    for g, (system, version, feature, site) in enumerate(heads.itertuples(index=False)):
        if any(pd.isna(v) for v in (system, version, feature, site)):
            continue
        key = (system, version, feature, site)
        if key in known:
            combo_row[g] = known[key]
        elif system not in specs:
            combo_problem[g] = (
                "system",
                system,
                f"unknown scoring system; known: {', '.join(specs)}",
            )
        elif version not in specs[system].versions:
            allowed = ", ".join(specs[system].versions)
            combo_problem[g] = ("version", version, f"{system} versions are {allowed}")
        elif not (
            (cat["system"] == system) & (cat["version"] == version) & (cat["feature"] == feature)
        ).any():
            feats = sorted(
                set(cat.loc[(cat["system"] == system) & (cat["version"] == version), "feature"])
            )
            combo_problem[g] = (
                "feature",
                feature,
                f"{system} {version} features are {', '.join(feats)}",
            )
        else:
            combo_problem[g] = (
                "site",
                site,
                f"not a {feature} site of {system} {version}; see rheumetrics.imaging.sites('{system}', '{version}')",
            )
    row_of = combo_row[combo]
    for g, (field, value, rule) in combo_problem.items():
        for i in np.flatnonzero(combo == g):
            problems.add(index[i], field, value, rule, source)

    ok = row_of >= 0
    safe_row = np.where(ok, row_of, 0)
    midline = (cat["side"].to_numpy() == "M")[safe_row]
    side_codes = _recode(out["side"], ("L", "R", "M"))
    bad_lr = ok & ~midline & ((side_codes < 0) | (side_codes > 1))
    bad_m = ok & midline & (side_codes != -1) & (side_codes != 2)
    for i in np.flatnonzero(bad_lr):
        problems.add(
            index[i],
            "side",
            out["side"].iloc[i],
            "must be L or R for this site (scored per side)",
            source,
        )
    for i in np.flatnonzero(bad_m):
        problems.add(
            index[i],
            "side",
            out["side"].iloc[i],
            "must be blank or M for this midline site",
            source,
        )
    side_codes = np.where(midline & (side_codes == -1), 2, side_codes)
    side_codes = np.where(bad_lr | bad_m | (side_codes < 0), -1, side_codes)
    out["side"] = pd.Categorical.from_codes(side_codes, categories=["L", "R", "M"])

    modalities = ("MRI", "XR")
    system_modality = np.array([modalities.index(specs[s].modality) for s in cat["system"]])
    expected = system_modality[safe_row]
    given = _recode(out["modality"], modalities)
    bad_mod = ok & (given != -1) & (given != expected)
    for i in np.flatnonzero(bad_mod):
        problems.add(
            index[i],
            "modality",
            out["modality"].iloc[i],
            f"must be {modalities[expected[i]]} for {out['system'].iloc[i]}",
            source,
        )
    out["modality"] = pd.Categorical.from_codes(np.where(ok, expected, -1), categories=modalities)

    bad_design = ~out["design"].isin(DESIGNS).to_numpy()
    for i in np.flatnonzero(bad_design):
        problems.add(
            index[i],
            "design",
            out["design"].iloc[i],
            f"must be one of {', '.join(DESIGNS)}",
            source,
        )

    # grades: numeric, present unless not assessable, on the site's scale
    raw = reads["grade"]
    grade = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    raw_na = raw.isna().to_numpy()
    for i in np.flatnonzero(np.isnan(grade) & ~raw_na):
        problems.add(index[i], "grade", raw.iloc[i], "must be a number", source)
    for i in np.flatnonzero(raw_na & ~not_assessable):
        problems.add(
            index[i], "grade", None, "missing; leave blank only with not_assessable = true", source
        )
    for i in np.flatnonzero(~raw_na & not_assessable):
        problems.add(
            index[i], "grade", raw.iloc[i], "given for a site flagged not assessable", source
        )
    lo = cat["scale_min"].to_numpy()[safe_row]
    hi = cat["scale_max"].to_numpy()[safe_row]
    step = cat["scale_step"].to_numpy()[safe_row]
    with np.errstate(invalid="ignore"):
        steps = snap((grade - lo) / step)
        off = ok & ~np.isnan(grade) & ((grade < lo) | (grade > hi) | (steps != np.round(steps)))
    for i in np.flatnonzero(off):
        problems.add(
            index[i],
            "grade",
            raw.iloc[i],
            f"off the scale of {out['system'].iloc[i]} {out['feature'].iloc[i]} site "
            f"{out['site'].iloc[i]}: {lo[i]:g}-{hi[i]:g} in steps of {step[i]:g}",
            source,
        )
    grade = np.where(not_assessable, np.nan, grade)

    # a site scored twice in one read; a read with mixed designs
    out["grade"] = grade
    out["not_assessable"] = not_assessable
    read_id, read_first = group_codes(out, list(READ_KEYS))
    # the catalogue row fixes system, version, feature and site: one key per (read, row, side)
    site_key = (read_id * len(cat) + safe_row) * 4 + (side_codes + 1)
    dup = ok & _duplicated(np.where(ok, site_key, -1 - np.arange(n)))
    if dup.any():
        positions = pd.Series(np.flatnonzero(dup), index=site_key[dup])
        groups = positions.groupby(level=0).agg(list)
        for i in np.flatnonzero(dup):
            others = ", ".join(str(index[p]) for p in groups[site_key[i]] if p != i)
            problems.add(
                index[i],
                "site",
                out["site"].iloc[i],
                f"scored twice by the same reader in one read (also record {others})",
                source,
            )
    design_code = out["design"].cat.codes.to_numpy()
    mixed = design_code != design_code[read_first][read_id]
    for bad_read in np.unique(read_id[mixed]):
        designs = sorted(set(out["design"].to_numpy()[read_id == bad_read]))
        problems.add(
            index[read_first[bad_read]],
            "design",
            designs,
            "one read must have one reading design",
            source,
        )
    problems.raise_if_any()
    columns = [
        *READ_KEYS,
        "side",
        "modality",
        "design",
        "feature",
        "site",
        "grade",
        "not_assessable",
    ]
    return ValidatedReads(out[columns], row_of, source, read_id, read_first)


def ensure_valid(reads: pd.DataFrame | ValidatedReads) -> ValidatedReads:
    """Validate a raw frame; pass :class:`ValidatedReads` through."""
    return reads if isinstance(reads, ValidatedReads) else validate_reads(reads)
