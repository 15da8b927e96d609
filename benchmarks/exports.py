"""Real exports statewide (issue 11): a state observation export read and paired end to end, beside the wide file.

    python benchmarks/exports.py [--quick] [--write]

One synthetic state (1,800 schools, 70,147 teachers) with every teacher observed 3 times, written three ways:
the wide file (one row per teacher: the mean of their observations, what `matcher pair` read before issue 11), the
observation export as CSV (one row per observation, ~210,000 rows, labelled headers, names, dates, observers, an
extra column) and the same export as an Excel workbook. Each is paired end to end by `matcher pair` in its own
process (pairing.py's measuring wrapper: wall time and the run's own peak RSS) and read alone by read_teachers in
another. Today's statewide wide file (synth's default mix of 1 to 4 observations) runs too, for comparison with
benchmarks/pairing.py. Target: the CSV export end to end at most 2x the wide file's time. The pairs of the export
and of its wide file must be the same (they are the same scores); the exit status is 1 when they differ or a run
fails. --write records the table in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import shutil
import sys
import time
from pathlib import Path

from pairing import (  # benchmarks/pairing.py
    DATA,
    REPO,
    STATE_MEAN,
    STATE_SCHOOLS,
    STATE_SEED,
    Bench,
    Row,
    load_notes,
    machine,
    matcher_cmd,
    versions,
)
from results_file import replace_section  # benchmarks/

PER_TEACHER = 3
TARGET_RATIO = 2.0
START, END = "<!-- exports.py: start -->", "<!-- exports.py: end -->"

_READ_ONLY = """
import json, sys, time
t0 = time.perf_counter()
from matcher.io.teachers import read_teachers
from matcher.rubric import load_rubric
t1 = time.perf_counter()
table = read_teachers(sys.argv[1], load_rubric("team"))
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "read_s": t2 - t1, "teachers": len(table)}))
"""


def make_inputs(b: Bench) -> dict[str, Path]:
    from matcher.synth import write_district, write_observations

    DATA.mkdir(parents=True, exist_ok=True)
    (DATA / "out").mkdir(exist_ok=True)
    paths = {"today": DATA / "state.csv", "wide": DATA / "state_obs3_wide.csv",
             "csv": DATA / "state_obs3.csv", "xlsx": DATA / "state_obs3.xlsx"}
    t0 = time.perf_counter()
    write_district(paths["today"], STATE_SCHOOLS, STATE_MEAN, STATE_SEED)
    write_district(paths["wide"], STATE_SCHOOLS, STATE_MEAN, STATE_SEED, observations_per_teacher=PER_TEACHER)
    n_rows = write_observations([paths["csv"], paths["xlsx"]], STATE_SCHOOLS, STATE_MEAN, STATE_SEED,
                                observations_per_teacher=PER_TEACHER)
    b.say(f"generated the inputs in {time.perf_counter() - t0:.0f} s: {n_rows:,} observation rows; sizes "
          + ", ".join(f"{k} {p.stat().st_size / 2**20:.1f} MB" for k, p in paths.items()))
    b.rows_info = {"observation_rows": n_rows,  # type: ignore[attr-defined]
                   "sizes": {k: p.stat().st_size for k, p in paths.items()}}
    return paths


def end_to_end(b: Bench, case: str, path: Path, repeats: int) -> Row:
    row = Row(case)
    out = DATA / "out" / f"exports-{case.split()[0]}"
    runs = b.children(row, [*matcher_cmd(), "pair", str(path), "--out", str(out), "--json"], repeats, out,
                      f"exports-{case.split()[0]}")
    if runs:
        s = json.loads(runs[-1].stdout)
        row.teachers, row.total, row.optimal = s["n_teachers"], s["total_value"], str(s["optimal"]).lower()
        row.info["pairs"] = _pairs(out / "pairs.csv")
        row.info["n_pairs"] = s["n_pairs"]
    b.rows.append(row)
    return row


def _pairs(path: Path) -> list[tuple[str, ...]]:
    """Each pair by ids, value, areas and focus (the export names people and the wide file does not, so names
    and explanations differ)."""
    keep = ("school_id", "teacher_a", "teacher_b", "value", "a_helps_b", "b_helps_a")
    rows = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))
    return [tuple(r[k] for k in keep) for r in rows]


def read_only(b: Bench, case: str, path: Path, repeats: int) -> Row:
    row = Row(case)
    runs = b.children(row, [sys.executable, "-c", _READ_ONLY, str(path)], repeats, None,
                      f"exports-read-{case.split()[0]}")
    if runs:
        row.info["read_s"] = min(json.loads(r.stdout)["read_s"] for r in runs)
        row.teachers = json.loads(runs[-1].stdout)["teachers"]
    b.rows.append(row)
    return row


def table(b: Bench) -> str:
    base = next((r for r in b.rows if r.case.startswith("wide") and "pair" in r.case), None)
    lines = ["| case | teachers | rows | input MB | best s | median s | peak MB | x wide file | total value | "
             "optimal |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    info = getattr(b, "rows_info", {})
    sizes = info.get("sizes", {})
    for r in b.rows:
        key = r.case.split()[0]
        rows = info.get("observation_rows") if key in ("csv", "xlsx") else r.teachers
        ratio = f"{r.best / base.best:.2f}x" if base and base.walls and r.walls and "pair" in r.case else ""
        extra = f" (read_teachers {r.info['read_s']:.2f} s)" if "read_s" in r.info else ""
        lines.append(f"| {r.case}{extra} | {r.teachers or ''} | {rows or '':,} | "
                     f"{sizes.get(key, 0) / 2**20:.1f} | {r.best:.2f} | {r.median:.2f} | {r.peak:.0f} | {ratio} | "
                     f"{'' if r.total is None else f'{r.total:g}'} | {r.optimal} |".replace("| , |", "|  |"))
    return "\n".join(lines)


def section(b: Bench, elapsed: float, repeats: int) -> str:
    m, v = machine(), versions()
    rows = {r.case: r for r in b.rows}
    wide, csv_ = rows.get("wide pair"), rows.get("csv pair")
    verdict = ""
    if wide and csv_ and wide.walls and csv_.walls:
        ratio = csv_.best / wide.best
        verdict = (f"- CSV export end to end / wide file end to end: **{ratio:.2f}x** (target at most "
                   f"{TARGET_RATIO:g}x: {'met' if ratio <= TARGET_RATIO else 'MISSED'})")
    same = [r.case for r in b.rows if r.info.get("same_pairs")]
    notes = [*b.notes, *load_notes(b)]
    return "\n".join([
        START,
        "# Real exports statewide (issue 11)",
        "",
        f"Written by `python benchmarks/exports.py --write` on {dt.date.today().isoformat()}, {repeats} run(s) per "
        f"case, {elapsed:.0f} s in all. Machine: {m['cpu']}, {m['cores']} cores, {m['ram']}; "
        f"{m['python']}; " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".",
        "",
        f"One synthetic state ({STATE_SCHOOLS:,} schools, `--seed {STATE_SEED}`) with every teacher observed "
        f"{PER_TEACHER} times (`matcher synth --observations-per-teacher {PER_TEACHER}`): **wide** is the file "
        "`matcher pair` read before this issue (one row per teacher, the mean of the observations), **csv** and "
        "**xlsx** the observation export (one row per observation, labelled headers, names, dates, observers, an "
        "extra column; the workbook has a title row above the header). **today** is benchmarks/pairing.py's "
        "statewide wide file (synth's default 1 to 4 observations). *pair* rows: `matcher pair FILE --out DIR` "
        "end to end in its own process (imports, reading, solving, pairs.csv, unmatched.csv, summary.json, one "
        "page per school; the CLI computes only its policy's aggregate); *read* rows: `read_teachers` alone in a "
        "fresh interpreter, with every aggregate (mean, median, latest) as an API upload keeps them (the wall time "
        "includes start-up and imports; the read itself is in brackets). Peak MB is the run's own peak RSS.",
        "",
        table(b),
        "",
        verdict,
        f"- the export's pairs (ids, value, the areas each can support) equal its wide file's (the suggested focus "
        "may differ where the wide file's 2-decimal rounding breaks a tie between two score gaps): "
        f"{', '.join(same) if same else 'NOT CHECKED'}",
        *([""] + ["Notes:", *[f"- {n}" for n in notes]] if notes else []),
        END,
    ])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1 run per case instead of 3")
    ap.add_argument("--write", action="store_true", help="record the table in benchmarks/RESULTS.md")
    args = ap.parse_args()
    repeats = 1 if args.quick else 3
    b = Bench(repeats)
    started = time.perf_counter()
    paths = make_inputs(b)
    for key in ("today", "wide", "csv", "xlsx"):
        end_to_end(b, f"{key} pair", paths[key], repeats if key != "xlsx" else max(1, repeats - 1))
    for key in ("wide", "csv", "xlsx"):
        read_only(b, f"{key} read", paths[key], repeats if key != "xlsx" else max(1, repeats - 1))
    rows = {r.case: r for r in b.rows}
    wide_pairs = rows["wide pair"].info.get("pairs")
    for key in ("csv pair", "xlsx pair"):
        got = rows[key].info.get("pairs")
        if got is not None and wide_pairs is not None:
            if got == wide_pairs:
                rows[key].info["same_pairs"] = True
            else:
                b.problem(f"{key}: pairs.csv differs from the wide file's")
    for r in b.rows:
        r.info.pop("pairs", None)
    text = section(b, time.perf_counter() - started, repeats)
    print("\n" + text)
    if args.write:
        replace_section(START, END, text)
    shutil.rmtree(DATA / "out", ignore_errors=True)
    return 1 if b.problems else 0


if __name__ == "__main__":
    os.chdir(REPO)
    sys.exit(main())

