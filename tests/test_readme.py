"""Every shell block of README.md and docs/*.md runs as written on a fresh copy of the repository.

Blocks fenced ``sh``/``bash``/``shell`` run with bash (``set -e``, so every command must succeed)
in a temporary copy of the working tree, the blocks of one page in order and in one copy. Python
blocks of README.md run too, and docs/tutorial.md runs as a doctest (outputs compared). Shell blocks in docs/ may use the generic file
names of their synopses (``visits.csv``, ``mapping.toml``, ...): :data:`STAGED_FOR_DOCS` copies the
shipped examples under those names; README.md gets none, so its commands use shipped files only.
Commands needing a server the test cannot start are listed in :data:`NEEDS_SERVER`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYTHON_PAGES = {"README.md"}
#: Pages whose Python examples are doctests (``>>>`` with their output), run with :mod:`doctest`.
DOCTEST_PAGES = {"tutorial.md"}
SHELL = ("sh", "bash", "shell")
#: Generic names used in docs/ synopses -> the shipped example they stand for.
STAGED_FOR_DOCS = {
    "visits.csv": "examples/data/visits.csv",
    "visits.xlsx": "examples/data/visits.xlsx",
    "mapping.toml": "examples/data/visits.toml",
    "therapies.csv": "examples/data/therapies.csv",
}
#: Command lines skipped because they need a server this test cannot start (substring match).
NEEDS_SERVER = ("postgresql+psycopg://user@", "rheumetrics serve")
SKIP_COPY = {".git", ".venv", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis"}
_FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```", re.S | re.M)


def blocks(page: Path) -> list[tuple[str, str]]:
    """(language, code) of every fenced block of a page."""
    return [(m.group(1), m.group(2)) for m in _FENCE.finditer(page.read_text(encoding="utf-8"))]


#: Pages with a block to run (the others hold only Python API sketches, TOML or tables).
PAGES = [
    page
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    if page.name in DOCTEST_PAGES
    or any(lang in SHELL or (lang == "python" and page.name in PYTHON_PAGES)
           for lang, _ in blocks(page))
]  # fmt: skip


def _copy(tmp: Path) -> Path:
    work = tmp / "repo"
    shutil.copytree(ROOT, work, ignore=lambda d, names: [n for n in names if n in SKIP_COPY])
    (work / ".venv").symlink_to(ROOT / ".venv" if (ROOT / ".venv").exists() else Path(sys.prefix))
    return work


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("RHEUMETRICS_DB_URL", None)
    env["COLUMNS"] = "100"
    return env


def _runnable(code: str) -> str:
    lines = [ln for ln in code.splitlines() if not any(s in ln for s in NEEDS_SERVER)]
    return "set -euo pipefail\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_shell_block_runs_as_written(page: Path, tmp_path: Path) -> None:
    found = [(lang, code) for lang, code in blocks(page) if lang in SHELL]
    python = [code for lang, code in blocks(page) if lang == "python" and page.name in PYTHON_PAGES]
    work = _copy(tmp_path)
    if page.name != "README.md":
        for name, source in STAGED_FOR_DOCS.items():
            shutil.copy(work / source, work / name)
    for i, (_, code) in enumerate(found):
        if "make " in code and page.name == "README.md":
            code = "\n".join(ln for ln in code.splitlines() if not ln.startswith("make "))
        run = subprocess.run(["bash", "-c", _runnable(code)], cwd=work, env=_env(),
                             capture_output=True, text=True, timeout=900)  # fmt: skip
        assert run.returncode == 0, (
            f"{page.name} shell block {i + 1} failed:\n{run.stdout}\n{run.stderr}"
        )
        assert "Traceback" not in run.stderr, run.stderr
    if page.name in DOCTEST_PAGES:
        code = (
            "import doctest, sys\n"
            f"r = doctest.testfile({str(page)!r}, module_relative=False, "
            "optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)\n"
            "sys.exit(1 if r.failed or not r.attempted else 0)\n"
        )
        run = subprocess.run([sys.executable, "-c", code], cwd=work, env=_env(),
                             capture_output=True, text=True, timeout=900)  # fmt: skip
        assert run.returncode == 0, f"{page.name} doctest failed:\n{run.stdout}\n{run.stderr}"
    for i, code in enumerate(python):
        run = subprocess.run([sys.executable, "-c", code], cwd=work, env=_env(),
                             capture_output=True, text=True, timeout=900)  # fmt: skip
        assert run.returncode == 0, f"{page.name} python block {i + 1} failed:\n{run.stderr}"


def test_make_targets_named_in_readme_exist() -> None:
    # `make demo` and `make test` are run by CI itself; here only check the README names real targets
    makefile = (ROOT / "Makefile").read_text()
    for _lang, code in blocks(ROOT / "README.md"):
        for target in re.findall(r"^make (\w+)", code, re.M):
            assert re.search(rf"^{target}:", makefile, re.M), target
