"""The same clinic export as Excel and Parquet imports to the same store content as the CSV."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from rheumetrics.errors import ValidationError
from rheumetrics.store import import_file, load_visits


@pytest.mark.parametrize("fmt", ["excel", "parquet"])
def test_excel_and_parquet_sources(engine: Engine, clinic, h, tmp_path: Path, fmt: str) -> None:
    src, mapping = clinic()
    frame = pd.read_csv(src, dtype=str, keep_default_na=False)
    if fmt == "excel":
        path = tmp_path / "clinic.xlsx"
        frame.to_excel(path, index=False, sheet_name="Visits")
        text = h.mapping.replace('format = "csv"', 'format = "excel"\nsheet = "Visits"')
    else:
        path = tmp_path / "clinic.parquet"
        typed = frame.replace("", None)
        typed["date"] = pd.to_datetime(typed["date"])
        joints = [c for c in typed if c.startswith(("t_", "s_"))]
        typed[joints] = typed[joints].apply(pd.to_numeric).astype("Int8")
        typed.to_parquet(path, index=False)
        text = h.mapping.replace('format = "csv"', 'format = "parquet"')
    m = tmp_path / f"{fmt}.toml"
    m.write_text(text)
    assert import_file(engine, path, m).visits_added == 4
    second = tmp_path / "from_csv.sqlite"
    from rheumetrics.store import init_db, make_engine

    ref = make_engine(f"sqlite:///{second}")
    init_db(ref)
    import_file(ref, src, mapping)
    pd.testing.assert_frame_equal(
        load_visits(engine, joints=True).reset_index(drop=True),
        load_visits(ref, joints=True).reset_index(drop=True),
        check_categorical=False,
    )


def test_unreadable_source_is_a_clear_error(engine: Engine, clinic, tmp_path: Path) -> None:
    _, mapping = clinic()
    with pytest.raises(ValidationError, match="cannot read"):
        import_file(engine, tmp_path / "missing.csv", mapping)
