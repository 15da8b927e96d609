"""Pairing runs: check and queue a request, then (in a job process) run the engine on the stored dataset and
store the result, its files and every school's first revision."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine

from ..errors import InfeasibleError, InputError, MatcherError, NotFoundError, Problem
from ..pairing.engine import pair_teachers
from ..pairing.model import build_scoring
from ..policy import Policy, policy_from_dict, policy_to_dict
from ..processes import process_identity
from ..report.outputs import pairs_csv, summary_json, unmatched_csv
from ..store import repo
from ..store.codec import group_by_school, merge_rosters, pair_dict, pair_of, roster_names, table_of, unmatched_dict
from ..store.db import open_engine
from ..store.keys import Caller
from .datasets import rubric_named
from .decisions import Decision, Revision, plan, standing

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
              previous_id: str | None, visible: Any, carry_decisions: bool | None = None) -> str:
    """Queue a pairing run; `visible(dataset_row)` raises when the caller may not use the dataset.
    carry_decisions: carry the principals' decisions on the previous run (default: whenever there is one)."""
    if carry_decisions and previous_id is None:
        raise InputError([Problem("request", "carrying principals' decisions needs previous_pairing_id",
                                  column="carry_decisions", value="true")])
    carry = previous_id is not None if carry_decisions is None else carry_decisions
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
                                        "previous_pairing_id": previous_id, "carry_decisions": carry},
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


def run_decisions(conn: Connection, run: Any, schools: frozenset[str] | None = None) -> list[Decision]:
    """The principals' decisions still in force on a run (or on the given schools of it): those it carried from
    the run before it (its refusals all, as they apply whenever both teachers are in the school again; kept pairs
    and removals where they held), then each school's re-matches in order (service.decisions.standing)."""
    inherited = [Decision.of(d) for d in (run.summary or {}).get("carried") or ()
                 if (d.get("held") or d["kind"] == "refused") and (schools is None or d["school_id"] in schools)]
    requests = repo.revision_requests(conn, run.id, schools)
    involved = sorted({d.school_id for d in inherited} | {r.school_id for r in requests})
    if not involved:
        return []
    labels = repo.key_labels(conn, {r.created_by for r in requests})
    latest = {r.school_id: [(p["teacher_a"], p["teacher_b"]) for p in r.pairs]
              for r in repo.latest_revisions(conn, run.id, frozenset(involved), columns=("school_id", "pairs"))}
    out: list[Decision] = []
    for school in involved:
        # The school's teachers as the dataset gave them and as each re-match left them: a removed teacher keeps
        # their name.
        names: dict[str, str] = {}
        for roster in [repo.school_roster(conn, run.dataset_id, school) or {"teacher_id": []},
                       *repo.revision_rosters(conn, run.id, school)]:
            names.update(roster_names(roster))
        revisions = [Revision(r.revision, r.created_at, labels.get(r.created_by, ""), r.request or {})
                     for r in requests if r.school_id == school]
        out += standing(school, run.id, revisions, latest.get(school, []), inherited, names)
    return out


def _carried(engine: Engine, previous_id: str) -> list[Decision]:
    with engine.connect() as conn:
        return run_decisions(conn, repo.get_run(conn, previous_id))


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
    carry = None
    if run.previous_id and (run.request or {}).get("carry_decisions"):
        # Principals' decisions on the previous run: refused pairs stay refused, kept pairs stay where still
        # allowed, removed teachers stay out while this data lists them in the same school.
        carry = plan(_carried(engine, run.previous_id), table)
        table = table.subset(carry.rows(table))
        policy = policy.replace(do_not_pair=policy.do_not_pair + carry.do_not_pair)
    last = [time.monotonic()]

    def progress(f: float) -> None:
        if time.monotonic() - last[0] >= PROGRESS_EVERY and f < 1.0:
            last[0] = time.monotonic()
            repo.set_progress(engine, run_id, token, round(0.95 * f, 4))

    result = pair_teachers(table, policy, previous=previous, previous_source="the previous run's pairs",
                           keep=carry.keep if carry is not None else (), school_coords=coords or None,
                           progress=progress, workers=workers)
    summary = result.summary
    dropped: dict[str, set[str]] = {}
    if carry is not None:
        summary = {**summary, "carried": carry.report(result.teachers, result.pairs, result.summary)}
        dropped = carry.dropped_by_school()
    files = {"pairs.csv": pairs_csv(result.pairs, policy.mode).encode(),
             "unmatched.csv": unmatched_csv(result.unmatched).encode(),
             "summary.json": summary_json(summary).encode()}
    by_school = group_by_school(result.pairs, result.unmatched)
    rows = []
    for s in schools:
        pairs, unmatched = by_school.get(s.school_id, ([], []))
        rows.append({"school_id": s.school_id, "value": round(sum(p.value for p in pairs), 6),
                     "n_pairs": len(pairs), "n_unmatched": len(unmatched),
                     "pairs": [pair_dict(p) for p in pairs], "unmatched": [unmatched_dict(u) for u in unmatched],
                     # The school as this run paired it: without the teachers a carried removal left out.
                     "roster": merge_rosters(s.roster, None, dropped[s.school_id]) if s.school_id in dropped
                     else None})
    if not repo.finish_run(engine, run_id, token, summary=summary, files=files, schools=rows,
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
