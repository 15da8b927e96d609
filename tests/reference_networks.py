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


def _link(m: dict[str, Any], h: dict[str, Any], p: dict[str, Any], peer: bool) -> float | None:
    """The points of m joining h's network, or None if a hard rule forbids it."""
    d = km(m, h)
    if p.get("max_km") is not None and d > p["max_km"]:
        return None
    if p.get("same_district") and m["district"] != h["district"]:
        return None
    overlap = m["gmin"] <= h["gmax"] and h["gmin"] <= m["gmax"]
    if p.get("grade_band", "prefer_same") == "require_same" and not overlap:
        return None
    if m.get("new_principal") and not h.get("accepts_new_principal", True):
        return None
    theirs = h["needs"] if peer else h["strengths"]
    c = len(set(m["needs"]) & set(theirs))
    w = (p.get("weight_placed", 1000.0) * (1.0 if p.get("require_focus_match", True) else 0.5)
         + p.get("weight_cover", 100.0) * max(c - 1, 0)
         + (p.get("weight_grade", 30.0) if overlap and p.get("grade_band", "prefer_same") != "any" else 0.0)
         - p.get("weight_km", 1.0) * d)
    return float(round(w))


def block_value(block: list[int], schools: list[dict[str, Any]], p: dict[str, Any]) -> float | None:
    """The best value of one network made of these schools (None if no leader and focus make it valid)."""
    peer = p.get("mode", "host") == "peer"
    shapes = {"pair": (1, 1), "triad": (2, 2), "quad": (3, 3), "cohort": (4, 8)}
    if peer:
        lo, hi = p.get("peer_min_size", 3) - 1, p.get("peer_max_size", 4) - 1
    else:
        lo, hi = shapes[p.get("shape", "triad")]
        lo = p["min_partners"] if p.get("min_partners") is not None else lo
        hi = p["max_partners"] if p.get("max_partners") is not None else hi
        hi = min(hi, p["host_capacity"]) if p.get("host_capacity") is not None else hi
    if not lo <= len(block) - 1 <= hi:
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
    if peer:  # peers meet each other: distance, district and grade rules hold between every two of them
        for a in block:
            for b in block:
                A, B = schools[a], schools[b]
                if a < b and ((p.get("max_km") is not None and km(A, B) > p["max_km"]) or
                              (p.get("same_district") and A["district"] != B["district"]) or
                              (p.get("grade_band", "prefer_same") == "require_same" and
                               not (A["gmin"] <= B["gmax"] and B["gmin"] <= A["gmax"]))):
                    return None
    best = None
    leaders = [min(block)] if peer else block
    for h in leaders:
        H = schools[h]
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
            total = p.get("weight_placed", 1000.0)
            ok = True
            for M in members:
                fits = [g for g in (H["needs"] if peer else H["strengths"]) if g in M["needs"]]
                if p.get("require_focus_match", True) and (f not in M["needs"] or not fits):
                    ok = False
                    break
                w = _link(M, H, p, peer)
                if w is None:
                    ok = False
                    break
                total += w
                if not p.get("require_focus_match", True) and f in M["needs"]:
                    total += round(p.get("weight_placed", 1000.0) / 2)
            if ok and (best is None or total > best):
                best = total
    return best


def best_networks(schools: list[dict[str, Any]], p: dict[str, Any]) -> float | None:
    """The optimum of the network objective over every partition of the schools (None: no valid partition)."""
    best: float | None = None
    cache: dict[tuple[int, ...], float | None] = {}
    by_id = {s["id"]: i for i, s in enumerate(schools)}
    groups = [{i for i, s in enumerate(schools) if s.get("last") and s["last"] == schools[by_id[x]]["last"]}
              for x in p.get("stay", [])]
    for part in partitions(list(range(len(schools)))):
        total, n_networks, ok = 0.0, 0, True
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
            total += v
            n_networks += 1
        if ok and (p.get("max_networks") is None or n_networks <= p["max_networks"]):
            best = total if best is None else max(best, total)
    return best
