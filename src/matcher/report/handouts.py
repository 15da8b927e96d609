"""One self-contained page per pair, for the two teachers: who they are, what each brings to the other, the
suggested focus and the first steps, printable on one page (A4 or Letter).

What made IPI pairs work (PRODUCT.md): teachers told *why* they were paired, in a reciprocal "reinforcement and
refinement" frame, with nobody labelled. So the words are the same for both teachers whatever the mode, the page
names only its two teachers (and, for a pair across schools, both schools), shows no score unless asked, and never
shows a score of the other school's teacher. Everything from the input is escaped.

Files: handouts/<school key>/<pair key>.html, the school key from io.file_keys and the pair key from
`handout_key`; a pair across schools has its page in both schools' folders.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from functools import lru_cache
from html import escape

import numpy as np

from ..io.file_keys import file_key
from ..io.table import TeacherTable
from ..pairing.explain import label
from ..pairing.model import build_scoring
from ..pairing.result import Pair
from ..policy import Policy
from .html import PRINT_CSS, and_list, document
from .labels import PageLabels
from .wording import value_counts

# The page's only style block. It is constant (nothing from the input), so a content security policy may allow it
# by its hash where the page is shown from a blob: address of the web page.
CSS = PRINT_CSS + """
.tables{display:grid;grid-template-columns:repeat(auto-fit,minmax(14rem,1fr));gap:0 1.2rem;align-items:start}
.scores{border-collapse:collapse;margin:.3rem 0;font-size:.85rem;width:100%}
.scores td,.scores th{padding:.05rem .5rem;text-align:left;border-bottom:1px solid #e1e7ee}
.write{display:flex;gap:1rem;margin-top:.8rem}.write p{flex:1;border-bottom:1px dotted #8a98a8;padding-top:1.1rem;
margin:0;color:#566;font-size:.85rem}
@media print{.scores{font-size:8.5pt}.write p{padding-top:.8rem}}
"""

# The CSP source that allows exactly that block: the web page opens a handout from a blob: address, which inherits
# the page's policy (style-src 'self', no inline styles).
CSS_HASH = "'sha256-" + base64.b64encode(hashlib.sha256(CSS.encode("utf-8")).digest()).decode("ascii") + "'"

_MOST_OWN_AREAS = 4  # a teacher who supports the other in nothing: at most this many of their own strengths
_PLAIN_TEXT = re.compile(r"[A-Z0-9][A-Z0-9_.-]*")  # io.file_keys' plain form, of any length


@lru_cache(maxsize=1 << 16)  # a statewide run asks twice per pair (its file, the school page's link)
def handout_key(teacher_a: str, teacher_b: str) -> str:
    """A pair's file name and URL segment, unique within a school and never colliding on a case-insensitive disk.

    Two plain ids (file_key(id) == id: capital letters, digits, "_", "-", ".") without "--" and without "-" at
    either end read "T000012--T000340": the first "--" is where the first id ends, so two pairs never share the
    text. Any other pair is file_key of its JSON form: a readable prefix and a digest of the exact ids ("~" marks
    it, and no plain text holds a "~"). file_key's guarantees (no "/", "..", device names) carry over."""
    text = f"{teacher_a}--{teacher_b}"
    # The usual pair in one step: two plain ids (the pattern, then the first "--" is where teacher_a ends: neither
    # holds "--" nor ends with "-"), no device name (a first part of 3 or 4 characters is left to file_key), at
    # most 100 characters in all, so that the text is its own key.
    if (len(text) <= 100 and _PLAIN_TEXT.fullmatch(text) and text.find("--") == len(teacher_a)
            and teacher_b[:1] not in ("", "_", ".", "-") and "--" not in teacher_b and text[-1] != "-"
            and (len(teacher_a.partition(".")[0]) > 4 or file_key(teacher_a) == teacher_a)
            and (len(teacher_b.partition(".")[0]) > 4 or file_key(teacher_b) == teacher_b)):
        return text
    if (file_key(teacher_a) == teacher_a and file_key(teacher_b) == teacher_b
            and not any("--" in x or x.startswith("-") or x.endswith("-") for x in (teacher_a, teacher_b))):
        return file_key(text)
    return file_key(json.dumps([teacher_a, teacher_b]))


_school_key = lru_cache(maxsize=1 << 12)(file_key)


def handout_path(school_id: str, pair: Pair) -> str:
    """Where a school's copy of a pair's handout sits under the output folder: handouts/<school>/<pair>.html."""
    return f"handouts/{_school_key(school_id)}/{handout_key(pair.teacher_a, pair.teacher_b)}.html"


def cli_link(school_id: str, pair: Pair) -> str:
    """The school page's link to the handout in the CLI's folder (schools/<key>.html -> handouts/<key>/...)."""
    return "../" + handout_path(school_id, pair)


LinkBuilder = Callable[[str, Pair], str]


# The first steps, the same on every page but for the goal.
_STEPS_BEFORE_GOAL = (
    "<h2>First steps</h2><ol>"
    "<li><strong>Meet to get started.</strong> An introductory meeting in the first weeks: what each of you "
    "wants from the partnership, and when you will meet.</li>"
    "<li><strong>Set ")
_STEPS_AFTER_GOAL = (
    ".</strong> Agree what you will try in your classes and how you will both know "
    "it is working.</li>"
    "<li><strong>Observe each other at least twice.</strong> Each of you visits the other's class with the "
    "goal in mind and notes what you see.</li>"
    "<li><strong>Debrief after the visits.</strong> What worked, what to try next, and whether the goal "
    "needs adjusting.</li></ol>"
    "<div class=write><p>Our goal:</p><p>Meeting and visit dates:</p></div>")
_LEDE = ("<p class=lede>You are paired so that each of you can learn from the other: reinforcing what you do "
         "well, and refining what you are working on.</p></header>")
_FOOTER = ("<footer>A suggestion from your school's partnership program, for the two of you; taking part is "
           "voluntary.</footer>")


class Handouts:
    """Renders handouts from one table (the statewide one in the CLI, a school's rosters in the API).

    Built once per table: the reinforcement areas of every teacher (for a teacher who supports the other in no
    indicator of the pair, their own strengths are what they bring) come from the policy's scoring in one pass.
    The words that repeat from page to page (names, lists of areas) are worked out once each.
    """

    def __init__(self, table: TeacherTable, policy: Policy, scores: bool = False,
                 labels: PageLabels | None = None):
        self.t = table
        self.policy = policy
        self.scores = scores
        self.strong = build_scoring(table, policy).strong if len(table) else np.zeros((0, 0), dtype=bool)
        self.col = {c: j for j, c in enumerate(table.rubric.indicators)}
        self.labels = labels or PageLabels(table)
        # Row i of `strong` is _flags[i * k:(i + 1) * k] (k indicators, a byte each); _top_flags the same for each
        # teacher's highest score (ties included; none where every score is missing). The indicators a row sets
        # are looked up by its bytes: a teacher's areas without numpy calls.
        self._k = len(self.col)
        self._flags = np.ascontiguousarray(self.strong, dtype=bool).tobytes()
        scores = table.scores
        with np.errstate(invalid="ignore"):
            top = scores == np.fmax.reduce(scores, axis=1, initial=-np.inf)[:, None] if scores.size else scores > 0
        self._top_flags = np.ascontiguousarray(top, dtype=bool).tobytes()
        self._names: dict[bytes, list[str]] = {}
        self._areas: dict[tuple[str, ...], str] = {}
        self._focus: dict[str, str] = {}

    def _own_areas(self, teacher_id: str, refining: tuple[str, ...]) -> tuple[list[str], bool]:
        """A teacher's own reinforcement areas (True), highest scores first, at most _MOST_OWN_AREAS; a teacher
        with none under the policy: their highest-scored indicators (False), as TEAM gives every teacher an area
        of reinforcement. Never an indicator they refine in this pair. (Plain Python: a statewide run asks this
        for most of its ~30,000 pairs, and on 19 numbers numpy's overhead would dominate.)"""
        i = self.t.index.get(teacher_id)
        if i is None:
            return [], False
        inds, k = self.t.rubric.indicators, self._k
        pattern = self._flags[i * k:(i + 1) * k]
        strong_names = self._names.get(pattern)
        if strong_names is None:
            strong_names = self._names[pattern] = [inds[j] for j, on in enumerate(pattern) if on]
        own = [x for x in strong_names if x not in refining]
        if own and len(own) <= _MOST_OWN_AREAS:  # all of them, in rubric order: no scores to compare
            return own, True
        if not own:  # the highest scores, in rubric order (all equal: no sorting)
            top = self._top_flags[i * k:(i + 1) * k]
            top_names = self._names.get(top)
            if top_names is None:
                top_names = self._names[top] = [inds[j] for j, on in enumerate(top) if on]
            if not any(x in refining for x in top_names):  # (none: every score is missing)
                return top_names[:_MOST_OWN_AREAS], False
        skip = {self.col[x] for x in refining}
        row = self.t.scores[i].tolist()
        if not own:
            seen = [j for j, x in enumerate(row) if x == x and j not in skip]
            if not seen:
                return [], False
            top_score = max([row[j] for j in seen])
            return [inds[j] for j in seen if row[j] == top_score][:_MOST_OWN_AREAS], False
        js = [self.col[x] for x in own]
        best = sorted(js, key=lambda j: -row[j])[:_MOST_OWN_AREAS]  # stable: rubric order among equal scores
        return [inds[j] for j in sorted(best)], True

    def _in(self, inds: tuple[str, ...] | list[str]) -> str:
        """"questioning, thinking and problem solving" (indicator names need no escaping: rubric.py)."""
        key = tuple(inds)
        got = self._areas.get(key)
        if got is None:
            got = self._areas[key] = and_list([label(x) for x in key])
        return got

    def _brings(self, who: str, helps: tuple[str, ...], refining: tuple[str, ...], teacher_id: str,
                across: bool) -> str:
        """What a teacher brings: the pair's indicators they support the other in, else their own strengths (not
        for a pair across schools, whose two principals each see the page: a teacher's areas beyond the pair's
        are their own school's business)."""
        if helps:
            return f"{who} brings strength in {self._in(helps)}"
        own, strong = self._own_areas(teacher_id, refining) if not across else ([], False)
        if own:
            what = "strength" if strong else "their own practice"
            return f"{who} brings {what} in {self._in(own)}"
        return f"{who} brings a fresh view and a classroom to visit"

    def _score(self, teacher_id: str, ind: str) -> str:
        i = self.t.index[teacher_id]
        x = float(self.t.scores[i, self.col[ind]])
        return "not observed" if x != x else f"{x:.2f}"

    def _scores_table(self, pair: Pair, school_id: str, names: tuple[str, str]) -> str:
        """Both teachers' scores on the pair's indicators; a teacher at another school has no column (names: the
        two escaped labels)."""
        inds = [x for x in self.t.rubric.indicators if x in pair.a_helps_b or x in pair.b_helps_a]
        cols = [(tid, n) for tid, n in zip((pair.teacher_a, pair.teacher_b), names, strict=True)
                if tid in self.t.index and self.t.school_id[self.t.index[tid]] == school_id]
        if not inds or not cols:
            return ""
        head = "<tr><th>indicator</th>" + "".join(f"<th>{n}</th>" for _, n in cols) + "</tr>"
        rows = [f"<tr><td>{label(ind)}</td>" + "".join(f"<td>{self._score(tid, ind)}</td>" for tid, _ in cols)
                + "</tr>" for ind in inds]
        # Many indicators: two tables side by side, so that the page still prints on one sheet.
        parts = [rows] if len(rows) <= 6 else [rows[:(len(rows) + 1) // 2], rows[(len(rows) + 1) // 2:]]
        tables = "".join(f"<table class=scores>{head}{''.join(part)}</table>" for part in parts)
        away = ("" if len(cols) == 2 else
                "<p>Scores of a teacher at another school are not shown here.</p>")
        return (f"<section><h2>Last year's observation scores</h2>"
                f"<p>{escape(value_counts(pair.value, self.policy))}.</p><div class=tables>{tables}</div>{away}"
                "</section>")

    def render(self, pair: Pair, school_id: str) -> str:
        """The handout of `pair` as `school_id`'s folder holds it (the two copies of a pair across schools differ
        only in whose scores a scores=True page may show)."""
        names = self.labels
        ea = names.teacher(pair.teacher_a, pair.teacher_a_name)
        eb = names.teacher(pair.teacher_b, pair.teacher_b_name)
        both = f"{ea} &amp; {eb}"
        across = bool(pair.school_b) and pair.school_b != pair.school_id
        if across:
            sa, sb = names.school(pair.school_id), names.school(pair.school_b)
            kicker = f"{sa} and {sb}"
            where = f"<p>{ea} teaches at {sa}; {eb} teaches at {sb}.</p>"
        else:
            kicker = names.school(pair.school_id)
            where = ""
        a_helps_b, b_helps_a = pair.a_helps_b, pair.b_helps_a
        areas = self._areas
        # What each brings (_brings), its commonest case inline: the pair's indicators they support the other in.
        brings_a = (f"{ea} brings strength in {areas.get(a_helps_b) or self._in(a_helps_b)}" if a_helps_b
                    else self._brings(ea, a_helps_b, b_helps_a, pair.teacher_a, across))
        brings_b = (f"{eb} brings strength in {areas.get(b_helps_a) or self._in(b_helps_a)}" if b_helps_a
                    else self._brings(eb, b_helps_a, a_helps_b, pair.teacher_b, across))
        brings = f"<p>{brings_a}; {brings_b}.</p>"
        # The areas are listed once, above; this says who refines and who reinforces, the same words both ways.
        if a_helps_b and b_helps_a:
            together = (f"<p>Working together, {ea} refines the areas {eb} brings, and {eb} refines the areas "
                        f"{ea} brings.</p>")
        elif a_helps_b or b_helps_a:
            sharer, learner = (ea, eb) if a_helps_b else (eb, ea)
            together = (f"<p>Working together, {learner} refines the areas {sharer} brings, and {sharer} reinforces "
                        "them by showing how and explaining why.</p>")
        else:
            together = ""
        if pair.focus_indicator:
            focus_name = self._focus.get(pair.focus_indicator)
            if focus_name is None:
                focus_name = self._focus[pair.focus_indicator] = escape(label(pair.focus_indicator))
        else:
            focus_name = ""
        if focus_name:
            helper, learner = (ea, eb) if pair.focus_indicator in a_helps_b else (eb, ea)
            focus = (f"<h2>Suggested focus: {focus_name}</h2><p>A reinforcement area for {helper} and a refinement "
                     f"area for {learner}: start here, where you can see each other's practice make a difference."
                     "</p>")
            goal = f"one specific goal on {focus_name}"
        else:
            focus = ("<h2>Suggested focus</h2><p>Choose together one indicator from those above to start with.</p>")
            goal = "one specific goal on the indicator you chose"
        scores = self._scores_table(pair, school_id, (ea, eb)) if self.scores else ""
        return document(
            f"Partnership: {both}", CSS,
            f"<header><p class=kicker>Teacher partnership · {kicker}</p><h1>{both}</h1>{_LEDE}"
            f"<section><h2>What each of you brings</h2>{where}{brings}{together}</section>{scores}"
            f"<section>{focus}</section><section>{_STEPS_BEFORE_GOAL}{goal}{_STEPS_AFTER_GOAL}</section>{_FOOTER}")
