"""The patient flow diagram, drawn as SVG from the counts (in the layout of the CONSORT 2010 flow
diagram: Schulz KF, Altman DG, Moher D. BMJ 2010;340:c332, doi:10.1136/bmj.c332; and of the
STROBE statement's recommendation to report numbers at each stage, von Elm E et al. Lancet
2007;370:1453-1457, doi:10.1016/S0140-6736(07)61602-X).

Boxes from top to bottom: patients in the cohort (assessed); excluded, with each reason and its
count; enrolled (patients and enrolments); then one column per group with its enrolments, the
data present at each visit, dropouts and the enrolments analysed with complete data. Every
number comes from :func:`screening_counts` and the tidy ``flow`` table, so the diagram cannot
disagree with the tables. Plain SVG (no script, text escaped): it is embedded in the HTML report
and in the PDF as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

import pandas as pd

#: Diagram geometry in SVG user units (pixels at 96 dpi).
WIDTH, BOX_H, LINE_H, GAP, MARGIN = 640, 22, 13, 16, 8
#: Stages of the flow table shown in the enrolment box rather than per group.
TOP_STAGES = ("patients enrolled", "enrolments", "patients enrolled in more than one group",
              "patients with complete data")  # fmt: skip


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    lines: tuple[str, ...]

    @property
    def h(self) -> float:
        return BOX_H + LINE_H * (len(self.lines) - 1)


def screening_counts(screening: pd.DataFrame) -> pd.DataFrame:
    """Patients assessed, enrolled and excluded by reason (``stage``, ``n``) from the
    per-patient screening table (``patient_id``, ``reason``; "" when enrolled)."""
    reasons = screening.loc[screening["reason"] != "", "reason"].value_counts(sort=True)
    rows = [("patients in the cohort", len(screening)),
            ("patients enrolled", int((screening["reason"] == "").sum())),
            ("patients excluded", int(reasons.sum()))]  # fmt: skip
    rows += [(f"excluded: {r}", int(n)) for r, n in reasons.items()]
    return pd.DataFrame(rows, columns=["stage", "n"])


def _svg_box(box: Box) -> str:
    out = [f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.w:.1f}" height="{box.h:.1f}" '
           'fill="#fff" stroke="#333" stroke-width="1"/>']  # fmt: skip
    for k, line in enumerate(box.lines):
        weight = ' font-weight="bold"' if k == 0 else ""
        out.append(f'<text x="{box.x + box.w / 2:.1f}" y="{box.y + 15 + k * LINE_H:.1f}" '
                   f'text-anchor="middle"{weight}>{escape(line)}</text>')  # fmt: skip
    return "".join(out)


def _arrow(x1: float, y1: float, x2: float, y2: float) -> str:
    return (f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#333" '
            'stroke-width="1" marker-end="url(#flow-arrow)"/>')  # fmt: skip


def _wrap(text: str, width: float) -> list[str]:
    """``text`` broken into lines that fit ``width`` units at the diagram's font size (a count
    "(n = 12)" is never split)."""
    per_line = max(8, int(width / 5.6))
    lines, line = [], ""
    for word in text.replace("(n = ", "(n\u00a0=\u00a0").split(" "):
        if line and len(line) + 1 + len(word) > per_line:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line] if line else lines


def flow_svg(counts: pd.DataFrame, flow: pd.DataFrame, groups: list[tuple[str, str]]) -> str:
    """The flow diagram as an SVG document.

    Parameters
    ----------
    counts : :func:`screening_counts` (stage, n).
    flow : the tidy patient-flow table (stage, group, n; group ``"all"`` for the total).
    groups : (id, label) of each group, in report order.

    Examples
    --------
    >>> counts = screening_counts(pd.DataFrame({"patient_id": ["1", "2", "3"],
    ...                                         "reason": ["", "", "no visits recorded"]}))
    >>> flow = pd.DataFrame({"stage": ["enrolments", "clinical data at baseline"],
    ...                      "group": ["A", "A"], "n": [2, 2]})
    >>> svg = flow_svg(counts, flow, [("A", "Group A")])
    >>> svg.startswith("<svg"), "Excluded (n = 1)" in svg, svg.count("<rect")
    (True, True, 4)
    """
    n = dict(zip(counts["stage"], counts["n"], strict=True))
    total = flow[flow["group"] == "all"].groupby("stage", sort=False)["n"].first()
    parts: list[str] = []
    main_w = WIDTH * 0.5
    cx = MARGIN + main_w / 2
    assessed = Box(
        MARGIN, MARGIN, main_w, (f"Patients in the cohort (n = {n['patients in the cohort']})",)
    )
    excluded_lines = [f"Excluded (n = {n['patients excluded']})"]
    for stage, k in zip(counts["stage"], counts["n"], strict=True):
        if stage.startswith("excluded: "):
            excluded_lines += _wrap(f"{stage.removeprefix('excluded: ')} (n = {k})", WIDTH * 0.4)
    side_x = MARGIN + main_w + 2 * GAP
    side = Box(side_x, assessed.y + assessed.h + GAP / 2, WIDTH - side_x - MARGIN,
               tuple(excluded_lines))  # fmt: skip
    enrolled_lines = [f"Enrolled (n = {n['patients enrolled']} patients)"]
    if "enrolments" in total and int(total["enrolments"]) != n["patients enrolled"]:
        enrolled_lines.append(f"{int(total['enrolments'])} enrolments")
    if int(total.get("patients enrolled in more than one group", 0)):
        enrolled_lines.append(
            f"{int(total['patients enrolled in more than one group'])} in more than one group"
        )
    enrolled = Box(MARGIN, side.y + side.h + GAP, main_w, tuple(enrolled_lines))
    parts += [_svg_box(assessed), _svg_box(side), _svg_box(enrolled)]
    mid_y = side.y + side.h / 2
    parts.append(_arrow(cx, assessed.y + assessed.h, cx, enrolled.y))
    parts.append(_arrow(cx, mid_y, side.x, mid_y))
    # one column per group: its enrolments, then each stage of the flow table
    stages = [s for s in dict.fromkeys(flow["stage"]) if s not in TOP_STAGES]
    per_group = flow.groupby(["stage", "group"], sort=False)["n"].first()
    k = max(len(groups), 1)
    col_w = (WIDTH - 2 * MARGIN - (k - 1) * GAP) / k
    y0 = enrolled.y + enrolled.h + 2 * GAP
    bottom = y0
    for j, (gid, label) in enumerate(groups):
        x = MARGIN + j * (col_w + GAP)
        enrol_n = int(per_group.get(("enrolments", gid), 0))
        lines = [*_wrap(label, col_w), f"enrolments (n = {enrol_n})"]
        lines += [line for stage in stages
                  for line in _wrap(f"{stage} (n = {int(per_group.get((stage, gid), 0))})", col_w)]  # fmt: skip
        box = Box(x, y0, col_w, tuple(lines))
        parts.append(_svg_box(box))
        parts.append(_arrow(cx, enrolled.y + enrolled.h, x + col_w / 2, y0))
        bottom = max(bottom, box.y + box.h)
    height = bottom + MARGIN
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" '
            f'width="{WIDTH}" height="{height:.0f}" font-family="DejaVu Sans, Arial, sans-serif" '
            'font-size="10" role="img" aria-label="Patient flow diagram">'
            '<defs><marker id="flow-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" '
            'markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>')  # fmt: skip
    return head + "".join(parts) + "</svg>"
