"""Principals' decisions that last, in a real browser: a principal refuses a pair on a tablet (asking from the bar
that stays beside the cards), the state office starts the next run from the page with the earlier run and its
principals' changes chosen for it, and the principal finds the refusal held and says so."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .conftest import TABLET, Site, shot, sign_in


def test_a_refusal_holds_in_the_next_run_and_the_principal_is_told(site: Site, page: Page) -> None:
    run1 = site.new_run()
    view = site.get(f"/v1/pairings/{run1}/schools/S0001", "principal").json()
    best = max(view["pairs"], key=lambda p: (p["value"], p["teacher_a"]))
    a, b = best["teacher_a_name"], best["teacher_b_name"]
    refused = frozenset((best["teacher_a"], best["teacher_b"]))

    # The principal refuses the pair on a tablet and asks from the bar at the bottom of the window, beside the cards.
    page.set_viewport_size(TABLET)
    sign_in(page, site, "principal", f"#/pairings/{run1}/schools/S0001")
    card = page.locator("article.card", has=page.get_by_role("heading", name=f"{a} & {b}", exact=True))
    card.get_by_role("button", name="Do not pair these two").click()
    bar = page.locator(".panel-bar")
    expect(bar).to_contain_text("1 change chosen; the other pairs stay as they are")
    ask = bar.get_by_role("button", name="Ask now")
    expect(ask).to_be_in_viewport()
    assert card.bounding_box()["y"] < TABLET["height"]  # the card and the request on one screen
    shot(page, "decisions-tablet-bar", full=False)
    ask.click()
    expect(page.locator("section.changes ul.broken")).to_contain_text(f"{a} & {b}: refused by the principal")
    history = site.get(f"/v1/pairings/{run1}/schools/S0001/revisions").json()["revisions"]
    assert [(r["revision"], r["created_by_label"]) for r in history] == [(0, "state office"), (1, "Lincoln Bend")]
    assert history[1]["request"]["stability"] == "keep_untouched"  # the page's default

    # The state office starts the next run: the earlier run and carrying its principals' changes are chosen for it.
    state = page.context.browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        sign_in(state, site, "state", "#/runs")
        state.get_by_label("Teachers", exact=True).select_option(site.dataset_id)  # the September file, say
        expect(state.get_by_label("Keep the pairs of an earlier run")).to_have_value(run1)  # the newest on them
        expect(state.get_by_label("Carry principals' changes")).to_be_checked()
        expect(state.get_by_label("Keep every earlier pair still allowed; pair only the others")).to_be_checked()
        shot(state, "decisions-start-run", full=False)
        state.get_by_role("button", name="Start the run").click()
        expect(state.locator("#run-state")).to_have_text("Finished.", timeout=60_000)
        run2 = state.url.rsplit("/", 1)[1]
    finally:
        state.close()
    run = site.get(f"/v1/pairings/{run2}").json()
    assert run["previous_pairing_id"] == run1 and run["policy"]["previous_stability"] == "keep_untouched"
    assert [(d["kind"], d["held"], d["made_by"]) for d in run["summary"]["carried"]] == \
        [("refused", True, "Lincoln Bend")]
    site.runs.append(run2)

    # The principal's start page is the newest run: the pair is not there, and the page says why.
    page.goto(f"{site.url}/#/")
    expect(page).to_have_url(re.compile(f"#/pairings/{run2}/schools/S0001$"))
    notice = page.locator("section.carried")
    expect(notice.get_by_role("heading", level=2)).to_have_text("Your earlier changes, carried into this run")
    expect(notice).to_contain_text(re.compile(
        rf"Carried from your school's changes of \d{{1,2}} [A-Z][a-z]+( \d{{4}})? \(Lincoln Bend\): "
        rf"the pair {re.escape(a)} – {re.escape(b)} stays refused\."))
    expect(page.get_by_role("heading", name=f"{a} & {b}", exact=True)).to_have_count(0)
    assert refused not in {frozenset((p["teacher_a"], p["teacher_b"]))
                           for p in site.get(f"/v1/pairings/{run2}/schools/S0001", "principal").json()["pairs"]}
    shot(page, "decisions-carried-tablet", full=False)
    page.set_viewport_size({"width": 1280, "height": 800})
    shot(page, "decisions-carried-laptop", full=False)

    # The earlier run is one click away, and its history names who asked by the key's label.
    page.get_by_role("navigation", name="Runs").get_by_role("link").nth(1).click()
    expect(page).to_have_url(re.compile(f"#/pairings/{run1}/schools/S0001$"))
    expect(page.locator("p.notice.earlier")).to_contain_text("This is an earlier run")
    page.get_by_text("History of this school").click()
    entries = page.locator("ol.history > li")
    expect(entries.nth(1)).to_contain_text(f"Lincoln Bend: asked to do not pair {a} and {b}")
    assert site.keys["principal"].split("_")[1] not in page.locator("ol.history").inner_text()
    entries.nth(0).get_by_role("link", name="Revision 0").click()
    expect(page.locator("p.meta")).to_contain_text("Revision 0")
    expect(page.locator("p.notice.earlier").first).to_contain_text("the current suggestion is revision 1")
    expect(page.get_by_role("heading", name=f"{a} & {b}", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Do not pair these two")).to_have_count(0)  # an earlier revision is read
    shot(page, "decisions-earlier-revision", full=False)
