"""One self-contained HTML page per school that a principal can read: each pair, the indicators each teacher
can support the other in with both scores, the suggested focus, and everyone left without a pair and why.

Teachers and schools are named as people know them (the table's labels), everything from the input is escaped,
and a colleague at another school (a cross-school pair) is named but their scores are never shown. Each pair links
its handout for the two teachers (report.handouts): in the CLI's folder by default, elsewhere as the caller's
`handout_link` builds it (the API's routes)."""

from __future__ import annotations

from html import escape

from ..io.table import TeacherTable
from ..pairing.explain import label
from ..pairing.result import Pair, PairingResult, Unmatched
from .handouts import LinkBuilder, cli_link
from .html import document
from .wording import areas_rule, value_counts

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:60rem;
color:#1d2733;line-height:1.45;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}.meta{color:#566;margin-top:0}
.pair{border:1px solid #cfd8e3;border-radius:8px;padding:1rem;margin:1rem 0}
.pair h2{font-size:1.1rem;margin:0 0 .4rem}.value{float:right;color:#345;font-size:.9rem;font-weight:400}
table{border-collapse:collapse;margin:.4rem 0}
td,th{padding:.15rem .6rem;text-align:left;border-bottom:1px solid #e6ebf1}
th{font-weight:600}.refine{background:#fdf1e3}.reinforce{background:#e5f4ea}
.focus{font-weight:600}.note{color:#445}.handout{margin:.4rem 0 0}
"""


def _score(x: float, n: int, aggregate: str) -> str:
    if x != x:
        return "not observed"
    if n <= 1:
        return f"{x:.2f}"
    return f"{x:.2f} ({aggregate} of {n} observations)"


def _areas_table(t: TeacherTable, school_id: str, helper: str, learner: str, names: tuple[str, str],
                 inds: tuple[str, ...]) -> str:
    """The indicators `helper` can support `learner` in, with the scores of this school's teachers: a colleague
    at another school (a cross-school pair) is named, their scores are not shown."""
    if not inds:
        return ""
    col = _columns(t)
    h, lrn = escape(names[0]), escape(names[1])
    shown = [(t.index[who], cls, what) for who, cls, what in ((helper, "reinforce", "reinforcement area"),
                                                              (learner, "refine", "refinement area"))
             if who in t.index and t.school_id[t.index[who]] == school_id]
    head = "".join(f"<th>{escape(str(t.labels[i]))} ({what})</th>" for i, _, what in shown)
    rows = "".join(f"<tr><td>{label(ind)}</td>"
                   + "".join(f"<td class={cls}>{_cell(t, i, col[ind])}</td>" for i, cls, _ in shown) + "</tr>"
                   for ind in inds)
    return f"<p>{h} can support {lrn} in:</p><table><tr><th>indicator</th>{head}</tr>{rows}</table>"


def _cell(t: TeacherTable, i: int, j: int) -> str:
    return escape(_score(float(t.scores[i, j]), int(t.n_obs[i, j]), t.aggregate))


def _columns(t: TeacherTable) -> dict[str, int]:
    # Indicator names are validated as [A-Za-z0-9_] (rubric.py), so they need no escaping.
    return {c: j for j, c in enumerate(t.rubric.indicators)}


def render_school(result: PairingResult, school_id: str, pairs: list[Pair], unmatched: list[Unmatched],
                  n_teachers: int, handout_link: LinkBuilder = cli_link) -> str:
    """The school's page. handout_link(school_id, pair) -> the href of the pair's handout (keys only, so nothing
    from the input but escaped anyway): relative in the CLI's folder, an API route in the API's report.html."""
    s = result.summary
    t = result.teachers
    school = escape(t.school_label(school_id))
    cards = []
    for p in pairs:
        a, b = t.teacher_label(p.teacher_a, p.teacher_a_name), t.teacher_label(p.teacher_b, p.teacher_b_name)
        other = (p.school_b if p.school_id == school_id else p.school_id) if p.school_b else ""
        where = f" (with a teacher at {escape(t.school_label(other))})" if other else ""
        cards.append(
            f"<section class=pair><h2>{escape(a)} &amp; {escape(b)}{where}"
            f"<span class=value>{escape(value_counts(p.value, result.policy))}</span></h2>"
            + _areas_table(t, school_id, p.teacher_a, p.teacher_b, (a, b), p.a_helps_b)
            + _areas_table(t, school_id, p.teacher_b, p.teacher_a, (b, a), p.b_helps_a)
            + (f"<p class=focus>Suggested focus: {escape(label(p.focus_indicator))}</p>" if p.focus_indicator
               else "")
            + f"<p class=note>{escape(p.explanation)}</p>"
            f"<p class=handout><a href=\"{escape(handout_link(school_id, p))}\">Handout for {escape(a)} &amp; "
            f"{escape(b)}</a> (one page to give the two teachers)</p></section>")
    if unmatched:
        rows = "".join(f"<tr><td>{escape(t.teacher_label(u.teacher_id, u.teacher_name))}</td>"
                       f"<td>{escape(u.reason)}</td></tr>" for u in unmatched)
        left = f"<h2>Teachers without a suggested pair</h2><table><tr><th>teacher</th><th>why</th></tr>{rows}</table>"
    else:
        left = "<p>Every teacher has a suggested pair.</p>"
    mode = "one-way (partner supports target)" if s.get("mode") == "one_way" else "mutual"
    # Judged on this school's own teachers only, so the page reads the same from a statewide table (the CLI) and
    # from the school's stored roster (the API).
    own = [t.index[x] for p in pairs for x in (p.teacher_a, p.teacher_b) if x in t.index
           and t.school_id[t.index[x]] == school_id] + [t.index[u.teacher_id] for u in unmatched
                                                         if u.teacher_id in t.index]
    several = (f" A score is the {t.aggregate} of the teacher's observations of that indicator; where there was "
               "more than one, their number is shown.") if own and t.n_obs[own].max() > 1 else ""
    return document(
        f"Suggested pairs: {school}", _CSS,
        f"<h1>Suggested teacher pairs for {school}</h1>"
        f"<p class=meta>{n_teachers} teachers, {len(pairs)} suggested pairs ({mode}). Rubric: "
        f"{escape(str(s.get('rubric')))}; "
        f"{escape(areas_rule(result.policy, s.get('weak_below'), s.get('strong_at_least')))}.{several} "
        "Pairs are suggestions "
        "for you to review; participation is voluntary.</p>"
        + "".join(cards) + left)
