"""``rheumetrics imaging`` (scores from reads) and ``rheumetrics agreement`` (reader agreement)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import typer
from rich.box import SIMPLE
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from rheumetrics.clitools import (
    PROGRESS_MIN_ROWS,
    console,
    print_frame,
    print_json,
    report_problems,
    to_terminal,
)
from rheumetrics.errors import RheumetricsError, ValidationError
from rheumetrics.imaging.change import change_scores, classify_change, mean_change
from rheumetrics.imaging.reads import read_reads, validate_reads
from rheumetrics.imaging.reliability import reader_agreement
from rheumetrics.imaging.scores import reader_mean, score_reads
from rheumetrics.imaging.states import imaging_states
from rheumetrics.io import write_table


@contextmanager
def _stages(n_rows: int) -> Iterator[Callable[[str], None]]:
    """Report the current stage (read, validate, score...) on large inputs."""
    if n_rows < PROGRESS_MIN_ROWS:
        yield lambda text: None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(f"{n_rows:,} reads", total=None)
        yield lambda text: bar.update(task, description=f"{n_rows:,} reads: {text}")


def _load(path: Path, problems: Path | None) -> pd.DataFrame:
    try:
        raw = read_reads(path)
        with _stages(len(raw)) as stage:
            stage("validating")
            valid = validate_reads(raw, source=str(path))
            stage("scoring")
            scores = score_reads(valid)
    except ValidationError as err:
        located = [dataclasses.replace(p, source=p.source or str(path)) for p in err.problems]
        report_problems(ValidationError(located, err.context), problems)
        raise typer.Exit(code=1) from None
    except RheumetricsError as err:
        console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(code=1) from None
    return scores


def imaging_command(
    reads: Path = typer.Argument(..., help="Read records (.csv, .xlsx or .parquet)."),
    out: Path = typer.Option(
        None, "--out", "-o", help="Per-read scores table (default: the terminal, CSV or --json)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Per-read scores as JSON on the terminal."),
    means: Path = typer.Option(None, "--means", help="Reader-mean scores per time point."),
    states: Path = typer.Option(None, "--states", help="Imaging states of the reader means."),
    change: Path = typer.Option(
        None, "--change", help="Change scores (needs --baseline/--followup)."
    ),
    baseline: str = typer.Option(None, help="Baseline time point label."),
    followup: str = typer.Option(None, help="Follow-up time point label."),
    rule: list[str] = typer.Option(
        None, "--rule", help="Progression/repair rule id(s) from rules.toml, e.g. prog_gt_0_5."
    ),
    sdc: float = typer.Option(None, help="SDC for the prog_gt_sdc / prog_ge_sdc rules."),
    mcid: float = typer.Option(None, help="MCID for the prog_ge_mcid rule."),
    problems: Path = typer.Option(None, help="Write every problem found to this CSV."),
) -> None:
    """Score imaging reads: feature totals and subsets per read, reader means, states, change.

    The conventions used are written next to OUT as OUT.conventions.json.
    """
    if change is not None and (baseline is None or followup is None):
        raise typer.BadParameter("--change needs --baseline and --followup")
    scores = _load(reads, problems)
    conventions: dict[str, object] = dict(scores.attrs["conventions"])
    try:
        if to_terminal(out):
            print_frame(scores, as_json)
        else:
            write_table(scores, out)
        mean = reader_mean(scores)
        if means is not None:
            write_table(mean, means)
        if states is not None:
            found = imaging_states(mean)
            conventions["states"] = found.attrs["conventions"]["states"]
            write_table(found, states)
        if change is not None:
            per_reader = change_scores(scores, baseline, followup)
            averaged = mean_change(per_reader).assign(reader="mean")
            both = pd.concat([per_reader, averaged], ignore_index=True)
            if rule:
                both = classify_change(both, rule, sdc=sdc, mcid=mcid)
                conventions["rules"] = both.attrs["conventions"]["rules"]
            conventions["change"] = per_reader.attrs["conventions"]["change"]
            write_table(both, change)
    except ValidationError as err:
        report_problems(err, problems)
        raise typer.Exit(code=1) from None
    except RheumetricsError as err:
        console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(code=1) from None
    if to_terminal(out):
        return
    Path(f"{out}.conventions.json").write_text(
        json.dumps(conventions, indent=2, default=str, ensure_ascii=False) + "\n"
    )
    console.print(f"scored {scores.shape[0]:,} score rows -> {out}")


def _fmt(x: float | None, digits: int = 3) -> str:
    return "NA" if x is None or pd.isna(x) else f"{float(x):.{digits}f}"


def agreement_command(
    reads: Path = typer.Argument(..., help="Read records with two or more readers (or sessions)."),
    between: str = typer.Option(
        "reader", help="'reader' (inter-reader) or 'session' (intra-reader)."
    ),
    baseline: str = typer.Option(None, help="Baseline time point, for change-score agreement."),
    followup: str = typer.Option(None, help="Follow-up time point, for change-score agreement."),
    subset: str = typer.Option("all", help="Site subset to analyse."),
    confidence: float = typer.Option(
        0.95, min=0.5, max=0.999, help="Level of the two-sided ICC confidence intervals."
    ),
    sdc_k: int = typer.Option(1, "--sdc-k", help="Readers averaged in the analysed score (SDC k)."),
    out: Path = typer.Option(None, "--out", "-o", help="Write all report tables to one table."),
    problems: Path = typer.Option(None, help="Write every problem found to this CSV."),
    as_json: bool = typer.Option(
        False, "--json", help="Print the report tables as JSON (table name -> records)."
    ),
) -> None:
    """Reader agreement report: ICC (six Shrout-Fleiss forms), SDC, Bland-Altman, SRM."""
    if between not in ("reader", "session"):
        raise typer.BadParameter("--between must be 'reader' or 'session'")
    scores = _load(reads, problems)
    try:
        report = reader_agreement(
            scores,
            raters="reader" if between == "reader" else "session",
            baseline=baseline,
            followup=followup,
            subset=subset,
            confidence=confidence,
            sdc_k=sdc_k,
        )
    except ValidationError as err:
        report_problems(err, problems)
        raise typer.Exit(code=1) from None
    if as_json:
        print_json({name: json.loads(f.to_json(orient="records")) for name, f in report.items()})
    else:
        _print_report(report, confidence)
    if out is not None:
        tables = [f.assign(table=name) for name, f in report.items() if not f.empty]
        write_table(pd.concat(tables, ignore_index=True), out)
        console.print(f"report written to {out}")


def _measure(r: object, previous: list[str], extra: str = "") -> str:
    """``system feature (score)`` on the first row of its group only (80-column tables)."""
    label = f"{r.system} {r.feature} ({r.score_type}{extra})"  # type: ignore[attr-defined]
    shown = "" if previous and previous[-1] == label else label
    previous.append(label)
    return shown


def _print_report(report: dict[str, pd.DataFrame], confidence: float) -> None:
    icc_rows = report["icc"]
    if not icc_rows.empty:
        table = Table(
            title=f"ICC (Shrout & Fleiss 1979), {100 * confidence:g}% CI",
            box=SIMPLE,
            pad_edge=False,
        )
        table.add_column("measure", overflow="fold", min_width=15)
        for col in ("form", "ICC", "CI", "F", "df", "p", "n"):
            table.add_column(col, no_wrap=True, justify="left" if col == "form" else "right")
        seen: list[str] = []
        for r in icc_rows.itertuples():
            table.add_row(
                _measure(r, seen, f", k={r.k}"), str(r.form), _fmt(r.icc),
                f"{_fmt(r.ci_low, 2)}-{_fmt(r.ci_high, 2)}", _fmt(r.stat, 1),
                f"{r.df1:g},{r.df2:g}", f"{r.p:.2g}", str(r.n),
            )  # fmt: skip
        console.print(table)
    sdc_rows = report["sdc"]
    if not sdc_rows.empty:
        table = Table(
            title="Smallest detectable change (variant named)", box=SIMPLE, pad_edge=False
        )
        table.add_column("measure", overflow="fold", min_width=15)
        for col in ("method", "SDC", "% max", "n", "k"):
            table.add_column(col, no_wrap=True, justify="left" if col == "method" else "right")
        table.add_column("formula", overflow="fold", ratio=1)
        seen = []
        for r in sdc_rows.itertuples():
            table.add_row(
                _measure(r, seen), str(r.method), _fmt(r.sdc), _fmt(r.sdc_pct_max, 1),
                str(r.n), str(r.k), str(r.formula),
            )  # fmt: skip
        console.print(table)
    ba_rows = report["bland_altman"]
    if not ba_rows.empty:
        table = Table(title="Bland-Altman bias and limits of agreement", box=SIMPLE, pad_edge=False)
        table.add_column("measure", overflow="fold", min_width=15)
        for col in ("difference", "bias", "LoA", "n"):
            table.add_column(col, no_wrap=col != "difference", overflow="fold",
                             justify="left" if col == "difference" else "right")  # fmt: skip
        seen = []
        for r in ba_rows.itertuples():
            table.add_row(
                _measure(r, seen), f"{r.rater_a} - {r.rater_b}", _fmt(r.bias),
                f"{_fmt(r.loa_low)} to {_fmt(r.loa_high)}", str(r.n),
            )  # fmt: skip
        console.print(table)
    srm_rows = report["srm"]
    if not srm_rows.empty:
        table = Table(title="Standardised response mean (change)")
        for col in ("system", "feature", "rater", "mean change", "SD", "SRM", "n"):
            table.add_column(col)
        rater_col = srm_rows.attrs["conventions"]["raters"]
        for r in srm_rows.to_dict("records"):
            table.add_row(
                str(r["system"]), str(r["feature"]), str(r[rater_col]), _fmt(r["mean"]),
                _fmt(r["sd"]), _fmt(r["srm"]), str(r["n"]),
            )  # fmt: skip
        console.print(table)
    if not report["skipped"].empty:
        console.print("[yellow]not computed:[/yellow]")
        for r in report["skipped"].to_dict("records"):
            console.print(
                f"  {r['system']} {r['feature']} {r['score_type']} {r['statistic']}: {r['reason']}"
            )
