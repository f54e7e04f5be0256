"""``check-mapping`` and ``import`` agree: a mapping ``check-mapping`` accepts is never refused by
``import`` for a mapping reason, on the mapping fuzz corpus (``test_files.py``'s generator).

For each generated mapping that loads, a source file is written in the mapping's own format
(delimiter, encoding, sheet) holding every column it names, and read and staged as ``import``
does (:func:`~rheumetrics.store.stage_file`): no exception but a
:class:`~rheumetrics.errors.ValidationError`, and no problem about the mapping itself (its
tables, keys or values); problems about the file or its rows may remain. A case is one
generated mapping; one tenth of the loader's count is run here (1,000 under ``make fuzz``),
as each accepted mapping reads a real file.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
from fuzzcases import PROFILE_NAME, TARGET, Tally, case, file_batches, toml_text
from hypothesis import given, settings
from test_files import MAPPINGS

from rheumetrics.errors import Problem, ValidationError
from rheumetrics.store import stage_file
from rheumetrics.store.mapping import Mapping, load_mapping

PROFILE = settings.get_profile(PROFILE_NAME)
SECTIONS = {"(top)", "source", "patient", "visit", "values", "joints", "long", "therapy",
            "imaging", "redcap"}  # fmt: skip


def _about_the_mapping(p: Problem) -> bool:
    return str(p.record).split(".")[0] in SECTIONS or p.field in ("mapping", "toml")


def _write_source(m: Mapping, folder: Path) -> Path | None:
    """A two-row file in the mapping's format with every column it reads (None if the mapping's
    encoding cannot hold its column names: no such file exists)."""
    cols = sorted(m.source_columns()) or ["x"]
    df = pd.DataFrame([["1"] * len(cols), [""] * len(cols)], columns=cols)
    if m.format == "excel":
        path = folder / "source.xlsx"
        sheet = m.sheet if isinstance(m.sheet, str) and m.sheet else "Sheet1"
        df.to_excel(path, index=False, sheet_name=sheet[:31])
    elif m.format == "parquet":
        path = folder / "source.parquet"
        df.to_parquet(path, index=False)
    else:
        path = folder / "source.csv"
        try:
            path.write_bytes(df.to_csv(index=False, sep=m.delimiter).encode(m.encoding))
        except (UnicodeError, LookupError):
            return None
    return path


def test_check_mapping_and_import_agree() -> None:
    tally = Tally("mapping parity", target=TARGET // 10)
    accepted = [0]

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)

        @settings(PROFILE, max_examples=max(2, PROFILE.max_examples // 10))
        @given(file_batches(MAPPINGS))
        def check(docs: list[dict[str, Any]]) -> None:
            for doc in docs:
                text = toml_text(doc)
                with case("mapping parity", text):
                    path = folder / "mapping.toml"
                    path.write_text(text, encoding="utf-8")
                    try:
                        mapping = load_mapping(path)  # what check-mapping checks
                    except ValidationError:
                        continue
                    source = _write_source(mapping, folder)
                    if source is None:
                        continue
                    accepted[0] += 1
                    try:
                        staged = stage_file(load_mapping(path), source)  # what import does
                    except ValidationError as err:
                        found = err.problems
                    else:
                        found = staged.problems
                    wrong = [p for p in found if _about_the_mapping(p)]
                    assert not wrong, f"import refuses what check-mapping accepts: {wrong}"
            tally.add(len(docs))

        check()
    print(f"mapping parity: {accepted[0]:,} accepted mappings read and staged")
    assert accepted[0] > 0
    tally.done()
