"""The simulator's parameter file: shipped values are valid, bad entries are named."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

from rheumetrics.errors import RheumetricsError
from rheumetrics.sim.parameters import load_parameters, parse_parameters, write_parameters


def shipped() -> dict:
    text = resources.files("rheumetrics.sim").joinpath("parameters.toml").read_text("utf-8")
    return tomllib.loads(text)


def test_every_shipped_parameter_has_a_source_and_a_range():
    p = load_parameters()
    for section in ("activity", "oedema", "observation", "radiographs", "safety"):
        for name, param in getattr(p, section):
            assert param.low <= param.value <= param.high, name
            assert len(param.source) > 10, name


def test_regimen_reduction_follows_the_acr_categories():
    # Stevenson et al. HTA 2016 NMA, triple therapy: ACR20 0.503, ACR50 0.266, ACR70 0.117.
    triple = load_parameters().regimens.cs_triple
    expected = 0.497 * 0.10 + 0.237 * 0.35 + 0.149 * 0.60 + 0.117 * 0.85
    assert triple.reduction == pytest.approx(expected)


@pytest.mark.parametrize(
    ("section", "name", "field", "value", "message"),
    [
        ("activity", "flare_rate", "value", 1.5, "activity.flare_rate"),
        ("activity", "flare_rate", "high", 1.5, "probability must lie in [0, 1]"),
        ("safety", "sae_biologic", "source", "", "safety.sae_biologic.source"),
        ("oedema", "reader_error_sd", "value", 99.0, "outside its range"),
    ],
)
def test_bad_entries_are_named(section, name, field, value, message):
    data = shipped()
    data[section][name][field] = value
    with pytest.raises(RheumetricsError, match="parameters") as err:
        parse_parameters(data)
    assert message in str(err.value)


def test_unknown_drug_class_and_unknown_entry_are_refused():
    data = shipped()
    data["ladders"]["imagine_ra"]["4"]["drugs"][0]["drug_class"] = "biologic"
    data["activity"]["flare_ratio"] = data["activity"]["flare_rate"]
    with pytest.raises(RheumetricsError) as err:
        parse_parameters(data)
    text = str(err.value)
    assert (
        "ladders.imagine_ra.4.drugs.0.drug_class" in text
        and "unknown drug class 'biologic'" in text
    )
    assert "activity.flare_ratio" in text


def test_missing_file_and_bad_toml_give_one_line_errors(tmp_path):
    with pytest.raises(RheumetricsError, match="cannot read"):
        load_parameters(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[activity\n", encoding="utf-8")
    with pytest.raises(RheumetricsError, match="not valid TOML"):
        load_parameters(bad)


def test_written_file_round_trips_with_new_calibrated_values(tmp_path):
    p = load_parameters().with_values({"activity.flare_rate": 0.0123})
    out = write_parameters(p, tmp_path / "calibrated.toml")
    again = load_parameters(out)
    assert again.activity.flare_rate.value == pytest.approx(0.0123)
    assert again == p


def test_ladder_drugs_are_checked_against_the_drug_catalogue():
    data = shipped()
    drugs = data["ladders"]["imagine_ra"]["4"]["drugs"]
    drugs[0]["drug"] = "wonderumab"
    drugs[1]["dose"] = 250  # methotrexate 250 mg/week: above the label maximum
    with pytest.raises(RheumetricsError) as err:
        parse_parameters(data)
    text = str(err.value)
    assert "unknown drug 'wonderumab'" in text
    assert "above the label maximum" in text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["anchors"]["early_ra"]["remission_6m"]["n"].update(other_arm=10),
            "anchors.early_ra.remission_6m",
        ),
        (
            lambda d: d["anchors"]["early_ra"]["remission_6m"].pop("month"),
            "outcome and month go together",
        ),
        (
            lambda d: d["anchors"]["early_ra"].update(
                remission_at_week_20={
                    k: v
                    for k, v in d["anchors"]["early_ra"]["remission_6m"].items()
                    if k not in ("month", "outcome")
                }
            ),
            "anchors.early_ra.remission_at_week_20",
        ),
        (
            lambda d: d["first_course"]["persistence"].pop("fitted_to"),
            "first_course.persistence",
        ),
        (
            lambda d: d["first_course"]["persistence"].update(fitted_to="taser_ra"),
            "first_course.persistence: fitted_to 'taser_ra' has no anchors",
        ),
        (
            lambda d: d["ladders"]["dream"]["2"].update(
                optimised=d["ladders"]["dream"]["1"]["optimised"]
            ),
            "ladders.dream.2",
        ),
        (
            lambda d: d["anchors"]["taser"]["das28_change_control"].pop("sd"),
            "a mean anchor needs the between-patient sd",
        ),
        (
            lambda d: d["anchors"]["ticospa"]["low_activity_12m"]["shares"].update(
                asas_eular2022_axspa=1.2
            ),
            "shares must lie in [0, 1]",
        ),
        (
            lambda d: d["population"]["ticospa"].update(outcome_index="das28_crp"),
            "outcome index das28_crp does not fit axSpA",
        ),
        (
            lambda d: d["population"].update(juvenile=d["population"]["ticospa"]),
            "population juvenile: no activity.untreated_median_juvenile",
        ),
    ],
)
def test_bad_anchors_and_fits_are_named(change, message):
    data = shipped()
    change(data)
    with pytest.raises(RheumetricsError) as err:
        parse_parameters(data)
    assert message in str(err.value)


def test_calibrated_parameters_are_grouped_by_the_population_they_fit():
    p = load_parameters()
    early = p.calibrated("early_ra")
    assert set(early) == {"first_course.mean_improvement", "first_course.persistence"}
    axial = p.calibrated("ticospa")
    assert set(axial) == {"activity.untreated_median_ticospa", "axspa.pain_mean"}
    assert not set(early) & set(p.calibrated("imagine_ra"))
    assert set(p.calibrated("taser")) == {"activity.untreated_median_taser"}
    assert not set(axial) & (set(early) | set(p.calibrated("imagine_ra")))
    groups = ("imagine_ra", "early_ra", "ticospa", "taser")
    assert set(p.calibrated()) == set().union(*(p.calibrated(g) for g in groups))


@pytest.mark.parametrize("population", ["imagine_ra", "early_ra", "ticospa", "taser"])
def test_every_step_a_strategy_reaches_has_a_simulated_regimen(population):
    # the simulator moves a patient only to a step it has a regimen for: a ladder step of the
    # strategy without one would strand simulated patients on the step before
    from rheumetrics.sim.calibration import trial_arms
    from rheumetrics.t2t.strategy_files import load_strategy

    p = load_parameters()
    ladder = p.ladders[p.population[population].ladder]
    for arm in trial_arms(p, population):
        s = load_strategy(arm.strategy, dict(arm.options))
        reachable = {st.id for st in s.ladder if st.regimens}
        assert reachable <= set(ladder), (arm.name, sorted(reachable - set(ladder)))
