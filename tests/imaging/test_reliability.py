"""Reader agreement report on reads built to reproduce imaging-scores.md §7.6."""

import pandas as pd
import pytest

from rheumetrics.imaging import reader_agreement, score_reads

# imaging-scores.md §7.6: change scores of 6 patients by two readers
READER_A = [2, 0, 5, 1, 3, 0]
READER_B = [1, 0, 4, 2, 5, 1]


def erosion_reads(build_reads, raters="reader"):
    """One erosion site per read: baseline 0, follow-up = the reader's change."""
    frames = []
    for label, changes in (("A", READER_A), ("B", READER_B)):
        for i, change in enumerate(changes):
            for tp, grade in (("t0", 0), ("t1", change)):
                keys = {"reader": label} if raters == "reader" else {"session": label}
                frames.append(
                    build_reads({"LUNATE": grade}, feature="erosion", patient_id=f"P{i}",
                                timepoint=tp, **keys)
                )  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def pick(frame, **keys):
    for k, v in keys.items():
        frame = frame[frame[k] == v]
    return frame


@pytest.mark.parametrize("raters", ["reader", "session"])
def test_change_agreement_matches_worked_example(reads_of, raters):
    scores = score_reads(erosion_reads(reads_of, raters))
    report = reader_agreement(scores, raters=raters, baseline="t0", followup="t1")
    icc = pick(report["icc"], feature="erosion", score_type="change").set_index("form")["icc"]
    # ICC(2,1) 0.8198, ICC(3,1) 0.8053, ICC(2,k) 0.9010 (imaging-scores.md §7.6)
    assert icc["ICC(2,1)"] == pytest.approx(0.8198, abs=5e-5)
    assert icc["ICC(3,1)"] == pytest.approx(0.8053, abs=5e-5)
    assert icc["ICC(2,k)"] == pytest.approx(0.9010, abs=5e-5)
    sdc = pick(report["sdc"], feature="erosion", score_type="change").set_index("method")
    assert sdc.loc["bruynesteyn", "sdc"] == pytest.approx(1.678, abs=5e-4)  # k = 1
    assert sdc.loc["loa", "sdc"] == pytest.approx(2.374, abs=5e-4)
    srm = pick(report["srm"], feature="erosion", score_type="change").set_index(raters)
    assert srm.loc["mean", "srm"] == pytest.approx(1.085, abs=5e-4)
    ba = pick(report["bland_altman"], feature="erosion", score_type="change").iloc[0]
    assert ba["bias"] == pytest.approx(-1 / 3)
    assert report["icc"].attrs["conventions"]["raters"] == raters


def test_sdc_k_for_a_mean_of_two_readers(reads_of):
    scores = score_reads(erosion_reads(reads_of))
    report = reader_agreement(scores, baseline="t0", followup="t1", sdc_k=2)
    sdc = pick(report["sdc"], feature="erosion", score_type="change", method="bruynesteyn")
    assert sdc["sdc"].iloc[0] == pytest.approx(1.187, abs=5e-4)  # imaging-scores.md §7.6


def test_single_reader_is_reported_as_skipped(reads_of):
    scores = score_reads(reads_of({"DRUJ": 1}))
    report = reader_agreement(scores)
    assert report["icc"].empty
    assert set(report["skipped"]["statistic"]) == {"icc", "sdc"}
