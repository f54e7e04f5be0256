"""Estimated mean and SD from a reported median with its range and/or interquartile range.

Meta-analyses of studies that report medians need a mean and SD; the method is a named
parameter and is recorded with the result (scenario S1: minimum, median, maximum; S2: first
quartile, median, third quartile; S3: all five numbers):

- ``"wan"``: Wan, Wang, Liu & Tong (2014), *BMC Med Res Methodol* 14:135,
  doi:10.1186/1471-2288-14-135: mean (a + 2m + b)/4, (q1 + m + q3)/3 or (a + 2q1 + 2m + 2q3 +
  b)/8; SD (b - a)/xi(n), (q3 - q1)/eta(n) or their average, with xi(n) = 2 Phi^-1((n -
  0.375)/(n + 0.25)) and eta(n) = 2 Phi^-1((0.75n - 0.125)/(n + 0.25)).
- ``"luo"``: the sample-size-weighted means of Luo, Wan, Liu & Tong (2018), *Stat Methods Med
  Res* 27:1785-1805, doi:10.1177/0962280216669183, with Wan's SD (the pairing recommended
  by both papers' authors).
- ``"hozo"``: Hozo, Djulbegovic & Hozo (2005), *BMC Med Res Methodol* 5:13,
  doi:10.1186/1471-2288-5-13 (S1 only): mean (a + 2m + b)/4 + (a - 2m + b)/(4n), SD
  sqrt(((a - 2m + b)^2 / 4 + (b - a)^2) / 12).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from rheumetrics.errors import ProblemCollector
from rheumetrics.stats._common import check_choice, result_frame, validated_floats

ConversionMethod = Literal["wan", "luo", "hozo"]

__all__ = ["mean_sd_from_quantiles"]


def mean_sd_from_quantiles(
    *,
    n: Any,
    median: Any,
    minimum: Any = None,
    maximum: Any = None,
    q1: Any = None,
    q3: Any = None,
    method: ConversionMethod = "wan",
) -> pd.DataFrame:
    """Estimate mean and SD from median and range (S1), IQR (S2) or both (S3).

    Parameters
    ----------
    n : sample size of each study (array-like or number).
    median, minimum, maximum, q1, q3 : the reported summaries; give the median with the
        minimum and maximum, with q1 and q3, or with all four.
    method : ``"wan"`` (default), ``"luo"`` or ``"hozo"`` (range only); see the module docstring.

    Returns
    -------
    One row per study: mean, sd, scenario (S1/S2/S3), method.

    Examples
    --------
    >>> res = mean_sd_from_quantiles(n=20, median=7, minimum=2, maximum=15).iloc[0]
    >>> round(float(res["mean"]), 3), round(float(res["sd"]), 3), res["scenario"]
    (7.75, 3.479, 'S1')
    """
    from scipy import stats

    check_choice("method", method, ("wan", "luo", "hozo"))
    given = {"minimum": minimum, "maximum": maximum, "q1": q1, "q3": q3}
    has = {k for k, v in given.items() if v is not None}
    problems = ProblemCollector("mean_sd_from_quantiles arguments")
    scenario = {
        frozenset({"minimum", "maximum"}): "S1",
        frozenset({"q1", "q3"}): "S2",
        frozenset(given): "S3",
    }.get(frozenset(has))
    if scenario is None:
        problems.add("-", "summaries", sorted(has), "give minimum+maximum, q1+q3, or all four")
    elif method == "hozo" and scenario != "S1":
        problems.add("-", "method", method, "Hozo et al. (2005) use the minimum and maximum only")
    problems.raise_if_any()
    named = {"n": n, "median": median, **{k: given[k] for k in sorted(has)}}
    size = max(np.size(v) for v in named.values())
    arrays, _ = validated_floats(
        {k: np.broadcast_to(np.asarray(v, dtype=object), size) for k, v in named.items()}
    )
    v = dict(zip(named, arrays, strict=True))
    nn, m = v["n"], v["median"]
    order = [v.get("minimum"), v.get("q1"), m, v.get("q3"), v.get("maximum")]
    present = np.vstack([a for a in order if a is not None])
    for i in np.flatnonzero((np.diff(present, axis=0) < 0).any(axis=0)):
        problems.add(
            i,
            "summaries",
            present[:, i].tolist(),
            "must be ordered min <= q1 <= median <= q3 <= max",
        )
    for i in np.flatnonzero((nn < 2) | (nn != np.round(nn))):
        problems.add(i, "n", nn[i], "must be a whole number >= 2")
    problems.raise_if_any()
    xi = 2 * stats.norm.ppf((nn - 0.375) / (nn + 0.25))
    eta = 2 * stats.norm.ppf((0.75 * nn - 0.125) / (nn + 0.25))
    a, b, lo, hi = v.get("minimum"), v.get("maximum"), v.get("q1"), v.get("q3")
    if scenario == "S1":
        assert a is not None and b is not None
        if method == "hozo":
            mean = (a + 2 * m + b) / 4 + (a - 2 * m + b) / (4 * nn)
            sd = np.sqrt(((a - 2 * m + b) ** 2 / 4 + (b - a) ** 2) / 12)
        else:
            w = 4 / (4 + nn**0.75)
            mean = w * (a + b) / 2 + (1 - w) * m if method == "luo" else (a + 2 * m + b) / 4
            sd = (b - a) / xi
    elif scenario == "S2":
        assert lo is not None and hi is not None
        w = 0.7 + 0.39 / nn
        mean = w * (lo + hi) / 2 + (1 - w) * m if method == "luo" else (lo + m + hi) / 3
        sd = (hi - lo) / eta
    else:
        assert a is not None and b is not None and lo is not None and hi is not None
        if method == "luo":
            w1 = 2.2 / (2.2 + nn**0.75)
            w2 = 0.7 - 0.72 / nn**0.55
            mean = w1 * (a + b) / 2 + w2 * (lo + hi) / 2 + (1 - w1 - w2) * m
        else:
            mean = (a + 2 * lo + 2 * m + 2 * hi + b) / 8
        sd = (b - a) / (2 * xi) + (hi - lo) / (2 * eta)
    rows = [
        {"mean": float(mu), "sd": float(s), "scenario": scenario, "method": method}
        for mu, s in zip(np.atleast_1d(mean), np.atleast_1d(sd), strict=True)
    ]
    return result_frame(rows, {"method": method, "scenario": scenario})
