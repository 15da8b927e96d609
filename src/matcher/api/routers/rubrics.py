"""The bundled observation rubrics: indicators by domain, the score scale and the default thresholds (what a
client needs to draw scores without assuming 19 indicators or a 1 to 5 scale)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from ...errors import NotFoundError
from ...pairing.explain import label
from ...rubric import BUNDLED, bundled
from ..deps import CallerDep
from ..errors import RESPONSES

router = APIRouter(prefix="/v1/rubrics", tags=["rubrics"], responses=RESPONSES)


class IndicatorOut(BaseModel):
    name: str
    label: str
    domain: str


class RubricOut(BaseModel):
    name: str
    title: str
    scale_min: float
    scale_max: float
    weak_below: float
    strong_at_least: float
    indicators: list[IndicatorOut]


@router.get("/{rubric}", response_model=RubricOut)
def get_rubric(rubric: str, caller: CallerDep) -> RubricOut:
    """A bundled rubric by the name datasets carry (team, danielson); any key may read it."""
    if rubric not in BUNDLED:
        raise NotFoundError("rubric", rubric)
    r = bundled(rubric)
    return RubricOut(name=rubric, title=r.name, scale_min=r.scale_min, scale_max=r.scale_max,
                     weak_below=r.weak_below, strong_at_least=r.strong_at_least,
                     indicators=[IndicatorOut(name=i, label=label(i), domain=d) for d, inds in r.domains
                                 for i in inds])
