"""Where out-of-core work runs: in this process, on a local Dask cluster, or on an existing one.

Small inputs run in this process (Dask's synchronous scheduler: no start-up cost). Inputs above
:data:`LOCAL_CLUSTER_ABOVE` rows start a :class:`distributed.LocalCluster` of worker processes
(one thread each), so a partition's memory is freed with its task and the cores work in parallel;
``scheduler="tcp://host:8786"`` connects to a running cluster instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import dask

#: Rows above which a local cluster is started when no scheduler is given.
LOCAL_CLUSTER_ABOVE = 5_000_000


@contextmanager
def execution(
    n_rows: int,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    memory_limit: str | None = None,
    threshold: int = LOCAL_CLUSTER_ABOVE,
) -> Iterator[dict[str, Any]]:
    """Context in which ``dask.compute`` runs the work; yields a description of where.

    Parameters
    ----------
    n_rows
        Size of the input, to decide between this process and a local cluster.
    scheduler
        Address of a running Dask scheduler (``tcp://host:port``), or ``"local"`` to force a local
        cluster, or ``"synchronous"`` to force this process.
    workers
        Worker processes of a local cluster (default: the cores, at most 4).
    memory_limit
        Per-worker memory limit of a local cluster (Dask spills, then pauses, above it).
    """
    if scheduler == "synchronous" or (scheduler is None and n_rows <= threshold):
        with dask.config.set(scheduler="synchronous"):
            yield {"scheduler": "synchronous", "workers": 1}
        return
    from distributed import Client, LocalCluster

    if scheduler not in (None, "local"):
        with Client(scheduler) as client:
            n = len(client.scheduler_info().get("workers", {}))
            yield {"scheduler": scheduler, "workers": n}
        return
    n_workers = workers or max(1, min(os.cpu_count() or 1, 4))
    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=":0",  # any free port: no clash with other clusters
            memory_limit=memory_limit or "auto",
        ) as cluster,
        Client(cluster) as client,
    ):
        yield {"scheduler": client.scheduler.address, "workers": n_workers}


def compute_all(tasks: Sequence[Any], progress: Callable[[int], None] | None = None) -> list[Any]:
    """Results of Dask ``tasks`` in order, calling ``progress(done)`` as each one finishes.

    On a cluster (the client of :func:`execution`) the tasks run in parallel and are counted as
    they complete; in this process they run one after the other.
    """
    note = progress or (lambda _done: None)
    if dask.config.get("scheduler", None) != "synchronous":
        try:
            from distributed import as_completed, get_client

            client = get_client()
        except (ImportError, ValueError):
            client = None
        if client is not None:
            futures = client.compute(list(tasks))
            for done, _ in enumerate(as_completed(futures), start=1):
                note(done)
            return list(client.gather(futures))
    results = []
    for done, task in enumerate(tasks, start=1):
        results.append(dask.compute(task)[0])
        note(done)
    return results
