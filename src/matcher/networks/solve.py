"""The front door form_networks(): choose leaders (hosts, or peer anchors), their members and each network's one
focus area, maximizing the policy's objective exactly with OR-Tools CP-SAT (or reporting the proven gap)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from ..errors import InfeasibleError, SolverError
from ..io.schools import SchoolTable
from .explain import school_label
from .model import Links, build_links, haversine_km
from .policy import NetworkPolicy, policy_dict


@dataclass(frozen=True)
class Network:
    network_id: str
    leader: int  # host, or the peer group's anchor
    members: tuple[int, ...]
    focus: str


@dataclass(frozen=True, eq=False)
class NetworkResult:
    networks: tuple[Network, ...]
    left_out: dict[int, str]  # school -> reason
    summary: dict[str, Any]
    policy: NetworkPolicy
    schools: SchoolTable
    links: Links


def _compatible(t: SchoolTable, policy: NetworkPolicy, a: int, b: int) -> bool:
    if policy.max_km is not None and float(haversine_km(t.latitude[a], t.longitude[a], t.latitude[b],
                                                        t.longitude[b])) > policy.max_km:
        return False
    if policy.same_district and t.district_id[a] != t.district_id[b]:
        return False
    overlap = t.grade_min[a] <= t.grade_max[b] and t.grade_min[b] <= t.grade_max[a]
    return bool(overlap) or policy.grade_band != "require_same"


DECODE_MARGIN = 0.5  # seconds kept back from the time limit for decoding and reasons


def _solve(t: SchoolTable, policy: NetworkPolicy, links: Links, seconds: float,
           part: tuple[list[int], list[int]] | None = None) -> tuple[list[tuple[int, list[int], str]], dict]:
    """One CP-SAT model: of every school and link, or of one part (its schools, its links' indices)."""
    m = cp_model.CpModel()
    lo, hi = (policy.bounds() if policy.mode == "host" else (policy.peer_min_size - 1, policy.peer_max_size - 1))
    cap = min(policy.capacity(), hi) if policy.mode == "host" else hi
    schools, ks_all = part if part is not None else (list(range(len(t))), list(range(len(links.u))))
    inside = set(schools)
    x = {k: m.NewBoolVar(f"x{k}") for k in ks_all}
    leaders = [int(i) for i in np.flatnonzero(links.leader_ok) if int(i) in inside]
    y = {h: m.NewBoolVar(f"y{h}") for h in leaders}
    z = {(h, f): m.NewBoolVar(f"z{h}_{f}") for h in leaders for f in links.leader_focus[h]}
    by_u: dict[int, list[int]] = {}
    by_v: dict[int, list[int]] = {}
    for k in ks_all:
        by_u.setdefault(int(links.u[k]), []).append(k)
        by_v.setdefault(int(links.v[k]), []).append(k)
    for s in schools:  # each school in at most one network, in one role
        terms = [x[k] for k in by_u.get(s, [])] + ([y[s]] if s in y else [])
        if len(terms) > 1:
            m.Add(sum(terms) <= 1)
    for h in leaders:
        m.Add(sum(z[h, f] for f in links.leader_focus[h]) == y[h])  # one focus area per network
        ks = by_v.get(h, [])
        m.Add(sum(x[k] for k in ks) <= cap * y[h])
        m.Add(sum(x[k] for k in ks) >= lo * y[h])
    align = []
    for k in ks_all:
        h = int(links.v[k])
        m.AddImplication(x[k], y[h])  # a tighter relaxation than the capacity row alone
        fit = [z[h, f] for f in links.focus[k]]
        if policy.require_focus_match:
            m.Add(x[k] <= sum(fit))  # a member joins only for a focus it shares with the network
        else:
            a = m.NewBoolVar(f"a{k}")
            m.Add(a <= x[k])
            m.Add(a <= sum(fit)) if fit else m.Add(a == 0)
            align.append(a)
    link = {(int(links.u[k]), int(links.v[k])): k for k in ks_all}

    def xv(a: int, b: int) -> Any:
        return x[link[a, b]] if (a, b) in link else 0

    for a, b in links.avoid:  # never two members of one network (leader-member links are already left out)
        if a not in inside or b not in inside:
            continue
        for h in leaders:
            if (a, h) in link and (b, h) in link:
                m.Add(x[link[a, h]] + x[link[b, h]] <= 1)
    if policy.mode == "peer":  # peers meet each other, not only the anchor: the hard rules hold pairwise
        for h in leaders:
            ks = by_v.get(h, [])
            for i, ka in enumerate(ks):
                for kb in ks[i + 1:]:
                    if not _compatible(t, policy, int(links.u[ka]), int(links.u[kb])):
                        m.Add(x[ka] + x[kb] <= 1)
    together = [g for g in links.together if g[0] in inside]  # a part holds each stay group whole
    for group in together:  # placed, and all in one network
        for a in group:
            m.Add(sum(x[k] for k in by_u.get(a, [])) + (y[a] if a in y else 0) == 1)
        for a, b in zip(group, group[1:], strict=False):
            for h in set(leaders) - {a, b}:
                m.Add(xv(a, h) == xv(b, h))
            if b in y:
                m.Add(y[b] <= xv(a, b))
            if a in y:
                m.Add(y[a] <= xv(b, a))
    if policy.max_networks is not None:
        m.Add(sum(y.values()) <= policy.max_networks)
    bonus = int(round(policy.weight_placed / 2))
    m.Maximize(sum(int(links.weight[k]) * x[k] for k in ks_all)
               + sum(int(links.leader_weight[h]) * y[h] for h in leaders) + sum(bonus * a for a in align))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = max(1, policy.workers)
    solver.parameters.random_seed = 0
    solver.parameters.linearization_level = 2  # the LP relaxation proves the small and mid-sized cases quickly
    status = solver.Solve(m)
    if status == cp_model.INFEASIBLE:
        groups = "; ".join(", ".join(school_label(t, i) for i in g) for g in together)
        raise InfeasibleError("no set of networks satisfies the policy's hard rules" + (
            f": the schools that must stay with last year's network ({groups}) cannot form one network each under "
            "the size, focus, distance and grade rules" if together else ""))
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise SolverError(f"CP-SAT found no solution within {policy.time_limit_seconds:g} s "
                          f"(status {solver.StatusName(status)})")
    nets = []
    for h in leaders:
        if solver.Value(y[h]):
            focus = next(f for f in links.leader_focus[h] if solver.Value(z[h, f]))
            nets.append((h, sorted(int(links.u[k]) for k in by_v.get(h, []) if solver.Value(x[k])), focus))
    obj, bound = solver.ObjectiveValue(), solver.BestObjectiveBound()
    info = {"objective": round(obj, 6), "bound": round(bound, 6), "optimal": status == cp_model.OPTIMAL,
            "gap": 0.0 if status == cp_model.OPTIMAL else round((bound - obj) / max(1.0, abs(bound)), 6),
            "status": solver.StatusName(status)}
    return nets, info


def _parts(t: SchoolTable, policy: NetworkPolicy, links: Links) -> list[tuple[list[int], list[int]]] | None:
    """The independent parts of the problem, each as (its schools, its links' indices), smallest first; only the
    parts that could hold a network (or must: a stay group) are listed. None when one global rule couples them.

    Two schools can share a network only through a chain of candidate links (a member and its leader; peers of one
    group are each linked to its anchor), and a stay group must share one, so the connected components of the link
    graph, with each stay group joined, are independent: every other rule (size, capacity, focus, avoid, max_years,
    the peers' pairwise rules) is about one network. max_networks counts networks across all of them, so it keeps
    one model (facilitators and caseloads are assigned after, to the networks formed)."""
    if policy.max_networks is not None:
        return None
    n = len(t)
    parent = list(range(n))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    def join(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for a, b in zip(links.u.tolist(), links.v.tolist(), strict=True):
        join(a, b)
    for group in links.together:
        for a in group[1:]:
            join(group[0], a)
    schools: dict[int, list[int]] = {}
    for s in range(n):
        schools.setdefault(find(s), []).append(s)
    ks: dict[int, list[int]] = {}
    for k, a in enumerate(links.u.tolist()):
        ks.setdefault(find(a), []).append(k)
    lo = policy.bounds()[0] if policy.mode == "host" else policy.peer_min_size - 1
    fan_in = np.bincount(links.v, minlength=n)
    stay = {find(g[0]) for g in links.together}
    out = [(schools[r], ks.get(r, [])) for r in sorted(schools)
           # no leader with lo candidate members and no stay group: no network can form, nothing to solve
           if r in stay or any(links.leader_ok[s] and fan_in[s] >= lo for s in schools[r])]
    return sorted(out, key=lambda p: (len(p[1]), len(p[0]), p[0][0]))


def _solve_parts(t: SchoolTable, policy: NetworkPolicy, links: Links, parts: list[tuple[list[int], list[int]]],
                 seconds: float) -> tuple[list[tuple[int, list[int], str]], dict]:
    """Each part exactly, smallest first, within one time limit: a part gets the remaining time's share in
    proportion to its size (links and schools), so time a small part does not need goes to the larger ones."""
    deadline = time.perf_counter() + seconds
    sizes = [len(ks) + len(ss) for ss, ks in parts]
    nets: list[tuple[int, list[int], str]] = []
    objective = bound = 0.0
    optimal = True
    for i, part in enumerate(parts):
        left = max(0.0, deadline - time.perf_counter())
        share = max(0.05, left * sizes[i] / sum(sizes[i:]))
        got, info = _solve(t, policy, links, share, part)
        nets += got
        objective += info["objective"]
        bound += info["bound"]
        optimal &= info["optimal"]
    gap = 0.0 if optimal else round((bound - objective) / max(1.0, abs(bound)), 6)
    return nets, {"objective": round(objective, 6), "bound": round(bound, 6), "optimal": optimal, "gap": gap,
                  "status": "OPTIMAL" if optimal else "FEASIBLE"}


def form_networks(t: SchoolTable, policy: NetworkPolicy | None = None, *, _split: bool = True) -> NetworkResult:
    """Networks of the schools under the policy: exact when the summary says optimal, else within the reported gap.

    Without max_networks the independent parts (see _parts) are solved one by one, each exactly; the summary's
    objective and bound are their sums, and optimal means every part was proven. _split=False keeps one model
    (for tests that compare the two)."""
    from .explain import left_out_reasons  # decode

    policy = policy or NetworkPolicy()
    started = time.perf_counter()
    links = build_links(t, policy)
    solve_start = time.perf_counter()
    # The whole call stays within the policy's time limit: the solver gets what building the links left.
    seconds = max(0.1, policy.time_limit_seconds - (time.perf_counter() - started) - DECODE_MARGIN)
    parts = _parts(t, policy, links) if _split else None
    if parts is not None:
        nets, info = _solve_parts(t, policy, links, parts, seconds)
    elif len(t):
        nets, info = _solve(t, policy, links, seconds)
    else:
        nets, info = [], {"objective": 0.0, "bound": 0.0, "optimal": True, "gap": 0.0, "status": "OPTIMAL"}
    solve_seconds = time.perf_counter() - solve_start
    nets.sort(key=lambda q: t.school_id[q[0]])
    width = max(3, len(str(len(nets))))
    networks = tuple(Network(f"N{i + 1:0{width}d}", h, tuple(ms), f) for i, (h, ms, f) in enumerate(nets))
    left = left_out_reasons(t, policy, links, networks)
    placed = sum(1 + len(q.members) for q in networks)
    summary = {"objective": info["objective"], "bound": info["bound"], "optimal": info["optimal"],
               "gap": info["gap"], "solver_status": info["status"], "n_networks": len(networks),
               "n_schools": len(t), "n_placed": placed, "n_left_out": len(left),
               "n_candidate_links": int(len(links.u)),
               "n_parts_solved": 1 if parts is None and len(t) else len(parts or []), "mode": policy.mode,
               "shape": policy.shape if policy.mode == "host" else f"peer groups of {policy.peer_min_size} to "
                                                                  f"{policy.peer_max_size}",
               "solve_seconds": round(solve_seconds, 4), "elapsed_seconds": round(time.perf_counter() - started, 4),
               "policy": policy_dict(policy)}
    return NetworkResult(networks, left, summary, policy, t, links)
