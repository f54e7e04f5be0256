"""Replicates of a trial in parallel on Dask, with results that do not depend on the workers.

Replicates are cut into fixed batches (``batch`` replicates each; the engine decides a whole batch's
visits in one call per visit round). Each replicate draws from its own random stream spawned from
the seed (:mod:`rheumetrics.sim.streams`), so a seed gives identical results on one worker, two
workers or none. By default a local cluster of processes is started (``dask.distributed``
``LocalCluster``); pass ``scheduler`` to use an existing cluster, or ``workers=0`` to run in this
process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from rheumetrics.sim.parameters import Parameters
from rheumetrics.sim.trial import Arm, check_arm, run_arm


@dataclass
class TrialResult:
    """Per-replicate outcome shares and treatment sequences of every arm."""

    arms: tuple[Arm, ...]
    shares: pd.DataFrame  # arm, replicate, outcome shares
    sequences: pd.DataFrame  # arm, replicate, patient, sequence
    seed: int

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """Mean and central ``level`` interval over replicates of each outcome, per arm."""
        long = self.shares.melt(
            id_vars=["arm", "replicate"], var_name="outcome", value_name="share"
        )
        q = (1 - level) / 2
        g = long.groupby(["arm", "outcome"], sort=False)["share"]
        out = pd.DataFrame({"mean": g.mean(), "low": g.quantile(q), "high": g.quantile(1 - q)})
        return out.reset_index()


def _batch(
    arm: Arm, number: int, p: Parameters, seed: int, reps: list[int]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    shares, seqs = run_arm(arm, p, seed, reps, arm_number=number)
    shares.insert(0, "arm", arm.name)
    seqs.insert(0, "arm", arm.name)
    return shares, seqs


def simulate(
    arms: Sequence[Arm],
    p: Parameters,
    *,
    replicates: int,
    seed: int,
    batch: int = 25,
    workers: int = 2,
    scheduler: str | None = None,
) -> TrialResult:
    """Run every arm for ``replicates`` replicates; see the module docstring for parallelism."""
    for arm in arms:
        check_arm(arm, p)
    tasks = [
        (arm, i, list(range(lo, min(lo + batch, replicates))))
        for i, arm in enumerate(arms)
        for lo in range(0, replicates, batch)
    ]
    if scheduler is None and workers == 0:
        parts = [_batch(arm, i, p, seed, reps) for arm, i, reps in tasks]
    else:
        from distributed import Client, LocalCluster

        if scheduler is not None:
            client = Client(scheduler)
            cluster = None
        else:
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=":0",
            )
            client = Client(cluster)
        try:
            futures = [
                client.submit(_batch, arm, i, p, seed, reps, pure=False) for arm, i, reps in tasks
            ]
            parts = client.gather(futures)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    shares = pd.concat([s for s, _ in parts], ignore_index=True)
    seqs = pd.concat([q for _, q in parts], ignore_index=True)
    return TrialResult(tuple(arms), shares, seqs, seed)
