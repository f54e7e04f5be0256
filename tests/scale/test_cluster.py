"""Out of core on a real two-worker LocalCluster gives the in-memory results (100,000 visits)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rheumetrics.imaging import score_reads, sites, validate_reads
from rheumetrics.measures import score_frame
from rheumetrics.scale import (
    decision_summary,
    decisions_frame,
    execution,
    imaging_frame,
    open_dataset,
    score_summary,
    scores_frame,
    write_table,
)
from rheumetrics.scale.jointmasks import add_counts
from rheumetrics.store.jointbits import MASKS
from rheumetrics.t2t import decide, load_strategy

from .conftest import synthetic_therapies, synthetic_visits


def _reads(n_patients: int) -> pd.DataFrame:
    cat = sites("ramris", "2002")
    rng = np.random.default_rng(3)
    rows = []
    for tp in ("baseline", "week52"):
        for reader in ("R1", "R2"):
            part = cat[["feature", "site", "scale_max"]].copy()
            part = part.loc[part.index.repeat(n_patients)].reset_index(drop=True)
            part["patient_id"] = np.tile([f"P{p:07d}" for p in range(n_patients)], len(cat))
            part["timepoint"], part["reader"] = tp, reader
            rows.append(part)
    reads = pd.concat(rows, ignore_index=True)
    reads["grade"] = np.floor(rng.random(len(reads)) * np.minimum(reads.pop("scale_max"), 3) + 0.5)
    return reads.assign(system="ramris", version="2002", side="R")


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    root = tmp_path_factory.mktemp("registry")
    visits = synthetic_visits(25_000, 4)  # 100,000 visits
    write_table(root, "visits", visits, buckets=16)
    write_table(root, "therapies", synthetic_therapies(25_000), buckets=16)
    reads = _reads(500)
    write_table(root, "imaging_reads", reads, buckets=16)
    return open_dataset(root), visits, reads


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


def test_scores_equal_in_memory(registry, cluster):
    assert cluster["workers"] == 2 and cluster["scheduler"].startswith("tcp://127.0.0.1")
    ds, visits, _ = registry
    scored = scores_frame(ds, lenient=True)
    got = _sorted(scored.compute(), ["visit_id"])
    inputs = add_counts(visits).drop(columns=list(MASKS)).set_index("visit_id", drop=False)
    inputs.index.name = None
    expected = score_frame(inputs, lenient=True)
    assert len(got) == 100_000
    for col in expected.columns:
        if expected[col].dtype == "float64":
            np.testing.assert_array_equal(
                got[col].to_numpy(float), expected[col].to_numpy(), err_msg=col
            )
        else:
            left = got[col].astype("string").fillna("<NA>").tolist()
            assert left == expected[col].astype("string").fillna("<NA>").tolist(), col
    summary = score_summary(scored, ["das28_esr"]).iloc[0]
    das = expected["das28_esr"].dropna().to_numpy()
    assert summary["median"] == np.median(das) and summary["n"] == len(das)


def test_imaging_equal_in_memory(registry, cluster):
    ds, _, reads = registry
    keys = ["patient_id", "timepoint", "reader", "feature", "subset"]
    got = _sorted(imaging_frame(ds).compute(), keys)
    expected = score_reads(validate_reads(reads))
    for col in ("patient_id", "timepoint", "reader", "system", "version", "feature", "subset"):
        expected[col] = expected[col].astype("string")
    expected = _sorted(expected, keys)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_categorical=False)


def test_t2t_decisions_equal_in_memory(registry, cluster):
    ds, visits, _ = registry
    small = visits[visits["patient_id"] < "P0001000"]  # t2t on 1,000 patients, 4,000 visits
    root = ds.root.parent / "t2t"
    write_table(root, "visits", small, buckets=4)
    write_table(root, "therapies", synthetic_therapies(1_000), buckets=4)
    sub = open_dataset(root)
    log = decisions_frame(sub, "eular2022_ra")
    got = _sorted(log.compute(), ["patient_id", "visit_date"])
    inputs = add_counts(small).drop(columns=list(MASKS)).set_index("visit_id")
    expected = decide(inputs, load_strategy("eular2022_ra"), synthetic_therapies(1_000))
    expected = _sorted(expected.reset_index(drop=True), ["patient_id", "visit_date"])
    for col in ("patient_id", "action", "target_met", "state"):
        assert list(got[col].astype("string").fillna("<NA>")) == list(
            expected[col].astype("string").fillna("<NA>")
        ), col
    summary = decision_summary(log).set_index("metric")
    assert summary.loc["visits", "value"] == 4_000
    assert summary.loc["patients", "value"] == 1_000
    share = expected["target_met"].dropna().astype(bool).mean()
    assert summary.loc["visits_at_target", "value"] == pytest.approx(share, abs=1e-15)


def test_existing_scheduler_by_address(registry, cluster):
    # --scheduler ADDRESS: connect to a running cluster (here the module's) instead of starting one
    ds, _, _ = registry
    with execution(10**9, scheduler=cluster["scheduler"]) as where:
        assert where == {"scheduler": cluster["scheduler"], "workers": 2}
        n = len(scores_frame(ds, measures=["das28_esr"], lenient=True).compute())
    assert n == 100_000


def test_small_inputs_run_in_this_process():
    with execution(1_000) as where:
        assert where == {"scheduler": "synchronous", "workers": 1}


def test_run_decisions_summary_equals_summarise(registry, cluster, tmp_path):
    from rheumetrics.scale import run_decisions
    from rheumetrics.t2t.cohort import summarise

    _, visits, _ = registry
    small = visits[visits["patient_id"] < "P0002000"]  # 2,000 patients in 8 buckets
    write_table(tmp_path, "visits", small, buckets=8)
    write_table(tmp_path, "therapies", synthetic_therapies(2_000), buckets=8)
    summary, log = run_decisions(open_dataset(tmp_path), "eular2022_ra", gather=True,
                                 out=tmp_path / "log")  # fmt: skip
    inputs = add_counts(small).drop(columns=list(MASKS)).set_index("visit_id")
    expected = decide(inputs, load_strategy("eular2022_ra"), synthetic_therapies(2_000))
    pd.testing.assert_frame_equal(summary, summarise(expected))
    assert len(log) == len(expected) == len(pd.read_parquet(tmp_path / "log"))


def test_a_large_dataset_is_scored_by_the_compiled_loop_on_each_worker(
    registry, cluster, monkeypatch
):
    from distributed import get_client

    from rheumetrics.measures import compiled, panel

    ds = registry[0]
    monkeypatch.setattr(panel, "COMPILED_ROWS", 100_000)  # the registry's size counts as large
    fast = _sorted(scores_frame(ds, lenient=True).compute(), ["visit_id"])
    loaded = get_client().run(lambda: len(compiled._LOADED))
    assert len(loaded) == 2 and all(n >= 1 for n in loaded.values())  # each worker loaded it
    monkeypatch.setattr(panel, "COMPILED_ROWS", 10**12)
    numpy = _sorted(scores_frame(ds, lenient=True).compute(), ["visit_id"])
    pd.testing.assert_frame_equal(fast, numpy, check_exact=True)
