"""``rheumetrics score``, ``rheumetrics conventions`` and ``rheumetrics catalogue``."""

from __future__ import annotations

import dataclasses
import inspect
import json
import sys
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from rheumetrics.clitools import (
    console,
    parse_conventions,
    print_frame,
    print_json,
    report_problems,
    row_progress,
    to_terminal,
)
from rheumetrics.errors import Problem, RheumetricsError, UnitWarning, ValidationError
from rheumetrics.io import read_table, write_table
from rheumetrics.measures import DEFAULT, FIELDS, MEASURES
from rheumetrics.measures.panel import score_frame
from rheumetrics.measures.units import ALTERNATIVES, STIFFNESS_DURATION_COLUMNS, crp_unit_warning

#: Input columns that can be given one by one as ``--<column>`` options (hyphens for underscores).
VISIT_FIELDS = (*FIELDS, *ALTERNATIVES, *STIFFNESS_DURATION_COLUMNS)
_POINT_OF_CARE = "One visit's inputs (point of care)"
#: For a canonical column, how to give the other unit (shown when a value is out of range).
_UNIT_OPTIONS = {
    canonical: f"give --{alt.replace('_', '-')} (or column {alt}) for values in {alt.rsplit('_', 1)[1]}"
    for alt, (canonical, _) in ALTERNATIVES.items()
}


def score(
    input: str = typer.Argument(
        None, help="Visits table (.csv, .xlsx, .parquet), or - for JSON record(s) on stdin."
    ),
    out: Path = typer.Option(
        None, "--out", "-o", help="Output table (.csv, .xlsx, .parquet); - or none: the terminal."
    ),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable JSON on stdout."),
    convention: list[str] = typer.Option(
        None, "--convention", "-c", help="KEY=VALUE, e.g. das28_crp_cutoffs=das28crp_fleischmann."
    ),
    measure: list[str] = typer.Option(None, "--measure", "-m", help="Only these measures."),
    lenient: bool = typer.Option(False, help="NA plus a reason column instead of failing."),
    round_display: bool = typer.Option(
        False, "--round", help="Round scores for display (categories always use full precision)."
    ),
    problems: Path = typer.Option(None, help="Write every problem found to this CSV."),
    **values: str,
) -> None:
    """Score every measure whose inputs are present: a visits file, one visit's inputs, or JSON.

    With a file and --out, the conventions used are written next to OUTPUT as
    OUTPUT.conventions.json; on the terminal (no --out, or --out -) the table is printed as CSV
    (or JSON with --json). One visit can be scored from options, e.g.
    ``rheumetrics score --tjc28 4 --sjc28 2 --crp-mg-l 12 --ptga 4 --phga 3``.
    """
    conv = parse_conventions(convention, DEFAULT)
    given = {k: v for k, v in values.items() if v is not None}
    if input is not None and given:
        raise typer.BadParameter("give a visits file or --<column> values, not both")
    if input is None and not given:
        raise typer.BadParameter("give a visits file, - for JSON on stdin, or --<column> values")
    single = input is None
    source = "command line" if single else ("stdin" if input == "-" else input)
    if single:
        visits = pd.DataFrame([given], index=pd.Index([1], name="visit"), dtype=object)
    elif input == "-":
        visits = _read_json(sys.stdin.read())
    else:
        visits = _numbered(_read_with_status(input), input)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UnitWarning)
            crp_unit_warning(visits)
            with row_progress(len(visits), "scoring") as progress:
                scores = score_frame(
                    visits, conv, lenient=lenient, measures=measure or None, progress=progress
                )
    except ValidationError as err:
        located = sorted(
            (dataclasses.replace(p, source=p.source or source) for p in err.problems),
            key=lambda p: (str(type(p.record)), p.record, p.field),
        )  # by line, as `import` reports them
        report_problems(ValidationError(located, err.context), problems)
        for name in sorted({p.field for p in located} & set(_UNIT_OPTIONS)):
            console.print(f"hint: {name} is {FIELDS[name].unit}; {_UNIT_OPTIONS[name]}")
        raise typer.Exit(code=1) from None
    for w in caught:
        console.print(f"[yellow]warning:[/yellow] {w.message}")
    if not scores.attrs["measures"]:
        raise RheumetricsError(
            f"{source}: no measure can be computed from columns {sorted(visits.columns)}; "
            "see `rheumetrics catalogue` for each measure's inputs"
        )
    if round_display:
        for name in scores.attrs["measures"]:
            m = MEASURES[name]
            if m.kind == "score":
                scores[name] = m.display(scores[name], conv)
    record = {
        **scores.attrs["conventions"],
        "measures": scores.attrs["measures"],
        "rounded": round_display,
    }
    if single:
        _print_visit(scores, conv, record, as_json)
        return
    result = pd.concat([visits.drop(columns=scores.columns, errors="ignore"), scores], axis=1)
    if to_terminal(out):
        if as_json:
            rows = json.loads(result.to_json(orient="records", date_format="iso"))
            print_json({"conventions": record, "rows": rows})
        else:
            print_frame(result)
        return
    write_table(result, out)
    Path(f"{out}.conventions.json").write_text(json.dumps(record, indent=2) + "\n")
    if as_json:
        print_json({"rows": len(result), "measures": record["measures"], "out": str(out)})
    else:
        console.print(f"scored {len(result):,} rows, {len(record['measures'])} measures -> {out}")


#: Files at least this large (bytes) take about a second or more to read: show a spinner.
SLOW_READ_BYTES = 20 * 2**20


def _read_with_status(path: str) -> pd.DataFrame:
    """Read a visits table, with a Rich spinner for files that take a while."""
    file = Path(path)
    if file.is_file() and file.stat().st_size >= SLOW_READ_BYTES:
        with console.status(f"reading {path}"):
            return read_table(path)
    return read_table(path)


def _numbered(df: pd.DataFrame, path: str) -> pd.DataFrame:
    """Label rows by their line in the file (the header is line 1) so problems point at them."""
    if Path(path).suffix.lower() in (".csv", ".xlsx"):
        return df.set_axis(pd.RangeIndex(2, len(df) + 2, name="line"))
    return df.set_axis(pd.RangeIndex(1, len(df) + 1, name="row"))


def _read_json(text: str) -> pd.DataFrame:
    """One JSON object (a visit) or a list of them, numbered from 1."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RheumetricsError(f"stdin: not JSON ({exc.msg} at line {exc.lineno})") from None
    records = [data] if isinstance(data, dict) else data
    if (
        not isinstance(records, list)
        or not all(isinstance(r, dict) for r in records)
        or not records
    ):
        raise RheumetricsError("stdin: expected a JSON object or a non-empty list of objects")
    bad = [Problem(i, "record", type(v).__name__, "must be a number, text or null")
           for i, r in enumerate(records, 1) for v in r.values()
           if isinstance(v, dict | list)]  # fmt: skip
    if bad:
        raise ValidationError(bad, "stdin")
    return pd.DataFrame(
        records, index=pd.RangeIndex(1, len(records) + 1, name="record"), dtype=object
    )


def _print_visit(scores: pd.DataFrame, conv: Any, record: dict[str, Any], as_json: bool) -> None:
    """Every measure of one visit with its category, as a table or JSON."""
    rows = []
    for name in scores.attrs["measures"]:
        m = MEASURES[name]
        value = scores[name].iloc[0]
        category = scores.get(f"{name}_category")
        rows.append(
            {
                "measure": name,
                "label": m.label,
                "value": None if pd.isna(value) else (bool(value) if m.kind == "flag" else float(value)),
                "display": "" if pd.isna(value) else _display(m, value, conv),
                "category": None if category is None or pd.isna(category.iloc[0]) else str(category.iloc[0]),
            }
        )  # fmt: skip
    if as_json:
        print_json({"conventions": record, "measures": rows})
        return
    table = Table(title="scores for one visit")
    for col in ("measure", "value", "category"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["label"], r["display"], r["category"] or "")
    Console().print(table)


def _display(m: Any, value: Any, conv: Any) -> str:
    if m.kind == "flag":
        return "yes" if value else "no"
    return f"{m.display(float(value), conv):.{m.digits}f}"


def _with_visit_options(func: Any) -> Any:
    """Replace ``**values`` in ``func``'s signature by one ``--<column>`` option per input field."""
    sig = inspect.signature(func)
    params = [p for p in sig.parameters.values() if p.kind is not p.VAR_KEYWORD]
    for name in sorted(VISIT_FIELDS):
        spec = FIELDS.get(name)
        unit = f" ({spec.unit})" if spec and spec.unit not in spec.label else ""
        label = f"{spec.label}{unit}" if spec else f"converted to {_canonical(name)}"
        option = typer.Option(
            None, f"--{name.replace('_', '-')}", help=label, rich_help_panel=_POINT_OF_CARE
        )
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option,
                                        annotation=str | None))  # fmt: skip
    func.__signature__ = sig.replace(parameters=params)
    return func


def _canonical(name: str) -> str:
    return ALTERNATIVES[name][0] if name in ALTERNATIVES else "basdai_q6"


score = _with_visit_options(score)


def conventions(as_json: bool = typer.Option(False, "--json", help="JSON on stdout.")) -> None:
    """List every scoring convention with its default value."""
    if as_json:
        print_json(DEFAULT.as_dict())
        return
    table = Table(title="scoring conventions (set with --convention KEY=VALUE)")
    table.add_column("key")
    table.add_column("default")
    for f in dataclasses.fields(DEFAULT):
        table.add_row(f.name, str(getattr(DEFAULT, f.name)))
    Console().print(table)


def catalogue(
    out: Path = typer.Option(
        None, "--out", "-o", help="Markdown file to write (default: the terminal)."
    ),
    as_json: bool = typer.Option(False, "--json", help="The catalogue as JSON on the terminal."),
) -> None:
    """Print (or write) the catalogue of measures, input columns, cut-off sets and conventions."""
    from rheumetrics.measures.catalogue import records, render

    if as_json:
        print_json(records())
        return
    text = render()
    if to_terminal(out):
        sys.stdout.write(text)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    console.print(f"catalogue written to {out}")
