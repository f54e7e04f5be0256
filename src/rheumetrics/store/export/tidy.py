"""Tidy export: one row per visit with every stored item, joint count and derived score.

The conventions and package version that produced the scores travel with the file: in a
``<file>.meta.json`` sidecar for CSV and Parquet, and in the Parquet schema metadata as well.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from rheumetrics import __version__
from rheumetrics.schema.writers import write_csv
from rheumetrics.store.database import current_revision
from rheumetrics.store.visit_frames import load_visits


def write_frame(df: pd.DataFrame, path: Path, meta: dict[str, Any]) -> Path:
    """Write ``df`` as CSV or Parquet (by suffix) with a ``.meta.json`` sidecar.

    CSV goes through :func:`rheumetrics.schema.writers.write_csv`: text cells that a spreadsheet
    would run as formulas are escaped and cells holding line breaks are quoted.
    """
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise ValueError(f"{path}: export format comes from the suffix, .csv or .parquet")
    out = df.copy()
    out.attrs = {"rheumetrics": json.dumps(meta, default=str)}
    if suffix == ".csv":
        write_csv(out, path, date_format="%Y-%m-%d")
    else:
        out.to_parquet(path, index=False)
    Path(f"{path}.meta.json").write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
    return path


def export_tidy(
    engine: Engine,
    path: str | Path,
    patients: Iterable[str] | None = None,
    *,
    run: int | None = None,
    joints: bool = False,
) -> Path:
    """Write the visit frame with scores to ``path`` (.csv or .parquet); returns the path."""
    path = Path(path)
    visits = load_visits(engine, patients, scores=True, run=run, joints=joints)
    meta = {
        "what": "rheumetrics tidy visit export",
        "exported_at": dt.datetime.now(dt.UTC).isoformat(),
        "exported_by": f"rheumetrics {__version__}",
        "schema_revision": current_revision(engine),
        "score_run": visits.attrs.get("score_run"),
        "scores_package_version": visits.attrs.get("package_version"),
        "conventions": visits.attrs.get("conventions"),
        "rows": len(visits),
    }
    return write_frame(visits.reset_index(), path, meta)
