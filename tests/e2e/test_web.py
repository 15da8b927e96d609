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

from matcher.web import STATIC

from .conftest import SAMPLES, TABLET, Site, shot, sign_in

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


def test_principal_sees_their_school_and_rematches(site: Site, page: Page) -> None:
    run = site.new_run()
    sign_in(page, site, "principal")
    h1 = page.get_by_role("heading", level=1)
    expect(h1).to_have_text("Suggested pairs · S0001")
    expect(h1).to_be_focused()
    assert page.url.endswith(f"#/pairings/{run}/schools/S0001")
    # The key lives in this tab's sessionStorage only, never in the address or in localStorage.
    assert page.evaluate("sessionStorage.getItem('matcher.key')") == site.keys["principal"]
    assert page.evaluate("localStorage.length") == 0 and site.keys["principal"] not in page.url

    view = site.get(f"/v1/pairings/{run}/schools/S0001", "principal").json()
    cards = page.locator("article.card")
    expect(cards).to_have_count(len(view["pairs"]))
    first = view["pairs"][0]
    card = cards.first
    expect(card.get_by_role("heading", level=3)).to_have_text(f"{first['teacher_a']} & {first['teacher_b']}")
    helper, learner = (first["teacher_a"], first["teacher_b"]) if first["a_helps_b"] else \
        (first["teacher_b"], first["teacher_a"])
    expect(card).to_contain_text(f"{helper} can support {learner} in:")
    expect(card).to_contain_text(f"Suggested focus: {first['focus_indicator'].replace('_', ' ')}")
    expect(card.locator("p.why")).to_have_text(first["explanation"])
    strip = card.locator("svg.strip")
    expect(strip).to_have_attribute("role", "img")
    expect(strip.locator("g.cell")).to_have_count(2 * 19)  # both teachers, every TEAM indicator
    expect(strip.locator("rect.helps")).to_have_count(len(set(first["a_helps_b"]) | set(first["b_helps_a"])))
    expect(strip.locator("g.cell.refine-1, g.cell.refine-2").first).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("Teachers without a suggested pair"))).to_be_visible()
    shot(page, "school-laptop")
    page.set_viewport_size(TABLET)
    shot(page, "school-tablet")
    shot(page, "school-tablet-top", full=False)

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
    expect(pending).to_contain_text(f"do not pair {first['teacher_a']} and {first['teacher_b']}")
    for _ in range(200):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Ask for a new suggestion":
            break
    page.keyboard.press("Enter")

    changes = page.locator("section.changes")
    expect(changes.get_by_role("heading", level=2)).to_have_text("What changed in revision 1")
    expect(changes.get_by_role("heading", level=2)).to_be_focused()
    expect(changes.locator("ul.broken")).to_contain_text(
        f"{first['teacher_a']} & {first['teacher_b']}: refused by the principal")
    expect(page.locator("p.meta")).to_contain_text("Revision 1")
    expect(page.locator("#status")).to_contain_text("Saved")
    after = site.get(f"/v1/pairings/{run}/schools/S0001", "principal").json()
    assert after["revision"] == 1
    assert {first["teacher_a"], first["teacher_b"]} not in [{p["teacher_a"], p["teacher_b"]} for p in after["pairs"]]
    expect(page.locator("article.card")).to_have_count(len(after["pairs"]))
    expect(page.locator("article.card.changed")).to_have_count(len(after["diff"]["new"]))
    for new in after["diff"]["new"]:
        expect(page.locator("article.card.changed", has_text=f"{new['teacher_a']} & {new['teacher_b']}")) \
            .to_contain_text("New pair")
    page.set_viewport_size({"width": 1280, "height": 800})
    shot(page, "school-rematched-laptop")


def test_stale_page_is_told_to_reload(site: Site, page: Page) -> None:
    run = site.new_run()
    sign_in(page, site, "principal", f"#/pairings/{run}/schools/S0001")
    expect(page.locator("p.meta")).to_contain_text("Revision 0")
    # Meanwhile the state office re-matches the school (revision 1).
    view = site.get(f"/v1/pairings/{run}/schools/S0001").json()
    a, b = view["pairs"][-1]["teacher_a"], view["pairs"][-1]["teacher_b"]
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
    expect(page.locator("section.changes")).to_contain_text(f"{a} & {b}")
    page.get_by_text("History of this school").click()
    expect(page.locator("ol.history")).to_contain_text(f"asked to remove {a}")
    expect(page.locator("ol.history")).to_contain_text("left in August")


def test_principal_cannot_open_another_school(site: Site, page: Page) -> None:
    run = site.new_run()
    sign_in(page, site, "principal")
    expect(page.get_by_role("heading", level=1)).to_have_text("Suggested pairs · S0001")
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
    # Views of other roles are refused before any request; their API answers 403 too.
    page.goto(f"{site.url}/#/networks")
    expect(page.get_by_role("heading", level=1)).to_have_text("No access")
    assert site.get("/v1/networks", "principal").status_code == 403
    expect(page.get_by_role("navigation", name="Views").get_by_role("link")).to_have_text(["My school"])


def test_wrong_key_then_sign_out(site: Site, page: Page) -> None:
    page.goto(site.url)
    page.get_by_label("API key").fill("mk_0000_not-a-key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("This key is unknown or has been revoked")
    assert page.evaluate("sessionStorage.length") == 0
    page.get_by_label("API key").fill(site.keys["principal2"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Suggested pairs · S0002")
    expect(page.get_by_role("navigation", name="Your schools").get_by_role("link")).to_have_text(["S0002", "S0003"])
    page.get_by_role("navigation", name="Your schools").get_by_role("link", name="S0003").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Suggested pairs · S0003")
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
    page.get_by_label("Teachers CSV").set_input_files(str(bad))
    page.get_by_role("button", name="Upload").click()
    problems = page.locator("table.problems")
    expect(problems).to_contain_text("7.5")
    expect(page.locator("#upload-result")).to_contain_text("The file has problems; nothing was stored")

    page.get_by_label("Teachers CSV").set_input_files(str(SAMPLES / "teachers.csv"))
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
    expect(table.locator("tbody tr")).to_have_count(14)
    search = page.get_by_label("Find a school")
    search.fill("s0012")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(page.locator("p.count")).to_have_text("Showing 1 of 14 schools.")
    search.fill("")
    expect(table.locator("tbody tr")).to_have_count(14)
    table.get_by_role("button", name="In a pair").click()
    expect(table.locator("th[aria-sort]")).to_have_attribute("aria-sort", "descending")
    overview = {r["school_id"]: r for r in site.get(f"/v1/pairings/{run}/overview").json()["schools"]}
    shown = table.locator("tbody th").all_inner_texts()
    assert [overview[s]["coverage"] for s in shown] == sorted((r["coverage"] for r in overview.values()),
                                                              reverse=True)
    table.get_by_role("button", name="In a pair").click()
    expect(table.locator("th[aria-sort]")).to_have_attribute("aria-sort", "ascending")
    shot(page, "runs-laptop")
    page.set_viewport_size(TABLET)
    shot(page, "runs-tablet")

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
    with page.expect_download() as got:
        page.get_by_role("button", name="Download the report of S0004").click()
    assert got.value.suggested_filename == "S0004.html"
    assert Path(got.value.path()).read_text() == site.get(f"/v1/pairings/{run}/schools/S0004/report.html").text

    table.get_by_role("link", name="S0004").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Suggested pairs · S0004")
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
    for net, card in zip(made["networks"], cards.all(), strict=True):
        expect(card.get_by_role("heading", level=3)).to_have_text(
            f"{net['network_id']} · {net['focus_area'].replace('_', ' ')}")
    expect(page.locator("ul.legend")).to_contain_text(made["networks"][0]["focus_area"].replace("_", " "))
    shot(page, "networks-laptop")
    page.set_viewport_size(TABLET)
    shot(page, "networks-tablet")
