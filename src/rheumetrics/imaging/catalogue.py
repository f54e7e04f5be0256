"""Imaging scoring systems as data: sites, per-site scales, site sets, totals, states and rules.

All definitions live in ``imaging/catalogues/`` (``sites.csv``, ``systems.toml``, ``totals.toml``,
``states.toml``, ``rules.toml``), each entry with the publication it comes from; a site or system
that could not be confirmed in its publication is marked ``verified = no`` with a note. A new system or variant
is a new entry in those files, not new code.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from rheumetrics.errors import Problem, ValidationError

_DIR = files("rheumetrics.imaging") / "catalogues"

#: Comparison operators allowed in states and rules.
OPERATORS: dict[str, Any] = {
    "<": np.less,
    "<=": np.less_equal,
    "==": np.equal,
    ">=": np.greater_equal,
    ">": np.greater,
}

#: Side codes: a site scored on each side ("LR": read side L or R) or a midline site ("M").
SIDE_KINDS = ("LR", "M")


@dataclass(frozen=True)
class System:
    """One scoring system: display name, modality, versions, named site subsets."""

    id: str
    name: str
    modality: str
    versions: tuple[str, ...]
    reference: str
    verified: bool
    note: str
    subsets: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class Component:
    """One weighted feature total inside a derived total."""

    system: str
    feature: str
    weight: float = 1.0


@dataclass(frozen=True)
class Total:
    """A derived total: weighted sum of feature totals of one read."""

    id: str
    system: str
    feature: str
    label: str
    components: tuple[Component, ...]
    source: str
    verified: bool


@dataclass(frozen=True)
class State:
    """A named imaging state: ``score op value`` on one score, optionally tied to a site set."""

    id: str
    label: str
    system: str
    feature: str
    subset: str
    op: str
    value: float
    set_max: float | None
    source: str
    verified: bool


def _toml(name: str) -> dict[str, Any]:
    return tomllib.loads((_DIR / name).read_text(encoding="utf-8"))


@cache
def _sites() -> pd.DataFrame:
    frame = pd.read_csv(
        str(_DIR / "sites.csv"),
        dtype={"version": str, "joint": str, "note": str},
        keep_default_na=False,
    )
    frame["verified"] = frame["verified"].map({"yes": True, "no": False})
    frame[["scale_min", "scale_max", "scale_step"]] = frame[
        ["scale_min", "scale_max", "scale_step"]
    ].astype(float)
    return frame


def sites(system: str | None = None, version: str | None = None) -> pd.DataFrame:
    """The site catalogue (a copy), optionally for one system and version.

    Columns: system, version, feature, site, name, region, side ("LR" scored per side, "M" midline),
    unit (scoring unit, e.g. the spinal unit of a SPARCC site), joint (joint catalogue NAME, when the
    site belongs to one), scale_min, scale_max, scale_step, verified, note.
    """
    frame = _sites()
    if system is not None:
        frame = frame[frame["system"] == system]
    if version is not None:
        frame = frame[frame["version"] == str(version)]
    return frame.reset_index(drop=True)


@cache
def systems() -> dict[str, System]:
    """The scoring systems by id."""
    out = {}
    for key, spec in _toml("systems.toml").items():
        out[key] = System(
            id=key,
            name=spec["name"],
            modality=spec["modality"],
            versions=tuple(spec["versions"]),
            reference=spec["reference"],
            verified=bool(spec["verified"]),
            note=spec.get("note", ""),
            subsets={name: tuple(regions) for name, regions in spec["subsets"].items()},
        )
    return out


@cache
def totals() -> dict[str, Total]:
    """Derived totals (weighted sums of feature totals) by id."""
    return {
        key: Total(
            id=key,
            system=spec["system"],
            feature=spec["feature"],
            label=spec["label"],
            components=tuple(
                Component(c["system"], c["feature"], float(c.get("weight", 1)))
                for c in spec["components"]
            ),
            source=spec["source"],
            verified=bool(spec["verified"]),
        )
        for key, spec in _toml("totals.toml").items()
    }


@cache
def state_definitions() -> dict[str, State]:
    """Named imaging states by id."""
    return {
        key: State(
            id=key,
            label=spec["label"],
            system=spec["system"],
            feature=spec["feature"],
            subset=spec["subset"],
            op=spec["op"],
            value=float(spec["value"]),
            set_max=float(spec["set_max"]) if "set_max" in spec else None,
            source=spec["source"],
            verified=bool(spec["verified"]),
        )
        for key, spec in _toml("states.toml").items()
    }


@cache
def rule_specs() -> dict[str, dict[str, Any]]:
    """Named progression/repair rules as written in ``rules.toml``."""
    return _toml("rules.toml")


def _unknown(field: str, value: Any, allowed: Any) -> NoReturn:
    rule = f"must be one of {', '.join(map(str, allowed))}"
    raise ValidationError([Problem("-", field, value, rule)], "unknown imaging catalogue entry")


def site_set(
    system: str,
    version: str,
    feature: str,
    subset: str = "all",
    units: list[str] | None = None,
) -> pd.DataFrame:
    """Catalogue rows of one feature over a named subset, optionally only some scoring units."""
    spec = systems().get(system)
    if spec is None:
        _unknown("system", system, systems())
    if str(version) not in spec.versions:
        _unknown("version", version, spec.versions)
    if subset not in spec.subsets:
        _unknown("subset", subset, spec.subsets)
    frame = sites(system, str(version))
    if feature not in set(frame["feature"]):
        _unknown("feature", feature, sorted(set(frame["feature"])))
    frame = frame[(frame["feature"] == feature) & frame["region"].isin(spec.subsets[subset])]
    if units is not None:
        unknown = sorted(set(units) - set(frame["unit"]))
        if unknown:
            _unknown("units", unknown, sorted(set(frame["unit"])))
        frame = frame[frame["unit"].isin(units)]
    return frame.reset_index(drop=True)


def site_set_max(
    system: str,
    version: str,
    feature: str,
    subset: str = "all",
    *,
    sides: int = 1,
    units: list[str] | None = None,
) -> float:
    """Maximum possible score of a feature (or derived total) over a site set.

    ``sides`` is 1 (one hand, one foot...) or 2 (both); midline systems have one side. A derived
    total (``totals.toml``, e.g. SvdH ``"total"``) is the weighted sum of its components' maxima.

    >>> site_set_max("ramris", "2002", "erosion")
    230.0
    >>> site_set_max("ramris", "2002", "synovitis", "wrist", sides=2)
    18.0
    """
    if sides not in (1, 2):
        _unknown("sides", sides, (1, 2))
    total = next(
        (t for t in totals().values() if t.system == system and t.feature == feature), None
    )
    if total is not None:
        return float(
            sum(
                c.weight
                * site_set_max(c.system, version, c.feature, subset, sides=sides, units=units)
                for c in total.components
            )
        )
    frame = site_set(system, version, feature, subset, units)
    if sides == 2 and (frame["side"] == "M").any():
        _unknown("sides", sides, (1,))
    return float(frame["scale_max"].sum() * sides)


def _total_range(total: Total, both_sides: bool) -> float:
    """Maximum of a derived total over full site sets (each system's first version that has it)."""
    cat = _sites()
    out = 0.0
    for c in total.components:
        rows = cat[(cat["system"] == c.system) & (cat["feature"] == c.feature)]
        version = next(v for v in systems()[c.system].versions if (rows["version"] == v).any())
        rows = rows[rows["version"] == version]
        sides = 2 if both_sides and not (rows["side"] == "M").any() else 1
        out += c.weight * float(rows["scale_max"].sum()) * sides
    return out


def catalogue_markdown() -> str:
    """The catalogue as Markdown (systems, features, sites, scales, ranges, unverified marks).

    ``docs/imaging.md`` embeds this text between generated-section markers; a test keeps it in sync.
    """
    cat = _sites()
    lines = [
        "| system | version | feature | sites (per side) | per-site scale | range (one side) | "
        "range (both sides) | status |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for spec in systems().values():
        for version in spec.versions:
            part = cat[(cat["system"] == spec.id) & (cat["version"] == version)]
            for feature, rows in part.groupby("feature", sort=False):
                scales = sorted(
                    {
                        f"{lo:g}-{hi:g}"
                        for lo, hi in zip(rows["scale_min"], rows["scale_max"], strict=True)
                    }
                )
                one = site_set_max(spec.id, version, str(feature))
                both = "" if (rows["side"] == "M").any() else f"0-{2 * one:g}"
                unverified = rows.loc[~rows["verified"], "site"].tolist()
                status = (
                    "verified"
                    if not unverified
                    else (
                        "**unverified**"
                        if len(unverified) == len(rows)
                        else f"**unverified sites**: {', '.join(unverified)}"
                    )
                )
                lines.append(
                    f"| {spec.name} | {version} | {feature} | {len(rows)} | {' / '.join(scales)} | "
                    f"0-{one:g} | {both} | {status} |"
                )
    lines += ["", "Site subsets (by region):", ""]
    for spec in systems().values():
        subsets = "; ".join(f"`{k}` = {', '.join(v)}" for k, v in spec.subsets.items())
        flag = "" if spec.verified else " **(unverified: see note)**"
        lines.append(
            f"- **{spec.id}** ({spec.name}){flag}: {subsets}. {spec.note}. Source: {spec.reference}."
        )
    lines += [
        "",
        "Derived totals:",
        "",
        "| system | feature | definition | range (one side) | range (both sides) | source | status |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in totals().values():
        parts = " + ".join(
            (f"{c.weight:g} x " if c.weight != 1 else "") + f"{c.system} {c.feature}"
            for c in t.components
        )
        status = "verified" if t.verified else "**unverified**"
        lines.append(
            f"| {t.system} | {t.feature} | {parts} | 0-{_total_range(t, False):g} | "
            f"0-{_total_range(t, True):g} | {t.source} | {status} |"
        )
    lines += ["", "Imaging states:", "", "| state | rule | source | status |", "|---|---|---|---|"]
    for s in state_definitions().values():
        site = f" (site set max {s.set_max:g})" if s.set_max is not None else ""
        status = "verified" if s.verified else "**unverified**"
        lines.append(
            f"| `{s.id}` | {s.system} {s.feature} {s.op} {s.value:g}{site} | {s.source} | {status} |"
        )
    lines += [
        "",
        "Progression and repair rules:",
        "",
        "| rule | definition | source |",
        "|---|---|---|",
    ]
    for key, rule in rule_specs().items():
        limit = rule.get("value", rule.get("parameter"))
        value = f"{limit:g}" if isinstance(limit, int | float) else f"`{limit}` (caller supplies)"
        lines.append(f"| `{key}` | change {rule['op']} {value} | {rule['source']} |")
    return "\n".join(lines) + "\n"
