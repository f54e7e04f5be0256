"""The declared scores, criteria and categories of a panel in one compiled pass per chunk.

:func:`~rheumetrics.measures.panel.score_frame` computes measure by measure with NumPy, each
operation a pass over a chunk of rows. For large tables, the measures declared as data in
:mod:`rheumetrics.measures.formulas` (DAS28, SDAI, CDAI, DAPSA, Boolean remission) are
instead computed in one loop over the rows, compiled with Numba (https://numba.pydata.org) for
the panel at hand: for each row it checks every input against its field, evaluates each score with
the same operations in the same order as :class:`~rheumetrics.measures.formulas.Linear`, its
category code and each criterion, all in registers. The logarithms are taken by NumPy beforehand
(its vectorised ``log`` and ``log1p``), so every result is bit-for-bit the NumPy one. A chunk
with a missing or invalid input is left to the NumPy path, which reports the problems.

The loop is written out as Python source from the declarations and compiled once per panel;
the source and Numba's machine code are kept in ``$RHEUMETRICS_CACHE_DIR`` (default
``~/.cache/rheumetrics/kernels``), so later processes load them instead of compiling.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numba
import numpy as np

from rheumetrics.measures.base import Measure
from rheumetrics.measures.conventions import Conventions
from rheumetrics.measures.fields import FIELDS
from rheumetrics.measures.formulas import TRANSFORMS, AllAtMost, Linear, Term

#: Transforms written into the loop; the others (logarithms) are columns NumPy fills per chunk.
_INLINE = {"": "{x}", "sqrt": "np.sqrt({x})", "tenth": "({x} / 10.0)"}


@dataclass(frozen=True)
class Plan:
    """The compiled pass for the declared measures of one panel (see :func:`plan`)."""

    fields: tuple[str, ...]  # the input columns, all checked
    logs: tuple[tuple[str, str], ...]  # (transform, field) taken by NumPy per chunk
    measures: frozenset[str]  # the measures the pass computes
    kernel: Callable[..., bool]

    @property
    def width(self) -> int:
        """Rows of the scratch matrix :meth:`run` needs (one per logarithm column)."""
        return len(self.logs)

    def run(
        self,
        inputs: dict[str, np.ndarray],
        start: int,
        stop: int,
        outputs: tuple[np.ndarray, np.ndarray, np.ndarray],
        scratch: np.ndarray,
    ) -> bool:
        """Score rows ``start:stop`` into the ``outputs`` (the float block of scores, the int8
        block of category codes, the boolean block of criteria) if every input there is present
        and valid (True); otherwise False, and what was written for the chunk is to be
        overwritten. ``scratch`` has :attr:`width` rows of at least ``stop - start`` values."""
        chunk = [np.ascontiguousarray(inputs[f][start:stop]) for f in self.fields]
        logs = [row[: stop - start] for row in scratch[: self.width]]
        with np.errstate(invalid="ignore", divide="ignore"):
            for (transform, field), out in zip(self.logs, logs, strict=True):
                TRANSFORMS[transform](chunk[self.fields.index(field)], out=out)
        return bool(self.kernel(*chunk, *logs, *outputs, start))


def plan(
    measures: Sequence[Measure],
    conventions: Conventions,
    fields: Iterable[str],
    rows: dict[str, int],
    code_rows: dict[str, int],
    flag_rows: dict[str, int],
) -> Plan | None:
    """The compiled pass for the measures declared as :class:`Linear` scores or
    :class:`AllAtMost` criteria, checking every column of ``fields``; None when there are none.
    ``rows``, ``code_rows`` and ``flag_rows`` give each measure's row in the output blocks."""
    scores = [m for m in measures if isinstance(m.compute, Linear) and m.kind == "score"]
    criteria = [m for m in measures if isinstance(m.compute, AllAtMost) and m.kind == "flag"]
    if not scores and not criteria:
        return None
    names = tuple(fields)
    formulas: list[Linear] = [m.compute for m in scores]  # type: ignore[misc]
    logs: tuple[tuple[str, str], ...] = tuple(
        dict.fromkeys(
            (t.transform, t.field) for f in formulas for t in f.terms if t.transform not in _INLINE
        )
    )
    x = {name: f"x{i}" for i, name in enumerate(names)}
    terms = {key: f"l{j}[i]" for j, key in enumerate(logs)}
    params = [*(f"c{i}" for i in range(len(names))), *(f"l{j}" for j in range(len(logs)))]
    head = ["    n = c0.shape[0]"]  # the output rows of the chunk, as views
    body = [f"        {x[name]} = c{i}[i]" for i, name in enumerate(names)]
    body += [f"        bad |= not ({_allowed(name, x[name])})" for name in names]
    for s, (m, formula) in enumerate(zip(scores, formulas, strict=True)):
        head.append(f"    s{s} = block[{rows[m.name]}, start : start + n]")
        body.append(f"        y{s} = {_expression(formula, x, terms)}")
        body.append(f"        s{s}[i] = y{s}")
        cut = m.cutoff_set(conventions)
        if cut is not None:
            head.append(f"    k{s} = codes[{code_rows[m.name]}, start : start + n]")
            above = [
                f"np.int8(y{s} {'>' if strict else '>='} {t!r})" for t, strict in cut.thresholds()
            ]
            body.append(f"        k{s}[i] = {' + '.join(above or ['0'])} - np.int8(y{s} != y{s})")
    for j, m in enumerate(criteria):
        head.append(f"    f{j} = flags[{flag_rows[m.name]}, start : start + n]")
        met = [f"({x[field]} <= {limit!r})" for field, limit in m.compute.limits]  # type: ignore[attr-defined]
        body.append(f"        f{j}[i] = {' & '.join(met)}")
    source = "\n".join(
        [
            "import numba",
            "import numpy as np",
            "",
            "",
            '@numba.njit(cache=True, nogil=True, boundscheck=False, error_model="numpy")',
            f"def kernel({', '.join([*params, 'block', 'codes', 'flags', 'start'])}):",
            *head,
            "    bad = False",
            "    for i in range(n):",
            *body,
            "    return not bad",
            "",
        ]
    )
    return Plan(names, logs, frozenset(m.name for m in [*scores, *criteria]), _compiled(source))


def _allowed(name: str, x: str) -> str:
    """The condition that the value ``x`` of field ``name`` is present and allowed (the
    complement of ``Field.invalid``, with NaN failing every comparison)."""
    spec = FIELDS[name]
    low, high = (">=" if spec.low_inclusive else ">"), ("<=" if spec.high_inclusive else "<")
    allowed = f"({x} {low} {spec.low!r}) & ({x} {high} {spec.high!r})"
    if spec.integer:
        allowed += f" & (np.floor({x}) == {x})"
    if spec.step:
        q = f"({x} / {spec.step!r})"
        allowed += f" & (np.abs({q} - np.rint({q})) <= 1e-9)"
    return allowed


def _expression(formula: Linear, x: dict[str, str], logs: dict[tuple[str, str], str]) -> str:
    """``formula`` as an expression on the row's values, operations in the NumPy order."""
    total = ""
    for term in formula.terms:
        part = _term(term, x, logs)
        total = part if not total else f"({total} + {part})"
    if formula.scale != 1.0:
        total = f"({total} * {formula.scale!r})"
    if formula.offset:
        total = f"({total} + {formula.offset!r})"
    return total


def _term(term: Term, x: dict[str, str], logs: dict[tuple[str, str], str]) -> str:
    if term.transform in _INLINE:
        value = _INLINE[term.transform].format(x=x[term.field])
    else:
        value = logs[term.transform, term.field]
    return value if term.weight == 1.0 else f"{value} * {term.weight!r}"


@cache
def _compiled(source: str) -> Callable[..., bool]:
    """The ``kernel`` of ``source``, from a module file in the kernel cache (so Numba can keep
    its machine code beside it for later processes)."""
    version = f"{numba.__version__} {np.__version__}\n"
    digest = hashlib.sha256((version + source).encode()).hexdigest()[:20]
    path = _cache_dir() / f"panel_{digest}.py"
    if not path.exists() or path.read_text(encoding="utf-8") != source:  # absent or altered
        part = path.with_suffix(f".{os.getpid()}.tmp")
        part.write_text(source, encoding="utf-8")
        os.replace(part, path)  # atomic: a concurrent process sees no half-written module
    spec = importlib.util.spec_from_file_location(f"rheumetrics_kernel_{digest}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # Numba's cached code refers to its module by name
    spec.loader.exec_module(module)
    kernel: Callable[..., bool] = module.kernel
    return kernel


def _cache_dir() -> Path:
    """``$RHEUMETRICS_CACHE_DIR``, else ``$XDG_CACHE_HOME/rheumetrics/kernels`` (default
    ``~/.cache``), else, when that cannot be written, a directory for this process."""
    configured = os.environ.get("RHEUMETRICS_CACHE_DIR")
    if configured:
        path = Path(configured)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        path = Path(base) / "rheumetrics" / "kernels"
    try:
        path.mkdir(parents=True, exist_ok=True)
        if os.access(path, os.W_OK):
            return path
    except OSError:
        pass
    return Path(tempfile.mkdtemp(prefix="rheumetrics-kernels-"))
