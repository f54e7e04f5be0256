"""Disease-activity indices a strategy may target, with their cut-off sets.

The cut-offs themselves live in the shared catalogue (``catalogues/cutoffs.toml``, read by
:mod:`rheumetrics.measures.cutoffs`); this module only says which indices can be a treat-to-target
index, which :class:`~rheumetrics.measures.conventions.Conventions` field names each one's default
cut-off set, and which inputs to name when a value is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

from rheumetrics.measures import DEFAULT, FIELDS, MEASURES
from rheumetrics.measures.cutoffs import CutoffSet, cutoff_set


@dataclass(frozen=True)
class IndexSpec:
    """A treat-to-target index: label, cut-off family and default set, inputs, display digits."""

    name: str
    label: str
    family: str
    conventions_field: str
    inputs: tuple[str, ...]
    digits: int
    low: float  # lowest possible value, for validating thresholds

    def default_cutoffs(self) -> CutoffSet:
        return cutoff_set(getattr(DEFAULT, self.conventions_field), family=self.family)


def _spec(
    name: str, label: str, family: str, field: str, low: float, fallback: tuple[str, ...]
) -> IndexSpec:
    measure = MEASURES.get(name)
    inputs = measure.inputs if measure is not None else fallback
    digits = measure.digits if measure is not None else 2
    return IndexSpec(name, label, family, field, inputs, digits, low)


#: Indices usable as a strategy's index (clinical-measures.md §2, §5, §10.1).
INDICES: dict[str, IndexSpec] = {
    s.name: s
    for s in (
        _spec("das28_esr", "DAS28-ESR", "das28", "das28_esr_cutoffs", 0.0, ()),
        _spec("das28_crp", "DAS28-CRP", "das28", "das28_crp_cutoffs", 0.96, ()),
        _spec("das28_esr_3v", "DAS28-ESR (3 variables)", "das28", "das28_esr_cutoffs", 0.0, ()),
        _spec("das28_crp_3v", "DAS28-CRP (3 variables)", "das28", "das28_crp_cutoffs", 1.15, ()),
        _spec("sdai", "SDAI", "sdai", "sdai_cutoffs", 0.0, ()),
        _spec("cdai", "CDAI", "cdai", "cdai_cutoffs", 0.0, ()),
        _spec("asdas_crp", "ASDAS-CRP", "asdas", "asdas_cutoffs", 0.0, ("crp_mg_l",)),
        _spec("asdas_esr", "ASDAS-ESR", "asdas", "asdas_cutoffs", 0.0, ("esr_mm_h",)),
    )
}


def input_label(column: str) -> str:
    """Readable name of an input column for missing-data messages."""
    f = FIELDS.get(column)
    return f"{f.label} ({column})" if f is not None else column


def target_bound(cs: CutoffSet, level: str) -> tuple[float, bool]:
    """Threshold and inclusiveness of a target level in a cut-off set.

    ``remission`` is the first band (e.g. DAS28 < 2.6, SDAI <= 3.3, ASDAS inactive < 1.3);
    ``low_activity`` is the first two bands (DAS28 <= 3.2, SDAI <= 11, ASDAS < 2.1).
    """
    position = {"remission": 0, "low_activity": 1}[level]
    return cs.bounds[position], cs.lower_gets_bound[position]
