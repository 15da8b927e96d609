"""The front door form_networks(): choose leaders (hosts, or peer anchors), their members and each network's one
focus area, maximizing the policy's objective exactly with OR-Tools CP-SAT (or reporting the proven gap)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from ..errors import InfeasibleError, SolverError
from ..io.schools import SchoolTable
from .explain import left_out_reasons, school_label
from .model import Links, build_links, haversine_km
from .policy import NetworkPolicy, policy_dict
from .result import Network, NetworkResult  # callers import the result types from here too


def _compatible(t: SchoolTable, policy: NetworkPolicy, a: int, b: int) -> bool:
    if policy.max_km is not None and float(haversine_km(t.latitude[a], t.longitude[a], t.latitude[b],
                                                        t.longitude[b])) > policy.max_km:
        return False
    if policy.same_district and t.district_id[a] != t.district_id[b]:
        return False
    if policy.same_school_type and t.school_type is not None and "" not in (t.school_type[a], t.school_type[b]) \
            and t.school_type[a] != t.school_type[b]:
        return False
    overlap = t.grade_min[a] <= t.grade_max[b] and t.grade_min[b] <= t.grade_max[a]
    return bool(overlap) or policy.grade_band != "require_same"


DECODE_MARGIN = 0.5  # seconds kept back from the time limit for decoding and reasons


# Above this many candidate links a part is solved with CP-SAT's lighter presolve and LP (measured on generated
# cities, benchmarks/RESULTS.md: at 400 applicants, 36,000 links, probing took 12 s of a 60 s limit).
LARGE_MODEL_LINKS = 3_000
# The share of a part's remaining time each lexicographic level may use (the last one takes what is left).
LEVEL_SHARE = {1: (1.0,), 2: (0.6, 1.0), 3: (0.6, 0.5, 1.0)}


def _solve(t: SchoolTable, policy: NetworkPolicy, links: Links, seconds: float,
           part: tuple[list[int], list[int]] | None = None, count_only: bool = False
           ) -> tuple[list[tuple[int, list[int], str]], dict]:
    """One CP-SAT model: of every school and link, or of one part (its schools, its links' indices).

    With grade_band = "align_first" the objective is lexicographic and solved level by level on one model: the
    placement points (weight_placed per school placed), then the partners sharing a grade with their host, then
    every other weight. Each level's value is kept as a constraint for the next, whose search starts from the
    previous answer (a complete hint). Other bands have one level, the weighted sum. count_only maximizes the
    number of schools placed (the grade rule's placement cost, measured without the rule)."""
    deadline = time.perf_counter() + seconds
    m = cp_model.CpModel()
    lo = policy.bounds()[0] if policy.mode == "host" else policy.peer_min_size - 1
    schools, ks_all = part if part is not None else (list(range(len(t))), list(range(len(links.u))))
    # A part too large to build and search in time keeps each member's best links; its bounds are then those of
    # every link (valid, not tight), so the answer states an honest gap instead of a proof.
    full_bounds = _loose_bounds(policy, links, schools, ks_all) if len(ks_all) > MAX_MODEL_LINKS else None
    if full_bounds is not None:
        ks_all = _best_links(links, schools, ks_all)
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
        m.Add(sum(x[k] for k in ks) <= int(links.capacity[h]) * y[h])  # its own capacity, or the shape's
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
    placement = ([(int(links.place[k]), x[k]) for k in ks_all] + [(int(links.leader_weight[h]), y[h]) for h in leaders]
                 + [(bonus, a) for a in align])
    rest = [(int(links.weight[k] - links.place[k]), x[k]) for k in ks_all]
    if count_only:
        levels = [("placed", [(1, v) for v in x.values()] + [(1, v) for v in y.values()])]
    elif policy.grade_band == "align_first":
        aligned = [(1, x[k]) for k in ks_all if links.aligned[k]]
        levels = [("placement", placement)] + ([("aligned_partners", aligned)] if aligned else []) \
            + [("weights", rest)]
    else:
        levels = [("objective", placement + rest)]
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = max(1, policy.workers)
    solver.parameters.random_seed = 0
    if len(ks_all) <= LARGE_MODEL_LINKS:
        solver.parameters.linearization_level = 2  # the LP relaxation proves the small and mid-sized cases quickly
    else:  # dense cities: probing took most of a minute's presolve; the lighter LP finds and proves more in time
        solver.parameters.cp_model_probing_level = 0
        solver.parameters.linearization_level = 1
    every = [*x.values(), *y.values(), *z.values(), *align]
    answer: dict[int, int] | None = None
    found: list[dict[str, Any]] = []
    if not together:  # the search starts from a greedy answer (no network at all is one too): it always has one
        answer = {v.Index(): 0 for v in every}
        slot = {k: i for i, k in enumerate(ks_all)} if align else {}  # align[i] is ks_all[i]'s
        for h, ks, f in _greedy(t, policy, links, leaders, by_v, ks_all):
            answer[y[h].Index()] = answer[z[h, f].Index()] = 1
            for k in ks:
                answer[x[k].Index()] = 1
                if align:  # its member needs the network's focus
                    answer[align[slot[k]].Index()] = int(f in links.focus[k])
    for i, (name, terms) in enumerate(levels):
        if answer is not None:
            m.ClearHints()
            for v in every:
                m.AddHint(v, answer[v.Index()])
        left = max(0.05, deadline - time.perf_counter())
        solver.parameters.max_time_in_seconds = max(0.05, left * LEVEL_SHARE[len(levels)][i])
        m.Maximize(sum(c * v for c, v in terms))
        status = solver.Solve(m)
        if status == cp_model.INFEASIBLE and answer is None:
            groups = "; ".join(", ".join(school_label(t, j) for j in g) for g in together)
            raise InfeasibleError("no set of networks satisfies the policy's hard rules" + (
                f": the schools that must stay with last year's network ({groups}) cannot form one network each "
                "under the size, focus, distance and grade rules" if together else ""))
        solved = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        if not solved and answer is None:
            raise SolverError(f"CP-SAT found no solution within {policy.time_limit_seconds:g} s "
                              f"(status {solver.StatusName(status)})")
        if solved:  # else a later level ran out of time: the previous level's answer stands, unimproved
            answer = {v.Index(): solver.Value(v) for v in every}
        assert answer is not None
        value = sum(c * answer[v.Index()] for c, v in terms)
        # without an answer CP-SAT's bound may not be one, and a pruned part's holds only for the links kept: then
        # every link's loose bound
        if full_bounds is not None or not solved:
            full_bounds = full_bounds or _loose_bounds(policy, links, schools, ks_all)
            bound = full_bounds[name]
        else:
            bound = round(solver.BestObjectiveBound())
        found.append({"level": name, "value": value, "bound": max(value, bound),
                      "optimal": status == cp_model.OPTIMAL and (full_bounds is None or value >= bound)})
        if i + 1 < len(levels):
            m.Add(sum(c * v for c, v in terms) >= value)
    assert answer is not None
    for f, (_, terms) in zip(found, levels, strict=False):  # the final answer's value at each level
        f["value"] = sum(c * answer[v.Index()] for c, v in terms)
        f["bound"] = max(f["bound"], f["value"])
    nets = []
    for h in leaders:
        if answer[y[h].Index()]:
            focus = next(f for f in links.leader_focus[h] if answer[z[h, f].Index()])
            nets.append((h, sorted(int(links.u[k]) for k in by_v.get(h, []) if answer[x[k].Index()]), focus))
    objective = sum(c * answer[v.Index()] for c, v in placement + rest)
    return nets, _summarise([objective], [found])


# The most candidate links one CP-SAT model is built with. Building takes about 0.15 ms a link in Python and the
# search slows with the links: a 1,800-applicant city has 357,000 (benchmarks/RESULTS.md), which did not reach a
# first answer in 60 s; a larger part keeps each member's best links (_best_links).
MAX_MODEL_LINKS = 40_000


def _greedy(t: SchoolTable, policy: NetworkPolicy, links: Links, leaders: list[int], by_v: dict[int, list[int]],
            ks_all: list[int]) -> list[tuple[int, list[int], str]]:
    """A feasible start for the search: leaders with the most candidate members first, each with the focus most of
    its free candidates need and its best free members (by weight) up to its capacity, while the hard rules between
    members (avoid; the peers' pairwise rules) hold. CP-SAT checks the hint and improves on it."""
    lo = policy.bounds()[0] if policy.mode == "host" else policy.peer_min_size - 1
    avoid = {frozenset(p) for p in links.avoid}
    chosen = set(ks_all)
    used: set[int] = set()
    out = []
    for h in sorted(leaders, key=lambda q: (-len(by_v.get(q, [])), q)):
        if h in used:
            continue
        free = sorted((k for k in by_v.get(h, []) if k in chosen and int(links.u[k]) not in used),
                      key=lambda k: (-int(links.weight[k]), k))
        best: list[int] = []
        focus = ""
        for f in links.leader_focus[h]:
            picked: list[int] = []
            for k in free:
                m = int(links.u[k])
                if policy.require_focus_match and f not in links.focus[k]:
                    continue
                mates = [int(links.u[j]) for j in picked]
                if any(frozenset((m, o)) in avoid for o in mates) or (
                        policy.mode == "peer" and not all(_compatible(t, policy, m, o) for o in mates)):
                    continue
                picked.append(k)
                if len(picked) == int(links.capacity[h]):
                    break
            if len(picked) > len(best):
                best, focus = picked, f
        if len(best) >= max(lo, 1) and (policy.max_networks is None or len(out) < policy.max_networks):
            out.append((h, best, focus))
            used |= {h, *(int(links.u[k]) for k in best)}
    return out


def _best_links(links: Links, schools: list[int], ks: list[int]) -> list[int]:
    """Each member's best links, as many per member as keeps the part within MAX_MODEL_LINKS (at least 8): by
    weight, links to a leader serving one of its grades first on ties. Members of a stay group keep every link."""
    k = np.asarray(ks, dtype=np.int64)
    members = np.unique(links.u[k])
    per = max(8, MAX_MODEL_LINKS // max(1, len(members)))
    order = np.lexsort((-links.aligned[k].astype(np.int64), -links.weight[k], links.u[k]))
    u_sorted = links.u[k][order]
    rank = np.arange(len(order)) - np.searchsorted(u_sorted, u_sorted, side="left")
    keep = set(k[order][rank < per].tolist())
    stay = {s for g in links.together for s in g}
    keep |= {int(x) for x in k if int(links.u[x]) in stay}
    return sorted(keep)


def _loose_bounds(policy: NetworkPolicy, links: Links, schools: list[int], ks: list[int]) -> dict[str, int]:
    """Upper bounds of each level over every link of the part: each school placed once, at its best, as a leader or
    as a member of its best link."""
    k = np.asarray(ks, dtype=np.int64)
    n = len(links.leader_ok)
    u = links.u[k]
    bonus = 0 if policy.require_focus_match else int(round(policy.weight_placed / 2))
    fits = np.array([bool(links.focus[j]) for j in k.tolist()], dtype=bool) if bonus else np.zeros(len(k), bool)
    place = links.place[k] + bonus * fits
    rest = links.weight[k] - links.place[k]

    def best(values: np.ndarray) -> np.ndarray:
        out = np.full(n, np.iinfo(np.int64).min // 4, dtype=np.int64)
        np.maximum.at(out, u, values.astype(np.int64))
        return out

    inside = np.zeros(n, bool)
    inside[schools] = True
    lead = np.where(links.leader_ok & inside, links.leader_weight, 0)
    member = np.zeros(n, bool)
    member[u] = True
    return {"objective": int(np.maximum(0, np.maximum(lead, best(place + rest)))[inside].sum()),
            "placement": int(np.maximum(0, np.maximum(lead, best(place)))[inside].sum()),
            "aligned_partners": int(np.unique(u[links.aligned[k]]).size),
            "weights": int(np.maximum(0, best(rest))[inside & member].sum()),
            "placed": int(((links.leader_ok & inside) | member)[inside].sum())}


def _summarise(objectives: list[int], parts: list[list[dict[str, Any]]]) -> dict[str, Any]:
    """The answer's objective (every weight; with align_first, alignment is a level of its own and no weight) and
    its proof over the parts: each level's value and bound summed over the parts, optimal when every level of
    every part was proven, and the gap the largest relative gap of any level. The bound is the objective plus
    what the placement and weights levels could still gain."""
    levels: dict[str, dict[str, Any]] = {}
    for found in parts:
        for f in found:
            got = levels.setdefault(f["level"], {"value": 0, "bound": 0})
            got["value"] += f["value"]
            got["bound"] += f["bound"]
    objective = float(sum(objectives))
    optimal = all(f["optimal"] for found in parts for f in found)
    gap = max((round((v["bound"] - v["value"]) / max(1.0, abs(v["bound"])), 6) for v in levels.values()),
              default=0.0)
    room = sum(v["bound"] - v["value"] for k, v in levels.items() if k != "aligned_partners")
    return {"objective": round(objective, 6), "bound": round(objective + room, 6), "optimal": optimal,
            "gap": 0.0 if optimal else gap, "status": "OPTIMAL" if optimal else "FEASIBLE",
            "levels": levels}


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
                 seconds: float, count_only: bool = False) -> tuple[list[tuple[int, list[int], str]], dict]:
    """Each part exactly, smallest first, within one time limit: a part gets the remaining time's share in
    proportion to its size (links and schools), so time a small part does not need goes to the larger ones."""
    deadline = time.perf_counter() + seconds
    sizes = [len(ks) + len(ss) for ss, ks in parts]
    nets: list[tuple[int, list[int], str]] = []
    objectives, proofs = [], []
    for i, part in enumerate(parts):
        left = max(0.0, deadline - time.perf_counter())
        share = max(0.05, left * sizes[i] / sum(sizes[i:]))
        got, info = _solve(t, policy, links, share, part, count_only)
        nets += got
        objectives.append(info["objective"])
        proofs.append([{"level": k, **v, "optimal": info["optimal"]} for k, v in info["levels"].items()])
    return nets, _summarise(objectives, proofs)


def form_networks(t: SchoolTable, policy: NetworkPolicy | None = None, *, _split: bool = True) -> NetworkResult:
    """Networks of the schools under the policy: exact when the summary says optimal, else within the reported gap.

    Without max_networks the independent parts (see _parts) are solved one by one, each exactly; the summary's
    objective and bound are their sums, and optimal means every part was proven. _split=False keeps one model
    (for tests that compare the two)."""
    policy = policy or NetworkPolicy()
    started = time.perf_counter()
    links = build_links(t, policy)
    solve_start = time.perf_counter()
    # The whole call stays within the policy's time limit: the solver gets what building the links left.
    seconds = max(0.1, policy.time_limit_seconds - (time.perf_counter() - started) - DECODE_MARGIN)
    deadline = time.perf_counter() + seconds
    costed = policy.grade_band == "require_same_where_possible" and links.set_aside > 0
    nets, info, n_parts = _solve_all(t, policy, links, seconds * (GRADE_RULE_SHARE if costed else 1.0), _split)
    grade_rule = _grade_rule(links)
    if costed:  # what the rule cost: the most schools placed without it, in the time left
        free = build_links(t, policy.replace(grade_band="prefer_same"))
        spent = time.perf_counter() - solve_start  # the check takes at most as long as the networks took
        budget = min(max(0.1, deadline - time.perf_counter()), max(GRADE_RULE_MIN_SECONDS, spent))
        _, without, _ = _solve_all(t, policy, free, budget, _split, True)
        most = without["levels"].get("placed", {"value": 0, "bound": 0})  # no levels: no part could hold a network
        grade_rule["placed_without_rule"] = {"value": int(most["value"]), "bound": int(most["bound"]),
                                             "optimal": without["optimal"]}
    solve_seconds = time.perf_counter() - solve_start
    nets.sort(key=lambda q: t.school_id[q[0]])
    width = max(3, len(str(len(nets))))
    networks = tuple(Network(f"N{i + 1:0{width}d}", h, tuple(ms), f) for i, (h, ms, f) in enumerate(nets))
    left = left_out_reasons(t, policy, links, networks)
    placed = sum(1 + len(q.members) for q in networks)
    summary = {"objective": info["objective"], "bound": info["bound"], "optimal": info["optimal"],
               "gap": info["gap"], "solver_status": info["status"], "levels": info["levels"],
               "n_networks": len(networks),
               "n_schools": len(t), "n_placed": placed, "n_left_out": len(left),
               "n_candidate_links": int(len(links.u)),
               "n_parts_solved": n_parts, "mode": policy.mode,
               "shape": policy.shape if policy.mode == "host" else f"peer groups of {policy.peer_min_size} to "
                                                                  f"{policy.peer_max_size}",
               **network_quality(t, networks, policy.mode), "grade_rule": grade_rule,
               "solve_seconds": round(solve_seconds, 4), "elapsed_seconds": round(time.perf_counter() - started, 4),
               "policy": policy_dict(policy)}
    if "placed_without_rule" in grade_rule:
        grade_rule["placement_cost_at_most"] = max(0, grade_rule["placed_without_rule"]["bound"] - placed)
        grade_rule["placement_cost_proven"] = bool(info["optimal"] and grade_rule["placed_without_rule"]["optimal"])
    return NetworkResult(networks, left, summary, policy, t, links)


# With require_same_where_possible, the share of the time limit the networks get when the rule set links aside; the
# rest measures the rule's placement cost (the most schools placed without it).
GRADE_RULE_SHARE = 0.75
GRADE_RULE_MIN_SECONDS = 2.0  # the least that measure gets (when the time limit leaves it), else as long as the solve


def _solve_all(t: SchoolTable, policy: NetworkPolicy, links: Links, seconds: float, split: bool,
               count_only: bool = False) -> tuple[list[tuple[int, list[int], str]], dict, int]:
    """Solve every independent part (or one model when split is False or max_networks couples them): the networks,
    the summary's proof, and how many models were solved."""
    parts = _parts(t, policy, links) if split else None
    if parts is not None:
        return (*_solve_parts(t, policy, links, parts, seconds, count_only), len(parts))
    if len(t):
        return (*_solve(t, policy, links, seconds, None, count_only), 1)
    return [], _summarise([], [[{"level": "placed" if count_only else "objective", "value": 0, "bound": 0,
                                 "optimal": True}]]), 0


def _grade_rule(links: Links) -> dict[str, Any]:
    """How the grade rule shaped the candidates: members with some candidate leader, those of them with none that
    serves one of their grades, and the links require_same_where_possible set aside."""
    n = len(links.leader_ok)
    any_link = np.bincount(links.u, minlength=n) > 0
    aligned = np.bincount(links.u[links.aligned], minlength=n) > 0
    return {"members_with_candidates": int(any_link.sum()),
            "members_without_aligned_candidate": int((any_link & ~aligned).sum()),
            "links_set_aside": int(links.set_aside)}


def network_quality(t: SchoolTable, networks: tuple[Network, ...] | list[Network], mode: str = "host"
                    ) -> dict[str, Any]:
    """What the networks give their members (partners, or peers): how many share a served grade with their host (or
    peer anchor), and focus coverage, the share of the members' needs that their host has as a strength (peers:
    that their anchor shares)."""
    members = [(m, n.leader) for n in networks for m in n.members]
    aligned = sum(bool(t.grade_min[m] <= t.grade_max[h] and t.grade_min[h] <= t.grade_max[m]) for m, h in members)
    offers = t.needs if mode == "peer" else t.strengths
    needs = sum(len(t.needs[m]) for m, _ in members)
    covered = sum(len(set(t.needs[m]) & set(offers[h])) for m, h in members)
    return {"n_members": len(members), "n_aligned_members": aligned,
            "aligned_share": round(aligned / len(members), 6) if members else None,
            "focus_coverage": round(covered / needs, 6) if needs else None}
