"""The real RAPPORT cohort imports with the shipped mapping (refdata README: 159 patients, HAQ,
DAS28 and RADAI at months 0/3/6/9/12, long format; outno 1 = HAQ, 2 = DAS28, 3 = RADAI)."""

from __future__ import annotations

import csv
from collections import Counter
from importlib.resources import files
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from rheumetrics.store import import_file, load_patients, load_visits

DATA = Path(str(files("rheumetrics") / "data" / "mdhglm_ra_data_RAPPORT.csv"))
MAPPING = Path(str(files("rheumetrics.store") / "mappings" / "rapport.toml"))
SHARED = Path(__file__).parents[3] / "shared" / "refdata" / "mdhglm_ra_data_RAPPORT.csv"


def _source() -> list[dict[str, str]]:
    with DATA.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_shipped_copy_is_the_reference_file() -> None:
    if SHARED.exists():
        assert DATA.read_bytes() == SHARED.read_bytes()
    assert len(_source()) == 2089  # refdata README: 2089 rows


def test_rapport_imports_completely(engine: Engine) -> None:
    result = import_file(engine, DATA, MAPPING)
    src = _source()
    assert (
        result.patients_added == 159 == len({r["id"] for r in src})
    )  # refdata README: 159 patients
    visits = load_visits(engine)
    # one visit per patient and month that has any measurement
    assert len(visits) == len({(r["id"], r["time"]) for r in src})
    per_item = Counter(r["outno"] for r in src if r["outcome"] not in ("", "NA"))
    assert visits["haq_di"].notna().sum() == per_item["1"]
    assert visits["das28_reported"].notna().sum() == per_item["2"]
    assert visits["radai"].notna().sum() == per_item["3"]
    # first line of the file: patient 48, HAQ at T=0 is 1.5; months become nominal dates
    row = visits[
        (visits["patient_id"] == "48") & (visits["visit_date"] == pd.Timestamp("2000-01-01"))
    ]
    assert row["haq_di"].item() == 1.5
    m3 = visits[
        (visits["patient_id"] == "48") & (visits["visit_date"] == pd.Timestamp("2000-04-01"))
    ]
    assert m3["haq_di"].item() == 1.0  # second line: haq3 = 1.0
    pats = load_patients(engine)
    females = {r["id"] for r in src if r["sex"] == "V"}  # V = vrouw (female)
    assert set(pats.index[pats["sex"] == "female"]) == females
    assert (pats["diagnosis_snomed"] == "69896004").all()  # SNOMED CT rheumatoid arthritis
    assert pats.loc["48", "attributes"]["age_at_baseline"] == 56.0


def test_rapport_reimport_changes_nothing(engine: Engine, h) -> None:
    import_file(engine, DATA, MAPPING)
    before = h.snapshot(engine)
    again = import_file(engine, DATA, MAPPING)
    assert not again.changed
    assert h.snapshot(engine) == before
