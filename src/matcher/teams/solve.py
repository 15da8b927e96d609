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

Model: teams with the same key (the grade, subject, ... they share) and focus are interchangeable, so the model
chooses, per class (key, focus), the number of teams n_c and which teachers join the class, not the teams
themselves: there is no team symmetry to break. The teachers of a class can be dealt into n_c valid teams exactly
when min_size * n_c <= |class| <= max_size * n_c, at least n_c of them are strong in the focus and at least n_c
work on it: deal one strong teacher and one learner to each team, then the rest evenly. With a template a class
is a focus and slot s takes exactly count_s * n_c of its teachers; a strong teacher and a learner from different
slots (or one slot of count >= 2) can then be paired for every team (Hall's condition), so decoding is a
bipartite matching. formulation.py has the rows.

Solving, per group of teachers who could share a team (_solve_group): a greedy start, the LP relaxation (HiGHS)
as a bound and for reduced-cost fixing, CP-SAT on what survives. Optimality is proven by a bound unless the time
limit (policy.time_limit_seconds per group) runs out first; then the summary says optimal: false and gives the
gap in learners.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from ortools.sat.python import cp_model
from scipy import sparse

from ..errors import SolverError
from ..io.teachers import TeacherTable
from ..parallel import fork_map
from .encode import SchoolData, TeamClass, encode_school, team_classes, thresholds
from .explain import team_text, unassigned_reasons
from .formulation import Formulation, formulate, lp_bound, lp_rows
from .heuristic import greedy
from .model import TeamPolicy, team_policy_to_dict
from .result import Team, TeamsResult, Unassigned

OBJECTIVE = "teachers in a team whose focus indicator is one of their refinement areas"
QUICK = 0.5  # CP-SAT deterministic seconds for a restricted run that usually finds the optimum at once


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


@dataclass(frozen=True)
class _Solved:
    """One group's answer: teacher -> (class, slot), teams per class, learners, placed, bound and proof."""

    join: dict[int, tuple[int, int]]
    n_teams: dict[int, int]
    learners: int
    placed: int
    learner_bound: int  # proven upper bound on the learners
    proven: bool  # learners and then teachers placed both proven optimal
    method: str  # greedy | lp | cpsat: what settled it


class _Budget:
    """CP-SAT deterministic seconds left for one group (policy.time_limit_seconds at the start)."""

    def __init__(self, seconds: float):
        self.left = seconds

    def take(self, most: float | None = None) -> float:
        return max(0.001, self.left if most is None else min(most, self.left))

    def spend(self, seconds: float) -> None:
        self.left -= seconds


class _Run(NamedTuple):
    """A solution over the formulation's columns: chosen columns, teams per class, CP-SAT's proof of optimality."""

    chosen: np.ndarray
    n: np.ndarray
    proven: bool = False


def _cpsat(f: Formulation, policy: TeamPolicy, cols: np.ndarray, budget: _Budget, most: float | None = None,
           min_learners: int = 0, cap: int | None = None, hint: np.ndarray | None = None,
           learners_only: bool = False) -> tuple[_Run | None, bool]:
    """Maximise weight * learners + placed (or the learners alone) over the columns `cols`, the others at 0.

    Spends at most `most` of the budget. cap: a valid upper bound on that objective, so that CP-SAT stops as
    soon as a solution reaches it. Returns (the answer or None, whether CP-SAT proved that no solution exists)."""
    model = cp_model.CpModel()
    n = [model.new_int_var(0, int(k), f"n{g}") for g, k in enumerate(f.max_teams.tolist())]
    x = [model.new_bool_var(f"x{j}") for j in cols.tolist()]
    n_g = len(f.classes)
    members: list[list[cp_model.IntVar]] = [[] for _ in range(n_g)]
    weak: list[list[cp_model.IntVar]] = [[] for _ in range(n_g)]
    strong: list[list[cp_model.IntVar]] = [[] for _ in range(n_g)]
    n_s = max(1, len(policy.template))
    slot: list[list[cp_model.IntVar]] = [[] for _ in range(n_g * n_s)]
    teacher: list[list[cp_model.IntVar]] = [[] for _ in range(len(f.teachers))]
    learners: list[cp_model.IntVar] = []
    for var, g, w, st, r, s in zip(x, f.col_class[cols].tolist(), f.col_weak[cols].tolist(),
                                   f.col_strong[cols].tolist(), f.col_row[cols].tolist(), f.col_slot[cols].tolist(),
                                   strict=True):
        members[g].append(var)
        teacher[r].append(var)
        slot[g * n_s + s].append(var)
        if w:
            weak[g].append(var)
            learners.append(var)
        if st:
            strong[g].append(var)
    for g in range(n_g):
        if not weak[g] or (policy.require_strong_member and not strong[g]):
            model.add(n[g] == 0)
            for var in members[g]:
                model.add(var == 0)
            continue
        model.add(cp_model.LinearExpr.sum(weak[g]) >= n[g])
        if policy.require_strong_member:
            model.add(cp_model.LinearExpr.sum(strong[g]) >= n[g])
        if policy.template:
            for s, spec in enumerate(policy.template):
                model.add(cp_model.LinearExpr.sum(slot[g * n_s + s]) == spec.count * n[g])
        else:
            total = cp_model.LinearExpr.sum(members[g])
            model.add(total >= policy.min_size * n[g])
            model.add(total <= policy.max_size * n[g])
    for vs in teacher:
        if len(vs) > 1:
            model.add_at_most_one(vs)
    n_learners = cp_model.LinearExpr.sum(learners)
    if min_learners:
        model.add(n_learners >= min_learners)
    objective = n_learners if learners_only else f.weight * n_learners + cp_model.LinearExpr.sum(x)
    if cap is not None:
        model.add(objective <= cap)
    model.maximize(objective)
    if hint is not None:
        hinted = set(hint.tolist())
        for j, var in zip(cols.tolist(), x, strict=True):
            model.add_hint(var, j in hinted)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1  # deterministic; groups are many and small
    # Deterministic time, not seconds: the answer never depends on the machine's load or on the worker count.
    solver.parameters.max_deterministic_time = budget.take(most)
    # Measured on synthetic states: presolve and probing cost more than they save on these models.
    solver.parameters.cp_model_presolve = False
    solver.parameters.cp_model_probing_level = 0
    status = solver.solve(model)
    budget.spend(solver.response_proto.deterministic_time)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, status == cp_model.INFEASIBLE
    chosen = cols[[solver.boolean_value(v) for v in x]] if len(x) else cols[:0]
    return _Run(chosen, np.asarray([solver.value(v) for v in n], dtype=np.int64), status == cp_model.OPTIMAL), False


def _solve_group(school: SchoolData, classes: list[TeamClass], group: list[int], policy: TeamPolicy) -> _Solved:
    """Exact, lexicographic (learners, then teachers placed) over the classes `group` (indices into classes).

    1. A greedy start that places every teacher, and every teacher able to learn as a learner, is optimal.
    2. Else the LP relaxation bounds the learners (b1) and its reduced costs rule out every column that cannot be
       in a solution with t learners; CP-SAT on the surviving columns of the classes the LP uses usually finds b1
       learners at once. Where it does not, CP-SAT decides on the columns surviving for t = b1, b1 - 1, ... whether
       t learners are possible at all (proving "no" is quick on these small models).
    3. With the learners settled at their optimum, a second LP (learners fixed) bounds the teachers placed, and
       CP-SAT on that LP's classes, then if need be on every surviving column, reaches it.
    The CP-SAT calls of one group share policy.time_limit_seconds of deterministic time; past it the best solution
    is kept, unproven.
    """
    budget = _Budget(policy.time_limit_seconds)
    f = formulate(school, [classes[k] for k in group])
    nx, everyone, weight = f.n_cols, len(f.teachers), f.weight
    can_learn = len(np.unique(f.col_row[f.col_weak]))
    if policy.template:
        best = _Run(np.zeros(0, dtype=np.int64), np.zeros(len(f.classes), dtype=np.int64))
    else:
        chosen, n = greedy(f, policy)
        best = _Run(chosen, n)

    def value(run: _Run) -> tuple[int, int]:
        return int(f.col_weak[run.chosen].sum()), len(run.chosen)

    def better(run: _Run | None) -> None:
        nonlocal best
        if run is not None and value(run) > value(best):
            best = run

    if value(best) == (can_learn, everyone):
        return _result(f, group, best, True, can_learn, "greedy")
    a, rhs = lp_rows(f, policy)
    upper = np.concatenate([np.ones(nx), f.max_teams.astype(float)])
    c1 = np.concatenate([f.col_weak.astype(float), np.zeros(len(f.classes))])
    lp1 = lp_bound(a, rhs, upper, c1)
    top = min(can_learn, int(np.floor(lp1.bound + 1e-6)))

    def reach(t: int) -> np.ndarray:
        """Columns that can be in a solution with t learners (the others would push the LP bound below t)."""
        return lp1.col_bound[:nx] >= t - 1e-6

    method = "lp"
    if value(best) != (top, everyone):
        used = (lp1.x[nx:] > 1e-6)[f.col_class]
        better(_cpsat(f, policy, np.flatnonzero(used & reach(top)), budget, QUICK, cap=weight * top + everyone)[0])
    while value(best)[0] < top:
        method = "cpsat"
        run, infeasible = _cpsat(f, policy, np.flatnonzero(reach(top)), budget, min_learners=top, cap=top,
                                 learners_only=True)
        if run is not None:
            better(run)
        elif infeasible:
            top -= 1
        else:
            return _result(f, group, best, False, top, method)
    learners, placed = value(best)
    if placed == everyone:
        return _result(f, group, best, True, learners, method)
    # The learners are optimal; a second LP bounds the teachers placed among solutions with that many learners.
    a2 = sparse.vstack([a, sparse.csr_matrix(-c1)]).tocsr()
    lp2 = lp_bound(a2, np.append(rhs, -learners), upper, np.concatenate([np.ones(nx), np.zeros(len(f.classes))]))
    most = min(everyone, int(np.floor(lp2.bound + 1e-6)))
    if placed < most:
        cols = np.flatnonzero((lp2.x[nx:] > 1e-6)[f.col_class] & reach(learners) & (lp2.col_bound[:nx] >= most - 1e-6))
        better(_cpsat(f, policy, cols, budget, QUICK, min_learners=learners, cap=weight * learners + most)[0])
        placed = value(best)[1]
    if placed >= most:
        return _result(f, group, best, True, learners, method)
    # Columns that cannot be in a solution with these learners and more teachers placed are left out.
    keep = np.flatnonzero(reach(learners) & (lp2.col_bound[:nx] >= placed + 1 - 1e-6))
    run, _ = _cpsat(f, policy, np.union1d(keep, best.chosen), budget, min_learners=learners,
                    cap=weight * learners + most, hint=best.chosen)
    better(run)
    return _result(f, group, best, run is not None and run.proven, learners, "cpsat")


def _result(f: Formulation, group: list[int], run: _Run, proven: bool, learner_bound: int, method: str) -> _Solved:
    join = {int(f.col_teacher[j]): (group[int(f.col_class[j])], int(f.col_slot[j])) for j in run.chosen.tolist()}
    n_teams = {group[g]: int(v) for g, v in enumerate(run.n.tolist())}
    learners = int(f.col_weak[run.chosen].sum())
    return _Solved(join, n_teams, learners, len(run.chosen), learners if proven else max(learner_bound, learners),
                   proven, method)


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
    methods: dict[str, int] = {}
    for group in _components(len(school), classes):
        solved = _solve_group(school, classes, group, policy)
        methods[solved.method] = methods.get(solved.method, 0) + 1
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
    ids, names = table.teacher_id, table.teacher_name
    school_name = table.school_names.get(school.school_id, "")
    teams = []
    for j, (c, team) in enumerate(raw_teams):
        team.sort(key=lambda m: (m[1] if policy.template else 0, m[0]))
        roles = tuple(_role(school, policy, i, s, c.focus) for i, s in team)
        text = team_text(table, school, policy, c.focus, team, roles)
        teams.append(Team(school.school_id, f"{school.school_id}-T{j + 1}", table.rubric.indicators[c.focus],
                          tuple(ids[school.rows[i]] for i, _ in team), roles, text, school_name,
                          tuple(names[school.rows[i]] for i, _ in team)))
    in_team = {i for _, team in raw_teams for i, _ in team}
    reasons = unassigned_reasons(table, school, policy, [t for _, t in raw_teams], in_team, proven)
    unassigned = [Unassigned(school.school_id, ids[school.rows[i]], text, code, school_name, names[school.rows[i]])
                  for i, (code, text) in sorted(reasons.items())]
    stats = {"learners": learners, "placed": placed, "bound": bound, "proven": proven, "methods": methods,
             "seconds": time.perf_counter() - started}
    return teams, unassigned, stats


def form_teams(table: TeacherTable, policy: TeamPolicy | None = None, workers: int = 1) -> TeamsResult:
    """Teams for every school of the table (see the module docstring for the objective and the rules).

    workers > 1 solves schools in forked processes; the teams never depend on it (time limits are deterministic).
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
    _ = table.labels, table.school_names  # cached once here rather than in every forked worker

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
    methods: dict[str, int] = {}
    for x in stats:
        for k, v in x["methods"].items():
            methods[k] = methods.get(k, 0) + v
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
        "groups_by_method": {k: methods[k] for k in ("greedy", "lp", "cpsat") if k in methods},
        "policy": team_policy_to_dict(policy),
    }
    return TeamsResult(teams, unassigned, summary, policy, table)
