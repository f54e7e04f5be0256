"""Synthetic cohorts for the out-of-core tests (built here with NumPy, not by the code under test)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rheumetrics.store import jointbits


def synthetic_visits(n_patients: int, visits_per_patient: int, seed: int = 7) -> pd.DataFrame:
    """Visits with clinical inputs and, for half of them, packed per-joint findings (no counts)."""
    rng = np.random.default_rng(seed)
    n = n_patients * visits_per_patient
    patient = np.repeat(np.arange(n_patients), visits_per_patient)
    visit = np.tile(np.arange(visits_per_patient), n_patients)
    tender = rng.random((n, jointbits.N_JOINTS)) < 0.15
    swollen = rng.random((n, jointbits.N_JOINTS)) < 0.10
    assessed = rng.random((n, jointbits.N_JOINTS)) < 0.995
    frame = pd.DataFrame(
        {
            "visit_id": np.arange(n, dtype=np.int64) + 1,
            "patient_id": [f"P{p:07d}" for p in patient],
            "visit_date": pd.Timestamp("2020-01-01")
            + pd.to_timedelta(visit * 91 + rng.integers(0, 10, n), unit="D"),
            "tjc28": rng.integers(0, 29, n).astype(float),
            "sjc28": rng.integers(0, 29, n).astype(float),
            "esr_mm_h": rng.integers(2, 100, n).astype(float),
            "crp_mg_l": np.round(rng.gamma(1.2, 10.0, n), 1),
            "gh_mm": rng.integers(0, 101, n).astype(float),
            "ptga": rng.integers(0, 21, n) / 2.0,
            "phga": rng.integers(0, 21, n) / 2.0,
        }
    )
    with_masks = rng.random(n) < 0.5
    frame.loc[with_masks, ["tjc28", "sjc28"]] = np.nan
    for name, flags in (("tender", tender), ("swollen", swollen)):
        frame[name] = jointbits.pack(flags & assessed)
        frame[f"{name}_assessed"] = jointbits.pack(assessed)
    return frame


def synthetic_therapies(n_patients: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": [f"P{p:07d}" for p in range(n_patients)],
            "drug": "methotrexate",
            "drug_class": "csDMARD",
            "start_date": pd.Timestamp("2019-06-01"),
            "stop_date": pd.NaT,
        }
    )
