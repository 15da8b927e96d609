"""Handouts in a real browser: a principal opens a pair's handout from the school page (a new tab, fetched with the
key), it is styled and prints to exactly one page with Chromium's PDF printing on A4 and on Letter paper, the
longest handout of the sample included (with scores too); the school's handouts download as one zip. Screenshots of
the school view and of a handout at 1280 and 768 px go to test-artifacts/e2e/ (and MATCHER_SHOTS, e.g. /tmp/shots)."""

from __future__ import annotations

import io
import os
import re
import shutil
import zipfile
from html import unescape
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from .conftest import LAPTOP, TABLET, Site, shot, sign_in

EXTRA_SHOTS = os.environ.get("MATCHER_SHOTS", "")


def keep(path: Path) -> None:
    """A copy of a screenshot where a person looks at them (MATCHER_SHOTS), besides the test artifacts."""
    if EXTRA_SHOTS:
        Path(EXTRA_SHOTS).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(EXTRA_SHOTS) / path.name)


def pdf_pages(pdf: bytes) -> int:
    """How many pages a PDF has: its page objects ("/Type /Page", never "/Pages"), which must agree with the page
    tree's /Count."""
    assert pdf.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))
    counts = [int(x) for x in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", pdf)] + \
             [int(x) for x in re.findall(rb"/Count\s+(\d+)[^>]*?/Type\s*/Pages\b", pdf)]
    assert counts and max(counts) == pages, (pages, counts)
    return pages


def printed_pages(page: Page) -> dict[str, int]:
    """The page's PDF page count on A4 and on Letter paper (print media, the page's own @page margins)."""
    page.emulate_media(media="print")
    try:
        return {size: pdf_pages(page.pdf(format=size, prefer_css_page_size=True, print_background=True))
                for size in ("A4", "Letter")}
    finally:
        page.emulate_media(media="screen")


def test_page_counting_can_fail(browser: Browser) -> None:
    p = browser.new_page()
    try:
        p.set_content("<p>one</p>")
        assert printed_pages(p) == {"A4": 1, "Letter": 1}
        p.set_content("<p>many lines</p>" * 200)
        assert min(printed_pages(p).values()) > 1
    finally:
        p.close()


def test_principal_opens_a_handout_that_prints_on_one_page(site: Site, page: Page) -> None:
    run = site.new_run()
    sign_in(page, site, "principal", f"#/pairings/{run}/schools/S0001")
    view = site.get(f"/v1/pairings/{run}/schools/S0001", "principal").json()
    cards = page.locator("article.card")
    expect(cards).to_have_count(len(view["pairs"]))
    # Each card says what its value counts, and offers its handout.
    expect(cards.locator(".card-head .value")).to_have_text([p["value_counts"] for p in view["pairs"]])
    assert all(re.fullmatch(r"\d+ indicators? where one can support the other", p["value_counts"])
               for p in view["pairs"])
    expect(page.locator("p.meta")).to_contain_text(view["value_counts"])
    expect(cards.get_by_role("button", name=re.compile(r"^Open the handout for .+ \(new tab\)$"))).to_have_count(
        len(view["pairs"]))
    first = view["pairs"][0]
    names = (first["teacher_a_name"], first["teacher_b_name"])
    page.set_viewport_size(LAPTOP)
    keep(shot(page, "handouts-school-laptop", full=False))
    page.set_viewport_size(TABLET)
    cards.first.scroll_into_view_if_needed()
    keep(shot(page, "handouts-school-tablet", full=False))
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
    page.set_viewport_size(LAPTOP)

    button = cards.first.get_by_role("button", name=f"Open the handout for {names[0]} and {names[1]} (new tab)")
    with page.context.expect_page() as opened:
        button.click()
    tab = opened.value
    tab.wait_for_url(re.compile(r"^blob:"))
    tab.wait_for_load_state()
    expect(tab.get_by_role("heading", level=1)).to_have_text(f"{names[0]} & {names[1]}")
    expect(tab).to_have_title(f"Partnership: {names[0]} & {names[1]}")
    # The handout's own style applies (the page's content security policy lets exactly that style block in).
    assert tab.evaluate("getComputedStyle(document.querySelector('header')).borderBottomStyle") == "solid"
    assert tab.evaluate("document.querySelector('h1').getBoundingClientRect().left") > 0
    text = tab.locator("body").inner_text()
    assert "What each of you brings" in text and "First steps" in text and "Observe each other at least twice" in text
    assert not re.search(r"\d\.\d\d", text)  # no score
    assert page.evaluate("document.body.querySelectorAll('a[href^=\"blob:\"]').length") == 0  # nothing left behind
    served = site.get(f"/v1/pairings/{run}/schools/S0001/pairs/{first['handout']}/handout.html", "principal").text
    assert tab.evaluate("document.title") == unescape(re.search(r"<title>(.*?)</title>", served).group(1))
    tab.set_viewport_size(LAPTOP)
    keep(shot(tab, "handout-laptop"))
    tab.set_viewport_size(TABLET)
    keep(shot(tab, "handout-tablet"))
    assert tab.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
    assert printed_pages(tab) == {"A4": 1, "Letter": 1}
    tab.close()

    # All of the school's handouts in one zip, the API's file.
    with page.expect_download() as got:
        page.get_by_role("button", name="Download all handouts (zip)").click()
    assert got.value.suggested_filename == "handouts-S0001.zip"
    with zipfile.ZipFile(got.value.path()) as z:
        assert sorted(z.namelist()) == sorted(f"handouts/S0001/{p['handout']}.html" for p in view["pairs"])


def _longest(site: Site, run: str, scores: bool) -> tuple[str, str]:
    """(where, page) of the sample's longest handout: the most indicators listed, the longest names."""
    best = ("", "")
    for school in site.get(f"/v1/pairings/{run}/overview").json()["schools"]:
        z = site.get(f"/v1/pairings/{run}/schools/{school['key']}/handouts.zip", scores=str(scores).lower())
        assert z.status_code == 200
        with zipfile.ZipFile(io.BytesIO(z.content)) as f:
            for name in f.namelist():
                page = f.read(name).decode()
                if len(re.sub(r"<[^>]+>", "", page)) > len(re.sub(r"<[^>]+>", "", best[1])):
                    best = (name, page)
    return best


def test_the_longest_handouts_print_on_one_page(site: Site, browser: Browser) -> None:
    run = site.new_run()
    tab = browser.new_page(viewport=LAPTOP)
    try:
        for scores in (False, True):
            where, html = _longest(site, run, scores)
            tab.set_content(html)
            assert tab.evaluate("document.querySelectorAll('style').length") == 1
            pages = printed_pages(tab)
            assert pages == {"A4": 1, "Letter": 1}, (where, scores, pages)
            if scores:
                assert tab.locator("table.scores tr").count() > 5, where  # many indicators listed
                keep(shot(tab, "handout-longest-scores"))
    finally:
        tab.close()
