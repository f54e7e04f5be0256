"""Decimal-safe comparison and display rounding.

Binary floating point turns exact decimal inputs into near misses (``4.0 - 2.8`` is
``1.2000000000000002``; ``1 + 1 + 1.3`` is ``3.3000000000000003``). Every threshold comparison in
rheumetrics is made on values *snapped* to :data:`SNAP_DECIMALS` decimal places, which removes
that noise without changing any clinically meaningful digit. Clinical rounding (2 dp for DAS28,
1 dp for SDAI, ...) is display only and is done by :func:`round_display` with an explicit mode
(as das-score.nl and Excel-based calculators round: half-up on the decimal value).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

import numpy as np

#: A plain decimal number in ASCII digits: sign, point and exponent allowed; no Unicode digits,
#: no ``"1_0"`` digit grouping, no ``"inf"``/``"nan"`` words (all of which Python's ``float`` reads).
PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
#: The padding stripped from numeric text (ASCII only: a non-breaking space is not padding).
ASCII_SPACE = " \t\r\n"


def is_plain_number(text: str) -> bool:
    """Whether ``text`` (ASCII padding aside) is a plain decimal number.

    >>> is_plain_number(" 12.5 "), is_plain_number("1e3"), is_plain_number("１２")
    (True, True, False)
    >>> is_plain_number("1_0"), is_plain_number("inf"), is_plain_number("4\xa0")
    (False, False, False)
    """
    return PLAIN_NUMBER.fullmatch(text.strip(ASCII_SPACE)) is not None


#: Decimal places kept before any threshold comparison (noise removal, not clinical rounding).
SNAP_DECIMALS = 9
#: Half a unit of the last snapped place: for a bound ``b`` given to at most 9 decimals,
#: ``snap(x) <= b`` is ``x <= b + SNAP_TOLERANCE`` (one comparison instead of a rounding pass, used
#: on hot paths such as :meth:`rheumetrics.measures.cutoffs.CutoffSet.codes`).
SNAP_TOLERANCE = 0.5 * 10.0**-SNAP_DECIMALS


class RoundingMode(StrEnum):
    """How a value exactly half-way between two display values is rounded."""

    HALF_UP = "half_up"  # away from zero, as Excel and das-score.nl do
    HALF_EVEN = "half_even"  # banker's rounding, as R's and Python's round() intend


def snap(x: Any) -> Any:
    """Round to :data:`SNAP_DECIMALS` places, removing binary floating-point noise.

    Examples
    --------
    Beyond about 1.8e299 the scaling by 10**9 would overflow; such magnitudes have no decimals
    (every float above 2**52 is a whole number), so they are returned unchanged.

    >>> 4.0 - 2.8 == 1.2, float(snap(4.0 - 2.8)) == 1.2
    (False, True)
    >>> float(snap(1e300))
    1e+300
    """
    with np.errstate(over="ignore"):
        snapped = np.round(x, SNAP_DECIMALS)
    overflowed = np.isinf(snapped) & np.isfinite(x)
    return np.where(overflowed, x, snapped) if np.any(overflowed) else snapped


def round_display(x: Any, digits: int, mode: RoundingMode | str = RoundingMode.HALF_UP) -> Any:
    """Round for display as a person would on the decimal value (``2.675 -> 2.68`` half-up).

    Works on scalars and arrays; NaN stays NaN.

    Examples
    --------
    >>> round_display(2.675, 2), round(2.675, 2)  # Python's round sees 2.67499999...
    (2.68, 2.67)
    >>> round_display(0.125, 2, "half_even")
    0.12
    """
    mode = RoundingMode(mode)
    arr = np.asarray(x, dtype=float)
    scale = 10.0**digits
    scaled = snap(np.abs(arr) * scale)
    # np.round rounds exact halves to even
    rounded = np.floor(scaled + 0.5) if mode is RoundingMode.HALF_UP else np.round(scaled)
    out = np.sign(arr) * rounded / scale
    return out.item() if np.ndim(out) == 0 else out
