"""Liveness (the process answers) and readiness (the database answers and its schema is current)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from ...store.db import current_revision, head_revision
from ..schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
def readyz(request: Request) -> Health | JSONResponse:
    engine = request.app.state.engine
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        rev = current_revision(engine)
    except Exception as exc:  # any database failure means not ready
        return JSONResponse(Health(status="unavailable", database=type(exc).__name__).model_dump(), 503)
    if rev != head_revision():
        return JSONResponse(Health(status="migrations pending", database="ok", schema_revision=rev).model_dump(), 503)
    return Health(status="ok", database="ok", schema_revision=rev)
