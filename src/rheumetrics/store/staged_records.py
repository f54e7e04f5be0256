"""Therapies and imaging reads of a source file, checked as the engine and the scorer check them.

Therapies against the drug catalogue (:func:`rheumetrics.schema.therapies.check_therapies`),
imaging reads against the imaging catalogue (:func:`rheumetrics.imaging.validate_reads`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rheumetrics.errors import ProblemCollector, ValidationError
from rheumetrics.imaging.reads import validate_reads
from rheumetrics.schema import records as F
from rheumetrics.schema.fields import Field
from rheumetrics.schema.therapies import check_therapies
from rheumetrics.store.mapping import FieldSpec
from rheumetrics.store.source_frame import SourceFrame


def _records(ctx: SourceFrame, pid: pd.Series, specs: dict[str, FieldSpec], known: dict[str, Field],
             defaults: dict[str, Any]) -> pd.DataFrame:  # fmt: skip
    df = pd.DataFrame(
        {"patient_key": pid.reindex(ctx.raw.index), "_row": ctx.raw.index}, index=ctx.raw.index
    )
    for key, ftype in known.items():
        df[key] = ctx.field(specs, key, ftype, default=defaults.get(key))
    return df


def _flag_duplicates(ctx: SourceFrame, df: pd.DataFrame, keys: list[str], what: str) -> None:
    sub = df[keys]
    dup = sub.notna().all(axis=1).to_numpy() & sub.duplicated(keep=False).to_numpy()
    ctx.rep.flag(
        dup, keys[1], df[keys[1]], f"duplicate {what}: the same {', '.join(keys)} appears twice"
    )


def staged_therapies(ctx: SourceFrame, pid: pd.Series) -> pd.DataFrame:
    assert ctx.m.therapy is not None
    df = _records(ctx, pid, ctx.m.therapy, F.THERAPY_FIELDS, {})
    stop_before = (df["stop_date"] < df["start_date"]).fillna(False).to_numpy(dtype=bool)
    col = ctx.m.therapy.get("stop_date")
    ctx.rep.flag(
        stop_before,
        (col.column if col else None) or "stop_date",
        df["stop_date"].astype(str),
        "stop date is before the start date",
    )
    _flag_duplicates(ctx, df, ["patient_key", "drug", "start_date"], "therapy")
    _check_drugs(ctx, df)
    return df


def _check_drugs(ctx: SourceFrame, df: pd.DataFrame) -> None:
    """Drug, class, route, dose unit and dose of each therapy not yet flagged against the drug
    catalogue, with the treat-to-target engine's own check, so that the store keeps only
    therapies the engine can use."""
    assert ctx.m.therapy is not None
    positions = np.flatnonzero(~ctx.rep.bad & df["drug"].notna().to_numpy())
    if not len(positions):
        return
    rows = df.iloc[positions].reset_index(drop=True)
    dose = rows["dose"].to_numpy(dtype=float, na_value=np.nan)
    pc = ProblemCollector()
    check_therapies(rows, dose, np.full(len(rows), np.nan), pc, ctx.rep.source)
    for problem in pc.problems:
        spec = ctx.m.therapy.get(problem.field)
        column = (spec.column if spec else None) or problem.field
        ctx.rep.add(int(positions[problem.record]), column, problem.value, problem.rule)


def staged_imaging(ctx: SourceFrame, pid: pd.Series) -> pd.DataFrame:
    assert ctx.m.imaging is not None
    df = _records(
        ctx,
        pid,
        ctx.m.imaging,
        F.IMAGING_FIELDS,
        F.IMAGING_DEFAULTS,
    )
    df["not_assessable"] = df["not_assessable"].astype("boolean").fillna(False)
    na_grade = df["grade"].isna().to_numpy()
    flagged = df["not_assessable"].to_numpy(dtype=bool)
    gcol = ctx.m.imaging["grade"].column if "grade" in ctx.m.imaging else "grade"
    ctx.rep.flag(
        na_grade & ~flagged & ~ctx.rep.bad,
        gcol or "grade",
        None,
        "grade is missing; give a grade or mark the site not assessable",
    )
    ctx.rep.flag(
        ~na_grade & flagged,
        gcol or "grade",
        df["grade"],
        "a not-assessable site must have no grade",
    )
    keys = ["patient_key", *F.IMAGING_READ_KEY[1:]]
    _flag_duplicates(ctx, df, keys, "imaging read")
    _check_catalogue(ctx, df)
    return df


def _check_catalogue(ctx: SourceFrame, df: pd.DataFrame) -> None:
    """Systems, versions, sites, features, sides, per-site scales and designs of the reads against
    the imaging catalogue (:func:`rheumetrics.imaging.validate_reads`), on rows not yet flagged."""
    positions = np.flatnonzero(~ctx.rep.bad)
    if not len(positions):
        return
    reads = df.iloc[positions].rename(columns={"patient_key": "patient_id"}).reset_index(drop=True)
    try:
        validate_reads(reads)
    except ValidationError as err:
        for problem in err.problems:
            if isinstance(problem.record, (int, np.integer)):
                ctx.rep.add(
                    int(positions[problem.record]),
                    problem.field,
                    problem.value,
                    problem.rule,
                )
