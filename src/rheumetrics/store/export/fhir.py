"""FHIR R4 export: a ``collection`` Bundle (HL7 FHIR R4 4.0.1, https://hl7.org/fhir/R4/bundle.html).

- Patient (pseudonymous key as identifier; gender; birth year), Condition (SNOMED CT diagnosis),
  Encounter per visit.
- One Observation per stored input (counts, globals, ESR, CRP, PRO items) and one per derived
  score, with the LOINC code its measure declares (``Measure.loinc``) and the project's code system
  otherwise; the score's category goes in ``interpretation``; ``derivedFrom`` links each score
  to the input Observations of its formula (the measure's declared inputs).
- One Observation per joint and state (LOINC 88983-2 tender joint / 88984-0 swollen joint) with
  ``bodySite`` (SNOMED CT joint code where the joint catalogue has one, plus the project joint id)
  and laterality (SNOMED CT 24028007 right / 7771000 left) in a ``bodySite`` extension;
  ``valueBoolean``, for the joints examined only (a joint not examined has no Observation).
- MedicationStatement per therapy.

The JSON is FHIR R4 (4.0.1); it is also valid R4B, which is what the tests validate it with
(``fhir.resources.R4B``; fhir.resources has no exact-R4 package).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from rheumetrics import joints as joint_catalogue
from rheumetrics.measures.base import stored_measures
from rheumetrics.schema.writers import non_finite_paths
from rheumetrics.store.items import items
from rheumetrics.store.jointbits import STORAGE_ORDER
from rheumetrics.store.record_frames import load_patients, load_therapies
from rheumetrics.store.visit_frames import load_visits

#: Base of the project's own FHIR code systems; to be replaced by the project's canonical
#: domain when it has one.
PROJECT_BASE = "https://rheumetrics.org/fhir"
ITEM_SYSTEM = f"{PROJECT_BASE}/CodeSystem/rheum-items"
SCORE_SYSTEM = f"{PROJECT_BASE}/CodeSystem/rheum-scores"
CATEGORY_SYSTEM = f"{PROJECT_BASE}/CodeSystem/rheum-score-categories"
JOINT_SYSTEM = f"{PROJECT_BASE}/CodeSystem/rheum-joints"
PATIENT_KEY_SYSTEM = f"{PROJECT_BASE}/NamingSystem/patient-key"
LATERALITY_URL = f"{PROJECT_BASE}/StructureDefinition/laterality"

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"

#: Per-joint finding codes (LOINC 88983-2 tender joint / 88984-0 swollen joint).
JOINT_LOINC = {"tender": ("88983-2", "Tender joint"), "swollen": ("88984-0", "Swollen joint")}
#: SNOMED CT laterality qualifiers (SNOMED International, https://browser.ihtsdotools.org).
LATERALITY = {"R": ("24028007", "Right"), "L": ("7771000", "Left")}

_ID_OK = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def _fhir_id(prefix: str, key: Any) -> str:
    text = f"{prefix}-{key}"
    if _ID_OK.match(text):
        return text
    import hashlib

    return f"{prefix}-" + hashlib.sha256(str(key).encode()).hexdigest()[:32]


def _ref(resource: dict[str, Any]) -> dict[str, str]:
    return {"reference": f"{resource['resourceType']}/{resource['id']}"}


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": float(value), "unit": unit, "system": UCUM, "code": unit}


def _category(code: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": OBS_CATEGORY, "code": code}]}]


def _patient(key: str, row: pd.Series) -> list[dict[str, Any]]:
    pat: dict[str, Any] = {
        "resourceType": "Patient",
        "id": _fhir_id("p", key),
        "identifier": [{"system": PATIENT_KEY_SYSTEM, "value": str(key)}],
    }
    if isinstance(row["sex"], str):
        pat["gender"] = row["sex"]  # female/male/other/unknown = FHIR AdministrativeGender
    if not pd.isna(row["birth_year"]):
        pat["birthDate"] = f"{int(row['birth_year']):04d}"
    out = [pat]
    if isinstance(row["diagnosis_snomed"], str):
        out.append({
            "resourceType": "Condition",
            "id": _fhir_id("dx", key),
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
            "code": {"coding": [{"system": SNOMED, "code": row["diagnosis_snomed"]}], "text": row["diagnosis"]},
            "subject": _ref(pat),
        })  # fmt: skip
    return out


def _visit_resources(
    visit_id: int, row: pd.Series, pat: dict[str, Any], joint_cols: bool
) -> list[dict[str, Any]]:
    date = row["visit_date"].date().isoformat()
    enc = {
        "resourceType": "Encounter",
        "id": f"v{visit_id}",
        "status": "finished",
        "class": {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
        "subject": _ref(pat),
        "period": {"start": date, "end": date},
    }
    out: list[dict[str, Any]] = [enc]
    base = {
        "status": "final",
        "subject": _ref(pat),
        "encounter": _ref(enc),
        "effectiveDateTime": date,
    }
    inputs: dict[str, dict[str, Any]] = {}
    for name, item in items().items():
        value = row.get(name)
        if value is None or pd.isna(value):
            continue
        coding = [{"system": ITEM_SYSTEM, "code": name, "display": item.label}]
        if item.loinc:
            coding.insert(
                0, {"system": LOINC, "code": item.loinc, "display": item.loinc_display or ""}
            )
        obs = {"resourceType": "Observation", "id": f"v{visit_id}-{name.replace('_', '-')}", **base,
               "category": _category(item.category), "code": {"coding": coding, "text": item.label},
               "valueQuantity": _quantity(float(value), item.unit)}  # fmt: skip
        inputs[name] = obs
        out.append(obs)
    for m in stored_measures():  # each measure's declaration gives its coding and inputs
        name = m.name
        if name == "haq_di" or name not in row or pd.isna(row[name]):
            continue
        coding = [{"system": SCORE_SYSTEM, "code": name.replace("_", "-")}]
        if m.loinc:
            coding.insert(0, {"system": LOINC, "code": m.loinc[0], "display": m.loinc[1]})
        obs = {"resourceType": "Observation", "id": f"v{visit_id}-score-{name.replace('_', '-')}", **base,
               "category": _category(m.fhir_category),
               "code": {"coding": coding, "text": name}}  # fmt: skip
        if m.kind == "flag":
            obs["valueBoolean"] = bool(row[name])
        else:
            obs["valueQuantity"] = _quantity(float(row[name]), "{score}")
            cat = row.get(f"{name}_category")
            if cat is not None and not pd.isna(cat):
                obs["interpretation"] = [
                    {"coding": [{"system": CATEGORY_SYSTEM, "code": str(cat)}], "text": str(cat)}
                ]
        links = [_ref(inputs[i]) for i in m.inputs if i in inputs]
        if links:
            obs["derivedFrom"] = links
        out.append(obs)
    if joint_cols:
        out += _joint_observations(visit_id, row, base)
    return out


@cache
def _joint_names() -> tuple[dict[str, Any], dict[str, str]]:
    """SNOMED CT body-site codes and names of the catalogue's joints."""
    ids = joint_catalogue.JOINTS["id"]
    return (
        dict(zip(ids, joint_catalogue.JOINTS["snomed"], strict=True)),
        dict(zip(ids, joint_catalogue.JOINTS["name"], strict=True)),
    )


def _joint_observations(
    visit_id: int, row: pd.Series, base: dict[str, Any]
) -> list[dict[str, Any]]:
    """One Observation per joint examined for tenderness or swelling at this visit.

    A joint that was not examined has no finding, so it gets no Observation (a store without
    per-joint data writes none).
    """
    snomed, names = _joint_names()
    out = []
    for state in ("tender", "swollen"):
        loinc, display = JOINT_LOINC[state]
        for joint in STORAGE_ORDER:
            value = row[f"{state}_{joint}"]
            if pd.isna(value):
                continue
            side = LATERALITY[joint[0]]
            coding = [{"system": JOINT_SYSTEM, "code": joint, "display": names[joint]}]
            if not pd.isna(snomed[joint]):
                coding.insert(0, {"system": SNOMED, "code": str(snomed[joint])})
            out.append({
                "resourceType": "Observation",
                "id": f"v{visit_id}-{state}-{joint.replace('_', '-')}",
                **base,
                "category": _category("exam"),
                "code": {"coding": [{"system": LOINC, "code": loinc, "display": display}]},
                "bodySite": {
                    "coding": coding,
                    "text": names[joint],
                    "extension": [{"url": LATERALITY_URL, "valueCodeableConcept": {
                        "coding": [{"system": SNOMED, "code": side[0], "display": side[1]}]}}],
                },
                "valueBoolean": bool(value),
            })  # fmt: skip
    return out


def _therapy(i: int, row: pd.Series, pat: dict[str, Any]) -> dict[str, Any]:
    period = {"start": row["start_date"].date().isoformat()}
    if not pd.isna(row["stop_date"]):
        period["end"] = row["stop_date"].date().isoformat()
    med: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "id": _fhir_id("rx", f"{pat['id']}-{i}"),
        "status": "completed" if "end" in period else "active",
        "medicationCodeableConcept": {"text": row["drug"]},
        "subject": _ref(pat),
        "effectivePeriod": period,
        "category": {"text": row["drug_class"]},
    }
    dosage: dict[str, Any] = {}
    if isinstance(row["route"], str):
        dosage["route"] = {"text": row["route"]}
    if not pd.isna(row["dose"]) and isinstance(row["dose_unit"], str):
        dosage["doseAndRate"] = [
            {"doseQuantity": {"value": float(row["dose"]), "unit": row["dose_unit"]}}
        ]
    if dosage:
        med["dosage"] = [dosage]
    if isinstance(row["stop_reason"], str):
        med["statusReason"] = [{"text": row["stop_reason"]}]
    return med


def bundle_entries(
    patients: pd.DataFrame,
    visits: pd.DataFrame,
    therapies: pd.DataFrame,
    *,
    joints: bool = True,
    base_url: str = f"{PROJECT_BASE}/store",
) -> Iterator[dict[str, Any]]:
    """The Bundle entries of a set of patients, from their frames as the store reads them
    (:func:`~rheumetrics.store.load_patients`, :func:`~rheumetrics.store.load_visits` with
    scores, :func:`~rheumetrics.store.load_therapies`): :func:`patient_entries`, then
    :func:`visit_entries`, then :func:`therapy_entries`.

    Every entry's ``fullUrl`` is ``<base_url>/<type>/<id>``, so the relative references inside
    the bundle resolve (FHIR R4 §2.36 bundle reference resolution).
    """
    yield from patient_entries(patients, base_url)
    yield from visit_entries(visits, joints, base_url)
    yield from therapy_entries(therapies, base_url)


def _entry(resource: dict[str, Any], base_url: str) -> dict[str, Any]:
    return {"fullUrl": f"{base_url}/{resource['resourceType']}/{resource['id']}",
            "resource": resource}  # fmt: skip


def _patient_ref(key: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": _fhir_id("p", str(key))}


def patient_entries(patients: pd.DataFrame, base_url: str) -> Iterator[dict[str, Any]]:
    """A Patient and its Condition per row of a patient frame (indexed by patient key)."""
    for key, row in patients.iterrows():
        for resource in _patient(str(key), row):
            yield _entry(resource, base_url)


def visit_entries(visits: pd.DataFrame, joints: bool, base_url: str) -> Iterator[dict[str, Any]]:
    """An Encounter and its Observations per row of a visit frame (indexed by visit id)."""
    for visit_id, row in visits.iterrows():
        for resource in _visit_resources(
            int(visit_id), row, _patient_ref(row["patient_id"]), joints
        ):
            yield _entry(resource, base_url)


def therapy_entries(
    therapies: pd.DataFrame, base_url: str, first: int = 0
) -> Iterator[dict[str, Any]]:
    """A MedicationStatement per therapy course, numbered from ``first`` in frame order."""
    for i, (_, row) in enumerate(therapies.iterrows(), start=first):
        yield _entry(_therapy(i, row, _patient_ref(row["patient_id"])), base_url)


def fhir_bundle(
    engine: Engine,
    patients: Iterable[str] | None = None,
    *,
    run: int | None = None,
    joints: bool = True,
    base_url: str = f"{PROJECT_BASE}/store",
) -> dict[str, Any]:
    """FHIR R4 ``collection`` Bundle (as a JSON-ready dict) of all or some patients
    (entries: :func:`bundle_entries`)."""
    return {**BUNDLE_HEAD, "entry": list(_store_entries(engine, patients, run, joints, base_url))}


#: A Bundle's members before its entries.
BUNDLE_HEAD = {"resourceType": "Bundle", "type": "collection"}


def _store_entries(
    engine: Engine, patients: Iterable[str] | None, run: int | None, joints: bool, base_url: str
) -> Iterator[dict[str, Any]]:
    keys = list(patients) if patients is not None else None
    return bundle_entries(
        load_patients(engine, keys),
        load_visits(engine, keys, scores=True, run=run, joints=joints),
        load_therapies(engine, keys),
        joints=joints,
        base_url=base_url,
    )


def write_bundle(entries: Iterable[dict[str, Any]], path: str | Path) -> Path:
    """Write a collection Bundle of ``entries`` to ``path`` as they come (memory: one entry).

    The text is ``json.dumps`` of the whole Bundle. Strict JSON (RFC 8259 has no NaN or
    Infinity): a non-finite number is refused with a
    :class:`~rheumetrics.errors.ValidationError` naming its path, and no file is left behind.
    """
    from rheumetrics.errors import Problem, ValidationError

    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    head = json.dumps(BUNDLE_HEAD)[:-1]
    try:
        with partial.open("w", encoding="utf-8") as out:
            out.write(f'{head}, "entry": [')
            for i, item in enumerate(entries):
                bad = non_finite_paths(item, f"$.entry[{i}]")
                if bad:
                    raise ValidationError(
                        [Problem(p, "value", v, "must be a finite number (JSON has no NaN or "
                                 "Infinity)", str(path)) for p, v in bad], f"{path}: not written",
                    )  # fmt: skip
                out.write((", " if i else "") + json.dumps(item, default=_json_default,
                                                           allow_nan=False))  # fmt: skip
            out.write("]}")
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def export_fhir(
    engine: Engine,
    path: str | Path,
    patients: Iterable[str] | None = None,
    *,
    run: int | None = None,
    joints: bool = True,
    base_url: str = f"{PROJECT_BASE}/store",
) -> Path:
    """Write :func:`fhir_bundle` as JSON to ``path``."""
    return write_bundle(_store_entries(engine, patients, run, joints, base_url), path)


def _json_default(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    raise TypeError(f"not JSON serialisable: {type(v).__name__}")
