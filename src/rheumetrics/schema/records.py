"""The record fields of patients, visits, therapies and imaging reads.

Each is a :class:`rheumetrics.schema.fields.Field` over the shared vocabularies of
:mod:`rheumetrics.schema.vocab`. The store's columns, the mapping checker, the importer's messages
and the imaging package (:func:`rheumetrics.imaging.validate_reads`) all use these names, so an
imaging read has one vocabulary everywhere (``timepoint``, ``system``, ``version``, ``session``,
``design``). Per-visit values (labs, counts, questionnaires) are the items of
:mod:`rheumetrics.store.items`.

Examples
--------
>>> from rheumetrics.schema.records import IMAGING_READ_KEY, IMAGING_FIELDS
>>> IMAGING_READ_KEY[:4]
('patient_id', 'timepoint', 'side', 'modality')
>>> IMAGING_FIELDS["system"].required
True
"""

from __future__ import annotations

import datetime as dt

from rheumetrics.schema import vocab
from rheumetrics.schema.fields import Field

#: Largest therapy dose accepted, in any dose unit (a bound, so that "inf" is refused).
MAX_DOSE = 100_000.0
#: Largest imaging grade accepted before the scoring system's own scale is checked.
MAX_GRADE = 100.0

PATIENT_FIELDS: dict[str, Field] = {
    "id": Field("id", kind="text", required=True),
    "diagnosis": Field("diagnosis", kind="enum", choices=tuple(vocab.DIAGNOSES)),
    "sex": Field("sex", kind="enum", choices=vocab.SEXES),
    "birth_year": Field(
        "birth_year", "year of birth", "a", 1900, dt.date.today().year, integer=True
    ),
    "rf": Field("rf", kind="bool"),
    "acpa": Field("acpa", kind="bool"),
    "hla_b27": Field("hla_b27", kind="bool"),
}
VISIT_FIELDS: dict[str, Field] = {
    "date": Field("date", kind="date", required=True),
    "kind": Field("kind", kind="enum", choices=vocab.VISIT_KINDS),
    "label": Field("label", kind="text"),
}
THERAPY_FIELDS: dict[str, Field] = {
    "drug": Field("drug", kind="text", required=True),
    "drug_class": Field("drug_class", kind="enum", required=True, choices=vocab.DRUG_CLASSES),
    "dose": Field("dose", "dose", "", 0, MAX_DOSE),
    "dose_unit": Field("dose_unit", kind="text", max_len=16),
    "route": Field("route", kind="enum", choices=vocab.ROUTES),
    "start_date": Field("start_date", kind="date", required=True),
    "stop_date": Field("stop_date", kind="date"),
    "stop_reason": Field("stop_reason", kind="enum", choices=vocab.STOP_REASONS),
}
#: Fields of one imaging read record (one grade of one feature at one site by one reader).
IMAGING_FIELDS: dict[str, Field] = {
    "timepoint": Field("timepoint", kind="text", required=True, max_len=32),
    "image_date": Field("image_date", kind="date"),
    "side": Field("side", kind="enum", required=True, choices=vocab.SIDES),
    "modality": Field("modality", kind="enum", required=True, choices=vocab.MODALITIES),
    "system": Field("system", kind="text", required=True, max_len=32),
    "version": Field("version", kind="text", required=True, max_len=32),
    "reader": Field("reader", kind="text", required=True, max_len=32),
    "session": Field("session", kind="text", max_len=32),
    "design": Field("design", kind="enum", choices=vocab.READING_DESIGNS),
    "site": Field("site", kind="text", required=True, max_len=48),
    "feature": Field("feature", kind="text", required=True, max_len=32),
    "grade": Field("grade", "grade", "", 0, MAX_GRADE),
    "not_assessable": Field("not_assessable", kind="bool"),
}
#: Defaults of the optional imaging fields.
IMAGING_DEFAULTS: dict[str, object] = {
    "session": "1",
    "design": "unspecified",
    "not_assessable": False,
}
#: Natural key of a therapy record.
THERAPY_KEY = ("patient_id", "drug", "start_date")
#: Natural key of an imaging read record (one grade per key).
IMAGING_READ_KEY = ("patient_id", "timepoint", "side", "modality", "system", "version", "reader",
                    "session", "site", "feature")  # fmt: skip
