"""Who the presented key is: its role and (for a principal) its schools, so a client knows where to land."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ..deps import CallerDep
from ..errors import RESPONSES

router = APIRouter(prefix="/v1/me", tags=["me"], responses=RESPONSES)


class MeOut(BaseModel):
    key_id: str = Field(description="the key's public id (as in the audit trail)")
    role: str = Field(description="state | principal | researcher")
    schools: list[str] = Field(description="a principal key's schools; empty for the other roles (they are not "
                                           "limited to schools)")


@router.get("", response_model=MeOut)
def me(caller: CallerDep) -> MeOut:
    return MeOut(key_id=caller.key_id, role=caller.role, schools=sorted(caller.schools))
