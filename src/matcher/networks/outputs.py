"""Write DIR/networks.csv, DIR/unassigned.csv and DIR/summary.json, all published at once (formula cells in the
CSV files neutralised: io.csv_out)."""

from __future__ import annotations

import json
from pathlib import Path

from ..io.atomic import staged_directory
from ..io.csv_out import csv_text
from .explain import left_out_rows, rows
from .solve import NetworkResult

NETWORK_COLUMNS = ("network_id", "school_id", "school_name", "role", "pod", "focus_area", "explanation")
UNASSIGNED_COLUMNS = ("school_id", "school_name", "reason")


def networks_csv(result: NetworkResult) -> str:
    return csv_text(NETWORK_COLUMNS, rows(result))


def unassigned_csv(result: NetworkResult) -> str:
    return csv_text(UNASSIGNED_COLUMNS, left_out_rows(result))


def facilitators_csv(assigned: list[tuple[str, str, float]]) -> str:
    return csv_text(("facilitator_id", "network_id", "km_to_host"), assigned)


def write_networks(result: NetworkResult, out_dir: str | Path,
                   facilitators: list[tuple[str, str, float]] | None = None) -> Path:
    """The three files (and facilitators.csv when facilitators were assigned), published together."""
    summary = dict(result.summary)
    if facilitators is not None:
        summary["facilitator_km_total"] = round(sum(k for *_, k in facilitators), 3)
        summary["n_facilitators_used"] = len({f for f, *_ in facilitators})
    with staged_directory(Path(out_dir)) as stage:
        (stage / "networks.csv").write_text(networks_csv(result), encoding="utf-8")
        (stage / "unassigned.csv").write_text(unassigned_csv(result), encoding="utf-8")
        (stage / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        if facilitators is not None:
            (stage / "facilitators.csv").write_text(facilitators_csv(facilitators), encoding="utf-8")
    return Path(out_dir)
