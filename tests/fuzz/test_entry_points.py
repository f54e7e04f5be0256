"""Property-based tests at every entry point: for any input, a result that satisfies the
documented contract or a :class:`~rheumetrics.errors.ValidationError` listing problems; never
another exception, never an infinite or NaN score passed off as a value.

Runs with the profile named by ``$RHEUMETRICS_FUZZ`` (see ``conftest.py``).
"""

from __future__ import annotations

import math
import os
import string
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from rheumetrics.cli import app
from rheumetrics.errors import RheumetricsError, ValidationError
from rheumetrics.measures import MEASURES, score_frame
from rheumetrics.store.mapping import parse_mapping
from rheumetrics.store.stage import stage

PROFILE = settings.get_profile(os.environ.get("RHEUMETRICS_FUZZ", "rheumetrics-quick"))

# Values a careless or hostile file can hold: numbers of every size, text that looks like
# numbers (Unicode digits, separators, padding), booleans, missing markers, formulas.
NUMBERS = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, 28, 100, 1e300, 1e-300, -0.0, 0.01, 2**63]),
)
TRICKY_TEXT = st.sampled_from(
    ["", " ", "NA", "nan", "inf", "-inf", "Infinity", "1e400", "１２", "٣", "1_0", "\u00a012",
     "1,5", "4.", ".5", "+3", "True", "FALSE", "yes", "=1+1", "@SUM(A1)", "\r\n", "0x10", "1/2",
     "12 mm", "—", "\x00"]
)  # fmt: skip
TEXT = st.one_of(TRICKY_TEXT, st.text(max_size=12), NUMBERS.map(str))
CELL = st.one_of(NUMBERS, TEXT, st.booleans(), st.none())


def _finite_or_missing(values: Any) -> bool:
    """No infinite number among ``values`` (NaN / NA stand for missing)."""
    arr = np.asarray(values, dtype=object).ravel()
    return not any(isinstance(v, (float, np.floating)) and math.isinf(v) for v in arr)


# -- scalar measures ----------------------------------------------------------------------------


@settings(PROFILE)
@given(st.sampled_from(sorted(MEASURES)), st.data())
def test_scalar_measures(name: str, data: st.DataObject) -> None:
    measure = MEASURES[name]
    kwargs = {k: data.draw(CELL, label=k) for k in measure.inputs}
    try:
        result = measure(**kwargs)
    except ValidationError as err:
        assert err.problems and all(p.rule for p in err.problems)
        return
    values = result.values() if isinstance(result, dict) else [result]
    assert all(_finite_or_missing(v) for v in values), (name, kwargs, result)


# -- score_frame ----------------------------------------------------------------------------------

SCORE_COLUMNS = ["tjc28", "sjc28", "esr_mm_h", "crp_mg_l", "gh_mm", "ptga", "phga",
                 "total_back_pain", "basdai_q2", "basdai_q6", "pain"]  # fmt: skip


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    cols = draw(st.lists(st.sampled_from(SCORE_COLUMNS), min_size=1, max_size=8, unique=True))
    n = draw(st.integers(0, 6))
    good = st.one_of(st.integers(0, 28), st.floats(0, 100))
    cell = st.one_of(good, good, CELL)
    return pd.DataFrame(
        {c: draw(st.lists(cell, min_size=n, max_size=n)) for c in cols}, dtype=object
    )


@settings(PROFILE)
@given(frames(), st.booleans())
def test_score_frame(df: pd.DataFrame, lenient: bool) -> None:
    try:
        out = score_frame(df, lenient=lenient)
    except ValidationError as err:
        assert not lenient or err.problems  # lenient mode reports through reasons, or a
        assert all(p.rule for p in err.problems)  # whole-table problem
        return
    assert len(out) == len(df) and out.index.equals(df.index)
    numeric = out.select_dtypes("number")
    assert _finite_or_missing(numeric.to_numpy())


# -- the score command ----------------------------------------------------------------------------

runner = CliRunner()


@settings(PROFILE)
@given(frames())
def test_score_cli(df: pd.DataFrame) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in.csv", Path(tmp) / "out.csv"
        df.to_csv(src, index=False)
        result = runner.invoke(app, ["score", str(src), "--out", str(out)])
        assert result.exit_code in (0, 1), result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(
            result.exception
        )
        assert "Traceback" not in result.output


# -- import staging -------------------------------------------------------------------------------

MAPPING = parse_mapping("""
[source]
format = "csv"
[patient]
id = "patient"
sex = { column = "sex", values = { F = "female", M = "male" } }
birth_year = "birth_year"
rf = "rf"
[visit]
date = "date"
[values]
esr_mm_h = "esr"
crp_mg_l = { column = "crp", unit_column = "crp_unit" }
gh_mm = "gh"
tjc28 = "tjc28"
sdai_reported = "sdai"
""")
RAW_COLUMNS = ["patient", "sex", "birth_year", "rf", "date", "esr", "crp", "crp_unit", "gh",
               "tjc28", "sdai"]  # fmt: skip
RAW_CELL = st.one_of(
    st.none(),
    TEXT,
    st.sampled_from(["P1", "P2", "F", "M", "1960", "yes", "no", "2020-01-15", "2021-02-30",
                     "9999-01-01", "44", "mg/L", "mg/dL", "g/L", "12"]),
)  # fmt: skip


@st.composite
def raw_frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 6))
    cols = draw(st.lists(st.sampled_from(RAW_COLUMNS), min_size=1, max_size=len(RAW_COLUMNS),
                         unique=True))  # fmt: skip
    df = pd.DataFrame({c: draw(st.lists(RAW_CELL, min_size=n, max_size=n)) for c in cols},
                      dtype=object)  # fmt: skip
    df.index = pd.RangeIndex(2, 2 + n, name="row")
    return df


@settings(PROFILE)
@given(raw_frames())
def test_import_staging(raw: pd.DataFrame) -> None:
    staged = stage(MAPPING, raw, "fuzz.csv")
    for p in staged.problems:
        assert p.rule and p.source == "fuzz.csv"
        assert p.record in raw.index or p.record in ("(file)", "(header)")
    stored_rows = set(staged.visits["_row"]) if "_row" in staged.visits else set()
    assert not stored_rows & staged.bad_rows  # a bad row is never staged for storing
    items = [c for c in ("esr_mm_h", "crp_mg_l", "gh_mm", "tjc28", "sdai_reported")
             if c in staged.visits]  # fmt: skip
    assert _finite_or_missing(staged.visits[items].to_numpy())


# -- mapping, strategy and study files ------------------------------------------------------------

KEYS = st.sampled_from(
    ["source", "patient", "visit", "values", "joints", "long", "redcap", "therapy", "imaging",
     "format", "layout", "id", "date", "column", "value", "values", "unit", "encoding",
     "delimiter", "sheet", "attributes", "esr_mm_h", "tender", "pattern", "choices",
     "days_after", "anchor", "events", "dictionary", "strategy", "ladder", "target", "name",
     "analyses", "data", "x"]
)  # fmt: skip
TOML_SCALAR = st.one_of(
    st.text(string.ascii_letters + "_{}%./-", max_size=10), st.integers(-5, 5 * 10**6),
    st.floats(allow_nan=False, allow_infinity=False), st.booleans(),
    st.sampled_from(["csv", "redcap", "long", "utf-8", "klingon", "{joint}", "t_{joint}", "ra",
                     "2020-01-01", "../../etc/passwd", "%Y-%m-%d"]),
)  # fmt: skip
TOML_VALUE = st.recursive(
    TOML_SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=12,
)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"


def documents() -> st.SearchStrategy[str]:
    tables = st.dictionaries(KEYS, st.dictionaries(KEYS, TOML_VALUE, max_size=5), max_size=6)
    return tables.map(
        lambda doc: "\n".join(
            f"[{name}]\n" + "\n".join(f"{k} = {_toml(v)}" for k, v in body.items())
            for name, body in doc.items()
        )
    )


@settings(PROFILE)
@given(documents())
def test_mapping_loading(text: str) -> None:
    try:
        mapping = parse_mapping(text, Path(tempfile.gettempdir()) / "fuzz.toml")
    except ValidationError as err:
        assert err.problems and all(p.rule for p in err.problems)
        str(err)  # the message can be shown
        return
    assert mapping.patient  # a mapping that loads has at least the patient id


@settings(PROFILE)
@given(documents())
def test_strategy_loading(text: str) -> None:
    import tomllib

    from rheumetrics.t2t import parse_strategy

    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return  # duplicate keys and the like: refused by TOML itself
    try:
        parse_strategy(doc, "fuzz.toml")
    except RheumetricsError as err:
        assert str(err)


@settings(PROFILE)
@given(documents())
def test_study_loading(text: str) -> None:
    from rheumetrics.study.model import parse_study

    try:
        parse_study(text, Path(tempfile.gettempdir()) / "fuzz-study.toml")
    except RheumetricsError as err:
        assert str(err)
