"""Teachers, pairs and unmatched teachers to and from the JSON the database stores."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ..io.table import AREA_FIELDS, TEXT_FIELDS, TeacherTable
from ..pairing.result import Pair, Unmatched
from ..rubric import Rubric


def _num(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


# Per-teacher text the roster keeps when some teacher of the school has it (a roster stored before these existed,
# or a school without them, reads as "" for everyone). The school's name is a column of dataset_schools.
TEXT_KEYS = tuple(f for f in TEXT_FIELDS if f != "school_name")


def _matrix(lines: list[list[float | None]], k: int) -> np.ndarray:
    return np.asarray([[np.nan if s is None else s for s in line] for line in lines], dtype=float).reshape(-1, k)


def _area_names(rubric: Rubric, marks: np.ndarray) -> list[list[str]]:
    """Each teacher's named areas as indicator names (a roster stores names, not positions)."""
    inds = rubric.indicators
    return [[inds[j] for j in np.flatnonzero(row).tolist()] for row in marks]


def _area_marks(rubric: Rubric, lines: list[list[str]]) -> np.ndarray:
    """The inverse of _area_names: (teachers, indicators) bool; a name the rubric does not know is skipped."""
    pos = {ind: j for j, ind in enumerate(rubric.indicators)}
    out = np.zeros((len(lines), len(pos)), dtype=bool)
    for i, names in enumerate(lines):
        for name in names:
            if name in pos:
                out[i, pos[name]] = True
    return out


def roster_of(table: TeacherTable, rows: np.ndarray, several: bool | None = None) -> dict[str, Any]:
    """The given rows of the table as column lists (NaN as null), with their positions in the table.

    Observation counts and the other aggregates' scores are kept only when some score of the table rests on
    several observations (`several`: table.several_observations, given when the caller knows it): with one
    observation per score they are implied by the scores, and a statewide roster stays small."""
    out: dict[str, Any] = {
        "row": [int(r) for r in rows],
        "teacher_id": table.teacher_id[rows].tolist(),
        "district_id": table.district_id[rows].tolist(),
        "subject": table.subject[rows].tolist(),
        "grades": [int(g) for g in table.grades[rows]],
        "grades_text": table.grades_text[rows].tolist(),
        "years": [_num(y) for y in table.years[rows]],
        "opt_out": [bool(o) for o in table.opt_out[rows]],
        "scores": [[_num(s) for s in line] for line in table.scores[rows].tolist()],
        "aggregate": table.aggregate,
    }
    for key in TEXT_KEYS:
        values = getattr(table, key)[rows].tolist()
        if any(values):
            out[key] = values
    if table.extras:
        out["extras"] = {c: v[rows].tolist() for c, v in table.extras}
    for key in AREA_FIELDS:  # kept only when the file had the column (areas = "designated" needs it)
        marks = getattr(table, key)
        if marks is not None:
            out[key] = _area_names(table.rubric, marks[rows])
    if table.several_observations if several is None else several:
        out["n_obs"] = table.n_obs[rows].tolist()
        out["other_scores"] = {a: [[_num(x) for x in line] for line in sc[rows].tolist()]
                               for a, sc in table.other_scores}
    return out


def _observed(roster: dict[str, Any]) -> list[list[int]]:
    """One observation per observed score: what a roster without counts stands for."""
    return [[int(s is not None) for s in line] for line in roster["scores"]]


def table_of(rubric: Rubric, schools: Iterable[tuple[str, dict[str, Any]]], source: str = "",
             school_names: Mapping[str, str] | None = None) -> TeacherTable:
    """One TeacherTable from (school_id, roster) items, in the rosters' original row order; school_names
    (school_id -> name, as dataset_schools keeps them) names the schools. Keys a roster lacks (one stored before
    they existed) take their defaults: no names, one observation per observed score, and no named areas (a
    dataset whose rosters have no reinforcement_areas / refinement_areas key had no such column)."""
    parts = list(schools)
    rows = [r for _, ros in parts for r in ros["row"]]
    order = np.argsort(np.asarray(rows, dtype=np.int64), kind="stable")
    k = len(rubric.indicators)

    def col(key: str, dtype: Any = object) -> np.ndarray:
        return np.asarray([x for _, ros in parts for x in ros.get(key) or [""] * len(ros["teacher_id"])],
                          dtype=dtype)[order]

    def matrix(of: Any) -> np.ndarray:
        return _matrix([line for _, ros in parts for line in of(ros)], k)[order]

    school = np.asarray([s for s, ros in parts for _ in ros["teacher_id"]], dtype=object)[order]
    names = school_names or {}
    years = np.asarray([np.nan if y is None else y for _, ros in parts for y in ros["years"]], dtype=float)[order]
    n_obs = None
    if any("n_obs" in ros for _, ros in parts):
        n_obs = np.asarray([line for _, ros in parts for line in (ros.get("n_obs") or _observed(ros))],
                           dtype=np.int32).reshape(-1, k)[order]
    aggregates = list(dict.fromkeys(a for _, ros in parts for a in ros.get("other_scores") or {}))
    # A roster without a stored aggregate has one observation per score, so its scores stand for every aggregate.
    other = tuple((a, matrix(lambda ros, a=a: (ros.get("other_scores") or {}).get(a, ros["scores"])))
                  for a in aggregates)
    columns = list(dict.fromkeys(c for _, ros in parts for c in ros.get("extras") or {}))
    extras = tuple((c, np.asarray([x for _, ros in parts
                                   for x in (ros.get("extras") or {}).get(c) or [""] * len(ros["teacher_id"])],
                                  dtype=object)[order]) for c in columns)
    areas = {key: _area_marks(rubric, [line for _, ros in parts
                                       for line in ros.get(key) or [[]] * len(ros["teacher_id"])])[order]
             if any(key in ros for _, ros in parts) else None for key in AREA_FIELDS}
    return TeacherTable(rubric=rubric, teacher_id=col("teacher_id"), school_id=school,
                        district_id=col("district_id"), subject=col("subject"), grades=col("grades", np.int64),
                        grades_text=col("grades_text"), years=years, opt_out=col("opt_out", bool),
                        scores=matrix(lambda ros: ros["scores"]), source=source,
                        teacher_name=col("teacher_name"), email=col("email"), role=col("role"),
                        supervisor_id=col("supervisor_id"),
                        school_name=np.asarray([names.get(s, "") for s in school.tolist()], dtype=object),
                        n_obs=n_obs, extras=extras,
                        aggregate=next((ros["aggregate"] for _, ros in parts if "aggregate" in ros), "mean"),
                        other_scores=other, reinforcement_areas=areas["reinforcement_areas"],
                        refinement_areas=areas["refinement_areas"])


def merge_rosters(old: dict[str, Any], added: dict[str, Any] | None, removed: set[str]) -> dict[str, Any]:
    """A school's roster after a re-match: old's teachers but `removed`, then `added`'s (rows numbered after old's).
    A key only one side has is filled with its default on the other."""
    keep = [i for i, t in enumerate(old["teacher_id"]) if t not in removed]
    parts = [(old, keep)]
    if added:
        parts.append((added, list(range(len(added["teacher_id"])))))

    def merged(of: Callable[[dict[str, Any]], list[Any]]) -> list[Any]:
        acc: list[Any] = []
        for ros, idx in parts:
            values = of(ros)
            acc.extend(values[i] for i in idx)
        return acc

    def blank(ros: dict[str, Any]) -> list[str]:
        return [""] * len(ros["teacher_id"])

    out: dict[str, Any] = {key: merged(lambda ros, key=key: ros[key])
                           for key in ("teacher_id", "district_id", "subject", "grades", "grades_text", "years",
                                       "opt_out", "scores")}
    start = max(old["row"], default=-1) + 1
    out["row"] = [old["row"][i] for i in keep] + ([start + i for i in parts[1][1]] if added else [])
    out["aggregate"] = old.get("aggregate", "mean")
    for key in TEXT_KEYS:
        if any(key in ros for ros, _ in parts):
            out[key] = merged(lambda ros, key=key: ros.get(key) or blank(ros))
    columns = list(dict.fromkeys(c for ros, _ in parts for c in ros.get("extras") or {}))
    if columns:
        out["extras"] = {c: merged(lambda ros, c=c: (ros.get("extras") or {}).get(c) or blank(ros)) for c in columns}
    for key in AREA_FIELDS:
        if any(key in ros for ros, _ in parts):
            out[key] = merged(lambda ros, key=key: ros.get(key) or [[] for _ in ros["teacher_id"]])
    if any("n_obs" in ros for ros, _ in parts):
        out["n_obs"] = merged(lambda ros: ros.get("n_obs") or _observed(ros))
    aggregates = list(dict.fromkeys(a for ros, _ in parts for a in ros.get("other_scores") or {}))
    if aggregates:
        out["other_scores"] = {a: merged(lambda ros, a=a: (ros.get("other_scores") or {}).get(a, ros["scores"]))
                               for a in aggregates}
    return out


def roster_names(roster: dict[str, Any]) -> dict[str, str]:
    """teacher_id -> name for the roster's named teachers."""
    return {t: n for t, n in zip(roster["teacher_id"], roster.get("teacher_name") or [], strict=False) if n}


def teachers_view(table: TeacherTable, refine: Any = None, reinforce: Any = None) -> list[dict[str, Any]]:
    """A school's teachers (a table of that school alone, scores under the run's aggregate) as the API shows them
    to those allowed to see the school. refine, reinforce: (n, k) bool areas under the run's policy (the
    Scoring's), listed per teacher by indicator name."""
    inds = table.rubric.indicators
    n = len(table)

    def names(mask: Any) -> list[list[str]]:
        return [[] for _ in range(n)] if mask is None else [[inds[j] for j in row.nonzero()[0]] for row in mask]

    return [{"teacher_id": t, "teacher_name": name, "email": email, "role": role, "subject": s, "grades": g,
             "years_experience": _num(y), "opt_out": bool(o),
             "scores": dict(zip(inds, [_num(x) for x in sc], strict=True)),
             "observations": dict(zip(inds, [int(c) for c in counts], strict=True)),
             "refinement_areas": ref, "reinforcement_areas": rei}
            for t, name, email, role, s, g, y, o, sc, counts, ref, rei in zip(
                table.teacher_id.tolist(), table.teacher_name.tolist(), table.email.tolist(), table.role.tolist(),
                table.subject.tolist(), table.grades_text.tolist(), table.years.tolist(), table.opt_out.tolist(),
                table.scores.tolist(), table.n_obs.tolist(), names(refine), names(reinforce), strict=True)]


def pair_dict(p: Pair) -> dict[str, Any]:
    d = p._asdict()
    d["a_helps_b"], d["b_helps_a"] = list(p.a_helps_b), list(p.b_helps_a)
    return d


def pair_of(d: dict[str, Any]) -> Pair:
    """A stored pair; one stored before names existed lacks them and gets "" (the id stands alone)."""
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
