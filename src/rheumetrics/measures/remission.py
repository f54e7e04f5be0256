"""ACR/EULAR remission: Boolean (2011 and the 2022 revision) and index-based.

Boolean remission needs TJC <= 1, SJC <= 1, CRP <= 1 mg/dL (10 mg/L) and PtGA <= 1 (2011, Felson)
or PtGA <= 2 (2022, Studenic) on 0-10. The clinical-practice version leaves out CRP.
Index-based: SDAI <= 3.3 (trials), CDAI <= 2.8
(practice). Joint counts here are the 28-joint counts; the 2011 paper prefers counts including feet
and ankles, which :func:`boolean_remission` accepts through its arguments.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from rheumetrics.measures.base import Measure, prepare, register
from rheumetrics.measures.formulas import AllAtMost
from rheumetrics.numeric import snap

#: PtGA thresholds (0-10) by definition version.
PTGA_MAX = {"2011": 1.0, "2022": 2.0}
#: CRP threshold: 1 mg/dL = 10 mg/L.
CRP_MAX_MG_L = 10.0
_SOURCES = {
    "2011": "Felson DT et al. Arthritis Rheum 2011;63:573-586, doi:10.1002/art.30129, Table 6",
    "2022": "Studenic P et al. Ann Rheum Dis 2023;82:74-80, doi:10.1136/ard-2022-223413",
}


def criteria(
    ptga_max: float, with_crp: bool, counts: tuple[str, str] = ("tjc28", "sjc28")
) -> AllAtMost:
    """The Boolean criteria: each joint count of ``counts`` <= 1, PtGA <= ``ptga_max`` and, when
    ``with_crp``, CRP <= 10 mg/L. Inputs are compared as given (validation makes counts whole
    numbers); only computed values need snapping."""
    limits = ((counts[0], 1.0), (counts[1], 1.0), ("ptga", ptga_max))
    return AllAtMost(limits + ((("crp_mg_l", CRP_MAX_MG_L),) if with_crp else ()))


for _version, _ptga in PTGA_MAX.items():
    register(
        Measure(
            name=f"boolean_remission_{_version}",
            store=True,
            label=f"ACR/EULAR Boolean remission {_version} (clinical trials: with CRP)",
            inputs=("tjc28", "sjc28", "ptga", "crp_mg_l"),
            reference=_SOURCES[_version],
            compute=criteria(_ptga, with_crp=True),
            digits=0,
            kind="flag",
        )
    )
    register(
        Measure(
            name=f"boolean_remission_{_version}_practice",
            label=f"ACR/EULAR Boolean remission {_version}, clinical-practice version (no CRP)",
            inputs=("tjc28", "sjc28", "ptga"),
            reference=_SOURCES[_version]
            + "; practice version without CRP as defined in 2011, applied with the "
            f"{_version} PtGA threshold",
            compute=criteria(_ptga, with_crp=False),
            digits=0,
            kind="flag",
        )
    )


def boolean_remission(
    tjc: Any,
    sjc: Any,
    ptga: Any,
    crp_mg_l: Any = None,
    *,
    version: Literal["2011", "2022"] = "2022",
    joints: Literal[28, 68] = 28,
    lenient: bool = False,
) -> Any:
    """Boolean remission from any joint count; without ``crp_mg_l`` the practice version.

    ``joints=68`` takes the 68 tender / 66 swollen counts, which Felson 2011 prefers.
    """
    tj, sj = ("tjc28", "sjc28") if joints == 28 else ("tjc68", "sjc66")
    inputs = {tj: tjc, sj: sjc, "ptga": ptga}
    if crp_mg_l is not None:
        inputs["crp_mg_l"] = crp_mg_l
    p = prepare(inputs, context=f"Boolean remission {version}", lenient=lenient)
    a = p.arrays
    ok = criteria(PTGA_MAX[version], crp_mg_l is not None, (tj, sj))(None, **a)
    out = np.where(p.invalid, np.nan, ok)
    if p.scalar:
        return None if np.isnan(out) else bool(out)
    if p.index is not None:
        return p.wrap(out, f"boolean_remission_{version}").astype("boolean")
    return out


def index_remission(sdai: Any = None, cdai: Any = None) -> Any:
    """Index-based ACR/EULAR remission: SDAI <= 3.3 (trials) or, given CDAI, CDAI <= 2.8 (practice)."""
    if (sdai is None) == (cdai is None):
        raise TypeError("give exactly one of sdai (clinical trials) or cdai (clinical practice)")
    value, bound = (sdai, 3.3) if sdai is not None else (cdai, 2.8)
    x = snap(np.asarray(value, dtype=float))
    out = np.where(np.isnan(x), np.nan, (x <= bound).astype(float))
    if np.ndim(out) == 0:
        return None if np.isnan(out) else bool(out)
    return out
