"""Decode: why each school is in its network and in its role, pods of large cohorts, and why others are left out.

Schools are named the way people know them: an explanation names another school "Oak Creek Elementary School
(S0003)" the first time and by its name after that (the id alone when the file gave no name); a school's own name
and id stand in their own columns beside the explanation."""

from __future__ import annotations

from ..focus import focus_label
from ..io.schools import SchoolTable
from .model import Links, haversine_km
from .policy import NetworkPolicy
from .result import Network, NetworkResult


def school_name(t: SchoolTable, i: int) -> str:
    """The school's name as the file gives it ("" when blank)."""
    return str(t.name[i])


def school_label(t: SchoolTable, i: int) -> str:
    """"Oak Creek Elementary School (S0003)": the name with the id, since two schools may share a name."""
    name = school_name(t, i)
    return f"{name} ({t.school_id[i]})" if name else str(t.school_id[i])


def _short(t: SchoolTable, i: int) -> str:
    """A school already introduced by its label: its name alone (the id when it has none)."""
    return school_name(t, i) or str(t.school_id[i])


def _grades(t: SchoolTable, i: int) -> str:
    def g(x: int) -> str:
        return {-1: "PK", 0: "K"}.get(int(x), str(int(x)))
    lo, hi = t.grade_min[i], t.grade_max[i]
    return f"grade {g(lo)}" if lo == hi else f"grades {g(lo)}-{g(hi)}"


def band(t: SchoolTable, i: int) -> str:
    lo, hi = int(t.grade_min[i]), int(t.grade_max[i])
    if hi <= 5:
        return "elementary"
    if lo >= 9:
        return "high"
    if lo >= 6 and hi <= 8:
        return "middle"
    return "elementary" if lo <= 5 and hi <= 8 else "middle" if lo <= 8 else "high"


def pods(t: SchoolTable, policy: NetworkPolicy, net: Network) -> dict[int, str]:
    """Cohorts of 4 or more partners meet in pods by grade band (a band with one school joins the largest)."""
    if policy.mode != "host" or len(net.members) < 4 or policy.pods_by == "none":
        return {}
    by: dict[str, list[int]] = {}
    for m in net.members:
        by.setdefault(band(t, m), []).append(m)
    biggest = max(by, key=lambda b: len(by[b]))
    out = {}
    for b, ms in by.items():
        for m in ms:
            out[m] = f"{b if len(ms) >= 2 else biggest}"
    return out


def explain_network(t: SchoolTable, policy: NetworkPolicy, net: Network) -> dict[int, str]:
    """school -> why it is in this network and in this role."""
    f, h = net.focus, net.leader
    lf = focus_label(f)
    out = {}
    if policy.mode == "host":
        why_host = "applied as host" if t.role[h] == "host" else "applied as either and was chosen to host"
        others = [s for s in t.strengths[h] if s != f]
        out[h] = (f"host for {lf}: {why_host}; {lf} is one of its strengths"
                  + (f" (also {', '.join(focus_label(o) for o in others)})" if others else "")
                  + f"; {len(net.members)} partner(s) who need {lf}: "
                  + ", ".join(school_label(t, m) for m in net.members) + _host_inputs(t, h))
    else:
        out[h] = (f"peer group on {lf}, a need it shares with " + ", ".join(school_label(t, m) for m in net.members))
    lead, short = school_label(t, h), _short(t, h)
    for m in net.members:
        km = float(haversine_km(t.latitude[m], t.longitude[m], t.latitude[h], t.longitude[h]))
        if policy.mode == "host":
            covered = [s for s in t.needs[m] if s in t.strengths[h]]
            role = "applied as partner" if t.role[m] == "partner" else "applied as either; joins as a partner"
            text = (f"partner of {lead} for {lf}: {role}; needs "
                    + ", ".join(focus_label(c) for c in covered) + f", which {short} has as strength"
                    + ("s" if len(covered) > 1 else ""))
        else:
            shared = [s for s in t.needs[m] if s in t.needs[h]]
            text = f"peer of {lead} on {lf}: both need " + ", ".join(focus_label(c) for c in shared)
        same = (t.grade_min[m] <= t.grade_max[h]) and (t.grade_min[h] <= t.grade_max[m])
        text += (f"; {km:.1f} km apart; serves {_grades(t, m)}, {short} {_grades(t, h)}"
                 + (" (overlapping)" if same else " (no grade in common)"))
        if t.district_id[m] == t.district_id[h]:
            text += "; same district"
        if t.school_id[h] in t.prior_partners[m] or t.school_id[m] in t.prior_partners[h]:
            text += "; worked together before"
        named = t.named_schools or ()
        if named and (t.school_id[h] in named[m] or t.school_id[m] in named[h]):
            text += "; asked to work together"
        if t.school_type is not None and t.school_type[m] and t.school_type[m] == t.school_type[h]:
            text += f"; both {t.school_type[m]} schools"
        if t.criteria_rank is not None and t.criteria_rank[m]:
            text += f"; it ranked {_ranked(t.criteria_rank[m])}"
        out[m] = text
    return out


_CRITERION_WORDS = {"proximity": "proximity", "population": "a similar student population",
                    "superintendent": "the same superintendent", "worked_together": "having worked together",
                    "named": "schools it named"}


def _ranked(ranks: tuple[str, ...]) -> str:
    """"proximity first, then a similar student population" (the first two of a school's ranked criteria)."""
    words = [_CRITERION_WORDS[c] for c in ranks]
    return f"{words[0]} first" + (f", then {words[1]}" if len(words) > 1 else "")


def _host_inputs(t: SchoolTable, h: int) -> str:
    """What a host told the program about itself: how many partners it can take, and its years hosting."""
    out = ""
    if t.host_capacity is not None and t.host_capacity[h]:
        out += f"; it can take {int(t.host_capacity[h])} partner(s)"
    if t.years_hosting is not None and t.years_hosting[h]:
        out += f"; it has hosted {int(t.years_hosting[h])} year(s) before"
    return out


def left_out_reasons(t: SchoolTable, policy: NetworkPolicy, links: Links, networks: tuple[Network, ...]
                     ) -> dict[int, str]:
    placed = {net.leader for net in networks} | {m for net in networks for m in net.members}
    out = {}
    for i in range(len(t)):
        if i in placed:
            continue
        if i in links.cannot_lead and not links.member_ok[i]:
            out[i] = f"applied as host; it {links.cannot_lead[i]}"
        elif policy.mode == "host" and not links.member_ok[i] and not links.leader_ok[i]:
            out[i] = "applied as host with no strengths or as partner with no needs"
        elif not links.member_ok[i] and links.leader_ok[i]:
            out[i] = ("applied as host; not needed: the partners within reach were better served by other hosts, "
                      "or too few of them share one of its strengths")
        elif i in links.ruled_out and not links.leader_ok[i]:
            out[i] = links.ruled_out[i]
        elif i in links.ruled_out:
            out[i] = links.ruled_out[i] + "; and too few schools within reach to lead a network of its own"
        else:
            lo = policy.bounds()[0] if policy.mode == "host" else policy.peer_min_size - 1
            out[i] = ("every network it could join is full with schools that fit better, or would stay below "
                      f"{lo} member(s) with it" + ("" if policy.max_networks is None else
                                                   f" (at most {policy.max_networks} networks)"))
    return out


def rows(result: NetworkResult) -> list[tuple[str, str, str, str, str, str, str]]:
    """networks.csv rows: network_id, school_id, school_name, role, pod, focus_area, explanation."""
    t, p = result.schools, result.policy
    out = []
    for net in result.networks:
        why = explain_network(t, p, net)
        pod = pods(t, p, net)
        lead_role = "host" if p.mode == "host" else "peer"
        out.append((net.network_id, str(t.school_id[net.leader]), school_name(t, net.leader), lead_role, "",
                    net.focus, why[net.leader]))
        for m in net.members:
            out.append((net.network_id, str(t.school_id[m]), school_name(t, m),
                        "partner" if p.mode == "host" else "peer", pod.get(m, ""), net.focus, why[m]))
    return out


def left_out_rows(result: NetworkResult) -> list[tuple[str, str, str]]:
    """unassigned.csv rows, by school id: school_id, school_name, reason."""
    t = result.schools
    return sorted((str(t.school_id[i]), school_name(t, i), why) for i, why in result.left_out.items())
