"""Strategy files: every shipped file loads under every option; bad files get clear errors."""

from __future__ import annotations

import copy
import tomllib

import pytest

from rheumetrics.errors import ValidationError
from rheumetrics.t2t import load_strategy, option_combinations, parse_strategy, shipped_strategies
from rheumetrics.t2t.loader import read_document

SHIPPED = {
    "eular2022_ra",
    "acr2021_ra",
    "imagine_ra_conventional",
    "imagine_ra_mri",
    "dream_ra",
    "taser_ra",
    "asas_eular2022_axspa",
}


def test_the_issue_strategies_are_shipped():
    assert set(shipped_strategies()) == SHIPPED


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_every_option_combination_loads_and_cites_sources(name):
    for options in option_combinations(name):
        s = load_strategy(name, options)
        assert s.sources and all(r.source for r in s.rules) and all(st.source for st in s.ladder)


def test_imagine_targets_follow_jama_2019():
    # JAMA 2019 [S1]: DAS28-CRP <= 3.2 and no swollen joints; MRI arm adds no BME (t2t.md §3.2)
    conv, mri = load_strategy("imagine_ra_conventional"), load_strategy("imagine_ra_mri")
    assert (
        conv.target.index_threshold,
        conv.target.index_inclusive,
        conv.target.swollen_joints_max,
    ) == (3.2, True, 0)
    assert not conv.target.no_mri_bme and mri.target.no_mri_bme
    assert [st.id for st in conv.ladder] == ["1", "2", "2a", "3", "3a", "4", "5", "6", "7", "8"]


def _doc(name="eular2022_ra"):
    doc = copy.deepcopy(read_document(name)[0])
    del doc["options"]["index"]  # its overrides would replace the edits made by the tests
    return doc


def _problems(doc, options=None):
    with pytest.raises(ValidationError) as exc:
        parse_strategy(doc, "test.toml", options)
    return exc.value.to_frame()


def test_unknown_index():
    doc = _doc()
    doc["index"]["name"] = "das29"
    p = _problems(doc)
    assert p.loc[0, "field"] == "name" and "unknown index" in p.loc[0, "rule"]


def test_step_the_ladder_lacks():
    doc = _doc()
    doc["ladder"][1]["next"] = "II-c"
    doc["rules"][6]["when"]["step"] = "9"
    p = _problems(doc)
    assert {("ladder[I.1]", "next"), ("rules[A0]", "when.step")} <= set(
        zip(p["record"], p["field"], strict=True)
    )
    assert p["rule"].str.contains("the ladder lacks this step").all()


def test_rule_that_can_never_fire_contradiction():
    doc = _doc()
    doc["rules"][-1]["when"] = {"sustained": True, "target_met": False}
    p = _problems(doc)
    assert "contradictory conditions" in p.loc[0, "rule"]


def test_rule_that_can_never_fire_empty_range():
    doc = _doc()
    doc["rules"][-1]["when"] = {
        "target_met": False,
        "since_change_min": "6mo",
        "since_change_max": "3mo",
    }
    assert "empty range" in _problems(doc).loc[0, "rule"]


def test_rule_that_can_never_fire_shadowed():
    doc = _doc()
    doc["rules"].append(
        {
            "id": "Z",
            "when": {"target_met": True, "on_bts": True},
            "action": "continue",
            "reason": "x",
            "source": "x",
            "evidence": "U",
        }
    )
    p = _problems(doc)
    assert p.loc[0, "record"] == "rules[Z]"
    assert "rule A2 comes first and holds whenever this one does" in p.loc[0, "rule"]


def test_rule_that_can_never_fire_missing_definition():
    doc = _doc()
    del doc["improvement"]
    p = _problems(doc)
    assert set(p["record"]) == {"rules[A7]", "rules[A8]"}
    assert (p["rule"] == "needs an [improvement] table: the rule can never fire").all()


def test_rule_that_can_never_fire_option_value():
    doc = _doc()
    doc["rules"][0]["when"]["option"] = {"target": "basdai"}
    assert "not a value of the option" in _problems(doc).loc[0, "rule"]


def test_all_problems_reported_together():
    doc = _doc()
    doc["strategy"]["sources"] = []
    doc["rules"][0]["evidence"] = "X"
    doc["rules"][1]["reason"] = "{nonsense}"
    doc["rules"][2]["when"]["typo_fact"] = True
    doc["timing"]["visit_active"] = "3 months"
    p = _problems(doc)
    assert len(p) == 5
    assert set(p["source"]) == {"test.toml"}


def test_unknown_option_and_value():
    with pytest.raises(ValidationError, match="unknown option"):
        load_strategy("eular2022_ra", {"speed": "fast"})
    with pytest.raises(ValidationError, match="must be one of"):
        load_strategy("eular2022_ra", {"index": "basdai"})


def test_unknown_strategy_name():
    with pytest.raises(FileNotFoundError, match="no shipped strategy"):
        load_strategy("nope")


def test_user_file_round_trip(tmp_path):
    path = tmp_path / "mine.toml"
    shipped = read_document("taser_ra")[1]
    with open(shipped, "rb") as fh:
        path.write_bytes(fh.read().replace(b'id = "taser_ra"', b'id = "mine"'))
    s = load_strategy(path)
    assert s.id == "mine" and s.path == str(path)
    with open(path, "rb") as fh:
        assert tomllib.load(fh)["strategy"]["id"] == "mine"
