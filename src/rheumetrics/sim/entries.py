"""The basic entries of the simulator's parameter file: a number with its range and source."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: A probability entry of a regimen or an anchor.
Probability = Annotated[float, Field(ge=0, le=1)]


class Strict(BaseModel):
    """A frozen model refusing unknown entries."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Parameter(Strict):
    """A number with its plausible range and where it comes from."""

    value: float
    low: float
    high: float
    source: Annotated[str, Field(min_length=3)]
    kind: Literal["number", "probability"] = "number"
    calibrated: bool = False
    #: The population whose anchors a calibrated parameter is fitted to.
    fitted_to: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Parameter:
        if self.calibrated and self.fitted_to is None:
            raise ValueError("a calibrated parameter must name the population it is fitted_to")
        if not self.low <= self.value <= self.high:
            raise ValueError(f"value {self.value} is outside its range [{self.low}, {self.high}]")
        if self.kind == "probability" and not (self.low >= 0 and self.high <= 1):
            raise ValueError(
                f"a probability must lie in [0, 1]; range is [{self.low}, {self.high}]"
            )
        return self
