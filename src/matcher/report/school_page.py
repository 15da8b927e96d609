"""One self-contained HTML page per school that a principal can read: each pair, the indicators each teacher
can support the other in with both scores, the suggested focus, and everyone left without a pair and why.

Teachers and schools are named as people know them (the table's labels), everything from the input is escaped,
and a colleague at another school (a cross-school pair) is named but their scores are never shown. Each pair links
its handout for the two teachers (report.handouts): in the CLI's folder by default, elsewhere as the caller's
`handout_link` builds it (the API's routes)."""

from __future__ import annotations

from html import escape

from ..pairing.explain import label
from ..pairing.result import Pair, PairingResult, Unmatched
from .handouts import LinkBuilder, cli_link
from .html import document
from .labels import PageLabels
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


class _Scores(dict[float, str]):
    """A score as a cell shows it when it counts one observation, by its value: the few values scores take are
    formatted once each."""

    def __missing__(self, x: float) -> str:
        if x != x:  # not kept: every NaN is a key of its own
            return "not observed"
        text = f"{x:.2f}"
        if x:  # 0.0 and -0.0 are one key, but read "0.00" and "-0.00"
            self[x] = text
        return text


class SchoolPages:
    """Renders the school pages of one result. What every page shares (the run's sentence on the rubric and the
    areas, the value wordings, each teacher's escaped label and scores) is worked out once, as a statewide run
    writes 1,800 pages over ~30,000 pairs."""

    def __init__(self, result: PairingResult, labels: PageLabels | None = None):
        self.result = result
        t = self.t = result.teachers
        s = result.summary
        self.labels = labels or PageLabels(t)
        self.index = t.index
        self.col = {c: j for j, c in enumerate(t.rubric.indicators)}
        # Indicator names are validated as [A-Za-z0-9_] (rubric.py), so they need no escaping.
        self.ind_label = {c: label(c) for c in t.rubric.indicators}
        # A score cell is a number and these words: only the aggregate's name (checked, but escaped all the same)
        # could need escaping.
        self.observations = f" ({escape(t.aggregate)} of "
        mode = "one-way (partner supports target)" if s.get("mode") == "one_way" else "mutual"
        self.meta = (f" suggested pairs ({mode}). Rubric: {escape(str(s.get('rubric')))}; "
                     f"{escape(areas_rule(result.policy, s.get('weak_below'), s.get('strong_at_least')))}.")
        self.several = t.several_observations
        self._values: dict[float, str] = {}
        self._focus: dict[str, str] = {}
        self._score = _Scores()

    def _value(self, value: float) -> str:
        got = self._values.get(value)
        if got is None:
            got = escape(value_counts(value, self.result.policy))
            if value:  # 0.0 and -0.0 are one key, but read "0" and "-0"
                self._values[value] = got
        return got

    def _cell(self, x: float, n: int) -> str:
        if x != x:
            return "not observed"
        if n <= 1:
            return f"{x:.2f}"
        return f"{x:.2f}{self.observations}{int(n)} observations)"

    def _usual_table(self, h: str, lrn: str, hs: list[float], ls: list[float], inds: tuple[str, ...]) -> str:
        """_areas_table when both teachers are at this school and no score counts several observations (hs, ls:
        their scores)."""
        col, ind_label, score = self.col, self.ind_label, self._score
        rows = "".join([f"<tr><td>{ind_label[x]}</td><td class=reinforce>{score[hs[col[x]]]}</td>"
                        f"<td class=refine>{score[ls[col[x]]]}</td></tr>" for x in inds])
        return (f"<p>{h} can support {lrn} in:</p><table><tr><th>indicator</th><th>{h} (reinforcement area)</th>"
                f"<th>{lrn} (refinement area)</th></tr>{rows}</table>")

    def _areas_table(self, h: str, lrn: str, helper: tuple[int, bool], learner: tuple[int, bool],
                     inds: tuple[str, ...]) -> str:
        """The indicators the helper (escaped label h) can support the learner (lrn) in, with the scores of this
        school's teachers (helper, learner: the row, and whether they are at this school): a colleague at another
        school (a cross-school pair) is named, their scores are not shown."""
        if not inds:
            return ""
        col, ind_label = self.col, self.ind_label
        shown = [(i, cls, name, what) for (i, here), cls, name, what in (
            (helper, "reinforce", h, "reinforcement area"), (learner, "refine", lrn, "refinement area")) if here]
        head = "".join([f"<th>{name} ({what})</th>" for _, _, name, what in shown])
        cells = [(cls, self.t.scores[i].tolist(), self.t.n_obs[i].tolist()) for i, cls, _, _ in shown]
        cell = self._cell
        rows = "".join([f"<tr><td>{ind_label[x]}</td>"
                        + "".join([f"<td class={cls}>{cell(xs[col[x]], ns[col[x]])}</td>" for cls, xs, ns in cells])
                        + "</tr>" for x in inds])
        return f"<p>{h} can support {lrn} in:</p><table><tr><th>indicator</th>{head}</tr>{rows}</table>"

    def render(self, school_id: str, pairs: list[Pair], unmatched: list[Unmatched], n_teachers: int,
               handout_link: LinkBuilder = cli_link) -> str:
        """The school's page (render_school)."""
        t, index, labels = self.t, self.index, self.labels
        school_of, of, scores = labels.school_of, labels.of, t.scores
        table, usual = self._areas_table, self._usual_table
        school = labels.school(school_id)
        cards = []
        for p in pairs:
            ia, ib = index.get(p.teacher_a, -1), index.get(p.teacher_b, -1)
            a = of(ia) if ia >= 0 else escape(p.teacher_a_name or p.teacher_a)
            b = of(ib) if ib >= 0 else escape(p.teacher_b_name or p.teacher_b)
            here_a, here_b = ia >= 0 and school_of[ia] == school_id, ib >= 0 and school_of[ib] == school_id
            other = (p.school_b if p.school_id == school_id else p.school_id) if p.school_b else ""
            where = f" (with a teacher at {labels.school(other)})" if other else ""
            if p.focus_indicator:
                focus = self._focus.get(p.focus_indicator)
                if focus is None:
                    focus = self._focus[p.focus_indicator] = (
                        f"<p class=focus>Suggested focus: {escape(label(p.focus_indicator))}</p>")
            else:
                focus = ""
            value = self._values.get(p.value) or self._value(p.value)
            ab, ba = p.a_helps_b, p.b_helps_a
            if not (ab or ba):
                tables = ""
            elif here_a and here_b and not self.several:
                sa, sb = scores[ia].tolist(), scores[ib].tolist()
                tables = ((usual(a, b, sa, sb, ab) if ab else "") + (usual(b, a, sb, sa, ba) if ba else ""))
            else:
                tables = (table(a, b, (ia, here_a), (ib, here_b), ab) + table(b, a, (ib, here_b), (ia, here_a), ba))
            cards.append(
                f"<section class=pair><h2>{a} &amp; {b}{where}<span class=value>{value}</span></h2>{tables}"
                f"{focus}<p class=note>{escape(p.explanation)}</p>"
                f"<p class=handout><a href=\"{escape(handout_link(school_id, p))}\">Handout for {a} &amp; {b}</a> "
                "(one page to give the two teachers)</p></section>")
        if unmatched:
            left = ("<h2>Teachers without a suggested pair</h2><table><tr><th>teacher</th><th>why</th></tr>"
                    + "".join([f"<tr><td>{labels.teacher(u.teacher_id, u.teacher_name)}</td>"
                               f"<td>{escape(u.reason)}</td></tr>" for u in unmatched])
                    + "</table>")
        else:
            left = "<p>Every teacher has a suggested pair.</p>"
        several = ""
        if self.several:
            # Judged on this school's own teachers only, so the page reads the same from a statewide table (the
            # CLI) and from the school's stored roster (the API).
            own = [index[x] for p in pairs for x in (p.teacher_a, p.teacher_b) if x in index
                   and school_of[index[x]] == school_id] + [index[u.teacher_id] for u in unmatched
                                                            if u.teacher_id in index]
            if own and t.n_obs[own].max() > 1:
                several = (f" A score is the {t.aggregate} of the teacher's observations of that indicator; where "
                           "there was more than one, their number is shown.")
        return document(
            f"Suggested pairs: {school}", _CSS,
            f"<h1>Suggested teacher pairs for {school}</h1>"
            f"<p class=meta>{n_teachers} teachers, {len(pairs)}{self.meta}{several} "
            "Pairs are suggestions for you to review; participation is voluntary.</p>"
            + "".join(cards) + left)


def render_school(result: PairingResult, school_id: str, pairs: list[Pair], unmatched: list[Unmatched],
                  n_teachers: int, handout_link: LinkBuilder = cli_link) -> str:
    """The school's page. handout_link(school_id, pair) -> the href of the pair's handout (keys only, so nothing
    from the input but escaped anyway): relative in the CLI's folder, an API route in the API's report.html."""
    return SchoolPages(result).render(school_id, pairs, unmatched, n_teachers, handout_link)
