"""Single-arm longitudinal designs on the real RAPPORT data: within-patient change over several
intervals and baseline-versus-change associations, checked against values computed here from
the source file with the csv module, NumPy and SciPy (independent of the store and study code)."""

from __future__ import annotations

import csv
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps

from rheumetrics.study.model import parse_study
from rheumetrics.study.report import StudyReport, render_html, run_study

DATA = Path(str(files("rheumetrics") / "data" / "mdhglm_ra_data_RAPPORT.csv"))

STUDY = """
[study]
title = "RAPPORT, all patients, three visits"
[cohort]
store = "{url}"
imports = [{{ source = "package:data/mdhglm_ra_data_RAPPORT.csv", mapping = "package:store/mappings/rapport.toml" }}]
[enrolment]
from = "all"
[[visits]]
id = "M0"
label = "Month 0"
days = [0, 15]
[[visits]]
id = "M3"
label = "Month 3"
days = [60, 120]
target = 91
[[visits]]
id = "M12"
label = "Month 12"
days = [330, 400]
target = 366
[[outcomes]]
id = "das28"
column = "das28_reported"
label = "DAS28"
digits = 2
[analyses]
paired = {{ intervals = [["M0", "M3"], ["M0", "M12"], ["M3", "M12"]], method = "asymptotic", tolerance = 1e-6 }}
logistic = {{ truth = "change:das28@M0-M12", positive = "< -1.2", label = "DAS28 improved by more than 1.2", predictors = ["das28@M0"] }}
paired_proportions = {{ first = {{ variable = "change:das28@M0-M3", positive = "< -0.6" }}, second = {{ variable = "change:das28@M3-M12", positive = "< -0.6" }} }}
association = {{ pairs = [["das28@M0", "change:das28@M0-M12"], ["change:das28@M0-M3", "change:das28@M3-M12"]] }}
"""


def _source() -> dict[str, dict[str, float]]:
    """Patient -> {das0, das3, das12} from the bundled file (item rows das0, das3, das12). The
    file carries single-precision noise (0.0140000004 for 0.014), kept as it is."""
    out: dict[str, dict[str, float]] = {}
    with DATA.open(newline="") as fh:
        for r in csv.DictReader(fh):
            if r["X_NAME_"] in ("das0", "das3", "das12") and r["outcome"] not in ("", "NA"):
                out.setdefault(r["id"], {})[r["X_NAME_"]] = float(r["outcome"])
    return out


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> StudyReport:
    folder = tmp_path_factory.mktemp("long")
    text = STUDY.format(url=f"sqlite:///{folder / 'r.sqlite'}")
    return run_study(parse_study(text, folder / "study.toml"))


@pytest.mark.parametrize(("a", "b"), [("das0", "das3"), ("das0", "das12"), ("das3", "das12")])
def test_within_patient_change_per_interval(report: StudyReport, a: str, b: str) -> None:
    src = _source()
    d = np.round([v[b] - v[a] for v in src.values() if a in v and b in v], 10)  # decimal ties kept
    names = {"das0": "M0", "das3": "M3", "das12": "M12"}
    t = report.tables["paired"].set_index(["from", "to"]).loc[(names[a], names[b])]
    assert t["n"] == d.size
    assert t["median"] == pytest.approx(np.median(d), abs=1e-6)
    tol = 1e-6  # the study's tolerance: single-precision noise is no change
    assert (t["decrease"], t["no_change"], t["increase"]) == (
        (d < -tol).sum(), (abs(d) <= tol).sum(), (d > tol).sum())  # fmt: skip
    assert t["srm"] == pytest.approx(d.mean() / d.std(ddof=1), rel=1e-7)
    # the test that ran is recorded (its p-values are checked against R in tests/stats)
    assert t["test"].startswith("Wilcoxon signed-rank (pratt, ") and "exact" not in t["test"]
    assert 0 < t["p"] <= 1


def test_baseline_predicts_change_and_change_against_change(report: StudyReport) -> None:
    src = _source()
    t = report.tables["association"]
    both = [v for v in src.values() if "das0" in v and "das12" in v]
    ref = sps.spearmanr([v["das0"] for v in both], [v["das12"] - v["das0"] for v in both])
    row = t[t["y"] == "change:das28@M0-M12"].iloc[0]
    assert row["n"] == len(both) and row["r"] == pytest.approx(ref.statistic, abs=1e-6)
    three = [v for v in src.values() if {"das0", "das3", "das12"} <= set(v)]
    ref2 = sps.spearmanr(
        [v["das3"] - v["das0"] for v in three], [v["das12"] - v["das3"] for v in three]
    )
    row2 = t[t["y"] == "change:das28@M3-M12"].iloc[0]
    assert row2["n"] == len(three) and row2["r"] == pytest.approx(ref2.statistic, abs=1e-6)
    html = render_html(report)
    assert "ΔDAS28 (Month 0 to Month 12)" in html and "Within-patient change" in html


def test_logistic_regression_event_rule_is_strict(report: StudyReport) -> None:
    src = _source()
    both = [v for v in src.values() if "das0" in v and "das12" in v]
    events = sum(round(v["das12"] - v["das0"], 10) < -1.2 for v in both)
    t = report.tables["logistic"]
    assert t.attrs["n_events"] == events and t.attrs["model"]["n"] == len(both)
    row = t[t["term"] == "das28@M0"].iloc[0]
    assert row["odds_ratio"] == pytest.approx(np.exp(row["estimate"]), rel=1e-12)
    assert row["or_ci_low"] < row["odds_ratio"] < row["or_ci_high"]
    assert "Odds ratio" in render_html(report)


def test_mcnemar_on_two_rules_of_the_same_patients(report: StudyReport) -> None:
    src = _source()
    three = [v for v in src.values() if {"das0", "das3", "das12"} <= set(v)]
    first = [round(v["das3"] - v["das0"], 10) < -0.6 for v in three]
    second = [round(v["das12"] - v["das3"], 10) < -0.6 for v in three]
    only1 = sum(a and not b for a, b in zip(first, second, strict=True))
    only2 = sum(b and not a for a, b in zip(first, second, strict=True))
    t = report.tables["paired_proportions"].iloc[0]
    assert (t["n"], t["first_only"], t["second_only"]) == (len(three), only1, only2)
    # exact McNemar = two-sided binomial test of the discordant pairs (SciPy)
    assert t["p"] == pytest.approx(sps.binomtest(only1, only1 + only2, 0.5).pvalue, rel=1e-9)
