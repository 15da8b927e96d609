"""Baseline for benchmarks/pairing.py: the IPI default policy as a plain pandas + networkx script.

This is what a competent analyst would write without the matcher library: read the wide teacher CSV with
pandas, and for each school compute weak (< 3) / strong (>= 4) flags per indicator, gain(u -> v) = number of
indicators where v is weak and u is strong, pair value = gain(u -> v) + gain(v -> u), allow a pair when its value
is at least 1 and neither teacher opted out, solve networkx.max_weight_matching per school (exact, pure Python),
add up the total value and write pairs.csv.

    python benchmarks/baseline_networkx.py TEACHERS.csv --out DIR [--weak-below 3] [--strong-at-least 4]

Prints one JSON line: {"total_value": ..., "n_pairs": ..., "n_teachers": ..., "n_schools": ..., "seconds": ...}.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

FIELDS = ("teacher_id", "school_id", "subject", "grades", "years_experience", "opt_out", "district_id")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("teachers")
    ap.add_argument("--out", required=True)
    ap.add_argument("--weak-below", type=float, default=3.0)
    ap.add_argument("--strong-at-least", type=float, default=4.0)
    args = ap.parse_args()
    started = time.perf_counter()

    df = pd.read_csv(args.teachers, dtype={"teacher_id": str, "school_id": str, "opt_out": str})
    indicators = [c for c in df.columns if c not in FIELDS]
    opt_out = df["opt_out"].fillna("false").str.strip().str.lower().isin(["true", "t", "yes", "y", "1"])
    df = df[~opt_out]

    rows = []
    total = 0
    for school, grp in df.groupby("school_id", sort=True):
        scores = grp[indicators].to_numpy(dtype=float)  # NaN (not observed) is neither weak nor strong
        weak = (scores < args.weak_below).astype(np.int64)
        strong = (scores >= args.strong_at_least).astype(np.int64)
        gain = strong @ weak.T  # gain[u, v]: indicators where u is strong and v is weak (u can help v)
        value = gain + gain.T
        ids = grp["teacher_id"].tolist()
        graph = nx.Graph()
        n = len(ids)
        for u in range(n):
            for v in range(u + 1, n):
                if value[u, v] >= 1:
                    graph.add_edge(u, v, weight=int(value[u, v]))
        for u, v in nx.max_weight_matching(graph, maxcardinality=False, weight="weight"):
            a, b = (u, v) if ids[u] < ids[v] else (v, u)
            rows.append((school, ids[a], ids[b], int(value[a, b]), int(gain[b, a]), int(gain[a, b])))
            total += int(value[a, b])

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pairs = pd.DataFrame(rows, columns=["school_id", "teacher_a", "teacher_b", "value", "a_helps_b_count",
                                        "b_helps_a_count"])
    pairs.to_csv(out / "pairs.csv", index=False)
    print(json.dumps({"total_value": total, "n_pairs": len(rows), "n_teachers": int(len(opt_out)),
                      "n_schools": int(df["school_id"].nunique()),
                      "seconds": round(time.perf_counter() - started, 3)}))


if __name__ == "__main__":
    main()
