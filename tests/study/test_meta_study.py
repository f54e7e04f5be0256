"""Meta-analysis studies from a study-level table against R metafor (values stored by
r/stats_reference.R in tests/stats/data/r_reference.json): medians with IQR or range converted
to means and SDs (Wan et al. 2014), the unpooled mean-difference variance, and correlations
pooled on Fisher's z scale. The tables are the R script's own, independent of any generator."""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rheumetrics.errors import ValidationError
from rheumetrics.study.model import parse_study
from rheumetrics.study.report import render_html, run_study

R = json.loads(
    (Path(__file__).parents[1] / "stats" / "data" / "r_reference.json").read_text("utf-8")
)

_MD_COLUMNS = (
    'mean_t = "mean_t", sd_t = "sd_t", n_t = "n_t", median_t = "median_t", q1_t = "q1_t", '
    'q3_t = "q3_t", min_t = "min_t", max_t = "max_t", mean_c = "mean_c", sd_c = "sd_c", '
    'n_c = "n_c", median_c = "median_c", q1_c = "q1_c", q3_c = "q3_c", min_c = "min_c", '
    'max_c = "max_c"'
)


def _study(tmp_path: Path, table: pd.DataFrame, analysis: str) -> Path:
    table.to_csv(tmp_path / "effects.csv", index=False)
    path = tmp_path / "meta.toml"
    path.write_text(f'[study]\ntitle = "t"\n[analyses]\nmeta = {{ {analysis} }}\n', "utf-8")
    return path


def test_medians_are_converted_and_pooled_as_metafor(tmp_path: Path) -> None:
    ref = R["meta_md_converted"]
    table = pd.DataFrame(ref["data"])
    path = _study(tmp_path, table, f'file = "effects.csv", measure = "MD", study = "study", '
                  f"columns = {{ {_MD_COLUMNS} }}")  # fmt: skip
    rep = run_study(parse_study(path.read_text("utf-8"), path))
    studies = rep.tables["meta_studies"]
    np.testing.assert_allclose(studies["yi"], ref["yi"], rtol=1e-10)
    np.testing.assert_allclose(studies["vi"], ref["vi"], rtol=1e-10)
    pooled = rep.tables["meta"].iloc[0]
    assert pooled["estimate"] == pytest.approx(ref["estimate"], rel=1e-6)
    assert pooled["se"] == pytest.approx(ref["se"], rel=1e-5)
    assert [pooled["ci_low"], pooled["ci_high"]] == pytest.approx(ref["ci"], rel=1e-5)
    assert pooled["p"] == pytest.approx(ref["p"], rel=1e-4)
    assert studies["converted"].tolist() == ["", "", "wan t:S2 c:S2", "", "wan t:S1 c:S1"]
    assert rep.tables["meta"].attrs["conventions"]["md_variance"] == "unpooled"
    page = html.unescape(render_html(rep))
    assert "Wan et al." in page and "S3 (wan t:S2 c:S2)" in page


def test_pooled_md_variance_is_metafor_vtype_ho(tmp_path: Path) -> None:
    ref = R["meta_md"]
    table = pd.DataFrame(ref["data"])
    cols = 'mean_t = "m1", sd_t = "sd1", n_t = "n1", mean_c = "m2", sd_c = "sd2", n_c = "n2"'
    path = _study(tmp_path, table, f'file = "effects.csv", measure = "MD", '
                  f'md_variance = "pooled", columns = {{ {cols} }}')  # fmt: skip
    rep = run_study(parse_study(path.read_text("utf-8"), path))
    np.testing.assert_allclose(rep.tables["meta_studies"]["vi"], ref["vi_ho"], rtol=1e-12)


def test_correlations_pool_on_fisher_z_as_metafor(tmp_path: Path) -> None:
    ref = R["meta_zcor"]
    table = pd.DataFrame({"ri": ref["ri"], "ni": ref["ni"]})
    path = _study(tmp_path, table, 'file = "effects.csv", measure = "ZCOR", '
                  'columns = { r = "ri", n = "ni" }')  # fmt: skip
    rep = run_study(parse_study(path.read_text("utf-8"), path))
    pooled = rep.tables["meta"].iloc[0]
    assert pooled["estimate"] == pytest.approx(ref["estimate"], rel=1e-6)
    assert pooled["pooled"] == pytest.approx(ref["pooled"], rel=1e-6)
    assert [pooled["pooled_ci_low"], pooled["pooled_ci_high"]] == pytest.approx(
        ref["pooled_ci"], rel=1e-5
    )
    display = rep.sections["meta"].display
    assert display is not None
    assert display["Estimate"].iloc[-1] == f"{ref['pooled']:.3f}"  # printed as r, not z
    assert "Fisher's z" in html.unescape(render_html(rep))


@pytest.mark.parametrize(
    ("key", "value"), [("conversion", "guess"), ("md_variance", "equal"), ("measure", "HR")]
)
def test_unknown_meta_options_name_the_allowed(tmp_path: Path, key: str, value: str) -> None:
    table = pd.DataFrame({"ri": [0.3, 0.4], "ni": [30, 40]})
    path = _study(tmp_path, table, f'file = "effects.csv", {key} = "{value}", '
                  'columns = { r = "ri", n = "ni" }')  # fmt: skip
    with pytest.raises(ValidationError) as err:
        parse_study(path.read_text("utf-8"), path)
    [problem] = [p for p in err.value.problems if p.field == key]
    assert problem.value == value and "must be one of" in problem.rule
