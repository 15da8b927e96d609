"""rustworkx's blossom vs LEMON's MaxWeightedMatching (issue 16): wall time, peak memory, and equal totals.

    python benchmarks/matchers.py [--runs N] [--cases dense,pools,sparse] [--write]

Cases (seeded, so the same graphs every run; integer weights 1..9, like pair values, unless said otherwise):
- dense: 2,000 vertices, each of the 1,999,000 pairs an edge with probability 1/2 (about 1 M edges);
- pools: 1,800 graphs of 39 vertices, each pair an edge with probability 400/741 (about 400 edges), solved one
  call at a time as the engine solves school pools, so the per-call overhead (array conversion, graph building,
  the ctypes or PyO3 call) is in the time;
- sparse: 7,000 vertices and about 200,000 distinct random pairs;
- dense-wide: the dense graph with weights 1..999,999 (fewer ties: both solvers work harder, rustworkx most);
- engine: the edges and weights pair_teachers hands its solver for one pool of 2,030 teachers (scope all, default
  policy; synth --schools 52 --mean-size 39 --seed 16, written to benchmarks/.data/matchers/): about 1 M candidate
  pairs weighted as the engine weighs them (value scaled past the two-way tie-break).

Each (case, solver) runs in its own child process (`--child`), which builds the graphs, solves one tiny graph
(library loading and first-call costs stay out of the timing), then times `solve(n, u, v, w)` (the solvers'
shared contract) N times. wall s is the best of N, cpu that run's process CPU time (time.process_time), and
"others' cpu s" the CPU other processes used meanwhile (machine busy time from /proc/stat minus our own: on a
2-core machine a busy neighbour slows the wall time). The ratio is of wall times. peak MB is the child's ru_maxrss
(resource.getrusage), graphs included, and "+MB" how far the solves raised it above the high-water mark before
them. The parent imports nothing heavy, so a child's ru_maxrss does not start from the parent's size. Exit status
1 when the totals differ or LEMON is not built (`make lemon`). --write records the table in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CASES = ("dense", "pools", "sparse", "dense-wide", "engine")
DATA = HERE / ".data" / "matchers"
SOLVERS = ("rustworkx", "lemon")
START = "<!-- benchmarks/matchers.py: start (`python benchmarks/matchers.py --write` replaces this section) -->"
END = "<!-- benchmarks/matchers.py: end -->"


def _graphs(case: str) -> list[tuple[int, Any, Any, Any]]:
    import numpy as np

    if case == "engine":
        return [_engine_pool()]
    rng = np.random.default_rng({"dense": 1, "pools": 2, "sparse": 3, "dense-wide": 1}[case])

    def by_density(n: int, p: float) -> tuple[int, Any, Any, Any]:
        u, v = np.triu_indices(n, 1)
        keep = rng.random(len(u)) < p
        u, v = u[keep].astype(np.int64), v[keep].astype(np.int64)
        return n, u, v, rng.integers(1, 10, len(u), dtype=np.int64)

    if case == "dense":
        return [by_density(2_000, 0.5)]
    if case == "dense-wide":
        n, u, v, _ = by_density(2_000, 0.5)
        return [(n, u, v, rng.integers(1, 1_000_000, len(u), dtype=np.int64))]
    if case == "pools":
        return [by_density(39, 400 / 741) for _ in range(1_800)]
    n, m = 7_000, 200_000
    a, b = rng.integers(0, n, int(m * 1.02)), rng.integers(0, n, int(m * 1.02))
    keep = a != b
    key = np.unique(np.minimum(a, b)[keep] * n + np.maximum(a, b)[keep])  # one edge per pair, no self-loops
    rng.shuffle(key)
    key = key[:m]
    return [(n, key // n, key % n, rng.integers(1, 10, len(key), dtype=np.int64))]


def _busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (Linux /proc/stat; 0 elsewhere)."""
    try:
        with open("/proc/stat") as fh:
            ticks = [int(x) for x in fh.readline().split()[1:]]
    except OSError:
        return 0.0
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # minus idle and iowait


def _engine_pool() -> tuple[int, Any, Any, Any]:
    """The largest pool's edge arrays as pair_teachers builds them, caught by a solver that solves nothing."""
    import numpy as np

    from matcher.io.teachers import read_teachers
    from matcher.pairing import solvers
    from matcher.pairing.engine import pair_teachers
    from matcher.policy import Policy
    from matcher.rubric import load_rubric
    from matcher.synth import write_district

    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / "pool.csv"
    write_district(path, 52, 39, 16)
    caught: list[tuple[int, Any, Any, Any]] = []

    def catch(n: int, u: Any, v: Any, w: Any) -> Any:
        caught.append((n, u.copy(), v.copy(), w.copy()))
        return np.zeros(0, dtype=np.int64)

    solvers.MATCHING_SOLVERS["catch"] = catch  # this child process only: the policy takes solvers by name
    pair_teachers(read_teachers(path, load_rubric("team")), Policy(scope="all", solver="catch"))
    return max(caught, key=lambda g: len(g[1]))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child(case: str, solver: str, runs: int) -> int:
    import numpy as np

    from matcher.pairing.solvers import blossom, lemon

    if solver == "lemon" and not lemon.available():
        print(json.dumps({"error": lemon.unavailable_reason()}))
        return 0
    solve = lemon.solve if solver == "lemon" else blossom.solve
    graphs = _graphs(case)
    solve(3, np.array([0, 1]), np.array([1, 2]), np.array([1, 2]))  # load the library, first-call costs
    before = _peak_mb()
    times, cpus, others, totals = [], [], [], set()
    for _ in range(runs):
        t0, c0, b0 = time.perf_counter(), time.process_time(), _busy_seconds()
        chosen = [solve(n, u, v, w) for n, u, v, w in graphs]
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        others.append(max(0.0, _busy_seconds() - b0 - cpus[-1]))
        totals.add(sum(int(w[c].sum()) for (_, _, _, w), c in zip(graphs, chosen, strict=True)))
    best = times.index(min(times))
    print(json.dumps({"seconds": times[best], "cpu": cpus[best], "others": others[best], "totals": sorted(totals),
                      "peak_mb": _peak_mb(), "rise_mb": _peak_mb() - before, "graphs": len(graphs),
                      "vertices": sum(g[0] for g in graphs), "edges": sum(len(g[1]) for g in graphs)}))
    return 0


def measure(case: str, solver: str, runs: int) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", case, solver, "--runs", str(runs)],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return {"error": f"exit {out.returncode}: {out.stderr.strip()[-500:]}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(results: dict[str, dict[str, dict[str, Any]]]) -> tuple[str, bool]:
    lines = ["| case | graphs | vertices | edges | rustworkx wall s (cpu) | LEMON wall s (cpu) | rustworkx / LEMON "
             "| rustworkx peak MB (+MB) | LEMON peak MB (+MB) | total (rustworkx) | total (LEMON) | totals agree "
             "| others' cpu s |",
             "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|"]
    ok = True
    for case, by_solver in results.items():
        r, lm = by_solver["rustworkx"], by_solver["lemon"]
        if "error" in r or "error" in lm:
            ok = False
            lines.append(f"| {case} | failed: {r.get('error') or lm.get('error')} |")
            continue
        agree = r["totals"] == lm["totals"] and len(r["totals"]) == 1
        ok = ok and agree
        per_call = f" ({1e6 * lm['seconds'] / lm['graphs']:.0f} us/call vs {1e6 * r['seconds'] / r['graphs']:.0f})" \
            if r["graphs"] > 1 else ""
        lines.append(
            f"| {case} | {r['graphs']:,} | {r['vertices']:,} | {r['edges']:,} | {r['seconds']:.3f} ({r['cpu']:.3f}) | "
            f"{lm['seconds']:.3f} ({lm['cpu']:.3f}){per_call} | {r['seconds'] / lm['seconds']:.1f}x | "
            f"{r['peak_mb']:.0f} (+{r['rise_mb']:.0f}) | {lm['peak_mb']:.0f} (+{lm['rise_mb']:.0f}) | "
            f"{r['totals'][0]:,} | {lm['totals'][0]:,} | {'yes' if agree else 'NO'} | "
            f"{r['others']:.1f} / {lm['others']:.1f} |")
    return "\n".join(lines), ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=1, help="timed solves per case and solver (best is reported)")
    ap.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of {', '.join(CASES)}")
    ap.add_argument("--write", action="store_true", help="record the table in benchmarks/RESULTS.md")
    ap.add_argument("--child", nargs=2, metavar=("CASE", "SOLVER"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child(*args.child, args.runs)
    cases = [c for c in args.cases.split(",") if c]
    if unknown := set(cases) - set(CASES):
        ap.error(f"unknown cases {sorted(unknown)}; choose from {', '.join(CASES)}")
    started = time.perf_counter()
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for case in cases:
        for solver in SOLVERS:
            print(f"{case} / {solver} ...", file=sys.stderr, flush=True)
            results.setdefault(case, {})[solver] = measure(case, solver, args.runs)
    text, ok = table(results)
    print(text)
    if args.write:
        from results_file import replace_section  # benchmarks/

        replace_section(START, END, "\n".join([
            START, "# Exact matchers: rustworkx vs LEMON (issue 16)", "",
            f"Written by `python benchmarks/matchers.py --write --runs {args.runs}` on "
            f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC ({(time.perf_counter() - started) / 60:.1f} min in all), "
            f"Python {platform.python_version()}, {os.cpu_count()} logical cores. See the docstring of "
            "benchmarks/matchers.py for the method.", "", text, END, ""]))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
