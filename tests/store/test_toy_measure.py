"""Adding a stored score is one declaration: a toy measure registered here flows to the store's
score runs, to the FHIR export and to the list of treat-to-target indices, no other file touched."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine

from rheumetrics.measures import MEASURES, Measure
from rheumetrics.measures.base import register, t2t_indices
from rheumetrics.store import fhir_bundle, import_file, load_visits


@pytest.fixture
def toy() -> Iterator[Measure]:
    """A toy index: TJC28 + SJC28, categorised with the CDAI cut-off set (convention cdai_cutoffs)."""
    measure = register(
        Measure(
            name="toy_index",
            label="toy index (TJC28 + SJC28)",
            inputs=("tjc28", "sjc28"),
            formula="tjc28 + sjc28",
            reference="test only",
            compute=lambda c, tjc28, sjc28: np.asarray(tjc28, float) + sjc28,
            digits=0,
            cutoffs="cdai_cutoffs",
            store=True,
            t2t_index="TOY",
        )
    )
    yield measure
    del MEASURES["toy_index"]


def test_a_toy_measure_flows_to_store_fhir_and_t2t(
    engine: Engine, tmp_path: Path, toy: Measure
) -> None:
    src = tmp_path / "v.csv"
    src.write_text("patient,date,tjc28,sjc28\nP1,2021-05-01,3,2\nP1,2021-08-01,1,0\n")
    mapping = tmp_path / "v.toml"
    mapping.write_text(
        '[source]\nformat = "csv"\n[patient]\nid = "patient"\n[visit]\ndate = "date"\n'
        '[values]\ntjc28 = "tjc28"\nsjc28 = "sjc28"\n'
    )
    import_file(engine, src, mapping)
    visits = load_visits(engine)
    assert visits["toy_index"].tolist() == [5.0, 1.0]
    # CDAI bands (Aletaha 2005): 5 is low activity (2.8 < x <= 10), 1 remission (<= 2.8)
    assert visits["toy_index_category"].astype(str).tolist() == ["low", "remission"]

    bundle = fhir_bundle(engine)
    toy_obs = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation"
        and e["resource"]["code"].get("text") == "toy_index"
    ]
    assert [o["valueQuantity"]["value"] for o in toy_obs] == [5.0, 1.0]
    assert toy_obs[0]["code"]["coding"][0]["code"] == "toy-index"  # project code system, no LOINC
    assert len(toy_obs[0]["derivedFrom"]) == 2  # links to the tjc28 and sjc28 Observations

    assert "toy_index" in [m.name for m in t2t_indices()]


def test_a_toy_index_is_a_usable_strategy_index(toy: Measure) -> None:
    """The engine reads the toy index from its declaration: a strategy can target it, and a
    decision names it by its short name."""
    import pandas as pd

    from rheumetrics.t2t import decide, load_strategy
    from rheumetrics.t2t.indices import INDICES

    spec = INDICES["toy_index"]
    assert (spec.label, spec.family, spec.low) == ("TOY", "cdai", 0.0)
    base = load_strategy("eular2022_ra").model_dump()
    base["index"] = {"name": "toy_index", "cutoffs": None}
    from rheumetrics.t2t.strategy import Strategy

    strategy = Strategy.model_validate(base)
    visits = pd.DataFrame(
        {
            "patient_id": ["P1"],
            "visit_date": pd.to_datetime(["2021-05-01"]),
            "tjc28": [3],
            "sjc28": [2],
        }
    )
    log = decide(visits, strategy)
    assert log["index"].iloc[0] == "toy_index" and log["index_value"].iloc[0] == 5.0
