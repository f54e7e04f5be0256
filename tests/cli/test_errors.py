"""One error handler for the whole command line: bad input gives a short message and a non-zero
exit for every command, never a traceback; ``--debug`` shows the details."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rheumetrics.cli import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "data"


@pytest.fixture
def bad(tmp_path: Path) -> dict[str, Path]:
    """Files that are wrong in the ways users get them wrong."""
    files = {
        "csv": tmp_path / "bad.csv",
        "visits": tmp_path / "visits.csv",
        "toml": tmp_path / "bad.toml",
        "empty_db": tmp_path / "empty.sqlite",
    }
    files["csv"].write_text("a,b\n1,2\n")
    files["visits"].write_text("tjc28,sjc28,esr_mm_h,gh_mm\n4,5,44,12\n１２,True,0.01,1_0\n")
    files["toml"].write_text("not toml [[[")
    return files


def _commands(b: dict[str, Path]) -> list[list[str]]:
    db = f"sqlite:///{b['empty_db']}"
    return [
        ["score", str(b["csv"])],
        ["score", str(b["visits"])],
        ["score", "no_such_file.csv"],
        ["score", str(b["toml"])],
        ["score", "--tjc28", "4", "--sjc28", "2", "--ptga", "40"],
        ["catalogue", "--out", str(b["csv"] / "x.md")],
        ["imaging", str(b["csv"]), "--out", str(b["csv"].with_suffix(".out.csv"))],
        ["agreement", str(b["csv"])],
        ["agreement", "no_such_file.csv"],
        ["db", "init", "--db", "nosuch://x"],
        ["db", "check-mapping", str(b["toml"])],
        ["db", "rescore", "--db", db],
        ["import", str(b["csv"]), "-m", str(b["toml"]), "--db", db],
        ["export", "tidy", str(b["csv"].with_suffix(".tidy.csv")), "--db", db],
        ["t2t", str(b["csv"]), "--strategy", "eular2022_ra", "--out", "-"],
        ["t2t", str(EXAMPLES / "visits.csv"), "--strategy", "no_such_strategy"],
        ["strategies", "no_such_strategy"],
        ["report", "no_such_study"],
    ]


def test_every_command_with_bad_input_exits_non_zero_without_a_traceback(bad):
    for args in _commands(bad):
        result = CliRunner().invoke(app, args)
        assert result.exit_code != 0, args
        assert isinstance(result.exception, SystemExit), (args, result.exception)
        assert "Traceback" not in result.output, args


def test_usage_errors_exit_2():
    result = CliRunner().invoke(app, ["conventions", "--no-such-option"])
    assert result.exit_code == 2


def test_an_unexpected_error_is_one_line_and_debug_shows_it(monkeypatch, bad):
    import rheumetrics.measures.cli as measures_cli

    def boom(*args, **kwargs):
        raise KeyError("internal detail")

    monkeypatch.setattr(measures_cli, "score_frame", boom)
    visits = str(EXAMPLES / "visits.csv")
    result = CliRunner().invoke(app, ["score", visits])
    assert result.exit_code == 1
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert lines == ["error: KeyError: 'internal detail' (unexpected; --debug shows details)"]
    debug = CliRunner().invoke(app, ["--debug", "score", visits])
    assert isinstance(debug.exception, KeyError)  # the details, for a bug report


def test_missing_store_schema_says_how_to_create_it(bad):
    result = CliRunner().invoke(app, ["db", "rescore", "--db", f"sqlite:///{bad['empty_db']}"])
    assert result.exit_code == 1
    assert "rheumetrics db init" in result.output
    assert "Traceback" not in result.output


def test_help_and_version_do_not_import_the_heavy_libraries():
    code = (
        "import sys\n"
        "from rheumetrics.cli import app\n"
        "for args in (['--help'], ['--version']):\n"
        "    try:\n"
        "        app(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = {'pandas', 'numpy', 'scipy', 'statsmodels', 'sqlalchemy', 'matplotlib'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert "score" in out.stdout and "rheumetrics" in out.stdout


def test_a_mistyped_command_suggests_the_lazily_registered_one():
    result = CliRunner().invoke(app, ["scor"])
    assert result.exit_code == 2
    assert "Did you mean 'score'?" in result.output
