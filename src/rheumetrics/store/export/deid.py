"""De-identified research export: pseudonyms, per-patient date shifting, no free text.

- **Pseudonyms**: ``R`` + the first 16 hex digits of HMAC-SHA256(secret, patient key). With the
  same secret, repeated exports link; without it nobody can go back to the store's keys. If no
  secret is given, a random one is used and forgotten (exports then never link).
- **Date shifting**: every date of a patient moves by the same number of days, drawn from
  HMAC-SHA256(secret, "shift:" + key) uniformly in ``[-max_shift_days, +max_shift_days]``;
  intervals within a patient are kept exactly, calendar dates are not.
- **Age instead of birth year**: ``age_at_visit`` = visit year - birth year (whole years, from the
  unshifted date), top-coded at 90 ("90 or older", as HIPAA Safe Harbor, 45 CFR
  164.514(b)(2)(i)(C), aggregates ages over 89).
- **No free text**: visit labels, patient attributes, therapy doses' free-text units and any other
  text not from a closed list are dropped. Kept text columns are closed vocabularies (diagnosis,
  sex, visit kind, drug class, route, stop reason) and the drug name.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from rheumetrics import __version__
from rheumetrics.store.export.tidy import write_frame
from rheumetrics.store.loaders import load_patients, load_therapies, load_visits

#: Ages above this are reported as this value (HIPAA Safe Harbor aggregates ages over 89).
AGE_TOP_CODE = 90


def pseudonym(secret: bytes, key: str) -> str:
    """Stable pseudonym of a patient key under ``secret``."""
    return "R" + hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()[:16]


def shift_days(secret: bytes, key: str, max_shift_days: int) -> int:
    """Per-patient date shift in ``[-max_shift_days, max_shift_days]`` under ``secret``."""
    digest = hmac.new(secret, b"shift:" + key.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") % (2 * max_shift_days + 1) - max_shift_days


def deidentify(
    visits: pd.DataFrame,
    patients: pd.DataFrame,
    therapies: pd.DataFrame,
    secret: bytes,
    max_shift_days: int = 180,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """De-identified copies of a visit frame and a therapy frame (see module docstring)."""
    if max_shift_days < 1:
        raise ValueError("max_shift_days must be at least 1")
    keys = pd.Index(sorted(set(visits["patient_id"]) | set(therapies["patient_id"])), dtype=object)
    pseud = pd.Series([pseudonym(secret, str(k)) for k in keys], index=keys)
    shift = pd.Series([shift_days(secret, str(k), max_shift_days) for k in keys], index=keys)

    v = visits.reset_index(drop=True).drop(columns=["visit_label"], errors="ignore")
    birth = v["patient_id"].map(patients["birth_year"]).astype("Float64")
    age = v["visit_date"].dt.year.astype("Float64") - birth
    v.insert(2, "age_at_visit", age.clip(upper=AGE_TOP_CODE).astype("Int64"))
    for col in ("diagnosis", "sex"):
        v.insert(3, col, v["patient_id"].map(patients[col]))
    v["visit_date"] = v["visit_date"] + pd.to_timedelta(
        v["patient_id"].map(shift).to_numpy(), unit="D"
    )
    v["patient_id"] = v["patient_id"].map(pseud)

    t = therapies.drop(columns=["dose_unit", "dose"], errors="ignore").copy()
    offsets = pd.to_timedelta(t["patient_id"].map(shift).to_numpy(dtype=float), unit="D")
    for col in ("start_date", "stop_date"):
        t[col] = t[col] + offsets
    t["patient_id"] = t["patient_id"].map(pseud)
    order = np.lexsort((v["visit_date"].to_numpy(), v["patient_id"].to_numpy()))
    return v.iloc[order].reset_index(drop=True), t.sort_values(
        ["patient_id", "start_date"], ignore_index=True
    )


def export_deidentified(
    engine: Engine,
    out_dir: str | Path,
    *,
    secret: str | bytes | None = None,
    max_shift_days: int = 180,
    fmt: str = "csv",
    patients: Iterable[str] | None = None,
) -> dict[str, Path]:
    """Write ``visits.<fmt>`` and ``therapies.<fmt>`` de-identified into ``out_dir``."""
    if fmt not in ("csv", "parquet"):
        raise ValueError("fmt must be 'csv' or 'parquet'")
    key = secret.encode() if isinstance(secret, str) else (secret or secrets.token_bytes(32))
    keys = list(patients) if patients is not None else None
    visits = load_visits(engine, keys, scores=True)
    v, t = deidentify(
        visits, load_patients(engine, keys), load_therapies(engine, keys), key, max_shift_days
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "what": "rheumetrics de-identified research export",
        "exported_at": dt.date.today().isoformat(),
        "exported_by": f"rheumetrics {__version__}",
        "pseudonyms": "HMAC-SHA256 of the patient key"
        + ("" if secret else " under a discarded random secret"),
        "date_shift": f"per patient, uniform in [-{max_shift_days}, +{max_shift_days}] days",
        "age": f"age_at_visit in whole years, top-coded at {AGE_TOP_CODE}",
        "conventions": visits.attrs.get("conventions"),
        "scores_package_version": visits.attrs.get("package_version"),
    }
    return {
        "visits": write_frame(v, out / f"visits.{fmt}", meta),
        "therapies": write_frame(t, out / f"therapies.{fmt}", meta),
    }
