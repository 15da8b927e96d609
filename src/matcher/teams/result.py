"""What team formation returns: teams with their focus and reasons, teachers left out with reasons, a summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..io.teachers import TeacherTable
from .model import TeamPolicy

ROLES = ("leader", "strong", "learner", "member")


class Team(NamedTuple):
    """One team. roles[i] is members[i]'s role: leader (a template's leader place), strong (a reinforcement area
    in the focus), learner (a refinement area in the focus) or member. Names are the teachers file's ("" where it
    gave none); they come last so that code building a Team by position keeps working."""

    school_id: str
    team_id: str
    focus_indicator: str
    members: tuple[str, ...]
    roles: tuple[str, ...]
    explanation: str
    school_name: str = ""
    member_names: tuple[str, ...] = ()  # members[i]'s name


class Unassigned(NamedTuple):
    school_id: str
    teacher_id: str
    reason: str
    code: str  # opted_out | no_scores | no_group | few_colleagues | no_strong | no_team | teams_full | time_limit
    school_name: str = ""  # "" where the teachers file gave none
    teacher_name: str = ""


@dataclass(frozen=True, eq=False)
class TeamsResult:
    teams: tuple[Team, ...]
    unassigned: tuple[Unassigned, ...]
    summary: dict[str, Any]
    policy: TeamPolicy
    teachers: TeacherTable = field(repr=False)
