"""What the web page shows a state analyst about a stored run: a per-school overview (pairs, coverage, value) as
the schools stand now, and the CLI's per-school HTML reports rendered from the stored revisions."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from sqlalchemy import Connection

from ..errors import NotFoundError
from ..pairing.result import PairingResult
from ..policy import policy_from_dict
from ..report.outputs import safe_name
from ..report.school_page import render_school
from ..rubric import bundled
from ..store import repo
from ..store.codec import pair_of, table_of, unmatched_of


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
    out = []
    for r in rows:
        paired = len(school_teachers_in_pairs(r.school_id, r.pairs))
        n = paired + r.n_unmatched
        out.append({"school_id": r.school_id, "revision": r.revision, "value": r.value, "n_pairs": r.n_pairs,
                    "n_teachers": n, "n_paired": paired, "n_unmatched": r.n_unmatched,
                    "coverage": round(paired / n, 4) if n else 0.0})
    return out


def _roster(conn: Connection, run: Any, school_id: str, revision: int) -> dict[str, Any]:
    roster = repo.latest_roster(conn, run.id, school_id, revision) or repo.school_roster(conn, run.dataset_id,
                                                                                         school_id)
    if roster is None:
        raise NotFoundError("school in this run", school_id)
    return roster


def _render(conn: Connection, run: Any, rubric_name: str, school_id: str, row: Any) -> str:
    """One school's page, as `matcher pair` writes schools/<id>.html, for the given stored revision."""
    own = _roster(conn, run, school_id, row.revision)
    pairs = [pair_of(d) for d in row.pairs]
    others = sorted({s for p in pairs for s in (p.school_id, p.school_b) if s and s != school_id})
    rosters = [(school_id, own)]
    for s in others:  # the colleague of a pair across schools: their scores are in their own school's roster
        at = repo.school_revision(conn, run.id, s).revision
        rosters.append((s, _roster(conn, run, s, at)))
    rubric = bundled(rubric_name)
    table = table_of(rubric, rosters)
    result = PairingResult(pairs=tuple(pairs), unmatched=tuple(unmatched_of(d) for d in row.unmatched),
                           summary=run.summary, policy=policy_from_dict(run.policy), teachers=table)
    return render_school(result, school_id, pairs, list(result.unmatched), len(own["teacher_id"]))


def _succeeded(conn: Connection, run_id: str) -> tuple[Any, str]:
    run = repo.get_run(conn, run_id)
    if run.status != "succeeded":
        raise NotFoundError(f"result of run (it is {run.status})", run_id)
    return run, repo.get_dataset(conn, run.dataset_id).rubric


def school_report(conn: Connection, run_id: str, school_id: str, revision: int | None = None) -> str:
    run, rubric_name = _succeeded(conn, run_id)
    row = repo.school_revision(conn, run_id, school_id, revision)
    return _render(conn, run, rubric_name, school_id, row)


def reports_zip(conn: Connection, run_id: str, schools: frozenset[str] | None) -> bytes:
    """schools/<id>.html for every school (within the caller's scope) at its newest revision, in one zip."""
    run, rubric_name = _succeeded(conn, run_id)
    rows = repo.latest_revisions(conn, run_id, schools, columns=("school_id", "revision", "pairs", "unmatched"))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for r in rows:
            z.writestr(f"schools/{safe_name(r.school_id)}.html", _render(conn, run, rubric_name, r.school_id, r))
    return buf.getvalue()


def report_filename(school_id: str) -> str:
    return f"{safe_name(school_id)}.html"
