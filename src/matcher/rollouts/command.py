"""`matcher simulate DESIGN_FILE --out DIR`: simulate a randomized rollout. cli.py wires it in: `add_parser`
adds the subcommand, `run(args)` does the work (InputError for bad input, before any replication runs)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    s = subparsers.add_parser("simulate", help="simulate a randomized rollout of the pairing program: "
                                               "assignment, take-up, outcomes, power")
    s.add_argument("design", help="design file (TOML or JSON); see README 'Rollout simulator'")
    s.add_argument("--out", required=True, help="output folder (written all at once)")
    s.add_argument("--executor", choices=("local", "dask"), default="local",
                   help="local: processes on this machine (default); dask: a Dask distributed cluster")
    s.add_argument("--scheduler", help="Dask scheduler address (tcp://host:8786); without it --executor dask "
                                       "starts a local cluster of --workers processes")
    s.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="processes (default: this machine's cores); the numbers are the same for any count")
    s.add_argument("--replications", type=int, help="override the design's simulation.replications")
    s.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    return s


class _Bar:
    """A one-line progress bar on stderr, redrawn at most every 0.2 s (only on a terminal)."""

    def __init__(self) -> None:
        self.shown = 0.0
        self.started = time.perf_counter()

    def __call__(self, fraction: float) -> None:
        now = time.perf_counter()
        if fraction < 1 and now - self.shown < 0.2:
            return
        self.shown = now
        width = 30
        filled = int(width * fraction)
        elapsed = now - self.started
        eta = elapsed / fraction - elapsed if fraction > 0 else 0.0
        sys.stderr.write(f"\rreplications [{'#' * filled}{'.' * (width - filled)}] {fraction:6.1%} "
                         f"{elapsed:6.1f} s, ~{eta:5.1f} s left")
        if fraction >= 1:
            sys.stderr.write("\n")
        sys.stderr.flush()


def run(args: argparse.Namespace) -> int:
    from ..cli import _collect, check_out_folder
    from .design import load_design
    from .outputs import write_rollout
    from .simulate import simulate

    problems: list[Problem] = []
    out = Path(args.out)
    check_out_folder(out, problems)
    if args.workers < 1:
        problems.append(Problem("command line", "must be at least 1", column="--workers", value=str(args.workers)))
    if args.scheduler and args.executor != "dask":
        problems.append(Problem("command line", "a scheduler is used with --executor dask", column="--scheduler",
                                value=args.scheduler))
    if args.replications is not None and args.replications < 2:
        problems.append(Problem("command line", "must be at least 2", column="--replications",
                                value=str(args.replications)))
    design = _collect(problems, load_design, args.design)
    if problems:
        raise InputError(problems)
    assert design is not None
    if args.replications is not None:
        design = design.replace(replications=args.replications)
    bar = _Bar() if sys.stderr.isatty() and not args.json else None
    result = simulate(design, executor=args.executor, workers=args.workers, scheduler=args.scheduler,
                      progress=bar)
    write_rollout(result, out)
    if args.json:
        from .outputs import summary_json

        sys.stdout.write(summary_json(result))
    else:
        _print(result.summary, out)
    return 0


def _print(summary: dict[str, Any], out: Path) -> None:
    pop = summary["population"]
    print(f"{pop['schools']:,} schools, {pop['teachers']:,} teachers ({pop['target_teachers']:,} with a refinement "
          f"area); {summary['replications_seconds']:.1f} s for the replications "
          f"({summary['seconds_per_replication'] * 1000:.1f} ms each, {summary['workers']} workers, "
          f"{summary['executor']})")
    print(f"{'estimator':<22}{'estimand':>9}{'truth':>9}{'mean':>9}{'bias':>9}{'rmse':>8}{'power':>8}"
          f"{'cover':>8}{'mdes':>8}")
    for name, oc in summary["estimators"].items():
        if not oc.get("replications"):
            print(f"{name:<22} could not be computed in any replication")
            continue
        print(f"{name:<22}{oc['estimand']:>9}{oc['truth_mean']:>9.4f}{oc['mean_estimate']:>9.4f}{oc['bias']:>9.4f}"
              f"{oc['rmse']:>8.4f}{oc['power']:>8.3f}{oc['coverage']:>8.3f}{(oc['mdes'] or float('nan')):>8.4f}")
    if "power_curve" in summary:
        pc = summary["power_curve"]
        print(f"power {pc['power_target']:g} reached at {pc['vary']}: "
              + ", ".join(f"{k} {'-' if v is None else f'{v:.3g}'}"
                          for k, v in pc[f"{pc['vary']}_reaching_power_target"].items()))
    print(f"wrote {out}/")
