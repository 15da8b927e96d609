"""Re-form one network and keep the others: its schools (minus any that leave) and the schools left out are
solved again under the policy, with the other networks untouched."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import InputError, Problem
from ..io.schools import SchoolTable
from .policy import NetworkPolicy
from .solve import Network, form_networks


@dataclass(frozen=True)
class NetworkChange:
    kept: tuple[Network, ...]  # untouched networks
    formed: tuple[Network, ...]  # the re-formed network(s), on the full table's school indices
    left_out: dict[int, str]
    optimal: bool
    gap: float


def rematch_network(t: SchoolTable, policy: NetworkPolicy, current: Sequence[Network], network_id: str, *,
                    remove: Sequence[str] = (), avoid: Sequence[tuple[str, str]] = ()) -> NetworkChange:
    index = {s: i for i, s in enumerate(t.school_id.tolist())}
    target = next((n for n in current if n.network_id == network_id), None)
    problems = []
    if target is None:
        problems.append(Problem("request", "no such network in this revision", column="network_id",
                                value=network_id))
    placed = {i for n in current for i in (n.leader, *n.members)}
    mine = {target.leader, *target.members} if target else set()
    for s in remove:
        if s not in index or index[s] not in mine:
            problems.append(Problem("request", "not a school of this network", column="remove", value=s))
    for pr in avoid:
        for s in pr:
            if s not in index:
                problems.append(Problem("request", "not a school in the schools file", column="avoid", value=s))
    if problems:
        raise InputError(problems)
    gone = {index[s] for s in remove}
    pool = sorted((mine | (set(range(len(t))) - placed)) - gone)
    kept = tuple(n for n in current if n.network_id != network_id)
    limit = None if policy.max_networks is None else max(0, policy.max_networks - len(kept))
    sub_policy = policy.replace(avoid=tuple(policy.avoid) + tuple(tuple(p) for p in avoid), max_networks=limit,
                                stay=tuple(s for s in policy.stay if s in index and index[s] in pool))
    sub = form_networks(t.subset(pool), sub_policy) if pool else None
    used = {n.network_id for n in kept}
    fresh = (f"{network_id}" if k == 0 else f"{network_id}-{k + 1}" for k in range(len(pool) + 1))
    formed = []
    for n in (sub.networks if sub else ()):
        nid = next(x for x in fresh if x not in used)
        used.add(nid)
        formed.append(Network(nid, pool[n.leader], tuple(pool[m] for m in n.members), n.focus))
    left = {pool[i]: why for i, why in (sub.left_out.items() if sub else ())}
    for i in gone:
        left[i] = "left the network at the district office's request"
    return NetworkChange(kept, tuple(formed), left, bool(sub.summary["optimal"]) if sub else True,
                         float(sub.summary["gap"]) if sub else 0.0)
