"""``t2t``, ``imaging --states/--change`` and ``report`` on a dataset give the in-memory results.

The in-memory runs read the same synthetic NZ store (``--db``, or the imaging reads loaded from
it); the dataset runs read its ``export parquet`` on a real two-worker LocalCluster.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from rheumetrics.cli import app

runner = CliRunner()


def _run(*args: str) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("strategy", ["eular2022_ra", "imagine_ra_mri"])
def test_t2t_on_a_dataset_equals_the_store_run(store, dataset, cluster, tmp_path, strategy):
    url, _ = store
    mem_log, mem_summary = tmp_path / "mem.csv", tmp_path / "mem_summary.csv"
    _run("t2t", "--db", url, "-s", strategy, "--out", mem_log, "--summary", mem_summary)
    log, summary = tmp_path / "ds.csv", tmp_path / "ds_summary.csv"
    _run("t2t", dataset.root, "-s", strategy, "--out", log, "--summary", summary,
         "--scheduler", cluster["scheduler"])  # fmt: skip
    pd.testing.assert_frame_equal(pd.read_csv(summary), pd.read_csv(mem_summary))
    got, expected = pd.read_csv(log), pd.read_csv(mem_log)
    assert len(got) == len(expected) > 0
    pd.testing.assert_frame_equal(got, expected)
    if strategy == "imagine_ra_mri":  # the MRI osteitis totals reach the decisions: rule I3
        fired = expected["rule_ids"].astype(str).str.split(";").map(lambda ids: "I3" in ids)
        assert fired.sum() > 0


def test_t2t_dataset_log_as_a_folder_with_compare_and_json(dataset, cluster, tmp_path):
    folder = tmp_path / "log"
    output = _run("t2t", dataset.root, "-s", "eular2022_ra", "--compare", "asas_eular2022_axspa",
                  "--out", folder, "--json", "--scheduler", cluster["scheduler"])  # fmt: skip
    table = json.loads(output[output.index("[") : output.rindex("]") + 1])
    metrics = {row["metric"]: row for row in table}
    assert set(metrics["visits"]) == {"metric", "eular2022_ra", "asas_eular2022_axspa"}
    for strategy in ("eular2022_ra", "asas_eular2022_axspa"):  # a folder per strategy
        files = sorted((folder / strategy).glob("part-*.parquet"))
        assert len(files) == len(dataset.bucket_files("visits"))
        assert sum(len(pd.read_parquet(f)) for f in files) == metrics["visits"][strategy]
        assert {s for f in files for s in pd.read_parquet(f)["strategy"]} == {strategy}


def test_t2t_dataset_compare_logs_both_strategies_as_in_memory(store, dataset, cluster, tmp_path):
    url, _ = store
    compare = ["-s", "eular2022_ra", "--compare", "acr2021_ra"]
    _run("t2t", "--db", url, *compare, "--out", tmp_path / "mem.csv")
    _run("t2t", dataset.root, *compare, "--out", tmp_path / "ds.csv",
         "--scheduler", cluster["scheduler"])  # fmt: skip
    got, expected = pd.read_csv(tmp_path / "ds.csv"), pd.read_csv(tmp_path / "mem.csv")
    assert set(expected["strategy"]) == {"eular2022_ra", "acr2021_ra"}
    pd.testing.assert_frame_equal(got, expected)


def test_t2t_dataset_refuses_a_second_source(dataset):
    result = runner.invoke(app, ["t2t", str(dataset.root), "-s", "eular2022_ra", "--therapies",
                                 "t.csv", "--scheduler", "synchronous"])  # fmt: skip
    assert result.exit_code == 1
    assert "--therapies cannot be used" in result.output and "Traceback" not in result.output


def test_imaging_states_and_change_on_a_dataset(store, dataset, cluster, tmp_path):
    from rheumetrics.store import load_imaging_reads

    _, engine = store
    reads = tmp_path / "reads.csv"
    load_imaging_reads(engine).to_csv(reads, index=False)
    args = ["--baseline", "A-V1", "--followup", "A-V2", "--rule", "prog_gt_0_5"]
    mem = {k: tmp_path / f"mem_{k}.csv" for k in ("out", "states", "change")}
    _run("imaging", reads, "--out", mem["out"], "--states", mem["states"],
         "--change", mem["change"], *args)  # fmt: skip
    got = {k: tmp_path / f"ds_{k}.csv" for k in ("out", "states", "change")}
    _run("imaging", dataset.root, "--out", got["out"], "--states", got["states"],
         "--change", got["change"], *args, "--scheduler", cluster["scheduler"])  # fmt: skip
    for kind in ("states", "change"):
        left, right = pd.read_csv(got[kind]), pd.read_csv(mem[kind])
        keys = [c for c in ("patient_id", "timepoint", "reader", "session", "system", "feature",
                            "subset") if c in right.columns]  # fmt: skip
        left = left.sort_values(keys, kind="stable").reset_index(drop=True)
        right = right.sort_values(keys, kind="stable").reset_index(drop=True)
        assert len(right) > 0
        pd.testing.assert_frame_equal(left, right, obj=kind)
    record = json.loads((tmp_path / "ds_out.csv.conventions.json").read_text())
    assert {"states", "change", "rules"} <= set(record)


def test_imaging_change_names_an_unknown_time_point(dataset):
    result = runner.invoke(app, ["imaging", str(dataset.root), "--out", "x.csv", "--change",
                                 "c.csv", "--baseline", "A-V1", "--followup", "week99",
                                 "--scheduler", "synchronous"])  # fmt: skip
    assert result.exit_code == 1
    assert "week99" in result.output and "available" in result.output


def test_report_on_a_dataset_equals_the_store_run(store, dataset, cluster, tmp_path):
    url, _ = store
    mem, ds = tmp_path / "mem" / "report.html", tmp_path / "ds" / "report.html"
    _run("report", "nz_mri", "--out", mem, "--db", url)
    _run("report", "nz_mri", "--out", ds, "--dataset", dataset.root, "--scheduler",
         cluster["scheduler"])  # fmt: skip
    tables = sorted((mem.parent / "report_tables").glob("*.csv"))
    assert len(tables) > 5
    for path in tables:
        left = pd.read_csv(ds.parent / "report_tables" / path.name)
        pd.testing.assert_frame_equal(left, pd.read_csv(path), obj=path.name)


@pytest.mark.parametrize("kind", ["parquet"])
def test_export_json_summary(store, tmp_path, kind):
    url, _ = store
    out = tmp_path / "nz"
    output = _run("export", kind, out, "--db", url, "--buckets", "4", "--json")
    summary = json.loads(output)
    assert summary["kind"] == "parquet" and summary["out"] == str(out)
    assert summary["rows"]["visits"] > 0 and summary["files"] > 0
    assert np.isfinite(summary["seconds"])


def test_store_exports_print_a_json_summary(store, tmp_path):
    url, _ = store
    out = tmp_path / "tidy.csv"
    result = runner.invoke(app, ["export", "tidy", str(out), "--db", url, "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)  # the "wrote ..." line goes to standard error
    assert summary == {"kind": "tidy", "out": str(out), "files": 1,
                       "bytes": out.stat().st_size, "seconds": summary["seconds"]}  # fmt: skip
    assert len(pd.read_csv(out)) > 0
