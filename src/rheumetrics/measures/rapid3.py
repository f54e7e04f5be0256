"""RAPID3 (Pincus 2009): function + pain + patient global from the MDHAQ, 0-30.

``RAPID3 = FN + pain + ptga``. FN is the physical-function score:
the 10 scored MDHAQ activities (items a-j, each 0-3, raw sum 0-30) converted to 0-10 as
**raw / 3 rounded to 1 decimal** (13 -> 4.3, 30 -> 10.0), which is what the MDHAQ scoring template
gives; items k-m (sleep, anxiety, depression) are not part of FN. A
pre-computed FN (0-10), e.g. from the MDHAQ template or derived from the HAQ in a trial, may be given
instead as ``mdhaq_fn``. If both are given they must agree; without ``mdhaq_fn`` all ten items are
needed (no imputation).

Pain and patient global are the canonical 0-10 columns ``pain`` and ``ptga``. On the MDHAQ they are
21-circle scales (0.5 steps); other 0-10 scales are accepted as they are, because RAPID3 is also
computed from trial VAS data. MDHAQ/RAPID3 wording is copyrighted and not shipped; items are named by
their letter with a short paraphrase.

Categories (cut-off set ``rapid3_pincus``): near_remission <= 3, low <= 6, moderate <= 12, high > 12
(mdhaq.org names the lowest band "remission").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from rheumetrics.measures import fields
from rheumetrics.measures.base import register
from rheumetrics.measures.conventions import Conventions
from rheumetrics.measures.itemized import ItemizedMeasure, RowIssue
from rheumetrics.numeric import RoundingMode, round_display, snap

_PINCUS = (
    "Pincus T et al. Bull NYU Hosp Jt Dis 2009;67:211-225 (PMID 19583557); MDHAQ scoring "
    "instructions, http://mdhaq.org/Public/HowToScore.aspx"
)

#: The 10 MDHAQ activities scored in FN (items a-j), by column, with a short paraphrase.
MDHAQ_FN_ITEMS: dict[str, str] = {
    "mdhaq_a": "dressing",
    "mdhaq_b": "getting in and out of bed",
    "mdhaq_c": "lifting a cup to the mouth",
    "mdhaq_d": "walking outdoors on flat ground",
    "mdhaq_e": "washing the body",
    "mdhaq_f": "bending down to the floor",
    "mdhaq_g": "turning taps",
    "mdhaq_h": "getting in and out of a car",
    "mdhaq_i": "walking two miles",
    "mdhaq_j": "recreational activities",
}
_ITEMS = tuple(MDHAQ_FN_ITEMS)

# Whole numbers are declared with step=1 rather than integer=True: Field.invalid treats NaN as
# non-integer, which would make a blank (optional) item an error.
fields.register(
    *(
        fields.Field(col, f"MDHAQ function item {col[-1]} ({what})", "0-3", 0, 3, step=1.0)
        for col, what in MDHAQ_FN_ITEMS.items()
    ),
    fields.nrs("mdhaq_fn", "MDHAQ physical function score FN, pre-computed (0-10)"),
)


def fn_from_raw(raw: Any) -> Any:
    """FN (0-10) from the raw sum of MDHAQ items a-j (0-30): raw / 3 to 1 decimal, half up."""
    return round_display(np.asarray(raw, dtype=float) / 3.0, 1, RoundingMode.HALF_UP)


def _raw(a: Mapping[str, np.ndarray]) -> np.ndarray:
    shape = np.broadcast_shapes(*(np.shape(a[c]) for c in _ITEMS))
    return np.sum([np.broadcast_to(a[c], shape) for c in _ITEMS], axis=0)


def _rapid3(c: Conventions, **a: np.ndarray) -> np.ndarray:
    fn = np.where(np.isnan(a["mdhaq_fn"]), fn_from_raw(_raw(a)), a["mdhaq_fn"])
    return fn + a["pain"] + a["ptga"]


def _rapid3_check(c: Conventions, a: Mapping[str, np.ndarray]) -> list[RowIssue]:
    items = np.stack([a[col] for col in _ITEMS])
    answered = ~np.isnan(items)
    n = answered.sum(axis=0)
    no_fn = np.isnan(a["mdhaq_fn"])
    flat = answered.reshape(len(_ITEMS), -1)

    def incomplete(pos: int) -> str:
        missing = [_ITEMS[i] for i in range(len(_ITEMS)) if not flat[i, pos]]
        return (
            f"needs all ten MDHAQ function items mdhaq_a..mdhaq_j or a pre-computed mdhaq_fn; "
            f"missing: {', '.join(missing)}"
        )

    derived = fn_from_raw(items.sum(axis=0))
    given = np.asarray(a["mdhaq_fn"], dtype=float)
    with np.errstate(invalid="ignore"):
        clash = ~no_fn & (n == len(_ITEMS)) & (snap(derived) != snap(given))
    raw_flat, derived_flat = items.sum(axis=0).reshape(-1), np.asarray(derived).reshape(-1)

    def disagree(pos: int) -> str:
        return (
            f"disagrees with the MDHAQ items (raw {raw_flat[pos]:g} -> FN "
            f"{derived_flat[pos]:g}); give the items or mdhaq_fn, or make them agree"
        )

    return [
        RowIssue(no_fn & (n < len(_ITEMS)), "rapid3", n, incomplete),
        RowIssue(clash, "mdhaq_fn", given, disagree),
    ]


rapid3 = register(
    ItemizedMeasure(
        name="rapid3",
        label="RAPID3 (MDHAQ function + pain + patient global)",
        inputs=(*_ITEMS, "mdhaq_fn", "pain", "ptga"),
        formula="FN + pain(0-10) + PtGA(0-10); FN = (sum of MDHAQ items a-j) / 3 rounded to "
        "1 decimal, or mdhaq_fn",
        reference=_PINCUS,
        compute=_rapid3,
        digits=1,
        cutoffs="rapid3_cutoffs",
        optional=(*_ITEMS, "mdhaq_fn"),
        note="Range 0-30. Needs all ten MDHAQ function items or mdhaq_fn.",
        check=_rapid3_check,
        any_of=(*_ITEMS, "mdhaq_fn"),
    )
)
