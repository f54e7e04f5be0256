"""Dates given as days or months after an anchor get the same future-date check as date columns,
and huge offsets are problems, not crashes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from rheumetrics.errors import ValidationError
from rheumetrics.store.importer import stage_file
from rheumetrics.store.mapping import parse_mapping

MAPPING = """
[source]
format = "csv"

[patient]
id = "patient"

[visit]
date = {{ {unit}_after = "offset", anchor = {anchor} }}

[values]
esr_mm_h = "esr"
"""
ANCHOR = dt.date(2020, 1, 1)


def _stage(tmp_path: Path, unit: str, offsets: list[str]):
    m = tmp_path / "m.toml"
    m.write_text(MAPPING.format(unit=unit, anchor=ANCHOR.isoformat()), encoding="utf-8")
    src = tmp_path / "s.csv"
    rows = [f"P{i},{o},20" for i, o in enumerate(offsets)]
    src.write_text("patient,offset,esr\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return stage_file(m, src)


@pytest.mark.parametrize("unit", ["days", "months"])
def test_future_and_huge_offsets_are_problems(unit: str, tmp_path: Path) -> None:
    today = dt.date.today()
    most = (today - ANCHOR).days if unit == "days" else (
        (today.year - ANCHOR.year) * 12 + today.month - ANCHOR.month - (today.day < ANCHOR.day))  # fmt: skip
    offsets = ["0", "3", str(most), str(most + 1), "1000000", "1e300", "1e400", "inf", "-1", "2.5"]
    staged = _stage(tmp_path, unit, offsets)
    bad = sorted(p.record for p in staged.problems)
    assert bad == [5, 6, 7, 8, 9, 10, 11]  # lines of offsets most+1 onwards
    assert all("may not be in the future" in p.rule for p in staged.problems)
    dates = staged.visits.sort_values("_row")["visit_date"]
    assert dates.iloc[0] == pd_ts(ANCHOR) and dates.max() <= pd_ts(today)


def pd_ts(d: dt.date):
    import pandas as pd

    return pd.Timestamp(d)


@pytest.mark.parametrize("anchor", ["2999-01-01", "1800-01-01"])
def test_anchor_outside_the_allowed_dates_is_a_mapping_problem(anchor: str) -> None:
    with pytest.raises(ValidationError, match="anchor date must be from 1900-01-01 to today"):
        parse_mapping(MAPPING.format(unit="days", anchor=anchor))
