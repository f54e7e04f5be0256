"""``rheumetrics quarantine list|export|clear`` on SQLite and PostgreSQL (issue: after a fixed
re-import, stale quarantined rows stayed with no command to see or clear them)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import openpyxl
import pandas as pd
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from rheumetrics.cli import app
from rheumetrics.store import import_file

runner = CliRunner()


def _two_batches(engine: Engine, clinic, h) -> None:
    v = copy.deepcopy(h.visits)
    v[1]["override"] = {"crp": "-3"}  # line 3: impossible CRP
    v[3]["override"] = {"date": "01/06/2021"}  # line 5: wrong date format
    src, m = clinic(v, name="first.csv")
    import_file(engine, src, m, mode="quarantine")
    w = copy.deepcopy(h.visits)
    w[0]["override"] = {"esr": "=cmd|' /C calc'!A0"}  # line 2 of another file, a formula
    src, m = clinic(w, name="second.csv")
    import_file(engine, src, m, mode="quarantine", on_conflict="update")


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM quarantine")).scalar_one())


def test_list_shows_file_line_key_field_value_and_reason(
    engine: Engine, db_url: str, clinic, h
) -> None:
    _two_batches(engine, clinic, h)
    out = runner.invoke(app, ["quarantine", "list", "--db", db_url, "--json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert [(Path(r["file"]).name, r["line"], r["field"], r["value"]) for r in rows] == [
        ("first.csv", 3, "crp", "-3"),
        ("first.csv", 5, "date", "01/06/2021"),
        ("second.csv", 2, "esr", "=cmd|' /C calc'!A0"),
    ]
    assert rows[0]["key"] == "patient_id P1, visit_date 2020-04-15"
    assert rows[1]["key"].startswith("patient_id P2")
    assert "must be a number >= 0" in rows[0]["reason"]
    assert rows[0]["batch"] == rows[1]["batch"] != rows[2]["batch"]
    table = runner.invoke(app, ["quarantine", "list", "--db", db_url, "--file", "first.csv"])
    assert table.exit_code == 0 and "2 quarantined problem(s)" in table.stdout
    assert "01/06/2021" in table.stdout and "calc" not in table.stdout


def test_export_writes_escaped_csv_and_xlsx(
    engine: Engine, db_url: str, clinic, h, tmp_path: Path
) -> None:
    _two_batches(engine, clinic, h)
    csv_out, xlsx_out = tmp_path / "q.csv", tmp_path / "q.xlsx"
    assert runner.invoke(app, ["quarantine", "export", str(csv_out), "--db", db_url]).exit_code == 0
    got = pd.read_csv(csv_out, dtype=str)
    assert list(got.columns) == ["batch", "file", "line", "key", "field", "value", "reason"]
    assert got["value"].tolist()[-1] == "'=cmd|' /C calc'!A0"  # formula escaped
    assert (
        runner.invoke(app, ["quarantine", "export", str(xlsx_out), "--db", db_url]).exit_code == 0
    )
    ws = openpyxl.load_workbook(xlsx_out).active
    cell = ws.cell(row=4, column=6)
    assert cell.value == "=cmd|' /C calc'!A0" and cell.data_type == "s"  # text, not a formula
    bad = runner.invoke(app, ["quarantine", "export", str(tmp_path / "q.json"), "--db", db_url])
    assert bad.exit_code == 1 and "use a .csv or .xlsx file" in bad.output


def test_clear_needs_yes_and_removes_one_file_or_everything(
    engine: Engine, db_url: str, clinic, h
) -> None:
    _two_batches(engine, clinic, h)
    base = ["quarantine", "clear", "--db", db_url]
    refused = runner.invoke(app, [*base, "--file", "first.csv"])
    assert refused.exit_code == 1 and "would remove 2" in refused.output and _count(engine) == 3
    assert runner.invoke(app, [*base, "--yes"]).exit_code == 1  # neither a selection nor --all
    unknown = runner.invoke(app, [*base, "--file", "nope.csv", "--yes"])
    assert unknown.exit_code == 1 and "first.csv" in unknown.output and _count(engine) == 3
    done = runner.invoke(app, [*base, "--file", "first.csv", "--yes"])
    assert done.exit_code == 0 and "removed 2" in done.output and _count(engine) == 1
    assert runner.invoke(app, [*base, "--all", "--yes"]).exit_code == 0 and _count(engine) == 0
    empty = runner.invoke(app, ["quarantine", "list", "--db", db_url])
    assert empty.exit_code == 0 and "empty" in empty.output
    with engine.connect() as conn:  # the import runs stay: the audit trail is kept
        assert conn.execute(text("SELECT count(*) FROM import_run")).scalar_one() == 2


def test_clear_by_batch(engine: Engine, db_url: str, clinic, h) -> None:
    _two_batches(engine, clinic, h)
    with engine.connect() as conn:
        second = conn.execute(text("SELECT max(id) FROM import_run")).scalar_one()
    out = runner.invoke(
        app, ["quarantine", "clear", "--db", db_url, "--batch", str(second), "--yes"]
    )
    assert out.exit_code == 0 and _count(engine) == 2
