"""Synthetic example cohorts shaped like the NZ MRI escalation study, clearly synthetic.

The study: "Changes in clinical disease activity are weakly linked to changes in MRI inflammation
on treat-to-target escalation of therapy in rheumatoid arthritis", Arthritis Research & Therapy
(2017), doi:10.1186/s13075-017-1433-7. Run ``python examples/synthetic_cohorts.py`` to regenerate
the shipped files in ``rheumetrics/data/nz_synthetic`` (byte-identical).

:func:`nz_example` builds the 80-patient example whose summary tables reproduce the published
figures of the NZ study (doi:10.1186/s13075-017-1433-7): Table 1 counts, medians and ranges,
every N, median, minimum and maximum of Table 2, the median two-sample test p-values of Tables 1
and 2 and of the changes between groups, the direction-of-change counts of Table 3, the median
(range) of the change in DAS28-CRP and MRI(i) and the share with a fall in DAS28-CRP, the
Spearman correlations of Table 4 (to two decimals), the Group B outlier of Fig. 2 and, in a
second stage (:mod:`nz_models`), the adjusted regression, the adjusted group means, the
sensitivity analysis without the outlier and the X-ray erosion association. Each search first
meets the figures without p-values (counts, medians, ranges, correlations), then searches the
p-values with moves that never lose one of those (:func:`pinning.anneal` ``keep``); pins that leave
a figure out of reach are drawn again. Every such figure is *targeted*: the search made it come
out, so its reproduction proves only the generator. The patients are invented: nothing else
about them is real. :func:`synthetic_cohort` draws a cohort of any size from the same design
without pinning any figure (for benchmarks).

Both return :class:`CohortRecords`: patients, visits (canonical visit columns, docs/store.md),
therapy courses and per-site imaging reads (RAMRIS 2002 wrist synovitis, osteitis and erosion,
Haavardsholm tenosynovitis, Sharp/van der Heijde at baseline), the same records the cohort store
holds. :func:`write_cohort` writes them as the CSV files shipped in ``rheumetrics/data/nz_synthetic``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from nz_models import fit_models
from pinning import (
    Pinned,
    Summary,
    Term,
    Variable,
    anneal,
    median_cost,
    median_test_p,
    order_cost,
    p_cost,
    pin_groups,
)
from scipy import stats

from rheumetrics import stats as st
from rheumetrics.imaging import sites
from rheumetrics.measures import das28_crp

#: Seed of the shipped example (any change rewrites the shipped files).
NZ_SEED = 20_190_128
#: Enrolment period: an escalation (therapy start) in this period is an enrolment.
PERIOD = (dt.date(2014, 7, 1), dt.date(2016, 12, 31))

# -- published figures (NZ study, doi:10.1186/s13075-017-1433-7) -------------------------------------------
# Table 1 (patients, first group): counts, and median (min, max) of age and disease duration.
T1_SEX = {"A": {"female": 42, "male": 15}, "B": {"female": 18, "male": 5}}
T1_MTX = {"A": 49, "B": 21}  # on methotrexate at enrolment (of 57 and 23)
T1_NUMERIC = {
    "age_years": (Summary(57, 53, 24, 81), Summary(23, 56, 27, 82), 54.5),
    "disease_duration_months": (Summary(57, 30, 3, 408), Summary(23, 72, 15, 240), 36),
}
# Table 2 (enrolments; Group B includes the four patients who moved from A): per visit,
# (Group A, Group B, median of all). DAS28-CRP in hundredths so that it is exact.
T2: dict[tuple[str, int], tuple[Summary, Summary, float]] = {
    ("tjc28", 1): (Summary(57, 10, 1, 28), Summary(27, 14, 1, 28), 11),
    ("sjc28", 1): (Summary(57, 4, 0, 11), Summary(27, 6, 0, 20), 4),
    ("haq_di", 1): (Summary(57, 0.88, 0, 2.13), Summary(27, 1.38, 0.13, 2.5), 1.06),
    ("das28_crp", 1): (Summary(57, 424, 324, 604), Summary(27, 515, 336, 664), 450),
    ("synovitis", 1): (Summary(51, 3, 0, 9), Summary(26, 4, 0, 9), 3),
    ("tenosynovitis", 1): (Summary(51, 3, 0, 15), Summary(26, 3, 0, 15), 3),
    ("osteitis", 1): (Summary(51, 2, 0, 34), Summary(26, 3, 0, 24), 2),
    ("erosion", 1): (Summary(50, 4, 0, 50), Summary(26, 9, 1, 47), 5),
    ("mri_inflammation", 1): (Summary(51, 8, 0, 45), Summary(26, 13, 1, 36), 9),
    ("xray_erosion", 1): (Summary(42, 5.5, 0, 112), Summary(20, 33.5, 0, 130), 13),
    ("svdh_total", 1): (Summary(42, 20.5, 0, 217), Summary(20, 63, 0, 209), 35.5),
    ("tjc28", 2): (Summary(48, 5, 0, 28), Summary(24, 7, 0, 24), 6),
    ("sjc28", 2): (Summary(48, 1, 0, 20), Summary(24, 0.5, 0, 9), 1),
    ("haq_di", 2): (Summary(48, 0.5, 0, 2), Summary(24, 0.75, 0, 2.13), 0.63),
    ("das28_crp", 2): (Summary(48, 328, 142, 664), Summary(24, 366, 142, 549), 347),
    ("synovitis", 2): (Summary(42, 3, 0, 9), Summary(24, 3, 0, 8), 3),
    ("tenosynovitis", 2): (Summary(42, 2, 0, 15), Summary(24, 3, 0, 12), 2.5),
    ("osteitis", 2): (Summary(44, 2, 0, 32), Summary(24, 3.5, 0, 34), 2),
    ("erosion", 2): (Summary(43, 4, 0, 50), Summary(24, 9.5, 1, 47), 6),
    ("mri_inflammation", 2): (Summary(42, 9, 1, 43), Summary(24, 9, 1, 53), 9),
}
# Table 3: (decrease, increase, no change) from Visit 1 to Visit 2.
T3 = {
    "mri_inflammation": {"A": (16, 16, 10), "B": (13, 3, 8)},
    "osteitis": {"A": (15, 9, 20), "B": (8, 6, 10)},
    "synovitis": {"A": (15, 9, 18), "B": (11, 1, 12)},
    "tenosynovitis": {"A": (12, 10, 20), "B": (9, 5, 10)},
    "erosion": {"A": (0, 3, 40), "B": (0, 5, 19)},
}
# Results text: change median (min, max) by group; DAS28-CRP in hundredths.
Target = tuple[float, float, float]  # (min, median, max)
DELTA: dict[str, dict[str, Target]] = {
    "das28_crp": {"A": (-330, -94, 161), "B": (-359, -153, 56)},
    "mri_inflammation": {"A": (-25, 0, 10), "B": (-15, -1, 28)},
}
FALLS = {"A": 40, "B": 21}  # 83.3% of 48 and 87.5% of 24 had a fall in DAS28-CRP
# Table 4: Spearman correlation of the change in DAS28-CRP with each change in MRI score.
# (r, p, decimals of p)
T4 = {"mri_inflammation": (0.36, 0.003, 3), "osteitis": (0.12, 0.33, 2), "synovitis": (0.21, 0.09, 2),
      "tenosynovitis": (0.33, 0.007, 3), "erosion": (-0.02, 0.87, 2)}  # fmt: skip
# Median two-sample test p-values (Tables 1 and 2, Results): (published p, printed decimals).
T1_P = {"age_years": (0.22, 2), "disease_duration_months": (0.0014, 4)}
T2_P: dict[tuple[str, int], tuple[float, int]] = {
    ("sjc28", 1): (0.097, 3), ("haq_di", 1): (0.037, 3), ("das28_crp", 1): (0.003, 3),
    ("synovitis", 1): (0.102, 3), ("tenosynovitis", 1): (0.931, 3), ("osteitis", 1): (0.021, 3),
    ("erosion", 1): (0.030, 3), ("mri_inflammation", 1): (0.050, 3), ("xray_erosion", 1): (0.001, 3),
    ("svdh_total", 1): (0.031, 3), ("tjc28", 2): (0.399, 3), ("sjc28", 2): (0.337, 3),
    ("haq_di", 2): (0.155, 3), ("das28_crp", 2): (0.047, 3), ("synovitis", 2): (0.851, 3),
    ("tenosynovitis", 2): (0.612, 3), ("osteitis", 2): (0.102, 3), ("erosion", 2): (0.009, 3),
    ("mri_inflammation", 2): (1.0, 3),
}  # fmt: skip
CHANGE_P = {"das28_crp": (0.45, 2), "mri_inflammation": (0.12, 2)}
# Methods: intra-reader ICC (average measures) of 10 re-read scans.
ICC_AVERAGE = 0.89
#: Its published interval, the F-based 95% interval of ICC(3,k) (10 scans read twice).
ICC_INTERVAL = (0.56, 0.97)
# Fig. 2 outlier (Group B): DAS28-CRP 5.15 -> 3.31 while MRI(i) rose 25 -> 53.
OUTLIER = {"das28_crp": (515, 331), "mri_inflammation": (25, 53)}

MRI_FEATURES = {  # feature -> (system, version)
    "synovitis": ("ramris", "2002"),
    "osteitis": ("ramris", "2002"),
    "erosion": ("ramris", "2002"),
    "tenosynovitis": ("haavardsholm", "2007"),
}
# group -> drugs started at enrolment, by whether methotrexate is already taken
ESCALATION: dict[str, dict[bool, tuple[str, ...]]] = {
    "A": {True: ("sulfasalazine", "hydroxychloroquine"), False: ("leflunomide", "hydroxychloroquine")},
    "B": {True: ("adalimumab",), False: ("etanercept",)},
}  # fmt: skip
B_DRUGS = ("adalimumab", "etanercept")


@dataclass
class CohortRecords:
    """Records of a cohort as the store keeps them (one frame per kind of record)."""

    patients: pd.DataFrame
    visits: pd.DataFrame
    therapies: pd.DataFrame
    reads: pd.DataFrame


# -- the pinned NZ example ---------------------------------------------------------------------


@dataclass
class _Design:
    group: np.ndarray  # per enrolment "A"/"B"
    patient: np.ndarray  # per enrolment patient number (0-based)
    sets: dict[str, dict[str, np.ndarray]]  # availability name -> group -> enrolment indices


def _design(rng: np.random.Generator) -> _Design:
    """Who was seen when: 57 + 27 enrolments of 80 patients, dropouts as in Table 2."""
    group = np.array(["A"] * 57 + ["B"] * 27)
    a_perm = rng.permutation(57)
    moved = a_perm[:4]  # four Group A patients later enrolled in Group B
    patient = np.concatenate([np.arange(57), 57 + np.arange(23), moved])
    rest = a_perm[4:]
    syn_a = np.concatenate([moved, rest[:38]])
    ost_a = np.concatenate([syn_a, rest[38:40]])
    ero2_a = np.concatenate([syn_a, rest[38:39]])
    clin2_a = np.concatenate([ost_a, rest[40:44]])
    others = rest[40:]
    mri1_a = np.concatenate([ost_a, rng.choice(others, 7, replace=False)])
    no_ero = rng.choice(np.setdiff1d(mri1_a, ost_a), 1)
    b = 57 + np.arange(27)
    b_perm = np.concatenate([b[23:], rng.permutation(b[:23])])  # moved patients complete
    pair_b = b_perm[:24]
    mri1_b = b_perm[:26]
    xr = {"A": rng.choice(57, 42, replace=False), "B": rng.choice(b[:23], 20, replace=False)}
    sets = {
        "clin1": {"A": np.arange(57), "B": b},
        "clin2": {"A": clin2_a, "B": pair_b},
        "mri1": {"A": mri1_a, "B": mri1_b},
        "ero1": {"A": np.setdiff1d(mri1_a, no_ero), "B": mri1_b},
        "syn2": {"A": syn_a, "B": pair_b},
        "ost2": {"A": ost_a, "B": pair_b},
        "ero2": {"A": ero2_a, "B": pair_b},
        "xr": xr,
    }
    return _Design(
        group, patient, {k: {g: np.sort(i) for g, i in v.items()} for k, v in sets.items()}
    )


_STEPS = {"haq_di": 0.125, "das28_crp": 1.0}
_DIGITS = {"haq_di": 2}


def _pinned_variable(
    rng: np.random.Generator, name: str, visit: int, where: dict[str, np.ndarray], size: int
) -> Variable:
    a, b, total = T2[(name, visit)]
    require = {"B": [OUTLIER[name][visit - 1]]} if name in OUTLIER else None
    accept = None
    if (name, visit) in T2_P:
        target, digits = T2_P[(name, visit)]

        def accept(p: dict[str, Pinned]) -> float:
            return p_cost(median_test_p(p["A"].values, p["B"].values), target, digits)

    pins = pin_groups(rng, {"A": a, "B": b}, total, step=_STEPS.get(name, 1.0),
                      digits=_DIGITS.get(name, 1), require=require, accept=accept,
                      split_median=name == "das28_crp")  # fmt: skip
    step = _STEPS.get(name, 1.0)
    if (name, visit) in T2_P:  # no later nudge may touch the overall median: the test's scores stay
        m = float(np.median(np.concatenate([p.values for p in pins.values()])))
        for p in pins.values():
            at = p.values == m
            p.lo[at] = p.hi[at] = m
            p.lo[(p.lo == m) & (p.values > m)] = m + step
            p.hi[(p.hi == m) & (p.values < m)] = m - step
    v = np.full(size, np.nan)
    lo = v.copy()
    hi = v.copy()
    for g, p in pins.items():
        idx = rng.permutation(where[g])
        v[idx], lo[idx], hi[idx] = p.values, p.lo, p.hi
    return Variable(v, lo, hi, step, [where["A"], where["B"]])


def _das_band() -> tuple[np.ndarray, np.ndarray]:
    """Plausible DAS28-CRP range (hundredths) for each tender x swollen count (CRP 1-40, GH 8-85)."""
    t, s = np.meshgrid(np.arange(29), np.arange(29), indexing="ij")
    low = das28_crp(tjc28=t.ravel(), sjc28=s.ravel(), crp_mg_l=np.full(t.size, 1.0),
                    gh_mm=np.full(t.size, 8.0))  # fmt: skip
    high = das28_crp(tjc28=t.ravel(), sjc28=s.ravel(), crp_mg_l=np.full(t.size, 40.0),
                     gh_mm=np.full(t.size, 85.0))  # fmt: skip
    return np.ceil(100 * low).reshape(29, 29), np.floor(100 * high).reshape(29, 29)


def _mri(st: Mapping[str, np.ndarray], v: int) -> np.ndarray:
    return st[f"synovitis{v}"] + st[f"osteitis{v}"] + st[f"tenosynovitis{v}"]


def _change(st: Mapping[str, np.ndarray], name: str) -> np.ndarray:
    if name == "mri_inflammation":
        return _mri(st, 2) - _mri(st, 1)
    if name == "erosion":
        return st["ero_increase"]
    return st[f"{name}2"] - st[f"{name}1"]


_PARTS = ("synovitis1", "osteitis1", "tenosynovitis1", "synovitis2", "osteitis2", "tenosynovitis2")
#: Imaging outcomes whose pins may be drawn again when the search cannot meet their figures.
_REPINNED = ("synovitis", "osteitis", "tenosynovitis")
_PAIRS = {  # which records have a pair of reads for each change
    "mri_inflammation": "syn2",
    "synovitis": "syn2",
    "tenosynovitis": "syn2",
    "osteitis": "ost2",
    "erosion": "ero2",
}


def _both(where: Mapping[str, np.ndarray]) -> np.ndarray:
    return np.concatenate([where["A"], where["B"]])


def _mri_order(st: Mapping[str, np.ndarray], *, v: int, i: np.ndarray, t: Target) -> float:
    return order_cost(_mri(st, v)[i], t)


def _mri_median(st: Mapping[str, np.ndarray], *, v: int, i: np.ndarray, t: float) -> float:
    return median_cost(_mri(st, v)[i], t)


def _change_order(st: Mapping[str, np.ndarray], *, name: str, i: np.ndarray, t: Target) -> float:
    return order_cost(_change(st, name)[i], t)


def _direction(
    st: Mapping[str, np.ndarray], *, name: str, i: np.ndarray, want: tuple[int, int, int]
) -> float:
    c = _change(st, name)[i]
    got = ((c < 0).sum(), (c > 0).sum(), (c == 0).sum())
    return float(sum(abs(x - y) for x, y in zip(got, want, strict=True)))


def _outlier_mri(st: Mapping[str, np.ndarray], *, k: int) -> float:
    low, high = OUTLIER["mri_inflammation"]
    return float(abs(_mri(st, 1)[k] - low) + abs(_mri(st, 2)[k] - high))


def _erosion2(st: Mapping[str, np.ndarray]) -> np.ndarray:
    return st["erosion1"] + st["ero_increase"]


def _erosion2_order(st: Mapping[str, np.ndarray], *, i: np.ndarray, t: Target) -> float:
    return order_cost(_erosion2(st)[i], t)


def _erosion2_median(st: Mapping[str, np.ndarray], *, i: np.ndarray, t: float) -> float:
    return median_cost(_erosion2(st)[i], t)


def _svdh(st: Mapping[str, np.ndarray], *, i: np.ndarray) -> float:
    """Joint space narrowing (total minus erosion) must lie in 0-168."""
    jsn = st["svdh_total1"][i] - st["xray_erosion1"][i]
    return float(np.maximum(-jsn, 0).sum() + np.maximum(jsn - 168, 0).sum())


def _p_term(name: str, uses: tuple[str, ...], values: Callable[[Mapping[str, np.ndarray]], np.ndarray],
            where: Mapping[str, np.ndarray], target: tuple[float, int]) -> Term:  # fmt: skip
    """The median two-sample test p of ``values`` between the groups prints as published."""
    a, b = where["A"], where["B"]

    def cost(st: Mapping[str, np.ndarray]) -> float:
        v = values(st)
        return p_cost(median_test_p(v[a], v[b]), *target)

    return Term(f"p-{name}", uses, cost)


def _column(key: str) -> Callable[[Mapping[str, np.ndarray]], np.ndarray]:
    return lambda st: st[key]


def _imaging_terms(d: _Design, outlier: int) -> list[Term]:
    """Costs of the MRI figures: MRI(i) sums, Table 3 directions, change in MRI(i), erosion."""
    sets = d.sets
    terms: list[Term] = []
    for v in (1, 2):
        uses = tuple(p for p in _PARTS if p.endswith(str(v)))
        where = sets["mri1"] if v == 1 else sets["syn2"]
        a, b, total = T2[("mri_inflammation", v)]
        for g, s in (("A", a), ("B", b)):
            cost = partial(_mri_order, v=v, i=where[g], t=(s.low, s.median, s.high))
            terms.append(Term(f"mri{v}{g}", uses, cost))
        terms.append(Term(f"mri{v}", uses, partial(_mri_median, v=v, i=_both(where), t=total)))
    uses_of = {"mri_inflammation": _PARTS, "erosion": ("ero_increase",)}
    for name, counts in T3.items():
        uses = uses_of.get(name, (f"{name}1", f"{name}2"))
        for g, want in counts.items():
            cost = partial(_direction, name=name, i=sets[_PAIRS[name]][g], want=want)
            terms.append(Term(f"direction-{name}-{g}", uses, cost))
    for g in ("A", "B"):
        cost = partial(_change_order, name="mri_inflammation", i=sets["syn2"][g],
                       t=DELTA["mri_inflammation"][g])  # fmt: skip
        terms.append(Term(f"change-mri-{g}", _PARTS, cost))
    terms.append(Term("outlier-mri", _PARTS, partial(_outlier_mri, k=outlier)))
    a, b, total = T2[("erosion", 2)]
    ero = ("erosion1", "ero_increase")
    for g, s in (("A", a), ("B", b)):
        cost = partial(_erosion2_order, i=sets["ero2"][g], t=(s.low, s.median, s.high))
        terms.append(Term(f"erosion2{g}", ero, cost))
    terms.append(Term("erosion2", ero, partial(_erosion2_median, i=_both(sets["ero2"]), t=total)))
    terms.append(
        Term("svdh", ("xray_erosion1", "svdh_total1"), partial(_svdh, i=_both(sets["xr"])))
    )
    # median two-sample test p-values of Table 2 and of the change in MRI(i)
    where_of = {("synovitis", 1): "mri1", ("tenosynovitis", 1): "mri1", ("osteitis", 1): "mri1",
                ("erosion", 1): "ero1", ("xray_erosion", 1): "xr", ("svdh_total", 1): "xr",
                ("synovitis", 2): "syn2", ("tenosynovitis", 2): "syn2", ("osteitis", 2): "ost2"}  # fmt: skip
    for (name, v), key in where_of.items():
        terms.append(_p_term(f"{name}{v}", (f"{name}{v}",), _column(f"{name}{v}"), sets[key],
                             T2_P[(name, v)]))  # fmt: skip
    parts1 = tuple(p for p in _PARTS if p.endswith("1"))
    terms.append(
        _p_term("mri1", parts1, partial(_mri, v=1), sets["mri1"], T2_P[("mri_inflammation", 1)])
    )
    parts2 = tuple(p for p in _PARTS if p.endswith("2"))
    terms.append(
        _p_term("mri2", parts2, partial(_mri, v=2), sets["syn2"], T2_P[("mri_inflammation", 2)])
    )
    terms.append(_p_term("erosion2", ero, _erosion2, sets["ero2"], T2_P[("erosion", 2)]))
    terms.append(_p_term("change-mri", _PARTS, partial(_change, name="mri_inflammation"),
                         sets["syn2"], CHANGE_P["mri_inflammation"]))  # fmt: skip
    return terms


def _r_interval(r: float, p: float, digits: int, n: int) -> tuple[float, float]:
    """Correlations that print as ``r`` (2 decimals) with an asymptotic two-sided p that prints
    as ``p`` (t on n - 2 df, as SAS and the paper), with a safety margin inside the rounding."""
    unit = 10.0**-digits
    t_hi = stats.t.isf(max(p - 0.35 * unit, 1e-12) / 2, n - 2)
    t_lo = stats.t.isf((p + 0.35 * unit) / 2, n - 2)
    r_lo, r_hi = (t / np.sqrt(n - 2 + t * t) for t in (t_lo, t_hi))
    lo, hi = max(abs(r) - 0.003, r_lo), min(abs(r) + 0.003, r_hi)
    return (lo, hi) if r >= 0 else (-hi, -lo)


def _das_change(st: Mapping[str, np.ndarray], *, j: np.ndarray, t: Target, falls: int) -> float:
    """Change in DAS28-CRP: median (min, max), the number with a fall, and no zero change."""
    c = (st["das28_crp2"] - st["das28_crp1"])[j]
    return order_cost(c, t) + abs(float((c < 0).sum()) - falls) + float((c == 0).sum())


def _clinical_terms(d: _Design, mri: Mapping[str, np.ndarray]) -> list[Term]:
    """Costs of the DAS28-CRP figures: change by group, falls, Table 4 correlations, plausibility."""
    band_low, band_high = _das_band()
    sets = d.sets
    das = ("das28_crp1", "das28_crp2")
    terms: list[Term] = []
    for g in ("A", "B"):
        cost = partial(_das_change, j=sets["clin2"][g], t=DELTA["das28_crp"][g], falls=FALLS[g])
        terms.append(Term(f"change-das-{g}", das, cost))
    index = {key: _both(sets[key]) for key in set(_PAIRS.values())}
    fixed = {name: stats.rankdata(_change(mri, name)[index[_PAIRS[name]]]) for name in T4}

    bounds = {
        name: _r_interval(r, p, digits, index[_PAIRS[name]].size)
        for name, (r, p, digits) in T4.items()
    }

    def correlations(st: Mapping[str, np.ndarray]) -> float:
        delta = st["das28_crp2"] - st["das28_crp1"]
        ranks = {key: stats.rankdata(delta[i]) for key, i in index.items()}
        total = 0.0
        for name in T4:
            got = float(np.corrcoef(ranks[_PAIRS[name]], fixed[name])[0, 1])
            lo, hi = bounds[name]
            total += 100 * (max(0.0, lo - got) + max(0.0, got - hi))
        return total

    terms.append(Term("correlations", das, correlations))
    pairs = _both(sets["clin2"])

    def distinct(st: Mapping[str, np.ndarray]) -> float:
        """Tied changes would be untied by the scored values, moving the rank correlations."""
        delta = (st["das28_crp2"] - st["das28_crp1"])[pairs]
        return float(delta.size - np.unique(delta).size)

    terms.append(Term("distinct", das, distinct))
    terms.append(_p_term("change-das", das, lambda st: st["das28_crp2"] - st["das28_crp1"],
                         sets["clin2"], CHANGE_P["das28_crp"]))  # fmt: skip
    for name, v in (("sjc28", 1), ("das28_crp", 1), ("tjc28", 2), ("sjc28", 2), ("das28_crp", 2)):
        terms.append(_p_term(f"{name}{v}", (f"{name}{v}",), _column(f"{name}{v}"),
                             sets[f"clin{v}"], T2_P[(name, v)]))  # fmt: skip
    for v in (1, 2):
        i = _both(sets[f"clin{v}"])

        def plausible(st: Mapping[str, np.ndarray], v: int = v, i: np.ndarray = i) -> float:
            t = st[f"tjc28{v}"][i].astype(int)
            s = st[f"sjc28{v}"][i].astype(int)
            x = st[f"das28_crp{v}"][i]
            return float(
                np.maximum(band_low[t, s] - x, 0).sum() + np.maximum(x - band_high[t, s], 0).sum()
            )

        terms.append(Term(f"plausible{v}", (f"tjc28{v}", f"sjc28{v}", f"das28_crp{v}"), plausible))
    return terms


def _solve_components(
    rng: np.random.Generator, das_hundredths: np.ndarray, tjc: np.ndarray, sjc: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """CRP (0.1 mg/L, else 0.01) and patient global (mm) giving each DAS28-CRP to within 0.0015.

    Within 0.0015 every value, change (0.003) and median prints as its two-decimal target.
    """
    crp = np.empty(das_hundredths.size)
    gh = np.empty(das_hundredths.size)
    grids = [
        np.meshgrid(np.round(np.arange(0.1, 80.05, step), 2), np.arange(0.0, 101.0))
        for step in (0.1, 0.01)
    ]
    for k, (target, t, s) in enumerate(zip(das_hundredths / 100, tjc, sjc, strict=True)):
        for cc, gg in grids:
            das = das28_crp(tjc28=np.full(cc.size, t), sjc28=np.full(cc.size, s), crp_mg_l=cc.ravel(),
                            gh_mm=gg.ravel())  # fmt: skip
            ok = np.flatnonzero(np.abs(das - target) < 0.0015)
            if ok.size:
                break
        else:
            raise RuntimeError(f"no CRP/global gives DAS28-CRP {target} with TJC {t}, SJC {s}")
        # prefer a global assessment in step with disease activity
        want = np.clip(15 * (target - 1.5), 5, 90)
        pick = ok[np.argsort(np.abs(gg.ravel()[ok] - want) + rng.uniform(0, 8, ok.size))[0]]
        crp[k], gh[k] = cc.ravel()[pick], gg.ravel()[pick]
    return crp, gh


def _place_outlier(variables: dict[str, Variable], d: _Design, outlier: int) -> None:
    """Give the Fig. 2 outlier its published DAS28-CRP at both visits and keep it there."""
    for visit, value in zip((1, 2), OUTLIER["das28_crp"], strict=True):
        var = variables[f"das28_crp{visit}"]
        group_b = d.sets[f"clin{visit}"]["B"]
        donor = int(group_b[var.values[group_b] == value][0])
        for arr in (var.values, var.lo, var.hi):
            arr[[donor, outlier]] = arr[[outlier, donor]]
        var.freeze(outlier)


def _nz_values(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-enrolment outcome values and per-patient characteristics of the pinned example."""
    rng = np.random.default_rng(seed)
    d = _design(rng)
    size = d.group.size
    variables: dict[str, Variable] = {}

    def pin(name: str, visit: int) -> Variable:
        where = {
            "tjc28": "clin", "sjc28": "clin", "haq_di": "clin", "das28_crp": "clin",
            "synovitis": "mri" if visit == 1 else "syn", "tenosynovitis": "mri" if visit == 1 else "syn",
            "osteitis": "mri" if visit == 1 else "ost", "erosion": "ero", "xray_erosion": "xr",
            "svdh_total": "xr",
        }[name]  # fmt: skip
        key = where if where == "xr" else f"{where}{visit}"
        return _pinned_variable(rng, name, visit, d.sets[key], size)

    for (name, visit), _ in T2.items():
        if name in ("mri_inflammation",) or (name, visit) == ("erosion", 2):
            continue
        variables[f"{name}{visit}"] = pin(name, visit)
    inc = np.full(size, np.nan)
    pairs = np.concatenate([d.sets["ero2"]["A"], d.sets["ero2"]["B"]])
    inc[pairs] = 0.0
    lo = np.where(np.isnan(inc), np.nan, 0.0)
    variables["ero_increase"] = Variable(inc, lo, lo + 3, 1.0, [])
    # start DAS28 in step with the joint counts, as the plausibility term wants
    for v in (1, 2):
        for g in ("A", "B"):
            i = d.sets[f"clin{v}"][g]
            das = variables[f"das28_crp{v}"]
            order = i[np.argsort(variables[f"tjc28{v}"].values[i] + 0.5 * variables[f"sjc28{v}"].values[i]
                                 + rng.uniform(0, 6, i.size))]  # fmt: skip
            ranked = i[np.argsort(das.values[i], kind="stable")]
            for arr in (das.values, das.lo, das.hi):
                arr[order] = arr[ranked].copy()
    outlier = int(np.setdiff1d(d.sets["clin2"]["B"], 57 + np.arange(23, 27))[0])
    _place_outlier(variables, d, outlier)
    imaging = {k: x for k, x in variables.items() if not k.startswith(("tjc", "sjc", "das", "haq"))}
    clinical = {k: x for k, x in variables.items() if k.startswith(("tjc", "sjc", "das"))}
    state = {k: x.values for k, x in variables.items()}
    for part, terms in (  # imaging first: the correlations need its changes
        (imaging, lambda: _imaging_terms(d, outlier)),
        (clinical, lambda: _clinical_terms(d, state)),
    ):
        built = terms()
        # first every figure the earlier example met (counts, medians, ranges, correlations),
        # then the p-values of the median two-sample tests without losing any of those
        hard = [t for t in built if not t.name.startswith("p-")]
        for _ in range(3):
            for _ in range(4):  # reheat from where the last run stopped
                cost = anneal(part, hard, rng, iterations=200_000)
                if cost < 1e-9:
                    break
            # pins that leave a figure out of reach are drawn again (imaging outcomes only:
            # the DAS28-CRP pins hold the Fig. 2 outlier)
            again = {k for t in hard if t.cost(state) > 1e-9 for k in t.uses
                     if k in part and k[:-1] in _REPINNED}  # fmt: skip
            if cost < 1e-9 or not again:
                break
            for k in sorted(again):
                part[k] = variables[k] = pin(k[:-1], int(k[-1]))
                state[k] = part[k].values
        for _ in range(4):
            cost = anneal(part, built, rng, iterations=150_000, keep=hard)
            if cost < 1e-9:
                break
        if cost > 1e-9:  # the report flags every figure not reproduced
            missed = [t.name for t in built if t.cost(state) > 1e-9]
            print(f"synthetic NZ cohort misses {', '.join(missed)} (cost {cost:.3f})")
    for visit in (1, 2):  # HAQ in rough step with DAS28-CRP (a permutation within each group)
        for g in ("A", "B"):
            i = d.sets[f"clin{visit}"][g]
            haq = np.sort(state[f"haq_di{visit}"][i])
            noisy = stats.rankdata(
                state[f"das28_crp{visit}"][i] + rng.normal(0, 80, i.size), method="ordinal"
            )
            state[f"haq_di{visit}"][i] = haq[noisy.astype(int) - 1]
    out = pd.DataFrame(
        {"group": d.group, "patient": d.patient, "outlier": np.arange(size) == outlier}
    )
    for name in ("tjc28", "sjc28", "haq_di", "das28_crp", "synovitis", "osteitis", "tenosynovitis",
                 "erosion"):  # fmt: skip
        for visit in (1, 2):
            if name == "erosion" and visit == 2:
                out["erosion2"] = state["erosion1"] + state["ero_increase"]
            else:
                out[f"{name}{visit}"] = state[f"{name}{visit}"]
    out["xray_erosion1"] = state["xray_erosion1"]
    out["svdh_total1"] = state["svdh_total1"]
    for visit in (1, 2):
        ok = out[f"das28_crp{visit}"].notna().to_numpy()
        crp, gh = _solve_components(
            rng, out.loc[ok, f"das28_crp{visit}"].to_numpy(), out.loc[ok, f"tjc28{visit}"].to_numpy(),
            out.loc[ok, f"sjc28{visit}"].to_numpy(),
        )  # fmt: skip
        out.loc[ok, f"crp_mg_l{visit}"] = crp
        out.loc[ok, f"gh_mm{visit}"] = gh
    return out.drop(columns=["das28_crp1", "das28_crp2"]), _nz_patients(rng, d)


def _nz_patients(rng: np.random.Generator, d: _Design) -> pd.DataFrame:
    first = np.array(["A"] * 57 + ["B"] * 23)
    pats = pd.DataFrame({"first_group": first})
    for name, (a, b, total) in T1_NUMERIC.items():
        target, digits = T1_P[name]

        def accept(p: dict[str, Pinned], target: float = target, digits: int = digits) -> float:
            return p_cost(median_test_p(p["A"].values, p["B"].values), target, digits)

        pins = pin_groups(rng, {"A": a, "B": b}, total, step=1.0, digits=1, accept=accept)
        col = np.empty(80)
        col[:57] = rng.permutation(pins["A"].values)
        col[57:] = rng.permutation(pins["B"].values)
        pats[name] = col.astype(int)
    for g, sl in (("A", slice(0, 57)), ("B", slice(57, 80))):
        n = sl.stop - sl.start
        sex = np.array(["female"] * T1_SEX[g]["female"] + ["male"] * T1_SEX[g]["male"])
        pats.loc[pats.index[sl], "sex"] = rng.permutation(sex)
        mtx = np.arange(n) < T1_MTX[g]
        pats.loc[pats.index[sl], "on_methotrexate"] = rng.permutation(mtx)
    pats["anti_ccp_u_ml"] = np.round(np.exp(rng.normal(4.6, 0.9, 80)).clip(10, 340))
    return pats


def nz_example(seed: int = NZ_SEED) -> CohortRecords:
    """The shipped 80-patient synthetic example of the NZ MRI escalation study (see module doc)."""
    values, patients = _nz_values(seed)
    left = fit_models(values, patients, np.random.default_rng(seed + 2))
    if left > 0:  # the report flags every figure not reproduced
        print(f"the adjusted models miss the published figures by {left:.3f} printed units")
    rng = np.random.default_rng(seed + 1)
    return _records(rng, values, patients, reliability_scans=10, icc_target=ICC_AVERAGE)


# -- a cohort of any size, nothing pinned -------------------------------------------------------


def synthetic_cohort(n_patients: int, seed: int = 0) -> CohortRecords:
    """A synthetic escalation cohort of ``n_patients`` drawn from the NZ design (for benchmarks).

    About 29% escalate to anti-TNF (Group B), 5% of Group A later move to Group B, 15% drop out
    before Visit 2, 10% have no MRI; joint counts, CRP, HAQ and MRI scores follow rough
    distributions with the changes in DAS28-CRP and MRI inflammation moderately correlated.
    """
    rng = np.random.default_rng(seed)
    n_a = round(n_patients * 57 / 80)
    first = np.array(["A"] * n_a + ["B"] * (n_patients - n_a))
    moved = rng.choice(n_a, max(int(n_a * 0.07), 0), replace=False)
    patient = np.concatenate([np.arange(n_patients), moved])
    group = np.concatenate([first, np.full(moved.size, "B")])
    size = group.size
    b = group == "B"
    act = rng.normal(0, 1, size) + 0.6 * b
    out = pd.DataFrame({"group": group, "patient": patient, "outlier": False})
    out["tjc281"] = np.clip(np.round(np.exp(2.2 + 0.45 * act + rng.normal(0, 0.3, size))), 1, 28)
    out["sjc281"] = np.clip(np.round(np.exp(1.3 + 0.5 * act + rng.normal(0, 0.4, size))), 0, 28)
    out["crp_mg_l1"] = np.round(
        np.exp(2.0 + 0.4 * act + rng.normal(0, 0.7, size)).clip(0.3, 150), 1
    )
    out["gh_mm1"] = np.round(np.clip(55 + 12 * act + rng.normal(0, 12, size), 0, 100))
    out["haq_di1"] = np.clip(np.round((1.0 + 0.3 * act + rng.normal(0, 0.4, size)) * 8) / 8, 0, 3)
    response = rng.normal(-0.9, 0.9, size)
    out["tjc282"] = np.clip(np.round(out["tjc281"] * np.exp(0.5 * response)), 0, 28)
    out["sjc282"] = np.clip(np.round(out["sjc281"] * np.exp(0.6 * response)), 0, 28)
    out["crp_mg_l2"] = np.round((out["crp_mg_l1"] * np.exp(0.6 * response)).clip(0.3, 150), 1)
    out["gh_mm2"] = np.round(
        np.clip(out["gh_mm1"] + 12 * response + rng.normal(0, 8, size), 0, 100)
    )
    out["haq_di2"] = np.clip(np.round((out["haq_di1"] + 0.2 * response) * 8) / 8, 0, 3)
    mri_resp = 0.35 * response + rng.normal(0, 0.9, size)
    for name, mean, cap in (
        ("synovitis", 1.1, 9),
        ("osteitis", 0.9, 45),
        ("tenosynovitis", 1.0, 30),
    ):
        base = np.clip(np.round(np.exp(mean + 0.4 * act + rng.normal(0, 0.6, size))) - 1, 0, cap)
        out[f"{name}1"] = base
        out[f"{name}2"] = np.clip(
            np.round(base * np.exp(0.3 * mri_resp) + rng.normal(0, 0.7, size)), 0, cap
        )
    out["erosion1"] = np.clip(np.round(np.exp(1.6 + 0.3 * b + rng.normal(0, 0.9, size))), 0, 150)
    out["erosion2"] = out["erosion1"] + (rng.uniform(size=size) < 0.1) * rng.integers(1, 3, size)
    out["xray_erosion1"] = np.clip(
        np.round(np.exp(2.3 + 0.8 * b + rng.normal(0, 1.2, size))), 0, 280
    )
    out["svdh_total1"] = out["xray_erosion1"] + np.clip(
        np.round(np.exp(2.5 + rng.normal(0, 1, size))), 0, 168
    )
    drop2 = rng.uniform(size=size) < 0.15
    no_mri = rng.uniform(size=size) < 0.10
    no_xr = (rng.uniform(size=size) < 0.25) | (np.arange(size) >= n_patients)
    for col in out.columns:
        if col.endswith("2"):
            out.loc[drop2, col] = np.nan
        if any(col.startswith(f) for f in MRI_FEATURES):
            out.loc[no_mri, col] = np.nan
    out.loc[no_xr, ["xray_erosion1", "svdh_total1"]] = np.nan
    pats = pd.DataFrame({"first_group": first})
    pats["age_years"] = np.clip(np.round(rng.normal(54, 13, n_patients)), 18, 90).astype(int)
    pats["disease_duration_months"] = np.clip(
        np.round(np.exp(rng.normal(3.7, 1.0, n_patients))), 1, 480
    ).astype(int)
    pats["sex"] = np.where(rng.uniform(size=n_patients) < 0.75, "female", "male")
    pats["on_methotrexate"] = rng.uniform(size=n_patients) < 0.875
    pats["anti_ccp_u_ml"] = np.round(np.exp(rng.normal(4.6, 0.9, n_patients)).clip(10, 340))
    return _records(rng, out, pats, reliability_scans=min(10, size))


# -- values -> store records ---------------------------------------------------------------------


def _spread(rng: np.random.Generator, totals: np.ndarray, n_sites: int, cap: int) -> np.ndarray:
    """Integer grades (rows x sites, each 0..cap) summing to each total, over a random few sites."""
    t = totals.astype(int)
    need = np.ceil(t / cap).astype(int)
    k = need + np.floor(rng.uniform(size=t.size) * (np.minimum(n_sites, t) - need + 1)).astype(int)
    k = np.where(t == 0, 0, np.maximum(k, 1))
    order = np.argsort(rng.uniform(size=(t.size, n_sites)), axis=1)
    slot = np.empty_like(order)
    np.put_along_axis(slot, order, np.arange(n_sites)[None, :].repeat(t.size, 0), axis=1)
    kk = np.maximum(k, 1)[:, None]
    grade = np.where(slot < k[:, None], t[:, None] // kk + (slot < (t[:, None] % kk)), 0)
    return grade


def _site_rows(
    rng: np.random.Generator, frame: pd.DataFrame, total: str, system: str, version: str,
    feature: str, region: str, sides: tuple[str, ...] | None = None,
) -> pd.DataFrame:  # fmt: skip
    cat = sites(system, version)
    cat = cat[(cat["feature"] == feature) & (cat["region"] == region)]
    cap = int(cat["scale_max"].max())
    site_ids = cat["site"].to_numpy()
    per_side = [sides] if sides else [None]
    rows = []
    for side_set in per_side:
        n = len(site_ids) * (len(side_set) if side_set else 1)
        grades = _spread(rng, frame[total].to_numpy(), n, cap)
        cols = np.tile(site_ids, len(side_set) if side_set else 1)
        side_col = np.repeat(list(side_set), len(site_ids)) if side_set else None
        rep = frame.loc[frame.index.repeat(n)].reset_index(drop=True)
        rep["site"] = np.tile(cols, len(frame))
        rep["side"] = np.tile(side_col, len(frame)) if side_col is not None else rep["side"]
        rep["grade"] = grades.ravel()
        rep["feature"] = feature
        rep["scoring_system"] = system
        rep["scoring_version"] = version
        rows.append(rep)
    return pd.concat(rows, ignore_index=True)


def _reread(
    rng: np.random.Generator, first: pd.DataFrame, again: pd.DataFrame, icc_target: float | None
) -> pd.DataFrame:
    """Second-session grades: the first read with some sites one or two grades off; with
    ``icc_target`` the ICC(3,k) of MRI(i) between sessions and its F-based 95% interval print as
    the published 0.89 (0.56-0.97): ICC(3,k) is the form whose interval is the published one."""
    maxima = sites().set_index(["system", "version", "feature", "site"])["scale_max"]
    keys = list(
        zip(
            again["scoring_system"],
            again["scoring_version"],
            again["feature"],
            again["site"],
            strict=True,
        )
    )
    cap = maxima.loc[keys].to_numpy()
    inflammation = again["feature"].isin(["synovitis", "osteitis", "tenosynovitis"]).to_numpy()
    for attempt in range(4000):
        share = 0.05 + 0.6 * (attempt % 40) / 40
        step = rng.choice([-2, -1, 1, 2], size=len(again)) * (rng.uniform(size=len(again)) < share)
        out = again.assign(grade=np.clip(again["grade"] + step, 0, cap))
        if icc_target is None:
            return out
        both = pd.concat([first.merge(again[["patient_id", "time_point"]].drop_duplicates()), out])
        both = both[both["feature"].isin(["synovitis", "osteitis", "tenosynovitis"])]
        mri = both.groupby(["patient_id", "time_point", "reading_session"], as_index=False)[
            "grade"
        ].sum()
        icc = st.icc(mri, ["patient_id", "time_point"], "reading_session", "grade")
        row = icc.set_index("form").loc["ICC(3,k)"]
        shown = tuple(round(float(row[c]), 2) for c in ("icc", "ci_low", "ci_high"))
        if shown == (icc_target, *ICC_INTERVAL) and inflammation.any():
            return out
    raise RuntimeError(f"no second reading gives ICC(3,k) {icc_target}")


def _records(
    rng: np.random.Generator,
    values: pd.DataFrame,
    patients: pd.DataFrame,
    *,
    reliability_scans: int,
    icc_target: float | None = None,
) -> CohortRecords:
    n_pat = len(patients)
    width = len(str(n_pat))
    keys = np.array([f"SYN-NZ-{i + 1:0{width}d}" for i in range(n_pat)])
    start, end = PERIOD
    span = (end - start).days - 400
    first_index = np.array([start + dt.timedelta(days=int(x)) for x in rng.uniform(0, span, n_pat)])
    patients = patients.assign(patient_id=keys, first_index=first_index,
                               dominant_side=np.where(rng.uniform(size=n_pat) < 0.9, "R", "L"))  # fmt: skip
    values = values.copy()
    values["patient_id"] = keys[values["patient"]]
    repeat = values.duplicated("patient").to_numpy()
    index = first_index[values["patient"]].copy()
    index[repeat] = index[repeat] + np.array(
        [dt.timedelta(days=int(x)) for x in rng.integers(180, 270, repeat.sum())]
    )
    values["index_date"] = pd.to_datetime(pd.Series(index, index=values.index))
    values["label"] = values["group"] + "-V"

    # therapy courses: the escalation at the index date, methotrexate or another csDMARD before
    ther = []
    prior_start = [start - dt.timedelta(days=int(x)) for x in rng.integers(60, 3000, n_pat)]
    for p, row in patients.iterrows():
        pid = row["patient_id"]
        if row["on_methotrexate"]:
            ther.append((pid, "methotrexate", "csDMARD", prior_start[p], None))
        if not row["on_methotrexate"] or row["first_group"] == "B":
            ther.append((pid, "sulfasalazine" if not row["on_methotrexate"] else "hydroxychloroquine",
                         "csDMARD", prior_start[p] + dt.timedelta(days=30), None))  # fmt: skip
    mtx = dict(zip(keys, patients["on_methotrexate"], strict=True))
    for _, e in values.iterrows():
        for drug in ESCALATION[e["group"]][bool(mtx[e["patient_id"]])]:
            cls = "bDMARD" if drug in B_DRUGS else "csDMARD"
            ther.append((e["patient_id"], drug, cls, e["index_date"], None))
    therapies = pd.DataFrame(
        ther, columns=["patient_id", "drug", "drug_class", "start_date", "stop_date"]
    )
    therapies["start_date"] = pd.to_datetime(therapies["start_date"])
    therapies["stop_date"] = pd.to_datetime(therapies["stop_date"])
    therapies = therapies.sort_values(["patient_id", "start_date", "drug"], ignore_index=True)

    # visits
    v1_date = values["index_date"] - pd.to_timedelta(rng.integers(0, 8, len(values)), unit="D")
    v2_date = values["index_date"] + pd.to_timedelta(rng.integers(110, 131, len(values)), unit="D")
    visit_rows = []
    for visit, dates in ((1, v1_date), (2, v2_date)):
        have = values[f"tjc28{visit}"].notna()
        part = pd.DataFrame({
            "patient_id": values.loc[have, "patient_id"],
            "visit_date": pd.to_datetime(dates[have]),
            "tjc28": values.loc[have, f"tjc28{visit}"].astype(int),
            "sjc28": values.loc[have, f"sjc28{visit}"].astype(int),
            "crp_mg_l": values.loc[have, f"crp_mg_l{visit}"],
            "gh_mm": values.loc[have, f"gh_mm{visit}"],
            "haq_di": values.loc[have, f"haq_di{visit}"],
        })  # fmt: skip
        visit_rows.append(part)
    visits = pd.concat(visit_rows).sort_values(["patient_id", "visit_date"], ignore_index=True)

    # imaging reads: dominant wrist MRI at both visits, radiographs of hands and feet at Visit 1
    side = dict(zip(keys, patients["dominant_side"], strict=True))
    reads = []
    for visit, dates in ((1, v1_date), (2, v2_date)):
        scan = values.assign(
            time_point=values["label"] + str(visit),
            image_date=pd.to_datetime(dates) + pd.to_timedelta(rng.integers(0, 4, len(values)), unit="D"),
            side=values["patient_id"].map(side), modality="MRI", reader="R1", reading_session="1",
            reading_design="paired_known_order",
        )  # fmt: skip
        keep = ["patient_id", "time_point", "image_date", "side", "modality", "reader",
                "reading_session", "reading_design"]  # fmt: skip
        for feature, (system, version) in MRI_FEATURES.items():
            have = scan[f"{feature}{visit}"].notna()
            sub = scan.loc[have, [*keep, f"{feature}{visit}"]].rename(
                columns={f"{feature}{visit}": "total"}
            )
            reads.append(
                _site_rows(
                    rng, sub.reset_index(drop=True), "total", system, version, feature, "wrist"
                )
            )
    xr = values[values["xray_erosion1"].notna()].assign(
        time_point=lambda f: f["label"] + "1", image_date=pd.to_datetime(v1_date[values["xray_erosion1"].notna()]),
        modality="XR", reader="R2", reading_session="1", reading_design="unpaired", side="L",
    )  # fmt: skip
    xr["jsn"] = xr["svdh_total1"] - xr["xray_erosion1"]
    hand_share = rng.uniform(0.45, 0.8, len(xr))
    for total, hand_max, foot_max, feature in (
        ("xray_erosion1", 160, 120, "erosion"),
        ("jsn", 120, 48, "jsn"),
    ):
        hand = np.minimum(np.round(xr[total] * hand_share), hand_max)
        foot = xr[total] - hand
        over = np.maximum(foot - foot_max, 0)
        hand, foot = hand + over, foot - over
        base = xr[["patient_id", "time_point", "image_date", "modality", "reader", "reading_session",
                   "reading_design", "side"]].reset_index(drop=True)  # fmt: skip
        for region, part in (("hand", hand), ("foot", foot)):
            frame = base.assign(total=part.to_numpy())
            reads.append(
                _site_rows(rng, frame, "total", "svdh", "standard", feature, region, ("L", "R"))
            )
    reads_df = pd.concat(reads, ignore_index=True)
    # intra-reader reliability: some MRI scans scored again in a second session
    mri = reads_df[reads_df["modality"] == "MRI"]
    scans = mri[["patient_id", "time_point"]].drop_duplicates()
    chosen = scans.sample(
        n=min(reliability_scans, len(scans)), random_state=int(rng.integers(2**31))
    )
    again = mri.merge(chosen, on=["patient_id", "time_point"]).assign(reading_session="2")
    reads_df = pd.concat([reads_df, _reread(rng, mri, again, icc_target)], ignore_index=True)
    reads_df["grade"] = reads_df["grade"].astype(int)
    reads_df["image_date"] = pd.to_datetime(reads_df["image_date"]).dt.date
    reads_df = reads_df[["patient_id", "time_point", "image_date", "side", "modality", "scoring_system",
                         "scoring_version", "reader", "reading_session", "reading_design", "site",
                         "feature", "grade"]]  # fmt: skip

    pat_out = patients[
        ["patient_id", "sex", "age_years", "disease_duration_months", "anti_ccp_u_ml"]
    ].copy()
    pat_out["anti_ccp_u_ml"] = pat_out["anti_ccp_u_ml"].astype(int)
    return CohortRecords(pat_out, visits, therapies, reads_df)


def write_cohort(
    records: CohortRecords, folder: str | Path, prefix: str = "nz_synthetic"
) -> dict[str, Path]:
    """Write the records as the three CSV files the shipped mappings import (visits carry the
    patient columns); returns the paths by kind."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    visits = records.visits.merge(records.patients, on="patient_id", how="left")
    visits["visit_date"] = visits["visit_date"].dt.strftime("%Y-%m-%d")
    paths = {
        "visits": folder / f"{prefix}_visits.csv",
        "therapies": folder / f"{prefix}_therapies.csv",
        "imaging": folder / f"{prefix}_imaging_reads.csv",
    }
    cols = ["patient_id", "sex", "age_years", "disease_duration_months", "anti_ccp_u_ml", "visit_date",
            "tjc28", "sjc28", "crp_mg_l", "gh_mm", "haq_di"]  # fmt: skip
    visits[cols].to_csv(paths["visits"], index=False, lineterminator="\n")
    records.therapies.to_csv(
        paths["therapies"], index=False, lineterminator="\n", date_format="%Y-%m-%d"
    )
    records.reads.to_csv(paths["imaging"], index=False, lineterminator="\n")
    return paths


#: The shipped reads CSV's own headers -> rheumetrics' imaging columns (what its mapping says).
SOURCE_TO_IMAGING = {"time_point": "timepoint", "scoring_system": "system",
                     "scoring_version": "version", "reading_session": "session",
                     "reading_design": "design"}  # fmt: skip


def write_file_study(
    records: CohortRecords, folder: str | Path, *, imaging_format: str = "parquet"
) -> Path:
    """Write ``records`` as plain files with a study file that analyses them like ``nz_mri``.

    The study file is the bundled ``nz_mri.toml`` with its ``[cohort]`` pointing at the files
    (visits, patients, therapies, imaging reads) instead of the store; returns its path.
    """
    from importlib.resources import files

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    records.visits.to_csv(folder / "visits.csv", index=False, date_format="%Y-%m-%d")
    records.patients.to_csv(folder / "patients.csv", index=False)
    records.therapies.to_csv(folder / "therapies.csv", index=False, date_format="%Y-%m-%d")
    reads = records.reads.assign(image_date=pd.to_datetime(records.reads["image_date"]))
    reads = reads.rename(columns=SOURCE_TO_IMAGING)  # a study's files use the imaging vocabulary
    imaging = folder / f"imaging.{imaging_format}"
    if imaging_format == "parquet":
        reads.to_parquet(imaging, index=False)
    else:
        reads.to_csv(imaging, index=False, date_format="%Y-%m-%d")
    text = (files("rheumetrics") / "studies" / "nz_mri.toml").read_text(encoding="utf-8")
    text = text[text.index("[study]") :]  # the published figures concern the 80-patient example
    # the target figures and the excluded outlier concern the 80-patient example only
    text = "\n".join(line for line in text.splitlines()
                     if not line.startswith(("built_to_match", "sensitivity =")))  # fmt: skip
    start, end = text.index("[cohort]"), text.index("# A patient is enrolled")
    cohort = (
        '[cohort]\nvisits = "visits.csv"\npatients = "patients.csv"\n'
        f'therapies = "therapies.csv"\nimaging = "{imaging.name}"\n\n'
    )
    study = folder / "study.toml"
    study.write_text(text[:start] + cohort + text[end:], encoding="utf-8")
    return study


if __name__ == "__main__":  # regenerate the shipped example: python examples/synthetic_cohorts.py
    from importlib.resources import files as _files

    print(write_cohort(nz_example(), Path(str(_files("rheumetrics") / "data" / "nz_synthetic"))))
