"""Write DIR/networks.csv, DIR/unassigned.csv and DIR/summary.json, all published at once."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from ..io.atomic import staged_directory
from .explain import rows
from .solve import NetworkResult

NETWORK_COLUMNS = ("network_id", "school_id", "role", "pod", "focus_area", "explanation")


def networks_csv(result: NetworkResult) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(NETWORK_COLUMNS)
    w.writerows(rows(result))
    return buf.getvalue()


def unassigned_csv(result: NetworkResult) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(("school_id", "reason"))
    w.writerows(sorted((str(result.schools.school_id[i]), why) for i, why in result.left_out.items()))
    return buf.getvalue()


def write_networks(result: NetworkResult, out_dir: str | Path) -> Path:
    with staged_directory(Path(out_dir)) as stage:
        (stage / "networks.csv").write_text(networks_csv(result))
        (stage / "unassigned.csv").write_text(unassigned_csv(result))
        (stage / "summary.json").write_text(json.dumps(result.summary, indent=2) + "\n")
    return Path(out_dir)
