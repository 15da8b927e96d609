"""School networks through the API: solve an uploaded schools file, store it, and re-form one network against
the revision the district office saw (409 when another was saved first). Schools carry their names beside their
ids; revisions stored before names were kept get them from the run's schools file when read."""

from __future__ import annotations

import csv
import dataclasses
import io
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import IntegrityError

from ..errors import ConflictError, InputError, NotFoundError, Problem
from ..io.schools import SchoolTable, read_schools
from ..networks.explain import rows, school_name
from ..networks.policy import NetworkPolicy, network_policy_from_dict, policy_dict
from ..networks.rematch import rematch_network
from ..networks.solve import Network, NetworkResult, form_networks
from ..store import repo
from ..store.keys import Caller
from ..store.tables import network_revisions, network_runs


def _read(text: str, filename: str, policy: NetworkPolicy) -> SchoolTable:
    with tempfile.TemporaryDirectory(prefix="matcher-schools-") as tmp:
        path = Path(tmp) / "schools.csv"
        path.write_text(text, encoding="utf-8")
        try:
            return dataclasses.replace(read_schools(path, policy.focus_areas or None), source=filename)
        except InputError as exc:
            raise InputError([Problem(filename if p.file == str(path) else p.file, p.message, p.row, p.column,
                                      p.value) for p in exc.problems]) from None


def _encode(result: NetworkResult) -> tuple[list[dict[str, Any]], dict[str, str]]:
    t = result.schools
    detail: dict[str, dict[str, Any]] = {}
    for nid, school, name, role, pod, _focus, why in rows(result):
        detail.setdefault(nid, {"schools": []})["schools"].append(
            {"school_id": school, "school_name": name, "role": role, "pod": pod, "explanation": why})
    nets = [{"network_id": n.network_id, "leader": str(t.school_id[n.leader]),
             "leader_name": school_name(t, n.leader), "members": [str(t.school_id[m]) for m in n.members],
             "focus_area": n.focus, "schools": detail[n.network_id]["schools"]} for n in result.networks]
    left = {str(t.school_id[i]): why for i, why in sorted(result.left_out.items())}
    return nets, left


def create(engine: Engine, caller: Caller, data: bytes, filename: str, policy_data: dict[str, Any],
           max_seconds: float) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError([Problem(filename, "not UTF-8 text; save the file as UTF-8 CSV")]) from None
    policy = network_policy_from_dict(policy_data, "policy")
    policy = policy.replace(time_limit_seconds=min(policy.time_limit_seconds, max_seconds))
    t = _read(text, filename, policy)
    result = form_networks(t, policy)
    nets, left = _encode(result)
    ident = repo.new_id()
    with engine.begin() as conn:
        conn.execute(insert(network_runs).values(id=ident, name=filename[:300], policy=policy_dict(policy),
                                                 schools_csv=text, created_at=repo.now(), created_by=caller.key_id))
        conn.execute(insert(network_revisions).values(run_id=ident, revision=0, created_at=repo.now(),
                                                      created_by=caller.key_id, request=None, networks=nets,
                                                      left_out=left, summary=result.summary))
    return ident


def get_run(conn: Connection, ident: str) -> Any:
    if not repo._ID.fullmatch(ident):
        raise NotFoundError("network run", ident)
    row = conn.execute(select(network_runs).where(network_runs.c.id == ident)).first()
    if row is None:
        raise NotFoundError("network run", ident)
    return row


def get_revision(conn: Connection, ident: str, revision: int | None = None) -> Any:
    q = select(network_revisions).where(network_revisions.c.run_id == ident)
    q = q.order_by(network_revisions.c.revision.desc()).limit(1) if revision is None else \
        q.where(network_revisions.c.revision == revision)
    row = conn.execute(q).first()
    if row is None:
        raise NotFoundError("revision", f"{ident}@{revision}")
    return row


def rematch(engine: Engine, caller: Caller, ident: str, *, revision: int, network_id: str, remove: list[str],
            avoid: list[tuple[str, str]], request: dict[str, Any]) -> int:
    with engine.connect() as conn:
        run = get_run(conn, ident)
        current = get_revision(conn, ident)
    if revision != current.revision:
        raise ConflictError(f"revision {revision} is outdated: the networks are at revision {current.revision}; "
                            "reload them and ask again", revision=current.revision)
    policy = network_policy_from_dict(run.policy, "stored policy")
    t = _read(run.schools_csv, run.name, policy)
    index = {s: i for i, s in enumerate(t.school_id.tolist())}
    nets = [Network(n["network_id"], index[n["leader"]], tuple(index[m] for m in n["members"]), n["focus_area"])
            for n in current.networks]
    change = rematch_network(t, policy, nets, network_id, remove=remove, avoid=avoid)
    every = tuple(sorted((*change.kept, *change.formed), key=lambda n: n.network_id))
    placed = {i for n in every for i in (n.leader, *n.members)}
    left = {i: why for i, why in current_left(current, index).items() if i not in placed}
    left.update(change.left_out)
    kept_summary = {k: v for k, v in current.summary.items() if k not in ("objective", "bound")}
    summary = {**kept_summary, "n_networks": len(every), "n_placed": len(placed), "n_left_out": len(left),
               "optimal": change.optimal, "gap": change.gap,
               "rematched": {"network_id": network_id, "formed": [n.network_id for n in change.formed]}}
    result = NetworkResult(every, left, summary, policy, t, None)  # type: ignore[arg-type]
    encoded, left_ids = _encode(result)
    try:
        with engine.begin() as conn:
            conn.execute(insert(network_revisions).values(
                run_id=ident, revision=current.revision + 1, created_at=repo.now(), created_by=caller.key_id,
                request=request, networks=encoded, left_out=left_ids, summary=summary))
    except IntegrityError:
        raise ConflictError(f"revision {revision} is outdated: another re-match was saved first; reload and ask "
                            "again", revision=current.revision + 1) from None
    return current.revision + 1


def school_names(schools_csv: str) -> dict[str, str]:
    """school_id -> name in the run's schools file (validated when the run was made), trimmed as read_schools
    trims them."""
    out: dict[str, str] = {}
    for raw in csv.DictReader(io.StringIO(schools_csv)):
        row = {(k or "").strip(): v if isinstance(v, str) else "" for k, v in raw.items()}
        sid = row.get("school_id", "").strip()
        if sid:
            out.setdefault(sid, row.get("name", "").strip())
    return out


def named(run: Any, row: Any) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """A stored revision's networks with every school's name, and school_id -> name for each of its schools
    (placed or left out). Names stored with the revision are kept; a revision stored before they were (or a
    school the file has no name for) gets its name from the run's schools file, "" if none."""
    names = school_names(run.schools_csv)
    nets = [{**n, "leader_name": n.get("leader_name", names.get(n["leader"], "")),
             "schools": [{**s, "school_name": s.get("school_name", names.get(s["school_id"], ""))}
                         for s in n["schools"]]} for n in row.networks]
    every = {s["school_id"] for n in nets for s in n["schools"]} | set(row.left_out)
    return nets, {s: names.get(s, "") for s in sorted(every)}


def current_left(row: Any, index: dict[str, int]) -> dict[int, str]:
    return {index[s]: why for s, why in row.left_out.items() if s in index}
