"""Tables from published evidence and planning: meta-analysis of a study-level table (with
median/IQR conversion and Fisher-z pooling of correlations) and the recomputed sample sizes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from rheumetrics import stats as st
from rheumetrics.study.formatting import percent

if TYPE_CHECKING:
    from rheumetrics.stats.meta import BackTransform


#: The prediction intervals a study file may ask for (``prediction``), as a report names them.
PREDICTIONS = {
    "metafor": "mu ± z (t(k-1) with Knapp-Hartung) × sqrt(tau² + SE²), R metafor predict.rma "
    "(Viechtbauer 2010, J Stat Softw 36(3)); equals the CI when tau² = 0",
    "higgins": "mu ± t(k-2) × sqrt(tau² + SE²) (Higgins, Thompson & Spiegelhalter 2009, "
    "J R Stat Soc A 172:137-159)",
}

#: The tests for subgroup differences a study file may ask for (``subgroup_test``).
SUBGROUP_TESTS = {
    "q_between": "Q-between: Cochran's Q of the subgroup estimates, each subgroup with its own "
    "tau² (RevMan; Cochrane Handbook §10.11.3.1; Borenstein et al. 2009, Introduction to "
    "Meta-Analysis, ch. 19)",
    "moderator": "QM: omnibus moderator test of a mixed-effects meta-regression on the subgroup "
    "with one common tau² (R metafor rma with mods; Viechtbauer 2010, J Stat Softw 36(3))",
}

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
    The prediction interval follows ``prediction``: ``"metafor"`` (default; R metafor
    ``predict.rma``: the CI's normal or, with Knapp-Hartung, t(k-1) quantile, so it equals the
    CI when tau² = 0) or ``"higgins"`` (t(k-2); Higgins, Thompson & Spiegelhalter 2009).
    With subgroups, the test for subgroup differences follows ``subgroup_test``:
    ``"q_between"`` (default; Cochran's Q of the subgroup estimates, each subgroup with its own
    tau², as RevMan and R meta) or ``"moderator"`` (metafor's QM of a mixed-effects
    meta-regression with one common tau²); see :func:`rheumetrics.stats.subgroup_differences`.
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
    prediction = spec.get("prediction", "metafor")
    label = spec.get("label", measure)
    parts, figures = [], {}
    levels = list(dict.fromkeys(es["subgroup"])) if subgroup else []
    for level in [*levels, "all"]:
        sub = es if level == "all" else es[es["subgroup"] == level]
        res = st.meta_analysis(sub["yi"], sub["vi"], method=method if len(sub) > 1 else "FE",
                               knapp_hartung=kh and len(sub) > 1, studies=list(sub["study"]),
                               prediction=prediction,
                               back_transform="tanh" if back == "tanh" else "none")  # fmt: skip
        figures[f"meta_{level}"] = st.forest_plot(res, back_transform=back, xlabel=label,
                                                  title=None if level == "all" else f"{subgroup}: {level}")  # fmt: skip
        res.attrs = {}  # the per-study rows are kept once, in attrs["studies"] below
        res.insert(0, "subgroup", level)
        parts.append(res)
    out = pd.concat(parts, ignore_index=True)
    out.attrs["studies"] = es
    conventions: dict[str, Any] = {"measure": measure, "method": method,
                                   "knapp_hartung": "yes" if kh else "no",
                                   "prediction": PREDICTIONS[prediction]}  # fmt: skip
    if spec.get("filter"):
        conventions["filter"] = ", ".join(f"{k} in {v}" for k, v in dict(spec["filter"]).items())
    if subgroup:
        conventions["subgroup"] = subgroup
    if len(levels) > 1:
        which = spec.get("subgroup_test", "q_between")
        test = st.subgroup_differences(es["yi"], es["vi"], es["subgroup"], test=which,
                                       method=method, knapp_hartung=kh).iloc[0]  # fmt: skip
        # the statistic is named as printed: Q (Q-between) or QM (moderator test)
        out.attrs["subgroup_test"] = {"test": which, "Q" if which == "q_between" else "QM": float(test["stat"]),
                                      "df": int(test["df"]), "df2": float(test["df2"]),
                                      "p": float(test["p"])}  # fmt: skip
        conventions["subgroup_test"] = SUBGROUP_TESTS[which]
    out.attrs["conventions"] = conventions
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
                text += f"; the study stated {stated:g} per group, which gives {percent(at_stated)} power"
            text += "."
            rows.append({"label": label, "kind": kind, "assumptions": assumptions, "n_required": n,
                         "stated_n": stated, "method": f"{calc.get('method', 't')} (rheumetrics.stats.power_noninferiority)",
                         "text": text})  # fmt: skip
    return pd.DataFrame(
        rows, columns=["label", "kind", "assumptions", "n_required", "stated_n", "method", "text"]
    )
