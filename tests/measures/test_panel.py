"""score_frame and the score command: selection, conventions recording, lenient mode, CLI."""

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from rheumetrics.cli import app
from rheumetrics.errors import ValidationError
from rheumetrics.joints import wide_columns
from rheumetrics.measures import MEASURES
from rheumetrics.measures.panel import score_frame
from rheumetrics.numeric import round_display


def visits():
    return pd.DataFrame(
        {
            "tjc28": [4, 2, 1],
            "sjc28": [5, 2, 0],
            "esr_mm_h": [44, 10, 8],
            "crp_mg_l": [44.0, 1.0, 4.0],
            "gh_mm": [12, 10, 5],
            "ptga": [3.0, 2.0, 1.4],
            "phga": [2.0, 1.0, 0.5],
        },
        index=["v1", "v2", "v3"],
    )


def test_computes_every_measure_whose_inputs_are_present():
    out = score_frame(visits())
    for name in ("das28_esr", "das28_crp", "sdai", "cdai", "boolean_remission_2022"):
        assert name in out
    assert "das" not in out  # needs rai and sjc44
    assert round_display(out.loc["v1", "das28_esr"], 2) == 4.56  # W1
    assert out.loc["v1", "das28_esr_category"] == "moderate"
    assert out["das28_esr_category"].cat.ordered
    assert out["boolean_remission_2022"].tolist() == [False, False, True]  # W31-like v3
    assert out.attrs["conventions"]["das28_esr_cutoffs"] == "das28_eular"
    assert "rheumetrics_version" in out.attrs["conventions"]


def test_strict_reports_every_problem_of_the_batch():
    df = visits()
    df.loc["v1", "sjc28"] = 29
    df.loc["v2", "esr_mm_h"] = 0
    df.loc["v3", "crp_mg_l"] = np.nan
    with pytest.raises(ValidationError) as info:
        score_frame(df)
    got = {(p.record, p.field) for p in info.value.problems}
    assert got == {("v1", "sjc28"), ("v2", "esr_mm_h"), ("v3", "crp_mg_l")}
    missing = next(p for p in info.value.problems if p.field == "crp_mg_l")
    assert "das28_crp" in missing.rule and "sdai" in missing.rule


def test_lenient_returns_na_with_reasons_and_never_a_category():
    df = visits()
    df.loc["v2", "esr_mm_h"] = 0
    out = score_frame(df, lenient=True)
    assert np.isnan(out.loc["v2", "das28_esr"])
    assert pd.isna(out.loc["v2", "das28_esr_category"])
    assert "esr_mm_h=0" in out.loc["v2", "das28_esr_reason"]
    assert out.loc["v2", "das28_crp"] > 0  # other measures of the row are unaffected


def test_joint_counts_derived_from_per_joint_findings():
    row = {c: 0 for c in wide_columns("tender28") + wide_columns("swollen28")}
    row.update({"tender_R_MCP2": 1, "tender_L_KNEE": 1, "swollen_R_PIP1": 1})
    df = pd.DataFrame([row]).assign(esr_mm_h=10.0, gh_mm=10.0)
    out = score_frame(df)
    assert out["das28_esr"].iloc[0] == pytest.approx(MEASURES["das28_esr"](2, 1, 10, 10))


def test_not_assessed_joint_makes_count_missing():
    row = {c: 0 for c in wide_columns("tender28") + wide_columns("swollen28")}
    row["tender_R_MCP2"] = None
    df = pd.DataFrame([row]).assign(esr_mm_h=10.0, gh_mm=10.0)
    with pytest.raises(ValidationError, match="tjc28"):
        score_frame(df)


def test_unknown_measure_is_an_error():
    with pytest.raises(ValidationError, match="unknown measure"):
        score_frame(visits(), measures=["das29"])


def test_cli_score_writes_scores_and_conventions(tmp_path):
    src = tmp_path / "visits.csv"
    visits().to_csv(src, index=False)
    out = tmp_path / "scores.parquet"
    result = CliRunner().invoke(
        app, ["score", str(src), "--out", str(out), "-c", "das28_esr_cutoffs=das28_acr2012"]
    )
    assert result.exit_code == 0, result.output
    scores = pd.read_parquet(out)
    assert round_display(scores["das28_esr"].iloc[0], 2) == 4.56
    record = json.loads((tmp_path / "scores.parquet.conventions.json").read_text())
    assert record["das28_esr_cutoffs"] == "das28_acr2012"


def test_cli_bad_input_lists_every_problem_and_exits_non_zero(tmp_path):
    df = visits()
    df.loc["v1", "sjc28"] = 30
    df.loc["v2", "tjc28"] = -1
    src = tmp_path / "visits.xlsx"
    df.to_excel(src, index=False)
    problems = tmp_path / "problems.csv"
    result = CliRunner().invoke(
        app, ["score", str(src), "--out", str(tmp_path / "o.csv"), "--problems", str(problems)]
    )
    assert result.exit_code == 1
    table = pd.read_csv(problems)
    # records are spreadsheet lines (the header is line 1), as `import` numbers them
    assert set(zip(table.record, table.field, strict=True)) == {(2, "sjc28"), (3, "tjc28")}
    assert not (tmp_path / "o.csv").exists()


def test_cli_rejects_unknown_convention(tmp_path):
    src = tmp_path / "visits.csv"
    visits().to_csv(src, index=False)
    result = CliRunner().invoke(
        app, ["score", str(src), "--out", str(tmp_path / "o.csv"), "-c", "das28_esr_cutoffs=nope"]
    )
    assert result.exit_code != 0


def haq_visit(**answers):
    """All 20 HAQ items answered 1 unless given (clinical-measures.md §8.1 categories)."""
    sizes = {
        "dressing": 2,
        "arising": 2,
        "eating": 3,
        "walking": 2,
        "hygiene": 3,
        "reach": 2,
        "grip": 3,
        "activities": 3,
    }
    row = {f"haq_{c}_{i}": 1 for c, n in sizes.items() for i in range(1, n + 1)}
    row.update(answers)
    return row


def test_haq_below_minimum_categories_is_reported_not_silently_na():
    # §8.3 step 4: at least 6 of 8 categories (Stanford); 5 answered -> no HAQ-DI, and it says why
    blank = {
        f"haq_{c}_{i}": None
        for c, n in (("dressing", 2), ("arising", 2), ("eating", 3))
        for i in range(1, n + 1)
    }
    df = pd.DataFrame([haq_visit(), haq_visit(**blank)])
    with pytest.raises(ValidationError, match="haq_di"):
        score_frame(df)
    out = score_frame(df, lenient=True)
    assert out["haq_di"].iloc[0] == pytest.approx(1.0)
    assert np.isnan(out["haq_di"].iloc[1]) and "6" in out["haq_di_reason"].iloc[1]


def test_rapid3_not_scored_from_pain_and_global_alone():
    # RAPID3 needs the MDHAQ function items or FN; pain + PtGA alone (e.g. a DAPSA table) is not RAPID3
    out = score_frame(visits().assign(pain=[1.0, 2.0, 3.0]))
    assert "rapid3" not in out


def _random_panel_visits(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    frame = pd.DataFrame(
        {
            "tjc28": rng.integers(0, 29, n).astype(float),
            "sjc28": rng.integers(0, 29, n).astype(float),
            "esr_mm_h": rng.integers(1, 120, n).astype(float),
            "crp_mg_l": np.round(rng.gamma(1.2, 12.0, n), 1),
            "gh_mm": rng.integers(0, 101, n).astype(float),
            "ptga": rng.integers(0, 21, n) / 2.0,
            "phga": rng.integers(0, 21, n) / 2.0,
        }
    )
    frame.loc[::13, "esr_mm_h"] = np.nan  # missing
    frame.loc[5::17, "tjc28"] = 2.5  # not a whole count
    return frame


@pytest.mark.parametrize("chunk_rows", [1, 7, 64])
def test_chunked_scoring_equals_unchunked_exactly(monkeypatch, chunk_rows):
    """Chunks share terms and write into one output: every value (bit for bit), category and
    reason must be the same as scoring all rows at once."""
    import rheumetrics.measures.panel as panel

    visits = _random_panel_visits(500)
    whole = score_frame(visits, lenient=True)
    monkeypatch.setattr(panel, "CHUNK_ROWS", chunk_rows)
    chunked = score_frame(visits, lenient=True)
    pd.testing.assert_frame_equal(chunked, whole, check_exact=True)
    assert chunked.attrs == whole.attrs


def test_panel_scores_equal_the_scalar_functions_bit_for_bit():
    """The in-place array formulas give the very floats of the one-visit calls."""
    visits = _random_panel_visits(300).dropna()
    visits = visits[visits["tjc28"] % 1 == 0]
    out = score_frame(visits, measures=["das28_esr", "das28_crp", "sdai", "cdai"])
    for name in ("das28_esr", "das28_crp", "sdai", "cdai"):
        m = MEASURES[name]
        one_by_one = [m(**{f: float(row[f]) for f in m.inputs}) for _, row in visits.iterrows()]
        assert out[name].tolist() == one_by_one


@pytest.mark.parametrize("storage", ["pyarrow", "python"])
def test_reasons_of_many_rows_under_either_string_storage(storage):
    visits = pd.DataFrame(
        {"tjc28": [1.0, 2.0, 3.0, 4.5] * 50, "sjc28": [0.0] * 200,
         "esr_mm_h": [np.nan, 10.0, np.nan, 10.0] * 50, "gh_mm": [50.0, np.nan, np.nan, 5.0] * 50}
    )  # fmt: skip
    with pd.option_context("mode.string_storage", storage):
        out = score_frame(visits, measures=["das28_esr"], lenient=True)
    assert out["das28_esr_reason"].dtype == pd.StringDtype(storage)
    assert out["das28_esr_reason"].iloc[:4].tolist() == [
        "esr_mm_h missing",
        "gh_mm missing",
        "esr_mm_h missing; gh_mm missing",
        "tjc28=4.5 must be an integer >= 0 and <= 28",
    ]
    assert out["das28_esr"].isna().all()


def test_problems_name_each_row_by_its_label_even_when_labels_repeat():
    visits = pd.DataFrame(
        {"tjc28": [30.0, np.nan, "two", 1.0], "sjc28": [0, 0, 0, np.nan],
         "esr_mm_h": [10, 10, 10, 10], "gh_mm": [np.nan, 5.0, 5.0, 5.0]},
        index=["P1", "P1", "P2", "P3"],
    )  # fmt: skip
    with pytest.raises(ValidationError) as err:
        score_frame(visits, measures=["das28_esr"])
    assert [(p.record, p.field, p.value is None) for p in err.value.problems] == [
        ("P2", "tjc28", False),  # "two": text, reported as the column is read
        ("P1", "tjc28", False),  # 30: above 28
        ("P1", "tjc28", True),  # missing: field by field in the measure's order, row by row
        ("P3", "sjc28", True),
        ("P1", "gh_mm", True),
    ]
    out = score_frame(visits, measures=["das28_esr"], lenient=True)
    assert out["das28_esr_reason"].tolist() == [
        "tjc28=30.0 must be an integer >= 0 and <= 28; gh_mm missing",
        "tjc28 missing",  # not the other P1 row's value
        "tjc28=two must be an integer >= 0 and <= 28; got text",
        "sjc28 missing",
    ]


def test_a_row_labelled_nan_keeps_its_reason():
    visits = pd.DataFrame(
        {"tjc28": [30.0, 1.0], "sjc28": [0, 0], "esr_mm_h": [10, 10], "gh_mm": [5, np.nan]},
        index=[np.nan, 2.0],
    )
    out = score_frame(visits, measures=["das28_esr"], lenient=True)
    assert out["das28_esr_reason"].tolist() == [
        "tjc28=30.0 must be an integer >= 0 and <= 28",
        "gh_mm missing",
    ]
