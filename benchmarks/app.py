"""Benchmark: the clinic web app on a large SQLite store, over HTTP on 127.0.0.1 only.

Builds a store of ``--patients`` synthetic patients (default 100,000; two visits and one therapy
course each) plus 20 patients with 10 years of history (40 visits, 30 therapy records each),
stores every patient's latest treat-to-target decision (as ``rheumetrics serve`` does at start;
the time it takes is printed), starts ``rheumetrics.app`` under uvicorn in a child process on a
free loopback port with ``--workers`` processes, and measures

1. the patient page of the 40-visit patients, first view: median server time (the app's
   ``Server-Timing`` header), server CPU time and wall time (target: median server time
   < 100 ms); also with the decision not stored (the engine runs) and the repeated view;
2. the live score update (``POST /api/score``; target < 50 ms);
3. the other requests of the load mix, one at a time (their CPU cost without overlap);
4. ``--clinicians`` simulated clinicians (default 50) for ``--duration`` seconds (default 60):
   all sign in first (not timed), then each repeatedly opens a patient page (30 %), updates the
   live score (50 %), searches the patient list by a key prefix (10 %) or saves a visit (10 %,
   then sees the patient page it is sent to), pausing 0.5-1.5 s between actions as a person
   entering a visit would; target p95 < 300 ms and no errors. The CPU time used by the server
   processes and by this benchmark client are reported separately, per request: the server's
   is the figure that does not depend on how busy the machine is;
5. items 1-3 again on stores of the other ``--sweep-sizes`` (default 1,000 and 10,000 patients)
   and the growth exponent of each over the store size (0: independent of the size).

There is no peer tool for a clinic app, so figures are printed beside their targets as ratios
(measured / target; below 1 meets the target). The machine may be shared: note its load when
quoting figures (the load average is printed with them). Every request goes to 127.0.0.1, and the
load phase stops after ``--duration``. Run it under ``nice -n 10`` on a shared machine.

    .venv/bin/python benchmarks/app.py [--patients 100000] [--clinicians 50] [--duration 60]
        [--sweep-sizes 1000,10000,100000] [--db FILE] [--no-load]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import psutil
from sqlalchemy import delete

from rheumetrics.app.application import set_wal
from rheumetrics.app.queries import fill_decisions
from rheumetrics.app.security import add_user
from rheumetrics.app.tables import DECISION_LOG, ensure_tables
from rheumetrics.store import bulk
from rheumetrics.store.database import init_db, make_engine
from rheumetrics.store.jointbits import STORAGE_ORDER
from sweep import load as load_text
from sweep import print_growth

PASSWORD = "benchmark password"
TARGETS = 20  # patients with 10 years of history (40 visits, 30 therapy courses)
SERVER = """
import os, sys, uvicorn
os.environ.update(RHEUMETRICS_DB_URL=sys.argv[1], RHEUMETRICS_APP_SECRET="bench-" + "s" * 32)
uvicorn.run("rheumetrics.app.application:app_from_environment", factory=True, workers=int(sys.argv[3]),
            host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
"""


def target(i: int) -> str:
    return f"TARGET-{i:04d}"


def build_store(path: Path, n: int, visits_each: int, clinicians: int) -> str:
    """A SQLite store with ``n`` background patients and :data:`TARGETS` 40-visit patients."""
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    init_db(engine)
    ensure_tables(engine)
    rng = np.random.default_rng(7)
    start = time.perf_counter()
    ids = np.arange(1, n + TARGETS + 1)
    keys = [f"B{i:07d}" for i in ids[:n]] + [target(k) for k in range(1, TARGETS + 1)]
    patients = pd.DataFrame(
        {
            "id": ids,
            "patient_key": keys,
            "diagnosis": "ra",
            "diagnosis_snomed": "69896004",
            "sex": rng.choice(["female", "male"], len(ids)),
            "birth_year": rng.integers(1940, 2000, len(ids)),
        }
    )
    # background: `visits_each` visits a year apart; target: 40 visits every ~3 months over 10 years
    pid = np.concatenate([np.repeat(ids[:n], visits_each), np.repeat(ids[n:], 40)])
    base = np.datetime64("2015-01-05")
    days = np.concatenate(
        [
            np.tile(np.arange(visits_each) * 365, n) + rng.integers(0, 300, n * visits_each),
            np.tile(np.arange(40) * 91, TARGETS),
        ]
    )
    nv = len(pid)
    vid = np.arange(1, nv + 1)
    visits = pd.DataFrame(
        {
            "id": vid,
            "patient_id": pid,
            "visit_date": (base + days).astype("datetime64[D]").astype(str),
            "kind": "routine",
            "label": None,
        }
    )
    tjc, sjc = rng.integers(0, 12, nv), rng.integers(0, 8, nv)
    clinical = pd.DataFrame(
        {"visit_id": vid, "tjc28": tjc, "sjc28": sjc, "phga": rng.integers(0, 9, nv).astype(float)}
    )
    lab = pd.DataFrame(
        {
            "visit_id": vid,
            "esr_mm_h": rng.integers(2, 80, nv).astype(float),
            "esr_mm_h_source_unit": "mm/h",
            "crp_mg_l": rng.integers(1, 60, nv).astype(float),
            "crp_mg_l_source_unit": "mg/L",
        }
    )
    pro = pd.DataFrame(
        {
            "visit_id": vid,
            "gh_mm": rng.integers(0, 90, nv).astype(float),
            "ptga": rng.integers(0, 9, nv).astype(float),
            "pain": rng.integers(0, 9, nv).astype(float),
        }
    )
    drugs = [  # drug, class, usual dose, unit, route (as in the drug catalogue)
        ("methotrexate", "csDMARD", 15.0, "mg/week", "oral"),
        ("sulfasalazine", "csDMARD", 2000.0, "mg/day", "oral"),
        ("hydroxychloroquine", "csDMARD", 400.0, "mg/day", "oral"),
        ("prednisolone", "glucocorticoid", 7.5, "mg/day", "oral"),
        ("adalimumab", "bDMARD", 40.0, "mg/2 weeks", "sc"),
        ("etanercept", "bDMARD", 50.0, "mg/week", "sc"),
    ]
    ther_rows = [
        {
            "id": i + 1,
            "patient_id": i + 1,
            "drug": "methotrexate",
            "drug_class": "csDMARD",
            "dose": 15.0,
            "dose_unit": "mg/week",
            "route": "oral",
            "start_date": "2014-12-01",
            "stop_date": None,
            "stop_reason": None,
        }
        for i in range(n)
    ]
    for t in range(TARGETS):  # 30 courses over 10 years, all but the last three stopped
        for k in range(30):
            drug, cls, dose, unit, route = drugs[k % len(drugs)]
            first = base + np.timedelta64(k * 120 + t, "D")
            stop = None if k >= 27 else str(first + np.timedelta64(110, "D"))
            ther_rows.append(
                {
                    "id": len(ther_rows) + 1,
                    "patient_id": n + t + 1,
                    "drug": drug,
                    "drug_class": cls,
                    "dose": dose,
                    "dose_unit": unit,
                    "route": route,
                    "start_date": str(first),
                    "stop_date": stop,
                    "stop_reason": None if stop is None else "inefficacy",
                }
            )
    therapy = pd.DataFrame(ther_rows)
    with engine.begin() as conn:
        for name, frame in (
            ("patient", patients),
            ("visit", visits),
            ("clinical", clinical),
            ("lab", lab),
            ("pro", pro),
            ("therapy", therapy),
        ):
            bulk.insert_frame(conn, name, frame)
        for i in range(clinicians):
            add_user(conn, f"clin{i:03d}", PASSWORD, "clinician")
    set_wal(engine)  # as `rheumetrics serve` does at start
    engine.dispose()
    print(
        f"store: {len(ids):,} patients, {nv:,} visits, {len(therapy):,} therapy courses "
        f"built in {time.perf_counter() - start:.1f} s ({path.stat().st_size / 1e6:.0f} MB)"
    )
    return url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sign_in(base: str, user: str) -> tuple[httpx.Client, str]:
    c = httpx.Client(base_url=base, timeout=30.0, follow_redirects=True)
    page = c.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    r = c.post(
        "/login",
        data={
            "username": user,
            "password": PASSWORD,
            "csrf_token": token.group(1),
            "next": "/patients",
        },
    )
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', r.text)
    assert r.status_code == 200 and csrf is not None, r.status_code
    return c, csrf.group(1)


def server_ms(r: httpx.Response, metric: str = "app") -> float:
    m = re.search(metric + r";dur=([0-9.]+)", r.headers.get("server-timing", ""))
    return float(m.group(1)) if m else float("nan")


def score_form(rng: random.Random, csrf: str) -> dict[str, str]:
    form = {
        "csrf_token": csrf,
        "visit_date": "2031-01-01",
        "joint_set": "28",
        "crp_unit": "mg/L",
        "diagnosis": "ra",
        "esr_mm_h": str(rng.randint(2, 80)),
        "gh_mm": str(rng.randint(0, 100)),
        "ptga": str(rng.randint(0, 10)),
        "phga": str(rng.randint(0, 10)),
        "crp": str(rng.randint(1, 60)),
    }
    for j in STORAGE_ORDER:
        form[f"j_{j}"] = rng.choice("nnnnts")
    return form


def timed(calls) -> tuple[list[float], list[float], list[float]]:
    """Server time, server CPU time and wall time (ms) of each call."""
    server, cpu, wall = [], [], []
    for call in calls:
        t = time.perf_counter()
        r = call()
        wall.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, r.status_code
        server.append(server_ms(r))
        cpu.append(server_ms(r, "cpu"))
    return server, cpu, wall


def row(what: str, value: float, goal: float) -> None:
    print(f"  {what:<48s} {value:8.1f} ms   target {goal:5.0f} ms   ratio {value / goal:5.2f}")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its children (the uvicorn workers)."""
    proc = psutil.Process(pid)
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def load(base: str, clinicians: int, duration: float, n: int, server_pid: int) -> None:
    """Sign every clinician in (not timed: once a day in a clinic), then run the timed phase."""
    lat: list[float] = []
    kinds: dict[str, list[tuple[float, float, float]]] = {}  # wall, server, server CPU (ms)
    errors: list[str] = []
    lock = threading.Lock()
    sessions: dict[int, tuple[httpx.Client, str]] = {}

    def sign(i: int) -> None:
        try:
            sessions[i] = sign_in(base, f"clin{i:03d}")
        except Exception as exc:
            with lock:
                errors.append(f"sign-in: {type(exc).__name__}")

    t0 = time.monotonic()
    for first in range(0, clinicians, 5):  # five at a time: Argon2id is deliberately costly
        batch = [
            threading.Thread(target=sign, args=(i,))
            for i in range(first, min(first + 5, clinicians))
        ]
        for t in batch:
            t.start()
        for t in batch:
            t.join(120)
    print(
        f"load: {len(sessions)} of {clinicians} clinicians signed in ({time.monotonic() - t0:.1f} s, not timed)"
    )
    deadline = time.monotonic() + duration
    run_day = int(time.time() // 60) % 40_000

    def clinician(i: int) -> None:
        rng = random.Random(i)
        c, csrf = sessions[i]
        saved = 0
        time.sleep(rng.uniform(0, 1.0))  # do not all start on the same instant
        while time.monotonic() < deadline:
            pick = rng.random()
            key = (
                target(rng.randint(1, TARGETS))
                if rng.random() < 0.2
                else f"B{rng.randint(1, n):07d}"
            )
            t = time.perf_counter()
            r = None
            kind = (
                "patient page"
                if pick < 0.3
                else "live score"
                if pick < 0.8
                else "patient list"
                if pick < 0.9
                else "save visit"
            )
            try:
                if pick < 0.3:
                    r = c.get(f"/patients/{key}")
                elif pick < 0.8:
                    r = c.post(
                        "/api/score", data=score_form(rng, csrf), headers={"X-CSRF-Token": csrf}
                    )
                elif pick < 0.9:
                    # a key prefix matching up to 1,000 patients (keys are B0000001...)
                    prefix = f"B{rng.randint(0, (n - 1) // 1000):04d}"
                    r = c.get("/patients", params={"q": prefix})
                else:
                    saved += 1
                    form = score_form(rng, csrf)
                    # a date no earlier run used (runs may reuse a store with --db)
                    day = run_day + i * 400 + saved
                    form["visit_date"] = str(dt.date(2040, 1, 1) + dt.timedelta(days=day))
                    r = c.post(f"/patients/B{rng.randint(1, n):07d}/visits/new", data=form)
            except httpx.HTTPError as exc:
                with lock:
                    errors.append(type(exc).__name__)
            ms = (time.perf_counter() - t) * 1000
            with lock:
                lat.append(ms)
                if r is not None:
                    kinds.setdefault(kind, []).append((ms, server_ms(r), server_ms(r, "cpu")))
                if r is not None and r.status_code not in (200, 303):
                    errors.append(f"HTTP {r.status_code}")
            time.sleep(rng.uniform(0.5, 1.5))
        c.close()

    threads = [threading.Thread(target=clinician, args=(i,)) for i in sessions]
    start = time.monotonic()
    server_cpu, client_cpu = cpu_seconds(server_pid), time.process_time()
    for t in threads:
        t.start()
    for t in threads:
        t.join(duration + 120)
    took = time.monotonic() - start
    server_cpu = cpu_seconds(server_pid) - server_cpu
    client_cpu = time.process_time() - client_cpu
    arr = np.array(lat)
    print(
        f"load: {len(threads)} clinicians for {duration:.0f} s: {len(arr):,} requests ({len(arr) / took:.1f}/s), "
        f"{len(errors)} errors{(' ' + str(sorted(set(errors)))) if errors else ''}; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"  CPU used: server {server_cpu:.1f} s ({server_cpu / took:.2f} cores, "
        f"{server_cpu / max(len(arr), 1) * 1000:.1f} ms per request), benchmark client "
        f"{client_cpu:.1f} s ({client_cpu / took:.2f} cores); load average at the end "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    for kind, got in sorted(kinds.items()):
        # (the per-request CPU header counts every request the process ran meanwhile, so
        # under load only the process totals above say what the requests cost)
        w, srv = (np.array(x) for x in list(zip(*got, strict=True))[:2])
        print(
            f"  {kind:<13s} {len(w):5d} requests: wall p50 {np.percentile(w, 50):7.1f} ms, "
            f"p95 {np.percentile(w, 95):7.1f} ms; server time p50 {np.nanmedian(srv):6.1f} ms"
        )
    if len(arr):
        print(f"  p50 {np.percentile(arr, 50):.1f} ms, max {arr.max():.1f} ms")
        row("p95 latency under load (wall)", float(np.percentile(arr, 95)), 300)


def prepare(path: Path, n: int, visits_each: int, clinicians: int) -> str:
    """The store at ``path`` (built when absent, else brought up to date) with every patient's
    latest decision stored, as ``rheumetrics serve`` does at start; prints what filling took."""
    if path.exists():  # a store built by an earlier version: bring its schema up to date
        url = f"sqlite:///{path}"
        engine = make_engine(url)
        init_db(engine)
        ensure_tables(engine)
        engine.dispose()
    else:
        url = build_store(path, n, visits_each, clinicians)
    engine = make_engine(url)
    wall, cpu = time.perf_counter(), time.process_time()
    computed = fill_decisions(engine)
    print(
        f"stored decisions: {computed:,} computed in {time.perf_counter() - wall:.1f} s "
        f"({time.process_time() - cpu:.1f} s CPU; {load_text()})"
    )
    engine.dispose()
    return url


@contextmanager
def serving(url: str, workers: int) -> Iterator[tuple[str, int]]:
    """The app under uvicorn in a child process on a free loopback port: (base URL, pid)."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-c", SERVER, url, str(port), str(workers)], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/login", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield base, proc.pid
    finally:
        proc.terminate()
        proc.wait(10)


def forget_decisions(url: str, keys: list[str]) -> None:
    """Delete these patients' stored decisions (so their next page view runs the engine)."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(delete(DECISION_LOG).where(DECISION_LOG.c.patient_key.in_(keys)))
    engine.dispose()


def single(base: str, url: str, n: int, repeat: int, *, quiet: bool = False) -> dict[str, float]:
    """One clinician's requests, one at a time: median server time and server CPU time (ms) by
    kind (the CPU time is exact here: requests do not overlap)."""
    med = statistics.median
    c, csrf = sign_in(base, "clin000")
    c.get("/patients/B0000001")  # warm-up: strategy files, templates
    out: dict[str, float] = {}
    cpu_of: dict[str, float] = {}
    if not quiet:
        print(f"single clinician (machine: {os.cpu_count()} cores, {load_text()}):")
    half = TARGETS // 2
    forget_decisions(url, [target(k) for k in range(half + 1, TARGETS + 1)])
    server, cpu, wall = timed(
        [lambda k=k: c.get(f"/patients/{target(k)}") for k in range(1, half + 1)]
    )
    out["page"] = med(server)
    cpu_of["page"] = med(cpu)
    if not quiet:
        row(
            f"patient page, 40 visits / 30 therapies, first view ({half} patients), server",
            med(server),
            100,
        )
        print(
            f"  {'  same, server CPU time / wall time incl. HTTP':<48s} {med(cpu):8.1f} ms / {med(wall):.1f} ms"
        )
    server, cpu, wall = timed(
        [lambda k=k: c.get(f"/patients/{target(k)}") for k in range(half + 1, TARGETS + 1)]
    )
    out["page, engine runs"] = med(server)
    cpu_of["page, engine runs"] = med(cpu)
    if not quiet:
        print(
            f"  {'  same, decision not stored (the engine runs), server':<48s} {med(server):8.1f} ms"
            f"   (CPU {med(cpu):.1f} ms, wall {med(wall):.1f} ms)"
        )
        server, cpu, wall = timed([lambda: c.get(f"/patients/{target(1)}")] * repeat)
        row(f"patient page, repeated view ({repeat}x), server", med(server), 100)
        print(
            f"  {'  same, server CPU time / wall time incl. HTTP':<48s} {med(cpu):8.1f} ms / {med(wall):.1f} ms"
        )
    rng = random.Random(1)
    server, cpu, wall = timed(
        [lambda: c.post("/api/score", data=score_form(rng, csrf), headers={"X-CSRF-Token": csrf})]
        * repeat
    )
    out["live score"] = med(server)
    cpu_of["live score"] = med(cpu)
    if not quiet:
        row(f"live score update ({repeat}x), server", med(server), 50)
        print(
            f"  {'  same, server CPU time / wall time incl. HTTP':<48s} {med(cpu):8.1f} ms / {med(wall):.1f} ms"
        )
    # the other requests of the load mix, one at a time (their CPU cost without overlap)
    day = int(time.time()) % 100_000
    others = {
        "patient page, 2 visits, first view": lambda k: c.get(
            f"/patients/B{rng.randint(1, n):07d}"
        ),
        "patient list, key prefix search": lambda k: c.get(
            "/patients", params={"q": f"B{rng.randint(0, (n - 1) // 1000):04d}"}
        ),
        "save a visit": lambda k: c.post(
            f"/patients/B{rng.randint(1, n):07d}/visits/new",
            data={
                **score_form(rng, csrf),
                "visit_date": str(dt.date(2400, 1, 1) + dt.timedelta(days=day + k)),
            },
            follow_redirects=False,
        ),
    }
    for what, call in others.items():
        got = [call(k) for k in range(repeat)]
        assert all(r.status_code in (200, 303) for r in got), [r.status_code for r in got]
        out[what] = med(server_ms(r) for r in got)
        cpu_of[what] = med(server_ms(r, "cpu") for r in got)
        if not quiet:
            print(
                f"  {what + f' ({repeat}x), server time / CPU':<48s} "
                f"{out[what]:8.1f} ms / {cpu_of[what]:.1f} ms"
            )
    c.close()
    return {**out, **{f"{k} (CPU)": v for k, v in cpu_of.items()}}


def sweep(args: argparse.Namespace, top: dict[str, float]) -> None:
    """Median server times at three store sizes (the largest is the main store) and their
    growth exponents over the store size (0: independent of the store's size)."""
    sizes = [int(x) for x in args.sweep_sizes.split(",")]
    assert sizes[-1] == args.patients, "the last sweep size is --patients (the main store)"
    runs = []
    for size in sizes[:-1]:
        path = Path(tempfile.mkdtemp(prefix="rheumetrics-sweep-")) / "sweep.sqlite"
        url = prepare(path, size, args.visits_each, 1)
        with serving(url, args.workers) as (base, _pid):
            runs.append(single(base, url, size, args.repeat, quiet=True))
    runs.append(top)
    print(f"store size sweep ({load_text()}): median server time / server CPU time (ms)")
    kinds = [k for k in top if not k.endswith("(CPU)")]
    for k in kinds:
        cells = "  ".join(
            f"{size:>9,d}: {r[k]:6.1f} / {r[k + ' (CPU)']:5.1f}"
            for size, r in zip(sizes, runs, strict=True)
        )
        print(f"  {k:<36s} {cells}")
    if len(sizes) < 2:  # one store size: no growth to fit
        return
    print_growth(sizes, {k: [r[k] for r in runs] for k in kinds}, "server time")
    print_growth(sizes, {k: [r[k + " (CPU)"] for r in runs] for k in kinds}, "server CPU time")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--patients", type=int, default=100_000)
    ap.add_argument("--visits-each", type=int, default=2, help="visits per background patient")
    ap.add_argument("--clinicians", type=int, default=50)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument(
        "--workers", type=int, default=2, help="uvicorn worker processes (as `serve --workers`)"
    )
    ap.add_argument("--db", type=Path, help="reuse (or build) the store at this SQLite file")
    ap.add_argument(
        "--sweep-sizes",
        default="1000,10000,100000",
        help="store sizes of the single-clinician sweep, ending at --patients ('' skips it)",
    )
    ap.add_argument("--no-load", action="store_true", help="skip the load phase")
    args = ap.parse_args()
    if not 1 <= args.clinicians <= 200 or not 1 <= args.duration <= 600:
        ap.error("--clinicians must be 1-200 and --duration 1-600 s (bounded load)")
    if args.sweep_sizes and int(args.sweep_sizes.split(",")[-1]) != args.patients:
        ap.error("the last of --sweep-sizes must equal --patients")
    path = args.db or Path(tempfile.mkdtemp(prefix="rheumetrics-bench-")) / "bench.sqlite"
    url = prepare(path, args.patients, args.visits_each, args.clinicians)
    with serving(url, args.workers) as (base, pid):
        top = single(base, url, args.patients, args.repeat)
        if not args.no_load:
            load(base, args.clinicians, args.duration, args.patients, pid)
    if args.sweep_sizes:
        sweep(args, top)


if __name__ == "__main__":
    main()
