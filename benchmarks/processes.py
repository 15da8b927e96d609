"""Re-match throughput with 1, 2 and 4 server processes on one PostgreSQL database (issue 12, "several server
processes on one database").

    python benchmarks/processes.py [--postgres URL] [--mode separate|workers|both] [--clients 16[,2...]]
                                   [--requests 480] [--quick] [--write]

Setup (a child process, benchmarks/api.py's --setup mode): the statewide synthetic district (1,800 schools, mean
size 39, seed 1) stored as a dataset in a fresh database on the PostgreSQL server (dropped afterwards), a state
key, and its pairing run with the default policy.

Then for each number N of server processes (1, 2, 4) and each mode:
- separate: N `matcher serve` processes, each on its own port; every client sends its requests to them in turn
  (client-side round-robin);
- workers: one `matcher serve --workers N` (uvicorn's N worker processes on one port; the kernel hands each new
  connection to one of them).
`--clients` threads (a list gives a row per count; stdlib http.client, one keep-alive connection per server each)
re-match distinct schools of the run: the school's current revision, forbidding one of its current pairs, stability
"balanced" (the benchmark is the only writer, so it knows every school's revision and pairs; a phase never re-
matches a school twice). Each server process gets warm-up re-matches first. The table: processes, requests, wall
seconds, requests per second, the ratio to 1 process of the same mode, p50/p95 latency, the peak RSS (VmHWM) of the
server processes (and of everything under them: the idle job processes, the resource tracker), and the CPU the
servers, PostgreSQL and the clients used per wall second.

--write records the table in benchmarks/RESULTS.md (its own section). The exit status is 1 when a request gets an
unexpected answer or a server does not start.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
from api import DATA, REPO, Database, _machine_busy, _own_cpu, _postgres_cpu, _proc_cpu, _proc_field_mb, pct, pick
from pairing import machine, matcher_cmd, versions  # benchmarks/pairing.py
from results_file import replace_section  # benchmarks/

START = "<!-- benchmarks/processes.py: start (`python benchmarks/processes.py --write` replaces this section) -->"
END = "<!-- benchmarks/processes.py: end -->"
LEVELS = (1, 2, 4)
WARMUP = 6  # re-matches per server process before anything is timed
POSTGRES = os.environ.get("MATCHER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


# --- processes ------------------------------------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    out = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            out += [int(x) for x in (task / "children").read_text().split()]
    except OSError:
        pass
    return out


def _tree(pid: int) -> list[int]:
    out, todo = [pid], _children(pid)
    while todo:
        p = todo.pop()
        out.append(p)
        todo += _children(p)
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _web_processes(root: int) -> list[int]:
    """The processes that answer HTTP: `matcher serve` itself or, with --workers, uvicorn's worker processes (the
    spawned children that are neither job processes nor the resource tracker; the supervisor answers nothing)."""
    workers = [p for p in _children(root) if "spawn_main" in _cmdline(p) and not _is_job_process(p)]
    return workers or [root]


def _is_job_process(pid: int) -> bool:
    """A job process is a spawned child of a web process with no children of its own that answer HTTP; uvicorn's
    workers are the spawned children of `matcher serve` that themselves have spawned children (their job
    processes)."""
    return not any("spawn_main" in _cmdline(k) for k in _children(pid))


class Servers:
    """N server processes: N `matcher serve` (separate) or one `matcher serve --workers N`."""

    def __init__(self, mode: str, n: int, url: str) -> None:
        self.mode, self.n, self.url = mode, n, url
        self.procs: list[subprocess.Popen[bytes]] = []
        self.bases: list[str] = []
        self.addresses: list[tuple[str, int]] = []
        self.logs = DATA / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)

    def start(self, timeout: float = 120.0) -> None:
        from api import free_port

        count, workers = (self.n, 1) if self.mode == "separate" else (1, self.n)
        env = {**os.environ, "MATCHER_DATABASE_URL": self.url}
        for i in range(count):
            port = free_port()
            cmd = [*matcher_cmd(), "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                   "--workers", str(workers)]
            with (self.logs / f"processes-{self.mode}-{self.n}-{i}.err").open("wb") as err:
                self.procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, cwd=REPO, env=env))
            self.bases.append(f"http://127.0.0.1:{port}")
            self.addresses.append(("127.0.0.1", port))
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=5.0) as c:
            for proc, base in zip(self.procs, self.bases, strict=True):
                while True:
                    if proc.poll() is not None:
                        raise RuntimeError(f"a server exited {proc.returncode} before it was ready; see "
                                           f"{self.logs}")
                    try:
                        if c.get(f"{base}/readyz").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"a server was not ready after {timeout:g} s")
                    time.sleep(0.05)
        # Every web process has its job process and the imports done: wait until the whole tree is idle.
        # each server, its job process and resource tracker; or the supervisor, its tracker, N workers and their jobs
        want = 3 * self.n if self.mode == "separate" else 2 * self.n + 2
        while len(self.everything()) < want and time.monotonic() < deadline:
            time.sleep(0.1)
        last = None
        while time.monotonic() < deadline:
            cpu = sum(_proc_cpu(p) or 0.0 for p in self.everything())
            if last is not None and cpu - last < 0.05:
                break
            last = cpu
            time.sleep(0.5)

    def everything(self) -> list[int]:
        return [p for proc in self.procs for p in _tree(proc.pid)]

    def web(self) -> list[int]:
        return [p for proc in self.procs for p in _web_processes(proc.pid)]

    def cpu(self) -> float:
        return sum(_proc_cpu(p) or 0.0 for p in self.everything())

    def peak_mb(self) -> tuple[float, float]:
        """Peak RSS of the web processes, and of every process under the servers, summed (MB)."""
        web = sum(_proc_field_mb(p, "VmHWM") or 0.0 for p in self.web())
        return web, sum(_proc_field_mb(p, "VmHWM") or 0.0 for p in self.everything())

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)


# --- the work ---------------------------------------------------------------------------------------------------

@dataclass
class Row:
    mode: str
    n: int
    clients: int = 0
    requests: int = 0
    wall: float = 0.0
    latencies: list[float] = field(default_factory=list)
    web_mb: float = 0.0
    all_mb: float = 0.0
    server_cores: float = 0.0
    db_cores: float = 0.0
    client_cores: float = 0.0
    other_cores: float = 0.0
    per_process: list[int] = field(default_factory=list)  # requests sent to each server (separate mode)
    web_cpu: list[float] = field(default_factory=list)  # CPU seconds of each web process during the phase

    @property
    def rate(self) -> float:
        return self.requests / self.wall if self.wall else 0.0


class Schools:
    """Every school's current revision and pairs, as the benchmark's own re-matches leave them."""

    def __init__(self, url: str, run_id: str) -> None:
        from sqlalchemy import select

        from matcher.store.db import open_engine
        from matcher.store.tables import school_revisions as t

        engine = open_engine(url)
        with engine.connect() as conn:
            rows = conn.execute(select(t.c.school_id, t.c.revision, t.c.pairs).where(t.c.run_id == run_id)
                                .order_by(t.c.school_id, t.c.revision)).all()
        engine.dispose()
        self.state = {r.school_id: (r.revision, r.pairs) for r in rows}  # the last revision wins
        self.order = [s for s, (_, pairs) in sorted(self.state.items()) if pairs]
        self.next = 0
        self.lock = threading.Lock()

    def take(self, k: int) -> list[str]:
        """k schools no phase has re-matched for the longest time (distinct as long as k <= the schools)."""
        out = [self.order[(self.next + i) % len(self.order)] for i in range(k)]
        self.next = (self.next + k) % len(self.order)
        return out

    def body(self, school: str) -> dict[str, Any]:
        revision, pairs = self.state[school]
        return {"revision": revision, "forbid": [pick(school, pairs)], "stability": "balanced"}

    def saved(self, school: str, answer: dict[str, Any]) -> None:
        with self.lock:
            self.state[school] = (answer["revision"], answer["pairs"])


def phase(servers: Servers, schools: Schools, key: str, run_id: str, n_requests: int, clients: int,
          problems: list[str], timed: bool = True) -> Row:
    row = Row(servers.mode, servers.n, clients)
    todo = schools.take(n_requests)
    per_client = [todo[i::clients] for i in range(clients)]
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    headers = {"Authorization": f"Bearer {key}"}
    counts = [0] * len(servers.bases)

    def client(i: int, mine: list[str]) -> None:
        lat: list[float] = []
        # http.client, one keep-alive connection per server: a client as light as can be, so that the cores go
        # to the servers (httpx cost about 4 ms of CPU a request here)
        conns = [http.client.HTTPConnection(host, port, timeout=120) for host, port in servers.addresses]
        try:
            start.wait()
            for j, school in enumerate(mine):
                k = (i + j) % len(conns)  # round-robin over the separate servers (one address with --workers)
                data = json.dumps(schools.body(school)).encode()
                t0 = time.perf_counter()
                conns[k].request("POST", f"/v1/pairings/{run_id}/schools/{school}/rematch", body=data,
                                 headers={**headers, "Content-Type": "application/json"})
                resp = conns[k].getresponse()
                answer = resp.read()
                lat.append(time.perf_counter() - t0)
                if resp.status != 201:
                    with lock:
                        problems.append(f"{school}: {resp.status} {answer[:200]!r}")
                    continue
                schools.saved(school, json.loads(answer))
                with lock:
                    counts[k] += 1
        finally:
            for c in conns:
                c.close()
        with lock:
            row.latencies.extend(lat)

    threads = [threading.Thread(target=client, args=(i, m)) for i, m in enumerate(per_client)]
    for t in threads:
        t.start()
    web = servers.web()
    pg0, busy0, own0, srv0 = _postgres_cpu(), _machine_busy(), _own_cpu(), servers.cpu()
    web0 = [_proc_cpu(p) or 0.0 for p in web]
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    row.wall = time.perf_counter() - t0
    if not timed:
        return row
    row.requests, row.per_process = len(row.latencies), counts
    row.web_cpu = [(_proc_cpu(p) or 0.0) - c for p, c in zip(web, web0, strict=True)]
    row.server_cores = (servers.cpu() - srv0) / row.wall
    row.db_cores = sum(c - pg0.get(p, 0.0) for p, c in _postgres_cpu().items()) / row.wall
    row.client_cores = (_own_cpu() - own0) / row.wall
    busy1 = _machine_busy()
    if busy0 is not None and busy1 is not None:
        row.other_cores = max(0.0, (busy1 - busy0) / row.wall - row.server_cores - row.db_cores - row.client_cores)
    row.web_mb, row.all_mb = servers.peak_mb()
    return row


def setup(url: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, str(Path(__file__).with_name("api.py")), "--setup", url, "--workers", "2"],
                          capture_output=True, text=True, cwd=REPO)
    if proc.returncode != 0:
        raise RuntimeError(f"setup failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    info["setup_s"] = time.perf_counter() - t0
    if info["status"] != "succeeded":
        raise RuntimeError(f"the pairing run ended {info['status']}: {info.get('error')}")
    return info


# --- the table ----------------------------------------------------------------------------------------------------

MODE_NAMES = {"separate": "separate `matcher serve` processes, client round-robin",
              "workers": "`matcher serve --workers N`"}


def table(rows: list[Row]) -> str:
    head = ("| mode | processes | clients | requests | seconds | req/s | ratio to 1 | p50 ms | p95 ms | peak RSS "
            "MB: web processes (all under the servers) | cores: servers / PostgreSQL / clients / others | CPU s of "
            "each web process |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    out = [head]
    base = {(r.mode, r.clients): r.rate for r in rows if r.n == 1}
    for r in rows:
        ms = [x * 1000 for x in r.latencies]
        out.append(f"| {r.mode} | {r.n} | {r.clients} | {r.requests} | {r.wall:.1f} | {r.rate:.1f} | "
                   f"{r.rate / base[r.mode, r.clients]:.2f}x | {pct(ms, 50):.0f} | {pct(ms, 95):.0f} | "
                   f"{r.web_mb:.0f} ({r.all_mb:.0f}) | {r.server_cores:.2f} / {r.db_cores:.2f} / "
                   f"{r.client_cores:.2f} / {r.other_cores:.2f} | "
                   f"{' / '.join(f'{c:.1f}' for c in r.web_cpu)} |")
    return "\n".join(out)


def write(rows: list[Row], args: argparse.Namespace, info: dict[str, Any], elapsed: float) -> None:
    m, v = machine(), versions()
    text = "\n".join([
        START,
        "# Several server processes on one database (re-match throughput)",
        "",
        f"Written by `python benchmarks/processes.py{' --quick' if args.quick else ''} --mode {args.mode}` on "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC ({elapsed / 60:.1f} min in all). See the script's "
        "docstring for the method.",
        "",
        f"- machine: {m['cpu']}, {m['cores']} cores, {m['ram']} RAM, {m['os']}; Python {m['python']}; "
        f"source: git {v['git']}",
        f"- PostgreSQL on the same machine; the statewide run ({info['n_schools']:,} schools, "
        f"{info['n_teachers']:,} teachers, {info['n_pairs']:,} pairs); "
        f"{', '.join(map(str, args.clients))} client threads in the benchmark process; {args.requests} timed "
        f"re-matches per row (distinct schools), {WARMUP} warm-up re-matches per server process first",
        "",
        table(rows),
        "",
        END,
        "",
    ])
    replace_section(START, END, text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--postgres", default=POSTGRES, metavar="URL", help=f"the PostgreSQL server (default {POSTGRES})")
    ap.add_argument("--mode", choices=("separate", "workers", "both"), default="both")
    ap.add_argument("--clients", type=lambda t: [int(x) for x in t.split(",")], default=[16],
                    help="concurrent clients; a comma-separated list gives a row per count (default 16)")
    ap.add_argument("--requests", type=int, default=480, help="timed re-matches per row")
    ap.add_argument("--quick", action="store_true", help="160 re-matches per row")
    ap.add_argument("--write", action="store_true", help="record the table in benchmarks/RESULTS.md")
    args = ap.parse_args()
    if args.quick:
        args.requests = 160
    t_all = time.perf_counter()
    DATA.mkdir(parents=True, exist_ok=True)
    db = Database("postgresql", args.postgres)
    problems: list[str] = []
    rows: list[Row] = []
    try:
        print(f"setup on {db.url} ...", flush=True)
        info = setup(db.url)
        print(f"  {info['n_schools']:,} schools, {info['n_pairs']:,} pairs ({info['setup_s']:.0f} s)", flush=True)
        schools = Schools(db.url, info["run_id"])
        modes = ("separate", "workers") if args.mode == "both" else (args.mode,)
        for mode in modes:
            for n in LEVELS:
                servers = Servers(mode, n, db.url)
                try:
                    servers.start()
                    phase(servers, schools, info["key"], info["run_id"], WARMUP * n, min(16, WARMUP * n),
                          problems, timed=False)
                    for clients in args.clients:
                        row = phase(servers, schools, info["key"], info["run_id"], args.requests, clients,
                                    problems)
                        rows.append(row)
                        ms = [x * 1000 for x in row.latencies]
                        print(f"  {mode} x{n}, {clients} clients: {row.requests} re-matches in {row.wall:.1f} s, "
                              f"{row.rate:.1f}/s, p50 {pct(ms, 50):.0f} ms, p95 {pct(ms, 95):.0f} ms; cores: servers "
                              f"{row.server_cores:.2f}, PostgreSQL {row.db_cores:.2f}, clients "
                              f"{row.client_cores:.2f}, others {row.other_cores:.2f}; peak RSS {row.web_mb:.0f} MB "
                              f"({row.all_mb:.0f} MB)", flush=True)
                finally:
                    servers.stop()
    finally:
        db.drop()
    print()
    print(table(rows))
    for p in problems[:20]:
        print(f"PROBLEM: {p}")
    if args.write and not problems:
        write(rows, args, info, time.perf_counter() - t_all)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
