"""Every choice that can change a score or a category, as one named, recorded object.

Sources disagree on cut-offs, coefficients, floors and rounding. Each
disagreement is a field here with a documented default; :meth:`Conventions.as_dict` is stored with
every result (``DataFrame.attrs["conventions"]``) so a published analysis can be reproduced exactly.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

from rheumetrics import __version__
from rheumetrics.measures.cutoffs import cutoff_set
from rheumetrics.numeric import RoundingMode

AsdasCoefficients = Literal["lukas2009", "rounded"]
AsasPainItem = Literal["total_back_pain", "nocturnal_back_pain", "basdai_q2"]


@dataclass(frozen=True)
class Conventions:
    """Conventions used to score; defaults follow the sources named in each field's comment."""

    #: DAS28-ESR bands: EULAR/das-score.nl, low <= 3.2. ``das28_acr2012`` makes 3.2 moderate.
    das28_esr_cutoffs: str = "das28_eular"
    #: DAS28-CRP bands: no ACR/EULAR body adopted CRP-specific cut-offs, so EULAR by default;
    #: ``das28crp_fleischmann`` (2.4/2.9/4.6) and ``das28crp_inoue`` (2.3/2.7/4.1) are selectable.
    das28_crp_cutoffs: str = "das28_eular"
    #: Which 100-mm VAS fed ``gh_mm``: "general_health" or "patient_global". Recorded only.
    das28_global_item: Literal["general_health", "patient_global"] = "general_health"
    #: Original DAS coefficients: "unrounded" (0.53938/0.06465/0.330/0.00722, 3v constant 0.224)
    #: or "rounded" (das-score.nl: 0.54/0.065/0.33/0.0072, 3v constant 0.22).
    das_coefficients: Literal["unrounded", "rounded"] = "unrounded"
    das_cutoffs: str = "das_eular"
    sdai_cutoffs: str = "sdai_aletaha2005"
    cdai_cutoffs: str = "cdai_aletaha2005"
    #: HAQ-DI: minimum categories answered (Stanford 6; CLINHAQ/awell 7).
    haq_min_categories: int = 6
    #: HAQ-DI "standard" (aids/devices or help raise a category to 2) or "alternative" (ignored).
    haq_method: Literal["standard", "alternative"] = "standard"
    #: Whether a bathtub seat counts as a hygiene aid (Stanford form: yes; CLINHAQ/awell: no).
    haq_bathtub_seat_is_hygiene_aid: bool = True
    rapid3_cutoffs: str = "rapid3_pincus"
    #: ASDAS coefficients: "lukas2009" (published 3-decimal) or "rounded" (2-decimal).
    asdas_coefficients: AsdasCoefficients = "lukas2009"
    #: ASDAS-CRP low-CRP rule (Machado 2015): CRP below this many mg/L is replaced by it.
    #: None disables the floor (as the Cambio GDL rules do), which is not recommended.
    asdas_crp_floor_mg_l: float | None = 2.0
    #: ASDAS state names: ASAS 2018 ("low") or Machado 2011 ("moderate") for 1.3 to < 2.1.
    asdas_cutoffs: str = "asdas_2018"
    basdai_cutoffs: str = "basdai_active"
    #: BASDAI50 absolute arm: response is >= 50 % *or* a fall of at least this many units
    #: (0-10). The 50 % arm is the published criterion; the 2-unit arm is ASAS anti-TNF usage. None
    #: gives the 50 % rule alone.
    basdai50_units: float | None = 2.0
    #: ASAS20/40 and partial-remission pain domain: "total_back_pain" (ASAS
    #: handbook, default), "nocturnal_back_pain" (used by some trials) or "basdai_q2".
    asas_pain_item: AsasPainItem = "total_back_pain"
    #: ASAS20 worsening from a baseline of 0, where the relative (>= 20 %) arm is undefined
    #: (a package decision): "absolute_only" judges it on the >= 1 unit arm alone;
    #: "never" counts no worsening from 0.
    asas_worsening_from_zero: Literal["absolute_only", "never"] = "absolute_only"
    #: ASAS 5/6 CRP domain: "plain" percent change (Brandt 2004, default) or
    #: "uln_adjusted" (baseline - follow-up) / (baseline - ULN), which needs asas_crp_uln_mg_l.
    asas_crp_change: Literal["plain", "uln_adjusted"] = "plain"
    #: Upper limit of normal CRP of the laboratory, mg/L (only for asas_crp_change="uln_adjusted").
    asas_crp_uln_mg_l: float | None = None
    #: ASAS partial remission bound: False = each domain <= 2 (ASAS handbook, Anderson
    #: 2001: "not above 20/100"); True = < 2 (Machado 2011 table footnote).
    asas_partial_remission_below_2: bool = False
    dapsa_cutoffs: str = "dapsa_schoels"
    cdapsa_cutoffs: str = "cdapsa_schoels"
    #: Display rounding only; categories are always decided on unrounded values.
    rounding: RoundingMode = RoundingMode.HALF_UP

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name.endswith("_cutoffs"):
                cutoff_set(getattr(self, f.name), family=_FAMILY[f.name])
        n_min = self.haq_min_categories
        if isinstance(n_min, bool) or not isinstance(n_min, int) or n_min not in range(1, 9):
            raise ValueError(
                f"haq_min_categories must be an integer between 1 and 8, not {n_min!r}"
            )
        for name in ("asdas_crp_floor_mg_l", "basdai50_units", "asas_crp_uln_mg_l"):
            value = getattr(self, name)
            if value is not None and not _finite_non_negative(value):
                raise ValueError(f"{name} must be a finite number >= 0 or None, not {value!r}")
        for name in ("haq_bathtub_seat_is_hygiene_aid", "asas_partial_remission_below_2"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, not {getattr(self, name)!r}")
        if self.asas_crp_change == "uln_adjusted" and not (self.asas_crp_uln_mg_l or 0) > 0:
            raise ValueError("asas_crp_change='uln_adjusted' needs asas_crp_uln_mg_l > 0")
        object.__setattr__(self, "rounding", RoundingMode(self.rounding))

    def with_(self, **changes: Any) -> Conventions:
        """A copy with some conventions changed."""
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """The conventions and the package version, for recording with a result."""
        d = asdict(self)
        d["rounding"] = str(self.rounding)
        d["rheumetrics_version"] = __version__
        return d


def _finite_non_negative(value: Any) -> bool:
    """A real number (not a boolean) that is finite and >= 0."""
    real = isinstance(value, int | float) and not isinstance(value, bool)
    return real and math.isfinite(value) and value >= 0


def cutoff_family(field: str) -> str:
    """The cut-off family a :class:`Conventions` field chooses a set from.

    >>> cutoff_family("das28_crp_cutoffs")
    'das28'
    """
    return _FAMILY[field]


_FAMILY = {
    "das28_esr_cutoffs": "das28",
    "das28_crp_cutoffs": "das28",
    "das_cutoffs": "das",
    "sdai_cutoffs": "sdai",
    "cdai_cutoffs": "cdai",
    "rapid3_cutoffs": "rapid3",
    "asdas_cutoffs": "asdas",
    "basdai_cutoffs": "basdai",
    "dapsa_cutoffs": "dapsa",
    "cdapsa_cutoffs": "cdapsa",
}

DEFAULT = Conventions()

#: Conventions read by no formula that record what an input column holds, by input column.
RECORDED_BY_INPUT: dict[str, tuple[str, ...]] = {"gh_mm": ("das28_global_item",)}
