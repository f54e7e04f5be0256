"""Build synthetic samples whose published summary figures come out exactly.

Clinical papers print a sample as ``median (min, max)`` per group and overall. To make a
synthetic cohort that reproduces such a table, :func:`pin_groups` builds every group's sorted
values at once: the minimum, median and maximum of each group and the median of all groups
together are *pinned* to the published values, and the other values are drawn between their
pinned neighbours. Each value carries the interval it may move in without changing any pinned
figure, so a later search (:func:`anneal`) may swap values between records of a group or nudge
free values to meet figures that couple several variables (sums, changes, correlations).

This is a generator for example data, not a statistic: nothing here is used for analysis.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from rheumetrics.numeric import round_display


@dataclass(frozen=True)
class Summary:
    """A published ``median (min, max)`` of ``n`` values, printed at ``digits`` decimals."""

    n: int
    median: float
    low: float
    high: float


@dataclass
class Pinned:
    """One group's values in ascending order with the interval each may move in."""

    values: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


def _shows_as(value: float, digits: int, published: float) -> bool:
    return float(round_display(value, digits)) == published


def grid_value(published: float, step: float, digits: int) -> float:
    """The multiple of ``step`` nearest ``published`` that prints as ``published``."""
    k0 = round(published / step)
    for k in sorted(range(k0 - 4, k0 + 5), key=lambda k: abs(k * step - published)):
        if _shows_as(k * step, digits, published):
            return k * step
    raise ValueError(f"no multiple of {step} prints as {published} at {digits} decimals")


def median_pair(published: float, n: int, step: float, digits: int) -> tuple[float, float]:
    """Middle value(s) on the grid whose median prints as ``published``."""
    if n % 2:
        v = grid_value(published, step, digits)
        return v, v
    mid = grid_value(published, step / 2, digits)
    if abs(mid / step - round(mid / step)) < 1e-9:
        return mid, mid
    return mid - step / 2, mid + step / 2


def _pin(pinned: np.ndarray, pos: int, value: float) -> bool:
    """Pin ``value`` at ``pos``; False when another value is pinned there already."""
    if not np.isnan(pinned[pos]) and pinned[pos] != value:
        return False
    pinned[pos] = value
    return True


def _latent(
    rng: np.random.Generator, n: int, low: float, mid: float, high: float, shape: float = 1.0
) -> np.ndarray:
    """Sorted latent values through (low, mid, high); ``shape`` != 1 bends each half (values
    crowd towards the median when above 1, towards the extremes when below)."""
    u = np.sort(rng.uniform(size=n))
    if shape != 1.0:
        lower = u < 0.5
        dist = np.abs(2 * u - 1) ** shape
        u = np.where(lower, 0.5 - 0.5 * dist, 0.5 + 0.5 * dist)
    return np.interp(u, [0.0, 0.5, 1.0], [low, mid, high])


def _cross_swaps(rng: np.random.Generator, seq: np.ndarray, k: int) -> None:
    """Exchange the groups of ``k`` pairs of sorted positions, one in each half, in place: the
    groups' shares above the overall median move (one direction per call)."""
    half = seq.size // 2
    first, second = (int(g) for g in rng.permutation(np.unique(seq))[:2])
    for _ in range(k):
        low = np.flatnonzero(seq[:half] == first)
        high = half + np.flatnonzero(seq[half:] == second)
        if not low.size or not high.size:
            return
        i, j = int(rng.choice(low)), int(rng.choice(high))
        seq[i], seq[j] = seq[j], seq[i]


def median_test_p(*groups: np.ndarray) -> float:
    """p of the median two-sample test of SAS NPAR1WAY MEDIAN (median scores averaged over tied
    values, permutation chi-square on k - 1 df). For the generator's search only; the report
    computes it with :func:`rheumetrics.stats.median_test` (``ties="mean"``)."""
    from scipy.special import gammaincc

    xs = [g[~np.isnan(g)] for g in groups]
    x = np.concatenate(xs)
    n = x.size
    values, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    ordinary = (np.arange(1, n + 1) > (n + 1) / 2).astype(float)
    block = np.bincount(np.repeat(np.arange(values.size), counts), weights=ordinary) / counts
    scores = block[inverse]
    mean = scores.mean()
    spread = float(((scores - mean) ** 2).sum())
    if spread == 0:
        return 1.0
    edges = np.cumsum([0, *(g.size for g in xs)])
    chi2 = sum(
        (b - a) * (scores[a:b].mean() - mean) ** 2 for a, b in itertools.pairwise(edges) if b > a
    )
    return float(gammaincc((len(xs) - 1) / 2, (n - 1) * chi2 / spread / 2))


def p_cost(p: float, target: float, digits: int) -> float:
    """0 when ``p`` prints as ``target`` at ``digits`` decimals, else its log distance."""
    if float(round_display(p, digits)) == target:
        return 0.0
    return 1.0 + 10 * abs(np.log(max(p, 1e-12)) - np.log(max(target, 10.0**-digits / 2)))


def pin_groups(
    rng: np.random.Generator,
    groups: Mapping[str, Summary],
    total_median: float,
    *,
    step: float,
    digits: int,
    require: Mapping[str, Sequence[float]] | None = None,
    accept: Callable[[dict[str, Pinned]], float] | None = None,
    split_median: bool = False,
    tries: int = 2000,
) -> dict[str, Pinned]:
    """Sorted values per group with every published minimum, median and maximum exact.

    The groups' values are interleaved by a random draw through each group's published
    quantiles; the pinned values are then placed and the free ones drawn between their
    pinned neighbours, so that the median of all groups together is ``total_median`` too.
    ``require`` names further values a group must contain (published single records); they
    are pinned where a free value may take them. ``accept`` is a cost of the result that is 0
    when a further figure holds (e.g. a published p-value of a test comparing the groups):
    draws with latent values bent in varying shapes and groups exchanged across the overall
    median are tried (``tries`` times over) until it is 0, else the cheapest is returned.
    ``split_median`` pins the two middle values of an even total one step either side of the
    median, so that no run of ties crosses it (values later moved by less than half a step,
    such as scores solved from their components, then keep their median-test scores).
    """
    names = list(groups)
    sizes = [groups[g].n for g in names]
    total = sum(sizes)
    targets = {
        g: (
            grid_value(s.low, step, digits),
            median_pair(s.median, s.n, step, digits),
            grid_value(s.high, step, digits),
        )
        for g, s in groups.items()
    }
    t_lo, t_hi = median_pair(total_median, total, step, digits)
    if split_median and total % 2 == 0 and t_lo == t_hi:  # no tie across the overall median
        t_lo, t_hi = t_lo - step, t_hi + step
    best: tuple[float, dict[str, Pinned]] | None = None
    for attempt in range(tries if accept is None else 10 * tries):
        shapes = (np.exp(rng.normal(0, 0.6, len(names))) if accept is not None and attempt
                  else np.ones(len(names)))  # fmt: skip
        latent = np.concatenate(
            [
                _latent(rng, s.n, t[0], t[1][0], t[2], shape)
                for s, t, shape in zip(groups.values(), targets.values(), shapes, strict=True)
            ]
        )
        label = np.repeat(np.arange(len(names)), sizes)
        rank = np.concatenate([np.arange(n) for n in sizes])
        order = np.lexsort((rng.uniform(size=total), latent))
        pinned = np.full(total, np.nan)
        ok = True
        pin = partial(_pin, pinned)
        position = np.empty(total, dtype=int)
        position[order] = np.arange(total)
        seq = label[order]  # the group at each sorted position
        if accept is not None and attempt:
            _cross_swaps(rng, seq, int(rng.integers(0, 1 + total // 5)))
            for gi in range(len(names)):
                position[label == gi] = np.flatnonzero(seq == gi)
        for gi, g in enumerate(names):
            low, (m1, m2), high = targets[g]
            n = sizes[gi]
            at = {int(r): int(position[(label == gi) & (rank == r)][0]) for r in range(n)}
            ok &= pin(at[0], low) and pin(at[n - 1], high)
            if n % 2:
                ok &= pin(at[n // 2], m1)
            else:
                ok &= pin(at[n // 2 - 1], m1) and pin(at[n // 2], m2)
        if total % 2:
            ok &= pin(total // 2, t_lo)
        else:
            ok &= pin(total // 2 - 1, t_lo) and pin(total // 2, t_hi)
        fixed = np.flatnonzero(~np.isnan(pinned))
        if not ok or np.any(np.diff(pinned[fixed]) < 0) or fixed[0] != 0 or fixed[-1] != total - 1:
            continue
        values = pinned.copy()
        lo = pinned.copy()
        hi = pinned.copy()
        sorted_latent = latent[order]
        for a, b in itertools.pairwise(fixed):
            if b - a < 2:
                continue
            va, vb = pinned[a], pinned[b]
            draw = np.clip(np.round(sorted_latent[a + 1 : b] / step) * step, va, vb)
            values[a + 1 : b] = np.sort(draw)
            lo[a + 1 : b], hi[a + 1 : b] = va, vb
        missing = False
        for g, wanted in (require or {}).items():
            gi = names.index(g)
            for value in wanted:
                spots = np.flatnonzero((seq == gi) & (lo < hi) & (lo <= value) & (hi >= value))
                if spots.size == 0:
                    missing = True
                    break
                values[spots[0]] = lo[spots[0]] = hi[spots[0]] = value
        if missing:
            continue
        out = {}
        for gi, g in enumerate(names):
            pos = position[label == gi]
            out[g] = Pinned(values[pos], lo[pos], hi[pos])
        if accept is not None:
            cost = accept(out)
            if best is None or cost < best[0]:
                best = (cost, out)
            if cost > 0:
                continue
        return out
    if best is not None:
        return best[1]
    raise RuntimeError(f"could not interleave the published figures of {names}")


# -- search over records ------------------------------------------------------------------


@dataclass
class Variable:
    """Values of one variable per record (NaN where not measured), movable within groups."""

    values: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    step: float
    groups: list[np.ndarray]
    frozen: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def __post_init__(self) -> None:
        if self.frozen.size == 0:
            self.frozen = np.zeros(self.values.size, dtype=bool)
        self._refresh()

    def freeze(self, i: int) -> None:
        """Keep record ``i`` at its current value."""
        self.frozen[i] = True
        self._refresh()

    def swap(self, i: int, j: int) -> None:
        """Exchange two records' values and intervals."""
        for arr in (self.values, self.lo, self.hi):
            arr[i], arr[j] = arr[j], arr[i]

    def _refresh(self) -> None:
        self.groups = [g[~self.frozen[g]] for g in self.groups if (~self.frozen[g]).sum() > 1]
        self.movable = np.flatnonzero(~self.frozen & ~np.isnan(self.values))
        self.nudges = bool(np.any(self.hi[self.movable] > self.lo[self.movable]))


@dataclass(frozen=True)
class Term:
    """A cost that is zero when a published figure is met; ``uses`` names its variables."""

    name: str
    uses: tuple[str, ...]
    cost: Callable[[Mapping[str, np.ndarray]], float]


def place(values: Sequence[Pinned], index: Sequence[np.ndarray], size: int) -> Variable:
    """Scatter pinned groups onto record positions (a random permutation is the caller's)."""
    v = np.full(size, np.nan)
    lo = np.full(size, np.nan)
    hi = np.full(size, np.nan)
    for p, idx in zip(values, index, strict=True):
        v[idx], lo[idx], hi[idx] = p.values, p.lo, p.hi
    return Variable(v, lo, hi, 1.0, [np.asarray(i) for i in index])


def anneal(
    variables: dict[str, Variable],
    terms: Sequence[Term],
    rng: np.random.Generator,
    *,
    iterations: int = 400_000,
    t_start: float = 2.0,
    t_end: float = 0.02,
    keep: Sequence[Term] = (),
) -> float:
    """Simulated annealing of swaps and nudges until every term costs zero; returns the cost left.

    Swaps exchange two records' values (and their intervals) within a group, so every pinned
    figure of that variable stays exact; nudges move a free value by one step within its
    interval. A move that raises the cost of a term in ``keep`` is never taken: figures met
    before the search stay met (the cost returned is that of ``terms`` and ``keep`` together).
    """
    names_kept = {t.name for t in keep}
    terms = [*keep, *(t for t in terms if t.name not in names_kept)]
    hard = np.arange(len(terms)) < len(keep)
    state = {k: v.values for k, v in variables.items()}
    by_var = {k: [i for i, t in enumerate(terms) if k in t.uses] for k in variables}
    costs = np.array([t.cost(state) for t in terms])
    names = [k for k in variables if by_var[k]]
    decay = (t_end / t_start) ** (1.0 / iterations)
    temp = t_start
    for _ in range(iterations):
        if costs.sum() < 1e-9:
            break
        temp *= decay
        name = names[rng.integers(len(names))]
        var = variables[name]
        vals = var.values
        if var.nudges and (rng.uniform() < 0.4 or not var.groups):
            i = j = int(var.movable[rng.integers(var.movable.size)])
            old = vals[i]
            jump = var.step * rng.geometric(0.5) * (1 if rng.uniform() < 0.5 else -1)
            new = min(max(old + jump, var.lo[i]), var.hi[i])
            if new == old:
                continue
            vals[i] = new
        else:
            g = var.groups[rng.integers(len(var.groups))]
            i, j = (int(x) for x in rng.choice(g, size=2, replace=False))
            if vals[i] == vals[j]:
                continue
            var.swap(i, j)
        touched = by_var[name]
        new_costs = np.array([terms[k].cost(state) for k in touched])
        delta = new_costs.sum() - costs[touched].sum()
        kept = hard[touched]
        if np.any(new_costs[kept] > costs[touched][kept] + 1e-12):
            delta = np.inf
        if delta <= 0 or rng.uniform() < np.exp(-delta / temp):
            costs[touched] = new_costs
        elif i == j:
            vals[i] = old
        else:
            var.swap(i, j)
    return float(costs.sum())


def order_cost(values: np.ndarray, target: tuple[float, float, float]) -> float:
    """|min - low| + |median - median| + |max - high| of the non-missing values."""
    x = values[~np.isnan(values)]
    low, mid, high = target
    return abs(x.min() - low) + abs(float(np.median(x)) - mid) + abs(x.max() - high)


def median_cost(values: np.ndarray, target: float) -> float:
    x = values[~np.isnan(values)]
    return abs(float(np.median(x)) - target)
