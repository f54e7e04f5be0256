"""Formula injection: every CSV/XLSX output escapes cells a spreadsheet would run as formulas
(OWASP "CSV Injection"), keeps numbers as numbers and never lets a line break split a row."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine
from typer.testing import CliRunner

from rheumetrics.cli import app
from rheumetrics.errors import ValidationError
from rheumetrics.schema.writers import escape_frame, write_csv, write_json, write_xlsx
from rheumetrics.store import import_file
from rheumetrics.store.export import export_deidentified, export_tidy

ATTACKS = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://x.example","click")', "+1+1", "-2+3",
           "@SUM(A1:A2)", "\t=1", "\r=1"]  # fmt: skip


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_text_cells_are_escaped_and_numbers_are_not(tmp_path: Path) -> None:
    df = pd.DataFrame({"label": [*ATTACKS, "-1.5", "+3", "1e5", "plain", None],
                       "value": [-1.5, 2.0, -3.0, 4.0, -5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0]})  # fmt: skip
    rows = _rows(write_csv(df, tmp_path / "x.csv"))
    labels = [r[0] for r in rows[1:]]
    assert labels[: len(ATTACKS)] == ["'" + a for a in ATTACKS]
    assert labels[len(ATTACKS) :] == ["-1.5", "+3", "1e5", "plain", ""]
    assert [r[1] for r in rows[1:4]] == ["-1.5", "2.0", "-3.0"]  # numbers stay numbers


def test_line_breaks_inside_cells_never_split_rows(tmp_path: Path) -> None:
    df = pd.DataFrame({"label": ["a\rb", "c\nd", "e\r\nf"], "n": [1, 2, 3]})
    path = write_csv(df, tmp_path / "x.csv")
    raw = path.read_bytes()
    assert b'"a\rb"' in raw and b'"c\nd"' in raw
    back = pd.read_csv(path, keep_default_na=False)
    assert len(back) == 3 and back["n"].tolist() == [1, 2, 3]


def test_header_cells_are_escaped() -> None:
    assert list(escape_frame(pd.DataFrame({"=x": [1]})).columns) == ["'=x"]


def test_xlsx_cells_are_strings_not_formulas(tmp_path: Path) -> None:
    df = pd.DataFrame({"label": ATTACKS[:5], "value": [-1.5, 1.0, 2.0, 3.0, np.nan]})
    ws = load_workbook(write_xlsx(df, tmp_path / "x.xlsx")).active
    cells = [row[0] for row in ws.iter_rows(min_row=2)]
    assert [c.data_type for c in cells] == ["s"] * 5
    assert [c.value for c in cells] == ATTACKS[:5]  # the text is kept, shown as text
    assert all(c.quotePrefix for c in cells)
    assert ws.cell(2, 2).value == -1.5 and ws.cell(2, 2).data_type == "n"
    assert ws.cell(6, 2).value is None


def test_score_cli_output_is_safe(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    pd.DataFrame({"patient": ['=HYPERLINK("http://x.example")', "@A1"], "tjc28": [4, 1],
                  "sjc28": [5, 1], "esr_mm_h": [44, 10], "gh_mm": [12, 0]}).to_csv(src, index=False)  # fmt: skip
    for suffix in (".csv", ".xlsx"):
        out = tmp_path / f"out{suffix}"
        result = CliRunner().invoke(app, ["score", str(src), "--out", str(out)])
        assert result.exit_code == 0, result.output
        if suffix == ".csv":
            assert [r[0] for r in _rows(out)[1:]] == [
                "'" + '=HYPERLINK("http://x.example")',
                "'@A1",
            ]
        else:
            ws = load_workbook(out).active
            assert all(ws.cell(r, 1).data_type == "s" for r in (2, 3))
            assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)


def test_fhir_json_never_holds_infinity(tmp_path: Path) -> None:
    doc = {"entry": [{"resource": {"valueQuantity": {"value": float("inf")}}}, {"v": float("nan")}]}
    with pytest.raises(ValidationError) as err:
        write_json(doc, tmp_path / "b.json")
    assert [p.record for p in err.value.problems] == [
        "$.entry[0].resource.valueQuantity.value", "$.entry[1].v"]  # fmt: skip
    assert not (tmp_path / "b.json").exists()
    write_json({"v": 1.5}, tmp_path / "ok.json")
    assert json.loads((tmp_path / "ok.json").read_text()) == {"v": 1.5}


STORE_ATTACK = '=HYPERLINK("http://x.example","click")'


def test_store_exports_are_safe(engine: Engine, clinic, h, tmp_path: Path) -> None:
    v = h.visits
    v[0]["visit"] = STORE_ATTACK  # a visit label (free text) that looks like a formula
    v[0]["patient"] = "-P1"
    v[1]["patient"] = "-P1"
    src, m = clinic(v)
    import_file(engine, src, m)
    tidy = export_tidy(engine, tmp_path / "tidy.csv")
    text = tidy.read_text(encoding="utf-8")
    assert "'" + STORE_ATTACK.replace('"', '""') in text and "'-P1" in text
    for row in _rows(tidy)[1:]:
        assert not any(c.startswith(("=", "@", "\t", "\r")) for c in row)
    files = export_deidentified(engine, tmp_path / "deid", secret="s", max_shift_days=365)
    for path in files.values():
        for row in _rows(path):
            assert not any(c.startswith(("=", "@", "+", "\t", "\r")) and c != "" for c in row)


def test_fhir_export_refuses_an_infinite_stored_value(
    engine: Engine, clinic, tmp_path: Path
) -> None:
    """Even if an infinite value reaches the store (validation refuses it on import), the FHIR
    export refuses to write it rather than emit ``"value": Infinity``."""
    from sqlalchemy import text

    from rheumetrics.store.export import export_fhir

    import_file(engine, *clinic())
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE lab SET esr_mm_h = :v WHERE esr_mm_h IS NOT NULL"), {"v": float("inf")}
        )
    out = tmp_path / "bundle.json"
    try:
        export_fhir(engine, out)
    except ValidationError as err:
        assert any("valueQuantity.value" in str(p.record) for p in err.problems)
        assert not out.exists()
    else:
        # The SQLite read-back through ADBC reads a non-finite REAL as missing: the bundle is
        # written without the value, and is strict JSON (no Infinity, no NaN).
        def refuse(constant: str) -> None:
            raise AssertionError(f"bundle holds {constant}")

        json.loads(out.read_text(encoding="utf-8"), parse_constant=refuse)
        out.unlink()
    result = CliRunner().invoke(
        app,
        ["export", "fhir", str(out), "--db", str(engine.url.render_as_string(hide_password=False))],
    )
    assert "Traceback" not in result.output and "Infinity" not in (
        out.read_text(encoding="utf-8") if out.exists() else ""
    )
