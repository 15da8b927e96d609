"""School networks: solve an uploaded schools file, read a revision, re-form one network, assign facilitators
(state keys), and download a revision's networks.csv and pages. A principal key reads the networks holding one of
its schools (with every school of them) and why its own left-out schools were left out; a facilitator key the
networks assigned to it; a run with nothing for the key is 404. Every school carries its name beside its id."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from ...errors import ConflictError, InputError, NotFoundError, Problem
from ...service import networks as svc
from ...store import repo
from ...store.keys import Caller
from ..deps import CallerDep, EngineDep, require
from ..errors import CONFLICT, RESPONSES
from ..schemas import NetworkRematchIn, NetworkRunOut
from .reports import _html_file

router = APIRouter(prefix="/v1/networks", tags=["networks"], responses=RESPONSES)
MAX_SECONDS = 60.0  # a request waits for the solve; past this the answer reports its proven gap
READERS = ("state", "principal", "facilitator")  # who may read networks (each within its view)
Revision = Annotated[int | None, Query(ge=0, le=2**31 - 1, description="default: the newest")]

_FORM = {"type": "object", "required": ["file"], "properties": {
    "file": {"type": "string", "format": "binary", "description": "schools CSV (docs/inputs.md, Schools files)"},
    "policy": {"type": "string",
               "description": "the network policy as JSON text (docs/networks.md: Network policy settings)"},
    "name": {"type": "string", "maxLength": 300}}}
_FACILITATORS_FORM = {"type": "object", "required": ["file", "revision"], "properties": {
    "file": {"type": "string", "format": "binary",
             "description": "facilitators CSV: facilitator_id, latitude, longitude[, caseload][, name]"},
    "revision": {"type": "integer", "minimum": 0, "description": "the revision the district office saw"},
    "caseload": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 4,
                 "description": "networks a facilitator carries where the file's caseload is blank or absent"}}}


def _rows(engine: Any, caller: Caller, ident: str, revision: int | None) -> tuple[Any, Any, Any, svc.View]:
    """The run, its newest revision, the revision asked for, and what the key sees of it (404 when it sees
    nothing of the run)."""
    with engine.connect() as conn:
        run, latest = svc.visible_run(conn, caller, ident)
        row = latest if revision is None else svc.get_revision(conn, ident, revision)
    return run, latest, row, svc.view_of(caller, row)


def _out(engine: Any, caller: Caller, ident: str, revision: int | None = None) -> NetworkRunOut:
    run, latest, row, view = _rows(engine, caller, ident, revision)
    return NetworkRunOut(id=run.id, name=run.name, revision=row.revision, latest_revision=latest.revision,
                         created_at=row.created_at, created_by=row.created_by, **svc.revision_out(run, row, view))


async def _form(request: Request, what: str) -> tuple[Any, bytes, str]:
    """The multipart form and its `file` (bytes, file name)."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InputError([Problem("request", f"send multipart/form-data with the {what} CSV as 'file'",
                                  column="content-type")])
    form = await request.form()
    item = form.get("file")
    if not isinstance(item, UploadFile):
        raise InputError([Problem("request", f"a {what} CSV is required", column="file")])
    return form, await item.read(), (item.filename or f"{what}.csv").replace("\x00", "")


def _whole(form: Any, field: str, low: int, high: int, default: int | None = None) -> int:
    raw = form.get(field)
    if raw is None or raw == "":
        if default is None:
            raise InputError([Problem("request", "required", column=field)])
        return default
    text = raw.strip() if isinstance(raw, str) else ""
    if not (text.isascii() and text.isdigit() and len(text) <= 10 and low <= int(text) <= high):
        raise InputError([Problem("request", f"must be a whole number from {low} to {high}", column=field,
                                  value=raw if isinstance(raw, str) else "(a file)")])
    return int(text)


@router.post("", status_code=201, response_model=NetworkRunOut, openapi_extra={"requestBody": {
    "required": True, "content": {"multipart/form-data": {"schema": _FORM}}}})
async def create_networks(request: Request, caller: CallerDep, engine: EngineDep) -> NetworkRunOut:
    """Form networks from a schools file under a policy; the answer is revision 0 with every reason."""
    require(caller, "state")
    form, data, filename = await _form(request, "schools")
    raw = form.get("policy") or "{}"
    try:
        policy = json.loads(raw) if isinstance(raw, str) else None
    except json.JSONDecodeError as exc:
        raise InputError([Problem("request", f"not JSON: {exc.msg}", column="policy")]) from None
    if not isinstance(policy, dict):
        raise InputError([Problem("request", "must be a JSON object of policy settings", column="policy")])
    ident = await run_in_threadpool(svc.create, engine, caller, data, filename, policy, MAX_SECONDS)
    repo.audit(engine, caller, "networks.create", f"networks/{ident}", 201, {"name": filename, "policy": policy})
    return _out(engine, caller, ident)


@router.get("/{network_run_id}", response_model=NetworkRunOut)
def get_networks(network_run_id: str, caller: CallerDep, engine: EngineDep, revision: Revision = None
                 ) -> NetworkRunOut:
    """A revision (default the newest) as the key sees it: state keys every network; a principal key the networks
    holding one of its schools (all their schools named, with their reasons) and its own left-out schools; a
    facilitator key the networks assigned to it. 404 when the key sees nothing of the run's newest revision."""
    require(caller, *READERS)
    return _out(engine, caller, network_run_id, revision)


@contextmanager
def _audited(engine: Any, caller: Caller, action: str, run_id: str,
             request: dict[str, Any]) -> Iterator[dict[str, int]]:
    """Audit one change of a network run: refused as outdated (409, with why), or saved (201, with the revision the
    block puts in the dict it gets)."""
    saved: dict[str, int] = {}
    try:
        yield saved
    except ConflictError as exc:
        repo.audit(engine, caller, action, f"networks/{run_id}", 409, {"request": request, "outcome": str(exc)})
        raise
    repo.audit(engine, caller, action, f"networks/{run_id}", 201, {"request": request, "revision": saved["revision"]})


@router.post("/{network_run_id}/rematch", status_code=201, response_model=NetworkRunOut, responses=CONFLICT)
def rematch_networks(network_run_id: str, body: NetworkRematchIn, caller: CallerDep,
                     engine: EngineDep) -> NetworkRunOut:
    """Form one network again (without the schools that leave, and with the left-out schools), keeping the
    others; 409 with the current revision when the one sent is outdated. When facilitators were assigned, the new
    revision is assigned again from the same file (422 when it cannot carry the re-formed networks: nothing is
    saved; assign from a larger file first)."""
    require(caller, "state")
    request = body.model_dump()
    with _audited(engine, caller, "networks.rematch", network_run_id, request) as saved:
        saved["revision"] = svc.rematch(engine, caller, network_run_id, revision=body.revision,
                                        network_id=body.network_id, remove=body.remove,
                                        avoid=[tuple(p) for p in body.avoid], request=request)
    return _out(engine, caller, network_run_id, saved["revision"])


@router.post("/{network_run_id}/facilitators", status_code=201, response_model=NetworkRunOut, responses=CONFLICT,
             openapi_extra={"requestBody": {"required": True,
                                            "content": {"multipart/form-data": {"schema": _FACILITATORS_FORM}}}})
async def assign_facilitators(network_run_id: str, request: Request, caller: CallerDep,
                              engine: EngineDep) -> NetworkRunOut:
    """Give each network of the newest revision one facilitator, each facilitator at most its caseload, with the
    least total travel to the hosts (exact): a new revision with the same networks and the assignment. `revision`
    is the one the district office saw (409 with the current one when outdated). The file is kept, and a later
    re-form is assigned again from it.

    A bad file: 422 naming the file, row, column and value. Too few facilitators for the networks (their caseloads
    add up to fewer than the networks): 422 `infeasible` with the counts, since the file, not the state of the run,
    has to change (a 409 would say "reload and ask again", which cannot help)."""
    require(caller, "state")
    form, data, filename = await _form(request, "facilitators")
    revision = _whole(form, "revision", 0, 2**31 - 1)
    caseload = _whole(form, "caseload", 1, 1000, default=4)
    detail = {"name": filename, "revision": revision, "caseload": caseload}
    with _audited(engine, caller, "networks.facilitators", network_run_id, detail) as saved:
        saved["revision"] = await run_in_threadpool(svc.assign, engine, caller, network_run_id, revision=revision,
                                                    data=data, filename=filename, caseload=caseload)
    return _out(engine, caller, network_run_id, saved["revision"])


_CSV = {200: {"content": {"text/csv": {}}, "description": "networks.csv as `matcher networks` writes it, of the "
                                                          "networks the key sees"}}
_PAGE = {200: {"content": {"text/html": {}}, "description": "the network's page as `matcher networks` writes it"}}
_PAGES = {200: {"content": {"application/zip": {}},
                "description": "networks/<page>.html for every network the key sees, and networks/index.html"}}


@router.get("/{network_run_id}/networks.csv", response_class=Response, responses=_CSV)
def networks_csv(network_run_id: str, caller: CallerDep, engine: EngineDep, revision: Revision = None) -> Response:
    """The revision's networks.csv (network_id, school_id, school_name, role, pod, focus_area, explanation; formula
    cells neutralised), of the networks the key sees."""
    require(caller, *READERS)
    run, _, row, view = _rows(engine, caller, network_run_id, revision)
    return Response(svc.networks_csv(run, row, view), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="networks-{run.id}-r{row.revision}.csv"'})


@router.get("/{network_run_id}/pages/{network_id}.html", response_class=Response, responses=_PAGE)
def network_page(network_run_id: str, network_id: str, caller: CallerDep, engine: EngineDep,
                 revision: Revision = None) -> Response:
    """One network's page for its schools and its facilitator (by network id, or by its page's file name as the
    index links it); 404 for a network the key does not see."""
    require(caller, *READERS)
    run, _, row, view = _rows(engine, caller, network_run_id, revision)
    if view.networks is not None and not view.networks:  # nothing to draw: spare reading the schools file
        raise NotFoundError("network in this revision", network_id)
    html, filename = svc.page(run, row, view, network_id)
    return _html_file(html, filename)


@router.get("/{network_run_id}/pages.zip", response_class=Response, responses=_PAGES)
def network_pages(network_run_id: str, caller: CallerDep, engine: EngineDep, revision: Revision = None) -> Response:
    """Every page of the networks the key sees, and their index, in one zip."""
    require(caller, *READERS)
    run, _, row, view = _rows(engine, caller, network_run_id, revision)
    return Response(svc.pages_zip(run, row, view), media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="network-pages-{run.id}-r{row.revision}.zip"'})
