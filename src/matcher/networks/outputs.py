"""Write DIR/networks.csv, DIR/unassigned.csv, DIR/summary.json and a page per network (DIR/networks/), all
published at once (formula cells in the CSV files neutralised: io.csv_out)."""

from __future__ import annotations

import json
from pathlib import Path

from ..io.atomic import staged_directory
from ..io.csv_out import csv_text
from .explain import left_out_rows, rows
from .facilitators import Assigned
from .pages import index_page, network_page, page_file_name
from .solve import NetworkResult

NETWORK_COLUMNS = ("network_id", "school_id", "school_name", "role", "pod", "focus_area", "explanation")
UNASSIGNED_COLUMNS = ("school_id", "school_name", "reason")
FACILITATOR_COLUMNS = ("facilitator_id", "facilitator_name", "network_id", "km_to_host")


def networks_csv(result: NetworkResult) -> str:
    return csv_text(NETWORK_COLUMNS, rows(result))


def unassigned_csv(result: NetworkResult) -> str:
    return csv_text(UNASSIGNED_COLUMNS, left_out_rows(result))


def facilitators_csv(assigned: list[Assigned]) -> str:
    return csv_text(FACILITATOR_COLUMNS, [(a.facilitator_id, a.facilitator_name, a.network_id, a.km_to_host)
                                          for a in assigned])


def write_networks(result: NetworkResult, out_dir: str | Path, facilitators: list[Assigned] | None = None) -> Path:
    """The three files (and facilitators.csv when facilitators were assigned) and the pages (networks/: one per
    network and index.html), published together."""
    summary = dict(result.summary)
    if facilitators is not None:
        summary["facilitator_km_total"] = round(sum(a.km_to_host for a in facilitators), 3)
        summary["n_facilitators_used"] = len({a.facilitator_id for a in facilitators})
    by_net = {a.network_id: a for a in facilitators or ()}
    with staged_directory(Path(out_dir)) as stage:
        (stage / "networks.csv").write_text(networks_csv(result), encoding="utf-8")
        (stage / "unassigned.csv").write_text(unassigned_csv(result), encoding="utf-8")
        (stage / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        if facilitators is not None:
            (stage / "facilitators.csv").write_text(facilitators_csv(facilitators), encoding="utf-8")
        pages = stage / "networks"
        pages.mkdir()
        for net in result.networks:
            (pages / page_file_name(net.network_id)).write_text(
                network_page(result, net, by_net.get(net.network_id)), encoding="utf-8")
        (pages / "index.html").write_text(index_page(result, facilitators), encoding="utf-8")
    return Path(out_dir)
