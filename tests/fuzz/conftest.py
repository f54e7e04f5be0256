"""Hypothesis profiles for the property-based tests at the entry points.

- ``rheumetrics-quick`` (default): 60 cases per entry point in batches of 10-20, part of every
  test run (seconds).
- ``rheumetrics-fuzz``: at least 10,000 cases per entry point in batches of 100-130, a bounded
  separate job (``make fuzz``, or ``RHEUMETRICS_FUZZ=rheumetrics-fuzz pytest -m fuzz tests/fuzz``).

A case is one scalar call, one table row or one file; each Hypothesis example checks a batch
(``fuzzcases.py``). The number of cases checked is asserted and printed after the run.
The profile is chosen by ``$RHEUMETRICS_FUZZ`` and applied per test (``settings(parent=...)``),
so the other Hypothesis tests of the suite keep their own settings. Batches are not shrunk
(shrinking a batch of 100 files takes minutes): a failure names the one case that failed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, Verbosity, settings

sys.path.insert(0, str(Path(__file__).parent))  # the tests import their shared fuzzcases.py

import fuzzcases

_CHECKS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
           HealthCheck.large_base_example]  # fmt: skip
for _name in fuzzcases.PLAN:
    settings.register_profile(
        _name, max_examples=fuzzcases.PLAN[_name][0] // fuzzcases.PLAN[_name][1][0] + 1,
        deadline=None, suppress_health_check=_CHECKS, derandomize=_name == "rheumetrics-quick",
        database=None, phases=(Phase.explicit, Phase.generate), verbosity=Verbosity.quiet,
    )  # fmt: skip


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/fuzz/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.fuzz)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not fuzzcases.TALLIES:
        return
    write = terminalreporter.write_line
    write(f"fuzz cases checked ({fuzzcases.PROFILE_NAME}):")
    for t in fuzzcases.TALLIES:
        write(f"  {t.entry_point:<24} {t.cases:>7,} cases in {t.examples:>4} batches, "
              f"{t.seconds:7.1f} s")  # fmt: skip
    total = sum(t.seconds for t in fuzzcases.TALLIES)
    write(f"  {'total':<24} {sum(t.cases for t in fuzzcases.TALLIES):>7,} cases, {total:.1f} s")
