"""One reader: rows numbered by source line, structure errors with their line, bounded inputs."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from rheumetrics.errors import ValidationError
from rheumetrics.schema import readers
from rheumetrics.schema.readers import read_header, read_source


def _problems(path: Path) -> list[tuple[int | None, str]]:
    with pytest.raises(ValidationError) as err:
        read_source(path)
    return [(p.line, p.rule) for p in err.value.problems]


def test_csv_rows_are_numbered_by_their_source_line(tmp_path: Path) -> None:
    p = tmp_path / "v.csv"
    # header = line 1; a quoted value spanning two lines moves later rows down; a blank line too
    p.write_text('patient_id,note\nP1,"two\nlines"\n\nP2,x\nP3,\n')
    df = read_source(p)
    assert df.index.name == "line"
    assert df.index.tolist() == [2, 5, 6]
    assert df["patient_id"].tolist() == ["P1", "P2", "P3"]
    assert pd.isna(df.loc[6, "note"])  # empty cell: missing


def test_truncated_and_extra_cells_are_reported_with_their_lines(tmp_path: Path) -> None:
    p = tmp_path / "v.csv"
    p.write_text("a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n")
    got = _problems(p)
    assert got == [(3, "has 2 cells, the header has 3"), (4, "has 4 cells, the header has 3")]


def test_invalid_utf8_is_reported_with_its_line(tmp_path: Path) -> None:
    p = tmp_path / "v.csv"
    p.write_bytes(b"a,b\n1,2\n3,\xff\xfe\n")
    with pytest.raises(ValidationError) as err:
        read_source(p)
    (problem,) = err.value.problems
    assert problem.line == 3 and "not valid utf-8" in problem.rule
    assert str(problem).startswith("v.csv: line 3")


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path: Path) -> None:
    p = tmp_path / "v.csv"
    p.write_text("a\n" + "1\n" * 1000)
    with pytest.raises(ValidationError, match="larger than the limit"):
        read_source(p, max_bytes=100)


def test_excel_rows_are_the_sheet_rows_and_cells_keep_their_types(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["patient_id", "crp_mg_l"])
    ws.append(["P1", 5])
    ws.append(["P2", True])  # an Excel TRUE stays a boolean
    p = tmp_path / "v.xlsx"
    wb.save(p)
    df = read_source(p)
    assert df.index.tolist() == [2, 3]
    assert df.loc[3, "crp_mg_l"] is True
    assert read_header(p) == ["patient_id", "crp_mg_l"]


def _xlsx_with(
    tmp_path: Path, name: str, content: bytes, part: str = "xl/sharedStrings.xml"
) -> Path:
    """A valid workbook with one part replaced (or added)."""
    wb = openpyxl.Workbook()
    wb.active.append(["a"])
    wb.active.append(["x"])
    buf = io.BytesIO()
    wb.save(buf)
    out = tmp_path / name
    with zipfile.ZipFile(buf) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            if item.filename != part:
                zout.writestr(item, zin.read(item.filename), compress_type=zipfile.ZIP_DEFLATED)
        zout.writestr(part, content, compress_type=zipfile.ZIP_DEFLATED)
    return out


def test_a_small_xlsx_holding_a_huge_shared_string_is_refused_unread(tmp_path: Path) -> None:
    big = (
        b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
        b' count="1" uniqueCount="1"><si><t>' + b"A" * 40_000_000 + b"</t></si></sst>"
    )
    p = _xlsx_with(tmp_path, "bomb.xlsx", big)
    assert p.stat().st_size < 100_000
    with pytest.raises(ValidationError) as err:
        read_source(p)
    (problem,) = err.value.problems
    assert problem.value == "xl/sharedStrings.xml" and "unpacks to" in problem.rule
    assert "\n" not in str(problem)


def test_an_entity_bomb_in_an_xlsx_is_refused(tmp_path: Path) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol3;</t></is></c></row>'
        b"</sheetData></worksheet>"
    )
    p = _xlsx_with(tmp_path, "entities.xlsx", bomb, part="xl/worksheets/sheet1.xml")
    with pytest.raises(ValidationError) as err:
        read_source(p)
    assert len(err.value.problems) == 1
    assert "entity" in err.value.problems[0].rule.lower() or "XML" in err.value.problems[0].rule


def test_parquet_rows_are_numbered_from_one(tmp_path: Path) -> None:
    p = tmp_path / "v.parquet"
    pd.DataFrame({"a": [1.0, 2.0]}).to_parquet(p)
    assert read_source(p).index.tolist() == [1, 2]


def test_unsupported_suffix(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="unsupported file type"):
        readers.format_of(tmp_path / "v.json")
