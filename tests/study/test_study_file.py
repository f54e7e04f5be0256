"""Study files: every problem reported at once, with the key path, value and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from rheumetrics.errors import ValidationError
from rheumetrics.study.model import BUNDLED, load_study, parse_study
from rheumetrics.study.report import run_study
from rheumetrics.study.sections import analyses

MINIMAL = """
[study]
title = "t"
[cohort]
visits = "visits.csv"
[[visits]]
id = "V1"
days = [-7, 7]
[[visits]]
id = "V2"
days = [80, 100]
[[outcomes]]
id = "das28_crp"
"""


def _problems(text: str, tmp_path: Path) -> list[tuple[str, str, object, str]]:
    (tmp_path / "visits.csv").write_text("patient_id,visit_date\n")
    with pytest.raises(ValidationError) as err:
        parse_study(text, tmp_path / "study.toml")
    return [(str(p.record), p.field, p.value, p.rule) for p in err.value.problems]


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_studies_load(name: str) -> None:
    study = load_study(name)
    assert study.analyses
    registry = analyses()
    if any(registry[a].needs_cohort for a in study.analyses):
        assert study.outcomes and study.visits
    else:  # a study-level table (meta-analysis) needs no patients, visits or outcomes
        assert not study.outcomes and study.cohort.store is None


def test_minimal_study_is_valid(tmp_path: Path) -> None:
    (tmp_path / "visits.csv").write_text("patient_id,visit_date\n")
    study = parse_study(MINIMAL, tmp_path / "study.toml")
    assert study.change == ("V1", "V2")  # first to last visit by default
    assert [g.id for g in study.groups] == ["all"]


def test_unknown_outcome_is_named(tmp_path: Path) -> None:
    text = MINIMAL.replace('id = "das28_crp"', 'id = "das29_crp"')
    [(where, field, value, rule)] = _problems(text, tmp_path)
    assert (where, field, value) == ("outcomes[0]", "id", "das29_crp")
    assert "unknown clinical outcome" in rule


def test_unknown_imaging_feature_and_subset(tmp_path: Path) -> None:
    text = (
        MINIMAL
        + """
[[outcomes]]
id = "syn"
imaging = { system = "ramris", feature = "synovitiss" }
[[outcomes]]
id = "teno"
imaging = { system = "haavardsholm", feature = "tenosynovitis", subset = "feet" }
[[outcomes]]
id = "x"
imaging = { system = "ramrys", feature = "synovitis" }
"""
    )
    problems = _problems(text, tmp_path)
    assert [(p[0], p[1], p[2]) for p in problems] == [
        ("outcomes[1].imaging", "feature", "synovitiss"),
        ("outcomes[2].imaging", "subset", "feet"),
        ("outcomes[3].imaging", "system", "ramrys"),
    ]


def test_every_problem_is_reported_together(tmp_path: Path) -> None:
    text = """
[study]
title = "t"
[cohort]
visits = "missing.csv"
[enrolment]
from = "therapy"
[[groups]]
id = "A"
[[groups]]
id = "A"
drugs = ["adalimumab"]
drug_class = ["biologic"]
[[visits]]
id = "V1"
days = [10, -10]
[[outcomes]]
id = "haq_di"
visits = ["V9"]
[analyses]
correlation = { x = "haq_di", y = ["nope"] }
"""
    problems = _problems(text, tmp_path)
    found = {(p[0], p[1]) for p in problems}
    assert {
        ("cohort", "visits"),  # file not found
        ("groups[0]", "drugs"),  # a therapy group needs a rule
        ("groups[1]", "id"),  # duplicate id
        ("groups[1]", "drug_class"),  # unknown drug class
        ("visits[0]", "days"),  # window ends before it starts
        ("outcomes[0]", "visits"),  # unknown visit
        ("analyses.correlation", "y"),  # unknown outcome
        ("analyses.correlation", "correlation"),  # needs two visits
    } <= found
    assert len(problems) >= 8


def test_not_toml_and_unknown_keys(tmp_path: Path) -> None:
    [(where, field, _, rule)] = _problems("[study\n", tmp_path)
    assert (where, field) == ("(file)", "toml") and "not valid TOML" in rule
    problems = _problems(MINIMAL + "\n[extra]\nx = 1\n", tmp_path)
    assert [(p[0], p[1]) for p in problems] == [("(top)", "extra")]


def test_empty_group_is_an_error_when_run(tmp_path: Path) -> None:
    visits = tmp_path / "visits.csv"
    visits.write_text("patient_id,visit_date,tjc28,sjc28,crp_mg_l,gh_mm\nP1,2020-01-01,4,2,5,40\n")
    therapies = tmp_path / "therapies.csv"
    therapies.write_text(
        "patient_id,drug,drug_class,start_date,stop_date\nP1,methotrexate,csDMARD,2020-01-01,\n"
    )
    text = (
        MINIMAL.replace(
            'visits = "visits.csv"', 'visits = "visits.csv"\ntherapies = "therapies.csv"'
        )
        + """
[enrolment]
from = "therapy"
[[groups]]
id = "A"
drug_class = ["csDMARD"]
[[groups]]
id = "B"
label = "anti-TNF"
drugs = ["adalimumab"]
"""
    )
    (tmp_path / "study.toml").write_text(text)
    study = load_study(tmp_path / "study.toml")
    with pytest.raises(ValidationError) as err:
        run_study(study)
    [problem] = err.value.problems
    assert (
        problem.record == "group B"
        and "empty group" in problem.rule
        and "adalimumab" in problem.rule
    )


# -- paths stay inside the study file's folder (or the package for package: paths) ----------------


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("visits", "../../etc/passwd"),
        ("visits", "/etc/passwd"),
        ("visits", "package:../.."),
        ("visits", "package:../../../etc/passwd"),
        ("store", "sqlite:////etc/outside.sqlite"),
        ("store", "sqlite:///../outside.sqlite"),
    ],
)
def test_paths_outside_the_study_folder_are_refused(tmp_path: Path, key: str, value: str) -> None:
    folder = tmp_path / "study"
    folder.mkdir()
    text = MINIMAL.replace('visits = "visits.csv"', f'{key} = "{value}"')
    problems = _problems(text, folder)
    [(where, _, shown, rule)] = [p for p in problems if p[1] == key]
    assert (where, shown) == ("cohort", value)
    assert "outside" in rule or "climb out" in rule
    assert "--allow-outside" in rule


def test_allow_outside_lets_a_study_read_a_sibling_folder(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "visits.csv").write_text("patient_id,visit_date\n")
    (tmp_path / "study").mkdir()
    text = MINIMAL.replace('"visits.csv"', '"../data/visits.csv"')
    with pytest.raises(ValidationError):
        parse_study(text, tmp_path / "study" / "study.toml")
    study = parse_study(text, tmp_path / "study" / "study.toml", allow_outside=True)
    assert study.cohort.visits == tmp_path / "study" / "../data/visits.csv"


def test_a_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.csv").write_text("patient_id,visit_date\n")
    (tmp_path / "study").mkdir()
    (tmp_path / "study" / "visits.csv").symlink_to(tmp_path / "secret.csv")
    with pytest.raises(ValidationError) as err:
        parse_study(MINIMAL, tmp_path / "study" / "study.toml")
    assert "outside" in str(err.value)


def test_bundled_package_paths_stay_allowed() -> None:
    assert load_study("nz_mri").cohort.imports


def test_unknown_analysis_given_a_table_is_one_problem_naming_the_allowed(tmp_path: Path) -> None:
    text = MINIMAL + '[analyses]\nfrobnicate = { outcomes = ["das28_crp"] }\n'
    [(where, field, value, rule)] = _problems(text, tmp_path)
    assert (where, field, value) == ("analyses", "frobnicate", {"outcomes": ["das28_crp"]})
    assert "unknown key; allowed:" in rule
    assert all(name in rule for name in analyses())


HOOKS = (
    MINIMAL
    + """
[[outcomes]]
id = "mri_erosion"
imaging = { system = "ramris", feature = "erosion" }
[analyses]
"""
)


@pytest.mark.parametrize(
    ("analysis", "options", "field", "value", "rule"),
    [
        ("correlation", "{ x = 'das29', y = ['mri_erosion'] }", "x", "das29", "unknown outcome"),
        ("correlation", "{ x = 'das28_crp', y = 'mri_erosion', method = 'kendall' }", "method",
         "kendall", "must be one of spearman, pearson"),
        ("scatter", "{ x = 'das28_crp', y = 'mri_erosin' }", "y", "mri_erosin", "unknown outcome"),
        ("regression", "{ outcome = 'change:das28_crp' }", "predictors", None, "required"),
        ("regression", "{ outcome = 'das28_crp@V9', predictors = 'group' }", "outcome",
         "das28_crp@V9", "unknown variable"),
        ("paired", "{ intervals = [['V2', 'V1']] }", "intervals[0]", ["V2", "V1"],
         "must be [earlier, later] visits of: V1, V2"),
        ("paired", "{ zero_method = 'zsplit' }", "zero_method", "zsplit", "'pratt' or 'wilcox'"),
        ("association", "{ pairs = [['das28_crp@V1']] }", "pairs[0]", ["das28_crp@V1"],
         "must be [x, y]"),
        ("reliability", "{ outcome = 'das28_crp' }", "outcome", "das28_crp",
         "must name an imaging outcome"),
        ("reliability", "{ outcome = 'mri_erosion', confidence = 95 }", "confidence", 95,
         "between 0 and 1"),
        ("response", "{ outcome = 'das28' }", "outcome", "das28", "must name a DAS28 outcome"),
        ("paired_proportions", "{ second = { variable = 'change:mri_erosion', positive = '> 0.5' } }",
         "first", None, "must be { variable = ..., positive = '> 0.5' }"),
        ("paired_proportions", "{ first = { variable = 'change:mri_erosion', positive = '> 0.5' }, "
         "second = { variable = 'change:das28_crp', positive = '> 0.5' }, method = 'midp' }",
         "method", "midp", "'exact' or 'chi-square'"),
        ("logistic", "{ truth = 'change:mri_erosion', predictors = 'group' }", "positive", None,
         "an operator and a number"),
        ("roc", "{ truth = 'change:mri_erosion', positive = '> 0.5', scores = ['das28_crp@V1'], "
         "higher_is_positive = [true, false] }", "higher_is_positive", [True, False],
         "one true/false per score (1)"),
        ("meta", "{ file = 'effects.csv' }", "file", "effects.csv", "must name an existing CSV"),
        ("meta", "{ file = 'visits.csv', measure = 'HR' }", "measure", "HR", "must be one of RR"),
        ("sample_size", "{ calculations = [{ kind = 'survival' }] }", "kind", "survival",
         "must be one of correlation, noninferiority"),
    ],
)  # fmt: skip
def test_each_analysis_checks_its_options_in_its_hook(
    tmp_path: Path, analysis: str, options: str, field: str, value: object, rule: str
) -> None:
    assert analyses()[analysis].check is not None  # registered with the analysis
    problems = _problems(HOOKS + f"{analysis} = {options}\n", tmp_path)
    assert [(w, f, v) for w, f, v, _ in problems if f == field] == [
        (f"analyses.{analysis}" + (".calculations[0]" if analysis == "sample_size" else ""),
         field, value)
    ]  # fmt: skip
    assert rule in next(r for _, f, _, r in problems if f == field)


def test_a_new_analysis_is_checked_by_its_registered_hook(tmp_path: Path) -> None:
    from rheumetrics.study.registry import REGISTRY, Section, register

    def check(c, study, where, spec):
        if spec.get("level") not in ("low", "high"):
            c.add(where, "level", spec.get("level"), "must be low or high")

    analyses()  # the built-in ones first

    @register("extra_test_analysis", {"level"}, methods=lambda s, o: "", check=check)
    def extra(study, data, spec):
        return Section("extra")

    try:
        text = HOOKS + "extra_test_analysis = [{ level = 'low' }, { level = 'mid' }]\n"
        [(where, field, value, rule)] = _problems(text, tmp_path)
        assert (where, field, value, rule) == (
            "analyses.extra_test_analysis[1]",
            "level",
            "mid",
            "must be low or high",
        )
    finally:
        del REGISTRY["extra_test_analysis"]


def test_every_registered_analysis_has_a_row_in_the_docs() -> None:
    # docs/reports.md's table of analyses is written by hand beside the registry
    docs = (Path(__file__).parents[2] / "docs" / "reports.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip().strip("`") for line in docs.splitlines()
            if line.startswith("| `")}  # fmt: skip
    assert set(analyses()) <= rows, sorted(set(analyses()) - rows)
