"""A run's per-school overview and the per-school HTML reports (the CLI's schools/<id>.html), as the schools
stand now; within the key's scope like the other pairing routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection, Row

from ...service import reports as svc
from ...store import repo
from ...store.keys import Caller
from ..deps import CallerDep, EngineDep, SchoolRef, check_dataset, check_school, school_scope
from ..errors import RESPONSES
from ..schemas import SCHOOL_KEY

router = APIRouter(prefix="/v1/pairings", tags=["pairings"], responses=RESPONSES)


class OverviewRow(BaseModel):
    school_id: str
    key: str = SCHOOL_KEY
    school_name: str = Field("", description="from the teacher file; \"\" if not given (the id stands alone)")
    revision: int
    value: float
    n_pairs: int
    n_teachers: int = Field(description="the school's teachers at this revision")
    n_paired: int = Field(description="its teachers in a suggested pair")
    n_unmatched: int
    coverage: float = Field(description="n_paired / n_teachers (0 for a school without teachers)")


class Overview(BaseModel):
    pairing_id: str
    schools: list[OverviewRow]


def _visible(conn: Connection, caller: Caller, pairing_id: str) -> Row:
    run = repo.get_run(conn, pairing_id)
    ds = repo.get_dataset(conn, run.dataset_id)
    check_dataset(conn, caller, ds)
    return ds


@router.get("/{pairing_id}/overview", response_model=Overview)
def overview(pairing_id: str, caller: CallerDep, engine: EngineDep) -> Overview:
    """Every school at its newest revision: pairs, teachers in a pair, coverage, value (a principal: its own)."""
    with engine.connect() as conn:
        _visible(conn, caller, pairing_id)
        rows = svc.overview(conn, pairing_id, school_scope(caller))
    return Overview(pairing_id=pairing_id, schools=[OverviewRow(**r) for r in rows])


_HTML = {200: {"content": {"text/html": {}}, "description": "the school's page as `matcher pair` writes it"}}
_ZIP = {200: {"content": {"application/zip": {}}, "description": "schools/<key>.html for every school"}}


@router.get("/{pairing_id}/schools/{school_id}/report.html", response_class=Response, responses=_HTML)
def school_report(pairing_id: str, school_id: SchoolRef, caller: CallerDep, engine: EngineDep,
                  revision: Annotated[int | None, Query(ge=0, le=2**31 - 1, description="default: the newest")]
                  = None) -> Response:
    """The school's report for its principal: each pair with both scores, the focus, everyone left out and why."""
    with engine.connect() as conn:
        ds = _visible(conn, caller, pairing_id)
        school_id = check_school(conn, caller, ds, school_id)
        html = svc.school_report(conn, pairing_id, school_id, revision)
    return Response(html, media_type="text/html; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{svc.report_filename(school_id)}"'})


@router.get("/{pairing_id}/reports.zip", response_class=Response, responses=_ZIP)
def reports_zip(pairing_id: str, caller: CallerDep, engine: EngineDep) -> Response:
    """Every school's report at its newest revision in one zip (a principal: its own schools)."""
    with engine.connect() as conn:
        _visible(conn, caller, pairing_id)
        data = svc.reports_zip(conn, pairing_id, school_scope(caller))
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="reports-{pairing_id}.zip"'})
