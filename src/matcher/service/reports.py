"""What the web page shows a state analyst about a stored run: a per-school overview (pairs, coverage, value) as
the schools stand now, and the CLI's per-school HTML reports rendered from the stored revisions."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from sqlalchemy import Connection, select

from ..errors import NotFoundError
from ..io.file_keys import file_key
from ..pairing.result import PairingResult
from ..policy import policy_from_dict
from ..report.school_page import render_school
from ..rubric import bundled
from ..store import repo
from ..store.codec import pair_of, table_of, unmatched_of
from ..store.tables import school_revisions


def school_teachers_in_pairs(school_id: str, pairs: list[dict[str, Any]]) -> set[str]:
    """The school's own teachers among its pairs: a pair across schools has one teacher here, one at school_b."""
    out: set[str] = set()
    for p in pairs:
        other = p.get("school_b") or ""
        if other and other != p["school_id"]:
            out.add(p["teacher_a"] if p["school_id"] == school_id else p["teacher_b"])
        else:
            out.update((p["teacher_a"], p["teacher_b"]))
    return out


def overview(conn: Connection, run_id: str, schools: frozenset[str] | None) -> list[dict[str, Any]]:
    """Every school at its newest revision: pairs, teachers in a pair, coverage (their share of the school's
    teachers), value. Every teacher of a school is either in a pair or listed unmatched with a reason."""
    rows = repo.latest_revisions(conn, run_id, schools, columns=("school_id", "revision", "value", "n_pairs",
                                                                 "n_unmatched", "pairs"))
    names = repo.school_names(conn, repo.get_run(conn, run_id).dataset_id, schools)
    out = []
    for r in rows:
        paired = len(school_teachers_in_pairs(r.school_id, r.pairs))
        n = paired + r.n_unmatched
        out.append({"school_id": r.school_id, "key": file_key(r.school_id), "school_name": names.get(r.school_id, ""),
                    "revision": r.revision, "value": r.value, "n_pairs": r.n_pairs, "n_teachers": n,
                    "n_paired": paired, "n_unmatched": r.n_unmatched, "coverage": round(paired / n, 4) if n else 0.0})
    return out


class _Rosters:
    """Each school's roster at a revision: the dataset's, or the newest one a re-match saved up to that revision.
    For a whole run's reports they are read in two queries instead of two per school."""

    def __init__(self, conn: Connection, run: Any, preload: bool = False):
        self.conn, self.run, self.preloaded = conn, run, preload
        self.base: dict[str, dict[str, Any]] = {}
        self.changed: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self.school_names: dict[str, str] | None = None
        if preload:
            rows = repo.dataset_schools_of(conn, run.dataset_id, with_roster=True)
            self.base = {r.school_id: r.roster for r in rows}
            self.school_names = {r.school_id: r.name for r in rows if r.name}
            t = school_revisions.c
            for r in conn.execute(select(t.school_id, t.revision, t.roster)
                                  .where(t.run_id == run.id, t.roster.is_not(None)).order_by(t.revision)):
                self.changed.setdefault(r.school_id, []).append((r.revision, r.roster))

    def names(self, schools: list[str]) -> dict[str, str]:
        """school_id -> name for the given schools that have one."""
        if self.school_names is not None:
            return {s: self.school_names[s] for s in schools if s in self.school_names}
        return repo.school_names(self.conn, self.run.dataset_id, schools)

    def get(self, school_id: str, revision: int) -> dict[str, Any]:
        if self.preloaded:
            saved = [ros for rev, ros in self.changed.get(school_id, []) if rev <= revision]
            roster = saved[-1] if saved else self.base.get(school_id)
        else:
            roster = repo.latest_roster(self.conn, self.run.id, school_id, revision) or \
                repo.school_roster(self.conn, self.run.dataset_id, school_id)
        if roster is None:
            raise NotFoundError("school in this run", school_id)
        return roster


def _render(conn: Connection, run: Any, rubric_name: str, school_id: str, row: Any, rosters: _Rosters,
            latest: dict[str, int] | None = None) -> str:
    """One school's page, as `matcher pair` writes schools/<id>.html, for the given stored revision."""
    own = rosters.get(school_id, row.revision)
    pairs = [pair_of(d) for d in row.pairs]
    others = sorted({s for p in pairs for s in (p.school_id, p.school_b) if s and s != school_id})
    parts = [(school_id, own)]
    for s in others:  # the colleague of a pair across schools: their name is in their own school's roster
        at = latest[s] if latest and s in latest else repo.school_revision(conn, run.id, s).revision
        parts.append((s, rosters.get(s, at)))
    policy = policy_from_dict(run.policy)
    # The colleague's school's roster is there for their name (labels tell apart namesakes within one school),
    # never for their scores: the page shows no other school's scores. Scores are under the run's aggregate.
    table = table_of(bundled(rubric_name), parts, school_names=rosters.names([s for s, _ in parts]))
    table = table.aggregated(policy.aggregate)
    result = PairingResult(pairs=tuple(pairs), unmatched=tuple(unmatched_of(d) for d in row.unmatched),
                           summary=run.summary, policy=policy, teachers=table)
    return render_school(result, school_id, pairs, list(result.unmatched), len(own["teacher_id"]))


def _succeeded(conn: Connection, run_id: str) -> tuple[Any, str]:
    run = repo.get_run(conn, run_id)
    if run.status != "succeeded":
        raise NotFoundError(f"result of run (it is {run.status})", run_id)
    return run, repo.get_dataset(conn, run.dataset_id).rubric


def school_report(conn: Connection, run_id: str, school_id: str, revision: int | None = None) -> str:
    run, rubric_name = _succeeded(conn, run_id)
    row = repo.school_revision(conn, run_id, school_id, revision)
    return _render(conn, run, rubric_name, school_id, row, _Rosters(conn, run))


def reports_zip(conn: Connection, run_id: str, schools: frozenset[str] | None) -> bytes:
    """schools/<key>.html for every school (within the caller's scope) at its newest revision, in one zip."""
    run, rubric_name = _succeeded(conn, run_id)
    rows = repo.latest_revisions(conn, run_id, schools, columns=("school_id", "revision", "pairs", "unmatched"))
    everyone = schools is None  # a principal's few schools are cheaper one by one
    rosters = _Rosters(conn, run, preload=everyone)
    latest = {r.school_id: r.revision for r in rows} if everyone else None
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for r in rows:
            z.writestr(f"schools/{file_key(r.school_id)}.html",
                       _render(conn, run, rubric_name, r.school_id, r, rosters, latest))
    return buf.getvalue()


def report_filename(school_id: str) -> str:
    return f"{file_key(school_id)}.html"
