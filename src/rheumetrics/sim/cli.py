"""``rheumetrics simulate`` (an in-silico trial) and ``rheumetrics calibrate`` (fit to anchors)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from rheumetrics.clitools import console, print_json
from rheumetrics.errors import RheumetricsError


def simulate_command(
    arms: list[str] = typer.Option(
        None,
        "--arm",
        help="Shipped strategy of an arm, with options as strategy:name=value (repeat for each"
        " arm; default: the arms of the population's anchors, e.g. the two IMAGINE-RA arms).",
    ),
    population: str = typer.Option(
        "imagine_ra", help="Entry population: imagine_ra, early_ra, ticospa or taser."
    ),
    patients: int = typer.Option(
        None, min=1, help="Patients per arm (default: the population's trial size)."
    ),
    months: int = typer.Option(
        None, min=1, max=120, help="Follow-up in months (default: the trial's)."
    ),
    replicates: int = typer.Option(200, min=1, help="Replicates of the whole trial."),
    seed: int = typer.Option(
        2019, help="Seed; the same seed gives the same result on any number of workers."
    ),
    adherence: float = typer.Option(
        1.0, min=0.0, max=1.0, help="Share of recommendations followed."
    ),
    parameters: Path = typer.Option(
        None, help="Parameter file (default: the shipped calibrated one)."
    ),
    workers: int = typer.Option(
        2, min=0, help="Local Dask worker processes (0: run in this process)."
    ),
    scheduler: str = typer.Option(None, help="Address of an existing Dask scheduler."),
    out: Path = typer.Option(Path("simulation.html"), "--out", "-o", help="HTML report."),
    table: Path = typer.Option(None, help="Also write the per-replicate outcome shares (CSV)."),
    as_json: bool = typer.Option(
        False, "--json", help="Print the arm summary (and calibration table) as JSON."
    ),
) -> None:
    """Run virtual patients through the treat-to-target engine under each arm's strategy."""
    from rheumetrics.sim.calibration import calibration_table, trial_arms
    from rheumetrics.sim.parameters import load_parameters
    from rheumetrics.sim.replicates import simulate
    from rheumetrics.sim.report import write_report
    from rheumetrics.sim.trial import Arm

    try:
        p = load_parameters(parameters)
        if population not in p.population:
            raise RheumetricsError(
                f"unknown population {population!r}; known: {', '.join(p.population)}"
            )
        pop = p.population[population]
        changes = {
            k: v for k, v in (("patients_per_arm", patients), ("months", months)) if v is not None
        }
        if changes:
            data = p.model_dump()
            data["population"][population].update(changes)
            p = type(p).model_validate(data)
            pop = p.population[population]
        if not arms:
            if population not in p.anchors:
                raise RheumetricsError(f"population {population!r} has no anchors: name --arm")
            arms = [a.name for a in trial_arms(p, population)]
        chosen = [Arm.parse(a, population, adherence) for a in arms]
        with console.status(f"simulating {replicates} replicates x {len(chosen)} arms"):
            result = simulate(
                chosen, p, replicates=replicates, seed=seed, workers=workers, scheduler=scheduler
            )
        calib = calibration_table(result, p, population) if population in p.anchors else None
        meta = {
            "population": f"{population}: {pop.description}",
            "arms": ", ".join(arms),
            "patients_per_arm": pop.patients_per_arm,
            "months": pop.months,
            "visit_every_months": ", ".join(f"{a.name}: {pop.visit_every(a.name)}" for a in chosen),
            "replicates": replicates,
            "seed": seed,
            "adherence": adherence,
            "parameters": str(parameters) if parameters else "shipped (calibrated)",
        }
        every = {a.name: pop.visit_every(a.name) for a in chosen}
        write_report(result, calib, meta, every, list(p.ladders[pop.ladder]), out)
        if table is not None:
            result.shares.to_csv(table, index=False)
    except RheumetricsError as err:
        console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(code=1) from None
    if as_json:
        print_json(
            {
                "summary": json.loads(result.summary().to_json(orient="records")),
                "calibration": None
                if calib is None
                else json.loads(calib.to_json(orient="records")),
                "report": str(out),
            }
        )
        return
    console.print(result.summary().round(3).to_string(index=False))
    console.print(f"report written to {out}")


def calibrate_command(
    out: Path = typer.Option(..., "--out", "-o", help="Calibrated parameter file to write (TOML)."),
    parameters: Path = typer.Option(
        None, help="Starting parameter file (default: the shipped one)."
    ),
    replicates: int = typer.Option(
        8, min=1, help="Replicates per evaluation (common random numbers)."
    ),
    max_evaluations: int = typer.Option(80, min=1, help="Largest number of objective evaluations."),
    seed: int = typer.Option(2019, help="Seed of the common random numbers."),
    population: str = typer.Option(
        "imagine_ra", help="Population whose anchors to fit (its parameters' fitted_to)."
    ),
) -> None:
    """Fit the parameters marked ``calibrated`` to a population's calibration anchors."""
    from rheumetrics.sim.calibration import calibrate
    from rheumetrics.sim.parameters import load_parameters, write_parameters

    try:
        p = load_parameters(parameters)
        with console.status("calibrating"):
            fit = calibrate(
                p,
                replicates=replicates,
                max_evaluations=max_evaluations,
                seed=seed,
                trial=population,
            )
        write_parameters(fit.parameters, out, fit, start=parameters)
    except RheumetricsError as err:
        console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(code=1) from None
    for name, value in fit.values.items():
        console.print(f"{name} = {value:.4g}")
    console.print(
        f"objective {fit.objective:.3g} after {fit.evaluations} evaluations"
        f" ({'converged' if fit.converged else 'stopped at the evaluation limit'}); written to {out}"
    )
