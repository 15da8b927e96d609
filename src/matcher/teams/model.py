"""Teacher-team policy: team sizes, what members must share, thresholds, and the optional team template.

A team template lists the places of a team (a Chilean-style school team: two school leaders plus the grade-7/8
math and English teachers). Each place is a slot with an optional subject list, an optional grade list and a count:

    [[template]]            # or: template = "chile"
    role = "leader"         # filled by teachers whose subject is one of leader_subjects ("leadership", "admin")
    count = 2
    [[template]]
    subject = "math"        # one subject or a list; a teacher fits when their subject is one of them
    grades = "7-8"          # a teacher fits when they teach at least one of these grades
    [[template]]
    subject = "english"
    grades = "7-8"

With a template every team fills every slot exactly (its size is the template's size, which must lie within
min_size..max_size) and group_by does not apply: the template says who belongs together.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from ..config_files import read_settings
from ..errors import InputError, Problem
from ..io.grades import parse_grades

GroupBy = Literal["grade_or_subject", "grade", "subject", "grade_and_subject", "any"]
SlotRole = Literal["teacher", "leader"]


@dataclass(frozen=True)
class TemplateSlot:
    """A place in a template team, filled by `count` teachers who fit it."""

    role: SlotRole = "teacher"
    subjects: tuple[str, ...] = ()  # lower-cased; empty: any subject (leader slots: the policy's leader_subjects)
    grades: int = 0  # grade bitmask (io.grades); 0: any grade
    grades_text: str = ""
    count: int = 1

    def describe(self, leader_subjects: tuple[str, ...] = ()) -> str:
        """How the slot reads in a sentence: "2 school leaders", "math teacher (grades 7-8)"."""
        if self.role == "leader":
            what = "school leader" + ("s" if self.count > 1 else "")
            subjects = self.subjects or leader_subjects
            if subjects:
                what += f" (subject {' or '.join(subjects)})"
        else:
            what = (" or ".join(self.subjects) + " " if self.subjects else "") + "teacher"
            what += "s" if self.count > 1 else ""
        if self.grades:
            what += f" (grades {self.grades_text})"
        return f"{self.count} {what}" if self.count > 1 else what


# A Chilean-style school improvement team (PRODUCT.md): two school leaders plus the 7th/8th-grade math and English
# teachers.
TEMPLATES: dict[str, tuple[TemplateSlot, ...]] = {
    "chile": (TemplateSlot("leader", count=2),
              TemplateSlot("teacher", ("math",), parse_grades("7-8"), "7-8"),
              TemplateSlot("teacher", ("english",), parse_grades("7-8"), "7-8")),
}


@dataclass(frozen=True)
class TeamPolicy:
    """Every knob of team formation. Teams form within one school, each around one shared focus indicator."""

    min_size: int = 3
    max_size: int = 6
    group_by: GroupBy = "grade_or_subject"  # what all members of a team share (ignored with a template)
    weak_below: float | None = None  # None: the rubric's threshold (a score below it is a refinement area)
    strong_at_least: float | None = None  # None: the rubric's (a score at or above it is a reinforcement area)
    require_strong_member: bool = True  # at least one member strong in the team's focus
    template: tuple[TemplateSlot, ...] = ()
    leader_subjects: tuple[str, ...] = ("leadership", "admin")  # subjects that mark a school leader
    respect_opt_out: bool = True
    # CP-SAT deterministic seconds (about wall seconds on a 2-core machine) per group of teachers who could share a
    # team; past it the best answer is kept and reported unproven. Deterministic: loads and workers change nothing.
    time_limit_seconds: float = 30.0

    def replace(self, **changes: Any) -> TeamPolicy:
        return dataclasses.replace(self, **changes)

    @property
    def template_size(self) -> int:
        return sum(s.count for s in self.template)

    def slot_subjects(self, slot: TemplateSlot) -> tuple[str, ...]:
        """The subjects that fit a slot (a leader slot without its own list takes leader_subjects)."""
        if slot.role == "leader" and not slot.subjects:
            return self.leader_subjects
        return slot.subjects


_FIELDS = {f.name: f for f in dataclasses.fields(TeamPolicy)}
_SLOT_KEYS = ("role", "subject", "grades", "count")
_SIZE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


def _size_problems(lo: int, hi: int, source: str, column: str, value: str) -> list[Problem]:
    if lo < 2:
        return [Problem(source, "a team needs at least 2 teachers (one strong in the focus, one working on it)",
                        column=column, value=value)]
    if lo > hi:
        return [Problem(source, "the smallest team size must not exceed the largest", column=column, value=value)]
    return []


def parse_size(text: str, source: str = "command line", column: str = "--size") -> tuple[int, int]:
    """(min_size, max_size) from "3-6" or "4"; raises InputError naming the setting."""
    m = _SIZE.match(text or "")
    if m is None:
        raise InputError([Problem(source, 'must be a team size range like "3-6" (or one number, "4")',
                                  column=column, value=text)])
    lo = int(m.group(1))
    hi = int(m.group(2)) if m.group(2) is not None else lo
    problems = _size_problems(lo, hi, source, column, text)
    if problems:
        raise InputError(problems)
    return lo, hi


def _subjects(value: Any, column: str, source: str, problems: list[Problem]) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if (not isinstance(items, list) or not items
            or not all(isinstance(s, str) and s.strip() for s in items)):
        problems.append(Problem(source, "must be a subject or a non-empty list of subjects", column=column,
                                value=repr(value)))
        return ()
    return tuple(s.strip().lower() for s in items)


def _slot(item: Any, k: int, source: str, problems: list[Problem]) -> TemplateSlot | None:
    where = f"template[{k}]"
    if not isinstance(item, dict):
        problems.append(Problem(source, "each template entry must be a table of role, subject, grades, count",
                                column=where, value=repr(item)))
        return None
    before = len(problems)
    for key in item:
        if key not in _SLOT_KEYS:
            problems.append(Problem(source, f"unknown template setting; known: {', '.join(_SLOT_KEYS)}",
                                    column=f"{where}.{key}", value=repr(item[key])))
    role = item.get("role", "teacher")
    if role not in get_args(SlotRole):
        problems.append(Problem(source, f"must be one of {', '.join(get_args(SlotRole))}", column=f"{where}.role",
                                value=repr(role)))
    subjects = _subjects(item["subject"], f"{where}.subject", source, problems) if "subject" in item else ()
    grades, grades_text = 0, ""
    if "grades" in item:
        raw = item["grades"]
        grades_text = str(raw).strip() if isinstance(raw, str | int) and not isinstance(raw, bool) else ""
        try:
            grades = parse_grades(grades_text)
        except ValueError:
            problems.append(Problem(source, 'not a grade list; use a grade ("7"), "K", a range ("7-8") or a list '
                                            '("7;8")', column=f"{where}.grades", value=repr(raw)))
    count = item.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        problems.append(Problem(source, "must be a whole number >= 1", column=f"{where}.count", value=repr(count)))
    if len(problems) > before:
        return None
    return TemplateSlot(role, subjects, grades, grades_text, count)


def _template(value: Any, source: str, problems: list[Problem]) -> tuple[TemplateSlot, ...]:
    if isinstance(value, str):
        if value.lower() in TEMPLATES:
            return TEMPLATES[value.lower()]
        problems.append(Problem(source, f"unknown template name; bundled: {', '.join(TEMPLATES)} (or a list of "
                                        "slots)", column="template", value=repr(value)))
        return ()
    if not isinstance(value, list):
        problems.append(Problem(source, "must be a template name or a list of slots (role, subject, grades, count)",
                                column="template", value=repr(value)))
        return ()
    slots = [_slot(item, k, source, problems) for k, item in enumerate(value)]
    return tuple(s for s in slots if s is not None)


def team_policy_from_dict(data: dict[str, Any], source: str = "policy",
                          base: TeamPolicy | None = None) -> TeamPolicy:
    """Build a TeamPolicy from plain settings (a policy file, CLI flags), collecting every problem."""
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in _FIELDS:
            problems.append(Problem(source, f"unknown setting; known settings: {', '.join(_FIELDS)}", column=key,
                                    value=repr(value)))
        elif key in ("min_size", "max_size"):
            if isinstance(value, bool) or not isinstance(value, int):
                problems.append(Problem(source, "must be a whole number", column=key, value=repr(value)))
            else:
                values[key] = value
        elif key == "group_by":
            allowed = get_args(GroupBy)
            if value not in allowed:
                problems.append(Problem(source, f"must be one of {', '.join(allowed)}", column=key,
                                        value=repr(value)))
            else:
                values[key] = value
        elif key in ("weak_below", "strong_at_least"):
            if value is None:
                values[key] = None
            elif isinstance(value, bool) or not isinstance(value, int | float):
                problems.append(Problem(source, "must be a number on the rubric's scale", column=key,
                                        value=repr(value)))
            else:
                values[key] = float(value)
        elif key in ("require_strong_member", "respect_opt_out"):
            if not isinstance(value, bool):
                problems.append(Problem(source, "must be true or false", column=key, value=repr(value)))
            else:
                values[key] = value
        elif key == "template":
            values[key] = _template(value, source, problems)
        elif key == "leader_subjects":
            values[key] = _subjects(value, key, source, problems)
        else:  # time_limit_seconds
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                problems.append(Problem(source, "must be a number of seconds > 0", column=key, value=repr(value)))
            else:
                values[key] = float(value)
    if problems:
        raise InputError(problems)
    policy = (base or TeamPolicy()).replace(**values)
    size_column = "min_size" if "min_size" in data else "max_size"
    problems += _size_problems(policy.min_size, policy.max_size, source, size_column,
                               f"{policy.min_size}-{policy.max_size}")
    if policy.template and not policy.min_size <= policy.template_size <= policy.max_size:
        problems.append(Problem(source, f"the template makes teams of {policy.template_size} teachers, outside the "
                                        f"team size {policy.min_size}-{policy.max_size}; set min_size and max_size "
                                        "to include it", column="template", value=str(policy.template_size)))
    if (policy.weak_below is not None and policy.strong_at_least is not None
            and policy.weak_below > policy.strong_at_least):
        problems.append(Problem(source, "weak_below must not exceed strong_at_least", column="weak_below",
                                value=f"{policy.weak_below:g} > {policy.strong_at_least:g}"))
    if problems:
        raise InputError(problems)
    return policy


def load_team_policy(path: str | Path | None, base: TeamPolicy | None = None) -> TeamPolicy:
    if path is None:
        return base or TeamPolicy()
    return team_policy_from_dict(read_settings(path), str(path), base)


def team_policy_to_dict(policy: TeamPolicy) -> dict[str, Any]:
    """JSON-ready settings (what team_policy_from_dict reads back), for summaries."""
    out: dict[str, Any] = {}
    for name in _FIELDS:
        v = getattr(policy, name)
        if name == "template":
            v = [{"role": s.role, **({"subject": list(s.subjects)} if s.subjects else {}),
                  **({"grades": s.grades_text} if s.grades else {}), "count": s.count} for s in v]
        elif name == "leader_subjects":
            v = list(v)
        out[name] = v
    return out
