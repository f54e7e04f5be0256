"""Report figures (matplotlib, no pyplot state) and their embedding as base64 images."""

from __future__ import annotations

import base64
import io

import pandas as pd
from matplotlib.figure import Figure

#: Marker colours by group position (colour-blind safe, Okabe & Ito 2008).
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
#: Up to this many points each is drawn as its group's id; beyond, as plain markers (speed).
LETTER_POINTS = 1000
PLAIN_MARKERS = ("o", "^", "s", "D", "v", "P")
#: Arrows point at the most extreme outliers only.
ARROWS = 10


def change_scatter(points: pd.DataFrame, x: str, y: str, xlabel: str, ylabel: str,
                   groups: list[tuple[str, str]]) -> Figure:  # fmt: skip
    """Imaging change against clinical change, each point drawn as its group's id (as Fig. 2 of
    the NZ study), outliers circled and pointed at."""
    fig = Figure(figsize=(6.5, 5))
    ax = fig.add_subplot()
    for k, (gid, label) in enumerate(groups):
        part = points[points["group"].astype(str) == gid]
        colour = COLOURS[k % len(COLOURS)]
        for xv, yv in zip(part[x], part[y], strict=True):
            ax.text(
                xv, yv, gid, color=colour, ha="center", va="center", fontsize=9, fontweight="bold"
            )
        ax.scatter([], [], marker=f"${gid}$", color=colour, label=f"{label} (n = {len(part)})")
    outliers = points[points["outlier"]]
    ax.scatter(outliers[x], outliers[y], s=260, facecolors="none", edgecolors="black", linewidths=1.2,
               label="outlier (|studentised residual| > limit)")  # fmt: skip
    pointed = outliers.reindex(
        outliers["studentised_residual"].abs().sort_values(ascending=False).index
    )
    for xv, yv in zip(pointed[x][:ARROWS], pointed[y][:ARROWS], strict=True):
        ax.annotate("", xy=(xv, yv), xytext=(xv + 0.6, yv + 0.6 * abs(yv) / 10 + 3),
                    arrowprops={"arrowstyle": "->", "color": "black"})  # fmt: skip
    if len(points):
        pad_x = 0.05 * (points[x].max() - points[x].min() or 1)
        pad_y = 0.08 * (points[y].max() - points[y].min() or 1)
        ax.set_xlim(points[x].min() - pad_x, points[x].max() + 6 * pad_x)
        ax.set_ylim(points[y].min() - pad_y, points[y].max() + 3 * pad_y)
    ax.axhline(0, color="grey", linewidth=0.8, linestyle=":")
    ax.axvline(0, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def embed(fig: Figure, fmt: str = "png") -> str:
    """The figure as a ``data:`` URI (PNG at 110 dpi, or SVG)."""
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=110)
    mime = "image/svg+xml" if fmt == "svg" else "image/png"
    return f"data:{mime};base64,{base64.b64encode(buf.getvalue()).decode('ascii')}"
