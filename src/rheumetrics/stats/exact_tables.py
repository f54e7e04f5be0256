"""Exact conditional p-values for r x c tables by the network algorithm.

All tables with the observed row and column margins are reached column by column through a
network whose nodes are the remaining row margins (Mehta & Patel 1983, *J Am Stat Assoc*
78:427-434, doi:10.1080/01621459.1983.10477989). An edge adds one column; its probability is
a multivariate hypergeometric step, so a path's probability is the product along it, and the
test statistic (additive over columns) is the sum of the edges' shares.

Three devices keep the work small, none of them an approximation:

* *Node merging.* When the statistic does not change if rows are swapped, nodes keep their
  margins sorted, so that all nodes with the same multiset of remaining margins are one node
  (Mehta & Patel 1983).
* *Path bounds.* The shortest and longest remaining path of every node are computed exactly by
  one backward pass (the extreme completions of a node; Mehta & Patel 1983; Joe 1988,
  *Commun Stat Theory Methods* 17:3677-3685). Going forward, the past paths of a node are kept
  sorted by statistic, so that those whose every completion is at least as extreme as the
  observed table (their whole probability joins the p-value) and those none of whose
  completions can reach it (dropped) are found by binary search per edge; only the rest are
  expanded, and past paths at the same node with the same statistic are merged.
* *Meeting in the middle.* For the last columns the complete distribution of the remaining
  statistic is built backwards for every node (values merged, sorted, with suffix sums) as
  long as it fits in ``max_nodes`` entries. Undecided forward paths that reach those nodes
  are finished by a binary search instead of being expanded further.

The result is exact, not a resample.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations

import numpy as np
from scipy.special import gammaln

from rheumetrics.errors import ProblemCollector

#: Default ceiling on network nodes, undecided paths or stored completions held at once
#: (memory about 100 bytes each).
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
    """Distinct rows of a non-negative integer matrix (sorted) and each row's index among them.

    Rows are packed into one integer (mixed radix) so that a 1-D ``np.unique`` does the work
    (``np.unique(axis=0)`` is several times slower); when the packed range is small, a dense
    lookup array replaces the sort.
    """
    bases = rows.max(axis=0).astype(np.int64) + 1 if rows.size else np.ones(rows.shape[1], np.int64)
    size = float(np.prod(bases.astype(float)))
    if size >= 2.0**62:
        uniq, inverse = np.unique(rows, axis=0, return_inverse=True)
        return uniq, inverse.ravel()
    weights = np.concatenate([np.cumprod(bases[::-1])[::-1][1:], [1]])
    packed = rows @ weights
    if size <= max(2**22, 4 * rows.shape[0]):
        seen = np.zeros(int(size), bool)
        seen[packed] = True
        index = np.cumsum(seen) - 1
        where = np.empty(int(size), np.int64)
        where[packed] = np.arange(packed.size)
        return rows[where[seen]], index[packed]
    keys, inverse = np.unique(packed, return_inverse=True)
    return (keys[:, None] // weights) % bases, inverse.ravel()


def _refuse(table: np.ndarray, what: str, limit: int) -> None:
    problems = ProblemCollector("exact test")
    problems.add(
        "-",
        "table",
        table.tolist(),
        f"needs more than {limit:,} {what}; use the Monte Carlo method",
    )
    problems.raise_if_any()


def _sort_columns(columns: list[np.ndarray]) -> list[np.ndarray]:
    """Sort across the arrays element-wise (a bubble network of np.minimum / np.maximum)."""
    cols = list(columns)
    for end in range(len(cols) - 1, 0, -1):
        for i in range(end):
            cols[i], cols[i + 1] = (
                np.minimum(cols[i], cols[i + 1]),
                np.maximum(cols[i], cols[i + 1]),
            )
    return cols


def _network(
    table: np.ndarray, column_stat: ColumnStat, symmetric_rows: bool, max_nodes: int
) -> list[dict[str, np.ndarray]]:
    """Stages of the network: per column, the edges (parent, child, share, log step probability),
    sorted by parent, and each child node's shortest and longest remaining path."""
    cols = table.sum(axis=0)
    nodes = table.sum(axis=1)[None, :]
    log_fact = gammaln(np.arange(int(table.sum()) + 1, dtype=float) + 1)
    stages = []
    for j, total in enumerate(cols):
        cand = column_vectors(int(total), nodes.max(axis=0))
        share = column_stat(j, cand)
        fits = np.ones((nodes.shape[0], cand.shape[0]), bool)
        for i in range(nodes.shape[1]):  # one 2-D pass per row beats a 3-D reduction
            fits &= cand[None, :, i] <= nodes[:, i, None]
        # np.nonzero walks row-major, so the edges come out sorted by parent
        parent, which = np.nonzero(fits)
        if parent.size > 4 * max_nodes:
            _refuse(table, "network edges", 4 * max_nodes)
        # remaining margins of each edge's child, one 1-D array per row (sorted across rows when
        # rows are exchangeable: a compare-exchange network on whole columns)
        left = [nodes[parent, i] - cand[which, i] for i in range(nodes.shape[1])]
        if symmetric_rows:
            left = _sort_columns(left)
        children, child = _unique_rows(np.stack(left, axis=1))
        # multivariate hypergeometric step prod C(rest_i, a_i) / C(sum rest, total): the sums of
        # log factorials split into a part per parent, per candidate and per child
        n_rest = int(nodes[0].sum())
        log_step = (
            log_fact[nodes].sum(axis=1)[parent]
            - log_fact[cand].sum(axis=1)[which]
            - log_fact[children].sum(axis=1)[child]
            - log_fact[n_rest]
            + log_fact[int(total)]
            + log_fact[n_rest - int(total)]
        )
        if children.shape[0] > max_nodes:
            _refuse(table, "network nodes", max_nodes)
        first = np.flatnonzero(np.r_[True, parent[1:] != parent[:-1]])
        stages.append(
            {
                "parent": parent,
                "first": first,
                "child": child.ravel(),
                "share": share[which],
                "log": log_step,
            }
        )
        nodes = children
    shortest, longest = np.zeros(1), np.zeros(1)
    for stage in reversed(stages):
        stage["child_shortest"], stage["child_longest"] = shortest, longest
        shortest = np.minimum.reduceat(stage["share"] + shortest[stage["child"]], stage["first"])
        longest = np.maximum.reduceat(stage["share"] + longest[stage["child"]], stage["first"])
    return stages


def _levels(values: np.ndarray, quantum: float) -> np.ndarray:
    """Non-negative integer levels of ``values``: equal levels are merged as equal values."""
    level = np.round(values / quantum).astype(np.int64)
    return level - level.min() if level.size else level


def _completions(
    stages: list[dict[str, np.ndarray]], quantum: float, budget: int
) -> tuple[int, dict[str, np.ndarray]]:
    """Distribution of the remaining statistic at the nodes before the earliest stage it fits.

    Returns that stage's index and the completions (``node``, ``value``) sorted by node then
    value, with ``start[n]:start[n + 1]`` the completions of node ``n`` and ``suffix`` the
    reversed cumulative sum of their probabilities: completions ``i`` to the end of node ``n``
    hold ``suffix[i] - suffix[start[n + 1]]``.
    """
    node: np.ndarray = np.zeros(1, np.int64)
    value: np.ndarray = np.zeros(1)
    mass: np.ndarray = np.ones(1)
    start: np.ndarray = np.array([0, 1])  # completions of node n are start[n]:start[n + 1]
    at = len(stages)
    for index in range(len(stages) - 1, -1, -1):
        stage = stages[index]
        per = np.diff(start)[stage["child"]]
        if int(per.sum()) > budget:
            break
        edge = np.repeat(np.arange(per.size), per)
        offset = np.arange(edge.size) - np.repeat(np.cumsum(per) - per, per)
        pick = start[stage["child"]][edge] + offset
        new_value = stage["share"][edge] + value[pick]
        new_mass = np.exp(stage["log"][edge]) * mass[pick]
        key = np.stack([stage["parent"][edge], _levels(new_value, quantum)], axis=1)
        uniq, inverse = _unique_rows(key)
        node = np.asarray(uniq[:, 0], dtype=np.int64)
        mass = np.bincount(inverse, weights=new_mass, minlength=uniq.shape[0])
        value = np.full(uniq.shape[0], np.inf)
        np.minimum.at(value, inverse, new_value)
        start = np.searchsorted(node, np.arange(int(node[-1]) + 2))
        at = index
    suffix = np.concatenate([np.cumsum(mass[::-1])[::-1], [0.0]])
    return at, {"node": node, "value": value, "start": start, "suffix": suffix}


def _finish(
    node: np.ndarray, need: np.ndarray, mass: np.ndarray, done: dict[str, np.ndarray]
) -> float:
    """Sum over paths of mass x P(remaining statistic >= need) from their node, by binary search."""
    # completions and queries sorted together by (node, value); a query sorts before a
    # completion of equal value, so that value >= need counts
    n_done = done["node"].size
    keys_node = np.concatenate([done["node"], node])
    keys_value = np.concatenate([done["value"], need])
    kind = np.concatenate([np.ones(n_done, np.int8), np.zeros(node.size, np.int8)])
    order = np.lexsort((kind, keys_value, keys_node))
    is_query = order >= n_done
    # completions sorted before each position
    before: np.ndarray = np.cumsum(~is_query) - ~is_query
    query = order[is_query] - n_done
    first: np.ndarray = before[is_query]
    end = done["start"][node[query] + 1]
    return float((mass[query] * (done["suffix"][first] - done["suffix"][end])).sum())


def _expand(
    stage: dict[str, np.ndarray], node: np.ndarray, level: np.ndarray, quantum: float, target: float
) -> tuple[np.ndarray, ...]:
    """Every edge leaving a node that holds past paths, with the index range of those paths
    that it decides (``surely``: all completions at least as extreme) and leaves open.

    Past paths of a node are kept sorted by statistic, so both ranges are found by binary
    search: a decided path costs nothing beyond its edge.
    """
    seg_first = np.flatnonzero(np.r_[True, node[1:] != node[:-1]])
    seg_size = np.diff(np.r_[seg_first, node.size])
    active = node[seg_first]
    first = stage["first"]
    per = np.diff(np.r_[first, stage["parent"].size])[active]
    owner = np.repeat(np.arange(active.size), per)
    edge = np.repeat(first[active] - (np.cumsum(per) - per), per) + np.arange(int(per.sum()))
    child = stage["child"][edge]
    share = stage["share"][edge]
    distinct = np.unique(level)
    width = distinct.size + 1
    key = np.repeat(np.arange(active.size), seg_size) * width + np.searchsorted(distinct, level)

    def start_of(threshold: np.ndarray) -> np.ndarray:
        lowest = np.searchsorted(distinct, np.round(threshold / quantum).astype(np.int64))
        return np.searchsorted(key, owner * width + lowest)

    surely_from = start_of(target - share - stage["child_shortest"][child])
    open_from = start_of(target - share - stage["child_longest"][child])
    end = np.r_[seg_first[1:], node.size][owner]
    return edge, child, share, open_from, surely_from, end


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
    Past statistics closer than ``tolerance / 16`` are merged. A table whose network (or set
    of undecided paths) exceeds ``max_nodes`` is refused.
    """
    table = np.asarray(table, dtype=np.int64)
    observed = float(sum(column_stat(j, table[:, j][None, :])[0] for j in range(table.shape[1])))
    target = observed - tolerance
    quantum = tolerance / 16
    stages = _network(table, column_stat, symmetric_rows, max_nodes)
    meet, done = _completions(stages, quantum, max_nodes)
    # past paths: node, statistic level, statistic, probability; sorted by (node, level)
    node: np.ndarray = np.zeros(1, np.int64)
    level: np.ndarray = np.zeros(1, np.int64)
    partial: np.ndarray = np.zeros(1)
    mass: np.ndarray = np.ones(1)
    p = 0.0
    for stage in stages[:meet]:
        edge, child, share, open_from, surely_from, end = _expand(
            stage, node, level, quantum, target
        )
        step = np.exp(stage["log"][edge])
        suffix = np.r_[np.cumsum(mass[::-1])[::-1], 0.0]
        p += float((step * (suffix[surely_from] - suffix[end])).sum())
        n_open = surely_from - open_from
        keep = np.flatnonzero(n_open)
        if keep.size == 0:
            return min(p, 1.0)
        n_open = n_open[keep]
        which = np.repeat(keep, n_open)
        past = np.repeat(open_from[keep] - (np.cumsum(n_open) - n_open), n_open) + np.arange(
            int(n_open.sum())
        )
        new_partial = partial[past] + share[which]
        new_level = np.round(new_partial / quantum).astype(np.int64)
        uniq, inverse = _unique_rows(np.stack([child[which], new_level - new_level.min()], axis=1))
        if uniq.shape[0] > max_nodes:
            _refuse(table, "undecided paths", max_nodes)
        node = np.asarray(uniq[:, 0], dtype=np.int64)
        level = uniq[:, 1] + new_level.min()
        mass = np.bincount(inverse, weights=mass[past] * step[which], minlength=uniq.shape[0])
        partial = np.full(uniq.shape[0], -np.inf)
        np.maximum.at(partial, inverse, new_partial)
    p += _finish(node, target - partial, mass, done)
    return min(p, 1.0)


def fisher_statistic(j: int, cand: np.ndarray) -> np.ndarray:
    """Column share of sum(log a_ij!): tables no more probable than another have a larger sum.

    With fixed margins the probability of a table falls as sum(log a_ij!) rises (Fisher 1935).
    """
    return np.asarray(gammaln(cand + 1).sum(axis=1))
