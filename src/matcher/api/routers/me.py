"""Who the presented key is: its role, (for a principal) its schools with their names and (for a facilitator) its
facilitator ids, so a client knows where to land and what to call it."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ...io.file_keys import file_key
from ...store import repo
from ..deps import CallerDep, EngineDep
from ..errors import RESPONSES

router = APIRouter(prefix="/v1/me", tags=["me"], responses=RESPONSES)


class MeOut(BaseModel):
    key_id: str = Field(description="the key's public id (as in the audit trail)")
    role: str = Field(description="state | principal | researcher | facilitator")
    schools: list[str] = Field(description="a principal key's schools; empty for the other roles (they are not "
                                           "limited to schools)")
    school_names: dict[str, str] = Field(default_factory=dict,
                                         description="school_id -> name for a principal key's schools, as the "
                                                     "newest dataset that names each one gives it (other roles "
                                                     "find names beside each school in the pairing listings)")
    school_keys: dict[str, str] = Field(default_factory=dict,
                                        description="school_id -> key (URLs and file names) for a principal key's "
                                                    "schools")
    facilitators: list[str] = Field(default_factory=list,
                                    description="a facilitator key's facilitator ids (it sees the school networks "
                                                "assigned to them); empty for the other roles")


@router.get("", response_model=MeOut)
def me(caller: CallerDep, engine: EngineDep) -> MeOut:
    names: dict[str, str] = {}
    if caller.schools:
        with engine.connect() as conn:
            names = repo.newest_school_names(conn, caller.schools)
    return MeOut(key_id=caller.key_id, role=caller.role, schools=sorted(caller.schools), school_names=names,
                 school_keys={s: file_key(s) for s in caller.schools}, facilitators=sorted(caller.facilitators))
