"""Synthetic cohorts for the out-of-core tests (built here with NumPy, not by the code under test)."""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from rheumetrics.store import jointbits

NZ = files("rheumetrics.data") / "nz_synthetic"


@pytest.fixture(scope="session")
def store(tmp_path_factory):
    """A real SQLite store of the bundled synthetic NZ cohort (visits, therapies, MRI reads)."""
    from rheumetrics.store import import_file, init_db, make_engine

    url = f"sqlite:///{tmp_path_factory.mktemp('store') / 'nz.sqlite'}"
    engine = make_engine(url)
    init_db(engine)
    for name in ("visits", "therapies", "imaging"):
        data = "imaging_reads" if name == "imaging" else name
        import_file(engine, NZ / f"nz_synthetic_{data}.csv", NZ / f"nz_synthetic_{name}.toml")
    return url, engine


@pytest.fixture(scope="session")
def dataset(store, tmp_path_factory):
    """The store written by ``rheumetrics export parquet`` (8 buckets)."""
    from rheumetrics.cli import app
    from rheumetrics.scale import open_dataset

    url, _ = store
    out = tmp_path_factory.mktemp("export") / "nz"
    result = CliRunner().invoke(app, ["export", "parquet", str(out), "--db", url, "--buckets", "8"])
    assert result.exit_code == 0, result.output
    return open_dataset(out)


@pytest.fixture(scope="package")
def cluster():
    """A real two-worker LocalCluster, shared by the tests that run on it."""
    from rheumetrics.scale import execution

    with execution(0, scheduler="local", workers=2) as where:
        yield where


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
