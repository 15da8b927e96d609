"""Pairing benchmarks (issues 2 and 16): statewide end to end against pandas + networkx (the bundled-style district
and a denser one), dense pools, scope district and scope all by subject statewide, one-way K = 2, every option on.

    python benchmarks/pairing.py [--quick] [--skip-baseline] [--write]

Every measured run is its own child process, started and reaped (os.wait4) by a tiny wrapper, so wall time and
peak memory (ru_maxrss) are those of that one run. Generated inputs and outputs go to benchmarks/.data/
(gitignored). --write records the table, the machine and the versions in benchmarks/RESULTS.md. The exit status
is 1 when a run fails or two exact methods disagree on a total, 0 otherwise (a missed target is reported, not an
error).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATA = HERE / ".data"
RESULTS = HERE / "RESULTS.md"

STATE_SCHOOLS, STATE_MEAN, STATE_SEED = 1800, 39, 1
DENSE_N = 2000
TEACHER_FIELDS = ("teacher_id", "school_id", "subject", "grades", "years_experience", "opt_out", "district_id")
WEAK_BELOW, STRONG_AT_LEAST = 3.0, 4.0  # the IPI policy (TEAM rubric)

# Targets from issue 2.
TARGET_STATE_S, TARGET_STATE_MB, TARGET_SPEEDUP, TARGET_DENSE_S = 5.0, 2048.0, 10.0, 10.0
# Targets from issue 16: every output at least 15x faster than networkx end to end (bundled-style and denser
# districts); scope district <= 5 s and 1 GB, exact; scope all by subject <= 60 s and 4 GB, exact or a proven gap;
# one-way K = 2 <= 5 s.
TARGET_E2E_SPEEDUP, TARGET_DISTRICT_S, TARGET_DISTRICT_MB, TARGET_ALL_S, TARGET_ALL_MB, TARGET_ONE_WAY_S = \
    15.0, 5.0, 1024.0, 60.0, 4096.0, 5.0
DENSER_WEAK_SHARE = 0.3
STATE_CASE, DENSER_CASE = "statewide, default policy (`matcher pair`)", \
    f"statewide denser (--weak-share {DENSER_WEAK_SHARE}), default policy (`matcher pair`)"
DISTRICT_CASE, ALL_CASE = "statewide, `--scope district`", "statewide, `--scope all --subject require_same`"

ALL_OPTIONS_POLICY = """\
# Every option on (benchmarks/pairing.py, case "all options"). Lists and --previous come from the command line.
mode = "mutual"
weigh_gap_size = true
subject = "prefer_same"
grade = "any"
max_grade_distance = 4
max_junior_years = 15
preference_weight = 0
cross_school_fallback = true
fallback_max_km = 60

[domain_weights]
instruction = 1.0
environment = 1.0
planning = 0.5

[indicator_weights]
questioning = 1.5
thinking = 1.25
"""
MAX_JUNIOR_YEARS = 15  # keep in step with ALL_OPTIONS_POLICY (must-pairs are chosen to respect it)


# --- measuring one child process ------------------------------------------------------------------------

@dataclass
class Run:
    wall: float
    peak_mb: float
    code: int
    stdout: str
    stderr: str
    cpu: float = 0.0  # the run's own user + system CPU seconds
    other_load: float | None = None  # other processes' CPU during the run, in cores


# A tiny measuring wrapper (python -S, nothing imported but os, sys and time). Linux starts a child's ru_maxrss
# from the RSS of the process it was forked from, so forking the measured command straight from this script (which
# holds the statewide table in memory) would report this script's size; forked from the wrapper it is ~10 MB.
_WRAPPER = """
import os, sys, time
def busy():  # CPU seconds the whole machine has spent busy (user, nice, system, irq, softirq, steal)
    try:
        with open("/proc/stat") as fh:
            f = [int(x) for x in fh.readline().split()[1:9]]
    except OSError:
        return float("nan")
    return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / os.sysconf("SC_CLK_TCK")
report, cmd = sys.argv[1], sys.argv[2:]
busy0 = busy()
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(cmd[0], cmd)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
other = busy() - busy0 - usage.ru_utime - usage.ru_stime
with open(report, "w") as fh:
    fh.write(f"{wall!r} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)} {usage.ru_utime + usage.ru_stime!r} "
             f"{other!r}")
"""


def run_child(cmd: list[str], tag: str) -> Run:
    """Run one command through the wrapper: its wall seconds and its own peak RSS (MB), stdout and stderr."""
    log = DATA / "logs"
    log.mkdir(parents=True, exist_ok=True)
    out_path, err_path, rep_path = log / f"{tag}.out", log / f"{tag}.err", log / f"{tag}.rusage"
    rep_path.unlink(missing_ok=True)
    if hasattr(os, "sync"):
        os.sync()  # flush earlier runs' writes (and the removed output folder) so this run does not pay for them
    with out_path.open("wb") as out, err_path.open("wb") as err:
        subprocess.run([sys.executable, "-S", "-c", _WRAPPER, str(rep_path), *cmd], stdout=out, stderr=err,
                       cwd=REPO, check=True)
    wall, maxrss_kb, code, cpu, other_cpu = rep_path.read_text().split()
    # Other processes' CPU during the run, in cores (busy time of the whole machine minus the run's own).
    other = None if other_cpu == "nan" else max(0.0, float(other_cpu)) / float(wall)
    return Run(float(wall), int(maxrss_kb) / 1024.0, int(code), out_path.read_text(errors="replace"),
               err_path.read_text(errors="replace"), float(cpu), other)


def matcher_cmd() -> list[str]:
    script = Path(sys.executable).parent / "matcher"  # the console script users run (.venv/bin/matcher)
    return [str(script)] if script.exists() else [sys.executable, "-m", "matcher.cli"]


# --- rows -----------------------------------------------------------------------------------------------

@dataclass
class Row:
    case: str
    teachers: int | None = None
    candidates: int | None = None
    walls: list[float] = field(default_factory=list)
    peaks: list[float] = field(default_factory=list)
    total: float | None = None
    optimal: str = ""
    ratio: str = ""
    failed: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    loads: list[float] = field(default_factory=list)  # other processes' CPU (cores) during each run

    @property
    def best(self) -> float:
        return min(self.walls) if self.walls else float("nan")

    @property
    def median(self) -> float:
        return statistics.median(self.walls) if self.walls else float("nan")

    @property
    def peak(self) -> float:
        return max(self.peaks) if self.peaks else float("nan")


class Bench:
    def __init__(self, repeats: int) -> None:
        self.repeats = repeats
        self.rows: list[Row] = []
        self.notes: list[str] = []
        self.problems: list[str] = []  # failures and total mismatches: exit status 1

    def say(self, text: str) -> None:
        print(text, flush=True)

    def note(self, text: str) -> None:
        self.notes.append(text)
        self.say(f"  note: {text}")

    def problem(self, text: str) -> None:
        self.problems.append(text)
        self.say(f"  PROBLEM: {text}")

    def children(self, row: Row, cmd: list[str], repeats: int, out_dir: Path | None, tag: str) -> list[Run]:
        """Run cmd `repeats` times (fresh output folder each time); record walls and peaks on row."""
        runs = []
        for i in range(repeats):
            if out_dir is not None and out_dir.exists():
                shutil.rmtree(out_dir)
            r = run_child(cmd, f"{tag}-{i + 1}")
            self.say(f"  {row.case} run {i + 1}/{repeats}: {r.wall:.2f} s, {r.peak_mb:.0f} MB, exit {r.code}"
                     f"{_load_text(r)}")
            if r.other_load is not None:
                row.loads.append(r.other_load)
            if r.code != 0:
                row.failed = f"exit {r.code}"
                self.problem(f"{row.case}: `{' '.join(cmd)}` exited {r.code}:\n{_tail(r.stderr)}")
                break
            runs.append(r)
            row.walls.append(r.wall)
            row.peaks.append(r.peak_mb)
        return runs


def _load_text(r: Run) -> str:
    return "" if r.other_load is None else f", own CPU {r.cpu:.2f} s, other processes {r.other_load:.2f} cores"


def load_notes(b: Bench) -> list[str]:
    """Other processes' CPU during the measured runs; the machine has few cores, so this moves the figures."""
    loads = [x for r in b.rows for x in r.loads]
    if not loads:
        return []
    out = [f"other processes' CPU during the measured runs: mean {statistics.fmean(loads):.2f}, max "
           f"{max(loads):.2f} cores of {os.cpu_count()} (machine busy time minus the run's own CPU time)"]
    busy = [f"{r.case} (max {max(r.loads):.2f})" for r in b.rows if r.loads and max(r.loads) >= 0.25]
    if busy:
        out.append("runs that shared the machine with other work (>= 0.25 cores): " + "; ".join(busy))
    return out


def _tail(text: str, n: int = 40) -> str:
    lines = text.rstrip().splitlines()
    return "\n".join("    " + x for x in lines[-n:])


def _summary(out_dir: Path) -> dict[str, Any]:
    return json.loads((out_dir / "summary.json").read_text())


def _record(row: Row, out_dir: Path) -> dict[str, Any]:
    """The run's summary.json, its teachers, total and optimality (and the whole summary as info) put on row."""
    s = _summary(out_dir)
    row.teachers, row.total, row.optimal, row.info = s["n_teachers"], s["total_value"], _yes(s["optimal"]), s
    return s


# --- inputs ---------------------------------------------------------------------------------------------

def score_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c not in TEACHER_FIELDS]


def read_wide(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def scores_of(df: pd.DataFrame) -> np.ndarray:
    return df[score_columns(df)].replace("", np.nan).to_numpy(dtype=float)


def opted_out(df: pd.DataFrame) -> np.ndarray:
    return df["opt_out"].str.strip().str.lower().isin(["true", "t", "yes", "y", "1"]).to_numpy()


def count_candidates(df: pd.DataFrame, pool: np.ndarray, one_way: bool = False) -> int:
    """Candidate pairs of the IPI policy within each pool: value >= 1 and neither teacher opted out.

    Mutual: unordered pairs with gain(u->v) + gain(v->u) >= 1. One-way: ordered arcs with gain(u->v) >= 1."""
    s = scores_of(df)
    keep = ~opted_out(df)
    weak, strong = (s < WEAK_BELOW).astype(np.int32), (s >= STRONG_AT_LEAST).astype(np.int32)
    total = 0
    order = np.argsort(pool, kind="stable")
    order = order[keep[order]]
    keys = pool[order]
    cuts = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    for part in np.split(order, cuts):
        g = strong[part] @ weak[part].T  # g[u, v] = gain(u -> v); the diagonal is 0 (weak and strong exclude)
        if one_way:
            total += int((g >= 1).sum())
        else:
            v = g + g.T
            total += int((np.triu(v, 1) >= 1).sum())
    return total


def make_inputs(b: Bench) -> dict[str, Path]:
    from matcher.synth import write_district

    (DATA / "out").mkdir(parents=True, exist_ok=True)  # matcher creates DIR itself, not its parent
    paths = {"state": DATA / "state.csv", "schools": DATA / "state_schools.csv"}
    t0 = time.perf_counter()
    n_t, n_s = write_district(paths["state"], STATE_SCHOOLS, STATE_MEAN, STATE_SEED, schools_path=paths["schools"])
    b.say(f"generated {paths['state'].relative_to(REPO)}: {n_t} teachers in {n_s} schools "
          f"(synth --schools {STATE_SCHOOLS} --mean-size {STATE_MEAN} --seed {STATE_SEED}) "
          f"in {time.perf_counter() - t0:.1f} s")
    paths["denser"] = DATA / "state_denser.csv"
    n_t, n_s = write_district(paths["denser"], STATE_SCHOOLS, STATE_MEAN, STATE_SEED, weak_share=DENSER_WEAK_SHARE)
    b.say(f"generated {paths['denser'].relative_to(REPO)}: {n_t} teachers in {n_s} schools (the same with "
          f"--weak-share {DENSER_WEAK_SHARE})")

    # Dense pools of 2,000 teachers from the same file, opt-outs dropped. "dense" takes the teachers with the most
    # refinement x reinforcement areas (that is what makes a pool dense: ~1.7M of the 2.0M possible pairs are
    # candidates); "dense_random" is a plain random draw (~1.0M candidate pairs).
    df = read_wide(paths["state"])
    df = df[~opted_out(df)].reset_index(drop=True)
    s = scores_of(df)
    mixed = (s < WEAK_BELOW).sum(1) * (s >= STRONG_AT_LEAST).sum(1)
    picks = {"dense": np.sort(np.argsort(-mixed, kind="stable")[:DENSE_N]),
             "dense_random": np.sort(np.random.default_rng(STATE_SEED).choice(len(df), DENSE_N, replace=False))}
    for name, idx in picks.items():
        paths[name] = DATA / f"{name}.csv"
        df.iloc[idx].to_csv(paths[name], index=False)
    return paths


# --- library runs in a child (in process for the library, separate process for the measurement) ------------

def library_child(path: str, solver: str, scope: str, repeats: int) -> None:
    """Hidden mode: time pair_teachers(table, Policy(scope=..., solver=...)) in this process; print JSON."""
    from matcher.io.teachers import read_teachers
    from matcher.pairing.engine import pair_teachers
    from matcher.policy import Policy
    from matcher.rubric import load_rubric

    t0 = time.perf_counter()
    table = read_teachers(path, load_rubric("team"))
    read_s = time.perf_counter() - t0
    times, summary = [], {}
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = pair_teachers(table, Policy(scope=scope, solver=solver))
        times.append(time.perf_counter() - t0)
        summary = result.summary
    print(json.dumps({"read_s": read_s, "times": times, "total_value": summary["total_value"],
                      "optimal": summary["optimal"], "solvers": summary["solvers"],
                      "n_teachers": summary["n_teachers"], "n_pairs": summary["n_pairs"]}))


# The statewide default run's stages, timed one after the other in a fresh interpreter (so imports count).
_STAGES = """
import json, sys, time
from pathlib import Path
t0 = time.perf_counter()
from matcher.io.teachers import read_teachers
from matcher.pairing.engine import pair_teachers
from matcher.policy import Policy
from matcher.report.outputs import write_outputs
from matcher.rubric import load_rubric
t1 = time.perf_counter()
table = read_teachers(sys.argv[1], load_rubric("team"))
t2 = time.perf_counter()
result = pair_teachers(table, Policy())
t3 = time.perf_counter()
write_outputs(result, Path(sys.argv[2]))
t4 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "read": t2 - t1, "pair_teachers": t3 - t2,
                  "solve": result.summary["solve_seconds"], "write_outputs": t4 - t3}))
"""


def stage_breakdown(b: Bench, path: Path, case: str) -> None:
    out = DATA / "out" / "stages"
    if out.exists():
        shutil.rmtree(out)
    r = run_child([sys.executable, "-c", _STAGES, str(path), str(out)], f"stages-{path.stem}")
    if r.code != 0:
        b.problem(f"statewide stage breakdown failed (exit {r.code}):\n{_tail(r.stderr)}")
        return
    st = json.loads(r.stdout.strip().splitlines()[-1])
    other = r.wall - sum(st[k] for k in ("import", "read", "pair_teachers", "write_outputs"))
    b.note(f"where the time of `{case}` goes (one in-process run, {r.wall:.2f} s in all): "
           f"interpreter start and exit {other:.2f} s, imports {st['import']:.2f} s, read and validate "
           f"{st['read']:.2f} s, pair_teachers {st['pair_teachers']:.2f} s (of which the engine's solve_seconds "
           f"{st['solve']:.2f} s), write_outputs (pairs.csv, unmatched.csv, summary.json, school pages, handouts) "
           f"{st['write_outputs']:.2f} s")


def library_rows(b: Bench, case: str, path: Path, solver: str, repeats: int, candidates: int) -> Row:
    row = Row(case, candidates=candidates)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--library", str(path), "--solver", solver,
           "--scope", "all", "--repeat", str(repeats)]
    r = run_child(cmd, f"lib-{path.stem}-{solver}")
    b.say(f"  {case}: child {r.wall:.2f} s, {r.peak_mb:.0f} MB, exit {r.code}{_load_text(r)}")
    if r.other_load is not None:
        row.loads.append(r.other_load)
    if r.code != 0:
        row.failed = f"exit {r.code}"
        b.problem(f"{case}: pair_teachers raised (exit {r.code}):\n{_tail(r.stderr)}")
        return row
    out = json.loads(r.stdout.strip().splitlines()[-1])
    row.walls = out["times"]
    row.peaks = [r.peak_mb]
    row.teachers, row.total = out["n_teachers"], out["total_value"]
    row.optimal = _yes(out["optimal"])
    row.info = out
    b.say(f"  {case}: pair_teachers {', '.join(f'{t:.2f}' for t in out['times'])} s (read {out['read_s']:.2f} s "
          f"not timed), total {out['total_value']:g}, solvers {out['solvers']}")
    return row


def _yes(flag: Any) -> str:
    return "yes" if flag else "NO"


# --- cases ----------------------------------------------------------------------------------------------

def case_statewide(b: Bench, paths: dict[str, Path], run_baseline: bool, baseline_repeats: int,
                   key: str = "state") -> Row:
    case = STATE_CASE if key == "state" else DENSER_CASE
    b.say(f"\n[1] {case}: end to end (every output) vs pandas + networkx")
    df = read_wide(paths[key])
    cand = count_candidates(df, df["school_id"].to_numpy())
    out = DATA / "out" / f"statewide_{key}"
    row = Row(case, candidates=cand)
    runs = b.children(row, [*matcher_cmd(), "pair", str(paths[key]), "--out", str(out)], b.repeats, out,
                      f"statewide_{key}")
    b.rows.append(row)
    if not runs:
        return row
    s = _record(row, out)
    b.say(f"  summary: total {s['total_value']:g}, {s['n_pairs']} pairs, optimal {s['optimal']}, "
          f"solve {s['solve_seconds']} s, solvers {s['solvers']}")
    files = sum(1 for _ in out.rglob("*.html"))
    b.say(f"  outputs: pairs.csv, unmatched.csv, summary.json and {files:,} HTML pages (school pages and handouts)")
    row.info["html_files"] = files
    if key == "state":
        shutil.copyfile(out / "pairs.csv", DATA / "statewide_pairs.csv")  # kept for the all-options case
    check_pairs(b, df, out / "pairs.csv", s["total_value"])
    stage_breakdown(b, paths[key], case)

    if not run_baseline:
        row.ratio = "baseline skipped"
        return row
    base_case = "statewide, pandas + networkx baseline" if key == "state" else \
        f"statewide denser (--weak-share {DENSER_WEAK_SHARE}), pandas + networkx baseline"
    base = Row(base_case, teachers=len(df), candidates=cand, optimal="exact")
    bout = DATA / "out" / f"baseline_{key}"
    cmd = [sys.executable, str(HERE / "baseline_networkx.py"), str(paths[key]), "--out", str(bout)]
    bruns = b.children(base, cmd, baseline_repeats, bout, f"baseline_{key}")
    b.rows.append(base)
    if not bruns:
        row.ratio = "baseline failed"
        return row
    base.total = json.loads(bruns[-1].stdout.strip().splitlines()[-1])["total_value"]
    base.ratio = "1x (reference)"
    if float(base.total) != float(row.total):
        b.problem(f"statewide totals differ: matcher {row.total:g}, networkx baseline {base.total:g}")
    else:
        b.say(f"  identical totals: matcher {row.total:g} = networkx {base.total:g}")
    speedup = base.best / row.best
    row.ratio = f"{speedup:.1f}x faster than networkx"
    row.info["speedup"] = speedup
    b.say(f"  speed-up (best baseline wall / best matcher wall): {base.best:.2f} / {row.best:.2f} = {speedup:.1f}x")
    return row


def check_pairs(b: Bench, df: pd.DataFrame, pairs_csv: Path, total: float) -> None:
    """Independent check of matcher's pairs.csv under the default policy: a matching within schools, each value
    recomputed from the scores, no opted-out teacher, and the values add up to the summary's total."""
    pairs = pd.read_csv(pairs_csv, dtype=str, keep_default_na=False)
    pos = {t: i for i, t in enumerate(df["teacher_id"])}
    s = scores_of(df)
    weak, strong = s < WEAK_BELOW, s >= STRONG_AT_LEAST
    a, c = pairs["teacher_a"].map(pos), pairs["teacher_b"].map(pos)
    if a.isna().any() or c.isna().any():
        b.problem("statewide pairs.csv names teachers who are not in the input")
        return
    a, c = a.to_numpy(dtype=np.int64), c.to_numpy(dtype=np.int64)
    value = (strong[a] & weak[c]).sum(1) + (strong[c] & weak[a]).sum(1)
    ids = np.concatenate([a, c])
    bad = []
    if len(np.unique(ids)) != len(ids):
        bad.append("a teacher appears in two pairs")
    if (df["school_id"].to_numpy()[a] != df["school_id"].to_numpy()[c]).any():
        bad.append("a pair crosses schools")
    if opted_out(df)[ids].any():
        bad.append("an opted-out teacher is paired")
    if (value < 1).any() or not np.allclose(value, pairs["value"].astype(float).to_numpy()):
        bad.append("a pair's value does not match the scores")
    if int(value.sum()) != float(total):
        bad.append(f"pair values add up to {int(value.sum())}, not total_value {total:g}")
    if bad:
        b.problem(f"statewide pairs.csv check failed: {'; '.join(bad)}")
    else:
        b.say(f"  pairs.csv checked: a matching within schools, values recomputed from scores add up to {total:g}")


def case_dense(b: Bench, paths: dict[str, Path], blossom_alone: bool) -> None:
    b.say("\n[2] dense pool: 2,000 teachers in one pool (--scope all)")
    for name, label in (("dense", "dense pool, most-mixed 2,000"), ("dense_random", "dense pool, random 2,000")):
        df = read_wide(paths[name])
        cand = count_candidates(df, np.zeros(len(df)))
        b.say(f" {label}: {len(df)} teachers, {cand:,} candidate pairs")
        out = DATA / "out" / name
        cli = Row(f"{label}: `matcher pair --scope all`", candidates=cand)
        runs = b.children(cli, [*matcher_cmd(), "pair", str(paths[name]), "--scope", "all", "--out", str(out)],
                          b.repeats, out, name)
        b.rows.append(cli)
        if runs:
            s = _record(cli, out)
            b.say(f"  summary: total {s['total_value']:g}, solve {s['solve_seconds']} s, solvers {s['solvers']}")
        auto = library_rows(b, f"{label}: pair_teachers, solver auto", paths[name], "auto", b.repeats, cand)
        b.rows.append(auto)
        if cli.total is not None and auto.total is not None and float(cli.total) != float(auto.total):
            b.problem(f"{label}: CLI total {cli.total:g} != library total {auto.total:g}")
        if not blossom_alone:
            continue
        alone = library_rows(b, f"{label}: pair_teachers, solver blossom", paths[name], "blossom", 1, cand)
        b.rows.append(alone)
        if alone.total is None or auto.total is None:
            continue
        if float(alone.total) != float(auto.total):
            b.problem(f"{label}: totals differ: auto {auto.total:g}, blossom alone {alone.total:g}")
        else:
            b.say(f"  identical totals: auto {auto.total:g} = blossom alone {alone.total:g}")
        alone.ratio = "1x (reference)"
        auto.ratio = f"{alone.best / auto.best:.1f}x faster than blossom alone"
        if cli.walls:
            cli.ratio = f"{alone.best / cli.best:.1f}x faster end to end than blossom alone's pair_teachers"


def case_scopes(b: Bench, paths: dict[str, Path]) -> None:
    """Statewide pools beyond a school: scope district, and scope all with subject require_same (a virtual
    partnership within a subject across the state): the large-pool route (pairing.large)."""
    for case, flags, repeats in ((DISTRICT_CASE, ["--scope", "district"], b.repeats),
                                 (ALL_CASE, ["--scope", "all", "--subject", "require_same"], 1)):
        b.say(f"\n[4] {case}")
        out = DATA / "out" / case.split("`")[1].replace(" ", "_").replace("-", "")
        row = Row(case)
        runs = b.children(row, [*matcher_cmd(), "pair", str(paths["state"]), *flags, "--out", str(out)], repeats,
                          out, out.name)
        b.rows.append(row)
        if not runs:
            continue
        s = _record(row, out)
        big = s.get("large_pools", {})
        row.candidates = big.get("candidate_pairs")
        if big:
            row.ratio = (f"large pools {big['pools']} ({big['teachers']:,} teachers): {big['pairs_solved']:,} pairs "
                         f"solved of {big['candidate_pairs']:,}, bound {big['value_upper_bound']:g} (gap "
                         f"{100 * big['gap']:.3f}%)")
        b.say(f"  summary: total {s['total_value']:g}, {s['n_pairs']} pairs, optimal {s['optimal']}, solve "
              f"{s['solve_seconds']} s, solvers {s['solvers']}, large pools {big}")


def case_one_way(b: Bench, paths: dict[str, Path], default: Row) -> None:
    b.say("\n[3a] statewide, one-way mode, K = 2")
    df = read_wide(paths["state"])
    cand = count_candidates(df, df["school_id"].to_numpy(), one_way=True)
    out = DATA / "out" / "one_way"
    row = Row("statewide, one-way K = 2", candidates=cand)
    runs = b.children(row, [*matcher_cmd(), "pair", str(paths["state"]), "--mode", "one_way", "--max-targets", "2",
                            "--out", str(out)], b.repeats, out, "one_way")
    b.rows.append(row)
    if not runs:
        return
    s = _record(row, out)
    b.say(f"  summary: total {s['total_value']:g}, {s['n_pairs']} pairs, solve {s['solve_seconds']} s, "
          f"solvers {s['solvers']}")
    if default.walls:
        row.ratio = f"{row.best / default.best:.1f}x the default run's time"


def make_lists(paths: dict[str, Path]) -> dict[str, Path]:
    """must-pairs: the first pair of each of 20 schools of the default run (same grades and experience within
    MAX_JUNIOR_YEARS, so the all-options policy allows them); do-not-pair: the first pair of 20 other schools."""
    pairs = pd.read_csv(DATA / "statewide_pairs.csv", dtype=str, keep_default_na=False)
    teachers = read_wide(paths["state"]).set_index("teacher_id")
    first = pairs.groupby("school_id", sort=True).head(1)
    ta, tb = teachers.loc[first["teacher_a"]], teachers.loc[first["teacher_b"]]
    same = ((ta["grades"].to_numpy() == tb["grades"].to_numpy())
            & (np.abs(ta["years_experience"].astype(float).to_numpy() - tb["years_experience"].astype(float)
                      .to_numpy()) < MAX_JUNIOR_YEARS))
    must = first[same].head(20)
    dnp = first[~first["school_id"].isin(must["school_id"])].head(20)
    out = {"must": DATA / "must_pair.csv", "dnp": DATA / "do_not_pair.csv", "policy": DATA / "all_options.toml"}
    must[["teacher_a", "teacher_b"]].to_csv(out["must"], index=False)
    dnp[["teacher_a", "teacher_b"]].to_csv(out["dnp"], index=False)
    out["policy"].write_text(ALL_OPTIONS_POLICY)
    return out


def case_all_options(b: Bench, paths: dict[str, Path], default: Row) -> None:
    b.say("\n[3b] statewide, every option on")
    if not (DATA / "statewide_pairs.csv").exists() or not default.walls:
        b.problem("all options: skipped, the default statewide run did not produce pairs.csv")
        return
    lists = make_lists(paths)
    out = DATA / "out" / "all_options"
    row = Row("statewide, every option on")
    cmd = [*matcher_cmd(), "pair", str(paths["state"]), "--policy", str(lists["policy"]), "--schools",
           str(paths["schools"]), "--must-pair", str(lists["must"]), "--do-not-pair", str(lists["dnp"]),
           "--previous", str(DATA / "statewide_pairs.csv"), "--out", str(out)]
    runs = b.children(row, cmd, b.repeats, out, "all_options")
    b.rows.append(row)
    if not runs:
        return
    s = _record(row, out)
    pv = s.get("previous", {})
    b.say(f"  summary: total {s['total_value']:g}, {s['n_pairs']} pairs ({s['must_pairs']} must, "
          f"{s['cross_school_pairs']} cross-school), previous kept/broken/new {pv.get('kept')}/{pv.get('broken')}/"
          f"{pv.get('new')}, solve {s['solve_seconds']} s, solvers {s['solvers']}")
    row.ratio = f"{row.best / default.best:.1f}x the default run's time"


# --- report ---------------------------------------------------------------------------------------------

def _fmt_int(x: int | None) -> str:
    return "" if x is None else f"{x:,}"


def table(rows: list[Row]) -> str:
    head = ("case", "teachers", "candidate pairs", "wall s (best / median)", "peak MB", "total value", "optimal",
            "ratio")
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
    for r in rows:
        wall = f"{r.best:.2f} / {r.median:.2f}" + (f" (n={len(r.walls)})" if r.walls else "")
        if r.failed:
            wall = f"FAILED ({r.failed})"
        cells = (r.case, _fmt_int(r.teachers), _fmt_int(r.candidates), wall,
                 f"{r.peak:.0f}" if r.peaks else "", "" if r.total is None else f"{r.total:g}", r.optimal, r.ratio)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets(b: Bench) -> list[str]:
    out = []
    by = {r.case: r for r in b.rows}
    for case in (STATE_CASE, DENSER_CASE):
        r = by.get(case)
        if r and "speedup" in r.info:
            out.append(_check(f"{case}: every output >= {TARGET_E2E_SPEEDUP:g}x faster than pandas + networkx end "
                              "to end (issue 16)", r.info["speedup"] >= TARGET_E2E_SPEEDUP,
                              f"{r.info['speedup']:.1f}x, best {r.best:.2f} s"))
    r = by.get(DISTRICT_CASE)
    if r and r.walls:
        out.append(_check(f"{DISTRICT_CASE}: exact in <= {TARGET_DISTRICT_S:g} s and {TARGET_DISTRICT_MB:g} MB "
                          "(issue 16; before: 30 s and 1.9 GB)",
                          r.best <= TARGET_DISTRICT_S and r.peak <= TARGET_DISTRICT_MB and r.optimal == "yes",
                          f"best {r.best:.2f} s, {r.peak:.0f} MB, optimal {r.optimal}"))
    r = by.get(ALL_CASE)
    if r and r.walls:
        gap = r.info.get("large_pools", {}).get("gap")
        out.append(_check(f"{ALL_CASE}: exact, or a proven gap stated, within {TARGET_ALL_S:g} s and "
                          f"{TARGET_ALL_MB:g} MB (issue 16; before: refused above 8,000 teachers)",
                          r.best <= TARGET_ALL_S and r.peak <= TARGET_ALL_MB
                          and (r.optimal == "yes" or gap is not None),
                          f"{r.best:.2f} s, {r.peak:.0f} MB, optimal {r.optimal}, gap {gap}"))
    r = by.get("statewide, one-way K = 2")
    if r and r.walls:
        out.append(_check(f"statewide one-way K = 2 <= {TARGET_ONE_WAY_S:g} s (issue 16; before: 9.9 s)",
                          r.best <= TARGET_ONE_WAY_S and r.optimal == "yes",
                          f"best {r.best:.2f} s, optimal {r.optimal}"))
    st = by.get(STATE_CASE)
    if st and st.walls:
        out.append(_check(f"statewide `matcher pair` wall <= {TARGET_STATE_S:g} s", st.best <= TARGET_STATE_S,
                          f"best {st.best:.2f} s, median {st.median:.2f} s"))
        out.append(_check("statewide peak memory < 2 GB", st.peak < TARGET_STATE_MB, f"{st.peak:.0f} MB"))
        if "speedup" in st.info:
            out.append(_check(f"statewide >= {TARGET_SPEEDUP:g}x faster than pandas + networkx",
                              st.info["speedup"] >= TARGET_SPEEDUP, f"{st.info['speedup']:.1f}x"))
    for label in ("dense pool, most-mixed 2,000", "dense pool, random 2,000"):
        for suffix in (": `matcher pair --scope all`", ": pair_teachers, solver auto"):
            r = by.get(label + suffix)
            if r and r.walls:
                out.append(_check(f"{label}{suffix}: exact in <= {TARGET_DENSE_S:g} s",
                                  r.best <= TARGET_DENSE_S and r.optimal == "yes",
                                  f"best {r.best:.2f} s, optimal {r.optimal}"))
    return out


def _check(what: str, ok: bool, got: str) -> str:
    return f"- {'met' if ok else '**MISSED**'}: {what} ({got})"


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": cpu, "cores": f"{os.cpu_count()} logical ({usable} usable)", "ram": ram,
            "os": f"{platform.system()} {platform.release()}", "python": platform.python_version()}


def versions() -> dict[str, str]:
    out = {}
    for pkg in ("matcher", "numpy", "pandas", "scipy", "rustworkx", "networkx", "ortools"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=REPO, capture_output=True,
                               text=True, check=True).stdout.strip()
        out["git"] = rev + (" (with uncommitted changes under src/)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        out["git"] = "unknown"
    return out


def details(b: Bench) -> list[str]:
    out = []
    for r in b.rows:
        s = r.info
        if "solvers" in s:
            extra = ""
            if "previous" in s:
                pv = s["previous"]
                extra = (f"; previous pairs kept/broken/new {pv['kept']}/{pv['broken']}/{pv['new']} "
                         f"(broken: {pv.get('broken_reasons')})")
            if s.get("must_pairs") or s.get("cross_school_pairs"):
                extra += f"; must-pairs {s.get('must_pairs')}, cross-school pairs {s.get('cross_school_pairs')}"
            solve = f"solve {s['solve_seconds']} s, " if "solve_seconds" in s else ""
            out.append(f"- {r.case}: {solve}solvers {s['solvers']}{extra}")
    return out


def write_results(b: Bench, args: argparse.Namespace, elapsed: float) -> None:
    m, v = machine(), versions()
    cmd = "python benchmarks/pairing.py " + " ".join(a for a in sys.argv[1:])
    text = [
        "# Pairing benchmarks",
        "",
        f"Written by `{cmd.strip()}` on {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} "
        f"({elapsed / 60:.1f} min in all). See benchmarks/README.md for what each case is.",
        "",
        f"- machine: {m['cpu']}, {m['cores']} cores, {m['ram']} RAM, {m['os']}",
        f"- Python {m['python']}; " + ", ".join(f"{k} {x}" for k, x in v.items() if k != "git"),
        f"- source: git {v['git']}",
        f"- runs per case: {b.repeats} (each a separate process; wall = that process's wall time, "
        "peak MB = its ru_maxrss); the blossom-alone dense run once",
        "",
        table(b.rows),
        "",
        "## Targets (issues 2 and 16)",
        "",
        *targets(b),
        "",
        "## Solver details",
        "",
        *details(b),
    ]
    if b.notes or b.problems:
        text += ["", "## Notes and problems", "", *(f"- {n}" for n in b.notes),
                 *(f"- PROBLEM: {p}" for p in b.problems)]
    # Other scripts' sections (each between its own <!-- benchmarks/NAME.py: start/end --> markers) are kept.
    old = RESULTS.read_text() if RESULTS.exists() else ""
    others = re.findall(r"<!-- benchmarks/(?!pairing\.py)[\w.]+: start.*?<!-- benchmarks/[\w.]+: end -->\n?", old,
                        flags=re.S)
    RESULTS.write_text("\n".join(text) + "\n" + "".join("\n" + o for o in others))
    print(f"\nwrote {RESULTS.relative_to(REPO)}")


# --- main -----------------------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one run per case, no blossom-alone dense run (~2 min)")
    ap.add_argument("--skip-baseline", action="store_true", help="do not run the pandas + networkx baseline")
    ap.add_argument("--write", action="store_true", help="record the table in benchmarks/RESULTS.md")
    ap.add_argument("--library", help=argparse.SUPPRESS)  # hidden: one in-process library measurement
    ap.add_argument("--solver", default="auto", help=argparse.SUPPRESS)
    ap.add_argument("--scope", default="all", help=argparse.SUPPRESS)
    ap.add_argument("--repeat", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.library:
        library_child(args.library, args.solver, args.scope, args.repeat)
        return 0

    started = time.perf_counter()
    b = Bench(repeats=1 if args.quick else 3)
    m = machine()
    b.say(f"machine: {m['cpu']}, {m['cores']}, {m['ram']}; Python {m['python']}; matcher via {matcher_cmd()}")
    paths = make_inputs(b)
    default = case_statewide(b, paths, not args.skip_baseline, 1 if args.quick else 3)
    case_statewide(b, paths, not args.skip_baseline, 1 if args.quick else 3, key="denser")
    case_dense(b, paths, blossom_alone=not args.quick)
    case_scopes(b, paths)
    case_one_way(b, paths, default)
    case_all_options(b, paths, default)
    elapsed = time.perf_counter() - started
    for n in load_notes(b):
        b.note(n)

    print("\n" + table(b.rows))
    print("\n" + "\n".join(targets(b)))
    print("\n" + "\n".join(details(b)))
    if b.problems:
        print(f"\n{len(b.problems)} problem(s):")
        for p in b.problems:
            print(f"- {p}")
    print(f"\n{elapsed:.0f} s in all")
    if args.write:
        write_results(b, args, elapsed)
    return 1 if b.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
