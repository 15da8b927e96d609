"""Plain-language reasons: why a pair was suggested, and why a teacher was left without one.

Wording follows what made pairs work in the IPI interviews: say which indicators and whose strength, frame it
as mutual reinforcement and refinement, never label anyone "the weak one". People are named as principals know
them (table.labels: the name, or the id when no name was given). A pair across schools is read by both schools'
principals, so its explanation gives the indicators and the two schools only: no scores, subjects or grades. A
reason for a teacher left out never names a teacher of another school ("a teacher at <school>").

Reinforcement and refinement areas are the policy's (`areas`): score thresholds, each teacher's own highest and
lowest scores, or the areas the file names. A reason says only what holds under the policy in force: "between 3
and 4" only under thresholds; the point gap only where the policy asks for one (relative, designated). A score
that was not observed (a designated area without a score) reads "not observed", never as a number.
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


def label(indicator: str) -> str:
    """How an indicator reads in a sentence: questioning, academic feedback, ..."""
    return indicator.replace("_", " ")


def _score(x: float) -> str:
    return "not observed" if x != x else f"{x:.2f}"


def _support_rule(scoring: Scoring) -> str:
    """What supporting a colleague on an indicator takes under relative or designated areas."""
    gap = scoring.min_gap or 0.0
    higher = f"scored at least {gap:g} point{'s' if gap != 1 else ''} higher" if gap > 0 else \
        "scored at least as high"
    if scoring.areas == "designated":
        return ("a pair needs an indicator named as a reinforcement area of one teacher and a refinement area of the "
                f"other, {higher} where both are scored")
    k = scoring.areas_per_teacher or 0
    return f"a pair needs an indicator among one teacher's {k} highest scores and the other's {k} lowest, {higher}"


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
    labels = [label(x) for x in inds]
    s = table.scores
    sa, sb = s[a], s[b]
    cov_ab = scoring.counted(s, a, b) & allow_ab[:, None]
    cov_ba = scoring.counted(s, b, a) & allow_ba[:, None]
    if one_way:
        cov_ba[:] = False
    with np.errstate(invalid="ignore"):
        d_ab = sa - sb
        if scoring.areas == "designated":  # a covered area without both scores ranks as a gap of 0 for the focus
            d_ab = np.nan_to_num(d_ab)
        gap_ab = np.where(cov_ab, scoring.weights * d_ab, -np.inf)
        gap_ba = np.where(cov_ba, scoring.weights * -d_ab, -np.inf)
    best = np.maximum(gap_ab, gap_ba)
    focus_j = best.argmax(axis=1)
    rows = np.arange(len(a))
    has_focus = np.isfinite(best[rows, focus_j])
    focus_ab = gap_ab[rows, focus_j] >= gap_ba[rows, focus_j]
    names, schools, subj, grades = table.labels, table.school_id, table.subject, table.grades_text
    # One nonzero() per direction, then per-pair slices: far cheaper than a numpy call per pair.
    r_ab, c_ab = np.nonzero(cov_ab)
    r_ba, c_ba = np.nonzero(cov_ba)
    cut_ab = np.searchsorted(r_ab, np.arange(len(a) + 1)).tolist()
    cut_ba = np.searchsorted(r_ba, np.arange(len(a) + 1)).tolist()
    c_ab_l, c_ba_l = c_ab.tolist(), c_ba.tolist()
    sa_l, sb_l = sa.tolist(), sb.tolist()
    a_l, b_l = a.tolist(), b.tolist()
    focus_l, has_l, fab_l = focus_j.tolist(), has_focus.tolist(), focus_ab.tolist()
    # Only a designated area can be covered without both scores; other pairs skip the "not observed" check.
    has_nan = (((cov_ab | cov_ba) & (np.isnan(sa) | np.isnan(sb))).any(axis=1) if scoring.areas == "designated"
               else np.zeros(len(a), dtype=bool)).tolist()
    out = []
    for i in range(len(a_l)):
        x, y = a_l[i], b_l[i]
        tx, ty = names[x], names[y]
        jab = c_ab_l[cut_ab[i]:cut_ab[i + 1]]
        jba = c_ba_l[cut_ba[i]:cut_ba[i + 1]]
        sx, sy = sa_l[i], sb_l[i]
        cross = schools[x] != schools[y]
        parts = []
        if cross:
            parts.append(f"{tx} teaches at {table.school_label(schools[x])}, "
                         f"{ty} at {table.school_label(schools[y])}.")
            ab = ", ".join([labels[j] for j in jab])
            ba = ", ".join([labels[j] for j in jba])
        else:
            if has_nan[i]:  # a designated area without a score on one side
                ab = ", ".join([f"{labels[j]} ({tx} {_score(sx[j])}, {ty} {_score(sy[j])})" for j in jab])
                ba = ", ".join([f"{labels[j]} ({ty} {_score(sy[j])}, {tx} {_score(sx[j])})" for j in jba])
            else:
                ab = ", ".join([f"{labels[j]} ({tx} {sx[j]:.2f}, {ty} {sy[j]:.2f})" for j in jab])
                ba = ", ".join([f"{labels[j]} ({ty} {sy[j]:.2f}, {tx} {sx[j]:.2f})" for j in jba])
        if one_way:
            parts.append(f"{tx}'s reinforcement areas match {ty}'s refinement areas: {ab}.")
        else:
            if jab and jba:
                parts.append(f"{tx} and {ty} can learn from each other.")
            if jab:
                parts.append(f"{tx} can support {ty} in {ab}.")
            if jba:
                parts.append(f"{ty} can support {tx} in {ba}.")
        focus = ""
        if has_l[i]:
            focus = inds[focus_l[i]]
            helper, learner = (tx, ty) if fab_l[i] else (ty, tx)
            parts.append(f"Suggested focus: {labels[focus_l[i]]} (a reinforcement area for {helper}, "
                         f"a refinement area for {learner}).")
        if not cross:
            if subj[x] == subj[y] and subj[x]:
                parts.append(f"Same subject ({subj[x]}).")
            else:
                parts.append(f"Subjects: {subj[x] or 'unknown'} and {subj[y] or 'unknown'}.")
            gx, gy = grades[x], grades[y]
            parts.append(f"Both teach grade(s) {gx}." if gx == gy and gx else
                         f"Grades: {gx or 'unknown'} and {gy or 'unknown'}.")
        if notes[i]:
            parts.append(notes[i])
        out.append(PairText(tuple([inds[j] for j in jab]), tuple([inds[j] for j in jba]), focus, " ".join(parts)))
    return out


def _colleague(table: TeacherTable, reader: int, other: int) -> str:
    """How the reason for teacher `reader` names teacher `other`: by name within their school; a pool that spans
    schools (scope district or all, the cross-school fallback) names only the other teacher's school, since the
    reason is read by the reader's principal."""
    school = table.school_id[other]
    return str(table.labels[other]) if school == table.school_id[reader] else \
        f"a teacher at {table.school_label(str(school))}"


def unmatched_reasons(table: TeacherTable, scoring: Scoring, group: Group, left: list[int], respect_opt_out: bool,
                      partner_of: dict[int, int], pair_value: dict[int, float]) -> dict[int, tuple[str, str]]:
    """teacher index -> (code, sentence) for the group members at local positions `left`, who have no pair.

    The checks go from the most basic (opted out, no scores) to the most specific (every partner taken), and the
    first that applies is the reason. The matrices are reduced once for all of `left`.
    """
    out: dict[int, tuple[str, str]] = {}
    if not left:
        return out
    inds = table.rubric.indicators
    loc = np.array(left)
    glob = group.members[loc]
    useful = (group.help[:, loc] > 0).T | (group.help[loc, :] > 0)
    any_useful = useful.any(axis=1)
    raw_useful = ((group.help_raw[:, loc] > 0).T | (group.help_raw[loc, :] > 0)).any(axis=1)
    allowed = group.allowed[loc] & useful
    any_allowed = allowed.any(axis=1)
    value = group.help[loc, :] + group.help[:, loc].T
    no_scores = np.isnan(table.scores[glob]).all(axis=1)
    weak_any, strong_any = scoring.weak[glob].any(axis=1), scoring.strong[glob].any(axis=1)
    thresholds = scoring.areas == "thresholds"
    designated = scoring.areas == "designated"
    for k, (i, t) in enumerate(zip(loc.tolist(), glob.tolist(), strict=True)):
        has_areas = weak_any[k] or strong_any[k]
        if respect_opt_out and table.opt_out[t]:
            out[t] = ("opted_out", "Opted out of the program.")
        elif no_scores[k] and not (designated and has_areas):
            out[t] = ("no_scores", "No observation scores on file.")
        elif not has_areas:
            if thresholds:
                out[t] = ("no_areas", "No refinement or reinforcement area: every observed score lies between "
                                      f"{scoring.weak_below:g} and {scoring.strong_at_least:g}.")
            elif designated:
                out[t] = ("no_areas", "No reinforcement or refinement area is named for them in the teachers file "
                                      "(columns reinforcement_areas and refinement_areas).")
            else:
                out[t] = ("no_areas", "No refinement or reinforcement area among their observed scores.")
        elif len(group.members) == 1:
            out[t] = ("no_helper", "The only teacher in this pool, so there is nobody to pair with.")
        elif not any_useful[k]:
            refine = ", ".join(label(inds[j]) for j in np.flatnonzero(scoring.weak[t]))
            if raw_useful[k]:
                out[t] = ("ruled_out", "Every colleague who could pair with them is much less experienced, and "
                                       "the policy avoids a junior colleague supporting a senior one.")
            elif not thresholds:
                reinforce = ", ".join(label(inds[j]) for j in np.flatnonzero(scoring.strong[t]))
                if weak_any[k] and strong_any[k]:
                    what = (f"No colleague can support them in their refinement areas ({refine}), and they can "
                            f"support no colleague in their reinforcement areas ({reinforce})")
                elif weak_any[k]:
                    what = f"No colleague can support them in their refinement areas ({refine})"
                else:
                    what = (f"No refinement area is named for them, and they can support no colleague in their "
                            f"reinforcement areas ({reinforce})")
                out[t] = ("no_helper", f"{what}: {_support_rule(scoring)}.")
            elif weak_any[k] and strong_any[k]:
                out[t] = ("no_helper", f"No colleague is strong in their refinement areas ({refine}), and no "
                                       "colleague has a refinement area among their reinforcement areas.")
            elif weak_any[k]:
                out[t] = ("no_helper", f"No colleague is strong in their refinement areas ({refine}).")
            else:
                out[t] = ("no_helper", "No refinement area, and no colleague has a refinement area among their "
                                       "reinforcement areas.")
        elif not any_allowed[k]:
            counts = [(r, int(group.refused[r][i].sum())) for r in RULES if r in group.refused]
            why = "; ".join(f"{_RULE_WORDS[r]}: {c}" for r, c in counts if c)
            out[t] = ("ruled_out", f"Every colleague they could pair with is ruled out by the policy ({why}).")
        else:
            cand = np.flatnonzero(allowed[k])
            best = cand[np.argsort(-value[k, cand], kind="stable")[:2]].tolist()
            shown = []
            for c in best:
                other = int(group.members[c])
                v = value[k, c] / scoring.scale
                mate = partner_of.get(other)
                if mate is None:
                    shown.append(f"{_colleague(table, t, other)} (value {v:g}) supports targets already")
                else:
                    shown.append(f"{_colleague(table, t, other)} (value {v:g}) is paired with "
                                 f"{_colleague(table, t, mate)} (value {pair_value[other]:g})")
            out[t] = ("taken", "Every possible partner is taken by a pairing worth as much or more to the school: "
                               + "; ".join(shown) + ".")
    return out
