"""Store test fixtures: every ``engine`` test runs on SQLite and on PostgreSQL (the ``db_url``
fixture of ``tests/conftest.py``).
"""

from __future__ import annotations

import copy
import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, text

from rheumetrics.joints import joint_set
from rheumetrics.store.database import init_db, make_engine

DATA = Path(__file__).parent / "data"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An initialised store (schema at head)."""
    eng = make_engine(db_url)
    init_db(eng)
    yield eng
    eng.dispose()


# -- a small clinic export: wide CSV with 68/66 per-joint findings ---------------------------------

CLINIC_MAPPING = """
[source]
format = "csv"

[patient]
id = "patient"
diagnosis = { value = "ra" }
sex = { column = "sex", values = { F = "female", M = "male" } }
birth_year = "birth_year"
rf = "rf"

[visit]
date = "date"
label = "visit"

[values]
esr_mm_h = "esr"
crp_mg_l = { column = "crp", unit_column = "crp_unit" }
gh_mm = "gh"
ptga = "ptga"
phga = "phga"

[joints]
tender = { pattern = "t_{joint}" }
swollen = { pattern = "s_{joint}" }
"""

ALL_JOINTS = joint_set("tender68")
SWOLLEN66 = joint_set("swollen66")

#: Visits whose inputs are worked examples of clinical-measures.md §14 (expected values there).
CLINIC_VISITS: list[dict[str, Any]] = [
    # W1/W2: TJC28 4, SJC28 5, ESR 44, CRP 44 mg/L, GH 12 -> DAS28-ESR 4.56, DAS28-CRP 4.24
    {"patient": "P1", "sex": "F", "birth_year": "1960", "rf": "yes", "date": "2020-01-15", "visit": "baseline",
     "esr": "44", "crp": "44", "crp_unit": "mg/L", "gh": "12", "ptga": "", "phga": "",
     "tender": ["R_SHOULDER", "R_WRIST", "L_MCP2", "L_KNEE", "R_MTP1"],
     "swollen": ["R_MCP1", "R_MCP2", "R_PIP3", "L_WRIST", "L_ELBOW"]},
    # W13: TJC 1, SJC 1, CRP entered as 10 mg/dL (= 100 mg/L), GH 0 -> DAS28-CRP 3.46
    {"patient": "P1", "sex": "F", "birth_year": "1960", "rf": "yes", "date": "2020-04-15", "visit": "month 3",
     "esr": "", "crp": "10", "crp_unit": "mg/dL", "gh": "0", "ptga": "", "phga": "",
     "tender": ["R_KNEE"], "swollen": ["L_KNEE"]},
    # W20: TJC 1, SJC 0, PtGA 1, PhGA 0, CRP 10 mg/L -> SDAI 3.0 (remission)
    {"patient": "P2", "sex": "M", "birth_year": "1955", "rf": "no", "date": "2021-03-01", "visit": "baseline",
     "esr": "", "crp": "10", "crp_unit": "mg/L", "gh": "", "ptga": "1", "phga": "0",
     "tender": ["R_WRIST"], "swollen": []},
    # W21a: TJC 2, SJC 2, PtGA 2, PhGA 2 -> CDAI 8.0 (low)
    {"patient": "P2", "sex": "M", "birth_year": "1955", "rf": "no", "date": "2021-06-01", "visit": "month 3",
     "esr": "", "crp": "", "crp_unit": "", "gh": "", "ptga": "2", "phga": "2",
     "tender": ["R_WRIST", "L_WRIST"], "swollen": ["R_MCP2", "L_MCP2"]},
]  # fmt: skip

SCALARS = [
    "patient",
    "sex",
    "birth_year",
    "rf",
    "date",
    "visit",
    "esr",
    "crp",
    "crp_unit",
    "gh",
    "ptga",
    "phga",
]


def clinic_rows(visits: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Wide rows: every joint examined for tenderness, the 66 joints for swelling (hips blank)."""
    rows = []
    for v in visits:
        row = {k: v[k] for k in SCALARS}
        for j in ALL_JOINTS:
            row[f"t_{j}"] = "1" if j in v["tender"] else "0"
            row[f"s_{j}"] = ("1" if j in v["swollen"] else "0") if j in SWOLLEN66 else ""
        row.update(v.get("override", {}))
        rows.append(row)
    return rows


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    columns = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=columns)
        w.writeheader()
        w.writerows(rows)
    return path


@pytest.fixture
def clinic(tmp_path: Path) -> Callable[..., tuple[Path, Path]]:
    """Write the clinic CSV (optionally changed) and its mapping; returns (csv, mapping)."""

    def make(visits: list[dict[str, Any]] | None = None, name: str = "clinic.csv",
             mapping: str = CLINIC_MAPPING) -> tuple[Path, Path]:  # fmt: skip
        src = write_csv(tmp_path / name, clinic_rows(CLINIC_VISITS if visits is None else visits))
        m = tmp_path / "clinic.toml"
        m.write_text(mapping, encoding="utf-8")
        return src, m

    return make


def table_counts(eng: Engine) -> dict[str, int]:
    """Row count of every store table (a cheap fingerprint of the store's state)."""
    tables = ["patient", "visit", "joint_exam", "clinical", "lab", "pro", "reported", "therapy",
              "imaging_read", "score_run", "visit_score", "import_run", "quarantine"]  # fmt: skip
    with eng.connect() as conn:
        return {
            t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in tables
        }


def snapshot(eng: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Full contents of the data tables (ordered), for exact before/after comparisons."""
    order = {"patient": "patient_key", "visit": "id", "joint_exam": "visit_id", "lab": "visit_id",
             "pro": "visit_id", "clinical": "visit_id", "reported": "visit_id", "therapy": "id",
             "imaging_read": "id", "visit_score": "run_id, visit_id", "quarantine": "id"}  # fmt: skip
    with eng.connect() as conn:
        return {
            t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY {o}"))]
            for t, o in order.items()
        }


@pytest.fixture
def h() -> SimpleNamespace:
    """The helpers above, for test modules (conftest is not importable under importlib mode)."""
    return SimpleNamespace(
        snapshot=snapshot,
        table_counts=table_counts,
        clinic_rows=clinic_rows,
        write_csv=write_csv,
        visits=copy.deepcopy(CLINIC_VISITS),
        mapping=CLINIC_MAPPING,
        data=DATA,
    )
