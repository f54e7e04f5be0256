"""In-silico trial throughput: batched engine calls vs one call per patient, and 1 vs 2 workers.

Prints patient-visits simulated per second on one core (the engine decides every patient of a
batch of replicates in one call per visit round), the same work done the naive way (one engine call
per replicate, as a loop over trials would do) as a ratio, the wall time of ``--replicates``
replicates of an IMAGINE-RA trial (both arms, ``--patients`` per arm, 24 months) on a local Dask
cluster of 1 and of 2 worker processes, and the speed-up.

    .venv/bin/python benchmarks/sim.py                     # 1,000 replicates, 86 patients per arm
    .venv/bin/python benchmarks/sim.py --replicates 100    # quicker
"""

from __future__ import annotations

import argparse
import os
import resource
import time

from rheumetrics.sim import imagine_arms, load_parameters, run_arm, simulate


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--replicates", type=int, default=1000)
    ap.add_argument("--patients", type=int, default=86, help="patients per arm (86 + 86 = 172)")
    args = ap.parse_args()
    base = load_parameters()
    data = base.model_dump()
    data["population"]["imagine_ra"]["patients_per_arm"] = args.patients
    p = type(base).model_validate(data)
    pop = p.population["imagine_ra"]
    visits_per_patient = pop.months // pop.visit_every_months + 1
    arm = imagine_arms()[1]

    reps = list(range(20))
    t0, c0 = time.perf_counter(), time.process_time()
    run_arm(arm, p, 1, reps)
    batched = time.perf_counter() - t0
    batched_cpu = time.process_time() - c0
    t0 = time.perf_counter()
    for r in reps[:5]:
        run_arm(arm, p, 1, [r])
    single = (time.perf_counter() - t0) / 5 * len(reps)
    pv = len(reps) * args.patients * visits_per_patient
    print(
        f"one core, {len(reps)} replicates x {args.patients} patients x {visits_per_patient} visits (MRI arm):"
    )
    print(
        f"  batched engine calls:      {pv / batched:10,.0f} patient-visits/s ({batched:.2f} s wall,"
        f" {batched_cpu:.2f} s CPU: {pv / batched_cpu:,.0f} per CPU second)"
    )
    print(
        f"  one call per replicate:    {pv / single:10,.0f} patient-visits/s ({single:.2f} s, extrapolated from 5)"
    )
    print(f"  ratio batched / per-replicate: {single / batched:.1f} x")

    times = {}
    for workers in (1, 2):
        load = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        simulate(imagine_arms(), p, replicates=args.replicates, seed=2019, workers=workers)
        times[workers] = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        print(
            f"{args.replicates} replicates, both arms, {workers} worker(s): {times[workers]:.1f} s"
            f" wall, {cpu:.1f} s worker CPU (load average {load:.2f} -> {os.getloadavg()[0]:.2f})"
        )
    print(
        f"speed-up 1 -> 2 workers: {times[1] / times[2]:.2f} x (target: 1,000 replicates < 300 s)"
    )


if __name__ == "__main__":
    main()
