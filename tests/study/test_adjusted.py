"""The adjusted analyses of a study file (least-squares means, an added variable's association,
sensitivity analyses) on an independent synthetic cohort; the statistic itself is tested against
R in tests/stats/test_marginal_means.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from synthetic_cohorts import synthetic_cohort, write_file_study

from rheumetrics import stats as st
from rheumetrics.errors import ValidationError
from rheumetrics.study.model import load_study, parse_study
from rheumetrics.study.report import StudyReport, render_html, run_study

CONFOUNDERS = ["age_years", "sex", "disease_duration_months", "anti_ccp_u_ml", "erosion@V1"]


def _study(tmp_path: Path, extra: str = "") -> Path:
    path = write_file_study(synthetic_cohort(140, seed=5), tmp_path, imaging_format="csv")
    text = path.read_text(encoding="utf-8").replace("[analyses]\n", "[analyses]\n" + extra)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def rep(tmp_path_factory: pytest.TempPathFactory) -> StudyReport:
    folder = tmp_path_factory.mktemp("adjusted")
    path = _study(folder)
    frame = run_study(load_study(path)).data.frame
    # leave out the patient of the first Group B enrolment with a complete change
    first = frame[(frame["group"] == "B") & frame["change:mri_inflammation"].notna()]
    patient = str(first["patient_id"].iloc[0])
    path = _study(folder / "again", f'sensitivity = {{ analysis = "adjusted_means", '
                                    f'exclude = ["{patient}"], reason = "a test" }}\n')  # fmt: skip
    out = run_study(load_study(path))
    out.data.frame.attrs["left_out"] = patient
    return out


def _frame(rep: StudyReport) -> pd.DataFrame:
    f = rep.data.frame.copy()
    f["group"] = f["group"].astype(str)
    return f


def test_adjusted_means_are_the_model_s_least_squares_means(rep: StudyReport) -> None:
    t = rep.tables["adjusted_means"].set_index("group")
    assert list(t.index) == ["A", "B", "B vs A"]
    want = st.adjusted_means(_frame(rep), "change:mri_inflammation", "group", ["change:das28_crp"],
                             CONFOUNDERS, missing="drop")  # fmt: skip
    np.testing.assert_allclose(t["estimate"], want["estimate"], rtol=1e-12)
    # the adjusted difference and its p are the regression's group coefficient (another path)
    reg = rep.tables["regression"].set_index("term").loc["group: B vs A"]
    assert t.loc["B vs A", "estimate"] == pytest.approx(reg["estimate"], rel=1e-9)
    assert t.loc["B vs A", "p"] == pytest.approx(reg["p"], rel=1e-9)
    assert t.loc["B", "estimate"] - t.loc["A", "estimate"] == pytest.approx(reg["estimate"])
    assert (t["ci_low"] < t["estimate"]).all() and (t["estimate"] < t["ci_high"]).all()


def test_sensitivity_repeats_the_analysis_without_the_patient(rep: StudyReport) -> None:
    patient = rep.data.frame.attrs["left_out"]
    t = rep.tables["sensitivity"].set_index("group")
    assert set(t["analysis"]) == {"adjusted_means"} and set(t["excluded"]) == {patient}
    f = _frame(rep)
    want = st.adjusted_means(f[f["patient_id"] != patient], "change:mri_inflammation", "group",
                             ["change:das28_crp"], CONFOUNDERS, missing="drop").set_index("level")  # fmt: skip
    np.testing.assert_allclose(t["estimate"], want["estimate"], rtol=1e-12)
    assert (
        t.loc["B vs A", "n"]
        == rep.tables["adjusted_means"].set_index("group").loc["B vs A", "n"] - 1
    )
    assert f"without patient {patient}" in render_html(rep)


def test_adjusted_association_replaces_the_named_confounder(rep: StudyReport) -> None:
    t = rep.tables["adjusted_association"].set_index("variable").loc["xray_erosion@V1"]
    conf = [c for c in CONFOUNDERS if c != "erosion@V1"]
    want = st.linear_regression(_frame(rep), "change:mri_inflammation",
                                ["xray_erosion@V1", "change:das28_crp", "group"], conf,
                                reference={"group": "A"}, missing="drop").set_index("term")  # fmt: skip
    assert t["estimate"] == pytest.approx(want.loc["xray_erosion@V1", "estimate"], rel=1e-12)
    assert t["p"] == pytest.approx(want.loc["xray_erosion@V1", "p"], rel=1e-12)
    assert t["replaces"] == "erosion@V1"


def test_unknown_patient_in_a_sensitivity_analysis_is_named(tmp_path: Path) -> None:
    path = _study(
        tmp_path, 'sensitivity = { analysis = "adjusted_means", exclude = ["NOBODY-1"] }\n'
    )
    with pytest.raises(ValidationError) as err:
        run_study(load_study(path))
    [problem] = err.value.problems
    assert (problem.field, problem.value) == ("exclude", "NOBODY-1")


def test_options_of_the_adjusted_analyses_are_checked_together(tmp_path: Path) -> None:
    path = _study(tmp_path)
    text = path.read_text(encoding="utf-8")
    bad = """[analyses]
sensitivity = { analysis = "nothing", exclude = "SYN-NZ-001" }
"""
    text = text.replace("[analyses]\n", bad)
    text = text.replace('replace = "erosion@V1"', 'replace = "svdh_total@V1"')
    text = text.replace(
        "adjusted_means = { outcome", 'adjusted_means = { weights = "balanced", outcome'
    )
    with pytest.raises(ValidationError) as err:
        parse_study(text, path)
    found = {(str(p.record), p.field) for p in err.value.problems}
    assert {("analyses.sensitivity", "analysis"), ("analyses.sensitivity", "exclude"),
            ("analyses.adjusted_association", "replace"),
            ("analyses.adjusted_means", "weights")} <= found  # fmt: skip
