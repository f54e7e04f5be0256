"""The texts that explain each decision: the sentence, the rules considered, co-actions.

Texts repeat across visits, so each is built once per distinct combination of its pieces
(:func:`rheumetrics.t2t.text.join` on coded :class:`~rheumetrics.t2t.text.Texts`); only the final
sentence is joined row by row, with pyarrow string kernels. Text columns become pandas string arrays
through pyarrow dictionary takes.
"""

from __future__ import annotations

import string
from collections.abc import Callable

import numpy as np
import pandas as pd

from rheumetrics.numeric import round_display
from rheumetrics.t2t.facts import Facts
from rheumetrics.t2t.indices import INDICES
from rheumetrics.t2t.rule_terms import DAYS_PER_MONTH, format_duration
from rheumetrics.t2t.strategy import Rule, Strategy
from rheumetrics.t2t.text import Texts, _codes, _first, concat, join, join_rows

#: Status codes of a rule at a visit, for the rules-considered record.
NOT_REACHED, FIRED, UNKNOWN, CO_FIRED = 0, 1, 2, 3  # 4 + k: condition k is false


def fmt(values: np.ndarray, digits: int, pct: bool = False) -> Texts:
    """Decimal strings (half-up display rounding), formatted once per distinct value."""
    shown = round_display(values * (100 if pct else 1), digits)
    shown = np.atleast_1d(np.asarray(shown, dtype=float))
    uniq, inv = np.unique(shown, return_inverse=True)
    text = np.asarray(
        [("missing" if np.isnan(u) else f"{u:.{digits}f}{'%' if pct else ''}") for u in uniq],
        dtype=object,
    )
    return Texts(inv.reshape(-1).astype(np.int64), text)


def text_column(values: np.ndarray | Texts) -> pd.api.extensions.ExtensionArray:
    """Text as a pandas string column ('' and missing -> NA), built from codes and a pyarrow
    dictionary take: no per-row Python string conversion."""
    return Texts.of(values).column()


def pattern_column(values: Texts) -> pd.Categorical:
    """A long text that repeats by pattern (the rules considered) as a categorical column."""
    label_codes, labels = _codes(values.labels)
    codes = label_codes[values.codes]
    order = np.argsort(labels.astype(str))  # sorted categories: chunking cannot change the result
    rank = np.empty(len(labels), dtype=np.int64)
    rank[order] = np.arange(len(labels))
    sorted_labels = labels[order]
    keep = sorted_labels != ""
    remap = np.where(keep, np.cumsum(keep) - 1, -1)
    return pd.Categorical.from_codes(remap[rank[codes]], pd.Index(list(sorted_labels[keep])))


def considered(status: np.ndarray, terms: list[list[str]], s: Strategy) -> Texts:
    """Per visit: every rule considered and why it did or did not fire (one text per pattern)."""
    n = status.shape[1]
    if n == 0 or not len(s.rules):
        return Texts.take([], np.full(n, -1))
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
    return Texts(key, np.asarray(texts, dtype=object))


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


_VERBS = {
    "continue": "continue",
    "escalate": "escalate to ",
    "optimise": "optimise ",
    "switch": "switch to ",
    "taper": "taper: ",
    "reinstate": "return to the previous full dose: ",
    "review": "review (no further step on the ladder): ",
    "undetermined": "cannot decide",
}


def _const(text: str, n: int) -> Texts:
    return Texts(np.zeros(n, dtype=np.int64), np.asarray([text], dtype=object))


def _reasons(rule_of: np.ndarray, f: Facts, s: Strategy) -> Texts:
    """The fired rule's reason template filled in, once per distinct combination of its fields."""
    n = len(rule_of)
    spec = INDICES[s.index_name]
    value = fmt(f.index_value, spec.digits)
    fields: dict[str, Callable[[np.ndarray], Texts | str]] = {
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
    codes = np.zeros(n, dtype=np.int64)
    labels: list[np.ndarray] = [np.asarray([""], dtype=object)]
    offset = 1
    for i, r in enumerate(s.rules):
        rows = np.flatnonzero(rule_of == i)
        if not len(rows):
            continue
        pieces: list[str | Texts] = [_const("", len(rows))]
        for literal, name, _, _ in string.Formatter().parse(r.reason):
            pieces.append(literal)
            if name is not None:
                pieces.append(fields[name](rows))
        part = join(*pieces)
        codes[rows] = part.codes + offset
        labels.append(part.labels)
        offset += len(part.labels)
    return Texts(codes, np.concatenate(labels))


def sentences(
    text: dict[str, Texts],
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
    status = Texts.take(
        ["at target", "not at target", "target status unknown"],
        np.where(tgt.true, 0, np.where(tgt.false, 1, 2)),
    )
    reason = _reasons(rule_of, f, s)
    action = text["action"]
    to_reg = text["to_regimen"]
    labels = {st.id: f"step {st.id} ({st.label})" for st in s.ladder}
    to_step = text["to_step"]
    to_text = Texts(to_step.codes, np.asarray([labels.get(x, "") for x in to_step.labels], object))
    verb = Texts(action.codes, np.asarray([_VERBS.get(a, "") for a in action.labels], object))
    act = join(verb, to_text.blank(action.isin(["escalate", "switch", "optimise"])))
    has_reg = ~to_reg.empty() & ~action.isin(["undetermined"])
    sep = Texts.take([" -> ", " "], action.isin(["continue"]).astype(np.int64))
    act = join(act, sep.blank(has_reg), to_reg.blank(has_reg))
    co = text["co_actions"]
    act = join(act, _const("; also ", n).blank(~co.empty()), co)
    ids = text["rule_ids"]
    has_reason = ~reason.empty()
    why = join(
        reason,
        _const(" [", n).blank(has_reason),
        ids.blank(has_reason),
        _const("]", n).blank(has_reason),
    )
    missing = text["missing"]
    lead = Texts.take(["; missing: ", "; provisional, missing: "], provisional.astype(np.int64))
    why = join(why, lead.blank(~missing.empty()), missing)
    day_codes, days = pd.factorize(next_day)
    dates = Texts(
        day_codes.astype(np.int64),
        np.asarray(pd.to_datetime(days, unit="D").strftime("%Y-%m-%d"), dtype=object),
    )
    head = join(f"{s.index_label} ", value, f" (target {s.target_text}): ", status)
    return join_rows(head, ". ", why, ". -> ", act, ". Next visit by ", dates, ".")
