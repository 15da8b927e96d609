"""Dependencies of the routes: settings, the database engine, the job runner, and who is calling."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Request
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


SchoolRef = Annotated[str, Path(description="the school's `key` (as listings give it), or its id: ids of capital "
                                          "letters, digits, '_', '-' and '.' are their own keys; other ids (with "
                                          "'/', '..', spaces or small letters) are reached by their key")]


# Who may see what ----------------------------------------------------------------------------------------------

def require(caller: Caller, *roles: str) -> None:
    if caller.role not in roles:
        raise Forbidden(f"a {caller.role} key cannot do this (needs: {', '.join(roles)})")


def check_dataset(conn: Connection, caller: Caller, dataset: Any) -> None:
    """state: every dataset; researcher: synthetic ones only; principal: those holding one of its schools;
    facilitator: none (it sees the school networks assigned to it, never teachers' scores)."""
    if caller.role == "facilitator":
        raise Forbidden("facilitator keys see the school networks assigned to them, never pairing data")
    if caller.role == "researcher" and dataset.kind != "synthetic":
        raise Forbidden("researcher keys see synthetic datasets only, never uploaded teacher scores")
    if caller.role == "principal" and not repo.dataset_schools_of(conn, dataset.id, caller.schools):
        raise Forbidden("this dataset holds none of your schools")


def check_school(conn: Connection, caller: Caller, dataset: Any, ref: str) -> str:
    """The school a URL's {school} names (its key or its id, io.file_keys), if the caller may see it; the refusal
    repeats the ref as sent, never the school it stands for."""
    check_dataset(conn, caller, dataset)
    school_id = repo.school_of_ref(conn, dataset.id, ref)
    if not caller.sees_school(school_id):
        raise Forbidden(f"this key is for {', '.join(sorted(caller.schools))}; not for school {ref!r}")
    return school_id


def school_scope(caller: Caller) -> frozenset[str] | None:
    """The schools a pairing or dataset listing may show: a principal's own, none for a facilitator (networks
    only), or all (None)."""
    if caller.role == "facilitator":
        return frozenset()
    return caller.schools if caller.role == "principal" else None
