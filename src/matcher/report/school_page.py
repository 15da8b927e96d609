"""One self-contained HTML page per school that a principal can read: each pair, the indicators each teacher
can support the other in with both scores, the suggested focus, and everyone left without a pair and why."""

from __future__ import annotations

from html import escape

from ..pairing.explain import label
from ..pairing.result import Pair, PairingResult, Unmatched

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:60rem;
color:#1d2733;line-height:1.45;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}.meta{color:#566;margin-top:0}
.pair{border:1px solid #cfd8e3;border-radius:8px;padding:1rem;margin:1rem 0}
.pair h2{font-size:1.1rem;margin:0 0 .4rem}.value{float:right;color:#345}
table{border-collapse:collapse;margin:.4rem 0}
td,th{padding:.15rem .6rem;text-align:left;border-bottom:1px solid #e6ebf1}
th{font-weight:600}.refine{background:#fdf1e3}.reinforce{background:#e5f4ea}
.focus{font-weight:600}.note{color:#445}
"""


def _score(x: float) -> str:
    return "not observed" if x != x else f"{x:.2f}"


def _areas_table(result: PairingResult, helper: str, learner: str, inds: tuple[str, ...]) -> str:
    if not inds:
        return ""
    t = result.teachers
    sh, sl = t.scores[t.index[helper]], t.scores[t.index[learner]]
    col = _columns(result)
    h, lrn = escape(helper), escape(learner)
    rows = "".join(f"<tr><td>{label(i)}</td><td class=reinforce>{_score(sh[col[i]])}</td>"
                   f"<td class=refine>{_score(sl[col[i]])}</td></tr>" for i in inds)
    return (f"<p>{h} can support {lrn} in:</p><table><tr><th>indicator</th>"
            f"<th>{h} (reinforcement area)</th><th>{lrn} (refinement area)</th></tr>{rows}</table>")


def _columns(result: PairingResult) -> dict[str, int]:
    # Indicator names are validated as [A-Za-z0-9_] (rubric.py), so they need no escaping.
    return {c: j for j, c in enumerate(result.teachers.rubric.indicators)}


def render_school(result: PairingResult, school_id: str, pairs: list[Pair], unmatched: list[Unmatched],
                  n_teachers: int) -> str:
    s = result.summary
    cards = []
    for p in pairs:
        where = f" (with {escape(p.school_b)})" if p.school_b else ""
        cards.append(
            f"<section class=pair><h2>{escape(p.teacher_a)} &amp; {escape(p.teacher_b)}{where}"
            f"<span class=value>value {p.value:g}</span></h2>"
            + _areas_table(result, p.teacher_a, p.teacher_b, p.a_helps_b)
            + _areas_table(result, p.teacher_b, p.teacher_a, p.b_helps_a)
            + (f"<p class=focus>Suggested focus: {escape(label(p.focus_indicator))}</p>" if p.focus_indicator
               else "")
            + f"<p class=note>{escape(p.explanation)}</p></section>")
    if unmatched:
        rows = "".join(f"<tr><td>{escape(u.teacher_id)}</td><td>{escape(u.reason)}</td></tr>" for u in unmatched)
        left = f"<h2>Teachers without a suggested pair</h2><table><tr><th>teacher</th><th>why</th></tr>{rows}</table>"
    else:
        left = "<p>Every teacher has a suggested pair.</p>"
    mode = "one-way (partner supports target)" if s.get("mode") == "one_way" else "mutual"
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>Suggested pairs: {escape(school_id)}</title><style>{_CSS}</style></head><body>"
        f"<h1>Suggested teacher pairs for {escape(school_id)}</h1>"
        f"<p class=meta>{n_teachers} teachers, {len(pairs)} suggested pairs ({mode}). Rubric: "
        f"{escape(str(s.get('rubric')))}; a refinement area is a score below {s.get('weak_below'):g}, "
        f"a reinforcement area a score of {s.get('strong_at_least'):g} or above. Pairs are suggestions for you to "
        "review; participation is voluntary.</p>"
        + "".join(cards) + left + "</body></html>\n")
