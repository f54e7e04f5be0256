"""``rheumetrics report``: ``--json`` prints the computed results, paths outside the study folder
need ``--allow-outside``, and errors are one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from rheumetrics.cli import app
from rheumetrics.study.model import load_study
from rheumetrics.study.report import report_steps, run_study


def test_json_prints_every_table_and_writes_no_report(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["report", "axspa_mri_meta", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    rep = run_study(load_study("axspa_mri_meta"))
    assert set(doc["tables"]) == set(rep.tables)
    pooled = rep.tables["meta"]
    assert [r["estimate"] for r in doc["tables"]["meta"]] == pooled["estimate"].tolist()
    assert not list(tmp_path.iterdir())  # --json without --out writes no report


def test_json_with_out_writes_both(tmp_path: Path) -> None:
    out = tmp_path / "meta.html"
    result = CliRunner().invoke(app, ["report", "axspa_mri_meta", "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists() and "meta" in json.loads(result.stdout)["tables"]


def test_report_steps_are_announced_in_order() -> None:
    nz = report_steps(load_study("nz_mri"))
    assert nz[:2] == ["loading the cohort", "building the analysis frame"]
    assert nz[-1] == "comparing with the published figures"
    meta = load_study("axspa_mri_meta")
    seen: list[str] = []
    run_study(meta, progress=seen.append)
    assert seen == report_steps(meta) == ["analysis: meta"]


def test_a_path_outside_the_folder_is_one_line_unless_allowed(tmp_path: Path) -> None:
    meta = load_study("axspa_mri_meta")
    (tmp_path / "data").mkdir()
    (tmp_path / "study").mkdir()
    shutil.copy(meta.analyses["meta"]["file"], tmp_path / "data" / "effects.csv")
    text = meta.path.read_text(encoding="utf-8")  # type: ignore[union-attr]
    text = text.replace('"axspa_mri_meta_synthetic.csv"', '"../data/effects.csv"')
    study = tmp_path / "study" / "meta.toml"
    study.write_text(text, encoding="utf-8")
    out = tmp_path / "r.html"
    refused = CliRunner().invoke(app, ["report", str(study), "--out", str(out)])
    assert refused.exit_code == 1
    assert "Traceback" not in refused.output
    [line] = refused.output.splitlines()
    assert str(study) in line and "'file'" in line and "'../data/effects.csv'" in line
    assert "--allow-outside" in line
    allowed = CliRunner().invoke(app, ["report", str(study), "--out", str(out), "--allow-outside"])
    assert allowed.exit_code == 0, allowed.output
    assert out.exists()
