"""Fuzz import staging: any raw rows give staged records or problems naming the line, never an
exception; a bad row is never staged for storing; every row reaches the store or the
quarantine. A case is one row; each Hypothesis example stages one batch of rows and imports it
into one SQLite store shared by the whole run (``fuzzcases.py``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from fuzzcases import PROFILE_NAME, TEXT, Tally, batches
from hypothesis import given, settings
from hypothesis import strategies as st

from rheumetrics.errors import ValidationError
from rheumetrics.store import import_file, init_db, make_engine, stage_file
from rheumetrics.store.mapping import parse_mapping
from rheumetrics.store.stage import stage

PROFILE = settings.get_profile(PROFILE_NAME)

MAPPING_TEXT = """
[source]
format = "csv"
[patient]
id = "patient"
sex = { column = "sex", values = { F = "female", M = "male" } }
birth_year = "birth_year"
rf = "rf"
[visit]
date = "date"
[values]
esr_mm_h = "esr"
crp_mg_l = { column = "crp", unit_column = "crp_unit" }
gh_mm = "gh"
tjc28 = "tjc28"
sdai_reported = "sdai"
"""
MAPPING = parse_mapping(MAPPING_TEXT)
RAW_COLUMNS = ["patient", "sex", "birth_year", "rf", "date", "esr", "crp", "crp_unit", "gh",
               "tjc28", "sdai"]  # fmt: skip
RAW_CELL = st.one_of(
    st.none(),
    TEXT,
    st.sampled_from(["P1", "P2", "P3", "F", "M", "1960", "yes", "no", "2020-01-15", "2021-02-30",
                     "2019-06-01", "9999-01-01", "44", "mg/L", "mg/dL", "g/L", "12"]),
)  # fmt: skip


@st.composite
def raw_frames(draw: st.DrawFn) -> pd.DataFrame:
    """One batch of raw rows (all text or missing, as a reader gives them), lines from 2."""
    cols = draw(st.lists(st.sampled_from(RAW_COLUMNS), min_size=1, max_size=len(RAW_COLUMNS),
                         unique=True))  # fmt: skip
    rows = draw(batches(st.tuples(*[RAW_CELL] * len(cols))))
    df = pd.DataFrame(rows, columns=cols, dtype=object)
    df.index = pd.RangeIndex(2, 2 + len(df), name="row")
    return df


def test_import_staging() -> None:
    tally = Tally("import staging")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "m.toml").write_text(MAPPING_TEXT, encoding="utf-8")
        engine = make_engine(f"sqlite:///{folder / 'store.sqlite'}")
        init_db(engine)
        n = [0]

        @settings(PROFILE)
        @given(raw_frames())
        def check(raw: pd.DataFrame) -> None:
            staged = stage(MAPPING, raw, "fuzz.csv")
            for p in staged.problems:
                assert p.rule and p.source == "fuzz.csv"
                assert p.record in raw.index or p.record in ("(file)", "(header)")
            stored_rows = set(staged.visits["_row"]) if "_row" in staged.visits else set()
            assert not stored_rows & staged.bad_rows  # a bad row is never staged for storing
            items = [c for c in ("esr_mm_h", "crp_mg_l", "gh_mm", "tjc28", "sdai_reported")
                     if c in staged.visits]  # fmt: skip
            values = staged.visits[items].to_numpy(dtype=float, na_value=float("nan"))
            assert not (abs(values) == float("inf")).any()
            # the same rows from a file, into the run's one store, in quarantine mode
            n[0] += 1
            src = folder / f"batch{n[0]}.csv"
            raw.to_csv(src, index=False)
            try:
                from_file = stage_file(MAPPING, src)
                result = import_file(engine, src, folder / "m.toml", mode="quarantine",
                                     score=False)  # fmt: skip
            except ValidationError as err:  # the file as a whole is refused (e.g. no id column)
                assert all(p.rule for p in err.problems)
            else:
                assert result.rows == len(raw)
                assert result.quarantined_rows >= len(from_file.bad_rows)
            tally.add(len(raw))

        check()
        engine.dispose()
    tally.done()
