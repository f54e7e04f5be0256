"""Each visit's MRI osteitis total, as the treat-to-target engine takes it, from the store or a
dataset bucket: one total per MRI (its first reading session), whatever the order of the reads."""

from __future__ import annotations

import pandas as pd

from rheumetrics.cohort import with_mri_bme_total

PATIENT = "SYN-NZ-33"  # its second MRI is read twice (sessions 1 and 2) with different totals


def test_a_re_read_mri_counts_with_its_first_session(store):
    from rheumetrics.store import load_imaging_reads, load_visits

    _, engine = store
    reads = load_imaging_reads(engine, [PATIENT])
    visits = load_visits(engine, [PATIENT])
    osteitis = reads[(reads["feature"] == "osteitis") & (reads["timepoint"] == "A-V2")]
    # RAMRIS osteitis total = sum of the site grades (Østergaard M et al. J Rheumatol
    # 2003;30:1385-1386); one reader per session here, so the reader mean is that sum
    by_session = osteitis.groupby("session")["grade"].sum()
    assert by_session["1"] != by_session["2"]  # the choice matters for this MRI
    visit = visits["visit_date"].iloc[
        visits["visit_date"].sub(osteitis["image_date"].iloc[0]).abs().argmin()
    ]
    for order in (reads.index, reads.index[::-1], reads.sample(frac=1, random_state=3).index):
        got = with_mri_bme_total(visits, reads.loc[order])
        row = got[got["visit_date"] == visit]
        assert row["mri_bme_total"].tolist() == [by_session["1"]]


def test_visits_without_ramris_reads_are_unchanged(store):
    from rheumetrics.store import load_visits

    _, engine = store
    visits = load_visits(engine, [PATIENT])
    pd.testing.assert_frame_equal(with_mri_bme_total(visits, pd.DataFrame()), visits)
