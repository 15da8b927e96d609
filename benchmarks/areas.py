"""Reciprocal areas (issue 13): what each policy `areas` gives and costs, on the bundled sample and statewide.

    python benchmarks/areas.py [--quick] [--write]

Inputs, all observation exports (one row per classroom observation) with two added columns, "Area of
Reinforcement" and "Area of Refinement", synthesised as a post-observation conference names them: each
observation's highest-scored indicator is its area of reinforcement and its lowest-scored one its area of refinement
(ties broken at random, seeded), written with the export's indicator labels ("Questioning"); a teacher's designated
areas are the union over their observations. The scores are the export's own, so thresholds and relative areas
pair the same teachers as without the columns.

- sample: data/samples/observations.csv (419 teachers, 981 observations, 14 schools);
- statewide: matcher.synth.generate_observations(1800 schools, mean size 39, seed 1), as benchmarks/pairing.py's
  statewide district (70,147 teachers; its scores average to the same wide file), scope school;
- scope district: a 300-school state of the same generator (11,698 teachers in 23 districts of up to 1,719), scope
  district: pools large enough for the relative/designated cover test to work in blocks (the statewide file
  with scope district takes minutes per run, in the solver, under every `areas`);
- one pool of 8,000 teachers (the engine's MAX_POOL) drawn from the statewide teachers: Scoring.help_units alone,
  the (m x m) matrix every pool builds, to show that its memory stays bounded.

Each case reads its file once, then runs pair_teachers(table, Policy(areas=..., scope=...)) (default settings
otherwise: areas_per_teacher 3, min_gap 1, opt-outs left out, one process) in this process: time is the median of
3 runs (1 with --quick); peak MB is the most the process's resident memory rose above what it held before the runs
(Linux VmHWM, reset through /proc/self/clear_refs before them). The ratio is each run's median time over the
thresholds run's in the same case. Two-way pairs are pairs where each teacher can support the other (a_helps_b
and b_helps_a both non-empty); their share is of all pairs. --write records the table in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATA = HERE / ".data" / "areas"
SAMPLE = REPO / "data" / "samples" / "observations.csv"
STATE_SCHOOLS, STATE_MEAN, STATE_SEED = 1800, 39, 1
POOL = 8_000
AREAS = ("thresholds", "relative", "designated")
REINFORCE, REFINE = "Area of Reinforcement", "Area of Refinement"
START, END = "<!-- areas.py: start -->", "<!-- areas.py: end -->"


def _status() -> dict[str, int]:
    out = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(("VmHWM", "VmRSS")):
                out[line.split(":")[0]] = int(line.split()[1])
    return out


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


@dataclass
class Row:
    case: str
    areas: str
    teachers: int
    pairs: int = 0
    paired: int = 0
    two_way: int = 0
    value: float = 0.0
    seconds: float = 0.0
    peak_mb: float = float("nan")
    optimal: bool = True
    ratio: float = 1.0


def with_designations(frame: pd.DataFrame, indicators: list[str], seed: int) -> pd.DataFrame:
    """The export with each observation's highest- and lowest-scored indicator as its areas (ties at random)."""
    rng = np.random.default_rng(seed)
    scores = frame[indicators].to_numpy(dtype=float)
    noise = rng.random(scores.shape) * 1e-3  # below any gap between two scores: it only breaks ties
    observed = ~np.isnan(scores)
    high = np.where(observed, scores + noise, -np.inf).argmax(axis=1)
    low = np.where(observed, scores + noise, np.inf).argmin(axis=1)
    labels = np.array(indicators, dtype=object)
    out = frame.copy()
    has = observed.any(axis=1)
    out[REINFORCE] = np.where(has, labels[high], "")
    out[REFINE] = np.where(has, labels[low], "")
    return out


def make_inputs(quick: bool) -> dict[str, Path]:
    from matcher.rubric import bundled
    from matcher.synth import generate_observations, indicator_header

    DATA.mkdir(parents=True, exist_ok=True)
    team = bundled("team")
    labels = [indicator_header(i) for i in team.indicators]
    paths = {"sample": DATA / "sample_designated.csv", "state": DATA / "state_designated.csv",
             "district": DATA / "state300_designated.csv"}
    sample = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    numeric = sample[labels].apply(pd.to_numeric, errors="coerce")
    sample = with_designations(pd.concat([sample.drop(columns=labels), numeric], axis=1)[list(sample.columns)],
                               labels, 13)
    sample.to_csv(paths["sample"], index=False)
    for key, n_schools in (("state", 300 if quick else STATE_SCHOOLS), ("district", 100 if quick else 300)):
        t0 = time.perf_counter()
        state, _ = generate_observations(n_schools, STATE_MEAN, STATE_SEED)
        state = with_designations(state, labels, 13)
        state.to_csv(paths[key], index=False)
        print(f"generated {paths[key].relative_to(REPO)}: {len(state):,} observation rows of "
              f"{state['Teacher ID'].nunique():,} teachers in {n_schools:,} schools in "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
    return paths


def _timed(run: Callable[[], Any], repeats: int) -> tuple[Any, list[float], float]:
    """run() `repeats` times: (the last result, each run's seconds, peak resident memory above the start in MB, NaN
    where the kernel cannot reset its peak). The previous result is dropped before each run, so the peak is one
    run's."""
    gc.collect()
    rss0 = _status()["VmRSS"]
    tracked = _reset_peak()
    times = []
    result = None
    for _ in range(repeats):
        result = None
        gc.collect()
        t0 = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - t0)
    peak = (_status()["VmHWM"] - rss0) / 1024 if tracked else float("nan")
    assert result is not None
    return result, times, peak


def measure(case: str, table, areas: str, scope: str, repeats: int) -> Row:
    from matcher.pairing.engine import pair_teachers
    from matcher.policy import Policy

    policy = Policy(areas=areas, scope=scope)
    result, times, peak = _timed(lambda: pair_teachers(table, policy), repeats)
    pairs = result.pairs
    row = Row(case, areas, len(table), len(pairs), len({t for p in pairs for t in (p.teacher_a, p.teacher_b)}),
              sum(1 for p in pairs if p.a_helps_b and p.b_helps_a), result.summary["total_value"],
              statistics.median(times), peak, bool(result.summary["optimal"]))
    print(f"  {case} / {areas}: {row.pairs:,} pairs, {row.two_way:,} two-way, value {row.value:g}, "
          f"{row.seconds:.2f} s (runs: {', '.join(f'{t:.2f}' for t in times)}), peak +{row.peak_mb:.0f} MB",
          flush=True)
    return row


def measure_pool(table, repeats: int) -> list[Row]:
    """help_units on one pool of POOL teachers under each areas."""
    from matcher.pairing.model import build_scoring
    from matcher.policy import Policy

    rng = np.random.default_rng(STATE_SEED)
    members = np.sort(rng.choice(len(table), size=min(POOL, len(table)), replace=False))
    rows = []
    for areas in AREAS:
        scoring = build_scoring(table, Policy(areas=areas))
        help_, times, peak = _timed(partial(scoring.help_units, table.scores, members, members), repeats)
        np.fill_diagonal(help_, 0)
        useful = (help_ > 0) | (help_.T > 0)
        row = Row(f"one pool of {len(members):,}: help_units", areas, len(members),
                  pairs=int(np.triu(useful, 1).sum()), two_way=int(np.triu((help_ > 0) & (help_.T > 0), 1).sum()),
                  value=float(help_.sum()), seconds=statistics.median(times), peak_mb=peak)
        print(f"  {row.case} / {areas}: {row.pairs:,} candidate pairs, {row.two_way:,} two-way, "
              f"{row.seconds:.2f} s, peak +{peak:.0f} MB", flush=True)
        rows.append(row)
        del help_
    return rows


def table_text(rows: list[Row]) -> str:
    out = ["| case | areas | teachers | pairs | teachers paired | two-way pairs (share) | total value | optimal | "
           "time s (median) | vs thresholds | peak MB |",
           "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |"]
    for r in rows:
        pool = r.case.startswith("one pool")
        share = f"{r.two_way:,} ({r.two_way / r.pairs:.0%})" if r.pairs else "0"
        out.append(f"| {r.case} | {r.areas} | {r.teachers:,} | {r.pairs:,}{' candidate' if pool else ''} | "
                   f"{'' if pool else f'{r.paired:,}'} | {share} | {'' if pool else f'{r.value:g}'} | "
                   f"{'' if pool else ('yes' if r.optimal else 'no')} | {r.seconds:.2f} | {r.ratio:.2f}x | "
                   f"{r.peak_mb:.0f} |")
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="1 run per case, a 300-school state (100 for scope district), no 8,000 pool")
    ap.add_argument("--write", action="store_true", help="record the table in benchmarks/RESULTS.md")
    args = ap.parse_args()
    from matcher.io.teachers import read_teachers
    from matcher.rubric import bundled

    started = time.perf_counter()
    repeats = 1 if args.quick else 3
    paths = make_inputs(args.quick)
    team = bundled("team")
    rows: list[Row] = []
    notes: list[str] = []
    cases = [("sample (observations.csv)", paths["sample"], "school"), ("statewide", paths["state"], "school"),
             ("300 schools, scope district", paths["district"], "district")]
    tables = {}
    from matcher.pairing.engine import pair_teachers
    from matcher.policy import Policy

    warm = read_teachers(paths["sample"], team)
    for areas in AREAS:  # imports and first calls (solvers, numpy paths) before anything is timed
        pair_teachers(warm, Policy(areas=areas))
    for case, path, scope in cases:
        if path not in tables:
            t0 = time.perf_counter()
            tables[path] = read_teachers(path, team)
            notes.append(f"{case}: read {path.name} ({len(tables[path]):,} teachers) in "
                         f"{time.perf_counter() - t0:.1f} s")
        table = tables[path]
        if scope == "district":
            sizes = pd.Series(table.district_id).value_counts()
            notes.append(f"{case}: {len(sizes)} districts, the largest pool {sizes.max():,} teachers")
        print(f"{case}:", flush=True)
        base = None
        for areas in AREAS:
            row = measure(case, table, areas, scope, repeats)
            base = base or row.seconds
            row.ratio = row.seconds / base
            rows.append(row)
    if not args.quick:
        print("one pool:", flush=True)
        pool_rows = measure_pool(tables[paths["state"]], repeats)
        for r in pool_rows:
            r.ratio = r.seconds / pool_rows[0].seconds
        rows += pool_rows
    elapsed = time.perf_counter() - started
    text = table_text(rows)
    print()
    print(text)
    print()
    for n in notes:
        print(f"- {n}")
    if args.write:
        import platform

        from results_file import replace_section  # benchmarks/
        section = "\n".join([
            START, "# Reciprocal areas (issue 13)", "",
            f"Written by `python benchmarks/areas.py --write` on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC "
            f"({elapsed / 60:.1f} min in all). See the docstring of benchmarks/areas.py for the method.", "",
            f"- Python {platform.python_version()}; {platform.machine()}, {platform.system()} {platform.release()}, "
            f"{os.cpu_count()} logical cores, {_ram_gib():.1f} GiB RAM",
            "- designated areas are synthesised per observation as a post-observation conference names them: its "
            "highest-scored indicator (reinforcement) and its lowest (refinement), ties broken at random (seeded); "
            "a teacher's areas are the union over their observations",
            "", text, "", *[f"- {n}" for n in notes], END, ""])
        replace_section(START, END, section)
    return 0


def _ram_gib() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


if __name__ == "__main__":
    sys.exit(main())
