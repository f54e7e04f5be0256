"""Fixtures for the treat-to-target scenario tests: small patient timelines built in one line each."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import pytest

from rheumetrics.t2t import decide, load_strategy


def _visits(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    if "patient_id" not in frame:
        frame.insert(0, "patient_id", "p1")
    frame["visit_date"] = pd.to_datetime(frame["visit_date"])
    return frame


def _therapies(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows,
        columns=[
            "patient_id",
            "drug",
            "drug_class",
            "dose",
            "route",
            "start_date",
            "stop_date",
            "reason",
        ],
    )
    frame["patient_id"] = frame["patient_id"].fillna("p1")
    frame["start_date"] = pd.to_datetime(frame["start_date"])
    frame["stop_date"] = pd.to_datetime(frame["stop_date"])
    return frame


@pytest.fixture
def run() -> Callable[..., pd.DataFrame]:
    """``run(strategy, visits, therapies=None, options=None)`` -> decision log."""

    def _run(
        strategy: str,
        visits: Sequence[dict[str, Any]],
        therapies: Sequence[dict[str, Any]] | None = None,
        options: dict[str, str] | None = None,
        **kw: Any,
    ) -> pd.DataFrame:
        s = load_strategy(strategy, options)
        return decide(
            _visits(visits), s, None if therapies is None else _therapies(therapies), **kw
        )

    return _run


def drug(
    name: str,
    cls: str,
    start: str,
    stop: str | None = None,
    dose: float | None = None,
    route: str | None = None,
    reason: str | None = None,
    patient: str = "p1",
) -> dict[str, Any]:
    """One therapy row."""
    return {
        "patient_id": patient,
        "drug": name,
        "drug_class": cls,
        "dose": dose,
        "route": route,
        "start_date": start,
        "stop_date": stop,
        "reason": reason,
    }


@pytest.fixture
def rx() -> Callable[..., dict[str, Any]]:
    return drug
