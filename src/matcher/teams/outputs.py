"""Write teams.csv, unassigned.csv and summary.json, all published at once."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from ..io.atomic import staged_directory
from .result import Team, TeamsResult, Unassigned

TEAM_COLUMNS = ("school_id", "team_id", "teacher_id", "role", "focus_indicator", "explanation")
UNASSIGNED_COLUMNS = ("school_id", "teacher_id", "reason", "code")


def teams_csv(teams: tuple[Team, ...] | list[Team]) -> str:
    """One row per team member; the team's explanation is repeated on each of its rows."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(TEAM_COLUMNS)
    w.writerows([(t.school_id, t.team_id, member, role, t.focus_indicator, t.explanation)
                 for t in teams for member, role in zip(t.members, t.roles, strict=True)])
    return buf.getvalue()


def unassigned_csv(rows: tuple[Unassigned, ...] | list[Unassigned]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(UNASSIGNED_COLUMNS)
    w.writerows(rows)  # Unassigned is a (school_id, teacher_id, reason, code) tuple
    return buf.getvalue()


def write_teams(result: TeamsResult, out_dir: str | Path) -> Path:
    """Write every output into out_dir at once; out_dir is untouched if anything fails."""
    with staged_directory(out_dir) as stage:
        (stage / "teams.csv").write_text(teams_csv(result.teams), encoding="utf-8")
        (stage / "unassigned.csv").write_text(unassigned_csv(result.unassigned), encoding="utf-8")
        (stage / "summary.json").write_text(json.dumps(result.summary, indent=2) + "\n", encoding="utf-8")
    return Path(out_dir)
