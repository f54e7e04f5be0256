"""``rheumetrics t2t`` (apply a strategy to a cohort) and ``rheumetrics strategies`` (list/explain)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table

from rheumetrics.clitools import console, print_json, report_problems, row_progress, to_terminal
from rheumetrics.errors import RheumetricsError, ValidationError
from rheumetrics.io import read_table, write_table
from rheumetrics.schema.vocab import FALSE_WORDS, TRUE_WORDS
from rheumetrics.t2t.cohort import CohortResult, apply_strategy, compare_strategies, readable
from rheumetrics.t2t.rule_terms import DURATION_FACTS, format_duration, parse_duration
from rheumetrics.t2t.strategy import Strategy
from rheumetrics.t2t.strategy_files import load_strategy, read_document, shipped_strategies
from rheumetrics.t2t.visit import VisitDecision, decide_visit


def load_inputs(
    visits_file: Path | None, therapies_file: Path | None, db: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The visits and therapies frames of a run: from files, or from the cohort store."""
    if db is not None:
        return load_store_inputs(db)
    if visits_file is None:
        raise RheumetricsError("give a visits file, or --db URL to read the cohort store")
    visits = read_table(visits_file)
    therapies = read_table(therapies_file) if therapies_file is not None else None
    return visits, therapies


def load_store_inputs(url: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Visits (with their stored scores) and therapies from the store, with each visit's MRI
    osteitis total within :data:`rheumetrics.cohort.MRI_WINDOW_DAYS` of it
    (:func:`rheumetrics.cohort.t2t_inputs`)."""
    from rheumetrics.cohort import t2t_inputs

    return t2t_inputs(url)


def _options(pairs: list[str] | None) -> dict[str, str]:
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{pair!r}: expected NAME=VALUE")
        out[key.strip()] = value.strip()
    return out


def _summary_table(results: list[CohortResult]) -> Table:
    """Labelled counts with denominators and percentages, one column per strategy."""
    names = [r.strategy.id for r in results]
    title = " vs ".join(r.strategy.name for r in results)
    table = Table(title=f"{title}: {len(results[0].log):,} visits")
    table.add_column("", style="bold", overflow="fold")
    for name in names:
        table.add_column(name, overflow="fold")
    texts = [readable(r.summary) for r in results]
    for i, label in enumerate(texts[0]["label"]):
        table.add_row(escape(label), *[escape(t["text"].iloc[i]) for t in texts])
    return table


def _summary_json(results: list[CohortResult], out: Path | None) -> dict[str, Any]:
    """The cohort run as a JSON document: per strategy, each metric with its count and text."""
    doc: dict[str, Any] = {"strategies": []}
    for r in results:
        lines = readable(r.summary).merge(r.summary[["metric", "value", "description"]])
        columns = ["metric", "label", "value", "count", "n", "text", "description"]
        doc["strategies"].append(
            {
                "id": r.strategy.id,
                "name": r.strategy.name,
                "options": dict(r.strategy.chosen),
                "visits": len(r.log),
                "summary": json.loads(lines[columns].to_json(orient="records")),
            }
        )
    doc["decision_log"] = None if out is None else str(out)
    return doc


def _value(text: str) -> object:
    """A command-line visit value: a number, yes/no, or text (a drug name)."""
    word = text.strip().casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    try:
        return float(text)
    except ValueError:
        return text.strip()


def _single_visit_input(
    input: Path | None, visit: list[str] | None, regimen: list[str] | None, date: str | None
) -> dict[str, Any] | None:
    """The single-visit request from ``--visit``/``--regimen`` or JSON on stdin (``-``), or None."""
    if input is not None and str(input) == "-":
        try:
            doc = json.loads(sys.stdin.read())
        except json.JSONDecodeError as exc:
            raise RheumetricsError(f"standard input: not valid JSON ({exc})") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("visit"), dict):
            raise RheumetricsError(
                'standard input: expected {"visit": {...}, "regimen": [...], "history": [...], '
                '"contraindications": [...], "earlier_visits": [...]}'
            )
        allowed = {
            "visit",
            "regimen",
            "history",
            "contraindications",
            "earlier_visits",
            "visit_date",
        }
        extra = sorted(set(doc) - allowed)
        if extra:
            raise RheumetricsError(
                f"standard input: unknown keys {extra}; allowed: {sorted(allowed)}"
            )
        if date:
            doc["visit_date"] = date
        return doc
    if not visit:
        return None
    values: dict[str, Any] = {}
    for pair in visit:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"--visit {pair!r}: expected NAME=VALUE (e.g. das28_crp=3.9)")
        values[key.strip()] = _value(value)
    drugs = []
    for item in regimen or []:
        name, sep, dose = item.partition("=")
        entry: dict[str, Any] = {"drug": name.strip()}
        if sep:
            amount, _, unit = dose.strip().partition(" ")
            try:
                entry["dose"] = float(amount)
            except ValueError:
                raise typer.BadParameter(
                    f"--regimen {item!r}: expected DRUG or DRUG=DOSE [UNIT] (e.g. methotrexate=25)"
                ) from None
            if unit:
                entry["dose_unit"] = unit.strip()
        drugs.append(entry)
    return {"visit": values, "regimen": drugs, "visit_date": date}


def _print_decision(d: VisitDecision, as_json: bool) -> None:
    if as_json:
        print(json.dumps(d.to_dict(), indent=2, ensure_ascii=False))
        return
    rows = [
        ("strategy", d.strategy),
        ("index", f"{d.index} {d.index_value if d.index_value is not None else 'missing'}"),
        ("target met", {True: "yes", False: "no", None: "unknown"}[d.target_met]),
        ("current step", f"{d.step or 'unknown'}: {d.regimen or 'no drugs'}"),
        ("decision", d.action + (" (provisional)" if d.provisional else "")),
        ("to step", d.to_step or ""),
        ("proposed regimen", d.to_regimen or ""),
        ("also", d.co_actions or ""),
        ("missing", d.missing or ""),
        ("next visit by", d.next_visit_date),
        ("why", d.reasons),
        ("rules considered", (d.rules_considered or "").replace("; ", "\n")),
    ]
    table = Table(title="Treat-to-target decision", show_header=False)
    table.add_column("", style="bold")
    table.add_column("", overflow="fold")
    for k, v in rows:
        if v:
            table.add_row(k, escape(str(v)))
    console.print(table)


def t2t_command(
    input: Path = typer.Argument(
        None,
        help="Visits table (.csv, .xlsx or .parquet) with score columns; '-' reads one visit as "
        "JSON on standard input; or use --db, or --visit for one visit.",
    ),
    db: str = typer.Option(
        None, "--db", help="Read visits, therapies and MRI reads from the cohort store at this URL."
    ),
    strategy: str = typer.Option(
        ..., "--strategy", "-s", help="Shipped strategy id or a strategy .toml file."
    ),
    therapies: Path = typer.Option(
        None,
        "--therapies",
        "-t",
        help="Therapies table: patient_id, drug, dose, dose_unit, route, start_date, stop_date, "
        "stop_reason (drugs and doses are checked against the drug catalogue).",
    ),
    contraindications: Path = typer.Option(
        None,
        "--contraindications",
        help="Table of patient_id, contraindication (a drug, class or mechanism such as TNF).",
    ),
    visit: list[str] = typer.Option(
        None, "--visit", help="One visit on the command line: NAME=VALUE, repeatable."
    ),
    regimen: list[str] = typer.Option(
        None,
        "--regimen",
        help="Current drug of the single visit: DRUG or DRUG=DOSE [UNIT], repeatable.",
    ),
    date: str = typer.Option(None, "--date", help="Date of the single visit (default today)."),
    as_json: bool = typer.Option(
        False,
        "--json",
        help="JSON on standard output: the single-visit decision, or the cohort summary (with the "
        "decisions too when --out is '-').",
    ),
    option: list[str] = typer.Option(
        None, "--option", help="Strategy option NAME=VALUE (see `rheumetrics strategies NAME`)."
    ),
    compare: str = typer.Option(
        None,
        "--compare",
        help="A second strategy applied to the same cohort: summaries side by side, and both "
        "strategies' decisions in the log (column 'strategy').",
    ),
    out: Path = typer.Option(
        Path("t2t_decisions.csv"),
        "--out",
        "-o",
        help="Decision log (.csv, .xlsx or .parquet); '-' writes it to standard output.",
    ),
    summary: Path = typer.Option(None, "--summary", help="Also write the summary table here."),
    event_flags_missing: str = typer.Option(
        "no_event", help="A missing intolerance flag means 'no_event' or 'unknown'."
    ),
) -> None:
    """Decide at one visit (--visit, or JSON on stdin with '-'), or apply a strategy at every
    visit of a cohort: write the decision log and print a summary."""
    try:
        chosen = load_strategy(strategy, _options(option))
        single = _single_visit_input(input, visit, regimen, date)
        if single is not None:
            decision = decide_visit(
                chosen,
                single["visit"],
                regimen=single.get("regimen") or (),
                history=single.get("history") or (),
                earlier_visits=single.get("earlier_visits") or (),
                contraindications=single.get("contraindications") or (),
                visit_date=single.get("visit_date"),
            )
            _print_decision(decision, as_json)
            return
        visits, ther = load_inputs(input, therapies, db)
        ci = read_table(contraindications) if contraindications is not None else None
        plan = [chosen] if not compare else [chosen, load_strategy(compare)]
        results = run_cohort(
            visits, plan, ther, contraindications=ci, event_flags_missing=event_flags_missing
        )
    except ValidationError as err:
        report_problems(err)
        raise typer.Exit(code=1) from None
    except (RheumetricsError, FileNotFoundError, ValueError, KeyError) as err:
        console.print(f"[red]error:[/red] {escape(str(err))}")
        raise typer.Exit(code=1) from None
    write_outputs(results, out, summary, as_json)


def run_cohort(
    visits: pd.DataFrame,
    strategies: list[Strategy],
    therapies: pd.DataFrame | None,
    **kwargs: Any,
) -> list[CohortResult]:
    """Each strategy applied once to the cohort, with a progress bar on long runs."""
    total = len(visits) * len(strategies)
    results = []
    with row_progress(total, "treat-to-target decisions") as tick:
        for k, s in enumerate(strategies):
            done = k * len(visits)
            step = None if tick is None else (lambda i, _n, d=done: tick(d + i))
            results.append(apply_strategy(visits, s, therapies, progress=step, **kwargs))
    return results


def write_outputs(
    results: list[CohortResult], out: Path, summary: Path | None, as_json: bool
) -> None:
    """The decision log (all strategies, told apart by the ``strategy`` column), the summary
    file, and the summary on the terminal (a table, or JSON with ``--json``)."""
    log = results[0].log if len(results) == 1 else pd.concat([r.log for r in results])
    if as_json and to_terminal(out):
        doc = _summary_json(results, None)
        doc["decisions"] = json.loads(log.to_json(orient="records", date_format="iso"))
        print_json(doc)
        return
    write_table(log, out)
    if summary is not None:
        table = results[0].summary
        if len(results) > 1:
            table = compare_strategies(
                pd.DataFrame(), [r.strategy for r in results], results=results
            )
        write_table(table, summary)
    if as_json:
        print_json(_summary_json(results, out))
        return
    console.print(_summary_table(results))
    if not to_terminal(out):
        console.print(f"decision log written to {out}")


_WORDS = {
    "on_bts": "on b/tsDMARD",
    "on_bts_for": "on b/tsDMARD for",
    "on_csdmard": "on csDMARD",
    "since_change": "since the last change",
    "ppf": "poor prognostic factors",
    "mri_bme": "MRI bone marrow oedema",
}


def _words(key: str) -> str:
    return _WORDS.get(key, key.replace("_", " "))


def _when_text(when: dict[str, Any], index_label: str) -> str:
    """A rule's conditions in words, durations in months or weeks
    (``since the last change < 3 months``)."""
    parts = []
    for key, v in when.items():
        name, _, bound = key.rpartition("_")
        if isinstance(v, bool):
            parts.append(f"{_words(key)}: {'yes' if v else 'no'}")
        elif name in DURATION_FACTS and bound in ("min", "max"):
            op = ">=" if bound == "min" else "<"
            parts.append(f"{_words(name)} {op} {format_duration(parse_duration(v))}")
        elif key in ("index_at_least", "index_below"):
            parts.append(f"{index_label} {'>=' if key == 'index_at_least' else '<'} {v:g}")
        elif key == "step":
            parts.append("step " + (", ".join(map(str, v)) if isinstance(v, list) else str(v)))
        elif key == "option" and isinstance(v, dict):
            parts += [f"option {k} = {x}" for k, x in v.items()]
        else:
            parts.append(f"{_words(key)}: {v}")
    return "; ".join(parts) or "always"


def _explain(s: Strategy) -> None:
    console.print(f"[bold]{s.id}[/bold]: {escape(s.name)} ({s.disease})\n{escape(s.summary)}\n")
    console.print(f"Index {s.index_label} (cut-offs {s.cutoffs}); target: {s.target_text}")
    if s.improvement:
        console.print(
            escape(
                f"Improvement since the last change: >= {s.improvement.describe()} ({s.improvement.kind}); {s.improvement.source}"
            )
        )
    t = s.timing
    sustained = format_duration(t.sustained_days) if t.sustained_days is not None else "not used"
    console.print(
        f"Visits: active every {format_duration(t.days('visit_active'))}, after a change {format_duration(t.days('visit_after_change'))}, "
        f"at target {format_duration(t.days('visit_at_target'))}, sustained {format_duration(t.days('visit_sustained'))}; "
        f"sustained = {sustained}; visit window {t.visit_window_days:g} days\n"
    )
    for name, opt in s.options.items():
        console.print(
            f"Option [bold]{name}[/bold] = "
            + escape(
                f"{s.chosen[name]} (default {opt.default}; values {', '.join(opt.values)}): {opt.description}"
            )
        )
    ladder = Table(title="Ladder")
    for col in ("step", "label", "therapy", "next", "next if PPF", "intolerance", "source"):
        ladder.add_column(col, overflow="fold")
    for st in s.ladder:
        ladder.add_row(
            st.id,
            escape(st.label),
            escape(st.therapy),
            st.next or "",
            st.next_if_ppf or "",
            st.on_intolerance or "same step",
            escape(st.source),
        )
    console.print(ladder)
    rules = Table(title="Rules (first that holds decides; co-actions add)")
    for col in ("id", "when", "action", "evidence", "source"):
        rules.add_column(col, overflow="fold")
    for r in s.rules:
        when = _when_text(r.when, s.index_label)
        action = (
            r.action
            + (f" {r.taper_class}" if r.taper_class else "")
            + (" (co-action)" if r.co_action else "")
        )
        rules.add_row(r.id, escape(when), action, r.evidence, escape(r.source))
    console.print(rules)
    console.print(escape("Sources:\n" + "\n".join(f"  - {x}" for x in s.sources)))
    if s.notes:
        console.print(escape("Notes:\n" + "\n".join(f"  - {x}" for x in s.notes)))


def strategies_command(
    name: str = typer.Argument(
        None, help="Explain this strategy (id or .toml file); omit to list all."
    ),
    option: list[str] = typer.Option(
        None, "--option", help="Option NAME=VALUE to explain the strategy with."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print the list (or the explained strategy) as JSON."
    ),
) -> None:
    """List the shipped treat-to-target strategies, or explain one in full."""
    try:
        if name:
            strategy = load_strategy(name, _options(option))
            if as_json:
                print_json(strategy.model_dump(mode="json"))
            else:
                _explain(strategy)
            return
        table = Table(title="Shipped treat-to-target strategies")
        for col in ("id", "disease", "name", "options"):
            table.add_column(col, overflow="fold")
        rows = []
        for sid in shipped_strategies():
            doc, _ = read_document(sid)
            meta = doc["strategy"]
            options = {k: list(v["values"]) for k, v in doc.get("options", {}).items()}
            rows.append({"id": sid, "disease": meta["disease"], "name": meta["name"],
                         "options": options})  # fmt: skip
            opts = ", ".join(f"{k} ({'/'.join(v)})" for k, v in options.items())
            table.add_row(sid, meta["disease"], escape(meta["name"]), escape(opts))
        if as_json:
            print_json(rows)
        else:
            console.print(table)
    except ValidationError as err:
        report_problems(err)
        raise typer.Exit(code=1) from None
    except (FileNotFoundError, ValueError) as err:
        console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(code=1) from None
