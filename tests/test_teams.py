"""Teacher teams: the optimum equals a plain brute force on small schools, every team passes one shared checker,
the Chilean-style template, bad settings, and `matcher teams` end to end."""

from __future__ import annotations

import csv
import itertools
import json
import math
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.cli import main
from matcher.errors import InputError
from matcher.io.grades import HIGHEST, LOWEST, parse_grades
from matcher.io.teachers import TeacherTable, read_teachers
from matcher.rubric import load_rubric
from matcher.teams import TeamPolicy, TeamsResult, form_teams, team_policy_from_dict
from matcher.teams.model import TEMPLATES, load_team_policy, parse_size, team_policy_to_dict
from matcher.teams.outputs import write_teams

from .reference import make_table
from .strategies import SCORES, SMALL

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "samples" / "teachers.csv"
CODES = {"opted_out", "no_scores", "no_group", "few_colleagues", "no_strong", "no_team", "teams_full", "time_limit"}


# ---- an independent restatement of the rules (no code shared with matcher.teams) --------------------------------


def _grades(table: TeacherTable, i: int) -> set[int]:
    m = int(table.grades[i])
    return {g for g in range(LOWEST, HIGHEST + 1) if m >> (g - LOWEST) & 1}


def _thresholds(table: TeacherTable, policy: TeamPolicy) -> tuple[float, float]:
    r = table.rubric
    return (r.weak_below if policy.weak_below is None else policy.weak_below,
            r.strong_at_least if policy.strong_at_least is None else policy.strong_at_least)


def _scored(table: TeacherTable, i: int) -> bool:
    return any(not math.isnan(v) for v in table.scores[i])


def _fits(table: TeacherTable, policy: TeamPolicy, i: int, slot: int) -> bool:
    s = policy.template[slot]
    subjects = s.subjects or (policy.leader_subjects if s.role == "leader" else ())
    if subjects and table.subject[i] not in subjects:
        return False
    if s.grades and not (int(table.grades[i]) & s.grades):
        return False
    return s.role == "leader" or _scored(table, i)


def _template_ok(table: TeacherTable, policy: TeamPolicy, members: tuple[int, ...]) -> bool:
    places = [k for k, s in enumerate(policy.template) for _ in range(s.count)]
    if len(places) != len(members):
        return False
    return any(all(_fits(table, policy, i, k) for i, k in zip(order, places, strict=True))
               for order in itertools.permutations(members))


def _share(table: TeacherTable, policy: TeamPolicy, members: tuple[int, ...]) -> bool:
    subjects = {table.subject[i] for i in members}
    same_subject = len(subjects) == 1 and "" not in subjects
    common_grade = bool(set.intersection(*(_grades(table, i) for i in members)))
    return {"any": True, "subject": same_subject, "grade": common_grade,
            "grade_and_subject": same_subject and common_grade,
            "grade_or_subject": same_subject or common_grade}[policy.group_by]


def team_learners(table: TeacherTable, policy: TeamPolicy, members: tuple[int, ...]) -> int | None:
    """Learners of the best focus for this set of teachers, or None if they cannot form a team."""
    if policy.template:
        if not _template_ok(table, policy, members):
            return None
    elif not (policy.min_size <= len(members) <= policy.max_size and _share(table, policy, members)):
        return None
    weak_below, strong_at = _thresholds(table, policy)
    best = None
    for j in range(table.scores.shape[1]):
        vals = [table.scores[i, j] for i in members]
        learners = sum(v < weak_below for v in vals)
        strong = sum(v >= strong_at and not v < weak_below for v in vals)
        if learners and (strong or not policy.require_strong_member):
            best = learners if best is None else max(best, learners)
    return best


def eligible(table: TeacherTable, policy: TeamPolicy, i: int) -> bool:
    if policy.respect_opt_out and table.opt_out[i]:
        return False
    if policy.template:
        return any(_fits(table, policy, i, k) for k in range(len(policy.template)))
    return _scored(table, i)


def brute_force(table: TeacherTable, policy: TeamPolicy, rows: list[int]) -> tuple[int, int]:
    """(learners, teachers placed), lexicographically best over every set of disjoint teams of these teachers."""
    people = [i for i in rows if eligible(table, policy, i)]
    n = len(people)

    @cache
    def value(team: int) -> int | None:
        return team_learners(table, policy, tuple(people[k] for k in range(n) if team >> k & 1))

    @cache
    def best(mask: int) -> tuple[int, int]:
        if mask == 0:
            return (0, 0)
        low = mask & -mask
        rest = mask & ~low
        top = best(rest)  # the lowest teacher in no team
        sub = rest
        while True:
            team = sub | low
            v = value(team)
            if v is not None:
                b = best(mask & ~team)
                top = max(top, (v + b[0], team.bit_count() + b[1]))
            if sub == 0:
                break
            sub = (sub - 1) & rest
        return top

    return best((1 << n) - 1)


def check_teams(result: TeamsResult) -> dict[str, tuple[int, int]]:
    """Every rule for every team, every teacher accounted for once, the summary recomputed; returns each school's
    (learners, teachers placed)."""
    table, policy = result.teachers, result.policy
    idx = table.index
    weak_below, strong_at = _thresholds(table, policy)
    seen: Counter[str] = Counter()
    per_school: dict[str, list[int]] = {s: [0, 0] for s in table.school_id.tolist()}
    inds = table.rubric.indicators
    for team in result.teams:
        rows = tuple(idx[t] for t in team.members)
        seen.update(team.members)
        assert {table.school_id[i] for i in rows} == {team.school_id}, team
        assert team.team_id.startswith(team.school_id)
        j = inds.index(team.focus_indicator)
        for i, role in zip(rows, team.roles, strict=True):
            assert eligible(table, policy, i), (team, table.teacher_id[i])
            v = table.scores[i, j]
            expect = "learner" if v < weak_below else "strong" if v >= strong_at else "member"
            assert role == expect or (role == "leader" and policy.template), (team, table.teacher_id[i], v)
        learners = sum(table.scores[i, j] < weak_below for i in rows)
        strong = sum(table.scores[i, j] >= strong_at and not table.scores[i, j] < weak_below for i in rows)
        assert learners >= 1, f"focus is nobody's refinement area: {team}"
        assert strong >= 1 or not policy.require_strong_member, f"nobody strong in the focus: {team}"
        if policy.template:
            assert _template_ok(table, policy, rows), team
            assert team.roles.count("leader") == sum(s.count for s in policy.template if s.role == "leader")
        else:
            assert policy.min_size <= len(rows) <= policy.max_size, team
            assert _share(table, policy, rows), f"members share no {policy.group_by}: {team}"
        assert team.explanation and team.focus_indicator.replace("_", " ") in team.explanation
        assert " weak" not in team.explanation.lower()
        per_school[team.school_id][0] += learners
        per_school[team.school_id][1] += len(rows)
    assert all(c == 1 for c in seen.values()), "a teacher is in two teams"
    left = {u.teacher_id for u in result.unassigned}
    assert len(left) == len(result.unassigned) and not left & set(seen)
    assert left | set(seen) == set(table.teacher_id.tolist()), "some teacher is neither in a team nor explained"
    for u in result.unassigned:
        assert u.reason and u.code in CODES, u
        assert u.school_id == table.school_id[idx[u.teacher_id]]
        if u.code == "opted_out":
            assert table.opt_out[idx[u.teacher_id]]
    s = result.summary
    assert s["objective"] == sum(v[0] for v in per_school.values())
    assert s["n_teachers_in_teams"] == len(seen) and s["n_teams"] == len(result.teams)
    assert s["objective_bound"] >= s["objective"] and s["gap"] == s["objective_bound"] - s["objective"]
    if s["optimal"]:
        assert s["gap"] == 0
    return {k: (v[0], v[1]) for k, v in per_school.items()}


# ---- (a) and (b): exact against brute force on small random schools ---------------------------------------------

SUBJECTS = ["math", "english", "science", "leadership"]
GRADES = ["3", "4", "3-4", "3;5", "5", "4-6", "7-8", "7"]


@st.composite
def school_rows(draw: st.DrawFn, lo: int = 6, hi: int = 9) -> list[dict]:
    rows = []
    for k in range(draw(st.integers(lo, hi))):
        unscored = draw(st.integers(0, 11)) == 0
        rows.append({"teacher_id": f"T{k:02d}", "school_id": "S1", "subject": draw(st.sampled_from(SUBJECTS)),
                     "grades": draw(st.sampled_from(GRADES)), "opt_out": draw(st.integers(0, 11)) == 0,
                     "scores": [math.nan] * len(SMALL.indicators) if unscored
                     else [draw(SCORES) for _ in SMALL.indicators]})
    return rows


SMALL_TEMPLATE = team_policy_from_dict({"min_size": 3, "max_size": 3, "template": [
    {"role": "leader"}, {"subject": "math"}, {"subject": ["english", "science"], "grades": "3-4"}]})
POLICIES = {
    "default (grade or subject, 3-6)": TeamPolicy(),
    "same grade": TeamPolicy(group_by="grade"),
    "same subject, 2-4": TeamPolicy(group_by="subject", min_size=2, max_size=4),
    "same subject and grade, 2-3": TeamPolicy(group_by="grade_and_subject", min_size=2, max_size=3),
    "anyone in the school, 3-4": TeamPolicy(group_by="any", min_size=3, max_size=4),
    "no strong member required": TeamPolicy(require_strong_member=False, min_size=2, max_size=3),
    "thresholds 2.5 / 3.5, size 2": TeamPolicy(weak_below=2.5, strong_at_least=3.5, min_size=2, max_size=2),
    "opt-outs ignored": TeamPolicy(respect_opt_out=False, group_by="any"),
    "template (leader, math, english or science 3-4)": SMALL_TEMPLATE,
}


@pytest.mark.parametrize("name", list(POLICIES))
@given(rows=school_rows())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_optimum_equals_brute_force(name: str, rows: list[dict]) -> None:
    policy = POLICIES[name]
    table = make_table(SMALL, rows)
    result = form_teams(table, policy)
    got = check_teams(result)["S1"]
    assert got == brute_force(table, policy, list(range(len(table))))
    assert result.summary["optimal"] is True and result.summary["gap"] == 0


@given(rows=school_rows(lo=8, hi=9), k=st.integers(2, 3))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_several_schools_solve_independently(rows: list[dict], k: int) -> None:
    """Schools never share a team, and solving them in forked workers changes nothing."""
    for i, r in enumerate(rows):
        r["school_id"] = f"S{i % k}"
    table = make_table(SMALL, rows)
    one, two = form_teams(table, TeamPolicy()), form_teams(table, TeamPolicy(), workers=2)
    got = check_teams(one)
    for s in got:
        assert got[s] == brute_force(table, TeamPolicy(), [i for i, r in enumerate(rows) if r["school_id"] == s])
    assert one.teams == two.teams and one.unassigned == two.unassigned


@pytest.mark.parametrize("group_by", ["grade_or_subject", "grade", "subject", "grade_and_subject", "any"])
def test_sample_district_is_proven_optimal(group_by: str) -> None:
    table = read_teachers(SAMPLE, load_rubric("team"))
    result = form_teams(table, TeamPolicy(group_by=group_by))
    check_teams(result)
    assert result.summary["optimal"] is True
    assert result.summary["n_teams"] > 0


# ---- (c) the Chilean-style template --------------------------------------------------------------------------------

TEAM = load_rubric("team")


def _teacher(tid: str, school: str, subject: str, grades: str, scores: dict[str, float] | None) -> dict:
    row = [math.nan] * len(TEAM.indicators)
    for ind, v in (scores or {}).items():
        row[TEAM.indicators.index(ind)] = v
    return {"teacher_id": tid, "school_id": school, "subject": subject, "grades": grades, "scores": row}


def chile_schools() -> TeacherTable:
    neutral = {ind: 3.0 for ind in TEAM.indicators}
    return make_table(TEAM, [
        # S1: a full Chilean team and one spare math teacher of grade 7
        _teacher("L1", "S1", "leadership", "5-8", None),  # leaders are often not observed
        _teacher("L2", "S1", "admin", "5-8", {**neutral, "questioning": 4.5}),
        _teacher("M1", "S1", "math", "7-8", {**neutral, "questioning": 2.0, "thinking": 2.5}),
        _teacher("M2", "S1", "math", "7", {**neutral, "thinking": 2.0}),
        _teacher("E1", "S1", "english", "7;8", {**neutral, "questioning": 4.0, "thinking": 4.5}),
        _teacher("C1", "S1", "science", "7", {**neutral, "questioning": 2.0}),
        # S2: no English teacher of grades 7-8
        _teacher("L3", "S2", "leadership", "K-8", None),
        _teacher("L4", "S2", "leadership", "K-8", None),
        _teacher("M3", "S2", "math", "8", {**neutral, "questioning": 2.0}),
        _teacher("E2", "S2", "english", "5", {**neutral, "questioning": 4.5}),
    ])


def test_chilean_template_team() -> None:
    table = chile_schools()
    result = form_teams(table, TeamPolicy(template=TEMPLATES["chile"]))
    check_teams(result)
    assert result.summary["optimal"] is True
    (team,) = result.teams
    assert team.school_id == "S1"
    members = dict(zip(team.members, team.roles, strict=True))
    assert members["L1"] == members["L2"] == "leader"
    assert set(members) - {"L1", "L2"} in ({"M1", "E1"}, {"M2", "E1"})
    # Either focus places one learner; the teams share the focus the English teacher is strong in.
    assert team.focus_indicator in ("questioning", "thinking")
    assert "learner" in team.roles and "Team template" in team.explanation
    reasons = {u.teacher_id: u for u in result.unassigned}
    assert reasons["C1"].code == "no_group" and "Fits no place" in reasons["C1"].reason
    assert reasons["M3"].code == reasons["L3"].code == "no_team"
    assert "english teacher (grades 7-8)" in reasons["M3"].reason
    assert {"M1", "M2"} - set(members) <= set(reasons)


def test_template_from_a_policy_file(tmp_path: Path) -> None:
    path = tmp_path / "chile.toml"
    path.write_text('min_size = 4\nmax_size = 4\n[[template]]\nrole = "leader"\ncount = 2\n'
                    '[[template]]\nsubject = "math"\ngrades = "7-8"\n'
                    '[[template]]\nsubject = "english"\ngrades = "7-8"\n', encoding="utf-8")
    policy = load_team_policy(path)
    assert policy.template == TEMPLATES["chile"]
    assert load_team_policy(None).replace(template=TEMPLATES["chile"]).template_size == 4
    assert team_policy_from_dict({"template": "chile"}).template == policy.template
    assert team_policy_from_dict(team_policy_to_dict(policy)) == policy  # what summary.json records reads back


def test_reasons_for_teachers_left_out() -> None:
    neutral = {ind: 3.0 for ind in TEAM.indicators}
    rows = [_teacher("A1", "S1", "arts", "3", neutral), _teacher("N1", "S1", "math", "3", None),
            {**_teacher("O1", "S1", "math", "3", neutral), "opt_out": True}]
    rows += [_teacher(f"C{k}", "S1", "science", "3", {**neutral, "questioning": 2.0}) for k in range(3)]
    rows += [_teacher("E0", "S1", "english", "3", {**neutral, "questioning": 4.5})]
    rows += [_teacher(f"E{k}", "S1", "english", "3", {**neutral, "questioning": 2.5}) for k in range(1, 5)]
    result = form_teams(make_table(TEAM, rows), TeamPolicy(group_by="subject", min_size=3, max_size=3))
    check_teams(result)
    (team,) = result.teams
    assert team.members[0] == "E0" and team.roles == ("strong", "learner", "learner")
    assert "Reinforcement area for E0 (4.50); refinement area for E1 (2.50) and E2 (2.50)" in team.explanation
    assert "All teach english." in team.explanation
    why = {u.teacher_id: (u.code, u.reason) for u in result.unassigned}
    assert why["A1"][0] == "few_colleagues" and "no refinement area of their own" in why["A1"][1]
    assert why["N1"] == ("no_scores", "No observation scores on file.")
    assert why["O1"][0] == "opted_out"
    assert all(why[f"C{k}"][0] == "no_strong" and "(questioning)" in why[f"C{k}"][1] for k in range(3))
    assert why["E3"][0] == why["E4"][0] == "teams_full" and "full (3 teachers: S1-T1)" in why["E3"][1]


# ---- (d) bad settings: every problem, naming the setting -----------------------------------------------------------


@pytest.mark.parametrize("text, words", [("5-3", "must not exceed"), ("0-2", "at least 2"), ("1", "at least 2"),
                                         ("x", "size range"), ("", "size range"), ("3-", "size range")])
def test_impossible_sizes(text: str, words: str) -> None:
    with pytest.raises(InputError) as exc:
        parse_size(text)
    (p,) = exc.value.problems
    assert p.column == "--size" and p.value == text and words in p.message


def test_size_range_parses() -> None:
    assert parse_size("3-6") == (3, 6) and parse_size(" 4 ") == (4, 4) and parse_size("2 - 3") == (2, 3)


def test_bad_policy_lists_every_problem() -> None:
    with pytest.raises(InputError) as exc:
        team_policy_from_dict({"group_by": "class", "min_size": "three", "colour": "red", "weak_below": "low",
                               "template": [{"subject": "math", "count": 0, "grades": "13"}, "leader"],
                               "time_limit_seconds": 0}, "policy.toml")
    columns = {p.column for p in exc.value.problems}
    assert {"group_by", "min_size", "colour", "weak_below", "template[0].count", "template[0].grades", "template[1]",
            "time_limit_seconds"} <= columns
    assert all(p.file == "policy.toml" for p in exc.value.problems)
    group_by = next(p for p in exc.value.problems if p.column == "group_by")
    assert "grade_or_subject" in group_by.message and group_by.value == "'class'"


@pytest.mark.parametrize("settings_, column, words", [
    ({"min_size": 5, "max_size": 3}, "min_size", "must not exceed"),
    ({"min_size": 1}, "min_size", "at least 2"),
    ({"template": "chile", "max_size": 3}, "template", "teams of 4"),
    ({"template": "peru"}, "template", "unknown template"),
    ({"weak_below": 4, "strong_at_least": 3}, "weak_below", "must not exceed"),
])
def test_impossible_policies(settings_: dict, column: str, words: str) -> None:
    with pytest.raises(InputError) as exc:
        team_policy_from_dict(settings_)
    assert any(p.column == column and words in p.message for p in exc.value.problems), exc.value.problems


def test_thresholds_outside_the_rubric_scale() -> None:
    table = make_table(SMALL, [{"teacher_id": "T1", "scores": [3.0] * 5}])
    with pytest.raises(InputError) as exc:
        form_teams(table, TeamPolicy(strong_at_least=7))
    assert exc.value.problems[0].column == "strong_at_least"


# ---- (e) the command end to end -----------------------------------------------------------------------------------


def cli(argv: list[str]) -> int:
    return main(["teams", *argv])


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_cli_writes_teams(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert cli([str(SAMPLE), "--out", str(out), "--size", "3-5", "--json", "--workers", "1"]) == 0
    printed = json.loads(capsys.readouterr().out)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert printed == summary and summary["optimal"] is True
    assert {"objective", "n_teams", "n_teachers_in_teams", "optimal", "gap", "solve_seconds"} <= set(summary)
    assert summary["policy"]["min_size"] == 3 and summary["policy"]["max_size"] == 5
    teams, left = read_rows(out / "teams.csv"), read_rows(out / "unassigned.csv")
    assert list(teams[0]) == ["school_id", "school_name", "team_id", "teacher_id", "teacher_name", "role",
                              "focus_indicator", "explanation"]
    assert list(left[0]) == ["school_id", "school_name", "teacher_id", "teacher_name", "reason", "code"]
    # The sample gives no names: the name columns stay empty and the explanations name teachers by id.
    assert {(r["school_name"], r["teacher_name"]) for r in teams + left} == {("", "")}
    assert all(r["teacher_id"] in r["explanation"] for r in teams)
    sizes = Counter(r["team_id"] for r in teams)
    assert len(sizes) == summary["n_teams"] and all(3 <= k <= 5 for k in sizes.values())
    assert {r["role"] for r in teams} <= {"strong", "learner", "member", "leader"}
    assert len(teams) + len(left) == len(read_rows(SAMPLE))
    assert cli([str(SAMPLE), "--out", str(out), "--group-by", "subject"]) == 0  # a re-run replaces the files
    assert "teams" in capsys.readouterr().out
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["policy"]["group_by"] == "subject"


def test_cli_names_teachers_and_schools(tmp_path: Path) -> None:
    """A teachers file with names: teams.csv and unassigned.csv give each id's name as the file has it, and the
    explanations name teachers as people know them: the name, "name (id)" where two in a school share it, the id
    where the name is blank. A name with a comma, quotes and markup is written as plain text and reads back."""
    rows = read_rows(SAMPLE)
    school_names = {"S0001": 'Oak, "Creek" <b>Elementary</b>'}
    for k, r in enumerate(rows):
        r["school_name"] = school_names.get(r["school_id"], f"School {r['school_id'][-2:]}")
        r["teacher_name"] = ("Pat Lee" if r["school_id"] == "S0002"  # a name the whole school shares
                             else "" if r["school_id"] == "S0003" and k % 2  # no name: the id stands alone
                             else f'Smith, "Jo" <b>{k}</b>' if r["school_id"] == "S0001" else f"Teacher {k}")
    path = tmp_path / "named.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    given = {r["teacher_id"]: r for r in rows}
    out = tmp_path / "out"
    assert cli([str(path), "--out", str(out), "--workers", "1"]) == 0
    teams, left = read_rows(out / "teams.csv"), read_rows(out / "unassigned.csv")
    assert len(teams) + len(left) == len(rows)
    for r in teams + left:
        assert r["teacher_name"] == given[r["teacher_id"]]["teacher_name"]
        assert r["school_name"] == given[r["teacher_id"]]["school_name"]

    def shown(tid: str) -> str:
        name = given[tid]["teacher_name"]
        return f"{name} ({tid})" if name == "Pat Lee" else name or tid

    for r in teams:
        assert f"{shown(r['teacher_id'])} (" in r["explanation"]  # the label, then the score
        if given[r["teacher_id"]]["teacher_name"] not in ("", "Pat Lee"):
            assert r["teacher_id"] not in r["explanation"]
    assert {"S0001", "S0002", "S0003"} <= {r["school_id"] for r in teams}  # every kind of name was shown
    assert any('Smith, "Jo" <b>' in r["explanation"] for r in teams)
    assert '"Oak, ""Creek"" <b>Elementary</b>"' in (out / "teams.csv").read_text(encoding="utf-8")


@pytest.mark.parametrize("size", ["5-3", "0-2", "x"])
def test_cli_bad_size_writes_nothing(tmp_path: Path, size: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert cli([str(SAMPLE), "--out", str(out), "--size", size]) == 2
    assert "--size" in capsys.readouterr().err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_cli_collects_every_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('group_by = "class"\n', encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    assert cli([str(tmp_path / "missing.csv"), "--out", str(out), "--size", "x", "--policy", str(policy)]) == 2
    err = capsys.readouterr().err
    assert "--size" in err and "group_by" in err and "missing.csv" in err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_write_teams_outputs_match_the_result(tmp_path: Path) -> None:
    table = chile_schools()
    result = form_teams(table, TeamPolicy(template=TEMPLATES["chile"]))
    write_teams(result, tmp_path / "out")
    rows = read_rows(tmp_path / "out" / "teams.csv")
    assert [(r["teacher_id"], r["role"]) for r in rows] == list(zip(result.teams[0].members, result.teams[0].roles,
                                                                      strict=True))
    assert {r["teacher_id"] for r in read_rows(tmp_path / "out" / "unassigned.csv")} == {
        u.teacher_id for u in result.unassigned}
    assert parse_grades("7-8") == TEMPLATES["chile"][1].grades
