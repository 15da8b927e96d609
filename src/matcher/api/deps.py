"""Dependencies of the routes: settings, the database engine, the job runner, and who is calling."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection, Engine

from ..store import repo
from ..store.keys import Caller, caller_for
from .jobs import JobRunner
from .settings import Settings


class Unauthorized(Exception):
    pass


class Forbidden(Exception):
    pass


class Unavailable(Exception):
    pass


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_engine(request: Request) -> Engine:
    if not request.app.state.ready:
        raise Unavailable("the database schema is not up to date; run `matcher db upgrade`")
    return request.app.state.engine


def get_jobs(request: Request) -> JobRunner:
    return request.app.state.jobs


_bearer = HTTPBearer(auto_error=False, description="an API key from `matcher keys create`")


def get_caller(engine: Annotated[Engine, Depends(get_engine)],
               cred: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Caller:
    if cred is None:
        raise Unauthorized("send an API key as 'Authorization: Bearer <key>'")
    caller = caller_for(engine, cred.credentials)
    if caller is None:
        raise Unauthorized("unknown or revoked API key")
    return caller


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
JobsDep = Annotated[JobRunner, Depends(get_jobs)]
CallerDep = Annotated[Caller, Depends(get_caller)]


# Who may see what ----------------------------------------------------------------------------------------------

def require(caller: Caller, *roles: str) -> None:
    if caller.role not in roles:
        raise Forbidden(f"a {caller.role} key cannot do this (needs: {', '.join(roles)})")


def check_dataset(conn: Connection, caller: Caller, dataset: Any) -> None:
    """state: every dataset; researcher: synthetic ones only; principal: those holding one of its schools."""
    if caller.role == "researcher" and dataset.kind != "synthetic":
        raise Forbidden("researcher keys see synthetic datasets only, never uploaded teacher scores")
    if caller.role == "principal" and not repo.dataset_schools_of(conn, dataset.id, caller.schools):
        raise Forbidden("this dataset holds none of your schools")


def check_school(conn: Connection, caller: Caller, dataset: Any, school_id: str) -> None:
    check_dataset(conn, caller, dataset)
    if not caller.sees_school(school_id):
        raise Forbidden(f"this key is for {', '.join(sorted(caller.schools))}; not for school {school_id!r}")


def school_scope(caller: Caller) -> frozenset[str] | None:
    """The schools a listing may show: a principal's own, or all (None)."""
    return caller.schools if caller.role == "principal" else None
