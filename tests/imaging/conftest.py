"""Builders for small read-record frames."""

import pandas as pd
import pytest


def build_reads(grades, *, system="ramris", version="2002", feature="synovitis", **fixed):
    """One read record per ``site: grade`` (``None`` grade = not assessable)."""
    base = {
        "patient_id": "P1",
        "timepoint": "baseline",
        "reader": "R1",
        "side": "R",
        "system": system,
        "version": version,
        "feature": feature,
        **fixed,
    }
    rows = [
        {**base, "site": site, "grade": grade, "not_assessable": grade is None}
        for site, grade in grades.items()
    ]
    return pd.DataFrame(rows)


@pytest.fixture
def reads_of():
    return build_reads
