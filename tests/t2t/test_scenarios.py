"""Every scenario of the scenario book is a test; the rendered book is current."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from rheumetrics.t2t import decide_visit

_spec = importlib.util.spec_from_file_location(
    "scenario_book", Path(__file__).with_name("scenario_book.py")
)
assert _spec is not None and _spec.loader is not None
book = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(book)
DOC, load, render = book.DOC, book.load, book.render

SCENARIOS = load()


def test_the_book_has_at_least_100_scenarios_across_all_strategies():
    from rheumetrics.t2t import shipped_strategies

    assert len(SCENARIOS) >= 100
    assert {sc["strategy"] for sc in SCENARIOS} == set(shipped_strategies())
    ids = [sc["id"] for sc in SCENARIOS]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("sc", SCENARIOS, ids=[sc["id"] for sc in SCENARIOS])
def test_scenario(sc: dict[str, Any]) -> None:
    d = decide_visit(
        sc["strategy"],
        sc["visit"],
        regimen=sc.get("regimen", ()),
        history=sc.get("history", ()),
        earlier_visits=sc.get("earlier_visits", ()),
        contraindications=sc.get("contraindications", ()),
        visit_date=sc["visit_date"],
        options=sc.get("options"),
    )
    e = sc["expect"]
    got = {"action": d.action, "to_step": d.to_step, "to_regimen": d.to_regimen}
    for key in ("action", "to_step", "to_regimen"):
        if key in e:
            assert got[key] == e[key], f"{key}: {got[key]!r} (reasons: {d.reasons})"
    if "rule" in e:
        assert d.rule_ids is not None and e["rule"] in d.rule_ids.split(";"), d.reasons
    if "provisional" in e:
        assert d.provisional is e["provisional"]
    if "missing" in e:
        assert d.missing is not None and e["missing"] in d.missing
    if "co_action" in e:
        assert d.co_actions is not None and e["co_action"] in d.co_actions


def test_every_scenario_names_the_recommendation_it_rests_on():
    by_file = {
        "eular2022_ra.toml": "EULAR 2022 rec ",
        "asas_eular2022_axspa.toml": "ASAS-EULAR 2022 rec ",
        "acr2021_ra.toml": "ACR 2021:",
        "dream_ra.toml": "DREAM protocol",
        "taser_ra.toml": "TaSER protocol",
    }
    for sc in SCENARIOS:
        assert sc["rests_on"].strip(), sc["id"]
        prefix = by_file.get(sc["file"], "IMAGINE-RA")
        assert sc["rests_on"].startswith(prefix), (sc["id"], sc["rests_on"])


def test_eular_2022_recommendation_numbers():
    # Smolen et al. Ann Rheum Dis 2023;82:3-18, Table 2: rec 5 = leflunomide or sulfasalazine when
    # methotrexate is contraindicated or not tolerated early; rec 6 = short-term glucocorticoids
    eu = {sc["id"]: sc for sc in SCENARIOS if sc["file"] == "eular2022_ra.toml"}
    assert "rec 5" in eu["eu-10"]["rests_on"] and "rec 5" in eu["eu-11"]["rests_on"]
    assert (
        "rec 6" in eu["eu-14"]["rests_on"]
        and "6 (short-term glucocorticoid" in eu["eu-01"]["rests_on"]
    )


def test_rendered_book_is_current():
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/scenarios.md is stale: run python tests/t2t/scenario_book.py"
    )
