"""What form_networks() returns: the networks (leader, members, focus) and the schools left out, with the inputs
they were formed from. A module of its own so that the solver and the explanations both import it, not each
other."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..io.schools import SchoolTable
from .model import Links
from .policy import NetworkPolicy


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
