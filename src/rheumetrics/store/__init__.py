"""The longitudinal cohort store: SQLite by default, PostgreSQL for teams.

Python API (the CLI ``rheumetrics db|import|export`` drives the same functions)::

    from rheumetrics.store import make_engine, init_db, import_file, load_visits
    engine = make_engine()            # --db / $RHEUMETRICS_DB_URL / sqlite:///rheumetrics.sqlite
    init_db(engine)                   # alembic upgrade head
    import_file(engine, "visits.csv", "mapping.toml")
    visits = load_visits(engine)      # visit frame with stored scores

See ``docs/store.md``.
"""

from rheumetrics.store.engine import init_db, make_engine, resolve_url
from rheumetrics.store.export import export_deidentified, export_fhir, export_tidy, fhir_bundle
from rheumetrics.store.importer import ImportResult, import_file, prepare
from rheumetrics.store.mapping import Mapping, check_mapping, load_mapping
from rheumetrics.store.record_frames import load_imaging_reads, load_patients, load_therapies
from rheumetrics.store.scoring import rescore
from rheumetrics.store.visit_frames import load_visits

__all__ = [
    "ImportResult",
    "Mapping",
    "check_mapping",
    "export_deidentified",
    "export_fhir",
    "export_tidy",
    "fhir_bundle",
    "import_file",
    "init_db",
    "load_imaging_reads",
    "load_mapping",
    "load_patients",
    "load_therapies",
    "load_visits",
    "make_engine",
    "prepare",
    "rescore",
    "resolve_url",
]
