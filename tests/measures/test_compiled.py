"""The compiled pass of score_frame: published values, and the same bits, problems and reasons
as the NumPy path on every kind of input."""

import threading
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rheumetrics.errors import ValidationError
from rheumetrics.measures import MEASURES, Conventions, compiled, panel
from rheumetrics.measures.fields import FIELDS
from rheumetrics.measures.formulas import AllAtMost, Linear
from rheumetrics.measures.panel import score_frame
from rheumetrics.numeric import round_display

#: Every measure declared as data (compiled), and one that is not (computed by NumPy beside).
DECLARED = sorted(n for n, m in MEASURES.items() if isinstance(m.compute, Linear | AllAtMost))
PANEL = [*DECLARED, "das"]
RA = [m for m in DECLARED if "dapsa" not in m]
DAS28_SETS = ["das28_eular", "das28_acr2012", "das28_aletaha2005", "das28crp_fleischmann"]


def both_paths(visits: pd.DataFrame, **options) -> list:
    """The compiled loop's and the NumPy path's outcome: the scores, or the problems raised;
    checked to be the same (bit for bit)."""
    outcomes = []
    for loop in (True, False):
        try:
            outcomes.append(score_frame(visits, compiled=loop, **options))
        except ValidationError as err:
            outcomes.append(err.problems)
    if isinstance(outcomes[0], pd.DataFrame):
        pd.testing.assert_frame_equal(outcomes[0], outcomes[1], check_exact=True)
        assert outcomes[0].attrs == outcomes[1].attrs
    else:
        assert outcomes[0] == outcomes[1]
    return outcomes


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
        compiled.cache_dir.cache_clear()
        yield path
    compiled.cache_dir.cache_clear()


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
    scores, _ = both_paths(visits, conventions=conv, measures=PANEL)
    assert isinstance(scores, pd.DataFrame)  # valid visits: scored, no problems


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
    results = both_paths(visits, lenient=lenient, measures=RA)
    if lenient:
        assert results[0].loc["v6", "das28_esr_reason"].startswith("tjc28=1.5 must be an integer")
    else:
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
    scores, _ = both_paths(visits)
    assert scores["das28_esr"].notna().all()


def test_not_numeric_input_is_left_to_numpy():
    visits = pd.DataFrame({"tjc28": ["1", "two"], "sjc28": [0, 0], "ptga": [1, 1], "phga": [1, 1]})
    problems, _ = both_paths(visits, measures=["cdai"])
    assert [(p.record, p.field, p.value) for p in problems] == [(1, "tjc28", "two")]


def cdai_visits(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame({"tjc28": [2.0] * n, "sjc28": [1.0] * n, "ptga": [1.0] * n,
                         "phga": [1.0] * n})  # fmt: skip


@pytest.fixture
def fresh_process(monkeypatch):
    """No loop loaded yet, as in a new process; loads and runs are recorded."""
    monkeypatch.setattr(compiled, "_LOADED", {})
    calls = {"load": 0, "run": 0}
    load, run = compiled.load, compiled.Plan.run

    def counted_load(p):
        calls["load"] += 1
        return load(p)

    def counted_run(self, *args):
        calls["run"] += 1
        return run(self, *args)

    monkeypatch.setattr(compiled, "load", counted_load)
    monkeypatch.setattr(compiled.Plan, "run", counted_run)
    return calls


def test_default_loads_the_loop_only_for_large_tables_and_uses_it_once_loaded(
    fresh_process, monkeypatch
):
    score_frame(cdai_visits(), measures=["cdai"])  # 6 rows: NumPy, nothing loaded
    assert fresh_process == {"load": 0, "run": 0}
    monkeypatch.setattr(panel, "COMPILED_ROWS", 6)
    score_frame(cdai_visits(), measures=["cdai"])  # as large as COMPILED_ROWS: loaded, used
    assert fresh_process == {"load": 1, "run": 2}
    monkeypatch.setattr(panel, "COMPILED_ROWS", 10**9)
    score_frame(cdai_visits(), measures=["cdai"])  # loaded: used from one chunk (5 rows) on
    assert fresh_process == {"load": 1, "run": 4}
    score_frame(cdai_visits(4), measures=["cdai"])  # less than a chunk: NumPy
    score_frame(cdai_visits(), measures=["cdai"], compiled=False)
    score_frame(cdai_visits(0), measures=["cdai"], compiled=True)  # no rows: nothing to do
    assert fresh_process == {"load": 1, "run": 4}


def test_without_numba_compiled_true_says_how_to_install_it(monkeypatch, fresh_process):
    monkeypatch.setattr(compiled, "available", lambda: "Numba is not installed (pip ...)")
    with pytest.raises(ImportError, match=r"compiled=True.*Numba is not installed"):
        score_frame(cdai_visits(), measures=["cdai"], compiled=True)
    monkeypatch.setattr(panel, "COMPILED_ROWS", 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = score_frame(cdai_visits(), measures=["cdai"])  # by default: NumPy, quietly
    assert out["cdai"].tolist() == [5.0] * 6 and fresh_process["load"] == 0


def test_a_loop_that_fails_to_load_leaves_numpy_to_score_with_a_warning(monkeypatch):
    monkeypatch.setattr(compiled, "_LOADED", {})

    def broken(p):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(compiled, "_compile", broken)
    with pytest.warns(RuntimeWarning, match="scoring with NumPy.*No space left"):
        out = score_frame(frame_with_problems(), lenient=True, measures=RA, compiled=True)
    expected = score_frame(frame_with_problems(), lenient=True, measures=RA, compiled=False)
    pd.testing.assert_frame_equal(out, expected, check_exact=True)


def test_threads_loading_one_loop_at_once_share_it(monkeypatch, tmp_path):
    monkeypatch.setattr(compiled, "_LOADED", {})
    monkeypatch.setenv("RHEUMETRICS_CACHE_DIR", str(tmp_path / "cold"))
    compiled.cache_dir.cache_clear()
    barrier, results, errors = threading.Barrier(4), [], []

    def score():
        barrier.wait()
        try:
            results.append(score_frame(cdai_visits(), measures=["cdai"], compiled=True))
        except Exception as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=score) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    compiled.cache_dir.cache_clear()
    assert not errors and [r["cdai"].tolist() for r in results] == [[5.0] * 6] * 4
    assert len(list((tmp_path / "cold").glob("*.py"))) == 1
    assert not list((tmp_path / "cold").glob("*.tmp"))


def test_kernels_are_kept_in_the_cache_directory(kernel_cache):
    score_frame(cdai_visits(), measures=["cdai"], compiled=True)
    sources = {p.stem: p.read_text() for p in kernel_cache.glob("rheumetrics_kernel_*.py")}
    assert any("y = (((x3 + x2) + x1) + x0)" in text for text in sources.values())  # CDAI
    cached = {p.name.split(".")[0] for p in (kernel_cache / "__pycache__").glob("*.nbi")}
    assert cached == set(sources)  # Numba's machine code beside each source
    assert not list((kernel_cache / "__pycache__").glob("*.pyc"))  # the source runs from memory


def test_an_altered_kernel_source_is_not_run_and_is_rewritten(kernel_cache, monkeypatch):
    score_frame(cdai_visits(), measures=["cdai"], compiled=True)
    for path in kernel_cache.glob("rheumetrics_kernel_*.py"):
        path.write_text("raise SystemExit('planted')\n")
    monkeypatch.setattr(compiled, "_LOADED", {})  # a new process
    assert score_frame(cdai_visits(), measures=["cdai"], compiled=True)["cdai"].iloc[0] == 5.0
    restored = [p for p in kernel_cache.glob("*.py") if "planted" not in p.read_text()]
    assert len(restored) == 1 and "def kernel(" in restored[0].read_text()


def test_a_cache_directory_others_could_write_to_is_made_private_and_its_machine_code_dropped(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(compiled, "_LOADED", {})
    shared = tmp_path / "shared"
    (shared / "__pycache__").mkdir(parents=True)
    planted = shared / "__pycache__" / "rheumetrics_kernel_x.kernel-4.py311.nbi"
    planted.write_bytes(b"not trusted")
    for directory in (shared, shared / "__pycache__"):
        directory.chmod(0o775)  # as a umask of 002 makes them
    monkeypatch.setenv("RHEUMETRICS_CACHE_DIR", str(shared))
    compiled.cache_dir.cache_clear()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = score_frame(cdai_visits(), measures=["cdai"], compiled=True)
    finally:
        compiled.cache_dir.cache_clear()
    assert out["cdai"].tolist() == [5.0] * 6 and not planted.exists()
    assert {(d.stat().st_mode & 0o777) for d in (shared, shared / "__pycache__")} == {0o700}
    assert list((shared / "__pycache__").glob("rheumetrics_kernel_*.nbi"))  # its own, new


@pytest.mark.parametrize("case", ["not a directory", "another user's", "no home directory"])
def test_without_a_private_cache_directory_the_loop_is_compiled_in_memory(
    case, tmp_path, monkeypatch
):
    monkeypatch.setattr(compiled, "_LOADED", {})
    if case == "not a directory":
        (tmp_path / "file").write_text("")
        monkeypatch.setenv("RHEUMETRICS_CACHE_DIR", str(tmp_path / "file" / "kernels"))
    elif case == "another user's":
        monkeypatch.setenv("RHEUMETRICS_CACHE_DIR", str(tmp_path / "theirs"))
        monkeypatch.setattr(compiled.os, "geteuid", lambda: -1)  # no one owns files as -1
    else:
        for name in ("RHEUMETRICS_CACHE_DIR", "XDG_CACHE_HOME", "HOME"):
            monkeypatch.delenv(name, raising=False)

        def no_home():
            raise RuntimeError("Could not determine home directory.")

        monkeypatch.setattr(compiled.Path, "home", no_home)
    compiled.cache_dir.cache_clear()
    try:
        with pytest.warns(RuntimeWarning, match="no kernel cache"):
            out = score_frame(cdai_visits(), measures=["cdai"], compiled=True)
    finally:
        compiled.cache_dir.cache_clear()
    assert out["cdai"].tolist() == [5.0] * 6
    assert not list(tmp_path.rglob("rheumetrics_kernel_*"))


@pytest.mark.parametrize("name", sorted(n for n, f in FIELDS.items() if f.numeric))
def test_the_loop_checks_each_field_exactly_as_field_invalid(name):
    spec = FIELDS[name]
    edges = [spec.low, spec.high, 0.0, -0.0, 0.5, 1.0, 2.5, np.inf, -np.inf, np.nan]
    edges += [np.nextafter(v, d) for v in (spec.low, spec.high) for d in (-np.inf, np.inf)]
    if spec.step:
        edges += [spec.low + spec.step * k + e for k in (1, 2) for e in (-1e-9, 0.0, 1e-8)]
    x = np.array(edges, dtype=float)
    with np.errstate(invalid="ignore"):
        allowed = eval(compiled._allowed(name, "x"), {"np": np, "x": x})  # the generated condition
        expected = ~spec.invalid(x) & ~np.isnan(x)
    np.testing.assert_array_equal(allowed, expected)
    assert panel._clean(spec, x[expected]) and not panel._clean(spec, x)


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
    both_paths(visits, lenient=lenient, measures=PANEL)
