"""`matcher synth --schools N --out FILE`: write a seeded synthetic district (or, with --city, a city's network
applicants)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem
from .common import EXIT_OK


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    s = subparsers.add_parser("synth", help="write a seeded synthetic district (teacher CSV, optional schools CSV)")
    s.add_argument("--schools", type=int, required=True, help="number of schools")
    s.add_argument("--mean-size", type=float, default=39.0, help="mean teachers per school")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", required=True, help="teacher CSV to write (with --city: the applicants' schools CSV)")
    s.add_argument("--schools-out", help="schools CSV to write too")
    s.add_argument("--city", action="store_true",
                   help="write a city's network applicants instead: --schools schools in one metro area, with "
                        "host_capacity, years_hosting, school_type and criteria_rank (matcher networks' input)")
    s.add_argument("--observations", action="append", default=[], metavar="PATH",
                   help="also write the district as an observation-level export (.csv or .xlsx): one row per "
                        "classroom observation, labelled headers, names, dates, observers (repeatable)")
    s.add_argument("--observations-per-teacher", type=int, metavar="N",
                   help="observe every teacher N times (1 to 6) in both files; default 1 to 4, more for new teachers")
    s.add_argument("--weak-share", type=float, metavar="SHARE",
                   help="expected share of scores below the rubric's weak_below (default 0.165); more refinement "
                        "areas make a denser district (benchmarks use 0.3)")
    s.add_argument("--rubric", default="team")
    return s


def run(args: argparse.Namespace) -> int:
    from ..rubric import load_rubric
    from ..synth import write_district, write_observations

    if args.schools < 1 or args.mean_size <= 0:
        raise InputError([Problem("command line", "need --schools >= 1 and --mean-size > 0",
                                  column="--schools", value=str(args.schools))])
    if args.city:
        from ..synth_city import MAX_APPLICANTS, write_city

        if args.schools > MAX_APPLICANTS or args.schools_out or args.observations or args.weak_share is not None:
            raise InputError([Problem("command line", f"--city writes one schools file of at most "
                                                      f"{MAX_APPLICANTS:,} schools to --out (no --schools-out, "
                                                      "--observations or --weak-share)", column="--city")])
        print(f"wrote {write_city(args.out, args.schools, args.seed)} applicant schools to {args.out}")
        return EXIT_OK
    bad = [p for p in args.observations if Path(p).suffix.lower() not in (".csv", ".xlsx")]
    if bad:
        raise InputError([Problem("command line", "an observation export is written as .csv or .xlsx",
                                  column="--observations", value=p) for p in bad])
    rubric = load_rubric(args.rubric)
    n_t, n_s = write_district(args.out, args.schools, args.mean_size, args.seed, args.schools_out, rubric,
                              args.observations_per_teacher, args.weak_share)
    print(f"wrote {n_t} teachers in {n_s} schools to {args.out}" +
          (f" and {args.schools_out}" if args.schools_out else ""))
    if args.observations:
        n_o = write_observations(args.observations, args.schools, args.mean_size, args.seed, rubric,
                                 args.observations_per_teacher)
        print(f"wrote {n_o} observations of those teachers to {', '.join(args.observations)}")
    return EXIT_OK
