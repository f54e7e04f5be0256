"""``rheumetrics db init``, ``rheumetrics import``, ``rheumetrics export`` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from rheumetrics.cli import app

runner = CliRunner()


def test_cli_init_import_export(db_url: str, clinic, h, tmp_path: Path, monkeypatch) -> None:
    src, mapping = clinic()
    monkeypatch.setenv("RHEUMETRICS_DB_URL", db_url)
    assert runner.invoke(app, ["db", "init"]).exit_code == 0
    assert (
        runner.invoke(app, ["db", "check-mapping", str(mapping), "--source", str(src)]).exit_code
        == 0
    )
    assert (
        runner.invoke(app, ["import", str(src), "--mapping", str(mapping), "--dry-run"]).exit_code
        == 0
    )
    first = runner.invoke(app, ["import", str(src), "--mapping", str(mapping)])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, ["import", str(src), "-m", str(mapping)])
    assert again.exit_code == 0 and "nothing changed" in again.output
    tidy = tmp_path / "out.csv"
    assert runner.invoke(app, ["export", "tidy", str(tidy)]).exit_code == 0
    assert len(pd.read_csv(tidy)) == 4
    fhir = tmp_path / "out.json"
    assert runner.invoke(app, ["export", "fhir", str(fhir), "-p", "P1", "--joints"]).exit_code == 0
    assert json.loads(fhir.read_text())["resourceType"] == "Bundle"
    monkeypatch.setenv("RHEUMETRICS_DEID_SECRET", "s")
    assert runner.invoke(app, ["export", "deid", str(tmp_path / "deid")]).exit_code == 0
    assert (tmp_path / "deid" / "visits.csv").exists()
    out = runner.invoke(app, ["db", "rescore", "-c", "das28_esr_cutoffs=das28_acr2012"])
    assert out.exit_code == 0 and "score run 2" in out.output


def test_cli_bad_file_exits_1_and_writes_every_problem(
    db_url: str, clinic, h, tmp_path: Path
) -> None:
    v = h.visits
    v[0]["override"] = {"esr": "-5"}
    v[1]["override"] = {"gh": "150"}
    src, mapping = clinic(v)
    assert runner.invoke(app, ["db", "init", "--db", db_url]).exit_code == 0
    problems = tmp_path / "problems.csv"
    res = runner.invoke(
        app, ["import", str(src), "-m", str(mapping), "--db", db_url, "--problems", str(problems)]
    )
    assert res.exit_code == 1
    table = pd.read_csv(problems)
    assert list(table.columns) == ["source", "line", "record", "key", "field", "value", "rule"]
    assert set(zip(table["record"], table["field"], strict=True)) == {(2, "esr"), (3, "gh")}
    bad_mapping = tmp_path / "bad.toml"
    bad_mapping.write_text("[patient]\nid = 'p'\n[visit]\ndate = 'd'\n[values]\nnope = 'x'\n")
    assert runner.invoke(app, ["db", "check-mapping", str(bad_mapping)]).exit_code == 1
