"""Regression tests of the data contract: one declaration per concept, used by store and measures."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from rheumetrics.errors import RheumetricsError
from rheumetrics.measures import DEFAULT, haq_di
from rheumetrics.schema import vocab
from rheumetrics.store import import_file, load_therapies, load_visits, rescore
from rheumetrics.store.items import items
from rheumetrics.store.stage import V  # the validator the importer uses

CATEGORIES = ("dressing", "arising", "eating", "walking", "hygiene", "reach", "grip", "activities")

HAQ_MAPPING = (
    """
[source]
format = "csv"

[patient]
id = "patient"

[visit]
date = "date"

[values]
"""
    + "\n".join(f'haq_{c} = "{c}"' for c in CATEGORIES)
    + """
haq_dressing_aid = "aid_dressing"
haq_activities_help = "help_activities"
"""
)


def test_a_store_loaded_with_the_eight_haq_category_scores_derives_haq_di(
    engine: Engine, tmp_path: Path
) -> None:
    # Category scores 1,2,0,1,2,1,0,3; aids for dressing raise its 1 to 2 (standard HAQ-DI,
    # Bruce & Fries 2003): DI = (2+2+0+1+2+1+0+3)/8 = 1.375.
    header = ["patient", "date", *CATEGORIES, "aid_dressing", "help_activities"]
    row = ["P1", "2021-05-01", "1", "2", "0", "1", "2", "1", "0", "3", "1", "0"]
    src = tmp_path / "haq.csv"
    src.write_text(",".join(header) + "\n" + ",".join(row) + "\n")
    mapping = tmp_path / "haq.toml"
    mapping.write_text(HAQ_MAPPING)
    import_file(engine, src, mapping)
    visits = load_visits(engine)
    assert visits["haq_di"].tolist() == [1.375]
    # the store's HAQ columns are the measure's inputs: one declaration
    stored_haq = {name for name in items() if name.startswith("haq_") and name != "haq_di"}
    assert stored_haq <= set(haq_di.inputs)


def test_drug_class_other_is_accepted_by_the_store_and_read_back_for_t2t(
    engine: Engine, tmp_path: Path
) -> None:
    # One drug-class vocabulary: what the store accepts is what t2t reads.
    assert "other" in vocab.DRUG_CLASSES
    src = tmp_path / "rx.csv"
    src.write_text(
        "patient,drug,class,start\nP1,paracetamol,other,2020-01-01\nP1,methotrexate,csDMARD,2020-02-01\n"
    )
    mapping = tmp_path / "rx.toml"
    mapping.write_text(
        '[source]\nformat = "csv"\n[patient]\nid = "patient"\n'
        '[therapy]\ndrug = "drug"\ndrug_class = "class"\nstart_date = "start"\n'
    )
    import_file(engine, src, mapping)
    therapies = load_therapies(engine)
    assert set(therapies["drug_class"]) == {"other", "csDMARD"}
    assert set(therapies["drug_class"]) <= set(vocab.DRUG_CLASSES)


def test_store_and_measures_give_the_same_crp_message() -> None:
    import numpy as np
    import pandas as pd

    from rheumetrics.errors import ValidationError
    from rheumetrics.measures import sdai

    with pytest.raises(ValidationError) as err:
        sdai(tjc28=1, sjc28=1, ptga=1, phga=1, crp_mg_l=np.array([1500.0]))
    measure_rule = err.value.problems[0].rule
    rep = V.Reporter("labs.csv", pd.RangeIndex(2, 3))
    item = items()["crp_mg_l"]
    V.check_range(pd.Series([1500.0], index=rep.rows), pd.Series(["1500"]), "crp", rep,
                  item.min, item.max, item.integer, item.rule)  # fmt: skip
    assert rep.problems[0].rule == measure_rule == "must be a number >= 0 and <= 1000 mg/L"


def test_score_runs_are_chosen_explicitly_never_the_newest(engine: Engine, tmp_path: Path) -> None:
    src = tmp_path / "v.csv"
    src.write_text("patient,date,esr,gh,ptga,phga,tjc28,sjc28\nP1,2021-05-01,20,40,4,3,2,1\n")
    mapping = tmp_path / "v.toml"
    mapping.write_text(
        '[source]\nformat = "csv"\n[patient]\nid = "patient"\n[visit]\ndate = "date"\n'
        '[values]\nesr_mm_h = "esr"\ngh_mm = "gh"\nptga = "ptga"\nphga = "phga"\n'
        'tjc28 = "tjc28"\nsjc28 = "sjc28"\n'
    )
    import_file(engine, src, mapping)
    default_run = load_visits(engine).attrs["score_run"]
    other = DEFAULT.with_(das28_esr_cutoffs="das28_acr2012")
    newer = rescore(engine, other)["run_id"]
    assert newer != default_run
    # default: the run of the default conventions, not the newest run
    assert load_visits(engine).attrs["score_run"] == default_run
    assert load_visits(engine, run=other).attrs["score_run"] == newer
    assert load_visits(engine, run=newer).attrs["score_run"] == newer
    with pytest.raises(RheumetricsError, match="stored runs"):
        load_visits(engine, run=999)


def test_arrow_and_driver_reads_give_the_same_visit_frame(engine: Engine, clinic, h) -> None:
    import pandas as pd

    from rheumetrics.store.score_runs import category_labels, choose_run
    from rheumetrics.store.sql_frames import arrow_source
    from rheumetrics.store.visit_frames import visit_table

    src, mapping = clinic(h.visits)
    import_file(engine, src, mapping)
    with engine.connect() as conn:
        if arrow_source(conn) is None:
            pytest.skip("reads through Arrow need a SQLite file")
        meta = choose_run(conn, None)
        assert meta is not None
        labels = category_labels(meta["conventions"])
        plain = visit_table(conn, run=meta["id"], labels=labels)
        arrow = visit_table(conn, run=meta["id"], labels=labels, arrow=True)
    pd.testing.assert_frame_equal(arrow, plain)
