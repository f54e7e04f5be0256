"""``rheumetrics score``, ``conventions`` and ``catalogue`` as a user calls them."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from rheumetrics.cli import app
from rheumetrics.measures import das28_crp, sdai

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data"
POINT_OF_CARE = ["--tjc28", "4", "--sjc28", "2", "--crp-mg-l", "12", "--ptga", "4", "--phga", "3"]


def test_point_of_care_prints_every_measure_with_its_category():
    result = CliRunner().invoke(app, ["score", *POINT_OF_CARE, "--gh-mm", "40"])
    assert result.exit_code == 0, result.output
    # SDAI = 4 + 2 + 4 + 3 + 1.2 = 14.2, moderate (> 11, <= 26; Aletaha 2005)
    assert "Simplified Disease Activity Index" in result.stdout
    row = next(ln for ln in result.stdout.splitlines() if "Simplified" in ln)
    assert "14.2" in row and "moderate" in row


def test_point_of_care_json_matches_the_api():
    result = CliRunner().invoke(app, ["score", *POINT_OF_CARE, "--gh-mm", "40", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    got = {m["measure"]: m for m in doc["measures"]}
    assert got["sdai"]["value"] == pytest.approx(sdai(4, 2, 4, 3, 12))
    assert got["sdai"]["category"] == "moderate"
    assert got["das28_crp"]["value"] == pytest.approx(das28_crp(4, 2, 12, 40))
    assert doc["conventions"]["sdai_cutoffs"] == "sdai_aletaha2005"


def test_a_json_record_on_stdin():
    record = {"tjc28": 4, "sjc28": 5, "esr_mm_h": 44, "gh_mm": 12}
    result = CliRunner().invoke(app, ["score", "-", "--json"], input=json.dumps(record))
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    assert round(rows[0]["das28_esr"], 2) == 4.56  # Prevoo 1995 formula, das-score.nl example


@pytest.mark.parametrize("bad", ["true", '"１２"', '"1_0"', '"\\u00a04"'])
def test_stdin_json_refuses_what_is_not_a_number(bad):
    text = f'{{"tjc28": {bad}, "sjc28": 5, "esr_mm_h": 44, "gh_mm": 12}}'
    result = CliRunner().invoke(app, ["score", "-"], input=text)
    assert result.exit_code == 1
    assert "tjc28" in result.output


def test_out_of_range_point_of_care_value_names_the_other_unit():
    result = CliRunner().invoke(app, ["score", "--tjc28", "4", "--sjc28", "2", "--ptga", "40"])
    assert result.exit_code == 1
    assert "--ptga-mm" in result.output


@pytest.mark.parametrize("out", [[], ["--out", "-"]])
def test_a_file_scored_to_the_terminal(out):
    result = CliRunner().invoke(app, ["score", str(EXAMPLES / "visits.xlsx"), *out])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(StringIO(result.stdout))
    assert len(frame) == 90 and {"das28_esr", "das28_esr_category", "sdai"} <= set(frame.columns)


def test_each_shipped_format_scores_the_same(tmp_path):
    frames = []
    for name in ("visits.csv", "visits.xlsx", "visits.parquet"):
        out = tmp_path / f"{name}.scores.csv"
        result = CliRunner().invoke(app, ["score", str(EXAMPLES / name), "--out", str(out)])
        assert result.exit_code == 0, result.output
        frames.append(pd.read_csv(out)[["das28_esr", "sdai", "cdai"]])
    pd.testing.assert_frame_equal(frames[0], frames[1])
    pd.testing.assert_frame_equal(frames[0], frames[2])


def test_problems_are_numbered_by_spreadsheet_line(tmp_path):
    src = tmp_path / "visits.csv"
    src.write_text("tjc28,sjc28,esr_mm_h,gh_mm\n4,5,44,12\n4,30,44,12\n")
    problems = tmp_path / "problems.csv"
    result = CliRunner().invoke(app, ["score", str(src), "--problems", str(problems)])
    assert result.exit_code == 1
    table = pd.read_csv(problems)
    assert table[["record", "field"]].values.tolist() == [[3, "sjc28"]]  # header is line 1


def test_crp_in_mg_dl_in_a_mg_l_column_is_warned(tmp_path):
    src = tmp_path / "visits.csv"
    src.write_text("tjc28,sjc28,crp_mg_l,gh_mm\n4,5,1.57,12\n2,1,0.42,10\n")
    result = CliRunner().invoke(app, ["score", str(src), "--out", str(tmp_path / "o.csv")])
    assert result.exit_code == 0
    assert "crp_mg_dl" in result.output and "warning" in result.output


def test_crp_in_mg_l_with_tenths_is_not_warned(tmp_path):
    src = tmp_path / "visits.csv"
    src.write_text("tjc28,sjc28,crp_mg_l,gh_mm\n4,5,15.7,12\n2,1,4.2,10\n")
    result = CliRunner().invoke(app, ["score", str(src), "--out", str(tmp_path / "o.csv")])
    assert result.exit_code == 0
    assert "warning" not in result.output


def test_catalogue_outside_the_repository(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["catalogue"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Measures catalogue")
    written = CliRunner().invoke(app, ["catalogue", "--out", "sub/measures.md"])
    assert written.exit_code == 0
    assert (tmp_path / "sub" / "measures.md").read_text() == result.stdout


def test_conventions_json():
    result = CliRunner().invoke(app, ["conventions", "--json"])
    assert json.loads(result.stdout)["das28_esr_cutoffs"] == "das28_eular"


def test_t2t_decision_log_to_the_terminal():
    args = ["t2t", str(EXAMPLES / "visits.csv"), "-t", str(EXAMPLES / "therapies.csv")]
    result = CliRunner().invoke(app, [*args, "-s", "eular2022_ra", "--out", "-"])
    assert result.exit_code == 0, result.output
    log = pd.read_csv(StringIO(result.stdout))
    assert len(log) == 90 and {"patient_id", "action"} <= set(log.columns)


def test_problems_are_sorted_by_line(tmp_path):
    src = tmp_path / "visits.csv"
    src.write_text("tjc28,sjc28,esr_mm_h,gh_mm\n4,30,44,12\n-1,5,44,12\n4,5,44,120\n")
    problems = tmp_path / "problems.csv"
    result = CliRunner().invoke(app, ["score", str(src), "--problems", str(problems)])
    assert result.exit_code == 1
    table = pd.read_csv(problems)
    assert table[["record", "field"]].values.tolist() == [[2, "sjc28"], [3, "tjc28"], [4, "gh_mm"]]
