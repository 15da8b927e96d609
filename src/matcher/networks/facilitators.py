"""Facilitators for networks: each network gets one facilitator, each facilitator at most its caseload, and the
total travel from facilitators to their networks' hosts is the least possible (an assignment problem, exact)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..errors import InfeasibleError, InputError, Problem
from ..io.csvfile import _cell, _lines, _numbers, _read_csv
from ..io.schools import coordinates
from .model import haversine_km
from .solve import NetworkResult


@dataclass(frozen=True)
class Facilitators:
    facilitator_id: np.ndarray
    latitude: np.ndarray
    longitude: np.ndarray
    caseload: np.ndarray  # int: networks each may carry


def read_facilitators(path: str | Path, default_caseload: int = 4) -> Facilitators:
    """facilitator_id, latitude, longitude[, caseload] (one row per facilitator)."""
    name = str(path)
    problems: list[Problem] = []
    df = _read_csv(Path(path), problems, ("latitude", "longitude", "caseload"))
    if df is None:
        raise InputError(problems)
    for c in ("facilitator_id", "latitude", "longitude"):
        if c not in df:
            problems.append(Problem(name, "missing required column", row=1, column=c))
    for c in df.columns:
        if c not in ("facilitator_id", "latitude", "longitude", "caseload", "name"):
            problems.append(Problem(name, "unknown column", row=1, column=c))
    if problems:
        raise InputError(problems)
    lines = _lines(df)
    ids = np.asarray([str(v).strip() for v in df["facilitator_id"].fillna("")], dtype=object)
    seen: set[str] = set()
    for i, f in enumerate(ids):
        if not f or f in seen:
            problems.append(Problem(name, "blank or duplicate facilitator_id", row=int(lines[i]),
                                    column="facilitator_id", value=f))
        seen.add(f)
    coords = coordinates(df, name, lines, problems)
    if "caseload" in df:
        load, bad = _numbers(df, "caseload")
        load = np.where(np.isnan(load) & ~bad, default_caseload, load)
        for i in np.flatnonzero(bad | ~(load >= 1) | (load != np.floor(load))):
            problems.append(Problem(name, "must be a whole number of networks, at least 1", row=int(lines[i]),
                                    column="caseload", value=_cell(df, "caseload", i)))
    else:
        load = np.full(len(df), default_caseload, dtype=float)
    if problems:
        raise InputError(problems)
    return Facilitators(ids, coords["latitude"], coords["longitude"], np.nan_to_num(load).astype(np.int64))


def assign_facilitators(result: NetworkResult, fac: Facilitators) -> list[tuple[str, str, float]]:
    """(facilitator_id, network_id, km to the host) for every network, with the least total km."""
    nets = result.networks
    if not nets:
        return []
    if int(fac.caseload.sum()) < len(nets):
        raise InfeasibleError(f"{len(nets)} networks but the facilitators can carry only {int(fac.caseload.sum())} "
                              "(raise caseloads or add facilitators)")
    t = result.schools
    hosts = np.array([n.leader for n in nets])
    slots = np.repeat(np.arange(len(fac.facilitator_id)), fac.caseload)
    km = haversine_km(t.latitude[hosts][:, None], t.longitude[hosts][:, None], fac.latitude[slots][None, :],
                      fac.longitude[slots][None, :])
    rows, cols = linear_sum_assignment(km)
    return sorted((str(fac.facilitator_id[slots[c]]), nets[r].network_id, round(float(km[r, c]), 3))
                  for r, c in zip(rows, cols, strict=True))
