"""The real server on 127.0.0.1: an HTTP round trip, many simultaneous re-matches of one school, and a server
killed in the middle of a job."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from .conftest import BACKENDS, SAMPLES, Database, add_keys
from .server import Server


@pytest.fixture(scope="module", params=BACKENDS)
def live(request: pytest.FixtureRequest, make_database: Any,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, str], Database]]:
    db = make_database(request.param)
    keys = add_keys(db)
    server = Server(db.url, tmp_path_factory.mktemp("server") / "server.log").start()
    try:
        yield server, keys, db
    finally:
        server.stop()


def _h(keys: dict[str, str], who: str = "state") -> dict[str, str]:
    return {"Authorization": f"Bearer {keys[who]}"}


def _wait(client: httpx.Client, url: str, keys: dict[str, str], run_id: str, until: tuple[str, ...],
          timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"{url}/v1/pairings/{run_id}", headers=_h(keys)).json()
        if body["status"] in until:
            return body
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} not {until} after {timeout} s")


def _sample_run(client: httpx.Client, url: str, keys: dict[str, str]) -> dict[str, Any]:
    with (SAMPLES / "teachers.csv").open("rb") as fh:
        ds = client.post(f"{url}/v1/datasets", files={"file": ("teachers.csv", fh, "text/csv")}, headers=_h(keys))
    assert ds.status_code == 201, ds.text
    r = client.post(f"{url}/v1/pairings", json={"dataset_id": ds.json()["id"]}, headers=_h(keys))
    assert r.status_code == 202
    run = _wait(client, url, keys, r.json()["id"], ("succeeded", "failed"))
    assert run["status"] == "succeeded", run
    return run


def test_round_trip_over_http(live: tuple[Server, dict[str, str], Database]) -> None:
    server, keys, _ = live
    with httpx.Client(timeout=30) as c:
        assert c.get(f"{server.url}/healthz").json()["status"] == "ok"
        assert c.get(f"{server.url}/openapi.json").json()["info"]["title"] == "matcher"
        assert c.get(f"{server.url}/docs").status_code == 200
        assert c.get(f"{server.url}/v1/datasets").status_code == 401
        run = _sample_run(c, server.url, keys)
        view = c.get(f"{server.url}/v1/pairings/{run['id']}/schools/S0001", headers=_h(keys, "principal")).json()
        a, b = view["pairs"][0]["teacher_a"], view["pairs"][0]["teacher_b"]
        r = c.post(f"{server.url}/v1/pairings/{run['id']}/schools/S0001/rematch",
                   json={"revision": view["revision"], "forbid": [[a, b]]}, headers=_h(keys, "principal"))
        assert r.status_code == 201 and r.json()["revision"] == view["revision"] + 1
        assert c.get(f"{server.url}/v1/pairings/{run['id']}/schools/S0002",
                     headers=_h(keys, "principal")).status_code == 403


def test_simultaneous_rematches_of_one_school(live: tuple[Server, dict[str, str], Database]) -> None:
    """Each request gets a new revision or a 409; the history has no gaps and no request is lost."""
    server, keys, _ = live
    with httpx.Client(timeout=30) as c:
        run = _sample_run(c, server.url, keys)
    school = "S0002"
    base = f"{server.url}/v1/pairings/{run['id']}/schools/{school}"
    n_threads, successes_each = 12, 3
    results: list[tuple[int, int, int | None]] = []  # (status, revision sent, revision answered)
    lock = threading.Lock()
    start = threading.Barrier(n_threads)

    def principal(i: int) -> None:
        with httpx.Client(timeout=60) as c:
            start.wait()
            got = 0
            for _ in range(200):
                view = c.get(base, headers=_h(keys, "principal2")).json()
                pairs = view["pairs"]
                body: dict[str, Any] = {"revision": view["revision"], "stability": ["balanced", "full",
                                                                                    "keep_untouched"][i % 3]}
                if pairs and i % 2:
                    body["forbid"] = [[pairs[i % len(pairs)]["teacher_a"], pairs[i % len(pairs)]["teacher_b"]]]
                r = c.post(f"{base}/rematch", json=body, headers=_h(keys, "principal2"))
                assert r.status_code in (201, 409), r.text
                with lock:
                    results.append((r.status_code, view["revision"], r.json()["revision"]))
                if r.status_code == 201:
                    got += 1
                    if got == successes_each:
                        return
                else:
                    assert r.json()["revision"] >= view["revision"]
            raise AssertionError(f"thread {i} starved")

    threads = [threading.Thread(target=principal, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len([r for r in results if r[0] == 201]) == n_threads * successes_each  # every thread finished
    with httpx.Client(timeout=30) as c:
        history = c.get(f"{base}/revisions", headers=_h(keys)).json()["revisions"]
        audit = c.get(f"{server.url}/v1/audit", params={"target": f"pairing/{run['id']}/school/{school}"},
                      headers=_h(keys)).json()["entries"]
    created = sorted(r[2] for r in results if r[0] == 201)
    assert created == list(range(1, n_threads * successes_each + 1))  # one answer per revision, no gaps
    assert [h["revision"] for h in history] == list(range(0, len(created) + 1))
    for status, sent, answered in results:  # a success always builds on the revision it was sent against
        assert status != 201 or answered == sent + 1
    assert Counter(e["status"] for e in audit) == Counter(r[0] for r in results)  # no request lost
    assert len(audit) == len(results)


def test_server_killed_during_a_job(make_database: Any, tmp_path: Path) -> None:
    db = make_database("sqlite")
    keys = add_keys(db)
    server = Server(db.url, tmp_path / "server.log").start()
    try:
        with httpx.Client(timeout=60) as c:
            done = _sample_run(c, server.url, keys)
            before = c.get(f"{server.url}/v1/pairings/{done['id']}/pairs.csv", headers=_h(keys)).content
            ds = c.post(f"{server.url}/v1/datasets/synthetic", json={"schools": 600, "mean_size": 40, "seed": 3},
                        headers=_h(keys)).json()
            # One-way pairing with two targets per partner, CP-SAT on every school, solves for several seconds: long
            # enough to kill it (the default one-way route takes about 2 s here).
            r = c.post(f"{server.url}/v1/pairings", json={"dataset_id": ds["id"], "policy": {
                "mode": "one_way", "max_targets_per_partner": 2, "solver": "cpsat"}}, headers=_h(keys))
            slow = r.json()["id"]
            running = _wait(c, server.url, keys, slow, ("running", "succeeded", "failed"))
            assert running["status"] == "running", running
            while running["status"] == "running" and running["progress"] == 0:  # the job reports progress
                running = c.get(f"{server.url}/v1/pairings/{slow}", headers=_h(keys)).json()
                time.sleep(0.05)
            assert running["status"] == "running" and 0 < running["progress"] < 1, running
            jobs = server.children()
            assert jobs
            server.kill()
        deadline = time.monotonic() + 10
        while any(Path(f"/proc/{p}").exists() and "zombie" not in _state(p) for p in jobs):
            assert time.monotonic() < deadline, "the job process outlived the server"
            time.sleep(0.1)
        server.start()
        with httpx.Client(timeout=60) as c:
            after = c.get(f"{server.url}/v1/pairings/{slow}", headers=_h(keys)).json()
            assert after["status"] == "failed" and after["error"]["type"] == "interrupted"
            assert "start the run again" in after["error"]["message"]
            kept = c.get(f"{server.url}/v1/pairings/{done['id']}", headers=_h(keys)).json()
            assert kept["status"] == "succeeded"
            assert c.get(f"{server.url}/v1/pairings/{done['id']}/pairs.csv", headers=_h(keys)).content == before
            # The run can be started again and completes.
            again = c.post(f"{server.url}/v1/pairings", json={"dataset_id": ds["id"]}, headers=_h(keys)).json()
            assert _wait(c, server.url, keys, again["id"], ("succeeded", "failed"))["status"] == "succeeded"
    finally:
        server.stop()


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split("\n")[0]
    except (FileNotFoundError, IndexError):
        return "zombie"


def test_queued_runs_resume_after_a_restart(make_database: Any, tmp_path: Path) -> None:
    """A run queued but never started (the server stopped first) is started when the server comes back."""
    from matcher.store import repo
    from matcher.store.db import open_engine
    from matcher.store.keys import caller_for

    db = make_database("sqlite")
    keys = add_keys(db)
    server = Server(db.url, tmp_path / "server.log").start()
    try:
        with httpx.Client(timeout=60) as c:
            done = _sample_run(c, server.url, keys)
        server.kill()
        engine = open_engine(db.url)
        with engine.begin() as conn:
            queued = repo.insert_run(conn, dataset_id=done["dataset_id"], policy=done["policy"], request={},
                                     previous_id=None, caller=caller_for(engine, keys["state"]))
        engine.dispose()
        server.start()
        with httpx.Client(timeout=60) as c:
            assert _wait(c, server.url, keys, queued, ("succeeded", "failed"))["status"] == "succeeded"
    finally:
        server.stop()
    assert os.path.exists(db.url.removeprefix("sqlite:///"))
