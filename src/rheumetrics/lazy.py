"""Package namespaces whose names are imported on first use (PEP 562), so commands start fast.

>>> import sys, types
>>> demo = types.ModuleType("demo")
>>> demo.__getattr__, demo.__dir__ = lazy_attributes("json", {"dumps": "decoder"})
>>> "dumps" in demo.__dir__()
True
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_attributes(
    package: str, where: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: name -> the submodule defining it."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return (
            sorted({*vars(sys.modules[package]), *where})
            if package in sys.modules
            else sorted(where)
        )

    return __getattr__, __dir__
