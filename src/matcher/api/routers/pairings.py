"""Pairing runs (jobs), their per-school results, exports, and principals' re-matches with revision history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from ...errors import ConflictError, NotFoundError
from ...io.file_keys import file_key
from ...pairing.model import build_scoring
from ...policy import policy_from_dict
from ...report.wording import areas_rule, total_counts, value_counts
from ...rubric import bundled
from ...service import runs as run_svc
from ...service.rematch import rematch_school
from ...store import repo
from ...store.codec import roster_names, table_of, teachers_view
from ..deps import CallerDep, EngineDep, JobsDep, SchoolRef, check_dataset, check_school, require, school_scope
from ..errors import CONFLICT, RESPONSES
from ..schemas import (
    PairingIn,
    PairingList,
    PairingOut,
    RematchIn,
    RematchOut,
    RevisionList,
    RevisionOut,
    SchoolList,
    SchoolOut,
    SchoolRow,
)

router = APIRouter(prefix="/v1/pairings", tags=["pairings"], responses=RESPONSES)


_NAMES_TEACHERS = ("do_not_pair", "must_pair")


def _out(row: Any, principal: bool) -> PairingOut:
    """A principal sees neither the statewide summary, nor a failed run's problems, nor the policy's pair lists:
    they name other schools' teachers."""
    error, policy = row.error, row.policy
    if principal:
        policy = {k: v for k, v in policy.items() if k not in _NAMES_TEACHERS}
        if error:
            error = {"message": "the run failed; the state office has the details", "type": error.get("type"),
                     "problems": []}
    return PairingOut(id=row.id, dataset_id=row.dataset_id, previous_pairing_id=row.previous_id, status=row.status,
                      progress=row.progress, policy=policy, summary=None if principal else row.summary,
                      error=error, created_at=row.created_at,
                      created_by=None if principal else row.created_by,
                      started_at=row.started_at, finished_at=row.finished_at)


def _visible_run(conn: Any, caller: Any, run_id: str) -> tuple[Any, Any]:
    run = repo.get_run(conn, run_id)
    ds = repo.get_dataset(conn, run.dataset_id)
    check_dataset(conn, caller, ds)
    return run, ds


@router.post("", status_code=202, response_model=PairingOut)
def start_pairing(body: PairingIn, caller: CallerDep, engine: EngineDep, jobs: JobsDep) -> PairingOut:
    """Start a pairing run as a job; poll GET /v1/pairings/{id} for its status and progress."""
    require(caller, "state", "researcher")

    def visible(ds: Any) -> None:
        with engine.connect() as conn:
            check_dataset(conn, caller, ds)

    run_id = run_svc.start_run(engine, caller, body.dataset_id, body.policy, body.previous_pairing_id, visible,
                               carry_decisions=body.carry_decisions)
    repo.audit(engine, caller, "pairing.start", f"pairing/{run_id}", 202, body.model_dump())
    jobs.submit(run_id)
    with engine.connect() as conn:
        return _out(repo.get_run(conn, run_id), False)


@router.get("", response_model=PairingList)
def list_pairings(caller: CallerDep, engine: EngineDep) -> PairingList:
    scope = school_scope(caller)
    kinds = ("synthetic",) if caller.role == "researcher" else None
    with engine.connect() as conn:
        ids = [d.id for d in repo.list_datasets(conn, kinds, scope)]
        rows = repo.list_runs(conn, ids if (scope is not None or kinds is not None) else None)
    return PairingList(pairings=[_out(r, caller.role == "principal") for r in rows])


@router.get("/{pairing_id}", response_model=PairingOut)
def get_pairing(pairing_id: str, caller: CallerDep, engine: EngineDep) -> PairingOut:
    with engine.connect() as conn:
        run, _ = _visible_run(conn, caller, pairing_id)
    return _out(run, caller.role == "principal")


@router.get("/{pairing_id}/schools", response_model=SchoolList)
def list_schools(pairing_id: str, caller: CallerDep, engine: EngineDep) -> SchoolList:
    """Every school of the run at its newest revision (a principal: its own schools only)."""
    scope = school_scope(caller)
    with engine.connect() as conn:
        run, _ = _visible_run(conn, caller, pairing_id)
        rows = repo.latest_revisions(conn, pairing_id, scope)
        names = repo.school_names(conn, run.dataset_id, scope)
    return SchoolList(pairing_id=pairing_id, schools=[SchoolRow(**r._mapping, key=file_key(r.school_id),
                                                                school_name=names.get(r.school_id, ""))
                                                      for r in rows])


@router.get("/{pairing_id}/pairs.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "pairs.csv as `matcher pair` writes it"}})
def pairs_export(pairing_id: str, caller: CallerDep, engine: EngineDep,
                 current: Annotated[bool, Query(description="include principals' re-matches")] = False) -> Response:
    """The run's pairs.csv, byte for byte what the CLI writes; with current=true, as the schools stand now."""
    require(caller, "state", "researcher")
    with engine.connect() as conn:
        run, _ = _visible_run(conn, caller, pairing_id)
        if run.status != "succeeded":
            raise NotFoundError("result of run (it is " + run.status + ")", pairing_id)
        data = run_svc.current_pairs_csv(engine, pairing_id) if current else repo.run_file(conn, pairing_id,
                                                                                            "pairs.csv")
    return Response(data, media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="pairs-{pairing_id}.csv"'})


@router.get("/{pairing_id}/schools/{school_id}", response_model=SchoolOut)
def get_school(pairing_id: str, school_id: SchoolRef, caller: CallerDep, engine: EngineDep,
               revision: Annotated[int | None, Query(ge=0, le=2**31 - 1, description="default: the newest")] = None
               ) -> SchoolOut:
    """One school's pairs with their reasons, its unmatched teachers with reasons, and its teachers' scores."""
    with engine.connect() as conn:
        run, ds = _visible_run(conn, caller, pairing_id)
        school_id = check_school(conn, caller, ds, school_id)
        if run.status != "succeeded":
            raise NotFoundError(f"result yet (the run is {run.status}) for school", school_id)
        latest = repo.school_revision(conn, pairing_id, school_id)
        row = latest if revision is None else repo.school_revision(conn, pairing_id, school_id, revision)
        roster = repo.latest_roster(conn, pairing_id, school_id, row.revision) or \
            repo.school_roster(conn, run.dataset_id, school_id)
        names = repo.school_names(conn, run.dataset_id, [school_id])
    # The school's own roster only: a colleague at another school (a pair across schools) appears in `pairs` with
    # their id, name and the shared indicators, never in `teachers` with their scores.
    policy = policy_from_dict(run.policy)
    table = table_of(bundled(ds.rubric), [(school_id, roster)], school_names=names).aggregated(policy.aggregate)
    scoring = build_scoring(table, policy)
    return SchoolOut(pairing_id=pairing_id, school_id=school_id, key=file_key(school_id),
                     school_name=names.get(school_id, ""), aggregate=table.aggregate, revision=row.revision,
                     latest_revision=latest.revision, mode=run.policy["mode"], value=row.value,
                     value_counts=total_counts(row.value, policy),
                     pairs=[{**p, "value_counts": value_counts(p["value"], policy)} for p in row.pairs],
                     unmatched=row.unmatched, teachers=teachers_view(table, scoring.weak, scoring.strong),
                     areas_rule=areas_rule(policy, scoring.weak_below, scoring.strong_at_least), diff=row.diff,
                     carried=[d for d in (run.summary or {}).get("carried") or () if d["school_id"] == school_id])


@router.get("/{pairing_id}/schools/{school_id}/revisions", response_model=RevisionList)
def school_history(pairing_id: str, school_id: SchoolRef, caller: CallerDep, engine: EngineDep) -> RevisionList:
    """Every revision of the school: who asked, when, what they asked, and what changed (the audit trail)."""
    with engine.connect() as conn:
        _, ds = _visible_run(conn, caller, pairing_id)
        school_id = check_school(conn, caller, ds, school_id)
        rows = repo.revision_history(conn, pairing_id, school_id)
        labels = repo.key_labels(conn, {r.created_by for r in rows})
        # The school's own teachers as the dataset gave them and as each re-match left them (a teacher removed by
        # a re-match keeps their name in the history).
        rosters = [repo.school_roster(conn, ds.id, school_id) or {"teacher_id": []},
                   *repo.revision_rosters(conn, pairing_id, school_id)]
    if not rows:
        raise NotFoundError("school in this run", school_id)
    names: dict[str, str] = {}
    for roster in rosters:
        names.update(roster_names(roster))
    return RevisionList(pairing_id=pairing_id, school_id=school_id,
                        revisions=[RevisionOut(**{**r._mapping, "created_by_label": labels.get(r.created_by, ""),
                                                  # A principal reads who asked by the key's label alone.
                                                  "created_by": None if caller.role == "principal"
                                                  else r.created_by}) for r in rows], names=names)


@router.post("/{pairing_id}/schools/{school_id}/rematch", status_code=201, response_model=RematchOut,
             responses=CONFLICT)
def rematch(pairing_id: str, school_id: SchoolRef, body: RematchIn, caller: CallerDep,
            engine: EngineDep) -> RematchOut | JSONResponse:
    """A principal's re-match against the revision they saw; answers the next revision with what changed and why,
    or 409 with the current revision when the one sent is outdated."""
    require(caller, "state", "principal", "researcher")
    with engine.connect() as conn:
        _, ds = _visible_run(conn, caller, pairing_id)
        school_id = check_school(conn, caller, ds, school_id)
    request = body.model_dump()
    target = f"pairing/{pairing_id}/school/{school_id}"
    try:
        out = rematch_school(engine, caller, pairing_id, school_id, revision=body.revision,
                             forbid=body.forbid, keep=body.keep, remove=body.remove, add=body.add,
                             stability=body.stability, request=request)
    except ConflictError as exc:
        repo.audit(engine, caller, "school.rematch", target, 409, {"request": request, "outcome": str(exc)})
        raise
    repo.audit(engine, caller, "school.rematch", target, 201, {"request": request, "revision": out["revision"]})
    return RematchOut(pairing_id=pairing_id, **{k: v for k, v in out.items() if k not in ("run_id", "request")})
