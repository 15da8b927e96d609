"""The network policy: shape and size bounds, hard rules, and the weights of the objective's terms."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal

from ..config_files import read_settings
from ..errors import InputError, Problem

Shape = Literal["pair", "triad", "quad", "cohort"]
SHAPES: dict[str, tuple[int, int]] = {"pair": (1, 1), "triad": (2, 2), "quad": (3, 3), "cohort": (4, 8)}
# require_same_where_possible (the default): a partner joins only a host that serves one of its grades (a peer: an
# anchor) whenever any host within the other rules does; one with none may join any host. Then weight_grade points
# per aligned partner, as prefer_same, which trades alignment against the other weights; require_same makes it a
# hard rule; align_first is lexicographic and exact: as many schools placed as possible, then as many partners as
# possible sharing a grade with their host, then the weights (three solves; slower on dense cities).
Band = Literal["require_same_where_possible", "prefer_same", "require_same", "align_first", "any"]


@dataclass(frozen=True)
class NetworkPolicy:
    mode: Literal["host", "peer"] = "host"
    shape: Shape = "triad"
    min_partners: int | None = None  # default: the shape's
    max_partners: int | None = None
    host_capacity: int | None = None  # partners one host can hold (default: max_partners)
    max_networks: int | None = None
    peer_min_size: int = 3
    peer_max_size: int = 4
    require_focus_match: bool = True  # a partner joins only a network whose focus is one of its needs
    grade_band: Band = "require_same_where_possible"
    max_km: float | None = None
    same_district: bool = False
    same_school_type: bool = False  # a partner joins only a host of its school_type (blank types match any)
    # Cohorts of 4 or more partners go to hosts that have hosted at least this many years (the schools file's
    # years_hosting; the rule holds only when the file has that column; 0 turns it off).
    cohort_min_years_hosting: int = 1
    avoid: tuple[tuple[str, str], ...] = ()
    # Schools that must stay with last year's network (the schools file's last_network column): each is placed,
    # together with every other applicant of its old network.
    stay: tuple[str, ...] = ()
    max_years: int | None = None  # schools this many years in one network may not be together again
    # Weights (points per placed school, per extra need covered, ...); focus alignment dominates by default.
    weight_placed: float = 1000.0
    weight_cover: float = 100.0
    weight_grade: float = 30.0
    weight_km: float = 1.0  # points lost per km between a partner and its host
    weight_population: float = 0.0  # per unit of similarity (1 - mean |share difference| x 10)
    weight_superintendent: float = 0.0
    weight_prior: float = 0.0
    weight_named: float = 0.0  # when either school named the other (the schools file's named_schools)
    # A school that ranks the year-one criteria (the schools file's criteria_rank) sets its own weights in place of
    # weight_population, weight_superintendent, weight_prior and weight_named (and gains a proximity bonus): its
    # k-th criterion of 5 is worth criteria_points x (6 - k) / 5, an unranked one 0; a link counts each of its two
    # schools' weights half (model.criteria_weights).
    criteria_points: float = 100.0
    focus_areas: tuple[str, ...] = ()  # a program's own list (default: the bundled taxonomies)
    time_limit_seconds: float = 60.0
    # CP-SAT search threads. 8 on a 2-core machine: its 8-thread portfolio includes the complete LP-based searches
    # that prove optimality; with 2 to 4 threads a 14-school case without the focus rule stayed unproven for 60 s.
    workers: int = 8
    pods_by: Literal["grade_band", "none"] = "grade_band"

    def bounds(self) -> tuple[int, int]:
        lo, hi = SHAPES[self.shape]
        return (self.min_partners if self.min_partners is not None else lo,
                self.max_partners if self.max_partners is not None else hi)

    def capacity(self) -> int:
        return self.host_capacity if self.host_capacity is not None else self.bounds()[1]

    def replace(self, **changes: Any) -> NetworkPolicy:
        return replace(self, **changes)


_FIELDS = {f.name: f for f in fields(NetworkPolicy)}
_CHOICES = {"mode": ("host", "peer"), "shape": tuple(SHAPES),
            "grade_band": ("require_same_where_possible", "prefer_same", "require_same", "align_first", "any"),
            "pods_by": ("grade_band", "none")}


def network_policy_from_dict(data: dict[str, Any], source: str = "policy") -> NetworkPolicy:
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in _FIELDS:
            problems.append(Problem(source, f"unknown setting; known settings: {', '.join(_FIELDS)}", column=key,
                                    value=repr(value)))
        elif key in _CHOICES:
            if value not in _CHOICES[key]:
                problems.append(Problem(source, f"must be one of {', '.join(_CHOICES[key])}", column=key,
                                        value=repr(value)))
            else:
                values[key] = value
        elif key in ("require_focus_match", "same_district", "same_school_type"):
            if not isinstance(value, bool):
                problems.append(Problem(source, "must be true or false", column=key, value=repr(value)))
            else:
                values[key] = value
        elif key == "avoid":
            if not isinstance(value, list) or not all(isinstance(p, list) and len(p) == 2 and
                                                      all(isinstance(x, str) for x in p) for p in value):
                problems.append(Problem(source, "must be a list of [school_id, school_id] pairs", column=key,
                                        value=repr(value)))
            else:
                values[key] = tuple((a, b) for a, b in value)
        elif key == "stay":
            if not isinstance(value, list) or not all(isinstance(x, str) and x for x in value):
                problems.append(Problem(source, "must be a list of school ids", column=key, value=repr(value)))
            else:
                values[key] = tuple(value)
        elif key == "focus_areas":
            if not isinstance(value, list) or not value or not all(isinstance(x, str) and x for x in value):
                problems.append(Problem(source, "must be a non-empty list of focus-area codes", column=key,
                                        value=repr(value)))
            else:
                values[key] = tuple(value)
        elif key == "cohort_min_years_hosting":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                problems.append(Problem(source, "must be a whole number of years, 0 or more", column=key,
                                        value=repr(value)))
            else:
                values[key] = value
        elif key in ("min_partners", "max_partners", "host_capacity", "max_networks", "peer_min_size",
                     "peer_max_size", "workers", "max_years"):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                problems.append(Problem(source, "must be a whole number of at least 1", column=key,
                                        value=repr(value)))
            else:
                values[key] = value
        else:  # numbers
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                problems.append(Problem(source, "must be a number of at least 0", column=key, value=repr(value)))
            else:
                values[key] = float(value)
    if problems:
        raise InputError(problems)
    policy = NetworkPolicy(**values)
    lo, hi = policy.bounds()
    if lo > hi:
        problems.append(Problem(source, f"min_partners {lo} is above max_partners {hi}", column="min_partners",
                                value=str(lo)))
    if policy.capacity() < max(lo, 1):
        problems.append(Problem(source, f"a host's capacity {policy.capacity()} is below the {lo} partners a "
                                        "network needs", column="host_capacity", value=str(policy.capacity())))
    if policy.peer_min_size > policy.peer_max_size or policy.peer_min_size < 2:
        problems.append(Problem(source, "peer groups need 2 <= peer_min_size <= peer_max_size",
                                column="peer_min_size", value=f"{policy.peer_min_size}-{policy.peer_max_size}"))
    if problems:
        raise InputError(problems)
    return policy


def load_network_policy(path: str | Path | None) -> NetworkPolicy:
    if path is None:
        return NetworkPolicy()
    return network_policy_from_dict(read_settings(path), str(path))


def policy_dict(policy: NetworkPolicy) -> dict[str, Any]:
    """JSON-ready settings that network_policy_from_dict reads back to the same policy (unset ones left out)."""
    out = {k: getattr(policy, k) for k in _FIELDS}
    out["avoid"] = [list(p) for p in policy.avoid]
    out["focus_areas"] = list(policy.focus_areas)
    out["stay"] = list(policy.stay)
    return {k: v for k, v in out.items() if v is not None and not (k == "focus_areas" and not v)}


__all__ = ["NetworkPolicy", "network_policy_from_dict", "load_network_policy", "policy_dict"]
