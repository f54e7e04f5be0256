"""Imaging and radiographic outcome scores from per-site reads (RAMRIS, tenosynovitis, SPARCC,
ASspiMRI-a, Berlin, Sharp/van der Heijde, Sharp 1985, mSASSS).

Reads are validated once (:func:`validate_reads`), scored into totals over named site sets
(:func:`score_reads`), averaged over readers (:func:`reader_mean`), turned into change scores and
named progression/repair rules (:func:`change_scores`, :func:`classify_change`), imaging states
(:func:`imaging_states`), per-site positivity (:func:`site_positivity`) and reader agreement
(:func:`reader_agreement`). Definitions live as data in ``imaging/catalogues/``.
"""

from rheumetrics.imaging.catalogue import (
    site_set,
    site_set_max,
    sites,
    state_definitions,
    systems,
    totals,
)
from rheumetrics.imaging.change import (
    ChangeRule,
    change_rules,
    change_scores,
    classify_change,
    direction_of_change,
    direction_summary,
    mean_change,
)
from rheumetrics.imaging.positivity import site_positivity
from rheumetrics.imaging.reads import ValidatedReads, read_reads, validate_reads
from rheumetrics.imaging.reliability import reader_agreement
from rheumetrics.imaging.scores import reader_mean, score_reads
from rheumetrics.imaging.states import imaging_states

__all__ = [
    "ChangeRule",
    "ValidatedReads",
    "change_rules",
    "change_scores",
    "classify_change",
    "direction_of_change",
    "direction_summary",
    "imaging_states",
    "mean_change",
    "read_reads",
    "reader_agreement",
    "reader_mean",
    "score_reads",
    "site_positivity",
    "site_set",
    "site_set_max",
    "sites",
    "state_definitions",
    "systems",
    "totals",
    "validate_reads",
]
