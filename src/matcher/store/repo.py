"""Reads and writes of the stored things; every function takes a connection or an engine and plain values."""

from __future__ import annotations

import gzip
import json
import re
import secrets
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Row, Table, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import NotFoundError
from ..io.file_keys import file_key, is_key_form
from .keys import Caller
from .tables import (
    api_keys,
    audit_log,
    dataset_schools,
    datasets,
    pairing_runs,
    rollout_files,
    rollout_runs,
    run_files,
    school_revisions,
)

INTERRUPTED = "interrupted: the server stopped while the run was in progress; start the run again"


_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _known_shape(what: str, ident: str) -> None:
    """Ids we made are UUIDs; anything else is unknown without asking the database (which may refuse it)."""
    if not isinstance(ident, str) or not _ID.fullmatch(ident):
        raise NotFoundError(what, ident)


def _school_shape(school_id: str) -> None:
    if "\x00" in school_id:
        raise NotFoundError("school in this run", school_id)


def now() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


# Datasets -----------------------------------------------------------------------------------------------------

SCHOOLS_PER_INSERT = 100


def insert_dataset(conn: Connection, *, kind: str, name: str, rubric: str, n_teachers: int, n_schools: int,
                   warnings: list[str], synthetic: dict[str, Any] | None, caller: Caller,
                   schools: Iterable[dict[str, Any]]) -> str:
    """schools: dicts of school_id, n_teachers, latitude, longitude, roster and (optional) name, inserted
    SCHOOLS_PER_INSERT at a time (they may be made as they go: a statewide roster is never held whole)."""
    ident = new_id()
    conn.execute(insert(datasets).values(id=ident, kind=kind, name=name, rubric=rubric, n_teachers=n_teachers,
                                         n_schools=n_schools, warnings=warnings, synthetic=synthetic,
                                         created_at=now(), created_by=caller.key_id))
    batch: list[dict[str, Any]] = []
    for s in schools:
        batch.append({"name": None, **s, "dataset_id": ident})
        if len(batch) == SCHOOLS_PER_INSERT:
            conn.execute(insert(dataset_schools), batch)
            batch = []
    if batch:
        conn.execute(insert(dataset_schools), batch)
    return ident


def get_dataset(conn: Connection, ident: str) -> Row:
    _known_shape("dataset", ident)
    row = conn.execute(select(datasets).where(datasets.c.id == ident)).first()
    if row is None:
        raise NotFoundError("dataset", ident)
    return row


def list_datasets(conn: Connection, kinds: tuple[str, ...] | None = None,
                  schools: frozenset[str] | None = None) -> list[Row]:
    q = select(datasets).order_by(datasets.c.created_at.desc())
    if kinds is not None:
        q = q.where(datasets.c.kind.in_(kinds))
    if schools is not None:
        q = q.where(datasets.c.id.in_(select(dataset_schools.c.dataset_id)
                                      .where(dataset_schools.c.school_id.in_(sorted(schools)))))
    return list(conn.execute(q))


def dataset_schools_of(conn: Connection, ident: str, schools: frozenset[str] | None = None,
                       with_roster: bool = False) -> list[Row]:
    cols = [dataset_schools.c.school_id, dataset_schools.c.name, dataset_schools.c.n_teachers,
            dataset_schools.c.latitude, dataset_schools.c.longitude] + ([dataset_schools.c.roster] if with_roster
                                                                         else [])
    q = select(*cols).where(dataset_schools.c.dataset_id == ident).order_by(dataset_schools.c.school_id)
    if schools is not None:
        q = q.where(dataset_schools.c.school_id.in_(sorted(schools)))
    return list(conn.execute(q))


def school_names(conn: Connection, dataset_id: str, schools: Iterable[str] | None = None) -> dict[str, str]:
    """school_id -> name for the dataset's named schools (all, or those given)."""
    q = select(dataset_schools.c.school_id, dataset_schools.c.name).where(dataset_schools.c.dataset_id == dataset_id,
                                                                          dataset_schools.c.name.is_not(None))
    if schools is not None:
        q = q.where(dataset_schools.c.school_id.in_(sorted(set(schools))))
    return {r.school_id: r.name for r in conn.execute(q)}


def school_of_ref(conn: Connection, dataset_id: str, ref: str) -> str:
    """The school a URL's {school} names: the school whose key (io.file_keys) is ref, else ref itself as an
    id. Plain ids are their own keys, so only a ref with "~" is looked up among the dataset's schools."""
    if not is_key_form(ref):
        return ref
    ids = conn.execute(select(dataset_schools.c.school_id).where(dataset_schools.c.dataset_id == dataset_id))
    return next((s for s in ids.scalars() if file_key(s) == ref), ref)


def newest_school_names(conn: Connection, schools: Iterable[str]) -> dict[str, str]:
    """school_id -> the name the newest dataset that names the school gives it."""
    q = (select(dataset_schools.c.school_id, dataset_schools.c.name)
         .join(datasets, datasets.c.id == dataset_schools.c.dataset_id)
         .where(dataset_schools.c.school_id.in_(sorted(set(schools))), dataset_schools.c.name.is_not(None))
         .order_by(datasets.c.created_at))
    return {r.school_id: r.name for r in conn.execute(q)}  # the newest comes last and wins


def school_roster(conn: Connection, dataset_id: str, school_id: str) -> dict[str, Any] | None:
    return conn.execute(select(dataset_schools.c.roster).where(dataset_schools.c.dataset_id == dataset_id,
                                                               dataset_schools.c.school_id == school_id)).scalar()


# Pairing runs ---------------------------------------------------------------------------------------------------

def insert_run(conn: Connection, *, dataset_id: str, policy: dict[str, Any], request: dict[str, Any],
               previous_id: str | None, caller: Caller) -> str:
    ident = new_id()
    conn.execute(insert(pairing_runs).values(id=ident, dataset_id=dataset_id, previous_id=previous_id,
                                             status="queued", progress=0.0, policy=policy, request=request,
                                             created_at=now(), created_by=caller.key_id))
    return ident


def get_run(conn: Connection, ident: str) -> Row:
    _known_shape("pairing run", ident)
    row = conn.execute(select(pairing_runs).where(pairing_runs.c.id == ident)).first()
    if row is None:
        raise NotFoundError("pairing run", ident)
    return row


def list_runs(conn: Connection, dataset_ids: list[str] | None = None) -> list[Row]:
    q = select(pairing_runs).order_by(pairing_runs.c.created_at.desc())
    if dataset_ids is not None:
        q = q.where(pairing_runs.c.dataset_id.in_(dataset_ids))
    return list(conn.execute(q))


# Jobs (pairing runs and rollouts) are claimed with a lease: status queued -> running, a token that alone may write
# the progress and the result, and an expiry that the job process pushes forward while it works (renew_lease).
# Any server may mark a running job failed once its lease has expired, never before; a running job with no lease
# (claimed without one, or by a version before leases) counts as expired. Leases are compared on the database's
# clock where there is one (PostgreSQL), so servers on several machines agree on what has expired.

def _clock(conn: Connection) -> datetime:
    if conn.dialect.name == "postgresql":
        return conn.execute(select(func.now())).scalar_one()
    return now()  # SQLite: a file on this machine, so this machine's clock


def _claim(engine: Engine, table: Table, ident: str, lease_seconds: float | None, holder: str | None) -> str | None:
    """Mark a queued job (a pairing run or a rollout) as running and return the token that alone may write its
    progress and result (None if it was not queued: another process claimed it, or it is finished). Without
    lease_seconds the claim has no lease, and the next sweep or start-up recovery of any server fails it."""
    token = secrets.token_hex(16)
    with engine.begin() as conn:
        at = _clock(conn)
        expires = None if lease_seconds is None else at + timedelta(seconds=lease_seconds)
        n = conn.execute(update(table).where(table.c.id == ident, table.c.status == "queued")
                         .values(status="running", runner=token, started_at=at, lease_expires_at=expires,
                                 lease_holder=holder)).rowcount
    return token if n == 1 else None


def _renew(engine: Engine, table: Table, ident: str, token: str, lease_seconds: float) -> bool:
    """Push the lease of a running job forward; False when the attempt no longer holds it (the job was marked
    failed after its lease expired, or finished)."""
    with engine.begin() as conn:
        until = _clock(conn) + timedelta(seconds=lease_seconds)
        return conn.execute(update(table).where(table.c.id == ident, table.c.runner == token,
                                                table.c.status == "running")
                            .values(lease_expires_at=until)).rowcount == 1


def _interrupted(table: Table, conn: Connection, cond: Any, error: dict[str, Any] | None = None) -> list[str]:
    """Mark the running jobs matching cond failed (their token cleared, so a stray job cannot store a result
    afterwards); their ids."""
    err = error or {"message": INTERRUPTED, "problems": [], "type": "interrupted"}
    return list(conn.execute(update(table).where(table.c.status == "running", cond)
                             .values(status="failed", runner=None, finished_at=now(), error=err)
                             .returning(table.c.id)).scalars())


def _expire(engine: Engine, table: Table) -> list[str]:
    with engine.begin() as conn:
        at = _clock(conn)
        return _interrupted(table, conn, or_(table.c.lease_expires_at.is_(None), table.c.lease_expires_at < at))


def _abandoned(engine: Engine, table: Table, gone: Callable[[str], bool], ident: str | None = None,
               error: dict[str, Any] | None = None) -> list[str]:
    """Fail the running jobs (or the one job `ident`) whose lease holder is a process known to have ended
    (gone(holder)), without waiting for the lease to expire: nobody will renew it."""
    failed = []
    with engine.begin() as conn:
        q = select(table.c.id, table.c.runner, table.c.lease_holder).where(table.c.status == "running",
                                                                          table.c.lease_holder.is_not(None))
        if ident is not None:
            q = q.where(table.c.id == ident)
        for r in conn.execute(q).all():
            if gone(r.lease_holder):
                failed += _interrupted(table, conn, and_(table.c.id == r.id, table.c.runner == r.runner), error)
    return failed


def _recover(engine: Engine, table: Table, gone: Callable[[str], bool]) -> list[str]:
    _expire(engine, table)
    _abandoned(engine, table, gone)
    with engine.connect() as conn:
        return list(conn.execute(select(table.c.id).where(table.c.status == "queued")
                                 .order_by(table.c.created_at)).scalars())


def claim_run(engine: Engine, ident: str, lease_seconds: float | None = None, holder: str | None = None
              ) -> str | None:
    return _claim(engine, pairing_runs, ident, lease_seconds, holder)


def renew_run_lease(engine: Engine, ident: str, token: str, lease_seconds: float) -> bool:
    return _renew(engine, pairing_runs, ident, token, lease_seconds)


def expire_runs(engine: Engine) -> list[str]:
    """Running pairing runs whose lease has expired are marked failed ("interrupted"); their ids."""
    return _expire(engine, pairing_runs)


def fail_abandoned_run(engine: Engine, ident: str, gone: Callable[[str], bool], error: dict[str, Any]) -> bool:
    """The run, if running under a lease whose holder is gone, is marked failed with error at once."""
    return bool(_abandoned(engine, pairing_runs, gone, ident, error))


def set_progress(engine: Engine, ident: str, token: str, progress: float) -> None:
    with engine.begin() as conn:
        conn.execute(update(pairing_runs).where(pairing_runs.c.id == ident, pairing_runs.c.runner == token)
                     .values(progress=progress))


def finish_run(engine: Engine, ident: str, token: str, *, summary: dict[str, Any], files: dict[str, bytes],
               schools: list[dict[str, Any]], caller_key: str) -> bool:
    """Store the result, its files and every school's revision 0 in one transaction; False if the attempt is stale."""
    with engine.begin() as conn:
        n = conn.execute(update(pairing_runs).where(pairing_runs.c.id == ident, pairing_runs.c.runner == token,
                                                    pairing_runs.c.status == "running")
                         .values(status="succeeded", progress=1.0, summary=summary, finished_at=now())).rowcount
        if n != 1:
            conn.rollback()
            return False
        conn.execute(insert(run_files), [{"run_id": ident, "name": k, "content": gzip.compress(v, 6)}
                                         for k, v in files.items()])
        at = now()
        if schools:
            # A school's roster is stored only where the run left teachers of the dataset out (a removal carried
            # from an earlier run); else the dataset's roster holds.
            conn.execute(insert(school_revisions), [{"roster": None, **s, "run_id": ident, "revision": 0,
                                                     "created_at": at, "created_by": caller_key, "request": None,
                                                     "diff": None} for s in schools])
    return True


def fail_run(engine: Engine, ident: str, token: str | None, error: dict[str, Any]) -> None:
    with engine.begin() as conn:
        cond = [pairing_runs.c.id == ident, pairing_runs.c.status.in_(("queued", "running"))]
        if token is not None:
            cond.append(pairing_runs.c.runner == token)
        conn.execute(update(pairing_runs).where(*cond).values(status="failed", error=error, finished_at=now()))


def recover_interrupted(engine: Engine, gone: Callable[[str], bool] = lambda holder: False) -> list[str]:
    """At start-up: running runs whose lease has expired, or whose job process is known to have ended
    (gone(lease_holder): a server restarted on this machine after a crash), are marked failed (their attempt token
    is cleared, so a stray job cannot write a result afterwards). Runs that another live server's job is working
    on are left alone. Returns the queued runs, to start."""
    return _recover(engine, pairing_runs, gone)


def waiting_jobs(engine: Engine, queued_before: datetime, limit: int) -> list[tuple[str, str]]:
    """Up to limit jobs queued before the given time, oldest first, as ("pairing" | "rollout", id): the ones no
    server has taken up (the server that queued one would normally have claimed it at once)."""
    out: list[tuple[datetime, str, str]] = []
    with engine.connect() as conn:
        for kind, table in (("pairing", pairing_runs), ("rollout", rollout_runs)):
            q = (select(table.c.created_at, table.c.id)
                 .where(table.c.status == "queued", table.c.created_at < queued_before)
                 .order_by(table.c.created_at).limit(limit))
            out += [(r.created_at, kind, r.id) for r in conn.execute(q)]
    return [(kind, ident) for _, kind, ident in sorted(out)[:limit]]


def run_file(conn: Connection, ident: str, name: str) -> bytes:
    blob = conn.execute(select(run_files.c.content).where(run_files.c.run_id == ident,
                                                          run_files.c.name == name)).scalar()
    if blob is None:
        raise NotFoundError("file of run", f"{ident}/{name}")
    return gzip.decompress(blob)


# School revisions -----------------------------------------------------------------------------------------------

def latest_revisions(conn: Connection, run_id: str, schools: frozenset[str] | None = None,
                     columns: tuple[str, ...] = ("school_id", "revision", "value", "n_pairs", "n_unmatched")
                     ) -> list[Row]:
    """The newest revision of every school of the run (or of the given schools)."""
    newest = (select(school_revisions.c.school_id, func.max(school_revisions.c.revision).label("top"))
              .where(school_revisions.c.run_id == run_id).group_by(school_revisions.c.school_id))
    if schools is not None:
        newest = newest.where(school_revisions.c.school_id.in_(sorted(schools)))
    sub = newest.subquery()
    q = (select(*[school_revisions.c[c] for c in columns])
         .join(sub, and_(school_revisions.c.school_id == sub.c.school_id, school_revisions.c.revision == sub.c.top))
         .where(school_revisions.c.run_id == run_id).order_by(school_revisions.c.school_id))
    return list(conn.execute(q))


def school_revision(conn: Connection, run_id: str, school_id: str, revision: int | None = None) -> Row:
    """One revision of a school (the newest when revision is None)."""
    _school_shape(school_id)
    q = select(school_revisions).where(school_revisions.c.run_id == run_id,
                                       school_revisions.c.school_id == school_id)
    q = q.order_by(school_revisions.c.revision.desc()).limit(1) if revision is None else \
        q.where(school_revisions.c.revision == revision)
    row = conn.execute(q).first()
    if row is None:
        raise NotFoundError("school in this run" if revision is None else "revision",
                            school_id if revision is None else f"{school_id}@{revision}")
    return row


def latest_roster(conn: Connection, run_id: str, school_id: str, up_to: int) -> dict[str, Any] | None:
    """The roster a school's revision `up_to` was computed on, if a re-match changed it; else None."""
    return conn.execute(select(school_revisions.c.roster)
                        .where(school_revisions.c.run_id == run_id, school_revisions.c.school_id == school_id,
                               school_revisions.c.revision <= up_to, school_revisions.c.roster.is_not(None))
                        .order_by(school_revisions.c.revision.desc()).limit(1)).scalar()


def teachers_elsewhere(conn: Connection, run_id: str, dataset_id: str, school_id: str,
                       teacher_ids: Iterable[str]) -> set[str]:
    """Which of teacher_ids are teachers of another school of the run as those schools stand now (the roster of
    their newest re-match that changed it, else the dataset's)."""
    wanted = set(teacher_ids)
    if not wanted:
        return set()
    t = school_revisions.c
    # Only the id lists are read out of the stored rosters (JSON paths, on SQLite and PostgreSQL alike).
    ids = {r.school_id: r.ids for r in conn.execute(
        select(dataset_schools.c.school_id, dataset_schools.c.roster["teacher_id"].label("ids"))
        .where(dataset_schools.c.dataset_id == dataset_id, dataset_schools.c.school_id != school_id))}
    for r in conn.execute(select(t.school_id, t.roster["teacher_id"].label("ids"))
                          .where(t.run_id == run_id, t.school_id != school_id, t.roster.is_not(None))
                          .order_by(t.revision)):
        ids[r.school_id] = r.ids  # the newest comes last and wins
    return {x for school in ids.values() for x in school if x in wanted}


def revision_rosters(conn: Connection, run_id: str, school_id: str) -> list[dict[str, Any]]:
    """Every roster a re-match saved for the school, oldest first."""
    t = school_revisions.c
    return list(conn.execute(select(t.roster).where(t.run_id == run_id, t.school_id == school_id,
                                                    t.roster.is_not(None)).order_by(t.revision)).scalars())


def revision_requests(conn: Connection, run_id: str, schools: frozenset[str] | None = None) -> list[Row]:
    """Every re-match saved on the run (or on the given schools): school_id, revision, created_at, created_by and
    request, by school and revision."""
    t = school_revisions.c
    q = (select(t.school_id, t.revision, t.created_at, t.created_by, t.request)
         .where(t.run_id == run_id, t.revision > 0).order_by(t.school_id, t.revision))
    if schools is not None:
        q = q.where(t.school_id.in_(sorted(schools)))
    return list(conn.execute(q))


ROLE_WORDS = {"state": "State office", "principal": "Principal", "researcher": "Researcher"}


def key_labels(conn: Connection, key_ids: Iterable[str]) -> dict[str, str]:
    """key id -> how people read who made something: the key's label, or its role where the label is blank (never
    its id)."""
    ids = sorted(set(key_ids))
    if not ids:
        return {}
    rows = conn.execute(select(api_keys.c.id, api_keys.c.role, api_keys.c.label).where(api_keys.c.id.in_(ids)))
    return {r.id: (r.label or "").strip() or ROLE_WORDS.get(r.role, r.role) for r in rows}


def revision_history(conn: Connection, run_id: str, school_id: str) -> list[Row]:
    _school_shape(school_id)
    cols = [school_revisions.c[c] for c in ("revision", "created_at", "created_by", "request", "diff", "value",
                                            "n_pairs", "n_unmatched")]
    return list(conn.execute(select(*cols).where(school_revisions.c.run_id == run_id,
                                                 school_revisions.c.school_id == school_id)
                             .order_by(school_revisions.c.revision)))


def insert_revision(engine: Engine, values: dict[str, Any]) -> bool:
    """Add the next revision of a school; False when a concurrent request took that number first."""
    try:
        with engine.begin() as conn:
            conn.execute(insert(school_revisions).values(**values, created_at=now()))
    except IntegrityError:
        return False
    return True


# Audit trail ----------------------------------------------------------------------------------------------------

def audit(engine: Engine, caller: Caller, action: str, target: str, status: int, detail: dict[str, Any]) -> None:
    with engine.begin() as conn:
        conn.execute(insert(audit_log).values(at=now(), key_id=caller.key_id, role=caller.role, action=action,
                                              target=target, status=status,
                                              detail=json.dumps(detail, default=str, sort_keys=True)))


def audit_entries(conn: Connection, target_prefix: str | None = None, limit: int = 1000) -> list[Row]:
    q = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if target_prefix:
        q = q.where(audit_log.c.target.startswith(target_prefix, autoescape=True))
    return list(conn.execute(q))


# Rollout simulations ----------------------------------------------------------------------------------------------

def insert_rollout(conn: Connection, *, design: dict[str, Any], request: dict[str, Any], dataset_id: str | None,
                   caller: Caller) -> str:
    ident = new_id()
    conn.execute(insert(rollout_runs).values(id=ident, dataset_id=dataset_id, status="queued", progress=0.0,
                                             design=design, request=request, created_at=now(),
                                             created_by=caller.key_id))
    return ident


def get_rollout(conn: Connection, ident: str, with_tables: bool = False) -> Row:
    _known_shape("rollout", ident)
    cols = [c for c in rollout_runs.c if with_tables or c.name != "tables"]
    row = conn.execute(select(*cols).where(rollout_runs.c.id == ident)).first()
    if row is None:
        raise NotFoundError("rollout", ident)
    return row


def list_rollouts(conn: Connection, created_by: str | None = None) -> list[Row]:
    """Newest first, without the balance and power-curve rows; only one key's when created_by is given."""
    q = select(*[c for c in rollout_runs.c if c.name != "tables"]).order_by(rollout_runs.c.created_at.desc())
    if created_by is not None:
        q = q.where(rollout_runs.c.created_by == created_by)
    return list(conn.execute(q))


def claim_rollout(engine: Engine, ident: str, lease_seconds: float | None = None, holder: str | None = None
                  ) -> str | None:
    return _claim(engine, rollout_runs, ident, lease_seconds, holder)


def renew_rollout_lease(engine: Engine, ident: str, token: str, lease_seconds: float) -> bool:
    return _renew(engine, rollout_runs, ident, token, lease_seconds)


def expire_rollouts(engine: Engine) -> list[str]:
    return _expire(engine, rollout_runs)


def fail_abandoned_rollout(engine: Engine, ident: str, gone: Callable[[str], bool], error: dict[str, Any]) -> bool:
    return bool(_abandoned(engine, rollout_runs, gone, ident, error))


def set_rollout_progress(engine: Engine, ident: str, token: str, progress: float) -> None:
    with engine.begin() as conn:
        conn.execute(update(rollout_runs).where(rollout_runs.c.id == ident, rollout_runs.c.runner == token,
                                                rollout_runs.c.status == "running").values(progress=progress))


def finish_rollout(engine: Engine, ident: str, token: str, *, summary: dict[str, Any], tables: dict[str, Any],
                   files: dict[str, tuple[bytes, str]]) -> bool:
    """Store the summary, tables and files (name -> (bytes, media type)) at once; False if the attempt is stale."""
    with engine.begin() as conn:
        n = conn.execute(update(rollout_runs).where(rollout_runs.c.id == ident, rollout_runs.c.runner == token,
                                                    rollout_runs.c.status == "running")
                         .values(status="succeeded", progress=1.0, summary=summary, tables=tables,
                                 finished_at=now())).rowcount
        if n != 1:
            conn.rollback()
            return False
        conn.execute(insert(rollout_files), [{"run_id": ident, "name": k, "media_type": media,
                                              "content": gzip.compress(data, 6)}
                                             for k, (data, media) in files.items()])
    return True


def fail_rollout(engine: Engine, ident: str, token: str | None, error: dict[str, Any]) -> None:
    with engine.begin() as conn:
        cond = [rollout_runs.c.id == ident, rollout_runs.c.status.in_(("queued", "running"))]
        if token is not None:
            cond.append(rollout_runs.c.runner == token)
        conn.execute(update(rollout_runs).where(*cond).values(status="failed", error=error, finished_at=now()))


def recover_interrupted_rollouts(engine: Engine, gone: Callable[[str], bool] = lambda holder: False) -> list[str]:
    """At start-up, as recover_interrupted does for pairing runs: expired or abandoned running rollouts -> failed,
    the queued ones returned."""
    return _recover(engine, rollout_runs, gone)


def rollout_file(conn: Connection, ident: str, name: str) -> tuple[bytes, str]:
    """A file's bytes and media type."""
    row = conn.execute(select(rollout_files.c.content, rollout_files.c.media_type)
                       .where(rollout_files.c.run_id == ident, rollout_files.c.name == name)).first()
    if row is None:
        raise NotFoundError("file of rollout", f"{ident}/{name}")
    return gzip.decompress(row.content), row.media_type


def rollout_file_names(conn: Connection, idents: list[str]) -> dict[str, list[tuple[str, str]]]:
    """Each rollout's files as (name, media type), in name order."""
    out: dict[str, list[tuple[str, str]]] = {}
    if not idents:
        return out
    q = (select(rollout_files.c.run_id, rollout_files.c.name, rollout_files.c.media_type)
         .where(rollout_files.c.run_id.in_(idents)).order_by(rollout_files.c.run_id, rollout_files.c.name))
    for r in conn.execute(q):
        out.setdefault(r.run_id, []).append((r.name, r.media_type))
    return out
