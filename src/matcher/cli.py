"""Command line: `matcher pair` (the teacher pairing run), `matcher synth` (synthetic districts), `matcher serve`
(the REST API), `matcher keys` (API keys) and `matcher db upgrade` (schema migrations)."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import InfeasibleError, InputError, MatcherError, Problem

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2
MAX_PRINTED_PROBLEMS = 500


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="matcher", description=__doc__)
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("pair", help="suggest target/partner teacher pairs for every school")
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
                   help="one-way mode: seconds per school for CP-SAT; past it the summary says optimal: false")
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                   help="processes for the per-school solves (default: up to 2; the answer never depends on it)")

    s = sub.add_parser("synth", help="write a seeded synthetic district (teacher CSV, optional schools CSV)")
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
    s.add_argument("--rubric", default="team")

    w = sub.add_parser("networks", help="form host/partner school networks (or peer groups) around a shared focus")
    w.add_argument("schools", help="schools CSV (PRODUCT.md: role, strengths, needs, grades, coordinates, ...)")
    w.add_argument("--out", required=True, help="output folder: networks.csv, unassigned.csv, summary.json")
    w.add_argument("--policy", help="network policy file (TOML/JSON): shape, sizes, hard rules, weights")
    w.add_argument("--facilitators", help="facilitators CSV (facilitator_id, latitude, longitude[, caseload]): "
                                          "assign each network one, least total travel")
    w.add_argument("--caseload", type=int, default=4, help="networks per facilitator when the file has no caseload")
    w.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")

    from .teams.command import add_parser as add_teams

    add_teams(sub)

    from .rollouts.command import add_parser as add_simulate

    add_simulate(sub)

    v = sub.add_parser("serve", help="run the REST API (uvicorn); storage from MATCHER_DATABASE_URL")
    v.add_argument("--host", default="127.0.0.1")
    v.add_argument("--port", type=int, default=8000)
    v.add_argument("--database-url", help="default: MATCHER_DATABASE_URL, else sqlite:///./matcher.db")
    v.add_argument("--log-level", default="info")
    v.add_argument("--workers", type=int, default=1,
                   help="server processes (uvicorn workers) on the one port; each runs its own job processes and "
                        "all share the database (default 1)")

    k = sub.add_parser("keys", help="API keys: create (printed once, stored hashed), list, revoke")
    ks = k.add_subparsers(dest="keys_command", required=True)
    kc = ks.add_parser("create", help="print a new key alone on stdout")
    kc.add_argument("--role", required=True, choices=["state", "principal", "researcher", "facilitator"])
    kc.add_argument("--school", action="append", default=[], help="a school a principal key may see (repeat)")
    kc.add_argument("--facilitator", action="append", default=[],
                    help="a facilitator id (as in the facilitators file) a facilitator key stands for (repeat): it "
                         "sees the school networks assigned to it")
    kc.add_argument("--label", default="", help="who holds the key, for listings")
    ks.add_parser("list", help="list keys (never the keys themselves)")
    kr = ks.add_parser("revoke", help="revoke a key by its id (the part after mk_)")
    kr.add_argument("key_id")
    for q in ks.choices.values():
        q.add_argument("--database-url", help="default: MATCHER_DATABASE_URL, else sqlite:///./matcher.db")

    d = sub.add_parser("db", help="database schema: apply migrations")
    ds = d.add_subparsers(dest="db_command", required=True)
    du = ds.add_parser("upgrade", help="apply every pending migration")
    du.add_argument("--database-url")
    return ap


_POLICY_FLAGS = ("mode", "max_targets_per_partner", "weak_below", "strong_at_least", "weigh_gap_size", "subject",
                 "grade", "max_grade_distance", "max_junior_years", "preference_weight", "scope",
                 "cross_school_fallback", "fallback_max_km", "solver", "time_limit_seconds", "aggregate",
                 "areas", "areas_per_teacher", "min_gap", "two_way_weight", "previous_stability")


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
    from .io.columns import load_column_map
    from .io.teachers import read_teachers

    cmap = _collect(problems, load_column_map, args.columns) if args.columns else None
    if rubric is None or (args.columns and cmap is None):
        return None
    try:
        return read_teachers(args.teachers, rubric, args.roster, columns=cmap, sheet=args.sheet,
                             strict=args.strict, aggregate=aggregate, all_aggregates=False)
    except InputError as exc:
        problems.extend(exc.problems)
        return None


def _collect(problems: list[Problem], fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except InputError as exc:
        problems.extend(exc.problems)
        return None


def check_out_folder(out: Path, problems: list[Problem]) -> None:
    """--out must name a folder (existing or not) whose parent exists; outputs are published into it at once."""
    if not out.resolve().parent.is_dir():
        problems.append(Problem(str(out), "the output folder's parent folder does not exist"))
    elif out.exists() and not out.is_dir():
        problems.append(Problem(str(out), "exists and is not a folder; --out names the output folder"))


def _pair(args: argparse.Namespace) -> int:
    from .io.pair_lists import check_pair_ids, read_pair_file, read_school_coords
    from .pairing.engine import pair_teachers
    from .policy import load_policy, policy_from_dict
    from .report.outputs import summary_json, write_outputs
    from .rubric import load_rubric

    started = time.perf_counter()
    problems: list[Problem] = []
    out = Path(args.out)
    check_out_folder(out, problems)
    rubric = _collect(problems, load_rubric, args.rubric)
    policy = _collect(problems, load_policy, args.policy)
    flags = {k: getattr(args, k) for k in _POLICY_FLAGS if getattr(args, k) is not None}
    if policy is not None and flags:
        policy = _collect(problems, policy_from_dict, flags, "command line", policy)
    table = read_teacher_file(args, problems, rubric, policy.aggregate if policy else "mean")
    lists: dict[str, list[tuple[int, str, str]]] = {}
    for key in ("previous", "must_pair", "do_not_pair"):
        path = getattr(args, key)
        if path:
            rows = _collect(problems, read_pair_file, path)
            if rows is not None:
                lists[key] = rows
                if table is not None and key != "previous":
                    problems.extend(check_pair_ids(table, rows, path))
    school_names: dict[str, str] = {}
    coords = _collect(problems, read_school_coords, args.schools, school_names) if args.schools else None
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


def print_warnings(warnings: Sequence[str], limit: int = 20) -> None:
    """What the input readers noticed but did not refuse, on stderr (all of them are in summary.json)."""
    for w in warnings[:limit]:
        print(f"warning: {w}", file=sys.stderr)
    if len(warnings) > limit:
        print(f"warning: ... and {len(warnings) - limit} more (see summary.json)", file=sys.stderr)


def _print_table(s: dict[str, Any], out: Path) -> None:
    proven = "yes" if s["optimal"] else f"no ({s['unproven_pools']} pools hit the time limit)"
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


def _synth(args: argparse.Namespace) -> int:
    from .rubric import load_rubric
    from .synth import write_district, write_observations

    if args.schools < 1 or args.mean_size <= 0:
        raise InputError([Problem("command line", "need --schools >= 1 and --mean-size > 0",
                                  column="--schools", value=str(args.schools))])
    if args.city:
        from .synth_city import MAX_APPLICANTS, write_city

        if args.schools > MAX_APPLICANTS or args.schools_out or args.observations:
            raise InputError([Problem("command line", f"--city writes one schools file of at most "
                                                      f"{MAX_APPLICANTS:,} schools to --out (no --schools-out or "
                                                      "--observations)", column="--city")])
        print(f"wrote {write_city(args.out, args.schools, args.seed)} applicant schools to {args.out}")
        return EXIT_OK
    bad = [p for p in args.observations if Path(p).suffix.lower() not in (".csv", ".xlsx")]
    if bad:
        raise InputError([Problem("command line", "an observation export is written as .csv or .xlsx",
                                  column="--observations", value=p) for p in bad])
    rubric = load_rubric(args.rubric)
    n_t, n_s = write_district(args.out, args.schools, args.mean_size, args.seed, args.schools_out, rubric,
                              args.observations_per_teacher)
    print(f"wrote {n_t} teachers in {n_s} schools to {args.out}" +
          (f" and {args.schools_out}" if args.schools_out else ""))
    if args.observations:
        n_o = write_observations(args.observations, args.schools, args.mean_size, args.seed, rubric,
                                 args.observations_per_teacher)
        print(f"wrote {n_o} observations of those teachers to {', '.join(args.observations)}")
    return EXIT_OK


def _networks(args: argparse.Namespace) -> int:
    import json

    from .io.schools import read_schools
    from .networks.facilitators import assign_facilitators, read_facilitators
    from .networks.outputs import write_networks
    from .networks.policy import load_network_policy
    from .networks.solve import form_networks

    problems: list[Problem] = []
    out = Path(args.out)
    check_out_folder(out, problems)
    policy = _collect(problems, load_network_policy, args.policy)
    schools = _collect(problems, read_schools, args.schools, policy.focus_areas or None if policy else None)
    fac = _collect(problems, read_facilitators, args.facilitators, args.caseload) if args.facilitators else None
    if args.caseload < 1:
        problems.append(Problem("command line", "must be at least 1", column="--caseload", value=str(args.caseload)))
    if problems or policy is None or schools is None:
        raise InputError(problems)
    result = form_networks(schools, policy)
    assigned = assign_facilitators(result, fac) if fac is not None else None
    write_networks(result, out, assigned)
    s = result.summary
    if args.json:
        print(json.dumps(s, indent=2))
    else:
        proof = "optimal" if s["optimal"] else f"within {100 * s['gap']:.2f}% of optimal (time limit)"
        print(f"{s['n_networks']} networks, {s['n_placed']} of {s['n_schools']} schools placed, "
              f"{s['n_left_out']} left out; objective {s['objective']:g} ({proof}); {s['solve_seconds']:.2f} s")
        if s["n_members"]:
            role = "partners" if policy.mode == "host" else "peers"
            print(f"{s['n_aligned_members']} of {s['n_members']} {role} ({100 * s['aligned_share']:.0f}%) share a "
                  f"grade with their {'host' if policy.mode == 'host' else 'group'}; focus coverage "
                  f"{100 * s['focus_coverage']:.0f}% of their needs" + _grade_cost(s["grade_rule"]))
        extra = ", facilitators.csv" if assigned is not None else ""
        print(f"wrote {out}/networks.csv, unassigned.csv, summary.json{extra}; "
              f"{out}/networks/ with {len(result.networks)} network page{'' if len(result.networks) == 1 else 's'} "
              "and index.html")
    return EXIT_OK


def _grade_cost(rule: dict) -> str:
    """"; the grade rule cost at most 3 placements (proven)" when the summary measured it."""
    if "placement_cost_at_most" not in rule:
        return ""
    n = rule["placement_cost_at_most"]
    return (f"; the grade rule cost {'' if rule['placement_cost_proven'] else 'at most '}{n} placement"
            f"{'' if n == 1 else 's'}" + ("" if rule["placement_cost_proven"] else " (proven bound)"))


def _teams(args: argparse.Namespace) -> int:
    from .teams.command import run

    return run(args)


def _simulate(args: argparse.Namespace) -> int:
    from .rollouts.command import run

    return run(args)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .api import create_app
    from .api.settings import Settings

    if args.workers < 1:
        raise InputError([Problem("command line", "must be at least 1", column="--workers", value=str(args.workers))])
    settings = Settings.from_env()  # checked here, once, whatever the number of workers
    if args.database_url:
        from .store.db import database_url

        settings = dataclasses.replace(settings, database_url=database_url(args.database_url))
    if args.workers == 1:
        uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=args.log_level)
        return EXIT_OK
    from .api.app import SERVER_PID

    # Each worker process makes its app from the environment (uvicorn needs an import string to start them).
    os.environ["MATCHER_DATABASE_URL"] = settings.database_url
    os.environ[SERVER_PID] = str(os.getpid())
    uvicorn.run("matcher.api.app:worker_app", factory=True, workers=args.workers, host=args.host, port=args.port,
                log_level=args.log_level)
    return EXIT_OK


def _keys(args: argparse.Namespace) -> int:
    from .store.db import open_engine, upgrade
    from .store.keys import create_key, list_keys, revoke_key

    engine = open_engine(args.database_url)
    upgrade(engine)
    if args.keys_command == "create":
        print(create_key(engine, args.role, args.school, args.label, args.facilitator))
    elif args.keys_command == "list":
        for k in list_keys(engine):
            state = f"revoked {k['revoked_at']:%Y-%m-%d}" if k["revoked_at"] else "active"
            scope = k["facilitators"] if k["role"] == "facilitator" else k["schools"]  # its schools or facilitators
            print(f"{k['id']}\t{k['role']}\t{';'.join(scope)}\t{state}\t{k['label']}")
    elif not revoke_key(engine, args.key_id):
        print(f"error: no active key {args.key_id!r}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def _db(args: argparse.Namespace) -> int:
    from .store.db import current_revision, open_engine, upgrade

    engine = open_engine(args.database_url)
    upgrade(engine)
    print(f"schema at revision {current_revision(engine)}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return {"pair": _pair, "synth": _synth, "networks": _networks, "teams": _teams, "simulate": _simulate,
                "serve": _serve, "keys": _keys, "db": _db}[args.command](args)
    except InputError as exc:
        shown = exc.problems[:MAX_PRINTED_PROBLEMS]
        print(f"error: {exc.count:,} problem(s) in the input; nothing was written.", file=sys.stderr)
        for p in shown:
            print(f"  - {p}", file=sys.stderr)
        if len(exc.problems) > len(shown):  # (exc.problems ends with a count line when there are over 1,000)
            print(f"  ... and {exc.count - len(shown):,} more", file=sys.stderr)
        return EXIT_BAD_INPUT
    except InfeasibleError as exc:
        print(f"error: {exc}; nothing was written.", file=sys.stderr)
        return EXIT_BAD_INPUT
    except MatcherError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    raise SystemExit(main())
