"""API benchmarks (issue 3, "Performance"): re-match latency and throughput on a statewide run, real server.

    python benchmarks/api.py [--quick] [--write] [--postgres URL]

Setup (a separate process, timed step by step): the statewide synthetic district of benchmarks/pairing.py (1,800
schools, mean size 39, seed 1) stored as a dataset in a fresh SQLite file (benchmarks/.data/api.db, gitignored),
a state key, and a pairing run with the default policy executed to completion by calling the library
(matcher.service.runs.start_run + execute_run, as the server's job process does), not through HTTP.

Then, with `matcher serve` started as a subprocess on 127.0.0.1 and every request going over loopback:
- sequential re-matches of distinct schools (GET the school, then POST .../rematch forbidding one of its current
  pairs, "balanced"; only the POST is timed), against rematch_school called directly on a copy of the database
  taken before the server started (same schools, same requests, no HTTP; both databases read through once
  first, so neither starts cold): the ratio is the HTTP + JSON + auth + audit overhead;
- throughput of 1, 4 and 16 concurrent clients (threads, one httpx.Client each), each re-matching its own
  distinct schools;
- contention: 16 clients re-matching the same school (on 409 they re-read it and retry); the school's revision
  history must then be 0..k with k = the number of 201 answers (exit status 1 when it is not).

--postgres URL (e.g. postgresql://postgres@127.0.0.1:5432/test) runs the same again on a fresh database made on
that server (and dropped afterwards). --write records the tables in benchmarks/RESULTS.md, replacing the section
this script wrote before and leaving the rest of the file alone. The exit status is 1 when a request gets an
unexpected answer, a check fails or the server does not start; a missed target is reported, not an error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import secrets
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx2 as httpx
from pairing import STATE_MEAN, STATE_SCHOOLS, STATE_SEED, machine, matcher_cmd, versions  # benchmarks/pairing.py
from results_file import replace_section  # benchmarks/

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATA = HERE / ".data"
START = "<!-- benchmarks/api.py: start (`python benchmarks/api.py --write` replaces this section) -->"
END = "<!-- benchmarks/api.py: end -->"

SEED = 7  # which schools are re-matched, and which of their pairs is forbidden
WARMUP = 5  # re-matches (on schools of their own) before anything is timed, in the server and in this process
LEVELS = (1, 4, 16)  # concurrent clients
CONTENDERS = 16  # clients on one school
TARGET_S = 1.0  # issue 3: "a re-match of one school of a 1,800-school run answers in well under a second"
STABILITY = "balanced"


@dataclass(frozen=True)
class Sizes:
    sequential: int  # schools re-matched one after the other (HTTP), and the same schools by direct call
    per_level: int  # re-matches per concurrency level, split evenly over its clients
    contended: int  # 201s each contending client must get


FULL, QUICK = Sizes(200, 320, 5), Sizes(50, 64, 2)


# --- measuring ------------------------------------------------------------------------------------------------

def _proc_field_mb(pid: int, name: str) -> float | None:
    """A memory line of /proc/<pid>/status (VmHWM: peak RSS of the process's current image; VmRSS), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def _proc_cpu(pid: int) -> float | None:
    """User + system CPU seconds of a process so far (/proc/<pid>/stat, utime and stime)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    """The processes whose parent is pid (the server's job process and multiprocessing's resource tracker)."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(d.name))
            except (OSError, IndexError, ValueError):
                continue
    return out


def _postgres_cpu() -> dict[int, float]:
    """CPU seconds so far of every PostgreSQL process on the machine (the server and its backends), by pid."""
    out = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if (d / "comm").read_text().strip() != "postgres":
                    continue
            except OSError:
                continue
            cpu = _proc_cpu(int(d.name))
            if cpu is not None:
                out[int(d.name)] = cpu
    return out


def _machine_busy() -> float | None:
    """CPU seconds the whole machine has spent busy (as in benchmarks/pairing.py's wrapper)."""
    try:
        with open("/proc/stat") as fh:
            f = [int(x) for x in fh.readline().split()[1:9]]
    except OSError:
        return None
    return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Meter:
    """Wall time of a phase, and the CPU the server, this process and everything else used meanwhile."""

    def __init__(self, server_pid: int | None, postgres: bool) -> None:
        self.pid, self.postgres = server_pid, postgres
        self.wall = 0.0
        self.server_cpu: float | None = None
        self.client_cpu = 0.0
        self.db_cpu: float | None = None  # PostgreSQL's processes (with SQLite the database works in-process)
        self.other: float | None = None  # other processes' CPU, in cores

    def __enter__(self) -> Meter:
        self._pg = _postgres_cpu() if self.postgres else {}
        self._busy, self._own = _machine_busy(), _own_cpu()
        self._srv = _proc_cpu(self.pid) if self.pid else None
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._t0
        self.client_cpu = _own_cpu() - self._own
        srv = _proc_cpu(self.pid) if self.pid else None
        busy = _machine_busy()
        if srv is not None and self._srv is not None:
            self.server_cpu = srv - self._srv
        if self.postgres:
            self.db_cpu = sum(c - self._pg.get(pid, 0.0) for pid, c in _postgres_cpu().items())
        if busy is not None and self._busy is not None and self.wall > 0:
            used = busy - self._busy - self.client_cpu - (self.server_cpu or 0.0) - (self.db_cpu or 0.0)
            self.other = max(0.0, used) / self.wall


def pct(xs: list[float], q: float) -> float:
    """The q-th percentile (0..100), linear between order statistics."""
    if not xs:
        return float("nan")
    s = sorted(xs)
    k = (len(s) - 1) * q / 100.0
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


# --- rows -----------------------------------------------------------------------------------------------------

@dataclass
class Row:
    backend: str
    case: str
    latencies: list[float] = field(default_factory=list)  # seconds, one per timed request
    wall: float = 0.0
    rate: float | None = None  # requests (or revisions) per second, where that means something
    server_cpu: float | None = None
    client_cpu: float | None = None
    db_cpu: float | None = None
    other: float | None = None
    requests: int | None = None  # shown in the table; default len(latencies)
    served: int | None = None  # requests the server answered in the phase (server CPU per request); default requests
    note: str = ""

    def ms(self, q: float | None = None) -> float:
        if not self.latencies:
            return float("nan")
        return 1000 * (statistics.median(self.latencies) if q is None else pct(self.latencies, q))

    def take(self, m: Meter) -> None:
        self.wall, self.server_cpu, self.client_cpu, self.db_cpu, self.other = (m.wall, m.server_cpu, m.client_cpu,
                                                                                m.db_cpu, m.other)


@dataclass
class Setup:
    backend: str
    info: dict[str, Any]
    db_mb: float | None = None
    copy_s: float = 0.0
    wall: float = 0.0


class Bench:
    def __init__(self, sizes: Sizes) -> None:
        self.sizes = sizes
        self.rows: list[Row] = []
        self.setups: list[Setup] = []
        self.memory: list[str] = []
        self.checks: list[str] = []
        self.notes: list[str] = []
        self.problems: list[str] = []

    def say(self, text: str) -> None:
        print(text, flush=True)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        n = row.requests if row.requests is not None else len(row.latencies)
        rate = f", {row.rate:.1f}/s" if row.rate is not None else ""
        srv = f", server CPU {row.server_cpu:.2f} s" if row.server_cpu is not None else ""
        self.say(f"  {row.case}: {n} requests, median {row.ms():.1f} ms, p95 {row.ms(95):.1f} ms, max "
                 f"{row.ms(100):.1f} ms{rate}; wall {row.wall:.2f} s{srv}, this process's CPU "
                 f"{row.client_cpu or 0:.2f} s" + (f"; {row.note}" if row.note else ""))
        return row

    def problem(self, text: str) -> None:
        self.problems.append(text)
        self.say(f"  PROBLEM: {text}")


# --- setup (a child process, so this one stays a small client) ------------------------------------------------

def setup_child(url: str, workers: int) -> None:
    """Hidden mode: store the statewide district, make a state key, run the default policy; print JSON."""
    t0 = time.perf_counter()
    from matcher.rubric import bundled
    from matcher.service.datasets import store_dataset, synthetic_district
    from matcher.service.runs import execute_run, start_run
    from matcher.store import repo
    from matcher.store.db import open_engine, upgrade
    from matcher.store.keys import caller_for, create_key

    out: dict[str, Any] = {"imports_s": time.perf_counter() - t0}
    t0 = time.perf_counter()
    engine = open_engine(url)
    upgrade(engine)
    key = create_key(engine, "state", label="benchmarks/api.py")
    caller = caller_for(engine, key)
    assert caller is not None
    out["schema_and_key_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    table, coords = synthetic_district(STATE_SCHOOLS, STATE_MEAN, STATE_SEED, bundled("team"))
    out["synth_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    args = {"schools": STATE_SCHOOLS, "mean_size": float(STATE_MEAN), "seed": STATE_SEED, "rubric": "team"}
    dataset_id = store_dataset(engine, caller, table, kind="synthetic", rubric="team", coords=coords,
                               name=f"synthetic: {STATE_SCHOOLS} schools, seed {STATE_SEED}", synthetic=args)
    out["store_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    run_id = start_run(engine, caller, dataset_id, {}, None, lambda ds: None)
    status = execute_run(url, run_id, workers)
    out["run_s"] = time.perf_counter() - t0
    with engine.connect() as conn:
        run = repo.get_run(conn, run_id)
    engine.dispose()
    s = run.summary or {}
    out.update(key=key, dataset_id=dataset_id, run_id=run_id, status=status, error=run.error,
               n_teachers=len(table), n_schools=len(set(table.school_id.tolist())), n_pairs=s.get("n_pairs"),
               total_value=s.get("total_value"), solve_s=s.get("solve_seconds"), solvers=s.get("solvers"),
               workers=workers, peak_mb=_proc_field_mb(os.getpid(), "VmHWM"))
    print(json.dumps(out))


# --- databases ------------------------------------------------------------------------------------------------

class Database:
    """A fresh database for one backend and a copy of it (for the direct calls), removed or dropped at the end."""

    def __init__(self, backend: str, admin_url: str | None = None) -> None:
        self.backend, self.admin_url = backend, admin_url
        self.names: list[str] = []
        if backend == "sqlite":
            DATA.mkdir(parents=True, exist_ok=True)
            self.path, self.copy_path = DATA / "api.db", DATA / "api-direct.db"
            for p in (self.path, self.copy_path):
                for suffix in ("", "-wal", "-shm", "-journal"):
                    Path(str(p) + suffix).unlink(missing_ok=True)
            self.url, self.copy_url = f"sqlite:///{self.path}", f"sqlite:///{self.copy_path}"
        else:
            assert admin_url is not None
            name = f"matcher_bench_{secrets.token_hex(4)}"
            with self._admin() as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            self.names.append(name)
            base = _plain(admin_url).rpartition("/")[0]
            self.name = name
            self.url, self.copy_url = f"{base}/{name}", f"{base}/{name}_direct"

    def _admin(self) -> Any:
        import psycopg

        assert self.admin_url is not None
        return psycopg.connect(_plain(self.admin_url), autocommit=True, connect_timeout=5)

    def make_copy(self) -> None:
        """The database as the setup left it, for the direct calls (so they do the very requests HTTP does)."""
        if self.backend == "sqlite":
            src, dst = sqlite3.connect(self.path), sqlite3.connect(self.copy_path)
            try:
                src.backup(dst)
            finally:
                src.close()
                dst.close()
        else:
            with self._admin() as conn:
                conn.execute(f'CREATE DATABASE "{self.name}_direct" TEMPLATE "{self.name}"')
            self.names.append(f"{self.name}_direct")

    def warm(self) -> None:
        """Read every table of both databases once, so that neither starts cold: the copy PostgreSQL just made
        from a template is not in its shared buffers, while the original was written moments ago."""
        from sqlalchemy import select

        from matcher.store.db import open_engine
        from matcher.store.tables import metadata

        for url in (self.url, self.copy_url):
            engine = open_engine(url)
            try:
                with engine.connect() as conn:
                    for t in metadata.sorted_tables:
                        conn.execute(select(t)).fetchall()
            finally:
                engine.dispose()

    def size_mb(self) -> float | None:
        if self.backend == "sqlite":
            return sum(p.stat().st_size for p in (self.path, Path(str(self.path) + "-wal")) if p.exists()) / 1e6
        with self._admin() as conn:
            row = conn.execute("SELECT pg_database_size(%s)", (self.name,)).fetchone()
        return None if row is None else row[0] / 1e6

    def drop(self) -> None:
        if self.backend == "sqlite" or not self.names:
            return
        with self._admin() as conn:
            for name in self.names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.names = []


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def run_setup(b: Bench, db: Database) -> Setup:
    workers = min(2, os.cpu_count() or 1)  # the server's default MATCHER_SOLVE_WORKERS
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--setup", db.url, "--workers",
                           str(workers)], capture_output=True, text=True, cwd=REPO)
    wall = time.perf_counter() - t0
    log = DATA / "logs"
    log.mkdir(parents=True, exist_ok=True)
    (log / f"api-setup-{db.backend}.err").write_text(proc.stderr)
    if proc.returncode != 0:
        raise RuntimeError(f"setup on {db.backend} failed (exit {proc.returncode}):\n{_tail(proc.stderr)}")
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    if info["status"] != "succeeded":
        raise RuntimeError(f"the pairing run on {db.backend} ended {info['status']}: {info.get('error')}")
    t1 = time.perf_counter()
    db.make_copy()
    s = Setup(db.backend, info, db.size_mb(), time.perf_counter() - t1, wall)
    db.warm()
    b.say(f"  setup ({wall:.1f} s in a child process): imports {info['imports_s']:.1f} s, schema + key "
          f"{info['schema_and_key_s']:.2f} s, synthetic district {info['synth_s']:.1f} s ({info['n_teachers']:,} "
          f"teachers, {info['n_schools']:,} schools), store dataset {info['store_s']:.1f} s, pairing run "
          f"{info['run_s']:.1f} s (solve {info['solve_s']} s, {info['n_pairs']:,} pairs, total "
          f"{info['total_value']:g}); database {s.db_mb:.0f} MB; copy for the direct calls {s.copy_s:.1f} s; "
          f"peak {info['peak_mb']:.0f} MB")
    return s


def _tail(text: str, n: int = 30) -> str:
    return "\n".join("    " + x for x in text.rstrip().splitlines()[-n:])


# --- the schools and requests ---------------------------------------------------------------------------------

def pick(school_id: str, pairs: list[dict[str, Any]]) -> list[str]:
    """The pair to forbid: one of the school's current pairs, the same one whichever way the pairs were read."""
    p = pairs[random.Random(f"{SEED}:{school_id}").randrange(len(pairs))]
    return [p["teacher_a"], p["teacher_b"]]


def body(revision: int, forbid: list[str]) -> dict[str, Any]:
    return {"revision": revision, "forbid": [forbid], "stability": STABILITY}


@dataclass
class Plan:
    warmup: list[str]
    sequential: list[str]
    levels: dict[int, list[list[str]]]  # clients -> each client's schools
    contended: str
    pairs: dict[str, list[dict[str, Any]]]  # revision 0's pairs of every school used


def plan(b: Bench, url: str, run_id: str) -> Plan:
    """Distinct schools for every timed request (each is a school's first re-match), chosen at random among those
    with at least two pairs; read from the database before the server starts."""
    from matcher.store import repo
    from matcher.store.db import open_engine

    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            rows = repo.latest_revisions(conn, run_id, columns=("school_id", "revision", "pairs"))
    finally:
        engine.dispose()
    eligible = sorted(r.school_id for r in rows if r.revision == 0 and len(r.pairs) >= 2)
    random.Random(SEED).shuffle(eligible)
    sz = b.sizes
    need = WARMUP + sz.sequential + len(LEVELS) * sz.per_level + 1
    if len(eligible) < need:
        raise RuntimeError(f"{need} schools with two pairs or more are needed, the run has {len(eligible)}")
    it = iter(eligible)
    warm = [next(it) for _ in range(WARMUP)]
    seq = [next(it) for _ in range(sz.sequential)]
    levels = {}
    for n in LEVELS:
        mine = [next(it) for _ in range(sz.per_level)]
        levels[n] = [mine[i::n] for i in range(n)]
    contended = next(it)
    by_id = {r.school_id: list(r.pairs) for r in rows}
    used = [*warm, *seq, *(s for n in LEVELS for c in levels[n] for s in c), contended]
    return Plan(warm, seq, levels, contended, {s: by_id[s] for s in used})


# --- direct calls (the baseline in this process) --------------------------------------------------------------

def direct_calls(b: Bench, db: Database, setup: Setup, p: Plan) -> Row:
    from matcher.service.rematch import rematch_school
    from matcher.store.db import open_engine
    from matcher.store.keys import caller_for

    engine = open_engine(db.copy_url)
    row = Row(db.backend, "re-match, library call `rematch_school` (no HTTP; same schools and requests)")
    try:
        caller = caller_for(engine, setup.info["key"])
        assert caller is not None
        run_id = setup.info["run_id"]

        def one(sid: str) -> None:
            req = body(0, pick(sid, p.pairs[sid]))
            out = rematch_school(engine, caller, run_id, sid, revision=0, forbid=req["forbid"], stability=STABILITY,
                                 request=req)
            if out["revision"] != 1:
                b.problem(f"direct re-match of {sid} answered revision {out['revision']}, not 1")

        for sid in p.warmup:
            one(sid)
        with Meter(None, db.backend == "postgresql") as m:
            for sid in p.sequential:
                t0 = time.perf_counter()
                one(sid)
                row.latencies.append(time.perf_counter() - t0)
        row.take(m)
    finally:
        engine.dispose()
    return b.add(row)


# --- the server -----------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, backend: str, url: str) -> None:
        self.backend = backend
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        log = DATA / "logs"
        log.mkdir(parents=True, exist_ok=True)
        self.out_path, self.err_path = log / f"api-server-{backend}.out", log / f"api-server-{backend}.err"
        self.cmd = [*matcher_cmd(), "serve", "--host", "127.0.0.1", "--port", str(self.port), "--database-url", url,
                    "--log-level", "warning"]
        self.proc: subprocess.Popen[bytes] | None = None
        self.ready_s = 0.0

    def start(self, timeout: float = 120.0) -> None:
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            t0 = time.perf_counter()
            self.proc = subprocess.Popen(self.cmd, stdout=out, stderr=err, cwd=REPO)
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.base, timeout=5.0) as c:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"`{' '.join(self.cmd)}` exited {self.proc.returncode} before it was ready:\n"
                                       f"{_tail(self.err_path.read_text(errors='replace'))}")
                try:
                    if c.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the server was not ready after {timeout:g} s")
                time.sleep(0.05)
        self.ready_s = time.perf_counter() - t0
        self.settle()

    def settle(self, quiet: float = 0.05, timeout: float = 60.0) -> None:
        """Wait until the server's child processes are idle: /readyz answers while the job process the server
        starts is still importing, and that would share the cores with the first timed phase."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            now = sum(_proc_cpu(k) or 0.0 for k in _children(self.pid or 0))
            if last is not None and now - last < quiet:
                return
            last = now
            time.sleep(0.5)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def meter(self) -> Meter:
        return Meter(self.pid, self.backend == "postgresql")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(15)


def client(base: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=120.0)


def _expect(b: Bench, what: str, r: httpx.Response, status: int) -> bool:
    if r.status_code == status:
        return True
    b.problem(f"{what}: HTTP {r.status_code} (expected {status}): {r.text[:300]}")
    return False


def sequential(b: Bench, srv: Server, key: str, run_id: str, p: Plan) -> tuple[Row, Row]:
    """GET each school (its revision and current pairs), then POST its re-match; each request timed on its own."""
    base = f"/v1/pairings/{run_id}/schools"
    gets = Row(srv.backend, "read one school, HTTP GET (before its re-match)")
    posts = Row(srv.backend, "re-match, HTTP POST, one client, one request at a time")
    with client(srv.base, key) as c:
        for sid in p.warmup:
            s = c.get(f"{base}/{sid}").json()
            r = c.post(f"{base}/{sid}/rematch", json=body(s["revision"], pick(sid, s["pairs"])))
            _expect(b, f"warm-up re-match of {sid}", r, 201)
        reqs = {}
        with srv.meter() as m:
            for sid in p.sequential:
                t0 = time.perf_counter()
                r = c.get(f"{base}/{sid}")
                gets.latencies.append(time.perf_counter() - t0)
                if _expect(b, f"GET school {sid}", r, 200):
                    s = r.json()
                    reqs[sid] = body(s["revision"], pick(sid, s["pairs"]))
        gets.take(m)
        with srv.meter() as m:
            for sid in p.sequential:
                if sid not in reqs:
                    continue
                t0 = time.perf_counter()
                r = c.post(f"{base}/{sid}/rematch", json=reqs[sid])
                posts.latencies.append(time.perf_counter() - t0)
                if _expect(b, f"re-match of {sid}", r, 201) and r.json()["revision"] != 1:
                    b.problem(f"re-match of {sid} answered revision {r.json()['revision']}, not 1")
        posts.take(m)
    posts.rate = len(posts.latencies) / posts.wall if posts.wall else None
    return b.add(gets), b.add(posts)


def _threads(n: int, work: Callable[[int, httpx.Client], None], srv: Server, key: str) -> Meter:
    """Run work(i, client) in n threads, released together once every client has its connection; time it."""
    gate = threading.Barrier(n + 1)
    errors: list[BaseException] = []

    def main(i: int) -> None:
        try:
            with client(srv.base, key) as c:
                c.get("/healthz")  # open the keep-alive connection before the clock starts
                gate.wait()
                work(i, c)
        except BaseException as exc:  # reported by the caller
            errors.append(exc)
            gate.abort()

    threads = [threading.Thread(target=main, args=(i,), name=f"client-{i}") for i in range(n)]
    for t in threads:
        t.start()
    with srv.meter() as meter:  # started just before the clients are released
        try:
            gate.wait()
        except threading.BrokenBarrierError:
            pass  # a client failed before the start; its error is raised below
        for t in threads:
            t.join()
    if errors:
        raise RuntimeError(f"a client thread failed: {errors[0]!r}") from errors[0]
    return meter


def throughput(b: Bench, srv: Server, key: str, run_id: str, p: Plan, n: int) -> Row:
    """n clients, each re-matching its own schools (revision 0, pairs as read before the server started)."""
    base = f"/v1/pairings/{run_id}/schools"
    lat: list[list[float]] = [[] for _ in range(n)]
    bad: list[str] = []

    def work(i: int, c: httpx.Client) -> None:
        for sid in p.levels[n][i]:
            t0 = time.perf_counter()
            r = c.post(f"{base}/{sid}/rematch", json=body(0, pick(sid, p.pairs[sid])))
            lat[i].append(time.perf_counter() - t0)
            if r.status_code != 201:
                bad.append(f"{sid}: HTTP {r.status_code} {r.text[:200]}")

    m = _threads(n, work, srv, key)
    row = Row(srv.backend, f"re-match, HTTP POST, {n} concurrent client{'s' if n > 1 else ''}, own schools")
    row.latencies = [x for part in lat for x in part]
    row.take(m)
    row.rate = len(row.latencies) / m.wall
    for x in bad[:5]:
        b.problem(f"{n} clients: {x}")
    if len(bad) > 5:
        b.problem(f"{n} clients: {len(bad) - 5} more unexpected answers")
    return b.add(row)


def contention(b: Bench, srv: Server, key: str, run_id: str, p: Plan) -> Row:
    """CONTENDERS clients on one school: read it, re-match against what was read, on 409 read again and retry."""
    sid = p.contended
    base = f"/v1/pairings/{run_id}/schools/{sid}"
    want = b.sizes.contended
    lat: list[list[float]] = [[] for _ in range(CONTENDERS)]
    won: list[list[int]] = [[] for _ in range(CONTENDERS)]
    lost = [0] * CONTENDERS
    bad: list[str] = []

    def work(i: int, c: httpx.Client) -> None:
        rng = random.Random(f"{SEED}:{sid}:{i}")
        attempts = 0
        while len(won[i]) < want and attempts < 100 * want:
            attempts += 1
            s = c.get(base)
            if s.status_code != 200:
                bad.append(f"GET: HTTP {s.status_code} {s.text[:200]}")
                return
            cur = s.json()
            pr = cur["pairs"][rng.randrange(len(cur["pairs"]))] if cur["pairs"] else None
            req = {"revision": cur["revision"], "forbid": [[pr["teacher_a"], pr["teacher_b"]]] if pr else [],
                   "stability": STABILITY}
            t0 = time.perf_counter()
            r = c.post(f"{base}/rematch", json=req)
            lat[i].append(time.perf_counter() - t0)
            if r.status_code == 201:
                won[i].append(r.json()["revision"])
            elif r.status_code == 409:
                lost[i] += 1
            else:
                bad.append(f"POST: HTTP {r.status_code} {r.text[:200]}")
                return
        if len(won[i]) < want:
            bad.append(f"client {i} got {len(won[i])} of {want} re-matches in {attempts} attempts")

    m = _threads(CONTENDERS, work, srv, key)
    k = sum(len(w) for w in won)
    conflicts = sum(lost)
    with client(srv.base, key) as c:
        r = c.get(f"{base}/revisions")
        history = [x["revision"] for x in r.json()["revisions"]] if r.status_code == 200 else []
    answered = sorted(x for w in won for x in w)
    ok = history == list(range(k + 1)) and answered == list(range(1, k + 1)) and not bad
    verdict = "OK" if ok else "FAIL"
    row = Row(srv.backend, f"re-match, HTTP POST, {CONTENDERS} clients on one school (409: read again, retry)")
    row.latencies = [x for part in lat for x in part]
    row.take(m)
    row.rate = k / m.wall
    row.served = 2 * len(row.latencies)  # a GET before every POST
    top = history[-1] if history else "?"
    row.note = (f"{k} revisions saved (201), {conflicts} conflicts (409), server CPU per GET + POST; history "
                f"0..{top} contiguous with k = {k}: {verdict}")
    b.add(row)
    b.say(f"  revision history of {sid}: {len(history)} revisions, 201 answers numbered {answered[:3]}..."
          f"{answered[-3:]}: {verdict}")
    if not ok:
        detail = "; ".join(bad[:5])
        b.problem(f"contention on {sid} ({srv.backend}): history {history[:5]}...{history[-5:]} (length "
                  f"{len(history)}) against {k} answers 201 numbered {answered[:5]}...{answered[-5:]}" +
                  (f"; {detail}" if detail else ""))
    b.checks.append(f"- {srv.backend}: {CONTENDERS} clients on one school: {k} answers 201, {conflicts} answers "
                    f"409, revision history 0..{k} contiguous and each 201 a different revision: {verdict}")
    return row


# --- one backend, start to finish -----------------------------------------------------------------------------

def bench_backend(b: Bench, backend: str, admin_url: str | None) -> None:
    b.say(f"\n[{backend}] setup: {STATE_SCHOOLS:,} schools, mean size {STATE_MEAN}, seed {STATE_SEED}")
    db = Database(backend, admin_url)
    srv: Server | None = None
    try:
        setup = run_setup(b, db)
        b.setups.append(setup)
        p = plan(b, db.copy_url, setup.info["run_id"])
        b.say(f"[{backend}] direct calls of rematch_school on the copy: {WARMUP} warm-up, {len(p.sequential)} timed")
        direct = direct_calls(b, db, setup, p)
        srv = Server(backend, db.url)
        srv.start()
        b.say(f"[{backend}] server `{' '.join(srv.cmd[1:])}` (pid {srv.pid}) ready in {srv.ready_s:.1f} s")
        key, run_id = setup.info["key"], setup.info["run_id"]
        _, posts = sequential(b, srv, key, run_id, p)
        if direct.latencies and posts.latencies:
            ratio = posts.ms() / direct.ms()
            direct.note = "1x (reference)"
            posts.note = f"{ratio:.1f}x the library call (medians; + {posts.ms() - direct.ms():.1f} ms)"
            b.say(f"  HTTP / library call, medians: {ratio:.1f}x")
        for n in LEVELS:
            b.say(f"[{backend}] {n} concurrent client(s), {b.sizes.per_level} re-matches of distinct schools")
            throughput(b, srv, key, run_id, p, n)
        b.say(f"[{backend}] {CONTENDERS} clients on one school, {b.sizes.contended} saved re-matches each")
        contention(b, srv, key, run_id, p)
        hwm, rss = _proc_field_mb(srv.pid or 0, "VmHWM"), _proc_field_mb(srv.pid or 0, "VmRSS")
        kids = [f"{x:.0f}" for x in sorted((_proc_field_mb(k, "VmHWM") or 0.0 for k in _children(srv.pid or 0)),
                                           reverse=True)]
        if hwm is not None:
            b.memory.append(f"- {backend}: server process peak RSS (VmHWM) {hwm:.0f} MB, {rss:.0f} MB at the end "
                            f"(ready {srv.ready_s:.1f} s after start); its child processes (the idle job process, "
                            f"multiprocessing's resource tracker): peak {' + '.join(kids) or 'none'} MB; the setup "
                            f"process peaked at {setup.info['peak_mb']:.0f} MB")
        if srv.proc is not None and srv.proc.poll() is not None:
            b.problem(f"the {backend} server exited with {srv.proc.returncode} during the benchmark")
    finally:
        if srv is not None:
            srv.stop()
        db.drop()


# --- report ---------------------------------------------------------------------------------------------------

def setup_table(b: Bench) -> str:
    head = ("backend", "teachers", "schools", "pairs", "total value", "synthetic district s", "store dataset s",
            "pairing run s (solve s)", "database MB", "setup peak MB")
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
    for s in b.setups:
        i = s.info
        cells = (s.backend, f"{i['n_teachers']:,}", f"{i['n_schools']:,}", f"{i['n_pairs']:,}", f"{i['total_value']:g}",
                 f"{i['synth_s']:.1f}", f"{i['store_s']:.1f}", f"{i['run_s']:.1f} ({i['solve_s']})",
                 f"{s.db_mb:.0f}" if s.db_mb is not None else "", f"{i['peak_mb']:.0f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def table(b: Bench) -> str:
    head = ("backend", "case", "requests", "median ms", "p95 ms", "max ms", "req/s", "server CPU ms/req",
            "cores: server / this process / PostgreSQL / others", "notes")
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
    for r in b.rows:
        n = r.requests if r.requests is not None else len(r.latencies)
        served = r.served if r.served is not None else n
        cpu = f"{1000 * r.server_cpu / served:.1f}" if r.server_cpu is not None and served else ""
        rate = f"{r.rate:.1f}" if r.rate is not None else ""
        cores = ""
        if r.wall:
            cores = " / ".join("-" if x is None else f"{x:.2f}" for x in (
                None if r.server_cpu is None else r.server_cpu / r.wall,
                None if r.client_cpu is None else r.client_cpu / r.wall,
                None if r.db_cpu is None else r.db_cpu / r.wall, r.other))
        cells = (r.backend, r.case, str(n), f"{r.ms():.1f}", f"{r.ms(95):.1f}", f"{r.ms(100):.1f}", rate, cpu, cores,
                 r.note)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets(b: Bench) -> list[str]:
    out = []
    for r in b.rows:
        if r.case.startswith("re-match, HTTP POST, one client"):
            ok = r.ms(95) < 1000 * TARGET_S and r.ms(100) < 1000 * TARGET_S
            out.append(f"- {'met' if ok else '**MISSED**'}: {r.backend}: a re-match of one school of a "
                       f"{STATE_SCHOOLS:,}-school run answers in well under a second (median {r.ms():.1f} ms, p95 "
                       f"{r.ms(95):.1f} ms, max {r.ms(100):.1f} ms over {len(r.latencies)} schools)")
    return out


def load_notes(b: Bench) -> list[str]:
    """Other processes' CPU during the timed phases: on a 2-core machine that moves the figures."""
    busy = [r.other for r in b.rows if r.other is not None]
    if not busy:
        return []
    out = [f"other processes' CPU during the timed phases: mean {statistics.fmean(busy):.2f}, max {max(busy):.2f} "
           f"cores of {os.cpu_count()} (machine busy time from /proc/stat minus the server's, this process's and "
           "PostgreSQL's CPU)"]
    shared = [f"{r.backend}: {r.case} ({r.other:.2f})" for r in b.rows if r.other is not None and r.other >= 0.25]
    if shared:
        out.append("phases that shared the machine with other work (>= 0.25 cores): " + "; ".join(shared))
    return out


def scaling_notes(b: Bench) -> list[str]:
    """How throughput and the server's CPU per re-match moved from the fewest to the most clients."""
    out = []
    for backend in dict.fromkeys(r.backend for r in b.rows):
        rows = [r for r in b.rows if r.backend == backend and "concurrent" in r.case]
        stats = [(r.rate, r.server_cpu / len(r.latencies), r.server_cpu / r.wall) for r in rows
                 if r.rate and r.server_cpu is not None and r.latencies and r.wall]
        if len(stats) != len(LEVELS):
            continue
        (rate0, cpu0, _), (rate1, cpu1, _) = stats[0], stats[-1]
        out.append(f"{backend}: from {LEVELS[0]} to {LEVELS[-1]} clients, throughput {rate0:.1f} -> {rate1:.1f} "
                   f"req/s and the server's CPU per re-match {1000 * cpu0:.1f} -> {1000 * cpu1:.1f} ms; the server "
                   f"process used at most {max(x[2] for x in stats):.2f} cores (one uvicorn process, whose Python "
                   "code runs on one core at a time), so more clients wait in line rather than add throughput")
    return out


def pkg_versions() -> str:
    out = []
    for pkg in ("matcher", "fastapi", "starlette", "uvicorn", "pydantic", "sqlalchemy", "alembic", "psycopg",
                "httpx2"):
        try:
            out.append(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            pass
    return ", ".join(out)


def section(b: Bench, elapsed: float, backends: list[str]) -> str:
    m = machine()
    argv = ["URL" if sys.argv[i - 1] == "--postgres" else a for i, a in enumerate(sys.argv) if i]
    cmd = "python benchmarks/api.py " + " ".join(a.split("=", 1)[0] + "=URL" if a.startswith("--postgres=") else a
                                                 for a in argv)
    sz = b.sizes
    text = [
        START,
        "# API benchmarks (re-match)",
        "",
        f"Written by `{cmd.strip()}` on {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} ({elapsed / 60:.1f} min "
        "in all). See benchmarks/README.md and the docstring of benchmarks/api.py for the method.",
        "",
        f"- machine: {m['cpu']}, {m['cores']} cores, {m['ram']} RAM, {m['os']}",
        f"- Python {m['python']}; {pkg_versions()}",
        f"- source: git {versions()['git']}",
        f"- backends: {', '.join(backends)}; server: `matcher serve` (one uvicorn process, default settings) on "
        "127.0.0.1; clients: httpx, one keep-alive `Client` per thread, in the benchmark process. Server and clients "
        f"share the machine's {os.cpu_count()} cores and timings on a VM this small are noisy: the cores column "
        "says how busy the machine was during each phase (CPU seconds per wall second).",
        f"- every timed re-match is the first re-match of a different school (forbid one current pair, stability "
        f"\"{STABILITY}\"), except in the one-school case; {WARMUP} warm-up re-matches first, in the server and in "
        f"this process; sequential: {sz.sequential} schools; each concurrency level: {sz.per_level} re-matches "
        f"split evenly over the clients; one school: {CONTENDERS} clients x {sz.contended} saved re-matches",
        "",
        "## API setup (timed apart; one child process calling the library, as the server's job would)",
        "",
        setup_table(b),
        "",
        "## API re-match latency and throughput",
        "",
        table(b),
        "",
        "The library-call row runs `matcher.service.rematch.rematch_school` in the benchmark process on a copy of the "
        "database taken before the server started (both read through once first), for the same schools with the same "
        "requests as the sequential HTTP row; the HTTP row adds the network round trip on loopback, JSON in and out, "
        "the key lookup, the route's access checks and the audit-log insert. Latencies are per request as the client "
        "saw them; req/s is requests over the phase's wall time (for the one-school case: saved revisions per "
        "second).",
        "",
        "## API targets (issue 3)",
        "",
        *targets(b),
        "",
        "## API checks",
        "",
        *b.checks,
        "",
        "## API memory",
        "",
        *b.memory,
        f"- the benchmark process (clients and the direct calls): ru_maxrss "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB",
    ]
    notes = [*scaling_notes(b), *load_notes(b), *b.notes]
    if notes or b.problems:
        text += ["", "## API notes and problems", "", *(f"- {n}" for n in notes),
                 *(f"- PROBLEM: {p}" for p in b.problems)]
    text.append(END)
    return "\n".join(text) + "\n"


def write_results(text: str) -> None:
    replace_section(START, END, text)


# --- main -----------------------------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help=f"{QUICK.sequential} sequential re-matches, {QUICK.per_level} per concurrency level")
    ap.add_argument("--write", action="store_true", help="record the tables in benchmarks/RESULTS.md")
    ap.add_argument("--postgres", metavar="URL",
                    help="also run on a fresh database made (and dropped) on this PostgreSQL server")
    ap.add_argument("--setup", help=argparse.SUPPRESS)  # hidden: the setup child, on this database URL
    ap.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.setup:
        setup_child(args.setup, args.workers)
        return 0

    started = time.perf_counter()
    b = Bench(QUICK if args.quick else FULL)
    m = machine()
    b.say(f"machine: {m['cpu']}, {m['cores']}, {m['ram']}; Python {m['python']}; server via {matcher_cmd()}")
    backends = ["sqlite"] + (["postgresql"] if args.postgres else [])
    for backend in backends:
        try:
            bench_backend(b, backend, args.postgres if backend == "postgresql" else None)
        except Exception as exc:  # reported, and the next backend still runs
            b.problem(f"{backend}: {exc}")
    elapsed = time.perf_counter() - started

    print("\n" + setup_table(b))
    print("\n" + table(b))
    print("\n" + "\n".join([*targets(b), *b.checks, *b.memory]))
    print(f"- the benchmark process: ru_maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    for n in [*scaling_notes(b), *load_notes(b)]:
        print(f"- {n}")
    if b.problems:
        print(f"\n{len(b.problems)} problem(s):")
        for p in b.problems:
            print(f"- {p}")
    print(f"\n{elapsed:.0f} s in all")
    if args.write:
        write_results(section(b, elapsed, backends))
    return 1 if b.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
