"""Write pairs.csv, unmatched.csv, summary.json and schools/<id>.html, all published at once."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from ..io.atomic import staged_directory
from ..pairing.result import Pair, PairingResult, Unmatched
from .school_page import render_school

PAIR_COLUMNS = ("school_id", "teacher_a", "teacher_b", "value", "a_helps_b", "b_helps_a", "focus_indicator",
                "explanation", "school_b", "origin", "previous", "mode")
UNMATCHED_COLUMNS = ("school_id", "teacher_id", "reason", "code")


def pairs_csv(pairs: tuple[Pair, ...] | list[Pair], mode: str) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(PAIR_COLUMNS)
    for p in pairs:
        w.writerow([p.school_id, p.teacher_a, p.teacher_b, f"{p.value:g}", ";".join(p.a_helps_b),
                    ";".join(p.b_helps_a), p.focus_indicator, p.explanation, p.school_b, p.origin, p.previous, mode])
    return buf.getvalue()


def unmatched_csv(rows: tuple[Unmatched, ...] | list[Unmatched]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(UNMATCHED_COLUMNS)
    for u in rows:
        w.writerow([u.school_id, u.teacher_id, u.reason, u.code])
    return buf.getvalue()


def safe_name(school_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", school_id) or "_"


def summary_json(summary: dict[str, Any]) -> str:
    return json.dumps(summary, indent=2, sort_keys=False) + "\n"


def write_outputs(result: PairingResult, out_dir: str | Path) -> Path:
    """Write every output into out_dir at once; out_dir is untouched if anything fails."""
    by_school_pairs: dict[str, list[Pair]] = {}
    for p in result.pairs:
        by_school_pairs.setdefault(p.school_id, []).append(p)
        if p.school_b:
            by_school_pairs.setdefault(p.school_b, []).append(p)
    by_school_un: dict[str, list[Unmatched]] = {}
    for u in result.unmatched:
        by_school_un.setdefault(u.school_id, []).append(u)
    counts: dict[str, int] = {}
    for sid in result.teachers.school_id.tolist():
        counts[sid] = counts.get(sid, 0) + 1
    mode = result.policy.mode
    with staged_directory(out_dir) as stage:
        (stage / "pairs.csv").write_text(pairs_csv(result.pairs, mode), encoding="utf-8")
        (stage / "unmatched.csv").write_text(unmatched_csv(result.unmatched), encoding="utf-8")
        (stage / "summary.json").write_text(summary_json(result.summary), encoding="utf-8")
        sdir = stage / "schools"
        sdir.mkdir()
        for s in sorted(counts):
            html = render_school(result, s, by_school_pairs.get(s, []), by_school_un.get(s, []), counts[s])
            (sdir / f"{safe_name(s)}.html").write_text(html, encoding="utf-8")
    return Path(out_dir)
