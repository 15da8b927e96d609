"""The web page in a real browser against the real server: a principal signs in, sees their school and re-matches
it, a stale page is told to reload, another school is refused; a state analyst uploads, runs, searches, sorts and
downloads; school networks are drawn. Screenshots of each view go to test-artifacts/e2e/."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

from playwright.sync_api import Page, expect

from matcher.io.file_keys import file_key
from matcher.web import STATIC

from .conftest import MARKUP_SCHOOL, ODD_SCHOOL, SAMPLES, TABLET, Site, shot, sign_in

UNSAFE = r"\.(inner|outer)HTML\s*=|insertAdjacentHTML|document\.write|localStorage\s*[.\[]"


def test_page_is_served_with_only_its_own_files(site: Site) -> None:
    r = site.client.get(f"{site.url}/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert '<script type="module" src="/web/js/app.js">' in r.text
    shipped = [p for p in STATIC.rglob("*") if p.is_file()]
    assert {p.suffix for p in shipped} <= {".html", ".css", ".js", ".svg"}
    for p in shipped:
        text = p.read_text(encoding="utf-8")
        # The SVG namespace is a name, not an address anything is fetched from.
        assert not re.findall(r"https?://(?!www\.w3\.org/2000/svg)", text), p
        # Data goes into the DOM as text, never as markup; the key never into localStorage.
        assert not re.search(UNSAFE, text), p
        served = site.client.get(f"{site.url}/web/{p.relative_to(STATIC).as_posix()}")
        assert served.status_code == 200 and served.content == p.read_bytes()
    assert site.client.get(f"{site.url}/web/js/app.js").headers["content-type"].startswith("text/javascript")
    assert site.client.get(f"{site.url}/web/../pyproject.toml").status_code == 404


def fmt(x: float) -> str:
    """A score as the page writes it (dom.js num): 3, 2.5, 3.33."""
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}".rstrip("0").rstrip(".")


def named(name: str, ident: str) -> str:
    return f"{name} ({ident})" if name else ident


def expected_help_cells(view: dict, pair: dict) -> list[str]:
    """The help tables' score cells of a pair as the API's scores and observation counts give them."""
    teachers = {t["teacher_id"]: t for t in view["teachers"]}
    cells = []
    for helper, learner, inds in ((pair["teacher_a"], pair["teacher_b"], pair["a_helps_b"]),
                                  (pair["teacher_b"], pair["teacher_a"], pair["b_helps_a"])):
        for ind in inds:
            for who in (helper, learner):
                t = teachers[who]
                score, n = t["scores"][ind], t["observations"][ind]
                cells.append("not observed" if score is None else fmt(score) + (f" ({n} obs.)" if n > 1 else ""))
    return cells


def test_principal_sees_their_school_and_rematches(site: Site, page: Page) -> None:
    run = site.new_run()
    sign_in(page, site, "principal")
    view = site.get(f"/v1/pairings/{run}/schools/S0001", "principal").json()
    school = named(view["school_name"], "S0001")
    assert school == "Lincoln Bend Elementary School (S0001)"  # the sample's export names its schools
    h1 = page.get_by_role("heading", level=1)
    expect(h1).to_have_text(f"Suggested pairs · {school}")
    expect(h1).to_be_focused()
    expect(page).to_have_title(f"Suggested pairs · {school} · Teacher partnerships")
    expect(page.locator("#who .role")).to_have_text(f"Signed in: principal · {school}")
    assert page.url.endswith(f"#/pairings/{run}/schools/S0001")
    # The key lives in this tab's sessionStorage only, never in the address or in localStorage.
    assert page.evaluate("sessionStorage.getItem('matcher.key')") == site.keys["principal"]
    assert page.evaluate("localStorage.length") == 0 and site.keys["principal"] not in page.url

    cards = page.locator("article.card")
    expect(cards).to_have_count(len(view["pairs"]))
    # Every card is headed by the two teachers' names, as the API gives them; the ids are one hover away.
    assert all(p["teacher_a_name"] and p["teacher_b_name"] for p in view["pairs"])
    expect(cards.locator("h3")).to_have_text([f"{p['teacher_a_name']} & {p['teacher_b_name']}" for p in view["pairs"]])
    first = view["pairs"][0]
    card = cards.first
    expect(card.locator("h3 .person").first).to_have_attribute("title", f"ID {first['teacher_a']}")
    expect(card.locator("ul.who-line li").first).to_contain_text(f"{first['teacher_a_name']} ({first['teacher_a']}):")
    names = {first["teacher_a"]: first["teacher_a_name"], first["teacher_b"]: first["teacher_b_name"]}
    helper, learner = (first["teacher_a"], first["teacher_b"]) if first["a_helps_b"] else \
        (first["teacher_b"], first["teacher_a"])
    expect(card).to_contain_text(f"{names[helper]} can support {names[learner]} in:")
    expect(card.locator("table.help-table thead").first).to_contain_text(names[helper])
    expect(card).to_contain_text(f"Suggested focus: {first['focus_indicator'].replace('_', ' ')}")
    expect(card.locator("p.why")).to_have_text(first["explanation"])
    # Scores that rest on several observations say so: "2.5 (2 obs.)", the mean of 2 observations.
    for p, c in zip(view["pairs"], cards.all(), strict=True):
        expect(c.locator("table.help-table tbody td")).to_have_text(expected_help_cells(view, p))
    assert any(n > 1 for t in view["teachers"] for n in t["observations"].values())
    expect(page.locator("abbr.obs").first).to_have_attribute("title", re.compile(r"^mean of \d+ observations$"))
    expect(page.locator("main")).to_contain_text("Each score is the mean of the teacher's observations")
    strip = card.locator("svg.strip")
    expect(strip).to_have_attribute("role", "img")
    expect(strip.locator("g.cell")).to_have_count(2 * 19)  # both teachers, every TEAM indicator
    expect(strip.locator("text.strip-label")).to_have_text([first["teacher_a_name"], first["teacher_b_name"]])
    expect(strip.locator("rect.helps")).to_have_count(len(set(first["a_helps_b"]) | set(first["b_helps_a"])))
    expect(strip.locator("g.cell.refine-1, g.cell.refine-2").first).to_be_visible()
    expect(card.get_by_role("button", name=f"Remove {first['teacher_a_name']} (left the school)")).to_have_text(
        f"Remove {first['teacher_a_name']}")
    expect(page.get_by_role("heading", name=re.compile("Teachers without a suggested pair"))).to_be_visible()
    shot(page, "school-laptop")
    shot(page, "school-laptop-top", full=False)
    page.set_viewport_size(TABLET)
    shot(page, "school-tablet")
    shot(page, "school-tablet-top", full=False)
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]  # nothing wider than a tablet

    # Refuse the first pair with the keyboard only: Tab to its button, Space, Tab on to the request, Enter.
    target = "Do not pair these two"
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == target:
            break
    focused = page.locator(":focus")
    expect(focused).to_have_text(target)
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"  # focus visible
    page.keyboard.press("Space")
    expect(focused).to_have_attribute("aria-pressed", "true")
    pending = page.locator("ul.pending")
    expect(pending).to_contain_text(f"do not pair {first['teacher_a_name']} and {first['teacher_b_name']}")
    # On a tablet the panel is below every card: a bar at the bottom of the window leads to it.
    bar = page.locator(".panel-bar")
    expect(bar).to_be_visible()
    expect(bar).to_contain_text("1 change chosen")
    assert bar.bounding_box()["y"] + bar.bounding_box()["height"] <= TABLET["height"]
    shot(page, "school-tablet-bar", full=False)
    bar.get_by_role("button", name="Review and ask").click()
    expect(page.locator("#panel-title")).to_be_focused()
    expect(page.get_by_role("button", name="Ask for a new suggestion")).to_be_in_viewport()
    shot(page, "school-tablet-panel", full=False)
    for _ in range(200):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Ask for a new suggestion":
            break
    page.keyboard.press("Enter")

    changes = page.locator("section.changes")
    expect(changes.get_by_role("heading", level=2)).to_have_text("What changed in revision 1")
    expect(changes.get_by_role("heading", level=2)).to_be_focused()
    expect(changes.locator("ul.broken")).to_contain_text(
        f"{first['teacher_a_name']} & {first['teacher_b_name']}: refused by the principal")
    expect(page.locator("p.meta")).to_contain_text("Revision 1")
    expect(page.locator("#status")).to_contain_text("Saved")
    expect(bar).to_be_hidden()
    after = site.get(f"/v1/pairings/{run}/schools/S0001", "principal").json()
    assert after["revision"] == 1
    assert {first["teacher_a"], first["teacher_b"]} not in [{p["teacher_a"], p["teacher_b"]} for p in after["pairs"]]
    expect(page.locator("article.card")).to_have_count(len(after["pairs"]))
    expect(page.locator("article.card.changed")).to_have_count(len(after["diff"]["new"]))
    for new in after["diff"]["new"]:
        expect(page.locator("article.card.changed", has_text=f"{new['teacher_a_name']} & {new['teacher_b_name']}")) \
            .to_contain_text("New pair")
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(bar).to_be_hidden()  # beside the cards, the panel needs no bar
    shot(page, "school-rematched-laptop")


def test_stale_page_is_told_to_reload(site: Site, page: Page) -> None:
    run = site.new_run()
    sign_in(page, site, "principal", f"#/pairings/{run}/schools/S0001")
    expect(page.locator("p.meta")).to_contain_text("Revision 0")
    # Meanwhile the state office re-matches the school (revision 1).
    view = site.get(f"/v1/pairings/{run}/schools/S0001").json()
    last = view["pairs"][-1]
    a, a_name, b_name = last["teacher_a"], last["teacher_a_name"], last["teacher_b_name"]
    r = site.client.post(f"{site.url}/v1/pairings/{run}/schools/S0001/rematch", headers=site.headers("state"),
                         json={"revision": 0, "remove": [a], "note": "left in August"})
    assert r.status_code == 201
    page.locator("article.card").first.get_by_role("button", name="Keep this pair").click()
    page.get_by_role("button", name="Ask for a new suggestion").click()
    alert = page.locator(".stale[role=alert]")
    expect(alert).to_contain_text("This school has changed since you opened it")
    expect(alert).to_contain_text("Someone saved revision 1 meanwhile; this page shows revision 0")
    expect(alert).to_contain_text("Your changes were not applied and nothing was overwritten")
    expect(page.get_by_role("button", name="Ask for a new suggestion")).to_be_disabled()
    expect(page.get_by_role("button", name="Reload the school")).to_be_focused()
    history = site.get(f"/v1/pairings/{run}/schools/S0001/revisions").json()["revisions"]
    assert [h["revision"] for h in history] == [0, 1]  # the page's request was refused, not saved
    shot(page, "school-stale", full=False)
    page.get_by_role("button", name="Reload the school").click()
    expect(page.locator("p.meta")).to_contain_text("Revision 1")
    expect(page.locator(".stale")).to_have_count(0)
    expect(page.locator("section.changes")).to_contain_text(f"{a_name} & {b_name}: {a_name} left the school")
    # The removed teacher is in the school's view no longer, but the history names them (the revisions' names).
    assert a not in {t["teacher_id"] for t in site.get(f"/v1/pairings/{run}/schools/S0001").json()["teachers"]}
    page.get_by_text("History of this school").click()
    history_list = page.locator("ol.history")
    expect(history_list).to_contain_text(f"asked to remove {a_name} (“left in August”)")
    expect(history_list.locator(".person", has_text=a_name)).to_have_attribute("title", f"ID {a}")
    history_list.scroll_into_view_if_needed()
    shot(page, "school-history", full=False)


def test_principal_cannot_open_another_school(site: Site, page: Page) -> None:
    run = site.new_run()
    sign_in(page, site, "principal")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Suggested pairs · Lincoln Bend Elementary School (S0001)")
    with page.expect_response(lambda r: r.url.endswith(f"/v1/pairings/{run}/schools/S0002")) as answer:
        page.goto(f"{site.url}/#/pairings/{run}/schools/S0002")
    assert answer.value.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("No access")
    expect(page.get_by_role("alert")).to_contain_text("not for school 'S0002'")
    expect(page.locator("main")).to_contain_text("A principal sees only their own school")
    expect(page.locator("article.card")).to_have_count(0)
    for path in (f"/v1/pairings/{run}/schools/S0002", f"/v1/pairings/{run}/schools/S0002/report.html",
                 f"/v1/pairings/{run}/schools/S0002/revisions"):
        assert site.get(path, "principal").status_code == 403
    shot(page, "no-access", full=False)
    # Views of other roles are refused before any request; their API answers 403 too (a principal reads only its own
    # networks, under "My network": test_networks_web.py).
    page.goto(f"{site.url}/#/networks")
    expect(page.get_by_role("heading", level=1)).to_have_text("No access")
    assert site.client.post(f"{site.url}/v1/networks", headers=site.headers("principal")).status_code == 403
    expect(page.get_by_role("navigation", name="Views").get_by_role("link")).to_have_text(["My school", "My network"])


def test_wrong_key_then_sign_out(site: Site, page: Page) -> None:
    page.goto(site.url)
    page.get_by_label("API key").fill("mk_0000_not-a-key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("This key is unknown or has been revoked")
    assert page.evaluate("sessionStorage.length") == 0
    page.get_by_label("API key").fill(site.keys["principal2"])
    page.get_by_role("button", name="Sign in").click()
    names = site.get("/v1/me", "principal2").json()["school_names"]
    two, three = named(names["S0002"], "S0002"), named(names["S0003"], "S0003")
    assert two == "Holston Station Elementary School (S0002)"
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Suggested pairs · {two}")
    expect(page.locator("#who .role")).to_have_text(f"Signed in: principal · {two}, {three}")
    schools = page.get_by_role("navigation", name="Your schools")
    expect(schools.get_by_role("link")).to_have_text([two, three])
    expect(schools.get_by_role("link", name=two)).to_have_attribute("aria-current", "page")
    page.set_viewport_size(TABLET)
    shot(page, "school-two-schools-tablet", full=False)
    schools.get_by_role("link", name=three).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Suggested pairs · {three}")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert page.evaluate("sessionStorage.length") == 0
    page.reload()
    expect(page.get_by_label("API key")).to_be_visible()


def test_analyst_uploads_runs_and_downloads(site: Site, page: Page, tmp_path: Path) -> None:
    sign_in(page, site, "state")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pairing runs")
    # A file with a problem is refused with the API's problems, row and column included.
    bad = tmp_path / "bad.csv"
    rows = (SAMPLES / "teachers.csv").read_text().splitlines()
    bad.write_text("\n".join([rows[0], rows[1].replace(",2.0,", ",7.5,", 1), *rows[2:5]]) + "\n")
    page.get_by_label("Teachers file (CSV or Excel)").set_input_files(str(bad))
    page.get_by_role("button", name="Upload").click()
    problems = page.locator("table.problems")
    expect(problems).to_contain_text("7.5")
    expect(page.locator("#upload-result")).to_contain_text("The file has problems; nothing was stored")

    page.get_by_label("Teachers file (CSV or Excel)").set_input_files(str(SAMPLES / "observations.csv"))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#upload-result")).to_contain_text("419 teachers in 14 schools")
    page.get_by_label("Subjects").select_option("prefer_same")
    page.get_by_role("button", name="Start the run").click()
    expect(page.locator("#run-state")).to_have_text("Finished.")
    run = page.url.rsplit("/", 1)[1]
    summary = site.get(f"/v1/pairings/{run}").json()["summary"]
    assert summary["policy"]["subject"] == "prefer_same"
    expect(page.locator("dl.summary")).to_contain_text(f"{summary['n_pairs']}")

    table = page.locator("table.data")
    overview = {r["school_id"]: r for r in site.get(f"/v1/pairings/{run}/overview").json()["schools"]}
    assert all(r["school_name"] for r in overview.values())
    expect(table.locator("tbody tr")).to_have_count(14)
    ids = table.locator("tbody td:nth-child(2)")
    expect(table.locator("tbody th")).to_have_text([overview[s]["school_name"] for s in sorted(overview)])
    search = page.get_by_label("Find a school")
    search.fill("s0012")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(page.locator("p.count")).to_have_text("Showing 1 of 14 schools.")
    # By (part of) the name, whatever the case.
    name = overview["S0003"]["school_name"]
    part = name.split()[1].upper()  # "RIDGE" of "Madison Ridge Elementary School"
    found = sorted(s for s, r in overview.items() if part.lower() in r["school_name"].lower())
    assert 1 < len(found) < 14
    search.fill(part)
    expect(ids).to_have_text(found)
    search.fill(name.lower()[3:-3])
    expect(ids).to_have_text(["S0003"])
    expect(table.get_by_role("link")).to_have_text([name])
    search.fill("")
    expect(table.locator("tbody tr")).to_have_count(14)
    table.get_by_role("button", name="School", exact=True).click()
    expect(table.locator("th[aria-sort]")).to_have_text(re.compile("^School"))
    expect(table.locator("tbody th")).to_have_text(sorted((r["school_name"] for r in overview.values()),
                                                          key=str.lower))
    table.get_by_role("button", name="School", exact=True).click()
    expect(table.locator("th[aria-sort]")).to_have_attribute("aria-sort", "descending")
    expect(table.locator("tbody th")).to_have_text(sorted((r["school_name"] for r in overview.values()),
                                                          key=str.lower, reverse=True))
    table.get_by_role("button", name="In a pair").click()
    expect(table.locator("th[aria-sort]")).to_have_attribute("aria-sort", "descending")
    shown = ids.all_inner_texts()
    assert [overview[s]["coverage"] for s in shown] == sorted((r["coverage"] for r in overview.values()),
                                                              reverse=True)
    table.get_by_role("button", name="In a pair").click()
    expect(table.locator("th[aria-sort]")).to_have_attribute("aria-sort", "ascending")
    shot(page, "runs-laptop")
    page.set_viewport_size(TABLET)
    shot(page, "runs-tablet")
    # Every column, the reports' included, fits a tablet without scrolling sideways.
    assert page.evaluate("(w => w.scrollWidth <= w.clientWidth)(document.querySelector('.schools-table'))")

    with page.expect_download() as got:
        page.get_by_role("button", name="Download pairs.csv").click()
    assert got.value.suggested_filename == f"pairs-{run}.csv"
    data = Path(got.value.path()).read_bytes()
    assert data == site.get(f"/v1/pairings/{run}/pairs.csv").content
    assert len(list(csv.DictReader(io.StringIO(data.decode())))) == summary["n_pairs"]
    with page.expect_download() as got:
        page.get_by_role("button", name="All school reports (zip)").click()
    with zipfile.ZipFile(got.value.path()) as z:
        assert len(z.namelist()) == 14
    four = named(overview["S0004"]["school_name"], "S0004")
    with page.expect_download() as got:
        page.get_by_role("button", name=f"Download the report of {four}").click()
    assert got.value.suggested_filename == "S0004.html"
    assert Path(got.value.path()).read_text() == site.get(f"/v1/pairings/{run}/schools/S0004/report.html").text

    table.get_by_role("link", name=overview["S0004"]["school_name"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Suggested pairs · {four}")
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pairing run of")
    page.get_by_role("navigation", name="Views").get_by_role("link", name="Pairing runs").click()
    expect(page.locator("table.data").first.locator("tbody tr").first).to_contain_text("succeeded")


def test_networks_drawn_on_a_map(site: Site, page: Page) -> None:
    sign_in(page, site, "state")
    page.get_by_role("navigation", name="Views").get_by_role("link", name="School networks").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("School networks")
    page.get_by_label("Schools CSV").set_input_files(str(SAMPLES / "schools.csv"))
    page.get_by_role("button", name="Form networks").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("School networks · schools.csv")
    made = site.get(f"/v1/networks/{page.url.rsplit('/', 1)[1]}").json()
    svg = page.locator("svg.map")
    expect(svg).to_have_attribute("role", "img")
    expect(svg.locator(".school")).to_have_count(14)
    expect(svg.locator("rect.school.host")).to_have_count(len(made["networks"]))
    expect(svg.locator("circle.school.out")).to_have_count(len(made["left_out"]))
    expect(svg.locator("line.link")).to_have_count(sum(len(n["members"]) for n in made["networks"]))
    cards = page.locator("article.network-card")
    expect(cards).to_have_count(len(made["networks"]))
    names = made["school_names"]
    assert names["S0001"] == "Lincoln Bend Elementary School"
    for net, card in zip(made["networks"], cards.all(), strict=True):
        expect(card.get_by_role("heading", level=3)).to_have_text(
            f"{net['network_id']} · {net['focus_area'].replace('_', ' ')}")
        # Schools by name beside their ids.
        expect(card.locator("ul.members > li > strong")).to_have_text(
            [named(x["school_name"], x["school_id"]) for x in net["schools"]])
        assert net["leader_name"] == names[net["leader"]]
    left = page.locator("section", has=page.get_by_role("heading", name=re.compile("^Left out")))
    expect(left.locator("ul.unmatched > li > strong")).to_have_text(
        [named(names[sid], sid) for sid in made["left_out"]])
    # On the map: hosts labelled by name (shortened to fit), every school's full name and id in its tooltip.
    host = made["networks"][0]["leader"]
    expect(svg.locator("text.map-label").first).to_be_visible()
    labels = svg.locator("text.map-label").all_text_contents()
    assert any(names[host].startswith(t.rstrip("…")) for t in labels), labels
    assert svg.locator("g > title", has_text=f"{named(names[host], host)}: host in").count() == 1
    expect(page.locator("ul.legend")).to_contain_text(made["networks"][0]["focus_area"].replace("_", " "))
    shot(page, "networks-laptop")
    page.set_viewport_size(TABLET)
    shot(page, "networks-tablet")


HOSTILE_SCHOOL = '<script>alert("school")</script> & Sons, "Elementary"'
HOSTILE = "<b>x</b>"
HOSTILE_2 = "O'Brien, \"Pat\" <img src=x onerror=alert(1)>"


def hostile_csv(school: str = MARKUP_SCHOOL) -> str:
    """A tiny school whose names are markup, quotes and commas; two teachers who share a name (in different case)
    and one without a name. T1 and T2 pair on two indicators, T3 and T4 on one; T5 has no areas."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["teacher_id", "school_id", "school_name", "teacher_name", "subject", "grades", "years_experience",
                "standards_and_objectives", "motivating_students", "questioning"])
    for row in (["T1", HOSTILE, "math", "5", "12", 4.5, 4.5, 3],
                ["T2", HOSTILE_2, "math", "5", "3", 2, 2, 3],
                ["T3", "Pat Lee", "ela", "4", "8", 3, 3, 4.5],
                ["T4", "PAT  LEE", "ela", "4", "2", 3, 3, 2],
                ["T5", "", "science", "3", "5", 3, 3, 3]):
        w.writerow([row[0], school, HOSTILE_SCHOOL, *row[1:]])
    return out.getvalue()


def test_names_with_markup_are_text(site: Site, page: Page) -> None:
    r = site.client.post(f"{site.url}/v1/datasets", files={"file": ("hostile.csv", hostile_csv(), "text/csv")},
                         headers=site.headers("state"))
    assert r.status_code == 201, r.text
    run = site.new_run(dataset_id=r.json()["id"])
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page, site, "principal9")
    school = f"{HOSTILE_SCHOOL} ({MARKUP_SCHOOL})"
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Suggested pairs · {school}")
    assert page.url.endswith(f"#/pairings/{run}/schools/{MARKUP_SCHOOL}")
    expect(page).to_have_title(f"Suggested pairs · {school} · Teacher partnerships")
    expect(page.locator("#who .role")).to_have_text(f"Signed in: principal · {school}")
    view = site.get(f"/v1/pairings/{run}/schools/{MARKUP_SCHOOL}", "principal9").json()
    assert {(p["teacher_a"], p["teacher_b"]) for p in view["pairs"]} == {("T1", "T2"), ("T3", "T4")}
    # Shown as the characters they are: no element, no script, no dialog came of them.
    main = page.locator("main")
    expect(main.locator("article.card", has_text=HOSTILE).locator("h3")).to_have_text(f"{HOSTILE} & {HOSTILE_2}")
    expect(main).to_contain_text(f"{HOSTILE} can support {HOSTILE_2} in:")
    assert main.locator("b, img, script").count() == 0 and page.locator("body script").count() == 0
    # Namesakes show their ids, whatever the case and spacing of the name; a teacher without a name shows the id.
    expect(main.locator("article.card", has_text="Pat Lee").locator("h3")).to_have_text(
        "Pat Lee (T3) & PAT  LEE (T4)")
    expect(main.locator("article.card", has_text="Pat Lee").get_by_role("button", name="Remove Pat Lee (T3)")) \
        .to_have_text("Remove Pat Lee (T3)")
    unmatched = main.locator("ul.unmatched li")
    expect(unmatched).to_have_count(1)
    expect(unmatched.locator("strong")).to_have_text("T5")
    expect(unmatched.get_by_role("button", name="Remove T5 (left the school)")).to_be_visible()
    shot(page, "school-hostile-names", full=False)
    assert not dialogs

    # The analyst's table too; the search takes markup as text.
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, site, "state", f"#/runs/{run}")
    table = page.locator("table.data")
    expect(table.locator("tbody th")).to_have_text([HOSTILE_SCHOOL])
    page.get_by_label("Find a school").fill("<script>")
    expect(table.locator("tbody th a")).to_have_text(HOSTILE_SCHOOL)
    assert not dialogs


def test_a_school_id_with_slashes_and_dots_works_on_the_page(site: Site, page: Page) -> None:
    r = site.client.post(f"{site.url}/v1/datasets", files={"file": ("odd.csv", hostile_csv(ODD_SCHOOL), "text/csv")},
                         headers=site.headers("state"))
    assert r.status_code == 201, r.text
    run = site.new_run(dataset_id=r.json()["id"])
    key = file_key(ODD_SCHOOL)
    sign_in(page, site, "principal_odd")
    school = f"{HOSTILE_SCHOOL} ({ODD_SCHOOL})"
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Suggested pairs · {school}")
    assert page.url.endswith(f"#/pairings/{run}/schools/{key}")
    shot(page, "school-odd-id-laptop", full=False)
    page.set_viewport_size(TABLET)
    shot(page, "school-odd-id-tablet", full=False)
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the report (HTML)").click()
    assert download.value.suggested_filename == f"{key}.html"
    assert "Suggested teacher pairs for" in Path(download.value.path()).read_text(encoding="utf-8")
    # A re-match of the school works too: T5 left.
    page.get_by_role("button", name="Remove T5 (left the school)").click()
    page.get_by_role("button", name="Ask for a new suggestion").click()
    expect(page.locator("p.meta")).to_contain_text("Revision 1")
    after = site.get(f"/v1/pairings/{run}/schools/{key}", "principal_odd").json()
    assert (after["school_id"], after["revision"]) == (ODD_SCHOOL, 1)
    assert "T5" not in {t["teacher_id"] for t in after["teachers"]}


def test_pair_across_schools_names_the_other_school(site: Site, page: Page) -> None:
    run = site.new_run({"cross_school_fallback": True})
    sign_in(page, site, "principal2", f"#/pairings/{run}/schools/S0003")
    view = site.get(f"/v1/pairings/{run}/schools/S0003", "principal2").json()
    ours = {t["teacher_id"] for t in view["teachers"]}
    across = [p for p in view["pairs"] if p["school_b"]]
    assert across, "the sample has pairs across schools from S0003"
    p = across[0]
    other, other_name = (p["teacher_b"], p["teacher_b_name"]) if p["teacher_a"] in ours else \
        (p["teacher_a"], p["teacher_a_name"])
    school = p["school_b_name"] if p["school_id"] == "S0003" else p["school_name"]
    card = page.locator("article.card", has_text=f"{other_name} at {school}").first
    expect(card.locator("h3")).to_contain_text(f"{other_name} at {school}")
    expect(card.locator("ul.who-line")).to_contain_text(f"{other_name} ({other}): teaches at {school}")
    # Only our teacher's scores: one row of the strip, one score column in the tables.
    expect(card.locator("svg.strip g.cell")).to_have_count(19)
    expect(card.locator("table.help-table thead th")).to_have_count(2)
    expect(card.locator("p.note")).to_contain_text("only the state office can change it")
    expect(card.get_by_role("button")).to_have_text(["Open handout"])  # no change to ask for, only its handout
    card.scroll_into_view_if_needed()
    shot(page, "school-across", full=False)
