"""Attacks on the de-identified export: each tries to recover the secret date shift, the real
dates or an exact age over 89 from the exported files alone, and must fail.

Each attack is first run on a "naive" export built the way the issue found it (ages from the real
dates, ages capped visit by visit) to show the attack works there, then on :func:`deidentify`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rheumetrics.store.export.deid import (
    AGE_TOP_LABEL,
    MIN_MAX_SHIFT_DAYS,
    MIN_SHIFT_DAYS,
    deidentify,
    export_deidentified,
    pseudonym,
    shift_days,
)

SECRET = b"attack-test-secret"
MAX_SHIFT = 180
N = 300


def _cohort(seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """N patients with visits about every 2 months over 3-6 years (crossing several 1 Januaries);
    every tenth patient is 86-88 at the first visit and over 90 at the last."""
    rng = np.random.default_rng(seed)
    rows = []
    birth = {}
    for i in range(N):
        key = f"P{i:04d}"
        start = pd.Timestamp("2015-01-01") + pd.Timedelta(days=int(rng.integers(0, 1500)))
        gaps = rng.integers(45, 75, size=int(rng.integers(18, 36)))
        dates = start + pd.to_timedelta(np.concatenate([[0], np.cumsum(gaps)]), unit="D")
        birth[key] = int(
            start.year - (rng.integers(86, 89) if i % 10 == 0 else rng.integers(25, 80))
        )
        rows += [{"patient_id": key, "visit_date": d, "visit_kind": "routine",
                  "visit_label": "seen by Dr Jane Smith"} for d in dates]  # fmt: skip
    visits = pd.DataFrame(rows)
    visits["visit_date"] = visits["visit_date"].astype("datetime64[s]")
    patients = pd.DataFrame({"birth_year": birth, "diagnosis": "ra", "sex": "female"})
    therapies = pd.DataFrame({
        "patient_id": ["P0001", "P0002", "P0003"],
        "drug": ["MTX", "Dr Smith trial compound", "adalimumab"],
        "drug_class": ["csDMARD", "other", "bDMARD"],
        "dose": [15.0, 1.0, 40.0], "dose_unit": ["mg/week", "mg", "mg/2 weeks"],
        "route": ["oral", "oral", "sc"],
        "start_date": pd.to_datetime(["2016-01-01", "2016-02-01", "2016-03-01"]).astype("datetime64[s]"),
        "stop_date": pd.to_datetime([None, None, None]).astype("datetime64[s]"),
        "stop_reason": [None, None, None],
    })  # fmt: skip
    return visits, patients, therapies


def _naive(visits: pd.DataFrame, patients: pd.DataFrame) -> pd.DataFrame:
    """The export as the issue found it: ages from the real dates, capped visit by visit."""
    shift = {k: shift_days(SECRET, k, MAX_SHIFT) for k in patients.index}
    v = visits.copy()
    age = v["visit_date"].dt.year - v["patient_id"].map(patients["birth_year"])
    v["age_at_visit"] = age.clip(upper=90).astype(str).where(age < 90, AGE_TOP_LABEL)
    v["visit_date"] = v["visit_date"] + pd.to_timedelta(v["patient_id"].map(shift), unit="D")
    v["patient_id"] = v["patient_id"].map(lambda k: pseudonym(SECRET, k))
    return v


def _true_shifts(patients: pd.DataFrame) -> dict[str, int]:
    return {pseudonym(SECRET, k): shift_days(SECRET, k, MAX_SHIFT) for k in patients.index}


def _january_attack(export: pd.DataFrame) -> list[tuple[str, list[tuple[int, int]]]]:
    """Where the exported age steps up between two visits, assume the step is a real 1 January
    J: then the shift s satisfies d_i - J < s <= d_(i+1) - J. The candidate J are the 1 Januaries
    near the two visits; each gives a bound on s within the allowed range."""
    out = []
    for pid, g in export.groupby("patient_id"):
        g = g.sort_values("visit_date")
        ages = pd.to_numeric(g["age_at_visit"], errors="coerce").to_numpy()
        dates = g["visit_date"].to_numpy()
        for i in np.flatnonzero(np.diff(ages) == 1):
            year = pd.Timestamp(dates[i]).year
            bounds = []
            for y in (year - 1, year, year + 1, year + 2):
                jan1 = np.datetime64(f"{y}-01-01")
                lo = max(int((dates[i] - jan1) / np.timedelta64(1, "D")), -MAX_SHIFT - 1)
                hi = min(int((dates[i + 1] - jan1) / np.timedelta64(1, "D")), MAX_SHIFT)
                if lo < hi:
                    bounds.append((lo, hi))
            out.append((pid, bounds))
    return out


def _success(
    steps: list[tuple[str, list[tuple[int, int]]]], truth: dict[str, int]
) -> tuple[float, float]:
    """Share of age steps whose bounds hold the true shift, and the share a random guess of
    the same total width would score (chance)."""
    hits = [any(lo < truth[pid] <= hi for lo, hi in b) for pid, b in steps]
    span = 2 * (MAX_SHIFT - MIN_SHIFT_DAYS + 1)
    chance = float(np.mean([min(1.0, sum(hi - lo for lo, hi in b) / span) for _, b in steps]))
    return float(np.mean(hits)), chance


def test_age_steps_on_1_january_do_not_give_the_shift_away() -> None:
    visits, patients, therapies = _cohort()
    truth = _true_shifts(patients)
    # On the naive export the attack pins the shift, to within a visit interval, at every step.
    naive = _january_attack(_naive(visits, patients))
    hits, chance = _success(naive, truth)
    assert len(naive) > N and hits == 1.0 and chance < 0.25
    v, _ = deidentify(visits, patients, therapies, SECRET, MAX_SHIFT)
    steps = _january_attack(v)
    assert len(steps) > N
    # On the real export the age steps on the *shifted* 1 January: the attack does no better
    # than a guess of the same width.
    hits, chance = _success(steps, truth)
    assert hits <= chance + 0.05, (hits, chance)


def test_no_exported_date_is_a_real_date() -> None:
    visits, patients, therapies = _cohort()
    v, _ = deidentify(visits, patients, therapies, SECRET, MAX_SHIFT)
    real = visits.assign(patient_id=visits["patient_id"].map(lambda k: pseudonym(SECRET, k)))
    merged = v[["patient_id", "visit_date"]].reset_index(drop=True)
    real = real.sort_values(["patient_id", "visit_date"]).reset_index(drop=True)
    merged = merged.sort_values(["patient_id", "visit_date"]).reset_index(drop=True)
    delta = (merged["visit_date"] - real["visit_date"]).dt.days.abs()
    assert delta.min() >= MIN_SHIFT_DAYS and delta.max() <= MAX_SHIFT


def test_shifts_are_never_zero_and_cover_the_range() -> None:
    shifts = np.array([shift_days(b"s", str(i), MIN_MAX_SHIFT_DAYS) for i in range(20_000)])
    assert (np.abs(shifts) >= MIN_SHIFT_DAYS).all() and (np.abs(shifts) <= MIN_MAX_SHIFT_DAYS).all()
    values, counts = np.unique(shifts, return_counts=True)
    assert len(values) == 2 * (MIN_MAX_SHIFT_DAYS - MIN_SHIFT_DAYS + 1)  # every allowed value
    assert counts.min() > 0.7 * counts.mean()  # about uniform


@pytest.mark.parametrize("bad", [0, 1, 6, MIN_MAX_SHIFT_DAYS - 1, -5])
def test_too_narrow_a_shift_range_is_refused(bad: int) -> None:
    visits, patients, therapies = _cohort()
    with pytest.raises(ValueError, match=f"at least {MIN_MAX_SHIFT_DAYS} days"):
        deidentify(visits, patients, therapies, SECRET, bad)


def _interval_attack(export: pd.DataFrame) -> int:
    """Number of patients for whom an exact age of 90 or more follows from an exact exported
    age and the years between visits."""
    found = 0
    for _, g in export.groupby("patient_id"):
        ages = pd.to_numeric(g["age_at_visit"], errors="coerce")
        known = ages.notna().to_numpy()
        if not known.any():
            continue
        years = g["visit_date"].dt.year.to_numpy()
        i = int(np.flatnonzero(known)[0])
        derived = ages.to_numpy()[i] + (years - years[i])
        found += bool((derived >= 90).any())
    return found


def test_exact_ages_over_89_cannot_be_derived_from_intervals() -> None:
    visits, patients, therapies = _cohort()
    assert _interval_attack(_naive(visits, patients)) >= 20  # the naive export leaks
    v, _ = deidentify(visits, patients, therapies, SECRET, MAX_SHIFT)
    assert _interval_attack(v) == 0
    top = (v["age_at_visit"] == AGE_TOP_LABEL).groupby(v["patient_id"]).agg(["all", "any"])
    assert (top["all"] == top["any"]).all()  # a patient is "90+" at every visit or at none
    assert top["all"].sum() >= 20
    assert pd.to_numeric(v.loc[v["age_at_visit"] != AGE_TOP_LABEL, "age_at_visit"]).max() < 90


def test_free_text_never_leaves() -> None:
    visits, patients, therapies = _cohort()
    v, t = deidentify(visits, patients, therapies, SECRET, MAX_SHIFT)
    for frame in (v, t):
        text = frame.astype(str).to_numpy().ravel()
        assert not any("Smith" in str(cell) for cell in text)
    assert "dose" not in t and "dose_unit" not in t and "visit_label" not in v
    try:
        from rheumetrics.schema.drugs import drug_names
    except ImportError:  # without the drug catalogue no drug name is kept, only the class
        assert t["drug"].isna().all()
    else:
        assert set(t["drug"].dropna()) <= set(drug_names())
        by_class = dict(zip(t["drug_class"], t["drug"], strict=True))
        assert by_class["csDMARD"] == "methotrexate"  # "MTX" mapped to the catalogue name
    assert sorted(t["drug_class"]) == ["bDMARD", "csDMARD", "other"]


def test_export_refuses_a_narrow_range_before_touching_the_store(tmp_path) -> None:
    with pytest.raises(ValueError, match="too small to hide the real dates"):
        export_deidentified(None, tmp_path / "out", secret="s", max_shift_days=1)  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists()


def test_cli_refuses_a_narrow_range_with_one_line(tmp_path) -> None:
    from typer.testing import CliRunner

    from rheumetrics.cli import app

    db = f"sqlite:///{tmp_path / 's.sqlite'}"
    assert CliRunner().invoke(app, ["db", "init", "--db", db]).exit_code == 0
    out = CliRunner().invoke(
        app, ["export", "deid", str(tmp_path / "d"), "--db", db, "--max-shift-days", "1"]
    )
    assert out.exit_code == 1 and "too small to hide the real dates" in out.output
    assert "Traceback" not in out.output
