"""Checks of a study file's ``[analyses]`` table against the registered analyses and the
variables the study defines (outcomes at visits, changes, characteristics).

:func:`check_analyses` expands each key into its runs (one option table, or a list of them:
``[[analyses.roc]]`` twice runs two ROC analyses, keyed ``roc`` and ``roc_2`` unless given a
``name``; see :mod:`rheumetrics.study.runs`), applies the checks
every analysis shares (option names, ``outcomes``, ``test``, ``variant``, ``ties``, ``summary``,
a change between two visits) and calls the analysis's own ``check`` hook, registered with it. The
hooks of the built-in analyses are the functions below, one per analysis.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rheumetrics.study.definitions import (
    CONVERSIONS,
    CORRELATIONS,
    GROUP_TESTS,
    MD_VARIANCES,
    MEDIAN_VARIANTS,
    META_MEASURES,
    META_METHODS,
    SUMMARIES,
    Study,
)
from rheumetrics.study.file_tables import StudyFileCheck
from rheumetrics.study.registry import Analysis
from rheumetrics.study.rules import parse_rule
from rheumetrics.study.runs import Run, instances, positional_key, run_keys

#: Options every analysis accepts: ``title`` replaces its section title in the report, ``name``
#: keys the run (its section anchor, CSV names, locators; see :mod:`rheumetrics.study.runs`).
COMMON_OPTIONS = frozenset({"title", "name"})

#: What a variable named in an analysis may be.
_VARIABLES = ("unknown variable; use outcome@visit, change:outcome, change:outcome@from-to, group, "
              "or a characteristic / patient attribute")  # fmt: skip


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


def _named(value: object, names: set[str]) -> bool:
    """Whether ``value`` is one of ``names`` (a list or table given instead is not)."""
    return isinstance(value, str) and value in names


def _unknown_study_variable(var: str, names: set[str]) -> bool:
    """A variable that looks like an outcome at a visit or a change but is none the study has
    (other names may be patient attributes, checked against the data when the study runs)."""
    return var not in names and ("@" in var or var.startswith("change:"))


def check_analyses(
    c: StudyFileCheck, study: Study, base: Path, registered: Mapping[str, Analysis]
) -> None:
    """Expand ``study.analyses`` into one entry per run, keyed by the run's ``name`` or by its
    position (``roc``, ``roc_2``, ...; see :mod:`rheumetrics.study.runs`), with ``study.kinds``
    naming the registered analysis of every key that is not one, and check each run's options
    against ``registered``, the registered analyses
    (:func:`rheumetrics.study.sections.analyses`)."""
    given: list[Run] = []
    for name, raw in study.analyses.items():
        entry = registered.get(name)
        if entry is None:  # an unknown analysis: already reported by the key check
            continue
        for k, (where, spec) in enumerate(instances(c, name, raw)):
            checked = c.keys(where, spec, entry.options | COMMON_OPTIONS)
            if isinstance(spec, dict):  # else reported; its options are not checked one by one
                given.append(Run(where, name, positional_key(name, k), checked))
    keys = run_keys(c, given, registered)
    runs = [(run.where, key, run.options) for run, key in zip(given, keys, strict=True)]
    expanded = {key: run.options for run, key in zip(given, keys, strict=True)}
    kinds = {key: run.kind for run, key in zip(given, keys, strict=True)}
    study.analyses.clear()
    study.analyses.update(expanded)
    study.kinds.clear()
    study.kinds.update({k: v for k, v in kinds.items() if k != v})
    outcome_ids = {o.id for o in study.outcomes}
    for where, key, spec in runs:
        entry = registered[study.kind(key)]
        if "title" in spec and (not isinstance(spec["title"], str) or not spec["title"].strip()):
            c.add(where, "title", spec["title"], "must be a non-empty string (the section title)")
        for oid in c.strings(where, spec, "outcomes") if "outcomes" in spec else ():
            if oid not in outcome_ids:
                c.add(
                    where,
                    "outcomes",
                    oid,
                    f"unknown outcome; defined: {', '.join(sorted(outcome_ids))}",
                )
        if entry.needs_change and not study.change:
            c.add(where, entry.name, None, "needs two visits (a change from the first to the last)")
        if "test" in spec and spec["test"] not in GROUP_TESTS:
            c.add(where, "test", spec["test"], f"must be one of {', '.join(GROUP_TESTS)}")
        if "variant" in spec and spec["variant"] not in MEDIAN_VARIANTS:
            c.add(where, "variant", spec["variant"], f"must be one of {', '.join(MEDIAN_VARIANTS)}")
        if "ties" in spec and spec["ties"] not in ("below", "mean"):
            c.add(where, "ties", spec["ties"], "must be one of below, mean")
        elif spec.get("ties") == "mean" and spec.get("variant", "permutation") != "permutation":
            c.add(where, "ties", "mean", "averaged tie scores need variant = 'permutation'")
        if "summary" in spec and spec["summary"] not in SUMMARIES:
            c.add(where, "summary", spec["summary"], f"must be one of {', '.join(SUMMARIES)}")
        if entry.check is not None:
            entry.check(c, study, where, spec)


# -- the check hooks of the built-in analyses (registered with each analysis) --------------------


def _outcome_options(c: StudyFileCheck, study: Study, where: str, spec: dict[str, Any],
                     keys: tuple[str, ...]) -> None:  # fmt: skip
    outcome_ids = {o.id for o in study.outcomes}
    for key in keys:
        for oid in c.strings(where, spec, key):
            if oid not in outcome_ids:
                c.add(
                    where, key, oid, f"unknown outcome; defined: {', '.join(sorted(outcome_ids))}"
                )


def _method(c: StudyFileCheck, where: str, spec: dict[str, Any]) -> None:
    if spec.get("method", "spearman") not in CORRELATIONS:
        c.add(where, "method", spec.get("method"), f"must be one of {', '.join(CORRELATIONS)}")


def _rule(c: StudyFileCheck, where: str, key: str, value: Any, allowed: str) -> None:
    """``value`` must be an explicit rule such as ``'> 0.5'``."""
    try:
        parse_rule(value if isinstance(value, str) else "")
    except ValueError:
        c.add(where, key, value, allowed)


def correlation(c: StudyFileCheck, study: Study, where: str, spec: dict[str, Any]) -> None:
    """``x`` and ``y`` name outcomes (their changes are correlated); ``method`` is known."""
    _outcome_options(c, study, where, spec, ("x", "y"))
    _method(c, where, spec)


def scatter(c: StudyFileCheck, study: Study, where: str, spec: dict[str, Any]) -> None:
    """``x`` and ``y`` name outcomes (their changes are plotted)."""
    _outcome_options(c, study, where, spec, ("x", "y"))


def regression(c: StudyFileCheck, study: Study, where: str, spec: dict[str, Any]) -> None:
    """``outcome`` and ``predictors`` are required; every variable is one the study defines."""
    names = variable_names(study)
    for key in ("outcome", "predictors"):
        if key not in spec:
            c.add(where, key, None, "required")
    for key in ("outcome", "predictors", "confounders"):
        for var in c.strings(where, spec, key):
            if _unknown_study_variable(var, names):
                c.add(where, key, var, _VARIABLES)


def paired(c: StudyFileCheck, study: Study, where: str, spec: dict[str, Any]) -> None:
    """``intervals`` are ``[earlier, later]`` visits; ``zero_method`` is Pratt's or Wilcoxon's."""
    visit_ids = [v.id for v in study.visits]
    intervals = spec.get("intervals", [])
    if not isinstance(intervals, list):
        c.add(where, "intervals", intervals, "must be a list of [earlier, later] visits")
        intervals = []
    for k, pair in enumerate(intervals):
        if not (isinstance(pair, list) and len(pair) == 2 and all(v in visit_ids for v in pair)
                and visit_ids.index(pair[0]) < visit_ids.index(pair[1])):  # fmt: skip
            c.add(where, f"intervals[{k}]", pair,
                  f"must be [earlier, later] visits of: {', '.join(visit_ids)}")  # fmt: skip
    if spec.get("zero_method", "pratt") not in ("pratt", "wilcox"):
        c.add(where, "zero_method", spec.get("zero_method"), "must be 'pratt' or 'wilcox'")


def association(c: StudyFileCheck, study: Study, where: str, spec: dict[str, Any]) -> None:
    """``pairs`` is a list of ``[x, y]`` variables the study defines; ``method`` is known."""
    names = variable_names(study)
    pairs = spec.get("pairs")
    if not isinstance(pairs, list) or not pairs:
        c.add(where, "pairs", pairs, "must be a list of [x, y] variable pairs")
        pairs = []
    for k, pair in enumerate(pairs):
        if not (isinstance(pair, list) and len(pair) == 2):
            c.add(where, f"pairs[{k}]", pair, "must be [x, y]")
            continue
        for var in pair:
            if not isinstance(var, str):
                c.add(where, f"pairs[{k}]", var, "must be a variable name")
            elif _unknown_study_variable(var, names):
                c.add(where, f"pairs[{k}]", var, _VARIABLES)
    _method(c, where, spec)


def reliability(c: StudyFileCheck, study: Study, where: str, spec: dict[str, Any]) -> None:
    """``outcome`` is an imaging outcome (each run its own: the reads of every session are
    gathered for each outcome a reliability run names); ``confidence`` lies between 0 and 1."""
    conf = spec.get("confidence", 0.95)
    if not isinstance(conf, float) or not 0 < conf < 1:
        c.add(where, "confidence", conf, "must be a number between 0 and 1, e.g. 0.95")
    outcome_ids = {o.id for o in study.outcomes}
    target = spec.get("outcome")
    if not _named(target, outcome_ids) or not study.outcome(str(target)).is_imaging:
        c.add(where, "outcome", target, "must name an imaging outcome")


def response(c: StudyFileCheck, study: Study, where: str, spec: dict[str, Any]) -> None:
    """``outcome`` names an outcome of the study (a DAS28)."""
    if not _named(spec.get("outcome"), {o.id for o in study.outcomes}):
        c.add(where, "outcome", spec.get("outcome"), "must name a DAS28 outcome of the study")


def paired_proportions(c: StudyFileCheck, study: Study, where: str, spec: dict[str, Any]) -> None:
    """``first`` and ``second`` are ``{ variable, positive }`` with an explicit rule."""
    for key in ("first", "second"):
        rule = spec.get(key)
        if not isinstance(rule, dict) or "variable" not in rule:
            c.add(where, key, rule, "must be { variable = ..., positive = '> 0.5' }")
            continue
        c.keys(f"{where}.{key}", rule, {"variable", "positive"})
        if not isinstance(rule["variable"], str):
            c.add(where, f"{key}.variable", rule["variable"], "must be a variable name")
        elif _unknown_study_variable(rule["variable"], variable_names(study)):
            c.add(where, f"{key}.variable", rule["variable"], _VARIABLES)
        _rule(c, where, f"{key}.positive", rule.get("positive"),
              "an operator and a number, e.g. '> 0.5' (strictly above)")  # fmt: skip
    if spec.get("method", "exact") not in ("exact", "chi-square"):
        c.add(where, "method", spec.get("method"), "must be 'exact' or 'chi-square'")


def logistic(c: StudyFileCheck, study: Study, where: str, spec: dict[str, Any]) -> None:
    """``truth`` is a variable of the study, ``positive`` an explicit rule, ``predictors`` given."""
    if not _named(spec.get("truth"), variable_names(study)) and "@" in str(spec.get("truth")):
        c.add(where, "truth", spec.get("truth"), "must be outcome@visit or change:outcome")
    _rule(c, where, "positive", spec.get("positive"),
          "required: an operator and a number, e.g. '> 0.5' (strictly above)")  # fmt: skip
    if "predictors" not in spec:
        c.add(where, "predictors", None, "required")


def roc(c: StudyFileCheck, study: Study, where: str, spec: dict[str, Any]) -> None:
    """``truth`` and ``scores`` are variables of the study, ``positive`` an explicit rule and
    ``higher_is_positive`` one flag or one per score."""
    names = variable_names(study)
    truth = spec.get("truth")
    if not _named(truth, names):
        c.add(where, "truth", truth, "must be outcome@visit or change:outcome")
    _rule(c, where, "positive", spec.get("positive"),
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
        c.add(where, "higher_is_positive", flags, f"one true/false per score ({len(scores)})")


def meta(c: StudyFileCheck, study: Study, where: str, spec: dict[str, Any]) -> None:
    """The choices are known and ``file`` names an existing CSV (resolved in place)."""
    for key, allowed in (("measure", META_MEASURES), ("conversion", CONVERSIONS),
                         ("md_variance", MD_VARIANCES), ("method", META_METHODS)):  # fmt: skip
        if key in spec and spec[key] not in allowed:
            c.add(where, key, spec[key], f"must be one of {', '.join(allowed)}")
    f = spec.get("file")
    resolved = c.path(where, "file", f) if isinstance(f, str) else None
    if resolved is not None and resolved.exists():
        spec["file"] = str(resolved)
    elif not (isinstance(f, str) and resolved is None):  # else: the confinement is reported
        c.add(where, "file", f, "must name an existing CSV of study effects")


_CALC_KEYS = {
    "correlation": {"kind", "label", "rho", "alpha", "power", "sided", "method", "dropout", "stated_n"},
    "noninferiority": {"kind", "label", "margin", "sd", "difference", "alpha", "power", "method", "stated_n"},
}  # fmt: skip


def sample_size(c: StudyFileCheck, study: Study, where: str, spec: dict[str, Any]) -> None:
    """``calculations`` is a list of ``{ kind, ... }`` tables with their required numbers."""
    raw = spec.get("calculations")
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
