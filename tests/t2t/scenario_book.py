"""The scenario book: clinical situations with the decision each protocol prescribes.

Scenarios are data (``tests/t2t/scenarios/*.toml``); every one is a test (``test_scenarios.py``)
and the book is rendered to ``docs/scenarios.md`` for review by rheumatologists. Regenerate the
page with ``python tests/t2t/scenario_book.py`` (a test checks that it is current).
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent / "scenarios"
DOC = Path(__file__).parents[2] / "docs" / "scenarios.md"
DEFAULT_DATE = "2020-01-01"


def load() -> list[dict[str, Any]]:
    """Every scenario, with its file's strategy, date and source filled in."""
    out = []
    for path in sorted(HERE.glob("*.toml")):
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
        for sc in doc["scenario"]:
            out.append(
                {
                    "strategy": doc["strategy"],
                    "visit_date": doc.get("visit_date", DEFAULT_DATE),
                    "source": doc["source"],
                    "file": path.name,
                    **sc,
                }
            )
    return out


def _drugs(items: list[dict[str, Any]]) -> str:
    parts = []
    for d in items:
        text = d["drug"]
        if "dose" in d:
            text += f" {d['dose']:g}{' ' + d['dose_unit'] if 'dose_unit' in d else ''}"
        if "route" in d:
            text += f" {d['route']}"
        if "start_date" in d:
            text += f" from {d['start_date']}"
        if "stop_date" in d:
            text += f" to {d['stop_date']}"
        if "stop_reason" in d:
            text += f" (stopped: {d['stop_reason'].replace('_', ' ')})"
        parts.append(text)
    return "; ".join(parts) or "none"


def render() -> str:
    """The scenario book as Markdown."""
    scenarios = load()
    lines = [
        "# Scenario book: treat-to-target decisions to review",
        "",
        "Generated from `tests/t2t/scenarios/*.toml` by `tests/t2t/scenario_book.py`; do not edit by",
        "hand. Each scenario is a test: the engine must give the expected decision. Doses are in the",
        "drug catalogue's unit (methotrexate mg/week, sulfasalazine mg/day, adalimumab mg/2 weeks...).",
        f"{len(scenarios)} scenarios.",
        "",
        "Each scenario names the recommendation or protocol element it rests on: EULAR 2022 RA",
        "recommendations (Smolen et al. Ann Rheum Dis 2023;82:3-18, doi:10.1136/ard-2022-223356; 11",
        "recommendations, rec 11 covering both b/tsDMARD and csDMARD tapering), ASAS-EULAR 2022 axSpA",
        "recommendations (Ramiro et al. Ann Rheum Dis 2023;82:19-34, doi:10.1136/ard-2022-223296), the",
        "ACR 2021 RA guideline (Fraenkel et al. Arthritis Care Res 2021;73:924-939; its recommendations",
        "are not numbered and are named by situation), and the IMAGINE-RA (Møller-Bisgaard et al. JAMA",
        "2019;321:461-472; protocol Trials 2015;16:178), DREAM and TaSER protocols. A **review flag**",
        f"marks a scenario that goes beyond, or may contradict, its source ({sum('review' in sc for sc in scenarios)} scenarios).",
        "",
        "## How this book was reviewed",
        "",
        "The developers of this package checked each scenario's expected decision against the published",
        "text it cites, as far as that text was available to them: the recommendation tables of the",
        "EULAR 2022, ASAS-EULAR 2022 and ACR 2021 guidelines, the IMAGINE-RA protocol, the DREAM",
        "treatment protocol (Vermeer et al. Arthritis Res Ther 2012;14:R254, Table 1) and the TaSER",
        "reports (Dale et al. Ann Rheum Dis 2016;75:1043-1050; Arthritis Care Res 2014;66:19-26).",
        "Where the engine disagreed with the text, the engine or the strategy file was corrected,",
        "never the expectation loosened. A review flag remains where the published source is silent or",
        "ambiguous; points that could not be checked are listed as unverified in each strategy's notes",
        "(`rheumetrics strategies ID`). The book has **not yet been signed off by a practising",
        "rheumatologist**: read it as a proposal to review, not as clinical advice.",
        "",
    ]
    current = None
    for sc in scenarios:
        if sc["strategy"] != current:
            current = sc["strategy"]
            lines += [f"## {current}", "", f"Source: {sc['source']}", ""]
        e = sc["expect"]
        visit = ", ".join(f"{k} {v}" for k, v in sc["visit"].items())
        lines += [f"### {sc['id']}: {sc['title']}", ""]
        lines.append(f"- Visit {sc.get('visit_date', DEFAULT_DATE)}: {visit}")
        lines.append(f"- Current regimen: {_drugs(sc.get('regimen', []))}")
        if sc.get("history"):
            lines.append(f"- History: {_drugs(sc['history'])}")
        if sc.get("earlier_visits"):
            ev = "; ".join(
                ", ".join(f"{k} {v}" for k, v in v.items()) for v in sc["earlier_visits"]
            )
            lines.append(f"- Earlier visits: {ev}")
        if sc.get("contraindications"):
            lines.append(f"- Contraindications: {', '.join(sc['contraindications'])}")
        if sc.get("options"):
            lines.append("- Options: " + ", ".join(f"{k} = {v}" for k, v in sc["options"].items()))
        decision = e["action"]
        if "to_step" in e:
            decision += f" to step {e['to_step']}"
        if "to_regimen" in e:
            decision += f": {e['to_regimen']}"
        lines.append(f"- **Expected: {decision}**")
        lines.append(f"- Why: {sc['rationale']}")
        lines.append(f"- Rests on: {sc['rests_on']}")
        if "review" in sc:
            lines.append(f"- **Review flag:** {sc['review']}")
        if "scenario_source" in sc:
            lines.append(f"- Source: {sc['scenario_source']}")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    DOC.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {DOC}\n")
