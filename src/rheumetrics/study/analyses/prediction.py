"""Tables for prediction studies: ROC curves with the Youden cut-off, logistic regression and
McNemar's test of paired proportions, with strict rules (``'> 0.5'``) turning a variable into
an event.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rheumetrics import stats as st
from rheumetrics.study.definitions import Study
from rheumetrics.study.design import StudyData, check_model_variables, require_numeric
from rheumetrics.study.rules import parse_rule

_RULES = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}


def roc(
    study: Study, data: StudyData, spec: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """AUC with DeLong CI and the Youden cut-off of each score for a truth dichotomised by the
    explicit rule ``positive`` (e.g. ``"> 0.5"``: strictly above). ``higher_is_positive`` is one
    flag or one per score (a fall in DAS28 and a high baseline DAS28 point the same way)."""
    truth_col = spec["truth"]
    scores = [spec["scores"]] if isinstance(spec["scores"], str) else list(spec["scores"])
    flags = spec.get("higher_is_positive", True)
    higher = [bool(f) for f in flags] if isinstance(flags, list) else [bool(flags)] * len(scores)
    require_numeric(data.frame, [truth_col, *scores], "roc")
    sub = data.frame[[truth_col, *scores]].dropna()
    op, value = parse_rule(spec["positive"])
    truth = pd.Series(
        _RULES[op](sub[truth_col].to_numpy(float), value).astype(int), index=sub.index
    )
    rule = f"{data.labels.get(truth_col, truth_col)} {op} {value:g}"
    if spec.get("label"):
        rule = f"{spec['label']} ({rule})"
    rows, curves = [], {}
    for s, hi in zip(scores, higher, strict=True):
        label = data.labels.get(s, s)
        auc = st.roc_auc(truth, sub[s], higher_is_positive=hi)
        cut = st.youden_cutoff(truth, sub[s], higher_is_positive=hi).iloc[0]
        rows.append({"score": s, "label": label, "direction": "higher" if hi else "lower",
                     "positive": rule, "n": len(sub), "n_positive": int(truth.sum()),
                     **auc.iloc[0].to_dict(), "cutoff": cut["threshold"],
                     "sensitivity": cut["sensitivity"], "specificity": cut["specificity"],
                     "youden_j": cut["youden_j"]})  # fmt: skip
        curves[label] = st.roc_curve(truth, sub[s], higher_is_positive=hi)
    out = pd.DataFrame(rows)
    if len(scores) == 2:  # orient both scores so that higher means positive
        a, b = (sub[s] if hi else -sub[s] for s, hi in zip(scores, higher, strict=True))
        out["delong_p"] = float(st.delong_test(truth, a, b)["p"].iloc[0])
    out.attrs["conventions"] = {
        "positive": rule,
        "direction": dict(zip(out["label"], out["direction"], strict=True)),
    }
    return out, curves


def dichotomised(frame: pd.DataFrame, variable: str, rule: str) -> pd.Series:
    """1 where ``variable`` meets ``rule`` (``"> 0.5"``: strictly above), 0 where it does not,
    missing where the variable is missing."""
    op, value = parse_rule(rule)
    x = pd.to_numeric(frame[variable], errors="coerce")
    out = pd.Series(_RULES[op](x.to_numpy(float), value).astype(float), index=frame.index)
    return out.where(x.notna())


def logistic(study: Study, data: StudyData, spec: dict[str, Any]) -> pd.DataFrame:
    """Logistic regression of an event defined by an explicit rule on a variable (e.g. erosion
    progression ``change:erosion > 0.5``) on predictors and confounders (complete cases); odds
    ratios with Wald CIs (statsmodels Logit through rheumetrics.stats)."""
    frame = data.frame.copy()
    frame["group"] = frame["group"].astype(str)
    require_numeric(frame, [spec["truth"]], "logistic")
    frame["_event"] = dichotomised(frame, spec["truth"], spec["positive"])
    predictors = (
        [spec["predictors"]] if isinstance(spec["predictors"], str) else list(spec["predictors"])
    )
    conf = spec.get("confounders", [])
    confounders = [conf] if isinstance(conf, str) else list(conf)
    check_model_variables(study, frame, [*predictors, *confounders], "logistic")
    out = st.logistic_regression(frame, "_event", predictors, confounders,
                                 reference={"group": study.groups[0].id}, missing="drop")  # fmt: skip
    out.attrs["event"] = f"{spec['truth']} {spec['positive']}"
    out.attrs["n_events"] = int(np.nansum(frame["_event"]))
    return out


def paired_proportions(study: Study, data: StudyData, spec: dict[str, Any]) -> pd.DataFrame:
    """Two events on the same patients (each an explicit rule on a variable, e.g. erosion
    progression on MRI and on radiographs): the paired 2 x 2 table and McNemar's test."""
    a, b = spec["first"], spec["second"]
    frame = data.frame
    require_numeric(frame, [a["variable"], b["variable"]], "paired_proportions")
    x = dichotomised(frame, a["variable"], a["positive"])
    y = dichotomised(frame, b["variable"], b["positive"])
    both = x.notna() & y.notna()
    x, y = x[both].astype(int), y[both].astype(int)
    table = np.array([[int(((x == 1) & (y == 1)).sum()), int(((x == 1) & (y == 0)).sum())],
                      [int(((x == 0) & (y == 1)).sum()), int(((x == 0) & (y == 0)).sum())]])  # fmt: skip
    test = st.mcnemar_test(table, method=spec.get("method", "exact")).iloc[0]
    return pd.DataFrame([{
        "first": f"{data.labels.get(a['variable'], a['variable'])} {a['positive']}",
        "second": f"{data.labels.get(b['variable'], b['variable'])} {b['positive']}",
        "n": int(both.sum()), "both": table[0, 0], "first_only": table[0, 1],
        "second_only": table[1, 0], "neither": table[1, 1],
        "first_percent": 100 * x.mean() if len(x) else np.nan,
        "second_percent": 100 * y.mean() if len(y) else np.nan,
        "stat": test.get("stat", np.nan), "p": float(test["p"]), "method": str(test["method"]),
    }])  # fmt: skip
