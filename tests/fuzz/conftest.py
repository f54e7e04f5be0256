"""Hypothesis profiles for the property-based tests at the entry points.

- ``rheumetrics-quick`` (default): a few dozen cases per entry point, part of every test run.
- ``rheumetrics-fuzz``: at least 10,000 cases per entry point, a bounded separate job
  (``make fuzz``, or ``RHEUMETRICS_FUZZ=rheumetrics-fuzz pytest -m fuzz tests/fuzz``).

The profile is chosen by ``$RHEUMETRICS_FUZZ`` and applied per test (``settings(parent=...)``),
so the other Hypothesis tests of the suite keep their own settings.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

_CHECKS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile(
    "rheumetrics-quick", max_examples=40, deadline=None, suppress_health_check=_CHECKS,
    derandomize=True, database=None,
)  # fmt: skip
settings.register_profile(
    "rheumetrics-fuzz", max_examples=10_000, deadline=None, suppress_health_check=_CHECKS,
    database=None,
)  # fmt: skip
settings.register_profile(
    "rheumetrics-sample", max_examples=300, deadline=None, suppress_health_check=_CHECKS,
    database=None,
)  # fmt: skip


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/fuzz/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.fuzz)
