"""docs/imaging.md embeds the catalogue as generated from the catalogue files."""

from pathlib import Path

import pytest

from rheumetrics.imaging.catalogue import catalogue_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "imaging.md"


@pytest.mark.skipif(not DOC.exists(), reason="docs not in this tree")
def test_generated_catalogue_section_is_current():
    text = DOC.read_text(encoding="utf-8")
    begin, end = "<!-- BEGIN GENERATED CATALOGUE -->\n", "<!-- END GENERATED CATALOGUE -->"
    section = text[text.index(begin) + len(begin) : text.index(end)]
    assert section == catalogue_markdown()
    assert "**unverified" in section
