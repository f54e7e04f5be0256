"""Validation of the visits and therapies frames at the engine's boundary.

Every problem is collected and raised together; nothing is coerced
silently: dates must be datetime64 or ISO-8601 text, flags must be booleans (or 0/1, or the words
true/false/yes/no), numbers must be numeric. Visit dates are used at day resolution.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from rheumetrics.errors import ProblemCollector
from rheumetrics.schema.drugs import drug_names, find_drug
from rheumetrics.schema.therapies import check_therapies
from rheumetrics.schema.vocab import DRUG_CLASSES, STOP_REASONS

#: Optional yes/no visit columns the engine reads.
FLAG_COLUMNS = (
    "intolerance",
    "adverse_event",
    "mri_no_bme",
    "ppf",
    "rf_positive",
    "acpa_positive",
    "erosive",
    "mri_sij_inflammation",
    "radiographic_sacroiliitis",
)
#: Optional numeric visit columns the engine reads (the strategy's index is added per strategy).
NUMBER_COLUMNS = ("sjc28", "crp_mg_l", "mri_bme_total", "us_pd_joint_count")

DAY = np.timedelta64(1, "D")
_TRUE = {"true", "yes", "1", "1.0"}
_FALSE = {"false", "no", "0", "0.0"}


@dataclass
class Flag:
    """A yes/no input as two arrays: the value and whether it is known."""

    value: np.ndarray
    known: np.ndarray


def _days(
    series: pd.Series, field: str, pc: ProblemCollector, source: str, required: bool
) -> np.ndarray:
    """Days since 1970-01-01 as float (NaN where missing); problems for unparseable values."""
    if pd.api.types.is_datetime64_any_dtype(series):
        parsed = series
    else:
        text = series.astype("string")
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
        for rec, v in series[parsed.isna() & series.notna()].items():
            pc.add(
                rec,
                field,
                v,
                "must be a date (datetime64 or ISO-8601 text such as 2021-03-04)",
                source,
            )
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    values = parsed.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    out = np.where(np.isnat(values), np.nan, values.astype(np.int64).astype(float))
    if required:
        for rec in series.index[series.isna()]:
            pc.add(rec, field, None, "is required", source)
    return out


def _numbers(
    series: pd.Series, field: str, pc: ProblemCollector, source: str, low: float = 0.0
) -> np.ndarray:
    if series.dtype.kind not in "fiu":
        numeric = pd.to_numeric(series, errors="coerce")
        for rec, v in series[numeric.isna() & series.notna()].items():
            pc.add(rec, field, v, "must be a number", source)
        series = numeric
    arr = series.to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        bad = arr < low
    for pos in np.flatnonzero(bad):
        pc.add(series.index[pos], field, float(arr[pos]), f"must be >= {low:g}", source)
    return arr


def _flag(series: pd.Series, field: str, pc: ProblemCollector, source: str) -> Flag:
    known = series.notna().to_numpy()
    if series.dtype.kind == "b" or str(series.dtype) == "boolean":
        return Flag(series.fillna(False).to_numpy(dtype=bool), known)
    text = series.astype("string").str.strip().str.casefold()
    is_true = text.isin(_TRUE).fillna(False).to_numpy(dtype=bool)
    is_false = text.isin(_FALSE).fillna(False).to_numpy(dtype=bool)
    for pos in np.flatnonzero(known & ~is_true & ~is_false):
        pc.add(
            series.index[pos],
            field,
            series.iloc[pos],
            "must be true/false (or 1/0, yes/no)",
            source,
        )
    return Flag(is_true, known & (is_true | is_false))


@dataclass
class Visits:
    """Validated visits, sorted by patient and date (``order`` maps back to the input rows)."""

    frame: pd.DataFrame
    order: np.ndarray
    patient: np.ndarray  # int codes, sorted
    patient_ids: pd.Index  # code -> patient_id
    day: np.ndarray  # int64 days since epoch
    numbers: dict[str, np.ndarray]
    flags: dict[str, Flag]
    first: np.ndarray  # first visit of its patient
    last: np.ndarray  # last visit of its patient
    intolerant_drug: np.ndarray  # object: catalogue name of a drug not tolerated today, or ""

    def rows(self, lo: int, hi: int) -> Visits:
        """The sorted visits ``lo:hi`` (whole patients when cut at patient boundaries)."""
        return replace(
            self,
            order=self.order[lo:hi],
            patient=self.patient[lo:hi],
            day=self.day[lo:hi],
            numbers={k: a[lo:hi] for k, a in self.numbers.items()},
            flags={k: Flag(f.value[lo:hi], f.known[lo:hi]) for k, f in self.flags.items()},
            first=self.first[lo:hi],
            last=self.last[lo:hi],
            intolerant_drug=self.intolerant_drug[lo:hi],
        )


def prepare_visits(visits: pd.DataFrame, index_column: str, source: str = "visits") -> Visits:
    """Validate and sort a visits frame; raise ValidationError listing every problem."""
    pc = ProblemCollector(f"invalid {source}")
    for col in ("patient_id", "visit_date", index_column):
        if col not in visits.columns:
            pc.add(
                "all",
                col,
                None,
                f"required column is absent (columns: {', '.join(map(str, visits.columns))})",
                source,
            )
    pc.raise_if_any()
    for rec in visits.index[visits["patient_id"].isna()]:
        pc.add(rec, "patient_id", None, "is required", source)
    day = _days(visits["visit_date"], "visit_date", pc, source, required=True)
    numbers = {
        c: _numbers(visits[c], c, pc, source)
        for c in (index_column, *NUMBER_COLUMNS)
        if c in visits.columns
    }
    flags = {c: _flag(visits[c], c, pc, source) for c in FLAG_COLUMNS if c in visits.columns}
    intolerant = np.full(len(visits), "", dtype=object)
    if "intolerant_drug" in visits.columns:
        col = visits["intolerant_drug"]
        for value in col.dropna().unique():
            d = find_drug(str(value))
            rows = np.flatnonzero((col == value).to_numpy())
            if d is None:
                for pos in rows:
                    pc.add(
                        visits.index[pos],
                        "intolerant_drug",
                        value,
                        f"unknown drug; known: {', '.join(drug_names())}",
                        source,
                    )
            else:
                intolerant[rows] = d.name
    codes, uniques = pd.factorize(visits["patient_id"], sort=True)
    order = np.lexsort((day, codes))
    same = (codes[order][1:] == codes[order][:-1]) & (day[order][1:] == day[order][:-1])
    dup = np.zeros(len(day), dtype=bool)
    dup[order[1:][same]] = True
    dup[order[:-1][same]] = True
    for pos in np.flatnonzero(dup):
        pc.add(
            visits.index[pos],
            "visit_date",
            str(visits["visit_date"].iloc[pos]),
            "two visits of the same patient on the same day",
            source,
        )
    pc.raise_if_any()

    patient = codes[order].astype(np.int64)
    first = np.r_[True, patient[1:] != patient[:-1]] if len(patient) else np.zeros(0, bool)
    last = np.r_[patient[1:] != patient[:-1], True] if len(patient) else np.zeros(0, bool)
    return Visits(
        frame=visits,
        order=order,
        patient=patient,
        patient_ids=pd.Index(uniques),
        day=day[order].astype(np.int64),
        numbers={k: v[order] for k, v in numbers.items()},
        flags={k: Flag(f.value[order], f.known[order]) for k, f in flags.items()},
        first=first,
        last=last,
        intolerant_drug=intolerant[order],
    )


@dataclass
class Therapies:
    """Validated therapy rows of the patients with visits, as arrays (doses in catalogue units)."""

    patient: np.ndarray
    drug: np.ndarray  # codes into drug_names (sorted)
    drug_names: np.ndarray
    drug_class: np.ndarray  # codes into DRUG_CLASSES
    start: np.ndarray  # int64 days
    stop: np.ndarray  # int64 days; OPEN when ongoing
    systemic: np.ndarray  # False for a locally given glucocorticoid
    kind: np.ndarray  # "new", "taper", "increase", "modify"
    continued: np.ndarray  # a later row continues this course of the same drug
    dose: np.ndarray  # float, catalogue unit of the route; NaN when not given
    route: np.ndarray  # object: route or ""
    reason: np.ndarray  # object: stop reason (vocab.STOP_REASONS) or ""
    tolerated: np.ndarray  # documented maximum tolerated dose (catalogue unit), NaN when not given

    def patients(self, lo: int, hi: int) -> Therapies:
        """The rows of patients with codes ``lo`` to ``hi - 1``."""
        m = (self.patient >= lo) & (self.patient < hi)
        return replace(
            self,
            **{
                f: getattr(self, f)[m]
                for f in (
                    "patient",
                    "drug",
                    "drug_class",
                    "start",
                    "stop",
                    "systemic",
                    "kind",
                    "continued",
                    "dose",
                    "route",
                    "reason",
                    "tolerated",
                )
            },
        )


#: Stop day of an ongoing therapy.
OPEN = np.iinfo(np.int64).max


def _catalogue_checks(
    t: pd.DataFrame, pc: ProblemCollector, source: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Canonical drug names, classes, routes, doses and tolerated doses; problems for bad records
    (the importer's check: :func:`rheumetrics.schema.therapies.check_therapies`)."""
    n = len(t)
    dose_in = _numbers(t["dose"], "dose", pc, source) if "dose" in t else np.full(n, np.nan)
    tol_in = (
        _numbers(t["max_tolerated_dose"], "max_tolerated_dose", pc, source)
        if "max_tolerated_dose" in t
        else np.full(n, np.nan)
    )
    return tuple(check_therapies(t, dose_in, tol_in, pc, source))  # type: ignore[return-value]


def prepare_therapies(
    therapies: pd.DataFrame, patient_ids: pd.Index, source: str = "therapies"
) -> Therapies:
    """Validate a therapies frame against the drug catalogue and classify each row.

    Columns: ``patient_id``, ``drug``, ``start_date`` (required); ``drug_class`` (checked against
    the catalogue; ``other`` admits a drug outside it, which the engine ignores), ``dose`` with
    ``dose_unit`` (a dose without unit is in the catalogue unit of its route), ``route``,
    ``stop_date``, ``stop_reason`` (:data:`rheumetrics.schema.vocab.STOP_REASONS`) and
    ``max_tolerated_dose``. Unknown drugs, doses outside (0, label maximum], and two overlapping
    records of the same drug with different doses are errors naming the records.

    A row continues the previous row of the same patient and drug when it starts no more than one
    day after that row stopped; it is a dose reduction (not a taper) when that row stopped with
    ``dose_reduction_toxicity``, a taper when it stopped with ``taper_in_remission`` or the dose is
    lower, an increase when higher, else a modification.
    """
    pc = ProblemCollector(f"invalid {source}")
    for col in ("patient_id", "drug", "start_date"):
        if col not in therapies.columns:
            pc.add("all", col, None, "required column is absent", source)
    pc.raise_if_any()
    t = therapies
    for col in ("patient_id", "drug"):
        for rec in t.index[t[col].isna()]:
            pc.add(rec, col, None, "is required", source)
    start = _days(t["start_date"], "start_date", pc, source, required=True)
    stop = (
        _days(t["stop_date"], "stop_date", pc, source, required=False)
        if "stop_date" in t
        else np.full(len(t), np.nan)
    )
    with np.errstate(invalid="ignore"):
        backwards = stop < start
    for pos in np.flatnonzero(backwards):
        pc.add(
            t.index[pos],
            "stop_date",
            str(t["stop_date"].iloc[pos]),
            "must not be before start_date",
            source,
        )
    reason_col = "stop_reason" if "stop_reason" in t else ("reason" if "reason" in t else None)
    reason = (
        t[reason_col].astype("string").str.strip().str.casefold()
        if reason_col
        else pd.Series(pd.NA, index=t.index, dtype="string")
    )
    if reason_col == "stop_reason":
        for rec, v in reason[reason.notna() & ~reason.isin(STOP_REASONS)].items():
            pc.add(rec, "stop_reason", v, f"must be one of {', '.join(STOP_REASONS)}", source)
    else:  # free-text reasons of older files: the words of the vocabulary are recognised
        reason = reason.where(
            reason.isin(STOP_REASONS),
            reason.str.contains("taper", regex=False).map(
                {True: "taper_in_remission", False: pd.NA}
            ),
        )
    names, classes, routes, doses, tolerated = _catalogue_checks(t, pc, source)
    pc.raise_if_any()

    keep = t["patient_id"].isin(patient_ids).to_numpy()
    patient = patient_ids.get_indexer(t["patient_id"][keep]).astype(np.int64)
    drug, drug_names_k = pd.factorize(names[keep], sort=True)
    drug_class = pd.Index(DRUG_CLASSES).get_indexer(classes[keep])
    route = routes[keep]
    systemic = ~np.isin(route, ["intra-articular"])
    why = reason[keep].fillna("").to_numpy(dtype=object)
    start_k = start[keep].astype(np.int64)
    stop_k = np.full(int(keep.sum()), OPEN, dtype=np.int64)
    has_stop = ~np.isnan(stop[keep])
    stop_k[has_stop] = stop[keep][has_stop].astype(np.int64)
    dose_k = doses[keep]

    order = np.lexsort((start_k, drug, patient))
    same = np.r_[
        False, (patient[order][1:] == patient[order][:-1]) & (drug[order][1:] == drug[order][:-1])
    ]
    prev_stop = np.r_[OPEN, stop_k[order][:-1]]
    contiguous = (
        same & (prev_stop != OPEN) & (start_k[order] - np.minimum(prev_stop, start_k[order]) <= 1)
    )
    overlap = same & (start_k[order] < np.where(prev_stop == OPEN, OPEN, prev_stop)) & ~contiguous
    prev_dose = np.r_[np.nan, dose_k[order][:-1]]
    d = dose_k[order]
    rec_index = t.index[keep]
    for pos in np.flatnonzero(overlap & np.isin(classes[keep][order], ["other"], invert=True)):
        a, b = rec_index[order[pos - 1]], rec_index[order[pos]]
        pc.add(
            b,
            "start_date",
            str(t.loc[b, "start_date"]),
            f"overlaps record {a} of the same drug ({names[keep][order[pos]]}): one course at a time; "
            "end the earlier record before a dose change",
            source,
        )
    pc.raise_if_any()
    prev_why = np.concatenate([np.asarray([""], dtype=object), why[order][:-1]])
    with np.errstate(invalid="ignore"):
        kind_sorted = np.where(
            contiguous & (prev_why == "dose_reduction_toxicity"),
            "reduce",
            np.where(
                contiguous & ((prev_why == "taper_in_remission") | (d < prev_dose)),
                "taper",
                np.where(
                    contiguous & (d > prev_dose), "increase", np.where(contiguous, "modify", "new")
                ),
            ),
        )
    continued_sorted = np.r_[contiguous[1:], False]
    kind = np.empty(len(order), dtype=object)
    kind[order] = kind_sorted
    continued = np.empty(len(order), dtype=bool)
    continued[order] = continued_sorted
    return Therapies(
        patient=patient,
        drug=drug.astype(np.int64),
        drug_names=np.asarray(drug_names_k, dtype=object),
        drug_class=drug_class.astype(np.int64),
        start=start_k,
        stop=stop_k,
        systemic=systemic,
        kind=kind,
        continued=continued,
        dose=dose_k,
        route=route,
        reason=why,
        tolerated=tolerated[keep],
    )
