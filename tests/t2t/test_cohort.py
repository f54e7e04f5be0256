"""Cohort summary, side-by-side comparison, protocol adherence, determinism, CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from rheumetrics.cli import app
from rheumetrics.t2t import LOG_COLUMNS, compare_strategies, decide, load_strategy, summarise


def _imagine_cohort():
    # 4 patients in clinical remission on methotrexate; two have MRI bone marrow oedema at month 4
    rows = []
    for p, bme in (("a", 0.0), ("b", 0.0), ("c", 2.0), ("d", 1.0)):
        rows += [
            {
                "patient_id": p,
                "visit_date": "2020-01-01",
                "das28_crp": 2.0,
                "sjc28": 0,
                "mri_bme_total": 0.0,
            },
            {
                "patient_id": p,
                "visit_date": "2020-05-01",
                "das28_crp": 2.1,
                "sjc28": 0,
                "mri_bme_total": bme,
            },
        ]
    visits = pd.DataFrame(rows)
    therapies = pd.DataFrame(
        {
            "patient_id": list("abcd"),
            "drug": "methotrexate",
            "drug_class": "csDMARD",
            "start_date": "2019-01-01",
        }
    )
    return visits, therapies


def test_side_by_side_imagine_arms():
    visits, therapies = _imagine_cohort()
    table = compare_strategies(
        visits,
        [load_strategy("imagine_ra_mri"), load_strategy("imagine_ra_conventional")],
        therapies,
    ).set_index("metric")
    assert table.loc["patients_escalated", "imagine_ra_mri"] == 0.5
    assert table.loc["patients_escalated", "imagine_ra_conventional"] == 0.0
    assert table.loc["visits_at_target", "imagine_ra_mri"] == 0.75
    assert table.loc["visits_at_target", "imagine_ra_conventional"] == 1.0


def test_summary_figures_and_adherence(run, rx):
    ther = [rx("methotrexate", "csDMARD", "2020-01-01"), rx("adalimumab", "bDMARD", "2020-04-01")]
    visits = [
        {"visit_date": "2020-01-01", "sdai": 40.0},  # A0 escalate; MTX started that day -> adherent
        {
            "visit_date": "2020-04-01",
            "sdai": 30.0,
        },  # A7 escalate to II-b; adalimumab added -> adherent
        {
            "visit_date": "2020-07-01",
            "sdai": 3.0,
        },  # at target; continue; nothing changed -> adherent
        {"visit_date": "2020-10-01", "sdai": 3.0},
    ]
    log = run("eular2022_ra", visits, ther)
    assert list(log["actual_action"].fillna("")) == ["escalate", "escalate", "continue", ""]
    assert list(log["adherent"]) == [True, True, True, pd.NA]
    summary = summarise(log).set_index("metric")
    assert summary.loc["visits_at_target", "value"] == 0.5
    assert summary.loc["patients_escalated", "value"] == 1.0
    assert summary.loc["patients_biologic_recommended", "value"] == 1.0
    assert summary.loc["protocol_adherence", ["value", "n"]].tolist() == [1.0, 3]
    # first target 2020-07-01: 182 days = 5.98 months after the first visit
    assert np.isclose(summary.loc["months_to_first_target_median", "value"], 182 / (365.25 / 12))
    # time at target: 92 of 274 days of follow-up
    assert np.isclose(summary.loc["time_in_target", "value"], 92 / 274)


def test_deterministic_and_order_independent(run, rx):
    visits, therapies = _imagine_cohort()
    s = load_strategy("imagine_ra_mri")
    a = decide(visits, s, therapies)
    b = decide(visits.sample(frac=1, random_state=3), s, therapies.iloc[::-1], chunk_patients=1)
    pd.testing.assert_frame_equal(a, b)


def test_empty_cohort():
    visits = pd.DataFrame(
        {
            "patient_id": pd.Series([], dtype="str"),
            "visit_date": pd.Series([], dtype="datetime64[ns]"),
            "sdai": pd.Series([], dtype=float),
        }
    )
    log = decide(visits, load_strategy("eular2022_ra"), None)
    assert len(log) == 0 and list(log.columns) == list(LOG_COLUMNS)


def test_bad_input_lists_every_problem():
    visits = pd.DataFrame(
        {
            "patient_id": ["a", "a", None],
            "visit_date": ["2020-01-01", "2020-01-01", "yesterday"],
            "sdai": [1.0, -2.0, 3.0],
        }
    )
    from rheumetrics.errors import ValidationError

    try:
        decide(visits, load_strategy("eular2022_ra"))
    except ValidationError as err:
        fields = sorted(err.to_frame()["field"])
    assert fields == ["patient_id", "sdai", "visit_date", "visit_date", "visit_date"]


def test_cli_t2t_and_strategies(tmp_path):
    visits, therapies = _imagine_cohort()
    visits.to_csv(tmp_path / "v.csv", index=False)
    therapies.to_csv(tmp_path / "t.csv", index=False)
    runner = CliRunner()
    out, summary = tmp_path / "log.parquet", tmp_path / "summary.csv"
    res = runner.invoke(
        app,
        [
            "t2t",
            "--strategy",
            "imagine_ra_mri",
            str(tmp_path / "v.csv"),
            "--therapies",
            str(tmp_path / "t.csv"),
            "--out",
            str(out),
            "--summary",
            str(summary),
            "--compare",
            "imagine_ra_conventional",
        ],
    )
    assert res.exit_code == 0, res.output
    log = pd.read_parquet(out)  # both strategies' decisions, told apart by the strategy column
    assert len(log) == 16
    per = log.groupby("strategy")["action"].apply(lambda a: int((a == "escalate").sum()))
    assert per.to_dict() == {"imagine_ra_mri": 2, "imagine_ra_conventional": 0}
    assert "patients escalated" in res.output and "2 of 4 (50.0 %)" in res.output
    assert list(pd.read_csv(summary).columns) == [
        "metric",
        "imagine_ra_mri",
        "imagine_ra_conventional",
        "description",
    ]
    res = runner.invoke(
        app,
        [
            "t2t",
            "--strategy",
            "imagine_ra_mri",
            str(tmp_path / "v.csv"),
            "--option",
            "escalation_trigger=sometimes",
        ],
    )
    assert res.exit_code == 1
    assert runner.invoke(app, ["strategies"]).exit_code == 0
    assert runner.invoke(app, ["strategies", "asas_eular2022_axspa"]).exit_code == 0


def test_cli_cohort_json_summary_with_counts_and_percentages(tmp_path):
    import json

    visits, therapies = _imagine_cohort()
    visits.to_csv(tmp_path / "v.csv", index=False)
    therapies.to_csv(tmp_path / "t.csv", index=False)
    args = ["t2t", str(tmp_path / "v.csv"), "-t", str(tmp_path / "t.csv"), "-s", "imagine_ra_mri"]
    res = CliRunner().invoke(app, [*args, "--json", "--out", str(tmp_path / "log.csv")])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    lines = {x["metric"]: x for x in doc["strategies"][0]["summary"]}
    # MRI oedema at month 4 in patients c and d: 2 of the 4 patients escalated
    assert lines["patients_escalated"]["count"] == 2
    assert lines["patients_escalated"]["n"] == 4
    assert lines["patients_escalated"]["text"] == "2 of 4 (50.0 %)"
    assert lines["patients_escalated"]["label"] == "patients escalated"
    assert lines["visits_at_target"]["text"] == "6 of 8 (75.0 %)"
    assert doc["decision_log"].endswith("log.csv")
    res = CliRunner().invoke(app, [*args, "--json", "--out", "-"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert len(doc["decisions"]) == 8 and doc["decision_log"] is None


def test_strategies_prints_durations_in_months_and_weeks():
    res = CliRunner().invoke(app, ["strategies", "eular2022_ra"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "since the last change >= 6 months" in text
    res = CliRunner().invoke(app, ["strategies", "asas_eular2022_axspa"], env={"COLUMNS": "200"})
    assert "on b/tsDMARD for >= 12 weeks" in " ".join(res.output.split())
    assert "91.3125" not in res.output and "_max=" not in res.output
