"""Every shipped study's report as a reader sees it: numeric characteristics modelled as numbers
(the RAPPORT regression against R ``lm`` on the source file, r/rapport_regression.R), tests
described as computed, no group comparison in single-arm studies, one label per variable
everywhere, and no raw Python values or variable ids in the text."""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from rheumetrics.errors import ProblemCollector, ValidationError
from rheumetrics.study import analyses as an
from rheumetrics.study import report
from rheumetrics.study.design import numeric_values, study_labels
from rheumetrics.study.model import load_study
from rheumetrics.study.registry import Section
from rheumetrics.study.report import StudyReport, render_html, run_study
from rheumetrics.study.sections.common import var_label

DATA = Path(__file__).parent / "data"
STUDIES = ("nz_mri", "rapport", "il6_prediction", "single_arm_mri", "axspa_mri_meta")


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, StudyReport]:
    out = {}
    for name in STUDIES:
        study = load_study(name)
        db = tmp_path_factory.mktemp(name) / "store.sqlite"
        out[name] = run_study(study, db_url=f"sqlite:///{db}" if study.cohort.store else None)
    return out


@pytest.fixture(scope="module")
def html(reports: dict[str, StudyReport]) -> dict[str, str]:
    return {name: render_html(rep) for name, rep in reports.items()}


class _Text(HTMLParser):
    """Visible text by element: footnotes and conventions (``li``), methods paragraphs, captions."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[tuple[str, str]] = []
        self._stack: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "svg", "script", "code"):
            self._skip += 1
        if tag in ("li", "p", "figcaption", "td", "th", "h2"):
            self._stack.append(tag)
            self.items.append((tag, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "svg", "script", "code"):
            self._skip -= 1
        if self._stack and tag == self._stack[-1]:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if self._stack and not self._skip:
            tag, text = self.items[-1]
            self.items[-1] = (tag, text + data)


def _texts(page: str) -> list[tuple[str, str]]:
    parser = _Text()
    parser.feed(page)
    return parser.items


# -- item 1: numeric characteristics are numbers in every analysis ---------------------------------


def test_rapport_regression_has_one_slope_and_matches_r_lm(reports: dict[str, StudyReport]) -> None:
    t = reports["rapport"].tables["regression"].set_index("term")
    r = pd.read_csv(DATA / "rapport_regression_r.csv").set_index("term")
    assert list(t.index) == list(r.index)  # 6 terms, one slope for years since diagnosis
    for col in ("estimate", "se", "p", "ci_low", "ci_high"):
        assert t[col].to_numpy() == pytest.approx(r[col].to_numpy(), rel=1e-7, abs=1e-12)
    model = t.attrs["model"]
    assert model["n"] == r["n"].iloc[0] == 109 and model["r2"] == pytest.approx(r["r2"].iloc[0])
    assert model["df_resid"] == 109 - 6
    frame = reports["rapport"].data.frame  # type: ignore[union-attr]
    assert pd.api.types.is_float_dtype(frame["years_since_diagnosis"])


def test_models_refuse_numbers_stored_as_text(reports: dict[str, StudyReport]) -> None:
    rep = reports["rapport"]
    assert rep.data is not None
    text = rep.data.frame.assign(
        years_since_diagnosis=rep.data.frame["years_since_diagnosis"].map(
            lambda v: None if pd.isna(v) else f"{v:g}"
        )
    )
    data = dataclasses.replace(rep.data, frame=text)
    study = dataclasses.replace(
        rep.study,
        characteristics=tuple(c for c in rep.study.characteristics
                              if c.id != "years_since_diagnosis"),
    )  # fmt: skip
    spec = rep.study.analyses["regression"]
    with pytest.raises(ValidationError, match="years_since_diagnosis") as err:
        an.regression(study, data, spec)
    assert "numbers stored as text" in str(err.value) and "(1, 2, 3, 4, 5, 6, 7, 8, ... (" in str(
        err.value
    )
    logistic = {"truth": "change:haq_di", "positive": "<= -0.22", "predictors": ["change:das28"],
                "confounders": ["years_since_diagnosis"]}  # fmt: skip
    with pytest.raises(ValidationError, match="years_since_diagnosis"):
        an.logistic(study, data, logistic)
    # declared categorical: one term per value, as the study file asks
    as_category = dataclasses.replace(
        rep.study,
        characteristics=tuple(dataclasses.replace(c, kind="categorical")
                              if c.id == "years_since_diagnosis" else c
                              for c in rep.study.characteristics),
    )  # fmt: skip
    terms = an.regression(as_category, data, spec)["term"]
    assert terms.str.startswith("years_since_diagnosis: ").sum() > 10


def test_analyses_needing_numbers_refuse_text(reports: dict[str, StudyReport]) -> None:
    rep = reports["rapport"]
    assert rep.data is not None
    spec = {"truth": "change:haq_di", "positive": "<= -0.22", "scores": ["ethnicity"]}
    with pytest.raises(ValidationError, match=r"ethnicity.*not numbers \(Dutch, Other\)"):
        an.roc(rep.study, rep.data, spec)
    rule = {"variable": "education", "positive": "> 0"}
    with pytest.raises(ValidationError, match="education"):
        an.paired_proportions(rep.study, rep.data, {"first": rule, "second": rule})


def test_numeric_characteristic_parsing_is_strict() -> None:
    problems = ProblemCollector("test")
    values = pd.Series(
        [" 10 ", "4.5", None, "", "１２", "inf", "yes", "-1e2"], index=list("abcdefgh")
    )
    ids = pd.Series([f"P{k}" for k in range(8)], index=values.index)
    out = numeric_values(values, ids, "years_since_diagnosis", problems)
    assert out[["a", "b", "h"]].tolist() == [10.0, 4.5, -100.0]
    assert out[["c", "d", "e", "f", "g"]].isna().all()
    with pytest.raises(ValidationError) as err:
        problems.raise_if_any()
    bad = {(p.record, p.value) for p in err.value.problems}
    assert bad == {("P4", "１２"), ("P5", "inf"), ("P6", "yes")}
    assert all(p.field == "years_since_diagnosis" for p in err.value.problems)
    flags = ProblemCollector("test")
    numeric_values(pd.Series([True, False]), pd.Series(["P1", "P2"]), "age", flags)
    with pytest.raises(ValidationError, match="a true/false value"):
        flags.raise_if_any()


# -- item 2: tests described as computed -------------------------------------------------------


def test_median_test_described_as_computed(
    reports: dict[str, StudyReport], html: dict[str, str]
) -> None:
    for name in ("nz_mri", "il6_prediction", "single_arm_mri"):
        assert "hypergeometric" not in html[name]
    assert "asymptotic chi-square p" in html["nz_mri"]
    tests = set(reports["nz_mri"].tables["scores"]["test"])
    assert tests == {"median test (permutation chi-square, asymptotic p, mean scores for ties)"}


def test_mann_whitney_p_and_description_as_r_wilcox_test(
    reports: dict[str, StudyReport], html: dict[str, str]
) -> None:
    t = reports["rapport"].tables["characteristics"]
    r = pd.read_csv(DATA / "rapport_wilcox_r.csv").set_index("variable")
    for var in r.index:
        row = t[(t["variable"] == var) & (t["group"] == "all")].iloc[0]
        assert row["p"] == pytest.approx(r.loc[var, "p"], rel=1e-9)
        assert row["test"] == "Mann-Whitney U (normal approximation, continuity correction)"
    page = html["rapport"]
    assert "continuity correction" in page
    assert "permutation" not in page and "ties below" not in page


# -- item 3: single-arm studies have no group comparison -------------------------------------------


@pytest.mark.parametrize("name", ["il6_prediction", "single_arm_mri"])
def test_single_group_reports_compare_nothing(
    name: str, reports: dict[str, StudyReport], html: dict[str, str]
) -> None:
    rep, page = reports[name], html[name]
    chars = rep.sections["characteristics"].display
    scores = rep.sections["scores"].display
    assert chars is not None and scores is not None
    assert "p" not in chars.columns and "Test" not in chars.columns
    assert ("", "p") not in list(scores.columns)
    assert "compared between groups" not in page and "by group" not in page
    assert "more than one group" not in page and "two groups" not in page
    assert "Mood" not in page
    for sec in ("characteristics", "scores"):
        assert not any(f.startswith("p:") for f in rep.sections[sec].footnotes)


# -- item 6: one label per variable -------------------------------------------------------------------


def test_labels_are_study_wide(reports: dict[str, StudyReport], html: dict[str, str]) -> None:
    nz = load_study("nz_mri")
    assert var_label(nz, "anti_ccp_u_ml") == "Anti-CCP titre (U/mL)"  # given once, in regression
    assert "anti ccp u ml" not in html["nz_mri"]
    assert html["nz_mri"].count("Anti-CCP titre (U/mL)") >= 5  # methods, tables 7, 11-13
    single = load_study("single_arm_mri")
    assert var_label(single, "change:xray_erosion@W0-W36") == (
        "ΔX-ray erosion (SvdH, hands) (Week 0 to Week 36)"
    )
    assert study_labels(single)["change:mri_erosion@W0-W12"] == "ΔMRI erosion (Week 0 to Week 12)"
    for rep in reports.values():
        assert rep.data is not None
        if len(rep.data.frame):
            assert rep.data.labels == study_labels(rep.study)


# -- item 11: presentation ---------------------------------------------------------------------------

_RAW = re.compile(r"\bNone\b|\bTrue\b|\bFalse\b|\bnan\b|[\[\]{}]|'\w+'\s*:|change:|@")


@pytest.mark.parametrize("name", STUDIES)
def test_no_raw_values_or_ids_in_the_text(name: str, html: dict[str, str]) -> None:
    texts = [(tag, text) for tag, text in _texts(html[name]) if tag != "td"]
    assert texts
    for tag, text in texts:
        # a scatter's marker key quotes the group letter ('A'): not a dictionary key
        assert not _RAW.search(text), (tag, text)


def test_trimmed_numbers_as_the_paper_prints_them(reports: dict[str, StudyReport]) -> None:
    # NZ Table 1 prints age 54.5 (24, 82) and disease duration 36 (3, 408) months
    chars = reports["nz_mri"].sections["characteristics"].display
    assert chars is not None
    shown = dict(zip(chars["Characteristic"], chars[chars.columns[1]], strict=True))
    assert shown["Age (years)"] == "54.5 (24, 82)"
    assert shown["Disease duration (months)"] == "36 (3, 408)"
    rapport = reports["rapport"].sections["characteristics"].display
    assert rapport is not None
    assert rapport[rapport.columns[1]].iloc[0] == "55.7 (21.1, 82.8)"  # not whole numbers


def test_headers_footnotes_and_captions(
    reports: dict[str, StudyReport], html: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    nz = reports["nz_mri"]
    direction = nz.sections["direction"].display
    assert direction is not None and any("(N = 57)" in str(c) for c in direction.columns)
    flow = nz.sections["flow"].display
    assert flow is not None and "Total (N = 84 enrolments of 80 patients)" in flow.columns
    # the published-figures table is numbered after the section tables
    n_tables = sum(s.display is not None and not s.display.empty for s in nz.sections.values())
    assert f"Table {n_tables + 1}. Each published figure" in html["nz_mri"]
    comp = nz.reproduction
    assert comp is not None
    bad = comp[(comp["source"] == "scores") & (comp["status"] != "reproduced")]
    note = next(f for f in nz.sections["scores"].footnotes if "NOT reproduced" in f)
    assert f"NOT reproduced ({len(bad)}):" in note and "..." not in note
    assert 0 < len(bad) <= report.SHOWN_NOT_REPRODUCED and " more, listed" not in note
    assert all(f"{r.row} {r.statistic} published" in note for r in bad.itertuples())
    # beyond the figures shown, the footnote counts the rest and points to the full table
    shown = 1
    scores = Section("scores", tables=nz.sections["scores"].tables)
    monkeypatch.setattr(report, "SHOWN_NOT_REPRODUCED", shown)
    report._flag_sections(dataclasses.replace(nz, sections={"scores": scores}))
    (short,) = scores.footnotes
    assert f"NOT reproduced ({len(bad)}):" in short
    assert f"; and {len(bad) - shown} more, listed in the table of published" in short
    assert "at most the 1 most extreme" not in html["nz_mri"]
    assert "only the most extreme marked" in html["nz_mri"]
    assert "100.0% power" not in html["nz_mri"] and "more than 99.9% power" in html["nz_mri"]
    rapport = html["rapport"]
    assert "drawn as its group id" not in rapport
    assert "Women drawn as circles, Men as triangles" in rapport
    assert "imaging session" not in rapport and "more than one group" not in rapport


def test_scoring_conventions_of_the_measures_used(reports: dict[str, StudyReport],
                                                  html: dict[str, str]) -> None:  # fmt: skip
    for name in ("nz_mri", "il6_prediction", "single_arm_mri"):  # DAS28-CRP only
        assert "das28_crp_cutoffs" in reports[name].scoring
        assert "das28_esr_cutoffs" not in reports[name].scoring
        assert "OMERACT RAMRIS (2002)" in html[name]
    assert "Sharp/van der Heijde (standard)" in html["nz_mri"]
    # RAPPORT's DAS28 is taken as reported: no DAS28 scoring convention applies
    assert not any(k.startswith("das") for k in reports["rapport"].scoring)
