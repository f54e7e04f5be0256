"""Treat-to-target decisions: strategies as data, a concrete decision with reasons at every visit.

Two entry points for callers (the web app, a simulator, scripts):

- :func:`decide` -- a whole cohort: visits, therapies (with doses and stop reasons) and optional
  contraindications -> the decision log, one row per visit (vectorised over patients);
- :func:`decide_visit` -- the point of care: today's visit, the current regimen and whatever
  history exists -> one :class:`VisitDecision` (action, proposed regimen, reasons, rules
  considered, what is missing).

>>> from rheumetrics.t2t import decide_visit
>>> d = decide_visit("imagine_ra_conventional", {"das28_crp": 3.9, "sjc28": 2},
...                  regimen=[{"drug": "methotrexate", "dose": 25, "start_date": "2019-01-01"}],
...                  visit_date="2020-01-01")
>>> d.action, d.to_regimen
('escalate', 'methotrexate 25 mg/week + sulfasalazine 2000 mg/day + hydroxychloroquine 200 mg/day')

Strategies cite their published sources (guideline recommendations, trial protocols); see
``rheumetrics strategies NAME``. User documentation: docs/t2t.md; the scenario book: docs/scenarios.md.
"""

from rheumetrics.t2t.cohort import apply_strategy, compare_strategies, summarise
from rheumetrics.t2t.decisions import LOG_COLUMNS, decide
from rheumetrics.t2t.strategy import (
    Rule,
    Step,
    Strategy,
    load_strategy,
    option_combinations,
    parse_strategy,
    shipped_strategies,
)
from rheumetrics.t2t.visit import VisitDecision, decide_visit

__all__ = [
    "LOG_COLUMNS",
    "Rule",
    "Step",
    "Strategy",
    "VisitDecision",
    "apply_strategy",
    "compare_strategies",
    "decide",
    "decide_visit",
    "load_strategy",
    "option_combinations",
    "parse_strategy",
    "shipped_strategies",
    "summarise",
]
