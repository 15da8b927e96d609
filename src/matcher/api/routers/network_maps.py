"""School-network runs for the web page (state keys): the list of runs, and each run's schools with their
coordinates and applications, to draw hosts and partners on a map."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ...service import network_index as svc
from ..deps import CallerDep, EngineDep, require
from ..errors import RESPONSES

router = APIRouter(prefix="/v1/networks", tags=["networks"], responses=RESPONSES)


class NetworkRunRow(BaseModel):
    id: str
    name: str
    created_at: datetime
    created_by: str
    latest_revision: int
    n_networks: int
    n_placed: int
    n_left_out: int


class NetworkRunList(BaseModel):
    network_runs: list[NetworkRunRow]


class NetworkSchool(BaseModel):
    school_id: str
    school_name: str = Field(description="the school's name, as in the other network routes")
    name: str = Field(description="the same name (kept for earlier clients)")
    district_id: str
    level: str
    latitude: float | None
    longitude: float | None
    applied_as: str
    strengths: list[str]
    needs: list[str]


class NetworkSchoolList(BaseModel):
    network_run_id: str
    schools: list[NetworkSchool]


@router.get("", response_model=NetworkRunList)
def list_network_runs(caller: CallerDep, engine: EngineDep) -> NetworkRunList:
    """Every network run, newest first, with its newest revision's counts."""
    require(caller, "state")
    with engine.connect() as conn:
        return NetworkRunList(network_runs=[NetworkRunRow(**r) for r in svc.list_runs(conn)])


@router.get("/{network_run_id}/schools", response_model=NetworkSchoolList)
def network_schools(network_run_id: str, caller: CallerDep, engine: EngineDep) -> NetworkSchoolList:
    """The schools of the file the run was formed from: name, district, coordinates, what each applied as, its
    strengths and needs."""
    require(caller, "state")
    with engine.connect() as conn:
        rows = svc.schools(conn, network_run_id)
    return NetworkSchoolList(network_run_id=network_run_id, schools=[NetworkSchool(**r) for r in rows])
