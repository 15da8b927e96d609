"""One self-contained page per school network, for its schools and its facilitator: who is in it and why, how far
apart they are, and the first steps with an intervisitation calendar to fill in; and an index of the networks.

What went wrong in the Learning Partners Program (PRODUCT.md): partners who felt labelled, one-way "aid and
assistance", reasons for designations not given. So a page gives every school's reason (explain.explain_network,
the words of networks.csv), speaks of what partners are "working on", shows no score, and names only its own
schools: nothing about other networks. It uses the schools table and the networks alone (never result.links, which
a result rebuilt from a stored revision does not have). Everything from the input is escaped.

Files: networks/<page_file_name(network_id)> and networks/index.html in the CLI's output folder.
"""

from __future__ import annotations

import base64
import hashlib
import re
from html import escape

from ..focus import focus_label
from ..io.schools import SchoolTable
from ..report.html import PRINT_CSS, and_list, document
from .explain import _grades, explain_network, pods, school_label, school_name
from .facilitators import Assigned
from .model import haversine_km
from .solve import Network, NetworkResult

MONTHS = ("September", "October", "November", "December", "January", "February", "March", "April", "May", "June")

CSS = PRINT_CSS + """
body{max-width:54rem}
.wide{overflow-x:auto}
table{border-collapse:collapse;width:100%;margin:.3rem 0;font-size:.9rem}
th,td{padding:.2rem .45rem;text-align:left;vertical-align:top;border-bottom:1px solid #e1e7ee;
overflow-wrap:break-word}
td:first-child{overflow-wrap:anywhere}.grades{white-space:nowrap}
th{font-weight:600;color:#1f4f66}
.id{color:#566;font-size:.85em}
.num{text-align:right;white-space:nowrap}
.why li{margin:.3rem 0}
.calendar th,.calendar td{border:1px solid #8a98a8}
.calendar td{height:2.6rem}
.calendar .month{font-weight:600;white-space:nowrap}
.suggested{color:#3a4856}
.calendar col.m{width:7.5rem}.calendar col.s{width:11rem}.calendar col.d{width:6rem}.calendar col.w{width:9rem}
@media print{body{font-size:9pt}table{font-size:8.5pt}th{color:#000}.calendar td{height:7.2mm}
.calendar{break-inside:avoid}.schools,.why li{break-inside:avoid}section{break-inside:auto}h2{break-after:avoid}
a{color:inherit;text-decoration:none}}
"""

# A plain id is its own file name: capital letters, digits, "_" and "-" ("N01", "N03-2"), and not a name that
# Windows keeps for devices nor the index's. Any other id reads "<readable part>.<digest of the exact id>": only a
# digest name holds a ".", so the two forms never meet, even on a case-insensitive disk.
_PLAIN = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,99}")
_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", "INDEX", *(f"COM{i}" for i in range(10)),
                       *(f"LPT{i}" for i in range(10))})


def page_file_name(network_id: str) -> str:
    """The file name of a network's page: "N01.html" for a plain id, else a readable prefix and a digest of the
    exact id ("n 7/../x" -> "n-7-x.<12 letters>.html"). Only [A-Za-z0-9_.-], never "..", never index.html."""
    if _PLAIN.fullmatch(network_id) and network_id not in _RESERVED:
        return f"{network_id}.html"
    digest = base64.b32encode(hashlib.sha256(network_id.encode("utf-8")).digest()).decode("ascii").lower()[:12]
    readable = re.sub(r"[^A-Za-z0-9_-]+", "-", network_id).strip("-_")[:40].rstrip("-_")
    if not readable or readable.upper() in _RESERVED:
        readable = f"network-{readable}".rstrip("-")
    return f"{readable}.{digest}.html"


def _short(t: SchoolTable, i: int) -> str:
    """A school's name, or its id when the file gave no name (escaped)."""
    return escape(school_name(t, i) or str(t.school_id[i]))


def _named(t: SchoolTable, i: int) -> str:
    """The school's name in bold with its id beside it (the id alone when it has no name)."""
    name = school_name(t, i)
    if not name:
        return f"<strong>{escape(str(t.school_id[i]))}</strong>"
    return f"<strong>{escape(name)}</strong> <span class=id>{escape(str(t.school_id[i]))}</span>"


def _km(t: SchoolTable, a: int, b: int) -> float:
    return float(haversine_km(t.latitude[a], t.longitude[a], t.latitude[b], t.longitude[b]))


def _hosted(t: SchoolTable, i: int) -> str:
    """"hosted 3 years before" when the schools file says so (nothing when it does not, or says 0)."""
    years = int(t.years_hosting[i]) if t.years_hosting is not None else 0
    return f"hosted {years} year{'' if years == 1 else 's'} before" if years > 0 else ""


def _schools_table(t: SchoolTable, net: Network, host_mode: bool, pod: dict[int, str]) -> str:
    """Each school with its role, pod (cohorts), grades, district, type (when the file gives types) and, under a
    host, its km to the host."""
    lead = net.leader
    cols: list[tuple[str, str]] = [("school", ""), ("role", "")] + ([("pod", "")] if pod else []) + [
        ("grades served", "grades"), ("district", "")] + ([("type", "")] if t.school_type is not None else []) + (
        [("km to host", "num")] if host_mode else [])
    rows = []
    for i in (lead, *net.members):
        hosted = _hosted(t, i) if host_mode and i == lead else ""
        role = ("host" if i == lead else "partner") if host_mode else "peer"
        cells = [_named(t, i), role + (f" <span class=id>({hosted})</span>" if hosted else "")]
        cells += [escape(pod.get(i, ""))] if pod else []
        cells += [escape(_grades(t, i)), escape(str(t.district_id[i]))]
        cells += [escape(str(t.school_type[i]))] if t.school_type is not None else []
        cells += [("" if i == lead else f"{_km(t, i, lead):.1f}")] if host_mode else []
        rows.append("<tr>" + "".join(f"<td class={c}>{v}</td>" if c else f"<td>{v}</td>"
                                     for (_, c), v in zip(cols, cells, strict=True)) + "</tr>")
    head = "".join(f"<th class={c}>{h}</th>" if c else f"<th>{h}</th>" for h, c in cols)
    return (f"<div class=wide><table class=schools><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody>"
            "</table></div>")


def _peer_distances(t: SchoolTable, net: Network) -> str:
    """Every two schools of a peer group and the km between them."""
    group = (net.leader, *net.members)
    rows = "".join(f"<tr><td>{_short(t, a)}</td><td>{_short(t, b)}</td><td class=num>{_km(t, a, b):.1f}</td></tr>"
                   for k, a in enumerate(group) for b in group[k + 1:])
    return ("<section><h2>Distances</h2><div class=wide><table><thead><tr><th>school</th><th>school</th>"
            f"<th class=num>km apart</th></tr></thead><tbody>{rows}</tbody></table></div></section>")


def _calendar(t: SchoolTable, net: Network) -> str:
    """One row a month, September to June; the school visited is a suggestion (the host first, then each partner in
    turn), the other cells are for the network to fill in."""
    order = (net.leader, *net.members)
    rows = "".join(f"<tr><td class=month>{m}</td><td class=suggested>{_short(t, order[k % len(order)])}</td>"
                   "<td></td><td></td><td></td></tr>" for k, m in enumerate(MONTHS))
    return ("<table class=calendar><colgroup><col class=m><col class=s><col class=d><col class=w><col></colgroup>"
            "<thead><tr><th>month</th><th>school visited (suggested)</th><th>date</th><th>who attends</th>"
            f"<th>what we looked for</th></tr></thead><tbody>{rows}</tbody></table>")


def network_page(result: NetworkResult, net: Network, facilitator: Assigned | None = None) -> str:
    """The page of one network, for its schools and its facilitator."""
    t, policy = result.schools, result.policy
    host_mode = policy.mode == "host"
    lead = net.leader
    focus = escape(focus_label(net.focus))
    nid = escape(net.network_id)
    why = explain_network(t, policy, net)
    pod = pods(t, policy, net)
    members = [_short(t, m) for m in net.members]
    if host_mode:
        kicker = f"School network {nid} · host and partners"
        lede = (f"{_short(t, lead)} hosts this network on {focus}, one of its strengths and what "
                f"{and_list(members)} {'is' if len(members) == 1 else 'are'} working on. Each school brings its own "
                "practice, and all of you learn by visiting each other.")
    else:
        kicker = f"School network {nid} · peer group"
        lede = (f"{and_list([_short(t, lead), *members])} are all working on {focus}: a peer group that learns by "
                "visiting each other.")
    if pod:
        lede += " The partners also meet in pods by the grades they serve (the pod column)."
    reasons = "".join(f"<li>{_named(t, i)}: {escape(why[i])}</li>" for i in (lead, *net.members))
    distances = "" if host_mode else _peer_distances(t, net)
    if facilitator is not None:
        fac = (f"<section><h2>Facilitator</h2><p>{escape(facilitator.label)} facilitates this network, "
               f"{facilitator.km_to_host:.1f} km from {_short(t, lead)}.</p></section>")
    else:
        fac = ""
    where = _short(t, lead)
    steps = (
        "<h2>First steps</h2><ol>"
        f"<li><strong>Meet at {where} to get started.</strong> An introductory meeting in the first weeks: who "
        "takes part from each school, what each school hopes to learn and to share, and the dates for the year.</li>"
        f"<li><strong>Agree one goal on {focus}.</strong> What each school will try, and how you will all know it "
        "is working.</li>"
        "<li><strong>Visit each other every month.</strong> One school opens its classrooms to the others, with the "
        "goal in mind; the calendar below suggests whose turn it is.</li>"
        "<li><strong>Reflect at mid-year.</strong> In January or February: what has changed so far, and whether "
        "the goal needs adjusting.</li>"
        "<li><strong>Reflect at the end of the year.</strong> In June: what each school takes forward, and what to "
        "share with others.</li></ol>")
    body = (
        f"<header><p class=kicker>{kicker}</p><h1>Network {nid}: {focus}</h1><p class=lede>{lede}</p></header>"
        f"<section><h2>The schools</h2>{_schools_table(t, net, host_mode, pod)}</section>"
        f"<section><h2>Why each school is here</h2><ul class=why>{reasons}</ul></section>{distances}{fac}"
        f"<section>{steps}</section>"
        f"<section class=plan><h2>Intervisitation calendar</h2>{_calendar(t, net)}</section>"
        "<footer>A suggestion from your learning partnership program, for the schools of this network and their "
        "facilitator; taking part is voluntary.</footer>")
    return document(f"Network {nid}: {focus}", CSS, body)


def index_page(result: NetworkResult, facilitators: list[Assigned] | None = None) -> str:
    """The list of networks, each linking its page (in the same folder)."""
    t = result.schools
    host_mode = result.policy.mode == "host"
    by_net = {a.network_id: a for a in facilitators or ()}
    head = (["network", "host" if host_mode else "first visit at", "focus area", "schools"]
            + (["facilitator"] if facilitators is not None else []))
    rows = []
    for net in result.networks:
        link = f"<a href=\"{escape(page_file_name(net.network_id))}\">{escape(net.network_id)}</a>"
        cells = [link, escape(school_label(t, net.leader)), escape(focus_label(net.focus)),
                 f"{1 + len(net.members)}"]
        if facilitators is not None:
            a = by_net.get(net.network_id)
            cells.append(escape(a.label) if a else "")
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    placed = sum(1 + len(n.members) for n in result.networks)
    count = len(result.networks)
    lede = (f"{count} network{'' if count == 1 else 's'} of {placed} schools. Each network's page is for its "
            "schools and its facilitator: who is in the network and why, and the first steps with a calendar of "
            "visits to fill in.")
    if result.left_out:
        lede += (f" {len(result.left_out)} school{' is' if len(result.left_out) == 1 else 's are'} not in a network "
                 "this time (the list of unplaced schools says why).")
    table = ("<div class=wide><table><thead><tr>" + "".join(f"<th>{h}</th>" for h in head)
             + f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>") if rows else "<p>No networks.</p>"
    body = (f"<header><p class=kicker>School networks</p><h1>Networks and their pages</h1><p class=lede>{lede}</p>"
            f"</header><section>{table}</section>")
    return document("School networks", CSS, body)
