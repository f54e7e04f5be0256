"""Agreement, reliability and responsiveness: ICC, Bland-Altman, SDC, SRM.

Every function takes a long ("tidy") frame with one rating per row — a *target* (patient, scan,
patient x time point), the *rater* who gave it (reader, reading session, device) and the *rating* —
and returns a tidy :class:`pandas.DataFrame` whose ``attrs["conventions"]`` records the choices
that change the numbers.

References
----------
Shrout PE, Fleiss JL. Intraclass correlations: uses in assessing rater reliability.
Psychol Bull 1979;86:420-428.
McGraw KO, Wong SP. Forming inferences about some intraclass correlation coefficients.
Psychol Methods 1996;1:30-46 (F-based confidence intervals).
Bland JM, Altman DG. Statistical methods for assessing agreement between two methods of clinical
measurement. Lancet 1986;i:307-310.
Bruynesteyn K et al. Ann Rheum Dis 2005;64:179-182 (smallest
detectable change of paired-read change scores).
de Vet HCW et al. When to use agreement versus reliability measures. J Clin Epidemiol
2006;59:1033-1039 (SDC from the standard error of measurement).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from rheumetrics.errors import ProblemCollector
from rheumetrics.stats._common import (
    Missing,
    check_choice,
    check_columns,
    check_range,
    result_frame,
)

__all__ = ["bland_altman", "icc", "sdc", "srm"]

SdcMethod = Literal["bruynesteyn", "loa", "sem_anova"]

#: Shrout & Fleiss form -> (McGraw & Wong name, description).
ICC_FORMS: dict[str, tuple[str, str]] = {
    "ICC(1,1)": ("ICC(1)", "one-way random effects, single rater"),
    "ICC(2,1)": ("ICC(A,1)", "two-way random effects, absolute agreement, single rater"),
    "ICC(3,1)": ("ICC(C,1)", "two-way mixed effects, consistency, single rater"),
    "ICC(1,k)": ("ICC(k)", "one-way random effects, mean of k raters"),
    "ICC(2,k)": ("ICC(A,k)", "two-way random effects, absolute agreement, mean of k raters"),
    "ICC(3,k)": ("ICC(C,k)", "two-way mixed effects, consistency, mean of k raters"),
}

SDC_FORMULAS: dict[str, str] = {
    "bruynesteyn": "SDC = z * SD(d) / (sqrt(2) * sqrt(k)), d = rater-1 minus rater-2 change score "
    "(Bruynesteyn et al. 2005, Ann Rheum Dis 64:179-182)",
    "loa": "SDD = z * SD(d), the Bland-Altman limit-of-agreement half-width (Lassere et al. 2001)",
    "sem_anova": "SDC = z * sqrt(2) * SEM, SEM = sqrt(EMS / k) from the two-way ANOVA of status "
    "scores (de Vet et al. 2006, J Clin Epidemiol 59:1033-1039)",
}


def _as_list(cols: str | Sequence[str]) -> list[str]:
    return [cols] if isinstance(cols, str) else list(cols)


def _rating_matrix(
    data: pd.DataFrame,
    targets: str | Sequence[str],
    raters: str,
    ratings: str,
    missing: Missing,
) -> tuple[np.ndarray, pd.DataFrame, list[Any], int]:
    """Pivot long ratings into an n targets x k raters matrix, checking every value.

    Returns the matrix, the target keys (one row per matrix row), the rater labels in order of
    first appearance and the number of targets dropped for missing ratings.
    """
    check_choice("missing", missing, ("raise", "drop"))
    target_cols = _as_list(targets)
    check_columns(data, [*target_cols, raters, ratings], where="ratings data")
    problems = ProblemCollector("invalid ratings")
    values = pd.to_numeric(data[ratings], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    raw_na = data[ratings].isna().to_numpy()
    bad = (np.isnan(values) & ~raw_na) | np.isinf(values)
    for i in np.flatnonzero(bad):
        problems.add(data.index[i], ratings, data[ratings].iloc[i], "must be a finite number")
    for col in [*target_cols, raters]:
        for i in np.flatnonzero(data[col].isna().to_numpy()):
            problems.add(data.index[i], col, None, "must not be missing")
    t_codes, t_keys = _factorize_rows(data[target_cols])
    r_codes, r_uniques = pd.factorize(data[raters])
    n_t, n_r = len(t_keys), len(r_uniques)
    cell = t_codes.astype(np.int64) * (n_r + 1) + r_codes
    for i in np.flatnonzero(pd.Series(cell).duplicated(keep=False).to_numpy()):
        problems.add(
            data.index[i], raters, data[raters].iloc[i], "target rated twice by the same rater"
        )
    problems.raise_if_any()
    matrix = np.full((n_t, n_r), np.nan)
    matrix[t_codes, r_codes] = values
    incomplete = np.isnan(matrix).any(axis=1)
    dropped = int(incomplete.sum())
    if dropped and missing == "raise":
        for t in np.flatnonzero(incomplete):
            absent = [str(r_uniques[j]) for j in np.flatnonzero(np.isnan(matrix[t]))]
            problems.add(
                ", ".join(map(str, t_keys.iloc[t])),
                ratings,
                None,
                f"no rating from rater(s) {', '.join(absent)}; pass missing='drop' to omit the target",
            )
        problems.raise_if_any()
    matrix = matrix[~incomplete]
    t_keys = t_keys[~incomplete].reset_index(drop=True)
    if matrix.shape[0] < 2 or matrix.shape[1] < 2:
        problems.add(
            "-",
            ratings,
            f"{matrix.shape[0]} complete targets x {matrix.shape[1]} raters",
            "needs at least 2 targets rated by every rater and at least 2 raters",
        )
        problems.raise_if_any()
    return matrix, t_keys, list(r_uniques), dropped


def _factorize_rows(keys: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Dense codes for the distinct rows of ``keys`` (order of first appearance) and those rows."""
    codes = keys.groupby(list(keys.columns), sort=False, dropna=False).ngroup().to_numpy()
    return codes, keys.drop_duplicates().reset_index(drop=True)


def anova_mean_squares(matrix: np.ndarray) -> dict[str, float]:
    """Mean squares of the one- and two-way ANOVA of an n x k complete ratings matrix.

    BMS between targets, WMS within targets (one-way), JMS between raters (judges), EMS residual
    (Shrout & Fleiss 1979, Table 1).
    """
    n, k = matrix.shape
    grand = matrix.mean()
    ss_total = float(((matrix - grand) ** 2).sum())
    ss_rows = float(k * ((matrix.mean(axis=1) - grand) ** 2).sum())
    ss_cols = float(n * ((matrix.mean(axis=0) - grand) ** 2).sum())
    ss_error = ss_total - ss_rows - ss_cols
    return {
        "BMS": ss_rows / (n - 1),
        "WMS": (ss_total - ss_rows) / (n * (k - 1)),
        "JMS": ss_cols / (k - 1),
        "EMS": ss_error / ((n - 1) * (k - 1)),
    }


def icc(
    data: pd.DataFrame,
    targets: str | Sequence[str],
    raters: str,
    ratings: str,
    *,
    confidence: float = 0.95,
    missing: Missing = "raise",
) -> pd.DataFrame:
    """Intraclass correlation in the six Shrout & Fleiss forms, with F tests and CIs.

    Parameters
    ----------
    data : DataFrame
        Long ratings, one row per target and rater.
    targets : str or list of str
        Column(s) identifying what is rated (e.g. ``["patient_id", "timepoint"]``).
    raters : str
        Column identifying the rater (reader, or reading session for intra-reader ICC).
    ratings : str
        Numeric rating column (status or change score).
    confidence : float
        Two-sided confidence level of the intervals (0.95).
    missing : {"raise", "drop"}
        A target without a rating from every rater is an error, or is dropped (counted in
        ``attrs["conventions"]["targets_dropped"]``).

    Returns
    -------
    DataFrame
        One row per form: ``form`` (Shrout-Fleiss name), ``mcgraw_wong``, ``description``,
        ``icc``, ``F``, ``df1``, ``df2``, ``p``, ``method``, ``ci_low``, ``ci_high``, ``n``, ``k``.
        ``attrs["anova"]`` holds the mean squares.

    Notes
    -----
    Point estimates: Shrout & Fleiss (1979) Table 2. F tests and CIs: Shrout & Fleiss / McGraw & Wong
    (1996); ICC(2,1) limits use Satterthwaite's degrees of freedom and the ICC(2,k) limits are the
    Spearman-Brown step-up of the ICC(2,1) limits (as R psych::ICC). F and p
    of ICC(2,·) and ICC(3,·) both test BMS/EMS.

    Examples
    --------
    >>> import pandas as pd
    >>> wide = pd.DataFrame({"t": [1, 2, 3], "A": [1, 2, 4], "B": [1, 3, 4]})
    >>> long = wide.melt(id_vars="t", var_name="rater", value_name="score")
    >>> round(float(icc(long, "t", "rater", "score").set_index("form").loc["ICC(3,1)", "icc"]), 3)
    0.929
    """
    check_range("confidence", confidence, 0.0, 1.0)
    alpha = 1 - confidence
    matrix, _, rater_labels, dropped = _rating_matrix(data, targets, raters, ratings, missing)
    n, k = matrix.shape
    ms = anova_mean_squares(matrix)
    bms, wms, jms, ems = ms["BMS"], ms["WMS"], ms["JMS"], ms["EMS"]
    with np.errstate(divide="ignore", invalid="ignore"):
        icc1 = (bms - wms) / (bms + (k - 1) * wms)
        icc2 = (bms - ems) / (bms + (k - 1) * ems + k * (jms - ems) / n)
        icc3 = (bms - ems) / (bms + (k - 1) * ems)
        icc1k = (bms - wms) / bms
        icc2k = (bms - ems) / (bms + (jms - ems) / n)
        icc3k = (bms - ems) / bms

        f1, df1_1, df2_1 = bms / wms, n - 1, n * (k - 1)
        f3, df1_3, df2_3 = bms / ems, n - 1, (n - 1) * (k - 1)
        p1 = stats.f.sf(f1, df1_1, df2_1)
        p3 = stats.f.sf(f3, df1_3, df2_3)
        q = 1 - alpha / 2

        # One-way: F-based limits (McGraw & Wong 1996 Table 7, case 1).
        fl1 = f1 / stats.f.ppf(q, df1_1, df2_1)
        fu1 = f1 * stats.f.ppf(q, df2_1, df1_1)
        ci1 = ((fl1 - 1) / (fl1 + k - 1), (fu1 - 1) / (fu1 + k - 1))
        ci1k = (1 - 1 / fl1, 1 - 1 / fu1)
        # Two-way mixed, consistency (case 3).
        fl3 = f3 / stats.f.ppf(q, df1_3, df2_3)
        fu3 = f3 * stats.f.ppf(q, df2_3, df1_3)
        ci3 = ((fl3 - 1) / (fl3 + k - 1), (fu3 - 1) / (fu3 + k - 1))
        ci3k = (1 - 1 / fl3, 1 - 1 / fu3)
        # Two-way random, absolute agreement (case 2A): Satterthwaite df.
        fj = jms / ems
        vn = (k - 1) * (n - 1) * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
        vd = (n - 1) * k**2 * icc2**2 * fj**2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
        v = vn / vd
        f_up = stats.f.ppf(q, n - 1, v)
        f_low = stats.f.ppf(q, v, n - 1)
        spread = k * jms + (k * n - k - n) * ems
        ci2 = (
            n * (bms - f_up * ems) / (f_up * spread + n * bms),
            n * (f_low * bms - ems) / (spread + n * f_low * bms),
        )
        ci2k = tuple(k * lim / (1 + (k - 1) * lim) for lim in ci2)

    estimates = {
        "ICC(1,1)": (icc1, f1, df1_1, df2_1, p1, ci1),
        "ICC(2,1)": (icc2, f3, df1_3, df2_3, p3, ci2),
        "ICC(3,1)": (icc3, f3, df1_3, df2_3, p3, ci3),
        "ICC(1,k)": (icc1k, f1, df1_1, df2_1, p1, ci1k),
        "ICC(2,k)": (icc2k, f3, df1_3, df2_3, p3, ci2k),
        "ICC(3,k)": (icc3k, f3, df1_3, df2_3, p3, ci3k),
    }
    rows = [
        {
            "form": form,
            "mcgraw_wong": ICC_FORMS[form][0],
            "description": ICC_FORMS[form][1],
            "icc": float(value),
            "F": float(f),
            "df1": float(d1),
            "df2": float(d2),
            "p": float(p),
            "method": "F test",
            "ci_low": float(ci[0]),
            "ci_high": float(ci[1]),
            "n": n,
            "k": k,
        }
        for form, (value, f, d1, d2, p, ci) in estimates.items()
    ]
    out = result_frame(
        rows,
        {
            "method": "Shrout & Fleiss 1979 six forms",
            "ci": f"two-sided {100 * (1 - alpha):g}% F-based (McGraw & Wong 1996); ICC(2,1) with "
            "Satterthwaite df; ICC(2,k) limits = Spearman-Brown of ICC(2,1) limits (psych::ICC)",
            "confidence": confidence,
            "missing": missing,
            "targets_dropped": dropped,
            "raters": [str(r) for r in rater_labels],
            "satterthwaite_df": float(v),
        },
    )
    out.attrs["anova"] = ms
    return out


def _pair_differences(
    data: pd.DataFrame,
    targets: str | Sequence[str],
    raters: str,
    ratings: str,
    pair: tuple[Any, Any] | None,
    missing: Missing,
) -> tuple[np.ndarray, tuple[Any, Any], int]:
    """Rater-a minus rater-b differences over the targets both rated."""
    if pair is not None:
        data = data[data[raters].isin(list(pair))]
    matrix, _, labels, dropped = _rating_matrix(data, targets, raters, ratings, missing)
    if len(labels) != 2:
        problems = ProblemCollector("invalid ratings")
        problems.add(
            "-", raters, labels, "needs exactly two raters; pass pair=(a, b) to choose two of them"
        )
        problems.raise_if_any()
    first, second = pair if pair is not None else (labels[0], labels[1])
    a, b = labels.index(first), labels.index(second)
    return matrix[:, a] - matrix[:, b], (first, second), dropped


def bland_altman(
    data: pd.DataFrame,
    targets: str | Sequence[str],
    raters: str,
    ratings: str,
    *,
    pair: tuple[Any, Any] | None = None,
    multiplier: float = 1.96,
    missing: Missing = "raise",
) -> pd.DataFrame:
    """Bland-Altman bias and limits of agreement between two raters (or methods).

    The difference is ``pair[0] - pair[1]`` (default: the raters in order of first appearance).
    Limits are ``bias -/+ multiplier * SD(difference)`` (SD with n - 1); Bland & Altman (1986) used
    2, most later work 1.96.

    Returns
    -------
    DataFrame
        One row: ``rater_a``, ``rater_b``, ``n``, ``bias``, ``sd_diff``, ``loa_low``, ``loa_high``,
        ``multiplier``.
    """
    check_range("multiplier", multiplier, 0.0, np.inf)
    d, (first, second), dropped = _pair_differences(data, targets, raters, ratings, pair, missing)
    bias, sd = float(d.mean()), float(d.std(ddof=1))
    row = {
        "rater_a": first,
        "rater_b": second,
        "n": d.size,
        "bias": bias,
        "sd_diff": sd,
        "loa_low": bias - multiplier * sd,
        "loa_high": bias + multiplier * sd,
        "multiplier": multiplier,
    }
    conventions = {
        "difference": f"{first} - {second}",
        "limits": f"bias -/+ {multiplier:g} x SD of the differences (Bland & Altman 1986)",
        "missing": missing,
        "targets_dropped": dropped,
    }
    return result_frame(row, conventions)


def sdc(
    data: pd.DataFrame,
    targets: str | Sequence[str],
    raters: str,
    ratings: str,
    *,
    method: SdcMethod = "bruynesteyn",
    k: int = 1,
    multiplier: float = 1.96,
    pair: tuple[Any, Any] | None = None,
    scale_max: float | None = None,
    missing: Missing = "raise",
) -> pd.DataFrame:
    """Smallest detectable change, with the formula variant named in the result.

    Parameters
    ----------
    method : {"bruynesteyn", "loa", "sem_anova"}
        ``"bruynesteyn"``: ratings are two raters' *change* scores;
        ``SDC = multiplier * SD(d) / (sqrt(2) * sqrt(k))`` (Bruynesteyn et al. 2005; sources differ on the
        sqrt(k) term, hence the explicit ``k`` and this variant's name in every output).
        ``"loa"``: ``multiplier * SD(d)``, the limit-of-agreement half-width (Lassere 2001 "SDD").
        ``"sem_anova"``: ratings are *status* scores from two or more raters;
        ``SDC = multiplier * sqrt(2) * sqrt(EMS / k)`` (de Vet et al. 2006, J Clin Epidemiol 59:1033-1039).
    k : int
        Number of readers whose scores are averaged in the analysed score (1 = single reader).
    scale_max : float, optional
        Maximum of the score, to report the SDC as a percentage of it (Haavardsholm 2007).

    Returns
    -------
    DataFrame
        One row: ``method``, ``formula``, ``n``, ``k``, ``sd_diff``, ``sem``, ``sdc``,
        ``sdc_group`` (SDC / sqrt(n)), ``sdc_pct_max``.
    """
    check_choice("method", method, tuple(SDC_FORMULAS))
    if not isinstance(k, int | np.integer) or k < 1:
        problems = ProblemCollector("invalid argument 'k'")
        problems.add("-", "k", k, "must be a whole number of readers >= 1")
        problems.raise_if_any()
    check_range("multiplier", multiplier, 0.0, np.inf)
    sd_diff = sem = np.nan
    if method == "sem_anova":
        matrix, _, _, dropped = _rating_matrix(data, targets, raters, ratings, missing)
        n = matrix.shape[0]
        sem = float(np.sqrt(anova_mean_squares(matrix)["EMS"] / k))
        value = multiplier * np.sqrt(2) * sem
    else:
        d, _, dropped = _pair_differences(data, targets, raters, ratings, pair, missing)
        n = d.size
        sd_diff = float(d.std(ddof=1))
        value = multiplier * sd_diff
        if method == "bruynesteyn":
            value /= np.sqrt(2) * np.sqrt(k)
    row = {
        "method": method,
        "formula": SDC_FORMULAS[method].replace("z", f"{multiplier:g}", 1),
        "n": n,
        "k": int(k),
        "sd_diff": sd_diff,
        "sem": sem,
        "sdc": float(value),
        "sdc_group": float(value / np.sqrt(n)),
        "sdc_pct_max": float(100 * value / scale_max) if scale_max else np.nan,
    }
    return result_frame(
        row, {"method": method, "k": int(k), "missing": missing, "targets_dropped": dropped}
    )


def srm(
    data: pd.DataFrame,
    change: str,
    *,
    by: str | Sequence[str] | None = None,
    missing: Missing = "raise",
) -> pd.DataFrame:
    """Standardised response mean, ``mean(change) / SD(change)`` (SD with n - 1).

    Parameters
    ----------
    change : str
        Column of change scores (follow-up minus baseline).
    by : str or list of str, optional
        Grouping columns; one row per group.

    Returns
    -------
    DataFrame
        ``n``, ``mean``, ``sd``, ``srm`` (per group when ``by`` is given). Conventional reading
        (Cohen 1988, *Statistical Power Analysis*, 2nd ed.): < 0.2 trivial, 0.2-0.49 small, 0.5-0.79
        moderate, >= 0.8 large.
    """
    check_choice("missing", missing, ("raise", "drop"))
    by_cols = [] if by is None else _as_list(by)
    check_columns(data, [change, *by_cols], where="change data")
    values = pd.to_numeric(data[change], errors="coerce")
    problems = ProblemCollector("invalid change scores")
    raw_na = data[change].isna()
    for label in data.index[(values.isna() & ~raw_na).to_numpy()]:
        problems.add(label, change, data.at[label, change], "must be a number")
    if missing == "raise":
        for label in data.index[raw_na.to_numpy()]:
            problems.add(label, change, None, "missing; pass missing='drop' to omit")
    problems.raise_if_any()
    frame = data[by_cols].assign(_change=values.to_numpy(dtype=float, na_value=np.nan))
    frame = frame[frame["_change"].notna()]
    if by_cols:
        agg = frame.groupby(by_cols, observed=True, sort=True)["_change"].agg(
            ["count", "mean", "std"]
        )
        agg = agg.reset_index()
    else:
        ch = frame["_change"]
        agg = pd.DataFrame({"count": [ch.count()], "mean": [ch.mean()], "std": [ch.std(ddof=1)]})
    agg = agg.rename(columns={"count": "n", "std": "sd"})
    with np.errstate(divide="ignore", invalid="ignore"):
        agg["srm"] = agg["mean"] / agg["sd"]
    agg.attrs["conventions"] = {
        "srm": "mean(change) / SD(change), SD with n - 1",
        "missing": missing,
        "records_dropped": int(raw_na.sum()) if missing == "drop" else 0,
    }
    return agg
