"""Read strategy files (TOML), resolve their options and validate them.

Every problem in a file is reported at once (:class:`~rheumetrics.errors.ValidationError`): unknown
keys, an unknown index, a step the ladder lacks, a rule that contradicts itself or that an earlier
rule always pre-empts (a rule that can never fire), a placeholder the reason text cannot fill.
Options are resolved at load time: each chosen value applies its overrides to the document and
rules conditioned on another value of the option are dropped.
"""

from __future__ import annotations

import copy
import itertools
import string
import tomllib
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any

from rheumetrics.errors import ProblemCollector
from rheumetrics.measures.cutoffs import CUTOFF_SETS
from rheumetrics.t2t.indices import INDICES, target_bound
from rheumetrics.t2t.model import (
    ACTIONS,
    BOOL_FACTS,
    CO_ACTIONS,
    DRUG_CLASSES,
    DURATION_FACTS,
    OTHER_CONDITIONS,
    TAPER_CLASSES,
    CountRange,
    Improvement,
    Option,
    Parameters,
    Rule,
    Step,
    StepMatch,
    Strategy,
    Target,
    Timing,
    parse_duration,
)
from rheumetrics.t2t.rulecheck import check_rules

#: Placeholders a rule's reason text may use (filled per visit by the engine).
REASON_FIELDS = (
    "index",
    "index_value",
    "target",
    "months_since_change",
    "improvement",
    "improvement_threshold",
    "months_in_target",
    "sustained",
    "swollen_joints",
)

_SECTIONS = {
    "strategy",
    "index",
    "target",
    "improvement",
    "timing",
    "parameters",
    "options",
    "ladder",
    "rules",
}
_STRATEGY_KEYS = {"id", "name", "disease", "summary", "sources", "notes", "change_classes"}
_TARGET_KEYS = {
    "level",
    "index_at_most",
    "index_below",
    "swollen_joints_max",
    "no_mri_bme",
    "us_pd_joints_max",
}
_TIMING_KEYS = {
    "visit_window",
    "sustained",
    "sustained_min_visits",
    "visit_active",
    "visit_after_change",
    "visit_at_target",
    "visit_sustained",
}
_STEP_KEYS = {
    "id",
    "label",
    "therapy",
    "match",
    "next",
    "next_rule",
    "next_if_ppf",
    "next_if_ppf_rule",
    "on_intolerance",
    "source",
}
_MATCH_KEYS = {"csdmard", "bts", "bts_line", "nsaid", "drugs"}
_RULE_KEYS = {
    "id",
    "when",
    "action",
    "reason",
    "source",
    "evidence",
    "co_action",
    "taper_class",
    "to_step",
    "next_visit",
}
_PARAM_KEYS = {"crp_uln_mg_l", "nsaid_trial_min_drugs", "nsaid_trial_min_days", "bme_present_above"}


def strategies_dir() -> Path:
    """Folder of the shipped strategy files."""
    return Path(str(files("rheumetrics.t2t") / "strategies"))


def shipped_strategies() -> list[str]:
    """Ids of the shipped strategies (file stems), sorted."""
    return sorted(p.stem for p in strategies_dir().glob("*.toml"))


def read_document(name_or_path: str | Path) -> tuple[dict[str, Any], str]:
    """The raw TOML document of a shipped strategy id or a file path, and where it came from."""
    path = Path(name_or_path)
    if not path.suffix:
        shipped = strategies_dir() / f"{name_or_path}.toml"
        if not shipped.exists():
            raise FileNotFoundError(
                f"no shipped strategy {name_or_path!r}; shipped: {', '.join(shipped_strategies())}; "
                "or give the path of a .toml file"
            )
        path = shipped
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such strategy file")
    with path.open("rb") as fh:
        try:
            return tomllib.load(fh), str(path)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: not valid TOML: {exc}") from None


def load_strategy(name_or_path: str | Path, options: Mapping[str, str] | None = None) -> Strategy:
    """Load, resolve and validate a strategy.

    Parameters
    ----------
    name_or_path
        A shipped strategy id (see :func:`shipped_strategies`) or the path of a TOML file.
    options
        Chosen option values, e.g. ``{"escalation_trigger": "jama_or"}``; unnamed options take
        their documented default.

    Raises
    ------
    ValidationError
        Listing every problem of the file (field paths such as ``rules[A7].when.improved``).
    """
    doc, source = read_document(name_or_path)
    return parse_strategy(doc, source, options)


def option_combinations(name_or_path: str | Path) -> list[dict[str, str]]:
    """Every combination of option values a strategy offers (for exhaustive checks)."""
    doc, _ = read_document(name_or_path)
    opts = doc.get("options", {})
    names = sorted(opts)
    values = [sorted(opts[n].get("values", {})) for n in names]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]


def parse_strategy(
    doc: Mapping[str, Any], source: str = "<strategy>", options: Mapping[str, str] | None = None
) -> Strategy:
    """Build a :class:`Strategy` from a parsed TOML document (see :func:`load_strategy`)."""
    pc = ProblemCollector(f"invalid strategy {source}")
    add = _adder(pc, source)
    _unknown_keys(doc, _SECTIONS, "", add)
    opts, chosen, doc = _resolve_options(doc, options or {}, add)

    meta = _table(doc, "strategy", add)
    _unknown_keys(meta, _STRATEGY_KEYS, "strategy.", add)
    sid = _str(meta, "id", "strategy.", add)
    disease = _str(meta, "disease", "strategy.", add)
    if disease and disease not in ("RA", "axSpA"):
        add("strategy", "disease", disease, "must be 'RA' or 'axSpA'")
    sources = meta.get("sources")
    if (
        not isinstance(sources, list)
        or not sources
        or not all(isinstance(s, str) and s for s in sources)
    ):
        add(
            "strategy",
            "sources",
            sources,
            "must be a non-empty list of citations (every strategy cites its source)",
        )
        sources = []
    change_classes = meta.get("change_classes", [])
    if not isinstance(change_classes, list) or any(c not in DRUG_CLASSES for c in change_classes):
        add(
            "strategy",
            "change_classes",
            change_classes,
            f"must be a list drawn from {list(DRUG_CLASSES)}",
        )
        change_classes = []

    index_name, index_label, cutoffs, target = _parse_index_target(doc, add)
    improvement = _parse_improvement(doc, add)
    timing = _parse_timing(doc, add)
    params = _parse_parameters(doc, add)
    ladder = _parse_ladder(doc, add)
    rules = _parse_rules(doc, chosen, opts, add)

    pc.raise_if_any()
    assert target is not None and timing is not None
    strategy = Strategy(
        id=sid,
        name=_str(meta, "name", "strategy.", add),
        disease=disease,  # type: ignore[arg-type]
        summary=str(meta.get("summary", "")),
        sources=tuple(sources),
        index=index_name,
        index_label=index_label,
        cutoffs=cutoffs,
        target=target,
        improvement=improvement,
        timing=timing,
        ladder=tuple(ladder),
        rules=tuple(rules),
        change_classes=tuple(change_classes),
        parameters=params,
        options=opts,
        chosen=chosen,
        notes=tuple(str(n) for n in meta.get("notes", [])),
        path=source,
    )
    for p in check_rules(strategy):
        add(*p)
    pc.raise_if_any()
    return strategy


# --------------------------------------------------------------------------------------- helpers


def _adder(pc: ProblemCollector, source: str) -> Any:
    def add(record: str, field: str, value: Any, rule: str) -> None:
        pc.add(record, field, value, rule, source)

    return add


def _unknown_keys(table: Mapping[str, Any], allowed: set[str], prefix: str, add: Any) -> None:
    for key in sorted(set(table) - allowed):
        add(
            prefix.rstrip(".") or "file",
            f"{prefix}{key}",
            table[key],
            f"unknown key; allowed: {', '.join(sorted(allowed))}",
        )


def _table(doc: Mapping[str, Any], name: str, add: Any, required: bool = True) -> dict[str, Any]:
    value = doc.get(name)
    if value is None:
        if required:
            add("file", name, None, f"missing [{name}] table")
        return {}
    if not isinstance(value, dict):
        add("file", name, value, f"[{name}] must be a table")
        return {}
    return value


def _str(table: Mapping[str, Any], key: str, prefix: str, add: Any) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value:
        add(prefix.rstrip(".") or "file", f"{prefix}{key}", value, "required text")
        return ""
    return value


def _duration(
    table: Mapping[str, Any], key: str, record: str, add: Any, required: bool = True
) -> float | None:
    if key not in table:
        if required:
            add(record, key, None, "required duration like '3mo', '12w' or '84d'")
        return None
    try:
        return parse_duration(table[key])
    except ValueError as exc:
        add(record, key, table[key], str(exc))
        return None


def _set_path(doc: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = doc
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = value


def _resolve_options(
    doc: Mapping[str, Any], chosen_in: Mapping[str, str], add: Any
) -> tuple[dict[str, Option], dict[str, str], dict[str, Any]]:
    raw = _table(doc, "options", add, required=False)
    opts: dict[str, Option] = {}
    for name, spec in raw.items():
        rec = f"options.{name}"
        if (
            not isinstance(spec, dict)
            or not isinstance(spec.get("values"), dict)
            or not spec["values"]
        ):
            add(rec, "values", spec, "an option needs a non-empty [values] table")
            continue
        _unknown_keys(spec, {"description", "default", "values"}, f"{rec}.", add)
        values = {str(v): dict(o or {}) for v, o in spec["values"].items()}
        default = spec.get("default")
        if default not in values:
            add(rec, "default", default, f"must be one of {sorted(values)}")
            continue
        for value, overrides in values.items():
            for path in overrides:
                if path.split(".")[0] not in _SECTIONS - {"options", "ladder", "rules"}:
                    add(
                        rec,
                        f"values.{value}.{path}",
                        overrides[path],
                        "an option may override strategy, index, target, improvement, timing or parameters only",
                    )
        opts[name] = Option(name, str(spec.get("description", "")), default, values)
    chosen: dict[str, str] = {}
    for name, value in chosen_in.items():
        if name not in opts:
            add(
                "options",
                name,
                value,
                f"unknown option; this strategy offers: {', '.join(sorted(opts)) or 'none'}",
            )
        elif value not in opts[name].values:
            add("options", name, value, f"must be one of {sorted(opts[name].values)}")
        else:
            chosen[name] = value
    resolved = copy.deepcopy(dict(doc))
    for name, opt in opts.items():
        chosen.setdefault(name, opt.default)
        for path, override in opt.values[chosen[name]].items():
            _set_path(resolved, path, override)
    return opts, chosen, resolved


def _parse_index_target(doc: Mapping[str, Any], add: Any) -> tuple[str, str, str, Target | None]:
    idx = _table(doc, "index", add)
    _unknown_keys(idx, {"name", "cutoffs"}, "index.", add)
    name = idx.get("name")
    if name not in INDICES:
        add("index", "name", name, f"unknown index; known: {', '.join(INDICES)}")
        return "", "", "", None
    spec = INDICES[name]
    cs_name = idx.get("cutoffs", spec.default_cutoffs().name)
    cs = CUTOFF_SETS.get(cs_name)
    if cs is None or cs.family != spec.family:
        valid = sorted(n for n, c in CUTOFF_SETS.items() if c.family == spec.family)
        add("index", "cutoffs", cs_name, f"must be a {spec.family} cut-off set: {', '.join(valid)}")
        return name, spec.label, "", None
    tgt = _table(doc, "target", add)
    _unknown_keys(tgt, _TARGET_KEYS, "target.", add)
    ways = [k for k in ("level", "index_at_most", "index_below") if k in tgt]
    if len(ways) != 1:
        add("target", "level", ways, "give exactly one of level, index_at_most, index_below")
        return name, spec.label, cs_name, None
    if "level" in tgt:
        if tgt["level"] not in ("remission", "low_activity"):
            add("target", "level", tgt["level"], "must be 'remission' or 'low_activity'")
            return name, spec.label, cs_name, None
        threshold, inclusive = target_bound(cs, tgt["level"])
        level = tgt["level"]
    else:
        way = ways[0]
        threshold, inclusive, level = tgt[way], way == "index_at_most", "custom"
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, int | float)
            or threshold < spec.low
        ):
            add(
                "target",
                way,
                threshold,
                f"must be a number >= {spec.low:g} (lowest possible {spec.label})",
            )
            return name, spec.label, cs_name, None
    for key in ("swollen_joints_max", "us_pd_joints_max"):
        v = tgt.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
            add("target", key, v, "must be a whole number >= 0")
    if not isinstance(tgt.get("no_mri_bme", False), bool):
        add("target", "no_mri_bme", tgt["no_mri_bme"], "must be true or false")
    return (
        name,
        spec.label,
        cs_name,
        Target(
            index_threshold=float(threshold),
            index_inclusive=bool(inclusive),
            level=level,
            swollen_joints_max=tgt.get("swollen_joints_max"),
            no_mri_bme=bool(tgt.get("no_mri_bme", False)),
            us_pd_joints_max=tgt.get("us_pd_joints_max"),
        ),
    )


def _parse_improvement(doc: Mapping[str, Any], add: Any) -> Improvement | None:
    imp = _table(doc, "improvement", add, required=False)
    if not imp:
        return None
    _unknown_keys(imp, {"kind", "min", "source"}, "improvement.", add)
    kind, minimum = imp.get("kind"), imp.get("min")
    if kind not in ("relative", "absolute"):
        add(
            "improvement",
            "kind",
            kind,
            "must be 'relative' (fraction of the value at the change) or 'absolute'",
        )
        return None
    upper = 1.0 if kind == "relative" else float("inf")
    if (
        isinstance(minimum, bool)
        or not isinstance(minimum, int | float)
        or not 0 < minimum <= upper
    ):
        add(
            "improvement",
            "min",
            minimum,
            f"must be a number > 0{' and <= 1' if kind == 'relative' else ''}",
        )
        return None
    return Improvement(kind, float(minimum), _str(imp, "source", "improvement.", add))


def _parse_timing(doc: Mapping[str, Any], add: Any) -> Timing | None:
    t = _table(doc, "timing", add)
    _unknown_keys(t, _TIMING_KEYS, "timing.", add)
    values = {
        k: _duration(t, k, "timing", add, required=k != "sustained")
        for k in _TIMING_KEYS - {"sustained_min_visits"}
    }
    min_visits = t.get("sustained_min_visits", 1)
    if isinstance(min_visits, bool) or not isinstance(min_visits, int) or min_visits < 1:
        add("timing", "sustained_min_visits", min_visits, "must be a whole number >= 1")
        return None
    if any(values[k] is None for k in values if k != "sustained"):
        return None
    return Timing(
        visit_window_days=values["visit_window"] or 0.0,
        sustained_days=values["sustained"],
        visit_active_days=values["visit_active"] or 0.0,
        visit_after_change_days=values["visit_after_change"] or 0.0,
        visit_at_target_days=values["visit_at_target"] or 0.0,
        visit_sustained_days=values["visit_sustained"] or 0.0,
        sustained_min_visits=min_visits,
    )


def _parse_parameters(doc: Mapping[str, Any], add: Any) -> Parameters:
    p = _table(doc, "parameters", add, required=False)
    _unknown_keys(p, _PARAM_KEYS, "parameters.", add)
    for key in ("crp_uln_mg_l", "bme_present_above", "nsaid_trial_min_drugs"):
        v = p.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float) or v < 0):
            add("parameters", key, v, "must be a number >= 0")
            p = {k: x for k, x in p.items() if k != key}
    days = _duration(p, "nsaid_trial_min_days", "parameters", add, required=False)
    return Parameters(
        crp_uln_mg_l=p.get("crp_uln_mg_l"),
        nsaid_trial_min_drugs=p.get("nsaid_trial_min_drugs"),
        nsaid_trial_min_days=days,
        bme_present_above=float(p.get("bme_present_above", 0.0)),
    )


def _count(value: Any, record: str, field: str, add: Any) -> CountRange | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return CountRange(value, value)
    if isinstance(value, str) and value.endswith("+") and value[:-1].isdigit():
        return CountRange(int(value[:-1]), None)
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        and 0 <= value[0] <= value[1]
    ):
        return CountRange(value[0], value[1])
    add(record, field, value, "must be a count (2), a range ([1, 3]) or an open range ('2+')")
    return None


def _parse_ladder(doc: Mapping[str, Any], add: Any) -> list[Step]:
    raw = doc.get("ladder")
    if not isinstance(raw, list) or not raw:
        add("file", "ladder", raw, "needs a non-empty [[ladder]] array of steps")
        return []
    steps: list[Step] = []
    for i, s in enumerate(raw):
        rec = f"ladder[{s.get('id', i)}]"
        _unknown_keys(s, _STEP_KEYS, f"{rec}.", add)
        matches_raw = s.get("match", [])
        matches_raw = [matches_raw] if isinstance(matches_raw, dict) else matches_raw
        matches = []
        for m in matches_raw:
            _unknown_keys(m, _MATCH_KEYS, f"{rec}.match.", add)
            counts = {
                k: _count(m[k], rec, f"match.{k}", add)
                for k in ("csdmard", "bts", "bts_line", "nsaid")
                if k in m
            }
            drugs = m.get("drugs", [])
            if not isinstance(drugs, list) or not all(isinstance(d, str) for d in drugs):
                add(rec, "match.drugs", drugs, "must be a list of drug names")
                drugs = []
            matches.append(StepMatch(**counts, drugs=tuple(d.casefold() for d in drugs)))
        steps.append(
            Step(
                id=str(s.get("id", "")),
                label=_str(s, "label", f"{rec}.", add),
                therapy=_str(s, "therapy", f"{rec}.", add),
                match=tuple(matches),
                next=s.get("next"),
                next_rule=s.get("next_rule"),
                next_if_ppf=s.get("next_if_ppf"),
                next_if_ppf_rule=s.get("next_if_ppf_rule"),
                on_intolerance=s.get("on_intolerance"),
                source=str(s.get("source", "")),
            )
        )
    return steps


def _parse_when(
    when: Any, rec: str, chosen: Mapping[str, str], opts: Mapping[str, Option], add: Any
) -> tuple[dict[str, object], bool]:
    """Normalised conditions and whether the rule is active under the chosen options."""
    out: dict[str, object] = {}
    active = True
    if not isinstance(when, dict):
        add(rec, "when", when, "must be a table of conditions")
        return out, active
    duration_keys = {f"{d}_{b}" for d in DURATION_FACTS for b in ("min", "max")}
    for key, value in when.items():
        if key in BOOL_FACTS:
            if not isinstance(value, bool):
                add(rec, f"when.{key}", value, "must be true or false")
            out[key] = value
        elif key in duration_keys:
            try:
                out[key] = parse_duration(value)
            except ValueError as exc:
                add(rec, f"when.{key}", value, str(exc))
        elif key in ("index_at_least", "index_below"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                add(rec, f"when.{key}", value, "must be a number")
            out[key] = float(value)
        elif key == "step":
            ids = [value] if isinstance(value, str) else value
            if not isinstance(ids, list) or not ids or not all(isinstance(v, str) for v in ids):
                add(rec, "when.step", value, "must be a step id or a list of step ids")
                continue
            out[key] = tuple(ids)
        elif key == "option":
            if not isinstance(value, dict):
                add(rec, "when.option", value, "must be a table {option = value}")
                continue
            for oname, ovalue in value.items():
                if oname not in opts:
                    add(
                        rec,
                        f"when.option.{oname}",
                        ovalue,
                        "unknown option: the rule can never fire",
                    )
                elif ovalue not in opts[oname].values:
                    add(
                        rec,
                        f"when.option.{oname}",
                        ovalue,
                        f"not a value of the option ({sorted(opts[oname].values)}): the rule can never fire",
                    )
                elif chosen.get(oname) != ovalue:
                    active = False
        else:
            allowed = [*BOOL_FACTS, *sorted(duration_keys), *OTHER_CONDITIONS]
            add(rec, f"when.{key}", value, f"unknown condition; allowed: {', '.join(allowed)}")
    return out, active


def _parse_rules(
    doc: Mapping[str, Any], chosen: Mapping[str, str], opts: Mapping[str, Option], add: Any
) -> list[Rule]:
    raw = doc.get("rules")
    if not isinstance(raw, list) or not raw:
        add("file", "rules", raw, "needs a non-empty [[rules]] array")
        return []
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, r in enumerate(raw):
        rid = str(r.get("id", ""))
        rec = f"rules[{rid or i}]"
        _unknown_keys(r, _RULE_KEYS, f"{rec}.", add)
        if not rid:
            add(rec, "id", None, "required rule id")
        elif rid in seen:
            add(rec, "id", rid, "duplicate rule id")
        seen.add(rid)
        co = r.get("co_action", False)
        action = r.get("action")
        allowed = CO_ACTIONS if co else ACTIONS
        if action not in allowed:
            add(
                rec,
                "action",
                action,
                f"must be one of {', '.join(allowed)}{' (co-action rule)' if co else ''}",
            )
        taper_class = r.get("taper_class")
        if (action == "taper") != (taper_class is not None):
            add(
                rec,
                "taper_class",
                taper_class,
                "a taper rule names what it tapers, and only a taper rule does",
            )
        elif taper_class is not None and taper_class not in TAPER_CLASSES:
            add(rec, "taper_class", taper_class, f"must be one of {', '.join(TAPER_CLASSES)}")
        evidence = r.get("evidence")
        if evidence not in ("V", "P", "U"):
            add(
                rec,
                "evidence",
                evidence,
                "must be V (verified), P (partly verified) or U (unverified), as tagged in t2t.md",
            )
        reason = _str(r, "reason", f"{rec}.", add)
        try:
            fields = {f for _, f, _, _ in string.Formatter().parse(reason) if f is not None}
        except ValueError as exc:
            add(rec, "reason", reason, f"bad placeholder syntax: {exc}")
            fields = set()
        for f in sorted(fields - set(REASON_FIELDS)):
            add(
                rec,
                "reason",
                f"{{{f}}}",
                f"unknown placeholder; allowed: {', '.join(REASON_FIELDS)}",
            )
        when, active = _parse_when(r.get("when", {}), rec, chosen, opts, add)
        next_visit = _duration(r, "next_visit", rec, add, required=False)
        if not active:
            continue
        rules.append(
            Rule(
                id=rid,
                when=when,
                action=str(action),
                reason=reason,
                source=_str(r, "source", f"{rec}.", add),
                evidence=evidence if evidence in ("V", "P", "U") else "U",
                co_action=bool(co),
                taper_class=taper_class,
                to_step=r.get("to_step"),
                next_visit_days=next_visit,
            )
        )
    return rules
