"""Teachers, pairs and unmatched teachers to and from the JSON the database stores."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..io.teachers import TeacherTable
from ..pairing.result import Pair, Unmatched
from ..rubric import Rubric


def _num(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def roster_of(table: TeacherTable, rows: np.ndarray) -> dict[str, Any]:
    """The given rows of the table as column lists (NaN as null), with their positions in the table."""
    return {
        "row": [int(r) for r in rows],
        "teacher_id": table.teacher_id[rows].tolist(),
        "district_id": table.district_id[rows].tolist(),
        "subject": table.subject[rows].tolist(),
        "grades": [int(g) for g in table.grades[rows]],
        "grades_text": table.grades_text[rows].tolist(),
        "years": [_num(y) for y in table.years[rows]],
        "opt_out": [bool(o) for o in table.opt_out[rows]],
        "scores": [[_num(s) for s in line] for line in table.scores[rows].tolist()],
    }


def table_of(rubric: Rubric, schools: Iterable[tuple[str, dict[str, Any]]], source: str = "") -> TeacherTable:
    """One TeacherTable from (school_id, roster) items, in the rosters' original row order."""
    parts = list(schools)
    rows = [r for _, ros in parts for r in ros["row"]]
    order = np.argsort(np.asarray(rows, dtype=np.int64), kind="stable")

    def col(key: str, dtype: Any = object) -> np.ndarray:
        return np.asarray([x for _, ros in parts for x in ros[key]], dtype=dtype)[order]

    school = np.asarray([s for s, ros in parts for _ in ros["teacher_id"]], dtype=object)[order]
    k = len(rubric.indicators)
    scores = np.asarray([[np.nan if s is None else s for s in line] for _, ros in parts for line in ros["scores"]],
                        dtype=float).reshape(-1, k)[order]
    years = np.asarray([np.nan if y is None else y for _, ros in parts for y in ros["years"]], dtype=float)[order]
    return TeacherTable(rubric=rubric, teacher_id=col("teacher_id"), school_id=school,
                        district_id=col("district_id"), subject=col("subject"), grades=col("grades", np.int64),
                        grades_text=col("grades_text"), years=years, opt_out=col("opt_out", bool), scores=scores,
                        source=source)


def teachers_view(rubric: Rubric, roster: dict[str, Any]) -> list[dict[str, Any]]:
    """A school's teachers as the API shows them to those allowed to see the school."""
    return [{"teacher_id": t, "subject": s, "grades": g, "years_experience": y, "opt_out": o,
             "scores": dict(zip(rubric.indicators, sc, strict=True))}
            for t, s, g, y, o, sc in zip(roster["teacher_id"], roster["subject"], roster["grades_text"],
                                         roster["years"], roster["opt_out"], roster["scores"], strict=True)]


def pair_dict(p: Pair) -> dict[str, Any]:
    d = p._asdict()
    d["a_helps_b"], d["b_helps_a"] = list(p.a_helps_b), list(p.b_helps_a)
    return d


def pair_of(d: dict[str, Any]) -> Pair:
    return Pair(**{**d, "a_helps_b": tuple(d["a_helps_b"]), "b_helps_a": tuple(d["b_helps_a"])})


def unmatched_dict(u: Unmatched) -> dict[str, Any]:
    return u._asdict()


def unmatched_of(d: dict[str, Any]) -> Unmatched:
    return Unmatched(**d)


def group_by_school(pairs: Sequence[Pair], unmatched: Sequence[Unmatched]
                    ) -> dict[str, tuple[list[Pair], list[Unmatched]]]:
    """school_id -> (its pairs, its unmatched teachers); a cross-school pair belongs to both schools."""
    out: dict[str, tuple[list[Pair], list[Unmatched]]] = {}
    for p in pairs:
        out.setdefault(p.school_id, ([], []))[0].append(p)
        if p.school_b and p.school_b != p.school_id:
            out.setdefault(p.school_b, ([], []))[0].append(p)
    for u in unmatched:
        out.setdefault(u.school_id, ([], []))[1].append(u)
    return out
