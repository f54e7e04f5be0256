"""Every docstring example in rheumetrics.stats runs and prints what it shows."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import rheumetrics.stats

MODULES = sorted(
    m.name for m in pkgutil.iter_modules(rheumetrics.stats.__path__, "rheumetrics.stats.")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} failing example(s) in {name}"
