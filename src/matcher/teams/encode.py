"""Encode one school for team formation: who may join a team, what each teacher shares with colleagues (keys),
and the team classes (a key and a focus indicator) the model chooses among."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np

from ..errors import InputError, Problem
from ..io.grades import HIGHEST, LOWEST
from ..io.teachers import TeacherTable
from ..rubric import Rubric
from .model import TeamPolicy

Key = tuple[Hashable, ...]  # ("grade", 7) | ("subject", "math") | ("subject_grade", "math", 7) | ("school",)
SCHOOL_KEY: Key = ("school",)


def thresholds(rubric: Rubric, policy: TeamPolicy, source: str = "policy") -> tuple[float, float]:
    """(weak_below, strong_at_least): the policy's, else the rubric's; checked against the rubric's scale."""
    weak = rubric.weak_below if policy.weak_below is None else policy.weak_below
    strong = rubric.strong_at_least if policy.strong_at_least is None else policy.strong_at_least
    problems = [Problem(source, f"threshold outside the {rubric.name} scale {rubric.scale_min:g} to "
                                f"{rubric.scale_max:g}", column=key, value=f"{value:g}")
                for key, value in (("weak_below", weak), ("strong_at_least", strong))
                if not rubric.scale_min <= value <= rubric.scale_max]
    if weak > strong:
        problems.append(Problem(source, "weak_below must not exceed strong_at_least", column="weak_below",
                                value=f"{weak:g} > {strong:g}"))
    if problems:
        raise InputError(problems)
    return weak, strong


def grade_list(mask: int) -> list[int]:
    return [g for g in range(LOWEST, HIGHEST + 1) if mask >> (g - LOWEST) & 1]


def teacher_keys(subject: str, grades: int, group_by: str) -> tuple[Key, ...]:
    """The keys a teacher carries: two teachers may share a team only where they share a key."""
    gs = grade_list(grades)
    if group_by == "any":
        return (SCHOOL_KEY,)
    by_grade: list[Key] = [("grade", g) for g in gs]
    by_subject: list[Key] = [("subject", subject)] if subject else []
    if group_by == "grade":
        return tuple(by_grade)
    if group_by == "subject":
        return tuple(by_subject)
    if group_by == "grade_and_subject":
        return tuple(("subject_grade", subject, g) for g in gs) if subject else ()
    return tuple(by_grade + by_subject)  # grade_or_subject


@dataclass(frozen=True, eq=False)
class SchoolData:
    """One school's teachers as local arrays (local index i is global row rows[i])."""

    school_id: str
    rows: np.ndarray
    weak: np.ndarray  # (m, k) bool: refinement areas
    strong: np.ndarray  # (m, k) bool: reinforcement areas (never also weak)
    scored: np.ndarray  # (m,) bool: at least one observed score
    opted_out: np.ndarray  # (m,) bool, only when the policy respects opt-outs
    eligible: np.ndarray  # (m,) bool: may be placed in some team at all
    keys: tuple[tuple[Key, ...], ...]  # per teacher (empty for the ineligible; ignored with a template)
    fits: tuple[tuple[int, ...], ...]  # per teacher: the template slots they fit (empty without a template)

    def __len__(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class TeamClass:
    """Teams that share one key and one focus indicator; with a template the key is the school."""

    key: Key
    focus: int
    members: tuple[int, ...]  # local indices of the teachers who may join such a team
    max_teams: int


def fits_slot(policy: TeamPolicy, slot_index: int, subject: str, grades: int) -> bool:
    slot = policy.template[slot_index]
    subjects = policy.slot_subjects(slot)
    return (not subjects or subject in subjects) and (not slot.grades or bool(grades & slot.grades))


def encode_school(table: TeacherTable, school_id: str, rows: np.ndarray, policy: TeamPolicy, weak: np.ndarray,
                  strong: np.ndarray) -> SchoolData:
    """weak/strong: the whole table's flags; rows: this school's teachers in table order."""
    scored = ~np.isnan(table.scores[rows]).all(axis=1)
    opted = table.opt_out[rows] & policy.respect_opt_out
    subjects = table.subject[rows].tolist()
    grades = table.grades[rows].tolist()
    keys: list[tuple[Key, ...]] = []
    fits: list[tuple[int, ...]] = []
    eligible = np.zeros(len(rows), dtype=bool)
    for i in range(len(rows)):
        if policy.template:
            # Leaders are often not observed: an unscored teacher may still fill a leader place.
            fit = tuple(s for s in range(len(policy.template)) if fits_slot(policy, s, subjects[i], grades[i])
                        and (scored[i] or policy.template[s].role == "leader"))
            ok = not opted[i] and bool(fit)
            fits.append(fit if ok else ())
            keys.append((SCHOOL_KEY,) if ok else ())
        else:
            ok = not opted[i] and bool(scored[i])
            keys.append(teacher_keys(subjects[i], grades[i], policy.group_by) if ok else ())
            fits.append(())
        eligible[i] = ok and bool(keys[-1])
    return SchoolData(school_id, rows, weak[rows], strong[rows], scored, opted, eligible, tuple(keys), tuple(fits))


def _need(policy: TeamPolicy) -> int:
    """Members every team must have for its focus: one working on it, and one strong in it if required."""
    return 2 if policy.require_strong_member else 1


def key_members(school: SchoolData) -> dict[Key, list[int]]:
    out: dict[Key, list[int]] = {}
    for i, ks in enumerate(school.keys):
        for key in ks:
            out.setdefault(key, []).append(i)
    return out


def team_classes(school: SchoolData, policy: TeamPolicy, prune: bool = True) -> list[TeamClass]:
    """Every class that can hold at least one valid team.

    prune drops a key whose teachers are a subset of another key's (any team of the smaller key is a team of the
    larger one, so the optimum is unchanged); unpruned classes serve the reasons for teachers left out.
    """
    members_of = key_members(school)
    if prune:
        kept: list[tuple[Key, frozenset[int]]] = []
        for key, ms in sorted(members_of.items(), key=lambda kv: (-len(kv[1]), repr(kv[0]))):
            s = frozenset(ms)
            if not any(s <= other for _, other in kept):
                kept.append((key, s))
        members_of = {key: members_of[key] for key, _ in kept}
    size = policy.template_size if policy.template else policy.max_size
    lowest = policy.template_size if policy.template else policy.min_size
    neutral_ok = size > _need(policy)  # room for a member who is neither strong nor working on the focus
    n_slots = len(policy.template)
    fit = np.zeros((len(school), max(1, n_slots)), dtype=bool)  # fit[i, s]: teacher i fits template slot s
    for i, slots in enumerate(school.fits):
        fit[i, list(slots)] = True
    counts = np.asarray([s.count for s in policy.template], dtype=np.int64)
    out: list[TeamClass] = []
    for key, ms in members_of.items():
        idx = np.asarray(ms)
        w, s = school.weak[idx], school.strong[idx]  # (members, indicators)
        n_weak, n_strong = w.sum(axis=0), s.sum(axis=0)
        cap = np.minimum(n_weak, n_strong) if policy.require_strong_member else n_weak
        usable = np.ones_like(w) if neutral_ok else (w | s)  # usable[i, f]: teacher i may join the focus-f class
        if policy.template:
            for k in range(n_slots):
                cap = np.minimum(cap, (usable & fit[idx, k][:, None]).sum(axis=0) // counts[k])
        else:
            cap = np.minimum(cap, usable.sum(axis=0) // lowest)
        for f in np.flatnonzero(cap >= 1).tolist():
            members = idx if neutral_ok else idx[usable[:, f]]
            out.append(TeamClass(key, f, tuple(members.tolist()), int(cap[f])))
    return out
