"""``rheumetrics t2t`` at one visit (command line or JSON on stdin) and therapies-file checks."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from rheumetrics.cli import app

runner = CliRunner()


def _decide_files(tmp_path):
    """``rheumetrics t2t v.csv -t t.csv`` under EULAR 2022; the decision log written."""
    out = tmp_path / "log.csv"
    args = ["t2t", str(tmp_path / "v.csv"), "-s", "eular2022_ra", "-t", str(tmp_path / "t.csv")]
    res = runner.invoke(app, [*args, "-o", str(out)])
    assert res.exit_code == 0, res.output
    return out


def test_one_visit_on_the_command_line():
    res = runner.invoke(
        app,
        [
            "t2t",
            "-s",
            "imagine_ra_conventional",
            "--visit",
            "das28_crp=3.9",
            "--visit",
            "sjc28=2",
            "--regimen",
            "methotrexate=25",
            "--date",
            "2020-01-01",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert (d["action"], d["step"], d["to_step"]) == ("escalate", "2", "2a")
    assert d["provisional"] and "start date of methotrexate" in d["missing"]


def test_one_visit_as_json_on_stdin_human_readable():
    doc = {
        "visit": {"sdai": 3.0},
        "regimen": [{"drug": "prednisolone", "dose": 7.5, "start_date": "2019-10-01"}],
        "visit_date": "2020-01-01",
    }
    res = runner.invoke(app, ["t2t", "-", "-s", "eular2022_ra"], input=json.dumps(doc))
    assert res.exit_code == 0, res.output
    assert "methotrexate 15 mg/week" in res.output and "escalate" in res.output


def test_bad_json_is_a_clear_error():
    res = runner.invoke(app, ["t2t", "-", "-s", "eular2022_ra"], input="{visit: 1")
    assert res.exit_code == 1 and "not valid JSON" in res.output
    res = runner.invoke(app, ["t2t", "-", "-s", "eular2022_ra"], input='{"visit": {}, "x": 1}')
    assert res.exit_code == 1 and "unknown keys" in res.output


def test_therapies_file_problems_name_the_records(tmp_path):
    (tmp_path / "v.csv").write_text("patient_id,visit_date,sdai\np1,2020-01-01,20\n")
    (tmp_path / "t.csv").write_text(
        "patient_id,drug,dose,dose_unit,start_date,stop_date,stop_reason\n"
        "p1,methotrexate,25,mg/week,2019-01-01,,\n"
        "p1,methotrexate,20,mg/week,2019-06-01,,\n"
        "p1,wonderdrug,1,mg/day,2019-01-01,,\n"
        "p1,sulfasalazine,9000,mg/day,2019-01-01,,\n"
        "p1,leflunomide,20,mg/day,2018-01-01,2018-06-01,boredom\n"
    )
    res = runner.invoke(
        app,
        ["t2t", str(tmp_path / "v.csv"), "-s", "eular2022_ra", "-t", str(tmp_path / "t.csv")],
    )
    assert res.exit_code == 1
    out = " ".join(res.output.split())
    assert "wonderdrug" in out and "unknown drug" in out
    assert "9000" in out and "label maximum" in out
    assert "boredom" in out
    res = runner.invoke(
        app,
        ["t2t", str(tmp_path / "v.csv"), "-s", "eular2022_ra", "-t", str(tmp_path / "t.csv")],
    )
    (tmp_path / "t2.csv").write_text(
        "patient_id,drug,dose,dose_unit,start_date,stop_date,stop_reason\n"
        "p1,methotrexate,25,mg/week,2019-01-01,,\n"
        "p1,methotrexate,20,mg/week,2019-06-01,,\n"
    )
    res = runner.invoke(
        app,
        ["t2t", str(tmp_path / "v.csv"), "-s", "eular2022_ra", "-t", str(tmp_path / "t2.csv")],
    )
    assert res.exit_code == 1
    assert "overlaps record 0" in " ".join(res.output.split())


def test_grams_are_converted_to_the_catalogue_unit(tmp_path):
    (tmp_path / "v.csv").write_text("patient_id,visit_date,sdai\np1,2020-01-01,2\n")
    (tmp_path / "t.csv").write_text(
        "patient_id,drug,dose,dose_unit,start_date\np1,sulfasalazine,2,g/day,2019-01-01\n"
    )
    out = _decide_files(tmp_path)
    assert "sulfasalazine 2000 mg/day" in out.read_text()


def test_cli_accepts_a_therapy_of_class_other_and_ignores_it(tmp_path):
    # regression: the store accepts drug_class "other"; `rheumetrics t2t` must too
    (tmp_path / "v.csv").write_text("patient_id,visit_date,sdai\np1,2020-01-01,20\n")
    (tmp_path / "t.csv").write_text(
        "patient_id,drug,drug_class,dose,start_date\n"
        "p1,methotrexate,csDMARD,25,2019-01-01\n"
        "p1,glucosamine,other,,2019-01-01\n"
        "p1,paracetamol,other,1000,2019-01-01\n"
    )
    out = _decide_files(tmp_path)
    text = out.read_text()
    assert ",I.1," in text and "glucosamine" not in text
