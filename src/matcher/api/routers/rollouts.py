"""Rollout simulations (researcher and state keys): a design queued as a job, its status and progress, its summary,
balance and power-curve rows, and the files `matcher simulate` writes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from ...errors import NotFoundError
from ...rollouts.outputs import FILES
from ...service import rollouts as svc
from ...store import repo
from ...store.keys import Caller
from ..deps import CallerDep, EngineDep, Forbidden, JobsDep, SettingsDep, check_dataset, require
from ..errors import RESPONSES

router = APIRouter(prefix="/v1/rollouts", tags=["rollouts"], responses=RESPONSES)

_SECTION = "settings as in a design file's section of the same name (docs/design.md: Rollout design)"
_EXAMPLE = {"population": {"synthetic": {"schools": 40, "mean_size": 30, "seed": 1}},
            "assignment": {"method": "blocked", "blocks": ["district"]},
            "outcome": {"effect_target": 0.12}, "simulation": {"replications": 500, "seed": 7},
            "power_curve": {"values": [0.0, 0.1, 0.2, 0.3], "replications": 200}}


class RolloutIn(BaseModel):
    """A rollout design, as a design file holds it; the population is a synthetic district or a stored dataset."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})
    population: dict[str, Any] = Field(description="{\"synthetic\": {\"schools\": N, \"mean_size\": M, \"seed\": S}} "
                                                   "or {\"dataset_id\": \"<id>\"} (researchers: synthetic datasets "
                                                   "only); optional \"rubric\"; no file paths")
    assignment: dict[str, Any] | None = Field(None, description=_SECTION)
    takeup: dict[str, Any] | None = Field(None, description=_SECTION)
    pairing: dict[str, Any] | None = Field(None, description="a pairing policy's settings (no policy file)")
    outcome: dict[str, Any] | None = Field(None, description=_SECTION)
    analysis: dict[str, Any] | None = Field(None, description=_SECTION)
    simulation: dict[str, Any] | None = Field(None, description="replications (capped by "
                                                                "MATCHER_MAX_ROLLOUT_REPLICATIONS) and seed")
    power_curve: dict[str, Any] | None = Field(None, description=_SECTION)


class RolloutFile(BaseModel):
    name: str
    media_type: str
    url: str


class RolloutOut(BaseModel):
    id: str
    status: Literal["queued", "running", "succeeded", "failed"]
    progress: float = Field(description="share of the replications done, 0 to 1")
    dataset_id: str | None = Field(description="the stored dataset used as the population, if any")
    design: dict[str, Any] = Field(description="every setting, defaults filled in")
    summary: dict[str, Any] | None = Field(None, description="summary.json, once the rollout succeeded")
    error: dict[str, Any] | None = Field(None, description="why it failed: message, problems (section.key), type")
    balance: list[dict[str, Any]] | None = Field(None, description="balance.csv's rows (the first draw); null in "
                                                                   "listings")
    power_curve: list[dict[str, Any]] | None = Field(None, description="power_curve.csv's rows; null in listings "
                                                                       "and without a power curve")
    files: list[RolloutFile] = Field(description="the output files, once the rollout succeeded")
    created_at: datetime
    created_by: str
    started_at: datetime | None
    finished_at: datetime | None


class RolloutList(BaseModel):
    rollouts: list[RolloutOut]


def _out(row: Any, files: list[tuple[str, str]], tables: dict[str, Any] | None = None) -> RolloutOut:
    tables = tables or {}
    return RolloutOut(id=row.id, status=row.status, progress=row.progress, dataset_id=row.dataset_id,
                      design=row.design, summary=row.summary, error=row.error, balance=tables.get("balance"),
                      power_curve=tables.get("power_curve"),
                      files=[RolloutFile(name=n, media_type=m, url=f"/v1/rollouts/{row.id}/files/{n}")
                             for n, m in files],
                      created_at=row.created_at, created_by=row.created_by, started_at=row.started_at,
                      finished_at=row.finished_at)


def _visible(conn: Connection, caller: Caller, ident: str, with_tables: bool = False) -> Any:
    """state: every rollout; researcher: its own."""
    require(caller, "state", "researcher")
    row = repo.get_rollout(conn, ident, with_tables)
    if caller.role != "state" and row.created_by != caller.key_id:
        raise Forbidden("a researcher key sees the rollouts it started only")
    return row


@router.post("", status_code=202, response_model=RolloutOut)
def start_rollout(body: RolloutIn, caller: CallerDep, engine: EngineDep, jobs: JobsDep,
                  settings: SettingsDep) -> RolloutOut:
    """Check the design (422 naming section.key for every bad setting) and run it as a job; poll
    GET /v1/rollouts/{id} for its status and progress."""
    require(caller, "state", "researcher")

    def visible(ds: Any) -> None:
        with engine.connect() as conn:
            check_dataset(conn, caller, ds)

    request = body.model_dump(exclude_unset=True)
    ident = svc.start_rollout(engine, caller, request, settings.max_rollout_replications, visible)
    repo.audit(engine, caller, "rollout.start", f"rollout/{ident}", 202, request)
    jobs.submit_rollout(ident)
    with engine.connect() as conn:
        return _out(repo.get_rollout(conn, ident), [])


@router.get("", response_model=RolloutList)
def list_rollouts(caller: CallerDep, engine: EngineDep) -> RolloutList:
    """Newest first: every rollout for a state key, a researcher's own."""
    require(caller, "state", "researcher")
    with engine.connect() as conn:
        rows = repo.list_rollouts(conn, None if caller.role == "state" else caller.key_id)
        files = repo.rollout_file_names(conn, [r.id for r in rows if r.status == "succeeded"])
    return RolloutList(rollouts=[_out(r, files.get(r.id, [])) for r in rows])


@router.get("/{rollout_id}", response_model=RolloutOut)
def get_rollout(rollout_id: str, caller: CallerDep, engine: EngineDep) -> RolloutOut:
    """Status, progress, the design; once succeeded the summary, the balance and power-curve rows, the files."""
    with engine.connect() as conn:
        row = _visible(conn, caller, rollout_id, with_tables=True)
        files = repo.rollout_file_names(conn, [row.id]) if row.status == "succeeded" else {}
    return _out(row, files.get(row.id, []), row.tables)


@router.get("/{rollout_id}/files/{file_name}", response_class=Response, responses={200: {
    "description": "the file as `matcher simulate` writes it: " + ", ".join(FILES),
    "content": {"text/csv": {}, "application/json": {"schema": {"type": "object"}}, "image/png": {}}}})
def rollout_file(rollout_id: str, file_name: str, caller: CallerDep, engine: EngineDep) -> Response:
    """One output file, byte for byte what `matcher simulate` writes for the design."""
    with engine.connect() as conn:
        row = _visible(conn, caller, rollout_id)
        if file_name not in FILES:
            raise NotFoundError("file of rollout (files: " + ", ".join(FILES) + ")", file_name)
        if row.status != "succeeded":
            raise NotFoundError(f"file yet (the rollout is {row.status})", file_name)
        data, media = repo.rollout_file(conn, rollout_id, file_name)
    headers = {"Content-Disposition": f'attachment; filename="rollout-{rollout_id}-{file_name}"'} \
        if file_name.endswith(".csv") else None
    return Response(data, media_type=media, headers=headers)
