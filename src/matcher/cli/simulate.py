"""`matcher simulate DESIGN_FILE --out DIR`: simulate a randomized rollout of the pairing program (assignment,
take-up, outcomes, power); bad input is refused before any replication runs."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem
from .common import EXIT_OK, check_out_folder, collect


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    s = subparsers.add_parser("simulate", help="simulate a randomized rollout of the pairing program: "
                                               "assignment, take-up, outcomes, power")
    s.add_argument("design", help="design file (TOML or JSON); every setting: docs/design.md")
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
    from ..rollouts.design import load_design
    from ..rollouts.outputs import write_rollout
    from ..rollouts.simulate import simulate

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
    design = collect(problems, load_design, args.design)
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
        from ..rollouts.outputs import summary_json

        sys.stdout.write(summary_json(result))
    else:
        _print(result.summary, out)
    return EXIT_OK


def _pm(oc: dict[str, Any], key: str, digits: int = 4) -> str:
    """A diagnosand and its Monte Carlo SE: 0.0412 (0.0011)."""
    v, se = oc.get(key), oc.get(f"{key}_mc_se")
    if v is None:
        return "-"
    return f"{v:.{digits}f}" + (f" ({se:.{digits}f})" if se is not None else "")


def _print(summary: dict[str, Any], out: Path) -> None:
    pop = summary["population"]
    print(f"{pop['schools']:,} schools, {pop['teachers']:,} teachers ({pop['target_teachers']:,} with a refinement "
          f"area); {summary['replications_seconds']:.1f} s for the replications "
          f"({summary['seconds_per_replication'] * 1000:.1f} ms each, {summary['workers']} workers, "
          f"{summary['executor']})")
    for line in summary["scales"]["explanation"]:
        print(line)
    print("Each diagnosand's Monte Carlo standard error is in brackets (bootstrap over replications); effects in SD "
          "on the estimand's scale (itt: all students of the assigned schools; cace: compliers' students).")
    rows = [("estimator", "estimand", "truth", "bias", "rmse", "power", "coverage", "mdes", "mdes on targets",
             "formula mdes")]
    for name, oc in summary["estimators"].items():
        if not oc.get("replications"):
            rows.append((name, "could not be computed in any replication", "", "", "", "", "", "", "", ""))
            continue
        target = oc.get("mdes_effect_target")
        rows.append((name, oc["estimand"], f"{oc['truth_mean']:.4f}", _pm(oc, "bias"), _pm(oc, "rmse"),
                     _pm(oc, "power", 3), _pm(oc, "coverage", 3), _pm(oc, "mdes"),
                     "-" if target is None else f"{target:.4f}",
                     "-" if oc.get("analytic_mdes") is None else f"{oc['analytic_mdes']:.4f}"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))))
    for name, oc in summary["estimators"].items():
        if not oc.get("replications"):
            continue
        extra = [f"sd {_pm(oc, 'sd_estimate')}", f"mean se {_pm(oc, 'mean_se')}",
                 f"type S {_pm(oc, 'type_s_rate', 3)}", f"exaggeration {_pm(oc, 'exaggeration_ratio', 2)}"]
        print(f"{name}: {oc['inference_label']}; " + ", ".join(extra))
        if "randomization" in oc:
            ri = oc["randomization"]
            print(f"  randomization inference: power {_pm(ri, 'power', 3)}, coverage {_pm(ri, 'coverage', 3)}")
        check = summary.get("size", {}).get("estimators", {}).get(name)
        if check:
            print(f"  size without effect: {check['size']:.3f} ({check['size_mc_se']:.3f}) at alpha "
                  f"{summary['size']['alpha']:g}"
                  + (f"; randomization inference {check['randomization_size']:.3f}"
                     if "randomization_size" in check else ""))
        for flag in oc.get("flags", []):
            print(f"  WARNING: {flag['message']}")
    if summary.get("randomization"):
        print(f"randomization inference re-draws {summary['randomization']}")
    if "size" in summary:
        print(f"size checked on {summary['size']['source']}")
    analytic = summary.get("analytic") or {}
    if analytic.get("case"):
        print(f"formula: {analytic['case']}")
        for reason in analytic["differences"]:
            print(f"  - {reason}")
    if "power_curve" in summary:
        pc = summary["power_curve"]
        print(f"power {pc['power_target']:g} reached at {pc['vary']}: "
              + ", ".join(f"{k} {'-' if v is None else f'{v:.3g}'}"
                          for k, v in pc[f"{pc['vary']}_reaching_power_target"].items()))
    print(f"wrote {out}/")
