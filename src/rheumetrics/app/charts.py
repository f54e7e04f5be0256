"""Server-side SVG charts: the index over time with category bands and target, the treatment
timeline on the same time axis. Plain SVG text, no script and no external resource."""

from __future__ import annotations

import datetime as dt
from html import escape

import numpy as np
import pandas as pd

from rheumetrics.measures.cutoffs import CutoffSet

WIDTH, LEFT, RIGHT = 860, 56, 16
BAND_COLOURS = ("#d9f0d3", "#fff3bf", "#ffd8a8", "#ffc9c9", "#f1c0e8")


def _axis(dates: list[dt.date]) -> tuple[dt.date, dt.date]:
    lo, hi = min(dates), max(dates)
    if lo == hi:
        lo, hi = lo - dt.timedelta(days=30), hi + dt.timedelta(days=30)
    pad = dt.timedelta(days=max(7, (hi - lo).days // 40))
    return lo - pad, hi + pad


def _x(d: dt.date, lo: dt.date, hi: dt.date) -> float:
    return LEFT + (WIDTH - LEFT - RIGHT) * (d - lo).days / max((hi - lo).days, 1)


def _year_ticks(lo: dt.date, hi: dt.date, top: float, bottom: float) -> str:
    parts = []
    years = range(lo.year + 1, hi.year + 1)
    step = max(1, len(years) // 10)
    for y in list(years)[::step]:
        x = _x(dt.date(y, 1, 1), lo, hi)
        parts.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" class="grid"/>'
            f'<text x="{x:.1f}" y="{bottom + 14}" class="tick" text-anchor="middle">{y}</text>'
        )
    return "".join(parts)


def time_axis(visit_dates: list[dt.date], therapy_dates: list[dt.date]) -> tuple[dt.date, dt.date]:
    """The shared time axis of the trend chart and the timeline."""
    dates = [*visit_dates, *therapy_dates] or [dt.date.today()]
    return _axis(dates)


def trend_svg(
    dates: list[dt.date],
    values: list[float],
    label: str,
    cutoffs: CutoffSet | None,
    target: float | None,
    axis: tuple[dt.date, dt.date],
    height: int = 240,
) -> str:
    """Index over time: coloured category bands, the target line, one marker per visit."""
    lo, hi = axis
    top, bottom = 12, height - 24
    finite = [v for v in values if np.isfinite(v)]
    bounds = list(cutoffs.bounds) if cutoffs else []
    ymax = max([*finite, *(b * 1.25 for b in bounds[-1:]), 1.0]) * 1.08
    ymin = 0.0

    def y(v: float) -> float:
        return bottom - (bottom - top) * (v - ymin) / (ymax - ymin)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" class="chart" '
        f'role="img" aria-label="{escape(label)} over time">'
    ]
    if cutoffs:
        edges = [ymin, *bounds, ymax]
        for i, name in enumerate(cutoffs.labels):
            y0, y1 = y(min(edges[i + 1], ymax)), y(edges[i])
            parts.append(
                f'<rect x="{LEFT}" y="{y0:.1f}" width="{WIDTH - LEFT - RIGHT}" height="{max(y1 - y0, 0):.1f}" '
                f'fill="{BAND_COLOURS[i % len(BAND_COLOURS)]}"><title>{escape(name)}</title></rect>'
                f'<text x="{WIDTH - RIGHT - 4}" y="{y0 + 12:.1f}" class="band" text-anchor="end">{escape(name)}</text>'
            )
    parts.append(_year_ticks(lo, hi, top, bottom))
    for v in (ymin, *bounds):
        parts.append(
            f'<text x="{LEFT - 6}" y="{y(v) + 4:.1f}" class="tick" text-anchor="end">{v:g}</text>'
        )
    if target is not None:
        parts.append(
            f'<line x1="{LEFT}" y1="{y(target):.1f}" x2="{WIDTH - RIGHT}" y2="{y(target):.1f}" class="target"/>'
            f'<text x="{LEFT + 4}" y="{y(target) - 4:.1f}" class="target-label">target {target:g}</text>'
        )
    pts = [(d, v) for d, v in zip(dates, values, strict=True) if np.isfinite(v)]
    if pts:
        path = " ".join(f"{_x(d, lo, hi):.1f},{y(v):.1f}" for d, v in pts)
        parts.append(f'<polyline points="{path}" class="line"/>')
    for d, v in zip(dates, values, strict=True):
        x = _x(d, lo, hi)
        if np.isfinite(v):
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y(v):.1f}" r="4" class="visit"><title>{d}: {label} {v:.2f}</title></circle>'
            )
        else:
            parts.append(
                f'<circle cx="{x:.1f}" cy="{bottom - 4}" r="3" class="visit-missing"><title>{d}: {label} not computable</title></circle>'
            )
    parts.append(
        f'<line x1="{LEFT}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}" class="axis"/>'
    )
    parts.append(f'<text x="{LEFT}" y="{top - 2}" class="tick">{escape(label)}</text></svg>')
    return "".join(parts)


def timeline_svg(therapies: pd.DataFrame, axis: tuple[dt.date, dt.date], today: dt.date) -> str:
    """Drug courses as bars on the time axis, with dose, and the stop reason at the bar's end."""
    lo, hi = axis
    rows = therapies.sort_values(["start_date", "drug"]).reset_index(drop=True)
    lane, height = 22, 30 + 22 * max(len(rows), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" class="chart timeline" '
        'role="img" aria-label="treatment timeline">'
    ]
    parts.append(_year_ticks(lo, hi, 4, height - 20))
    if rows.empty:
        parts.append(f'<text x="{LEFT}" y="20" class="tick">no treatment recorded</text>')
    starts = rows["start_date"].to_numpy().astype("datetime64[D]").tolist()
    stops = rows["stop_date"].to_numpy().astype("datetime64[D]").tolist()
    for i, r in enumerate(rows.to_dict("records")):
        start, stop = starts[i], stops[i]
        x0 = _x(max(start, lo), lo, hi)
        x1 = _x(min(stop or today, hi), lo, hi)
        yy = 8 + lane * i
        dose = "" if pd.isna(r["dose"]) else f" {r['dose']:g} {r['dose_unit'] or ''}".rstrip()
        text = f"{r['drug']}{dose}"
        tip = f"{r['drug']} ({r['drug_class']}){dose}: {start} to {stop or 'ongoing'}"
        if stop is not None and isinstance(r.get("stop_reason"), str):
            tip += f", stopped: {r['stop_reason']}"
        cls = escape(str(r["drug_class"]))
        # a bar starting near the right edge has its label before it, ending at its start
        anchor = (x0 - 4, ' text-anchor="end"') if x0 > 0.7 * WIDTH else (x0 + 4, "")
        parts.append(
            f'<rect x="{x0:.1f}" y="{yy}" width="{max(x1 - x0, 2):.1f}" height="16" rx="3" class="drug {cls}">'
            f"<title>{escape(tip)}</title></rect>"
            f'<text x="{anchor[0]:.1f}" y="{yy + 12}" class="drug-label"{anchor[1]}>{escape(text)}</text>'
        )
        if stop is not None and isinstance(r.get("stop_reason"), str) and x1 < 0.85 * WIDTH:
            parts.append(
                f'<text x="{x1 + 4:.1f}" y="{yy + 12}" class="stop">✕ {escape(r["stop_reason"])}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
