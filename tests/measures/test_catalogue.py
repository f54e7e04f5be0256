"""The committed catalogue page must be exactly what the code generates."""

from pathlib import Path

from rheumetrics.measures.catalogue import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "measures.md"


def test_docs_measures_md_is_up_to_date():
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/measures.md is stale: run `rheumetrics catalogue --out docs/measures.md`"
    )
