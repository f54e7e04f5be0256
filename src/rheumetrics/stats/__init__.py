"""Study statistics: one function per method, each returning a tidy :class:`pandas.DataFrame`.

Flat modules by topic (pingouin-style): :mod:`.descriptives`, :mod:`.group_tests` (median
and rank-sum tests), :mod:`.contingency` (chi-square, Fisher, CMH, McNemar), :mod:`.paired`,
:mod:`.correlation`, :mod:`.regression`, :mod:`.agreement` (reliability and responsiveness),
:mod:`.roc`, :mod:`.meta` (with :mod:`.meta_subgroups` and :mod:`.forest`), :mod:`.conversion` (median/IQR/range to mean/SD) and
:mod:`.power`. Every result has a ``p`` column for its p-value, a ``method`` column saying
which computation ran, and records its conventions in ``attrs["conventions"]``;
``docs/statistics.md`` lists the variants and their defaults.

Importing this package is cheap: each function's module (and SciPy or statsmodels with it)
is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rheumetrics.lazy import lazy_attributes

if TYPE_CHECKING:
    from rheumetrics.stats.agreement import bland_altman, icc, sdc, srm
    from rheumetrics.stats.contingency import (
        chi_square,
        cmh_test,
        contingency_table,
        fisher_exact,
        mcnemar_test,
    )
    from rheumetrics.stats.conversion import mean_sd_from_quantiles
    from rheumetrics.stats.correlation import correlation_table, pearson, permutation_p, spearman
    from rheumetrics.stats.descriptives import count_percent, describe, format_number
    from rheumetrics.stats.forest import forest_plot
    from rheumetrics.stats.group_tests import hodges_lehmann, mann_whitney, median_test
    from rheumetrics.stats.marginal_means import adjusted_means
    from rheumetrics.stats.meta import effect_sizes, meta_analysis
    from rheumetrics.stats.meta_subgroups import subgroup_differences
    from rheumetrics.stats.paired import wilcoxon_signed_rank
    from rheumetrics.stats.power import (
        correlation_power_exact,
        power_correlation,
        power_noninferiority,
        power_two_means,
    )
    from rheumetrics.stats.regression import linear_regression, logistic_regression
    from rheumetrics.stats.roc import delong_test, plot_roc, roc_auc, roc_curve, youden_cutoff

#: Public name -> the submodule defining it (imported on first access).
_WHERE = {
    "bland_altman": "agreement",
    "icc": "agreement",
    "sdc": "agreement",
    "srm": "agreement",
    "chi_square": "contingency",
    "cmh_test": "contingency",
    "contingency_table": "contingency",
    "fisher_exact": "contingency",
    "mcnemar_test": "contingency",
    "mean_sd_from_quantiles": "conversion",
    "correlation_table": "correlation",
    "pearson": "correlation",
    "permutation_p": "correlation",
    "spearman": "correlation",
    "count_percent": "descriptives",
    "describe": "descriptives",
    "format_number": "descriptives",
    "hodges_lehmann": "group_tests",
    "mann_whitney": "group_tests",
    "median_test": "group_tests",
    "adjusted_means": "marginal_means",
    "effect_sizes": "meta",
    "forest_plot": "forest",
    "meta_analysis": "meta",
    "subgroup_differences": "meta_subgroups",
    "wilcoxon_signed_rank": "paired",
    "correlation_power_exact": "power",
    "power_correlation": "power",
    "power_noninferiority": "power",
    "power_two_means": "power",
    "linear_regression": "regression",
    "logistic_regression": "regression",
    "delong_test": "roc",
    "plot_roc": "roc",
    "roc_auc": "roc",
    "roc_curve": "roc",
    "youden_cutoff": "roc",
}

__all__ = [
    "adjusted_means",
    "bland_altman",
    "chi_square",
    "cmh_test",
    "contingency_table",
    "correlation_power_exact",
    "correlation_table",
    "count_percent",
    "delong_test",
    "describe",
    "effect_sizes",
    "fisher_exact",
    "forest_plot",
    "format_number",
    "hodges_lehmann",
    "icc",
    "linear_regression",
    "logistic_regression",
    "mann_whitney",
    "mcnemar_test",
    "mean_sd_from_quantiles",
    "median_test",
    "meta_analysis",
    "pearson",
    "permutation_p",
    "plot_roc",
    "power_correlation",
    "power_noninferiority",
    "power_two_means",
    "roc_auc",
    "roc_curve",
    "sdc",
    "spearman",
    "srm",
    "subgroup_differences",
    "wilcoxon_signed_rank",
    "youden_cutoff",
]

__getattr__, __dir__ = lazy_attributes(__name__, _WHERE)
