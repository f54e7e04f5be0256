"""Import -> load -> export -> re-import round trip, with stored scores checked against the
worked examples of clinical-measures.md §14, and the FHIR and de-identified exports."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import Engine, text

from rheumetrics.joints import joint_set
from rheumetrics.numeric import round_display
from rheumetrics.store import (
    export_deidentified,
    export_tidy,
    fhir_bundle,
    import_file,
    init_db,
    load_patients,
    load_visits,
    make_engine,
)
from rheumetrics.store.export.deid import AGE_TOP_LABEL, pseudonym
from rheumetrics.store.items import items


def _visits(engine: Engine) -> pd.DataFrame:
    return load_visits(engine, joints=True).reset_index(drop=True)


def test_values_joints_units_and_scores(engine: Engine, clinic, h) -> None:
    import_file(engine, *clinic())
    v = _visits(engine)
    assert list(v["patient_id"]) == ["P1", "P1", "P2", "P2"]
    # per-joint findings come back exactly: tender 1/0 everywhere, swelling NA at the hips
    for i, spec in enumerate(h.visits):
        for j in joint_set("tender68"):
            assert v.at[i, f"tender_{j}"] == int(j in spec["tender"])
        assert pd.isna(v.at[i, "swollen_R_HIP"]) and pd.isna(v.at[i, "swollen_L_HIP"])
    assert list(v["tjc68"]) == [5, 1, 1, 2]  # R_MTP1 counts in 68, not in 28
    assert list(v["tjc28"]) == [4, 1, 1, 2]
    assert v.at[1, "crp_mg_l"] == 100.0  # 10 mg/dL stored as mg/L
    with engine.connect() as conn:
        units = (
            conn.execute(text("SELECT crp_mg_l_source_unit FROM lab ORDER BY visit_id"))
            .scalars()
            .all()
        )
    assert units == ["mg/L", "mg/dL", "mg/L"]
    # clinical-measures.md §14: W1 4.56, W2 4.24, W13 3.46, W20 SDAI 3.0, W21a CDAI 8.0
    assert round_display(v.at[0, "das28_esr"], 2) == 4.56
    assert round_display(v.at[0, "das28_crp"], 2) == 4.24
    assert round_display(v.at[1, "das28_crp"], 2) == 3.46
    assert round_display(v.at[2, "sdai"], 1) == 3.0 and v.at[2, "sdai_category"] == "remission"
    assert round_display(v.at[3, "cdai"], 1) == 8.0 and v.at[3, "cdai_category"] == "low"
    assert v["das28_esr_category"].cat.ordered
    assert v.attrs["conventions"]["das28_esr_cutoffs"] == "das28_eular"
    assert v.attrs["package_version"]


def test_tidy_export_reimports_to_the_same_store(engine: Engine, clinic, tmp_path: Path) -> None:
    import_file(engine, *clinic())
    out = export_tidy(engine, tmp_path / "visits.csv", joints=True)
    meta = json.loads(Path(f"{out}.meta.json").read_text())
    assert meta["conventions"]["das28_crp_cutoffs"] == "das28_eular" and meta["rows"] == 4
    values = "\n".join(f'{name} = "{name}"' for name in items())
    mapping = tmp_path / "tidy.toml"
    mapping.write_text(f"""
[source]
format = "csv"
[patient]
id = "patient_id"
[visit]
date = "visit_date"
kind = "visit_kind"
[values]
{values}
[joints]
tender = {{ pattern = "tender_{{joint}}" }}
swollen = {{ pattern = "swollen_{{joint}}" }}
""")
    second = make_engine(f"sqlite:///{tmp_path / 'second.sqlite'}")
    init_db(second)
    import_file(second, out, mapping)
    a, b = _visits(engine), _visits(second)
    pd.testing.assert_frame_equal(a.drop(columns=["visit_label"]), b.drop(columns=["visit_label"]),
                                  check_categorical=False)  # fmt: skip
    parquet = export_tidy(engine, tmp_path / "visits.parquet")
    back = pd.read_parquet(parquet)
    assert len(back) == 4 and np.allclose(back["das28_esr"].dropna(), a["das28_esr"].dropna())


def _validate(bundle: dict) -> dict[str, dict]:
    Bundle.model_validate(bundle)
    for entry in bundle["entry"]:
        res = entry["resource"]
        get_fhir_model_class(res["resourceType"]).model_validate(res)
    return {
        f"{e['resource']['resourceType']}/{e['resource']['id']}": e["resource"]
        for e in bundle["entry"]
    }


def test_fhir_bundle_is_valid_and_coded(engine: Engine, clinic, h) -> None:
    import_file(engine, *clinic())
    import_file(engine, h.data / "redcap_records.csv", h.data / "redcap_mapping.toml")
    bundle = fhir_bundle(engine, ["P1", "P2", "1001"])
    by_ref = _validate(bundle)
    obs = [r for r in by_ref.values() if r["resourceType"] == "Observation"]

    def coded(system: str, code: str) -> list[dict]:
        return [
            o
            for o in obs
            if any(c["system"] == system and c["code"] == code for c in o["code"]["coding"])
        ]

    loinc = "http://loinc.org"
    # ecosystem.md §1.1: CDAI total 75847-4, SDAI total 75845-8, ESR 30341-2, CRP 1988-5,
    # patient global 75894-6, evaluator global 75846-6, tender/swollen joint 88983-2 / 88984-0
    cdai = coded(loinc, "75847-4")
    assert {o["valueQuantity"]["value"] for o in cdai} >= {8.0}
    assert coded(loinc, "75845-8") and coded(loinc, "30341-2") and coded(loinc, "1988-5")
    assert coded(loinc, "75894-6") and coded(loinc, "75846-6")
    das = coded("https://rheumetrics.org/fhir/CodeSystem/rheum-scores", "das28-esr")
    assert das and all(o["valueQuantity"]["code"] == "{score}" for o in das)
    for o in obs:  # every derivedFrom link resolves inside the bundle
        for link in o.get("derivedFrom", []):
            assert link["reference"] in by_ref
    w1 = next(o for o in das if o["encounter"]["reference"] == "Encounter/v1")
    linked = {by_ref[r["reference"]]["code"]["coding"][-1]["code"] for r in w1["derivedFrom"]}
    assert linked == {
        "tjc28",
        "sjc28",
        "esr_mm_h",
        "gh_mm",
    }  # DAS28-ESR inputs (clinical-measures.md §2.2)
    joints = coded(loinc, "88983-2")
    # the joints examined: 68 at each of the 4 clinic visits, the 28 of the REDCap form at 2 visits
    assert len(joints) == 68 * 4 + 28 * 2
    knee = next(o for o in joints if o["id"] == "v1-tender-L-KNEE")
    assert knee["valueBoolean"] is True
    assert knee["bodySite"]["coding"][0] == {"system": "http://snomed.info/sct", "code": "49076000"}
    lat = knee["bodySite"]["extension"][0]["valueCodeableConcept"]["coding"][0]
    assert (lat["system"], lat["code"]) == ("http://snomed.info/sct", "7771000")  # left
    swollen_ids = {o["id"] for o in coded(loinc, "88984-0")}
    assert "v1-swollen-R-KNEE" in swollen_ids  # examined (66 swollen joints)
    assert "v1-swollen-R-HIP" not in swollen_ids  # hips are not examined for swelling: none
    assert not any("dataAbsentReason" in o for o in joints)
    cond = [r for r in by_ref.values() if r["resourceType"] == "Condition"]
    assert {c["code"]["coding"][0]["code"] for c in cond} == {"69896004"}
    meds = [r for r in by_ref.values() if r["resourceType"] == "MedicationStatement"]
    assert {m["medicationCodeableConcept"]["text"] for m in meds} == {"methotrexate", "adalimumab"}


def test_deidentified_export(engine: Engine, clinic, h, tmp_path: Path) -> None:
    v = h.visits
    v[2]["birth_year"] = v[3]["birth_year"] = "1920"  # over 89 at the visit: top-coded
    import_file(engine, *clinic(v))
    import_file(engine, h.data / "redcap_records.csv", h.data / "redcap_mapping.toml")
    paths = export_deidentified(engine, tmp_path / "out", secret="k", max_shift_days=30)
    vis = pd.read_csv(paths["visits"], keep_default_na=False, na_values=[""])
    ther = pd.read_csv(paths["therapies"])
    orig = load_visits(engine).reset_index(drop=True)
    assert not set(vis["patient_id"]) & set(orig["patient_id"])
    assert vis["patient_id"].str.fullmatch(r"R[0-9a-f]{16}").all()
    assert "visit_label" not in vis and "attributes" not in vis and "birth_year" not in vis
    # whole years from the *shifted* visit date; P2 (born 1920, 101 at visit) is "90+" throughout
    pats = load_patients(engine)
    shifted_age = pd.to_datetime(vis["visit_date"]).dt.year - vis["patient_id"].map(
        {pseudonym(b"k", k): b for k, b in pats["birth_year"].items()}
    )
    top = vis["patient_id"] == pseudonym(b"k", "P2")
    assert (vis.loc[top, "age_at_visit"] == AGE_TOP_LABEL).all() and top.sum() == 2
    assert vis.loc[~top, "age_at_visit"].astype(int).tolist() == shifted_age[~top].tolist()
    assert set(vis.loc[~top, "age_at_visit"].astype(int)) <= {59, 60, 61, 62, 63, 64, 65, 66}
    # each patient's visits keep their intervals; the shift is within +-30 days
    for key, grp in orig.groupby("patient_id"):
        shifted = pd.to_datetime(vis.loc[vis["patient_id"] == pseudonym(b"k", key), "visit_date"])
        delta = (
            (shifted.to_numpy() - grp["visit_date"].to_numpy()).astype("timedelta64[D]").astype(int)
        )
        assert len(set(delta)) == 1 and 7 <= abs(delta[0]) <= 30
    assert len(ther) == 3 and not set(ther["patient_id"]) & {"1001", "1002"}
    again = export_deidentified(engine, tmp_path / "again", secret="k", max_shift_days=30)
    assert pd.read_csv(again["visits"])["patient_id"].tolist() == vis["patient_id"].tolist()


def test_export_rejects_unknown_format(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.csv or \.parquet"):
        export_tidy(engine, tmp_path / "x.xlsx")


def test_fhir_joints_only_for_joints_examined(engine: Engine, tmp_path: Path) -> None:
    # A store without per-joint findings writes no joint Observations (it wrote 68 x 2
    # "not performed" per visit before).
    src, m = tmp_path / "v.csv", tmp_path / "v.toml"
    src.write_text("patient,date,tjc,sjc\nP1,2021-01-04,3,2\nP1,2021-04-06,1,0\n", encoding="utf-8")
    m.write_text(
        '[source]\nformat = "csv"\n[patient]\nid = "patient"\n[visit]\ndate = "date"\n'
        '[values]\ntjc28 = "tjc"\nsjc28 = "sjc"\n',
        encoding="utf-8",
    )
    import_file(engine, src, m)
    obs = [
        e["resource"]
        for e in fhir_bundle(engine, joints=True)["entry"]
        if e["resource"]["resourceType"] == "Observation"
    ]
    assert obs  # the counts are exported
    assert not [o for o in obs if "bodySite" in o]
