"""The longitudinal cohort store: SQLite by default, PostgreSQL for teams.

Python API (the CLI ``rheumetrics db|import|export`` drives the same functions)::

    from rheumetrics.store import make_engine, init_db, import_file, load_visits
    engine = make_engine()            # --db / $RHEUMETRICS_DB_URL / sqlite:///rheumetrics.sqlite
    init_db(engine)                   # alembic upgrade head
    import_file(engine, "visits.csv", "mapping.toml")
    visits = load_visits(engine)      # visit frame with stored scores

See ``docs/store.md``.
"""

from typing import TYPE_CHECKING

from rheumetrics.lazy import lazy_attributes

if TYPE_CHECKING:
    from rheumetrics.store.database import init_db, make_engine, resolve_url
    from rheumetrics.store.export import export_deidentified, export_fhir, export_tidy, fhir_bundle
    from rheumetrics.store.importer import ImportResult, import_file, stage_file
    from rheumetrics.store.mapping import Mapping, load_mapping
    from rheumetrics.store.mapping_check import check_mapping
    from rheumetrics.store.record_frames import load_imaging_reads, load_patients, load_therapies
    from rheumetrics.store.scoring import rescore
    from rheumetrics.store.visit_frames import load_visits

#: Public name -> the submodule defining it, imported on first use.
_WHERE = {
    "init_db": "database",
    "make_engine": "database",
    "resolve_url": "database",
    "export_deidentified": "export",
    "export_fhir": "export",
    "export_tidy": "export",
    "fhir_bundle": "export",
    "ImportResult": "importer",
    "import_file": "importer",
    "stage_file": "importer",
    "Mapping": "mapping",
    "check_mapping": "mapping_check",
    "load_mapping": "mapping",
    "load_imaging_reads": "record_frames",
    "load_patients": "record_frames",
    "load_therapies": "record_frames",
    "rescore": "scoring",
    "load_visits": "visit_frames",
}
__getattr__, __dir__ = lazy_attributes(__name__, _WHERE)

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
    "rescore",
    "resolve_url",
    "stage_file",
]
