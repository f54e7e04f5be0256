"""A study's cohort: the shared cohort frames (:mod:`rheumetrics.cohort`) read from the cohort
store (building it from the files the study imports first) or from plain files, under the study
file's scoring conventions, with the imaging reads scored into totals.

The conventions apply to every cohort: from files the measures are scored under them; from a
store, the score run of those conventions is read (a store the study builds itself from its
imports is scored under them when it has no such run; any other store must have one, see
``rheumetrics db rescore``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from rheumetrics.measures import MEASURES
from rheumetrics.measures.conventions import Conventions
from rheumetrics.study.definitions import Study


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


def study_conventions(study: Study) -> Conventions:
    """The scoring conventions the study file sets (the defaults for the keys it leaves out)."""
    return Conventions().with_(**study.conventions)


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

    from rheumetrics.cohort import flatten_attributes, from_store, imaging_totals
    from rheumetrics.errors import RheumetricsError
    from rheumetrics.store.database import init_db, make_engine
    from rheumetrics.store.importer import import_file
    from rheumetrics.store.scoring import rescore

    conventions = study_conventions(study) if study.conventions else None
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
        note("reading the store")
        try:
            frames = from_store(engine, run=conventions)
        except RheumetricsError:
            if conventions is None or not study.cohort.imports:
                raise
            note("scoring the store under the study's conventions")
            rescore(engine, conventions)  # the study's own store: score it as the file asks
            frames = from_store(engine, run=conventions)
    finally:
        engine.dispose()
    patients = flatten_attributes(frames.patients)
    patients.index.name = "patient_id"
    visits = frames.visits.reset_index(drop=True)
    shown = make_url(url).render_as_string(hide_password=True)
    return Cohort(
        patients=patients,
        visits=visits,
        therapies=frames.therapies,
        imaging=imaging_totals(frames.reads),
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


def _from_files(study: Study, note: Callable[[str], None]) -> Cohort:
    from rheumetrics.cohort import from_files, imaging_totals

    src = study.cohort
    assert src.visits is not None
    measures = [o.column for o in study.outcomes if not o.is_imaging and o.column in MEASURES]
    frames = from_files(
        src.visits,
        patients=src.patients,
        therapies=src.therapies,
        imaging=src.imaging,
        measures=[m for m in measures if m is not None],
        conventions=study_conventions(study),
        progress=note,
    )
    if src.imaging is not None:
        note(f"scoring {src.imaging.name}")
    return Cohort(
        patients=frames.patients,
        visits=frames.visits,
        therapies=frames.therapies,
        imaging=imaging_totals(frames.reads),
        source=f"files {src.visits.name}",
        conventions=frames.conventions,
    )
