"""Loading a study by path or by bundled name: a folder or file named like a bundled study."""

from __future__ import annotations

from pathlib import Path

import pytest

from rheumetrics.errors import ValidationError
from rheumetrics.study.model import bundled_path, load_study, resolve_study


def test_a_folder_named_like_a_bundled_study_does_not_hide_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `rheumetrics report rapport --out rapport/report.pdf` leaves a folder called rapport behind
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rapport").mkdir()
    assert resolve_study("rapport") == bundled_path("rapport")
    study = load_study("rapport")
    assert study.path == bundled_path("rapport")
    assert study.analyses


def test_a_file_named_like_a_bundled_study_is_read_as_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rapport").write_text("not = [valid", encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        load_study("rapport")
    [problem] = err.value.problems
    assert problem.field == "toml" and "not valid TOML" in problem.rule


def test_a_folder_that_is_no_bundled_study_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mystudy").mkdir()
    with pytest.raises(ValidationError) as err:
        load_study("mystudy")
    [problem] = err.value.problems
    assert (problem.field, problem.value) == ("path", "mystudy")
    assert "is a folder, not a study file" in problem.rule
    assert "bundled: nz_mri" in problem.rule


def test_a_file_that_is_not_text_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "study.toml"
    path.write_bytes(b"\xff\xfe\x00title")
    with pytest.raises(ValidationError) as err:
        load_study(path)
    [problem] = err.value.problems
    assert problem.field == "path" and "cannot read" in problem.rule


def test_importing_the_report_module_loads_no_heavy_statistics() -> None:
    # scipy.stats, statsmodels and SQLAlchemy load when an analysis or a store needs them
    import subprocess
    import sys

    code = ("import sys, rheumetrics.study.report, rheumetrics.study.model\n"
            "print(sorted(m for m in ('scipy.stats', 'statsmodels', 'sqlalchemy') if m in sys.modules))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
