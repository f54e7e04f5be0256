"""Cohort frames from plain files, and study files setting the scoring conventions of every
cohort (files and store)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rheumetrics.cohort import CohortFrames, from_files, score_visits
from rheumetrics.errors import RheumetricsError, ValidationError
from rheumetrics.measures.conventions import Conventions
from rheumetrics.study.cohort import load_cohort
from rheumetrics.study.model import load_study, parse_study


def _visits(folder: Path) -> Path:
    path = folder / "visits.csv"
    pd.DataFrame({
        "patient_id": [1, 1, 2],
        "visit_date": ["2020-01-01", "2020-04-01", "2020-01-05"],
        "tjc28": [4, 2, 0], "sjc28": [3, 1, 0], "ptga": [5.0, 3.0, 1.0], "phga": [4.0, 2.0, 0.5],
    }).to_csv(path, index=False)  # fmt: skip
    return path


def test_from_files_reads_and_scores_under_the_given_conventions(tmp_path: Path) -> None:
    frames = from_files(_visits(tmp_path), measures=["cdai"],
                        conventions=Conventions(cdai_cutoffs="cdai_aletaha2005"))  # fmt: skip
    assert isinstance(frames, CohortFrames)
    # CDAI = TJC28 + SJC28 + PtGA + PhGA (Aletaha D et al. Arthritis Res Ther 2005;7:R796)
    assert frames.visits["cdai"].tolist() == [16.0, 8.0, 1.5]
    assert frames.visits["patient_id"].tolist() == ["1", "1", "2"]
    assert list(frames.patients.index) == ["1", "2"]
    assert frames.therapies.empty and frames.reads.empty
    assert frames.conventions["cdai_cutoffs"] == "cdai_aletaha2005"


def test_a_bad_visit_date_names_its_line(tmp_path: Path) -> None:
    path = _visits(tmp_path)
    text = path.read_text().replace("2020-04-01", "2020-13-01")
    path.write_text(text)
    with pytest.raises(ValidationError) as err:
        from_files(path)
    [problem] = err.value.problems
    assert (problem.record, problem.field, problem.value) == (3, "visit_date", "2020-13-01")


def test_score_visits_leaves_present_columns_alone() -> None:
    visits = pd.DataFrame({"patient_id": ["1"], "visit_date": [pd.Timestamp("2020-01-01")],
                           "cdai": [9.0]})  # fmt: skip
    assert score_visits(visits, ["cdai"]) is visits


RAPPORT_CONVENTIONS = "[conventions]\nhaq_min_categories = 8\n"


def test_a_study_sets_the_conventions_of_a_store_cohort(tmp_path: Path) -> None:
    """The study builds its own store from its imports: the store is scored under the study's
    conventions and the cohort read from that score run."""
    bundled = load_study("rapport")
    text = bundled.path.read_text(encoding="utf-8")  # type: ignore[union-attr]
    study = parse_study(RAPPORT_CONVENTIONS + text, bundled.path)
    default = load_cohort(bundled, f"sqlite:///{tmp_path / 'r.sqlite'}")
    cohort = load_cohort(study, f"sqlite:///{tmp_path / 'r.sqlite'}")
    assert default.conventions["haq_min_categories"] == 6
    assert cohort.conventions["haq_min_categories"] == 8
    assert len(cohort.visits) == len(default.visits)


def test_a_store_without_the_studys_run_is_not_rescored_silently(tmp_path: Path) -> None:
    """A store the study does not build itself must already hold the run of its conventions."""
    bundled = load_study("rapport")
    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    load_cohort(bundled, url)  # builds and scores under the defaults
    text = bundled.path.read_text(encoding="utf-8")  # type: ignore[union-attr]
    text = (
        text[: text.index("imports = [")] + text[text.index("]\n", text.index("imports = [")) + 2 :]
    )
    study = parse_study(RAPPORT_CONVENTIONS + text, bundled.path)
    assert not study.cohort.imports
    with pytest.raises(RheumetricsError, match="db rescore"):
        load_cohort(study, url)
