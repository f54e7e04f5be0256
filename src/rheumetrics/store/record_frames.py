"""Therapies, imaging reads and patients read back from the store as frames.

Imaging reads come back in the columns of :data:`rheumetrics.schema.records.IMAGING_FIELDS`
(those of :mod:`rheumetrics.imaging`), so they are scored as they are.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from sqlalchemy import (
    Connection,
    Engine,
    select,
)

from rheumetrics.store.models import (
    IMAGING_READ,
    PATIENT,
    THERAPY,
)
from rheumetrics.store.sql_frames import connected, fetch_filtered

THERAPY_COLUMNS = ("patient_id", "drug", "drug_class", "dose", "dose_unit", "route",
                   "start_date", "stop_date", "stop_reason")  # fmt: skip


def load_therapies(
    engine: Engine | Connection, patients: Iterable[str] | None = None
) -> pd.DataFrame:
    """Therapy frame: one row per drug course (columns :data:`THERAPY_COLUMNS`)."""
    t, p = THERAPY, PATIENT
    stmt = select(
        p.c.patient_key.label("patient_id"), *[t.c[c] for c in THERAPY_COLUMNS[1:]]
    ).select_from(t.join(p, t.c.patient_id == p.c.id))
    with connected(engine) as conn:
        df = fetch_filtered(conn, stmt, patients)
    for col in ("start_date", "stop_date"):
        df[col] = pd.to_datetime(df[col]).astype("datetime64[s]")
    df["dose"] = pd.to_numeric(df["dose"]).astype("float64")
    return df.sort_values(["patient_id", "start_date", "drug"], ignore_index=True)


def load_imaging_reads(
    engine: Engine | Connection, patients: Iterable[str] | None = None
) -> pd.DataFrame:
    """Imaging reads, one row per reader, site and feature, in the columns of
    :data:`rheumetrics.schema.records.IMAGING_FIELDS` (those of :mod:`rheumetrics.imaging`, so
    they can be scored directly)."""
    r, p = IMAGING_READ, PATIENT
    cols = [c for c in r.c if c.name not in ("id", "patient_id")]
    stmt = select(p.c.patient_key.label("patient_id"), *cols).select_from(
        r.join(p, r.c.patient_id == p.c.id)
    )
    with connected(engine) as conn:
        df = fetch_filtered(conn, stmt, patients)
    df["image_date"] = pd.to_datetime(df["image_date"]).astype("datetime64[s]")
    df["grade"] = pd.to_numeric(df["grade"]).astype("float64")
    df["not_assessable"] = df["not_assessable"].astype(bool)
    return df


def load_patients(
    engine: Engine | Connection, patients: Iterable[str] | None = None
) -> pd.DataFrame:
    """Patients indexed by key: diagnosis (+ SNOMED CT), sex, birth year, serology, attributes."""
    p = PATIENT
    stmt = select(*[c for c in p.c if c.name != "id"])
    with connected(engine) as conn:
        df = fetch_filtered(conn, stmt, patients)
    df["birth_year"] = pd.to_numeric(df["birth_year"]).astype("Int64")
    for col in ("rf", "acpa", "hla_b27"):
        df[col] = df[col].astype("boolean")
    return df.set_index("patient_key").sort_index()
