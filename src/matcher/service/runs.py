"""Pairing runs: check and queue a request, then (in a job process) run the engine on the stored dataset and
store the result, its files and every school's first revision."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine

from ..errors import InfeasibleError, InputError, MatcherError, NotFoundError, Problem
from ..pairing.engine import pair_teachers
from ..pairing.model import build_scoring
from ..policy import Policy, policy_from_dict, policy_to_dict
from ..processes import process_identity
from ..report.outputs import pairs_csv, summary_json, unmatched_csv
from ..store import repo
from ..store.codec import group_by_school, pair_dict, pair_of, table_of, unmatched_dict
from ..store.db import open_engine
from ..store.keys import Caller
from .datasets import rubric_named

log = logging.getLogger(__name__)
PROGRESS_EVERY = 0.5  # seconds between progress writes
LEASE_SECONDS = 30  # a job's lease, renewed every LEASE_SECONDS / HEARTBEATS_PER_LEASE by its heartbeat
HEARTBEATS_PER_LEASE = 6  # so a few slow or lost renewals do not let a working job's lease expire


def policy_for(data: dict[str, Any], rubric_name: str, source: str = "policy") -> Policy:
    """A policy from an API body, checked against the dataset's rubric before any job starts."""
    policy = policy_from_dict(data, source)
    rubric = rubric_named(rubric_name)
    # build_scoring checks thresholds, weights and indicator names against the rubric; on an empty table it is
    # cheap and raises the same problems a run would.
    build_scoring(table_of(rubric, []), policy, source)
    return policy


def start_run(engine: Engine, caller: Caller, dataset_id: str, policy: dict[str, Any],
              previous_id: str | None, visible: Any) -> str:
    """Queue a pairing run; `visible(dataset_row)` raises when the caller may not use the dataset."""
    with engine.connect() as conn:
        ds = repo.get_dataset(conn, dataset_id)
        visible(ds)
        if previous_id is not None:
            prev = repo.get_run(conn, previous_id)
            visible(repo.get_dataset(conn, prev.dataset_id))
            if prev.status != "succeeded":
                raise InputError([Problem("request", f"the previous run is {prev.status}, not succeeded",
                                          column="previous_pairing_id", value=previous_id)])
    checked = policy_for(policy, ds.rubric)
    with engine.begin() as conn:
        return repo.insert_run(conn, dataset_id=dataset_id, policy=policy_to_dict(checked),
                               request={"dataset_id": dataset_id, "policy": policy,
                                        "previous_pairing_id": previous_id},
                               previous_id=previous_id, caller=caller)


def _previous_pairs(engine: Engine, previous_id: str) -> list[tuple[str, str]]:
    """The previous run's pairs as its schools last stood (principals' re-matches included)."""
    with engine.connect() as conn:
        rows = repo.latest_revisions(conn, previous_id, columns=("school_id", "pairs"))
    seen = set()
    out = []
    for r in rows:
        for d in r.pairs:
            key = (d["teacher_a"], d["teacher_b"])
            if key not in seen:
                seen.add(key)
                out.append(key)
    return out


def execute_run(url: str, run_id: str, workers: int = 1, lease_seconds: float = LEASE_SECONDS) -> str:
    """The job: claim the run, pair, store. Returns the final status. Safe to call for a run already claimed or
    finished (it does nothing)."""
    return run_job(url, run_id, workers, "pairing run", repo.claim_run, _execute, repo.fail_run, "the input",
                   repo.renew_run_lease, lease_seconds)


@contextmanager
def heartbeat(renew: Callable[[Engine, str, str, float], bool], engine: Engine, job_id: str, token: str,
              lease_seconds: float, what: str) -> Iterator[None]:
    """While the block runs, a thread renews the job's lease every lease_seconds / HEARTBEATS_PER_LEASE. A thread,
    so that a long solve in this one does not hold the renewals back (the solvers give up the GIL often enough)."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(lease_seconds / HEARTBEATS_PER_LEASE):
            try:
                if not renew(engine, job_id, token, lease_seconds):
                    return  # finished, or marked failed after its lease expired (finishing then says so)
            except Exception:  # the database away for a moment: try again; the lease covers several misses
                log.warning("%s %s: could not renew its lease", what, job_id, exc_info=True)

    thread = threading.Thread(target=beat, daemon=True, name=f"lease-{job_id[:8]}")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def run_job(url: str, job_id: str, workers: int, what: str,
            claim: Callable[[Engine, str, float, str], str | None],
            execute: Callable[[Engine, str, str, int], None],
            fail: Callable[[Engine, str, str, dict[str, Any]], None], inputs: str,
            renew: Callable[[Engine, str, str, float], bool], lease_seconds: float = LEASE_SECONDS) -> str:
    """A job's body, for pairing runs and rollouts alike: claim it with a lease held by this process (or skip it,
    "skipped"), execute it while a heartbeat renews the lease, and on an error store the error with its problems
    (type input, infeasible, solver or internal) under the claim's token. Returns the final status."""
    engine = open_engine(url)
    try:
        token = claim(engine, job_id, lease_seconds, process_identity())
        if token is None:
            return "skipped"
        try:
            with heartbeat(renew, engine, job_id, token, lease_seconds, what):
                execute(engine, job_id, token, workers)
            return "succeeded"
        except MatcherError as exc:
            problems = [p.__dict__ for p in exc.problems] if isinstance(exc, InputError) else []
            fail(engine, job_id, token, {"message": str(exc) if not problems else
                                         f"{exc.count:,} problem(s) in {inputs}",
                                         "problems": problems,
                                         "type": "infeasible" if isinstance(exc, InfeasibleError)
                                         else "input" if problems else "solver"})
            return "failed"
        except Exception:
            log.exception("%s %s failed", what, job_id)
            fail(engine, job_id, token, {"message": "internal error; the server log has the details",
                                         "problems": [], "type": "internal"})
            return "failed"
    finally:
        engine.dispose()


def _execute(engine: Engine, run_id: str, token: str, workers: int) -> None:
    with engine.connect() as conn:
        run = repo.get_run(conn, run_id)
        ds = repo.get_dataset(conn, run.dataset_id)
        schools = repo.dataset_schools_of(conn, ds.id, with_roster=True)
    rubric = rubric_named(ds.rubric)
    table = table_of(rubric, [(s.school_id, s.roster) for s in schools], source=ds.name,
                     school_names={s.school_id: s.name for s in schools if s.name})
    coords = {s.school_id: (s.latitude, s.longitude) for s in schools if s.latitude is not None}
    policy = policy_from_dict(run.policy)
    previous = _previous_pairs(engine, run.previous_id) if run.previous_id else None
    last = [time.monotonic()]

    def progress(f: float) -> None:
        if time.monotonic() - last[0] >= PROGRESS_EVERY and f < 1.0:
            last[0] = time.monotonic()
            repo.set_progress(engine, run_id, token, round(0.95 * f, 4))

    result = pair_teachers(table, policy, previous=previous, previous_source="the previous run's pairs",
                           school_coords=coords or None, progress=progress, workers=workers)
    files = {"pairs.csv": pairs_csv(result.pairs, policy.mode).encode(),
             "unmatched.csv": unmatched_csv(result.unmatched).encode(),
             "summary.json": summary_json(result.summary).encode()}
    by_school = group_by_school(result.pairs, result.unmatched)
    rows = []
    for s in schools:
        pairs, unmatched = by_school.get(s.school_id, ([], []))
        rows.append({"school_id": s.school_id, "value": round(sum(p.value for p in pairs), 6),
                     "n_pairs": len(pairs), "n_unmatched": len(unmatched),
                     "pairs": [pair_dict(p) for p in pairs], "unmatched": [unmatched_dict(u) for u in unmatched]})
    if not repo.finish_run(engine, run_id, token, summary=result.summary, files=files, schools=rows,
                           caller_key=run.created_by):
        log.warning("pairing run %s: result not stored, the run was taken over or marked failed", run_id)


def current_pairs_csv(engine: Engine, run_id: str) -> bytes:
    """pairs.csv as the schools stand now, principals' re-matches included."""
    with engine.connect() as conn:
        run = repo.get_run(conn, run_id)
        rows = repo.latest_revisions(conn, run_id, columns=("school_id", "pairs"))
    if run.status != "succeeded":
        raise NotFoundError("result of run", run_id)
    pairs = {}
    for r in rows:
        for d in r.pairs:
            pairs.setdefault((d["teacher_a"], d["teacher_b"]), pair_of(d))
    ordered = sorted(pairs.values(), key=lambda q: (q.school_id, q.teacher_a, q.teacher_b))
    return pairs_csv(ordered, run.policy["mode"]).encode()
