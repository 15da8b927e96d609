"""Randomized rollout simulator: assign schools (or teachers) to the pairing program, simulate take-up, the
pairing engine in treated schools and students' outcomes, estimate the effect with inference that holds with few
schools, and report every diagnosand with its Monte Carlo error over replications: `simulate(load_design(path))`.

The modules: design (settings), population, assignment (draws, matched pairs, balance), replicate (one trial),
estimators and inference (estimates, CR1/CR2/CR3, pair differences), randomization (randomization inference),
diagnosands, analytic (textbook formulas), scales (what each effect is on), simulate (every replication and the
summary), executors (local processes or Dask), outputs (files); its command is matcher.cli.simulate.

Exports load lazily, so that `matcher.cli.simulate` (imported when the CLI builds its parser) pulls in
neither scipy nor Dask.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {"Design": "design", "load_design": "design", "design_from_dict": "design", "design_to_dict": "design",
            "simulate": "simulate", "RolloutResult": "simulate", "write_rollout": "outputs",
            "rollout_files": "outputs", "load_population": "population", "population_for": "population",
            "Population": "population"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
