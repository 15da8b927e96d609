"""Plain-language reasons: why a pair was suggested, and why a teacher was left without one.

Wording follows what made pairs work in the IPI interviews: say which indicators and whose strength, frame it
as mutual reinforcement and refinement, never label anyone "the weak one".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..io.teachers import TeacherTable
from .model import RULES, Group, Scoring

_RULE_WORDS = {
    "opt_out": "the colleague opted out",
    "do_not_pair": "on the do-not-pair list",
    "subject": "different subject (same subject required)",
    "grade": "no shared grade (same grade required)",
    "grade_distance": "grades too far apart",
    "distance": "schools too far apart",
}


def _label(indicator: str) -> str:
    return indicator.replace("_", " ")


@dataclass(frozen=True)
class PairText:
    a_helps_b: tuple[str, ...]
    b_helps_a: tuple[str, ...]
    focus: str
    text: str


def describe_pairs(table: TeacherTable, scoring: Scoring, a: np.ndarray, b: np.ndarray, one_way: bool,
                   allow_ab: np.ndarray, allow_ba: np.ndarray, notes: list[str]) -> list[PairText]:
    """For each pair (a[i], b[i]): the indicators each teacher can support the other in, both scores, and the
    suggested focus. allow_ab/allow_ba say whether a direction counts (the experience rule may refuse it)."""
    inds = table.rubric.indicators
    labels = [_label(x) for x in inds]
    s = table.scores
    sa, sb = s[a], s[b]
    cov_ab = scoring.strong[a] & scoring.weak[b] & allow_ab[:, None] & (scoring.weights > 0)
    cov_ba = scoring.strong[b] & scoring.weak[a] & allow_ba[:, None] & (scoring.weights > 0)
    if one_way:
        cov_ba[:] = False
    with np.errstate(invalid="ignore"):
        gap_ab = np.where(cov_ab, scoring.weights * (sa - sb), -np.inf)
        gap_ba = np.where(cov_ba, scoring.weights * (sb - sa), -np.inf)
    best = np.maximum(gap_ab, gap_ba)
    focus_j = best.argmax(axis=1)
    rows = np.arange(len(a))
    has_focus = np.isfinite(best[rows, focus_j])
    focus_ab = gap_ab[rows, focus_j] >= gap_ba[rows, focus_j]
    ids, subj, grades = table.teacher_id, table.subject, table.grades_text
    out = []
    for i in range(len(a)):
        x, y = int(a[i]), int(b[i])
        tx, ty = ids[x], ids[y]
        jab = np.flatnonzero(cov_ab[i]).tolist()
        jba = np.flatnonzero(cov_ba[i]).tolist()
        parts = []
        if one_way:
            parts.append(f"{tx}'s reinforcement areas match {ty}'s refinement areas: "
                         + ", ".join(f"{labels[j]} ({tx} {sa[i, j]:.2f}, {ty} {sb[i, j]:.2f})" for j in jab) + ".")
        else:
            if jab and jba:
                parts.append(f"{tx} and {ty} can learn from each other.")
            if jab:
                parts.append(f"{tx} can support {ty} in "
                             + ", ".join(f"{labels[j]} ({tx} {sa[i, j]:.2f}, {ty} {sb[i, j]:.2f})" for j in jab)
                             + ".")
            if jba:
                parts.append(f"{ty} can support {tx} in "
                             + ", ".join(f"{labels[j]} ({ty} {sb[i, j]:.2f}, {tx} {sa[i, j]:.2f})" for j in jba)
                             + ".")
        focus = ""
        if has_focus[i]:
            focus = inds[focus_j[i]]
            helper, learner = (tx, ty) if focus_ab[i] else (ty, tx)
            parts.append(f"Suggested focus: {labels[focus_j[i]]} (a reinforcement area for {helper}, "
                         f"a refinement area for {learner}).")
        if subj[x] == subj[y] and subj[x]:
            parts.append(f"Same subject ({subj[x]}).")
        else:
            parts.append(f"Subjects: {subj[x] or 'unknown'} and {subj[y] or 'unknown'}.")
        gx, gy = grades[x], grades[y]
        parts.append(f"Both teach grade(s) {gx}." if gx == gy and gx else
                     f"Grades: {gx or 'unknown'} and {gy or 'unknown'}.")
        if notes[i]:
            parts.append(notes[i])
        out.append(PairText(tuple(inds[j] for j in jab), tuple(inds[j] for j in jba), focus, " ".join(parts)))
    return out


def unmatched_reason(table: TeacherTable, scoring: Scoring, group: Group, i: int, respect_opt_out: bool,
                     partner_of: dict[int, int], pair_value: dict[int, float], one_way: bool) -> tuple[str, str]:
    """(code, sentence) for member i of the group, who was left without a pair."""
    t = int(group.members[i])
    inds = table.rubric.indicators
    if respect_opt_out and table.opt_out[t]:
        return "opted_out", "Opted out of the program."
    if np.isnan(table.scores[t]).all():
        return "no_scores", "No observation scores on file."
    weak, strong = scoring.weak[t], scoring.strong[t]
    if not weak.any() and not strong.any():
        return "no_areas", ("No refinement or reinforcement area: every observed score lies between "
                            f"{scoring.weak_below:g} and {scoring.strong_at_least:g}.")
    if len(group.members) == 1:
        return "no_helper", "The only teacher in this pool, so there is nobody to pair with."
    useful = (group.help[:, i] > 0) | (group.help[i, :] > 0)
    if not useful.any():
        refine = ", ".join(_label(inds[j]) for j in np.flatnonzero(weak))
        if (group.help_raw[:, i] > 0).any() or (group.help_raw[i, :] > 0).any():
            return "ruled_out", ("Every colleague who could pair with them is much less experienced, and the "
                                 "policy avoids a junior colleague supporting a senior one.")
        if weak.any() and strong.any():
            return "no_helper", (f"No colleague is strong in their refinement areas ({refine}), and no colleague "
                                 "has a refinement area among their reinforcement areas.")
        if weak.any():
            return "no_helper", f"No colleague is strong in their refinement areas ({refine})."
        return "no_helper", ("No refinement area, and no colleague has a refinement area among their "
                             "reinforcement areas.")
    allowed = group.allowed[i] & useful
    if not allowed.any():
        counts = [(r, int(group.refused[r][i].sum())) for r in RULES if r in group.refused]
        why = "; ".join(f"{_RULE_WORDS[r]}: {c}" for r, c in counts if c)
        return "ruled_out", f"Every colleague they could pair with is ruled out by the policy ({why})."
    cand = np.flatnonzero(allowed)
    value = (group.help[i, cand] + group.help[cand, i]) / scoring.scale
    best = cand[np.argsort(-value, kind="stable")[:3]]
    shown = []
    for c in best:
        other = int(group.members[c])
        v = (group.help[i, c] + group.help[c, i]) / scoring.scale
        mate = partner_of.get(other)
        if mate is None:
            shown.append(f"{table.teacher_id[other]} (value {v:g}) supports targets already")
        else:
            shown.append(f"{table.teacher_id[other]} (value {v:g}) is paired with {table.teacher_id[mate]} "
                         f"(value {pair_value[other]:g})")
    return "taken", ("Every possible partner is taken by a pairing worth as much or more to the school: "
                     + "; ".join(shown) + ".")
