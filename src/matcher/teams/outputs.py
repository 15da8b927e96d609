"""Write teams.csv, unassigned.csv and summary.json, all published at once; names stand beside ids."""

from __future__ import annotations

import json
from pathlib import Path

from ..io.atomic import staged_directory
from ..io.csv_out import csv_text
from .result import Team, TeamsResult, Unassigned

TEAM_COLUMNS = ("school_id", "school_name", "team_id", "teacher_id", "teacher_name", "role", "focus_indicator",
                "explanation")
UNASSIGNED_COLUMNS = ("school_id", "school_name", "teacher_id", "teacher_name", "reason", "code")


def teams_csv(teams: tuple[Team, ...] | list[Team]) -> str:
    """One row per team member, names beside ids ("" where none was given); the team's explanation is repeated on
    each of its rows; formula cells neutralised (io.csv_out)."""
    return csv_text(TEAM_COLUMNS, ((t.school_id, t.school_name, t.team_id, member, name, role, t.focus_indicator,
                                    t.explanation)
                                   for t in teams
                                   # a Team built without names has "" for each
                                   for member, name, role in zip(t.members, t.member_names or ("",) * len(t.members),
                                                                 t.roles, strict=True)))


def unassigned_csv(rows: tuple[Unassigned, ...] | list[Unassigned]) -> str:
    return csv_text(UNASSIGNED_COLUMNS, ((u.school_id, u.school_name, u.teacher_id, u.teacher_name, u.reason, u.code)
                                         for u in rows))


def write_teams(result: TeamsResult, out_dir: str | Path) -> Path:
    """Write every output into out_dir at once; out_dir is untouched if anything fails."""
    with staged_directory(out_dir) as stage:
        (stage / "teams.csv").write_text(teams_csv(result.teams), encoding="utf-8")
        (stage / "unassigned.csv").write_text(unassigned_csv(result.unassigned), encoding="utf-8")
        (stage / "summary.json").write_text(json.dumps(result.summary, indent=2) + "\n", encoding="utf-8")
    return Path(out_dir)
