"""School networks (state keys): solve an uploaded schools file, read a revision, re-form one network; every
school carries its name beside its id."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ...errors import ConflictError, InputError, Problem
from ...service import networks as svc
from ...store import repo
from ..deps import CallerDep, EngineDep, require
from ..errors import CONFLICT, RESPONSES
from ..schemas import NetworkRematchIn, NetworkRunOut

router = APIRouter(prefix="/v1/networks", tags=["networks"], responses=RESPONSES)
MAX_SECONDS = 60.0  # a request waits for the solve; past this the answer reports its proven gap

_FORM = {"type": "object", "required": ["file"], "properties": {
    "file": {"type": "string", "format": "binary", "description": "schools CSV (PRODUCT.md)"},
    "policy": {"type": "string", "description": "the network policy as JSON text (see README)"},
    "name": {"type": "string", "maxLength": 300}}}


def _out(engine: Any, ident: str, revision: int | None = None) -> NetworkRunOut:
    with engine.connect() as conn:
        run = svc.get_run(conn, ident)
        latest = svc.get_revision(conn, ident)
        row = latest if revision is None else svc.get_revision(conn, ident, revision)
    networks, names = svc.named(run, row)
    return NetworkRunOut(id=run.id, name=run.name, revision=row.revision, latest_revision=latest.revision,
                         policy=run.policy, summary=row.summary, networks=networks, left_out=row.left_out,
                         school_names=names, created_at=row.created_at, created_by=row.created_by)


@router.post("", status_code=201, response_model=NetworkRunOut, openapi_extra={"requestBody": {
    "required": True, "content": {"multipart/form-data": {"schema": _FORM}}}})
async def create_networks(request: Request, caller: CallerDep, engine: EngineDep) -> NetworkRunOut:
    """Form networks from a schools file under a policy; the answer is revision 0 with every reason."""
    require(caller, "state")
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InputError([Problem("request", "send multipart/form-data with the schools CSV as 'file'",
                                  column="content-type")])
    form = await request.form()
    item = form.get("file")
    if not isinstance(item, UploadFile):
        raise InputError([Problem("request", "a schools CSV is required", column="file")])
    data, filename = await item.read(), (item.filename or "schools.csv").replace("\x00", "")
    raw = form.get("policy") or "{}"
    try:
        policy = json.loads(raw) if isinstance(raw, str) else None
    except json.JSONDecodeError as exc:
        raise InputError([Problem("request", f"not JSON: {exc.msg}", column="policy")]) from None
    if not isinstance(policy, dict):
        raise InputError([Problem("request", "must be a JSON object of policy settings", column="policy")])
    ident = await run_in_threadpool(svc.create, engine, caller, data, filename, policy, MAX_SECONDS)
    repo.audit(engine, caller, "networks.create", f"networks/{ident}", 201, {"name": filename, "policy": policy})
    return _out(engine, ident)


@router.get("/{network_run_id}", response_model=NetworkRunOut)
def get_networks(network_run_id: str, caller: CallerDep, engine: EngineDep,
                 revision: Annotated[int | None, Query(ge=0, le=2**31 - 1)] = None) -> NetworkRunOut:
    require(caller, "state")
    return _out(engine, network_run_id, revision)


@router.post("/{network_run_id}/rematch", status_code=201, response_model=NetworkRunOut, responses=CONFLICT)
def rematch_networks(network_run_id: str, body: NetworkRematchIn, caller: CallerDep,
                     engine: EngineDep) -> NetworkRunOut:
    """Form one network again (without the schools that leave, and with the left-out schools), keeping the
    others; 409 with the current revision when the one sent is outdated."""
    require(caller, "state")
    request = body.model_dump()
    try:
        rev = svc.rematch(engine, caller, network_run_id, revision=body.revision, network_id=body.network_id,
                          remove=body.remove, avoid=[tuple(p) for p in body.avoid], request=request)
    except ConflictError as exc:
        repo.audit(engine, caller, "networks.rematch", f"networks/{network_run_id}", 409,
                   {"request": request, "outcome": str(exc)})
        raise
    repo.audit(engine, caller, "networks.rematch", f"networks/{network_run_id}", 201,
               {"request": request, "revision": rev})
    return _out(engine, network_run_id, rev)
