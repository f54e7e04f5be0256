"""Study statistics: one function per method, each returning a tidy :class:`pandas.DataFrame`.

Flat modules by topic (pingouin-style): :mod:`.descriptives`, :mod:`.group_tests`,
:mod:`.paired`, :mod:`.correlation`, :mod:`.regression`, :mod:`.agreement` (reliability and
responsiveness), :mod:`.roc`, :mod:`.meta` and :mod:`.power`. Every result records the
conventions it used in ``attrs["conventions"]``; ``docs/statistics.md`` lists the variants and
their defaults, and ``tests/stats`` checks each method against published results
(``shared/reference/stats-reference.md``).
"""

from rheumetrics.stats.agreement import bland_altman, icc, sdc, srm
from rheumetrics.stats.correlation import correlation_table, pearson, permutation_p, spearman
from rheumetrics.stats.descriptives import count_percent, describe, format_number
from rheumetrics.stats.group_tests import (
    chi_square,
    cmh_test,
    contingency_table,
    fisher_exact,
    mann_whitney,
    median_test,
)
from rheumetrics.stats.meta import effect_sizes, forest_plot, meta_analysis
from rheumetrics.stats.paired import wilcoxon_signed_rank
from rheumetrics.stats.power import (
    correlation_power_exact,
    power_correlation,
    power_noninferiority,
    power_two_means,
)
from rheumetrics.stats.regression import linear_regression, logistic_regression
from rheumetrics.stats.roc import delong_test, plot_roc, roc_auc, roc_curve, youden_cutoff

__all__ = [
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
    "icc",
    "linear_regression",
    "logistic_regression",
    "mann_whitney",
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
    "wilcoxon_signed_rank",
    "youden_cutoff",
]
