"""The compiled pass of score_frame: published values, and the same bits, problems and reasons
as the NumPy path on every kind of input."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rheumetrics.errors import ValidationError
from rheumetrics.measures import MEASURES, Conventions, panel
from rheumetrics.measures.compiled import _cache_dir, _compiled
from rheumetrics.measures.formulas import AllAtMost, Linear
from rheumetrics.measures.panel import score_frame
from rheumetrics.numeric import round_display

#: Every measure declared as data (compiled), and one that is not (computed by NumPy beside).
DECLARED = sorted(n for n, m in MEASURES.items() if isinstance(m.compute, Linear | AllAtMost))
PANEL = [*DECLARED, "das"]
RA = [m for m in DECLARED if "dapsa" not in m]
DAS28_SETS = ["das28_eular", "das28_acr2012", "das28_aletaha2005", "das28crp_fleischmann"]


def test_declared_measures_are_the_linear_composites_and_boolean_remission():
    assert set(DECLARED) == {
        "das28_esr", "das28_esr_3v", "das28_crp", "das28_crp_3v", "sdai", "cdai", "dapsa", "cdapsa",
        "boolean_remission_2011", "boolean_remission_2011_practice",
        "boolean_remission_2022", "boolean_remission_2022_practice",
    }  # fmt: skip


@pytest.fixture(scope="module")
def kernel_cache(tmp_path_factory):
    """One kernel cache directory for this module's tests (each panel compiles once)."""
    with pytest.MonkeyPatch.context() as mp:
        path = tmp_path_factory.mktemp("kernels")
        mp.setenv("RHEUMETRICS_CACHE_DIR", str(path))
        yield path


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch, kernel_cache):
    """Chunks of 5 rows, so a few rows cover clean, dirty and last partial chunks."""
    monkeypatch.setattr(panel, "CHUNK_ROWS", 5)


def test_published_worked_examples_through_the_compiled_pass():
    # (TJC28, SJC28, ESR, CRP mg/L, GH, PtGA, PhGA) -> published DAS28-ESR, DAS28-CRP, SDAI, CDAI
    # W1/W2 RheumaComposites.jl and the 4s-dawn.com calculator (DAS28 4.56 and 4.24); W19a-d the
    # Cambio GDL SDAI test cases (SDAI 5.0, 10.0, 15.0, 10.0; CDAI = SDAI - CRP in mg/dL).
    visits = pd.DataFrame(
        [
            (4, 5, 44, 0.0, 12, 1, 1),
            (1, 1, 10, 10.0, 0, 1, 1),
            (0, 1, 10, 40.0, 0, 2, 3),
            (5, 4, 10, 10.0, 0, 3, 2),
            (4, 3, 10, 0.0, 0, 2, 1),
        ],
        columns=["tjc28", "sjc28", "esr_mm_h", "crp_mg_l", "gh_mm", "ptga", "phga"],
    )
    out = score_frame(visits, measures=["das28_esr", "sdai", "cdai"], compiled=True)
    assert round_display(out["das28_esr"].iloc[0], 2) == 4.56
    assert out["das28_esr_category"].iloc[0] == "moderate"
    assert list(round_display(out["sdai"].iloc[1:].to_numpy(), 1)) == [5.0, 10.0, 15.0, 10.0]
    assert list(out["sdai_category"].iloc[1:]) == ["low", "low", "moderate", "low"]
    assert list(out["cdai"].iloc[1:]) == [4.0, 6.0, 14.0, 10.0]
    w2 = pd.DataFrame({"tjc28": [4], "sjc28": [5], "crp_mg_l": [44.0], "gh_mm": [12]})
    assert round_display(score_frame(w2, compiled=True)["das28_crp"].iloc[0], 2) == 4.24


#: Values that put scores on and next to their cut-offs: CDAI 2.8, 10, 22 and SDAI 3.3 exactly
#: (with float noise from tenths), DAS28 near 2.6 / 3.2 / 5.1, Boolean limits (1, 2, 10 mg/L).
counts = st.integers(0, 28).map(float)
tenths = st.integers(0, 100).map(lambda k: k / 10)
visit = st.tuples(
    counts | st.sampled_from([0.0, 1.0, 2.0]),
    counts | st.sampled_from([0.0, 1.0, 2.0]),
    st.integers(1, 300).map(float) | st.sampled_from([1.0, 2.5, 7.0]),
    st.sampled_from([0.0, 0.3, 1.0, 9.9, 10.0, 10.1]) | st.integers(0, 3000).map(lambda k: k / 10),
    st.integers(0, 100).map(float) | st.sampled_from([33.3, 0.5]),
    tenths | st.sampled_from([0.8, 1.0, 2.0]),
    tenths | st.sampled_from([0.1, 0.2, 0.7]),
    st.integers(0, 78).map(float),  # Ritchie index (the original DAS, computed by NumPy)
    st.integers(0, 44).map(float),
    st.integers(0, 68).map(float),
    st.integers(0, 66).map(float),
    tenths,
)
COLUMNS = ["tjc28", "sjc28", "esr_mm_h", "crp_mg_l", "gh_mm", "ptga", "phga", "rai", "sjc44",
           "tjc68", "sjc66", "pain"]  # fmt: skip


@settings(max_examples=60)
@given(rows=st.lists(visit, min_size=1, max_size=23), cut=st.sampled_from(DAS28_SETS))
def test_same_bits_as_numpy(rows, cut):
    visits = pd.DataFrame(rows, columns=COLUMNS)
    conv = Conventions(das28_esr_cutoffs=cut, das28_crp_cutoffs=cut)
    compiled = score_frame(visits, conv, measures=PANEL, compiled=True)
    pd.testing.assert_frame_equal(
        compiled, score_frame(visits, conv, measures=PANEL, compiled=False), check_exact=True
    )
    assert compiled.attrs == score_frame(visits, conv, measures=PANEL, compiled=False).attrs


def test_score_exactly_on_a_cut_off_is_classified_as_by_numpy():
    # CDAI 2.8 = 0.1 + 2.7 in floats is 2.8000000000000003: still remission (<= 2.8)
    visits = pd.DataFrame({"tjc28": [0.0, 1.0, 0.0], "sjc28": [0.0, 1.0, 0.0],
                           "ptga": [0.1, 0.4, 2.6], "phga": [2.7, 0.4, 0.0]})  # fmt: skip
    out = score_frame(visits, measures=["cdai"], compiled=True)
    assert list(out["cdai_category"]) == ["remission", "remission", "remission"]


def frame_with_problems() -> pd.DataFrame:
    visits = pd.DataFrame(
        {
            "tjc28": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 1.5, 8.0, 9.0, 10.0, 11.0, 12.0],
            "sjc28": [0.0] * 12,
            "esr_mm_h": [10.0] * 11 + [np.inf],
            "crp_mg_l": [5.0] * 5 + [np.nan] + [5.0] * 6,
            "gh_mm": [50.0] * 12,
            "ptga": [1.0] * 12,
            "phga": [1.0] * 12,
        },
        index=[f"v{i}" for i in range(12)],
    )
    return visits


@pytest.mark.parametrize("lenient", [False, True])
def test_problems_and_reasons_as_numpy(lenient):
    visits = frame_with_problems()  # chunk 1 clean, chunks 2 and 3 with problems
    results = []
    for compiled in (True, False):
        try:
            results.append(score_frame(visits, lenient=lenient, measures=RA,
                                       compiled=compiled))  # fmt: skip
        except ValidationError as err:
            results.append(err.problems)
    if lenient:
        pd.testing.assert_frame_equal(results[0], results[1], check_exact=True)
        assert results[0].loc["v6", "das28_esr_reason"].startswith("tjc28=1.5 must be an integer")
    else:
        assert results[0] == results[1]
        assert {(p.record, p.field) for p in results[0]} >= {
            ("v6", "tjc28"),
            ("v11", "esr_mm_h"),
            ("v5", "crp_mg_l"),
        }


def test_integer_non_contiguous_and_read_only_columns():
    block = np.asfortranarray(np.tile([[3, 2, 30, 12, 40, 4, 3]], (13, 1)).astype(float))
    names = ["tjc28", "sjc28", "esr_mm_h", "crp_mg_l", "gh_mm", "ptga", "phga"]
    views = {name: block[:, i] for i, name in enumerate(names)}
    views["tjc28"].flags.writeable = False
    visits = pd.DataFrame(views).astype({"sjc28": "int64", "esr_mm_h": "int32"})
    pd.testing.assert_frame_equal(
        score_frame(visits, compiled=True), score_frame(visits, compiled=False), check_exact=True
    )


def test_not_numeric_input_is_left_to_numpy():
    visits = pd.DataFrame({"tjc28": ["1", "two"], "sjc28": [0, 0], "ptga": [1, 1], "phga": [1, 1]})
    with pytest.raises(ValidationError) as compiled:
        score_frame(visits, measures=["cdai"], compiled=True)
    with pytest.raises(ValidationError) as numpy:
        score_frame(visits, measures=["cdai"], compiled=False)
    assert compiled.value.problems == numpy.value.problems


def test_default_is_numpy_below_the_compiled_size(monkeypatch):
    planned = []
    monkeypatch.setattr("rheumetrics.measures.compiled.plan", lambda *a: planned.append(a))
    visits = pd.DataFrame({"tjc28": [1], "sjc28": [0], "ptga": [1], "phga": [1]})
    score_frame(visits)
    assert not planned
    monkeypatch.setattr(panel, "COMPILED_ROWS", 1)
    score_frame(visits)
    assert len(planned) == 1
    score_frame(visits, compiled=False)
    score_frame(visits.iloc[:0], compiled=True)  # no rows: nothing to compile
    assert len(planned) == 1


def test_kernels_are_kept_in_the_cache_directory(kernel_cache):
    visits = pd.DataFrame({"tjc28": [1.0], "sjc28": [0.0], "ptga": [1.0], "phga": [1.0]})
    score_frame(visits, measures=["cdai"], compiled=True)
    sources = {p.stem: p.read_text() for p in kernel_cache.glob("panel_*.py")}
    assert any("y0 = (((x3 + x2) + x1) + x0)" in text for text in sources.values())  # CDAI
    cached = {p.name.split(".")[0] for p in (kernel_cache / "__pycache__").glob("*.nbi")}
    assert cached == set(sources)  # Numba's machine code beside each source


def test_unwritable_cache_directory_falls_back_to_a_private_one(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("RHEUMETRICS_CACHE_DIR", str(blocker / "kernels"))
    fallback = _cache_dir()
    assert fallback.is_dir() and fallback.name.startswith("rheumetrics-kernels-")


def test_an_altered_kernel_source_is_rewritten_before_use(kernel_cache):
    visits = pd.DataFrame({"tjc28": [2.0], "sjc28": [1.0], "ptga": [1.0], "phga": [1.0]})
    score_frame(visits, measures=["cdai", "boolean_remission_2022_practice"], compiled=True)
    for path in kernel_cache.glob("panel_*.py"):
        path.write_text("raise SystemExit('planted')\n")
    _compiled.cache_clear()
    out = score_frame(visits, measures=["cdai", "boolean_remission_2022_practice"], compiled=True)
    assert out["cdai"].tolist() == [5.0]
    restored = [p for p in kernel_cache.glob("panel_*.py") if "planted" not in p.read_text()]
    assert len(restored) == 1 and "def kernel(" in restored[0].read_text()


#: Any float at all in some cells: NaN, infinities, -0.0, subnormals, huge and fractional values.
anything = st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True)


@settings(max_examples=80)
@given(
    rows=st.lists(visit, min_size=1, max_size=17),
    spoilt=st.lists(st.tuples(st.integers(0, 16), st.integers(0, 11), anything), max_size=4),
    lenient=st.booleans(),
)
def test_any_value_gives_the_numpy_results_or_problems(rows, spoilt, lenient):
    visits = pd.DataFrame(rows, columns=COLUMNS)
    for row, col, value in spoilt:
        visits.iloc[row % len(visits), col] = value
    outcomes = []
    for compiled in (True, False):
        try:
            outcomes.append(score_frame(visits, lenient=lenient, measures=PANEL, compiled=compiled))
        except ValidationError as err:
            outcomes.append(err.problems)
    if isinstance(outcomes[0], pd.DataFrame):
        pd.testing.assert_frame_equal(outcomes[0], outcomes[1], check_exact=True)
    else:
        assert outcomes[0] == outcomes[1]
