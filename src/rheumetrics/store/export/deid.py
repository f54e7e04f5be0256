"""De-identified research export: pseudonyms, per-patient date shifting, no free text.

- **Pseudonyms**: ``R`` + the first 16 hex digits of HMAC-SHA256(secret, patient key). With the
  same secret, repeated exports link; without it nobody can go back to the store's keys. If no
  secret is given, a random one is used and forgotten (exports then never link).
- **Date shifting**: every date of a patient moves by the same number of days ``s``, drawn from
  HMAC-SHA256(secret, "shift:" + key) uniformly among the whole days with
  ``MIN_SHIFT_DAYS <= |s| <= max_shift_days``. A shift is never 0 and never under
  :data:`MIN_SHIFT_DAYS` days (no exported date is within a week of the real one), and
  ``max_shift_days`` must be at least :data:`MIN_MAX_SHIFT_DAYS` (a narrow range would pin the
  real dates). Intervals within a patient are kept exactly, calendar dates are not.
- **Age from the shifted dates**: ``age_at_visit`` = shifted visit year - birth year. Computed from
  the real date, the age would step on the real 1 January and give the secret shift away to within
  the visit interval; computed from the shifted date it steps on the shifted 1 January and tells
  nothing about the shift. The birth year itself is not exported.
- **90 and over**: HIPAA Safe Harbor (45 CFR 164.514(b)(2)(i)(C)) aggregates ages over 89 into one
  category, "90 or older". An exact earlier age plus a visit interval would give the exact later
  age, so a patient who is 90 or older at any exported date (visit or therapy) is reported as ``"90+"`` at *every*
  visit (the column is text: whole years, or ``"90+"``).
- **No free text**: visit labels, patient attributes, doses and dose units are dropped. Kept text
  columns are closed vocabularies (diagnosis, sex, visit kind, drug class, route, stop reason);
  the drug name is replaced by its drug-catalogue name (:mod:`rheumetrics.schema.drugs`), and a
  name the catalogue does not know is dropped (it may hold a person's name), leaving the class.

References: US Department of Health and Human Services, "Guidance Regarding Methods for
De-identification of Protected Health Information in Accordance with the HIPAA Privacy Rule"
(2012), https://www.hhs.gov/hipaa/for-professionals/privacy/special-topics/de-identification/;
Hripcsak G et al. "Preserving temporal relations in clinical data while maintaining privacy",
J Am Med Inform Assoc 2016;23(6):1040-1045, doi:10.1093/jamia/ocw001.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from rheumetrics import __version__
from rheumetrics.store.export.tidy import FrameWriter
from rheumetrics.store.record_frames import load_patients, load_therapies
from rheumetrics.store.visit_frames import load_visits

#: Ages of 90 and above are reported as this category (HIPAA Safe Harbor aggregates ages over 89).
AGE_TOP_CODE = 90
AGE_TOP_LABEL = "90+"
#: Smallest absolute date shift in days: a shift is never 0 and never under a week.
MIN_SHIFT_DAYS = 7
#: Smallest accepted ``max_shift_days``: each patient's shift is one of at least 48 values.
MIN_MAX_SHIFT_DAYS = 30


def pseudonym(secret: bytes, key: str) -> str:
    """Stable pseudonym of a patient key under ``secret``."""
    return "R" + hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()[:16]


def check_max_shift(max_shift_days: int) -> None:
    """Refuse a shift range too narrow to hide the real dates."""
    if isinstance(max_shift_days, bool) or not isinstance(max_shift_days, (int, np.integer)):
        raise ValueError(f"max_shift_days must be a whole number of days, not {max_shift_days!r}")
    if max_shift_days < MIN_MAX_SHIFT_DAYS:
        raise ValueError(
            f"max_shift_days = {max_shift_days} is too small to hide the real dates: it must be at "
            f"least {MIN_MAX_SHIFT_DAYS} days (shifts are drawn from {MIN_SHIFT_DAYS} to "
            "max_shift_days days, earlier or later)"
        )


def shift_days(secret: bytes, key: str, max_shift_days: int) -> int:
    """Per-patient date shift under ``secret``: ``MIN_SHIFT_DAYS <= |shift| <= max_shift_days``.

    >>> s = [shift_days(b"k", str(i), 30) for i in range(2000)]
    >>> min(map(abs, s)), max(map(abs, s)), 0 in s
    (7, 30, False)
    """
    check_max_shift(max_shift_days)
    digest = hmac.new(secret, b"shift:" + key.encode(), hashlib.sha256).digest()
    span = max_shift_days - MIN_SHIFT_DAYS + 1  # magnitudes per sign
    draw = int.from_bytes(digest[:8], "big") % (2 * span)
    magnitude = MIN_SHIFT_DAYS + draw % span
    return magnitude if draw < span else -magnitude


def _catalogue_names(drugs: pd.Series) -> pd.Series:
    """Drug-catalogue names of free-text drug names; None where the catalogue has no entry."""
    try:
        from rheumetrics.schema.drugs import find_drug
    except ImportError:  # no drug catalogue installed: keep no drug names at all
        return pd.Series(None, index=drugs.index, dtype=object)
    names = {d: (found.name if (found := find_drug(d)) else None) for d in drugs.dropna().unique()}
    return drugs.map(names).astype(object)


def _ages(visits: pd.DataFrame, birth: pd.Series, last_year: pd.Series) -> pd.Series:
    """Whole-year ages from the shifted dates; every visit of a patient who is 90 or older at
    any exported date (visit or therapy, ``last_year`` per patient) is "90+"."""
    age = visits["visit_date"].dt.year.astype("Float64") - birth
    oldest = visits["patient_id"].map(last_year).astype("Float64") - birth
    old = oldest.ge(AGE_TOP_CODE).fillna(False).to_numpy(dtype=bool)
    text = age.astype("Int64").astype("string")
    return text.mask(old, AGE_TOP_LABEL).astype(object)


def deidentify(
    visits: pd.DataFrame,
    patients: pd.DataFrame,
    therapies: pd.DataFrame,
    secret: bytes,
    max_shift_days: int = 180,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """De-identified copies of a visit frame and a therapy frame (see module docstring)."""
    check_max_shift(max_shift_days)
    keys = pd.Index(sorted(set(visits["patient_id"]) | set(therapies["patient_id"])), dtype=object)
    pseud = pd.Series([pseudonym(secret, str(k)) for k in keys], index=keys)
    shift = pd.Series([shift_days(secret, str(k), max_shift_days) for k in keys], index=keys)

    v = visits.reset_index(drop=True).drop(columns=["visit_label"], errors="ignore")
    v["visit_date"] = v["visit_date"] + pd.to_timedelta(
        v["patient_id"].map(shift).to_numpy(dtype=float), unit="D"
    )
    t = therapies.drop(columns=["dose_unit", "dose"], errors="ignore").copy()
    t["drug"] = _catalogue_names(t["drug"])
    offsets = pd.to_timedelta(t["patient_id"].map(shift).to_numpy(dtype=float), unit="D")
    for col in ("start_date", "stop_date"):
        t[col] = t[col] + offsets
    dates = pd.concat([v[["patient_id", "visit_date"]].set_axis(["patient_id", "date"], axis=1)]
                      + [t[["patient_id", c]].set_axis(["patient_id", "date"], axis=1)
                         for c in ("start_date", "stop_date")])  # fmt: skip
    last_year = dates.dropna().groupby("patient_id")["date"].max().dt.year
    birth = v["patient_id"].map(patients["birth_year"]).astype("Float64")
    v.insert(2, "age_at_visit", _ages(v, birth, last_year))
    for col in ("diagnosis", "sex"):
        v.insert(3, col, v["patient_id"].map(patients[col]))
    v["patient_id"] = v["patient_id"].map(pseud)
    t["patient_id"] = t["patient_id"].map(pseud)
    order = np.lexsort((v["visit_date"].to_numpy(), v["patient_id"].to_numpy()))
    return v.iloc[order].reset_index(drop=True), t.sort_values(
        ["patient_id", "start_date"], ignore_index=True, kind="stable"
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
    check_export(fmt, max_shift_days)
    key = secret_key(secret)
    keys = list(patients) if patients is not None else None
    visits = load_visits(engine, keys, scores=True)
    frames = deidentify(
        visits, load_patients(engine, keys), load_therapies(engine, keys), key, max_shift_days
    )
    meta = deid_meta(visits.attrs, bool(secret), max_shift_days)
    return write_deidentified([frames], out_dir, fmt, meta)


def check_export(fmt: str, max_shift_days: int) -> None:
    """Refuse an unknown file format or a too narrow shift range before anything is read."""
    if fmt not in ("csv", "parquet"):
        raise ValueError("fmt must be 'csv' or 'parquet'")
    check_max_shift(max_shift_days)


def secret_key(secret: str | bytes | None) -> bytes:
    """The pseudonym key: ``secret``, or a random one that is never stored."""
    return secret.encode() if isinstance(secret, str) else (secret or secrets.token_bytes(32))


def deid_meta(attrs: dict[str, Any], secret_given: bool, max_shift_days: int) -> dict[str, Any]:
    """The sidecar of a de-identified export of visits read with ``attrs`` (conventions)."""
    return {
        "what": "rheumetrics de-identified research export",
        "exported_at": dt.date.today().isoformat(),
        "exported_by": f"rheumetrics {__version__}",
        "pseudonyms": "HMAC-SHA256 of the patient key"
        + ("" if secret_given else " under a discarded random secret"),
        "date_shift": f"per patient, secret, {MIN_SHIFT_DAYS} to {max_shift_days} days "
        "earlier or later (never 0)",
        "age": "age_at_visit in whole years from the shifted visit date; "
        f"{AGE_TOP_LABEL!r} at every visit of a patient aged {AGE_TOP_CODE} or over at any visit",
        "drug": "drug-catalogue name; names the catalogue does not know are dropped",
        "conventions": attrs.get("conventions"),
        "scores_package_version": attrs.get("package_version"),
    }


def write_deidentified(
    pieces: Iterable[tuple[pd.DataFrame, pd.DataFrame]],
    out_dir: str | Path,
    fmt: str,
    meta: dict[str, Any],
) -> dict[str, Path]:
    """Write :func:`deidentify` outputs, piece by piece in pseudonym order, into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"visits": out / f"visits.{fmt}", "therapies": out / f"therapies.{fmt}"}
    with FrameWriter(paths["visits"], meta) as v, FrameWriter(paths["therapies"], meta) as t:
        for visits, therapies in pieces:
            v.write(visits)
            t.write(therapies)
    return paths
