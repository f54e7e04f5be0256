"""Forest plot of a meta-analysis, with the estimate [CI] and weight columns journals print.

The layout follows the forest plots of RevMan and R metafor ``forest()`` (Lewis & Clarke 2001,
*BMJ* 322:1479-1480): one row per study with a square sized by its weight and its CI, the pooled
diamond, the prediction interval as a bar, and at the right of each row its weight and its
estimate with CI as text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from rheumetrics.stats._common import check_choice
from rheumetrics.stats.meta import BackTransform

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["forest_plot"]


def _ci_text(est: float, low: float, high: float, digits: int) -> str:
    return f"{est:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def forest_plot(
    result: pd.DataFrame,
    *,
    exponentiate: bool = False,
    xlabel: str = "effect",
    title: str | None = None,
    back_transform: BackTransform = "none",
    digits: int = 2,
) -> Figure:
    """Forest plot of a :func:`rheumetrics.stats.meta_analysis` result.

    Study CIs with squares sized by weight, the pooled diamond and the prediction interval
    (grey bar), and two text columns: each study's weight (%) and its estimate [CI] (then the
    pooled estimate [CI] and the prediction interval), to ``digits`` decimals. With
    ``exponentiate`` (or ``back_transform="exp"``: log RR / log OR) the axis and the text show
    ratios, the axis on a log scale with the null line at 1; ``back_transform="tanh"`` shows
    Fisher's z values as correlations; otherwise the null line is at 0.

    Examples
    --------
    >>> from rheumetrics.stats import meta_analysis
    >>> res = meta_analysis([0.1, 0.3, 0.2], [0.01, 0.02, 0.015], studies=["A", "B", "C"])
    >>> fig = forest_plot(res)
    >>> texts = [t.get_text() for t in fig.axes[0].texts]
    >>> texts[2:4], texts[-2:]  # study A: weight, estimate [CI]; pooled; prediction interval
    (['46.2%', '0.10 [-0.10, 0.30]'], ['0.18 [0.04, 0.31]', '[0.04, 0.31]'])
    """
    from matplotlib.figure import Figure
    from matplotlib.transforms import blended_transform_factory

    studies: pd.DataFrame = result.attrs["studies"]
    pooled = result.iloc[0]
    check_choice("back_transform", back_transform, ("none", "exp", "tanh"))
    exponentiate = exponentiate or back_transform == "exp"
    tf = np.exp if exponentiate else np.tanh if back_transform == "tanh" else (lambda a: a)
    k = len(studies)
    fig = Figure(figsize=(9.5, 1.5 + 0.32 * (k + 3)))
    ax = fig.add_subplot()
    ys = np.arange(k, 0, -1) + 1.0
    ax.hlines(ys, tf(studies["ci_low"]), tf(studies["ci_high"]), color="black", linewidth=1)
    sizes = 20 + 180 * studies["weight_percent"] / studies["weight_percent"].max()
    ax.scatter(tf(studies["yi"]), ys, s=sizes, marker="s", color="black", zorder=3)
    est, lo, hi = tf(pooled["estimate"]), tf(pooled["ci_low"]), tf(pooled["ci_high"])
    ax.fill([lo, est, hi, est], [0.0, 0.25, 0.0, -0.25], color="black")
    has_pi = bool(np.isfinite(pooled["pi_low"]))
    if has_pi:
        ax.hlines(-0.8, tf(pooled["pi_low"]), tf(pooled["pi_high"]), color="grey", linewidth=2)
    ax.axvline(1.0 if exponentiate else 0.0, color="grey", linestyle=":", linewidth=1)
    labels = [str(s) for s in studies["study"]] + [f"{pooled['model']} pooled"]
    ticks = [*ys, 0.0]
    if has_pi:
        labels.append("Prediction interval")
        ticks.append(-0.8)
    ax.set_yticks(ticks, labels)
    if exponentiate:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylim(-1.4, k + 2.3)
    ax.spines[["top", "right", "left"]].set_visible(False)
    ax.tick_params(axis="y", length=0)
    # text columns right of the axes: x in axes fractions, y in data units
    text = blended_transform_factory(ax.transAxes, ax.transData)
    weight_x, ci_x = 1.16, 1.22
    head_y = k + 1.6
    ax.text(weight_x, head_y, "Weight", transform=text, ha="right", fontweight="bold")
    ax.text(ci_x, head_y, "Estimate [95% CI]", transform=text, ha="left", fontweight="bold")
    rows = zip(ys, studies["weight_percent"], studies["yi"], studies["ci_low"],
               studies["ci_high"], strict=True)  # fmt: skip
    for y, weight, yi, low, high in rows:
        ax.text(weight_x, y, f"{weight:.1f}%", transform=text, ha="right", va="center")
        ax.text(ci_x, y, _ci_text(tf(yi), tf(low), tf(high), digits), transform=text,
                ha="left", va="center")  # fmt: skip
    ax.text(weight_x, 0.0, "100%", transform=text, ha="right", va="center", fontweight="bold")
    ax.text(ci_x, 0.0, _ci_text(est, lo, hi, digits), transform=text, ha="left", va="center",
            fontweight="bold")  # fmt: skip
    if has_pi:
        pi = f"[{tf(pooled['pi_low']):.{digits}f}, {tf(pooled['pi_high']):.{digits}f}]"
        ax.text(ci_x, -0.8, pi, transform=text, ha="left", va="center", color="dimgrey")
    if title:
        ax.set_title(title, loc="left")
    fig.subplots_adjust(left=0.25, right=0.6, bottom=0.5 / fig.get_figheight() + 0.08)
    return fig
