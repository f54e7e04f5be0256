"""The therapy records of a batch of simulated patients, kept as column arrays.

The simulator gives a patient the drugs of a ladder step (or of its optimised form) and stops the
open records when the patient moves on. Records live in NumPy arrays indexed by patient number, so
finding a patient's open records is an integer look-up, and a DataFrame is built once per decision
round for the engine (:func:`rheumetrics.t2t.decide` reads ``patient_id, drug, drug_class, dose,
dose_unit, route, start_date, stop_date, stop_reason``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rheumetrics.sim.parameters import LadderStep

_TEXT = ("drug", "drug_class", "dose_unit", "route")


class TherapyRecords:
    """Therapy records of patients ``0 .. len(patient_ids) - 1`` of one batch."""

    def __init__(self, patient_ids: np.ndarray, ladder: dict[str, LadderStep]) -> None:
        self.patient_ids = patient_ids
        self.ladder = ladder
        self.patient = np.empty(0, dtype=np.int64)
        self.text = {k: np.empty(0, dtype=object) for k in _TEXT}
        self.dose = np.empty(0)
        self.start = np.empty(0, dtype="datetime64[ns]")
        self.stop = np.empty(0, dtype="datetime64[ns]")
        self.reason = np.empty(0, dtype=object)

    def add(
        self, who: np.ndarray, steps: np.ndarray, date: pd.Timestamp, optimised: bool = False
    ) -> None:
        """Start the drugs of each patient's step (``who``: patient numbers) on ``date``."""
        patient: list[np.ndarray] = []
        dose: list[np.ndarray] = []
        text: dict[str, list[np.ndarray]] = {k: [] for k in _TEXT}
        for sid in np.unique(steps):
            on = who[steps == sid]
            step = self.ladder[sid]
            for d in (step.optimised or step.drugs) if optimised else step.drugs:
                patient.append(on)
                dose.append(np.full(len(on), d.dose))
                for k in _TEXT:
                    text[k].append(np.full(len(on), getattr(d, k), dtype=object))
        added = np.concatenate(patient)
        self.patient = np.concatenate([self.patient, added])
        self.dose = np.concatenate([self.dose, *dose])
        for k in _TEXT:
            self.text[k] = np.concatenate([self.text[k], *text[k]])
        self.start = np.concatenate([self.start, np.full(len(added), date.to_datetime64())])
        self.stop = np.concatenate([self.stop, np.full(len(added), np.datetime64("NaT", "ns"))])
        self.reason = np.concatenate([self.reason, np.full(len(added), None, dtype=object)])

    def stop_open(self, who: np.ndarray, date: pd.Timestamp, reasons: np.ndarray | str) -> None:
        """Stop the open records of patients ``who`` on ``date`` with a reason per patient."""
        by_patient = np.empty(len(self.patient_ids), dtype=object)
        by_patient[who] = reasons
        rows = np.isnat(self.stop) & np.isin(self.patient, who)
        self.stop[rows] = date.to_datetime64()
        self.reason[rows] = by_patient[self.patient[rows]]

    def frame(self) -> pd.DataFrame:
        """The records as the engine reads them."""
        return pd.DataFrame(
            {
                "patient_id": self.patient_ids[self.patient],
                **{k: self.text[k] for k in ("drug", "drug_class")},
                "dose": self.dose,
                **{k: self.text[k] for k in ("dose_unit", "route")},
                "start_date": self.start,
                "stop_date": self.stop,
                "stop_reason": self.reason,
            }
        )
