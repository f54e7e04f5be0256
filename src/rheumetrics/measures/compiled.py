"""The declared scores, criteria and categories of a panel in one compiled loop per chunk.

:func:`~rheumetrics.measures.panel.score_frame` computes measure by measure with NumPy, each
operation a pass over a chunk of rows. With Numba installed (``pip install
'rheumetrics[compiled]'``; https://numba.pydata.org), the measures declared as data in
:mod:`rheumetrics.measures.formulas` (DAS28, SDAI, CDAI, DAPSA, Boolean remission) can instead
be computed in one loop over the rows, compiled for the panel at hand: for each row it checks
the measures' inputs against their fields, evaluates each score with the same operations in the
same order as :class:`~rheumetrics.measures.formulas.Linear`, its category code and each
criterion. The logarithms are taken by NumPy beforehand (its vectorised ``log`` and ``log1p``),
so every result is bit-for-bit the NumPy one. Rows with a missing or invalid input are then
found, reported and set to NA by the NumPy checks, as on the NumPy path.

The loop is written out as Python source from the declarations and compiled once per panel and
process. The source and Numba's machine code are kept in a cache directory,
``$RHEUMETRICS_CACHE_DIR``, else ``$XDG_CACHE_HOME/rheumetrics/kernels`` (``~/.cache`` by
default), so later processes load them instead of compiling. The directory holds code that is
executed: it is used only if it belongs to the user, and made writable by the user alone
(otherwise the loop is compiled in memory, each process); it may be deleted at any time.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
import tempfile
import threading
import types
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from rheumetrics.measures.base import Measure
from rheumetrics.measures.conventions import Conventions
from rheumetrics.measures.fields import FIELDS
from rheumetrics.measures.formulas import TRANSFORMS, AllAtMost, Linear

#: Kernels loaded in this process, by source.
_LOADED: dict[str, Callable[..., bool]] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Plan:
    """The compiled loop for the declared measures of one panel (see :func:`plan`)."""

    measures: tuple[Measure, ...]  # the declared measures it computes, by name
    fields: tuple[str, ...]  # their input columns, checked in this order
    logs: tuple[tuple[str, str], ...]  # (transform, field) NumPy computes per chunk
    outputs: tuple[tuple[str, str], ...]  # (kind, measure): "score", "code" or "flag" arrays
    source: str

    @property
    def loaded(self) -> bool:
        """Whether this process has the loop's machine code already."""
        return self.source in _LOADED

    def columns(self, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        """The loop's input columns from ``inputs`` (by field): contiguous and read-only, the
        argument type it is compiled for (views, copied only when not contiguous)."""
        return [_read_only(inputs[f]) for f in self.fields]

    def run(
        self,
        columns: list[np.ndarray],
        start: int,
        stop: int,
        outputs: Sequence[np.ndarray],
        scratch: np.ndarray,
    ) -> bool:
        """Compute rows ``start:stop`` of ``columns`` (see :meth:`columns`) into ``outputs``
        (the arrays of :attr:`outputs`); True if every input there is present and allowed.
        ``scratch`` has a row of at least ``stop - start`` values per logarithm."""
        chunk = [c[start:stop] for c in columns]
        logs = []
        with np.errstate(invalid="ignore", divide="ignore"):
            for (transform, field), row in zip(self.logs, scratch, strict=False):
                fn = TRANSFORMS[transform].numpy
                assert fn is not None
                logs.append(
                    _read_only(fn(chunk[self.fields.index(field)], out=row[: stop - start]))
                )
        sliced = [o[start:stop] for o in outputs]
        return bool(_LOADED[self.source](*chunk, *logs, *sliced))


def _read_only(x: np.ndarray) -> np.ndarray:
    """A contiguous read-only view of ``x`` (the loop's argument type)."""
    view = np.ascontiguousarray(x, dtype=float).view()
    view.flags.writeable = False
    return view


def plan(measures: Sequence[Measure], conventions: Conventions) -> Plan | None:
    """The loop for the measures of ``measures`` declared as :class:`Linear` scores or
    :class:`AllAtMost` criteria (None when there are none): its source, which depends only on
    those measures and their cut-offs. Nothing is compiled here."""
    declared = sorted(
        (m for m in measures if isinstance(m.compute, Linear | AllAtMost)), key=lambda m: m.name
    )
    if not declared:
        return None
    formulas = [m.compute for m in declared if isinstance(m.compute, Linear)]
    fields = tuple(sorted({f for m in declared for f in m.inputs}))
    logs = tuple(
        dict.fromkeys(
            (t.transform, t.field)
            for f in formulas
            for t in f.terms
            if TRANSFORMS[t.transform].inline is None
        )
    )
    x = {name: f"x{i}" for i, name in enumerate(fields)}
    columns = {key: f"l{j}[i]" for j, key in enumerate(logs)}
    body = [f"        {x[name]} = c{i}[i]" for i, name in enumerate(fields)]
    body += [f"        bad |= not ({_allowed(name, x[name])})" for name in fields]
    outputs: list[tuple[str, str]] = []
    for m in declared:
        out = f"o{len(outputs)}"
        if isinstance(m.compute, AllAtMost):
            met = [f"({x[field]} <= {limit!r})" for field, limit in m.compute.limits]
            body.append(f"        {out}[i] = {' & '.join(met)}")
            outputs.append(("flag", m.name))
            continue
        assert isinstance(m.compute, Linear)
        body.append(f"        y = {_expression(m.compute, x, columns)}")
        body.append(f"        {out}[i] = y")
        outputs.append(("score", m.name))
        cut = m.cutoff_set(conventions)
        if cut is not None:
            above = [
                f"np.int8(y {'>' if strict else '>='} {t!r})" for t, strict in cut.thresholds()
            ]
            body.append(
                f"        o{len(outputs)}[i] = {' + '.join(above or ['0'])} - np.int8(y != y)"
            )
            outputs.append(("code", m.name))
    params = [
        *(f"c{i}" for i in range(len(fields))),
        *(f"l{j}" for j in range(len(logs))),
        *(f"o{k}" for k in range(len(outputs))),
    ]
    source = "\n".join(
        [
            "import numpy as np",
            "",
            "",
            f"def kernel({', '.join(params)}):",
            "    bad = False",
            "    for i in range(c0.shape[0]):",
            *body,
            "    return not bad",
            "",
        ]
    )
    return Plan(tuple(declared), fields, logs, tuple(outputs), source)


def _allowed(name: str, x: str) -> str:
    """The condition that the value ``x`` of field ``name`` is present and allowed: the
    complement of ``Field.invalid``, with NaN failing every comparison.

    >>> _allowed("tjc28", "x")
    '(x >= 0) & (x <= 28) & (np.floor(x) == x)'
    """
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
    for t in formula.terms:
        inline = TRANSFORMS[t.transform].inline
        value = logs[t.transform, t.field] if inline is None else inline.format(x=x[t.field])
        part = value if t.weight == 1.0 else f"{value} * {t.weight!r}"
        total = part if not total else f"({total} + {part})"
    if formula.scale != 1.0:
        total = f"({total} * {formula.scale!r})"
    if formula.offset:
        total = f"({total} + {formula.offset!r})"
    return total


def available() -> str | None:
    """None when Numba is installed and compiling, else why the loop cannot be used."""
    try:
        import numba
    except ImportError as err:
        return f"Numba is not installed (pip install 'rheumetrics[compiled]'): {err}"
    if numba.config.DISABLE_JIT:  # type: ignore[attr-defined]
        return "Numba's compiler is disabled (NUMBA_DISABLE_JIT)"
    return None


def load(p: Plan) -> None:
    """Compile the loop of ``p``, or load its machine code from the cache directory, once per
    process (threads wait for one another)."""
    with _LOCK:
        if p.source not in _LOADED:
            _LOADED[p.source] = _compile(p)


def _compile(p: Plan) -> Callable[..., bool]:
    import numba

    digest = hashlib.sha256(f"{numba.__version__} {np.__version__}\n{p.source}".encode())
    name = f"rheumetrics_kernel_{digest.hexdigest()[:20]}"
    directory = cache_dir()
    path = None if directory is None else directory / f"{name}.py"
    if path is not None and _stale(path, p.source):
        fd, part = tempfile.mkstemp(dir=directory, prefix=f"{name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(p.source)
        os.replace(part, path)  # whole: no process or thread sees a half-written file
    # The verified source in memory is what runs (never a file or its bytecode); the file lets
    # Numba keep the machine code beside it, stamped with the file's time and size.
    module = types.ModuleType(name)
    module.__file__ = str(path) if path else f"<{name}>"
    sys.modules[name] = module  # Numba's cached code refers to its module by name
    exec(compile(p.source, module.__file__, "exec"), module.__dict__)
    read, write = (
        numba.types.Array(numba.float64, 1, "C", readonly=True),
        {
            "score": numba.types.Array(numba.float64, 1, "C"),
            "code": numba.types.Array(numba.int8, 1, "C"),
            "flag": numba.types.Array(numba.boolean, 1, "C"),
        },
    )
    signature = numba.boolean(
        *[read] * (len(p.fields) + len(p.logs)), *(write[kind] for kind, _ in p.outputs)
    )
    jit = numba.njit(
        signature, cache=path is not None, nogil=True, boundscheck=False, error_model="numpy"
    )
    kernel: Callable[..., bool] = jit(module.kernel)
    return kernel


def _stale(path: Path, source: str) -> bool:
    """Whether ``path`` lacks ``source`` (absent, or altered)."""
    try:
        return path.read_text(encoding="utf-8") != source
    except (OSError, UnicodeDecodeError):
        return True


@cache
def cache_dir() -> Path | None:
    """The kernel cache: ``$RHEUMETRICS_CACHE_DIR``, else ``$XDG_CACHE_HOME/rheumetrics/kernels``
    (``~/.cache`` by default), with Numba's ``__pycache__`` in it, both made the user's alone;
    None, with a warning, when it cannot be created or written or belongs to someone else (the
    loop is then compiled in memory)."""
    configured = os.environ.get("RHEUMETRICS_CACHE_DIR")
    try:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        path = Path(configured) if configured else Path(base) / "rheumetrics" / "kernels"
        for directory in (path, path / "__pycache__"):  # Numba's, made before Numba does
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            _make_private(directory)
        probe = tempfile.NamedTemporaryFile(dir=path, prefix=".probe-")  # noqa: SIM115
        probe.close()
    except (OSError, RuntimeError) as err:  # RuntimeError: no home directory
        warnings.warn(
            f"rheumetrics: no kernel cache ({err}); the compiled scoring loop is compiled in "
            "memory in each process (set RHEUMETRICS_CACHE_DIR to a directory of your own)",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
    return path


def _make_private(directory: Path) -> None:
    """Let no one but this user write to ``directory`` (PermissionError if it belongs to
    someone else). Numba's files in a directory others could write to are not trusted: they
    are removed, to be compiled again."""
    st = directory.stat()
    if st.st_uid != os.geteuid():
        raise PermissionError(f"{directory} belongs to another user")
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        directory.chmod(0o700)
        for cached in (*directory.glob("*.nbi"), *directory.glob("*.nbc")):
            cached.unlink()
