"""BASFI (Calin 1994): the mean of ten 0-10 function items.

Items (paraphrased): socks without aids, pick up a pen from the floor, reach a high shelf, rise from
an armless chair, get up off the floor, stand 10 minutes, climb 12-15 steps, look over the
shoulder, physically demanding activities, a full day's activities. 0 = easy, 10 = impossible.
"""

from __future__ import annotations

from rheumetrics.measures import fields
from rheumetrics.measures.base import Measure, register
from rheumetrics.measures.conventions import Conventions

BASFI_ITEMS: tuple[str, ...] = tuple(f"basfi_q{i}" for i in range(1, 11))

fields.register(
    *(fields.nrs(name, f"BASFI item {name.removeprefix('basfi_q')}") for name in BASFI_ITEMS),
    # A BASFI value as input to the ASAS criteria (the function domain).
    fields.Field("basfi", "BASFI score (ASAS function domain)", "score", 0, 10),
)


def _basfi(c: Conventions, **items):
    return sum(items[name] for name in BASFI_ITEMS) / 10.0


basfi = register(
    Measure(
        name="basfi",
        label="Bath Ankylosing Spondylitis Functional Index",
        inputs=BASFI_ITEMS,
        formula="mean of items Q1-Q10, each 0-10",
        reference="Calin A et al. J Rheumatol 1994;21:2281-2285 (PMID 7699629)",
        compute=_basfi,
        digits=1,
        note="Range 0-10; no disease-activity categories.",
    )
)
