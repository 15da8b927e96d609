"""Write pairs.csv, unmatched.csv, summary.json, schools/<key>.html and handouts/<key>/<pair>.html (io.file_keys,
report.handouts), all published at once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..io.atomic import staged_directory
from ..io.csv_out import csv_text
from ..io.file_keys import file_key
from ..pairing.result import Pair, PairingResult, Unmatched
from ..parallel import fork_map
from .handouts import Handouts, handout_path
from .school_page import render_school

# Each name sits beside its id ("" when the teacher file gave none). io.pair_lists reads teacher_a and teacher_b
# by name, so a pairs.csv with or without the name columns works as --previous.
PAIR_COLUMNS = ("school_id", "school_name", "teacher_a", "teacher_a_name", "teacher_b", "teacher_b_name", "value",
                "a_helps_b", "b_helps_a", "focus_indicator", "explanation", "school_b", "school_b_name", "origin",
                "previous", "mode")
UNMATCHED_COLUMNS = ("school_id", "school_name", "teacher_id", "teacher_name", "reason", "code")


def pairs_csv(pairs: tuple[Pair, ...] | list[Pair], mode: str) -> str:
    """pairs.csv, formula cells neutralised (io.csv_out)."""
    return csv_text(PAIR_COLUMNS, ((p.school_id, p.school_name, p.teacher_a, p.teacher_a_name, p.teacher_b,
                                    p.teacher_b_name, f"{p.value:g}", ";".join(p.a_helps_b), ";".join(p.b_helps_a),
                                    p.focus_indicator, p.explanation, p.school_b, p.school_b_name, p.origin,
                                    p.previous, mode)
                                   for p in pairs))


def unmatched_csv(rows: tuple[Unmatched, ...] | list[Unmatched]) -> str:
    return csv_text(UNMATCHED_COLUMNS, ((u.school_id, u.school_name, u.teacher_id, u.teacher_name, u.reason, u.code)
                                        for u in rows))


def summary_json(summary: dict[str, Any]) -> str:
    return json.dumps(summary, indent=2, sort_keys=False) + "\n"


@dataclass(frozen=True)
class _Pages:
    """Everything the school pages and the handouts need, grouped by school once."""

    result: PairingResult
    pairs: dict[str, list[Pair]]
    unmatched: dict[str, list[Unmatched]]
    counts: dict[str, int]
    handouts: Handouts

    @staticmethod
    def of(result: PairingResult, handout_scores: bool = False) -> _Pages:
        pairs: dict[str, list[Pair]] = {}
        for p in result.pairs:
            pairs.setdefault(p.school_id, []).append(p)
            if p.school_b:
                pairs.setdefault(p.school_b, []).append(p)
        unmatched: dict[str, list[Unmatched]] = {}
        for u in result.unmatched:
            unmatched.setdefault(u.school_id, []).append(u)
        counts: dict[str, int] = {}
        for sid in result.teachers.school_id.tolist():
            counts[sid] = counts.get(sid, 0) + 1
        # Computed here, before the workers fork, so that they share it instead of each computing it again.
        _ = result.teachers.labels, result.teachers.index
        return _Pages(result, pairs, unmatched, counts, Handouts(result.teachers, result.policy, handout_scores))

    def write(self, schools: list[str], folder: Path) -> None:
        """schools/<key>.html and handouts/<key>/<pair>.html of each school (folder: the staged output)."""
        for s in schools:
            pairs = self.pairs.get(s, [])
            html = render_school(self.result, s, pairs, self.unmatched.get(s, []), self.counts[s])
            (folder / "schools" / f"{file_key(s)}.html").write_text(html, encoding="utf-8")
            if pairs:
                (folder / "handouts" / file_key(s)).mkdir()
                for p in pairs:
                    (folder / handout_path(s, p)).write_text(self.handouts.render(p, s), encoding="utf-8")


def write_outputs(result: PairingResult, out_dir: str | Path, workers: int = 1, handout_scores: bool = False) -> Path:
    """Write every output into out_dir at once; out_dir is untouched if anything fails.

    workers > 1 renders school pages and handouts in workers - 1 forked processes while this one writes the CSV
    files and then joins in on the pages. handout_scores: the handouts show the pair's scores (this school's
    teachers' only).
    """
    pages = _Pages.of(result, handout_scores)
    schools = sorted(pages.counts)
    mode = result.policy.mode
    with staged_directory(out_dir) as stage:
        (stage / "schools").mkdir()
        (stage / "handouts").mkdir()

        def csv_files() -> None:
            (stage / "pairs.csv").write_text(pairs_csv(result.pairs, mode), encoding="utf-8")
            (stage / "unmatched.csv").write_text(unmatched_csv(result.unmatched), encoding="utf-8")
            (stage / "summary.json").write_text(summary_json(result.summary), encoding="utf-8")

        n = workers * 8 if workers > 1 and len(schools) >= 100 else 1
        fork_map(lambda chunk: pages.write(chunk, stage), [schools[i::n] for i in range(n)], workers if n > 1 else 1,
                 meanwhile=csv_files)
    return Path(out_dir)
