"""The docstring examples of the treat-to-target modules and the drug catalogue run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "rheumetrics.schema.drugs",
    "rheumetrics.t2t",
    "rheumetrics.t2t.cohort",
    "rheumetrics.t2t.strategy",
    "rheumetrics.t2t.strategy_files",
    "rheumetrics.t2t.visit",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
