"""`matcher teams TEACHERS --out DIR`: form lesson-study or inquiry teams within every school."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem
from .common import EXIT_OK, add_reading_flags, check_out_folder, collect, print_warnings, read_teacher_file

GROUP_BY = ("grade_or_subject", "grade", "subject", "grade_and_subject", "any")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    t = subparsers.add_parser("teams", help="form teacher teams within every school around a shared focus indicator")
    t.add_argument("teachers", help="teacher CSV (wide), or a long score file with --roster")
    t.add_argument("--out", required=True, help="output folder (written all at once)")
    t.add_argument("--size", help='team sizes, e.g. "3-6" (default) or "4"')
    t.add_argument("--policy", help="team policy file (TOML/JSON); flags override it")
    add_reading_flags(t)
    t.add_argument("--aggregate", choices=["mean", "median", "latest"], default="mean",
                   help="a score observed several times: mean (default), median, or latest (by observation_date)")
    t.add_argument("--group-by", dest="group_by", choices=GROUP_BY,
                   help="what every member of a team shares (default grade_or_subject)")
    t.add_argument("--time-limit", type=float, dest="time_limit_seconds",
                   help="CP-SAT deterministic seconds per group of teachers (default 30); past it the summary says "
                        "optimal: false")
    t.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                   help="processes for the per-school solves (default: up to 2)")
    t.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    return t


def run(args: argparse.Namespace) -> int:
    from ..rubric import load_rubric
    from ..teams.model import load_team_policy, parse_size, team_policy_from_dict
    from ..teams.outputs import write_teams
    from ..teams.solve import form_teams

    started = time.perf_counter()
    problems: list[Problem] = []
    out = Path(args.out)
    check_out_folder(out, problems)
    flags: dict[str, Any] = {}
    if args.size is not None:
        size = collect(problems, parse_size, args.size, "command line", "--size")
        if size is not None:
            flags["min_size"], flags["max_size"] = size
    for key in ("group_by", "time_limit_seconds"):
        if getattr(args, key) is not None:
            flags[key] = getattr(args, key)
    if args.workers < 1:
        problems.append(Problem("command line", "must be at least 1", column="--workers", value=str(args.workers)))
    policy = collect(problems, load_team_policy, args.policy)
    if policy is not None and flags:
        policy = collect(problems, team_policy_from_dict, flags, "command line", policy)
    rubric = collect(problems, load_rubric, args.rubric)
    table = read_teacher_file(args, problems, rubric, args.aggregate)
    if problems:
        raise InputError(problems)
    assert table is not None and policy is not None
    result = form_teams(table, policy, workers=args.workers)
    summary = result.summary
    summary["elapsed_seconds"] = round(time.perf_counter() - started, 4)  # before writing: --json == summary.json
    write_teams(result, out)
    print_warnings(table.warnings)
    if args.json:
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
    else:
        _print_table(summary, out)
    return EXIT_OK


def _print_table(s: dict[str, Any], out: Path) -> None:
    proven = "yes" if s["optimal"] else f"no ({s['unproven_schools']} schools hit the time limit; gap {s['gap']})"
    rows: list[tuple[str, Any]] = [
        ("schools", s["n_schools"]), ("teachers", s["n_teachers"]), ("teams", s["n_teams"]),
        ("teachers in teams", s["n_teachers_in_teams"]), ("learners (objective)", s["objective"]),
        ("optimal (proven)", proven), ("teachers not in a team", s["n_unassigned"])]
    rows += [(f"  {reason}", n) for reason, n in s["unassigned_by_reason"].items()]
    rows += [("solve seconds", s["solve_seconds"]), ("total seconds", s["elapsed_seconds"])]
    width = max(len(k) for k, _ in rows)
    print("\n".join(f"{k:<{width}}  {v}" for k, v in rows))
    print(f"outputs: {out}/teams.csv, unassigned.csv, summary.json")
