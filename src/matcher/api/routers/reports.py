"""A run's per-school overview, the per-school HTML reports (the CLI's schools/<id>.html) and each pair's handout
for its two teachers (the CLI's handouts/<key>/<pair>.html), as the schools stand now; within the key's scope like
the other pairing routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection, Row

from ...policy import policy_from_dict
from ...report.wording import unit
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
    value_counts: str = Field("", description="what a school's value counts, e.g. \"indicators where one can "
                                              "support the other, added up over the school's pairs\"")
    schools: list[OverviewRow]


def _visible(conn: Connection, caller: Caller, pairing_id: str) -> Row:
    run = repo.get_run(conn, pairing_id)
    ds = repo.get_dataset(conn, run.dataset_id)
    check_dataset(conn, caller, ds)
    return ds


def _school(conn: Connection, caller: Caller, pairing_id: str, school_ref: str) -> str:
    """The school's id, once the caller may see the run's dataset and that school (403 otherwise)."""
    return check_school(conn, caller, _visible(conn, caller, pairing_id), school_ref)


@router.get("/{pairing_id}/overview", response_model=Overview)
def overview(pairing_id: str, caller: CallerDep, engine: EngineDep) -> Overview:
    """Every school at its newest revision: pairs, teachers in a pair, coverage, value (a principal: its own)."""
    with engine.connect() as conn:
        _visible(conn, caller, pairing_id)
        rows = svc.overview(conn, pairing_id, school_scope(caller))
        policy = policy_from_dict(repo.get_run(conn, pairing_id).policy)
    return Overview(pairing_id=pairing_id, value_counts=f"{unit(policy)}, added up over the school's pairs",
                    schools=[OverviewRow(**r) for r in rows])


_HTML = {200: {"content": {"text/html": {}}, "description": "the school's page as `matcher pair` writes it"}}
_ZIP = {200: {"content": {"application/zip": {}}, "description": "schools/<key>.html for every school"}}


@router.get("/{pairing_id}/schools/{school_id}/report.html", response_class=Response, responses=_HTML)
def school_report(pairing_id: str, school_id: SchoolRef, caller: CallerDep, engine: EngineDep,
                  revision: Annotated[int | None, Query(ge=0, le=2**31 - 1, description="default: the newest")]
                  = None) -> Response:
    """The school's report for its principal: each pair with both scores, the focus, everyone left out and why."""
    with engine.connect() as conn:
        school_id = _school(conn, caller, pairing_id, school_id)
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


_HANDOUT = {200: {"content": {"text/html": {}}, "description": "the pair's handout as `matcher pair` writes it"}}
_HANDOUTS = {200: {"content": {"application/zip": {}},
                   "description": "handouts/<school key>/<pair key>.html for every pair of the school"}}
PairKey = Annotated[str, Path(min_length=1, max_length=200, description="the pair's `handout` key, as the school view "
                                                                        "lists it")]
Scores = Annotated[bool, Query(description="show the pair's indicator scores (this school's teachers' only)")]


def _html_file(html: str, filename: str) -> Response:
    return Response(html, media_type="text/html; charset=utf-8",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


@router.get("/{pairing_id}/schools/{school_id}/pairs/{pair}/handout.html", response_class=Response,
            responses=_HANDOUT)
def handout(pairing_id: str, school_id: SchoolRef, pair: PairKey, caller: CallerDep, engine: EngineDep,
            scores: Scores = False,
            revision: Annotated[int | None, Query(ge=0, le=2**31 - 1, description="default: the newest")] = None
            ) -> Response:
    """One pair's page for its two teachers: what each brings, the suggested focus, the first steps; printable on
    one page. No score unless scores=true."""
    with engine.connect() as conn:
        school_id = _school(conn, caller, pairing_id, school_id)
        html = svc.handout(conn, pairing_id, school_id, pair, scores, revision)
    return _html_file(html, f"{pair}.html")  # a key found among the school's pairs: safe as a file name


@router.get("/{pairing_id}/schools/{school_id}/handouts.zip", response_class=Response, responses=_HANDOUTS)
def handouts_zip(pairing_id: str, school_id: SchoolRef, caller: CallerDep, engine: EngineDep,
                 scores: Scores = False) -> Response:
    """Every pair's handout of the school at its newest revision (principals' re-matches included), in one zip."""
    with engine.connect() as conn:
        school_id = _school(conn, caller, pairing_id, school_id)
        data = svc.handouts_zip(conn, pairing_id, school_id, scores)
    return Response(data, media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{svc.handouts_filename(school_id)}"'})
