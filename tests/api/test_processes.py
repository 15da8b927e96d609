"""Server processes and the processes they start: migrations run by many processes at once, workers that die
with their server, and two real servers (or one with uvicorn workers) sharing one PostgreSQL database while one of
them is restarted or killed in the middle of a run. Leases are short here (MATCHER_LEASE_SECONDS)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import func, select

from matcher.store.db import head_revision, open_engine
from matcher.store.tables import pairing_runs, run_files, school_revisions

from .conftest import BACKENDS, add_keys
from .server import Server, alive, children_of

LEASE = 3  # seconds: renewed every 0.5 s, swept for every 0.5 s
ENV = {"MATCHER_LEASE_SECONDS": str(LEASE)}
# One-way pairing with two targets per partner on 600 schools runs for several seconds (running after 0.5 s, its
# solve worker started after 1 s, done after 9 s or more): long enough to restart or kill a server in the middle.
SLOW_DATASET = {"schools": 600, "mean_size": 40, "seed": 3}
# Slow on purpose (these tests act while a run is running): one-way K = 2 with CP-SAT on every school, about 11 s
# on one core; the default one-way route settles the same dataset in about 2 s, too fast to act in between.
SLOW_POLICY = {"mode": "one_way", "max_targets_per_partner": 2, "solver": "cpsat"}


def _h(keys: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {keys['state']}"}


def _run(c: httpx.Client, url: str, keys: dict[str, str], run_id: str) -> dict[str, Any]:
    r = c.get(f"{url}/v1/pairings/{run_id}", headers=_h(keys))
    assert r.status_code == 200, r.text
    return r.json()


def _wait(c: httpx.Client, url: str, keys: dict[str, str], run_id: str, done: Any, timeout: float = 60
          ) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = _run(c, url, keys, run_id)
        if done(body):
            return body
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} not there after {timeout} s: {body}")


def _running(body: dict[str, Any]) -> bool:
    assert body["status"] in ("queued", "running"), body
    return body["status"] == "running"


def _finished(body: dict[str, Any]) -> bool:
    return body["status"] in ("succeeded", "failed")


def _start_slow(c: httpx.Client, url: str, keys: dict[str, str]) -> tuple[str, str]:
    ds = c.post(f"{url}/v1/datasets/synthetic", json=SLOW_DATASET, headers=_h(keys))
    assert ds.status_code == 201, ds.text
    r = c.post(f"{url}/v1/pairings", json={"dataset_id": ds.json()["id"], "policy": SLOW_POLICY}, headers=_h(keys))
    assert r.status_code == 202, r.text
    return ds.json()["id"], r.json()["id"]


@contextmanager
def _servers(*servers: Server) -> Iterator[None]:
    try:
        yield
    finally:
        for s in servers:
            s.stop()


def _start_together(*servers: Server) -> None:
    errors: list[BaseException] = []

    def start(s: Server) -> None:
        try:
            s.start()
        except BaseException as exc:  # noqa: BLE001  (reported below, with the server's log)
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(s,)) for s in servers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


MIGRATE = """
import sys, time
from matcher.store.db import current_revision, open_engine, upgrade
engine = open_engine(sys.argv[1])
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
upgrade(engine)
print(current_revision(engine))
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_many_processes_migrate_one_new_database_at_once(make_database: Any, backend: str) -> None:
    """Found: two servers started together on a new PostgreSQL database, one exits with UniqueViolation."""
    db = make_database(backend)
    at = time.time() + 2.0  # every process has imported and connected by then
    procs = [subprocess.Popen([sys.executable, "-c", MIGRATE, db.url, str(at)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(6)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, [err[-500:] for _, err in outs]
    assert [out.strip() for out, _ in outs] == [head_revision()] * 6


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_lease_lets_others_fail_a_run_only_once_it_has_expired(make_database: Any, backend: str) -> None:
    """The storage rules behind the servers: expiry fails a run only after its lease ran out (renewals push it
    on), start-up recovery fails at once only the runs whose job process is known to be gone, and the stale
    attempt can no longer store a result."""
    from matcher.processes import process_gone, process_identity
    from matcher.rubric import bundled
    from matcher.service.datasets import store_dataset, synthetic_district
    from matcher.store import repo
    from matcher.store.keys import caller_for

    db = make_database(backend)
    keys = add_keys(db)
    engine = open_engine(db.url)
    try:
        caller = caller_for(engine, keys["state"])
        assert caller is not None
        table, coords = synthetic_district(2, 10, 1, bundled("team"))
        ds = store_dataset(engine, caller, table, kind="synthetic", rubric="team", coords=coords, name="two")
        with engine.begin() as conn:
            live, dead, renewed = (repo.insert_run(conn, dataset_id=ds, policy={}, request={}, previous_id=None,
                                                   caller=caller) for _ in range(3))
        # A process that has ended, on this machine: its identity names it as gone.
        ended = subprocess.run([sys.executable, "-c", "from matcher.processes import process_identity as p; "
                                "print(p())"], capture_output=True, text=True, check=True).stdout.strip()
        assert process_gone(ended) and not process_gone(process_identity())
        tokens = {live: repo.claim_run(engine, live, 1.5, process_identity()),
                  dead: repo.claim_run(engine, dead, 60, ended),
                  renewed: repo.claim_run(engine, renewed, 1.5, process_identity())}
        assert all(tokens.values()) and repo.claim_run(engine, live, 60, process_identity()) is None  # once
        assert repo.expire_runs(engine) == []
        assert repo.recover_interrupted(engine, process_gone) == []  # fails `dead` only: its holder has ended
        with engine.connect() as conn:
            assert [repo.get_run(conn, r).status for r in (live, dead, renewed)] == ["running", "failed", "running"]
        for _ in range(4):
            time.sleep(0.5)
            assert repo.renew_run_lease(engine, renewed, tokens[renewed], 1.5)
        assert repo.expire_runs(engine) == [live]
        assert not repo.renew_run_lease(engine, live, tokens[live], 1.5)
        assert not repo.finish_run(engine, live, tokens[live], summary={}, files={}, schools=[],
                                   caller_key=caller.key_id)
        with engine.connect() as conn:
            failed = repo.get_run(conn, live)
            assert failed.status == "failed" and failed.error["type"] == "interrupted"
            assert repo.get_run(conn, renewed).status == "running"
    finally:
        engine.dispose()


def _tree_when_solving(c: httpx.Client, server: Server, keys: dict[str, str], run_id: str) -> list[int]:
    """Every process under the server once the run's solve worker (forked by its job process, under a uvicorn
    worker with --workers) has started."""
    _wait(c, server.url, keys, run_id, _running)
    assert server.proc is not None
    deadline = time.monotonic() + 30
    while (depth := _depth(server.proc.pid)) < 2 + (server.workers > 1):
        assert time.monotonic() < deadline, f"no solve worker started; the tree is {depth} deep"
        time.sleep(0.05)
    tree = server.descendants()
    # job process, solve worker, resource tracker; with --workers also each worker and its job process
    assert len(tree) >= 3 + 2 * (server.workers - 1), [(p, _cmdline(p)) for p in tree]
    return tree


def _all_gone(tree: list[int], timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while [p for p in tree if alive(p)]:
        assert time.monotonic() < deadline, [(p, _cmdline(p)) for p in tree if alive(p)]
        time.sleep(0.1)


def test_every_process_dies_with_its_server(make_database: Any, tmp_path: Path) -> None:
    """Found: after kill -9 of the server, its solve worker (forked by the job process) and multiprocessing's
    resource tracker lived on forever. (With --workers: the last test.)"""
    db = make_database("postgresql")
    keys = add_keys(db)
    server = Server(db.url, tmp_path / "server.log", env={**ENV, "MATCHER_SOLVE_WORKERS": "2"})
    with _servers(server):
        server.start()
        with httpx.Client(timeout=60) as c:
            _, run_id = _start_slow(c, server.url, keys)
            tree = _tree_when_solving(c, server, keys, run_id)
        server.kill()
        _all_gone(tree)


def _depth(pid: int) -> int:
    """How many generations of processes there are under pid."""
    kids = children_of(pid)
    return 1 + max(map(_depth, kids)) if kids else 0


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:200]
    except OSError:
        return "?"


def test_a_run_whose_job_process_dies_fails_at_once_and_the_next_one_runs(make_database: Any,
                                                                          tmp_path: Path) -> None:
    """The job process is killed (as by the out-of-memory killer) while the server lives: its run is failed at
    once, not when its (here one-minute) lease expires, and the run queued behind it runs in a new job process."""
    db = make_database("postgresql")
    keys = add_keys(db)
    server = Server(db.url, tmp_path / "server.log", env={"MATCHER_LEASE_SECONDS": "60"})
    with _servers(server), httpx.Client(timeout=60) as c:
        server.start()
        ds_id, run_id = _start_slow(c, server.url, keys)
        _wait(c, server.url, keys, run_id, _running)
        r = c.post(f"{server.url}/v1/pairings", json={"dataset_id": ds_id}, headers=_h(keys))
        assert r.status_code == 202
        (job,) = [p for p in server.children() if "spawn_main" in _cmdline(p)]
        os.kill(job, signal.SIGKILL)
        killed = time.monotonic()
        dead = _wait(c, server.url, keys, run_id, _finished, timeout=10)
        assert time.monotonic() - killed < 10
        assert dead["status"] == "failed" and dead["error"]["type"] == "internal", dead
        assert "the job process died" in dead["error"]["message"]
        assert _wait(c, server.url, keys, r.json()["id"], _finished)["status"] == "succeeded"


def _stored(url: str, run_id: str) -> tuple[Any, int, list[tuple[str, int]]]:
    """The run's row, how many files it has and its schools' revisions, from the database."""
    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(select(pairing_runs).where(pairing_runs.c.id == run_id)).one()
            files = conn.execute(select(func.count()).select_from(run_files)
                                 .where(run_files.c.run_id == run_id)).scalar_one()
            revisions = [(r.school_id, r.revision) for r in conn.execute(
                select(school_revisions.c.school_id, school_revisions.c.revision)
                .where(school_revisions.c.run_id == run_id))]
    finally:
        engine.dispose()
    return row, files, revisions


def test_two_servers_share_a_new_database_and_one_restarts_mid_run(make_database: Any, tmp_path: Path) -> None:
    """Found: two servers started together on a new database raced on the migrations, and restarting one marked
    the other's running run failed although it went on to finish (its result then thrown away)."""
    db = make_database("postgresql")
    a = Server(db.url, tmp_path / "a.log", env={**ENV, "MATCHER_SOLVE_WORKERS": "2"})
    b = Server(db.url, tmp_path / "b.log", env=ENV)
    with _servers(a, b):
        _start_together(a, b)
        keys = add_keys(db)
        with httpx.Client(timeout=60) as c:
            ds_id, run_id = _start_slow(c, a.url, keys)
            _wait(c, a.url, keys, run_id, _running)
            b.kill()
            b.start()
            seen = [_run(c, b.url, keys, run_id)["status"]]  # b is up again: the run goes on
            done = _wait(c, b.url, keys, run_id, lambda body: seen.append(body["status"]) or _finished(body))
        assert done["status"] == "succeeded", done
        assert "failed" not in seen and seen[0] == "running", seen
        row, files, revisions = _stored(db.url, run_id)
        n_schools = SLOW_DATASET["schools"]
        assert (row.status, files) == ("succeeded", 3)
        assert len(revisions) == n_schools and len(set(revisions)) == n_schools  # once each: revision 0
        assert {r for _, r in revisions} == {0}


def test_a_killed_servers_run_fails_when_its_lease_expires_not_before(make_database: Any, tmp_path: Path) -> None:
    """a (`matcher serve --workers 2`) is killed while it runs a run: every process under it dies, and b marks
    the run failed once its lease has expired (nobody renews it), not before; b also runs the run that was queued
    behind it on a."""
    db = make_database("postgresql")
    keys = add_keys(db)
    a = Server(db.url, tmp_path / "a.log", env={**ENV, "MATCHER_SOLVE_WORKERS": "2"}, workers=2)
    b = Server(db.url, tmp_path / "b.log", env=ENV)
    with _servers(a, b):
        _start_together(a, b)
        with httpx.Client(timeout=60) as c:
            ds_id, run_id = _start_slow(c, a.url, keys)
            tree = _tree_when_solving(c, a, keys, run_id)
            # Queued on a behind the slow run (a has one job process per worker), or taken up by b, which is idle.
            r = c.post(f"{a.url}/v1/pairings", json={"dataset_id": ds_id}, headers=_h(keys))
            assert r.status_code == 202
            queued = r.json()["id"]
            a.kill()
            killed = time.monotonic()
            expiries = []
            while (body := _run(c, b.url, keys, run_id))["status"] == "running":
                expiries.append(_stored(db.url, run_id)[0].lease_expires_at)
                assert time.monotonic() - killed < LEASE + 5, "the lease never expired"
                time.sleep(0.1)
            gone_after = time.monotonic() - killed
            _all_gone(tree, 0)
            assert body["status"] == "failed" and body["error"]["type"] == "interrupted", body
            assert "start the run again" in body["error"]["message"]
            # Not before: the lease was renewed up to the kill, and the run was failed only after its expiry.
            assert gone_after > LEASE * 0.5, gone_after
            other = _wait(c, b.url, keys, queued, _finished)
            assert other["status"] == "succeeded", other
        row, files, revisions = _stored(db.url, run_id)
        assert (row.status, files, revisions) == ("failed", 0, [])
        assert expiries and row.finished_at >= max(expiries), (row.finished_at, max(expiries))
