"""In-silico trial throughput: batched engine calls vs one call per replicate, growth with the
batch, and 1 vs 2 workers.

Prints, on one core, patient-visits simulated per CPU second when the engine decides every
patient of a batch of replicates in one call per visit round, at three batch sizes (a quarter, a
half and all of ``--sweep-replicates``), beside the same work done the naive way (one engine call
per replicate, as a loop over trials would do) as a ratio, runs interleaved; the growth exponents
of CPU time and of peak traced memory over the three sizes (1 is linear); then the wall time of
``--replicates`` replicates of an IMAGINE-RA trial (both arms, ``--patients`` per arm, 24 months)
on a local Dask cluster of 1 and of 2 worker processes, and the speed-up. The load average is
printed beside every figure: the machine is shared.

    .venv/bin/python benchmarks/sim.py                     # 1,000 replicates, 86 patients per arm
    .venv/bin/python benchmarks/sim.py --replicates 100    # quicker
    .venv/bin/python benchmarks/sim.py --sweep-replicates 160 --replicates 0   # the sweep only
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import tracemalloc

from rheumetrics.sim import imagine_arms, load_parameters, run_arm, simulate
from sweep import best_of, load, print_growth, three_sizes, timed


def peak_traced(fn) -> float:  # type: ignore[no-untyped-def]
    """Peak bytes allocated while ``fn()`` runs (traced, so timed apart)."""
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return float(peak)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--replicates", type=int, default=1000, help="cluster run (0: skip it)")
    ap.add_argument("--patients", type=int, default=86, help="patients per arm (86 + 86 = 172)")
    ap.add_argument("--sweep-replicates", type=int, default=40, help="top batch of the sweep")
    ap.add_argument("--per-replicate", type=int, default=4,
                    help="replicates run one call each, scaled to the batch")  # fmt: skip
    args = ap.parse_args()
    base = load_parameters()
    data = base.model_dump()
    data["population"]["imagine_ra"]["patients_per_arm"] = args.patients
    p = type(base).model_validate(data)
    pop = p.population["imagine_ra"]
    visits_per_patient = pop.months // pop.visit_every_months + 1
    arm = imagine_arms()[1]
    run_arm(arm, p, 1, [0])  # warm up: imports and the strategy load

    sizes = three_sizes(args.sweep_replicates)
    print(f"one core, MRI arm, {args.patients} patients x {visits_per_patient} visits per "
          f"replicate; {load()}")  # fmt: skip
    print(f"{'replicates':>10} {'patient-visits':>15} {'way':<24} {'wall s':>8} {'CPU s':>8} "
          f"{'p-visits/CPU s':>15} {'ratio':>6}  (ratio: batched CPU / the way's CPU)")  # fmt: skip
    cpu: dict[str, list[float]] = {"batched": [], "one call per replicate": []}
    memory: list[float] = []
    for size in sizes:
        reps = list(range(size))
        k = min(args.per_replicate, size)
        ways = {
            "batched": lambda reps=reps: run_arm(arm, p, 1, reps),
            # k replicates one call each, scaled to the batch (time is linear in the calls)
            "one call per replicate": lambda reps=reps, k=k: [
                run_arm(arm, p, 1, [r]) for r in reps[:k]
            ],
        }
        scale = {"batched": 1.0, "one call per replicate": size / k}
        best = {name: best_of(fn, 1) for name, fn in ways.items()}
        for name in reversed(list(ways)):  # second, interleaved round in the other order
            t = timed(ways[name])
            best[name] = type(t)(min(best[name].wall, t.wall), min(best[name].cpu, t.cpu))
        pv = size * args.patients * visits_per_patient
        ours = best["batched"].cpu
        for name, t in best.items():
            wall, c = t.wall * scale[name], t.cpu * scale[name]
            cpu[name].append(c)
            print(f"{size:>10,} {pv:>15,} {name:<24} {wall:8.2f} {c:8.2f} {pv / c:15,.0f} "
                  f"{ours / c:6.2f}")  # fmt: skip
        memory.append(peak_traced(ways["batched"]))
        print(f"{'':>10} peak traced memory of the batched run {memory[-1] / 2**20:,.1f} MiB; "
              f"{load()}")  # fmt: skip
    print_growth(sizes, cpu, "CPU time")
    print_growth(sizes, {"batched": memory}, "peak memory")

    if args.replicates <= 0:
        return
    times = {}
    for workers in (1, 2):
        before_load = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        simulate(imagine_arms(), p, replicates=args.replicates, seed=2019, workers=workers)
        times[workers] = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        used = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        print(
            f"{args.replicates} replicates, both arms, {workers} worker(s): {times[workers]:.1f} s"
            f" wall, {used:.1f} s worker CPU (load average {before_load:.2f} -> "
            f"{os.getloadavg()[0]:.2f})"
        )
    print(
        f"speed-up 1 -> 2 workers: {times[1] / times[2]:.2f} x (target: 1,000 replicates < 300 s)"
    )


if __name__ == "__main__":
    main()
