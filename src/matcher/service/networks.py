"""School networks through the API: solve an uploaded schools file, store it, re-form one network and assign
facilitators against the revision the district office saw (409 when another was saved first). Schools carry their
names beside their ids; revisions stored before names were kept get them from the run's schools file when read.

Who sees what (`View`): a state key every network; a principal key the networks holding one of its schools (with
every school of those networks, so a host sees its partners) and the reasons its own left-out schools were left
out; a facilitator key the networks assigned to its facilitator ids. A run with nothing for the key is "not found"
(404), so a key learns nothing about runs outside its scope."""

from __future__ import annotations

import csv
import dataclasses
import io
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import ConflictError, InfeasibleError, InputError, NotFoundError, Problem
from ..io.csv_out import csv_text
from ..io.schools import SchoolTable, read_schools
from ..networks.explain import rows, school_name
from ..networks.facilitators import Assigned, Facilitators, assign_facilitators, read_facilitators
from ..networks.outputs import NETWORK_COLUMNS
from ..networks.pages import index_page, network_page, page_file_name
from ..networks.policy import NetworkPolicy, network_policy_from_dict, policy_dict
from ..networks.rematch import rematch_network
from ..networks.solve import Network, NetworkResult, form_networks
from ..store import repo
from ..store.keys import Caller
from ..store.tables import network_revisions, network_runs

MAX_FACILITATORS = 2_000  # rows of a facilitators file
# Cells of the assignment's distance matrix (networks x facilitator slots, a caseload counting at most one slot per
# network): 20 million floats are 160 MB. The largest program on record had 45 networks and about 15 facilitators.
MAX_ASSIGNMENT_CELLS = 20_000_000


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


def _current(engine: Engine, ident: str, revision: int) -> tuple[Any, Any]:
    """The run and its newest revision, once the caller's revision is that one (409 with the newest otherwise)."""
    with engine.connect() as conn:
        run = get_run(conn, ident)
        current = get_revision(conn, ident)
    if revision != current.revision:
        raise ConflictError(f"revision {revision} is outdated: the networks are at revision {current.revision}; "
                            "reload them and ask again", revision=current.revision)
    return run, current


def _stored_networks(t: SchoolTable, row: Any) -> list[Network]:
    index = {s: i for i, s in enumerate(t.school_id.tolist())}
    return [Network(n["network_id"], index[n["leader"]], tuple(index[m] for m in n["members"]), n["focus_area"])
            for n in row.networks]


def result_of(run: Any, row: Any, view: View | None = None) -> NetworkResult:
    """A stored revision as the CLI's result holds it (the run's schools file read again; no candidate links), with
    only the networks and left-out schools the view shows."""
    policy = network_policy_from_dict(run.policy, "stored policy")
    t = _read(run.schools_csv, run.name, policy)
    index = {s: i for i, s in enumerate(t.school_id.tolist())}
    nets = tuple(n for n in _stored_networks(t, row) if view is None or view.shows_network(n.network_id))
    left = {i: why for i, why in current_left(row, index).items()
            if view is None or view.shows_left_out(str(t.school_id[i]))}
    summary = row.summary if view is None else view.summary(row.summary)
    return NetworkResult(nets, left, summary, policy, t, None)  # type: ignore[arg-type]


def _read_facilitators(text: str, filename: str, caseload: int) -> Facilitators:
    with tempfile.TemporaryDirectory(prefix="matcher-facilitators-") as tmp:
        path = Path(tmp) / "facilitators.csv"
        path.write_text(text, encoding="utf-8")
        try:
            fac = read_facilitators(path, caseload)
        except InputError as exc:
            raise InputError([Problem(filename if p.file == str(path) else p.file, p.message, p.row, p.column,
                                      p.value) for p in exc.problems]) from None
    if len(fac.facilitator_id) > MAX_FACILITATORS:
        raise InputError([Problem(filename, f"{len(fac.facilitator_id):,} facilitators; at most "
                                            f"{MAX_FACILITATORS:,} in one file")])
    return fac


def _assign(result: NetworkResult, fac: Facilitators, filename: str) -> list[Assigned]:
    """assign_facilitators, exactly (it counts a caseload above the number of networks as that number: the same
    optimum); too few facilitators for the networks: InfeasibleError (422)."""
    n = len(result.networks)
    slots = int(np.minimum(fac.caseload, max(n, 1)).sum())
    if n * slots > MAX_ASSIGNMENT_CELLS:
        raise InputError([Problem(filename, f"{n:,} networks and {slots:,} facilitator slots are too many to assign "
                                            "at once; lower the caseloads or split the file", column="caseload")])
    return assign_facilitators(result, fac)


def _facilitator_rows(assigned: list[Assigned]) -> list[dict[str, Any]]:
    return [{"facilitator_id": a.facilitator_id, "facilitator_name": a.facilitator_name,
             "network_id": a.network_id, "km_to_host": a.km_to_host} for a in assigned]


def _facilitator_summary(assigned: list[Assigned]) -> dict[str, Any]:
    """What the CLI's summary.json adds when facilitators are assigned."""
    return {"facilitator_km_total": round(sum(a.km_to_host for a in assigned), 3),
            "n_facilitators_used": len({a.facilitator_id for a in assigned})}


def assign(engine: Engine, caller: Caller, ident: str, *, revision: int, data: bytes, filename: str,
           caseload: int) -> int:
    """Assign facilitators from an uploaded file to the networks of the newest revision (which must be
    `revision`, else 409): a new revision with the same networks and the assignment. The file is kept on the run,
    so a later re-form is assigned again from it. Returns the new revision's number."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError([Problem(filename, "not UTF-8 text; save the file as UTF-8 CSV")]) from None
    run, current = _current(engine, ident, revision)
    fac = _read_facilitators(text, filename, caseload)
    assigned = _assign(result_of(run, current), fac, filename)
    summary = {**current.summary, **_facilitator_summary(assigned)}
    request = {"facilitators": filename, "caseload": caseload}
    try:
        with engine.begin() as conn:
            conn.execute(insert(network_revisions).values(
                run_id=ident, revision=current.revision + 1, created_at=repo.now(), created_by=caller.key_id,
                request=request, networks=current.networks, left_out=current.left_out, summary=summary,
                facilitators=_facilitator_rows(assigned)))
            conn.execute(update(network_runs).where(network_runs.c.id == ident)
                         .values(facilitators_csv=text, facilitators_caseload=caseload))
    except IntegrityError:
        raise ConflictError(f"revision {revision} is outdated: another change was saved first; reload and ask "
                            "again", revision=current.revision + 1) from None
    return current.revision + 1


def rematch(engine: Engine, caller: Caller, ident: str, *, revision: int, network_id: str, remove: list[str],
            avoid: list[tuple[str, str]], request: dict[str, Any]) -> int:
    """Form one network again and keep the others. When facilitators were assigned for the run, the new revision's
    networks are assigned again (exactly) from the same file; when it cannot carry them (the re-form made more
    networks than the caseloads allow), nothing is saved and the answer is 422: assign from a larger file first."""
    run, current = _current(engine, ident, revision)
    policy = network_policy_from_dict(run.policy, "stored policy")
    t = _read(run.schools_csv, run.name, policy)
    index = {s: i for i, s in enumerate(t.school_id.tolist())}
    nets = _stored_networks(t, current)
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
    facilitators = None
    if run.facilitators_csv is not None:
        name = "the facilitators file assigned before"
        fac = _read_facilitators(run.facilitators_csv, name, run.facilitators_caseload or 4)
        try:
            assigned = _assign(result, fac, name)
        except InfeasibleError as exc:
            raise InfeasibleError(f"the re-formed networks cannot all have a facilitator from {name}: {exc}; "
                                  "assign facilitators from a larger file first (POST "
                                  f"/v1/networks/{ident}/facilitators), then re-form") from None
        facilitators = _facilitator_rows(assigned)
        summary.update(_facilitator_summary(assigned))
    try:
        with engine.begin() as conn:
            conn.execute(insert(network_revisions).values(
                run_id=ident, revision=current.revision + 1, created_at=repo.now(), created_by=caller.key_id,
                request=request, networks=encoded, left_out=left_ids, summary=summary, facilitators=facilitators))
    except IntegrityError:
        raise ConflictError(f"revision {revision} is outdated: another re-match was saved first; reload and ask "
                            "again", revision=current.revision + 1) from None
    return current.revision + 1


# Who sees what ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class View:
    """What one key may see of one revision: every network, left-out school and school (None), or those named."""

    networks: frozenset[str] | None = None
    left_out: frozenset[str] | None = None
    schools: frozenset[str] | None = None  # the schools of the networks shown, and the left-out schools shown

    @property
    def empty(self) -> bool:
        return self.networks is not None and not self.networks and not self.left_out

    def shows_network(self, network_id: str) -> bool:
        return self.networks is None or network_id in self.networks

    def shows_left_out(self, school_id: str) -> bool:
        return self.left_out is None or school_id in self.left_out

    def shows_school(self, school_id: str) -> bool:
        return self.schools is None or school_id in self.schools

    def policy(self, policy: dict[str, Any]) -> dict[str, Any]:
        """The policy without other schools' ids: `avoid` pairs of schools both shown, `stay` schools shown."""
        if self.schools is None:
            return policy
        out = dict(policy)
        if isinstance(out.get("avoid"), list):
            out["avoid"] = [p for p in out["avoid"] if isinstance(p, list | tuple)
                            and all(isinstance(s, str) and s in self.schools for s in p)]
        if isinstance(out.get("stay"), list):
            out["stay"] = [s for s in out["stay"] if isinstance(s, str) and s in self.schools]
        return out

    def summary(self, summary: dict[str, Any]) -> dict[str, Any]:
        """The summary's counts as they are (aggregates); its policy as `policy` shows it."""
        if self.schools is None or not isinstance(summary.get("policy"), dict):
            return summary
        return {**summary, "policy": self.policy(summary["policy"])}


EVERYTHING = View()


def _members(n: dict[str, Any]) -> set[str]:
    return {n["leader"], *n["members"]}


def view_of(caller: Caller, row: Any) -> View:
    """state: everything; principal: the networks holding one of its schools and its own left-out schools;
    facilitator: the networks assigned to one of its facilitator ids; any other role: nothing."""
    if caller.role == "state":
        return EVERYTHING
    if caller.role == "principal":
        nets = [n for n in row.networks if _members(n) & caller.schools]
        left = frozenset(s for s in row.left_out if s in caller.schools)
    elif caller.role == "facilitator":
        mine = {a["network_id"] for a in row.facilitators or () if a["facilitator_id"] in caller.facilitators}
        nets = [n for n in row.networks if n["network_id"] in mine]
        left = frozenset()
    else:
        nets, left = [], frozenset()
    schools = frozenset(s for n in nets for s in _members(n)) | left
    return View(frozenset(n["network_id"] for n in nets), left, schools)


def visible_run(conn: Connection, caller: Caller, ident: str) -> tuple[Any, Any]:
    """The run and its newest revision, when the key sees something of it there; else "not found" (as for an
    unknown id: a key learns nothing about runs outside its scope)."""
    run = get_run(conn, ident)
    latest = get_revision(conn, ident)
    if view_of(caller, latest).empty:
        raise NotFoundError("network run", ident)
    return run, latest


def revision_out(run: Any, row: Any, view: View) -> dict[str, Any]:
    """A stored revision as the API answers it, within the view: networks with every school named, left-out
    schools with their reasons, school_id -> name, the facilitators (None when none were assigned), the policy
    and summary."""
    nets, names = named(run, row)
    facs = row.facilitators
    return {"networks": [n for n in nets if view.shows_network(n["network_id"])],
            "left_out": {s: why for s, why in row.left_out.items() if view.shows_left_out(s)},
            "school_names": {s: name for s, name in names.items() if view.shows_school(s)},
            "facilitators": None if facs is None else [{**a, "facilitator_name": a.get("facilitator_name", "")}
                                                       for a in facs if view.shows_network(a["network_id"])],
            "policy": view.policy(run.policy), "summary": view.summary(row.summary)}


def networks_csv(run: Any, row: Any, view: View) -> str:
    """The CLI's networks.csv (its columns, formula cells neutralised) of the networks the view shows, with the
    explanations as stored with the revision."""
    nets, _ = named(run, row)
    return csv_text(NETWORK_COLUMNS, [(n["network_id"], s["school_id"], s["school_name"], s["role"], s["pod"],
                                       n["focus_area"], s["explanation"])
                                      for n in nets if view.shows_network(n["network_id"]) for s in n["schools"]])


def assigned_of(row: Any, view: View) -> list[Assigned] | None:
    """The revision's facilitators the view shows, as the pages take them (None when none were assigned)."""
    if row.facilitators is None:
        return None
    return [Assigned(a["facilitator_id"], a["network_id"], a["km_to_host"], a.get("facilitator_name", ""))
            for a in row.facilitators if view.shows_network(a["network_id"])]


def _page_of(result: NetworkResult, ref: str) -> Network:
    """The shown network whose id, or whose page's file name without ".html", is ref (404 otherwise)."""
    for n in result.networks:
        if ref == n.network_id or f"{ref}.html" == page_file_name(n.network_id):
            return n
    raise NotFoundError("network in this revision", ref)


def page(run: Any, row: Any, view: View, ref: str) -> tuple[str, str]:
    """One shown network's page (networks.pages, as the CLI writes it) and its file name."""
    result = result_of(run, row, view)
    net = _page_of(result, ref)
    by_net = {a.network_id: a for a in assigned_of(row, view) or ()}
    return network_page(result, net, by_net.get(net.network_id)), page_file_name(net.network_id)


def pages_zip(run: Any, row: Any, view: View) -> bytes:
    """networks/<page file> for every shown network and networks/index.html, as the CLI's folder holds them."""
    result = result_of(run, row, view)
    assigned = assigned_of(row, view)
    by_net = {a.network_id: a for a in assigned or ()}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for net in result.networks:
            z.writestr(f"networks/{page_file_name(net.network_id)}",
                       network_page(result, net, by_net.get(net.network_id)))
        z.writestr("networks/index.html", index_page(result, assigned))
    return buf.getvalue()


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
