"""Disease-activity indices a strategy may target, with their cut-off sets.

Which measures can be a strategy's index is declared on the measure itself (``t2t_index``, with
the short name decisions use); this module turns each such declaration into what the engine needs:
the cut-off family and the :class:`~rheumetrics.measures.conventions.Conventions` field naming the
default set (the sets live in ``catalogues/cutoffs.toml``), the inputs to name when a value is
missing, display digits and the lowest possible value.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from rheumetrics.measures import DEFAULT, FIELDS, MEASURES, Measure
from rheumetrics.measures.base import t2t_indices
from rheumetrics.measures.conventions import cutoff_family
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


def _lowest(m: Measure) -> float:
    """The index with every input at its lowest allowed value (thresholds below it are refused)."""
    lowest: dict[str, Any] = {name: FIELDS[name].low for name in m.inputs}
    return float(m(**lowest))


@cache
def _spec(m: Measure) -> IndexSpec:
    assert m.t2t_index is not None and m.cutoffs is not None  # register() checks both
    family = cutoff_family(m.cutoffs)
    return IndexSpec(m.name, m.t2t_index, family, m.cutoffs, m.inputs, m.digits, _lowest(m))


class _Indices(Mapping[str, IndexSpec]):
    """The measures declared usable as a treat-to-target index (``Measure.t2t_index``), read from
    the measure registry each time, so a newly registered measure is a usable index at once."""

    def __getitem__(self, name: str) -> IndexSpec:
        m = MEASURES.get(name)
        if m is None or m.t2t_index is None:
            raise KeyError(name)
        return _spec(m)

    def __iter__(self) -> Iterator[str]:
        return (m.name for m in t2t_indices())

    def __len__(self) -> int:
        return len(t2t_indices())


#: Indices usable as a strategy's index: DAS28 (Prevoo ML et al. Arthritis Rheum 1995;38:44-48),
#: SDAI and CDAI (Smolen JS et al. Rheumatology 2003;42:244-257; Aletaha D et al. Arthritis Res
#: Ther 2005;7:R796-R806), ASDAS (Lukas C et al. Ann Rheum Dis 2009;68:18-24).
INDICES: Mapping[str, IndexSpec] = _Indices()


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
