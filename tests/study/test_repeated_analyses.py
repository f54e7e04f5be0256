"""An analysis given a list of option tables runs once per table: each run has its own key
(``roc``, ``roc_2``), section, tables, CSV names and methods sentence, and its problems are
reported with its index."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from scipy.stats import binomtest

from rheumetrics.errors import ValidationError
from rheumetrics.study.model import Study, bundled_path, load_study, parse_study
from rheumetrics.study.report import (
    methods_text,
    report_steps,
    results_json,
    run_study,
    write_report,
)

from .il6 import il6_study

# the bundled synthetic IL-6 cohort, read through package: paths
COHORT = il6_study("repeated analyses")

PROGRESSION = ('{ first = { variable = "change:mri_erosion", positive = "> 0.5" }, '
               'second = { variable = "change:xray_erosion", positive = "> 0.5" } }')  # fmt: skip
REPAIR = ('{ first = { variable = "change:mri_erosion", positive = "< -0.5" }, '
          'second = { variable = "change:xray_erosion", positive = "< -0.5" } }')  # fmt: skip


def _study(analyses: str, tmp_path: Path) -> Study:
    return parse_study(COHORT + analyses, tmp_path / "study.toml")


def _problems(analyses: str, tmp_path: Path) -> list[tuple[str, str, object, str]]:
    with pytest.raises(ValidationError) as err:
        _study(analyses, tmp_path)
    return [(str(p.record), p.field, p.value, p.rule) for p in err.value.problems]


def _totals(study_file: Path, system: str) -> pd.Series:
    """One-year change of the erosion total of ``system``, summed from the per-site reads."""
    reads = pd.read_csv(study_file.parent / "il6_prediction" / "imaging.csv")
    reads = reads[(reads["system"] == system) & (reads["feature"] == "erosion")]
    totals = reads.groupby(["patient_id", "timepoint"])["grade"].sum().unstack()
    return totals["Y1"] - totals["BL"]


def test_an_array_of_tables_and_an_inline_list_give_the_same_runs(tmp_path: Path) -> None:
    tables = f"[[analyses.paired_proportions]]\n{PROGRESSION[2:-2].replace(', second', chr(10) + 'second')}\n"
    tables += (
        f"[[analyses.paired_proportions]]\n{REPAIR[2:-2].replace(', second', chr(10) + 'second')}\n"
    )
    inline = f"[analyses]\npaired_proportions = [{PROGRESSION}, {REPAIR}]\n"
    a, b = _study(tables, tmp_path), _study(inline, tmp_path)
    assert list(a.analyses) == list(b.analyses) == ["paired_proportions", "paired_proportions_2"]
    assert a.analyses == b.analyses
    assert a.kind("paired_proportions_2") == "paired_proportions"
    assert a.kind("paired_proportions") == "paired_proportions"
    assert a.analyses["paired_proportions_2"]["first"]["positive"] == "< -0.5"


def test_one_table_still_runs_once_under_its_own_name(tmp_path: Path) -> None:
    study = _study(f"[analyses]\npaired_proportions = {PROGRESSION}\nflow = true\n", tmp_path)
    assert list(study.analyses) == ["paired_proportions", "flow"] and study.kinds == {}


def test_each_run_has_its_own_section_tables_and_csv(tmp_path: Path) -> None:
    study = _study(f"[analyses]\npaired_proportions = [{PROGRESSION}, {REPAIR}]\n", tmp_path)
    assert report_steps(study)[2:] == [
        "analysis: paired_proportions",
        "analysis: paired_proportions_2",
    ]
    rep = run_study(study)
    assert list(rep.sections) == ["paired_proportions", "paired_proportions_2"]
    assert list(rep.tables) == ["paired_proportions", "paired_proportions_2"]
    # two runs with the same title are numbered
    titles = [s.title for s in rep.sections.values()]
    assert titles == ["Paired proportions", "Paired proportions (2)"]
    # the methods sentence is said once
    assert sum("McNemar" in p for p in methods_text(rep)) == 1
    written = write_report(rep, tmp_path / "out" / "report.html")
    assert written["paired_proportions_2"].name == "paired_proportions_2.csv"
    assert "< -0.5" in written["paired_proportions_2"].read_text()
    html = written["html"].read_text()
    assert 'id="paired_proportions_2"' in html and "Paired proportions (2)" in html
    doc = results_json(rep)
    assert doc["analyses"]["paired_proportions_2"] == {
        "analysis": "paired_proportions",
        "title": "Paired proportions (2)",
        "tables": ["paired_proportions_2"],
    }
    assert set(doc["tables"]) == {"paired_proportions", "paired_proportions_2"}


def test_each_run_computes_its_own_rule(tmp_path: Path) -> None:
    study = _study(f"[analyses]\npaired_proportions = [{PROGRESSION}, {REPAIR}]\n", tmp_path)
    rep = run_study(study)
    mri, xray = (
        _totals(bundled_path("il6_prediction"), "ramris"),
        _totals(bundled_path("il6_prediction"), "svdh"),
    )
    for key, (a, b) in {"paired_proportions": (mri > 0.5, xray > 0.5),
                        "paired_proportions_2": (mri < -0.5, xray < -0.5)}.items():  # fmt: skip
        row = rep.tables[key].iloc[0]
        assert (row["both"], row["first_only"], row["second_only"], row["neither"]) == (
            int((a & b).sum()),
            int((a & ~b).sum()),
            int((~a & b).sum()),
            int((~a & ~b).sum()),
        )
        # exact McNemar = two-sided binomial test of the discordant pairs (R mcnemar.exact, binom.test)
        discordant = int((a & ~b).sum()) + int((~a & b).sum())
        assert row["p"] == pytest.approx(binomtest(int((a & ~b).sum()), discordant).pvalue)
    # a run of a list equals the same options given alone
    alone = run_study(_study(f"[analyses]\npaired_proportions = {REPAIR}\n", tmp_path))
    pd.testing.assert_frame_equal(
        alone.tables["paired_proportions"], rep.tables["paired_proportions_2"]
    )


def test_title_option_names_the_section(tmp_path: Path) -> None:
    text = ("[analyses]\nscores = true\n[[analyses.roc]]\ntitle = 'IL-6 for progression'\n"
            "truth = 'change:mri_erosion'\npositive = '> 0.5'\nscores = ['il6_pg_ml']\n"
            "[[analyses.roc]]\ntitle = 'IL-6 for repair'\ntruth = 'change:mri_erosion'\n"
            "positive = '< -0.5'\nscores = ['il6_pg_ml']\nhigher_is_positive = false\n")  # fmt: skip
    rep = run_study(_study(text, tmp_path))
    assert [s.title for s in rep.sections.values()] == [
        "Scores at each visit",
        "IL-6 for progression",
        "IL-6 for repair",
    ]
    assert set(rep.figures) == {"roc", "roc_2"}
    assert rep.tables["roc_2"]["direction"].tolist() == ["lower"]


def test_meta_tables_and_figures_of_a_second_run_are_renamed(tmp_path: Path) -> None:
    shutil.copy(bundled_path("axspa_mri_meta").parent / "axspa_mri_meta_synthetic.csv", tmp_path)
    cols = ("columns = { mean_t = 'mean_t', sd_t = 'sd_t', n_t = 'n_t', mean_c = 'mean_c', "
            "sd_c = 'sd_c', n_c = 'n_c' }")  # fmt: skip
    run = f"file = 'axspa_mri_meta_synthetic.csv'\nmeasure = 'MD'\nstudy = 'study'\n{cols}\n"
    text = (f"[study]\ntitle = 'two meta-analyses'\n[[analyses.meta]]\n{run}method = 'REML'\n"
            f"[[analyses.meta]]\n{run}method = 'FE'\n")  # fmt: skip
    rep = run_study(parse_study(text, tmp_path / "study.toml"))
    assert list(rep.tables) == ["meta", "meta_studies", "meta_2", "meta_2_studies"]
    assert set(rep.figures) == {"meta_all", "meta_2_all"}
    assert set(rep.tables["meta"]["model"]) == {"REML"}
    assert set(rep.tables["meta_2"]["model"]) == {"FE"}


def test_problems_name_the_run_by_its_index(tmp_path: Path) -> None:
    bad_rule = REPAIR.replace("< -0.5", "<< 1", 1)
    text = (f"[analyses]\npaired_proportions = [{PROGRESSION}, {bad_rule}, 3]\n"
            "roc = [{ truth = 'change:mri_erosion', positive = '> 0.5', scores = ['il6_pg_ml'], colour = 'red' }, "
            "{ truth = 'change:mri_erosion', positive = '> 0.5', scores = ['il6_pg_ml'], title = 5 }]\n"
            "logistic = []\n")  # fmt: skip
    problems = _problems(text, tmp_path)
    where = {(w, f, str(v)) for w, f, v, _ in problems}
    assert ("analyses.paired_proportions[1]", "first.positive", "<< 1") in where
    assert ("analyses.paired_proportions[2]", "analyses.paired_proportions[2]", "3") in where
    assert ("analyses.roc[0]", "colour", "red") in where
    assert ("analyses.roc[1]", "title", "5") in where
    assert ("analyses", "logistic", "[]") in where
    rules = {(w, f): r for w, f, _, r in problems}
    assert "an operator and a number" in rules[("analyses.paired_proportions[1]", "first.positive")]
    assert rules[("analyses.paired_proportions[2]", "analyses.paired_proportions[2]")] == (
        "must be a table"
    )
    assert "allowed:" in rules[("analyses.roc[0]", "colour")]
    assert "title" in rules[("analyses.roc[0]", "colour")]  # the option every analysis accepts
    assert len(problems) == 5  # every problem of every run, together


def test_bundled_il6_study_reports_repair_beside_progression() -> None:
    study = load_study("il6_prediction")
    rep = run_study(study)
    mri = _totals(bundled_path("il6_prediction"), "ramris")
    xray = _totals(bundled_path("il6_prediction"), "svdh")
    repaired = int((mri < -0.5).sum())  # repair: strictly below -0.5 (Kondo et al. 2017)
    assert repaired > 0
    pp = rep.tables["paired_proportions_2"].iloc[0]
    assert pp["both"] + pp["first_only"] == repaired
    assert pp["both"] + pp["second_only"] == int((xray < -0.5).sum())
    assert pp["first_percent"] == pytest.approx(100 * repaired / len(mri))
    assert rep.tables["logistic_2"].attrs["n_events"] == repaired
    roc = rep.tables["roc_2"].set_index("score")
    assert roc.loc["il6_pg_ml", "n_positive"] == repaired
    assert roc.loc["il6_pg_ml", "direction"] == "lower"
    titles = [s.title for s in rep.sections.values()]
    assert "Paired proportions: erosion repair on MRI and radiographs" in titles
    assert "Logistic regression: MRI erosion repair" in titles


def test_a_sensitivity_analysis_repeats_a_later_run(tmp_path: Path) -> None:
    # without patient SYN-IL6-01, the repair run (the second) equals the repair rule run alone
    leave_out = 'sensitivity = { analysis = "%s", exclude = ["SYN-IL6-01"] }\n'
    later = _study(
        f"[analyses]\npaired_proportions = [{PROGRESSION}, {REPAIR}]\n"
        + leave_out % "paired_proportions_2",
        tmp_path,
    )
    alone = _study(
        f"[analyses]\npaired_proportions = {REPAIR}\n" + leave_out % "paired_proportions",
        tmp_path,
    )
    got, expected = run_study(later).tables["sensitivity"], run_study(alone).tables["sensitivity"]
    pd.testing.assert_frame_equal(
        got.drop(columns="analysis"), expected.drop(columns="analysis"), check_exact=True
    )
    assert (got["analysis"] == "paired_proportions_2").all()
    assert "< -0.5" in got.to_csv()
