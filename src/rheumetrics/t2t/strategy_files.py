"""The strategy files: the shipped ones, reading a file, resolving its options and validating it.

Every problem of a file is reported at once (:class:`~rheumetrics.errors.ValidationError`), located
by its path in the file (``rules.3.when.improved``). Options are resolved before validation: each
chosen value applies its overrides, and rules conditioned on another value are dropped.

>>> s = load_strategy("imagine_ra_mri")
>>> s.index_label, s.target_text
('DAS28-CRP', 'DAS28-CRP <= 3.2 and 28-joint swollen count <= 0 and no MRI bone marrow oedema')
>>> [st.id for st in s.ladder][:4]
['1', '2', '2a', '3']
"""

from __future__ import annotations

import copy
import itertools
import tomllib
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticError

from rheumetrics.errors import ProblemCollector
from rheumetrics.t2t.rulecheck import check_rules
from rheumetrics.t2t.strategy import Option, Strategy


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
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")), str(path)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from None


def _set_path(doc: dict[str, Any], dotted: str, value: Any) -> bool:
    """Set ``value`` at a dotted path; False when the path runs through a value, not a table."""
    parts = dotted.split(".")
    node = doc
    for p in parts[:-1]:
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            return False
    node[parts[-1]] = value
    return True


def _rule_options(rule: Any) -> dict[str, Any]:
    """The ``when.option`` table of a rule ({} when any level is not a table)."""
    when = rule.get("when", {}) if isinstance(rule, dict) else {}
    option = when.get("option", {}) if isinstance(when, dict) else {}
    return option if isinstance(option, dict) else {}


def _option_active(rule: Any, chosen: Mapping[str, str]) -> bool:
    return all(chosen.get(k) == v for k, v in _rule_options(rule).items())


def parse_strategy(
    doc: Mapping[str, Any], source: str = "<strategy>", options: Mapping[str, str] | None = None
) -> Strategy:
    """Validate a parsed TOML document with the chosen options; every problem is reported at once.

    Raises
    ------
    ValidationError
        One problem per invalid field, located by its path (``rules.3.when.improved``).
    """
    pc = ProblemCollector(f"invalid strategy {source}")
    raw_opts = doc.get("options", {})
    if not isinstance(raw_opts, dict):
        pc.add("file", "options", raw_opts, "must be a table of options", source)
        pc.raise_if_any()
    if not isinstance(doc.get("rules", []), list):
        pc.add("file", "rules", doc.get("rules"), "must be a list of rule tables", source)
        pc.raise_if_any()
    try:
        opts = {k: Option.model_validate(v) for k, v in raw_opts.items()}
    except PydanticError as exc:
        for e in exc.errors():
            pc.add("options", ".".join(map(str, e["loc"])), e.get("input"), e["msg"], source)
        pc.raise_if_any()
    chosen: dict[str, str] = {}
    for name, value in (options or {}).items():
        if name not in opts:
            pc.add(
                "options",
                name,
                value,
                f"unknown option; this strategy offers: {', '.join(sorted(opts)) or 'none'}",
                source,
            )
        elif value not in opts[name].values:
            pc.add("options", name, value, f"must be one of {sorted(opts[name].values)}", source)
        else:
            chosen[name] = value
    pc.raise_if_any()
    resolved = copy.deepcopy(dict(doc))
    for name, opt in opts.items():
        if opt.default not in opt.values:
            pc.add(
                f"options.{name}",
                "default",
                opt.default,
                f"must be one of {sorted(opt.values)}",
                source,
            )
            continue
        chosen.setdefault(name, opt.default)
        for path, override in opt.values[chosen[name]].items():
            if not _set_path(resolved, path, override):
                pc.add(f"options.{name}", path, override, "must be a path through tables", source)
    for i, r in enumerate(resolved.get("rules", [])):
        for oname, ovalue in _rule_options(r).items():
            if oname not in opts or not isinstance(ovalue, str) or ovalue not in opts[oname].values:
                pc.add(
                    f"rules.{i}",
                    f"when.option.{oname}",
                    ovalue,
                    "not an option value of this strategy: the rule can never fire",
                    source,
                )
    pc.raise_if_any()
    resolved["rules"] = [r for r in resolved.get("rules", []) if _option_active(r, chosen)]
    resolved["chosen"] = chosen
    resolved["path"] = source
    try:
        strategy = Strategy.model_validate(resolved)
    except PydanticError as exc:
        for e in exc.errors():
            loc = ".".join(map(str, e["loc"])) or "file"
            record, _, field = loc.partition(".")
            msg = e["msg"].removeprefix("Value error, ")
            pc.add(
                record,
                field or record,
                e.get("input") if e["type"] != "missing" else None,
                msg,
                source,
            )
        pc.raise_if_any()
        raise
    for p in check_rules(strategy):
        pc.add(*p, source)
    pc.raise_if_any()
    return strategy


def load_strategy(name_or_path: str | Path, options: Mapping[str, str] | None = None) -> Strategy:
    """Load, resolve and validate a strategy.

    Parameters
    ----------
    name_or_path
        A shipped strategy id (see :func:`shipped_strategies`) or the path of a TOML file.
    options
        Chosen option values, e.g. ``{"escalation_trigger": "jama_or"}``; unnamed options take
        their documented default.
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
