"""Joint catalogue and joint counts from per-joint findings.

The catalogue (``catalogues/joints.csv``) lists the 68 joints of the ACR core-set count, 34 per side,
with their membership of the standard sets (Fuchs HA et al. Arthritis Rheum 1989 for the 28-joint
count, van der Heijde 1990 for the 44 swollen joints, ACR core set 1993 for 68/66). The Ritchie
articular index has its own 26 graded units (``catalogues/ritchie_units.csv``; Ritchie 1968).

Per-joint findings come wide (columns ``tender_<ID>`` / ``swollen_<ID>``) or long (one row per joint);
1 = tender/swollen, 0 = examined and not, NA = not assessed. A count over a set in which a joint was
not assessed is missing unless the caller asks for the count over the assessed joints only.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Literal

import numpy as np
import pandas as pd

from rheumetrics.errors import ProblemCollector

_CATALOGUES = files("rheumetrics") / "catalogues"

#: The 68 joints, one row each: id, side, joint, name, group, digit, SNOMED CT code, set flags.
JOINTS: pd.DataFrame = pd.read_csv(
    str(_CATALOGUES / "joints.csv"), dtype={"snomed": "string", "digit": "Int64"}
)
#: The 26 Ritchie articular index units, each graded 0-3.
RITCHIE_UNITS: pd.DataFrame = pd.read_csv(str(_CATALOGUES / "ritchie_units.csv"))

#: Standard joint sets: name -> (finding kind, column of the catalogue flagging membership).
JOINT_SETS: dict[str, tuple[str, str]] = {
    "tender28": ("tender", "das28"),
    "swollen28": ("swollen", "das28"),
    "swollen44": ("swollen", "swollen44"),
    "tender68": ("tender", "tender68"),
    "swollen66": ("swollen", "swollen66"),
}

#: Which count column each standard set produces.
COUNT_COLUMNS: dict[str, str] = {
    "tender28": "tjc28",
    "swollen28": "sjc28",
    "swollen44": "sjc44",
    "tender68": "tjc68",
    "swollen66": "sjc66",
}

JOINT_IDS: frozenset[str] = frozenset(JOINTS["id"])

NotAssessed = Literal["missing", "assessed_only"]


def joint_set(name: str) -> tuple[str, ...]:
    """Ordered joint ids of a standard set (``tender28``, ``swollen28``, ``swollen44``, ...)."""
    if name in ("das28", "28"):
        name = "tender28"
    try:
        _, flag = JOINT_SETS[name]
    except KeyError:
        raise KeyError(f"unknown joint set {name!r}; known: {', '.join(JOINT_SETS)}") from None
    return tuple(JOINTS.loc[JOINTS[flag] == 1, "id"])


def wide_columns(set_name: str) -> list[str]:
    """The wide-format finding columns of a set, e.g. ``tender_R_SHOULDER``."""
    kind, _ = JOINT_SETS[set_name]
    return [f"{kind}_{j}" for j in joint_set(set_name)]


def long_to_wide(findings: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Turn long findings (``keys`` + ``joint_id``, ``tender``, ``swollen``) into wide columns.

    Unknown joint ids, values other than 0/1/NA and a joint given twice for one visit are all
    reported together as a :class:`~rheumetrics.errors.ValidationError`.
    """
    problems = ProblemCollector("per-joint findings")
    unknown = ~findings["joint_id"].isin(JOINT_IDS)
    for rec, jid in findings.loc[unknown, "joint_id"].items():
        problems.add(rec, "joint_id", jid, "must be a joint id of the catalogue, e.g. R_MCP2")
    for kind in ("tender", "swollen"):
        if kind not in findings:
            continue
        vals = pd.to_numeric(findings[kind], errors="coerce")
        bad = (vals.isna() & findings[kind].notna()) | ~(vals.isna() | vals.isin([0, 1]))
        for rec, v in findings.loc[bad, kind].items():
            problems.add(rec, kind, v, "must be 1 (present), 0 (absent) or empty (not assessed)")
    dup = findings.duplicated([*keys, "joint_id"], keep="first")
    for rec, jid in findings.loc[dup, "joint_id"].items():
        problems.add(rec, "joint_id", jid, "joint given more than once for the same visit")
    problems.raise_if_any()
    kinds = [k for k in ("tender", "swollen") if k in findings]
    wide = findings.pivot(index=keys, columns="joint_id", values=kinds)
    wide.columns = [f"{kind}_{jid}" for kind, jid in wide.columns]
    return wide.astype("Float64")


def joint_counts(
    findings: pd.DataFrame,
    sets: tuple[str, ...] = ("tender28", "swollen28", "tender68", "swollen66"),
    not_assessed: NotAssessed = "missing",
) -> pd.DataFrame:
    """Counts (``tjc28``, ``sjc28``, ...) from wide per-joint findings, one row per visit.

    ``not_assessed="missing"`` (default) gives NA when any joint of the set was not assessed;
    ``"assessed_only"`` counts over the assessed joints. Either way ``<count>_n_assessed`` says how
    many joints of the set were examined. Sets whose columns are all absent are skipped.
    """
    problems = ProblemCollector("per-joint findings")
    out = {}
    for name in sets:
        cols = wide_columns(name)
        present = [c for c in cols if c in findings.columns]
        if not present:
            continue
        block = findings.reindex(columns=cols).apply(pd.to_numeric, errors="coerce")
        bad = ~(block.isna() | block.isin([0, 1])) | (
            block.isna() & findings.reindex(columns=cols).notna()
        )
        for col in cols:
            for rec, v in findings.loc[bad[col], col].items():
                problems.add(rec, col, v, "must be 1 (present), 0 (absent) or empty (not assessed)")
        values = block.to_numpy(dtype=float, na_value=np.nan)
        n_assessed = np.sum(~np.isnan(values), axis=1)
        count = np.nansum(values, axis=1)
        if not_assessed == "missing":
            count = np.where(n_assessed == len(cols), count, np.nan)
        column = COUNT_COLUMNS[name]
        out[column] = count
        out[f"{column}_n_assessed"] = n_assessed
    problems.raise_if_any()
    result = pd.DataFrame(out, index=findings.index)
    result.attrs["conventions"] = {"joint_not_assessed": not_assessed}
    return result
