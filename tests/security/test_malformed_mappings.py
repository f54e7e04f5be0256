"""Malformed mapping files: every one gives problems (file, key path, value, what is allowed) and
never a traceback, through ``check-mapping`` and ``import --dry-run``; ``check-mapping`` with
``--source`` accepts exactly what ``import`` accepts; paths stay in the mapping's folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from rheumetrics.cli import app
from rheumetrics.errors import ValidationError
from rheumetrics.store.importer import stage_file
from rheumetrics.store.mapping import parse_mapping

runner = CliRunner()

GOOD = """
[source]
format = "csv"

[patient]
id = "patient"

[visit]
date = "date"

[values]
esr_mm_h = "esr"
"""

SOURCE = "patient,date,esr\nP1,2020-01-15,44\nP1,2020-04-15,20\n"

MALFORMED = {
    "string for [source]": 'source = "csv"\n[patient]\nid = "patient"\n[visit]\ndate = "date"\n',
    "string for [patient]": 'patient = "x"\n[visit]\ndate = "date"\n',
    "list for [visit]": '[patient]\nid = "patient"\n[[visit]]\ndate = "date"\n',
    "number for [values]": GOOD.replace('[values]\nesr_mm_h = "esr"', "values = 3"),
    "unknown encoding": GOOD.replace('format = "csv"', 'format = "csv"\nencoding = "klingon-8"'),
    "number as encoding": GOOD.replace('format = "csv"', 'format = "csv"\nencoding = 8'),
    "two-character delimiter": GOOD.replace('format = "csv"', 'format = "csv"\ndelimiter = ";;"'),
    "list as delimiter": GOOD.replace('format = "csv"', 'format = "csv"\ndelimiter = [","]'),
    "boolean sheet": GOOD.replace('format = "csv"', 'format = "excel"\nsheet = true'),
    "negative sheet": GOOD.replace('format = "csv"', 'format = "excel"\nsheet = -1'),
    "na_values a string": GOOD.replace('format = "csv"', 'format = "csv"\nna_values = "NA"'),
    "date_format without %": GOOD.replace('format = "csv"', 'format = "csv"\ndate_format = "ymd"'),
    "number for a column": GOOD.replace('esr_mm_h = "esr"', "esr_mm_h = 5"),
    "number as column name": GOOD.replace('esr_mm_h = "esr"', "esr_mm_h = { column = 5 }"),
    "list as unit": GOOD.replace('esr_mm_h = "esr"', 'esr_mm_h = { column = "esr", unit = ["mm/h"] }'),
    "values a list": GOOD.replace('id = "patient"', 'id = "patient"\nsex = { column = "s", values = ["M"] }'),
    "constant birth year text": GOOD.replace('id = "patient"', 'id = "patient"\nbirth_year = { value = "abc" }'),
    "constant birth year boolean": GOOD.replace('id = "patient"', 'id = "patient"\nbirth_year = { value = true }'),
    "constant in the future": GOOD.replace('id = "patient"', 'id = "patient"\nbirth_year = { value = 2999 }'),
    "attributes a string": GOOD.replace('id = "patient"', 'id = "patient"\nattributes = "x"'),
    "attribute a number": GOOD.replace('id = "patient"', 'id = "patient"\nattributes = { a = 1 }'),
    "joints a string": GOOD + 'joints = "x"\n',
    "joint pattern a number": GOOD + "[joints]\ntender = { pattern = 3 }\n",
    "joint columns a list": GOOD + '[joints]\ntender = { columns = ["a"] }\n',
    "joint choices a string": GOOD + '[joints]\ntender = { pattern = "t_{joint}" }\nchoices = "x"\n',
    "true_values a string": GOOD + '[joints]\ntender = { pattern = "t_{joint}" }\ntrue_values = "1"\n',
    "long items a string": GOOD.replace('format = "csv"', 'format = "csv"\nlayout = "long"')
    + '[long]\nitem = "i"\nvalue = "v"\nitems = "x"\n',
    "long item a table": GOOD.replace('format = "csv"', 'format = "csv"\nlayout = "long"')
    + "[long]\nitem = { a = 1 }\nvalue = 2\nitems = {}\n",
    "redcap events a list": GOOD.replace('format = "csv"', 'format = "redcap"')
    + '[redcap]\nevents = ["a"]\n',
    "redcap dictionary a number": GOOD.replace('format = "csv"', 'format = "redcap"')
    + "[redcap]\ndictionary = 5\n",
    "redcap table a string": GOOD.replace('format = "csv"', 'format = "redcap"') + 'redcap = "x"\n',
    "offset anchor a number": GOOD.replace('date = "date"', 'date = { days_after = "d", anchor = 5 }'),
    "offset column a number": GOOD.replace('date = "date"', 'date = { days_after = 5, anchor = 2020-01-01 }'),
    "deep inline nesting": GOOD + "x = " + "[" * 20_000 + "]" * 20_000 + "\n",
    "deep inline tables": GOOD.replace('esr_mm_h = "esr"', "esr_mm_h = " + "{a=" * 3000 + "1" + "}" * 3000),
    "deep dotted tables": GOOD + "[" + ".".join(["x"] * 20_000) + "]\n",
    "deep value in a spec": GOOD.replace('esr_mm_h = "esr"', 'esr_mm_h = { column = "esr", x = ' + "[" * 5000 + "]" * 5000 + " }"),
    "not TOML": "[[[",
    "binary": "\x00\x01\x02",
    "empty": "",
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_mapping_gives_problems_not_tracebacks(case: str, tmp_path: Path) -> None:
    m = tmp_path / "m.toml"
    m.write_text(MALFORMED[case], encoding="utf-8")
    src = tmp_path / "s.csv"
    src.write_text(SOURCE, encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        parse_mapping(MALFORMED[case], m)
    assert err.value.problems and all(p.rule for p in err.value.problems)
    for args in (["db", "check-mapping", str(m)], ["db", "check-mapping", str(m), "--source", str(src)],
                 ["import", str(src), "-m", str(m), "--dry-run"]):  # fmt: skip
        result = runner.invoke(app, args)
        assert result.exit_code == 1, (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            args,
            repr(result.exception),
        )
        assert "Traceback" not in result.output


def test_problems_name_the_key_value_and_rule() -> None:
    with pytest.raises(ValidationError) as err:
        parse_mapping(MALFORMED["unknown encoding"])
    (p,) = err.value.problems
    assert (p.record, p.field, p.value) == ("source", "encoding", "klingon-8")
    assert "unknown text encoding" in p.rule
    with pytest.raises(ValidationError) as err:
        parse_mapping(MALFORMED["constant birth year text"])
    (p,) = err.value.problems
    assert (p.record, p.value) == ("patient.birth_year", "abc") and "integer" in p.rule


def test_a_valid_mapping_is_still_valid(tmp_path: Path) -> None:
    m = tmp_path / "m.toml"
    m.write_text(GOOD, encoding="utf-8")
    src = tmp_path / "s.csv"
    src.write_text(SOURCE, encoding="utf-8")
    assert runner.invoke(app, ["db", "check-mapping", str(m), "--source", str(src)]).exit_code == 0
    assert runner.invoke(app, ["import", str(src), "-m", str(m), "--dry-run"]).exit_code == 0


def test_check_mapping_accepts_only_what_import_accepts(tmp_path: Path) -> None:
    """A mapping that loads but does not fit the file (a latin-1 file read as UTF-8, a wrong
    delimiter) is refused by check-mapping --source exactly as import refuses it."""
    src = tmp_path / "s.csv"
    src.write_bytes("patient;date;esr\nJosé;2020-01-15;44\n".encode("latin-1"))
    cases = {
        "wrong encoding": GOOD.replace('format = "csv"', 'format = "csv"\ndelimiter = ";"'),
        "wrong delimiter": GOOD.replace('format = "csv"', 'format = "csv"\nencoding = "latin-1"'),
        "fits": GOOD.replace('format = "csv"', 'format = "csv"\ndelimiter = ";"\nencoding = "latin-1"'),
    }  # fmt: skip
    for name, text in cases.items():
        m = tmp_path / f"{name.replace(' ', '_')}.toml"
        m.write_text(text, encoding="utf-8")
        check = runner.invoke(app, ["db", "check-mapping", str(m), "--source", str(src)])
        imp = runner.invoke(app, ["import", str(src), "-m", str(m), "--dry-run"])
        assert check.exit_code == imp.exit_code == (0 if name == "fits" else 1), (
            name, check.output, imp.output)  # fmt: skip


def test_3000_attributes_are_quick(tmp_path: Path) -> None:
    attrs = "\n".join(f'a{i} = "c{i}"' for i in range(3000))
    text = GOOD.replace('id = "patient"', 'id = "patient"') + "\n[patient.attributes]\n" + attrs
    m = tmp_path / "m.toml"
    m.write_text(text, encoding="utf-8")
    src = tmp_path / "s.csv"
    cols = ",".join(f"c{i}" for i in range(3000))
    vals = ",".join(str(i) for i in range(3000))
    src.write_text(f"patient,date,esr,{cols}\nP1,2020-01-15,44,{vals}\nP1,2020-04-15,20,{vals}\n")
    staged = stage_file(m, src)  # read and checked in one pass over the attributes
    assert not staged.problems
    assert staged.patients.loc["P1", "attributes"] == {f"a{i}": i for i in range(3000)}
    result = runner.invoke(app, ["import", str(src), "-m", str(m), "--dry-run"])
    assert result.exit_code == 0, result.output


def test_paths_stay_in_the_mappings_folder(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    outside = tmp_path / "dictionary.csv"
    outside.write_text("Variable / Field Name,Form Name,Field Type\npatient,f,text\n")
    text = (
        GOOD.replace('format = "csv"', 'format = "redcap"')
        + '[redcap]\ndictionary = "../dictionary.csv"\n'
    )
    m = folder / "m.toml"
    m.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError, match="inside the mapping's folder"):
        parse_mapping(text, m)
    for bad in ("/etc/passwd", "../../etc/passwd", "sub/../../dictionary.csv"):
        with pytest.raises(ValidationError, match="--allow-outside-paths"):
            parse_mapping(text.replace("../dictionary.csv", bad), m)
    assert parse_mapping(text, m, allow_outside=True).redcap.dictionary is not None
    out = runner.invoke(app, ["db", "check-mapping", str(m)])
    assert out.exit_code == 1 and "invalid mapping" in out.output
    assert (
        runner.invoke(app, ["db", "check-mapping", str(m), "--allow-outside-paths"]).exit_code == 0
    )
