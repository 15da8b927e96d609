"""The front door: pair_teachers(table, policy) -> PairingResult, exact, with a reason for every decision."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InfeasibleError, InputError, Problem
from ..io.teachers import TeacherTable
from ..parallel import fork_map
from ..policy import Policy, policy_to_dict
from . import large, solvers
from .explain import describe_pairs, unmatched_reasons
from .model import Group, Scoring, build_group, build_scoring
from .result import Pair, PairingResult, Unmatched

Progress = Callable[[float], None]
MAX_POOL = 8_000  # teachers in one pool: its dense (n x n) matrices and edge lists need several GB here


@dataclass
class _Run:
    """Mutable bookkeeping of one run (kept private; the result handed back is frozen)."""

    table: TeacherTable
    policy: Policy
    scoring: Scoring
    forbidden: set[tuple[int, int]]
    previous: set[tuple[int, int]]  # mutual: (min, max); one-way: (partner, target)
    has_previous: bool = False  # a previous run was given (even an empty one)
    # Pairs held while still allowed, in order of precedence: a principal's kept pairs, then (keep_untouched)
    # every previous pair. One-way: (partner, target).
    hold: list[tuple[int, int, str]] = field(default_factory=list)  # (a, b, origin "kept" | "optimized")
    prefer_previous: bool = False  # previous pairs break ties among optimal pairings (balanced, keep_untouched)
    price_stability: bool = False  # also solve each pool afresh, to report what holding pairs costs
    cost_units: int = 0  # value units the held pairs cost against fresh optima of their pools
    chosen: list[tuple[int, int, str, int]] = field(default_factory=list)  # (a, b, origin, value units)
    pairs: list[Pair] = field(default_factory=list)
    unmatched: dict[int, tuple[str, str]] = field(default_factory=dict)
    methods: dict[str, int] = field(default_factory=dict)
    optimal: bool = True
    unproven: int = 0  # pools whose optimum a time limit left unproven
    large: dict[str, int] = field(default_factory=dict)  # pools of the large route: counts and their proven bound

    @property
    def one_way(self) -> bool:
        return self.policy.mode == "one_way"


def _ids(table: TeacherTable, pairs: Sequence[tuple[str, str]], what: str, source: str,
         problems: list[Problem]) -> list[tuple[int, int]]:
    index = table.index
    out = []
    for n, (a, b) in enumerate(pairs, start=1):
        bad = [x for x in (a, b) if x not in index]
        for x in bad:
            problems.append(Problem(source, f"{what} entry {n} names a teacher who is not in {table.source}",
                                    row=n, column=what, value=x))
        if a == b and not bad:
            problems.append(Problem(source, f"{what} entry {n} pairs a teacher with themself", row=n, column=what,
                                    value=a))
        if not bad and a != b:
            out.append((index[a], index[b]))
    return out


def _group_keys(table: TeacherTable, scope: str) -> np.ndarray:
    if scope == "school":
        return table.school_id
    if scope == "district":
        # A school without a district is a district of its own.
        return np.where(table.district_id != "", table.district_id, "school:" + table.school_id.astype(str))
    return np.zeros(len(table), dtype=object)


def _split(keys: np.ndarray, members: np.ndarray | None = None) -> list[np.ndarray]:
    members = np.arange(len(keys)) if members is None else members
    if len(members) == 0:
        return []
    k = keys[members].astype(str)
    order = np.argsort(k, kind="stable")
    ks = k[order]
    cuts = np.flatnonzero(ks[1:] != ks[:-1]) + 1
    return [members[part] for part in np.split(order, cuts)]


def _two_way(g: Group, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether each candidate pair (a[i], b[i]) of the pool can support each other (mutual mode)."""
    return (g.help[a, b] > 0) & (g.help[b, a] > 0)


def _weights(run: _Run, g: Group, a: np.ndarray, b: np.ndarray, primary: np.ndarray,
             tie_breaks: bool = True) -> np.ndarray:
    """Integer edge weights, lexicographic: the objective (value, plus two-way pairs and soft preferences where
    the policy weighs them in); then kept previous pairs; then two-way pairs; then soft preferences. Each layer is
    scaled past the most the layers below it can add up to over one matching. tie_breaks=False: the objective
    alone (the fresh optimum that prices keeping earlier pairs)."""
    p = run.policy
    n = len(g.members) if run.one_way else len(g.members) // 2 + 1  # more than the edges any solution can hold
    soft = g.soft[a, b]
    two_way = _two_way(g, a, b) if not run.one_way else np.zeros(len(a), dtype=bool)
    if p.preference_weight > 0:
        primary = primary + np.rint(p.preference_weight * run.scoring.scale * soft).astype(np.int64)
        soft = np.zeros_like(soft)
    if p.two_way_weight > 0 and not run.one_way:
        primary = primary + np.rint(p.two_way_weight * run.scoring.scale * two_way).astype(np.int64)
        two_way = np.zeros_like(two_way)
    if not tie_breaks:
        return primary
    s_max = 2 if p.soft_preferences and p.preference_weight == 0 else 0
    w_soft = 1
    w_two = s_max * n + 1
    t_max = 0 if run.one_way or p.two_way_weight > 0 else 1
    w_prev = w_two * (t_max * n + 1)
    prev = np.zeros(len(a), dtype=bool)
    if run.previous and run.prefer_previous:
        ga, gb = g.members[a], g.members[b]
        key = (ga, gb) if run.one_way else (np.minimum(ga, gb), np.maximum(ga, gb))
        prev = np.fromiter(((int(x), int(y)) in run.previous for x, y in zip(*key, strict=True)), bool, len(a))
    w_obj = w_prev * ((n if prev.any() else 0) + 1)
    return primary * w_obj + prev * w_prev + (two_way * w_two if t_max else 0) + (soft * w_soft if s_max else 0)


@dataclass
class _Outcome:
    """What solving one pool produced; merged into the run in pool order, so results never depend on workers."""

    chosen: list[tuple[int, int, str, int]]
    unmatched: dict[int, tuple[str, str]]
    method: str | None
    optimal: bool
    pairs: list[Pair] = field(default_factory=list)
    cost_units: int = 0  # value the pool gives up by holding earlier pairs, against solving it afresh
    large: dict[str, int] = field(default_factory=dict)  # the large route's counts (pairing.large)


def _solve_edges(run: _Run, g: Group, a: np.ndarray, b: np.ndarray, primary: np.ndarray, fixed_ix: list[int],
                 tie_breaks: bool = True) -> solvers.Solution:
    """The exact solver on one pool's candidate edges (one-way: arcs a -> b; fixed_ix: arcs that must be chosen)."""
    if not len(a):
        return solvers.Solution(np.zeros(0, dtype=np.int64), True, "none")
    w = _weights(run, g, a, b, primary, tie_breaks)
    if run.one_way:
        return solvers.star_packing(len(g.members), a, b, w, run.policy.max_targets_per_partner,
                                    np.array(fixed_ix, dtype=np.int64), run.policy.solver,
                                    run.policy.time_limit_seconds)
    return solvers.matching(len(g.members), a, b, w, run.policy.solver)


def _held(run: _Run, pos: dict[int, int], arc_ix: dict[tuple[int, int], int], fixed_ix: list[int], a: np.ndarray,
          b: np.ndarray, candidates: list[tuple[int, int, str]]) -> dict[int, str]:
    """Which earlier pairs stay: each one still allowed (a candidate edge of the pool: both teachers here, every rule
    passes, worth something) whose teachers no must-pair or earlier-held pair has taken, in the candidates' order
    (a principal's kept pairs first). Returns edge index -> origin."""
    k = run.policy.max_targets_per_partner
    targets: set[int] = set()  # one-way: who has a partner already
    load: dict[int, int] = {}  # one-way: targets per partner
    used: set[int] = set()  # mutual: who is paired already
    for e in fixed_ix:
        targets.add(int(b[e]))
        load[int(a[e])] = load.get(int(a[e]), 0) + 1
    out: dict[int, str] = {}
    for x, y, why in candidates:
        if x not in pos or y not in pos:
            continue
        i, j = pos[x], pos[y]
        e = arc_ix.get((i, j) if run.one_way else (min(i, j), max(i, j)))
        if e is None:
            continue
        if run.one_way:
            if j in targets or j in load or i in targets or load.get(i, 0) >= k:
                continue
            targets.add(j)
            load[i] = load.get(i, 0) + 1
        else:
            if i in used or j in used:
                continue
            used.update((i, j))
        out[e] = why
    return out


def _solve_group(run: _Run, g: Group, fixed: list[tuple[int, int]], origin: str,
                 hold: Sequence[tuple[int, int, str]] = (), large_pool: bool = False) -> _Outcome:
    """Solve one pool: its pairs and the reasons of those left out. fixed: one-way must-pairs (partner, target);
    hold: earlier pairs kept while still allowed, (a, b, origin) in order of precedence."""
    m = len(g.members)
    if large_pool:
        a, b, primary, chosen, out = _solve_large(run, g, origin, hold)
        return _explain_pool(run, g, a, b, primary, chosen, out)
    if run.one_way:
        arcs = g.allowed & (g.help > 0)
        a, b = np.nonzero(arcs)
        primary = g.help[a, b]
    else:
        a, b = np.nonzero(np.triu(g.allowed, 1))
        primary = g.help[a, b] + g.help[b, a]
        keep = primary > 0
        a, b, primary = a[keep], b[keep], primary[keep]
    out = _Outcome([], {}, None, True)
    fixed_ix: list[int] = []
    held: dict[int, str] = {}
    if fixed or hold:  # (a dictionary of every edge costs as much as a school's solve: only when needed)
        pos = {int(x): i for i, x in enumerate(g.members.tolist())}
        arc_ix = {(int(x), int(y)): i for i, (x, y) in enumerate(zip(a.tolist(), b.tolist(), strict=True))}
        fixed_ix = [arc_ix[(pos[x], pos[y])] for x, y in fixed]
        held = _held(run, pos, arc_ix, fixed_ix, a, b, list(hold)) if hold else {}
    chosen: dict[int, str] = {}
    if held and (not run.one_way or run.policy.max_targets_per_partner == 1):
        # Held pairs leave the pool with their two teachers (with one target per partner, one-way is a matching);
        # the rest of the pool is solved exactly as usual.
        gone = np.zeros(m, dtype=bool)
        gone[[int(x) for e in held for x in (a[e], b[e])]] = True
        rest = np.flatnonzero(~(gone[a] | gone[b]))
        back = np.full(len(a), -1, dtype=np.int64)
        back[rest] = np.arange(len(rest))
        sol = _solve_edges(run, g, a[rest], b[rest], primary[rest], [int(back[e]) for e in fixed_ix])
        chosen = {**held, **{int(rest[e]): origin for e in sol.chosen.tolist()}}
    else:
        # One-way with several targets per partner: held arcs are fixed in the solver, so their partners may
        # still take more targets.
        sol = _solve_edges(run, g, a, b, primary, fixed_ix + [e for e in held if e not in fixed_ix])
        chosen = {int(e): held.get(int(e), origin) for e in sol.chosen.tolist()}
    if len(a):  # (a held pair is one of the pool's edges, so a pool without edges holds none)
        out.method, out.optimal = sol.method, sol.optimal
    if run.price_stability and held:
        fresh = _solve_edges(run, g, a, b, primary, fixed_ix, tie_breaks=False)
        out.cost_units = int(primary[fresh.chosen].sum()) - int(sum(int(primary[e]) for e in chosen))
    return _explain_pool(run, g, a, b, primary, chosen, out)


def _solve_large(run: _Run, g: Group, origin: str, hold: Sequence[tuple[int, int, str]]
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[int, str], _Outcome]:
    """A large pool (pairing.large; mutual mode): earlier pairs still allowed are held first, as in the dense
    route, and the rest of the pool is solved exactly without listing its every pair."""
    pos = {int(x): i for i, x in enumerate(g.members.tolist())}
    active = np.ones(len(g.members), dtype=bool)
    held: list[tuple[int, int, str]] = []
    for x, y, why in hold:
        i, j = pos.get(x), pos.get(y)
        if i is None or j is None or not (active[i] and active[j] and g.allowed[i, j]):
            continue
        if int(g.help[i, j]) + int(g.help[j, i]) > 0:
            held.append((min(i, j), max(i, j), why))
            active[[i, j]] = False
    sol = large.solve(g, lambda a, b, p: _weights(run, g, a, b, p), active, run.policy.time_limit_seconds)
    ha = np.array([i for i, _, _ in held], dtype=np.int64)
    hb = np.array([j for _, j, _ in held], dtype=np.int64)
    a, b = np.concatenate([ha, sol.a]), np.concatenate([hb, sol.b])
    primary = g.help[a, b].astype(np.int64) + g.help[b, a]
    chosen = {k: why for k, (_, _, why) in enumerate(held)} | {len(held) + k: origin for k in range(len(sol.a))}
    out = _Outcome([], {}, "large", sol.optimal)
    out.large = {"pools": 1, "teachers": int(active.sum()), "rounds": sol.rounds, "pairs_scanned": sol.pairs_scanned,
                 "pairs_solved": sol.pairs_solved, "bound_gap_units": sol.bound - int(sol.value.sum()),
                 "unproven": int(not sol.optimal)}
    if run.price_stability and held:
        fresh = large.solve(g, lambda a, b, p: _weights(run, g, a, b, p, tie_breaks=False), None,
                            run.policy.time_limit_seconds)
        out.cost_units = int(fresh.value.sum()) - int(primary.sum())
    return a, b, primary, chosen, out


def _explain_pool(run: _Run, g: Group, a: np.ndarray, b: np.ndarray, primary: np.ndarray, chosen: dict[int, str],
                  out: _Outcome) -> _Outcome:
    """The pool's chosen pairs (edge index -> origin over the pairs a, b worth primary) and why the others have
    none."""
    taken: dict[int, int] = {}
    value_of: dict[int, float] = {}
    for e, why in sorted(chosen.items()):
        x, y = int(g.members[a[e]]), int(g.members[b[e]])
        out.chosen.append((x, y, why, int(primary[e])))
        v = float(primary[e]) / run.scoring.scale
        taken.setdefault(x, y)
        taken[y] = x
        value_of.setdefault(x, v)
        value_of[y] = v
    left = [i for i, t in enumerate(g.members.tolist()) if t not in taken]
    out.unmatched = unmatched_reasons(run.table, run.scoring, g, left, run.policy.respect_opt_out, taken, value_of)
    return out


@dataclass(frozen=True)
class _Task:
    members: np.ndarray
    fixed: list[tuple[int, int]]
    origin: str
    other_school_only: bool = False
    km: np.ndarray | None = None
    hold: tuple[tuple[int, int, str], ...] = ()  # earlier pairs kept while allowed: (a, b, origin)
    large: bool = False  # solved by pairing.large (a pool above large.LARGE_POOL)


def _run_task(run: _Run, task: _Task) -> _Outcome:
    g = build_group(run.table, run.scoring, run.policy, task.members, run.forbidden,
                    other_school_only=task.other_school_only, km=task.km, compact=task.large)
    out = _solve_group(run, g, task.fixed, task.origin, list(task.hold), large_pool=task.large)
    out.pairs = _make_pairs(run, out.chosen)  # explained here, so that workers share this work too
    return out


def _run_tasks(run: _Run, tasks: list[_Task], workers: int, progress: Progress | None) -> None:
    """Solve every pool (shared with forked workers when asked) and merge the outcomes in order."""
    n_chunks = min(len(tasks), max(8 * workers, 20))
    bounds = np.linspace(0, len(tasks), n_chunks + 1).astype(int)
    chunks = [tasks[bounds[i]:bounds[i + 1]] for i in range(n_chunks)]
    parts = fork_map(lambda chunk: [_run_task(run, t) for t in chunk], chunks, workers,
                     progress=(lambda f: progress(0.9 * f)) if progress else None)
    outcomes = [o for part in parts for o in part]
    for o in outcomes:
        run.chosen.extend(o.chosen)
        run.pairs.extend(o.pairs)
        run.unmatched.update(o.unmatched)
        if o.method:
            run.methods[o.method] = run.methods.get(o.method, 0) + 1
        run.optimal &= o.optimal
        run.unproven += not o.optimal
        run.cost_units += o.cost_units
        for k, v in o.large.items():
            run.large[k] = run.large.get(k, 0) + v


def _check_must_pairs(run: _Run, must: list[tuple[int, int]]) -> None:
    """Every must-pair has to satisfy the hard rules; name each conflict."""
    t, p = run.table, run.policy
    conflicts: list[str] = []
    seen: dict[int, int] = {}
    targets: dict[int, int] = {}
    partners_count: dict[int, int] = {}
    keys = _group_keys(t, p.scope)
    for a, b in must:
        ta, tb = t.teacher_id[a], t.teacher_id[b]
        label = f"must-pair ({ta}, {tb})"
        if keys[a] != keys[b]:
            conflicts.append(f"{label}: the teachers are in different {p.scope}s ({t.school_id[a]}, "
                             f"{t.school_id[b]}) and pairs stay within one {p.scope}")
        if (min(a, b), max(a, b)) in run.forbidden:
            conflicts.append(f"{label}: the same pair is on the do-not-pair list")
        for x in (a, b):
            if p.respect_opt_out and t.opt_out[x]:
                conflicts.append(f"{label}: {t.teacher_id[x]} opted out")
        if run.one_way:
            if b in targets:
                conflicts.append(f"{label}: {tb} already has partner {t.teacher_id[targets[b]]} in another "
                                 "must-pair, and a target has one partner")
            targets[b] = a
            partners_count[a] = partners_count.get(a, 0) + 1
            if partners_count[a] > p.max_targets_per_partner:
                conflicts.append(f"{label}: {ta} would support more than {p.max_targets_per_partner} targets")
        else:
            for x in (a, b):
                if x in seen:
                    conflicts.append(f"{label}: {t.teacher_id[x]} is in another must-pair too "
                                     f"(with {t.teacher_id[seen[x]]}), and each teacher is in at most one pair")
                seen[x] = b if x == a else a
        if keys[a] == keys[b]:
            g = build_group(t, run.scoring, p, np.array([a, b]), run.forbidden)
            useful = g.help[0, 1] > 0 if run.one_way else (g.help[0, 1] + g.help[1, 0]) > 0
            if not useful:
                what = f"{ta} has no reinforcement area in {tb}'s refinement areas" if run.one_way else \
                    "neither teacher can support the other on any indicator"
                conflicts.append(f"{label}: {what} under this policy")
            for rule, mask in g.refused.items():
                if mask[0, 1] and rule not in ("opt_out", "do_not_pair"):
                    conflicts.append(f"{label}: breaks the {rule.replace('_', ' ')} rule of the policy")
    if run.one_way:
        both = set(targets) & set(partners_count)
        for x in sorted(both):
            conflicts.append(f"must-pairs: {t.teacher_id[x]} would be both a partner and a target")
    if conflicts:
        raise InfeasibleError("the must-pair list cannot be honoured:\n" + "\n".join(f"  - {c}" for c in conflicts))


def pair_teachers(table: TeacherTable, policy: Policy | None = None, *,
                  previous: Sequence[tuple[str, str]] | None = None, previous_source: str = "previous pairs",
                  keep: Sequence[tuple[str, str]] = (),
                  school_coords: dict[str, tuple[float, float]] | None = None,
                  policy_source: str = "policy", progress: Progress | None = None,
                  workers: int = 1) -> PairingResult:
    """Pair teachers exactly under the policy; see PRODUCT.md's IPI policy for the defaults.

    previous: last run's pairs (teacher_a, teacher_b; one-way: partner, target). policy.previous_stability says
    how they weigh: keep_untouched (default) keeps every one still allowed and pairs only the others (the summary
    prices this against a fresh optimum); balanced keeps them wherever that costs no value (an exact tie-break);
    full solves afresh and only reports what changed.
    keep: pairs a principal chose to keep; each stays while still allowed (both teachers in the same pool, every
    rule passes, worth something), whatever the stability, and otherwise is left free without an error.
    school_coords: school_id -> (latitude, longitude), for the cross-school distance limit.
    workers: processes for the per-school solves (forked; the answer is the same for any number).

    Scores are the teachers' observations aggregated as policy.aggregate asks (mean, median or latest); the
    result's `teachers` table holds them, and the summary's `observations` says how many observations they rest
    on. Pairs and unmatched teachers carry the names the teacher file gave (ids are decoded once, here).
    """
    policy = policy or Policy()
    started = time.perf_counter()
    table = table.aggregated(policy.aggregate, policy_source)
    # Computed once here so that forked workers inherit them instead of each computing them again.
    _ = table.labels, table.school_names
    scoring = build_scoring(table, policy, policy_source)
    problems: list[Problem] = []
    forbidden_ids = _ids(table, policy.do_not_pair, "do_not_pair", policy_source, problems)
    must = _ids(table, policy.must_pair, "must_pair", policy_source, problems)
    index = table.index
    prev_ids = [(index[a], index[b]) for a, b in (previous or ()) if a in index and b in index and a != b]
    keep_ids = [(index[a], index[b]) for a, b in keep if a in index and b in index and a != b]
    if policy.cross_school_fallback and policy.fallback_max_km is not None:
        if not school_coords:
            problems.append(Problem(policy_source, "a distance limit needs school coordinates (pass the schools "
                                                   "file with latitude and longitude)", column="fallback_max_km",
                                    value=str(policy.fallback_max_km)))
        else:
            missing = sorted(set(table.school_id.tolist()) - set(school_coords))
            for s in missing[:50]:
                problems.append(Problem(policy_source, "school has no coordinates in the schools file",
                                        column="school_id", value=s))
    one_way = policy.mode == "one_way"
    if one_way and policy.solver not in ("auto", "cpsat") and (policy.max_targets_per_partner > 1 or must):
        problems.append(Problem(policy_source, "one-way pairing with several targets per partner (or must-pairs) "
                                               "is not a matching; use solver auto or cpsat", column="solver",
                                value=policy.solver))
    if problems:
        raise InputError(problems)
    run = _Run(table, policy, scoring, {(min(a, b), max(a, b)) for a, b in forbidden_ids},
               {(a, b) if one_way else (min(a, b), max(a, b)) for a, b in prev_ids}, previous is not None)
    stability = policy.previous_stability if previous is not None else "full"
    run.prefer_previous = stability != "full"
    run.hold = [(a, b, "kept") for a, b in keep_ids]
    if stability == "keep_untouched":
        run.hold += [(a, b, "optimized") for a, b in prev_ids]
        run.price_stability = True
    _check_must_pairs(run, must)

    # Stage 1: within each school (or the scope's pool).
    keys = _group_keys(table, policy.scope)
    fixed_teachers = {x for pr in must for x in pr} if not one_way else set()
    forced = [(a, b, "must_pair", _pair_units(run, a, b)) for a, b in (must if not one_way else [])]
    run.chosen.extend(forced)
    run.pairs.extend(_make_pairs(run, forced))
    free = np.array([i for i in range(len(table)) if i not in fixed_teachers], dtype=np.int64)
    groups, large_groups = _large_pools(run, _split(keys, free), policy_source)
    must_by_key: dict[Any, list[tuple[int, int]]] = {}
    for a, b in (must if one_way else []):
        must_by_key.setdefault(keys[a], []).append((a, b))
    solve_start = time.perf_counter()
    hold_by_key: dict[Any, list[tuple[int, int, str]]] = {}
    for a, b, why in run.hold:
        if keys[a] == keys[b]:
            hold_by_key.setdefault(keys[a], []).append((a, b, why))
    _run_tasks(run, [_Task(m, must_by_key.get(keys[m[0]], []), "optimized", hold=tuple(hold_by_key.get(keys[m[0]], ())),
                           large=i in large_groups) for i, m in enumerate(groups)], workers, progress)

    # Stage 2: the cross-school fallback for whoever is still without a pair.
    fallback_value = 0.0
    if policy.cross_school_fallback and policy.scope == "school":
        before = len(run.chosen)
        _fallback(run, school_coords, workers)
        fallback_value = sum(units for *_, units in run.chosen[before:]) / scoring.scale
    solve_seconds = time.perf_counter() - solve_start
    result = _decode(run, previous, keep, previous_source, fallback_value, solve_seconds, started)
    if progress:
        progress(1.0)
    return result


def _large_pools(run: _Run, groups: list[np.ndarray], source: str) -> tuple[list[np.ndarray], set[int]]:
    """The pools, with those above large.LARGE_POOL marked for the large route (their opted-out teachers, who pair
    with nobody, split off into a small pool of their own); a pool above MAX_POOL that cannot take that route is
    refused, saying why."""
    p = run.policy
    why_not = large.applicable(p.mode, p.solver, p.preference_weight, p.two_way_weight)
    out: list[np.ndarray] = []
    marked: set[int] = set()
    if p.subject == "require_same":
        # No pair crosses subjects, so each subject of a large pool is a pool of its own (a smaller pool keeps them
        # together, so that its reasons can say the subject rule is what stands in a teacher's way).
        groups = [part for m in groups
                  for part in (_split(run.table.subject, m) if len(m) > large.LARGE_POOL else [m])]
    for m in groups:
        if len(m) <= large.LARGE_POOL or why_not:
            if len(m) > MAX_POOL:
                raise InputError([Problem(source, f"scope {p.scope!r} makes a pool of {len(m):,} teachers; pools "
                                                  f"above {MAX_POOL:,} are matched only by the large-pool route, and "
                                                  f"{why_not} (use scope school, or district)", column="scope",
                                          value=p.scope)])
            out.append(m)
            continue
        opted = run.table.opt_out[m] if p.respect_opt_out else np.zeros(len(m), dtype=bool)
        marked.add(len(out))
        out.append(m[~opted])
        if opted.any():
            out.append(m[opted])
    return out, marked


def _haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def _fallback(run: _Run, coords: dict[str, tuple[float, float]] | None, workers: int) -> None:
    t = run.table
    left = np.array(sorted(i for i, (code, _) in run.unmatched.items()
                           if code in ("no_helper", "ruled_out", "taken") and t.district_id[i] != ""),
                    dtype=np.int64)
    tasks = []
    for members in _split(t.district_id, left):
        if len(set(t.school_id[members].tolist())) < 2:
            continue
        km = None
        if coords is not None and run.policy.fallback_max_km is not None:
            lat = np.array([coords[s][0] for s in t.school_id[members]])
            lon = np.array([coords[s][1] for s in t.school_id[members]])
            km = _haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
        tasks.append(_Task(members, [], "cross_school", other_school_only=True, km=km))
    pooled = [int(x) for task in tasks for x in task.members]
    reasons_before = {x: run.unmatched.pop(x) for x in pooled}
    _run_tasks(run, tasks, workers, None)
    for x in pooled:
        if x in run.unmatched:
            code, why = run.unmatched[x]
            run.unmatched[x] = (reasons_before[x][0],
                                f"{reasons_before[x][1]} Across district {t.district_id[x]}'s other schools: {why}")


def _pair_units(run: _Run, a: int, b: int) -> int:
    """Value units of the pair (a, b) (one-way: a supports b), under the same model as every pool."""
    g = build_group(run.table, run.scoring, run.policy, np.array([a, b]), set())
    return int(g.help[0, 1] + (0 if run.one_way else g.help[1, 0]))


def _make_pairs(run: _Run, chosen: list[tuple[int, int, str, int]]) -> list[Pair]:
    """Pair records with their explanations for chosen (a, b, origin, value units) tuples."""
    if not chosen:
        return []
    t, p = run.table, run.policy
    prev = run.previous
    junior = p.max_junior_years
    rows = [(b, a, o, u) if not run.one_way and t.teacher_id[b] < t.teacher_id[a] else (a, b, o, u)
            for a, b, o, u in chosen]
    A = np.array([r[0] for r in rows], dtype=np.int64)
    B = np.array([r[1] for r in rows], dtype=np.int64)
    if junior is None:
        allow_ab = allow_ba = np.ones(len(rows), dtype=bool)
    else:
        allow_ab = ~(t.years[B] - t.years[A] > junior)
        allow_ba = ~(t.years[A] - t.years[B] > junior)
    keys = [(a, b) if run.one_way else (min(a, b), max(a, b)) for a, b, _, _ in rows]
    notes = []
    for (a, _, origin, _), key in zip(rows, keys, strict=True):
        note = {"must_pair": "Required by the must-pair list.",
                "kept": "Kept as the principal decided on the previous run.",
                "cross_school": f"A cross-school pair within district {t.district_id[a]}: neither found a "
                                "partner in their own school."}.get(origin, "")
        if key in prev and origin != "kept":
            note = (note + " Kept from the previous run.").strip()
        notes.append(note)
    texts = describe_pairs(t, run.scoring, A, B, run.one_way, allow_ab, allow_ba, notes)
    names, school_names = t.teacher_name, t.school_names
    out = []
    for (a, b, origin, units), d, key in zip(rows, texts, keys, strict=True):
        sa, sb = str(t.school_id[a]), str(t.school_id[b])
        out.append(Pair(school_id=sa, teacher_a=str(t.teacher_id[a]),
                        teacher_b=str(t.teacher_id[b]), value=units / run.scoring.scale, a_helps_b=d.a_helps_b,
                        b_helps_a=d.b_helps_a, focus_indicator=d.focus, explanation=d.text,
                        school_b=sb if sb != sa else "",
                        origin=origin, previous=("kept" if key in prev else "new") if run.has_previous else "",
                        teacher_a_name=str(names[a]), teacher_b_name=str(names[b]),
                        school_name=school_names.get(sa, ""),
                        school_b_name=school_names.get(sb, "") if sb != sa else ""))
    return out


def _decode(run: _Run, previous: Sequence[tuple[str, str]] | None, keep: Sequence[tuple[str, str]],
            previous_source: str, fallback_value: float, solve_seconds: float, started: float) -> PairingResult:
    t, p = run.table, run.policy
    pairs = list(run.pairs)
    chosen_keys = {(a, b) if run.one_way else (min(a, b), max(a, b)) for a, b, _, _ in run.chosen}
    pairs.sort(key=lambda q: (q.school_id, q.teacher_a, q.teacher_b))
    school_names = t.school_names
    unmatched = sorted((Unmatched(str(t.school_id[i]), str(t.teacher_id[i]), why, code, str(t.teacher_name[i]),
                                  school_names.get(str(t.school_id[i]), ""))
                        for i, (code, why) in run.unmatched.items()), key=lambda u: (u.school_id, u.teacher_id))
    total = sum(units for *_, units in run.chosen) / run.scoring.scale
    two_way_weighed = p.two_way_weight > 0 and not run.one_way
    summary: dict[str, Any] = {
        "total_value": round(total, 6),
        "n_pairs": len(pairs),
        "n_teachers": len(t),
        "n_schools": int(len(set(t.school_id.tolist()))),
        "n_paired_teachers": len({x for q in pairs for x in (q.teacher_a, q.teacher_b)}),
        "n_unmatched": len(unmatched),
        "optimal": run.optimal,
        "unproven_pools": run.unproven,
        "solve_seconds": round(solve_seconds, 4),
        "mode": p.mode,
        "rubric": t.rubric.name,
        "weak_below": run.scoring.weak_below,
        "strong_at_least": run.scoring.strong_at_least,
        "objective": " + ".join(["value",
                                 *(["two_way_weight x two-way pairs"] if two_way_weighed else []),
                                 *(["preference_weight x soft preferences"]
                                   if p.preference_weight > 0 and p.soft_preferences else [])]),
        "areas": p.areas,
        "two_way_pairs": (sum(1 for q in pairs if q.a_helps_b and q.b_helps_a) if not run.one_way else None),
        "soft_preferences": ("none" if not p.soft_preferences else
                             f"weighted into the objective (weight {p.preference_weight:g})"
                             if p.preference_weight > 0 else "tie-break only among optimal pairings"),
        "tie_breaks": ([*(["keep previous pairs"] if run.prefer_previous else []),
                        *(["two-way pairs"] if not run.one_way and not two_way_weighed else []),
                        *(["soft preferences"] if p.soft_preferences and p.preference_weight == 0 else [])]),
        "solvers": dict(sorted(run.methods.items())),
        "must_pairs": sum(1 for q in pairs if q.origin == "must_pair"),
        "cross_school_pairs": sum(1 for q in pairs if q.origin == "cross_school"),
        "cross_school_value": round(fallback_value, 6),
        "unmatched_by_reason": _count(u.code for u in unmatched),
        "observations": _observations(t),
        "policy": policy_to_dict(p),
        "warnings": list(t.warnings),
        "elapsed_seconds": round(time.perf_counter() - started, 4),
    }
    if run.large:
        # Pools of the large route (pairing.large): how much of each was listed, and the proven bound on the value.
        gap = run.large["bound_gap_units"] / run.scoring.scale
        summary["large_pools"] = {
            "pools": run.large["pools"], "teachers": run.large["teachers"], "rounds": run.large["rounds"],
            "candidate_pairs": run.large["pairs_scanned"] // 2, "pairs_solved": run.large["pairs_solved"],
            "unproven": run.large["unproven"], "value_upper_bound": round(total + gap, 6),
            "gap": round(gap / (total + gap), 6) if total + gap > 0 else 0.0}
    if previous is not None:
        summary["previous"] = _previous_summary(run, previous, chosen_keys, previous_source)
    if keep:
        summary["kept_on_request"] = _kept_summary(run, keep)
    return PairingResult(tuple(pairs), tuple(unmatched), summary, p, t)


def _observations(t: TeacherTable) -> dict[str, Any]:
    """How many classroom observations the scores rest on.

    aggregate: how a teacher's observations became one score per indicator (mean, median or latest);
    teachers; scores: observed (teacher, indicator) scores; scores_from_several_observations: those that
    aggregate two or more observations; teachers_observed_more_than_once: teachers with at least one such score;
    most_observations_per_score and mean_observations_per_score: over the observed scores.
    """
    observed = ~np.isnan(t.scores)
    counts = t.n_obs[observed]
    several = (t.n_obs > 1) & observed
    return {"aggregate": t.aggregate, "teachers": len(t), "scores": int(observed.sum()),
            "scores_from_several_observations": int(several.sum()),
            "teachers_observed_more_than_once": int(several.any(axis=1).sum()),
            "most_observations_per_score": int(counts.max(initial=0)),
            "mean_observations_per_score": round(float(counts.mean()), 2) if len(counts) else 0.0}


def _count(codes: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in codes:
        out[c] = out.get(c, 0) + 1
    return dict(sorted(out.items()))


def _not_kept(run: _Run, a: int | None, b: int | None, ta: str, tb: str, held_elsewhere: set[int]) -> str:
    """Why an earlier pair (a principal's kept pair or a previous run's) is not in this pairing."""
    t, p = run.table, run.policy
    if a is None or b is None:
        gone = ", ".join(x for x, i in ((ta, a), (tb, b)) if i is None)
        return f"no longer on the roster: {gone}"
    if p.respect_opt_out and (t.opt_out[a] or t.opt_out[b]):
        return "a teacher opted out"
    keys = _group_keys(t, p.scope)
    if keys[a] != keys[b]:
        if p.cross_school_fallback and t.district_id[a] and t.district_id[a] == t.district_id[b]:
            return ("a pair across schools, formed only among teachers left without a partner in their own school; "
                    "this time they were not both left without one")
        return f"the teachers are no longer in the same {p.scope}"
    if (min(a, b), max(a, b)) in run.forbidden:
        return "on the do-not-pair list"
    g = build_group(t, run.scoring, p, np.array([a, b]), run.forbidden)
    rules = [r.replace("_", " ") for r, m in g.refused.items() if m[0, 1]]
    raw = g.help_raw[0, 1] + (0 if run.one_way else g.help_raw[1, 0])
    now = g.help[0, 1] + (0 if run.one_way else g.help[1, 0])
    if raw > 0 and now <= 0:
        rules.append("experience rule")
    if rules:
        return f"no longer allowed by the policy ({', '.join(rules)})"
    if raw <= 0:
        return "the new scores give neither teacher a reinforcement area in the other's refinement areas"
    if a in held_elsewhere or b in held_elsewhere:
        return "a teacher is paired with someone else by a must-pair or a kept pair"
    if not run.prefer_previous:
        return "the pool was paired afresh (previous_stability full)"
    return "replaced by pairings worth more to the school's total"


def _previous_summary(run: _Run, previous: Sequence[tuple[str, str]], chosen: set[tuple[int, int]],
                      source: str) -> dict[str, Any]:
    """Kept, broken (each with its reason) and new pairs against last run's list, and what keeping them cost."""
    t = run.table
    index = t.index
    kept = 0
    reasons: dict[str, int] = {}
    details = []
    seen = set()
    held_elsewhere = {x for a, b, origin, _ in run.chosen if origin in ("must_pair", "kept") for x in (a, b)}
    for ta, tb in previous:
        a, b = index.get(ta), index.get(tb)
        if a is not None and b is not None:
            key = (a, b) if run.one_way else (min(a, b), max(a, b))
            if key in seen:
                continue
            seen.add(key)
            if key in chosen:
                kept += 1
                continue
        why = _not_kept(run, a, b, ta, tb, held_elsewhere)
        code = why.split(":")[0]
        reasons[code] = reasons.get(code, 0) + 1
        # A teacher no longer on the roster has no name here: the id stands alone.
        details.append({"teacher_a": ta, "teacher_b": tb, "reason": why,
                        "teacher_a_name": str(t.teacher_name[a]) if a is not None else "",
                        "teacher_b_name": str(t.teacher_name[b]) if b is not None else ""})
    out: dict[str, Any] = {"source": source, "stability": run.policy.previous_stability,
                           "previous_pairs": kept + len(details), "kept": kept, "broken": len(details),
                           "new": len(chosen) - kept, "broken_reasons": reasons, "broken_pairs": details}
    if run.price_stability:
        # What keeping every still-allowed pair cost: each pool's fresh optimum (the same objective, nothing held)
        # minus its value here.
        out["value_cost"] = round(run.cost_units / run.scoring.scale, 6)
    return out


def _kept_summary(run: _Run, keep: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The principal's kept pairs: how many held, and why each other one did not."""
    index = run.table.index
    held = {(min(a, b), max(a, b)) for a, b, origin, _ in run.chosen if origin == "kept"}
    elsewhere = {x for a, b, origin, _ in run.chosen if origin in ("must_pair", "kept") for x in (a, b)}
    asked = list({(a, b) if run.one_way else tuple(sorted((a, b))): (a, b) for a, b in keep}.values())
    out = []
    for ta, tb in asked:
        a, b = index.get(ta), index.get(tb)
        if a is None or b is None or (min(a, b), max(a, b)) not in held:
            out.append({"teacher_a": ta, "teacher_b": tb, "reason": _not_kept(run, a, b, ta, tb, elsewhere)})
    return {"requested": len(asked), "held": len(asked) - len(out), "not_held": out}
