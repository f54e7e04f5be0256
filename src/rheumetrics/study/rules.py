"""Rules turning a variable into an event: an operator and a number (``'> 0.5'`` strictly above,
``'>= 0.5'`` at or above, ``'<= -0.22'``, ``'< 0'``), as a study file gives them to ``roc``,
``logistic`` and ``paired_proportions``; the study-file checks and the analyses read them alike.
"""

from __future__ import annotations

import math


def parse_rule(text: str) -> tuple[str, float]:
    """``"<= -0.22"`` -> ``("<=", -0.22)``; the operator is required (``<``, ``<=``, ``>``, ``>=``).

    >>> parse_rule("> 0.5")
    ('>', 0.5)
    """
    text = str(text).strip()
    for op in ("<=", ">=", "<", ">"):
        if text.startswith(op):
            value = float(text[len(op) :])
            if not math.isfinite(value):
                break
            return op, value
    raise ValueError(f"{text!r}: must be an operator (<, <=, >, >=) and a number, e.g. '> 0.5'")
