"""ROC analysis: empirical AUC with DeLong CI, Youden cut-off, paired DeLong test, ROC plot.

The AUC is the Mann-Whitney probability P(score_pos > score_neg) + 0.5 P(tie) (Hanley & McNeil
1982). Its variance comes from DeLong, DeLong & Clarke-Pearson (1988) structural components
(placement values, computed from mid-ranks as in Sun & Xu 2014), which also give the covariance
of two AUCs measured on the same subjects for the paired test. Higher scores are taken to
indicate the positive class unless ``higher_is_positive=False``; the direction is never chosen
from the data (that would bias the AUC upwards).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from rheumetrics.errors import ProblemCollector
from rheumetrics.stats._common import (
    Missing,
    check_choice,
    check_range,
    result_frame,
    validated_floats,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["delong_test", "plot_roc", "roc_auc", "roc_curve", "youden_cutoff"]


def _split(
    truth: Any, scores: Mapping[str, Any], positive: Any, higher_is_positive: bool, missing: Missing
) -> tuple[list[np.ndarray], list[np.ndarray], int]:
    labels = truth if isinstance(truth, pd.Series) else pd.Series(np.ravel(np.asarray(truth)))
    truth_na = labels.isna().to_numpy()
    problems = ProblemCollector("ROC input")
    if missing == "raise":
        for i in np.flatnonzero(truth_na):
            problems.add(
                labels.index[i], "truth", labels.iloc[i], "missing; pass missing='drop' to omit"
            )
    problems.raise_if_any()
    arrays, mask = validated_floats(scores, missing=missing, extra_missing=truth_na)
    is_pos = labels.to_numpy()[~mask] == positive
    if is_pos.all() or not is_pos.any():
        seen = sorted({str(v) for v in labels[~mask]})
        problems.add("-", "truth", seen, f"needs both positives ({positive!r}) and negatives")
    problems.raise_if_any()
    sign = 1.0 if higher_is_positive else -1.0
    kept = [sign * a[~mask] for a in arrays]
    return [a[is_pos] for a in kept], [a[~is_pos] for a in kept], int(mask.sum())


def _placements(pos: np.ndarray, neg: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    from scipy import stats

    m, n = pos.size, neg.size
    combined = stats.rankdata(np.concatenate([pos, neg]))
    v10 = (combined[:m] - stats.rankdata(pos)) / n  # share of negatives each positive beats
    v01 = 1.0 - (combined[m:] - stats.rankdata(neg)) / m  # share of positives beating each negative
    return float(v10.mean()), v10, v01


def _hanley_mcneil_se(auc: float, m: int, n: int) -> float:
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    return float(
        np.sqrt((auc * (1 - auc) + (m - 1) * (q1 - auc**2) + (n - 1) * (q2 - auc**2)) / (m * n))
    )


def roc_auc(
    truth: Any,
    score: Any,
    *,
    positive: Any = 1,
    higher_is_positive: bool = True,
    se_method: Literal["delong", "hanley_mcneil"] = "delong",
    confidence: float = 0.95,
    missing: Missing = "raise",
) -> pd.DataFrame:
    """Area under the empirical ROC curve with SE and a Wald CI (clipped to [0, 1], as pROC).

    ``se_method="delong"`` (default; DeLong et al. 1988, Stata ``roctab``, pROC) or
    ``"hanley_mcneil"`` (their 1982 exponential approximation). Returns one row: auc, se,
    ci_low, ci_high, n_pos, n_neg, n_dropped, se_method.
    """
    from scipy import stats

    check_choice("se_method", se_method, ("delong", "hanley_mcneil"))
    check_range("confidence", confidence, 0.0, 1.0)
    (pos,), (neg,), dropped = _split(truth, {"score": score}, positive, higher_is_positive, missing)
    auc, v10, v01 = _placements(pos, neg)
    if se_method == "delong":
        se = float(np.sqrt(v10.var(ddof=1) / pos.size + v01.var(ddof=1) / neg.size))
    else:
        se = _hanley_mcneil_se(auc, pos.size, neg.size)
    q = stats.norm.ppf(0.5 + confidence / 2)
    return result_frame(
        {
            "auc": auc,
            "se": se,
            "ci_low": max(0.0, auc - q * se),
            "ci_high": min(1.0, auc + q * se),
            "n_pos": pos.size,
            "n_neg": neg.size,
            "n_dropped": dropped,
            "se_method": se_method,
        },
        {
            "auc": "empirical (Mann-Whitney)",
            "se_method": se_method,
            "ci": "Wald, clipped to [0, 1]",
            "direction": "higher = positive" if higher_is_positive else "lower = positive",
        },
    )


def roc_curve(
    truth: Any,
    score: Any,
    *,
    positive: Any = 1,
    higher_is_positive: bool = True,
    missing: Missing = "raise",
) -> pd.DataFrame:
    """Sensitivity and specificity at every observed cut-off (positive when score >= threshold).

    The first row (threshold +inf) is the (0, 0) corner; with ``higher_is_positive=False`` a
    subject is positive when score <= threshold.
    """
    (pos,), (neg,), _ = _split(truth, {"score": score}, positive, higher_is_positive, missing)
    cuts = np.unique(np.concatenate([pos, neg]))[::-1]
    sens = (pos[None, :] >= cuts[:, None]).mean(axis=1)
    spec = (neg[None, :] < cuts[:, None]).mean(axis=1)
    sign = 1.0 if higher_is_positive else -1.0
    return pd.DataFrame(
        {
            "threshold": np.concatenate([[sign * np.inf], sign * cuts]),
            "sensitivity": np.concatenate([[0.0], sens]),
            "specificity": np.concatenate([[1.0], spec]),
        }
    )


def youden_cutoff(
    truth: Any,
    score: Any,
    *,
    positive: Any = 1,
    higher_is_positive: bool = True,
    threshold: Literal["observed", "midpoint"] = "observed",
    missing: Missing = "raise",
) -> pd.DataFrame:
    """Cut-off maximising Youden's J = sensitivity + specificity - 1 (Youden 1950).

    ``threshold="observed"``: the cut-off is an observed score and a subject is positive when
    score >= cut-off (Stata ``roctab, detail``, SPSS). ``"midpoint"``: halfway between that score
    and the next lower observed score, as pROC prints (the same classification). All cut-offs
    that tie for the maximum are returned, one row each.
    """
    check_choice("threshold", threshold, ("observed", "midpoint"))
    curve = roc_curve(
        truth, score, positive=positive, higher_is_positive=higher_is_positive, missing=missing
    )
    curve = curve.iloc[1:].reset_index(drop=True)
    j = curve["sensitivity"] + curve["specificity"] - 1
    best = np.flatnonzero(np.isclose(j, j.max(), rtol=0, atol=1e-12))
    out = curve.iloc[best].assign(youden_j=j.iloc[best]).reset_index(drop=True)
    if threshold == "midpoint":
        nxt = curve["threshold"].shift(-1).iloc[best].to_numpy()
        cut = out["threshold"].to_numpy()
        out["threshold"] = np.where(
            np.isnan(nxt), cut - 1 if higher_is_positive else cut + 1, (cut + nxt) / 2
        )
    out.attrs["conventions"] = {
        "criterion": "Youden J",
        "threshold": threshold,
        "rule": "positive if score >= threshold"
        if higher_is_positive
        else "positive if score <= threshold",
    }
    return out


def delong_test(
    truth: Any,
    score1: Any,
    score2: Any,
    *,
    positive: Any = 1,
    higher_is_positive: bool = True,
    confidence: float = 0.95,
    missing: Missing = "raise",
) -> pd.DataFrame:
    """DeLong et al. (1988) test of two correlated AUCs measured on the same subjects.

    Returns one row: auc1, auc2, difference (auc1 - auc2), se, ci_low, ci_high, z, p
    (two-sided), method, correlation of the two AUC estimates, n_pos, n_neg. When both
    scores rank the subjects identically the difference and its variance are 0 and the
    result is z = 0, p = 1, as pROC ``roc.test`` reports.

    Examples
    --------
    >>> truth = [0, 0, 1, 1, 0, 1, 1, 0]
    >>> s1 = [0.1, 0.4, 0.35, 0.8, 0.2, 0.9, 0.7, 0.5]
    >>> res = delong_test(truth, s1, [2 * v for v in s1]).iloc[0]
    >>> float(res["z"]), float(res["p"])
    (0.0, 1.0)
    """
    from scipy import stats

    check_range("confidence", confidence, 0.0, 1.0)
    pos, neg, dropped = _split(
        truth, {"score1": score1, "score2": score2}, positive, higher_is_positive, missing
    )
    parts = [_placements(p, n) for p, n in zip(pos, neg, strict=True)]
    aucs = np.array([p[0] for p in parts])
    s10 = np.cov(np.vstack([p[1] for p in parts]))
    s01 = np.cov(np.vstack([p[2] for p in parts]))
    cov = s10 / pos[0].size + s01 / neg[0].size
    diff = float(aucs[0] - aucs[1])
    var = float(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    se = float(np.sqrt(max(var, 0.0)))
    # identical rankings: no difference and no variance; pROC reports z = 0, p = 1
    z = diff / se if se > 0 else (0.0 if diff == 0 else np.nan)
    q = stats.norm.ppf(0.5 + confidence / 2)
    return result_frame(
        {
            "auc1": float(aucs[0]),
            "auc2": float(aucs[1]),
            "difference": diff,
            "se": se,
            "ci_low": diff - q * se,
            "ci_high": diff + q * se,
            "z": z,
            "p": float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else np.nan,
            "method": "normal approximation",
            "correlation": float(cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1]))
            if cov[0, 0] * cov[1, 1] > 0
            else np.nan,
            "n_pos": pos[0].size,
            "n_neg": neg[0].size,
            "n_dropped": dropped,
        },
        {"test": "DeLong paired AUC comparison", "alternative": "two-sided"},
    )


def plot_roc(curves: Mapping[str, pd.DataFrame], *, title: str | None = None) -> Figure:
    """Plot ROC curves (frames from :func:`roc_curve`) with the chance diagonal; returns a Figure."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.5, 4.5))
    ax = fig.add_subplot()
    for label, curve in curves.items():
        ax.step(1 - curve["specificity"], curve["sensitivity"], where="post", label=label)
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey", linewidth=1)
    ax.set(
        xlabel="1 - specificity", ylabel="sensitivity", xlim=(0, 1), ylim=(0, 1.01), aspect="equal"
    )
    if title:
        ax.set_title(title)
    if len(curves) > 1:
        ax.legend(loc="lower right", frameon=False)
    fig.tight_layout()
    return fig
