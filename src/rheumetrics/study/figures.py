"""Report figures (matplotlib, no pyplot state) and their embedding as base64 images."""

from __future__ import annotations

import base64
import io

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.path import Path
from matplotlib.textpath import TextPath

#: Marker colours by group position (colour-blind safe, Okabe & Ito 2008).
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
#: Up to this many points each is drawn as its group's id; beyond, as small plain markers.
LETTER_POINTS = 1000
PLAIN_MARKERS = ("o", "^", "s", "D", "v", "P")
PLAIN_NAMES = ("circles", "triangles", "squares", "diamonds", "down-triangles", "plus signs")


def _letters(gid: str, n_points: int) -> bool:
    """A group's points are drawn as its id when it is short and the plot not crowded."""
    return n_points <= LETTER_POINTS and len(gid) <= 3


def scatter_key(n_points: int, groups: list[tuple[str, str]]) -> str:
    """How :func:`change_scatter` draws each group, for the caption.

    >>> scatter_key(80, [("A", "Group A"), ("B", "Group B")])
    "Group A drawn as 'A', Group B as 'B'"
    >>> scatter_key(109, [("female", "Women"), ("male", "Men")])
    'Women drawn as circles, Men as triangles'
    """
    shown = [f"'{gid}'" if _letters(gid, n_points) else PLAIN_NAMES[k % len(PLAIN_NAMES)]
             for k, (gid, _) in enumerate(groups)]  # fmt: skip
    parts = [f"{label} {'drawn ' if k == 0 else ''}as {how}"
             for k, ((_, label), how) in enumerate(zip(groups, shown, strict=True))]  # fmt: skip
    return ", ".join(parts)


def _glyph(text: str) -> Path:
    """``text`` as a marker path centred on the point (a path marker is drawn without parsing
    text for every point or draw)."""
    path = TextPath((0, 0), text, size=1, prop=FontProperties(family="DejaVu Sans", weight="bold"))
    v = path.vertices
    centre = (v.min(axis=0) + v.max(axis=0)) / 2
    return Path(v - centre, path.codes)


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
        glyph = _letters(gid, len(points))
        marker = _glyph(gid) if glyph else PLAIN_MARKERS[k % len(PLAIN_MARKERS)]
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


def trajectories(table: pd.DataFrame, visits: list[tuple[str, str]], groups: list[tuple[str, str]],
                 outcomes: list[tuple[str, str]]) -> Figure:  # fmt: skip
    """Median and interquartile band of each outcome over the visits, one line per group (from
    the tidy ``scores`` table: visit, outcome, group, median, q1, q3)."""
    n = len(outcomes)
    cols = min(n, 3)
    rows = -(-n // cols)
    fig = Figure(figsize=(3.2 * cols, 2.6 * rows))
    order = {vid: k for k, (vid, _) in enumerate(visits)}
    for k, (oid, label) in enumerate(outcomes):
        ax = fig.add_subplot(rows, cols, k + 1)
        part = table[table["outcome"] == oid]
        for j, (gid, glabel) in enumerate(groups):
            g = part[part["group"] == gid].sort_values("visit", key=lambda s: s.map(order))
            if g.empty:
                continue
            x = g["visit"].map(order).to_numpy(float)
            colour = COLOURS[j % len(COLOURS)]
            ax.plot(x, g["median"], marker="o", color=colour, label=glabel, linewidth=1.4)
            ax.fill_between(
                x, g["q1"].to_numpy(float), g["q3"].to_numpy(float), color=colour, alpha=0.15
            )
        ax.set_xticks(range(len(visits)), [v for _, v in visits], fontsize=7)
        ax.set_title(label, fontsize=9)
        ax.tick_params(labelsize=7)
    fig.axes[0].legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def embed(fig: Figure, fmt: str = "png") -> str:
    """The figure as a ``data:`` URI (PNG at 110 dpi, or SVG with dense layers rasterised)."""
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=110 if fmt == "png" else 150)
    mime = "image/svg+xml" if fmt == "svg" else "image/png"
    return f"data:{mime};base64,{base64.b64encode(buf.getvalue()).decode('ascii')}"
