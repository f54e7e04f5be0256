"""Cohort frames from plain files (CSV, Excel, Parquet): visits, patients, therapy courses and
per-site imaging reads, checked at the boundary and scored under explicit conventions.

The file counterpart of :func:`rheumetrics.cohort.from_store`: it returns the same
:class:`~rheumetrics.cohort.CohortFrames`, so a study, the treat-to-target engine or the app
reads a cohort the same way whichever it came from.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from rheumetrics.cohort.frames import CohortFrames
from rheumetrics.errors import ProblemCollector
from rheumetrics.measures.conventions import Conventions

#: Columns of a therapy file (patient_id and drug required; dates may be empty).
THERAPY_COLUMNS = ("patient_id", "drug", "drug_class", "start_date", "stop_date")


def flatten_attributes(patients: pd.DataFrame) -> pd.DataFrame:
    """Patients with the free-form ``attributes`` mapping of the store spread into columns."""
    if "attributes" not in patients.columns:
        return patients
    attrs = pd.DataFrame(
        [a if isinstance(a, dict) else {} for a in patients["attributes"]], index=patients.index
    )
    return patients.drop(columns=["attributes"]).join(attrs)


def _visits(path: Path) -> pd.DataFrame:
    from rheumetrics.io import read_table

    visits = read_table(path)
    problems = ProblemCollector(f"{path}: visit file")
    for col in ("patient_id", "visit_date"):
        if col not in visits.columns:
            problems.add("(header)", col, None, "required column is missing")
    problems.raise_if_any()
    visits["patient_id"] = visits["patient_id"].astype(str)
    dates = pd.to_datetime(visits["visit_date"], errors="coerce", format="ISO8601")
    bad = visits.index[dates.isna()]
    for label in bad:
        problems.add(
            int(label) + 2,
            "visit_date",
            visits.at[label, "visit_date"],
            "must be a date YYYY-MM-DD",
        )
    problems.raise_if_any()
    visits["visit_date"] = dates
    return visits


def score_visits(
    visits: pd.DataFrame, measures: Sequence[str], conventions: Conventions | None = None
) -> pd.DataFrame:
    """``visits`` with each of ``measures`` not already a column scored by
    :func:`rheumetrics.measures.panel.score_frame` under ``conventions`` (default: the default
    conventions). A value that cannot be scored (other than missing) is an error naming the
    patient, the measure and the visit date. ``attrs["conventions"]`` records the conventions."""
    from rheumetrics.measures.panel import score_frame

    wanted = [m for m in dict.fromkeys(measures) if m not in visits.columns]
    if not wanted:
        return visits
    scores = score_frame(visits, conventions or Conventions(), lenient=True, measures=wanted)
    problems = ProblemCollector("visits that cannot be scored")
    for name in wanted:
        reason = scores.get(f"{name}_reason")
        if reason is None:
            continue
        bad = reason.notna() & ~reason.astype("string").str.endswith("missing").fillna(False)
        for label in visits.index[bad.to_numpy()]:
            problems.add(visits.at[label, "patient_id"], name, visits.at[label, "visit_date"],
                         str(reason[label]))  # fmt: skip
    problems.raise_if_any()
    out = visits.join(scores[[c for c in scores.columns if not c.endswith("_reason")]])
    out.attrs["conventions"] = scores.attrs.get("conventions", {})
    return out


def from_files(
    visits: Path,
    *,
    patients: Path | None = None,
    therapies: Path | None = None,
    imaging: Path | None = None,
    measures: Sequence[str] = (),
    conventions: Conventions | None = None,
    progress: Callable[[str], None] | None = None,
) -> CohortFrames:
    """Read a cohort from files: ``visits`` (a visit frame with ``patient_id`` and
    ``visit_date``), optional ``patients`` (one row per patient), ``therapies`` (courses with
    start and stop dates) and ``imaging`` (per-site reads with ``image_date``).

    ``measures`` are scored from the visit items under ``conventions`` (:func:`score_visits`).
    Patients without a patients file are the patients with visits.
    """
    from rheumetrics.io import read_table

    note = progress or (lambda _msg: None)
    note(f"reading {visits.name}")
    frame = score_visits(_visits(visits), measures, conventions)
    if patients is not None:
        people = read_table(patients)
        people["patient_id"] = people["patient_id"].astype(str)
        people = people.set_index("patient_id")
    else:
        people = pd.DataFrame(
            index=pd.Index(sorted(frame["patient_id"].unique()), name="patient_id")
        )
    if therapies is not None:
        courses = read_table(therapies)
        courses["patient_id"] = courses["patient_id"].astype(str)
        for col in ("start_date", "stop_date"):
            courses[col] = pd.to_datetime(courses.get(col), errors="coerce", format="ISO8601")
    else:
        courses = pd.DataFrame(columns=list(THERAPY_COLUMNS))
    reads = pd.DataFrame()
    if imaging is not None:
        note(f"reading {imaging.name}")
        reads = read_table(imaging)
        reads["patient_id"] = reads["patient_id"].astype(str)
    return CohortFrames(
        patients=people,
        visits=frame,
        therapies=courses,
        reads=reads,
        conventions=dict(frame.attrs.get("conventions", {})),
    )
