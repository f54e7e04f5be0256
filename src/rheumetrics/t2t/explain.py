"""The texts that explain each decision: the sentence, the rules considered, co-actions.

Texts repeat across visits, so each is built once per distinct combination of its pieces
(:func:`rheumetrics.t2t.text.concat`) or joined with pyarrow string kernels when nearly every row
differs; text columns become pandas string arrays through pyarrow dictionary takes.
"""

from __future__ import annotations

import string
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa

from rheumetrics.numeric import round_display
from rheumetrics.t2t.facts import Facts
from rheumetrics.t2t.indices import INDICES
from rheumetrics.t2t.strategy import DAYS_PER_MONTH, Rule, Strategy, format_duration
from rheumetrics.t2t.text import _codes, _first, concat, concat_rows

#: Status codes of a rule at a visit, for the rules-considered record.
NOT_REACHED, FIRED, UNKNOWN, CO_FIRED = 0, 1, 2, 3  # 4 + k: condition k is false


def fmt(values: np.ndarray, digits: int, pct: bool = False) -> np.ndarray:
    """Decimal strings (half-up display rounding), formatted once per distinct value."""
    shown = round_display(values * (100 if pct else 1), digits)
    shown = np.atleast_1d(np.asarray(shown, dtype=float))
    uniq, inv = np.unique(shown, return_inverse=True)
    text = np.asarray(
        [("missing" if np.isnan(u) else f"{u:.{digits}f}{'%' if pct else ''}") for u in uniq],
        dtype=object,
    )
    return text[inv.reshape(-1)] if len(uniq) else np.zeros(0, dtype=object)


def text_column(values: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Text as a pandas string column ('' and missing -> NA), built from hash codes and a pyarrow
    dictionary take: no per-row Python string conversion."""
    codes, labels = _codes(np.asarray(values, dtype=object))
    dictionary = pa.array(labels, pa.string(), mask=labels == "")
    decoded = dictionary.take(pa.array(codes))
    return pd.array(decoded, dtype=pd.StringDtype("pyarrow"))


def pattern_column(values: np.ndarray) -> pd.Categorical:
    """A long text that repeats by pattern (the rules considered) as a categorical column."""
    codes, labels = _codes(np.asarray(values, dtype=object))
    order = np.argsort(labels.astype(str))  # sorted categories: chunking cannot change the result
    rank = np.empty(len(labels), dtype=np.int64)
    rank[order] = np.arange(len(labels))
    sorted_labels = labels[order]
    keep = sorted_labels != ""
    remap = np.where(keep, np.cumsum(keep) - 1, -1)
    return pd.Categorical.from_codes(remap[rank[codes]], pd.Index(list(sorted_labels[keep])))


def considered(status: np.ndarray, terms: list[list[str]], s: Strategy) -> np.ndarray:
    """Per visit: every rule considered and why it did or did not fire (one text per pattern)."""
    n = status.shape[1]
    if n == 0 or not len(s.rules):
        return np.full(n, "", dtype=object)
    key = np.zeros(n, dtype=np.int64)
    for row in status:
        key = pd.factorize(key * (int(row.max()) + 1) + row)[0].astype(np.int64)
    first = _first(key)
    texts = []
    for pos in first:
        parts = []
        for r, code, names in zip(s.rules, status[:, pos], terms, strict=True):
            if code == NOT_REACHED:
                continue
            if code in (FIRED, CO_FIRED):
                parts.append(f"{r.id} {r.action}: fired")
            elif code == UNKNOWN:
                parts.append(f"{r.id} {r.action}: unknown (data missing)")
            else:
                parts.append(f"{r.id} {r.action}: not met ({names[code - 4]} is false)")
        texts.append("; ".join(parts))
    return np.asarray(texts, dtype=object)[key]


def co_text(r: Rule, rows: np.ndarray, f: Facts) -> np.ndarray:
    if r.action == "local_glucocorticoid":
        return concat(
            "intra-articular glucocorticoid into each swollen joint (",
            fmt(f.sjc[rows], 0),
            " joints)",
        )
    cls = str(r.taper_class)
    if f.therapy is None:
        return np.full(len(rows), f"{cls} (taper)", dtype=object)
    names = f.therapy.names(cls, rows)
    return concat(np.where(names == "", cls, concat(f"{cls}: ", names)).astype(object), " (taper)")


def sentences(
    text: dict[str, np.ndarray],
    next_day: np.ndarray,
    provisional: np.ndarray,
    rule_of: np.ndarray,
    f: Facts,
    s: Strategy,
) -> pd.api.extensions.ExtensionArray:
    """One clinician-readable sentence per visit (pieces built once per distinct value)."""
    n = len(rule_of)
    if n == 0:
        return pd.array([], dtype=pd.StringDtype("pyarrow"))
    spec = INDICES[s.index_name]
    value = fmt(f.index_value, spec.digits)
    tgt = f.bools["target_met"]
    status = np.where(
        tgt.true, "at target", np.where(tgt.false, "not at target", "target status unknown")
    ).astype(object)
    fields: dict[str, Callable[[np.ndarray], np.ndarray | str]] = {
        "index": lambda rows: s.index_label,
        "index_value": lambda rows: value[rows],
        "target": lambda rows: s.target_text,
        "months_since_change": lambda rows: fmt(
            f.durations["since_change"].days[rows] / DAYS_PER_MONTH, 1
        ),
        "improvement": lambda rows: (
            fmt(f.improvement_rel[rows], 0, pct=True)
            if s.improvement and s.improvement.kind == "relative"
            else fmt(f.improvement_abs[rows], spec.digits)
        ),
        "improvement_threshold": lambda rows: s.improvement.describe() if s.improvement else "",
        "months_in_target": lambda rows: fmt(f.months_in_target[rows], 1),
        "sustained": lambda rows: format_duration(s.timing.sustained_days or 0),
        "swollen_joints": lambda rows: fmt(f.sjc[rows], 0),
        "min_on_step": lambda rows: format_duration(s.timing.days("min_on_step")),
    }
    reason = np.full(n, "", dtype=object)
    for i, r in enumerate(s.rules):
        rows = np.flatnonzero(rule_of == i)
        if not len(rows):
            continue
        pieces: list[str | np.ndarray] = [np.full(len(rows), "", dtype=object)]
        for literal, name, _, _ in string.Formatter().parse(r.reason):
            pieces.append(literal)
            if name is not None:
                pieces.append(fields[name](rows))
        reason[rows] = concat(*pieces)
    action = text["action"]
    to_reg = text["to_regimen"]
    labels = np.asarray([f"step {st.id} ({st.label})" for st in s.ladder] + [""], dtype=object)
    pos = {st.id: i for i, st in enumerate(s.ladder)}
    step_codes, step_names = _codes(text["to_step"])
    to_idx = np.asarray([pos.get(x, len(s.ladder)) for x in step_names], dtype=np.int64)
    to_idx = to_idx[step_codes]
    to_text = labels[to_idx]
    verb = (
        pd.Series(action)
        .map(
            {
                "continue": "continue",
                "escalate": "escalate to ",
                "optimise": "optimise ",
                "switch": "switch to ",
                "taper": "taper: ",
                "reinstate": "return to the previous full dose: ",
                "review": "review (no further step on the ladder): ",
                "undetermined": "cannot decide",
            }
        )
        .fillna("")
        .to_numpy(dtype=object)
    )
    act = concat(
        verb,
        np.where(np.isin(action, ["escalate", "switch", "optimise"]), to_text, "").astype(object),
    )
    has_reg = (to_reg != "") & pd.notna(to_reg) & (action != "undetermined")
    act = np.where(
        has_reg,
        concat(
            act,
            np.where(action == "continue", " ", " -> ").astype(object),
            np.where(has_reg, to_reg, "").astype(object),
        ),
        act,
    )
    co = text["co_actions"]
    act = np.where(co != "", concat(act, "; also ", np.where(co != "", co, "").astype(object)), act)
    ids = text["rule_ids"]
    why = np.where(reason != "", concat(reason, " [", ids, "]"), "").astype(object)
    missing = text["missing"]
    prov = provisional
    why = np.where(
        missing != "",
        concat(
            why, np.where(prov, "; provisional, missing: ", "; missing: ").astype(object), missing
        ),
        why,
    )
    day_codes, days = pd.factorize(next_day)
    dates = np.asarray(pd.to_datetime(days, unit="D").strftime("%Y-%m-%d"), dtype=object)[day_codes]
    head = concat(f"{s.index_label} ", value, f" (target {s.target_text}): ", status)
    return concat_rows(head, ". ", why, ". -> ", act, ". Next visit by ", dates, ".")
