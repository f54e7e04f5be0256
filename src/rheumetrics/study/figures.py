"""Report figures (matplotlib, no pyplot state) and their embedding as base64 images."""

from __future__ import annotations

import base64
import io

import pandas as pd
from matplotlib.figure import Figure

#: Marker colours by group position (colour-blind safe, Okabe & Ito 2008).
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
#: Up to this many points each is drawn as its group's id; beyond, as small plain markers.
LETTER_POINTS = 1000
PLAIN_MARKERS = ("o", "^", "s", "D", "v", "P")


def change_scatter(points: pd.DataFrame, x: str, y: str, xlabel: str, ylabel: str,
                   groups: list[tuple[str, str]]) -> Figure:  # fmt: skip
    """Imaging change against clinical change, each point drawn as its group's id (as Fig. 2 of
    the NZ study), marked outliers circled and the most extreme one pointed at by one arrow.

    Each group is one marker collection (a letter glyph as the marker), so drawing time does not
    grow with a text object per point.
    """
    fig = Figure(figsize=(6.5, 5))
    ax = fig.add_subplot()
    letters = len(points) <= LETTER_POINTS
    for k, (gid, label) in enumerate(groups):
        part = points[points["group"].astype(str) == gid]
        colour = COLOURS[k % len(COLOURS)]
        marker = f"${gid}$" if letters and len(gid) <= 3 else PLAIN_MARKERS[k % len(PLAIN_MARKERS)]
        ax.scatter(part[x], part[y], marker=marker, s=70 if letters else 8, color=colour,
                   alpha=1.0 if letters else 0.5, linewidths=0, label=f"{label} (n = {len(part)})",
                   rasterized=not letters)  # fmt: skip
    outliers = points[points["outlier"]]
    if len(outliers):
        ax.scatter(outliers[x], outliers[y], s=260, facecolors="none", edgecolors="black",
                   linewidths=1.2, label="outlier")  # fmt: skip
        top = outliers.loc[outliers["studentised_residual"].abs().idxmax()]
        span_x = float(points[x].max() - points[x].min() or 1)
        span_y = float(points[y].max() - points[y].min() or 1)
        ax.annotate("", xy=(top[x], top[y]), xytext=(top[x] + 0.12 * span_x, top[y] + 0.02 * span_y),
                    arrowprops={"arrowstyle": "->", "color": "black", "shrinkB": 9})  # fmt: skip
    if len(points):
        pad_x = 0.05 * (points[x].max() - points[x].min() or 1)
        pad_y = 0.08 * (points[y].max() - points[y].min() or 1)
        ax.set_xlim(points[x].min() - pad_x, points[x].max() + 4 * pad_x)
        ax.set_ylim(points[y].min() - pad_y, points[y].max() + 3 * pad_y)
    ax.axhline(0, color="grey", linewidth=0.8, linestyle=":")
    ax.axvline(0, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def embed(fig: Figure, fmt: str = "png") -> str:
    """The figure as a ``data:`` URI (PNG at 110 dpi, or SVG with dense layers rasterised)."""
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=110 if fmt == "png" else 150)
    mime = "image/svg+xml" if fmt == "svg" else "image/png"
    return f"data:{mime};base64,{base64.b64encode(buf.getvalue()).decode('ascii')}"
