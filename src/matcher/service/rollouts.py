"""Rollout simulations through the API: check a design and its population (a synthetic district or a stored dataset,
never a file on the server) and queue it; then, in a job process, simulate and store the summary, the balance and
power-curve rows a page draws, and the files `matcher simulate` writes."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import time
from collections.abc import Callable
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from ..errors import InputError, Problem
from ..pairing.model import build_scoring
from ..rollouts.design import Design, PopulationSpec, design_from_dict, design_to_dict
from ..rubric import BUNDLED
from ..store import repo
from ..store.codec import table_of
from ..store.keys import Caller
from .datasets import rubric_named
from .runs import LEASE_SECONDS, PROGRESS_EVERY, run_job

log = logging.getLogger(__name__)

SOURCE = "design"  # the problems' "file"
MAX_SCHOOLS = 5_000  # of a synthetic population
MAX_TEACHERS = 100_000  # schools x mean_size of a synthetic population (a whole state is about 70,000)
MAX_CURVE_POINTS = 25
MAX_DRAWS = 100_000  # re-randomization draws per replication
MAX_RI_DRAWS = 5_000  # randomization inference's re-draws per replication (each refits every estimator)
NO_FILES = "the API takes dataset_id or synthetic: it reads no files on the server"
MEDIA_TYPES = {"csv": "text/csv", "json": "application/json", "png": "image/png"}
TIMINGS = ("population_seconds", "replications_seconds", "seconds_per_replication", "elapsed_seconds")


def media_type(name: str) -> str:
    return MEDIA_TYPES[name.rsplit(".", 1)[-1]]


def _problem(column: str, message: str, value: Any = None) -> Problem:
    return Problem(SOURCE, message, column=column, value=None if value is None else repr(value)[:200])


def _relabel(problems: list[Problem]) -> list[Problem]:
    """The pairing section's problems come from the policy reader, which names the key alone: name it
    pairing.key like every other section's."""
    out = []
    for p in problems:
        if p.file == f"{SOURCE} [pairing]" and not (p.column or "").startswith("pairing"):
            p = Problem(SOURCE, p.message, p.row, f"pairing.{p.column}" if p.column else "pairing", p.value)
        out.append(p)
    return out


def _placeholder(rubric: str) -> dict[str, Any]:
    """A population design_from_dict accepts, standing in for one it does not know (a dataset) or one already
    refused, so that the other sections are still checked."""
    return {"synthetic": {"schools": 2}, "rubric": rubric}


def _population(data: dict[str, Any], problems: list[Problem], dataset_rubric: Callable[[str], str]
                ) -> tuple[dict[str, Any], str | None]:
    """The population section as design_from_dict should read it, and the dataset id (or None). Paths are refused;
    a synthetic district is capped; a dataset is looked up (404, 403) by dataset_rubric(id) -> its rubric."""
    pop = data.get("population")
    if not isinstance(pop, dict):
        problems.append(_problem("population", "must be an object: {\"synthetic\": {\"schools\": N, \"mean_size\": M, "
                                               "\"seed\": S}} or {\"dataset_id\": \"<id>\"}", pop))
        return _placeholder("team"), None
    refused = False
    for key in ("teachers", "schools", "roster"):
        if key in pop:
            problems.append(_problem(f"population.{key}", NO_FILES, pop[key]))
            refused = True
    rubric = pop.get("rubric", "team")
    if rubric not in BUNDLED:
        problems.append(_problem("population.rubric", f"must be one of {', '.join(BUNDLED)} (the API reads no rubric "
                                                      "files)", rubric))
        rubric, refused = "team", True
    if "dataset_id" in pop:
        ident = pop["dataset_id"]
        if "synthetic" in pop:
            problems.append(_problem("population.dataset_id", "give either dataset_id or synthetic, not both", ident))
            return _placeholder(rubric), None
        if not isinstance(ident, str):
            problems.append(_problem("population.dataset_id", "must be the id of a stored dataset (text)", ident))
            return _placeholder(rubric), None
        stored = dataset_rubric(ident)  # raises NotFoundError (404) or Forbidden (403)
        if pop.get("rubric", stored) in BUNDLED and pop.get("rubric", stored) != stored:
            problems.append(_problem("population.rubric", f"the dataset is scored on the {stored} rubric; leave "
                                                          "rubric out", pop["rubric"]))
        return _placeholder(stored), ident
    synthetic = pop.get("synthetic")
    if synthetic is None:
        if not refused:
            problems.append(_problem("population", "give synthetic = {\"schools\": N, \"mean_size\": M, \"seed\": S} "
                                                   "or dataset_id = a stored dataset's id"))
        return _placeholder(rubric), None
    if refused:
        return _placeholder(rubric), None
    if isinstance(synthetic, dict):
        schools, size = synthetic.get("schools"), synthetic.get("mean_size", 39.0)
        if isinstance(schools, int) and not isinstance(schools, bool) and schools > MAX_SCHOOLS:
            problems.append(_problem("population.synthetic.schools", f"at most {MAX_SCHOOLS:,} schools over the API",
                                     schools))
        elif (isinstance(schools, int) and isinstance(size, int | float) and not isinstance(size, bool)
              and schools * size > MAX_TEACHERS):
            problems.append(_problem("population.synthetic.mean_size", f"schools x mean_size is over "
                                                                       f"{MAX_TEACHERS:,} teachers", size))
    return {k: v for k, v in pop.items() if k in ("synthetic", "rubric")}, None


def check_design(data: dict[str, Any], max_replications: int, dataset_rubric: Callable[[str], str]
                 ) -> tuple[Design, dict[str, Any], str | None]:
    """The checked Design, its settings as stored (every default filled in; a dataset population as sent) and the
    dataset id. Every problem is raised at once, each named by section.key."""
    problems: list[Problem] = []
    data = dict(data)
    data["population"], dataset_id = _population(data, problems, dataset_rubric)
    pairing = data.get("pairing")
    if isinstance(pairing, dict) and "policy" in pairing:
        problems.append(_problem("pairing.policy", "the API reads no policy files: give the policy's settings in "
                                                   "pairing", pairing["policy"]))
        data["pairing"] = {k: v for k, v in pairing.items() if k != "policy"}
    draws = (data.get("assignment") or {}).get("max_draws") if isinstance(data.get("assignment"), dict) else None
    if isinstance(draws, int) and not isinstance(draws, bool) and draws > MAX_DRAWS:
        problems.append(_problem("assignment.max_draws", f"at most {MAX_DRAWS:,} over the API", draws))
    ri = (data.get("analysis") or {}).get("ri_draws") if isinstance(data.get("analysis"), dict) else None
    if isinstance(ri, int) and not isinstance(ri, bool) and ri > MAX_RI_DRAWS:
        problems.append(_problem("analysis.ri_draws", f"at most {MAX_RI_DRAWS:,} over the API", ri))
    curve = data.get("power_curve")
    if isinstance(curve, dict) and isinstance(curve.get("values"), list) and len(curve["values"]) > MAX_CURVE_POINTS:
        problems.append(_problem("power_curve.values", f"at most {MAX_CURVE_POINTS} points over the API",
                                 len(curve["values"])))
    design = None
    try:
        design = design_from_dict(data, SOURCE, max_replications=max_replications)
        # Thresholds and weights against the rubric, as a pairing run checks its policy (cheap on no teachers).
        build_scoring(table_of(rubric_named(design.population.rubric), []), design.policy, f"{SOURCE} [pairing]")
    except InputError as exc:
        problems.extend(_relabel(exc.problems))
    if problems:
        raise InputError(problems)
    assert design is not None
    stored = design_to_dict(design)
    if dataset_id is not None:
        stored["population"] = {"dataset_id": dataset_id, "rubric": design.population.rubric}
        design = design.replace(population=PopulationSpec(teachers=f"dataset {dataset_id}",
                                                          rubric=design.population.rubric))
    return design, stored, dataset_id


def start_rollout(engine: Engine, caller: Caller, body: dict[str, Any], max_replications: int,
                  visible: Callable[[Any], None]) -> str:
    """Queue a rollout; `visible(dataset_row)` raises when the caller may not use the dataset."""
    def dataset_rubric(ident: str) -> str:
        with engine.connect() as conn:
            ds = repo.get_dataset(conn, ident)
        visible(ds)
        return ds.rubric

    _, stored, dataset_id = check_design(body, max_replications, dataset_rubric)
    with engine.begin() as conn:
        return repo.insert_rollout(conn, design=stored, request=body, dataset_id=dataset_id, caller=caller)


def records(frame: pd.DataFrame | None) -> list[dict[str, Any]] | None:
    """A table's rows as JSON-ready objects (NaN and infinities as null)."""
    if frame is None:
        return None
    out = []
    for row in frame.to_dict("records"):
        clean = {}
        for k, v in row.items():
            v = v.item() if hasattr(v, "item") else v
            clean[str(k)] = None if isinstance(v, float) and not math.isfinite(v) else v
        out.append(clean)
    return out


def execute_rollout(url: str, run_id: str, workers: int = 1, lease_seconds: float = LEASE_SECONDS) -> str:
    """The job: claim the rollout, simulate, store. Returns the final status; does nothing for a rollout already
    claimed or finished."""
    return run_job(url, run_id, workers, "rollout", repo.claim_rollout, _execute, repo.fail_rollout,
                   "the design or its population", repo.renew_rollout_lease, lease_seconds)


def _execute(engine: Engine, run_id: str, token: str, workers: int) -> None:
    from ..rollouts.outputs import rollout_files
    from ..rollouts.population import population_for
    from ..rollouts.simulate import simulate

    with engine.connect() as conn:
        run = repo.get_rollout(conn, run_id)
        schools = ds = None
        if run.dataset_id is not None:
            ds = repo.get_dataset(conn, run.dataset_id)
            schools = repo.dataset_schools_of(conn, ds.id, with_roster=True)

    def rubric_of(_: str) -> str:
        assert ds is not None
        return str(ds.rubric)

    design, stored, _ = check_design(run.design, 2**62, rubric_of)
    # The population's pairing and the replications run in forked processes: none may inherit a pooled connection.
    engine.dispose()
    population = None
    if ds is not None and schools is not None:
        table = table_of(rubric_named(ds.rubric), [(s.school_id, s.roster) for s in schools], source=ds.name,
                         school_names={s.school_id: s.name for s in schools if s.name})
        population = population_for(design, table, workers=workers)
    last = [time.monotonic()]

    def progress(f: float) -> None:
        if f < 1.0 and time.monotonic() - last[0] >= PROGRESS_EVERY:
            last[0] = time.monotonic()
            repo.set_rollout_progress(engine, run_id, token, round(0.95 * f, 4))

    result = simulate(design, executor="local", workers=workers, progress=progress, population=population)
    if ds is not None:  # the summary names the dataset, as the request did
        result = dataclasses.replace(result, summary={**result.summary,
                                                      "design": {**result.summary["design"],
                                                                 "population": stored["population"]}})
    files = rollout_files(result)
    summary = json.loads(files["summary.json"])
    tables = {"balance": records(result.balance), "power_curve": records(result.power_curve)}
    if not repo.finish_rollout(engine, run_id, token, summary=summary, tables=tables,
                               files={name: (data, media_type(name)) for name, data in files.items()}):
        log.warning("rollout %s: result not stored, the run was taken over or marked failed", run_id)
