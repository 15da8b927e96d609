"""A greedy baseline for school networks, and an independent restatement of the network objective.

Nothing here imports matcher.networks: the candidate links, their points and the objective are written again from
the policy's rules (PRODUCT.md "School networks" and src/matcher/networks/model.py's documented terms), in plain
Python over the SchoolTable that matcher.io.schools.read_schools returns. benchmarks/networks.py uses it three ways:
the greedy baseline's networks, a cross-check of build_links' candidate links and points, and the objective of any
set of networks recomputed without the library.

The greedy is what an analyst would write without an optimizer, in two passes:
1. open networks: every (leader, focus area) is a candidate network worth the leader's points plus its best free
   members' link points, with exactly the minimum number of members; take the best candidate, mark its schools
   taken, re-evaluate the others (lazily: a candidate's worth only falls as schools are taken) and repeat until no
   candidate reaches the minimum size or max_networks is reached;
2. fill: the schools still free join the open networks with room, best (member, network) link first, a member
   only for a network whose focus is among its needs when the focus match is required.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import Any

SHAPES = {"pair": (1, 1), "triad": (2, 2), "quad": (3, 3), "cohort": (4, 8)}


def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, max(0.0, h))))


def size_bounds(p: Any) -> tuple[int, int]:
    """(fewest, most) members besides the leader under policy p."""
    if p.mode == "peer":
        return p.peer_min_size - 1, p.peer_max_size - 1
    lo, hi = SHAPES[p.shape]
    lo = p.min_partners if p.min_partners is not None else lo
    hi = p.max_partners if p.max_partners is not None else hi
    cap = p.host_capacity if p.host_capacity is not None else hi
    return lo, min(hi, cap)


@dataclass(frozen=True)
class Link:
    weight: int  # points when the member joins the leader's network
    fits: frozenset[str]  # focus areas the leader's network may take that are among the member's needs
    km: float


@dataclass(frozen=True)
class Candidates:
    leaders: list[int]  # schools that may lead, in file order
    leader_focus: dict[int, tuple[str, ...]]  # the focus areas a network it leads may take
    links: dict[tuple[int, int], Link]  # (member, leader) -> link
    by_leader: dict[int, list[int]]  # leader -> members that may join it
    leader_points: int
    bonus: int  # per member whose needs include the network's focus, when the focus match is not required


def _similarity(t: Any, a: int, b: int) -> float:
    diffs = [abs(float(getattr(t, c)[a]) - float(getattr(t, c)[b])) for c in ("pct_poverty", "pct_ell", "pct_swd")]
    diffs = [d for d in diffs if not math.isnan(d)]
    if not diffs:
        return 0.0
    return min(1.0, max(0.0, 1.0 - 10.0 * sum(diffs) / len(diffs)))


def avoid_pairs(t: Any, p: Any) -> set[frozenset[str]]:
    """School-id pairs never in one network: the policy's avoid list, and (max_years) schools that have been in
    one network for that many years."""
    out = {frozenset((a, b)) for a, b in p.avoid}
    last = getattr(t, "last_network", None)
    years = getattr(t, "years_in_network", None)
    if getattr(p, "max_years", None) is not None and last is not None and years is not None:
        ids = [str(s) for s in t.school_id]
        for a in range(len(t)):
            for b in range(a + 1, len(t)):
                if last[a] and last[a] == last[b] and max(int(years[a]), int(years[b])) >= p.max_years:
                    out.add(frozenset((ids[a], ids[b])))
    return out


def candidates(t: Any, p: Any) -> Candidates:
    """Every allowed member -> leader link with its points, restated from the policy's rules."""
    n = len(t)
    peer = p.mode == "peer"
    ids = [str(s) for s in t.school_id]
    if getattr(p, "stay", ()):
        raise NotImplementedError("the greedy baseline does not place 'stay' groups")
    avoid = avoid_pairs(t, p)
    needs = [set(x) for x in t.needs]
    strengths = [set(x) for x in t.strengths]
    if peer:
        may_lead = [bool(t.needs[i]) for i in range(n)]
        may_join = may_lead
        lead_focus = {i: tuple(t.needs[i]) for i in range(n)}
    else:
        may_lead = [str(t.role[i]) in ("host", "either") and bool(t.strengths[i]) for i in range(n)]
        may_join = [str(t.role[i]) in ("partner", "either") and bool(t.needs[i]) for i in range(n)]
        lead_focus = {i: tuple(t.strengths[i]) for i in range(n)}
    lat = [float(x) for x in t.latitude]
    lon = [float(x) for x in t.longitude]
    gmin = [int(x) for x in t.grade_min]
    gmax = [int(x) for x in t.grade_max]
    placed = p.weight_placed * (1.0 if p.require_focus_match else 0.5)
    named_sets = getattr(t, "named_schools", None) or ()
    links: dict[tuple[int, int], Link] = {}
    by_leader: dict[int, list[int]] = {v: [] for v in range(n) if may_lead[v]}
    for u in range(n):
        if not may_join[u]:
            continue
        for v in by_leader:
            if u == v or (peer and v > u):  # a peer group's anchor is its first school in file order
                continue
            d = km(lat[u], lon[u], lat[v], lon[v])
            if p.max_km is not None and d > p.max_km:
                continue
            if p.same_district and t.district_id[u] != t.district_id[v]:
                continue
            overlap = gmin[u] <= gmax[v] and gmin[v] <= gmax[u]
            if p.grade_band == "require_same" and not overlap:
                continue
            if bool(t.new_principal[u]) and not bool(t.accepts_new_principal[v]):
                continue
            fits = frozenset(f for f in lead_focus[v] if f in needs[u])
            if p.require_focus_match and not fits:
                continue
            if frozenset((ids[u], ids[v])) in avoid:
                continue
            cover = len(needs[u] & (needs[v] if peer else strengths[v]))
            supt = str(t.superintendent[u]) != "" and t.superintendent[u] == t.superintendent[v]
            prior = ids[v] in t.prior_partners[u] or ids[u] in t.prior_partners[v]
            named = bool(named_sets) and (ids[v] in named_sets[u] or ids[u] in named_sets[v])
            w = (placed + p.weight_cover * max(cover - 1, 0)
                 + (p.weight_grade if overlap and p.grade_band != "any" else 0.0)
                 - p.weight_km * d
                 + p.weight_population * _similarity(t, u, v)
                 + p.weight_superintendent * supt + p.weight_prior * prior
                 + getattr(p, "weight_named", 0.0) * named)
            links[u, v] = Link(int(round(w)), fits, d)
            by_leader[v].append(u)
    return Candidates(leaders=sorted(by_leader), leader_focus=lead_focus, links=links, by_leader=by_leader,
                      leader_points=int(round(p.weight_placed)), bonus=int(round(p.weight_placed / 2)))


def network_value(c: Candidates, p: Any, leader: int, members: list[int], focus: str) -> int:
    """The objective's points of one network (its leader's points, each member's link, the focus bonus)."""
    total = c.leader_points
    for m in members:
        link = c.links[m, leader]
        total += link.weight + (c.bonus if not p.require_focus_match and focus in link.fits else 0)
    return total


def _best_members(c: Candidates, p: Any, leader: int, focus: str, free: list[bool], avoid: set[frozenset[str]],
                  ids: list[str], lo: int, hi: int) -> tuple[int, list[int]] | None:
    scored = []
    for m in c.by_leader[leader]:
        if not free[m]:
            continue
        link = c.links[m, leader]
        if p.require_focus_match and focus not in link.fits:
            continue
        scored.append((link.weight + (c.bonus if not p.require_focus_match and focus in link.fits else 0), -m, m))
    scored.sort(reverse=True)
    chosen: list[int] = []
    value = c.leader_points
    for w, _, m in scored:
        if len(chosen) == hi:
            break
        if len(chosen) >= lo and w <= 0:  # a member that costs points is taken only to reach the minimum
            break
        if avoid and any(frozenset((ids[m], ids[o])) in avoid for o in chosen):
            continue
        chosen.append(m)
        value += w
    if len(chosen) < lo:
        return None
    return value, sorted(chosen)


def greedy(t: Any, p: Any, c: Candidates) -> list[tuple[int, list[int], str]]:
    """(leader, members, focus) per network."""
    lo, hi = size_bounds(p)
    ids = [str(s) for s in t.school_id]
    avoid = avoid_pairs(t, p)
    free = [True] * len(t)
    heap: list[tuple[int, int, int, str, list[int]]] = []
    for h in c.leaders:
        for k, f in enumerate(c.leader_focus[h]):
            got = _best_members(c, p, h, f, free, avoid, ids, lo, lo)
            if got is not None:
                heap.append((-got[0], h, k, f, got[1]))
    heapq.heapify(heap)
    out: list[tuple[int, list[int], str]] = []
    while heap and (p.max_networks is None or len(out) < p.max_networks):
        _, h, k, f, members = heapq.heappop(heap)
        if not free[h]:
            continue
        if not all(free[m] for m in members):  # stale: re-evaluate with the schools still free
            got = _best_members(c, p, h, f, free, avoid, ids, lo, lo)
            if got is not None:
                heapq.heappush(heap, (-got[0], h, k, f, got[1]))
            continue
        out.append((h, list(members), f))
        free[h] = False
        for m in members:
            free[m] = False
    if hi > lo:  # fill the open networks' room with the schools still free, best link first
        offers = []
        for n, (h, _, f) in enumerate(out):
            for m in c.by_leader[h]:
                link = c.links[m, h]
                if not free[m] or (p.require_focus_match and f not in link.fits):
                    continue
                w = link.weight + (c.bonus if not p.require_focus_match and f in link.fits else 0)
                if w > 0:
                    offers.append((-w, m, n))
        offers.sort()
        for _, m, n in offers:
            members = out[n][1]
            if not free[m] or len(members) >= hi:
                continue
            if avoid and any(frozenset((ids[m], ids[o])) in avoid for o in members):
                continue
            members.append(m)
            free[m] = False
    return [(h, sorted(ms), f) for h, ms, f in out]


__all__ = ["Candidates", "Link", "avoid_pairs", "candidates", "greedy", "km", "network_value", "size_bounds"]
