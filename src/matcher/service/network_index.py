"""What the web page needs about stored school-network runs: a list of them, and each school's name, place and
application (from the schools file the run was formed from) to draw the networks on a map."""

from __future__ import annotations

import csv
import io
import math
from typing import Any

from sqlalchemy import Connection, func, select

from ..store.keys import Caller
from ..store.tables import network_revisions, network_runs
from .networks import view_of, visible_run


def list_runs(conn: Connection, caller: Caller) -> list[dict[str, Any]]:
    """Every network run the caller sees something of in its newest revision (networks.view_of), newest first,
    with that revision's counts."""
    top = (select(network_revisions.c.run_id, func.max(network_revisions.c.revision).label("top"))
           .group_by(network_revisions.c.run_id).subquery())
    q = (select(network_runs.c.id, network_runs.c.name, network_runs.c.created_at, network_runs.c.created_by,
                top.c.top, network_revisions.c.networks, network_revisions.c.left_out,
                network_revisions.c.facilitators)
         .join(top, top.c.run_id == network_runs.c.id)
         .join(network_revisions, (network_revisions.c.run_id == top.c.run_id)
               & (network_revisions.c.revision == top.c.top))
         .order_by(network_runs.c.created_at.desc()))
    return [{"id": r.id, "name": r.name, "created_at": r.created_at, "created_by": r.created_by,
             "latest_revision": r.top, "n_networks": len(r.networks), "n_left_out": len(r.left_out),
             "n_placed": sum(len(n["schools"]) for n in r.networks)} for r in conn.execute(q)
            if not view_of(caller, r).empty]


def _number(text: str | None) -> float | None:
    try:
        x = float(text or "")
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def _codes(text: str | None) -> list[str]:
    return [c.strip() for c in (text or "").split(";") if c.strip()]


def schools(conn: Connection, ident: str, caller: Caller) -> list[dict[str, Any]]:
    """The schools of the run's file (validated when the run was made) that the caller sees in the newest
    revision, in the file's order."""
    run, latest = visible_run(conn, caller, ident)
    view = view_of(caller, latest)
    out = []
    for row in csv.DictReader(io.StringIO(run.schools_csv)):
        school_id = (row.get("school_id") or "").strip()
        if not view.shows_school(school_id):
            continue
        name = (row.get("name") or "").strip()
        out.append({"school_id": school_id, "school_name": name, "name": name,
                    "district_id": (row.get("district_id") or "").strip(), "level": (row.get("level") or "").strip(),
                    "latitude": _number(row.get("latitude")), "longitude": _number(row.get("longitude")),
                    "applied_as": (row.get("role") or "").strip(), "strengths": _codes(row.get("strengths")),
                    "needs": _codes(row.get("needs")), "grade_min": (row.get("grade_min") or "").strip(),
                    "grade_max": (row.get("grade_max") or "").strip(),
                    "school_type": (row.get("school_type") or "").strip()})
    return out
