"""The study's tables, each a tidy DataFrame computed with :mod:`rheumetrics.stats` and
:mod:`rheumetrics.imaging` (nothing statistical is computed here).

Every table records the conventions it used in ``attrs["conventions"]``. Group comparisons of
numeric values default to Mood's median test in its permutation variant, which is SAS's
"median two-sample test" used by the NZ study; categorical ones use Pearson's chi-square, or
Fisher's exact test when an expected count is below 5 (Cochran 1954), as that study's Table 1
(sex: chi-square p = 0.67; methotrexate: Fisher p = 0.72).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from matplotlib.figure import Figure
from statsmodels.stats.outliers_influence import OLSInfluence

from rheumetrics import stats as st
from rheumetrics.errors import ProblemCollector, ValidationError
from rheumetrics.imaging import direction_of_change, direction_summary
from rheumetrics.study.design import StudyData
from rheumetrics.study.model import Study

if TYPE_CHECKING:
    from rheumetrics.stats.meta import BackTransform

#: Smallest expected count for which the chi-square test is used (Cochran 1954).
MIN_EXPECTED = 5.0


def _groups(study: Study) -> list[str]:
    return [g.id for g in study.groups]


def _compare(
    frame: pd.DataFrame, column: str, groups: list[str], test: str, variant: str
) -> dict[str, Any]:
    """p-value of a numeric comparison between groups (None with one group or too few values)."""
    codes = frame["group"].astype(str).to_numpy()
    column_values = pd.to_numeric(frame[column], errors="coerce").to_numpy(float)
    values = [v[~np.isnan(v)] for v in (column_values[codes == g] for g in groups)]
    values = [v for v in values if len(v)]
    if len(values) < 2:
        return {"p": np.nan, "test": ""}
    if test == "mann_whitney":
        if len(values) != 2:
            return {"p": np.nan, "test": "Mann-Whitney needs two groups"}
        res = st.mann_whitney(values[0], values[1])
        return {"p": float(res["p"].iloc[0]), "test": "Mann-Whitney U"}
    try:
        res = st.median_test(*values, variant=variant)  # type: ignore[arg-type]
    except (ValidationError, ValueError):  # every value on one side of the median
        return {"p": np.nan, "test": f"median test ({variant}): not computable"}
    return {"p": float(res["p"].iloc[0]), "test": f"median test ({variant})"}


# -- patient flow ----------------------------------------------------------------------------


def patient_flow(study: Study, data: StudyData) -> pd.DataFrame:
    """Counts through the study, from the data: patients and enrolments, data at each visit,
    complete pairs and dropouts, per group and overall (patients counted once overall)."""
    f = data.frame
    clinical = [o for o in study.outcomes if not o.is_imaging]
    imaging = [o for o in study.outcomes if o.is_imaging]
    rows: list[dict[str, Any]] = []

    def add(stage: str, mask: pd.Series, by_patient: bool = False) -> None:
        for g in dict.fromkeys(["all", *_groups(study)]):  # a single group may be "all"
            sub = mask if g == "all" else mask & (f["group"] == g)
            n = f.loc[sub, "patient_id"].nunique() if by_patient and g == "all" else int(sub.sum())
            rows.append({"stage": stage, "group": g, "n": int(n)})

    everyone = pd.Series(True, index=f.index)
    add("patients enrolled", everyone, by_patient=True)
    add("enrolments", everyone)
    add("patients enrolled in more than one group",
        f["patient_id"].isin(f.loc[f["patient_id"].duplicated(), "patient_id"]), by_patient=True)  # fmt: skip

    def has(outcomes: list[Any], visit: str, how: str = "any") -> pd.Series:
        cols = [f"{o.id}@{visit}" for o in outcomes if visit in o.visits]
        if not cols:
            return pd.Series(False, index=f.index)
        present = f[cols].notna()
        return present.all(axis=1) if how == "all" else present.any(axis=1)

    paired = [o for o in imaging if study.change and all(v in o.visits for v in study.change)]
    single = [o for o in imaging if o not in paired]
    for v in study.visits:
        if clinical:
            add(f"clinical data at {v.label}", has(clinical, v.id))
        if paired:
            add(f"imaging at {v.label}", has(paired, v.id))
        once = [o for o in single if v.id in o.visits]
        if once:
            add(f"{', '.join(o.label for o in once)} at {v.label}", has(once, v.id))
    if study.change:
        a, b = study.change
        last = study.visits[[v.id for v in study.visits].index(b)]
        clin_b = has(clinical, b) if clinical else pd.Series(True, index=f.index)
        add(f"no clinical data at {last.label} (dropped out)", ~clin_b)
        if paired and clinical:
            complete = (has(clinical, a, "all") & has(clinical, b, "all") & has(paired, a, "all")
                        & has(paired, b, "all"))  # fmt: skip
            add("complete clinical and imaging data at both visits", complete)
            add("patients with complete data", complete, by_patient=True)
    out = pd.DataFrame(rows)
    out.attrs["conventions"] = {
        "enrolment": f"{study.enrolment.source}: one row per patient and group",
        "visit window": {v.id: list(v.window) for v in study.visits},
        "imaging session": study.imaging_session,
    }
    return out


# -- characteristics and scores ------------------------------------------------------------


def characteristics(study: Study, data: StudyData, spec: dict[str, Any]) -> pd.DataFrame:
    """Baseline characteristics by group with p-values (Table 1 layout, tidy)."""
    frame = data.patients if study.characteristics_unit == "patient" else data.frame
    groups = _groups(study)
    test, variant = spec.get("test", "median_test"), spec.get("variant", "permutation")
    rows = []
    for ch in study.characteristics:
        if ch.kind == "numeric":
            desc = st.describe(frame, [ch.id], by="group", summary=spec.get("summary", "median_range"),
                               digits=ch.digits)  # fmt: skip
            res = _compare(frame, ch.id, groups, test, variant)
            for r in desc.itertuples(index=False):
                rows.append({"variable": ch.id, "label": ch.label, "level": "", "group": str(r.group),
                             "n": r.n, "text": r.text, "median": r.median, "min": r.min, "max": r.max,
                             **res})  # fmt: skip
        else:
            sub = frame[[ch.id, "group"]].assign(**{ch.id: frame[ch.id].astype("string")})
            counts = st.count_percent(sub, [ch.id], by="group", digits=2, percent_sign=True)
            res = {"p": np.nan, "test": ""}
            if len(groups) > 1:
                table = st.contingency_table(sub.dropna(), ch.id, "group")
                if table.shape[0] > 1 and table.shape[1] > 1:
                    chi = st.chi_square(table, yates=False)
                    if chi["min_expected"].iloc[0] < MIN_EXPECTED:
                        res = {
                            "p": float(st.fisher_exact(table)["p"].iloc[0]),
                            "test": "Fisher exact",
                        }
                    else:
                        res = {"p": float(chi["p"].iloc[0]), "test": "chi-square"}
            for r in counts.itertuples(index=False):
                rows.append({"variable": ch.id, "label": ch.label, "level": str(r.level),
                             "group": str(r.group), "n": r.n, "text": r.text, "percent": r.percent,
                             **res})  # fmt: skip
    out = pd.DataFrame(rows)
    out.attrs["conventions"] = {
        "unit": "first enrolment of each patient"
        if study.characteristics_unit == "patient"
        else "enrolment",
        "numeric": f"{spec.get('summary', 'median_range')}; {test} ({variant})",
        "categorical": f"n (%); chi-square, Fisher exact when an expected count < {MIN_EXPECTED:g} (Cochran 1954)",
    }
    return out


def scores_by_visit(
    study: Study, data: StudyData, spec: dict[str, Any], *, change: bool = False
) -> pd.DataFrame:
    """Outcomes at each visit (or their change) by group: n, median, min, max, text and p."""
    wanted = spec.get("outcomes") or [o.id for o in study.outcomes]
    test, variant = spec.get("test", "median_test"), spec.get("variant", "permutation")
    summary = spec.get("summary", "median_range")
    groups = _groups(study)
    frame = data.frame
    columns = []
    for oid in wanted:
        o = study.outcome(oid)
        if change:
            if f"change:{oid}" in frame.columns:
                columns.append((f"change:{oid}", oid, f"{study.change[0]}→{study.change[1]}", o))  # type: ignore[index]
        else:
            columns += [(f"{oid}@{v}", oid, v, o) for v in o.visits]
    rows = []
    for col, oid, visit, o in columns:
        desc = st.describe(frame, [col], by="group", summary=summary, digits=o.digits)
        res = _compare(frame, col, groups, test, variant)
        for r in desc.itertuples(index=False):
            rows.append({"visit": visit, "outcome": oid, "label": o.label, "group": str(r.group),
                         "n": r.n, "median": r.median, "min": r.min, "max": r.max, "q1": r.q1,
                         "q3": r.q3, "mean": r.mean, "sd": r.sd, "text": r.text, **res})  # fmt: skip
    out = pd.DataFrame(rows)
    order = {v.id: k for k, v in enumerate(study.visits)}
    if not change and not out.empty:
        out = out.sort_values("visit", key=lambda s: s.map(order), kind="stable", ignore_index=True)
    out.attrs["conventions"] = {"summary": summary, "test": f"{test} ({variant})",
                                "missing": "excluded; n counts the values present"}  # fmt: skip
    return out


def direction(study: Study, data: StudyData, spec: dict[str, Any]) -> pd.DataFrame:
    """Decrease / no change / increase of each outcome from the first to the last visit by group."""
    wanted = spec.get("outcomes") or [o.id for o in study.outcomes]
    tolerance = float(spec.get("tolerance", 0.0))
    parts = []
    for oid in wanted:
        col = f"change:{oid}"
        if col not in data.frame.columns:
            continue
        sub = data.frame[["group", col]].dropna()
        dirs = sub.assign(direction=direction_of_change(sub[col], tolerance=tolerance))
        by_group = direction_summary(dirs, "group")
        overall = direction_summary(dirs).assign(group="all")
        part = pd.concat([by_group, overall], ignore_index=True).assign(
            outcome=oid, label=study.outcome(oid).label
        )
        parts.append(part)
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if not out.empty:
        out["group"] = out["group"].astype(str)
        out["direction"] = out["direction"].astype(str)
        out = out[["outcome", "label", "group", "direction", "n", "total", "percent"]]
    out.attrs["conventions"] = {"change": f"{study.change[1]} minus {study.change[0]}" if study.change else "",
                                "no change": f"|change| <= {tolerance:g}"}  # fmt: skip
    return out


def correlation(study: Study, data: StudyData, spec: dict[str, Any]) -> pd.DataFrame:
    """Correlation of the change in ``x`` with each change in ``y`` (all groups together)."""
    x = f"change:{spec.get('x')}"
    ys = [f"change:{y}" for y in ([spec["y"]] if isinstance(spec["y"], str) else spec["y"])]
    kind = spec.get("method", "spearman")
    options = {"ci": spec["ci"]} if "ci" in spec else {}
    out = st.correlation_table(data.frame, x, ys, kind=kind, **options)
    out.insert(2, "label", [data.labels.get(y, y) for y in out["y"]])
    return out


def regression(study: Study, data: StudyData, spec: dict[str, Any]) -> pd.DataFrame:
    """Multiple linear regression adjusted for the named confounders (complete cases)."""
    predictors = (
        [spec["predictors"]] if isinstance(spec["predictors"], str) else list(spec["predictors"])
    )
    confounders = (
        [spec["confounders"]]
        if isinstance(spec.get("confounders"), str)
        else list(spec.get("confounders", []))
    )
    frame = data.frame.copy()
    frame["group"] = frame["group"].astype(str)
    missing = [c for c in [spec["outcome"], *predictors, *confounders] if c not in frame.columns]
    if missing:
        problems = ProblemCollector("regression variables")
        for c in missing:
            problems.add("analyses.regression", "variable", c, "not in the analysis frame")
        problems.raise_if_any()
    ref = {"group": study.groups[0].id}
    out = st.linear_regression(
        frame, spec["outcome"], predictors, confounders, reference=ref, missing="drop"
    )
    out.insert(1, "label", [data.labels.get(t, t) for t in out["term"]])
    return out


def reliability(study: Study, data: StudyData, spec: dict[str, Any]) -> pd.DataFrame:
    """Intra-reader ICC (all six forms) of an imaging outcome between reading sessions, with
    F-based CIs at ``confidence`` (default 0.95); ``reported`` flags the study's ``form``
    (default ICC(3,k))."""
    ratings = data.ratings
    sessions = ratings.groupby(["patient_id", "timepoint"])["session"].transform("nunique")
    repeated = ratings[sessions > 1]
    if repeated.empty:
        return pd.DataFrame()
    confidence = float(spec.get("confidence", 0.95))
    out = st.icc(repeated, ["patient_id", "timepoint"], "session", "score",
                 confidence=confidence, missing="drop")  # fmt: skip
    form = spec.get("form", "ICC(3,k)")
    out.insert(0, "outcome", spec["outcome"])
    out["confidence"] = confidence
    out["reported"] = out["form"] == form
    return out


def responsiveness(study: Study, data: StudyData) -> pd.DataFrame:
    """Standardised response mean of every change, by group (Liang, Fossel & Larson 1990,
    Med Care 28:632-642)."""
    parts = []
    for o in study.outcomes:
        col = f"change:{o.id}"
        if col in data.frame.columns and data.frame[col].notna().sum() > 1:
            res = st.srm(data.frame[["group", col]].dropna(), col, by="group")
            parts.append(res.assign(outcome=o.id, label=o.label))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if not out.empty:
        out["group"] = out["group"].astype(str)
        out = out[["outcome", "label", "group", "n", "mean", "sd", "srm"]]
    return out


def scatter_outliers(study: Study, data: StudyData, spec: dict[str, Any]) -> pd.DataFrame:
    """Points of the change scatter with their (internally) studentised residual from the
    least-squares line of y on x (statsmodels; Cook & Weisberg 1982); ``outlier`` when its
    absolute value exceeds ``outlier_t`` (default 3)."""
    x, y = f"change:{spec['x']}", f"change:{spec['y']}"
    sub = data.frame[["patient_id", "group", x, y]].dropna()
    limit = float(spec.get("outlier_t", 3.0))
    if len(sub) < 4:
        return sub.assign(studentised_residual=np.nan, outlier=False)
    fit = sm.OLS(sub[y].to_numpy(float), sm.add_constant(sub[x].to_numpy(float))).fit()
    t = OLSInfluence(fit).resid_studentized
    beyond = np.abs(t) > limit
    mark = spec.get("mark")
    if mark is not None:  # only the ``mark`` most extreme of those beyond the limit
        keep = np.argsort(-np.abs(t))[: int(mark)]
        beyond &= np.isin(np.arange(len(t)), keep)
    out = sub.assign(studentised_residual=t, outlier=beyond)
    rule = f"|studentised residual| > {limit:g} (OLS of y on x)"
    if mark is not None:
        rule += f"; at most the {int(mark)} most extreme marked"
    out.attrs["conventions"] = {"outlier": rule}
    return out.reset_index()


_RULES = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}


def parse_rule(text: str) -> tuple[str, float]:
    """``"<= -0.22"`` -> ``("<=", -0.22)``; the operator is required (``<``, ``<=``, ``>``, ``>=``).

    >>> parse_rule("> 0.5")
    ('>', 0.5)
    """
    text = str(text).strip()
    for op in ("<=", ">=", "<", ">"):
        if text.startswith(op):
            return op, float(text[len(op) :])
    raise ValueError(f"{text!r}: must be an operator (<, <=, >, >=) and a number, e.g. '> 0.5'")


def roc(
    study: Study, data: StudyData, spec: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """AUC with DeLong CI and the Youden cut-off of each score for a truth dichotomised by the
    explicit rule ``positive`` (e.g. ``"> 0.5"``: strictly above). ``higher_is_positive`` is one
    flag or one per score (a fall in DAS28 and a high baseline DAS28 point the same way)."""
    truth_col = spec["truth"]
    scores = [spec["scores"]] if isinstance(spec["scores"], str) else list(spec["scores"])
    flags = spec.get("higher_is_positive", True)
    higher = [bool(f) for f in flags] if isinstance(flags, list) else [bool(flags)] * len(scores)
    sub = data.frame[[truth_col, *scores]].dropna()
    op, value = parse_rule(spec["positive"])
    truth = pd.Series(
        _RULES[op](sub[truth_col].to_numpy(float), value).astype(int), index=sub.index
    )
    rule = f"{data.labels.get(truth_col, truth_col)} {op} {value:g}"
    if spec.get("label"):
        rule = f"{spec['label']} ({rule})"
    rows, curves = [], {}
    for s, hi in zip(scores, higher, strict=True):
        label = data.labels.get(s, s)
        auc = st.roc_auc(truth, sub[s], higher_is_positive=hi)
        cut = st.youden_cutoff(truth, sub[s], higher_is_positive=hi).iloc[0]
        rows.append({"score": s, "label": label, "direction": "higher" if hi else "lower",
                     "positive": rule, "n": len(sub), "n_positive": int(truth.sum()),
                     **auc.iloc[0].to_dict(), "cutoff": cut["threshold"],
                     "sensitivity": cut["sensitivity"], "specificity": cut["specificity"],
                     "youden_j": cut["youden_j"]})  # fmt: skip
        curves[label] = st.roc_curve(truth, sub[s], higher_is_positive=hi)
    out = pd.DataFrame(rows)
    if len(scores) == 2:  # orient both scores so that higher means positive
        a, b = (sub[s] if hi else -sub[s] for s, hi in zip(scores, higher, strict=True))
        out["delong_p"] = float(st.delong_test(truth, a, b)["p"].iloc[0])
    out.attrs["conventions"] = {
        "positive": rule,
        "direction": dict(zip(out["label"], out["direction"], strict=True)),
    }
    return out, curves


#: Study-level summaries a table may give instead of an arm's mean and SD (``*_t`` / ``*_c``).
QUANTILE_COLUMNS = ("median", "q1", "q3", "min", "max")


def _arm_means(
    table: pd.DataFrame, columns: dict[str, str], arm: str, method: str
) -> tuple[pd.DataFrame, pd.Series]:
    """``table`` with the mean and SD of arm ``arm`` ("t" or "c") estimated, in rows that give a
    median with its IQR and/or range instead, by :func:`rheumetrics.stats.mean_sd_from_quantiles`
    (``method``); and per row the scenario used ("" where the mean and SD were reported)."""
    mean, sd = columns[f"mean_{arm}"], columns[f"sd_{arm}"]
    given = {q: columns[f"{q}_{arm}"] for q in QUANTILE_COLUMNS if f"{q}_{arm}" in columns}
    scenario = pd.Series("", index=table.index)
    if "median" not in given:
        return table, scenario
    table = table.copy()
    missing = pd.to_numeric(table[mean], errors="coerce").isna()
    have = pd.DataFrame({q: pd.to_numeric(table[c], errors="coerce").notna()
                         for q, c in given.items() if q != "median"})  # fmt: skip
    kwargs_of = {"q1": "q1", "q3": "q3", "min": "minimum", "max": "maximum"}
    for pattern, rows in have[missing].groupby(list(have.columns)).groups.items():
        flags = dict(zip(have.columns, pattern if isinstance(pattern, tuple) else (pattern,),
                         strict=True))  # fmt: skip
        used = [q for q, on in flags.items() if on]
        sub = table.loc[rows]
        res = st.mean_sd_from_quantiles(
            n=sub[columns[f"n_{arm}"]].to_numpy(float),
            median=sub[given["median"]].to_numpy(float),
            method=method,  # type: ignore[arg-type]
            **{kwargs_of[q]: sub[given[q]].to_numpy(float) for q in used},
        )
        table.loc[rows, mean] = res["mean"].to_numpy()
        table.loc[rows, sd] = res["sd"].to_numpy()
        scenario.loc[rows] = res["scenario"].to_numpy()
    return table, scenario


def meta(spec: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, Figure]]:
    """Meta-analysis of the study-level table ``spec['file']``.

    Effects come from 2 x 2 counts (``measure`` RR, OR), means/SDs/n (MD, SMD), a correlation and
    its n (``ZCOR``: Fisher's z, pooled and back-transformed to r, as R metafor ``escalc(measure =
    "ZCOR")`` and ``predict(..., transf = transf.ztor)``), or an estimate and SE given directly
    (``measure = "generic"``: ``columns = { estimate, se }``), all by
    :func:`rheumetrics.stats.effect_sizes`. MD uses the unpooled variance sd_t²/n_t + sd_c²/n_c
    by default (``md_variance = "unpooled"``, metafor's ``vtype = "LS"``; ``"pooled"`` is
    ``vtype = "HO"``). An arm that reports a median with its IQR and/or range instead of a mean
    and SD (``columns`` naming ``median_t``, ``q1_t``, ``q3_t``, ``min_t``, ``max_t``, and the
    same for ``_c``) has them estimated by ``conversion`` (``"wan"``: Wan et al. 2014, default;
    ``"luo"``; ``"hozo"``), recorded per study. Rows are kept by ``filter = { column = value or
    [values] }``; pooled overall and within each level of ``subgroup``, with a forest plot each.
    With subgroups, the test for subgroup differences is Cochran's Q of the subgroup estimates
    (a fixed-effect pooling of them, as RevMan and R meta).
    """
    from rheumetrics.io import read_table

    table = read_table(spec["file"])
    for column, wanted in dict(spec.get("filter", {})).items():
        allowed = [str(w) for w in (wanted if isinstance(wanted, list) else [wanted])]
        table = table[table[column].astype(str).isin(allowed)]
    table = table.reset_index(drop=True)
    measure = spec.get("measure", "RR")
    columns = dict(spec.get("columns", {}))
    study = spec.get("study")
    labels = table[study] if study else range(1, len(table) + 1)
    conversion = str(spec.get("conversion", "wan"))
    converted = pd.Series("", index=table.index)
    if measure == "generic":
        es = pd.DataFrame({"study": labels, "yi": pd.to_numeric(table[columns["estimate"]]),
                           "vi": pd.to_numeric(table[columns["se"]]) ** 2})  # fmt: skip
    else:
        if measure in ("MD", "SMD"):
            notes = []
            for arm in ("t", "c"):
                table, scen = _arm_means(table, columns, arm, conversion)
                notes.append(scen.where(scen == "", f"{arm}:" + scen))
            converted = (notes[0] + " " + notes[1]).str.strip()
        kwargs = {k: v for k, v in columns.items() if k.rsplit("_", 1)[0] not in QUANTILE_COLUMNS}
        extra = {"md_variance": spec.get("md_variance", "unpooled")} if measure == "MD" else {}
        es = st.effect_sizes(table, measure, study=study, **kwargs, **extra)
    es = es.reset_index(drop=True)
    es["converted"] = converted.where(converted == "", f"{conversion} " + converted).to_numpy()
    subgroup = spec.get("subgroup")
    es["subgroup"] = table[subgroup].astype(str).to_numpy() if subgroup else "all"
    back: BackTransform = "exp" if spec.get("exponentiate", measure in ("RR", "OR")) else "none"
    if measure == "ZCOR":
        back = "tanh"
    method, kh = spec.get("method", "REML"), bool(spec.get("knapp_hartung", False))
    label = spec.get("label", measure)
    parts, figures = [], {}
    levels = list(dict.fromkeys(es["subgroup"])) if subgroup else []
    for level in [*levels, "all"]:
        sub = es if level == "all" else es[es["subgroup"] == level]
        res = st.meta_analysis(sub["yi"], sub["vi"], method=method if len(sub) > 1 else "FE",
                               knapp_hartung=kh and len(sub) > 1, studies=list(sub["study"]),
                               back_transform="tanh" if back == "tanh" else "none")  # fmt: skip
        figures[f"meta_{level}"] = st.forest_plot(res, back_transform=back, xlabel=label,
                                                  title=None if level == "all" else f"{subgroup}: {level}")  # fmt: skip
        res.attrs = {}  # the per-study rows are kept once, in attrs["studies"] below
        res.insert(0, "subgroup", level)
        parts.append(res)
    out = pd.concat(parts, ignore_index=True)
    out.attrs["studies"] = es
    if len(levels) > 1:
        within = out[out["subgroup"] != "all"]
        test = st.meta_analysis(within["estimate"], within["se"] ** 2, method="FE")
        out.attrs["subgroup_test"] = {"Q": float(test["q"].iloc[0]), "df": len(levels) - 1,
                                      "p": float(test["q_p"].iloc[0])}  # fmt: skip
    out.attrs["conventions"] = {"measure": measure, "method": method, "knapp_hartung": kh,
                                "filter": dict(spec.get("filter", {})), "subgroup": subgroup or ""}  # fmt: skip
    if measure == "MD":
        out.attrs["conventions"]["md_variance"] = extra["md_variance"]
    if (es["converted"] != "").any():
        out.attrs["conventions"]["conversion"] = conversion
    return out, figures


def sample_size(spec: dict[str, Any]) -> pd.DataFrame:
    """Each stated sample-size calculation recomputed from its assumptions (rheumetrics.stats
    power functions): ``kind = "correlation"`` (rho, alpha, power, sided, method, dropout) or
    ``"noninferiority"`` (margin, sd, difference, alpha, power); ``stated_n`` is what the study
    wrote, shown beside what the standard formula gives."""
    rows = []
    for calc in spec.get("calculations", []):
        kind = calc["kind"]
        alpha, power = float(calc.get("alpha", 0.05)), float(calc.get("power", 0.8))
        stated = float(calc.get("stated_n", np.nan))
        if kind == "correlation":
            method = calc.get("method", "exact")
            res = st.power_correlation(float(calc["rho"]), power=power, alpha=alpha,
                                       sided=calc.get("sided", "two-sided"), method=method).iloc[0]  # fmt: skip
            n = int(res["n_required"])
            dropout = float(calc.get("dropout", 0.0))
            with_dropout = int(np.ceil(n / (1 - dropout))) if dropout else n
            assumptions = (f"rho = {calc['rho']:g}, {calc.get('sided', 'two-sided')} alpha = {alpha:g}, "
                           f"power = {power:g}" + (f", {100 * dropout:g}% dropout -> {with_dropout}" if dropout else ""))  # fmt: skip
            label = calc.get("label", "Correlation different from zero")
            text = (f"{label}: a correlation of {calc['rho']:g} is detected with {power:.0%} power by a "
                    f"{calc.get('sided', 'two-sided')} test at {alpha:g} with n = {n} "
                    f"({method} method" + (f"; {with_dropout} allowing {100 * dropout:g}% dropout" if dropout else "") + ")"
                    + (f"; the study stated {stated:g}." if np.isfinite(stated) else "."))  # fmt: skip
            rows.append({"label": label, "kind": kind, "assumptions": assumptions, "n_required": n,
                         "stated_n": stated, "method": f"{method} (rheumetrics.stats.power_correlation)",
                         "text": text})  # fmt: skip
        elif kind == "noninferiority":
            res = st.power_noninferiority(margin=float(calc["margin"]), sd=float(calc["sd"]),
                                          difference=float(calc.get("difference", 0.0)), power=power,
                                          alpha=alpha, method=calc.get("method", "t")).iloc[0]  # fmt: skip
            n = int(res["n_required_group1"])
            assumptions = (f"margin = {calc['margin']:g}, SD = {calc['sd']:g}, true difference = "
                           f"{float(calc.get('difference', 0)):g}, one-sided alpha = {alpha:g}, power = {power:g}")  # fmt: skip
            label = calc.get("label", "Non-inferiority of the mean change")
            text = f"{label} ({assumptions}): the standard formula gives {n} per group"
            if np.isfinite(stated):
                at_stated = st.power_noninferiority(
                    margin=float(calc["margin"]),
                    sd=float(calc["sd"]),
                    n=stated,
                    alpha=alpha,
                    difference=float(calc.get("difference", 0.0)),
                    method=calc.get("method", "t"),
                ).iloc[0]["power"]
                text += f"; the study stated {stated:g} per group, which gives {100 * at_stated:.1f}% power"
            text += "."
            rows.append({"label": label, "kind": kind, "assumptions": assumptions, "n_required": n,
                         "stated_n": stated, "method": f"{calc.get('method', 't')} (rheumetrics.stats.power_noninferiority)",
                         "text": text})  # fmt: skip
    return pd.DataFrame(
        rows, columns=["label", "kind", "assumptions", "n_required", "stated_n", "method", "text"]
    )


def paired(study: Study, data: StudyData, spec: dict[str, Any]) -> pd.DataFrame:
    """Within-patient change of each outcome over each interval, by group and overall: n,
    median (quartiles, range), mean, SD, standardised response mean, decrease / no change /
    increase counts, and the Wilcoxon signed-rank test of the change against zero (``zero_method``
    "pratt" by default: zero changes keep their rank, Pratt 1959; ``method`` "auto", "exact" or
    "asymptotic", the one that ran is recorded in ``test``)."""
    from rheumetrics.study.design import interval_pairs

    wanted = spec.get("outcomes") or [o.id for o in study.outcomes]
    asked = [tuple(p) for p in spec.get("intervals", [])]
    tolerance = float(spec.get("tolerance", 0.0))
    zero_method = spec.get("zero_method", "pratt")
    frame = data.frame
    codes = frame["group"].astype(str).to_numpy()
    groups = ["all", *_groups(study)] if len(study.groups) > 1 else ["all"]
    rows = []
    for oid in wanted:
        o = study.outcome(oid)
        for a, b in asked or [p for p in interval_pairs(study, o) if p[0] == study.visits[0].id]:
            col = f"change:{oid}@{a}-{b}"
            if col not in frame.columns:
                continue
            values = frame[col].to_numpy(float)
            for g in groups:
                v = values if g == "all" else values[codes == g]
                v = v[~np.isnan(v)]
                row: dict[str, Any] = {"outcome": oid, "label": o.label, "from": a, "to": b,
                                       "group": g, "n": int(v.size)}  # fmt: skip
                if v.size:
                    q1, med, q3 = np.percentile(v, [25, 50, 75])
                    sd = float(np.std(v, ddof=1)) if v.size > 1 else np.nan
                    row.update(median=med, q1=q1, q3=q3, min=v.min(), max=v.max(), mean=v.mean(),
                               sd=sd, srm=v.mean() / sd if sd and np.isfinite(sd) and sd > 0 else np.nan,
                               decrease=int((v < -tolerance).sum()), no_change=int((np.abs(v) <= tolerance).sum()),
                               increase=int((v > tolerance).sum()))  # fmt: skip
                if np.count_nonzero(v) > 0:
                    test = st.wilcoxon_signed_rank(v, zero_method=zero_method,
                                                   method=spec.get("method", "auto")).iloc[0]  # fmt: skip
                    row.update(
                        p=float(test["p"]),
                        test=f"Wilcoxon signed-rank ({zero_method}, {test['method']})",
                    )
                rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs["conventions"] = {"change": "later minus earlier visit", "no change": f"|change| <= {tolerance:g}",
                                "zero changes": zero_method, "quantiles": "linear interpolation (R type 7)"}  # fmt: skip
    return out


def association(study: Study, data: StudyData, spec: dict[str, Any]) -> pd.DataFrame:
    """Correlation of each ``[x, y]`` pair of analysis variables: baseline against change, or a
    change against a change over another interval."""
    kind = spec.get("method", "spearman")
    parts = []
    for x, y in spec["pairs"]:
        t = st.correlation_table(data.frame, x, [y], kind=kind)
        t.insert(1, "x_label", data.labels.get(x, x))
        t.insert(3, "y_label", data.labels.get(y, y))
        parts.append(t)
    return pd.concat(parts, ignore_index=True)


def dichotomised(frame: pd.DataFrame, variable: str, rule: str) -> pd.Series:
    """1 where ``variable`` meets ``rule`` (``"> 0.5"``: strictly above), 0 where it does not,
    missing where the variable is missing."""
    op, value = parse_rule(rule)
    x = pd.to_numeric(frame[variable], errors="coerce")
    out = pd.Series(_RULES[op](x.to_numpy(float), value).astype(float), index=frame.index)
    return out.where(x.notna())


def logistic(study: Study, data: StudyData, spec: dict[str, Any]) -> pd.DataFrame:
    """Logistic regression of an event defined by an explicit rule on a variable (e.g. erosion
    progression ``change:erosion > 0.5``) on predictors and confounders (complete cases); odds
    ratios with Wald CIs (statsmodels Logit through rheumetrics.stats)."""
    frame = data.frame.copy()
    frame["group"] = frame["group"].astype(str)
    frame["_event"] = dichotomised(frame, spec["truth"], spec["positive"])
    predictors = (
        [spec["predictors"]] if isinstance(spec["predictors"], str) else list(spec["predictors"])
    )
    conf = spec.get("confounders", [])
    confounders = [conf] if isinstance(conf, str) else list(conf)
    out = st.logistic_regression(frame, "_event", predictors, confounders,
                                 reference={"group": study.groups[0].id}, missing="drop")  # fmt: skip
    out.attrs["event"] = f"{spec['truth']} {spec['positive']}"
    out.attrs["n_events"] = int(np.nansum(frame["_event"]))
    return out


def paired_proportions(study: Study, data: StudyData, spec: dict[str, Any]) -> pd.DataFrame:
    """Two events on the same patients (each an explicit rule on a variable, e.g. erosion
    progression on MRI and on radiographs): the paired 2 x 2 table and McNemar's test."""
    a, b = spec["first"], spec["second"]
    frame = data.frame
    x = dichotomised(frame, a["variable"], a["positive"])
    y = dichotomised(frame, b["variable"], b["positive"])
    both = x.notna() & y.notna()
    x, y = x[both].astype(int), y[both].astype(int)
    table = np.array([[int(((x == 1) & (y == 1)).sum()), int(((x == 1) & (y == 0)).sum())],
                      [int(((x == 0) & (y == 1)).sum()), int(((x == 0) & (y == 0)).sum())]])  # fmt: skip
    test = st.mcnemar_test(table, method=spec.get("method", "exact")).iloc[0]
    return pd.DataFrame([{
        "first": f"{data.labels.get(a['variable'], a['variable'])} {a['positive']}",
        "second": f"{data.labels.get(b['variable'], b['variable'])} {b['positive']}",
        "n": int(both.sum()), "both": table[0, 0], "first_only": table[0, 1],
        "second_only": table[1, 0], "neither": table[1, 1],
        "first_percent": 100 * x.mean() if len(x) else np.nan,
        "second_percent": 100 * y.mean() if len(y) else np.nan,
        "stat": test.get("stat", np.nan), "p": float(test["p"]), "method": str(test["method"]),
    }])  # fmt: skip


def response(study: Study, data: StudyData, spec: dict[str, Any]) -> pd.DataFrame:
    """EULAR response (van Gestel et al. 1996, rheumetrics.measures.eular_response) of a DAS28
    outcome from baseline to each later visit, and disease-activity states at every visit (the
    cut-off set ``cutoffs``, default EULAR: remission < 2.6, low <= 3.2, moderate <= 5.1), as
    counts and percentages of those with values, by group and overall."""
    from rheumetrics.measures.cutoffs import cutoff_set
    from rheumetrics.measures.response import eular_response

    oid = spec["outcome"]
    o = study.outcome(oid)
    cuts = cutoff_set(spec.get("cutoffs", "das28_eular"))
    frame = data.frame
    codes = frame["group"].astype(str).to_numpy()
    groups = ["all", *_groups(study)] if len(study.groups) > 1 else ["all"]
    visits = [v.id for v in study.visits if v.id in o.visits]
    rows = []

    def add(kind: str, visit: str, labels: pd.Series, order: tuple[str, ...]) -> None:
        for g in groups:
            part = labels if g == "all" else labels[codes == g]
            part = part.dropna()
            for level in order:
                n = int((part == level).sum())
                rows.append({"kind": kind, "visit": visit, "group": g, "level": level, "n": n,
                             "total": int(part.size), "percent": 100 * n / part.size if part.size else np.nan})  # fmt: skip

    for v in visits:
        values = frame[f"{oid}@{v}"]
        state = pd.Series(
            pd.Categorical(cuts.classify(values.to_numpy(float)), categories=cuts.labels),
            index=frame.index,
        )
        add("state", v, state.astype(object).where(values.notna()), cuts.labels)
    for v in visits[1:]:
        base, follow = frame[f"{oid}@{visits[0]}"], frame[f"{oid}@{v}"]
        both = base.notna() & follow.notna()
        resp = pd.Series(np.nan, index=frame.index, dtype=object)
        if both.any():
            resp[both] = np.asarray(
                eular_response(base[both].to_numpy(float), follow[both].to_numpy(float)),
                dtype=object,
            )
        add("EULAR response", v, resp, ("good", "moderate", "none"))
    out = pd.DataFrame(rows)
    out.attrs["conventions"] = {
        "states": cuts.source,
        "response": "EULAR response (van Gestel 1996), baseline to each visit",
    }
    return out
