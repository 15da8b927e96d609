"""`matcher networks SCHOOLS --out DIR`: form host/partner school networks (or peer groups) around a shared
focus, and optionally give each network a facilitator."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem
from .common import EXIT_OK, check_out_folder, collect


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    w = subparsers.add_parser("networks",
                              help="form host/partner school networks (or peer groups) around a shared focus")
    w.add_argument("schools", help="schools CSV (docs/inputs.md: role, strengths, needs, grades, coordinates, ...)")
    w.add_argument("--out", required=True, help="output folder: networks.csv, unassigned.csv, summary.json")
    w.add_argument("--policy", help="network policy file (TOML/JSON): shape, sizes, hard rules, weights")
    w.add_argument("--facilitators", help="facilitators CSV (facilitator_id, latitude, longitude[, caseload]): "
                                          "assign each network one, least total travel")
    w.add_argument("--caseload", type=int, default=4, help="networks per facilitator when the file has no caseload")
    w.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    return w


def run(args: argparse.Namespace) -> int:
    from ..io.schools import read_schools
    from ..networks.facilitators import assign_facilitators, read_facilitators
    from ..networks.outputs import write_networks
    from ..networks.policy import load_network_policy
    from ..networks.solve import form_networks

    problems: list[Problem] = []
    out = Path(args.out)
    check_out_folder(out, problems)
    policy = collect(problems, load_network_policy, args.policy)
    schools = collect(problems, read_schools, args.schools, policy.focus_areas or None if policy else None)
    fac = collect(problems, read_facilitators, args.facilitators, args.caseload) if args.facilitators else None
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
