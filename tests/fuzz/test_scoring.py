"""Fuzz the scoring entry points: scalar measures, ``score_frame`` and the ``score`` command.

For any input: a result that satisfies the documented contract, or a
:class:`~rheumetrics.errors.ValidationError` listing problems; never another exception, never
an infinite or NaN score passed off as a value. A case is one scalar call or one table row;
each Hypothesis example checks a batch of them in one call (``fuzzcases.py``), and the number
of cases checked is asserted: 10,000 per entry point under ``make fuzz``.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from fuzzcases import CELL, PROFILE_NAME, Tally, batches
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from rheumetrics.cli import app
from rheumetrics.errors import ValidationError
from rheumetrics.measures import MEASURES, score_frame

PROFILE = settings.get_profile(PROFILE_NAME)


def _finite_or_missing(values: Any) -> bool:
    """No infinite number among ``values`` (NaN / NA stand for missing)."""
    arr = np.asarray(values, dtype=object).ravel()
    return not any(isinstance(v, (float, np.floating)) and math.isinf(v) for v in arr)


# -- scalar measures: a case is one call -------------------------------------------------------

#: Inputs in the ranges of the measures (HAQ items 0-3, NRS 0-10, counts 0-28, VAS 0-100), and
#: one in six anything at all: calls are valid often enough to test the results, not only
#: the refusals.
PLAUSIBLE = st.one_of(st.integers(0, 3), st.integers(0, 10), st.floats(0, 10), st.integers(0, 28),
                      st.floats(0, 100))  # fmt: skip
INPUT = st.one_of(PLAUSIBLE, PLAUSIBLE, PLAUSIBLE, PLAUSIBLE, PLAUSIBLE, CELL)


@st.composite
def calls(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """One call: a measure and a value for each of its inputs."""
    name = draw(st.sampled_from(sorted(MEASURES)))
    return name, {k: draw(INPUT) for k in MEASURES[name].inputs}


def test_scalar_measures() -> None:
    tally = Tally("scalar measures")

    @settings(PROFILE)
    @given(batches(calls()))
    def check(calls: list[tuple[str, dict[str, Any]]]) -> None:
        for name, kwargs in calls:
            try:
                result = MEASURES[name](**kwargs)
            except ValidationError as err:
                assert err.problems and all(p.rule for p in err.problems), (name, kwargs)
                continue
            values = result.values() if isinstance(result, dict) else [result]
            assert all(_finite_or_missing(v) for v in values), (name, kwargs, result)
        tally.add(len(calls))

    check()
    tally.done()


# -- score_frame and the score command: a case is one row ----------------------------------------

SCORE_COLUMNS = ["tjc28", "sjc28", "esr_mm_h", "crp_mg_l", "gh_mm", "ptga", "phga",
                 "total_back_pain", "basdai_q2", "basdai_q6", "pain"]  # fmt: skip
GOOD = st.one_of(st.integers(0, 28), st.floats(0, 100))


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    """A table of one batch of rows over a drawn set of columns, mostly plausible values."""
    cols = draw(st.lists(st.sampled_from(SCORE_COLUMNS), min_size=1, max_size=8, unique=True))
    cell = st.one_of(GOOD, GOOD, CELL)
    rows = draw(batches(st.tuples(*[cell] * len(cols))))
    return pd.DataFrame(rows, columns=cols, dtype=object)


def test_score_frame() -> None:
    tally = Tally("score_frame")

    @settings(PROFILE)
    @given(frames())
    def check(df: pd.DataFrame) -> None:
        for lenient in (True, False):
            try:
                out = score_frame(df, lenient=lenient)
            except ValidationError as err:
                assert err.problems and all(p.rule for p in err.problems)
                continue
            assert len(out) == len(df) and out.index.equals(df.index)
            assert _finite_or_missing(out.select_dtypes("number").to_numpy())
        tally.add(len(df))

    check()
    tally.done()


runner = CliRunner()


def test_score_cli() -> None:
    """The command runs in-process (Typer's runner) on a CSV holding one batch of rows."""
    tally = Tally("score command")

    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in.csv", Path(tmp) / "out.csv"

        @settings(PROFILE)
        @given(frames())
        def check(df: pd.DataFrame) -> None:
            df.to_csv(src, index=False)
            out.unlink(missing_ok=True)
            result = runner.invoke(app, ["score", str(src), "--out", str(out)])
            assert result.exit_code in (0, 1), result.output
            assert result.exception is None or isinstance(result.exception, SystemExit), repr(
                result.exception
            )
            assert "Traceback" not in result.output
            if result.exit_code == 0:
                assert len(pd.read_csv(out)) == len(df)  # every row comes back
            tally.add(len(df))

        check()
    tally.done()
