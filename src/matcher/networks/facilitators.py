"""Facilitators for networks: each network gets one facilitator, each facilitator at most its caseload, and the
total travel from facilitators to their networks' hosts is the least possible (an assignment problem, exact)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..errors import InfeasibleError, InputError, Problem
from ..io.csvfile import cell_text, file_lines, number_cells, read_csv_text
from ..io.schools import coordinates
from .model import haversine_km
from .solve import NetworkResult


@dataclass(frozen=True)
class Facilitators:
    facilitator_id: np.ndarray
    latitude: np.ndarray
    longitude: np.ndarray
    caseload: np.ndarray  # int: networks each may carry
    name: np.ndarray  # str: "" when blank or when the file has no name column


@dataclass(frozen=True)
class Assigned:
    """One network's facilitator and their travel to its host: a row of facilitators.csv."""

    facilitator_id: str
    network_id: str
    km_to_host: float
    facilitator_name: str = ""  # "" when the facilitators file gives no name

    @property
    def label(self) -> str:
        """"Ana Ruiz (F1)", or the id alone when there is no name."""
        return f"{self.facilitator_name} ({self.facilitator_id})" if self.facilitator_name else self.facilitator_id


MAX_CASELOAD = 1_000  # networks one facilitator may carry (a larger number would only overflow)


def read_facilitators(path: str | Path, default_caseload: int = 4) -> Facilitators:
    """facilitator_id, latitude, longitude[, caseload][, name] (one row per facilitator)."""
    name = str(path)
    problems: list[Problem] = []
    df = read_csv_text(Path(path), problems, ("latitude", "longitude", "caseload"))
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
    lines = file_lines(df)
    ids = np.asarray([str(v).strip() for v in df["facilitator_id"].fillna("")], dtype=object)
    seen: set[str] = set()
    for i, f in enumerate(ids):
        if not f or f in seen:
            problems.append(Problem(name, "blank or duplicate facilitator_id", row=int(lines[i]),
                                    column="facilitator_id", value=f))
        seen.add(f)
    coords = coordinates(df, name, lines, problems)
    if "caseload" in df:
        load, bad = number_cells(df, "caseload")
        load = np.where(np.isnan(load) & ~bad, default_caseload, load)
        for i in np.flatnonzero(bad | ~((load >= 1) & (load <= MAX_CASELOAD)) | (load != np.floor(load))):
            problems.append(Problem(name, f"must be a whole number of networks, from 1 to {MAX_CASELOAD:,}",
                                    row=int(lines[i]),
                                    column="caseload", value=cell_text(df, "caseload", i)))
    else:
        load = np.full(len(df), default_caseload, dtype=float)
    if problems:
        raise InputError(problems)
    names = np.asarray([str(v).strip() for v in df["name"].fillna("")] if "name" in df else [""] * len(df),
                       dtype=object)
    return Facilitators(ids, coords["latitude"], coords["longitude"], np.nan_to_num(load).astype(np.int64), names)


def assign_facilitators(result: NetworkResult, fac: Facilitators) -> list[Assigned]:
    """Every network's facilitator (with the km to its host), with the least total km; by facilitator, then
    network."""
    nets = result.networks
    if not nets:
        return []
    if int(fac.caseload.sum()) < len(nets):
        raise InfeasibleError(f"{len(nets)} networks but the facilitators can carry only {int(fac.caseload.sum())} "
                              "(raise caseloads or add facilitators)")
    t = result.schools
    hosts = np.array([n.leader for n in nets])
    # a caseload above the number of networks changes nothing: capping it keeps the matrix at networks^2 per person
    slots = np.repeat(np.arange(len(fac.facilitator_id)), np.minimum(fac.caseload, len(nets)))
    km = haversine_km(t.latitude[hosts][:, None], t.longitude[hosts][:, None], fac.latitude[slots][None, :],
                      fac.longitude[slots][None, :])
    rows, cols = linear_sum_assignment(km)
    out = [Assigned(str(fac.facilitator_id[slots[c]]), nets[r].network_id, round(float(km[r, c]), 3),
                    str(fac.name[slots[c]])) for r, c in zip(rows, cols, strict=True)]
    return sorted(out, key=lambda a: (a.facilitator_id, a.network_id))
