"""Import checks therapies against the drug catalogue with the engine's own check (issue: the store
accepted records, e.g. dose unit "mg", that the treat-to-target engine then refused)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from rheumetrics.errors import ValidationError
from rheumetrics.store import import_file, load_therapies, load_visits
from rheumetrics.t2t.inputs import prepare_therapies

MAPPING = """
[source]
format = "csv"
[patient]
id = "patient"
[therapy]
drug = "drug"
drug_class = "class"
dose = "dose"
dose_unit = "unit"
route = "route"
start_date = "start"
"""
ROWS = """patient,drug,class,dose,unit,route,start
P1,methotrexate,csDMARD,15,mg/week,oral,2020-01-01
P1,methotrexate,csDMARD,15,mg,oral,2020-06-01
P2,wonderdrug,bDMARD,10,mg/week,sc,2020-01-01
P2,adalimumab,bDMARD,40,mg/2 weeks,oral,2020-02-01
P3,adalimumab,csDMARD,40,mg/2 weeks,sc,2020-01-01
P3,paracetamol,other,4,g/day,oral,2020-01-01
P4,methotrexate,csDMARD,250,mg/week,oral,2020-01-01
"""


def _files(tmp_path: Path) -> tuple[Path, Path]:
    src, m = tmp_path / "rx.csv", tmp_path / "rx.toml"
    src.write_text(ROWS, encoding="utf-8")
    m.write_text(MAPPING, encoding="utf-8")
    return src, m


def test_therapies_the_engine_would_refuse_are_problems_at_import(
    engine: Engine, tmp_path: Path
) -> None:
    src, m = _files(tmp_path)
    with pytest.raises(ValidationError) as err:
        import_file(engine, src, m)
    got = {(p.line, p.field): p for p in err.value.problems}
    assert sorted(got) == [(3, "unit"), (4, "drug"), (5, "route"), (6, "class"), (8, "dose")]
    unit = got[(3, "unit")]
    assert unit.source == "rx.csv" and unit.value == "mg"
    assert dict(unit.key)["patient_id"] == "P1"
    assert "methotrexate (oral) is dosed in mg/week" in unit.rule
    assert got[(4, "drug")].value == "wonderdrug" and "drug_class 'other'" in got[(4, "drug")].rule
    assert "adalimumab" in got[(4, "drug")].rule  # the allowed values are named
    assert got[(5, "route")].rule == "adalimumab is catalogued for sc"
    assert got[(6, "class")].rule == "adalimumab is a bDMARD in the drug catalogue"
    assert "label maximum 30 mg/week" in got[(8, "dose")].rule
    assert load_therapies(engine).empty  # all or nothing: nothing stored


def test_quarantine_keeps_the_usable_therapies_and_the_engine_accepts_them(
    engine: Engine, tmp_path: Path
) -> None:
    src, m = _files(tmp_path)
    result = import_file(engine, src, m, mode="quarantine")
    assert result.quarantined_rows == 5 and result.therapies_added == 2
    stored = load_therapies(engine)
    assert sorted(stored["drug"]) == ["methotrexate", "paracetamol"]
    # the engine's own check passes on everything the store kept
    ids = pd.Index(sorted(stored["patient_id"].unique()))
    assert len(prepare_therapies(stored, ids).drug) == 2
    assert load_visits(engine).empty


def test_the_engine_and_the_importer_give_the_same_message(tmp_path: Path, engine: Engine) -> None:
    src, m = _files(tmp_path)
    with pytest.raises(ValidationError) as imp:
        import_file(engine, src, m)
    frame = pd.read_csv(src, dtype=str).rename(
        columns={
            "patient": "patient_id",
            "class": "drug_class",
            "unit": "dose_unit",
            "start": "start_date",
        }
    )
    frame["dose"] = frame["dose"].astype(float)
    with pytest.raises(ValidationError) as t2t:
        prepare_therapies(frame, pd.Index(["P1", "P2", "P3", "P4"]))
    assert sorted(p.rule for p in imp.value.problems) == sorted(p.rule for p in t2t.value.problems)
