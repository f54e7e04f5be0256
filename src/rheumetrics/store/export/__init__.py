"""Exports of the store: tidy CSV/Parquet, FHIR R4 bundles, de-identified research files."""

from rheumetrics.store.export.deid import export_deidentified
from rheumetrics.store.export.fhir import export_fhir, fhir_bundle
from rheumetrics.store.export.tidy import export_tidy

__all__ = ["export_deidentified", "export_fhir", "export_tidy", "fhir_bundle"]
