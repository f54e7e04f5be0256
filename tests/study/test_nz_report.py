"""The bundled NZ-like example, end to end, against the published figures of the NZ escalation
study (McQueen et al.; shared/seeds/001_37322bf8dafcb36c.txt). The synthetic cohort was built to
reproduce these figures; every expected number below is copied from the publication."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rheumetrics.numeric import round_display
from rheumetrics.study.model import load_study
from rheumetrics.study.report import StudyReport, run_study, write_report


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> StudyReport:
    db = tmp_path_factory.mktemp("nz") / "nz.sqlite"
    return run_study(load_study("nz_mri"), db_url=f"sqlite:///{db}")


def _shown(x: float, digits: int) -> float:
    return float(round_display(x, digits))


# seed 001 Table 2: (visit, outcome): (N, median, min, max) for Total, Group A, Group B
TABLE2 = {
    ("V1", "tjc28"): ((84, 11, 1, 28), (57, 10, 1, 28), (27, 14, 1, 28)),
    ("V1", "sjc28"): ((84, 4, 0, 20), (57, 4, 0, 11), (27, 6, 0, 20)),
    ("V1", "haq_di"): ((84, 1.06, 0, 2.5), (57, 0.88, 0, 2.13), (27, 1.38, 0.13, 2.5)),
    ("V1", "das28_crp"): ((84, 4.5, 3.24, 6.64), (57, 4.24, 3.24, 6.04), (27, 5.15, 3.36, 6.64)),
    ("V1", "synovitis"): ((77, 3, 0, 9), (51, 3, 0, 9), (26, 4, 0, 9)),
    ("V1", "tenosynovitis"): ((77, 3, 0, 15), (51, 3, 0, 15), (26, 3, 0, 15)),
    ("V1", "osteitis"): ((77, 2, 0, 34), (51, 2, 0, 34), (26, 3, 0, 24)),
    ("V1", "erosion"): ((76, 5, 0, 50), (50, 4, 0, 50), (26, 9, 1, 47)),
    ("V1", "mri_inflammation"): ((77, 9, 0, 45), (51, 8, 0, 45), (26, 13, 1, 36)),
    ("V1", "xray_erosion"): ((62, 13, 0, 130), (42, 5.5, 0, 112), (20, 33.5, 0, 130)),
    ("V1", "svdh_total"): ((62, 35.5, 0, 217), (42, 20.5, 0, 217), (20, 63, 0, 209)),
    ("V2", "tjc28"): ((72, 6, 0, 28), (48, 5, 0, 28), (24, 7, 0, 24)),
    ("V2", "sjc28"): ((72, 1, 0, 20), (48, 1, 0, 20), (24, 0.5, 0, 9)),
    ("V2", "haq_di"): ((72, 0.63, 0, 2.13), (48, 0.5, 0, 2), (24, 0.75, 0, 2.13)),
    ("V2", "das28_crp"): ((72, 3.47, 1.42, 6.64), (48, 3.28, 1.42, 6.64), (24, 3.66, 1.42, 5.49)),
    ("V2", "synovitis"): ((66, 3, 0, 9), (42, 3, 0, 9), (24, 3, 0, 8)),
    ("V2", "tenosynovitis"): ((66, 2.5, 0, 15), (42, 2, 0, 15), (24, 3, 0, 12)),
    ("V2", "osteitis"): ((68, 2, 0, 34), (44, 2, 0, 32), (24, 3.5, 0, 34)),
    ("V2", "erosion"): ((67, 6, 0, 50), (43, 4, 0, 50), (24, 9.5, 1, 47)),
    ("V2", "mri_inflammation"): ((66, 9, 1, 53), (42, 9, 1, 43), (24, 9, 1, 53)),
}


@pytest.mark.parametrize(("visit", "outcome"), list(TABLE2))
def test_table2_medians_and_ranges_seed001(report: StudyReport, visit: str, outcome: str) -> None:
    t = report.tables["scores"]
    rows = t[(t["visit"] == visit) & (t["outcome"] == outcome)].set_index("group")
    for group, (n, median, low, high) in zip(
        ("all", "A", "B"), TABLE2[(visit, outcome)], strict=True
    ):
        r = rows.loc[group]
        assert r["n"] == n
        assert (_shown(r["median"], 2), _shown(r["min"], 2), _shown(r["max"], 2)) == (
            median,
            low,
            high,
        )


def test_table1_counts_and_categorical_p_seed001(report: StudyReport) -> None:
    t = report.tables["characteristics"]
    sex = t[t["variable"] == "sex"].set_index(["group", "level"])
    # Table 1: female 60 (75%), A 42 (73.68%), B 18 (78.26%); chi-square p = 0.67
    assert [sex.loc[(g, "female"), "n"] for g in ("all", "A", "B")] == [60, 42, 18]
    assert [sex.loc[(g, "male"), "n"] for g in ("all", "A", "B")] == [20, 15, 5]
    assert _shown(sex.loc[("A", "female"), "percent"], 2) == 73.68
    assert sex["test"].iloc[0] == "chi-square" and _shown(sex["p"].iloc[0], 2) == 0.67
    mtx = t[t["variable"] == "on_methotrexate"].set_index(["group", "level"])
    # Table 1: on methotrexate 70 (87.5%), A 49 (85.96%), B 21 (91.3%); p = 0.72 (Fisher: an
    # expected count is below 5, and only Fisher's exact test gives the published 0.72)
    assert [mtx.loc[(g, "yes"), "n"] for g in ("all", "A", "B")] == [70, 49, 21]
    assert _shown(mtx.loc[("B", "yes"), "percent"], 1) == 91.3
    assert mtx["test"].iloc[0] == "Fisher exact" and _shown(mtx["p"].iloc[0], 2) == 0.72
    # Table 1: age 54.5 (24, 82), 53 (24, 81), 56 (27, 82); duration 36 (3, 408), 30 (3, 408), 72 (15, 240)
    for var, expected in (
        ("age_years", [(54.5, 24, 82), (53, 24, 81), (56, 27, 82)]),
        ("disease_duration_months", [(36, 3, 408), (30, 3, 408), (72, 15, 240)]),
    ):
        rows = t[t["variable"] == var].set_index("group")
        got = [tuple(rows.loc[g, ["median", "min", "max"]]) for g in ("all", "A", "B")]
        assert got == expected


def test_patient_flow_from_the_data_seed001(report: StudyReport) -> None:
    flow = report.tables["flow"].set_index(["stage", "group"])["n"]
    # Results: 80 patients enrolled, 57 in Group A and 23 (+4 who moved from A) in Group B
    assert flow[("patients enrolled", "all")] == 80
    assert flow[("enrolments", "A")] == 57 and flow[("enrolments", "B")] == 27  # Table 2 N
    assert flow[("patients enrolled in more than one group", "all")] == 4
    # Table 2: MRI at Visit 1 for 77, radiographs for 62, clinical Visit 2 for 72 (48 + 24)
    assert flow[("imaging at Visit 1", "all")] == 77
    assert flow[("X-ray erosions (SvdH), Total SvdH score at Visit 1", "all")] == 62
    assert flow[("clinical data at Visit 2 (4 months)", "A")] == 48
    assert flow[("clinical data at Visit 2 (4 months)", "B")] == 24
    assert flow[("no clinical data at Visit 2 (4 months) (dropped out)", "all")] == 84 - 72
    # Results: full clinical and MRI data for 62 patients, 66 scan pairs (8 from 4 patients)
    assert flow[("complete clinical and imaging data at both visits", "all")] == 66
    assert flow[("patients with complete data", "all")] == 62


# seed 001 Table 3 (decrease, increase, no change) by group, and the Results text for DAS28-CRP
TABLE3 = {
    "mri_inflammation": {"A": (16, 16, 10), "B": (13, 3, 8)},
    "osteitis": {"A": (15, 9, 20), "B": (8, 6, 10)},
    "synovitis": {"A": (15, 9, 18), "B": (11, 1, 12)},
    "tenosynovitis": {"A": (12, 10, 20), "B": (9, 5, 10)},
    "erosion": {"A": (0, 3, 40), "B": (0, 5, 19)},
    "das28_crp": {"A": (40, 8, 0), "B": (21, 3, 0)},  # 83.3% / 87.5% fell, 16.7% / 12.5% rose
}


def test_table3_direction_of_change_seed001(report: StudyReport) -> None:
    t = report.tables["direction"].set_index(["outcome", "group", "direction"])
    for outcome, by_group in TABLE3.items():
        for group, counts in by_group.items():
            got = tuple(
                t.loc[(outcome, group, d), "n"] for d in ("decrease", "increase", "no_change")
            )
            assert got == counts, outcome
    # percentages as printed in Table 3 and the text
    assert _shown(t.loc[("mri_inflammation", "B", "decrease"), "percent"], 2) == 54.17
    assert _shown(t.loc[("osteitis", "A", "no_change"), "percent"], 2) == 45.45
    assert _shown(t.loc[("erosion", "A", "increase"), "percent"], 2) == 6.98
    assert _shown(t.loc[("das28_crp", "A", "decrease"), "percent"], 1) == 83.3
    assert _shown(t.loc[("das28_crp", "B", "decrease"), "percent"], 1) == 87.5
    totals = t.xs("all", level="group")["n"]
    assert (totals[("mri_inflammation", "decrease")], totals[("mri_inflammation", "increase")],
            totals[("mri_inflammation", "no_change")]) == (29, 19, 18)  # fmt: skip


def test_change_medians_and_ranges_seed001(report: StudyReport) -> None:
    t = report.tables["changes"].set_index(["outcome", "group"])
    # Results: dDAS28CRP A -0.94 (-3.30, 1.61), B -1.53 (-3.59, 0.56); dMRI(i) A 0 (-25, 10), B -1 (-15, 28)
    expected = {
        ("das28_crp", "A"): (-0.94, -3.30, 1.61),
        ("das28_crp", "B"): (-1.53, -3.59, 0.56),
        ("mri_inflammation", "A"): (0, -25, 10),
        ("mri_inflammation", "B"): (-1, -15, 28),
    }
    for key, values in expected.items():
        r = t.loc[key]
        assert (_shown(r["median"], 2), _shown(r["min"], 2), _shown(r["max"], 2)) == values


def test_table4_spearman_correlations_seed001(report: StudyReport) -> None:
    t = report.tables["correlation"].set_index("y")
    # Table 4: n, Spearman r, p (p printed at the precision of the table)
    expected = {
        "change:mri_inflammation": (66, 0.36, 0.003, 3),
        "change:osteitis": (68, 0.12, 0.33, 2),
        "change:synovitis": (66, 0.21, 0.09, 2),
        "change:tenosynovitis": (66, 0.33, 0.007, 3),
        "change:erosion": (67, -0.02, 0.87, 2),
    }
    for y, (n, r, p, digits) in expected.items():
        row = t.loc[y]
        assert row["n"] == n
        assert _shown(row["r"], 2) == r
        assert _shown(row["p"], digits) == p


def test_reliability_icc_average_seed001(report: StudyReport) -> None:
    t = report.tables["reliability"]
    reported = t[t["reported"]].iloc[0]
    # Methods: ten scans re-scored, intra-reader ICC (average) = 0.89
    assert reported["n"] == 10 and reported["k"] == 2
    assert _shown(reported["icc"], 2) == 0.89


def test_scatter_marks_the_group_b_outlier_seed001(report: StudyReport) -> None:
    t = report.tables["scatter"]
    # Results: a Group B outlier whose DAS28-CRP fell 5.15 -> 3.31 while MRI(i) rose 25 -> 53
    row = t[(t["change:mri_inflammation"] == 53 - 25)].iloc[0]
    assert str(row["group"]) == "B" and _shown(row["change:das28_crp"], 2) == round(3.31 - 5.15, 2)
    assert row["outlier"]
    assert len(t) == 66  # Table 4: 66 pairs


def test_html_report_is_self_contained_with_csv_tables(report: StudyReport, tmp_path: Path) -> None:
    written = write_report(report, tmp_path / "nz.html")
    html = (tmp_path / "nz.html").read_text(encoding="utf-8")
    assert "SYNTHETIC DATA" in html
    assert html.count("data:image/png;base64,") == 1  # the scatter plot
    assert 'src="http' not in html and "<link" not in html  # nothing fetched
    for name in ("flow", "characteristics", "scores", "changes", "direction", "correlation",
                 "regression", "reliability", "scatter"):  # fmt: skip
        assert written[name] == tmp_path / "nz_tables" / f"{name}.csv"
        assert len(pd.read_csv(written[name])) == len(report.tables[name])
    regression = report.tables["regression"].set_index("term")
    # Methods: adjusted for age, gender, duration, anti-CCP titre and MRI erosion at Visit 1
    assert set(regression.index) == {"Intercept", "change:das28_crp", "group: B vs A", "age_years", "sex: male vs female",
                                     "disease_duration_months", "anti_ccp_u_ml", "erosion@V1"}  # fmt: skip
    assert regression.attrs["model"]["n"] == 66
