"""A rollout simulation's files, written all at once: the first draw's assignment and balance, every replication,
the summary, and the power curve as CSV and PNG."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..io.atomic import staged_directory
from ..io.csv_out import formula_safe

if TYPE_CHECKING:  # the simulation's modules load scipy; the API server imports FILES from here without them
    from .simulate import RolloutResult

FILES = ("assignment.csv", "balance.csv", "replications.csv", "summary.json", "power_curve.csv", "power_curve.png")


def _csv(frame: pd.DataFrame) -> str:
    """Numbers as they are; text columns (school ids and names come from the uploaded data) with formula cells
    neutralised (io.csv_out)."""
    text = {c: frame[c].map(formula_safe) for c in frame.columns if frame[c].dtype == object}
    return frame.assign(**text).to_csv(index=False, float_format="%.6g", lineterminator="\n")


def _json_safe(value: Any) -> Any:
    """NaN and infinities become null (JSON has neither)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def summary_json(result: RolloutResult) -> str:
    return json.dumps(_json_safe(result.summary), indent=2) + "\n"


def power_curve_png(result: RolloutResult) -> bytes:
    """Power against the varied setting, one line per estimator, 95% Monte Carlo bars, the target power dashed."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    assert result.power_curve is not None and result.design.power_curve is not None
    vary = result.design.power_curve.vary
    fig = Figure(figsize=(7, 4.5), dpi=110)
    ax = fig.add_subplot()
    for name, g in result.power_curve.groupby("estimator", sort=False):
        g = g.sort_values(vary)
        ax.errorbar(g[vary], g["power"], yerr=1.96 * g["power_mc_se"], marker="o", capsize=3,
                    label=str(name).replace("_", " "))
    ax.axhline(result.design.analysis.power, color="grey", linestyle="--", linewidth=1,
               label=f"target power {result.design.analysis.power:g}")
    ax.axhline(result.design.analysis.alpha, color="grey", linestyle=":", linewidth=1,
               label=f"alpha {result.design.analysis.alpha:g}")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("effect on target teachers' students (SD)" if vary == "effect_target" else "schools in the trial")
    ax.set_ylabel("power (share of replications with p <= alpha)")
    reps = int(result.power_curve["replications"].max())
    ax.set_title(f"Power curve, {reps:,} replications per point")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def rollout_files(result: RolloutResult) -> dict[str, bytes]:
    """Every output file's bytes by name (the CLI writes them; the API stores them)."""
    files = {
        "assignment.csv": _csv(result.assignment).encode(),
        "balance.csv": _csv(result.balance).encode(),
        "replications.csv": _csv(result.replications).encode(),
        "summary.json": summary_json(result).encode(),
    }
    if result.power_curve is not None:
        files["power_curve.csv"] = _csv(result.power_curve).encode()
        files["power_curve.png"] = power_curve_png(result)
    return files


def write_rollout(result: RolloutResult, out_dir: str | Path) -> Path:
    """Write every output into out_dir at once; out_dir is untouched if anything fails."""
    files = rollout_files(result)
    with staged_directory(out_dir) as stage:
        for name, data in files.items():
            (stage / name).write_bytes(data)
    return Path(out_dir)
