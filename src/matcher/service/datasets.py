"""Turn an uploaded teacher file, JSON rows or a synthetic district into a stored dataset, validated with the same
rules and messages as the command line."""

from __future__ import annotations

import csv
import dataclasses
import io
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine

from ..errors import InputError, Problem
from ..io.columns import TEACHER_FIELDS, ColumnMap, normalise
from ..io.pair_lists import read_school_coords
from ..io.sheets import EXCEL_SUFFIXES
from ..io.table import AREA_FIELDS
from ..io.teachers import TeacherTable, read_teachers
from ..rubric import BUNDLED, Rubric, bundled
from ..store import repo
from ..store.codec import roster_of
from ..store.keys import Caller
from ..synth import write_district


def rubric_named(name: str, where: str = "rubric") -> Rubric:
    if name not in BUNDLED:
        raise InputError([Problem(where, f"must be one of {', '.join(sorted(BUNDLED))}", column="rubric",
                                  value=name)])
    return bundled(name)


def _relabel(exc: InputError, temp: Path, name: str, rows: bool) -> InputError:
    """Problems found in a temporary copy, reported against the name the caller knows (and, for JSON rows,
    against the row's index in the list rather than a line of the copy)."""
    out = []
    for p in exc.problems:
        file = p.file.replace(str(temp), name)
        row = p.row
        if rows and row is not None:
            row = row - 2  # line 1 of the copy is the header; rows[0] is line 2
        out.append(Problem(file, p.message, row=row, column=p.column, value=p.value))
    return InputError(out)


def _renamed(table: TeacherTable, folder: Path, name: str, roster_name: str | None = None) -> TeacherTable:
    """The table with its temporary file names replaced by the names the caller gave."""
    def fix(text: str) -> str:
        for temp in folder.iterdir():
            text = text.replace(str(temp), roster_name if temp.stem == "roster" and roster_name else name)
        return text
    return dataclasses.replace(table, source=fix(table.source), warnings=tuple(fix(w) for w in table.warnings))


def _upload_name(stem: str, filename: str) -> str:
    """The temporary copy's name: an Excel workbook keeps its suffix (the reader also knows one by its bytes)."""
    suffix = Path(filename).suffix.lower()
    return f"{stem}{suffix}" if suffix in EXCEL_SUFFIXES else f"{stem}.csv"


def _placed(data: bytes | Path, path: Path) -> Path:
    """The upload at `path`: bytes are written there; a file already on disk (the API saves uploads as they
    arrive, never holding them in memory) is linked."""
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.symlink_to(Path(data).resolve())
    return path


def read_upload(data: bytes | Path, filename: str, rubric: Rubric, roster: tuple[bytes | Path, str] | None = None,
                *, columns: ColumnMap | None = None, sheet: str | None = None, strict: bool = False,
                school_names: dict[str, str] | None = None) -> TeacherTable:
    """A teacher file sent over HTTP (CSV or Excel; wide, or long beside a roster; its bytes, or the file they were
    saved to), read exactly as the CLI reads files; school names from a schools file fill in those the teacher
    file does not give."""
    with tempfile.TemporaryDirectory(prefix="matcher-upload-") as tmp:
        folder = Path(tmp)
        path = _placed(data, folder / _upload_name("teachers", filename))
        roster_path = None
        if roster is not None:
            roster_path = _placed(roster[0], folder / _upload_name("roster", roster[1]))
        try:
            table = read_teachers(path, rubric, roster_path, columns=columns, sheet=sheet, strict=strict)
        except InputError as exc:
            exc = _relabel(exc, path, filename, rows=False)
            if roster is not None and roster_path is not None:
                exc = _relabel(exc, roster_path, roster[1], rows=False)
            raise exc from None
        table = _renamed(table, folder, filename, roster[1] if roster is not None else None)
        return table.with_school_names(school_names) if school_names else table


# The headers that name an area column (as the reader matches them), whose JSON value may be a list.
_AREA_HEADERS = frozenset(h for f in AREA_FIELDS for h in (f, *TEACHER_FIELDS[f]))


def _cell(column: str, value: Any) -> str:
    """A JSON value as the CSV cell the reader gets: true/false, blank for null; a list of areas (the
    reinforcement_areas and refinement_areas columns) as its names separated by ";"."""
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, list) and normalise(column) in _AREA_HEADERS:
        return ";".join("" if v is None else str(v) for v in value)
    return str(value)


def read_rows(rows: Sequence[dict[str, Any]], rubric: Rubric, name: str = "rows") -> TeacherTable:
    """Teachers given as JSON objects (the CSV's columns as keys; scores either as columns or under "scores"),
    validated by the CSV reader; problems name the row's index in the list. reinforcement_areas and
    refinement_areas may be a list of indicator names or one text with names separated by ";"."""
    problems = []
    flat: list[dict[str, str]] = []
    for i, r in enumerate(rows):
        line: dict[str, str] = {}
        for k, v in r.items():
            if k == "scores" and isinstance(v, dict):
                items = list(v.items())
            else:
                items = [(k, v)]
            for col, val in items:
                text = _cell(col, val)
                if "\n" in text or "\r" in text or "\n" in col:
                    problems.append(Problem(name, "line breaks are not allowed", row=i, column=col, value=text))
                line[col] = text
        flat.append(line)
    if not rows:
        problems.append(Problem(name, "no teacher rows given"))
    if problems:
        raise InputError(problems)
    header = list(dict.fromkeys(k for line in flat for k in line))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header, lineterminator="\n", restval="")
    w.writeheader()
    w.writerows(flat)
    with tempfile.TemporaryDirectory(prefix="matcher-rows-") as tmp:
        path = Path(tmp) / "rows.csv"
        path.write_text(buf.getvalue(), encoding="utf-8")
        try:
            return _renamed(read_teachers(path, rubric), Path(tmp), name)
        except InputError as exc:
            raise _relabel(exc, path, name, rows=True) from None


def read_coords(data: bytes | Path, filename: str, names: dict[str, str] | None = None
                ) -> dict[str, tuple[float, float]]:
    """Coordinates from an uploaded schools file (its bytes, or the file they were saved to; and its school names,
    added to `names`)."""
    with tempfile.TemporaryDirectory(prefix="matcher-schools-") as tmp:
        path = _placed(data, Path(tmp) / "schools.csv")
        try:
            return read_school_coords(path, names)
        except InputError as exc:
            raise _relabel(exc, path, filename, rows=False) from None


def store_dataset(engine: Engine, caller: Caller, table: TeacherTable, *, kind: str, name: str, rubric: str,
                  coords: dict[str, tuple[float, float]] | None = None,
                  synthetic: dict[str, Any] | None = None) -> str:
    """Store a validated table, one roster per school (with the school's name, if the file gave one); returns the
    dataset id."""
    order = np.argsort(table.school_id.astype(str), kind="stable")
    sid_sorted = table.school_id[order]
    cuts = np.flatnonzero(sid_sorted[1:] != sid_sorted[:-1]) + 1
    names = table.school_names
    several = table.several_observations  # once, not once per school
    groups = np.split(order, cuts) if len(table) else []

    def schools() -> Iterator[dict[str, Any]]:  # made as they are inserted, so a statewide upload never holds all
        for rows in groups:
            sid = str(table.school_id[rows[0]])
            lat, lon = (coords or {}).get(sid, (None, None))
            yield {"school_id": sid, "n_teachers": len(rows), "latitude": lat, "longitude": lon,
                   "roster": roster_of(table, rows, several), "name": names.get(sid) or None}

    with engine.begin() as conn:
        return repo.insert_dataset(conn, kind=kind, name=name, rubric=rubric, n_teachers=len(table),
                                   n_schools=len(groups), warnings=list(table.warnings), synthetic=synthetic,
                                   caller=caller, schools=schools())


def synthetic_district(n_schools: int, mean_size: float, seed: int, rubric: Rubric
                       ) -> tuple[TeacherTable, dict[str, tuple[float, float]]]:
    """A seeded synthetic district (teachers and school coordinates), written and read back exactly as
    `matcher synth` and `matcher pair` would."""
    with tempfile.TemporaryDirectory(prefix="matcher-synth-") as tmp:
        teachers, schools = Path(tmp) / "teachers.csv", Path(tmp) / "schools.csv"
        write_district(teachers, n_schools, mean_size, seed, schools, rubric)
        return _renamed(read_teachers(teachers, rubric), Path(tmp), "synthetic"), read_school_coords(schools)
