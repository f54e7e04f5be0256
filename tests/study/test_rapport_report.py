"""The bundled RAPPORT study (real data), end to end. Expected counts are taken from the source
file itself (refdata README: 159 patients, HAQ and DAS28 at months 0, 3, 6, 9 and 12; sex V =
female), counted here with the csv module, independently of the store and the study code."""

from __future__ import annotations

import csv
import statistics
from importlib.resources import files
from pathlib import Path

import pytest

from rheumetrics.study.model import load_study
from rheumetrics.study.report import StudyReport, run_study, write_report

DATA = Path(str(files("rheumetrics") / "data" / "mdhglm_ra_data_RAPPORT.csv"))


@pytest.fixture(scope="module")
def source() -> list[dict[str, str]]:
    with DATA.open(newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> StudyReport:
    db = tmp_path_factory.mktemp("rapport") / "rapport.sqlite"
    return run_study(load_study("rapport"), db_url=f"sqlite:///{db}")


def _values(src: list[dict[str, str]], item: str) -> dict[str, float]:
    return {
        r["id"]: float(r["outcome"])
        for r in src
        if r["X_NAME_"] == item and r["outcome"] not in ("", "NA")
    }


def test_flow_counts_match_the_source(report: StudyReport, source: list[dict[str, str]]) -> None:
    flow = report.tables["flow"].set_index(["stage", "group"])["n"]
    patients = {r["id"]: r["sex"] for r in source}
    assert (
        flow[("patients enrolled", "all")] == len(patients) == 159
    )  # refdata README: 159 patients
    assert flow[("enrolments", "female")] == sum(s == "V" for s in patients.values())
    assert flow[("enrolments", "male")] == sum(s == "M" for s in patients.values())
    at_12 = set(_values(source, "das12")) | set(_values(source, "haq12"))
    assert flow[("clinical data at Month 12", "all")] == len(at_12)
    assert flow[("no clinical data at Month 12 (dropped out)", "all")] == 159 - len(at_12)


def test_scores_match_the_source(report: StudyReport, source: list[dict[str, str]]) -> None:
    t = report.tables["scores"].set_index(["visit", "outcome", "group"])
    for visit, item, outcome in (("M0", "das0", "das28"), ("M12", "haq12", "haq_di")):
        values = _values(source, item)
        row = t.loc[(visit, outcome, "all")]
        assert row["n"] == len(values)
        assert row["median"] == pytest.approx(statistics.median(values.values()), abs=1e-9)
        assert row["min"] == pytest.approx(min(values.values()), abs=1e-9)
        assert row["max"] == pytest.approx(max(values.values()), abs=1e-9)


def test_change_correlation_and_roc(report: StudyReport, source: list[dict[str, str]]) -> None:
    das0, das12 = _values(source, "das0"), _values(source, "das12")
    haq0, haq12 = _values(source, "haq0"), _values(source, "haq12")
    both = set(das0) & set(das12) & set(haq0) & set(haq12)
    corr = report.tables["correlation"].iloc[0]
    assert corr["n"] == len(both)
    roc = report.tables["roc"].set_index("score")
    # positives: HAQ-DI improved by at least the MCID 0.22 (clinical-measures.md §8.4)
    improved = {p for p in set(haq0) & set(haq12) if haq12[p] - haq0[p] <= -0.22}
    with_das = improved & set(das0) & set(das12)
    assert roc.loc["change:das28", "n_pos"] == len(with_das)
    assert 0 <= roc.loc["change:das28", "auc"] <= 1 and "delong_p" in roc.columns


def test_report_written(report: StudyReport, tmp_path: Path) -> None:
    written = write_report(report, tmp_path / "rapport.html")
    html = written["html"].read_text(encoding="utf-8")
    assert "SYNTHETIC" not in html  # real data are not labelled synthetic
    assert html.count("data:image/png;base64,") == 3  # trajectories, scatter and ROC
    assert {"flow", "characteristics", "scores", "changes", "direction", "correlation", "regression",
            "scatter", "roc"} <= set(written)  # fmt: skip
