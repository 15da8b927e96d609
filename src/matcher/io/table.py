"""TeacherTable: teachers as integer-indexed arrays (the encoded form every solver and report works from)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from ..errors import InputError, Problem
from ..rubric import Rubric

AGGREGATES = ("mean", "median", "latest")
# Per-teacher text fields that may be absent (an empty string then); row i of each is teacher i.
TEXT_FIELDS = ("teacher_name", "school_name", "email", "role", "supervisor_id")
# Optional columns naming a teacher's areas (indicators separated by ";"), read into (n, k) bool arrays.
AREA_FIELDS = ("reinforcement_areas", "refinement_areas")


def _blank(n: int) -> np.ndarray:
    return np.full(n, "", dtype=object)


@dataclass(frozen=True, eq=False)
class TeacherTable:
    """Teachers as integer-indexed arrays; row i of every array is teacher i.

    A teacher observed several times has one row here: `scores` aggregates their observations (`aggregate`:
    mean, median or latest), `n_obs` counts the observations that scored each indicator, and `other_scores`
    holds the other aggregates (only when some teacher has several observations), so a policy can choose.
    `reinforcement_areas` and `refinement_areas` hold the areas the file names (AREA_FIELDS), if it has them.
    """

    rubric: Rubric
    teacher_id: np.ndarray  # str objects
    school_id: np.ndarray
    district_id: np.ndarray  # "" when not given
    subject: np.ndarray  # lower-cased
    grades: np.ndarray  # int64 bitmask (see io.grades); 0 = unknown
    grades_text: np.ndarray
    years: np.ndarray  # float, nan = unknown
    opt_out: np.ndarray  # bool
    scores: np.ndarray  # float (n, k), nan = not observed
    source: str = ""
    warnings: tuple[str, ...] = field(default=())
    teacher_name: np.ndarray = field(default=None)  # type: ignore[assignment]  # "" when not given
    school_name: np.ndarray = field(default=None)  # type: ignore[assignment]
    email: np.ndarray = field(default=None)  # type: ignore[assignment]
    role: np.ndarray = field(default=None)  # type: ignore[assignment]
    supervisor_id: np.ndarray = field(default=None)  # type: ignore[assignment]
    n_obs: np.ndarray = field(default=None)  # type: ignore[assignment]  # int (n, k): observations per score
    extras: tuple[tuple[str, np.ndarray], ...] = ()  # other columns of the file, carried through as text
    aggregate: str = "mean"
    other_scores: tuple[tuple[str, np.ndarray], ...] = ()  # (aggregate, (n, k) scores) besides `scores`
    # (n, k) bool: the indicators the file names in its reinforcement_areas / refinement_areas column (the union
    # over a teacher's rows), for policy areas = "designated"; None when the file has no such column.
    reinforcement_areas: np.ndarray | None = None
    refinement_areas: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.teacher_id)
        for name in TEXT_FIELDS:
            if getattr(self, name) is None:
                object.__setattr__(self, name, _blank(n))
        if self.n_obs is None:
            object.__setattr__(self, "n_obs", (~np.isnan(self.scores)).astype(np.int32))

    def __len__(self) -> int:
        return len(self.teacher_id)

    @cached_property
    def index(self) -> dict[str, int]:
        """teacher_id -> row."""
        return {t: i for i, t in enumerate(self.teacher_id.tolist())}

    @cached_property
    def labels(self) -> np.ndarray:
        """How a person reads each teacher: the name, or "name (id)" where two teachers of one school share it,
        or the id alone when no name was given."""
        names = self.teacher_name
        out = np.where(names != "", names, self.teacher_id).astype(object)
        named = np.flatnonzero(names != "")
        if len(named):  # namesakes as a person reads them: case and spacing aside ("Pat Lee", "PAT  LEE")
            folded = np.array([" ".join(str(x).casefold().split()) for x in names[named].tolist()], dtype=str)
            key = np.char.add(self.school_id[named].astype(str), np.char.add("\x00", folded))
            _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
            for i in named[counts[inverse] > 1].tolist():
                out[i] = f"{names[i]} ({self.teacher_id[i]})"
        return out

    @cached_property
    def school_names(self) -> dict[str, str]:
        """school_id -> name, for the schools whose name was given."""
        out: dict[str, str] = {}
        for s, n in zip(self.school_id.tolist(), self.school_name.tolist(), strict=True):
            if n and s not in out:
                out[s] = n
        return out

    def school_label(self, school_id: str) -> str:
        """"Lincoln Bend Elementary School (S0001)", or the id alone when no name was given."""
        name = self.school_names.get(school_id, "")
        return f"{name} ({school_id})" if name else school_id

    def teacher_label(self, teacher_id: str, name: str = "") -> str:
        """How a page names a teacher: the table's label (the name, or the id), else `name` (as a stored pair gives
        it, for a teacher not in the table), else the id."""
        i = self.index.get(teacher_id)
        return str(self.labels[i]) if i is not None else (name or teacher_id)

    def with_school_names(self, names: dict[str, str]) -> TeacherTable:
        """The table with school names filled in from `names` (school_id -> name) where the teachers file gave
        none; names the teachers file gave are kept."""
        fill = np.array([names.get(s, "") for s in self.school_id.tolist()], dtype=object)
        if not len(fill):
            return self
        return dataclasses.replace(self, school_name=np.where(self.school_name != "", self.school_name, fill))

    @property
    def several_observations(self) -> bool:
        """Some score averages more than one observation."""
        return bool(len(self.n_obs) and self.n_obs.max(initial=0) > 1)

    @property
    def aggregates(self) -> tuple[str, ...]:
        """The aggregates this table can give its scores under."""
        return (self.aggregate, *(a for a, _ in self.other_scores))

    def aggregated(self, method: str, source: str = "policy") -> TeacherTable:
        """The same teachers with scores aggregated by `method` over their observations (self if it already is;
        with one observation per score every method gives the same scores)."""
        if method not in AGGREGATES:
            raise InputError([Problem(source, f"must be one of {', '.join(AGGREGATES)}", column="aggregate",
                                      value=method)])
        if method == self.aggregate:
            return self
        if not self.several_observations:
            return dataclasses.replace(self, aggregate=method)
        alt = dict(self.other_scores)
        if method not in alt:
            why = ("needs a date for every observation (an observation_date column)" if method == "latest" else
                   "was not computed when the file was read (read_teachers(..., all_aggregates=True))")
            raise InputError([Problem(source, f"aggregate = {method!r} {why} in {self.source or 'the teachers file'}",
                                      column="aggregate", value=method)])
        others = tuple((a, s) for a, s in ((self.aggregate, self.scores), *self.other_scores) if a != method)
        return dataclasses.replace(self, scores=alt[method], aggregate=method, other_scores=others)

    def subset(self, rows: np.ndarray) -> TeacherTable:
        """A new table of the given rows (indices or a boolean mask), in that order; this one is unchanged."""
        changes: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, np.ndarray):
                changes[f.name] = v[rows]
        changes["extras"] = tuple((c, v[rows]) for c, v in self.extras)
        changes["other_scores"] = tuple((a, s[rows]) for a, s in self.other_scores)
        return dataclasses.replace(self, **changes)
