"""Encode schools and a network policy as arrays: who may host, who may join whom, and what each link is worth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError, Problem
from ..io.schools import CRITERIA, SchoolTable
from .policy import NetworkPolicy

SCALE = 1  # weights are rounded to whole points


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


@dataclass(frozen=True)
class Links:
    """Candidate links u -> v (u joins the network led by v: a partner and its host, or a peer and its group's
    anchor), with everything the solver and the explanations need, as arrays."""

    leader_ok: np.ndarray  # bool per school: may lead (host, or peer anchor)
    member_ok: np.ndarray  # bool per school: may join
    u: np.ndarray  # member
    v: np.ndarray  # leader
    weight: np.ndarray  # int points for the link
    km: np.ndarray
    focus: tuple[tuple[str, ...], ...]  # per link: the focus areas that could be the network's and fit the member
    leader_focus: tuple[tuple[str, ...], ...]  # per school: the focus areas a network it leads may take
    leader_weight: np.ndarray  # int points for leading a network
    ruled_out: dict[int, str]  # member -> why it has no link at all
    capacity: np.ndarray  # int per school: the most members a network it leads may have
    place: np.ndarray  # int per link: the part of weight that counts a placement (the first lexicographic level)
    aligned: np.ndarray  # bool per link: member and leader share a served grade
    cannot_lead: dict[int, str]  # would-be leader -> why it may not lead (its capacity, or years hosting)
    set_aside: int = 0  # links left out by require_same_where_possible (a member had a host serving its grades)
    avoid: tuple[tuple[int, int], ...] = ()  # never in one network (the avoid list, and max_years)
    together: tuple[tuple[int, ...], ...] = ()  # each group placed, all in one network (stay)


def _overlap(t: SchoolTable, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (t.grade_min[a] <= t.grade_max[b]) & (t.grade_min[b] <= t.grade_max[a])


def _same_type(t: SchoolTable, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Same school type, or either type unknown (a blank never blocks)."""
    if t.school_type is None:
        return np.ones(len(a), bool)
    ta, tb = t.school_type[a], t.school_type[b]
    return (ta == tb) | (ta == "") | (tb == "")


PROXIMITY_KM = 25.0  # a ranked "proximity" scores 1 at 0 km, falling to 0 at max_km (or this, without max_km)


def criteria_weights(t: SchoolTable, policy: NetworkPolicy) -> np.ndarray:
    """Points per unit of each criterion (CRITERIA order), per school: the policy's weights, or for a school that
    ranked the criteria, criteria_points x (6 - k) / 5 for its k-th (0 for one it left out)."""
    n, k_all = len(t), len(CRITERIA)
    glob = np.array([0.0, policy.weight_population, policy.weight_superintendent, policy.weight_prior,
                     policy.weight_named])
    out = np.tile(glob, (n, 1))
    for i, ranked in enumerate(t.criteria_rank or ()):
        if ranked:
            out[i] = 0.0
            for k, c in enumerate(ranked):
                out[i, CRITERIA.index(c)] = policy.criteria_points * (k_all - k) / k_all
    return out


def _similarity(t: SchoolTable, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    diffs = np.vstack([np.abs(getattr(t, c)[a] - getattr(t, c)[b]) for c in ("pct_poverty", "pct_ell", "pct_swd")])
    known = (~np.isnan(diffs)).sum(axis=0)
    mean = np.where(known > 0, np.nansum(diffs, axis=0) / np.maximum(known, 1), np.nan)
    return np.where(np.isnan(mean), 0.0, np.clip(1.0 - 10.0 * mean, 0.0, 1.0))  # unknown shares: no bonus


# Schools one network run may form networks among. Every pair of schools is a candidate link before the filters, so
# memory and time grow with the square: the statewide file (1,800 schools) takes about 0.5 GB; 7,200 took 2.4 GB
# and 36,000 (a 7 MB file) was killed at 24 GB, which an upload must not be able to do to the server.
MAX_SCHOOLS = 2_000


def build_links(t: SchoolTable, policy: NetworkPolicy) -> Links:
    n = len(t)
    if n > MAX_SCHOOLS:
        raise InputError([Problem(t.source or "schools", f"{n:,} schools; networks are formed among at most "
                                                         f"{MAX_SCHOOLS:,} at a time (split the file by region or "
                                                         "district)", column="school_id")])
    index = {s: i for i, s in enumerate(t.school_id.tolist())}
    problems = [Problem("policy", "not a school in the schools file", column="avoid", value=s)
                for pr in policy.avoid for s in pr if s not in index]
    last = t.last_network if t.last_network is not None else np.full(n, "", dtype=object)
    years = t.years_in_network if t.years_in_network is not None else np.zeros(n, dtype=np.int64)
    for s in policy.stay:
        if s not in index:
            problems.append(Problem("policy", "not a school in the schools file", column="stay", value=s))
        elif not last[index[s]]:
            problems.append(Problem("policy", "has no last_network in the schools file to stay with", column="stay",
                                    value=s))
    if problems:
        raise InputError(problems)
    avoid = {frozenset((index[a], index[b])) for a, b in policy.avoid}
    if policy.max_years is not None:
        for a in range(n):
            for b in range(a + 1, n):
                if last[a] and last[a] == last[b] and max(years[a], years[b]) >= policy.max_years:
                    avoid.add(frozenset((a, b)))
    together = sorted({tuple(int(i) for i in np.flatnonzero(last == last[index[s]])) for s in policy.stay})
    peer = policy.mode == "peer"
    has_s = np.array([bool(s) for s in t.strengths])
    has_n = np.array([bool(s) for s in t.needs])
    if peer:
        leader_ok = member_ok = has_n
        leader_focus = tuple(tuple(x) for x in t.needs)
    else:
        leader_ok = np.isin(t.role, ("host", "either")) & has_s
        member_ok = np.isin(t.role, ("partner", "either")) & has_n
        leader_focus = tuple(tuple(x) for x in t.strengths)
    lo, hi = policy.bounds() if not peer else (policy.peer_min_size - 1, policy.peer_max_size - 1)
    capacity = np.full(n, min(policy.capacity(), hi) if not peer else hi, dtype=np.int64)
    cannot_lead: dict[int, str] = {}
    if not peer and t.host_capacity is not None:
        own = t.host_capacity > 0
        capacity = np.where(own, np.minimum(capacity, t.host_capacity), capacity)
        for i in np.flatnonzero(leader_ok & own & (capacity < max(lo, 1))):
            cannot_lead[int(i)] = (f"can take {int(t.host_capacity[i])} partner(s) as a host (host_capacity), "
                                   f"fewer than the {lo} a network needs")
    if not peer and t.years_hosting is not None and policy.cohort_min_years_hosting > 0:
        new = t.years_hosting < policy.cohort_min_years_hosting
        capacity = np.where(new, np.minimum(capacity, 3), capacity)
        for i in np.flatnonzero(leader_ok & new & (capacity < max(lo, 1))):
            cannot_lead.setdefault(int(i), f"has hosted {int(t.years_hosting[i])} year(s); cohorts of 4 or more "
                                           f"partners go to hosts with at least {policy.cohort_min_years_hosting} "
                                           "year(s) of hosting")
    leader_ok = leader_ok & (capacity >= max(lo, 1))
    uu, vv = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    uu, vv = uu.ravel(), vv.ravel()
    keep = (uu != vv) & member_ok[uu] & leader_ok[vv]
    if peer:
        keep &= uu > vv  # a group's anchor is its first member in file order
    reasons = {"distance": np.zeros(n, bool), "district": np.zeros(n, bool), "grades": np.zeros(n, bool),
               "focus": np.zeros(n, bool), "principal": np.zeros(n, bool), "school_type": np.zeros(n, bool)}
    uu, vv = uu[keep], vv[keep]
    km = haversine_km(t.latitude[uu], t.longitude[uu], t.latitude[vv], t.longitude[vv])
    ok = np.ones(len(uu), bool)
    for _why, bad in (("distance", km > policy.max_km if policy.max_km is not None else np.zeros(len(uu), bool)),
                     ("district", (t.district_id[uu] != t.district_id[vv]) if policy.same_district
                      else np.zeros(len(uu), bool)),
                     ("grades", ~_overlap(t, uu, vv) if policy.grade_band == "require_same"
                      else np.zeros(len(uu), bool)),
                     ("principal", t.new_principal[uu] & ~t.accepts_new_principal[vv]),
                     ("school_type", ~_same_type(t, uu, vv) if policy.same_school_type
                      else np.zeros(len(uu), bool))):
        ok &= ~bad
    # Focus areas as bitmasks, so the fit test is one vectorized AND over every candidate pair.
    bit = {f: 1 << j for j, f in enumerate(sorted({f for x in (*t.needs, *leader_focus) for f in x}))}
    need_mask = np.array([sum(bit[f] for f in x) for x in t.needs], dtype=object).astype(np.int64) \
        if len(bit) < 63 else None
    lead_mask = np.array([sum(bit[f] for f in x) for x in leader_focus], dtype=object).astype(np.int64) \
        if len(bit) < 63 else None
    if need_mask is not None and lead_mask is not None:
        fits_any = (need_mask[uu] & lead_mask[vv]) != 0
    else:  # more focus areas than bits: the plain way
        fits_any = np.array([any(f in t.needs[a] for f in leader_focus[b])
                             for a, b in zip(uu.tolist(), vv.tolist(), strict=True)], dtype=bool)
    if policy.require_focus_match:
        ok &= fits_any
    if avoid:
        codes = uu.astype(np.int64) * n + vv
        banned = np.array([a * n + b for pr in avoid for a in pr for b in pr if a != b], dtype=np.int64)
        ok &= ~np.isin(codes, banned)
    # Why a member has no link: the first filter that removed its last candidate leader.
    no_link = member_ok & (np.bincount(uu[ok], minlength=n) == 0)
    if no_link.any():
        none = np.zeros(len(uu), bool)
        filters = (("focus", ~fits_any if policy.require_focus_match else none),
                   ("grades", ~_overlap(t, uu, vv) if policy.grade_band == "require_same" else none),
                   ("district", (t.district_id[uu] != t.district_id[vv]) if policy.same_district else none),
                   ("distance", km > policy.max_km if policy.max_km is not None else none),
                   ("principal", t.new_principal[uu] & ~t.accepts_new_principal[vv]),
                   ("school_type", ~_same_type(t, uu, vv) if policy.same_school_type else none))
        order = np.argsort(uu, kind="stable")
        bounds = np.searchsorted(uu[order], np.arange(n + 1))
        for i in np.flatnonzero(no_link):
            mine = order[bounds[i]:bounds[i + 1]]
            cand = np.ones(len(mine), bool)
            for why, bad in filters:
                if cand.any() and not (cand & ~bad[mine]).any():
                    reasons[why][i] = True
                    break
                cand &= ~bad[mine]
    set_aside = 0
    if policy.grade_band == "require_same_where_possible":
        # a member with a host (or anchor) serving one of its grades within every other rule keeps only those
        aligned_ok = ok & _overlap(t, uu, vv)
        has_aligned = np.bincount(uu[aligned_ok], minlength=n) > 0
        drop = ok & ~aligned_ok & has_aligned[uu]
        set_aside = int(drop.sum())
        ok &= ~drop
    uu, vv, km = uu[ok], vv[ok], km[ok]
    fits = tuple(tuple(f for f in leader_focus[b] if f in t.needs[a]) for a, b in zip(uu.tolist(), vv.tolist(),
                                                                                      strict=True))
    peer_cover = [len(set(t.needs[a]) & set(t.needs[b])) for a, b in zip(uu.tolist(), vv.tolist(), strict=True)]
    cover = np.array(peer_cover if peer else [len(set(t.needs[a]) & set(t.strengths[b]))
                                              for a, b in zip(uu.tolist(), vv.tolist(), strict=True)], dtype=float)
    same_supt = (t.superintendent[uu] == t.superintendent[vv]) & (t.superintendent[uu] != "")
    prior = np.array([t.school_id[b] in t.prior_partners[a] or t.school_id[a] in t.prior_partners[b]
                      for a, b in zip(uu.tolist(), vv.tolist(), strict=True)], dtype=float)
    named_sets = t.named_schools if t.named_schools is not None else tuple(frozenset() for _ in range(n))
    named = np.array([t.school_id[b] in named_sets[a] or t.school_id[a] in named_sets[b]
                      for a, b in zip(uu.tolist(), vv.tolist(), strict=True)], dtype=float)
    aligned = _overlap(t, uu, vv)
    reach = policy.max_km if policy.max_km else PROXIMITY_KM
    scores = np.vstack([np.clip(1.0 - km / reach, 0.0, 1.0), _similarity(t, uu, vv), same_supt, prior, named])
    per_school = criteria_weights(t, policy)
    place = np.full(len(uu), policy.weight_placed * (1.0 if policy.require_focus_match else 0.5))
    w = (place
         + policy.weight_cover * np.maximum(cover - 1, 0)
         # align_first puts alignment in a level of its own (solve.py); prefer_same trades it against the rest
         + policy.weight_grade * (aligned if policy.grade_band not in ("align_first", "any") else 0)
         - policy.weight_km * km
         + ((per_school[uu] + per_school[vv]).T * scores).sum(axis=0) / 2)
    ruled = {}
    words = {"focus": "no host within the rules is strong in any of its needs" if not peer
             else "no other school within the rules shares one of its needs",
             "grades": "no host that fits its needs serves any of its grades",
             "district": "no host that fits its needs is in its district",
             "distance": f"no host that fits its needs is within {policy.max_km:g} km" if policy.max_km else "",
             "principal": "the hosts that fit its needs do not take a school with a new principal",
             "school_type": "no host that fits its needs is of its school type"}
    for why, mask in reasons.items():
        for i in np.flatnonzero(mask):
            ruled[int(i)] = words[why]
    return Links(leader_ok=leader_ok, member_ok=member_ok, u=uu.astype(np.int64), v=vv.astype(np.int64),
                 weight=np.rint(w).astype(np.int64), km=km, focus=fits, leader_focus=leader_focus,
                 leader_weight=np.full(n, int(round(policy.weight_placed)), dtype=np.int64), ruled_out=ruled,
                 capacity=capacity, place=np.rint(place).astype(np.int64), aligned=aligned.astype(bool),
                 cannot_lead=cannot_lead, set_aside=set_aside, avoid=tuple(sorted(tuple(sorted(p)) for p in avoid)),
                 together=tuple(together))
