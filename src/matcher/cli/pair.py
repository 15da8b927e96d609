"""`matcher pair TEACHERS --out DIR`: suggest target/partner teacher pairs for every school."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem
from .common import EXIT_OK, add_reading_flags, check_out_folder, collect, print_warnings, read_teacher_file

# The flags that override the policy file, by their argparse dest (= the policy's field).
_POLICY_FLAGS = ("mode", "max_targets_per_partner", "weak_below", "strong_at_least", "weigh_gap_size", "subject",
                 "grade", "max_grade_distance", "max_junior_years", "preference_weight", "scope",
                 "cross_school_fallback", "fallback_max_km", "solver", "time_limit_seconds", "aggregate",
                 "areas", "areas_per_teacher", "min_gap", "two_way_weight", "previous_stability")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("pair", help="suggest target/partner teacher pairs for every school")
    p.add_argument("teachers", help="teacher CSV (wide), or a long score file with --roster")
    p.add_argument("--out", required=True, help="output folder (written all at once)")
    add_reading_flags(p)
    p.add_argument("--policy", help="policy file (TOML/JSON); flags below override it")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    p.add_argument("--mode", choices=["mutual", "one_way"])
    p.add_argument("--max-targets", type=int, dest="max_targets_per_partner",
                   help="one-way mode: targets one partner may support (K)")
    p.add_argument("--weak-below", type=float, dest="weak_below")
    p.add_argument("--strong-at-least", type=float, dest="strong_at_least")
    p.add_argument("--gap-size", action="store_true", dest="weigh_gap_size", default=None,
                   help="weigh each covered indicator by the score gap")
    p.add_argument("--subject", choices=["any", "prefer_same", "require_same", "prefer_cross"])
    p.add_argument("--grade", choices=["any", "prefer_same", "require_same", "prefer_cross"])
    p.add_argument("--max-grade-distance", type=int, dest="max_grade_distance")
    p.add_argument("--max-junior-years", type=float, dest="max_junior_years",
                   help="never make a teacher the target of a partner this many years less experienced")
    p.add_argument("--preference-weight", type=float, dest="preference_weight",
                   help="weight of soft preferences in the objective (default 0: tie-break only)")
    p.add_argument("--scope", choices=["school", "district", "all"])
    p.add_argument("--cross-school", action="store_true", dest="cross_school_fallback", default=None,
                   help="pair teachers left unmatched in their school across schools of their district")
    p.add_argument("--max-km", type=float, dest="fallback_max_km", help="distance limit for cross-school pairs")
    p.add_argument("--schools", help="schools CSV (school_id, latitude, longitude, ...) for distances")
    p.add_argument("--previous", help="last run's pairs.csv: keep its pairs as --previous-stability says")
    p.add_argument("--previous-stability", choices=["keep_untouched", "balanced", "full"], dest="previous_stability",
                   help="with --previous: keep every pair still allowed and pair only the others (keep_untouched, "
                        "default; the summary says what it costs), keep them where no value is lost (balanced), or "
                        "pair afresh (full)")
    p.add_argument("--areas", choices=["thresholds", "relative", "designated"],
                   help="a teacher's reinforcement and refinement areas: score thresholds (default, IPI), each "
                        "teacher's own highest and lowest scores (relative), or the file's reinforcement_areas and "
                        "refinement_areas columns (designated)")
    p.add_argument("--areas-per-teacher", type=int, dest="areas_per_teacher",
                   help="relative areas: k highest and k lowest scores per teacher, ties included (default 3)")
    p.add_argument("--min-gap", type=float, dest="min_gap",
                   help="relative and designated areas: points a teacher's score must exceed the colleague's on an "
                        "indicator to support them in it (default 1)")
    p.add_argument("--two-way-weight", type=float, dest="two_way_weight",
                   help="value of a pair where each teacher can support the other, added to the objective (default 0: "
                        "two-way pairs only break ties among optimal pairings)")
    p.add_argument("--handout-scores", action="store_true",
                   help="show both teachers' scores on the pair handouts (default: indicator names only)")
    p.add_argument("--must-pair", help="CSV of pairs (teacher_a, teacher_b) that must be formed")
    p.add_argument("--do-not-pair", help="CSV of pairs (teacher_a, teacher_b) that must not be formed")
    p.add_argument("--aggregate", choices=["mean", "median", "latest"],
                   help="a score observed several times: mean (default), median, or latest (by observation_date)")
    p.add_argument("--solver", help="auto (default), blossom, certified, cpsat or networkx")
    p.add_argument("--time-limit", type=float, dest="time_limit_seconds",
                   help="seconds per pool for one-way mode's CP-SAT and for the large-pool route; past it the "
                        "summary says optimal: false (the large-pool route also states a proven bound)")
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                   help="processes for the per-school solves (default: up to 2; the answer never depends on it)")
    return p


def run(args: argparse.Namespace) -> int:
    from ..io.pair_lists import check_pair_ids, read_pair_file, read_school_coords
    from ..pairing.engine import pair_teachers
    from ..policy import load_policy, policy_from_dict
    from ..report.outputs import summary_json, write_outputs
    from ..rubric import load_rubric

    started = time.perf_counter()
    problems: list[Problem] = []
    out = Path(args.out)
    check_out_folder(out, problems)
    rubric = collect(problems, load_rubric, args.rubric)
    policy = collect(problems, load_policy, args.policy)
    flags = {k: getattr(args, k) for k in _POLICY_FLAGS if getattr(args, k) is not None}
    if policy is not None and flags:
        policy = collect(problems, policy_from_dict, flags, "command line", policy)
    table = read_teacher_file(args, problems, rubric, policy.aggregate if policy else "mean")
    lists: dict[str, list[tuple[int, str, str]]] = {}
    for key in ("previous", "must_pair", "do_not_pair"):
        path = getattr(args, key)
        if path:
            rows = collect(problems, read_pair_file, path)
            if rows is not None:
                lists[key] = rows
                if table is not None and key != "previous":
                    problems.extend(check_pair_ids(table, rows, path))
    school_names: dict[str, str] = {}
    coords = collect(problems, read_school_coords, args.schools, school_names) if args.schools else None
    if problems:
        raise InputError(problems)
    assert table is not None and policy is not None
    if "must_pair" in lists:
        policy = policy.replace(must_pair=policy.must_pair + tuple((a, b) for _, a, b in lists["must_pair"]))
    if "do_not_pair" in lists:
        policy = policy.replace(do_not_pair=policy.do_not_pair + tuple((a, b) for _, a, b in lists["do_not_pair"]))
    previous = [(a, b) for _, a, b in lists["previous"]] if "previous" in lists else None
    table = table.with_school_names(school_names)
    result = pair_teachers(table, policy, previous=previous, previous_source=args.previous or "",
                           workers=max(1, args.workers),
                           school_coords=coords, policy_source=args.policy or "policy")
    summary = result.summary
    summary["elapsed_seconds"] = round(time.perf_counter() - started, 4)  # before writing: --json == summary.json
    write_outputs(result, out, workers=max(1, args.workers), handout_scores=args.handout_scores)
    print_warnings(table.warnings)
    if args.json:
        sys.stdout.write(summary_json(summary))
    else:
        _print_table(summary, out)
    return EXIT_OK


def _print_table(s: dict[str, Any], out: Path) -> None:
    proven = "yes" if s["optimal"] else f"no ({s['unproven_pools']} pools unproven)"
    rows = [("schools", s["n_schools"]), ("teachers", s["n_teachers"]), ("pairs", s["n_pairs"]),
            ("teachers paired", s["n_paired_teachers"]), ("teachers unmatched", s["n_unmatched"]),
            ("total value", f"{s['total_value']:g}"), ("optimal (proven)", proven),
            ("soft preferences", s["soft_preferences"]), ("solve seconds", s["solve_seconds"]),
            ("total seconds", s["elapsed_seconds"])]
    obs = s.get("observations") or {}
    if obs.get("scores_from_several_observations"):
        rows.insert(2, ("scores", f"{obs['aggregate']} of up to {obs['most_observations_per_score']} observations "
                                  f"({obs['scores_from_several_observations']:,} of {obs['scores']:,} from several)"))
    if s.get("cross_school_pairs"):
        rows.insert(3, ("cross-school pairs", s["cross_school_pairs"]))
    if s.get("two_way_pairs") is not None:
        rows.insert(4, ("pairs where each can support the other", s["two_way_pairs"]))
    big = s.get("large_pools")
    if big:
        rows.insert(7, ("large pools", f"{big['pools']} ({big['teachers']:,} teachers): {big['pairs_solved']:,} of "
                                       f"{big['candidate_pairs']:,} candidate pairs solved"))
        if big["unproven"]:
            rows.insert(8, ("value upper bound", f"{big['value_upper_bound']:g} (proven; gap "
                                                 f"{100 * big['gap']:.3f}%)"))
    if "previous" in s:
        pv = s["previous"]
        rows.append(("previous pairs kept/broken/new", f"{pv['kept']}/{pv['broken']}/{pv['new']}"))
        if "value_cost" in pv:
            rows.append(("value given up to keep them", f"{pv['value_cost']:g} (against pairing afresh)"))
    for reason, n in s["unmatched_by_reason"].items():
        rows.append((f"  unmatched: {reason}", n))
    width = max(len(r[0]) for r in rows)
    print("\n".join(f"{k:<{width}}  {v}" for k, v in rows))
    print(f"outputs: {out}/pairs.csv, unmatched.csv, summary.json, schools/*.html, handouts/*/*.html")
