"""Read and validate teacher files into a TeacherTable, as states export them: a wide file (one row per teacher,
or one per classroom observation) or a long score file (one row per score) beside a roster; CSV or Excel;
labelled headers; names. Every problem is reported at once with its file, row, column and value."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, Problem, shorten
from ..rubric import Rubric
from .columns import (
    IDS,
    SCORE_FIELDS,
    TEACHER_FIELDS,
    ColumnMap,
    Columns,
    Vocabulary,
    extras_warning,
    normalise,
    resolve,
)
from .csvfile import cell_text, number_cells, parse_numbers, text_codes, too_long
from .grades import parse_grades
from .limits import MAX_ID_LENGTH, check_time
from .observations import Aggregates, aggregate_columns, agree, group, parse_dates, text_key
from .sheets import Layout, Sheet, read_sheet
from .table import AGGREGATES, AREA_FIELDS, TeacherTable

REQUIRED = ("teacher_id", "school_id", "subject", "grades", "years_experience")
LONG_COLUMNS = ("teacher_id", "indicator", "score")
MAX_TEXT_LENGTH = 300
MAX_PROBLEMS_PER_KIND = 100  # per column and kind of problem; the rest are counted in one more problem
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}
# Roster fields compared across a teacher's rows, and what counts as the same value.
_AGREE_TEXT = ("school_id", "district_id", "supervisor_id")
_AGREE_FOLDED = ("teacher_name", "first_name", "last_name", "email", "school_name", "role", "subject")


@dataclass
class _File:
    """One file being read: its sheet, where each field is, and the problems found so far."""

    sheet: Sheet
    cols: Columns
    vocab: Vocabulary
    problems: list[Problem]
    marked: int = 0  # score cells that say "not observed" in words

    @property
    def name(self) -> str:
        return self.sheet.name

    @property
    def lines(self) -> np.ndarray:
        return self.sheet.lines

    def header_of(self, field: str) -> str:
        """The column's header as the file writes it ("Teacher ID"), for problems people can find."""
        j = self.cols.fields.get(field)
        return self.sheet.header[j] if j is not None else field

    def text(self, field: str) -> np.ndarray:
        """The field's cells, stripped ("" when blank or when the file has no such column); computed once."""
        cache = self.__dict__.setdefault("_text", {})
        if field not in cache:
            j = self.cols.fields.get(field)
            cache[field] = np.full(len(self.sheet.frame), "", dtype=object) if j is None else \
                column_text(self.sheet.frame[j])
        return cache[field]

    def forget_text(self, keeping: tuple[str, ...] = ()) -> None:
        """Let go of the fields' text computed so far (but `keeping`'s): a statewide file's is tens of MB."""
        cache = self.__dict__.get("_text", {})
        for name in [k for k in cache if k not in keeping]:
            del cache[name]

    def report(self, mask: np.ndarray, field: str, message: str | Callable[[str], str],
               values: np.ndarray | Callable[[int], str] | None = None) -> None:
        """A problem for each row in mask (at most MAX_PROBLEMS_PER_KIND, then one problem counting the rest).

        values: each row's value as shown (default: the field's text), or a function of the row, asked only for
        the rows listed; message: the same for every row, or a function of the value shown."""
        rows = np.flatnonzero(mask)
        if not len(rows):
            return
        vals = self.text(field) if values is None else values
        column = self.header_of(field)
        for i in rows[:MAX_PROBLEMS_PER_KIND].tolist():
            value = str(vals(i) if callable(vals) else vals[i])
            self.problems.append(Problem(self.name, message(value) if callable(message) else message,
                                         row=int(self.lines[i]), column=column, value=value))
        if len(rows) > MAX_PROBLEMS_PER_KIND:
            what = f" ({message})" if isinstance(message, str) else ""
            self.problems.append(Problem(self.name, f"... and {len(rows) - MAX_PROBLEMS_PER_KIND:,} more rows with "
                                                    f"the same problem{what}", column=column))


def column_text(col: pd.Series) -> np.ndarray:
    """A column's cells as stripped text (numbers without a spurious ".0"). An export repeats a teacher's roster
    on each observation row, so each distinct cell is converted once."""
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    if col.dtype == object or pd.api.types.is_string_dtype(col):
        text = [str(v).strip() for v in uniques.tolist()]
    else:
        text = [_cell_text(v) for v in uniques.tolist()]
    table = np.array([*text, ""], dtype=object)  # code -1 (blank) takes the last entry
    return table[codes]


def _located(problems: list[Problem]) -> InputError:
    """The problems in file and row order (each kind's "... and N more" after its rows), so a long list reads
    down the file."""
    files: dict[str, int] = {}
    for p in problems:
        files.setdefault(p.file, len(files))  # files in the order their first problem came
    order = sorted(range(len(problems)), key=lambda i: (files[problems[i].file], problems[i].row is None,
                                                        problems[i].row or 0, i))
    return InputError([problems[i] for i in order])


def _cell_text(v: float) -> str:
    text = repr(float(v))
    return text[:-2] if text.endswith(".0") else text


def read_teachers(path: str | Path, rubric: Rubric, roster: str | Path | None = None, *,
                  columns: ColumnMap | None = None, sheet: str | None = None, strict: bool = False,
                  aggregate: str = "mean", all_aggregates: bool = True) -> TeacherTable:
    """Read a teacher file (CSV or .xlsx): wide (one row per teacher, or per observation), or with `roster` a long
    score file (teacher_id, indicator, score: one row per score). Raise InputError listing every problem.

    columns: renames for headers that match no field; sheet: the workbook's sheet (default the first);
    strict: refuse columns that are neither a field nor an indicator (by default they are kept as extras);
    aggregate: the score of several observations (mean, median, or latest by observation_date); all_aggregates:
    compute the others too (so a policy may choose one later: TeacherTable.aggregated), else only `aggregate`."""
    if aggregate not in AGGREGATES:
        raise InputError([Problem("policy", f"must be one of {', '.join(AGGREGATES)}", column="aggregate",
                                  value=aggregate)])
    path = Path(path)
    if roster is not None:
        return _read_long(path, Path(roster), rubric, columns, sheet, strict, aggregate, all_aggregates)
    problems: list[Problem] = []
    f = _open(path, rubric, columns, sheet, strict, problems, with_indicators=True)
    if f is None:
        raise _located(problems)
    fields = set(f.cols.fields)
    present = [ind for ind in rubric.indicators if ind in fields]
    if not present and f.cols.extras:
        # Scores under headers nobody recognised: the wrong rubric, or headers to map. (A file of known fields
        # only, such as teachers joining a school, may have no scores yet.)
        problems.append(Problem(f.name, f"no column is an indicator of the {rubric.name} rubric (is it the right "
                                        f"rubric? rename headers with --columns); its indicators are: "
                                        f"{', '.join(rubric.indicators)}", row=f.sheet.header_row))
    check_time()
    roster_rows = _roster_rows(f)
    scores = np.full((len(f.sheet.frame), len(rubric.indicators)), np.nan)
    for j, ind in enumerate(rubric.indicators):
        if ind in fields:
            check_time()
            scores[:, j] = _score_column(f, ind, rubric)
    check_time()
    # Score columns that are all numbers live on in `scores` only (the table no longer holds them twice).
    frame = f.sheet.frame
    as_numbers = {f.cols.fields[ind]: j for j, ind in enumerate(rubric.indicators)
                  if ind in fields and pd.api.types.is_float_dtype(frame[f.cols.fields[ind]])}
    for j in as_numbers:
        del frame[j]
    tid_codes, _ = pd.factorize(roster_rows["teacher_id"])
    keep, warnings = _drop_repeated_rows(f, [tid_codes, roster_rows["date_days"], *scores.T],
                                         tuple(scores[:, j] for j in as_numbers.values()))
    del tid_codes
    check_time()
    table_fields, codes, n = _teachers_of(f, roster_rows, keep)
    check_time()
    areas = _designations(f, codes, n, rubric)
    dates = roster_rows["date_days"] if "observation_date" in fields else None
    del roster_rows
    f.forget_text(keeping=("observation_date",))

    def column(j: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        rows = np.flatnonzero(keep & ~np.isnan(scores[:, j]))
        return codes[rows], scores[rows, j], None if dates is None else dates[rows]

    observed = keep & ~np.isnan(scores).all(axis=1)
    agg = aggregate_observations(f, column, n, len(rubric.indicators), dates, observed, aggregate, all_aggregates)
    if problems:
        raise _located(problems)
    missing = [ind for ind in rubric.indicators if ind not in fields]
    if missing:
        warnings.append(f"{f.name}: no column for {len(missing)} indicator(s) of the {rubric.name} rubric, treated "
                        f"as not observed for everyone: {', '.join(missing)}")
    return _table(rubric, f, table_fields, agg, aggregate, codes, keep,
                  f.sheet.warnings + tuple(warnings + _marked_warning(f)), areas=areas)


def _open(path: Path, rubric: Rubric, columns: ColumnMap | None, sheet: str | None, strict: bool,
          problems: list[Problem], with_indicators: bool, vocab_fields: dict[str, tuple[str, ...]] | None = None,
          required: tuple[str, ...] = REQUIRED, id_field: str = "teacher_id",
          extras_kept: bool = True) -> _File | None:
    """Read the file, find its header and place every column; None (with problems) when it cannot be read."""
    vocab = Vocabulary(vocab_fields or TEACHER_FIELDS, rubric, with_indicators)
    placed: dict[str, Columns] = {}
    header_problems: list[Problem] = []

    def is_header(cells: list[str]) -> bool:
        return any((columns.target(c) if columns is not None else None) == id_field or vocab.match(c) == id_field
                   for c in cells if c)

    def layout(header: list[str]) -> Layout:
        # Problems found here carry the file name; the sheet name is added once the sheet is known.
        cols = resolve(header, vocab, columns, str(path), 0, header_problems, strict)
        placed["cols"] = cols
        numeric = {j for fld, j in cols.fields.items() if fld in rubric.indicators or fld in
                   ("years_experience", "score")}
        ids = {j for fld, j in cols.fields.items() if fld in IDS}
        return Layout(frozenset(numeric), frozenset(ids))

    sh = read_sheet(path, problems, sheet=sheet, is_header=is_header, layout=layout)
    if sh is None:
        return None
    for p in header_problems:
        problems.append(Problem(sh.name if p.file == str(path) else p.file, p.message,
                                row=sh.header_row if p.row == 0 else p.row, column=p.column, value=p.value))
    cols = placed["cols"]
    if required == REQUIRED and set(LONG_COLUMNS) <= {normalise(h) for h in sh.header} and \
            "school_id" not in cols.fields:
        problems.append(Problem(sh.name, "this looks like a long score file (teacher_id, indicator, score); pass "
                                         "the roster with --roster ROSTER.csv"))
        return None
    if cols.extras and not strict:
        if extras_kept:
            w = extras_warning(sh.name, cols.extras, vocab)
        else:
            w = (f"{sh.name}: column(s) not used: {', '.join(repr(h) for h, _ in cols.extras)} (a long score file "
                 "holds teacher_id, indicator, score, and optionally observation_date and observer)")
        sh = dataclasses.replace(sh, warnings=sh.warnings + ((w,) if w else ()))
    f = _File(sh, cols, vocab, problems)
    for c in required:
        if c not in f.cols.fields:
            accepted = [a for a in (vocab_fields or TEACHER_FIELDS).get(c, ())][:3]
            hint = f" (a header such as {c!r}{''.join(f', {a!r}' for a in accepted)}, or map one with --columns)"
            problems.append(Problem(f.name, f"missing required column{hint}", row=sh.header_row, column=c))
    for j in f.cols.unnamed:
        col = sh.frame[j]
        filled = np.flatnonzero(col.notna().to_numpy() & (col.astype(str).str.strip() != "").to_numpy())
        if len(filled):
            i = int(filled[0])
            problems.append(Problem(f.name, f"column {j + 1} has no header but holds values", row=int(sh.lines[i]),
                                    value=str(col.iloc[i])))
    if len(sh.frame) == 0:
        problems.append(Problem(f.name, "empty file: the header has no data rows under it"))
    if problems:
        return None
    return f


# What exports write in a score cell for "not observed"; read as a blank, with one warning per file.
NOT_OBSERVED = frozenset({"n/a", "na", "not observed", "not scored", "-", "\u2014"})


def _score_column(f: _File, field: str, rubric: Rubric) -> np.ndarray:
    """One column of scores, one per row (NaN blank); bad cells are problems, out-of-scale ones too."""
    col = f.sheet.frame[f.cols.fields[field]]
    if col.dtype == object or pd.api.types.is_string_dtype(col):  # text among the numbers
        codes, text = text_codes(col)  # each distinct cell is looked at once
        marked_u = np.array([t.lower() in NOT_OBSERVED for t in text.tolist()], dtype=bool)
        if marked_u.any():
            marked = marked_u[codes]
            f.marked += int(marked.sum())
            text = np.where(marked_u, "", text).astype(object)
        vals_u, bad_u = parse_numbers(text)
        vals, bad = vals_u[codes], bad_u[codes]

        def shown(i: int) -> str:
            return str(text[codes[i]])
    else:
        frame = pd.DataFrame({field: col})
        vals, bad = number_cells(frame, field)

        def shown(i: int) -> str:
            return cell_text(frame, field, i)

    f.report(bad, field, "not a number (leave the cell blank if not observed)", shown)
    with np.errstate(invalid="ignore"):
        out = (vals < rubric.scale_min) | (vals > rubric.scale_max)
    if out.any():
        f.report(out, field, f"score outside the rubric scale {rubric.scale_min:g} to {rubric.scale_max:g}", shown)
        vals[out] = np.nan
    return vals


def _marked_warning(f: _File) -> list[str]:
    return [f"{f.name}: {f.marked:,} score cell(s) marked as not observed (N/A, -, ...) were read as blank"] \
        if f.marked else []


def _roster_rows(f: _File) -> dict[str, np.ndarray]:
    """Per row: every roster field, parsed and checked cell by cell."""
    n = len(f.sheet.frame)
    out: dict[str, np.ndarray] = {}
    for fld in TEACHER_FIELDS:
        if fld not in ("years_experience", *AREA_FIELDS):
            out[fld] = f.text(fld)
    for fld in ("teacher_id", "school_id"):
        if fld in f.cols.fields:
            f.report(out[fld] == "", fld, "must not be blank")
    for fld in (*IDS, "teacher_name", "first_name", "last_name", "school_name", "email", "role", "observer"):
        limit = MAX_ID_LENGTH if fld in IDS else MAX_TEXT_LENGTH
        if fld in f.cols.fields and n:
            f.report(too_long(out[fld], limit), fld, f"longer than {limit} characters"
                     + (" (an id may have at most that many)" if fld in IDS else ""))
    out["subject"] = np.asarray([s.lower() for s in out["subject"].tolist()], dtype=object)
    masks = np.zeros(n, dtype=np.int64)
    grades = out["grades"]
    if n:
        inverse, uniq = text_codes(pd.Series(grades, dtype=object))
        parsed = np.zeros(len(uniq), dtype=np.int64)
        bad_u = np.zeros(len(uniq), dtype=bool)
        for u, text in enumerate(uniq.tolist()):
            if text:
                try:
                    parsed[u] = parse_grades(text)
                except ValueError:
                    bad_u[u] = True
        masks = parsed[inverse]
        f.report(bad_u[inverse], "grades", 'not a grade list; use a grade ("3"), "K", "PK", a range ("6-8") or a '
                                           'list ("9;10")')
    out["grade_mask"] = masks
    if "years_experience" in f.cols.fields:
        frame = pd.DataFrame({"y": f.sheet.frame[f.cols.fields["years_experience"]]})
        years, bad = number_cells(frame, "y")
        with np.errstate(invalid="ignore"):
            bad |= years < 0
        years[bad] = np.nan
        f.report(bad, "years_experience", "must be a number of years >= 0 (or blank if unknown)",
                 lambda i: cell_text(frame, "y", i))
        out["years"] = years
    else:
        out["years"] = np.full(n, np.nan)
    low = np.asarray([s.lower() for s in out["opt_out"].tolist()], dtype=object)
    is_true = np.isin(low, list(_TRUE))
    is_false = np.isin(low, list(_FALSE))
    f.report(~(is_true | is_false | (low == "")), "opt_out", "must be true/false (or yes/no, 1/0, blank)")
    out["opt_code"] = np.where(is_true, 1, np.where(is_false, 0, -1))
    if "observation_date" in f.cols.fields:
        days, bad = parse_dates(out["observation_date"])
        f.report(bad, "observation_date", "not a date (use 2025-10-14 or 10/14/2025)")
        out["date_days"] = days
    else:
        out["date_days"] = np.full(n, np.nan)
    return out


def _drop_repeated_rows(f: _File, key: list[np.ndarray] | None = None, more: tuple[np.ndarray, ...] = ()
                        ) -> tuple[np.ndarray, list[str]]:
    """Rows that repeat an earlier row cell for cell (an export listing an observation twice) count once.

    key: columns of numbers that equal rows share (teacher, date, scores; default: every column's cells); only
    rows repeating an earlier row's key are compared cell for cell, column by column, which spares hashing every
    column of a statewide export and never copies the table. more: columns compared besides the table's (its
    numeric score columns, once taken out of it)."""
    frame = f.sheet.frame
    n = len(frame)
    if n < 2:
        return np.ones(n, dtype=bool), []
    h = np.zeros(n, dtype=np.uint64)
    columns = key if key is not None else (pd.factorize(frame[j])[0] for j in frame.columns)
    for col in columns:  # one 64-bit hash per row; a collision only adds a row to compare
        check_time()
        h = (h * np.uint64(1_000_003)) ^ pd.util.hash_array(np.nan_to_num(np.asarray(col, dtype=float),
                                                                          nan=-1e300))
    codes, _ = pd.factorize(h)
    del h
    first = np.full(codes.max() + 1, n, dtype=np.int64)
    np.minimum.at(first, codes, np.arange(n))
    ref = first[codes]
    cand = np.flatnonzero(ref != np.arange(n))
    dup = np.zeros(n, dtype=bool)
    if len(cand):
        same = np.ones(len(cand), dtype=bool)
        for col in [*(frame[j] for j in frame.columns), *(pd.Series(m) for m in more)]:
            check_time()
            a, b = col.iloc[cand].to_numpy(), col.iloc[ref[cand]].to_numpy()
            same &= (a == b) | (pd.isna(a) & pd.isna(b))
        dup[cand[same]] = True
    if not dup.any():
        return np.ones(n, dtype=bool), []
    rows = f.lines[dup]
    shown = ", ".join(str(int(r)) for r in rows[:10]) + (f" and {len(rows) - 10:,} more" if len(rows) > 10 else "")
    return ~dup, [f"{f.name}: {len(rows):,} row(s) repeat an earlier row exactly and were counted once: rows "
                  f"{shown}"]


def _teachers_of(f: _File, rows: dict[str, np.ndarray], keep: np.ndarray
                 ) -> tuple[dict[str, np.ndarray], np.ndarray, int]:
    """One value per teacher for every roster field; rows of one teacher that disagree are problems naming both
    rows. Returns (fields per teacher, codes: row -> teacher, or -1 for dropped rows, number of teachers)."""
    kept = np.flatnonzero(keep)
    codes_kept, first = group(rows["teacher_id"][kept])
    n = len(first)
    codes = np.full(len(keep), -1, dtype=np.int64)
    codes[kept] = codes_kept
    out: dict[str, np.ndarray] = {"teacher_id": rows["teacher_id"][kept][first]}
    lines = f.lines[kept]

    def check(fld: str, values: np.ndarray, blank: np.ndarray, shown: np.ndarray, missing: object = "",
              key: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
        a = agree(values, blank, codes_kept, n, missing, key)
        if len(a.conflicts) and fld in f.cols.fields:
            ref = a.first_row[codes_kept[a.conflicts]]
            tid = out["teacher_id"][codes_kept[a.conflicts]]
            for i, r, t in list(zip(a.conflicts.tolist(), ref.tolist(), tid.tolist(), strict=True)
                                )[:MAX_PROBLEMS_PER_KIND]:
                f.problems.append(Problem(f.name, f"teacher {shorten(t)} has {shorten(str(shown[i]))!r} here but "
                                                  f"{shorten(str(shown[r]))!r} on row {int(lines[r])}; a teacher's "
                                                  "rows must agree",
                                          row=int(lines[i]), column=f.header_of(fld), value=str(shown[i])))
            if len(a.conflicts) > MAX_PROBLEMS_PER_KIND:
                f.problems.append(Problem(f.name, f"... and {len(a.conflicts) - MAX_PROBLEMS_PER_KIND:,} more rows "
                                                  "that disagree with the teacher's earlier rows",
                                          column=f.header_of(fld)))
        return a.value

    for fld in _AGREE_TEXT + _AGREE_FOLDED:
        v = rows[fld][kept]
        out[fld] = check(fld, v, v == "", v, key=text_key if fld in _AGREE_FOLDED else None)
    g = rows["grades"][kept]
    gm = rows["grade_mask"][kept]
    out["grade_mask"] = check("grades", gm, gm == 0, g, missing=0)
    first_text = agree(g, gm == 0, codes_kept, n).value
    out["grades"] = first_text
    y = rows["years"][kept]
    out["years"] = check("years_experience", y, np.isnan(y), f.text("years_experience")[kept], missing=np.nan)
    oc = rows["opt_code"][kept]
    out["opt_out"] = check("opt_out", oc, oc < 0, rows["opt_out"][kept], missing=0) == 1
    named = out["teacher_name"] != ""
    both = np.array([f"{a} {b}".strip() for a, b in zip(out["first_name"].tolist(), out["last_name"].tolist(),
                                                           strict=True)], dtype=object)
    out["teacher_name"] = np.where(named, out["teacher_name"], both).astype(object)
    _check_school_names(f, out)
    return out, codes, n


def _check_school_names(f: _File, out: dict[str, np.ndarray]) -> None:
    """A school has one name: two teachers naming one school differently is a problem naming both."""
    if "school_name" not in f.cols.fields:
        return
    named = np.flatnonzero(out["school_name"] != "")
    if not len(named):
        return
    codes, first = group(out["school_id"][named])
    a = agree(out["school_name"][named], np.zeros(len(named), dtype=bool), codes, len(first), key=text_key)
    for i in a.conflicts[:MAX_PROBLEMS_PER_KIND].tolist():
        ref = named[a.first_row[codes[i]]]
        t, t0 = out["teacher_id"][named[i]], out["teacher_id"][ref]
        f.problems.append(Problem(f.name, f"school {shorten(out['school_id'][named[i]])} is named "
                                          f"{shorten(out['school_name'][named[i]])!r} for teacher {shorten(t)} but "
                                          f"{shorten(out['school_name'][ref])!r} for teacher {shorten(t0)}; a "
                                          "school has one name",
                                  column=f.header_of("school_name"), value=str(out["school_name"][named[i]])))


def aggregate_observations(f: _File, column: Callable[[int], tuple[np.ndarray, np.ndarray, np.ndarray | None]],
                           n: int, k: int, date: np.ndarray | None, observed: np.ndarray, method: str,
                           all_aggregates: bool = True) -> Aggregates:
    """Aggregate the observations (column(j): teacher, value and date of indicator j's observations; date: each
    row's, or None without a date column; observed: the rows that are observations); with method latest and
    several observations of a score, every observation needs a date (rows without one are problems)."""
    dated = date is not None and not np.isnan(date[observed]).any()
    agg = aggregate_columns(column, n, k, dated, AGGREGATES if all_aggregates else (method,))
    if method == "latest" and agg.several and agg.latest is None:
        if date is None:
            f.problems.append(Problem(f.name, "aggregate = 'latest' needs an observation_date column (or use mean "
                                              "or median)", column="observation_date"))
        else:  # rows whose date is not a date have their problem already
            mask = observed & np.isnan(date) & (f.text("observation_date") == "")
            f.report(mask, "observation_date", "aggregate = 'latest' needs the date of every observation")
    return agg


def _extras(f: _File, codes: np.ndarray, keep: np.ndarray, n: int) -> tuple[tuple[str, np.ndarray], ...]:
    """Each extra column per teacher: its distinct non-blank values over the teacher's rows, in row order,
    joined by "; "."""
    out = []
    kept = np.flatnonzero(keep)
    if len(kept) == len(np.unique(codes[kept])):  # one row per teacher: each extra is its cell
        order = np.argsort(codes[kept], kind="stable")
        return tuple((h, column_text(f.sheet.frame[j])[kept][order]) for h, j in f.cols.extras)
    for h, j in f.cols.extras:
        s = pd.DataFrame({"t": codes[kept], "v": column_text(f.sheet.frame[j])[kept]})
        s = s[s["v"] != ""].drop_duplicates()
        nth = s.groupby("t", sort=False).cumcount().to_numpy()
        t, v = s["t"].to_numpy(), s["v"].to_numpy(dtype=object)
        vals = np.full(n, "", dtype=object)
        first = nth == 0
        vals[t[first]] = v[first]
        for k in range(1, int(nth.max(initial=0)) + 1):  # the k-th distinct value of each teacher that has one
            at = nth == k
            vals[t[at]] = vals[t[at]] + "; " + v[at]
        out.append((h, vals))
    return tuple(out)


def _designations(f: _File, codes: np.ndarray, n: int, rubric: Rubric) -> dict[str, np.ndarray | None]:
    """Per teacher, the indicators each area column (reinforcement_areas, refinement_areas) names: (n, k) bool,
    the union over the teacher's rows (codes: row -> teacher, -1 for rows not counted); None for a column the file
    does not have. A cell lists indicators separated by ";", by the rubric's names or labels ("Questioning",
    "Standards & Objectives"); a name that is not an indicator is a problem naming its row, column and value."""
    out: dict[str, np.ndarray | None] = {}
    k = len(rubric.indicators)
    vocab = Vocabulary({}, rubric, True)
    counted = codes >= 0
    for fld in AREA_FIELDS:
        if fld not in f.cols.fields:
            out[fld] = None
            continue
        check_time()
        inverse, cells = text_codes(pd.Series(f.text(fld), dtype=object))
        named_u = np.zeros((len(cells), k), dtype=bool)
        unknown_u = np.full(len(cells), "", dtype=object)
        for u, cell in enumerate(cells.tolist()):  # each distinct cell once
            if u % 65_536 == 65_535:
                check_time()  # an upload's deadline: a file of millions of distinct cells stops in time
            unknown = []
            for part in cell.split(";"):
                name = part.strip()
                if not name:
                    continue
                j = _indicator_index(rubric, vocab, name)
                if j < 0:
                    unknown.append(name)
                else:
                    named_u[u, j] = True
            unknown_u[u] = "; ".join(unknown)
        unknown_rows = unknown_u[inverse] if len(inverse) else np.zeros(0, dtype=object)

        def problem(value: str, fld: str = fld) -> str:
            hint = vocab.suggest(value) if ";" not in value else ""
            return (f"not an indicator of the {rubric.name} rubric" + (f"; {hint}" if hint else "") +
                    f" ({fld}: indicator names or labels separated by ';')")

        f.report(counted & (unknown_rows != ""), fld, problem, unknown_rows)
        areas = np.zeros((n, k), dtype=bool)
        rows = np.flatnonzero(counted)
        r, j = np.nonzero(named_u[inverse[rows]]) if len(rows) else (rows, rows)
        areas[codes[rows[r]], j] = True
        out[fld] = areas
    return out


def _table(rubric: Rubric, f: _File, t: dict[str, np.ndarray], agg: Aggregates, method: str, codes: np.ndarray,
           keep: np.ndarray, warnings: tuple[str, ...], source: str | None = None,
           areas: dict[str, np.ndarray | None] | None = None) -> TeacherTable:
    n = len(t["teacher_id"])
    by = {"mean": agg.mean, "median": agg.median, "latest": agg.latest}
    scores = by[method] if by[method] is not None else agg.mean
    others = tuple((m, s) for m, s in by.items() if m != method and s is not None)
    return TeacherTable(rubric=rubric, teacher_id=t["teacher_id"], school_id=t["school_id"],
                        district_id=t["district_id"], subject=t["subject"], grades=t["grade_mask"],
                        grades_text=t["grades"], years=t["years"].astype(float), opt_out=t["opt_out"].astype(bool),
                        scores=scores, source=source or f.name, warnings=warnings, teacher_name=t["teacher_name"],
                        school_name=t["school_name"], email=t["email"], role=t["role"],
                        supervisor_id=t["supervisor_id"], n_obs=agg.count, extras=_extras(f, codes, keep, n),
                        aggregate=method, other_scores=others,
                        reinforcement_areas=(areas or {}).get("reinforcement_areas"),
                        refinement_areas=(areas or {}).get("refinement_areas"))


def _read_long(path: Path, roster_path: Path, rubric: Rubric, columns: ColumnMap | None, sheet: str | None,
               strict: bool, method: str, all_aggregates: bool) -> TeacherTable:
    """A long score file (one row per score: teacher_id, indicator, score[, observation_date, observer]) beside a
    roster (one row per teacher, or the same rows repeated)."""
    problems: list[Problem] = []
    r = _open(roster_path, rubric, columns, None, strict, problems, with_indicators=False)
    long_fields = {"teacher_id": TEACHER_FIELDS["teacher_id"], **SCORE_FIELDS,
                   "observation_date": TEACHER_FIELDS["observation_date"], "observer": TEACHER_FIELDS["observer"]}
    s = _open(path, rubric, columns, sheet, strict, problems, with_indicators=False, vocab_fields=long_fields,
              required=LONG_COLUMNS, extras_kept=False)
    if r is None or s is None:
        raise _located(problems)
    rows = _roster_rows(r)
    keep, warnings = _drop_repeated_rows(r)
    t, codes, n = _teachers_of(r, rows, keep)
    areas = _designations(r, codes, n, rubric)  # a long file's areas are on its roster
    k = len(rubric.indicators)
    # the score rows
    tid = s.text("teacher_id")
    ind = s.text("indicator")
    vals = _score_column(s, "score", rubric)
    row_of = {x: i for i, x in enumerate(t["teacher_id"].tolist())}
    ti = pd.Series(tid).map(row_of).to_numpy(dtype=float)
    ind_vocab = Vocabulary({}, rubric, True)
    inverse, uniq = text_codes(pd.Series(ind, dtype=object))
    col_u = np.array([_indicator_index(rubric, ind_vocab, u) for u in uniq.tolist()], dtype=np.int64)
    ci = col_u[inverse] if len(ind) else np.zeros(0, dtype=np.int64)
    s.report(np.isnan(ti) & (tid != ""), "teacher_id", f"teacher_id not in the roster {r.name}")
    s.report(tid == "", "teacher_id", "must not be blank")
    check_time()

    def unknown(value: str) -> str:
        hint = ind_vocab.suggest(value)
        return f"unknown indicator for the {rubric.name} rubric" + (f"; {hint}" if hint else "")

    s.report(ci < 0, "indicator", unknown)
    dates = None
    if "observation_date" in s.cols.fields:
        dates, bad_d = parse_dates(s.text("observation_date"))
        s.report(bad_d, "observation_date", "not a date (use 2025-10-14 or 10/14/2025)")
    if problems:
        raise _located(problems)
    check_time()
    s_keep, s_warn = _drop_repeated_rows(s)
    good = s_keep & ~np.isnan(vals)
    by_indicator = np.flatnonzero(good)[np.argsort(ci[good], kind="stable")]
    cuts = np.searchsorted(ci[by_indicator], np.arange(k + 1))

    def column(j: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        rows = by_indicator[cuts[j]:cuts[j + 1]]
        return ti[rows].astype(np.int64), vals[rows], None if dates is None else dates[rows]

    check_time()
    agg = aggregate_observations(s, column, n, k, dates, good, method, all_aggregates)
    if problems:
        raise _located(problems)
    return _table(rubric, r, t, agg, method, codes, keep, r.sheet.warnings + s.sheet.warnings
                  + tuple(warnings + s_warn + _marked_warning(s)), source=f"{s.name} + {r.name}", areas=areas)


def _indicator_index(rubric: Rubric, vocab: Vocabulary, text: str) -> int:
    ind = vocab.match(text) if text else None
    return rubric.indicators.index(ind) if ind in rubric.indicators else -1
