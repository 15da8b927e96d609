"""What every command shares: reading a teachers file, collecting input problems, checking --out, and printing
warnings and errors (with the exit codes)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import InfeasibleError, InputError, MatcherError, Problem

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2
MAX_PRINTED_PROBLEMS = 500


def collect(problems: list[Problem], fn: Any, *args: Any) -> Any:
    """fn(*args), or None after adding its InputError's problems: every input is checked before any is refused."""
    try:
        return fn(*args)
    except InputError as exc:
        problems.extend(exc.problems)
        return None


def add_reading_flags(p: argparse.ArgumentParser) -> None:
    """How a teachers file is read: the same flags for every command that reads one."""
    p.add_argument("--roster", help="roster file when TEACHERS is a long score file (teacher_id, indicator, score)")
    p.add_argument("--rubric", default="team", help="team, danielson, or a rubric file (TOML/JSON)")
    p.add_argument("--columns", help="column map (TOML/JSON): header = \"field\" for headers that name no field "
                                     "(\"\" drops a column)")
    p.add_argument("--sheet", help="the Excel workbook's sheet to read (default: the first)")
    p.add_argument("--strict", action="store_true",
                   help="refuse columns that are neither a known field nor an indicator (default: keep them as "
                        "extras, with a warning)")


def read_teacher_file(args: argparse.Namespace, problems: list[Problem], rubric: Any, aggregate: str = "mean"
                      ) -> Any:
    """The teachers file named on the command line, read with the reading flags; None after adding problems."""
    from ..io.columns import load_column_map
    from ..io.teachers import read_teachers

    cmap = collect(problems, load_column_map, args.columns) if args.columns else None
    if rubric is None or (args.columns and cmap is None):
        return None
    try:
        return read_teachers(args.teachers, rubric, args.roster, columns=cmap, sheet=args.sheet,
                             strict=args.strict, aggregate=aggregate, all_aggregates=False)
    except InputError as exc:
        problems.extend(exc.problems)
        return None


def check_out_folder(out: Path, problems: list[Problem]) -> None:
    """--out must name a folder (existing or not) whose parent exists; outputs are published into it at once."""
    if not out.resolve().parent.is_dir():
        problems.append(Problem(str(out), "the output folder's parent folder does not exist"))
    elif out.exists() and not out.is_dir():
        problems.append(Problem(str(out), "exists and is not a folder; --out names the output folder"))


def print_warnings(warnings: Sequence[str], limit: int = 20) -> None:
    """What the input readers noticed but did not refuse, on stderr (all of them are in summary.json)."""
    for w in warnings[:limit]:
        print(f"warning: {w}", file=sys.stderr)
    if len(warnings) > limit:
        print(f"warning: ... and {len(warnings) - limit} more (see summary.json)", file=sys.stderr)


def print_error(exc: MatcherError) -> int:
    """A command's error on stderr (an InputError's problems one per line, up to MAX_PRINTED_PROBLEMS); the exit
    code: 2 for bad input or an infeasible request, else 1."""
    if isinstance(exc, InputError):
        shown = exc.problems[:MAX_PRINTED_PROBLEMS]
        print(f"error: {exc.count:,} problem(s) in the input; nothing was written.", file=sys.stderr)
        for p in shown:
            print(f"  - {p}", file=sys.stderr)
        if len(exc.problems) > len(shown):  # (exc.problems ends with a count line when there are over 1,000)
            print(f"  ... and {exc.count - len(shown):,} more", file=sys.stderr)
        return EXIT_BAD_INPUT
    if isinstance(exc, InfeasibleError):
        print(f"error: {exc}; nothing was written.", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"error: {exc}", file=sys.stderr)
    return EXIT_FAILURE
