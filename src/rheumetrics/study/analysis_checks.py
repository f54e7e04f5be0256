"""Checks of a study file's ``[analyses]`` table against the registered analyses and the
variables the study defines (outcomes at visits, changes, characteristics)."""

from __future__ import annotations

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


def check_analyses(c: StudyFileCheck, study: Study, base: Path) -> None:
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

        entry = registered().get(name)
        if entry is None:  # an unknown analysis: already reported by the key check
            continue
        spec = c.keys(where, spec, entry.options)
        if entry.check is not None:
            entry.check(c, study, where, spec)
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
        if "ties" in spec and spec["ties"] not in ("below", "mean"):
            c.add(where, "ties", spec["ties"], "must be one of below, mean")
        elif spec.get("ties") == "mean" and spec.get("variant", "permutation") != "permutation":
            c.add(where, "ties", "mean", "averaged tie scores need variant = 'permutation'")
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
            intervals = spec.get("intervals", [])
            if not isinstance(intervals, list):
                c.add(where, "intervals", intervals, "must be a list of [earlier, later] visits")
                intervals = []
            for k, pair in enumerate(intervals):
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
                    if not isinstance(var, str):
                        c.add(where, f"pairs[{k}]", var, "must be a variable name")
                    elif var not in names and ("@" in var or var.startswith("change:")):
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
            if not _named(target, outcome_ids) or not study.outcome(str(target)).is_imaging:
                c.add(where, "outcome", target, "must name an imaging outcome")
        if name == "response" and not _named(spec.get("outcome"), outcome_ids):
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

            if not _named(spec.get("truth"), names) and "@" in str(spec.get("truth")):
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
            if not _named(truth, names):
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
            for key, allowed in (("measure", META_MEASURES), ("conversion", CONVERSIONS),
                                 ("md_variance", MD_VARIANCES), ("method", META_METHODS)):  # fmt: skip
                if key in spec and spec[key] not in allowed:
                    c.add(where, key, spec[key], f"must be one of {', '.join(allowed)}")
            f = spec.get("file")
            resolved = c.path(where, "file", f) if isinstance(f, str) else None
            if resolved is not None and resolved.exists():
                spec["file"] = str(resolved)
            elif isinstance(f, str) and resolved is None:
                pass  # the confinement problem is already reported
            else:
                c.add(where, "file", f, "must name an existing CSV of study effects")


_CALC_KEYS = {
    "correlation": {"kind", "label", "rho", "alpha", "power", "sided", "method", "dropout", "stated_n"},
    "noninferiority": {"kind", "label", "margin", "sd", "difference", "alpha", "power", "method", "stated_n"},
}  # fmt: skip


def _check_sample_size(c: StudyFileCheck, where: str, raw: Any) -> None:
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
