"""Summaries combined across partitions equal the one-piece figures (NumPy type-7 quantiles =
R quantile(type = 7), Hyndman & Fan 1996)."""

from __future__ import annotations

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from rheumetrics.scale import category_counts, quantiles, score_summary, summaries


@pytest.fixture(autouse=True)
def _synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


@pytest.mark.parametrize("kind", ["continuous", "ties", "one_value", "tiny"])
def test_quantiles_are_exact(kind, monkeypatch):
    rng = np.random.default_rng(5)
    data = {
        "continuous": rng.normal(3, 1.2, 50_001),
        "ties": rng.integers(0, 29, 80_000).astype(float),
        "one_value": np.full(1000, 2.5),
        "tiny": np.array([4.0, 1.0]),
    }[kind]
    monkeypatch.setattr(summaries, "GATHER_AT_MOST", 500)  # force the narrowing passes
    ddf = dd.from_pandas(pd.DataFrame({"x": data}), npartitions=6 if len(data) > 10 else 1)
    qs = [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0]
    got = quantiles(ddf, "x", qs)
    assert [got[q] for q in qs] == list(np.quantile(data, qs))


def test_summary_and_counts():
    rng = np.random.default_rng(2)
    x = rng.gamma(2.0, 1.5, 10_000)
    x[rng.random(10_000) < 0.1] = np.nan
    cat = rng.choice(["remission", "low", "moderate", "high", None], 10_000)
    df = pd.DataFrame({"x": x, "cat": cat})
    ddf = dd.from_pandas(df, npartitions=7)
    s = score_summary(ddf, ["x"]).iloc[0]
    valid = x[~np.isnan(x)]
    assert s["n"] == len(valid) and s["n_missing"] == 10_000 - len(valid)
    assert s["median"] == np.median(valid) and s["q1"] == np.quantile(valid, 0.25)
    assert s["mean"] == pytest.approx(valid.mean(), rel=1e-12)
    counts = category_counts(ddf, "cat").set_index("value")
    expected = df["cat"].fillna("<NA>").value_counts()
    assert counts["n"].to_dict() == expected.to_dict()
    assert counts["share"].sum() == pytest.approx(1.0)
