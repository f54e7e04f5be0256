"""RA response criteria between a baseline and a follow-up visit.

- :func:`eular_response`: EULAR good / moderate / none response from DAS28 (or original DAS) values
  (van Gestel 1996).
- :func:`acr_response` and :func:`acr_n`: ACR20/50/70 (Felson 1995) and the continuous ACR-N.
- :func:`sdai_response` / :func:`cdai_response`: minor / moderate / major response by percent
  improvement (Aletaha 2012).
- :func:`cdai_mcid`: minimal clinically important CDAI change by baseline state (Curtis 2015).

Every threshold is compared on snapped values (:func:`rheumetrics.numeric.snap`), never on raw float
differences: DAS28 3.64 -> 2.44 is an improvement of exactly 1.20, which is not > 1.2, so the
response is *moderate*. Inputs are validated against the field
registry; strict mode raises one :class:`~rheumetrics.errors.ValidationError` listing every problem
of both visits, lenient mode returns NA for those pairs.

**Zero baseline (package convention).** Percent improvement from a baseline of 0 is undefined
in the sources. A domain with baseline 0 counts as *not improved*: it meets no ACR-N, SDAI or CDAI
percent threshold, and it enters the continuous ACR-N as 0 %. (So ACR-N values <= 0 do not
distinguish "no change" from "worse from 0"; positive values are unaffected.)
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from rheumetrics.measures import fields
from rheumetrics.measures import haq as _haq  # noqa: F401  (registers the haq_di field)
from rheumetrics.measures.paired import (
    Paired,
    Visit,
    absolute_change,
    columns,
    prepare_paired,
    relative_change,
)
from rheumetrics.numeric import snap

fields.register(
    # Score values as inputs of the criteria below. Upper bounds are the largest values the
    # formulas give with the input ranges of this package (e.g. DAS28-ESR 9.84 with ESR 300 mm/h;
    # DAS 10.23 with RAI 78, SJC44 44, ESR 300; SDAI 176 with CRP 1000 mg/L = 100 mg/dL).
    fields.Field("das28", "DAS28 value, any variant (input to the EULAR response)", "score", 0, 10),
    fields.Field("das", "original DAS value (input to the EULAR response)", "score", 0, 10.3),
    fields.Field("sdai", "SDAI value (input to SDAI response)", "score", 0, 176),
    fields.Field("cdai", "CDAI value (input to CDAI response and MCID)", "score", 0, 76),
)

# --------------------------------------------------------------------------- EULAR response

#: EULAR response labels, worst to best.
EULAR_RESPONSE_LABELS = ("none", "moderate", "good")
#: Improvement thresholds (Δ > 1.2 large, Δ > 0.6 moderate; van Gestel 1996).
EULAR_DELTA_LARGE = 1.2
EULAR_DELTA_SMALL = 0.6
#: Present-value bands of the response table: (good-band upper bound, moderate-band upper bound).
#: DAS28: <= 3.2 and <= 5.1; original DAS: <= 2.4 and <= 3.7 (ARD overview table).
EULAR_PRESENT_BANDS: dict[str, tuple[float, float]] = {"das28": (3.2, 5.1), "das": (2.4, 3.7)}


def eular_response(
    baseline: Any,
    followup: Any,
    *,
    scale: Literal["das28", "das"] = "das28",
    lenient: bool = False,
) -> Any:
    """EULAR response from baseline and follow-up DAS28 (or original DAS) values.

    With Δ = baseline - follow-up and the present (follow-up) value: good = Δ > 1.2 and present
    <= 3.2; moderate = Δ > 1.2 and present > 3.2, or 0.6 < Δ <= 1.2 and present <= 5.1; none
    otherwise (van Gestel 1996). ``scale="das"`` uses the original-DAS
    bands 2.4 / 3.7 with the same Δ thresholds. The same table is applied to any DAS28 variant; the
    ESR and CRP versions are not interchangeable, so compare like with like.

    Parameters
    ----------
    baseline, followup : scalars, arrays or Series (same index) of unrounded or reported values.
    scale : "das28" (default) or "das" (original 44-joint DAS).
    lenient : NA instead of an error for invalid or missing values.

    Returns
    -------
    "none" / "moderate" / "good" (None if not computable) for scalars; an ordered Categorical for
    arrays; a categorical Series for Series.

    Examples
    --------
    >>> eular_response(3.64, 2.44)  # Δ is exactly 1.20, not > 1.2
    'moderate'
    """
    if scale not in EULAR_PRESENT_BANDS:
        raise ValueError(f"scale must be one of {sorted(EULAR_PRESENT_BANDS)}, got {scale!r}")
    p = prepare_paired(
        {scale: baseline}, {scale: followup}, context=f"EULAR response ({scale})", lenient=lenient
    )
    good_max, moderate_max = EULAR_PRESENT_BANDS[scale]
    delta = absolute_change(p.baseline[scale], p.followup[scale])
    present = snap(p.followup[scale])
    large = delta > EULAR_DELTA_LARGE
    small = (delta > EULAR_DELTA_SMALL) & ~large
    good = large & (present <= good_max)
    moderate = (large & (present > good_max)) | (small & (present <= moderate_max))
    codes = np.where(good, 2, np.where(moderate, 1, 0))
    return _recorded(p.category(codes, EULAR_RESPONSE_LABELS, "eular_response"), scale=scale)


# --------------------------------------------------------------------------- ACR20/50/70, ACR-N

#: Joint counts used for the first two ACR domains: 68 tender / 66 swollen (core set) or 28.
ACR_JOINT_COUNTS: dict[str, tuple[str, str]] = {
    "68/66": ("tjc68", "sjc66"),
    "28": ("tjc28", "sjc28"),
}
#: The five other core-set measures (Felson 1993/1995): pain, patient global, physician global,
#: physical function (HAQ-DI) and an acute-phase reactant (given by ``apr``).
ACR_OTHER_DOMAINS = ("pain", "ptga", "phga", "haq_di")

AcrJoints = Literal["68/66", "28"]
AcrApr = Literal["crp_mg_l", "esr_mm_h"]


def _acr(
    baseline: Visit,
    followup: Visit,
    joints: AcrJoints,
    apr: AcrApr,
    apr_uln: float | None,
    lenient: bool,
) -> tuple[Paired, np.ndarray]:
    """Validated pair and the continuous ACR-N (percent), NaN where not computable."""
    if joints not in ACR_JOINT_COUNTS:
        raise ValueError(f"joints must be one of {sorted(ACR_JOINT_COUNTS)}, got {joints!r}")
    if apr not in ("crp_mg_l", "esr_mm_h"):
        raise ValueError(f"apr must be 'crp_mg_l' or 'esr_mm_h', got {apr!r}")
    if apr_uln is not None and not apr_uln > 0:
        raise ValueError(f"apr_uln must be > 0 (in the unit of {apr}), got {apr_uln!r}")
    names = (*ACR_JOINT_COUNTS[joints], *ACR_OTHER_DOMAINS, apr)
    p = prepare_paired(
        columns(baseline, names, "baseline"),
        columns(followup, names, "follow-up"),
        context="ACR response",
        lenient=lenient,
    )
    shape = p.invalid.shape
    pct = {}
    for name in names:
        b = np.broadcast_to(p.baseline[name], shape)
        f = np.broadcast_to(p.followup[name], shape)
        if name == apr and apr_uln is not None:  # (before - after) / (before - ULN)
            b, f = b - apr_uln, f - apr_uln
        with np.errstate(invalid="ignore"):
            ratio = np.where(b > 0, relative_change(b, f), np.nan)
        pct[name] = np.where(np.isnan(ratio), 0.0, snap(100.0 * ratio))  # zero baseline: 0 %
    tender, swollen = ACR_JOINT_COUNTS[joints]
    others = np.median(np.stack([pct[n] for n in (*ACR_OTHER_DOMAINS, apr)]), axis=0)
    acrn = np.minimum(np.minimum(pct[tender], pct[swollen]), others)
    return p, np.where(p.invalid, np.nan, acrn)


def acr_n(
    baseline: Visit,
    followup: Visit,
    *,
    joints: AcrJoints = "68/66",
    apr: AcrApr = "crp_mg_l",
    apr_uln: float | None = None,
    lenient: bool = False,
) -> Any:
    """Continuous ACR-N: the lowest of the percent improvements in tender and swollen joint counts
    and the median percent improvement of the other five core-set measures.

    ACR-N >= N exactly when the ACR-N response criterion (e.g. ACR20) is met, since the median of
    five values is >= N when at least three of them are. Definition of ACR-N from Bathon 2000
    (NEJM 343:1586) and Siegel & Zhen 2005 (Arthritis Rheum 52:1637); the ACR20/50/70 criteria are Felson 1995.

    Parameters
    ----------
    baseline, followup : visits (DataFrames or mappings of column -> scalar/array/Series) with the
        joint counts (``tjc68``/``sjc66``, or ``tjc28``/``sjc28`` with ``joints="28"``), ``pain``,
        ``ptga``, ``phga`` (0-10), ``haq_di`` (0-3) and the acute-phase reactant ``apr``.
    joints : "68/66" (ACR core set, default) or "28".
    apr : "crp_mg_l" (default) or "esr_mm_h".
    apr_uln : None (default, Felson 1995: plain percent change) or the upper limit of normal in the
        APR's unit, for the ULN-adjusted change (before - after) / (before - ULN) seen in one
        calculator; a baseline at or below the ULN then counts as not improved.
    lenient : NA instead of an error when an input is invalid or missing; a patient with a missing
        core-set measure is never classed as a responder.

    Returns
    -------
    float (scalar), float array, or Series named ``acr_n``; 100 is the maximum.
    """
    p, acrn = _acr(baseline, followup, joints, apr, apr_uln, lenient)
    out: Any
    if p.scalar:
        out = float(acrn.reshape(-1)[0])
    elif p.index is not None:
        out = pd.Series(acrn, index=p.index, name="acr_n")
    else:
        out = acrn
    return _recorded(out, joints=joints, apr=apr, apr_uln=apr_uln, zero_baseline="not_improved")


def acr_response(
    baseline: Visit,
    followup: Visit,
    n: float = 20,
    *,
    joints: AcrJoints = "68/66",
    apr: AcrApr = "crp_mg_l",
    apr_uln: float | None = None,
    lenient: bool = False,
) -> Any:
    """ACR-N response (ACR20, ACR50, ACR70): >= n % improvement in tender and in swollen joint
    count, and in at least 3 of the 5 other core-set measures (Felson 1995).

    "Improvement" is (baseline - follow-up) / baseline, compared with n after snapping, so exactly
    n % counts. All seven measures are needed at both visits: a missing one is a problem (strict)
    or gives NA (lenient), never a response. Parameters as in
    :func:`acr_n`.

    Returns
    -------
    bool (None if not computable) for scalars, a nullable boolean Series for Series, a
    1.0 / 0.0 / NaN array for arrays.

    Examples
    --------
    >>> base = dict(tjc68=20, sjc66=10, pain=6, ptga=7, phga=6, haq_di=1.5, crp_mg_l=30)
    >>> follow = dict(tjc68=15, sjc66=8, pain=5, ptga=5, phga=4, haq_di=1.25, crp_mg_l=20)
    >>> acr_response(base, follow, 20), acr_response(base, follow, 50)
    (True, False)
    """
    if not 0 < n <= 100:
        raise ValueError(f"n must be a percentage in (0, 100], got {n!r}")
    p, acrn = _acr(baseline, followup, joints, apr, apr_uln, lenient)
    with np.errstate(invalid="ignore"):
        ok = acrn >= n
    return _recorded(
        p.flag(ok, f"acr{n:g}"),
        joints=joints,
        apr=apr,
        apr_uln=apr_uln,
        zero_baseline="not_improved",
    )


# --------------------------------------------------------------------------- SDAI / CDAI response

#: Percent-improvement response levels for SDAI and CDAI (Aletaha 2012): >= 50 / 70 / 85 %.
INDEX_RESPONSE_LEVELS: tuple[tuple[str, float], ...] = (
    ("minor", 50.0),
    ("moderate", 70.0),
    ("major", 85.0),
)
INDEX_RESPONSE_LABELS = ("none", *(label for label, _ in INDEX_RESPONSE_LEVELS))


def _index_response(index: str, baseline: Any, followup: Any, lenient: bool) -> Any:
    p = prepare_paired(
        {index: baseline}, {index: followup}, context=f"{index.upper()} response", lenient=lenient
    )
    pct = snap(100.0 * relative_change(p.baseline[index], p.followup[index]))  # NaN at baseline 0
    with np.errstate(invalid="ignore"):
        codes = sum((pct >= level).astype(np.int8) for _, level in INDEX_RESPONSE_LEVELS)
    out = p.category(np.asarray(codes), INDEX_RESPONSE_LABELS, f"{index}_response")
    return _recorded(out, zero_baseline="not_improved")


def sdai_response(baseline: Any, followup: Any, *, lenient: bool = False) -> Any:
    """SDAI response by percent improvement: minor >= 50 %, moderate >= 70 %, major >= 85 %
    (Aletaha 2012); below 50 % "none".

    Returns a label (scalar), an ordered Categorical (array) or a categorical Series.

    Examples
    --------
    >>> sdai_response(30.0, 9.0), sdai_response(30.0, 4.5)
    ('moderate', 'major')
    """
    return _index_response("sdai", baseline, followup, lenient)


def cdai_response(baseline: Any, followup: Any, *, lenient: bool = False) -> Any:
    """CDAI response with the SDAI percentages (minor 50 %, moderate 70 %, major 85 %), as is
    common practice (Aletaha 2012). Returns as :func:`sdai_response`.
    """
    return _index_response("cdai", baseline, followup, lenient)


#: CDAI MCID for improvement by baseline state (Curtis 2015): low <= 10, moderate <= 22, high.
CDAI_MCID_IMPROVEMENT: dict[str, float] = {"low": 1.0, "moderate": 6.0, "high": 12.0}
#: CDAI MCID for worsening, defined from low disease activity only (Curtis 2015).
CDAI_MCID_WORSENING_FROM_LOW = 2.0
#: Baseline states use the CDAI bands of Aletaha 2005: low (incl. remission) <= 10 < moderate <= 22.
_CDAI_LOW_MAX, _CDAI_MODERATE_MAX = 10.0, 22.0
CDAI_MCID_LABELS = ("worsened", "not_improved", "improved")


def cdai_mcid(baseline: Any, followup: Any, *, lenient: bool = False) -> Any:
    """Minimal clinically important CDAI change, by baseline disease activity (Curtis 2015).

    Improved: CDAI fell by >= 12 from high (> 22), >= 6 from moderate (> 10 to 22), >= 1 from low
    activity or remission (<= 10). Worsened: rose by >= 2 from low activity or remission; Curtis
    gives no worsening MCID from moderate or high activity, so such rises are "not_improved".

    Returns "worsened" / "not_improved" / "improved" (None if not computable) for scalars; an
    ordered Categorical for arrays; a categorical Series for Series.

    Examples
    --------
    >>> cdai_mcid(30, 18), cdai_mcid(15, 10), cdai_mcid(8, 10)
    ('improved', 'not_improved', 'worsened')
    """
    p = prepare_paired({"cdai": baseline}, {"cdai": followup}, context="CDAI MCID", lenient=lenient)
    b, f = p.baseline["cdai"], p.followup["cdai"]
    start = snap(b)
    low = start <= _CDAI_LOW_MAX
    needed = np.where(
        low,
        CDAI_MCID_IMPROVEMENT["low"],
        np.where(
            start <= _CDAI_MODERATE_MAX,
            CDAI_MCID_IMPROVEMENT["moderate"],
            CDAI_MCID_IMPROVEMENT["high"],
        ),
    )
    improved = absolute_change(b, f) >= needed
    worsened = low & (absolute_change(b, f, increase=True) >= CDAI_MCID_WORSENING_FROM_LOW)
    codes = np.where(improved, 2, np.where(worsened, 0, 1))
    return p.category(codes, CDAI_MCID_LABELS, "cdai_mcid")


def _recorded(result: Any, **conventions: Any) -> Any:
    """Record the conventions used on a Series result (``attrs["conventions"]``)."""
    if isinstance(result, pd.Series):
        result.attrs["conventions"] = dict(conventions)
    return result
