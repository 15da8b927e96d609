"""Small trials (issue 14): size and coverage of every estimator under each inference, over 2,000 replications.

Two designs, both with the real pairing engine:
- the IPI pilot: the bundled sample design (14 schools, 7 matched pairs, principals and teachers 0.9 take-up);
- a 20-school design blocked in 4 districts of 5, principals 0.8 and teachers 0.85 (tests/test_rollout_size.py's).
Each is run without effect (size: the share of replications rejecting at 5%) and with the design's effect
(coverage of the 95% interval), under CR1 (the inference before issue 14), CR2 with Bell-McCaffrey df, CR3, and
the default ("auto"); randomization inference's size and coverage are printed beside each. Monte Carlo SE of a 5%
rate over 2,000 replications: 0.49 points; a flag means more than two of them away from the test's level.

    python benchmarks/small_trials.py [--replications N] [--write]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
import time
from dataclasses import replace
from pathlib import Path

from pairing import machine  # benchmarks/pairing.py
from results_file import replace_section  # benchmarks/

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from matcher.rollouts.simulate import simulate  # noqa: E402
from tests.test_rollout_size import blocked_twenty, pilot  # noqa: E402  (the designs the tests check)

START = "<!-- benchmarks/small_trials.py: start (`python benchmarks/small_trials.py --write` replaces this section) -->"
END = "<!-- benchmarks/small_trials.py: end -->"
METHODS = ("cr1", "cr2", "cr3", "auto")


def runs(case: str, method: str, reps: int):
    """(without effect, with effect) results."""
    if case == "pilot":
        return tuple(simulate(pilot(effect, inference=method).replace(replications=reps), workers=2)
                     for effect in (0.0, 0.12))
    out = []
    for effect in (0.0, 0.15):
        d, pop = blocked_twenty(effect)
        out.append(simulate(d.replace(analysis=replace(d.analysis, inference=method), replications=reps),
                            population=pop, workers=2))
    return tuple(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replications", type=int, default=2000)
    ap.add_argument("--write", action="store_true", help="record the table in benchmarks/RESULTS.md")
    args = ap.parse_args()
    m = machine()
    reps = args.replications
    rows = []
    started = time.perf_counter()
    for case, label in (("pilot", "14-school pilot, matched pairs"), ("twenty", "20 schools, 4 blocks, take-up")):
        for method in METHODS:
            null, effect = runs(case, method, reps)
            for name, oc in null.summary["estimators"].items():
                e = effect.summary["estimators"][name]
                flagged = ", ".join(f["kind"] for f in oc["flags"] + e["flags"]) or "-"
                rows.append(f"| {label} | {method} | {name.replace('_', ' ')} | {oc['inference']} | "
                            f"{100 * oc['power']:.2f} | {100 * oc['level']:.2f} | {100 * e['coverage']:.2f} | "
                            f"{flagged} | {100 * oc['randomization']['power']:.2f} | "
                            f"{100 * e['randomization']['coverage']:.2f} |")
                print(rows[-1], flush=True)
    se = 100 * math.sqrt(0.05 * 0.95 / reps)
    lines = [
        START, "",
        f"# Small trials (issue 14), {dt.date.today().isoformat()}", "",
        f"Machine: {m['cpu']}, {m['cores']}, {m['ram']}, {m['os']}; Python {m['python']}. Command: "
        f"`python benchmarks/small_trials.py{' ' + ' '.join(sys.argv[1:]) if sys.argv[1:] else ''}` "
        f"({time.perf_counter() - started:.0f} s).", "",
        f"{reps:,} replications per row and run, seeds fixed (tests/test_rollout_size.py's designs). Size: % of "
        "replications rejecting at 5% without any effect; level: the test's exact level (5%, or 6/128 = 4.69% for "
        "the exact randomization test over the pilot's 128 assignments); coverage: % of 95% intervals holding the "
        f"replication's true effect, with the design's effect. Monte Carlo SE of a 5% rate: {se:.2f} points; of "
        f"95% coverage: {se:.2f} points. Flags: more than two Monte Carlo SEs from the level.", "",
        "| design | inference asked | estimator | inference used | size % | level % | coverage % | flags | "
        "randomization inference size % | its coverage % |",
        "| --- | --- | --- | --- | ---: | ---: | ---: | --- | ---: | ---: |",
        *rows, "", END,
    ]
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    if args.write:
        replace_section(START, END, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
