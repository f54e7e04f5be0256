"""HAQ-DI, the Stanford Health Assessment Questionnaire disability index (Bruce & Fries 2003).

Scored from the 20 items of 8 categories plus per-category aids/devices and help flags.
The questionnaire's wording is copyrighted and not shipped:
columns are named by a short category name and the item's position in its category.

=============  =====================  ===============================  =========================
category       paraphrased name       item columns (each 0-3)          flags (1 = used, 0 = not)
=============  =====================  ===============================  =========================
dressing       dressing & grooming    ``haq_dressing_1`` .. ``_2``     ``haq_dressing_aid``, ``_help``
arising        arising                ``haq_arising_1`` .. ``_2``      ``haq_arising_aid``, ``_help``
eating         eating                 ``haq_eating_1`` .. ``_3``       ``haq_eating_aid``, ``_help``
walking        walking                ``haq_walking_1`` .. ``_2``      ``haq_walking_aid``, ``_help``
hygiene        hygiene                ``haq_hygiene_1`` .. ``_3``      ``haq_hygiene_aid``, ``_help``,
                                                                       ``haq_hygiene_bathtub_seat``
reach          reach                  ``haq_reach_1`` .. ``_2``        ``haq_reach_aid``, ``_help``
grip           grip                   ``haq_grip_1`` .. ``_3``         ``haq_grip_aid``, ``_help``
activities     common activities      ``haq_activities_1`` .. ``_3``   ``haq_activities_help`` only
=============  =====================  ===============================  =========================

``haq_hygiene_aid`` covers the hygiene aids other than a bathtub seat, which has its own column
because sources disagree on whether it counts (convention ``haq_bathtub_seat_is_hygiene_aid``). A data source that records only "any hygiene aid" puts it in ``haq_hygiene_aid``.

Algorithm:

1. A category's score is its highest answered item. A category with at least one item answered is
   scored from those items (Stanford instructions; awell-score instead requires every item).
2. Standard DI (``haq_method="standard"``): if aids/devices or help are used for a scored category
   whose score is 0 or 1, it becomes 2; 2 and 3 are unchanged, so several aids never give more than
   2. An unticked (0) or blank flag means not used. The alternative DI
   (``haq_method="alternative"``) ignores aids and help.
3. DI = sum of category scores / number of categories scored, if at least ``haq_min_categories``
   (default 6 of 8, Stanford) are scored. Otherwise the visit cannot be scored: a problem in strict
   mode, NaN with the reason in lenient mode (see :func:`haq_breakdown`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from rheumetrics.errors import Problem, ValidationError
from rheumetrics.measures import fields
from rheumetrics.measures.base import prepare, register
from rheumetrics.measures.conventions import DEFAULT, Conventions
from rheumetrics.measures.cutoffs import cutoff_set
from rheumetrics.measures.itemized import ItemizedMeasure, RowIssue
from rheumetrics.measures.paired import absolute_change, as_category, prepare_paired

_BRUCE_FRIES = (
    "Bruce B, Fries JF. J Rheumatol 2003;30:167-178 (PMID 12508408); Bruce B, Fries JF. Health "
    "Qual Life Outcomes 2003;1:20, doi:10.1186/1477-7525-1-20"
)

#: Category -> (short paraphrased name, number of items), in questionnaire order.
HAQ_CATEGORIES: dict[str, tuple[str, int]] = {
    "dressing": ("dressing & grooming", 2),
    "arising": ("arising", 2),
    "eating": ("eating", 3),
    "walking": ("walking", 2),
    "hygiene": ("hygiene", 3),
    "reach": ("reach", 2),
    "grip": ("grip", 3),
    "activities": ("common activities", 3),
}
#: Item columns per category.
HAQ_ITEMS: dict[str, tuple[str, ...]] = {
    cat: tuple(f"haq_{cat}_{i}" for i in range(1, n + 1)) for cat, (_, n) in HAQ_CATEGORIES.items()
}
#: Aids/devices that raise each category; common activities has help only.
_AID_KINDS = {
    "dressing": "devices used for dressing",
    "arising": "special or built-up chair",
    "eating": "built-up or special utensils",
    "walking": "cane, walker, crutches or wheelchair",
    "hygiene": "raised toilet seat, bathtub bar or long-handled bathroom appliances",
    "reach": "long-handled appliances for reach",
    "grip": "jar opener",
}
HAQ_AIDS: dict[str, str] = {cat: f"haq_{cat}_aid" for cat in _AID_KINDS}
HAQ_HELP: dict[str, str] = {cat: f"haq_{cat}_help" for cat in HAQ_CATEGORIES}
HAQ_BATHTUB_SEAT = "haq_hygiene_bathtub_seat"
#: Recorded category scores (the highest item of the category, 0-3), for sources that keep the
#: eight category scores rather than the 20 items; scored as one more item of the category.
HAQ_CATEGORY_SCORES: dict[str, str] = {cat: f"haq_{cat}" for cat in HAQ_CATEGORIES}
#: Every HAQ-DI input column.
HAQ_INPUTS: tuple[str, ...] = (
    *(c for cols in HAQ_ITEMS.values() for c in cols),
    *HAQ_CATEGORY_SCORES.values(),
    *HAQ_AIDS.values(),
    HAQ_BATHTUB_SEAT,
    *HAQ_HELP.values(),
)
#: Minimal clinically important improvement of HAQ-DI (Wells GA et al. J Rheumatol 1993;20:557-560).
HAQ_MCID = 0.22

# Whole numbers are declared with step=1 rather than integer=True: Field.invalid treats NaN as
# non-integer, which would make a blank (optional) item an error.
fields.register(
    *(
        fields.Field(
            col, f"HAQ {HAQ_CATEGORIES[cat][0]}, item {i} of {len(cols)}", "0-3", 0, 3, step=1.0
        )
        for cat, cols in HAQ_ITEMS.items()
        for i, col in enumerate(cols, start=1)
    ),
    *(
        fields.Field(
            col,
            f"HAQ {HAQ_CATEGORIES[cat][0]}: category score (highest item)",
            "0-3",
            0,
            3,
            step=1.0,
        )
        for cat, col in HAQ_CATEGORY_SCORES.items()
    ),
    *(
        fields.Field(
            col,
            f"HAQ {HAQ_CATEGORIES[cat][0]}: aids/devices used ({_AID_KINDS[cat]}), 1 = yes",
            "score",
            0,
            1,
            step=1.0,
        )
        for cat, col in HAQ_AIDS.items()
    ),
    fields.Field(
        HAQ_BATHTUB_SEAT, "HAQ hygiene: bathtub seat used, 1 = yes", "score", 0, 1, step=1.0
    ),
    *(
        fields.Field(
            col,
            f"HAQ {HAQ_CATEGORIES[cat][0]}: help from another person, 1 = yes",
            "score",
            0,
            1,
            step=1.0,
        )
        for cat, col in HAQ_HELP.items()
    ),
    # A HAQ-DI value as input to response criteria (ACR core set, MCID); the score is below.
    fields.Field("haq_di", "HAQ disability index (input to response criteria)", "0-3", 0, 3),
)


def _category_scores(c: Conventions, a: Mapping[str, np.ndarray]) -> np.ndarray:
    """Category scores, shape (8, *rows); NaN where no item of the category is answered."""
    shape = np.broadcast_shapes(*(np.shape(a[k]) for k in HAQ_INPUTS))
    scores = []
    for cat, cols in HAQ_ITEMS.items():
        cols = (*cols, HAQ_CATEGORY_SCORES[cat])
        items = np.stack([np.broadcast_to(a[col], shape) for col in cols])
        score = np.fmax.reduce(items, axis=0)
        if c.haq_method == "standard":
            used = np.asarray(a[HAQ_HELP[cat]]) > 0
            if cat in HAQ_AIDS:
                used = used | (np.asarray(a[HAQ_AIDS[cat]]) > 0)
            if cat == "hygiene" and c.haq_bathtub_seat_is_hygiene_aid:
                used = used | (np.asarray(a[HAQ_BATHTUB_SEAT]) > 0)
            score = np.where(used & (score < 2), 2.0, score)
        scores.append(score)
    return np.stack(scores)


def _haq_di(c: Conventions, **a: np.ndarray) -> np.ndarray:
    cats = _category_scores(c, a)
    answered = ~np.isnan(cats)
    n = answered.sum(axis=0)
    total = np.where(answered, cats, 0.0).sum(axis=0)
    return np.where(n >= c.haq_min_categories, total / np.maximum(n, 1), np.nan)


def _haq_check(c: Conventions, a: Mapping[str, np.ndarray]) -> list[RowIssue]:
    answered = np.stack(
        [
            np.any(
                ~np.isnan(np.stack([a[col] for col in (*cols, HAQ_CATEGORY_SCORES[cat])])), axis=0
            )
            for cat, cols in HAQ_ITEMS.items()
        ]
    )
    n = answered.sum(axis=0)
    flat = answered.reshape(len(HAQ_ITEMS), -1)
    n_flat = n.reshape(-1)
    names = list(HAQ_ITEMS)

    def rule(pos: int) -> str:
        unanswered = [names[i] for i in range(len(names)) if not flat[i, pos]]
        return (
            f"only {n_flat[pos]} of 8 HAQ categories answered (none of: {', '.join(unanswered)}); "
            f"HAQ-DI needs at least {c.haq_min_categories} (convention haq_min_categories; "
            "Stanford: 6)"
        )

    return [RowIssue(n < c.haq_min_categories, "haq_di", n, rule)]


haq_di = register(
    ItemizedMeasure(
        name="haq_di",
        label="HAQ disability index (Stanford HAQ-DI)",
        inputs=HAQ_INPUTS,
        formula="sum of category scores / categories scored; category = highest item (0-3), "
        "raised from 0 or 1 to 2 if aids/devices or help are used (standard DI only)",
        reference=_BRUCE_FRIES,
        compute=_haq_di,
        digits=3,
        conventions=("haq_min_categories", "haq_method", "haq_bathtub_seat_is_hygiene_aid"),
        optional=HAQ_INPUTS,
        note="Range 0-3; with all 8 categories scored a multiple of 0.125. Scored only with at "
        "least haq_min_categories categories answered (default 6 of 8).",
        check=_haq_check,
        any_of=HAQ_INPUTS,
    )
)


def haq_breakdown(
    frame: pd.DataFrame, conventions: Conventions = DEFAULT, *, lenient: bool = False
) -> pd.DataFrame:
    """HAQ-DI with its parts: one row per visit, same index as ``frame``.

    Columns: the 8 category scores ``haq_<category>`` (after aids/help under the standard method),
    ``haq_categories_scored``, ``haq_di`` and ``haq_di_reason`` (why a visit could not be scored;
    NA otherwise). Absent item or flag columns count as unanswered / not used. Strict mode raises
    one :class:`~rheumetrics.errors.ValidationError` naming every problem.
    """
    present = [col for col in HAQ_INPUTS if col in frame.columns]
    if not present:
        raise ValidationError(
            [Problem("all", "haq items", None, "no HAQ columns found (e.g. haq_dressing_1)")],
            "cannot compute haq_di",
        )
    positions = pd.RangeIndex(len(frame))
    inputs = {
        col: frame[col].set_axis(positions) if col in frame.columns else np.nan
        for col in HAQ_INPUTS
    }
    values, p = haq_di.evaluate(inputs, conventions, lenient=True)
    if p.problems and not lenient:
        labelled = [
            Problem(frame.index[pr.record], pr.field, pr.value, pr.rule) for pr in p.problems
        ]
        raise ValidationError(labelled, "cannot compute haq_di")
    shape = (len(frame),)
    arrays = {k: np.broadcast_to(v, shape) for k, v in p.arrays.items()}
    raw = _category_scores(conventions, arrays)
    bad = np.zeros(shape, dtype=bool)  # rows with an invalid (not merely blank) input
    for mask in p.bad.values():
        bad |= np.broadcast_to(mask, shape)
    cats = np.where(bad, np.nan, raw)
    reasons = pd.Series(pd.NA, index=positions, dtype="string")
    for pr in p.problems:
        text = pr.rule if pr.field == "haq_di" else f"{pr.field}={pr.value!r}: {pr.rule}"
        previous = reasons.iloc[pr.record]
        reasons.iloc[pr.record] = text if pd.isna(previous) else f"{previous}; {text}"
    out = pd.DataFrame(
        {f"haq_{cat}": cats[i] for i, cat in enumerate(HAQ_ITEMS)}, index=frame.index
    )
    out["haq_categories_scored"] = (~np.isnan(raw)).sum(axis=0)
    out["haq_di"] = values
    out["haq_di_reason"] = reasons.set_axis(frame.index)
    out.attrs["conventions"] = conventions.as_dict()
    return out


def haq_di_band(values: Any, *, lenient: bool = False) -> Any:
    """Interpretive HAQ-DI band: mild_to_moderate (0-1), moderate_to_severe (>1-2), severe (>2-3).

    Cut-off set ``haq_di_bands`` (rheumakit; J Rheumatol 2008), decided
    on unrounded values. Returns a label (scalar), an ordered Categorical (array) or a categorical
    Series; values outside 0-3 are an error (NA in lenient mode).
    """
    p = prepare({"haq_di": values}, context="HAQ-DI band", lenient=lenient)
    cs = cutoff_set("haq_di_bands", family="haq_di")
    codes = np.where(p.invalid, -1, cs.codes(p.arrays["haq_di"]))
    return as_category(codes, cs.labels, p.scalar, p.index, "haq_di_band")


def haq_di_improved(
    baseline: Any, followup: Any, *, mcid: float = HAQ_MCID, lenient: bool = False
) -> Any:
    """Whether HAQ-DI fell by at least the MCID (default 0.22).

    Decided on the snapped difference, so 1.47 -> 1.25 (exactly 0.22) counts. For DIs computed
    from items (multiples of 1/6, 1/7 or 1/8) no difference equals 0.22, so ">= 0.22" and the
    "> 0.22" used by some studies agree. Ward 2015 proposes 0.375 (pass ``mcid``).

    Returns bool for scalars, a nullable boolean Series for Series, a 1.0/0.0/NaN array for arrays.
    """
    if not mcid > 0:
        raise ValueError(f"mcid must be > 0, got {mcid!r}")
    p = prepare_paired(
        {"haq_di": baseline}, {"haq_di": followup}, context="HAQ-DI MCID", lenient=lenient
    )
    ok = absolute_change(p.baseline["haq_di"], p.followup["haq_di"]) >= mcid
    return p.flag(np.asarray(ok), "haq_di_improved")
