"""``rheumetrics import --json`` and the unit mix-up warning on import (issue: a CRP typed in mg/dL
into a mg/L column, 1.57 for 15.7, passed without a warning although ``score`` warns)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from typer.testing import CliRunner

from rheumetrics.cli import app
from rheumetrics.store import import_file, load_visits

runner = CliRunner()


def _mg_dl_in_mg_l(h) -> list[dict]:
    v = copy.deepcopy(h.visits)
    for visit, crp in zip(v, ("1.57", "0.42", "2.35", "3.01"), strict=True):
        visit["override"] = {"crp": crp, "crp_unit": "mg/L"}
    return v


def test_import_warns_about_crp_in_mg_dl_and_stores_the_values_as_given(engine, clinic, h) -> None:
    src, m = clinic(_mg_dl_in_mg_l(h))
    result = import_file(engine, src, m)
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith("clinic.csv: crp_mg_l: 4 of 4 values are below 10")
    assert 'unit = "mg/dL"' in result.warnings[0]  # how to say so in the mapping
    assert sorted(load_visits(engine)["crp_mg_l"]) == [0.42, 1.57, 2.35, 3.01]  # never changed


def test_plausible_crp_gives_no_warning(engine, clinic, h) -> None:
    assert import_file(engine, *clinic()).warnings == []


def test_crp_given_as_mg_dl_that_looks_like_mg_l_warns(engine, clinic, h) -> None:
    v = copy.deepcopy(h.visits)
    v[1]["override"] = {"crp": "45", "crp_unit": "mg/dL"}  # 450 mg/L
    result = import_file(engine, *clinic(v))
    assert len(result.warnings) == 1 and "above 30 mg/dL" in result.warnings[0]


def test_import_json_summary_and_warning(db_url: str, clinic, h, monkeypatch) -> None:
    monkeypatch.setenv("RHEUMETRICS_DB_URL", db_url)
    assert runner.invoke(app, ["db", "init"]).exit_code == 0
    src, m = clinic(_mg_dl_in_mg_l(h))
    dry = runner.invoke(app, ["import", str(src), "-m", str(m), "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["visits"] == 4 and len(json.loads(dry.stdout)["warnings"]) == 1
    out = runner.invoke(app, ["import", str(src), "-m", str(m), "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert (doc["stored"], doc["changed"], doc["visits_added"], doc["patients_added"]) == (
        True, True, 4, 2)  # fmt: skip
    assert doc["problems"] == [] and "crp_mg_l" in doc["warnings"][0]
    plain = runner.invoke(app, ["import", str(src), "-m", str(m)])
    assert plain.exit_code == 0 and "warning:" in plain.output


def test_import_json_lists_the_problems(
    db_url: str, clinic, h, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RHEUMETRICS_DB_URL", db_url)
    runner.invoke(app, ["db", "init"])
    v = copy.deepcopy(h.visits)
    v[1]["override"] = {"crp": "-3"}
    src, m = clinic(v)
    out = runner.invoke(app, ["import", str(src), "-m", str(m), "--json"])
    assert out.exit_code == 1
    doc = json.loads(out.stdout)
    assert doc["stored"] is False
    (p,) = doc["problems"]
    assert (p["source"], p["line"], p["field"], p["value"]) == ("clinic.csv", 3, "crp", "-3")
    assert p["key"] == {"patient_id": "P1", "visit_date": "2020-04-15"}
    quarantined = runner.invoke(app, ["import", str(src), "-m", str(m), "--json", "--quarantine"])
    assert quarantined.exit_code == 0
    doc = json.loads(quarantined.stdout)
    assert doc["quarantined_rows"] == 1 and doc["problems"][0]["line"] == 3
