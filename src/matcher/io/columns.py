"""Which field each column of an export holds: labelled headers ("Teacher ID", "Standards and Objectives") match a
field or a rubric indicator after normalising, known aliases match too, a column map renames anything else, and
every other column is an extra, kept as it is. Two columns that give one field are a problem naming both."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from ..config_files import read_settings
from ..errors import InputError, Problem
from ..rubric import Rubric

# Roster fields of a teachers file, with other headers exports use for them (compared after normalising).
TEACHER_FIELDS: dict[str, tuple[str, ...]] = {
    "teacher_id": ("educator_id", "employee_id", "staff_id", "teacher_number", "educator_number"),
    "school_id": ("school_code", "school_number", "school_no"),
    "subject": ("subject_area", "content_area"),
    "grades": ("grade", "grade_level", "grade_levels", "grades_taught", "grade_s"),
    "years_experience": ("years_of_experience", "experience", "experience_years", "yrs_experience", "years_exp",
                         "years_teaching"),
    "opt_out": ("opted_out",),
    "district_id": ("district_code", "district_number", "lea_id", "lea_code"),
    "teacher_name": ("name", "teacher", "teacher_full_name", "full_name", "educator_name", "educator", "staff_name"),
    "first_name": ("teacher_first_name", "educator_first_name", "first"),
    "last_name": ("teacher_last_name", "educator_last_name", "last", "surname"),
    "email": ("email_address", "teacher_email", "educator_email", "e_mail"),
    "school_name": ("school",),
    "observation_date": ("date", "obs_date", "observed_on", "date_observed", "evaluation_date"),
    "observer": ("evaluator", "observer_name", "evaluator_name", "observed_by"),
    "role": ("position", "job_title", "staff_role"),
    "supervisor_id": ("supervisor", "supervisor_employee_id", "manager_id"),
    # A teacher's areas as a post-observation conference names them (indicators separated by ";"); on an
    # observation export, each row names that observation's.
    "reinforcement_areas": ("reinforcement_area", "area_of_reinforcement", "areas_of_reinforcement", "reinforcement"),
    "refinement_areas": ("refinement_area", "area_of_refinement", "areas_of_refinement", "refinement"),
}
# Columns of a long score file (one row per score) besides the roster fields it may repeat.
SCORE_FIELDS: dict[str, tuple[str, ...]] = {
    "indicator": ("indicator_name", "component", "rubric_indicator", "element"),
    "score": ("rating", "score_value", "indicator_score"),
}
IDS = ("teacher_id", "school_id", "district_id", "supervisor_id")


def normalise(header: str) -> str:
    """"Teacher ID" -> teacher_id, "Standards & Objectives" -> standards_objectives: lower case, accents dropped,
    every run of spaces and punctuation one "_"."""
    text = unicodedata.normalize("NFKD", header)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")


@dataclass(frozen=True)
class ColumnMap:
    """A user's renames (--columns MAP.toml, or `columns` in the API): header -> field, "" to drop a column."""

    renames: tuple[tuple[str, str], ...]
    source: str = "column map"

    def target(self, header: str) -> str | None:
        exact, normalised = self._lookup
        if header in exact:  # the exact header first, then the same header normalised
            return exact[header]
        return normalised.get(normalise(header))

    @cached_property
    def _lookup(self) -> tuple[dict[str, str], dict[str, str]]:
        """(exact key -> field, normalised key -> field), the first entry winning: one look-up per header, however
        long the map."""
        exact: dict[str, str] = {}
        normalised: dict[str, str] = {}
        for key, field in self.renames:
            exact.setdefault(key, field)
            normalised.setdefault(normalise(key), field)
        return exact, normalised


def column_map_from_dict(data: Mapping[str, Any], source: str) -> ColumnMap:
    """A map from plain settings: {"Educator Number": "teacher_id", "SSN": ""}, or the same under "columns"."""
    if set(data) == {"columns"} and isinstance(data["columns"], dict):
        data = data["columns"]
    problems = []
    renames = []
    for key, value in data.items():
        if not isinstance(value, str):
            problems.append(Problem(source, 'must be the name of a field or an indicator (or "" to drop the '
                                            "column)", column=str(key), value=repr(value)))
        else:
            renames.append((str(key).strip(), value.strip()))
    if problems:
        raise InputError(problems)
    return ColumnMap(tuple(renames), source)


def load_column_map(path: str | Path) -> ColumnMap:
    return column_map_from_dict(read_settings(path), str(path))


@dataclass(frozen=True)
class Columns:
    """Where each field is in a header: field -> position; extras: (header, position) of columns kept as text;
    unnamed: positions with an empty header (fine when the column is empty too)."""

    fields: dict[str, int]
    extras: tuple[tuple[str, int], ...]
    unnamed: tuple[int, ...]

    def has(self, field: str) -> bool:
        return field in self.fields


class Vocabulary:
    """The fields and indicators a file may hold, and every header text that names one."""

    def __init__(self, fields: Mapping[str, Sequence[str]], rubric: Rubric | None, with_indicators: bool):
        self.fields = tuple(fields)
        self.indicators = rubric.indicators if rubric is not None and with_indicators else ()
        self.rubric = rubric
        self.names: dict[str, str] = {}
        for ind in self.indicators:
            self.names[ind] = ind
        if rubric is not None and with_indicators:
            for alias, ind in rubric.aliases:
                self.names.setdefault(normalise(alias), ind)
        for f, aliases in fields.items():
            self.names[f] = f
            for a in aliases:
                self.names.setdefault(normalise(a), f)

    def known(self, name: str) -> bool:
        return name in self.fields or name in self.indicators

    def match(self, header: str) -> str | None:
        return self.names.get(normalise(header))

    def suggest(self, header: str) -> str:
        """A misspelt indicator or field ("Questionning"), if the header is one; "" otherwise."""
        norm = normalise(header)
        close = (difflib.get_close_matches(norm, self.indicators, n=1, cutoff=0.8)
                 or difflib.get_close_matches(norm, self.fields, n=1, cutoff=0.9))
        return f"did you mean {close[0]!r}?" if close else ""


def resolve(header: Sequence[str], vocab: Vocabulary, cmap: ColumnMap | None, file: str, row: int,
            problems: list[Problem], strict: bool = False) -> Columns:
    """Place every header; add a problem for each column map entry naming no field, each field two columns give,
    and (strict) each column that is neither a field nor an indicator."""
    by_field: dict[str, list[int]] = {}
    extras: list[tuple[str, int]] = []
    unnamed: list[int] = []
    bad_targets: set[str] = set()
    for j, h in enumerate(header):
        target = cmap.target(h) if cmap is not None and h else None
        if target is not None:
            if target == "":
                continue  # dropped on request
            field = target if vocab.known(target) else vocab.match(target)
            if field is None:
                if target not in bad_targets:
                    bad_targets.add(target)
                    problems.append(Problem(cmap.source if cmap else file,
                                            f"not a field nor an indicator{_rubric_words(vocab)}; known fields: "
                                            f"{', '.join(vocab.fields)}", column=h, value=target))
                continue
        elif not h:
            unnamed.append(j)
            continue
        else:
            field = vocab.match(h)
        if field is None:
            extras.append((h, j))
        else:
            by_field.setdefault(field, []).append(j)
    for field, places in by_field.items():
        if len(places) > 1:
            names = " and ".join(f"{header[j]!r} (column {j + 1})" for j in places)
            what = "appears more than once" if len({header[j] for j in places}) == 1 else f"all give {field}"
            problems.append(Problem(file, f"columns {names}: {what}; keep one, or rename or drop the others with a "
                                          "column map (--columns)", row=row, column=header[places[1]]))
    seen: dict[str, int] = {}
    for h, j in extras:
        if h in seen:
            problems.append(Problem(file, f"column appears more than once (columns {seen[h] + 1} and {j + 1}); "
                                          "rename one or drop it with a column map (--columns)", row=row, column=h))
        seen.setdefault(h, j)
    if strict:
        for h, _ in extras[:MAX_NAMED]:
            hint = vocab.suggest(h) or (f"the {vocab.rubric.name} rubric's indicators are: "
                                        f"{', '.join(vocab.indicators)}" if vocab.indicators else
                                        f"known fields: {', '.join(vocab.fields)}")
            problems.append(Problem(file, f"unknown column (not a known field nor an indicator{_rubric_words(vocab)});"
                                          f" {hint}", row=row, column=h))
        if len(extras) > MAX_NAMED:
            problems.append(Problem(file, f"... and {len(extras) - MAX_NAMED:,} more unknown columns", row=row))
    fields = {f: places[0] for f, places in by_field.items()}
    return Columns(fields, tuple(extras), tuple(unnamed))


def _rubric_words(vocab: Vocabulary) -> str:
    return f" of the {vocab.rubric.name} rubric" if vocab.indicators and vocab.rubric is not None else ""


MAX_NAMED = 20  # columns named in one warning or problem list; a header of thousands of columns stays readable


def extras_warning(file: str, extras: Iterable[tuple[str, int]], vocab: Vocabulary) -> str | None:
    """One warning listing the columns kept as extras (with a hint where one looks like a misspelt indicator)."""
    extras = list(extras)
    if not extras:
        return None
    shown = []
    for h, _ in extras[:MAX_NAMED]:
        hint = vocab.suggest(h)
        shown.append(f"{_short(h)!r} ({hint})" if hint else repr(_short(h)))
    more = f" and {len(extras) - MAX_NAMED:,} more" if len(extras) > MAX_NAMED else ""
    return (f"{file}: {len(extras):,} column(s) kept as extras, not used for pairing: {', '.join(shown)}{more} "
            "(rename with --columns; --strict refuses them)")


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
