"""Treat-to-target engine: strategies as data, a decision with reasons at every visit, cohort figures.

>>> from rheumetrics.t2t import load_strategy, decide, summarise
>>> strategy = load_strategy("eular2022_ra")                      # doctest: +SKIP
>>> log = decide(visits, strategy, therapies)                     # doctest: +SKIP
>>> summarise(log)                                                # doctest: +SKIP

Rule tables, ladders and timing follow ``shared/reference/t2t.md``; every shipped strategy file
cites its sources and tags each rule V/P/U as that document does. User documentation: docs/t2t.md.
"""

from rheumetrics.t2t.cohort import apply_strategy, compare_strategies, summarise
from rheumetrics.t2t.engine import LOG_COLUMNS, decide
from rheumetrics.t2t.loader import (
    load_strategy,
    option_combinations,
    parse_strategy,
    shipped_strategies,
)
from rheumetrics.t2t.model import Rule, Step, Strategy

__all__ = [
    "LOG_COLUMNS",
    "Rule",
    "Step",
    "Strategy",
    "apply_strategy",
    "compare_strategies",
    "decide",
    "load_strategy",
    "option_combinations",
    "parse_strategy",
    "shipped_strategies",
    "summarise",
]
