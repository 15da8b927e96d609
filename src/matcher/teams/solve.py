"""Form teacher teams within every school, exactly: `form_teams(table, policy) -> TeamsResult`.

Objective, per school, lexicographic:
  1. maximise the number of teachers placed in a team whose focus indicator is one of their refinement areas
     (score below weak_below: the "learners"), then
  2. maximise the number of teachers placed in a team at all.
Every team lies within one school; has min_size..max_size members (with a template: fills each slot exactly); its
members share a grade, a subject, ... as group_by says (a key); it has one focus indicator that is a refinement
area of at least one member and, with require_strong_member, a reinforcement area (score >= strong_at_least) of
at least one other. A teacher is in at most one team; opted-out and unscored teachers are in none (an unscored
school leader may fill a template's leader place).

Model (CP-SAT, per independent group of teachers): teams with the same key and focus are interchangeable, so the
model chooses, per class (key, focus), the number of teams n_c and which teachers join the class (x_ic), not the
teams themselves. The teachers of a class can be dealt into n_c valid teams exactly when min_size * n_c <= |class|
<= max_size * n_c, at least n_c of them are strong in the focus and at least n_c work on it: deal one strong
teacher and one learner to each team, then the rest evenly. With a template a class is a focus, slot s takes
exactly count_s * n_c of the class's teachers, and a strong teacher and a learner from different slots (or one
slot of count >= 2) can be paired for every team whenever the counts allow (Hall's condition), so decoding is a
bipartite matching. There is no team symmetry left to break and the relaxation is tight: schools of 150 teachers
solve in well under a second.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from ..errors import SolverError
from ..io.teachers import TeacherTable
from ..parallel import fork_map
from .encode import SchoolData, TeamClass, encode_school, team_classes, thresholds
from .explain import team_text, unassigned_reasons
from .model import TeamPolicy, team_policy_to_dict
from .result import Team, TeamsResult, Unassigned

OBJECTIVE = "teachers in a team whose focus indicator is one of their refinement areas"


def _components(n: int, classes: list[TeamClass]) -> list[list[int]]:
    """Indices of classes grouped so that no teacher belongs to classes of two groups."""
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for c in classes:
        root = find(c.members[0])
        for i in c.members[1:]:
            parent[find(i)] = root
    groups: dict[int, list[int]] = {}
    for k, c in enumerate(classes):
        groups.setdefault(find(c.members[0]), []).append(k)
    return list(groups.values())


class _Solved:
    """One group's answer: teacher -> (class, slot), teams per class, learners, placed, bound and proof."""

    def __init__(self, join: dict[int, tuple[int, int]], n_teams: dict[int, int], learners: int, placed: int,
                 learner_bound: int, proven: bool):
        self.join, self.n_teams = join, n_teams
        self.learners, self.placed, self.learner_bound, self.proven = learners, placed, learner_bound, proven


def _solve_group(school: SchoolData, classes: list[TeamClass], group: list[int], policy: TeamPolicy) -> _Solved:
    """CP-SAT over the classes `group` (indices into classes)."""
    model = cp_model.CpModel()
    slots = policy.template or ()
    teachers = sorted({i for k in group for i in classes[k].members})
    weight = len(teachers) + 1  # one more learner outweighs every teacher placed
    by_teacher: dict[int, list[cp_model.IntVar]] = {i: [] for i in teachers}
    terms: list[tuple[cp_model.IntVar, int, int, int, int]] = []  # (var, class, slot, teacher, coefficient)
    counts: dict[int, cp_model.IntVar] = {}
    for k in group:
        c = classes[k]
        n = model.new_int_var(0, c.max_teams, f"n{k}")
        counts[k] = n
        strong, weak, everyone = [], [], []
        per_slot: list[list[cp_model.IntVar]] = [[] for _ in slots]
        for i in c.members:
            for s in (school.fits[i] if slots else (0,)):
                x = model.new_bool_var(f"x{k}_{i}_{s}")
                by_teacher[i].append(x)
                is_weak = bool(school.weak[i, c.focus])
                terms.append((x, k, s, i, weight * is_weak + 1))
                everyone.append(x)
                if is_weak:
                    weak.append(x)
                if school.strong[i, c.focus]:
                    strong.append(x)
                if slots:
                    per_slot[s].append(x)
        model.add(sum(weak) >= n)
        if policy.require_strong_member:
            model.add(sum(strong) >= n)
        if slots:
            for s, xs in enumerate(per_slot):
                model.add(sum(xs) == slots[s].count * n)
        else:
            model.add(sum(everyone) >= policy.min_size * n)
            model.add(sum(everyone) <= policy.max_size * n)
    for xs in by_teacher.values():
        if len(xs) > 1:
            model.add_at_most_one(xs)
    model.maximize(cp_model.LinearExpr.weighted_sum([t[0] for t in terms], [t[4] for t in terms]))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1  # deterministic; groups are many and small
    solver.parameters.max_time_in_seconds = policy.time_limit_seconds
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise SolverError(f"CP-SAT found no team assignment in school {school.school_id} "
                          f"(status {solver.status_name(status)})")
    join = {i: (k, s) for x, k, s, i, _ in terms if solver.boolean_value(x)}
    value = int(round(solver.objective_value))
    bound = int(np.floor(solver.best_objective_bound + 1e-6))
    return _Solved(join, {k: int(solver.value(n)) for k, n in counts.items()}, value // weight, value % weight,
                   bound // weight, status == cp_model.OPTIMAL)


def _match(left: list[int], right: list[int], ok: Any) -> dict[int, int]:
    """Maximum bipartite matching (augmenting paths; the lists are a handful of teachers): left -> right."""
    owner: dict[int, int] = {}

    def augment(u: int, seen: set[int]) -> bool:
        for v in right:
            if v not in seen and ok(u, v):
                seen.add(v)
                if v not in owner or augment(owner[v], seen):
                    owner[v] = u
                    return True
        return False

    for u in left:
        augment(u, set())
    return {u: v for v, u in owner.items()}


def _deal(school: SchoolData, c: TeamClass, n: int, members: list[tuple[int, int]],
          policy: TeamPolicy) -> list[list[tuple[int, int]]]:
    """Split a class's (teacher, slot) list into n valid teams."""
    f = c.focus
    weak = [m for m in members if school.weak[m[0], f]]
    strong = [m for m in members if school.strong[m[0], f]]
    if not policy.template:
        if policy.require_strong_member:
            teams = [[strong[j], weak[j]] for j in range(n)]
            rest = strong[n:] + weak[n:]
        else:
            teams = [[weak[j]] for j in range(n)]
            rest = strong + weak[n:]
        rest += [m for m in members if not school.weak[m[0], f] and not school.strong[m[0], f]]
        for m in rest:  # evenly: sizes differ by at most one, so all lie within min_size..max_size
            min(teams, key=len).append(m)
        return teams
    counts = [s.count for s in policy.template]
    if policy.require_strong_member:
        pairs = _match(strong, weak, lambda u, v: u[1] != v[1] or counts[u[1]] >= 2)
        seeds = [[u, v] for u, v in sorted(pairs.items())][:n]
    else:
        seeds = [[v] for v in weak[:n]]
    if len(seeds) < n:
        raise SolverError(f"cannot deal the template teams of school {school.school_id}: a model bug")
    teams = seeds
    placed = {m for t in teams for m in t}
    for m in members:
        if m not in placed:
            next(t for t in teams if sum(x[1] == m[1] for x in t) < counts[m[1]]).append(m)
    return teams


def _role(school: SchoolData, policy: TeamPolicy, i: int, slot: int, f: int) -> str:
    if policy.template and policy.template[slot].role == "leader":
        return "leader"
    if school.strong[i, f]:
        return "strong"
    return "learner" if school.weak[i, f] else "member"


def _school(table: TeacherTable, school: SchoolData, policy: TeamPolicy) -> tuple[list[Team], list[Unassigned],
                                                                                   dict[str, Any]]:
    started = time.perf_counter()
    classes = team_classes(school, policy)
    raw_teams: list[tuple[TeamClass, list[tuple[int, int]]]] = []
    learners = placed = bound = 0
    proven = True
    for group in _components(len(school), classes):
        solved = _solve_group(school, classes, group, policy)
        learners += solved.learners
        placed += solved.placed
        bound += solved.learner_bound
        proven &= solved.proven
        members: dict[int, list[tuple[int, int]]] = {}
        for i, (k, s) in sorted(solved.join.items()):
            members.setdefault(k, []).append((i, s))
        for k, n in solved.n_teams.items():
            if n:
                raw_teams.extend((classes[k], t) for t in _deal(school, classes[k], n, members[k], policy))
    raw_teams.sort(key=lambda ct: min(i for i, _ in ct[1]))
    ids = table.teacher_id
    teams = []
    for j, (c, team) in enumerate(raw_teams):
        team.sort(key=lambda m: (m[1] if policy.template else 0, m[0]))
        roles = tuple(_role(school, policy, i, s, c.focus) for i, s in team)
        text = team_text(table, school, policy, c.focus, team, roles)
        teams.append(Team(school.school_id, f"{school.school_id}-T{j + 1}", table.rubric.indicators[c.focus],
                          tuple(ids[school.rows[i]] for i, _ in team), roles, text))
    in_team = {i for _, team in raw_teams for i, _ in team}
    reasons = unassigned_reasons(table, school, policy, [t for _, t in raw_teams], in_team, proven)
    unassigned = [Unassigned(school.school_id, ids[school.rows[i]], text, code) for i, (code, text) in
                  sorted(reasons.items())]
    stats = {"learners": learners, "placed": placed, "bound": bound, "proven": proven,
             "seconds": time.perf_counter() - started}
    return teams, unassigned, stats


def form_teams(table: TeacherTable, policy: TeamPolicy | None = None, workers: int = 1) -> TeamsResult:
    """Teams for every school of the table (see the module docstring for the objective and the rules).

    workers > 1 solves schools in forked processes; the teams do not depend on it unless a time limit is hit.
    """
    policy = policy or TeamPolicy()
    started = time.perf_counter()
    weak_below, strong_at = thresholds(table.rubric, policy)
    with np.errstate(invalid="ignore"):
        weak = table.scores < weak_below
        strong = (table.scores >= strong_at) & ~weak
    order: dict[str, list[int]] = {}
    for r, s in enumerate(table.school_id.tolist()):
        order.setdefault(s, []).append(r)
    schools = list(order)
    n = max(1, min(len(schools), workers * 8 if workers > 1 else 1))

    def run(chunk: list[str]) -> list[tuple[list[Team], list[Unassigned], dict[str, Any]]]:
        return [_school(table, encode_school(table, s, np.asarray(order[s]), policy, weak, strong), policy)
                for s in chunk]

    chunks = [schools[i::n] for i in range(n)]
    done = fork_map(run, chunks, workers)
    by_school = {s: out for chunk, outs in zip(chunks, done, strict=True) for s, out in zip(chunk, outs,
                                                                                              strict=True)}
    teams = tuple(t for s in schools for t in by_school[s][0])
    unassigned = tuple(u for s in schools for u in by_school[s][1])
    stats = [by_school[s][2] for s in schools]
    learners = sum(x["learners"] for x in stats)
    bound = sum(x["bound"] for x in stats)
    unproven = sum(not x["proven"] for x in stats)
    by_reason: dict[str, int] = {}
    for u in unassigned:
        by_reason[u.code] = by_reason.get(u.code, 0) + 1
    summary: dict[str, Any] = {
        "objective": learners,
        "objective_means": OBJECTIVE,
        "objective_bound": bound,
        "optimal": unproven == 0,
        "gap": bound - learners,
        "relative_gap": round((bound - learners) / bound, 6) if bound else 0.0,
        "unproven_schools": unproven,
        "n_teams": len(teams),
        "n_teachers_in_teams": sum(len(t.members) for t in teams),
        "n_teachers": len(table),
        "n_schools": len(schools),
        "n_unassigned": len(unassigned),
        "unassigned_by_reason": dict(sorted(by_reason.items())),
        "solve_seconds": round(time.perf_counter() - started, 4),
        "policy": team_policy_to_dict(policy),
    }
    return TeamsResult(teams, unassigned, summary, policy, table)
