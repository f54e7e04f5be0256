"""Checks of a study file's tables: the cohort (with every path confined to the file's folder),
the enrolment rule and groups, the visits, the outcomes, the characteristics and the published
figures. Each adds every problem it finds to a :class:`StudyFileCheck`; nothing stops at the
first."""

from __future__ import annotations

import datetime as dt
import functools
from importlib.resources import files
from pathlib import Path
from typing import Any

from rheumetrics.errors import ProblemCollector
from rheumetrics.measures import FIELDS, MEASURES
from rheumetrics.schema.vocab import DRUG_CLASSES
from rheumetrics.store.items import items
from rheumetrics.study.definitions import (
    ENROLMENT_SOURCES,
    Characteristic,
    CohortSource,
    Enrolment,
    Group,
    ImagingSpec,
    Import,
    Outcome,
    Published,
    VisitSpec,
)


def _package_root() -> Path:
    return Path(str(files("rheumetrics")))


def _resolve_path(value: str, base: Path) -> Path:
    if value.startswith("package:"):
        return _package_root() / value.removeprefix("package:")
    p = Path(value)
    return p if p.is_absolute() else base / p


def _confinement(value: str, base: Path) -> str | None:
    """Why ``value`` (a path in a study file in folder ``base``) points outside where study files
    may read, or None when it stays inside: the file's own folder, or the installed package for
    ``package:`` paths. Symbolic links and ``..`` are resolved before the check."""
    root = _package_root() if value.startswith("package:") else base
    try:
        target = _resolve_path(value, base).resolve()
        inside = target.is_relative_to(root.resolve())
    except (OSError, ValueError) as exc:
        return f"not a usable path: {exc}"
    if inside:
        return None
    where = "the installed rheumetrics package" if value.startswith("package:") else f"{base}"
    return (
        f"points outside {where}; study files may only read files in their own folder "
        "(package: paths: inside the installed package); pass --allow-outside "
        "(allow_outside=True) to allow it"
    )


class StudyFileCheck:
    """Collects problems with the key path they belong to."""

    def __init__(self, source: str, base: Path | None = None, allow_outside: bool = False) -> None:
        self.problems = ProblemCollector("invalid study file")
        self.source = source
        self.base = base or Path.cwd()
        self.allow_outside = allow_outside

    def path(self, where: str, key: str, value: str) -> Path | None:
        """``value`` resolved against the study file's folder, or None (a problem added) when it
        points outside it without ``allow_outside``."""
        reason = None if self.allow_outside else _confinement(value, self.base)
        if reason is None and "\x00" in value:
            reason = "not a usable path: embedded NUL character"
        if reason is not None:
            self.add(where, key, value, reason)
            return None
        return _resolve_path(value, self.base)

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
    from rheumetrics.imaging import sites, totals  # only for studies with imaging outcomes

    cat = sites()
    known: dict[str, set[str]] = {}
    for system, feature in zip(cat["system"], cat["feature"], strict=True):
        known.setdefault(system, set()).add(feature)
    for total in totals().values():
        known.setdefault(total.system, set()).add(total.feature)
    return known


def _imaging_subsets(system: str) -> set[str]:
    from rheumetrics.imaging import systems

    specs = systems()
    parts = system.split("+")
    sets = [set(specs[p].subsets) for p in parts if p in specs]
    return set.intersection(*sets) if sets else set()


def cohort_table(c: StudyFileCheck, raw: Any, base: Path) -> CohortSource:
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
    elif isinstance(store, str):
        _check_store_url(c, store)
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
            paths = (c.path(where, "source", src), c.path(where, "mapping", mapping))
            for key, p in zip(("source", "mapping"), paths, strict=True):
                if p is not None and not p.exists():
                    c.add(where, key, str(p), "file not found")
            if paths[0] is not None and paths[1] is not None:
                imports.append(Import(paths[0], paths[1]))
    if imports and store is None:
        c.add("cohort", "imports", "...", "imports need store = URL to import into")
    found: dict[str, Path] = {}
    for key in file_keys:
        value = table[key]
        if not isinstance(value, str):
            c.add("cohort", key, value, "must be a file path")
            continue
        resolved = c.path("cohort", key, value)
        if resolved is None:
            continue
        found[key] = resolved
        if not resolved.exists():
            c.add("cohort", key, str(resolved), "file not found")
    return CohortSource(
        store=store if isinstance(store, str) else None, imports=tuple(imports), **found
    )


def _check_store_url(c: StudyFileCheck, url: str) -> None:
    """A SQLite store given by a study file must be a file in the study file's folder or a
    relative path below the working directory (``sqlite:///name.sqlite``), unless
    ``allow_outside``."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        c.add("cohort", "store", url, "not a database URL such as sqlite:///cohort.sqlite")
        return
    database = parsed.database or ""
    if (
        c.allow_outside
        or not parsed.drivername.startswith("sqlite")
        or database in ("", ":memory:")
    ):
        return
    path = Path(database)
    if path.is_absolute():
        reason = _confinement(database, c.base)
        if reason is not None:
            c.add("cohort", "store", url, reason)
    elif ".." in path.parts:
        c.add("cohort", "store", url, "a relative SQLite path must not climb out with '..'; "
              "pass --allow-outside (allow_outside=True) to allow it")  # fmt: skip


def enrolment_table(c: StudyFileCheck, raw: Any, groups_raw: Any) -> Enrolment:
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


def visits_table(c: StudyFileCheck, raw: Any) -> tuple[VisitSpec, ...]:
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


def outcomes_table(c: StudyFileCheck, raw: Any, visit_ids: list[str]) -> tuple[Outcome, ...]:
    if not isinstance(raw, list) or not raw:
        c.add("outcomes", "outcomes", raw, "define at least one [[outcomes]] table")
        return ()
    clinical = _known_clinical()
    features = (
        _imaging_features() if any("imaging" in o for o in raw if isinstance(o, dict)) else {}
    )
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
        if isinstance(digits, bool) or not isinstance(digits, int) or not 0 <= digits <= 4:
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


def characteristics_table(c: StudyFileCheck, raw: Any) -> tuple[Characteristic, ...]:
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
        if isinstance(digits, bool) or not isinstance(digits, int) or not 0 <= digits <= 4:
            c.add(where, "digits", digits, "must be a whole number 0-4")
            digits = 1
        out.append(Characteristic(vid, str(v.get("label", vid)), str(kind),
                                  therapy.lower() if isinstance(therapy, str) else None, int(digits)))  # fmt: skip
    return tuple(out)


_PUBLISHED_KEYS = {"table", "row", "statistic", "value", "digits", "at", "targeted"}


def published_table(c: StudyFileCheck, raw: Any) -> tuple[Published, ...]:
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


def convention_names() -> set[str]:
    from dataclasses import fields as dc_fields

    from rheumetrics.measures.conventions import Conventions

    return {f.name for f in dc_fields(Conventions)}
