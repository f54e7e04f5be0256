"""The meta analysis's prediction interval and subgroup test as a study file asks for them,
against R metafor (r/meta_subgroups.R, stored in tests/stats/data/meta_subgroups_r.json)."""

from __future__ import annotations

import html
import json
import shutil
from pathlib import Path

import pytest

from rheumetrics.errors import ValidationError
from rheumetrics.study.model import parse_study
from rheumetrics.study.report import render_html, run_study

R = json.loads(
    (Path(__file__).parents[1] / "stats" / "data" / "meta_subgroups_r.json").read_text("utf-8")
)
TABLE = (
    Path(__file__).parents[2] / "src" / "rheumetrics" / "studies" / "axspa_mri_meta_synthetic.csv"
)
_COLUMNS = ('columns = { mean_t = "mean_t", sd_t = "sd_t", n_t = "n_t", mean_c = "mean_c", '
            'sd_c = "sd_c", n_c = "n_c" }')  # fmt: skip


def _run(tmp_path: Path, options: str):
    shutil.copy(TABLE, tmp_path / "effects.csv")
    path = tmp_path / "meta.toml"
    path.write_text(
        '[study]\ntitle = "t"\n[analyses]\nmeta = { file = "effects.csv", measure = "MD", '
        f'study = "study", subgroup = "subgroup", {_COLUMNS}{options} }}\n',
        "utf-8",
    )
    return run_study(parse_study(path.read_text("utf-8"), path))


def _intervals(rep) -> dict[str, list[float]]:
    t = rep.tables["meta"]
    return {row["subgroup"]: [row["pi_low"], row["pi_high"]] for _, row in t.iterrows()}


def test_default_is_metafor_prediction_and_q_between(tmp_path: Path) -> None:
    ref = R["axspa"]["models"]["REML_z"]
    rep = _run(tmp_path, "")
    pis = _intervals(rep)
    assert pis["all"] == pytest.approx(ref["overall"]["pi_metafor"], rel=1e-8)
    for level, sub in ref["subgroups"].items():
        if sub["k"] > 1:
            assert pis[level] == pytest.approx(sub["pi_metafor"], rel=1e-8)
    test = rep.tables["meta"].attrs["subgroup_test"]
    assert test["test"] == "q_between"
    assert test["Q"] == pytest.approx(ref["q_between"]["stat"], rel=1e-8)
    assert test["p"] == pytest.approx(ref["q_between"]["p"], rel=1e-8)
    conventions = rep.sections["meta"].conventions
    assert "predict.rma" in conventions["prediction"]
    assert "RevMan" in conventions["subgroup_test"]
    page = html.unescape(render_html(rep))
    assert "Test for subgroup differences (Q-between" in page
    assert "Q = 9.96, df = 4, p = 0.041" in page
    assert "as R metafor predict.rma" in page  # methods and footnote name the interval
    display = rep.sections["meta"].display
    assert display is not None and "95% PI" in display.columns


def test_higgins_prediction_and_moderator_test(tmp_path: Path) -> None:
    ref = R["axspa"]["models"]["REML_z"]
    rep = _run(tmp_path, ', prediction = "higgins", subgroup_test = "moderator"')
    assert _intervals(rep)["all"] == pytest.approx(ref["overall"]["pi_higgins"], rel=1e-8)
    test = rep.tables["meta"].attrs["subgroup_test"]
    assert test["QM"] == pytest.approx(ref["moderator"]["stat"], rel=1e-8)
    assert test["p"] == pytest.approx(ref["moderator"]["p"], rel=1e-8)
    page = html.unescape(render_html(rep))
    assert "QM = 7.77, df = 4, p = 0.10" in page
    assert "Higgins, Thompson & Spiegelhalter 2009" in page


def test_knapp_hartung_moderator_test_is_an_f_test(tmp_path: Path) -> None:
    ref = R["axspa"]["models"]["REML_knha"]
    rep = _run(tmp_path, ', knapp_hartung = true, subgroup_test = "moderator"')
    assert _intervals(rep)["all"] == pytest.approx(ref["overall"]["pi_metafor"], rel=1e-8)
    test = rep.tables["meta"].attrs["subgroup_test"]
    assert test["QM"] == pytest.approx(ref["moderator"]["stat"], rel=1e-8)
    assert test["df2"] == ref["moderator"]["df2"]
    assert "F(4, 11)" in html.unescape(render_html(rep))


@pytest.mark.parametrize(("key", "value"), [("prediction", "riley"), ("subgroup_test", "anova")])
def test_unknown_prediction_or_subgroup_test_names_the_allowed(
    tmp_path: Path, key: str, value: str
) -> None:
    shutil.copy(TABLE, tmp_path / "effects.csv")
    path = tmp_path / "meta.toml"
    path.write_text(
        '[study]\ntitle = "t"\n[analyses]\nmeta = { file = "effects.csv", measure = "MD", '
        f'subgroup = "subgroup", {key} = "{value}", {_COLUMNS} }}\n',
        "utf-8",
    )
    with pytest.raises(ValidationError) as err:
        parse_study(path.read_text("utf-8"), path)
    [problem] = [p for p in err.value.problems if p.field == key]
    assert problem.value == value and "must be one of" in problem.rule
