"""Registered analyses needing no patients: meta-analysis and sample-size recomputation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rheumetrics.study import analyses as an
from rheumetrics.study import analysis_checks as checks
from rheumetrics.study.design import StudyData
from rheumetrics.study.formatting import (
    count,
    format_p,
    interval,
    num,
)
from rheumetrics.study.model import Study
from rheumetrics.study.registry import Section, register

_CONVERSIONS = {
    "wan": "Wan et al. (BMC Med Res Methodol 2014;14:135)",
    "luo": "Luo et al. (Stat Methods Med Res 2018;27:1785-1805) for the mean and Wan et al. "
    "(BMC Med Res Methodol 2014;14:135) for the SD",
    "hozo": "Hozo et al. (BMC Med Res Methodol 2005;5:13)",
}


def _meta_methods(study: Study, spec: dict[str, Any]) -> str:
    kh = " with the Knapp-Hartung adjustment" if spec.get("knapp_hartung") else ""
    measure = spec.get("measure", "RR")
    text = (f"Study effects ({measure}) are pooled by a random-effects model "
            f"({spec.get('method', 'REML')} estimate of tau²{kh}; as R metafor::rma).")  # fmt: skip
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
                  "subgroup", "filter", "label", "md_variance", "conversion"}, methods=_meta_methods,
          needs_cohort=False, check=checks.meta)  # fmt: skip
def meta(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """Meta-analysis of a study-level table, overall and by subgroup, with forest plots."""
    t, figs = an.meta(spec)
    natural = "pooled" in t.columns  # back-transformed (ratio or correlation)
    est, lo, hi = ("pooled", "pooled_ci_low", "pooled_ci_high") if natural else (
        "estimate", "ci_low", "ci_high")  # fmt: skip
    display = pd.DataFrame({
        "Subgroup": t["subgroup"].replace({"all": "All studies"}), "Method": t["method"],
        "k": [count(k) for k in t["k"]], "Estimate": [num(x, 3) for x in t[est]],
        "95% CI": [interval(a, b, 3) for a, b in zip(t[lo], t[hi], strict=True)],
        "p": [format_p(p) for p in t["p"]], "tau²": [num(x, 4) for x in t["tau2"]],
        "I² (%)": [num(x, 1) for x in t["i2"]], "Q": [num(x, 2) for x in t["q"]],
        "p (Q)": [format_p(p) for p in t["q_p"]],
    })  # fmt: skip
    foot = []
    if "subgroup_test" in t.attrs:
        sg = t.attrs["subgroup_test"]
        foot.append(
            f"Test for subgroup differences: Q = {num(sg['Q'], 2)}, df = {sg['df']}, p = {format_p(sg['p'])}."
        )
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
                        "study estimates, pooled diamond, prediction interval.") for k, fig in figs.items()}  # fmt: skip
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
