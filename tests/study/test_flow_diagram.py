"""The flow diagram is drawn from the data: on a small hand-built cohort whose counts are known
by construction, every box of the SVG carries the right number."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd

from rheumetrics.study.model import parse_study
from rheumetrics.study.report import render_html, run_study

STUDY = """
[study]
title = "flow"
[cohort]
visits = "visits.csv"
patients = "patients.csv"
[enrolment]
from = "attribute"
attribute = "arm"
[[groups]]
id = "A"
label = "Arm A"
value = "a"
[[groups]]
id = "B"
label = "Arm B"
value = "b"
[[visits]]
id = "V1"
label = "Baseline"
days = [0, 0]
[[visits]]
id = "V2"
label = "Month 3"
days = [80, 100]
target = 90
[[outcomes]]
id = "cdai"
digits = 1
[analyses]
flow = true
"""


def _cohort(folder: Path) -> None:
    # patients 1-6 arm a, 7-9 arm b, 10-11 arm "c" (no group), 12 no arm, 13 no visits
    arms = ["a"] * 6 + ["b"] * 3 + ["c", "c", None, "a"]
    ids = [f"P{k:02d}" for k in range(1, 14)]
    pd.DataFrame({"patient_id": ids, "arm": arms}).to_csv(folder / "patients.csv", index=False)
    rows = []
    for k, pid in enumerate(ids[:12]):
        rows.append((pid, "2020-01-01"))
        if k not in (1, 2, 7):  # P02, P03 (arm a) and P08 (arm b) drop out before month 3
            rows.append((pid, "2020-03-31"))
    visits = pd.DataFrame(rows, columns=["patient_id", "visit_date"])
    visits = visits.assign(tjc28=2, sjc28=1, ptga=3.0, phga=2.0)
    visits.to_csv(folder / "visits.csv", index=False)


def _texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [
        (t.text or "").replace("\u00a0", " ") for t in root.iter("{http://www.w3.org/2000/svg}text")
    ]


def test_flow_diagram_counts_come_from_the_cohort(tmp_path: Path) -> None:
    _cohort(tmp_path)
    (tmp_path / "study.toml").write_text(STUDY, encoding="utf-8")
    rep = run_study(parse_study(STUDY, tmp_path / "study.toml"))
    counts = rep.tables["screening"].set_index("stage")["n"].to_dict()
    assert counts == {
        "patients in the cohort": 13,
        "patients enrolled": 9,
        "patients excluded": 4,
        "excluded: arm not a study group's value": 2,
        "excluded: no visits recorded": 1,
        "excluded: no arm recorded": 1,
    }
    svg, caption = rep.sections["flow"].diagrams["flow_diagram"]
    text = " ".join(_texts(svg))
    for expected in (
        "Patients in the cohort (n = 13)",
        "Excluded (n = 4)",
        "arm not a study group's value (n = 2)",
        "no visits recorded (n = 1)",
        "no arm recorded (n = 1)",
        "Enrolled (n = 9 patients)",
        "Arm A",
        "Arm B",
        "clinical data at Baseline (n = 6)",
        "clinical data at Baseline (n = 3)",
        "clinical data at Month 3 (n = 4)",
        "clinical data at Month 3 (n = 2)",
        "(dropped out) (n = 2)",
        "(dropped out) (n = 1)",
    ):
        assert expected in text, expected
    assert "drawn from the data" in caption
    html = render_html(rep)
    assert html.count("<svg") == 1 and "Figure 1." in html


def test_labels_are_escaped_in_the_svg(tmp_path: Path) -> None:
    _cohort(tmp_path)
    text = STUDY.replace('label = "Arm A"', 'label = "Arm <A> & co"')
    rep = run_study(parse_study(text, tmp_path / "study.toml"))
    svg, _ = rep.sections["flow"].diagrams["flow_diagram"]
    assert "Arm <A> & co" in _texts(svg)  # parsed back as text: escaped, not markup
