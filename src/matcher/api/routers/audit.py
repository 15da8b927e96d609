"""The audit trail: every change, who asked, when, with what request and what came of it (state keys)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query

from ...store import repo
from ..deps import CallerDep, EngineDep, require
from ..errors import RESPONSES
from ..schemas import AuditList, AuditOut

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=RESPONSES)


@router.get("", response_model=AuditList)
def audit_log(caller: CallerDep, engine: EngineDep,
              target: Annotated[str | None, Query(max_length=300, pattern=r"^[^\x00]*$",
                                                  description="e.g. pairing/<id>")] = None,
              limit: Annotated[int, Query(ge=1, le=10000)] = 1000) -> AuditList:
    require(caller, "state")
    with engine.connect() as conn:
        rows = repo.audit_entries(conn, target, limit)
    return AuditList(entries=[AuditOut(**{**r._mapping, "detail": json.loads(r.detail)}) for r in rows])
