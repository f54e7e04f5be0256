"""Study files: a short TOML description of a clinical-versus-imaging study, checked as a whole.

A study file names the cohort (a store URL, optionally built from bundled files, or plain files),
how patients are enrolled into groups (a therapy start, a patient attribute, or everyone), the
visits with their windows around the enrolment date, the clinical and imaging outcomes, the
patient characteristics and confounders, and which analyses to run. ``docs/reports.md`` documents
every key; ``rheumetrics/studies/`` holds worked examples.

:func:`load_study` reports *every* problem of a study file at once (a :class:`ValidationError`
naming the key path, the value and what is allowed): an unknown outcome, a group without a rule,
a visit window that ends before it starts, an analysis that names an undefined outcome, ...
A group that turns out empty in the data is reported when the study is run.
"""

from __future__ import annotations

import datetime as dt
import functools
import tomllib
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from rheumetrics.errors import ProblemCollector
from rheumetrics.imaging import sites, systems, totals
from rheumetrics.measures import FIELDS, MEASURES
from rheumetrics.store.items import items
from rheumetrics.store.models import DRUG_CLASSES

#: Bundled study files (``rheumetrics report nz_mri``).
BUNDLED = ("nz_mri", "rapport", "axspa_mri_meta", "il6_prediction", "single_arm_mri")
ENROLMENT_SOURCES = ("therapy", "attribute", "all")
GROUP_TESTS = ("median_test", "mann_whitney")
MEDIAN_VARIANTS = ("permutation", "pearson", "exact")
CORRELATIONS = ("spearman", "pearson")
SUMMARIES = ("median_range", "median_iqr", "mean_sd")
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

    def outcome(self, oid: str) -> Outcome:
        return next(o for o in self.outcomes if o.id == oid)

    @property
    def groups(self) -> tuple[Group, ...]:
        return self.enrolment.groups


# -- loading ----------------------------------------------------------------------------------


def bundled_path(name: str) -> Path:
    """Path of a bundled study file by name (``"nz_mri"``, ``"rapport"``)."""
    return Path(str(files("rheumetrics") / "studies" / f"{name}.toml"))


def resolve_study(spec: str | Path) -> Path:
    """A study file path, or the bundled study of that name."""
    path = Path(spec)
    if not path.exists() and str(spec) in BUNDLED:
        return bundled_path(str(spec))
    return path


def load_study(spec: str | Path) -> Study:
    """Read and check a study file (or a bundled study by name); every problem is reported."""
    path = resolve_study(spec)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        problems = ProblemCollector("invalid study file")
        problems.add(
            "(file)", "path", str(spec), f"cannot read: {exc}; bundled: {', '.join(BUNDLED)}"
        )
        problems.raise_if_any()
        raise AssertionError("unreachable") from exc
    return parse_study(text, path)


def _resolve_path(value: str, base: Path) -> Path:
    if value.startswith("package:"):
        return Path(str(files("rheumetrics") / value.removeprefix("package:")))
    p = Path(value)
    return p if p.is_absolute() else base / p


class _Check:
    """Collects problems with the key path they belong to."""

    def __init__(self, source: str) -> None:
        self.problems = ProblemCollector("invalid study file")
        self.source = source

    def add(self, where: str, key: str, value: Any, rule: str) -> None:
        self.problems.add(where, key, value, rule, self.source)

    def keys(
        self, where: str, table: Any, allowed: tuple[str, ...] | set[str] | frozenset[str]
    ) -> dict[str, Any]:
        if not isinstance(table, dict):
            self.add(where, where, table, "must be a table")
            return {}
        for key in table:
            if key not in allowed:
                self.add(
                    where, key, table[key], f"unknown key; allowed: {', '.join(sorted(allowed))}"
                )
        return table

    def text(self, where: str, table: dict[str, Any], key: str, default: str | None = None) -> str:
        value = table.get(key, default)
        if not isinstance(value, str) or (value == "" and default is None):
            self.add(where, key, value, "must be a non-empty string")
            return default or ""
        return value

    def strings(self, where: str, table: dict[str, Any], key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.add(where, key, value, "must be a string or a list of strings")
            return ()
        return tuple(value)


def _known_clinical() -> set[str]:
    return set(MEASURES) | set(items()) | set(FIELDS)


@functools.cache  # the imaging catalogue is fixed: built once, not for every study file
def _imaging_features() -> dict[str, set[str]]:
    """Scoring system -> features it can give (site features and derived totals)."""
    cat = sites()
    known: dict[str, set[str]] = {}
    for system, feature in zip(cat["system"], cat["feature"], strict=True):
        known.setdefault(system, set()).add(feature)
    for total in totals().values():
        known.setdefault(total.system, set()).add(total.feature)
    return known


def _imaging_subsets(system: str) -> set[str]:
    specs = systems()
    parts = system.split("+")
    sets = [set(specs[p].subsets) for p in parts if p in specs]
    return set.intersection(*sets) if sets else set()


_TOP = {"study", "cohort", "enrolment", "groups", "visits", "outcomes", "characteristics",
        "analyses", "imaging", "published", "conventions"}  # fmt: skip


def parse_study(text: str, path: Path | None = None) -> Study:
    """Check a study given as TOML text; relative paths resolve against ``path``'s folder."""
    c = _Check(str(path) if path else "(study)")
    base = path.parent if path else Path.cwd()
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        c.add("(file)", "toml", None, f"not valid TOML: {exc}")
        c.problems.raise_if_any()
        raise AssertionError("unreachable") from exc
    c.keys("(top)", doc, _TOP)

    head = c.keys("study", doc.get("study", {}),
                  {"title", "synthetic", "description", "reference", "built_to_match"})  # fmt: skip
    from rheumetrics.study.registry import analyses as registered

    asked = doc.get("analyses", {})
    cohort_free = (
        isinstance(asked, dict)
        and bool(asked)
        and all(
            k in registered() and not registered()[k].needs_cohort for k in asked if k != "change"
        )
    )
    title = c.text("study", head, "title")
    synthetic = head.get("synthetic", False)
    if not isinstance(synthetic, bool):
        c.add("study", "synthetic", synthetic, "must be true or false")

    if cohort_free and "cohort" not in doc:  # a meta-analysis or planning study: no patients
        cohort = CohortSource()
        enrolment = Enrolment("all", None, None, (Group("all", "All"),))
        visits: tuple[VisitSpec, ...] = ()
        outcomes: tuple[Outcome, ...] = ()
    else:
        cohort = _cohort(c, doc.get("cohort"), base)
        enrolment = _enrolment(c, doc.get("enrolment", {}), doc.get("groups"))
        visits = _visits(c, doc.get("visits"))
        outcomes = _outcomes(c, doc.get("outcomes"), [v.id for v in visits])
    visit_ids = [v.id for v in visits]
    chars_raw = c.keys("characteristics", doc.get("characteristics", {}), {"unit", "variables"})
    unit = chars_raw.get("unit", "patient")
    if unit not in ("patient", "enrolment"):
        c.add("characteristics", "unit", unit, "must be 'patient' (first enrolment) or 'enrolment'")
    characteristics = _characteristics(c, chars_raw.get("variables", []))
    imaging_raw = c.keys("imaging", doc.get("imaging", {}), {"session"})
    session = str(imaging_raw.get("session", "1"))

    analyses_raw = c.keys("analyses", doc.get("analyses", {}), {*registered(), "change"})
    published = _published(c, doc.get("published", []))
    conventions = c.keys("conventions", doc.get("conventions", {}), _convention_names())
    if conventions:
        from rheumetrics.measures.conventions import Conventions

        try:
            Conventions().with_(
                **{k: v for k, v in conventions.items() if k in _convention_names()}
            )
        except (ValueError, TypeError, KeyError) as exc:
            c.add(
                "conventions", "conventions", conventions, f"not a valid set of conventions: {exc}"
            )
    change = None
    if "change" in analyses_raw:
        pair = analyses_raw["change"]
        if not (
            isinstance(pair, list) and len(pair) == 2 and all(v in visit_ids for v in pair)
        ) or (isinstance(pair, list) and len(pair) == 2 and pair[0] == pair[1]):
            c.add(
                "analyses",
                "change",
                pair,
                f"must be two different visits of: {', '.join(visit_ids)}",
            )
        else:
            change = (pair[0], pair[1])
    elif len(visit_ids) >= 2:
        change = (visit_ids[0], visit_ids[-1])
    study = Study(
        path=path,
        title=title,
        synthetic=bool(synthetic),
        description=str(head.get("description", "")),
        reference=str(head.get("reference", "")),
        cohort=cohort,
        enrolment=enrolment,
        visits=visits,
        outcomes=outcomes,
        characteristics=characteristics,
        characteristics_unit=str(unit),
        analyses={k: v for k, v in analyses_raw.items() if k != "change"},
        change=change,
        imaging_session=session,
        built_to_match=str(head.get("built_to_match", "")),
        published=published,
        conventions=dict(conventions),
    )
    _check_analyses(c, study, base)
    c.problems.raise_if_any()
    return study


def _cohort(c: _Check, raw: Any, base: Path) -> CohortSource:
    table = c.keys("cohort", raw if raw is not None else {}, {"store", "imports", "visits", "patients",
                                                             "therapies", "imaging"})  # fmt: skip
    if raw is None:
        c.add(
            "(top)", "cohort", None, "a [cohort] table is required (store = URL, or visits = file)"
        )
    store = table.get("store")
    file_keys = [k for k in ("visits", "patients", "therapies", "imaging") if k in table]
    if store is not None and file_keys:
        c.add(
            "cohort",
            "store",
            store,
            f"give either store or files ({', '.join(file_keys)}), not both",
        )
    if raw is not None and store is None and "visits" not in table:
        c.add("cohort", "visits", None, "give store = URL or visits = file")
    if store is not None and not isinstance(store, str):
        c.add("cohort", "store", store, "must be a database URL such as sqlite:///cohort.sqlite")
    imports: list[Import] = []
    raw_imports = table.get("imports", [])
    if not isinstance(raw_imports, list):
        c.add("cohort", "imports", raw_imports, "must be a list of { source, mapping } tables")
        raw_imports = []
    for k, entry in enumerate(raw_imports):
        where = f"cohort.imports[{k}]"
        entry = c.keys(where, entry, {"source", "mapping"})
        src, mapping = c.text(where, entry, "source"), c.text(where, entry, "mapping")
        if src and mapping:
            paths = (_resolve_path(src, base), _resolve_path(mapping, base))
            for key, p in zip(("source", "mapping"), paths, strict=True):
                if not p.exists():
                    c.add(where, key, str(p), "file not found")
            imports.append(Import(*paths))
    if imports and store is None:
        c.add("cohort", "imports", "...", "imports need store = URL to import into")
    found: dict[str, Path] = {}
    for key in file_keys:
        value = table[key]
        if not isinstance(value, str):
            c.add("cohort", key, value, "must be a file path")
            continue
        found[key] = _resolve_path(value, base)
        if not found[key].exists():
            c.add("cohort", key, str(found[key]), "file not found")
    return CohortSource(
        store=store if isinstance(store, str) else None, imports=tuple(imports), **found
    )


def _enrolment(c: _Check, raw: Any, groups_raw: Any) -> Enrolment:
    table = c.keys("enrolment", raw, {"from", "period", "attribute"})
    source = table.get("from", "all")
    if source not in ENROLMENT_SOURCES:
        c.add("enrolment", "from", source, f"must be one of {', '.join(ENROLMENT_SOURCES)}")
    period = None
    if "period" in table:
        p = table["period"]
        if (isinstance(p, list) and len(p) == 2 and all(isinstance(d, dt.date) for d in p)
                and p[0] <= p[1]):  # fmt: skip
            period = (p[0], p[1])
        else:
            c.add(
                "enrolment",
                "period",
                p,
                "must be [first date, last date] (TOML dates, first <= last)",
            )
    attribute = table.get("attribute")
    if source == "attribute" and not isinstance(attribute, str):
        c.add(
            "enrolment", "attribute", attribute, "from = 'attribute' needs attribute = column name"
        )
    groups: list[Group] = []
    if groups_raw is None:
        groups_raw = [{"id": "all", "label": "All patients"}] if source == "all" else []
    if not isinstance(groups_raw, list) or not groups_raw:
        c.add("groups", "groups", groups_raw, "define at least one [[groups]] table")
        groups_raw = []
    seen: set[str] = set()
    for k, g in enumerate(groups_raw):
        where = f"groups[{k}]"
        g = c.keys(where, g, {"id", "label", "drug_class", "drugs", "value"})
        gid = c.text(where, g, "id")
        if gid in seen:
            c.add(where, "id", gid, "group ids must be unique")
        seen.add(gid)
        classes = c.strings(where, g, "drug_class")
        for cls in classes:
            if cls not in DRUG_CLASSES:
                c.add(
                    where,
                    "drug_class",
                    cls,
                    f"unknown drug class; known: {', '.join(DRUG_CLASSES)}",
                )
        drugs = tuple(d.lower() for d in c.strings(where, g, "drugs"))
        if source == "therapy" and not (classes or drugs):
            c.add(where, "drugs", None, "a therapy-enrolled group needs drug_class or drugs")
        if source == "attribute" and "value" not in g:
            c.add(
                where,
                "value",
                None,
                "an attribute-enrolled group needs value = the attribute's value",
            )
        if source == "all" and len(groups_raw) > 1:
            c.add(where, "id", gid, "from = 'all' has a single group")
        groups.append(Group(gid, str(g.get("label", gid)), classes, drugs, g.get("value")))
    return Enrolment(
        str(source), period, attribute if isinstance(attribute, str) else None, tuple(groups)
    )


def _visits(c: _Check, raw: Any) -> tuple[VisitSpec, ...]:
    if not isinstance(raw, list) or not raw:
        c.add(
            "visits", "visits", raw, "define at least one [[visits]] table (the first is baseline)"
        )
        return ()
    out = []
    seen: set[str] = set()
    for k, v in enumerate(raw):
        where = f"visits[{k}]"
        v = c.keys(where, v, {"id", "label", "days", "target"})
        vid = c.text(where, v, "id")
        if vid in seen:
            c.add(where, "id", vid, "visit ids must be unique")
        seen.add(vid)
        days = v.get("days")
        if not (isinstance(days, list) and len(days) == 2 and all(isinstance(d, int) for d in days)
                and days[0] <= days[1]):  # fmt: skip
            c.add(
                where, "days", days, "must be [first day, last day] after enrolment, first <= last"
            )
            days = [0, 0]
        target = v.get("target", (days[0] + days[1]) // 2 if k else 0)
        if not isinstance(target, int) or not days[0] <= target <= days[1]:
            c.add(where, "target", target, f"must be a whole number of days within {days}")
            target = days[0]
        out.append(VisitSpec(vid, str(v.get("label", vid)), (days[0], days[1]), int(target)))
    return tuple(out)


def _outcomes(c: _Check, raw: Any, visit_ids: list[str]) -> tuple[Outcome, ...]:
    if not isinstance(raw, list) or not raw:
        c.add("outcomes", "outcomes", raw, "define at least one [[outcomes]] table")
        return ()
    clinical = _known_clinical()
    features = _imaging_features()
    out = []
    seen: set[str] = set()
    for k, o in enumerate(raw):
        where = f"outcomes[{k}]"
        o = c.keys(where, o, {"id", "label", "digits", "visits", "imaging", "column"})
        oid = c.text(where, o, "id")
        if oid in seen:
            c.add(where, "id", oid, "outcome ids must be unique")
        seen.add(oid)
        if "@" in oid or oid.startswith("change:"):
            c.add(where, "id", oid, "must not contain '@' or start with 'change:'")
        digits = o.get("digits", 1)
        if not isinstance(digits, int) or not 0 <= digits <= 4:
            c.add(where, "digits", digits, "must be a whole number 0-4")
            digits = 1
        visits = c.strings(where, o, "visits") or tuple(visit_ids)
        for vid in visits:
            if vid not in visit_ids:
                c.add(where, "visits", vid, f"unknown visit; defined: {', '.join(visit_ids)}")
        imaging = None
        column = None
        if "imaging" in o:
            spec = c.keys(
                f"{where}.imaging", o["imaging"], {"system", "feature", "subset", "version"}
            )
            system = c.text(f"{where}.imaging", spec, "system")
            feature = c.text(f"{where}.imaging", spec, "feature")
            subset = str(spec.get("subset", "all"))
            if system and system not in features:
                c.add(f"{where}.imaging", "system", system,
                      f"unknown imaging scoring system; known: {', '.join(sorted(features))}")  # fmt: skip
            elif system and feature not in features[system]:
                c.add(f"{where}.imaging", "feature", feature,
                      f"unknown feature of {system}; known: {', '.join(sorted(features[system]))}")  # fmt: skip
            elif system and subset not in _imaging_subsets(system):
                c.add(f"{where}.imaging", "subset", subset,
                      f"unknown site subset of {system}; known: {', '.join(sorted(_imaging_subsets(system)))}")  # fmt: skip
            version = spec.get("version")
            imaging = ImagingSpec(
                system, feature, subset, str(version) if version is not None else None
            )
        else:
            column = str(o.get("column", oid))
            if column not in clinical:
                c.add(where, "column" if "column" in o else "id", column,
                      "unknown clinical outcome: not a measure or stored item (see `rheumetrics "
                      "conventions`, docs/measures.md); give imaging = {...} for an imaging score")  # fmt: skip
        out.append(Outcome(oid, str(o.get("label", oid)), int(digits), visits, imaging, column))
    return tuple(out)


def _characteristics(c: _Check, raw: Any) -> tuple[Characteristic, ...]:
    if not isinstance(raw, list):
        c.add("characteristics", "variables", raw, "must be a list of { id, label, type } tables")
        return ()
    out = []
    for k, v in enumerate(raw):
        where = f"characteristics.variables[{k}]"
        v = c.keys(where, v, {"id", "label", "type", "therapy", "digits"})
        vid = c.text(where, v, "id")
        kind = v.get("type", "categorical" if "therapy" in v else "numeric")
        if kind not in ("numeric", "categorical"):
            c.add(where, "type", kind, "must be 'numeric' or 'categorical'")
        therapy = v.get("therapy")
        if therapy is not None and not isinstance(therapy, str):
            c.add(where, "therapy", therapy, "must be a drug name")
        digits = v.get("digits", 1)
        out.append(Characteristic(vid, str(v.get("label", vid)), str(kind),
                                  therapy.lower() if isinstance(therapy, str) else None, int(digits)))  # fmt: skip
    return tuple(out)


# -- analyses -------------------------------------------------------------------------------------


def variable_names(study: Study) -> set[str]:
    """Names usable in analyses: ``outcome@visit``, ``change:outcome``, ``group`` and the
    characteristics (plus patient attributes, checked against the data when run)."""
    names = {"group"}
    for o in study.outcomes:
        names |= {f"{o.id}@{v}" for v in o.visits}
        if study.change and all(v in o.visits for v in study.change):
            names.add(f"change:{o.id}")
        order = [v.id for v in study.visits if v.id in o.visits]
        names |= {f"change:{o.id}@{a}-{b}" for i, a in enumerate(order) for b in order[i + 1 :]}
    names |= {ch.id for ch in study.characteristics}
    return names


def _check_analyses(c: _Check, study: Study, base: Path) -> None:
    outcome_ids = {o.id for o in study.outcomes}
    names = variable_names(study)
    for name, spec in list(study.analyses.items()):
        where = f"analyses.{name}"
        if isinstance(spec, bool):
            if spec:
                study.analyses[name] = {}
            else:
                del study.analyses[name]
            continue
        from rheumetrics.study.registry import analyses as registered

        if name not in registered():
            continue  # reported as an unknown key of [analyses]
        entry = registered()[name]
        spec = c.keys(where, spec, entry.options)
        for key in ("outcomes",):
            for oid in c.strings(where, spec, key) if key in spec else ():
                if oid not in outcome_ids:
                    c.add(
                        where,
                        key,
                        oid,
                        f"unknown outcome; defined: {', '.join(sorted(outcome_ids))}",
                    )
        if entry.needs_change and not study.change:
            c.add(where, name, None, "needs two visits (a change from the first to the last)")
        if "test" in spec and spec["test"] not in GROUP_TESTS:
            c.add(where, "test", spec["test"], f"must be one of {', '.join(GROUP_TESTS)}")
        if "variant" in spec and spec["variant"] not in MEDIAN_VARIANTS:
            c.add(where, "variant", spec["variant"], f"must be one of {', '.join(MEDIAN_VARIANTS)}")
        if "summary" in spec and spec["summary"] not in SUMMARIES:
            c.add(where, "summary", spec["summary"], f"must be one of {', '.join(SUMMARIES)}")
        if name in ("correlation", "scatter"):
            for key in ("x", "y"):
                for oid in c.strings(where, spec, key):
                    if oid not in outcome_ids:
                        c.add(
                            where,
                            key,
                            oid,
                            f"unknown outcome; defined: {', '.join(sorted(outcome_ids))}",
                        )
            if spec.get("method", "spearman") not in CORRELATIONS:
                c.add(
                    where, "method", spec.get("method"), f"must be one of {', '.join(CORRELATIONS)}"
                )
        if name == "regression":
            for key in ("outcome", "predictors"):
                if key not in spec:
                    c.add(where, key, None, "required")
            for key in ("outcome", "predictors", "confounders"):
                for var in c.strings(where, spec, key):
                    if var not in names and ("@" in var or var.startswith("change:")):
                        c.add(where, key, var, "unknown variable; use outcome@visit, change:outcome, group, "
                              "or a characteristic / patient attribute")  # fmt: skip
        if name == "sample_size":
            _check_sample_size(c, where, spec.get("calculations"))
        if name == "paired":
            visit_ids = [v.id for v in study.visits]
            for k, pair in enumerate(spec.get("intervals", [])):
                if not (isinstance(pair, list) and len(pair) == 2 and all(v in visit_ids for v in pair)
                        and visit_ids.index(pair[0]) < visit_ids.index(pair[1])):  # fmt: skip
                    c.add(
                        where,
                        f"intervals[{k}]",
                        pair,
                        f"must be [earlier, later] visits of: {', '.join(visit_ids)}",
                    )
            if spec.get("zero_method", "pratt") not in ("pratt", "wilcox"):
                c.add(where, "zero_method", spec.get("zero_method"), "must be 'pratt' or 'wilcox'")
        if name == "association":
            pairs = spec.get("pairs")
            if not isinstance(pairs, list) or not pairs:
                c.add(where, "pairs", pairs, "must be a list of [x, y] variable pairs")
                pairs = []
            for k, pair in enumerate(pairs):
                if not (isinstance(pair, list) and len(pair) == 2):
                    c.add(where, f"pairs[{k}]", pair, "must be [x, y]")
                    continue
                for var in pair:
                    if var not in names and ("@" in var or var.startswith("change:")):
                        c.add(where, f"pairs[{k}]", var, "unknown variable; use outcome@visit, "
                              "change:outcome or change:outcome@from-to")  # fmt: skip
            if spec.get("method", "spearman") not in CORRELATIONS:
                c.add(
                    where, "method", spec.get("method"), f"must be one of {', '.join(CORRELATIONS)}"
                )
        if name == "reliability":
            conf = spec.get("confidence", 0.95)
            if not isinstance(conf, float) or not 0 < conf < 1:
                c.add(where, "confidence", conf, "must be a number between 0 and 1, e.g. 0.95")
            target = spec.get("outcome")
            if target not in outcome_ids or not study.outcome(str(target)).is_imaging:
                c.add(where, "outcome", target, "must name an imaging outcome")
        if name == "response" and spec.get("outcome") not in outcome_ids:
            c.add(where, "outcome", spec.get("outcome"), "must name a DAS28 outcome of the study")
        if name == "paired_proportions":
            from rheumetrics.study.analyses import parse_rule

            for key in ("first", "second"):
                rule = spec.get(key)
                if not isinstance(rule, dict) or "variable" not in rule:
                    c.add(where, key, rule, "must be { variable = ..., positive = '> 0.5' }")
                    continue
                try:
                    parse_rule(rule.get("positive", ""))
                except ValueError:
                    c.add(
                        where,
                        f"{key}.positive",
                        rule.get("positive"),
                        "an operator and a number, e.g. '> 0.5'",
                    )
        if name == "logistic":
            from rheumetrics.study.analyses import parse_rule

            if spec.get("truth") not in names and "@" in str(spec.get("truth")):
                c.add(where, "truth", spec.get("truth"), "must be outcome@visit or change:outcome")
            try:
                parse_rule(spec.get("positive", ""))
            except ValueError:
                c.add(where, "positive", spec.get("positive"),
                      "required: an operator and a number, e.g. '> 0.5' (strictly above)")  # fmt: skip
            if "predictors" not in spec:
                c.add(where, "predictors", None, "required")
        if name == "roc":
            truth = spec.get("truth")
            if truth not in names:
                c.add(where, "truth", truth, "must be outcome@visit or change:outcome")
            from rheumetrics.study.analyses import parse_rule

            try:
                parse_rule(spec.get("positive", ""))
            except ValueError:
                c.add(where, "positive", spec.get("positive"),
                      "required: the rule making truth positive, an operator and a number "
                      "('> 0.5' strictly above, '>= 0.5' at or above, '<= -0.22', '< 0')")  # fmt: skip
            scores = c.strings(where, spec, "scores")
            for var in scores:
                if var not in names:
                    c.add(where, "scores", var, "must be outcome@visit or change:outcome")
            flags = spec.get("higher_is_positive", True)
            if isinstance(flags, list) and (
                len(flags) != len(scores) or not all(isinstance(f, bool) for f in flags)
            ):
                c.add(
                    where, "higher_is_positive", flags, f"one true/false per score ({len(scores)})"
                )
        if name == "meta":
            f = spec.get("file")
            if not isinstance(f, str) or not _resolve_path(f, base).exists():
                c.add(where, "file", f, "must name an existing CSV of study effects")
            else:
                spec["file"] = str(_resolve_path(f, base))


_PUBLISHED_KEYS = {"table", "row", "statistic", "value", "digits", "at", "targeted"}


def _published(c: _Check, raw: Any) -> tuple[Published, ...]:
    if not isinstance(raw, list):
        c.add(
            "published",
            "published",
            raw,
            "must be a list of { table, row, statistic, value, digits, at } tables",
        )
        return ()
    out = []
    for k, entry in enumerate(raw):
        where = f"published[{k}]"
        entry = c.keys(where, entry, _PUBLISHED_KEYS)
        value, digits = entry.get("value"), entry.get("digits")
        if isinstance(value, bool) or not isinstance(value, int | float):
            c.add(where, "value", value, "must be the number as printed")
            continue
        if isinstance(digits, bool) or not isinstance(digits, int) or not 0 <= digits <= 6:
            c.add(where, "digits", digits, "must be the printed decimals, a whole number 0-6")
            continue
        targeted = entry.get("targeted", False)
        if not isinstance(targeted, bool):
            c.add(where, "targeted", targeted, "must be true or false")
        out.append(Published(c.text(where, entry, "table"), c.text(where, entry, "row"),
                             c.text(where, entry, "statistic"), float(value), digits,
                             str(entry.get("at", "")), bool(targeted)))  # fmt: skip
    return tuple(out)


def _convention_names() -> set[str]:
    from dataclasses import fields as dc_fields

    from rheumetrics.measures.conventions import Conventions

    return {f.name for f in dc_fields(Conventions)}


_CALC_KEYS = {
    "correlation": {"kind", "label", "rho", "alpha", "power", "sided", "method", "dropout", "stated_n"},
    "noninferiority": {"kind", "label", "margin", "sd", "difference", "alpha", "power", "method", "stated_n"},
}  # fmt: skip


def _check_sample_size(c: _Check, where: str, raw: Any) -> None:
    if not isinstance(raw, list) or not raw:
        c.add(where, "calculations", raw, "must be a list of { kind, ... } tables")
        return
    for k, calc in enumerate(raw):
        here = f"{where}.calculations[{k}]"
        kind = calc.get("kind") if isinstance(calc, dict) else None
        if kind not in _CALC_KEYS:
            c.add(here, "kind", kind, f"must be one of {', '.join(_CALC_KEYS)}")
            continue
        c.keys(here, calc, _CALC_KEYS[kind])
        for key in ("rho",) if kind == "correlation" else ("margin", "sd"):
            if isinstance(calc.get(key), bool) or not isinstance(calc.get(key), int | float):
                c.add(here, key, calc.get(key), "required number")
