"""School-network runs for the web page: the list of runs, and each run's schools with their coordinates and
applications, to draw hosts and partners on a map. State keys see every run and school; a principal key the runs
where one of its schools is in a network or left out (in the newest revision), and the schools of those networks
and its own; a facilitator key the runs where a network is assigned to it, and the schools of those networks."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ...service import network_index as svc
from ..deps import CallerDep, EngineDep, require
from ..errors import RESPONSES
from .networks import READERS

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
    grade_min: str = Field("", description="as the schools file gives it: PK, K or 1 to 12")
    grade_max: str = ""
    school_type: str = Field("", description="the schools file's school_type, \"\" when not given")


class NetworkSchoolList(BaseModel):
    network_run_id: str
    schools: list[NetworkSchool]


@router.get("", response_model=NetworkRunList)
def list_network_runs(caller: CallerDep, engine: EngineDep) -> NetworkRunList:
    """Every network run the key sees something of, newest first, with its newest revision's counts (of every
    network: they are aggregates)."""
    require(caller, *READERS)
    with engine.connect() as conn:
        return NetworkRunList(network_runs=[NetworkRunRow(**r) for r in svc.list_runs(conn, caller)])


@router.get("/{network_run_id}/schools", response_model=NetworkSchoolList)
def network_schools(network_run_id: str, caller: CallerDep, engine: EngineDep) -> NetworkSchoolList:
    """The schools of the file the run was formed from: name, district, coordinates, what each applied as, its
    strengths and needs (a principal or facilitator key: the schools of the networks it sees in the newest
    revision, and a principal's own left-out schools)."""
    require(caller, *READERS)
    with engine.connect() as conn:
        rows = svc.schools(conn, network_run_id, caller)
    return NetworkSchoolList(network_run_id=network_run_id, schools=[NetworkSchool(**r) for r in rows])
