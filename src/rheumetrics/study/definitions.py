"""The checked form of a study file: frozen dataclasses for its cohort source, enrolment rule,
groups, visits, outcomes, characteristics and published figures, and the choices its keys allow.

Read and checked by :func:`rheumetrics.study.model.load_study`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Bundled study files (``rheumetrics report nz_mri``).
BUNDLED = ("nz_mri", "rapport", "axspa_mri_meta", "il6_prediction", "single_arm_mri")
ENROLMENT_SOURCES = ("therapy", "attribute", "all")
GROUP_TESTS = ("median_test", "mann_whitney")
MEDIAN_VARIANTS = ("permutation", "pearson", "exact")
CORRELATIONS = ("spearman", "pearson")
SUMMARIES = ("median_range", "median_iqr", "mean_sd")
META_MEASURES = ("RR", "OR", "MD", "SMD", "ZCOR", "generic")
META_METHODS = ("REML", "DL", "FE")
CONVERSIONS = ("wan", "luo", "hozo")
MD_VARIANCES = ("unpooled", "pooled")
PATIENT_FIELDS = ("sex", "birth_year", "rf", "acpa", "hla_b27", "diagnosis")


@dataclass(frozen=True)
class Import:
    """A file to import into the store with a mapping (``package:`` paths are bundled files)."""

    source: Path
    mapping: Path


@dataclass(frozen=True)
class CohortSource:
    """Where the data come from: a store URL (with imports to build it), or plain files."""

    store: str | None = None
    imports: tuple[Import, ...] = ()
    visits: Path | None = None
    patients: Path | None = None
    therapies: Path | None = None
    imaging: Path | None = None


@dataclass(frozen=True)
class Group:
    """A study group and the rule that enrols a patient into it."""

    id: str
    label: str
    drug_classes: tuple[str, ...] = ()
    drugs: tuple[str, ...] = ()
    value: Any = None


@dataclass(frozen=True)
class Enrolment:
    """How enrolments are found: each group's first therapy start in ``period``, an attribute
    value (index date = first visit), or everyone in one group."""

    source: str
    period: tuple[dt.date, dt.date] | None
    attribute: str | None
    groups: tuple[Group, ...]


@dataclass(frozen=True)
class VisitSpec:
    """A study visit: the stored visit (and imaging) closest to ``target`` days after the
    enrolment date, within ``[window[0], window[1]]`` days."""

    id: str
    label: str
    window: tuple[int, int]
    target: int


@dataclass(frozen=True)
class ImagingSpec:
    system: str
    feature: str
    subset: str
    version: str | None = None


@dataclass(frozen=True)
class Outcome:
    """A clinical score or item (``imaging`` None) or an imaging total, measured at ``visits``."""

    id: str
    label: str
    digits: int
    visits: tuple[str, ...]
    imaging: ImagingSpec | None = None
    column: str | None = None  # clinical: the visit-frame column (default: the id)

    @property
    def is_imaging(self) -> bool:
        return self.imaging is not None


@dataclass(frozen=True)
class Characteristic:
    """A patient characteristic at enrolment: an attribute or patient field, or being on a drug."""

    id: str
    label: str
    kind: str  # "numeric" or "categorical"
    therapy: str | None = None
    digits: int = 1


@dataclass(frozen=True)
class Published:
    """A published figure to reproduce: where it is printed (``table``, ``row``, ``statistic``),
    its ``value`` at ``digits`` decimals, where the report computes it (``at``, a locator such as
    ``scores[visit=V1, outcome=tjc28, group=A].median``; empty when the report does not compute
    it) and whether the example generator was tuned to it (``targeted``)."""

    table: str
    row: str
    statistic: str
    value: float
    digits: int
    at: str = ""
    targeted: bool = False


@dataclass(frozen=True)
class Study:
    """A checked study file."""

    path: Path | None
    title: str
    synthetic: bool
    description: str
    reference: str
    cohort: CohortSource
    enrolment: Enrolment
    visits: tuple[VisitSpec, ...]
    outcomes: tuple[Outcome, ...]
    characteristics: tuple[Characteristic, ...]
    characteristics_unit: str
    analyses: dict[str, dict[str, Any]]
    change: tuple[str, str] | None
    imaging_session: str
    built_to_match: str = ""
    published: tuple[Published, ...] = ()
    conventions: dict[str, Any] = field(default_factory=dict)
    #: The registered analysis each ``analyses`` entry runs, where the entry's key is not its
    #: name: an analysis given a list of option tables runs once per table, keyed ``roc``,
    #: ``roc_2``, ``roc_3`` ... or by the run's ``name`` option (:mod:`rheumetrics.study.runs`)
    kinds: dict[str, str] = field(default_factory=dict)

    def outcome(self, oid: str) -> Outcome:
        return next(o for o in self.outcomes if o.id == oid)

    def kind(self, key: str) -> str:
        """The registered analysis the ``analyses`` entry ``key`` runs (``roc_2`` -> ``roc``; a
        run named ``progression`` -> ``roc``)."""
        return self.kinds.get(key, key)

    @property
    def groups(self) -> tuple[Group, ...]:
        return self.enrolment.groups
