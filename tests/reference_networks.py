"""An independent brute force for school networks: every partition of a few schools into blocks, each block's
best leader and focus, restating the policy's rules and objective in plain Python (no code shared with the model)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any


def partitions(items: list[int]) -> Iterator[list[list[int]]]:
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in partitions(rest):
        yield [[first], *part]
        for i in range(len(part)):
            yield part[:i] + [[first, *part[i]]] + part[i + 1:]


def km(a: dict[str, Any], b: dict[str, Any]) -> float:
    p1, p2 = math.radians(a["lat"]), math.radians(b["lat"])
    dp, dl = p2 - p1, math.radians(b["lon"] - a["lon"])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, max(0.0, h))))


CRITERIA = ["proximity", "population", "superintendent", "worked_together", "named"]


def _criterion_points(s: dict[str, Any], p: dict[str, Any]) -> dict[str, float]:
    """A school's points per criterion: its own ranking (Borda over the 5 criteria, scaled to criteria_points), or
    the policy's weights (no proximity bonus) when it ranked none."""
    if s.get("rank"):
        top = p.get("criteria_points", 100.0)
        return {c: (top * (5 - s["rank"].index(c)) / 5 if c in s["rank"] else 0.0) for c in CRITERIA}
    return {"proximity": 0.0, "population": p.get("weight_population", 0.0),
            "superintendent": p.get("weight_superintendent", 0.0), "worked_together": p.get("weight_prior", 0.0),
            "named": p.get("weight_named", 0.0)}


def _criteria(m: dict[str, Any], h: dict[str, Any], p: dict[str, Any], d: float) -> float:
    reach = p.get("max_km") or 25.0
    known = [abs(m[c] - h[c]) for c in ("poverty",) if m.get(c) is not None and h.get(c) is not None]
    score = {"proximity": max(0.0, 1.0 - d / reach),
             "population": max(0.0, 1.0 - 10.0 * sum(known) / len(known)) if known else 0.0,
             "superintendent": float(bool(m.get("supt")) and m.get("supt") == h.get("supt")),
             "worked_together": 0.0,
             "named": float(h["id"] in m.get("named", ()) or m["id"] in h.get("named", ()))}
    pm, ph = _criterion_points(m, p), _criterion_points(h, p)
    return sum(score[c] * (pm[c] + ph[c]) / 2 for c in CRITERIA)


def _same_type(a: dict[str, Any], b: dict[str, Any]) -> bool:
    ta, tb = a.get("type", ""), b.get("type", "")
    return not ta or not tb or ta == tb


def _may_lead(h: dict[str, Any], p: dict[str, Any], peer: bool) -> bool:
    """h may lead some network: it applied to host with strengths (a peer: has needs), and its own capacity and
    years hosting allow the policy's smallest network."""
    if peer:
        return bool(h["needs"])
    if h["role"] not in ("host", "either") or not h["strengths"]:
        return False
    return _capacity(h, p, peer) >= _sizes(p, peer)[0]


def _sizes(p: dict[str, Any], peer: bool) -> tuple[int, int]:
    if peer:
        return p.get("peer_min_size", 3) - 1, p.get("peer_max_size", 4) - 1
    lo, hi = {"pair": (1, 1), "triad": (2, 2), "quad": (3, 3), "cohort": (4, 8)}[p.get("shape", "triad")]
    lo = p["min_partners"] if p.get("min_partners") is not None else lo
    hi = p["max_partners"] if p.get("max_partners") is not None else hi
    return lo, min(hi, p["host_capacity"]) if p.get("host_capacity") is not None else hi


def _capacity(h: dict[str, Any], p: dict[str, Any], peer: bool) -> int:
    """The most members h's network may have."""
    cap = _sizes(p, peer)[1]
    if not peer:
        if h.get("capacity"):  # the school's own host_capacity
            cap = min(cap, h["capacity"])
        if "hosted" in h and p.get("cohort_min_years_hosting", 1) > 0 and \
                h["hosted"] < p.get("cohort_min_years_hosting", 1):
            cap = min(cap, 3)  # cohorts of 4 or more go to experienced hosts
    return cap


def _allowed(m: dict[str, Any], h: dict[str, Any], p: dict[str, Any], peer: bool) -> bool:
    """Every rule about one member and one leader but the grade rules: roles, focus fit, distance, district, school
    type, principal, avoid and max_years."""
    if not m["needs"] or (not peer and m["role"] not in ("partner", "either")) or not _may_lead(h, p, peer):
        return False
    if p.get("require_focus_match", True) and not set(m["needs"]) & set(h["needs"] if peer else h["strengths"]):
        return False
    if p.get("max_km") is not None and km(m, h) > p["max_km"]:
        return False
    if (p.get("same_district") and m["district"] != h["district"]) or \
            (p.get("same_school_type") and not _same_type(m, h)):
        return False
    if m.get("new_principal") and not h.get("accepts_new_principal", True):
        return False
    if frozenset((m["id"], h["id"])) in {frozenset(x) for x in p.get("avoid", [])}:
        return False
    return not (p.get("max_years") is not None and m.get("last") and m.get("last") == h.get("last")
                and max(m.get("years", 0), h.get("years", 0)) >= p["max_years"])


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a["gmin"] <= b["gmax"] and b["gmin"] <= a["gmax"]


def _has_aligned_leader(m: dict[str, Any], schools: list[dict[str, Any]], p: dict[str, Any], peer: bool) -> bool:
    """require_same_where_possible: some leader serving one of m's grades is allowed for m (peers: an anchor
    earlier in the file, as every peer group's anchor is its first member)."""
    i = schools.index(m)
    return any(_allowed(m, h, p, peer) and _overlap(m, h) for j, h in enumerate(schools)
               if j != i and (j < i or not peer))


def _link(m: dict[str, Any], h: dict[str, Any], p: dict[str, Any], peer: bool,
          schools: list[dict[str, Any]]) -> tuple[float, float, bool] | None:
    """m joining h's network: (placement points, the other points, whether they share a grade), or None if a hard
    rule forbids it."""
    d = km(m, h)
    band = p.get("grade_band", "require_same_where_possible")
    if band == "require_same_where_possible" and not _overlap(m, h) and _has_aligned_leader(m, schools, p, peer):
        return None
    if p.get("max_km") is not None and d > p["max_km"]:
        return None
    if p.get("same_district") and m["district"] != h["district"]:
        return None
    if p.get("same_school_type") and not _same_type(m, h):
        return None
    overlap = _overlap(m, h)
    if band == "require_same" and not overlap:
        return None
    if m.get("new_principal") and not h.get("accepts_new_principal", True):
        return None
    theirs = h["needs"] if peer else h["strengths"]
    c = len(set(m["needs"]) & set(theirs))
    place = p.get("weight_placed", 1000.0) * (1.0 if p.get("require_focus_match", True) else 0.5)
    rest = (p.get("weight_cover", 100.0) * max(c - 1, 0)
            + (p.get("weight_grade", 30.0) if overlap and band not in ("align_first", "any") else 0.0)
            - p.get("weight_km", 1.0) * d + _criteria(m, h, p, d))
    # the model rounds each link's whole weight, and its placement part, to whole points
    return float(round(place)), float(round(place + rest) - round(place)), overlap


def _key(p: dict[str, Any], place: float, aligned: int, rest: float) -> tuple[float, ...]:
    """What is maximized: lexicographic (placement, aligned partners, the rest) under align_first, else the sum."""
    return (place, aligned, rest) if p.get("grade_band") == "align_first" else (place + rest,)


def block_value(block: list[int], schools: list[dict[str, Any]], p: dict[str, Any]) -> tuple[float, ...] | None:
    """The best value of one network made of these schools (None if no leader and focus make it valid)."""
    peer = p.get("mode", "host") == "peer"
    lo, _ = _sizes(p, peer)
    if not lo <= len(block) - 1:
        return None
    avoid = {frozenset(x) for x in p.get("avoid", [])}
    ids = [schools[i]["id"] for i in block]
    if any(frozenset((a, b)) in avoid for a in ids for b in ids if a != b):
        return None
    if p.get("max_years") is not None:  # old network-mates past the limit may not meet again
        for a in block:
            for b in block:
                A, B = schools[a], schools[b]
                if a != b and A.get("last") and A.get("last") == B.get("last") and \
                        max(A.get("years", 0), B.get("years", 0)) >= p["max_years"]:
                    return None
    if peer:  # peers meet each other: distance, district, type and grade rules hold between every two of them
        for a in block:
            for b in block:
                A, B = schools[a], schools[b]
                if a < b and ((p.get("max_km") is not None and km(A, B) > p["max_km"]) or
                              (p.get("same_district") and A["district"] != B["district"]) or
                              (p.get("same_school_type") and not _same_type(A, B)) or
                              (p.get("grade_band") == "require_same" and
                               not (A["gmin"] <= B["gmax"] and B["gmin"] <= A["gmax"]))):
                    return None
    best = None
    leaders = [min(block)] if peer else block
    for h in leaders:
        H = schools[h]
        cap = _capacity(H, p, peer)
        if len(block) - 1 > cap:
            continue
        if peer:
            if not H["needs"]:
                continue
            focuses = H["needs"]
        else:
            if H["role"] not in ("host", "either") or not H["strengths"]:
                continue
            focuses = H["strengths"]
        members = [schools[i] for i in block if i != h]
        if any(not M["needs"] or (not peer and M["role"] not in ("partner", "either")) for M in members):
            continue
        for f in focuses:
            place, aligned, rest = p.get("weight_placed", 1000.0), 0, 0.0
            ok = True
            for M in members:
                fits = [g for g in (H["needs"] if peer else H["strengths"]) if g in M["needs"]]
                if p.get("require_focus_match", True) and (f not in M["needs"] or not fits):
                    ok = False
                    break
                w = _link(M, H, p, peer, schools)
                if w is None:
                    ok = False
                    break
                place += w[0]
                rest += w[1]
                aligned += w[2]
                if not p.get("require_focus_match", True) and f in M["needs"]:
                    place += round(p.get("weight_placed", 1000.0) / 2)
            value = _key(p, place, aligned, rest)
            if ok and (best is None or value > best):
                best = value
    return best


def best_networks(schools: list[dict[str, Any]], p: dict[str, Any]) -> tuple[float, ...] | None:
    """The optimum of the network objective over every partition of the schools (None: no valid partition): a
    1-tuple (the weighted sum), or (placement, aligned partners, the other points) under align_first."""
    best: tuple[float, ...] | None = None
    cache: dict[tuple[int, ...], tuple[float, ...] | None] = {}
    by_id = {s["id"]: i for i, s in enumerate(schools)}
    groups = [{i for i, s in enumerate(schools) if s.get("last") and s["last"] == schools[by_id[x]]["last"]}
              for x in p.get("stay", [])]
    for part in partitions(list(range(len(schools)))):
        total, n_networks, ok = _key(p, 0.0, 0, 0.0), 0, True
        for g in groups:  # each stay group inside one block that is a network
            block = next(b for b in part if next(iter(g)) in b)
            if not g <= set(block) or len(block) == 1:
                ok = False
        for block in part:
            if len(block) == 1 or not ok:
                continue
            key = tuple(block)
            if key not in cache:
                cache[key] = block_value(block, schools, p)
            v = cache[key]
            if v is None:
                ok = False
                break
            total = tuple(a + b for a, b in zip(total, v, strict=True))
            n_networks += 1
        if ok and (p.get("max_networks") is None or n_networks <= p["max_networks"]):
            best = total if best is None else max(best, total)
    return best
