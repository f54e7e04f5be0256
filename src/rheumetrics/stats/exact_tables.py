"""Exact conditional p-values for r x c tables by the network algorithm.

All tables with the observed row and column margins are reached column by column through a
network whose nodes are the remaining row margins (Mehta & Patel 1983, *J Am Stat Assoc*
78:427-434, doi:10.1080/01621459.1983.10477989). A node carries the probability of every
table completed through it (a product of multivariate hypergeometric steps) and the part of
the test statistic already fixed. Before each step, a path whose every completion is at
least as extreme as the observed table adds its whole probability to the p-value, and a
path none of whose completions can reach it is dropped; the shortest and longest remaining
paths of every node are computed exactly by a backward pass over the network. The others
are expanded. Nodes with the same margins and statistic are merged.
The result is exact, not a resample.

The statistic must be additive over columns (Pearson's chi-square for the median test, or
minus the log probability of the table for Fisher's test).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations
from typing import Any

import numpy as np
from scipy.special import gammaln

from rheumetrics.errors import ProblemCollector

#: Default ceiling on the number of network nodes held at once (memory about 100 bytes each).
MAX_NODES = 2_000_000

ColumnStat = Callable[[int, np.ndarray], np.ndarray]

__all__ = ["MAX_NODES", "column_vectors", "fisher_statistic", "network_p"]


def column_vectors(total: int, caps: np.ndarray) -> np.ndarray:
    """Every vector of ``len(caps)`` non-negative integers summing to ``total``, each <= its cap."""
    r = caps.size
    if r == 1:
        return np.array([[total]]) if total <= caps[0] else np.zeros((0, 1), np.int64)
    # stars and bars: choose r - 1 bar positions among total + r - 1 slots
    bars = np.array(list(combinations(range(total + r - 1), r - 1)), dtype=np.int64).reshape(
        -1, r - 1
    )
    edges = np.hstack(
        [np.full((bars.shape[0], 1), -1), bars, np.full((bars.shape[0], 1), total + r - 1)]
    )
    parts = np.diff(edges, axis=1) - 1
    return parts[(parts <= caps).all(axis=1)]


def _unique_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a non-negative integer matrix and each row's index among them.

    Rows are packed into one integer (mixed radix) so that a 1-D ``np.unique`` does the work;
    ``np.unique(axis=0)`` is several times slower.
    """
    bases = rows.max(axis=0).astype(np.int64) + 1 if rows.size else np.ones(rows.shape[1], np.int64)
    if float(np.prod(bases.astype(float))) >= 2.0**62:
        uniq, inverse = np.unique(rows, axis=0, return_inverse=True)
        return uniq, inverse.ravel()
    weights = np.concatenate([np.cumprod(bases[::-1])[::-1][1:], [1]])
    _, first, inverse = np.unique(rows @ weights, return_index=True, return_inverse=True)
    return rows[first], inverse.ravel()


def _log_choose(n: np.ndarray, k: np.ndarray) -> np.ndarray:
    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)


def _network(
    table: np.ndarray, column_stat: ColumnStat, symmetric_rows: bool, max_nodes: int
) -> list[dict[str, np.ndarray]]:
    """Stages of the network: per column, the edges (parent, child, share, log step probability)
    and each child node's shortest and longest remaining path (exact, by backward recursion)."""
    cols = table.sum(axis=0)
    nodes = table.sum(axis=1)[None, :]
    stages = []
    for j, total in enumerate(cols):
        cand = column_vectors(int(total), nodes.max(axis=0))
        share = column_stat(j, cand)
        parent, which = np.nonzero((cand[None, :, :] <= nodes[:, None, :]).all(axis=2))
        left = nodes[parent] - cand[which]
        if symmetric_rows:
            left = np.sort(left, axis=1)
        children, child = _unique_rows(left)
        if children.shape[0] > max_nodes:
            problems = ProblemCollector("exact test")
            problems.add(
                "-",
                "table",
                table.tolist(),
                f"needs more than {max_nodes:,} network nodes; use the Monte Carlo method",
            )
            problems.raise_if_any()
        rest = nodes[parent]
        log_step = _log_choose(rest, cand[which]).sum(axis=1) - _log_choose(
            rest.sum(axis=1), np.full(parent.size, total)
        )
        stages.append(
            {"parent": parent, "child": child.ravel(), "share": share[which], "log": log_step}
        )
        nodes = children
    shortest, longest = np.zeros(1), np.zeros(1)
    for stage in reversed(stages):
        n_parents = int(stage["parent"].max()) + 1
        low = np.full(n_parents, np.inf)
        high = np.full(n_parents, -np.inf)
        np.minimum.at(low, stage["parent"], stage["share"] + shortest[stage["child"]])
        np.maximum.at(high, stage["parent"], stage["share"] + longest[stage["child"]])
        stage["child_shortest"], stage["child_longest"] = shortest, longest
        shortest, longest = low, high
    return stages


def network_p(
    table: np.ndarray,
    column_stat: ColumnStat,
    *,
    tolerance: float,
    max_nodes: int = MAX_NODES,
    symmetric_rows: bool = False,
) -> float:
    """P(statistic >= observed - tolerance) over all tables with the margins of ``table``.

    ``column_stat(j, A)`` gives the statistic's share of column ``j`` for each row of ``A``
    (candidate columns). When the statistic does not change if rows are swapped
    (``symmetric_rows``), nodes keep their margins sorted, so that equivalent nodes merge.
    A table whose network (or set of undecided paths) exceeds ``max_nodes`` is refused.
    """
    table = np.asarray(table, dtype=np.int64)
    observed = float(sum(column_stat(j, table[:, j][None, :])[0] for j in range(table.shape[1])))
    target = observed - tolerance
    stages = _network(table, column_stat, symmetric_rows, max_nodes)
    scale = max(1.0, abs(observed))
    node: Any = np.zeros(1, np.int64)
    partial: Any = np.zeros(1)
    mass: Any = np.ones(1)
    p = 0.0
    for stage in stages:
        order = np.argsort(stage["parent"], kind="stable")
        counts = np.bincount(stage["parent"], minlength=int(node.max()) + 1)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        per = counts[node]
        pair = np.repeat(np.arange(node.size), per)
        edge = order[np.repeat(starts[node] - np.concatenate([[0], np.cumsum(per)[:-1]]), per)
                     + np.arange(per.sum())]  # fmt: skip
        child = stage["child"][edge]
        new_partial = partial[pair] + stage["share"][edge]
        new_mass = mass[pair] * np.exp(stage["log"][edge])
        surely = new_partial + stage["child_shortest"][child] >= target
        p += float(new_mass[surely].sum())
        open_ = ~surely & (new_partial + stage["child_longest"][child] >= target)
        child, new_partial, new_mass = child[open_], new_partial[open_], new_mass[open_]
        if child.size == 0:
            break
        _, level = np.unique(np.round(new_partial / scale * 1e9), return_inverse=True)
        key = np.stack([child, level.ravel()], axis=1)
        uniq, inverse = _unique_rows(key)
        if uniq.shape[0] > max_nodes:
            problems = ProblemCollector("exact test")
            problems.add("-", "table", table.tolist(), "too many undecided paths; use Monte Carlo")
            problems.raise_if_any()
        node = np.asarray(uniq[:, 0], dtype=np.int64)
        mass = np.bincount(inverse, weights=new_mass)
        partial = np.full(uniq.shape[0], -np.inf)
        np.maximum.at(partial, inverse, new_partial)
    return min(p, 1.0)


def fisher_statistic(j: int, cand: np.ndarray) -> np.ndarray:
    """Column share of sum(log a_ij!): tables no more probable than another have a larger sum.

    With fixed margins the probability of a table falls as sum(log a_ij!) rises (Fisher 1935).
    """
    return np.asarray(gammaln(cand + 1).sum(axis=1))
