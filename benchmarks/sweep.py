"""Size sweeps shared by the benchmarks: three sizes, CPU and wall time, growth exponents.

Every benchmark runs its work at three sizes and prints, per tool, the growth exponent ``b`` of
``cost ~ size^b``: the least-squares slope of log cost on log size over all sizes (1 = linear;
n log n shows as a little above 1; fixed costs pull it below 1 at small sizes). Times are taken
as CPU seconds of this process (``time.process_time``, all threads) beside wall seconds, and the
load average is printed with them: the machine is shared, and CPU time moves less with its load.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import resource
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np


class Timing(NamedTuple):
    """Wall and CPU seconds of one call."""

    wall: float
    cpu: float


def three_sizes(top: int) -> list[int]:
    """The sweep ending at ``top``: a quarter, a half and all of it."""
    return [max(1, top // 4), max(1, top // 2), top]


def timed(fn: Callable[[], Any]) -> Timing:
    """Wall and CPU seconds of ``fn()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return Timing(time.perf_counter() - wall, time.process_time() - cpu)


def best_of(fn: Callable[[], Any], repeat: int) -> Timing:
    """The smallest wall and the smallest CPU time over ``repeat`` calls."""
    runs = [timed(fn) for _ in range(repeat)]
    return Timing(min(r.wall for r in runs), min(r.cpu for r in runs))


def _rss_kb() -> int:
    with open("/proc/self/statm") as f:  # resident pages
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def _child(fn: Callable[[], Any], conn: Any) -> None:
    start = _rss_kb()
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    conn.send((Timing(wall, cpu), max(peak - start, 0) * 1024.0, result))
    conn.close()


def forked(fn: Callable[[], Any]) -> tuple[Timing, float, Any]:
    """Wall and CPU seconds, peak resident bytes above the start, and the result of ``fn()``
    run in a forked child process (so each run's peak memory is its own; the result must pickle).
    """
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(fn, child))
    proc.start()
    out = parent.recv()
    proc.join()
    return out  # type: ignore[no-any-return]


def exponent(sizes: Sequence[float], costs: Sequence[float]) -> float:
    """Slope of log cost on log size (NaN with fewer than two usable points)."""
    pairs = [(s, c) for s, c in zip(sizes, costs, strict=True) if s > 0 and c > 0]
    if len(pairs) < 2:
        return math.nan
    x, y = np.log([p[0] for p in pairs]), np.log([p[1] for p in pairs])
    return float(np.polyfit(x, y, 1)[0])


def load() -> str:
    """The 1-minute load average and the core count, for printing beside figures."""
    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def print_growth(
    sizes: Sequence[float], costs: dict[str, Sequence[float]], what: str = "time"
) -> None:
    """One line per tool: the growth exponent of ``what`` over ``sizes``."""
    print(f"growth exponent of {what} over sizes {', '.join(f'{s:,.0f}' for s in sizes)}:")
    width = max(map(len, costs), default=0)
    for name, values in costs.items():
        print(f"  {name:<{width}}  {exponent(sizes, values):5.2f}")
