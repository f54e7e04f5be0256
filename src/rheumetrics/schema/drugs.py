"""The drug catalogue: class, mechanism, ATC code, routes, dose units and dose ranges of each drug.

The catalogue is data (``drugs.toml`` beside this module), validated by pydantic models when first
read. Doses are rates (``"mg/week"``, ``"mg/2 weeks"``, ``"mg/kg/8 weeks"``); :func:`dose_factor`
converts between units of the same kind, so 2 g/day of sulfasalazine and 2000 mg/day compare equal.

>>> from rheumetrics.schema.drugs import drug
>>> mtx = drug("MTX")
>>> mtx.name, mtx.drug_class, mtx.atc, mtx.dosing_for("oral").usual
('methotrexate', 'csDMARD', 'L04AX03', (7.5, 25.0))
>>> dose_factor("g/day", "mg/day"), dose_factor("mg/week", "mg/2 weeks")
(1000.0, 2.0)
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib.resources import files
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rheumetrics.schema.vocab import DRUG_CLASSES, MECHANISMS, ROUTES

_UNIT = re.compile(
    r"^\s*(?P<mass>mg|g|µg|ug)(?P<kg>/kg)?/(?:(?P<n>\d+)\s*)?(?P<period>day|week|month|dose|course)s?\s*$"
)
_MASS = {"g": 1000.0, "mg": 1.0, "µg": 0.001, "ug": 0.001}
_PERIOD_DAYS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12}


def _unit_parts(unit: str) -> tuple[float, bool, float | None, str]:
    """(mg per mass unit, per kg, days per period or None, period kind) of a dose unit."""
    m = _UNIT.match(unit)
    if m is None:
        raise ValueError(
            f"{unit!r} is not a dose unit like 'mg/week', 'g/day', 'mg/2 weeks' or 'mg/kg/8 weeks'"
        )
    period = m.group("period")
    n = float(m.group("n") or 1)
    days = _PERIOD_DAYS[period] * n if period in _PERIOD_DAYS else None
    return _MASS[m.group("mass")], m.group("kg") is not None, days, period


def dose_factor(from_unit: str, to_unit: str) -> float:
    """Multiply a dose in ``from_unit`` by this to express it in ``to_unit``.

    Raises ValueError when the units measure different things (per kg or not, per dose or per time).
    """
    fm, fkg, fdays, fper = _unit_parts(from_unit)
    tm, tkg, tdays, tper = _unit_parts(to_unit)
    if fkg != tkg or (fdays is None) != (tdays is None) or (fdays is None and fper != tper):
        raise ValueError(f"{from_unit!r} cannot be converted to {to_unit!r}")
    factor = fm / tm
    if fdays is not None and tdays is not None:
        factor *= tdays / fdays
    return factor


class Dosing(BaseModel):
    """Dosing of a drug by one route: unit, usual range, label maximum, usual start."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    route: Literal[ROUTES]  # type: ignore[valid-type]
    unit: str
    usual: tuple[float, float]
    label_max: float = Field(gt=0)
    start: float = Field(gt=0)

    @field_validator("unit")
    @classmethod
    def _unit(cls, v: str) -> str:
        _unit_parts(v)
        return v

    @model_validator(mode="after")
    def _ranges(self) -> Dosing:
        low, high = self.usual
        if not 0 < low <= high <= self.label_max:
            raise ValueError(f"usual {self.usual} must satisfy 0 < low <= high <= label_max")
        if not low <= self.start <= high:
            raise ValueError(f"start {self.start:g} must lie in the usual range {self.usual}")
        return self


class Drug(BaseModel):
    """One catalogue entry."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str
    drug_class: Literal[DRUG_CLASSES] = Field(alias="class")  # type: ignore[valid-type]
    mechanism: Literal[MECHANISMS]  # type: ignore[valid-type]
    atc: str = Field(pattern=r"^[A-Z]\d\d[A-Z][A-Z]\d\d$")
    sources: tuple[str, ...] = Field(min_length=1)  # ATC index entry, SmPC/label of the doses
    aliases: tuple[str, ...] = ()
    dosing: tuple[Dosing, ...] = Field(min_length=1)

    @property
    def label(self) -> str:
        """Display name ("certolizumab pegol")."""
        return self.name.replace("_", " ")

    @property
    def routes(self) -> tuple[str, ...]:
        return tuple(d.route for d in self.dosing)

    def dosing_for(self, route: str | None = None) -> Dosing:
        """The dosing of ``route`` (the first listed when ``route`` is None)."""
        if route is None:
            return self.dosing[0]
        for d in self.dosing:
            if d.route == route:
                return d
        raise KeyError(f"{self.label} has no {route} dosing; routes: {', '.join(self.routes)}")


class Catalogue(BaseModel):
    """The whole catalogue, keyed by canonical drug name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    drugs: dict[str, Drug]

    @model_validator(mode="before")
    @classmethod
    def _names(cls, data: dict[str, object]) -> dict[str, object]:
        drugs = data.get("drugs", {})
        if isinstance(drugs, dict):
            data = {**data, "drugs": {k: {"name": k, **v} for k, v in drugs.items()}}
        return data


def normalise_name(text: str) -> str:
    """Catalogue spelling of a drug name: case-folded, spaces and hyphens as underscores."""
    return re.sub(r"[\s\-]+", "_", str(text).strip().casefold())


@cache
def catalogue() -> Catalogue:
    """The shipped catalogue (read and validated once)."""
    text = files("rheumetrics.schema").joinpath("drugs.toml").read_text(encoding="utf-8")
    return Catalogue.model_validate(tomllib.loads(text))


@cache
def _lookup() -> dict[str, Drug]:
    out: dict[str, Drug] = {}
    for d in catalogue().drugs.values():
        out[d.name] = d
        for a in d.aliases:
            out[normalise_name(a)] = d
    return out


def find_drug(text: str) -> Drug | None:
    """The catalogue entry for a name or alias (any case), or None."""
    return _lookup().get(normalise_name(text))


def drug(text: str) -> Drug:
    """The catalogue entry for a name or alias; KeyError naming the known drugs otherwise."""
    found = find_drug(text)
    if found is None:
        raise KeyError(
            f"unknown drug {text!r}; the catalogue knows {', '.join(sorted(catalogue().drugs))}"
        )
    return found


def drug_names() -> tuple[str, ...]:
    """Canonical names of every catalogued drug, sorted."""
    return tuple(sorted(catalogue().drugs))
