"""Each measure declares the Conventions fields it reads, and the declarations are proved here.

A :class:`Recording` conventions object notes every field read. Every registered measure is
evaluated on valid inputs with it: the fields its formula and row rule read must be exactly its
``conventions``, its categories must read exactly its ``cutoffs`` field and its display exactly
``rounding``. The study report chooses the conventions to print from these declarations
(:attr:`~rheumetrics.measures.base.Measure.convention_fields`), so a wrong one would print
conventions that do not apply or leave out one that does.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, get_args, get_origin

import numpy as np
import pytest

from rheumetrics.measures import CUTOFF_SETS, MEASURES, Conventions
from rheumetrics.measures.base import Measure
from rheumetrics.measures.conventions import cutoff_family
from rheumetrics.measures.fields import FIELDS
from rheumetrics.numeric import RoundingMode

FIELD_NAMES = frozenset(f.name for f in dataclasses.fields(Conventions))


class Recording(Conventions):
    """Conventions that note the name of every field read after :meth:`start`."""

    def __getattribute__(self, name: str) -> Any:
        if name in FIELD_NAMES:
            reads = object.__getattribute__(self, "__dict__").get("_reads")
            if reads is not None:
                reads.add(name)
        return object.__getattribute__(self, name)

    def start(self) -> set[str]:
        """A fresh record of the fields read from now on (construction reads them all)."""
        reads: set[str] = set()
        object.__setattr__(self, "_reads", reads)
        return reads


def _alternatives(f: dataclasses.Field[Any]) -> list[Any]:
    """Values of a Conventions field other than the default worth scoring under."""
    hint = typing.get_type_hints(Conventions)[f.name]
    if f.name.endswith("_cutoffs"):
        family = cutoff_family(f.name)
        return [name for name, cs in CUTOFF_SETS.items() if cs.family == family]
    if hint is RoundingMode:
        return list(RoundingMode)
    if hint is bool:
        return [True, False]
    if hint is int:
        return [1, 8]
    if get_origin(hint) is typing.Literal:
        return list(get_args(hint))
    args = get_args(hint)
    if get_origin(args[0]) is typing.Literal:  # an alias such as AsdasCoefficients
        return list(get_args(args[0]))
    return [None, 0.0, 5.0]  # an optional number (a floor, a unit, a limit)


def _variants() -> list[dict[str, Any]]:
    """The defaults, and each field in turn set to each of its other values (valid ones)."""
    out: list[dict[str, Any]] = [{}]
    for f in dataclasses.fields(Conventions):
        for value in _alternatives(f):
            changes = {f.name: value}
            if f.name == "asas_crp_change" and value == "uln_adjusted":
                changes["asas_crp_uln_mg_l"] = 5.0
            try:
                Conventions(**changes)
            except ValueError:
                continue
            out.append(changes)
    return out


VARIANTS = _variants()


def _valid_inputs(m: Measure) -> dict[str, np.ndarray]:
    """Each input at the lowest and the highest value its field allows (two valid rows)."""
    rows = {}
    for name in m.inputs:
        f = FIELDS[name]
        assert f.low is not None and f.high is not None
        step = f.step or (1.0 if f.integer else 1e-6)
        low = f.low if f.low_inclusive else f.low + step
        high = f.high if f.high_inclusive else f.high - step
        rows[name] = np.array([low, high], dtype=float)
    return rows


def _reads(m: Measure, changes: dict[str, Any]) -> tuple[set[str], set[str], set[str]]:
    """Fields read by evaluating ``m`` on valid inputs, by its categories and by its display."""
    conv = Recording(**changes)
    on_value = conv.start()
    values, prepared = m.evaluate(_valid_inputs(m), conv)  # strict: the inputs are valid
    assert not prepared.problems and np.isfinite(values).all(), (m.name, values)
    on_category = conv.start()
    if m.cutoffs is not None:
        m.category(values, conv)
    on_display = conv.start()
    m.display(values, conv)
    return on_value, on_category, on_display


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_declared_conventions_are_the_fields_read(name: str) -> None:
    m = MEASURES[name]
    declared = set(m.conventions)
    assert declared <= FIELD_NAMES and len(declared) == len(m.conventions), m.conventions
    on_value, on_category, on_display = _reads(m, {})
    assert on_value == declared, f"{name} reads {sorted(on_value)}, declares {sorted(declared)}"
    assert on_category == ({m.cutoffs} if m.cutoffs else set())
    assert on_display == {"rounding"}
    # under any other value of any field, no undeclared field is read
    for changes in VARIANTS[1:]:
        value, category, display = _reads(m, changes)
        assert value <= declared, (name, changes, sorted(value - declared))
        assert category <= {m.cutoffs} and display == {"rounding"}, (name, changes)


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_convention_fields_are_the_declarations(name: str) -> None:
    m = MEASURES[name]
    fields = m.convention_fields
    assert set(fields) <= FIELD_NAMES and len(set(fields)) == len(fields)
    expected = {*m.conventions, "rounding"} | ({m.cutoffs} if m.cutoffs else set())
    # the one convention recorded only (which VAS fed gh_mm), for measures taking gh_mm
    expected |= {"das28_global_item"} if "gh_mm" in m.inputs else set()
    assert set(fields) == expected
