"""A study on plain files (no store): the synthetic generator's records, plus a meta-analysis
checked against metafor on the BCG trials (stats-reference.md §7a) and an ROC analysis."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from synthetic_cohorts import synthetic_cohort, write_file_study

from rheumetrics.study.model import load_study
from rheumetrics.study.report import run_study, write_report

BCG = Path(__file__).parents[3] / "shared" / "refdata" / "metadat_dat_bcg.csv"


def test_synthetic_cohort_is_deterministic() -> None:
    a, b = synthetic_cohort(60, seed=7), synthetic_cohort(60, seed=7)
    for name in ("patients", "visits", "therapies", "reads"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert a.patients["patient_id"].str.startswith("SYN-").all()  # clearly synthetic ids


@pytest.mark.skipif(not BCG.exists(), reason="shared reference data not available")
def test_file_study_with_meta_analysis_and_roc(tmp_path: Path) -> None:
    study_path = write_file_study(synthetic_cohort(150, seed=11), tmp_path, imaging_format="csv")
    bcg = pd.read_csv(BCG, keep_default_na=False)
    bcg.assign(n_t=bcg["tpos"] + bcg["tneg"], n_c=bcg["cpos"] + bcg["cneg"]).to_csv(
        tmp_path / "bcg.csv", index=False
    )
    text = study_path.read_text(encoding="utf-8").replace(
        "[analyses]\n",
        """[analyses]
meta = { file = "bcg.csv", measure = "RR", method = "REML", study = "author", columns = { events_t = "tpos", n_t = "n_t", events_c = "cpos", n_c = "n_c" } }
roc = { truth = "change:das28_crp", positive = "<= -1.2", scores = ["change:mri_inflammation", "change:synovitis"] }
""",
    )
    study_path.write_text(text, encoding="utf-8")
    rep = run_study(load_study(study_path))
    meta = rep.tables["meta"].iloc[0]
    # stats-reference.md §7a, metafor rma(method="REML"): est -0.7145, tau^2 0.3132, I^2 92.22%
    assert round(meta["estimate"], 4) == -0.7145
    assert round(meta["tau2"], 4) == 0.3132
    assert round(meta["i2"], 2) == 92.22
    roc = rep.tables["roc"]
    assert list(roc["score"]) == ["change:mri_inflammation", "change:synovitis"]
    assert (roc["auc"].between(0, 1)).all() and "delong_p" in roc
    flow = rep.tables["flow"].set_index(["stage", "group"])["n"]
    assert flow[("patients enrolled", "all")] == 150
    written = write_report(rep, tmp_path / "out" / "report.html")
    html = written["html"].read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 3  # scatter, ROC, forest plot
    assert (tmp_path / "out" / "report_tables" / "meta_studies.csv").exists()
