"""Security tests reuse the store fixtures (each store test runs on SQLite and PostgreSQL).

The store's conftest is loaded by path (test modules are imported in importlib mode, so a
conftest is not importable by name) and its fixtures are re-exported here.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

_path = Path(__file__).parents[1] / "store" / "conftest.py"
_spec = importlib.util.spec_from_file_location("rheumetrics_store_fixtures", _path)
assert _spec is not None and _spec.loader is not None
_store = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_store)

engine = _store.engine
clinic = _store.clinic
h = _store.h
