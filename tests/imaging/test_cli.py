"""``rheumetrics imaging`` and ``rheumetrics agreement`` on the bundled synthetic example."""

import json
from importlib.resources import files
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from rheumetrics.cli import app

EXAMPLE = str(files("rheumetrics") / "data" / "example_imaging_reads.csv")
runner = CliRunner()


def test_imaging_command_writes_scores_means_states_and_change(tmp_path):
    out, means, states, change = (tmp_path / f"{n}.csv" for n in ("s", "m", "st", "c"))
    result = runner.invoke(
        app,
        ["imaging", EXAMPLE, "--out", str(out), "--means", str(means), "--states", str(states),
         "--change", str(change), "--baseline", "baseline", "--followup", "month4",
         "--rule", "prog_gt_0_5", "--rule", "repair_lt_neg0_5"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(out)
    assert {"score", "max_possible", "n_sites_scored", "set_max", "subset"} <= set(scores.columns)
    # 6 patients x 2 time points x 2 readers read 23 bones: the not-assessable pisiform of SYN-03
    osteitis = scores[(scores["feature"] == "osteitis") & (scores["subset"] == "all")]
    assert sorted(osteitis["max_possible"].unique()) == [66.0, 69.0]
    assert (pd.read_csv(means)["n_readers"] == 2).all()
    assert "ramris_synovitis_acceptable" in set(pd.read_csv(states)["state"])
    changes = pd.read_csv(change)
    assert {"R1", "R2", "mean"} == set(changes["reader"])
    assert {"prog_gt_0_5", "repair_lt_neg0_5", "direction"} <= set(changes.columns)
    conventions = json.loads((tmp_path / "s.csv.conventions.json").read_text())
    assert "prog_gt_0_5" in conventions["rules"] and "states" in conventions


def test_imaging_command_reports_every_problem_and_exits_1(tmp_path):
    bad = tmp_path / "bad.csv"
    text = Path(EXAMPLE).read_text().replace(",DRUJ,synovitis,1,", ",DRUJ,synovitis,7,", 1)
    text = text.replace(",RADIOCARPAL,synovitis,", ",RADIOCARPUS,synovitis,", 1)
    bad.write_text(text)
    problems = tmp_path / "problems.csv"
    result = runner.invoke(
        app, ["imaging", str(bad), "--out", str(tmp_path / "x.csv"), "--problems", str(problems)]
    )
    assert result.exit_code == 1
    table = pd.read_csv(problems)
    assert set(table["field"]) == {"grade", "site"} and len(table) == 2
    assert set(table["record"]) == {3, 4}  # file lines (line 1 is the synthetic-data comment)
    assert not (tmp_path / "x.csv").exists()


def test_agreement_command_prints_icc_sdc_and_bland_altman(tmp_path):
    out = tmp_path / "report.csv"
    result = runner.invoke(
        app,
        ["agreement", EXAMPLE, "--baseline", "baseline", "--followup", "month4", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    report = pd.read_csv(out)
    assert set(report["table"]) == {"icc", "sdc", "bland_altman", "srm"}
    icc = report[report["table"] == "icc"]
    assert set(icc["form"]) == {
        "ICC(1,1)",
        "ICC(2,1)",
        "ICC(3,1)",
        "ICC(1,k)",
        "ICC(2,k)",
        "ICC(3,k)",
    }
    assert set(report.loc[report["table"] == "sdc", "method"]) == {
        "sem_anova",
        "bruynesteyn",
        "loa",
    }
