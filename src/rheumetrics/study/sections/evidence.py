"""Registered analyses needing no patients: meta-analysis and sample-size recomputation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rheumetrics.study import analyses as an
from rheumetrics.study import analysis_checks as checks
from rheumetrics.study.definitions import Study
from rheumetrics.study.design import StudyData
from rheumetrics.study.file_tables import StudyFileCheck
from rheumetrics.study.formatting import (
    count,
    format_p,
    interval,
    num,
)
from rheumetrics.study.registry import Section, register

_CONVERSIONS = {
    "wan": "Wan et al. (BMC Med Res Methodol 2014;14:135)",
    "luo": "Luo et al. (Stat Methods Med Res 2018;27:1785-1805) for the mean and Wan et al. "
    "(BMC Med Res Methodol 2014;14:135) for the SD",
    "hozo": "Hozo et al. (BMC Med Res Methodol 2005;5:13)",
}


_PREDICTION_TEXT = {
    "metafor": "The prediction interval for the effect in a new study is mu ± {crit} × sqrt(tau² "
    "+ SE²), as R metafor predict.rma (Viechtbauer 2010, J Stat Softw 36(3), "
    "doi:10.18637/jss.v036.i03; Riley et al. 2011, BMJ 342:d549); it equals the CI when tau² = 0.",
    "higgins": "The prediction interval for the effect in a new study is mu ± t(k-2) × sqrt(tau² "
    "+ SE²) (Higgins, Thompson & Spiegelhalter 2009, J R Stat Soc A 172:137-159); it needs k >= 3.",
}
_SUBGROUP_TEXT = {
    "q_between": "Subgroup differences are tested by Q-between, Cochran's Q of the subgroup "
    "estimates with each subgroup's own tau² (as RevMan; Cochrane Handbook §10.11.3.1; "
    "Borenstein et al. 2009, Introduction to Meta-Analysis, ch. 19).",
    "moderator": "Subgroup differences are tested by the omnibus moderator test QM of a "
    "mixed-effects meta-regression on the subgroup with one common tau² (R metafor rma with "
    "mods; Viechtbauer 2010, J Stat Softw 36(3)).",
}
_SUBGROUP_SHORT = {
    "q_between": "Q-between, each subgroup pooled with its own tau², as RevMan",
    "moderator": "moderator test of a mixed-effects meta-regression with one common tau², as "
    "R metafor",
}
_PREDICTIONS = tuple(_PREDICTION_TEXT)
_SUBGROUP_TESTS = tuple(_SUBGROUP_TEXT)


def _check_meta(c: StudyFileCheck, study: Study, where: str, spec: dict[str, Any]) -> None:
    """The meta-analysis options, then those of the prediction interval and the subgroup test."""
    checks.meta(c, study, where, spec)
    for key, allowed in (("prediction", _PREDICTIONS), ("subgroup_test", _SUBGROUP_TESTS)):
        if key in spec and spec[key] not in allowed:
            c.add(where, key, spec[key], f"must be one of {', '.join(allowed)}")
    if spec.get("subgroup_test") == "moderator" and not spec.get("subgroup"):
        c.add(where, "subgroup_test", "moderator", "needs subgroup = the column of subgroups")


def _meta_methods(study: Study, spec: dict[str, Any]) -> str:
    kh = " with the Knapp-Hartung adjustment" if spec.get("knapp_hartung") else ""
    measure = spec.get("measure", "RR")
    text = (f"Study effects ({measure}) are pooled by a random-effects model "
            f"({spec.get('method', 'REML')} estimate of tau²{kh}; as R metafor::rma).")  # fmt: skip
    crit = "t(k-1)" if spec.get("knapp_hartung") else "z"
    text += " " + _PREDICTION_TEXT[spec.get("prediction", "metafor")].format(crit=crit)
    if spec.get("subgroup"):
        text += " " + _SUBGROUP_TEXT[spec.get("subgroup_test", "q_between")]
    if measure == "MD":
        text += (" Mean differences use the unpooled variance sd_t²/n_t + sd_c²/n_c (metafor "
                 "escalc vtype LS)." if spec.get("md_variance", "unpooled") == "unpooled" else
                 " Mean differences use the pooled (homoscedastic) variance (metafor escalc "
                 "vtype HO).")  # fmt: skip
    if measure == "ZCOR":
        text += (" Correlations are pooled as Fisher's z = atanh(r) with variance 1/(n - 3) and "
                 "back-transformed to r (metafor escalc ZCOR, transf.ztor).")  # fmt: skip
    if any(k.startswith("median_") for k in spec.get("columns", {})):
        text += (" Where a study reports a median with its IQR and/or range, the mean and SD are "
                 f"estimated by {_CONVERSIONS[spec.get('conversion', 'wan')]}.")  # fmt: skip
    return text


@register("meta", {"file", "measure", "method", "knapp_hartung", "columns", "study", "exponentiate",
                  "subgroup", "filter", "label", "md_variance", "conversion", "prediction",
                  "subgroup_test"}, methods=_meta_methods, needs_cohort=False,
          check=_check_meta)  # fmt: skip
def meta(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """Meta-analysis of a study-level table, overall and by subgroup, with forest plots."""
    t, figs = an.meta(spec)
    natural = "pooled" in t.columns  # back-transformed (ratio or correlation)
    est, lo, hi, plo, phi = (
        ("pooled", "pooled_ci_low", "pooled_ci_high", "pooled_pi_low", "pooled_pi_high") if natural
        else ("estimate", "ci_low", "ci_high", "pi_low", "pi_high"))  # fmt: skip
    display = pd.DataFrame({
        "Subgroup": t["subgroup"].replace({"all": "All studies"}), "Method": t["method"],
        "k": [count(k) for k in t["k"]], "Estimate": [num(x, 3) for x in t[est]],
        "95% CI": [interval(a, b, 3) for a, b in zip(t[lo], t[hi], strict=True)],
        "95% PI": [interval(a, b, 3) for a, b in zip(t[plo], t[phi], strict=True)],
        "p": [format_p(p) for p in t["p"]], "tau²": [num(x, 4) for x in t["tau2"]],
        "I² (%)": [num(x, 1) for x in t["i2"]], "Q": [num(x, 2) for x in t["q"]],
        "p (Q)": [format_p(p) for p in t["q_p"]],
    })  # fmt: skip
    foot = []
    if "subgroup_test" in t.attrs:
        sg = t.attrs["subgroup_test"]
        if sg["test"] == "q_between":
            stat = f"Q = {num(sg['Q'], 2)}, df = {sg['df']}"
        elif np.isfinite(sg["df2"]):
            stat = f"QM = {num(sg['QM'], 2)}, F({sg['df']}, {sg['df2']:g})"
        else:
            stat = f"QM = {num(sg['QM'], 2)}, df = {sg['df']}"
        foot.append(f"Test for subgroup differences ({_SUBGROUP_SHORT[sg['test']]}): {stat}, "
                    f"p = {format_p(sg['p'])}.")  # fmt: skip
    crit = "t(k-1)" if spec.get("knapp_hartung") else "z"
    pi = _PREDICTION_TEXT[spec.get("prediction", "metafor")].format(crit=crit)
    foot.append("Prediction interval (in the forest plots): " + pi.removeprefix(
        "The prediction interval for the effect in a new study is "))  # fmt: skip
    studies = t.attrs["studies"]
    converted = studies[studies["converted"] != ""]
    if len(converted):
        foot.append(
            f"Mean and SD estimated from the median with IQR (S2), range (S1) or both (S3) by "
            f"{_CONVERSIONS[str(spec.get('conversion', 'wan'))]}: "
            + "; ".join(f"{s} ({c})" for s, c in zip(converted["study"], converted["converted"],
                                                      strict=True)) + "."
        )  # fmt: skip
    if spec.get("measure") == "ZCOR":
        foot.append("Pooled on Fisher's z scale and back-transformed to a correlation.")
    label = spec.get("label", spec.get("measure", "RR"))
    figures = {k: (fig, f"Forest plot ({label}): {'all studies' if k == 'meta_all' else k.removeprefix('meta_')}; "
                        "each study's estimate and 95% CI (square sized by its weight), the pooled "
                        "estimate (diamond) and the 95% prediction interval (grey bar); weights and "
                        "estimates with their 95% CI printed at the right.") for k, fig in figs.items()}  # fmt: skip
    return Section("Meta-analysis", {"meta": t, "meta_studies": t.attrs["studies"]}, display,
                   caption=f"Pooled {label}, overall and by subgroup.", footnotes=foot, figures=figures,
                   conventions=t.attrs.get("conventions", {}))  # fmt: skip


# -- planning -------------------------------------------------------------------------------------


def _sample_size_methods(study: Study, spec: dict[str, Any]) -> str:
    t = an.sample_size(spec)
    return " ".join(str(x) for x in t["text"])


@register("sample_size", {"calculations"}, methods=_sample_size_methods, needs_cohort=False,
          check=checks.sample_size)  # fmt: skip
def sample_size(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """The study's sample-size calculations, recomputed from their stated assumptions."""
    t = an.sample_size(spec)
    display = pd.DataFrame({"Calculation": t["label"], "Assumptions": t["assumptions"],
                            "Required n": [count(n) for n in t["n_required"]],
                            "Stated n": [count(n) if np.isfinite(n) else "" for n in t["stated_n"]],
                            "Method": t["method"]})  # fmt: skip
    return Section(
        "Sample size",
        {"sample_size": t},
        display,
        caption="Sample-size calculations recomputed from the stated assumptions.",
    )
