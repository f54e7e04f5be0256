"""From a cohort to the study's analysis frame: enrolments, visits in their windows, outcomes.

An *enrolment* is one patient entering one group at an index date: the first start, within the
enrolment period, of a therapy course matching the group's rule (a patient who escalates from
Group A to Group B is enrolled twice, as in the NZ study), a patient attribute's value, or
everyone. Each study visit takes the stored visit (and, separately, the imaging) closest to its
target day within its window. The analysis frame has one row per enrolment with
``<outcome>@<visit>`` and ``change:<outcome>`` columns, the group, the patient's
characteristics and attributes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rheumetrics.errors import ProblemCollector
from rheumetrics.imaging import reader_mean
from rheumetrics.schema.validate import NUMBER_PATTERN, Reporter, parse_number
from rheumetrics.study.cohort import Cohort
from rheumetrics.study.definitions import Outcome, Study, VisitSpec


@dataclass
class StudyData:
    """Everything the analyses need."""

    frame: pd.DataFrame  # one row per enrolment
    enrolments: pd.DataFrame  # enrolment_id, patient_id, group, index_date, first
    ratings: pd.DataFrame  # repeated imaging reads: patient_id, timepoint, session, outcome, score
    labels: dict[str, str] = field(default_factory=dict)
    #: the scoring system and version(s) each imaging outcome was read with, as stored
    imaging_versions: dict[str, str] = field(default_factory=dict)
    #: every patient of the cohort with why it was not enrolled ("" when enrolled)
    screening: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            {"patient_id": pd.Series(dtype=str), "reason": pd.Series(dtype=str)}
        )
    )

    @property
    def patients(self) -> pd.DataFrame:
        """One row per patient: the first enrolment (as in the NZ study's Table 1)."""
        return self.frame[self.frame["first"]]


def _difference(later: pd.Series, earlier: pd.Series) -> pd.Series:
    """``later - earlier`` rounded to 10 decimals, so that equal changes of decimal values tie
    (3.1 - 2.9 is 0.2000000000000002 in binary floating point; rank tests need the tie)."""
    return (later - earlier).round(10)


def interval_pairs(study: Study, outcome: Outcome) -> list[tuple[str, str]]:
    """Every (earlier, later) pair of the visits at which ``outcome`` is measured, in visit order:
    the intervals ``change:<outcome>@<a>-<b>`` names."""
    order = [v.id for v in study.visits if v.id in outcome.visits]
    return [(a, b) for i, a in enumerate(order) for b in order[i + 1 :]]


def study_labels(study: Study) -> dict[str, str]:
    """Every analysis variable of ``study`` as a reader names it, one lookup for the whole report:
    ``group``, ``<outcome>@<visit>`` (``MRI erosion (Visit 1)``), ``change:<outcome>``
    (``ΔDAS28CRP``), ``change:<outcome>@<a>-<b>`` (``ΔMRI erosion (Week 0 to Week 12)``), the
    characteristics, and the ``labels`` any analysis gives (e.g. a confounder that is a patient
    attribute: ``anti_ccp_u_ml = "Anti-CCP titre (U/mL)"``), which then hold in every table,
    caption and methods paragraph."""
    labels = {"group": "Group"}
    names = {v.id: v.label for v in study.visits}
    for o in study.outcomes:
        for v in study.visits:
            labels[f"{o.id}@{v.id}"] = f"{o.label} ({v.label})"
        labels[f"change:{o.id}"] = f"Δ{o.label}"
        for a, b in interval_pairs(study, o):
            labels[f"change:{o.id}@{a}-{b}"] = f"Δ{o.label} ({names[a]} to {names[b]})"
    labels.update({ch.id: ch.label for ch in study.characteristics})
    for spec in study.analyses.values():
        for one in spec if isinstance(spec, list) else [spec]:
            if isinstance(one, dict) and isinstance(one.get("labels"), dict):
                labels.update({str(k): str(v) for k, v in one["labels"].items()})
    labels.update({str(k): str(v) for k, v in (getattr(study, "labels", None) or {}).items()})
    return labels


def empty_data(study: Study | None = None) -> StudyData:
    """The analysis data of a study without patients (a meta-analysis of published studies)."""
    frame = pd.DataFrame({"patient_id": pd.Series(dtype=str), "group": pd.Series(dtype=str),
                          "first": pd.Series(dtype=bool)})  # fmt: skip
    labels = study_labels(study) if study is not None else {}
    return StudyData(frame=frame, enrolments=frame.copy(), ratings=pd.DataFrame(), labels=labels)


def enrolments(study: Study, cohort: Cohort) -> pd.DataFrame:
    """One row per patient and group with the index date; every empty group is an error."""
    spec = study.enrolment
    problems = ProblemCollector("study enrolment")
    first_visit = cohort.visits.groupby("patient_id")["visit_date"].min()
    parts = []
    if spec.source == "therapy":
        ther = cohort.therapies.copy()
        ther["drug"] = ther["drug"].astype(str).str.lower()
        start = pd.to_datetime(ther["start_date"])
        if spec.period is not None:
            lo, hi = (pd.Timestamp(d) for d in spec.period)
            ther = ther[(start >= lo) & (start <= hi)]
        for g in study.groups:
            hit = ther[ther["drug_class"].isin(g.drug_classes) | ther["drug"].isin(g.drugs)]
            first = hit.groupby("patient_id")["start_date"].min()
            parts.append(pd.DataFrame({"patient_id": first.index, "group": g.id,
                                       "index_date": pd.to_datetime(first.to_numpy())}))  # fmt: skip
    elif spec.source == "attribute":
        attr = str(spec.attribute)
        if attr not in cohort.patients.columns:
            problems.add("(cohort)", "enrolment.attribute", attr,
                         f"not a patient column; available: {', '.join(map(str, cohort.patients.columns))}")  # fmt: skip
            problems.raise_if_any()
        values = cohort.patients[attr].astype(str)
        for g in study.groups:
            ids = values.index[values == str(g.value)]
            ids = ids[ids.isin(first_visit.index)]
            parts.append(pd.DataFrame({"patient_id": ids, "group": g.id,
                                       "index_date": first_visit.reindex(ids).to_numpy()}))  # fmt: skip
    else:
        parts.append(pd.DataFrame({"patient_id": first_visit.index, "group": study.groups[0].id,
                                   "index_date": first_visit.to_numpy()}))  # fmt: skip
    out = pd.concat(parts, ignore_index=True)
    out["patient_id"] = out["patient_id"].astype(str)
    for g in study.groups:
        if not (out["group"] == g.id).any():
            rule = {"therapy": f"no therapy start matching drug_class {list(g.drug_classes)} / drugs "
                               f"{list(g.drugs)} in the enrolment period",
                    "attribute": f"no patient has {spec.attribute} = {g.value!r}",
                    "all": "the cohort has no visits"}[spec.source]  # fmt: skip
            problems.add(f"group {g.id}", "groups", g.label, f"empty group: {rule}")
    clash = out[out.duplicated(["patient_id", "index_date"], keep=False)]
    for pid, part in clash.groupby("patient_id"):
        problems.add(pid, "groups", sorted(part["group"]),
                     f"enrolled in several groups on {part['index_date'].iloc[0]:%Y-%m-%d}")  # fmt: skip
    problems.raise_if_any()
    order = {g.id: k for k, g in enumerate(study.groups)}
    out = out.sort_values(["patient_id", "index_date"], ignore_index=True)
    out["first"] = ~out.duplicated("patient_id")
    out["group_order"] = out["group"].map(order)
    out = out.sort_values(["group_order", "patient_id"], ignore_index=True).drop(
        columns="group_order"
    )
    out.insert(0, "enrolment_id", out["patient_id"] + ":" + out["group"])
    return out


def screening(study: Study, cohort: Cohort, enrol: pd.DataFrame) -> pd.DataFrame:
    """Every patient of the cohort (with a patient record or a visit) and why it was not
    enrolled: no visits recorded, no qualifying therapy start in the enrolment period, or an
    attribute value that is no study group's ("" for enrolled patients)."""
    spec = study.enrolment
    with_visits = pd.Index(cohort.visits["patient_id"].astype(str).unique())
    ids = pd.Index(cohort.patients.index.astype(str)).union(with_visits)
    out = pd.DataFrame({"patient_id": ids})
    # membership through one factorisation (isin on Arrow-backed strings is slow at scale)
    codes, _ = pd.factorize(pd.concat([pd.Series(ids), pd.Series(with_visits),
                                       enrol["patient_id"].astype(str)], ignore_index=True))  # fmt: skip
    k, m = len(ids), len(with_visits)
    enrolled = np.isin(codes[:k], codes[k + m :])
    no_visits = ~np.isin(codes[:k], codes[k : k + m])
    other: str | np.ndarray
    if spec.source == "therapy":
        other = "no therapy start of a study group's drugs" + (
            f" from {spec.period[0]:%Y-%m-%d} to {spec.period[1]:%Y-%m-%d}" if spec.period else ""
        )
    elif spec.source == "attribute":
        values = cohort.patients[str(spec.attribute)].astype("string")
        values.index = values.index.astype(str)
        value = out["patient_id"].map(values)
        other = np.where(value.isna(), f"no {spec.attribute} recorded",
                         f"{spec.attribute} not a study group's value")  # fmt: skip
    else:
        other = "not enrolled"
    reason = np.select([enrolled, no_visits], ["", "no visits recorded"], default=other)
    return out.assign(reason=reason.astype(str))


class _Events:
    """Dated events (visits or imaging totals) of the enrolled patients, as integer patient codes
    and day numbers, so that each study visit is matched with integer merges and array lookups
    (no per-visit merges or index alignment on patient-id strings)."""

    def __init__(self, patients: pd.Index, ids: pd.Series, dates: pd.Series) -> None:
        codes = patients.get_indexer(ids.astype(str))
        self.rows = np.flatnonzero(codes >= 0)
        self.frame = pd.DataFrame({"p": codes[self.rows], "r": self.rows,
                                   "d": _day_numbers(dates)[self.rows]})  # fmt: skip

    def nearest(self, enrolled: pd.DataFrame, visit: VisitSpec) -> np.ndarray:
        """For each enrolment (row of ``enrolled``: p, d0), the row of the event closest to the
        visit target within its window (the earlier of two equally close), or -1."""
        pairs = enrolled.merge(self.frame, on="p")
        day = pairs["d"].to_numpy() - pairs["d0"].to_numpy()
        lo, hi = visit.window
        ok = (day >= lo) & (day <= hi)
        e, r, day = pairs["e"].to_numpy()[ok], pairs["r"].to_numpy()[ok], day[ok]
        order = np.lexsort((day, np.abs(day - visit.target), e))
        e, r = e[order], r[order]
        first = np.r_[True, e[1:] != e[:-1]] if len(e) else np.zeros(0, bool)
        out = np.full(len(enrolled), -1, dtype=np.int64)
        out[e[first]] = r[first]
        return out


def _day_numbers(dates: pd.Series) -> np.ndarray:
    """Dates as whole days since 1970-01-01 (NaT as a day no window reaches)."""
    days = pd.to_datetime(dates).to_numpy("datetime64[D]")
    out = days.astype(np.int64)
    out[np.isnat(days)] = np.iinfo(np.int64).min // 2
    return out


def _take(values: np.ndarray, rows: np.ndarray, missing: Any = np.nan) -> np.ndarray:
    """``values[rows]`` with ``missing`` where ``rows`` is -1."""
    out = values[np.maximum(rows, 0)]
    if out.dtype.kind == "M":
        return np.where(rows >= 0, out, np.datetime64("NaT"))
    return np.where(rows >= 0, out, missing)


def _imaging_outcome(cohort: Cohort, outcome: Outcome, session: str | None) -> pd.DataFrame:
    spec = outcome.imaging
    assert spec is not None
    img = cohort.imaging
    if img.empty:
        return pd.DataFrame(columns=["patient_id", "timepoint", "session", "image_date", "score"])
    keep = (
        (img["system"] == spec.system)
        & (img["feature"] == spec.feature)
        & (img["subset"] == spec.subset)
    )
    if spec.version is not None:
        keep &= img["version"] == spec.version
    if session is not None:
        keep &= img["session"] == session
    # the keys fixed by the filter are left out of the grouping (fewer string keys to group on)
    sub = img.loc[keep, ["patient_id", "timepoint", "session", "version", "reader", "score",
                         "image_date"]]  # fmt: skip
    dates = sub.groupby(["patient_id", "timepoint"], observed=True, sort=False)["image_date"].min()
    mean = reader_mean(sub.drop(columns="image_date"), over="reader")
    out = mean.merge(dates.reset_index(), on=["patient_id", "timepoint"], how="left")
    out.attrs["versions"] = sorted(sub["version"].dropna().astype(str).unique())
    return out


def study_data(study: Study, cohort: Cohort) -> StudyData:
    """The analysis frame of ``study`` on ``cohort`` (see the module docstring)."""
    enrol = enrolments(study, cohort)
    frame = enrol.set_index("enrolment_id")
    problems = ProblemCollector("study outcomes")
    visits = cohort.visits
    for o in study.outcomes:
        if not o.is_imaging and o.column not in visits.columns:
            problems.add(
                o.id, "column", o.column, "not in the cohort's visits (no value recorded or scored)"
            )
        if o.is_imaging and not cohort.imaging.empty:
            spec = o.imaging
            assert spec is not None
            have = cohort.imaging[(cohort.imaging["system"] == spec.system)
                                  & (cohort.imaging["feature"] == spec.feature)]  # fmt: skip
            if have.empty:
                problems.add(
                    o.id,
                    "imaging",
                    f"{spec.system} {spec.feature}",
                    "no such imaging scores in the cohort",
                )
    problems.raise_if_any()
    imaging = {
        o.id: _imaging_outcome(cohort, o, study.imaging_session)
        for o in study.outcomes
        if o.is_imaging
    }
    patients = pd.Index(enrol["patient_id"].unique())
    enrolled = pd.DataFrame({"e": np.arange(len(enrol)), "p": patients.get_indexer(enrol["patient_id"]),
                             "d0": _day_numbers(enrol["index_date"])})  # fmt: skip
    clinical_events = _Events(patients, visits["patient_id"], visits["visit_date"])
    imaging_events = {oid: _Events(patients, img["patient_id"], img["image_date"])
                      for oid, img in imaging.items()}  # fmt: skip
    numeric: dict[str, np.ndarray] = {}
    new: dict[str, Any] = {}
    for v in study.visits:
        wanted = [o for o in study.outcomes if v.id in o.visits]
        clinical = [o for o in wanted if not o.is_imaging]
        if clinical:
            rows = clinical_events.nearest(enrolled, v)
            new[f"visit_date@{v.id}"] = _take(visits["visit_date"].to_numpy(), rows)
            for o in clinical:
                col = str(o.column)
                if col not in numeric:
                    numeric[col] = pd.to_numeric(visits[col]).to_numpy(dtype=float, na_value=np.nan)
                new[f"{o.id}@{v.id}"] = _take(numeric[col], rows)
        for o in wanted:
            if o.is_imaging:
                rows = imaging_events[o.id].nearest(enrolled, v)
                scores = imaging[o.id]["score"].to_numpy(dtype=float, na_value=np.nan)
                new[f"{o.id}@{v.id}"] = _take(scores, rows)
    frame = pd.concat([frame, pd.DataFrame(new, index=frame.index)], axis=1)
    for o in study.outcomes:
        for v in study.visits:
            col = f"{o.id}@{v.id}"
            if v.id in o.visits and col not in frame.columns:
                frame[col] = np.nan
        if study.change and all(v in o.visits for v in study.change):
            a, b = study.change
            frame[f"change:{o.id}"] = _difference(frame[f"{o.id}@{b}"], frame[f"{o.id}@{a}"])
        for a, b in interval_pairs(study, o):
            frame[f"change:{o.id}@{a}-{b}"] = _difference(
                frame[f"{o.id}@{b}"], frame[f"{o.id}@{a}"]
            )
    frame = _with_characteristics(study, cohort, frame, problems)
    problems.raise_if_any()
    ratings = _ratings(study, cohort)
    frame["group"] = pd.Categorical(frame["group"], categories=[g.id for g in study.groups])
    versions = {}
    for o in study.outcomes:
        if o.is_imaging and o.imaging is not None:
            found = imaging[o.id].attrs.get("versions", [])
            system = " + ".join(_SYSTEMS.get(s, s) for s in o.imaging.system.split("+"))
            version = ", ".join(found) or str(o.imaging.version or "not recorded")
            versions[o.id] = (f"{system} ({version}): {o.imaging.feature.replace('_', ' ')}, "
                              f"{'all joints scored' if o.imaging.subset == 'all' else o.imaging.subset}")  # fmt: skip
    return StudyData(frame=frame, enrolments=enrol, ratings=ratings, labels=study_labels(study),
                     imaging_versions=versions,
                     screening=screening(study, cohort, enrol))  # fmt: skip


def _with_characteristics(
    study: Study, cohort: Cohort, frame: pd.DataFrame, problems: ProblemCollector
) -> pd.DataFrame:
    patients = cohort.patients
    taken = set(frame.columns)
    extra = patients[[c for c in patients.columns if c not in taken]]
    frame = frame.join(extra, on="patient_id")
    for ch in study.characteristics:
        if ch.therapy is not None:
            ther = cohort.therapies
            ther = ther[ther["drug"].astype(str).str.lower() == ch.therapy]
            pairs = frame[["patient_id", "index_date"]].reset_index().merge(ther, on="patient_id")
            start = pd.to_datetime(pairs["start_date"])
            stop = pd.to_datetime(pairs["stop_date"])
            on = (start < pairs["index_date"]) & (stop.isna() | (stop >= pairs["index_date"]))
            taking = set(pairs.loc[on.to_numpy(), "enrolment_id"])
            frame[ch.id] = np.where(frame.index.isin(taking), "yes", "no")
        elif ch.id not in frame.columns:
            problems.add(ch.id, "characteristics", ch.id,
                         f"not a patient column; available: {', '.join(map(str, patients.columns))}")  # fmt: skip
            continue
        if ch.kind == "numeric":
            frame[ch.id] = numeric_values(frame[ch.id], frame["patient_id"], ch.id, problems)
        else:
            frame[ch.id] = categorical_values(frame[ch.id])
    return frame


def categorical_values(values: pd.Series) -> pd.Series:
    """A characteristic declared ``type = "categorical"`` as text levels: numbers as written
    (``1``, not ``1.0``), booleans as ``yes`` / ``no``, missing kept missing.

    >>> categorical_values(pd.Series([1.0, 0.0, None])).tolist()
    ['1', '0', <NA>]
    >>> categorical_values(pd.Series([True, False])).tolist()
    ['yes', 'no']
    """
    if pd.api.types.is_bool_dtype(values):
        return values.map({True: "yes", False: "no"}).astype("string")
    if pd.api.types.is_numeric_dtype(values):
        x = values.to_numpy(dtype=float, na_value=np.nan)
        whole = np.isnan(x) | (x == np.round(x))
        return values.astype("Int64" if whole.all() else "Float64").astype("string")
    return values


def looks_numeric(values: pd.Series) -> bool:
    """True when every present value of a text column is a decimal number (``"10"``, ``"4.5"``),
    so that dummy-coding it would be a mistake.

    >>> looks_numeric(pd.Series(["1", "10", None, "4.5"])), looks_numeric(pd.Series(["1", "x"]))
    (True, False)
    """
    text = values.dropna().astype(str).str.strip()
    return bool(len(text)) and bool(text.str.fullmatch(NUMBER_PATTERN).all())


def numeric_values(
    values: pd.Series, patient_ids: pd.Series, field_name: str, problems: ProblemCollector
) -> pd.Series:
    """A characteristic declared ``type = "numeric"`` as float64, parsed as the importer parses
    numbers (:func:`rheumetrics.schema.validate.parse_number`): plain ASCII decimals only;
    booleans, infinities and any other text are problems naming the patient, the field and the
    value (never coerced to missing)."""
    rep = Reporter("characteristics", pd.Index(patient_ids.to_numpy()))
    out = parse_number(values, field_name, rep, "declared numeric: a decimal number or empty")
    problems.extend(rep.problems)
    return out


#: Imaging scoring systems as publications name them.
_SYSTEMS = {"ramris": "OMERACT RAMRIS", "svdh": "Sharp/van der Heijde",
            "haavardsholm": "Haavardsholm tenosynovitis score"}  # fmt: skip


def _ratings(study: Study, cohort: Cohort) -> pd.DataFrame:
    """Every session's score of each outcome a reliability run names (each run takes the rows of
    its own outcome), for intra-reader agreement: patient_id, timepoint, session, outcome, score."""
    columns = ["patient_id", "timepoint", "session", "outcome", "score"]
    wanted = dict.fromkeys(str(spec["outcome"]) for key, spec in study.analyses.items()
                           if study.kind(key) == "reliability")  # fmt: skip
    parts = [_imaging_outcome(cohort, study.outcome(oid), None).assign(outcome=oid)[columns]
             for oid in wanted]  # fmt: skip
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def check_model_variables(
    study: Study, frame: pd.DataFrame, variables: list[str], analysis: str
) -> None:
    """Refuse a model term that holds numbers stored as text (a patient attribute such as
    ``years_since_diagnosis = "10"`` not declared numeric): a model would dummy-code every
    distinct value as a category. Characteristics declared ``type = "categorical"`` are
    dummy-coded as declared."""
    declared = {ch.id for ch in study.characteristics if ch.kind != "numeric"}
    problems = ProblemCollector(f"{analysis} variables")
    for var in dict.fromkeys(variables):
        if var == "group" or var in declared or var not in frame.columns:
            continue
        col = frame[var]
        if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            continue
        if looks_numeric(col):
            shown = sorted(col.dropna().astype(str).unique(), key=lambda v: float(v))
            values = ", ".join(shown[:8]) + (
                f", ... ({len(shown)} distinct)" if len(shown) > 8 else ""
            )
            problems.add(f"analyses.{analysis}", "variable", var,
                         f"holds numbers stored as text ({values}); a model would treat each value "
                         f"as a category. Declare it in [characteristics] with type = \"numeric\" "
                         f"(one slope) or type = \"categorical\" (one term per value)")  # fmt: skip
    problems.raise_if_any()


def require_numeric(frame: pd.DataFrame, variables: list[str], analysis: str) -> None:
    """Refuse a variable an analysis needs as a number (a ROC score or truth, a rule's variable)
    when it holds text, naming the variable and some of its values."""
    problems = ProblemCollector(f"{analysis} variables")
    for var in dict.fromkeys(variables):
        if var not in frame.columns:
            problems.add(f"analyses.{analysis}", "variable", var, "not in the analysis frame")
            continue
        col = frame[var]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            continue
        shown = sorted(col.dropna().astype(str).unique())
        values = ", ".join(shown[:8]) + (f", ... ({len(shown)} distinct)" if len(shown) > 8 else "")
        hint = ('numbers stored as text: declare it in [characteristics] with type = "numeric"'
                if looks_numeric(col) else "not numbers")  # fmt: skip
        problems.add(f"analyses.{analysis}", "variable", var,
                     f"must be numeric; holds {hint} ({values})")  # fmt: skip
    problems.raise_if_any()
