"""``rheumetrics export parquet`` from a real SQLite store, then ``score``/``imaging`` on the dataset."""

from __future__ import annotations

import json
from importlib.resources import files

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from rheumetrics.cli import app
from rheumetrics.imaging import score_reads, validate_reads
from rheumetrics.measures import score_frame
from rheumetrics.scale import open_dataset
from rheumetrics.scale.dataset import read_file
from rheumetrics.store import load_imaging_reads, load_therapies, load_visits

runner = CliRunner()


def _all(ds, table):
    return pd.concat([read_file(p) for p in ds.files(table)], ignore_index=True)


def test_export_holds_the_store(store, dataset):
    _, engine = store
    assert set(dataset.tables) == {"patients", "visits", "therapies", "imaging_reads"}
    visits = load_visits(engine)
    got = _all(dataset, "visits").set_index("visit_id").sort_index()
    assert len(got) == len(visits) and list(got.index) == sorted(visits.index)
    for col in ("tjc28", "sjc28", "crp_mg_l", "das28_crp"):
        if col in visits.columns:
            np.testing.assert_array_equal(
                got[col].to_numpy(float),
                visits.sort_index()[col].to_numpy(float, na_value=np.nan),
                err_msg=col,
            )
    assert len(_all(dataset, "therapies")) == len(load_therapies(engine))
    assert len(_all(dataset, "imaging_reads")) == len(load_imaging_reads(engine))


def test_export_refuses_a_used_folder(store, dataset):
    url, _ = store
    result = runner.invoke(app, ["export", "parquet", str(dataset.root), "--db", url])
    assert result.exit_code == 1
    assert "folder exists and is not" in result.output


def test_score_and_imaging_take_a_dataset(store, dataset, tmp_path):
    _, engine = store
    out = tmp_path / "scored.parquet"
    result = runner.invoke(app, ["score", str(dataset.root), "--out", str(out), "--lenient",
                                 "--scheduler", "synchronous"])  # fmt: skip
    assert result.exit_code == 0, result.output
    record = json.loads(out.with_name(out.name + ".conventions.json").read_text())
    assert record["execution"]["scheduler"] == "synchronous"
    assert record["das28_esr_cutoffs"]  # the conventions used are recorded
    got = pd.read_parquet(out).set_index("visit_id").sort_index()
    visits = load_visits(engine, scores=False)
    expected = score_frame(visits, lenient=True).sort_index()
    for col in expected.columns:
        if expected[col].dtype == "float64":
            np.testing.assert_array_equal(got[col].to_numpy(float), expected[col].to_numpy())

    folder = tmp_path / "imaging"
    result = runner.invoke(app, ["imaging", str(dataset.root), "--out", str(folder)])
    assert result.exit_code == 0, result.output
    got = pd.read_parquet(folder)
    expected = score_reads(validate_reads(load_imaging_reads(engine)))
    assert len(got) == len(expected)
    keys = [
        "patient_id",
        "timepoint",
        "reader",
        "session",
        "system",
        "version",
        "feature",
        "subset",
    ]
    merged = got.astype({k: str for k in keys}).merge(
        expected.astype({k: str for k in keys}), on=keys, suffixes=("", "_mem")
    )
    assert len(merged) == len(expected)
    np.testing.assert_array_equal(merged["score"], merged["score_mem"])


def test_file_inputs_keep_their_paths(tmp_path):
    out = tmp_path / "s.csv"
    source = files("rheumetrics.data") / "example_visits.csv"
    result = runner.invoke(app, ["score", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(out)) == 90


def test_imaging_means_from_a_dataset(dataset, tmp_path):
    out, means = tmp_path / "totals", tmp_path / "means.parquet"
    result = runner.invoke(app, ["imaging", str(dataset.root), "--out", str(out), "--means",
                                 str(means), "--scheduler", "synchronous"])  # fmt: skip
    assert result.exit_code == 0, result.output
    got = pd.read_parquet(means)
    assert (got["n_readers"] >= 1).all() and len(got) > 0


def test_docstring_examples_run():
    import doctest

    from rheumetrics.scale import dataset, summaries

    for module in (dataset, summaries):
        assert doctest.testmod(module).failed == 0


def test_bad_values_in_a_dataset_name_file_record_and_field(tmp_path):
    from rheumetrics.scale import write_table

    visits = pd.DataFrame({"visit_id": [1, 2, 3], "patient_id": ["a", "b", "c"],
                           "tjc28": [1.0, 2.0, 3.0], "sjc28": [0.0, 1.0, 2.0],
                           "crp_mg_l": [3.0, -4.0, -5.0], "gh_mm": [10.0, 20.0, 30.0]})  # fmt: skip
    write_table(tmp_path / "ds", "visits", visits, buckets=2)
    assert len(open_dataset(tmp_path / "ds").files("visits")) == 2  # b and c in different files
    found = tmp_path / "problems.csv"
    result = runner.invoke(app, ["score", str(tmp_path / "ds"), "--out", str(tmp_path / "o.csv"),
                                 "--scheduler", "synchronous", "--problems", str(found)])  # fmt: skip
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    problems = pd.read_csv(found)
    assert len(problems) == 2  # every file's problems, not only the first failing file's
    row = problems.set_index("record").loc[2]
    assert "bucket=" in str(row["source"]) and row["field"] == "crp_mg_l"
    assert float(row["value"]) == -4
    assert problems["source"].nunique() == 2
