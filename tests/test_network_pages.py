"""A page per school network: write_networks writes one per network and an index linking each; a page names
exactly its own schools (escaped), says why each is there, has a ten-month calendar and the facilitator when one was
assigned, renders from a result without links (as the API rebuilds it), and its file name is safe whatever the id."""

from __future__ import annotations

import dataclasses
import re
from html import escape, unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher.cli import main as cli
from matcher.io.schools import read_schools
from matcher.networks.explain import explain_network, school_name
from matcher.networks.facilitators import Assigned, assign_facilitators, read_facilitators
from matcher.networks.outputs import write_networks
from matcher.networks.pages import MONTHS, index_page, network_page, page_file_name
from matcher.networks.policy import NetworkPolicy, network_policy_from_dict
from matcher.networks.solve import NetworkResult, form_networks

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
HEADER = "school_id,name,district_id,level,grade_min,grade_max,latitude,longitude,role,strengths,needs"
HOSTILE = '<script>alert("x")</script> & \'Oak\' Elementary'


class Tables(HTMLParser):
    """The text of every table cell, by the table's class: {class: [[cell, ...] per body row]}; and every link."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self.links: list[str] = []
        self._cls: str | None = None
        self._body = False
        self._cell: list[str] | None = None
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self._cls = a.get("class") or ""
            self.tables.setdefault(self._cls, [])
        elif tag == "tbody":
            self._body = True
        elif tag == "tr" and self._body and self._cls is not None:
            self.tables[self._cls].append([])
        elif tag == "td" and self._body:
            self._cell = []
        elif tag == "a":
            self.links.append(a.get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self._cls is not None:
            self.tables[self._cls][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tbody":
            self._body = False
        elif tag == "table":
            self._cls = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _csv(tmp_path: Path, rows: list[str], header: str = HEADER, name: str = "schools.csv") -> Path:
    path = tmp_path / name
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[NetworkResult, list[Assigned], Path]:
    """The sample's triads with named facilitators (one name with markup), written by write_networks."""
    tmp = tmp_path_factory.mktemp("pages")
    fac = tmp / "fac.csv"
    fac.write_text(f"facilitator_id,name,latitude,longitude,caseload\nF1,Ana Ruiz,35.2,-89.5,2\n"
                   f"F2,\"{HOSTILE.replace(chr(34), chr(34) * 2)}\",35.3,-89.5,2\nF3,,35.1,-89.4,2\n",
                   encoding="utf-8")
    result = form_networks(read_schools(SAMPLES / "schools.csv"))
    assigned = assign_facilitators(result, read_facilitators(fac))
    write_networks(result, tmp / "out", assigned)
    return result, assigned, tmp / "out"


def test_one_page_per_network_and_an_index_linking_each(sample: tuple[NetworkResult, list[Assigned], Path]
                                                        ) -> None:
    result, assigned, out = sample
    assert len(result.networks) >= 3
    pages = out / "networks"
    assert sorted(p.name for p in pages.iterdir()) == sorted(
        [page_file_name(n.network_id) for n in result.networks] + ["index.html"])
    index = (pages / "index.html").read_text(encoding="utf-8")
    assert Tables(index).links == [page_file_name(n.network_id) for n in result.networks]
    rows = Tables(index).tables[""]
    t = result.schools
    by_net = {a.network_id: a for a in assigned}
    assert rows == [[n.network_id, f"{school_name(t, n.leader)} ({t.school_id[n.leader]})",
                     n.focus.replace("_", " "), str(1 + len(n.members)), by_net[n.network_id].label]
                    for n in result.networks]
    assert "<script>" not in index and escape(HOSTILE) in index


def test_each_page_names_exactly_its_own_schools(sample: tuple[NetworkResult, list[Assigned], Path]) -> None:
    result, _, out = sample
    t = result.schools
    names = [school_name(t, i) for i in range(len(t))]
    assert all(a == b or a not in b for a in names for b in names)  # no name inside another: the check is fair
    for net in result.networks:
        page = (out / "networks" / page_file_name(net.network_id)).read_text(encoding="utf-8")
        own = {net.leader, *net.members}
        for i in range(len(t)):
            assert (names[i] in page) == (i in own), (net.network_id, names[i])
            assert (str(t.school_id[i]) in page) == (i in own)
        others = [n.network_id for n in result.networks if n is not net]
        assert not any(re.search(rf"\b{o}\b", page) for o in others)
        cells = Tables(page).tables["schools"]
        assert [c[:2] for c in cells] == [[f"{names[i]} {t.school_id[i]}", role] for i, role in
                                          ((net.leader, "host"), *((m, "partner") for m in net.members))]
        assert [c[-1] for c in cells[1:]] == [f"{_km(t, m, net.leader):.1f}" for m in net.members]
        # every school's reason, as networks.csv gives it; no scores, nobody called weak
        for why in explain_network(t, result.policy, net).values():
            assert escape(why) in page
        assert not re.search(r"weak|score|objective", page, re.I)


def _km(t, a: int, b: int) -> float:  # type: ignore[no-untyped-def]
    from matcher.networks.model import haversine_km
    return float(haversine_km(t.latitude[a], t.longitude[a], t.latitude[b], t.longitude[b]))


def test_the_calendar_has_ten_months_and_a_rotation_from_the_host(
        sample: tuple[NetworkResult, list[Assigned], Path]) -> None:
    result, _, _ = sample
    t = result.schools
    for net in result.networks:
        rows = Tables(network_page(result, net)).tables["calendar"]
        assert [r[0] for r in rows] == list(MONTHS) and len(rows) == 10
        order = [school_name(t, i) for i in (net.leader, *net.members)]
        assert [r[1] for r in rows] == [order[k % len(order)] for k in range(10)]
        assert all(r[2:] == ["", "", ""] for r in rows)  # date, who attends, what we looked for: to fill in


def test_the_facilitator_appears_when_assigned(sample: tuple[NetworkResult, list[Assigned], Path]) -> None:
    result, assigned, out = sample
    for a in assigned:
        net = next(n for n in result.networks if n.network_id == a.network_id)
        page = (out / "networks" / page_file_name(net.network_id)).read_text(encoding="utf-8")
        assert escape(a.label) in page and f"{a.km_to_host:.1f} km from" in page
        assert "<script>" not in page
        other = {b.facilitator_id for b in assigned} - {a.facilitator_id}
        assert not any(f"({f})" in page for f in other)
        assert "Facilitator</h2>" not in network_page(result, net)
    assert {a.facilitator_name for a in assigned} <= {"Ana Ruiz", HOSTILE, ""}
    csv_text = (out / "facilitators.csv").read_text(encoding="utf-8")
    assert csv_text.splitlines()[0] == "facilitator_id,facilitator_name,network_id,km_to_host"


def test_markup_in_names_ids_and_types_is_escaped(tmp_path: Path) -> None:
    path = _csv(tmp_path, [f'"H<1>","{HOSTILE.replace(chr(34), chr(34) * 2)}",D&1,elementary,K,5,36.00,-86.0,host,'
                           'rigorous_instruction,,"<b>charter</b>",3',
                           "P1,Pine & Birch <i>School</i>,D&1,elementary,K,5,36.01,-86.0,partner,,"
                           "rigorous_instruction,district,",
                           'P2,"Quote "" School",D&1,elementary,1,4,36.02,-86.0,partner,,rigorous_instruction,,'],
                header=HEADER + ",school_type,years_hosting")
    result = form_networks(read_schools(path))
    (net,) = result.networks
    page = network_page(result, net, Assigned("F<1>", net.network_id, 1.234, "<img src=x>"))
    assert "<script>" not in page and "<b>" not in page and "<i>" not in page and "<img" not in page
    for raw in (HOSTILE, "Pine & Birch <i>School</i>", 'Quote " School', "H<1>", "D&1", "<b>charter</b>",
                "F<1>", "<img src=x>"):
        assert escape(raw) in page
    cells = Tables(page).tables["schools"]
    assert [c[1] for c in cells] == ["host (hosted 3 years before)", "partner", "partner"]
    assert [c[-2] for c in cells] == ["<b>charter</b>", "district", ""]  # the type column, when the file has one
    assert [c[2] for c in cells] == ["grades K-5", "grades K-5", "grades 1-4"]
    assert "<script>" not in index_page(result) and escape(HOSTILE) in index_page(result)
    # no type column and no "hosted" when the file does not say
    plain = form_networks(read_schools(_csv(tmp_path, [
        "H1,Oak,D1,elementary,K,5,36.00,-86.0,host,rigorous_instruction,",
        "P1,Pine,D1,elementary,K,5,36.01,-86.0,partner,,rigorous_instruction",
        "P2,Elm,D1,elementary,K,5,36.02,-86.0,partner,,rigorous_instruction"], name="plain.csv")))
    page = network_page(plain, plain.networks[0])
    assert "<th>type</th>" not in page and "hosted" not in page


def test_a_result_without_links_renders_the_same(sample: tuple[NetworkResult, list[Assigned], Path],
                                                 tmp_path: Path) -> None:
    result, assigned, out = sample
    bare = dataclasses.replace(result, links=None)  # as the API rebuilds one from a stored revision
    for net in result.networks:
        assert network_page(bare, net) == network_page(result, net)
    assert index_page(bare, assigned) == index_page(result, assigned)
    write_networks(bare, tmp_path / "again", assigned)
    for p in (out / "networks").iterdir():
        assert (tmp_path / "again" / "networks" / p.name).read_text(encoding="utf-8") == p.read_text(
            encoding="utf-8")


def test_peer_groups_get_a_distance_table(tmp_path: Path) -> None:
    result = form_networks(read_schools(SAMPLES / "schools.csv"), network_policy_from_dict({"mode": "peer"}))
    assert result.networks
    t = result.schools
    for net in result.networks:
        page = network_page(result, net)
        group = (net.leader, *net.members)
        tables = Tables(page).tables
        assert [c[1] for c in tables["schools"]] == ["peer"] * len(group)
        assert "km to host" not in page and "host" not in unescape(page).split("Why each school")[0]
        assert tables[""] == [[school_name(t, a), school_name(t, b), f"{_km(t, a, b):.1f}"]
                              for k, a in enumerate(group) for b in group[k + 1:]]


def test_cohorts_show_their_pods(tmp_path: Path) -> None:
    rows = ["H1,Oak,D1,k8,K,8,36.00,-86.0,host,rigorous_instruction,"]
    rows += [f"E{k},Elm {k},D1,elementary,K,5,36.0{k},-86.0,partner,,rigorous_instruction" for k in (1, 2)]
    rows += [f"M{k},Maple {k},D1,middle,6,8,36.0{k + 2},-86.0,partner,,rigorous_instruction" for k in (1, 2)]
    result = form_networks(read_schools(_csv(tmp_path, rows)), network_policy_from_dict({"shape": "cohort"}))
    (net,) = result.networks
    cells = Tables(network_page(result, net)).tables["schools"]
    assert [c[2] for c in cells] == ["", "elementary", "elementary", "middle", "middle"]


ODD_IDS = ["N01", "N03-2", "n01", "../etc/passwd", "a/b\\c", "..", ".", "", "CON", "con.txt", "INDEX", "index",
           "N 01", "N01 ", "<script>", "Ümlaut", "x" * 300, "-N1", "N.1", "N..1"]


@given(st.lists(st.text(max_size=30), max_size=8) | st.just(ODD_IDS))
def test_page_file_names_are_safe_and_distinct(ids: list[str]) -> None:
    ids = list(dict.fromkeys(ids))
    names = [page_file_name(i) for i in ids]
    for n in names:
        assert re.fullmatch(r"[A-Za-z0-9_.-]+\.html", n) and ".." not in n and not n.startswith((".", "-"))
        assert n.lower() != "index.html" and len(n) <= 120
        assert n.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT1"}
    assert len({n.lower() for n in names}) == len(names)  # distinct even on a case-insensitive disk


def test_odd_network_ids_get_their_pages(tmp_path: Path) -> None:
    result = form_networks(read_schools(SAMPLES / "schools.csv"), NetworkPolicy(grade_band="prefer_same"))
    odd = ("../up", "N03-2", "index", "<b>")
    assert len(result.networks) >= len(odd)  # the old default's four triads: every odd id is used
    nets = tuple(dataclasses.replace(n, network_id=i) for n, i in zip(result.networks, odd, strict=False))
    renamed = dataclasses.replace(result, networks=nets)
    write_networks(renamed, tmp_path / "out")
    pages = tmp_path / "out" / "networks"
    files = sorted(p.name for p in pages.iterdir())
    assert len(files) == len(nets) + 1 and "N03-2.html" in files and not (tmp_path / "out" / "up.html").exists()
    index = (pages / "index.html").read_text(encoding="utf-8")
    assert all((pages / href).is_file() for href in Tables(index).links) and len(Tables(index).links) == len(nets)
    assert "<b>" not in index and "&lt;b&gt;" in index


def test_the_cli_says_where_the_pages_are(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert cli(["networks", str(SAMPLES / "schools.csv"), "--out", str(out)]) == 0
    n = len(list((out / "networks").glob("N*.html")))
    assert n >= 3 and (out / "networks" / "index.html").is_file()
    assert capsys.readouterr().out.splitlines()[-1].endswith(f"{out}/networks/ with {n} network pages and index.html")
