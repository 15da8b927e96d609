"""Plain-language reasons: why a team is together around its focus, and why a teacher is in no team.

As for pairs: name the focus, whose strength it is and who is working on it, with their scores; never call
anyone "the weak one".
"""

from __future__ import annotations

import math

import numpy as np

from ..io.teachers import TeacherTable
from ..pairing.explain import label
from .encode import SchoolData, fits_slot, grade_list, key_members, team_classes
from .model import TeamPolicy

_SHARED = {"grade": "a grade", "subject": "their subject", "grade_and_subject": "their subject and a grade",
           "grade_or_subject": "a grade or their subject", "any": "their school"}


def _grade_name(g: int) -> str:
    return {-1: "PK", 0: "K"}.get(g, str(g))


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _shared_text(table: TeacherTable, rows: list[int], group_by: str) -> str:
    """What every member has in common, in words."""
    common = int(np.bitwise_and.reduce(table.grades[rows]))
    subjects = {table.subject[r] for r in rows}
    subject = next(iter(subjects)).replace("_", " ") if len(subjects) == 1 and "" not in subjects else ""
    grades = [_grade_name(g) for g in grade_list(common)]
    grade_words = (f"grade {grades[0]}" if len(grades) == 1 else f"grades {_and(grades)}") if grades else ""
    if group_by == "any":
        return f"All teach {subject}." if subject else "Colleagues from one school."
    if subject and grade_words and group_by != "subject":
        return f"All teach {subject} in {grade_words}."
    if subject and group_by != "grade":
        return f"All teach {subject}."
    return f"All teach {grade_words}."


def team_text(table: TeacherTable, school: SchoolData, policy: TeamPolicy, focus: int,
              team: list[tuple[int, int]], roles: tuple[str, ...]) -> str:
    """team: (local teacher, template slot) in the order roles follow. Teachers are named as people know them
    (table.labels: the name, "name (id)" when two in the school share it, the id when no name was given)."""
    shown = table.labels

    def who(i: int) -> str:
        score = table.scores[school.rows[i], focus]
        return f"{shown[school.rows[i]]} ({'not observed' if math.isnan(score) else f'{score:.2f}'})"

    strong = [who(i) for i, _ in team if school.strong[i, focus]]
    learning = [who(i) for i, _ in team if school.weak[i, focus]]
    others = [who(i) for i, _ in team if not school.strong[i, focus] and not school.weak[i, focus]]
    parts = [f"Shared focus: {label(table.rubric.indicators[focus])}."]
    areas = ([f"reinforcement area for {_and(strong)}"] if strong else []) + (
        [f"refinement area for {_and(learning)}"] if learning else [])
    text = "; ".join(areas)
    parts.append(text[:1].upper() + text[1:] + ".")
    if others:
        parts.append(f"Also on the team: {_and(others)}.")
    if policy.template:
        places = []
        for s, slot in enumerate(policy.template):
            names = [shown[school.rows[i]] for i, t in team if t == s]
            places.append(f"{slot.describe().removeprefix(f'{slot.count} ')}: {_and(names)}")
        parts.append("Team template: " + "; ".join(places) + ".")
        if "leader" in roles:
            parts.append("School leaders take part as peers in the team's inquiry.")
    else:
        parts.append(_shared_text(table, [int(school.rows[i]) for i, _ in team], policy.group_by))
    return " ".join(parts)


def unassigned_reasons(table: TeacherTable, school: SchoolData, policy: TeamPolicy,
                       teams: list[list[tuple[int, int]]], in_team: set[int],
                       proven: bool) -> dict[int, tuple[str, str]]:
    """local teacher -> (code, sentence) for every teacher of the school in no team.

    The checks go from the most basic (opted out, no scores) to the most specific (every team they could join is
    full), and the first that applies is the reason.
    """
    out: dict[int, tuple[str, str]] = {}
    left = [i for i in range(len(school)) if i not in in_team]
    if not left:
        return out
    inds = table.rubric.indicators
    if policy.template:
        share_one, share_many = "fits the team template", "fit the team template"
    else:
        shared = _SHARED[policy.group_by]
        share_one, share_many = f"shares {shared} with them", f"share {shared} with them"
    members_of = key_members(school)
    possible: set[int] = {i for c in team_classes(school, policy, prune=False) for i in c.members}
    slot_short = []
    for s, slot in enumerate(policy.template):
        have = sum(s in fit for fit in school.fits)
        if have < slot.count:
            slot_short.append(f"{have} {slot.describe(policy.leader_subjects).removeprefix(f'{slot.count} ')} "
                              f"of the {slot.count} needed")
    team_keys = [set.intersection(*(set(school.keys[i]) for i, _ in t)) for t in teams]
    for i in left:
        row = int(school.rows[i])
        if school.opted_out[i]:
            out[i] = ("opted_out", "Opted out of the program.")
        elif not school.eligible[i] and not school.scored[i] and (
                not policy.template or _fits_teacher_place(policy, table.subject[row], int(table.grades[row]))):
            out[i] = ("no_scores", "No observation scores on file" + (
                " (only a school leader's place may be filled without them)." if policy.template else "."))
        elif not school.eligible[i] and policy.template:
            out[i] = ("no_group", "Fits no place in the team template ("
                      + "; ".join(s.describe(policy.leader_subjects) for s in policy.template) + ").")
        elif not school.eligible[i]:
            missing = {"grade": "No grade on file", "subject": "No subject on file",
                       "grade_and_subject": "No subject or no grade on file",
                       "grade_or_subject": "No subject or grade on file"}[policy.group_by]
            out[i] = ("no_group", f"{missing}, and team members must share {_SHARED[policy.group_by]}.")
        elif policy.template and slot_short:
            out[i] = ("no_team", "The school cannot fill the team template: it has " + "; ".join(slot_short) + ".")
        elif not policy.template and max(len(members_of[k]) for k in school.keys[i]) < policy.min_size:
            most = max(len(members_of[k]) for k in school.keys[i]) - 1
            out[i] = ("few_colleagues", f"Only {most} colleague{' who' if most == 1 else 's who'} "
                                        f"{share_one if most == 1 else share_many} (not counting those who opted "
                                        f"out or have no scores); a team needs at least {policy.min_size} teachers.")
        elif i not in possible:
            refine = np.flatnonzero(school.weak[i])
            same = sorted({j for k in school.keys[i] for j in members_of[k]} - {i})
            helped = school.strong[same][:, refine].any() if same and len(refine) else False
            if policy.require_strong_member and len(refine) and not helped:
                names = ", ".join(label(inds[j]) for j in refine)
                out[i] = ("no_strong", f"No colleague who {share_one} is strong in their refinement areas "
                                       f"({names}), and no team around another focus fits them.")
            elif policy.require_strong_member:
                out[i] = ("no_team", f"No team fits them: among the colleagues who {share_many}, no indicator is a "
                                     "refinement area of one teacher and a reinforcement area of another (within "
                                     "the team sizes allowed).")
            else:
                out[i] = ("no_team", f"No team fits them: among the colleagues who {share_many}, no refinement area "
                                     "is shared widely enough for a team (within the team sizes allowed).")
        elif not proven:
            out[i] = ("time_limit", f"Left out of the best teams found within the time limit "
                                    f"({policy.time_limit_seconds:g} s); the school's optimum was not proven, so a "
                                    "better arrangement may place them.")
        elif policy.template:
            out[i] = ("teams_full", "Every template place they fit is taken in the school's teams. Another team "
                                    "with them would need colleagues who are already in teams that do as much or "
                                    "more for the school.")
        else:
            full = [f"{school.school_id}-T{j + 1}" for j, keys in enumerate(team_keys) if keys & set(school.keys[i])]
            joined = (f"Every team they could join is full ({policy.max_size} teachers: {_and(full)})."
                      if full else "No team they could join was formed.")
            out[i] = ("teams_full", f"{joined} Any {'other ' if full else ''}team with them would need colleagues "
                                    "who are already in "
                                    "teams that do as much or more for the school (teachers working on their team's "
                                    "focus first, then teachers placed).")
    for i, (code, text) in out.items():
        if code in ("few_colleagues", "no_team", "teams_full", "time_limit") and not school.weak[i].any():
            out[i] = (code, text + " They have no refinement area of their own (no score below "
                                   f"{_weak_below(table, policy):g}).")
    return out


def _weak_below(table: TeacherTable, policy: TeamPolicy) -> float:
    return table.rubric.weak_below if policy.weak_below is None else policy.weak_below


def _fits_teacher_place(policy: TeamPolicy, subject: str, grades: int) -> bool:
    """Whether a teacher fits a template place other than a leader's (those need observation scores)."""
    return any(fits_slot(policy, s, subject, grades) for s, slot in enumerate(policy.template)
               if slot.role != "leader")
