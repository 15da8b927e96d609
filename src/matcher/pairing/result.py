"""What a pairing run returns: pairs with reasons, unmatched teachers with reasons, and a summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..io.teachers import TeacherTable
from ..policy import Policy


class Pair(NamedTuple):
    """One suggested pair. In one-way mode teacher_a is the partner and teacher_b the target.

    A NamedTuple rather than a frozen dataclass: a statewide run makes ~30,000 of them and sends them between
    processes, and tuples build and pickle several times faster.
    """

    school_id: str
    teacher_a: str
    teacher_b: str
    value: float
    a_helps_b: tuple[str, ...]  # indicators where b is in refinement and a in reinforcement
    b_helps_a: tuple[str, ...]
    focus_indicator: str
    explanation: str
    school_b: str = ""  # the second teacher's school when it differs (cross-school fallback)
    origin: str = "optimized"  # optimized | must_pair | cross_school
    previous: str = ""  # kept | new, when a previous run was given
    # Names as the teacher file gave them ("" when not given: the id then stands alone). Appended last so that
    # positional constructions and stored dicts of older runs stay valid.
    teacher_a_name: str = ""
    teacher_b_name: str = ""
    school_name: str = ""
    school_b_name: str = ""  # the second teacher's school's name, for a cross-school pair


class Unmatched(NamedTuple):
    """A teacher left without a pair, and why (the names as the teacher file gave them, "" when not given)."""

    school_id: str
    teacher_id: str
    reason: str
    code: str  # opted_out | no_scores | no_areas | no_helper | ruled_out | taken
    teacher_name: str = ""
    school_name: str = ""


@dataclass(frozen=True, eq=False)
class PairingResult:
    pairs: tuple[Pair, ...]
    unmatched: tuple[Unmatched, ...]
    summary: dict[str, Any]
    policy: Policy
    teachers: TeacherTable = field(repr=False)

    def for_school(self, school_id: str) -> tuple[list[Pair], list[Unmatched]]:
        pairs = [p for p in self.pairs if school_id in (p.school_id, p.school_b)]
        return pairs, [u for u in self.unmatched if u.school_id == school_id]
