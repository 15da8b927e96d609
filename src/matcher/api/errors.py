"""One place that turns library and access errors into HTTP answers; a bad request is never a 500."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import (
    ConflictError,
    DeadlineError,
    InfeasibleError,
    InputError,
    MatcherError,
    NotFoundError,
    SolverError,
)
from .deps import Forbidden, Unauthorized, Unavailable
from .limits import deadline_response
from .schemas import ErrorOut

log = logging.getLogger(__name__)


def _body(error: str, message: str, problems: list[dict[str, Any]] | None = None, **extra: object) -> dict[str, Any]:
    return {"error": error, "message": message, "problems": problems or [], **extra}


def error_response(exc: Exception) -> JSONResponse:
    if isinstance(exc, InputError):
        problems = [p.__dict__ for p in exc.problems]  # at most 1,000 and a line counting the rest
        return JSONResponse(_body("invalid_input", f"{exc.count:,} problem(s) in the input", problems), 422)
    if isinstance(exc, DeadlineError):
        return deadline_response(exc)
    if isinstance(exc, InfeasibleError):
        return JSONResponse(_body("infeasible", str(exc)), 422)
    if isinstance(exc, NotFoundError):
        return JSONResponse(_body("not_found", str(exc)), 404)
    if isinstance(exc, ConflictError):
        return JSONResponse(_body("conflict", str(exc), revision=exc.detail.get("revision")), 409)
    if isinstance(exc, Forbidden):
        return JSONResponse(_body("forbidden", str(exc)), 403)
    if isinstance(exc, Unauthorized):
        return JSONResponse(_body("unauthorized", str(exc)), 401, headers={"WWW-Authenticate": "Bearer"})
    if isinstance(exc, Unavailable):
        return JSONResponse(_body("unavailable", str(exc)), 503)
    if isinstance(exc, SolverError):
        log.error("solver failure: %s", exc)
        return JSONResponse(_body("solver_failed", str(exc)), 503)
    raise exc


MAX_REQUEST_PROBLEMS = 1000


def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
    problems = []
    errors = exc.errors()
    for e in errors[:MAX_REQUEST_PROBLEMS]:
        loc = [str(x) for x in e.get("loc", ())]
        where = loc[0] if loc else "request"
        value = e.get("input")
        problems.append({"file": where, "message": e.get("msg", "invalid"), "row": None,
                         "column": ".".join(loc[1:]) or None,
                         "value": None if value is None or isinstance(value, dict | list) else str(value)[:200]})
    if len(errors) > MAX_REQUEST_PROBLEMS:
        problems.append({"file": "request", "message": f"... and {len(errors) - MAX_REQUEST_PROBLEMS} more problems "
                                                       "not listed", "row": None, "column": None, "value": None})
    return JSONResponse(_body("invalid_input", f"{len(errors)} problem(s) in the request", problems), 422)


def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 400:  # FastAPI's "error parsing the body": bytes that are not UTF-8 JSON
        return JSONResponse(_body("invalid_input", "the body is not valid JSON in UTF-8",
                                  [{"file": "body", "message": "not valid JSON in UTF-8", "row": None,
                                    "column": None, "value": None}]), 422)
    codes = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 401: "unauthorized", 403: "forbidden"}
    return JSONResponse(_body(codes.get(exc.status_code, "error"), str(exc.detail)), exc.status_code,
                        headers=getattr(exc, "headers", None))


def _data(_: Request, exc: DataError) -> JSONResponse:
    """The database refused a value from the request (the edge checks should have caught it first)."""
    log.warning("database refused a request value: %s", exc.orig)
    return JSONResponse(_body("invalid_input", "a value in the request cannot be stored (e.g. a NUL character "
                                               "or a number out of range)"), 422)


def install(app: FastAPI) -> None:
    for cls in (MatcherError, Forbidden, Unauthorized, Unavailable):
        app.add_exception_handler(cls, lambda _r, e: error_response(e))
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(DataError, _data)


# Documented on every /v1 route so clients (and the schema check) know every answer they can get.
RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text} for code, text in (
        (401, "no key, or an unknown or revoked key"), (403, "the key's role or schools do not allow this"),
        (404, "unknown id"), (413, "request body over the size limit"),
        (422, "invalid request, with the field and the reason"))
}
CONFLICT: dict[int | str, dict[str, Any]] = {409: {"model": ErrorOut, "description": "outdated revision, or the "
                                                                                     "run is not finished"}}
