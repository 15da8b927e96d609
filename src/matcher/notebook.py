"""The notebook front door: `pair`, `form_networks`, `form_teams` and `simulate` take pandas DataFrames (or the
files the CLI reads) and return small results whose `*_frame()` methods give DataFrames back.

A DataFrame is read as the CLI reads a file: it is written to a temporary CSV file (io.sheets.write_frame_csv) that
goes through the same reader, so every check and message is the CLI's. Problems name the source "DataFrame" (a
second table by its role: "schools DataFrame", "previous DataFrame", ...) and the row the CSV file has: row i of
the frame, by position, is row i + 2 (the header is row 1).
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import pandas as pd

from .errors import InputError, Problem
from .io.sheets import write_frame_csv
from .policy import Policy

if TYPE_CHECKING:
    from .io.columns import ColumnMap
    from .io.teachers import TeacherTable
    from .networks.facilitators import Assigned
    from .networks.policy import NetworkPolicy
    from .networks.solve import NetworkResult
    from .pairing.result import PairingResult
    from .rollouts.design import Design
    from .rollouts.simulate import RolloutResult
    from .rubric import Rubric
    from .teams.model import TeamPolicy
    from .teams.result import TeamsResult

__all__ = ["pair", "form_networks", "form_teams", "simulate", "Pairing", "Networks", "Teams", "Simulation"]

Table: TypeAlias = "pd.DataFrame | str | os.PathLike[str]"  # a DataFrame, or a file the CLI reads (CSV; .xlsx too)
Settings: TypeAlias = "str | os.PathLike[str] | Mapping[str, Any]"  # a TOML/JSON file, or its settings as a dict
SETTINGS = "keyword arguments"  # how problems name settings given as keyword arguments


# ---- inputs ----------------------------------------------------------------------------------------------------

class _Sources:
    """The inputs of one call: each DataFrame written to a temporary CSV file, and the name problems give it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.names: dict[str, str] = {}  # temporary file -> the name shown in its place

    def path(self, value: Table, argument: str, name: str) -> Path:
        """The file to read: a DataFrame's temporary CSV file (shown as `name`), or the path given."""
        if isinstance(value, pd.DataFrame):
            path = write_frame_csv(value, self.folder / f"input-{len(self.names) + 1}.csv")
            self.names[str(path)] = name
            return path
        if isinstance(value, str | os.PathLike):
            return Path(value)
        raise TypeError(f"{argument}: expected a pandas DataFrame or a file path, not {type(value).__name__}")

    def rename(self, text: str) -> str:
        for path, name in self.names.items():
            text = text.replace(path, name)
        return text

    def renamed(self, value: Any) -> Any:
        """A summary (dicts, lists, text) with every temporary file named as shown."""
        if isinstance(value, str):
            return self.rename(value)
        if isinstance(value, dict):
            return {k: self.renamed(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.renamed(v) for v in value]
        return value

    def problem(self, p: Problem) -> Problem:
        return Problem(self.rename(p.file), self.rename(p.message), p.row, p.column,
                       None if p.value is None else self.rename(p.value))

    def table(self, t: TeacherTable) -> TeacherTable:
        return dataclasses.replace(t, source=self.rename(t.source), warnings=tuple(map(self.rename, t.warnings)))


@contextmanager
def _sources() -> Iterator[_Sources]:
    """Temporary files for the call's DataFrames (removed at the end); an InputError raised inside names each
    DataFrame as shown, never by its temporary file."""
    with tempfile.TemporaryDirectory(prefix="matcher-frames-") as folder:
        src = _Sources(Path(folder))
        try:
            yield src
        except InputError as exc:
            if not src.names:
                raise
            raise InputError([src.problem(p) for p in exc.problems]) from None


def _collect(problems: list[Problem], fn: Callable[..., Any], *args: Any) -> Any:
    """fn(*args), or None after adding its InputError's problems: every input is checked before any is refused."""
    try:
        return fn(*args)
    except InputError as exc:
        problems.extend(exc.problems)
        return None


def _plain(value: Any) -> Any:
    """Settings as a settings file gives them: numpy scalars as Python numbers, tuples as lists, mappings as dicts."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _is_path(value: Any) -> bool:
    return isinstance(value, str | os.PathLike)


def _policy(policy: Any, settings: dict[str, Any], kind: type, load: Callable[[Any], Any],
            from_dict: Callable[..., Any], override: Callable[[Any, dict[str, Any]], Any]) -> Any:
    """The policy as given (an object, its file, or a dict of its settings; default kind()), then the keyword
    settings over it (override(policy, settings)), as the CLI's flags go over its --policy file."""
    if policy is None or isinstance(policy, kind):
        base = policy if policy is not None else kind()
    elif _is_path(policy):
        base = load(policy)
    elif isinstance(policy, Mapping):
        base = from_dict(_plain(policy), "policy")
    else:
        raise TypeError(f"policy: expected a {kind.__name__}, a TOML/JSON file or a dict of settings, not "
                        f"{type(policy).__name__}")
    return override(base, _plain(settings)) if settings else base


def _rubric(rubric: str | os.PathLike[str] | Rubric) -> Rubric:
    from .rubric import Rubric, load_rubric

    if isinstance(rubric, Rubric):
        return rubric
    return load_rubric(rubric if isinstance(rubric, str) else Path(rubric))


def _column_map(columns: str | os.PathLike[str] | Mapping[str, str] | ColumnMap | None) -> ColumnMap | None:
    from .io.columns import ColumnMap, column_map_from_dict, load_column_map

    if columns is None or isinstance(columns, ColumnMap):
        return columns
    if isinstance(columns, Mapping):
        return column_map_from_dict(_plain(columns), "columns")
    return load_column_map(columns if isinstance(columns, str) else Path(columns))


def _teachers(src: _Sources, teachers: Table, rubric: Rubric, roster: Table | None, columns: Any,
              sheet: str | None, strict: bool, aggregate: str) -> TeacherTable:
    """The teachers as `matcher pair` and `matcher teams` read them (with --roster, --columns, --sheet, --strict)."""
    from .io.teachers import read_teachers

    cmap = _column_map(columns)
    path = src.path(teachers, "teachers", "DataFrame")
    roster_path = src.path(roster, "roster", "roster DataFrame") if roster is not None else None
    table = read_teachers(path, rubric, roster_path, columns=cmap, sheet=sheet, strict=strict, aggregate=aggregate,
                          all_aggregates=False)
    return src.table(table)


def _check_workers(workers: int, problems: list[Problem]) -> None:
    if isinstance(workers, bool) or not isinstance(workers, int | np.integer) or workers < 1:
        problems.append(Problem(SETTINGS, "must be a whole number of at least 1", column="workers",
                                value=str(workers)))


# ---- pairing ---------------------------------------------------------------------------------------------------

def pair(teachers: Table, *, schools: Table | None = None, policy: Policy | Settings | None = None,
         previous: Pairing | Table | Sequence[tuple[str, str]] | None = None, roster: Table | None = None,
         rubric: str | os.PathLike[str] | Rubric = "team", columns: Any = None, sheet: str | None = None,
         strict: bool = False, workers: int = 1, **settings: Any) -> Pairing:
    """Suggest target/partner teacher pairs for every school, exactly as `matcher pair` does.

    teachers: a DataFrame (one row per teacher or per observation, headers as an export writes them) or a CSV or
    .xlsx file; schools: a schools table (school_id, latitude, longitude[, name]) for distances and school names;
    policy: a Policy, a policy file (TOML/JSON) or a dict of its settings; **settings: policy settings that
    override it (`scope="district"`, `subject="require_same"`, ...; docs/policy.md lists them all);
    previous: last run's pairs (a Pairing, its pairs_frame(), a pairs.csv, or (teacher_a, teacher_b) tuples), kept
    as `previous_stability` says; roster, rubric, columns (a column map file or dict), sheet, strict: how the
    teachers are read (the CLI's --roster, --rubric, --columns, --sheet, --strict); workers: processes for the
    per-school solves (the answer never depends on it).

    Raises InputError listing every problem of the input (source, row, column, value) before anything is solved.
    """
    from .io.pair_lists import read_pair_file, read_school_coords
    from .pairing.engine import pair_teachers
    from .policy import load_policy, policy_from_dict

    started = time.perf_counter()
    problems: list[Problem] = []
    with _sources() as src:
        rub = _collect(problems, _rubric, rubric)
        pol = _collect(problems, _policy, policy, settings, Policy, load_policy, policy_from_dict,
                       lambda base, s: policy_from_dict(s, SETTINGS, base))
        table = _collect(problems, _teachers, src, teachers, rub, roster, columns, sheet, strict,
                         pol.aggregate if pol else "mean") if rub is not None else None
        prev: list[tuple[str, str]] | None = None
        prev_source = ""
        if isinstance(previous, Pairing):
            prev, prev_source = [(p.teacher_a, p.teacher_b) for p in previous.result.pairs], "previous pairing"
        elif isinstance(previous, pd.DataFrame) or _is_path(previous):
            path = src.path(previous, "previous", "previous DataFrame")  # type: ignore[arg-type]
            rows = _collect(problems, read_pair_file, path)
            if rows is not None:
                prev, prev_source = [(a, b) for _, a, b in rows], src.rename(str(path))
        elif previous is not None:
            prev, prev_source = _collect(problems, _pair_tuples, previous) or [], "previous pairs"
        names: dict[str, str] = {}
        coords = (_collect(problems, read_school_coords, src.path(schools, "schools", "schools DataFrame"), names)
                  if schools is not None else None)
        _check_workers(workers, problems)
        if problems:
            raise InputError(problems)
        assert table is not None and pol is not None
        table = table.with_school_names(names)
        result = pair_teachers(table, pol, previous=prev, previous_source=prev_source, workers=int(workers),
                               school_coords=coords, policy_source=str(policy) if _is_path(policy) else "policy")
    result.summary["elapsed_seconds"] = round(time.perf_counter() - started, 4)  # as the CLI's summary.json
    return Pairing(result)


def _pair_tuples(pairs: Sequence[Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    problems: list[Problem] = []
    for n, item in enumerate(pairs, start=1):
        if isinstance(item, list | tuple) and len(item) == 2 and all(isinstance(x, str) and x for x in item):
            out.append((item[0], item[1]))
        else:
            problems.append(Problem("previous pairs", "each entry must be (teacher_a, teacher_b)", row=n,
                                    value=repr(item)))
    if problems:
        raise InputError(problems)
    return out


@dataclass(frozen=True, eq=False)
class Pairing:
    """What `pair` returns. `result` is the library's PairingResult (pairs, unmatched, summary, policy, teachers)."""

    result: PairingResult

    @property
    def summary(self) -> dict[str, Any]:
        """summary.json's content: total_value, n_pairs, optimal, unmatched_by_reason, the policy, warnings, ..."""
        return self.result.summary

    @property
    def policy(self) -> Policy:
        return self.result.policy

    @property
    def warnings(self) -> tuple[str, ...]:
        """What the reader noticed but did not refuse (extra columns, repeated rows, ...)."""
        return self.result.teachers.warnings

    def pairs_frame(self) -> pd.DataFrame:
        """One row per pair, the columns of pairs.csv: school_id, school_name, teacher_a, teacher_a_name, teacher_b,
        teacher_b_name, value (a number), a_helps_b and b_helps_a (indicators joined by ";"), focus_indicator,
        explanation, school_b, school_b_name, origin, previous, mode. In one-way mode teacher_a is the partner."""
        from .report.outputs import PAIR_COLUMNS

        mode = self.result.policy.mode
        rows = [(p.school_id, p.school_name, p.teacher_a, p.teacher_a_name, p.teacher_b, p.teacher_b_name,
                 float(p.value), ";".join(p.a_helps_b), ";".join(p.b_helps_a), p.focus_indicator, p.explanation,
                 p.school_b, p.school_b_name, p.origin, p.previous, mode) for p in self.result.pairs]
        return pd.DataFrame(rows, columns=list(PAIR_COLUMNS)).astype({"value": float})

    def unmatched_frame(self) -> pd.DataFrame:
        """One row per teacher left without a pair, the columns of unmatched.csv: school_id, school_name,
        teacher_id, teacher_name, reason, code (opted_out, no_scores, no_areas, no_helper, ruled_out, taken)."""
        from .report.outputs import UNMATCHED_COLUMNS

        rows = [(u.school_id, u.school_name, u.teacher_id, u.teacher_name, u.reason, u.code)
                for u in self.result.unmatched]
        return pd.DataFrame(rows, columns=list(UNMATCHED_COLUMNS))

    def write(self, out_dir: str | os.PathLike[str], *, handout_scores: bool = False, workers: int = 1) -> Path:
        """The files `matcher pair` writes (pairs.csv, unmatched.csv, summary.json, schools/, handouts/), published
        into out_dir at once."""
        from .report.outputs import write_outputs

        return write_outputs(self.result, Path(out_dir), workers=workers, handout_scores=handout_scores)

    def __repr__(self) -> str:
        s = self.summary
        proof = "optimal" if s["optimal"] else f"not proven optimal ({s['unproven_pools']} pools hit the time limit)"
        return (f"<Pairing: {s['n_pairs']:,} pairs of {s['n_teachers']:,} teachers in {s['n_schools']:,} schools, "
                f"total value {s['total_value']:g} ({proof}); {s['n_unmatched']:,} unmatched>")


# ---- school networks -------------------------------------------------------------------------------------------

def form_networks(schools: Table, *, policy: NetworkPolicy | Settings | None = None,
                  facilitators: Table | None = None, caseload: int = 4, **settings: Any) -> Networks:
    """Form host/partner school networks (or peer groups), exactly as `matcher networks` does.

    schools: a DataFrame or CSV file of applicants (school_id, name, district_id, level, grade_min, grade_max,
    latitude, longitude, role, strengths, needs, ...); policy: a NetworkPolicy, a policy file or a dict of its
    settings; **settings override it (`shape="quad"`, `max_km=10`, ...); facilitators: a DataFrame or CSV file
    (facilitator_id, latitude, longitude[, caseload][, name]) to give each network one, `caseload` networks each
    where the table gives none.
    """
    from .io.schools import read_schools
    from .networks.facilitators import assign_facilitators, read_facilitators
    from .networks.policy import NetworkPolicy, load_network_policy, network_policy_from_dict, policy_dict
    from .networks.solve import form_networks as solve

    problems: list[Problem] = []
    with _sources() as src:
        # (the network policy reader takes no base policy: the keywords go over the policy's settings)
        pol = _collect(problems, _policy, policy, settings, NetworkPolicy, load_network_policy,
                       network_policy_from_dict,
                       lambda base, s: network_policy_from_dict({**policy_dict(base), **s}, SETTINGS))
        table = _collect(problems, read_schools, src.path(schools, "schools", "DataFrame"),
                         pol.focus_areas or None if pol else None)
        fac = (_collect(problems, read_facilitators, src.path(facilitators, "facilitators", "facilitators DataFrame"),
                        caseload) if facilitators is not None else None)
        if isinstance(caseload, bool) or not isinstance(caseload, int | np.integer) or caseload < 1:
            problems.append(Problem(SETTINGS, "must be at least 1", column="caseload", value=str(caseload)))
        if problems or pol is None or table is None:
            raise InputError(problems)
        table = dataclasses.replace(table, source=src.rename(table.source))
        result = solve(table, pol)
        assigned = assign_facilitators(result, fac) if fac is not None else None
    return Networks(result, None if assigned is None else tuple(assigned))


@dataclass(frozen=True, eq=False)
class Networks:
    """What `form_networks` returns. `result` is the library's NetworkResult; `facilitators` each network's
    facilitator when a facilitators table was given."""

    result: NetworkResult
    facilitators: tuple[Assigned, ...] | None = None

    @property
    def summary(self) -> dict[str, Any]:
        """summary.json's content: n_networks, n_placed, optimal or gap, aligned_share, focus_coverage, ..."""
        s = dict(self.result.summary)
        if self.facilitators is not None:  # as write_networks adds them
            s["facilitator_km_total"] = round(sum(a.km_to_host for a in self.facilitators), 3)
            s["n_facilitators_used"] = len({a.facilitator_id for a in self.facilitators})
        return s

    @property
    def policy(self) -> NetworkPolicy:
        return self.result.policy

    def networks_frame(self) -> pd.DataFrame:
        """One row per school in a network, the columns of networks.csv: network_id, school_id, school_name, role
        (host, partner or peer), pod, focus_area, explanation."""
        from .networks.explain import rows
        from .networks.outputs import NETWORK_COLUMNS

        return pd.DataFrame(rows(self.result), columns=list(NETWORK_COLUMNS))

    def unassigned_frame(self) -> pd.DataFrame:
        """One row per school left out, the columns of unassigned.csv: school_id, school_name, reason."""
        from .networks.explain import left_out_rows
        from .networks.outputs import UNASSIGNED_COLUMNS

        return pd.DataFrame(left_out_rows(self.result), columns=list(UNASSIGNED_COLUMNS))

    def facilitators_frame(self) -> pd.DataFrame | None:
        """One row per network, the columns of facilitators.csv: facilitator_id, facilitator_name, network_id,
        km_to_host; None when no facilitators were given."""
        from .networks.outputs import FACILITATOR_COLUMNS

        if self.facilitators is None:
            return None
        return pd.DataFrame([(a.facilitator_id, a.facilitator_name, a.network_id, float(a.km_to_host))
                             for a in self.facilitators], columns=list(FACILITATOR_COLUMNS))

    def write(self, out_dir: str | os.PathLike[str]) -> Path:
        """The files `matcher networks` writes (networks.csv, unassigned.csv, summary.json, facilitators.csv with
        facilitators, networks/ with a page per network), published into out_dir at once."""
        from .networks.outputs import write_networks

        return write_networks(self.result, Path(out_dir),
                              None if self.facilitators is None else list(self.facilitators))

    def __repr__(self) -> str:
        s = self.result.summary
        proof = "optimal" if s["optimal"] else f"within {100 * s['gap']:.2f}% of optimal"
        return (f"<Networks: {s['n_networks']:,} networks, {s['n_placed']:,} of {s['n_schools']:,} schools placed "
                f"({proof})>")


# ---- teacher teams ---------------------------------------------------------------------------------------------

def form_teams(teachers: Table, *, policy: TeamPolicy | Settings | None = None,
               size: str | int | tuple[int, int] | None = None,
               roster: Table | None = None, rubric: str | os.PathLike[str] | Rubric = "team", columns: Any = None,
               sheet: str | None = None, strict: bool = False, aggregate: str = "mean", workers: int = 1,
               **settings: Any) -> Teams:
    """Form lesson-study or inquiry teams within every school, exactly as `matcher teams` does.

    teachers: as for `pair`; size: team sizes, "3-6" (default), 4 or (3, 6); policy: a TeamPolicy, a policy file
    or a dict of its settings; **settings override it (`group_by="subject"`, `time_limit_seconds=10`, ...);
    aggregate: a score observed several times (mean, median or latest); the reading options are `pair`'s.
    """
    from .teams.model import TeamPolicy, load_team_policy, parse_size, team_policy_from_dict
    from .teams.solve import form_teams as solve

    started = time.perf_counter()
    problems: list[Problem] = []
    with _sources() as src:
        flags: dict[str, Any] = {}
        if size is not None:
            text = "-".join(map(str, size)) if isinstance(size, tuple | list) else str(size)
            sizes = _collect(problems, parse_size, text, SETTINGS, "size")
            if sizes is not None:
                flags["min_size"], flags["max_size"] = sizes
        flags.update(settings)
        _check_workers(workers, problems)
        pol = _collect(problems, _policy, policy, flags, TeamPolicy, load_team_policy, team_policy_from_dict,
                       lambda base, s: team_policy_from_dict(s, SETTINGS, base))
        rub = _collect(problems, _rubric, rubric)
        table = (_collect(problems, _teachers, src, teachers, rub, roster, columns, sheet, strict, aggregate)
                 if rub is not None else None)
        if problems:
            raise InputError(problems)
        assert table is not None and pol is not None
        result = solve(table, pol, workers=int(workers))
    result.summary["elapsed_seconds"] = round(time.perf_counter() - started, 4)  # as the CLI's summary.json
    return Teams(result)


@dataclass(frozen=True, eq=False)
class Teams:
    """What `form_teams` returns. `result` is the library's TeamsResult (teams, unassigned, summary, policy)."""

    result: TeamsResult

    @property
    def summary(self) -> dict[str, Any]:
        """summary.json's content: n_teams, n_teachers_in_teams, objective, optimal, unassigned_by_reason, ..."""
        return self.result.summary

    @property
    def policy(self) -> TeamPolicy:
        return self.result.policy

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.result.teachers.warnings

    def teams_frame(self) -> pd.DataFrame:
        """One row per team member, the columns of teams.csv: school_id, school_name, team_id, teacher_id,
        teacher_name, role (leader, strong, learner or member), focus_indicator, explanation (the team's)."""
        from .teams.outputs import TEAM_COLUMNS

        rows = [(t.school_id, t.school_name, t.team_id, member, name, role, t.focus_indicator, t.explanation)
                for t in self.result.teams
                for member, name, role in zip(t.members, t.member_names or ("",) * len(t.members), t.roles,
                                              strict=True)]
        return pd.DataFrame(rows, columns=list(TEAM_COLUMNS))

    def unassigned_frame(self) -> pd.DataFrame:
        """One row per teacher not in a team, the columns of the teams' unassigned.csv: school_id, school_name,
        teacher_id, teacher_name, reason, code."""
        from .teams.outputs import UNASSIGNED_COLUMNS

        rows = [(u.school_id, u.school_name, u.teacher_id, u.teacher_name, u.reason, u.code)
                for u in self.result.unassigned]
        return pd.DataFrame(rows, columns=list(UNASSIGNED_COLUMNS))

    def write(self, out_dir: str | os.PathLike[str]) -> Path:
        """The files `matcher teams` writes (teams.csv, unassigned.csv, summary.json), published at once."""
        from .teams.outputs import write_teams

        return write_teams(self.result, Path(out_dir))

    def __repr__(self) -> str:
        s = self.summary
        proof = "optimal" if s["optimal"] else "not proven optimal"
        return (f"<Teams: {s['n_teams']:,} teams, {s['n_teachers_in_teams']:,} of {s['n_teachers']:,} teachers in "
                f"teams ({proof})>")


# ---- rollout simulation ----------------------------------------------------------------------------------------

SECTIONS = ("population", "assignment", "takeup", "pairing", "outcome", "analysis", "simulation", "power_curve")


def simulate(design: Design | Settings | None = None, *, teachers: Table | None = None,
             schools: Table | None = None, roster: Table | None = None, replications: int | None = None,
             seed: int | None = None, workers: int = 1, executor: str = "local", scheduler: str | None = None,
             **sections: Mapping[str, Any] | None) -> Simulation:
    """Simulate a randomized rollout of the pairing program, exactly as `matcher simulate` does.

    design: a design file (TOML/JSON, as data/samples/rollout.toml), a Design, or a dict of its sections;
    **sections override it section by section, setting by setting (`assignment={"method": "blocked", "blocks":
    ["district"]}`, `outcome={"effect_target": 0.2}`; a setting or section given as None is removed, e.g.
    `power_curve=None`); teachers, schools, roster: the population as DataFrames or files (in place of the design's
    files); replications, seed: the [simulation] settings; workers, executor, scheduler: as the CLI's.
    """
    from .config_files import read_settings
    from .rollouts.design import Design, design_from_dict, design_to_dict
    from .rollouts.simulate import simulate as run

    problems: list[Problem] = []
    data: dict[str, Any]
    base: Path | None
    with _sources() as src:
        if design is None:
            data, source, base = {}, "design", None
        elif isinstance(design, Design):
            data, source, base = design_to_dict(design), design.source, None
        elif isinstance(design, Mapping):
            data, source, base = _plain(design), "design", None
        elif _is_path(design):
            p = Path(design)
            data, source, base = read_settings(p), str(p), p.resolve().parent  # paths inside: from its folder
        else:
            raise TypeError(f"design: expected a design file, a Design or a dict of sections, not "
                            f"{type(design).__name__}")
        simulation = {k: v for k, v in (("replications", replications), ("seed", seed)) if v is not None}
        if simulation:
            sections = {**sections, "simulation": {**(sections.get("simulation") or {}), **simulation}}
        population = {k: src.path(v, k, "DataFrame" if k == "teachers" else f"{k} DataFrame")
                      for k, v in (("teachers", teachers), ("schools", schools), ("roster", roster)) if v is not None}
        if population:
            if teachers is not None:
                sections = {**sections, "population": {"synthetic": None, **(sections.get("population") or {})}}
            sections = {**sections, "population": {**(sections.get("population") or {}),
                                                   **{k: str(v) for k, v in population.items()}}}
        data = _merged(data, _plain(sections))
        _check_workers(workers, problems)
        checked = _collect(problems, design_from_dict, data, source, base)
        if problems:
            raise InputError(problems)
        result = run(checked, executor=executor, workers=int(workers), scheduler=scheduler)
        pop = result.design.population

        def named(path: str | None) -> str | None:
            return None if path is None else src.rename(path)

        shown = dataclasses.replace(pop, teachers=named(pop.teachers), schools=named(pop.schools),
                                    roster=named(pop.roster))
        result = dataclasses.replace(result, design=result.design.replace(population=shown),
                                     summary=src.renamed(result.summary))
    return Simulation(result)


def _merged(data: dict[str, Any], sections: dict[str, Any]) -> dict[str, Any]:
    """The design's sections with `sections` over them, setting by setting; None removes a section or setting."""
    out = dict(data)
    for name, section in sections.items():
        if section is None:
            out.pop(name, None)
        elif isinstance(section, dict) and isinstance(out.get(name), dict):
            merged = {**out[name], **section}
            out[name] = {k: v for k, v in merged.items() if v is not None}
        elif isinstance(section, dict):
            out[name] = {k: v for k, v in section.items() if v is not None}
        else:  # not a table: the design reader says so
            out[name] = section
    return out


@dataclass(frozen=True, eq=False)
class Simulation:
    """What `simulate` returns. `result` is the library's RolloutResult (design, assignment, balance,
    replications, summary, power_curve)."""

    result: RolloutResult

    @property
    def summary(self) -> dict[str, Any]:
        """summary.json's content: per estimator every diagnosand with its Monte Carlo SE, scales, analytic, ..."""
        return self.result.summary

    @property
    def design(self) -> Design:
        return self.result.design

    def assignment_frame(self) -> pd.DataFrame:
        """The first replication's draw (assignment.csv): unit, block, arm, implements, and the balance
        covariates."""
        return self.result.assignment.copy()

    def balance_frame(self) -> pd.DataFrame:
        """That draw's balance (balance.csv): covariate, mean_treated, mean_control, smd, threshold,
        within_threshold."""
        return self.result.balance.copy()

    def replications_frame(self) -> pd.DataFrame:
        """One row per replication and estimator (replications.csv): replication, estimator, estimand, truth,
        estimate, se, df, p_value, ci_low, ci_high, ri_p_value, ri_ci_low, ri_ci_high, treated_units, draws,
        max_abs_smd, targets_in_treated_arm, targets_paired, paired_target_share."""
        return self.result.replications.copy()

    def diagnosands_frame(self) -> pd.DataFrame:
        """One row per estimator: estimator, estimand, inference, replications, truth_mean, mean_estimate, each
        diagnosand (bias, rmse, power, coverage, mean_se, sd_estimate, type_s_rate, exaggeration_ratio, mdes) with
        its Monte Carlo SE (bias_mc_se, ...), mdes_effect_target, analytic_mdes and analytic_power where the summary
        gives them, and randomization inference's power and coverage (ri_power, ri_coverage, ...) when computed."""
        rows = []
        for name, oc in self.summary["estimators"].items():
            row: dict[str, Any] = {"estimator": name}
            for key, value in oc.items():
                if isinstance(value, dict):
                    row.update({f"ri_{k}": v for k, v in value.items()} if key == "randomization" else {})
                elif not isinstance(value, list):
                    row[key] = value
            rows.append(row)
        frame = pd.DataFrame(rows)
        for c in frame.columns:  # a diagnosand the summary gives as None (no significant replication) is NaN
            if frame[c].dtype == object and all(v is None or isinstance(v, int | float) and not isinstance(v, bool)
                                                for v in frame[c]):
                frame[c] = frame[c].astype(float)
        return frame

    def power_curve_frame(self) -> pd.DataFrame | None:
        """The power curve (power_curve.csv): one row per point and estimator, with power and its Monte Carlo SE;
        None when the design has no [power_curve]."""
        return None if self.result.power_curve is None else self.result.power_curve.copy()

    def write(self, out_dir: str | os.PathLike[str]) -> Path:
        """The files `matcher simulate` writes (assignment.csv, balance.csv, replications.csv, summary.json, and
        power_curve.csv and .png with a power curve), published into out_dir at once."""
        from .rollouts.outputs import write_rollout

        return write_rollout(self.result, Path(out_dir))

    def __repr__(self) -> str:
        s = self.summary
        power = ", ".join(f"{name} {oc['power']:.2f}" for name, oc in s["estimators"].items() if "power" in oc)
        return (f"<Simulation: {self.result.design.replications:,} replications, {s['population']['schools']:,} "
                f"schools; power: {power or 'not computed'}>")
