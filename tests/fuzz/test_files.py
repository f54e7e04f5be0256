"""Fuzz the file loaders: mapping, strategy and study files.

A case is one file: a bundled file with one to four mutations (a value replaced, retyped or
deleted, a key added) or, one time in eight, a random structure. Each Hypothesis example draws
one random stream that generates a batch of files, checked one by one (``fuzzcases.py``); the
number checked is asserted (10,000 per loader under ``make fuzz``). Any file loads or is refused with problems; never another exception.
"""

from __future__ import annotations

import tempfile
import tomllib
from importlib.resources import files
from pathlib import Path
from typing import Any

from fuzzcases import PROFILE_NAME, Tally, case, file_batches, toml_text
from hypothesis import given, settings

from rheumetrics.errors import RheumetricsError, ValidationError
from rheumetrics.store.mapping import parse_mapping

PROFILE = settings.get_profile(PROFILE_NAME)
PACKAGE = Path(str(files("rheumetrics")))
TMP = Path(tempfile.gettempdir())

#: A mapping that uses every part of the format (the bundled mapping is the other base).
RICH_MAPPING = """
[source]
format = "csv"
delimiter = ";"
encoding = "latin-1"
na_values = ["", "NA", "-"]
date_format = "%d/%m/%Y"
[patient]
id = "pid"
sex = { column = "sex", values = { M = "male", F = "female" } }
birth_year = "born"
diagnosis = { value = "ra" }
[patient.attributes]
smoker = "smoking"
[visit]
date = "date"
kind = { value = "routine" }
[values]
esr_mm_h = "esr"
crp_mg_l = { column = "crp", unit = "mg/dL" }
gh_mm = "gh"
tjc28 = "tjc"
[joints]
tender = { pattern = "t_{joint}" }
swollen = { columns = { R_MCP1 = "s_rmcp1", L_MCP1 = "s_lmcp1" } }
true_values = ["1", "yes"]
false_values = ["0", "no"]
"""
MAPPINGS = [
    tomllib.loads(RICH_MAPPING),
    tomllib.loads((PACKAGE / "store/mappings/rapport.toml").read_text(encoding="utf-8")),
]


def _refused_with_problems(err: RheumetricsError) -> None:
    assert str(err)  # the one-line message can be shown
    if isinstance(err, ValidationError):
        assert err.problems and all(p.rule for p in err.problems)


def test_mapping_loading() -> None:
    tally = Tally("mapping files")

    @settings(PROFILE)
    @given(file_batches(MAPPINGS))
    def check(docs: list[dict[str, Any]]) -> None:
        for doc in docs:
            text = toml_text(doc)
            with case("mapping", text):
                try:
                    mapping = parse_mapping(text, TMP / "fuzz.toml")
                except ValidationError as err:
                    _refused_with_problems(err)
                    continue
                assert mapping.patient  # a mapping that loads has at least the patient id
        tally.add(len(docs))

    check()
    tally.done()


STRATEGIES = [
    tomllib.loads(p.read_text(encoding="utf-8"))
    for p in sorted((PACKAGE / "t2t/strategies").glob("*.toml"))
]


def test_strategy_loading() -> None:
    from rheumetrics.t2t import parse_strategy

    tally = Tally("strategy files")

    @settings(PROFILE)
    @given(file_batches(STRATEGIES))
    def check(docs: list[dict[str, Any]]) -> None:
        for doc in docs:  # the parsed document, as read from the file
            with case("strategy", lambda: toml_text(doc)):  # noqa: B023
                try:
                    parse_strategy(doc, "fuzz.toml")
                except RheumetricsError as err:
                    _refused_with_problems(err)
        tally.add(len(docs))

    check()
    tally.done()


#: The bundled studies, but nz_mri (74 kB of published figures: its TOML parse alone takes
#: 80 ms; the other four hold every section it has).
STUDIES = [
    tomllib.loads(p.read_text(encoding="utf-8"))
    for p in sorted((PACKAGE / "studies").glob("*.toml"))
    if p.stem != "nz_mri"
]


def test_study_loading() -> None:
    from rheumetrics.study.model import parse_study

    tally = Tally("study files")

    @settings(PROFILE)
    @given(file_batches(STUDIES))
    def check(docs: list[dict[str, Any]]) -> None:
        for doc in docs:
            text = toml_text(doc)
            with case("study", text):
                try:
                    parse_study(text, PACKAGE / "studies" / "fuzz-study.toml")
                except RheumetricsError as err:
                    _refused_with_problems(err)
        tally.add(len(docs))

    check()
    tally.done()
