"""What the web page shows a state analyst about a stored run: a per-school overview (pairs, coverage, value) as
the schools stand now, the CLI's per-school HTML reports and the pairs' handouts, rendered from the stored
revisions."""

from __future__ import annotations

import io
import zipfile
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, select

from ..errors import NotFoundError
from ..io.file_keys import file_key
from ..pairing.result import Pair, PairingResult
from ..policy import policy_from_dict
from ..report.handouts import Handouts, LinkBuilder, cli_link, handout_key, handout_path
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


def _school_result(conn: Connection, run: Any, rubric_name: str, school_id: str, row: Any, rosters: _Rosters,
                   latest: dict[str, int] | None = None) -> tuple[PairingResult, int]:
    """The school at a stored revision as the CLI's result holds it (its pairs, unmatched teachers, and a table of
    its roster plus the rosters of its colleagues at other schools), and its number of teachers."""
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
    return result, len(own["teacher_id"])


def _render(conn: Connection, run: Any, rubric_name: str, school_id: str, row: Any, rosters: _Rosters,
            latest: dict[str, int] | None = None, handout_link: LinkBuilder = cli_link) -> str:
    """One school's page, as `matcher pair` writes schools/<id>.html, for the given stored revision."""
    result, n = _school_result(conn, run, rubric_name, school_id, row, rosters, latest)
    return render_school(result, school_id, list(result.pairs), list(result.unmatched), n, handout_link)


def api_handout_link(run_id: str, revision: int | None = None) -> LinkBuilder:
    """Links from the API's report.html to the handout route (of that revision, when one was asked for)."""
    at = "" if revision is None else f"?revision={revision}"

    def link(school_id: str, pair: Pair) -> str:
        return (f"/v1/pairings/{quote(run_id, safe='')}/schools/{file_key(school_id)}/pairs/"
                f"{handout_key(pair.teacher_a, pair.teacher_b)}/handout.html{at}")
    return link


def _succeeded(conn: Connection, run_id: str) -> tuple[Any, str]:
    run = repo.get_run(conn, run_id)
    if run.status != "succeeded":
        raise NotFoundError(f"result of run (it is {run.status})", run_id)
    return run, repo.get_dataset(conn, run.dataset_id).rubric


def school_report(conn: Connection, run_id: str, school_id: str, revision: int | None = None) -> str:
    run, rubric_name = _succeeded(conn, run_id)
    row = repo.school_revision(conn, run_id, school_id, revision)
    return _render(conn, run, rubric_name, school_id, row, _Rosters(conn, run),
                   handout_link=api_handout_link(run_id, revision))


def reports_zip(conn: Connection, run_id: str, schools: frozenset[str] | None) -> bytes:
    """schools/<key>.html for every school (within the caller's scope) at its newest revision, in one zip: the
    CLI's pages byte for byte, so their links lead to handouts/<key>/... where a school's handouts.zip is unpacked
    beside them."""
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


def _handouts_of(conn: Connection, run_id: str, school_id: str, scores: bool,
                 revision: int | None) -> tuple[PairingResult, Handouts]:
    run, rubric_name = _succeeded(conn, run_id)
    row = repo.school_revision(conn, run_id, school_id, revision)
    result, _ = _school_result(conn, run, rubric_name, school_id, row, _Rosters(conn, run))
    return result, Handouts(result.teachers, result.policy, scores)


def handout(conn: Connection, run_id: str, school_id: str, key: str, scores: bool = False,
            revision: int | None = None) -> str:
    """The handout of the school's pair whose handout key is `key`, at the revision (default: the newest)."""
    result, pages = _handouts_of(conn, run_id, school_id, scores, revision)
    for p in result.pairs:
        if handout_key(p.teacher_a, p.teacher_b) == key:
            return pages.render(p, school_id)
    raise NotFoundError("pair in this school's suggestion", key)


def handouts_zip(conn: Connection, run_id: str, school_id: str, scores: bool = False) -> bytes:
    """handouts/<school key>/<pair key>.html for every pair of the school at its newest revision (the CLI's
    files, so the zip unpacks beside reports.zip's schools/)."""
    result, pages = _handouts_of(conn, run_id, school_id, scores, None)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for p in result.pairs:
            z.writestr(handout_path(school_id, p), pages.render(p, school_id))
    return buf.getvalue()


def handouts_filename(school_id: str) -> str:
    return f"handouts-{file_key(school_id)}.zip"
