"""Shared pieces of the fuzz tests: the case tally, value pools and TOML document mutation.

A *case* is one generated input checked against the contract: one scalar call, one table row
(``score_frame``, the score command, import staging) or one file (mapping, strategy, study).
Each Hypothesis example draws a *batch* of cases that is checked in one call, so the job runs
10,000 cases per entry point in minutes; :class:`Tally` counts the cases actually checked and
the test fails if fewer than the profile's target were run.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

PROFILE_NAME = os.environ.get("RHEUMETRICS_FUZZ", "rheumetrics-quick")

#: (cases per entry point that must be checked, batch size range) for each profile.
PLAN = {
    "rheumetrics-quick": (60, (10, 20)),
    "rheumetrics-sample": (1_000, (40, 60)),
    "rheumetrics-fuzz": (10_000, (100, 130)),
}
TARGET, (BATCH_MIN, BATCH_MAX) = PLAN[PROFILE_NAME]
#: Hypothesis examples needed so that every profile reaches its target with the smallest batch.
EXAMPLES = math.ceil(TARGET / BATCH_MIN)


@dataclass
class Tally:
    """Cases checked at one entry point (printed in the pytest summary of ``make fuzz``)."""

    entry_point: str
    target: int = TARGET
    cases: int = 0
    examples: int = 0
    started: float = field(default_factory=time.perf_counter)
    seconds: float = 0.0

    def add(self, n: int) -> None:
        self.cases += n
        self.examples += 1

    def done(self) -> None:
        """Record the time taken and fail unless the profile's number of cases was checked."""
        self.seconds = time.perf_counter() - self.started
        TALLIES.append(self)
        assert self.cases >= self.target, f"{self.entry_point}: {self.cases} cases < {self.target}"


TALLIES: list[Tally] = []


@contextmanager
def case(entry_point: str, shown: Any) -> Iterator[None]:
    """Name the one case that broke the contract (the batch is not shrunk)."""
    try:
        yield
    except Exception as exc:
        shown = shown() if callable(shown) else shown
        text = shown if isinstance(shown, str) else repr(shown)
        raise AssertionError(
            f"{entry_point}: {type(exc).__name__}: {exc}\n--- failing case ---\n{text[:4000]}"
        ) from exc


def batches(element: st.SearchStrategy[Any]) -> st.SearchStrategy[list[Any]]:
    """A batch of cases of the profile's size."""
    return st.lists(element, min_size=BATCH_MIN, max_size=BATCH_MAX)


# -- cell values: what a careless or hostile file or call can hold -------------------------------

NUMBERS = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, 28, 100, 1e300, 1e-300, -0.0, 0.01, 2**63]),
)
TRICKY_TEXT = st.sampled_from(
    ["", " ", "NA", "nan", "inf", "-inf", "Infinity", "1e400", "１２", "٣", "1_0", "\u00a012",
     "1,5", "4.", ".5", "+3", "True", "FALSE", "yes", "=1+1", "@SUM(A1)", "\r\n", "0x10", "1/2",
     "12 mm", "—", "\x00"]
)  # fmt: skip
TEXT = st.one_of(TRICKY_TEXT, st.text(max_size=12), NUMBERS.map(str))
CELL = st.one_of(NUMBERS, TEXT, st.booleans(), st.none())


# -- TOML documents: valid files with a few mutations, and random structures --------------------

#: Values a mutation puts in a document: every TOML type, near-miss names, paths, formats.
POOL: list[Any] = [
    "", " ", "x", "id", "patient", "date", "esr", "crp", "csv", "excel", "parquet", "redcap",
    "long", "wide", "utf-8", "latin-1", "utf-16", "klingon", "rot13", "hex", "base64", ";", ";;",
    "\t", '"', "%Y-%m-%d", "%d/%m/%Y", "ymd", "{joint}", "t_{joint}", "R_MCP1", "R_MCP9",
    "female", "male", "ra", "axspa", "gout", "mg/L", "mg/dL", "mmol/L", "mm/h", "2020-01-01",
    "1899-12-31", "9999-12-31", "../../etc/passwd", "/etc/passwd", "package:../..", "sdai",
    "das28_esr", "remission", "low_activity", "3mo", "14d", "-1mo", "0d", "baseline", "study",
    "NA", "inf", "nan", "１２", "=1+1", "\x00", "é", 0, 1, -1, 2, 28, 100, 2999, 10**6, 2**63 - 1,
    -(2**63), 0.5, -0.0, 1e300, math.inf, -math.inf, math.nan, True, False,
    dt.date(2020, 1, 15), dt.date(1, 1, 1), dt.datetime(2020, 1, 15, 8, 30), dt.time(12, 0),
    [], ["a"], [1, "a"], [[1]], ["", "NA"], {}, {"column": "x"}, {"value": 1},
    {"column": "sex", "values": {"M": "male"}}, {"days_after": "d", "anchor": "2020-01-01"},
    {"a": {"b": {"c": 1}}}, [{"a": 1}], {"pattern": "t_{joint}"}, {"columns": {"R_MCP1": "c"}},
]  # fmt: skip
#: Keys a mutation adds: the names the file formats use, and some they do not.
KEYS: list[str] = [
    "source", "patient", "visit", "values", "joints", "long", "redcap", "therapy", "imaging",
    "format", "layout", "id", "date", "column", "value", "unit", "unit_column", "encoding",
    "delimiter", "sheet", "attributes", "esr_mm_h", "crp_mg_l", "tjc28", "tender", "swollen",
    "pattern", "columns", "checkbox", "choices", "true_values", "false_values", "days_after",
    "months_after", "anchor", "events", "dictionary", "na_values", "date_format", "item",
    "items", "ignore", "sex", "birth_year", "diagnosis", "kind", "drug", "strategy", "ladder",
    "target", "index", "name", "level", "timing", "options", "study", "cohort", "analyses",
    "outcomes", "visits", "title", "synthetic", "x", "", "a.b", "1",
]  # fmt: skip
OPS = ("replace", "replace", "delete", "add", "add", "retype")


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path (table keys and list positions) in ``doc``, tables included."""
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def mutate(doc: dict[str, Any], edits: list[tuple[int, str, int, int]]) -> dict[str, Any]:
    """``doc`` with each edit (path choice, operation, pool choice, key choice) applied."""
    doc = _copy(doc)
    for where, op, value_at, key_at in edits:
        paths = _paths(doc)
        path = paths[where % len(paths)]
        value = _copy(POOL[value_at % len(POOL)])
        key = KEYS[key_at % len(KEYS)]
        parent: Any = doc
        for step in path[:-1]:
            parent = parent[step]
        target = parent[path[-1]] if path else doc
        if op == "add" and isinstance(target, dict):
            target[key] = value
        elif op == "add" and isinstance(target, list):
            target.append(value)
        elif not path:
            continue
        elif op == "delete":
            del parent[path[-1]]
        elif (
            op == "retype"
        ):  # the same content in another shape: a table as a list, text as a number
            parent[path[-1]] = (
                list(target.values()) if isinstance(target, dict) else
                {"x": target} if isinstance(target, list) else
                [target] if isinstance(target, str) else str(target)
            )  # fmt: skip
        else:
            parent[path[-1]] = value
    return doc


_CHARS = 'abcxyz_{}%./-:;, \t\n"\\éß１٣\u00a0\u200b\x00\x7f😀'


def _random_scalar(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.6:
        return rng.choice(POOL[:90])
    if roll < 0.8:
        return "".join(rng.choice(_CHARS) for _ in range(rng.randrange(9)))
    return rng.choice(
        [rng.randrange(-(10**6), 10**6), rng.uniform(-1e6, 1e6), 2 ** rng.randrange(70)]
    )


def _random_value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth >= 3 or roll < 0.6:
        return _random_scalar(rng)
    if roll < 0.8:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(KEYS): _random_value(rng, depth + 1) for _ in range(rng.randrange(4))}


def random_document(rng: random.Random, bases: list[dict[str, Any]]) -> dict[str, Any]:
    """One file: seven times in eight a base file with 1-4 mutations, else a random structure."""
    if rng.random() < 1 / 8:
        return {
            rng.choice(KEYS): {rng.choice(KEYS): _random_value(rng, 1) for _ in range(rng.randrange(5))}
            for _ in range(rng.randrange(5))
        }  # fmt: skip
    edits = [(rng.randrange(10**4), rng.choice(OPS), rng.randrange(10**4), rng.randrange(10**4))
             for _ in range(rng.randint(1, 4))]  # fmt: skip
    return mutate(rng.choice(bases), edits)


def file_batches(bases: list[dict[str, Any]]) -> st.SearchStrategy[list[dict[str, Any]]]:
    """A batch of files generated from one Hypothesis-drawn random stream.

    Drawing each file's edits through Hypothesis costs about 10 ms a file; one drawn
    :class:`random.Random` per batch makes a file cost about 0.1-1 ms, so the loaders, not the
    generator, take the time. A failure prints the failing file itself (``case``).
    """
    return st.randoms(use_true_random=True).map(
        lambda rng: [random_document(rng, bases) for _ in range(rng.randint(BATCH_MIN, BATCH_MAX))]
    )


def toml_value(value: Any) -> str:
    """``value`` as an inline TOML value (tables inline, text as basic strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else "inf" if value == math.inf else repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + " }"


def toml_text(doc: dict[str, Any]) -> str:
    """A document as TOML text: top-level tables as ``[sections]``, the rest inline."""
    head = [f"{json.dumps(k)} = {toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    body = [
        f"[{json.dumps(k)}]\n" + "\n".join(f"{json.dumps(kk)} = {toml_value(vv)}" for kk, vv in v.items())
        for k, v in doc.items()
        if isinstance(v, dict)
    ]  # fmt: skip
    return "\n".join(head + body) + "\n"
