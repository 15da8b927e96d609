"""OR-Tools CP-SAT integer programs: one-way star packing, and matching as an independent exact check."""

from __future__ import annotations

import numpy as np
from ortools.sat.python import cp_model

from ...errors import SolverError


def _solve(model: cp_model.CpModel, what: str, time_limit: float | None = None) -> tuple[cp_model.CpSolver, bool]:
    """(solver, proven optimal). With a time limit, a feasible but unproven answer is returned as such."""
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1  # deterministic; schools are many and small
    solver.parameters.cp_model_presolve = False  # measured: presolve costs more than it saves on school models
    if time_limit is not None:
        solver.parameters.max_time_in_seconds = time_limit
    status = solver.solve(model)
    if status == cp_model.OPTIMAL:
        return solver, True
    if status == cp_model.FEASIBLE:
        return solver, False
    raise SolverError(f"CP-SAT found no {what} (status {solver.status_name(status)})")


def solve_matching(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{i}") for i in range(len(u))]
    incident: list[list[int]] = [[] for _ in range(n)]
    for i, (a, b) in enumerate(zip(u.tolist(), v.tolist(), strict=True)):
        incident[a].append(i)
        incident[b].append(i)
    for edges in incident:
        if len(edges) > 1:
            model.add_at_most_one(x[i] for i in edges)
    model.maximize(cp_model.LinearExpr.weighted_sum(x, [int(c) for c in w]))
    solver, proven = _solve(model, "matching")
    if not proven:
        raise SolverError("CP-SAT could not prove the matching optimal")
    return np.array([i for i in range(len(x)) if solver.boolean_value(x[i])], dtype=np.int64)


def solve_star_packing(n: int, p: np.ndarray, t: np.ndarray, w: np.ndarray, k: int,
                       fixed: np.ndarray, time_limit: float | None = None,
                       hint: np.ndarray | None = None) -> tuple[np.ndarray, bool]:
    """Arcs p->t; each target at most one partner, each partner at most k targets, no teacher in both roles."""
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{i}") for i in range(len(p))]
    used = np.union1d(p, t)
    partner = {int(a): model.new_bool_var(f"p{a}") for a in np.unique(p)}
    out_arcs: dict[int, list[int]] = {}
    in_arcs: dict[int, list[int]] = {}
    for i, (a, b) in enumerate(zip(p.tolist(), t.tolist(), strict=True)):
        out_arcs.setdefault(a, []).append(i)
        in_arcs.setdefault(b, []).append(i)
    for a in used.tolist():
        outs, ins = out_arcs.get(a, []), in_arcs.get(a, [])
        if outs:
            model.add(sum(x[i] for i in outs) <= k * partner[a])
            for i in outs:
                model.add_implication(x[i], partner[a])
        if ins:
            terms = [x[i] for i in ins] + ([partner[a]] if a in partner else [])
            model.add_at_most_one(terms)
    for i in fixed.tolist():
        model.add(x[i] == 1)
    model.maximize(cp_model.LinearExpr.weighted_sum(x, [int(c) for c in w]))
    if hint is not None:
        hinted = set(hint.tolist())
        for i, var in enumerate(x):
            model.add_hint(var, i in hinted)
        partners_hinted = {int(p[i]) for i in hinted}
        for a, var in partner.items():
            model.add_hint(var, a in partners_hinted)
    try:
        solver, proven = _solve(model, "one-way pairing", time_limit)
    except SolverError:
        if hint is None:
            raise
        return hint, False  # the time limit ran out before CP-SAT reported any solution
    return np.array([i for i in range(len(x)) if solver.boolean_value(x[i])], dtype=np.int64), proven
