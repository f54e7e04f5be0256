"""score_frame on one or a few rows (the clinic app's live score) gives exactly the rows of the
same visits scored as one batch: scores, categories, flags, reasons and recorded conventions."""

import numpy as np
import pandas as pd
import pytest

from rheumetrics.measures.haq import HAQ_HELP, HAQ_ITEMS
from rheumetrics.measures.panel import SMALL_ROWS, score_frame

BOUNDED = {
    "tjc28": (0, 28, True),
    "sjc28": (0, 28, True),
    "esr_mm_h": (0, 150, False),
    "crp_mg_l": (0, 300, False),
    "gh_mm": (0, 100, False),
    "ptga": (0, 10, False),
    "phga": (0, 10, False),
    **{f"basdai_q{i}": (0, 10, False) for i in range(1, 7)},
    **{item: (0, 3, True) for items in HAQ_ITEMS.values() for item in items},
}


def visits(n: int, seed: int) -> pd.DataFrame:
    """``n`` visits with values mostly in range, some missing and some out of range."""
    rng = np.random.default_rng(seed)
    cols = {}
    for name, (low, high, integer) in BOUNDED.items():
        x = rng.uniform(low - 0.05 * high, high * 1.05, n)
        x = np.round(x) if integer else np.round(x, 1)
        x[rng.random(n) < 0.15] = np.nan
        cols[name] = x
    for flag in HAQ_HELP.values():
        cols[flag] = np.where(rng.random(n) < 0.2, 1.0, np.nan)
    return pd.DataFrame(cols, index=pd.Index([f"v{i}" for i in range(n)], name="visit"))


@pytest.mark.parametrize("size", [1, 3])
def test_few_rows_equal_the_batch_lenient(size):
    df = visits(4 * SMALL_ROWS, seed=1)
    batch = score_frame(df, lenient=True)
    assert batch.filter(like="_reason").notna().any().any()  # the reasons are compared too
    for start in range(0, len(df), size):
        part = score_frame(df.iloc[start : start + size], lenient=True)
        expected = batch.iloc[start : start + size]
        expected = expected.loc[:, [c for c in expected if c in part or expected[c].notna().any()]]
        pd.testing.assert_frame_equal(part, expected, check_dtype=True)
        assert part.attrs == batch.attrs


def test_one_row_equals_the_batch_strict():
    df = visits(2 * SMALL_ROWS, seed=2).fillna(1.0).clip(lower=0.0)
    df = df.assign(tjc28=df.tjc28.clip(upper=28), sjc28=df.sjc28.clip(upper=28))
    df = df.assign(**{c: df[c].clip(upper=3) for items in HAQ_ITEMS.values() for c in items})
    df = df.assign(**{f"basdai_q{i}": df[f"basdai_q{i}"].clip(upper=10) for i in range(1, 7)})
    df = df.assign(ptga=df.ptga.clip(upper=10), phga=df.phga.clip(upper=10))
    df = df.assign(gh_mm=df.gh_mm.clip(upper=100), esr_mm_h=df.esr_mm_h.clip(1, 150))
    measures = ["das28_esr", "das28_crp", "sdai", "cdai", "haq_di", "basdai", "asdas_crp"]
    batch = score_frame(df, measures=measures)
    for i in range(len(df)):
        pd.testing.assert_frame_equal(score_frame(df.iloc[[i]], measures=measures), batch.iloc[[i]])


def test_one_row_result_attrs_are_independent():
    df = visits(1, seed=3)
    a = score_frame(df, lenient=True)
    a.attrs["conventions"]["das28_esr_cutoffs"] = "edited"
    assert score_frame(df, lenient=True).attrs["conventions"]["das28_esr_cutoffs"] != "edited"


@pytest.mark.parametrize("measures", [[], ["das28_esr"], ["boolean_remission_2011", "sdai"]])
def test_one_row_equals_the_batch_for_any_selection(measures):
    df = visits(2 * SMALL_ROWS, seed=4)
    batch = score_frame(df, lenient=True, measures=measures)
    for i in (0, 7, len(df) - 1):
        part = score_frame(df.iloc[[i]], lenient=True, measures=measures)
        expected = batch.iloc[[i]]
        expected = expected.loc[:, [c for c in expected if c in part or expected[c].notna().any()]]
        pd.testing.assert_frame_equal(part, expected)
