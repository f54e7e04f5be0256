"""In-silico trials: the real engine decides, streams make results independent of workers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rheumetrics.measures import das28_crp
from rheumetrics.sim.calibration import calibration_table, imagine_arms, objective, trial_arms
from rheumetrics.sim.disease import smallest_detectable_change
from rheumetrics.sim.parameters import load_parameters
from rheumetrics.sim.populations import enrol, observe, regimen_factors
from rheumetrics.sim.replicates import simulate
from rheumetrics.sim.streams import Streams
from rheumetrics.sim.trial import OUTCOMES, Arm, _timed, run_arm


@pytest.fixture(scope="module")
def params():
    return load_parameters()


def test_imagine_ra_entry_meets_the_inclusion_rule(params):
    # Møller-Bisgaard et al. JAMA 2019: DAS28-CRP <= 3.2 and no clinically swollen joint.
    e = enrol("imagine_ra", params, np.random.default_rng(5), 150)
    assert len(e.step) == 150
    assert (e.observed.das28_crp <= 3.2).all() and (e.observed.sjc28 == 0).all()
    assert set(e.step) <= set(params.ladders["imagine_ra"])


def test_observed_das28_is_the_published_formula(params):
    e = enrol("imagine_ra", params, np.random.default_rng(6), 50)
    seen = observe(e.cohort, params, Streams([np.random.default_rng(1)], 50))
    # Prevoo et al. / Wells et al.: 0.56 sqrt(TJC) + 0.28 sqrt(SJC) + 0.36 ln(CRP + 1) + 0.014 GH + 0.96
    expected = (
        0.56 * np.sqrt(seen.tjc28) + 0.28 * np.sqrt(seen.sjc28)
        + 0.36 * np.log(seen.crp_mg_l + 1) + 0.014 * seen.gh_mm + 0.96
    )  # fmt: skip
    np.testing.assert_allclose(seen.das28_crp, expected, rtol=1e-12)
    np.testing.assert_allclose(
        seen.das28_crp,
        das28_crp(tjc28=seen.tjc28, sjc28=seen.sjc28, crp_mg_l=seen.crp_mg_l, gh_mm=seen.gh_mm),
    )


def test_sdc_is_196_times_the_reading_error(params):
    assert smallest_detectable_change(params) == pytest.approx(
        1.96 * params.radiographs.reading_error_sd.value
    )


def test_a_replicate_does_not_depend_on_its_batch(params):
    arm = Arm("imagine_ra_conventional")
    together, _ = run_arm(arm, params, 11, [0, 1, 2])
    alone, _ = run_arm(arm, params, 11, [1])
    pd.testing.assert_series_equal(
        together.set_index("replicate").loc[1],
        alone.set_index("replicate").loc[1],
        check_names=False,
    )


def test_mri_arm_escalates_more_than_the_conventional_arm(params):
    result = simulate(imagine_arms(), params, replicates=4, seed=3, workers=0, batch=4)
    s = result.summary().set_index(["arm", "outcome"])["mean"]
    assert (
        s[("imagine_ra_mri", "any_escalation")] > s[("imagine_ra_conventional", "any_escalation")]
    )
    assert set(result.shares.columns) == {"arm", "replicate", *OUTCOMES}
    table = calibration_table(result, params)
    assert set(table["use"]) == {"calibration", "held_out"}
    assert {"any_sae", "reached_biologic"} <= set(table.loc[table["use"] == "held_out", "anchor"])
    assert objective(result, params.anchors["imagine_ra"]) >= 0


def test_no_adherence_means_no_escalation(params):
    shares, seqs = run_arm(Arm("imagine_ra_mri", adherence=0.0), params, 4, [0])
    assert shares["any_escalation"].iloc[0] == 0
    assert (seqs["sequence"].str.contains(">") == False).all()  # noqa: E712


def test_same_seed_same_result_on_one_and_two_workers(params):
    # A real LocalCluster of two worker processes on 127.0.0.1.
    arms = imagine_arms()
    one = simulate(arms, params, replicates=4, seed=21, workers=1, batch=2)
    two = simulate(arms, params, replicates=4, seed=21, workers=2, batch=2)
    local = simulate(arms, params, replicates=4, seed=21, workers=0, batch=4)
    pd.testing.assert_frame_equal(one.shares, two.shares)
    pd.testing.assert_frame_equal(
        one.shares.sort_values(["arm", "replicate"]).reset_index(drop=True),
        local.shares.sort_values(["arm", "replicate"]).reset_index(drop=True),
    )


def test_arms_the_simulator_cannot_run_are_refused(params):
    from rheumetrics.errors import RheumetricsError

    with pytest.raises(
        RheumetricsError, match="targets asdas_crp, which the simulator does not generate"
    ):
        simulate([Arm("asas_eular2022_axspa")], params, replicates=1, seed=1, workers=0)
    with pytest.raises(RheumetricsError, match="no shipped strategy 'nope'"):
        simulate([Arm("nope")], params, replicates=1, seed=1, workers=0)
    with pytest.raises(RheumetricsError, match="unknown population 'juvenile'"):
        simulate([Arm("imagine_ra_mri", "juvenile")], params, replicates=1, seed=1, workers=0)


def test_shipped_calibration_still_reproduces_its_calibration_anchors(params):
    # A guard, not evidence of validity: the shipped parameters were fitted to these anchors
    # (Møller-Bisgaard et al. JAMA 2019), so a change of the engine or the model that moves a
    # calibration anchor outside its 95% interval must come with a new `rheumetrics calibrate`.
    result = simulate(imagine_arms(), params, replicates=20, seed=2019, workers=0)
    table = calibration_table(result, params)
    fitted = table[table["use"] == "calibration"]
    assert len(fitted) == 6
    assert fitted["inside"].all(), fitted[["anchor", "arm", "published", "low", "high"]]


def test_early_ra_enters_untreated_and_responds_through_its_first_course(params):
    e = enrol("early_ra", params, np.random.default_rng(8), 300)
    c = e.cohort
    fc = params.first_course
    # A share of primary non-responders has no first-course response; the others' is Beta with the
    # file's mean. The entry step (methotrexate) suppresses synovitis to 1 - that response, while
    # the run-in was untreated.
    none = c.first_course == 0
    assert abs(none.mean() - fc.nonresponder_share.value) < 0.08  # binomial SE 0.026 at n = 300
    responders = c.first_course[~none]
    assert ((responders > 0) & (responders < 1)).all()
    assert abs(responders.mean() - fc.mean_improvement.value) < 0.05
    np.testing.assert_allclose(c.suppression, 1 - c.first_course)
    assert np.median(e.observed.das28_crp) > 4.0  # DREAM: mean baseline DAS28 4.9
    later, _ = regimen_factors(np.array(["2"], dtype=object), params.ladders["dream"], params,
                               c.first_course[:1], ("1",))  # fmt: skip
    combination = params.regimens.cs_combination.reduction
    np.testing.assert_allclose(later, (1 - c.first_course[:1]) * (1 - combination))
    # IMAGINE-RA patients are not DMARD-naive: no first-course response is drawn.
    assert np.isnan(
        enrol("imagine_ra", params, np.random.default_rng(8), 20).cohort.first_course
    ).all()


def test_dream_ladder_raises_methotrexate_in_place_before_adding_sulfasalazine(params):
    shares, seqs = run_arm(Arm("dream_ra", "early_ra"), params, 5, [0])
    moved = seqs["sequence"][seqs["sequence"].str.contains(" > 2")]
    assert len(moved) > 0
    # DREAM protocol: methotrexate 15 -> 25 mg/week (step 1 optimised, "1+") before step 2; only
    # an intolerance switch (about 5% a year) moves a patient straight from 1 to 2.
    assert moved.str.startswith("1 > 1+ > 2").mean() > 0.9
    assert {"remission_6m", "remission_12m", "eular_good_3m"} <= set(shares.columns)


def test_timed_eular_outcome_is_the_measures_eular_response():
    baseline = np.array([5.0, 5.0, 5.0, 4.0, 6.0])
    later = np.array([3.0, 4.2, 4.6, 3.9, 5.2])
    # van Gestel et al. 1996: good = change > 1.2 and present <= 3.2; moderate = change > 0.6
    # and present <= 5.1, or change > 1.2 and present > 3.2.
    assert _timed("eular_good", later, baseline).tolist() == [True, False, False, False, False]
    assert _timed("eular_moderate", later, baseline).tolist() == [False, True, False, False, False]
    assert _timed("eular_none", later, baseline).tolist() == [False, False, True, True, True]
    assert _timed("remission", np.array([2.59, 2.6]), baseline[:2]).tolist() == [True, False]


def test_shipped_early_ra_calibration_reproduces_its_calibration_anchors(params):
    # A guard, not evidence of validity: first_course.* were fitted to the DREAM remission anchors
    # (Vermeer et al. Arthritis Rheum 2011); held-out SWEFOT/DREAM EULAR anchors are only reported.
    arms = trial_arms(params, "early_ra")
    result = simulate(arms, params, replicates=20, seed=2011, workers=0)
    table = calibration_table(result, params, "early_ra")
    fitted = table[table["use"] == "calibration"]
    assert set(fitted["anchor"]) == {"remission_6m", "remission_12m"}
    assert fitted["inside"].all(), fitted[["anchor", "published", "low", "high"]]
    assert {"eular_good_3m", "eular_none_3m"} <= set(
        table.loc[table["use"] == "held_out", "anchor"]
    )
