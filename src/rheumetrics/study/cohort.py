"""Load a study's cohort: from the cohort store (building it from bundled files first when asked)
or from plain files, as patients, scored visits, therapy courses and imaging scores.

Clinical scores come from the store's score run or from :func:`rheumetrics.measures.panel.score_frame`;
imaging totals are scored from the per-site reads by :func:`rheumetrics.imaging.score_reads`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from rheumetrics.errors import ProblemCollector
from rheumetrics.io import read_table
from rheumetrics.measures import MEASURES
from rheumetrics.measures.conventions import Conventions
from rheumetrics.measures.panel import score_frame
from rheumetrics.study.model import Study


@dataclass
class Cohort:
    """A cohort ready for a study: one frame per kind of record."""

    patients: pd.DataFrame  # indexed by patient_id; characteristics and attributes as columns
    visits: pd.DataFrame  # patient_id, visit_date, items and scores
    therapies: pd.DataFrame  # patient_id, drug, drug_class, start_date, stop_date
    imaging: pd.DataFrame  # imaging totals per read, with image_date
    source: str
    conventions: dict[str, Any] = field(default_factory=dict)
    imports: list[dict[str, Any]] = field(default_factory=list)


def load_cohort(
    study: Study, db_url: str | None = None, progress: Callable[[str], None] | None = None
) -> Cohort:
    """The cohort named by ``study`` (``db_url`` overrides the study's store URL)."""
    note = progress or (lambda _msg: None)
    if study.cohort.store is not None or db_url is not None:
        return _from_store(study, db_url or str(study.cohort.store), note)
    return _from_files(study, note)


def _from_store(study: Study, url: str, note: Callable[[str], None]) -> Cohort:
    from sqlalchemy.engine import make_url

    from rheumetrics.cohort import from_store
    from rheumetrics.store.engine import init_db, make_engine
    from rheumetrics.store.importer import import_file

    engine = make_engine(url)
    try:
        init_db(engine)
        imports = []
        for item in study.cohort.imports:
            if _already_imported(engine, item.source, item.mapping):
                imports.append(
                    {"source": item.source.name, "skipped": "imported before, unchanged"}
                )
                continue
            note(f"importing {item.source.name}")
            result = import_file(engine, item.source, item.mapping)
            imports.append({"source": item.source.name, **result.summary()})
        note("loading the cohort")
        frames = from_store(engine)
        patients, visits, therapies, reads = (
            frames.patients, frames.visits, frames.therapies, frames.reads
        )  # fmt: skip
    finally:
        engine.dispose()
    patients = _flatten_attributes(patients)
    patients.index.name = "patient_id"
    visits = visits.reset_index(drop=True)
    shown = make_url(url).render_as_string(hide_password=True)
    return Cohort(
        patients=patients,
        visits=visits,
        therapies=therapies,
        imaging=_imaging_scores(reads),
        source=f"cohort store {shown}",
        conventions=dict(visits.attrs.get("conventions", {})),
        imports=imports,
    )


def _already_imported(engine: Any, source: Path, mapping: Path) -> bool:
    """Whether the store records an import of this very file (SHA-256) with this very mapping:
    importing it again would change nothing, so it is not re-read."""
    import hashlib

    from sqlalchemy import select

    from rheumetrics.store.mapping import load_mapping
    from rheumetrics.store.models import ImportRun

    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    mapping_sha = load_mapping(mapping).sha256
    query = select(ImportRun.id).where(ImportRun.source_sha256 == digest,
                                       ImportRun.mapping_sha256 == mapping_sha).limit(1)  # fmt: skip
    with engine.connect() as conn:
        return conn.execute(query).first() is not None


def _flatten_attributes(patients: pd.DataFrame) -> pd.DataFrame:
    if "attributes" not in patients.columns:
        return patients
    attrs = pd.DataFrame(
        [a if isinstance(a, dict) else {} for a in patients["attributes"]], index=patients.index
    )
    return patients.drop(columns=["attributes"]).join(attrs)


def _from_files(study: Study, note: Callable[[str], None]) -> Cohort:
    src = study.cohort
    assert src.visits is not None
    note(f"reading {src.visits.name}")
    visits = read_table(src.visits)
    problems = ProblemCollector(f"{src.visits}: visit file")
    for col in ("patient_id", "visit_date"):
        if col not in visits.columns:
            problems.add("(header)", col, None, "required column is missing")
    problems.raise_if_any()
    visits["patient_id"] = visits["patient_id"].astype(str)
    dates = pd.to_datetime(visits["visit_date"], errors="coerce", format="ISO8601")
    for label in visits.index[dates.isna()]:
        problems.add(
            int(label) + 2,
            "visit_date",
            visits.at[label, "visit_date"],
            "must be a date YYYY-MM-DD",
        )
    problems.raise_if_any()
    visits["visit_date"] = dates
    visits = _scored(study, visits)
    if src.patients is not None:
        patients = read_table(src.patients)
        patients["patient_id"] = patients["patient_id"].astype(str)
        patients = patients.set_index("patient_id")
    else:
        patients = pd.DataFrame(
            index=pd.Index(sorted(visits["patient_id"].unique()), name="patient_id")
        )
    if src.therapies is not None:
        therapies = read_table(src.therapies)
        therapies["patient_id"] = therapies["patient_id"].astype(str)
        for col in ("start_date", "stop_date"):
            therapies[col] = pd.to_datetime(therapies.get(col), errors="coerce", format="ISO8601")
    else:
        therapies = pd.DataFrame(
            columns=["patient_id", "drug", "drug_class", "start_date", "stop_date"]
        )
    imaging = pd.DataFrame()
    if src.imaging is not None:
        note(f"scoring {src.imaging.name}")
        reads = read_table(src.imaging)
        reads["patient_id"] = reads["patient_id"].astype(str)
        imaging = _imaging_scores(reads)
    return Cohort(
        patients=patients,
        visits=visits,
        therapies=therapies,
        imaging=imaging,
        source=f"files {src.visits.name}",
        conventions=dict(visits.attrs.get("conventions", {})),
    )


def _scored(study: Study, visits: pd.DataFrame) -> pd.DataFrame:
    """Visits with every clinical outcome that is a measure scored (bad values are errors)."""
    wanted = [o.column for o in study.outcomes if not o.is_imaging and o.column in MEASURES]
    wanted = [m for m in wanted if m is not None and m not in visits.columns]
    if not wanted:
        return visits
    conventions = Conventions().with_(**study.conventions)
    scores = score_frame(visits, conventions, lenient=True, measures=wanted)
    problems = ProblemCollector("visits that cannot be scored")
    for name in wanted:
        reason = scores.get(f"{name}_reason")
        if reason is None:
            continue
        bad = reason.notna() & ~reason.astype("string").str.endswith("missing").fillna(False)
        for label in visits.index[bad.to_numpy()]:
            problems.add(
                visits.at[label, "patient_id"],
                name,
                visits.at[label, "visit_date"],
                str(reason[label]),
            )
    problems.raise_if_any()
    out = visits.join(scores[[c for c in scores.columns if not c.endswith("_reason")]])
    out.attrs["conventions"] = scores.attrs.get("conventions", {})
    return out


def _imaging_scores(reads: pd.DataFrame) -> pd.DataFrame:
    """Totals of every read (per reader and session) with the date the images were taken."""
    from rheumetrics.cohort import imaging_totals

    return imaging_totals(reads)
