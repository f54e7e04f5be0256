"""Named runs of an analysis and reliability runs with outcomes of their own.

A run given ``name`` is keyed by it (section anchor, CSV names, results JSON, published-figure
locators, the run a sensitivity analysis repeats, problems found while it runs); runs without a
name keep their positional keys. Each ``reliability`` run computes the agreement of its own
outcome, checked against R psych 2.2.9 ``ICC()`` (``r/il6_rereads.R``). Every study is a real
study file in a temporary folder, read and run through the functions the ``report`` command
calls (and through the command itself).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from rheumetrics.cli import app
from rheumetrics.errors import ValidationError
from rheumetrics.study.model import Study, bundled_path, load_study
from rheumetrics.study.report import (
    methods_text,
    report_steps,
    run_study,
    write_report,
)

from .il6 import il6_study

DATA = Path(__file__).parent / "data"

# the bundled synthetic IL-6 cohort (package: paths); its MRI reads with a second session of
# re-reads for 12 patients (r/il6_rereads.R) are written beside each study file as imaging.csv
COHORT = il6_study(
    "named runs",
    imaging="imaging.csv",
    outcomes=("mri_erosion", "mri_synovitis", "xray_erosion"),
    variables=("il6_pg_ml", "sex"),
)

PROGRESSION = """[[analyses.roc]]
name = "progression"
truth = "change:mri_erosion"
positive = "> 0.5"
scores = ["il6_pg_ml"]
"""
REPAIR = """[[analyses.roc]]
name = "repair"
truth = "change:mri_erosion"
positive = "< -0.5"
scores = ["il6_pg_ml"]
higher_is_positive = false
"""


def _write(tmp_path: Path, analyses: str, *, folder: str = "study") -> Path:
    """A study file with ``analyses`` in its own folder, beside the cohort's imaging reads."""
    where = tmp_path / folder
    where.mkdir(parents=True, exist_ok=True)
    reads = pd.read_csv(bundled_path("il6_prediction").parent / "il6_prediction" / "imaging.csv",
                        dtype={"session": str, "version": str})  # fmt: skip
    rereads = pd.read_csv(DATA / "il6_rereads.csv", dtype={"session": str, "version": str})
    pd.concat([reads, rereads]).to_csv(where / "imaging.csv", index=False)
    path = where / "study.toml"
    path.write_text(COHORT + analyses, encoding="utf-8")
    return path


def _load(tmp_path: Path, analyses: str) -> Study:
    return load_study(_write(tmp_path, analyses))


def _problems(tmp_path: Path, analyses: str) -> list[tuple[str | None, str, str, object, str]]:
    with pytest.raises(ValidationError) as err:
        _load(tmp_path, analyses)
    return [(p.source, str(p.record), p.field, p.value, p.rule) for p in err.value.problems]


# -- named runs ---------------------------------------------------------------------------------


def test_a_name_keys_the_run_everywhere(tmp_path: Path) -> None:
    published = ('published = [{ table = "T", row = "IL-6 for repair", statistic = "AUC", '
                 'value = 0.5, digits = 2, at = "repair[score=il6_pg_ml].auc" }]\n')  # fmt: skip
    sensitivity = '[analyses.sensitivity]\nanalysis = "repair"\nexclude = ["SYN-IL6-01"]\n'
    path = _write(tmp_path, PROGRESSION + REPAIR + sensitivity)
    path.write_text(published + path.read_text(encoding="utf-8"), encoding="utf-8")
    study = load_study(path)
    assert list(study.analyses) == ["progression", "repair", "sensitivity"]
    assert study.kind("repair") == "roc" and study.kinds == {"progression": "roc", "repair": "roc"}
    assert report_steps(study)[2:5] == [  # in the registry's order, the runs in the file's
        "analysis: sensitivity",
        "analysis: progression",
        "analysis: repair",
    ]  # fmt: skip

    out = tmp_path / "out" / "report.html"
    result = CliRunner().invoke(app, ["report", str(path), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["analyses"]["repair"] == {"analysis": "roc", "title": "ROC analysis (repair)",
                                         "tables": ["repair"]}  # fmt: skip
    assert doc["analyses"]["progression"]["title"] == "ROC analysis"
    tables = sorted(p.name for p in (tmp_path / "out" / "report_tables").iterdir())
    assert tables == ["progression.csv", "published.csv", "repair.csv", "sensitivity.csv"]
    html = out.read_text(encoding="utf-8")
    assert 'id="progression"' in html and 'id="repair"' in html
    assert 'id="roc"' not in html and 'id="roc_2"' not in html
    # the repair run computes its own rule, read from the CSV it wrote
    repair = pd.read_csv(tmp_path / "out" / "report_tables" / "repair.csv")
    assert repair["direction"].tolist() == ["lower"]
    # the locator and the sensitivity analysis find the run by its name
    [figure] = doc["reproduction"]["figures"]
    assert figure["status"] != "not computed"
    assert figure["computed"] == pytest.approx(repair["auc"].iloc[0])
    sens = pd.read_csv(tmp_path / "out" / "report_tables" / "sensitivity.csv")
    assert set(sens["analysis"]) == {"repair"} and sens["direction"].tolist() == ["lower"]


def test_a_named_run_computes_as_the_same_options_alone(tmp_path: Path) -> None:
    named = run_study(_load(tmp_path / "a", PROGRESSION + REPAIR))
    alone = run_study(_load(tmp_path / "b", REPAIR.replace('name = "repair"\n', "")))
    assert list(alone.tables) == ["roc"]
    pd.testing.assert_frame_equal(named.tables["repair"], alone.tables["roc"], check_exact=True)


def test_reordering_named_runs_keeps_their_keys_and_csvs(tmp_path: Path) -> None:
    first = write_report(
        run_study(_load(tmp_path / "a", PROGRESSION + REPAIR)), tmp_path / "a.html"
    )
    swapped = write_report(
        run_study(_load(tmp_path / "b", REPAIR + PROGRESSION)), tmp_path / "b.html"
    )
    for name in ("progression", "repair"):
        assert first[name].name == swapped[name].name == f"{name}.csv"
        assert first[name].read_text() == swapped[name].read_text()
    # positional keys, by contrast, follow the order
    plain = [t.replace("name = ", "# name = ") for t in (PROGRESSION, REPAIR)]
    a = run_study(_load(tmp_path / "c", plain[0] + plain[1])).tables
    b = run_study(_load(tmp_path / "d", plain[1] + plain[0])).tables
    pd.testing.assert_frame_equal(a["roc"], b["roc_2"])


def test_positional_keys_remain_the_default_beside_names(tmp_path: Path) -> None:
    unnamed = REPAIR.replace('name = "repair"\n', "")
    study = _load(tmp_path, PROGRESSION + unnamed + "[analyses.logistic]\nname = 'il6_progression'\n"
                  "truth = 'change:mri_erosion'\npositive = '> 0.5'\npredictors = ['il6_pg_ml']\n")  # fmt: skip
    # a run's positional key is its place in its analysis's list, named runs counted
    assert list(study.analyses) == ["progression", "roc_2", "il6_progression"]
    assert study.kinds == {"progression": "roc", "roc_2": "roc", "il6_progression": "logistic"}
    rep = run_study(study)
    assert list(rep.tables) == ["progression", "roc_2", "il6_progression"]
    # a name equal to the analysis it runs is allowed where no other run has that key
    one = _load(tmp_path / "one", "[analyses.roc]\nname = 'roc'\ntruth = 'change:mri_erosion'\n"
                "positive = '> 0.5'\nscores = ['il6_pg_ml']\n")  # fmt: skip
    assert list(one.analyses) == ["roc"] and one.kinds == {}


def test_every_bad_name_is_reported_with_file_run_value_and_rule(tmp_path: Path) -> None:
    run = "truth = 'change:mri_erosion'\npositive = '> 0.5'\nscores = ['il6_pg_ml']\n"
    names = ["'Progression'", "5", "'logistic'", "'roc_3'", "'published'", "'roc-2'", "''",
             "'rocé'", "'x" + "y" * 64 + "'", "'twice'", "'twice'", "'paired_2'"]  # fmt: skip
    text = "".join(f"[[analyses.roc]]\nname = {n}\n{run}" for n in names)
    text += f"[[analyses.roc]]\n{run}"  # index 12, keyed roc_13 by position
    text += f"[[analyses.roc]]\nname = 'roc_two'\n{run}"
    problems = _problems(tmp_path, text)
    study = str(tmp_path / "study" / "study.toml")
    assert {source for source, *_ in problems} == {study}
    assert {field for _, _, field, _, _ in problems} == {"name"}
    got = {where: (value, rule) for _, where, _, value, rule in problems}
    allowed = "lowercase letters a-z, digits and underscores, starting with a letter"
    assert got["analyses.roc[0]"][0] == "Progression"  # upper case: CSV names on any file system
    assert got["analyses.roc[0]"][1].startswith(f"must be {allowed}")
    assert got["analyses.roc[1]"][0] == 5 and got["analyses.roc[1]"][1].startswith("must be text")
    assert got["analyses.roc[2]"] == (
        "logistic",
        "the name of another analysis (logistic); choose a name of this run's own",
    )
    assert (
        "positional key (roc_2, roc_3, ... key the runs of roc without a name)"
        in got["analyses.roc[3]"][1]
    )
    assert "reserved" in got["analyses.roc[4]"][1] and "published" in got["analyses.roc[4]"][1]
    for k in (5, 6, 7, 8):  # hyphen, empty, non-ASCII letter, 65 characters
        assert allowed in got[f"analyses.roc[{k}]"][1]
    assert "analyses.roc[9]" not in got  # the first 'twice' is fine ...
    assert got["analyses.roc[10]"] == (  # ... the second names the run that has it
        "twice",
        "already the key of the run at analyses.roc[9] (its name); each run needs its own key",
    )
    assert "positional key (paired_2" in got["analyses.roc[11]"][1]
    assert len(problems) == 11  # every problem of every run, together


def test_a_name_taken_by_a_run_without_one_names_that_run(tmp_path: Path) -> None:
    # the first run, without a name, is keyed roc; the second may not be named roc
    text = PROGRESSION.replace('name = "progression"\n', "") + REPAIR.replace('"repair"', '"roc"')
    [(source, where, field, value, rule)] = _problems(tmp_path, text)
    assert (where, field, value) == ("analyses.roc[1]", "name", "roc")
    assert rule == ("already the key of the run at analyses.roc[0] (a run without a name, keyed "
                    "by position); each run needs its own key")  # fmt: skip
    assert source == str(tmp_path / "study" / "study.toml")


def test_a_sensitivity_analysis_of_a_positional_key_lists_the_runs_by_key(tmp_path: Path) -> None:
    # the second ROC run is named repair: roc_2 keys no run any more
    text = PROGRESSION + REPAIR + '[analyses.sensitivity]\nanalysis = "roc_2"\nexclude = ["X"]\n'
    [(_, where, field, value, rule)] = _problems(tmp_path, text)
    assert (where, field, value) == ("analyses.sensitivity", "analysis", "roc_2")
    assert rule == ("required: the key of another run of the study (its name, or roc, roc_2, ... "
                    "by position): progression, repair")  # fmt: skip


def test_a_bad_name_is_one_line_from_the_report_command(tmp_path: Path) -> None:
    path = _write(tmp_path, REPAIR.replace('"repair"', '"Repair 2"'))
    result = CliRunner().invoke(app, ["report", str(path), "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    [line] = result.output.splitlines()
    assert line.startswith(f"error: {path}: record analyses.roc[0], field 'name', value 'Repair 2'")
    assert "lowercase letters a-z, digits and underscores" in line


def test_a_name_whose_table_another_run_writes_is_refused(tmp_path: Path) -> None:
    # the flow analysis writes flow.csv and screening.csv: a run named screening would overwrite it
    path = _write(tmp_path, "[analyses]\nflow = true\n" + REPAIR.replace('"repair"', '"screening"'))
    with pytest.raises(ValidationError) as err:
        run_study(load_study(path))
    [problem] = err.value.problems
    assert (problem.source, problem.record, problem.field, problem.value) == (
        str(path), "analyses.screening", "name", "screening")  # fmt: skip
    assert problem.rule == ("its table screening (screening.csv) is also a table of the run "
                            "flow; choose another name")  # fmt: skip


def test_problems_found_while_a_run_computes_name_the_run(tmp_path: Path) -> None:
    # sex is a characteristic of the study (known when the file is read) but holds no numbers
    path = _write(tmp_path, PROGRESSION + REPAIR.replace('["il6_pg_ml"]', '["sex"]'))
    with pytest.raises(ValidationError) as err:
        run_study(load_study(path))
    [problem] = err.value.problems
    assert (problem.source, problem.record, problem.field, problem.value) == (
        str(path), "analyses.repair", "variable", "sex")  # fmt: skip
    assert problem.rule.startswith("must be numeric; holds not numbers")


# -- reliability runs with outcomes of their own --------------------------------------------------


def _r_icc(outcome: str) -> pd.DataFrame:
    """R psych 2.2.9 ICC() between the two reading sessions (r/il6_rereads.R)."""
    ref = pd.read_csv(DATA / "il6_reliability_r.csv")
    return ref[ref["outcome"] == outcome].set_index("form")


RELIABILITY = """[[analyses.reliability]]
name = "erosion_agreement"
outcome = "mri_erosion"
[[analyses.reliability]]
outcome = "mri_synovitis"
form = "ICC(2,1)"
[[analyses.reliability]]
outcome = "xray_erosion"
"""


def test_each_reliability_run_computes_its_own_outcome_as_r_psych(tmp_path: Path) -> None:
    study = _load(tmp_path, RELIABILITY)
    assert list(study.analyses) == ["erosion_agreement", "reliability_2", "reliability_3"]
    rep = run_study(study)
    for key, outcome in (("erosion_agreement", "mri_erosion"), ("reliability_2", "mri_synovitis")):
        got, ref = rep.tables[key].set_index("form"), _r_icc(outcome)
        assert set(got["outcome"]) == {outcome}
        assert list(got.index) == list(ref.index)
        for column in ("icc", "ci_low", "ci_high"):
            assert got[column].to_numpy() == pytest.approx(ref[column].to_numpy(), abs=1e-9)
        assert (got["n"] == ref["n"]).all() and (got["k"] == ref["k"]).all()
    # the two outcomes' agreement differs (each run reads its own outcome's sessions)
    assert (
        _r_icc("mri_erosion").loc["ICC(3,k)", "icc"]
        != _r_icc("mri_synovitis").loc["ICC(3,k)", "icc"]
    )
    # each run flags its own form
    assert rep.tables["reliability_2"].set_index("form")["reported"].idxmax() == "ICC(2,1)"
    assert rep.tables["erosion_agreement"].set_index("form")["reported"].idxmax() == "ICC(3,k)"
    # the radiographs were read once: that run says so
    assert rep.tables["reliability_3"].empty
    assert rep.sections["reliability_3"].footnotes == ["No scan was read in more than one session."]
    titles = [s.title for s in rep.sections.values()]
    assert titles == ["Reliability of MRI erosion between reading sessions",
                      "Reliability of MRI synovitis between reading sessions",
                      "Reliability of X-ray erosion between reading sessions"]  # fmt: skip
    methods = methods_text(rep)
    assert sum("Intra-reader reliability of MRI erosion" in p for p in methods) == 1
    assert sum("Intra-reader reliability of MRI synovitis" in p for p in methods) == 1


def test_a_reliability_run_alone_equals_the_same_run_in_a_list(tmp_path: Path) -> None:
    listed = run_study(_load(tmp_path / "a", RELIABILITY)).tables["reliability_2"]
    alone = run_study(_load(tmp_path / "b", "[analyses]\nreliability = { outcome = "
                            "'mri_synovitis', form = 'ICC(2,1)' }\n")).tables["reliability"]  # fmt: skip
    pd.testing.assert_frame_equal(listed, alone, check_exact=True)


def test_a_sensitivity_analysis_repeats_one_reliability_run(tmp_path: Path) -> None:
    # without SYN-IL6-01 the synovitis run has 11 patients' scans (22) read twice
    text = RELIABILITY + ('[analyses.sensitivity]\nanalysis = "reliability_2"\n'
                          'exclude = ["SYN-IL6-01"]\n')  # fmt: skip
    rep = run_study(_load(tmp_path, text))
    sens = rep.tables["sensitivity"]
    assert set(sens["outcome"]) == {"mri_synovitis"} and set(sens["n"]) == {22}
    assert set(rep.tables["reliability_2"]["n"]) == {24}


def test_a_reliability_outcome_must_still_be_imaging(tmp_path: Path) -> None:
    text = RELIABILITY + "[[analyses.reliability]]\noutcome = 'das28_crp'\n"
    [(_, where, field, value, rule)] = _problems(tmp_path, text)
    assert (where, field, value, rule) == (
        "analyses.reliability[3]", "outcome", "das28_crp", "must name an imaging outcome")  # fmt: skip


def test_the_r_reference_was_computed_from_the_shipped_rereads() -> None:
    # the re-reads cover 12 patients at both timepoints, every RAMRIS erosion and synovitis site
    rereads = pd.read_csv(DATA / "il6_rereads.csv", dtype={"session": str})
    assert set(rereads["session"]) == {"2"} and rereads["patient_id"].nunique() == 12
    sites = rereads.groupby(["patient_id", "timepoint", "feature"]).size().unstack()
    assert (sites["erosion"] == 23).all() and (sites["synovitis"] == 7).all()
    assert rereads["grade"].between(0, 10).all()
    assert rereads.loc[rereads["feature"] == "synovitis", "grade"].between(0, 3).all()
