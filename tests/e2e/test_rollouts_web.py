"""The rollouts view in a real browser against the real server: a researcher starts a small synthetic rollout from
the form and reads the API's own numbers back from the page (operating characteristics, balance, the power curve
drawn from its rows and the simulator's PNG); a bad setting shows the API's problem next to the form; a principal
has no rollouts view. Screenshots of a finished rollout go to test-artifacts/e2e/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

from .conftest import LAPTOP, TABLET, Site, shot, sign_in

COLUMNS = ("truth_mean", "mean_estimate", "bias", "rmse", "power", "coverage", "mdes", "targets_paired_share")


def shown(cell: Locator) -> float | None:
    """A number as the page prints it (three decimals; '–' for none)."""
    text = cell.inner_text().strip().lstrip("±")
    return None if text == "–" else float(text)


def same(cell: Locator, value: float | None) -> None:
    got = shown(cell)
    if value is None:
        assert got is None, cell.inner_text()
    else:
        assert got is not None and abs(got - value) <= 0.0005 + 1e-9, (cell.inner_text(), value)


def rollouts(site: Site, who: str = "researcher") -> list[dict[str, Any]]:
    r = site.get("/v1/rollouts", who)
    assert r.status_code == 200, r.text
    return r.json()["rollouts"]


def test_researcher_runs_a_rollout_and_reads_the_api_numbers(site: Site, page: Page) -> None:
    sign_in(page, site, "researcher")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pairing runs")
    page.get_by_role("navigation", name="Views").get_by_role("link", name="Rollouts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rollouts")
    expect(page.get_by_role("heading", level=1)).to_be_focused()
    page.get_by_label("Schools", exact=True).fill("10")
    page.get_by_label("Replications", exact=True).fill("30")
    page.get_by_label("Values", exact=True).fill("0, 0.2, 0.4")
    page.get_by_label("Replications per point").fill("20")
    page.get_by_label("Replications per point").press("Enter")  # submits the form from the keyboard

    expect(page.get_by_role("heading", level=1)).to_contain_text("Rollout of")
    expect(page.get_by_role("heading", level=1)).to_be_focused()  # at once, while the progress is polled
    expect(page.locator("#rollout-state")).to_have_attribute("role", "status")
    rollout_id = page.url.rsplit("/", 1)[1]
    table = page.locator("table.characteristics")
    expect(table).to_be_visible(timeout=25_000)
    run = site.get(f"/v1/rollouts/{rollout_id}", "researcher").json()
    assert run["status"] == "succeeded", run
    design = run["design"]
    assert design["population"]["synthetic"]["schools"] == 10 and design["simulation"]["replications"] == 30
    assert design["power_curve"] == {"vary": "effect_target", "values": [0.0, 0.2, 0.4], "replications": 20}

    # Each estimator's operating characteristics, as the API's summary has them.
    estimators = run["summary"]["estimators"]
    expect(table.locator("tbody tr")).to_have_count(len(estimators))
    for name, e in estimators.items():
        row = table.locator(f"tr[data-estimator='{name}']")
        expect(row.locator("td[data-key='estimand']")).to_have_text(e["estimand"].upper())
        for key in COLUMNS:
            same(row.locator(f"td[data-key='{key}']"), e[key])

    # The power curve: one path per estimator, power on 0..1, the target line, a name and a description.
    svg = page.locator("svg.power-curve")
    expect(svg).to_have_attribute("role", "img")
    curve_estimators = {r["estimator"] for r in run["power_curve"]}
    assert curve_estimators == set(estimators)
    expect(svg.locator("path")).to_have_count(len(curve_estimators))
    expect(svg.locator("path.curve")).to_have_count(len(curve_estimators))
    for name in curve_estimators:
        expect(svg.locator(f"g.series[data-estimator='{name}'] path")).to_have_count(1)
    expect(svg.locator("g.target line")).to_have_count(1)
    desc = svg.locator(f"desc#{svg.get_attribute('aria-describedby')}")
    expect(desc).to_contain_text("Difference in means: power")
    expect(desc).to_contain_text("The dashed line is the target power, 0.8")
    expect(svg.locator(f"title#{svg.get_attribute('aria-labelledby')}")).to_have_text(
        "Power by effect on targets' students (sd), one line per estimator")
    expect(svg.locator("text.axis-label")).to_have_text(["Effect on targets' students (SD)", "Power"])
    expect(page.locator("ul.curve-legend li")).to_have_count(len(curve_estimators) + 2)
    png = page.locator("img.server-png")
    expect(png).to_have_attribute("src", re.compile(r"^blob:"))  # fetched with the key, never a key in a URL
    page.wait_for_function("document.querySelector('img.server-png').naturalWidth > 0")

    # The balance table: the API's balance rows, in order.
    balance = page.locator("table.balance tbody tr")
    expect(balance).to_have_count(len(run["balance"]))
    for row, want in zip(balance.all(), run["balance"], strict=True):
        expect(row.locator("th")).to_have_text(want["covariate"].replace("_", " "))
        cells = row.locator("td")
        for i, key in enumerate(("mean_treated", "mean_control", "smd", "threshold")):
            same(cells.nth(i), want[key])
        expect(cells.nth(4)).to_contain_text("within" if want["within_threshold"] else "outside")

    # A file, fetched with the key in the header and saved: byte for byte the API's.
    with page.expect_download() as got:
        page.get_by_role("button", name="Download balance.csv").click()
    assert got.value.suggested_filename == f"rollout-{rollout_id}-balance.csv"
    assert Path(got.value.path()).read_bytes() == site.get(f"/v1/rollouts/{rollout_id}/files/balance.csv",
                                                           "researcher").content
    # The finished toast goes after a few seconds; take it away now so that it covers nothing in the pictures.
    page.evaluate("document.getElementById('status').textContent = ''")
    shot(page, "rollout-laptop")
    page.set_viewport_size(TABLET)
    shot(page, "rollout-tablet")
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "rollout-tablet-top", full=False)
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]  # nothing sticks out
    wrap = page.locator("table.characteristics").locator("xpath=..")
    assert wrap.evaluate("e => e.scrollWidth <= e.clientWidth"), "the estimators' table scrolls on a tablet"
    page.set_viewport_size(LAPTOP)

    page.get_by_role("navigation", name="Views").get_by_role("link", name="Rollouts").click()
    listed = page.locator("table.data tbody tr").first
    expect(listed).to_contain_text("succeeded")
    expect(listed).to_contain_text("synthetic district: 10 schools")
    shot(page, "rollouts-laptop")
    page.set_viewport_size(TABLET)
    shot(page, "rollouts-tablet")


def test_a_bad_setting_shows_the_api_problem(site: Site, page: Page) -> None:
    sign_in(page, site, "researcher", "#/rollouts")
    expect(page.get_by_role("heading", level=1)).to_have_text("Rollouts")
    before = len(rollouts(site))
    share = page.get_by_label("Treated share")
    share.fill("1.5")
    with page.expect_response(lambda r: r.url.endswith("/v1/rollouts") and r.request.method == "POST") as answer:
        page.get_by_role("button", name="Start the rollout").click()
    assert answer.value.status == 422
    problems = page.locator("#rollout-result table.problems")
    expect(problems.locator("tbody tr")).to_have_count(1)
    expect(problems.locator("tbody th")).to_have_text("assignment.treated_share")
    expect(problems.locator("tbody td").first).to_have_text("1.5")
    expect(page.locator("#rollout-result [role=alert]")).to_contain_text("The design has problems")
    # The message sits under the field too, which is marked invalid, described by it, and takes the focus.
    expect(share).to_have_attribute("aria-invalid", "true")
    expect(share).to_be_focused()
    error = page.locator("#ro-share-error")
    expect(error).to_be_visible()
    assert "ro-share-error" in (share.get_attribute("aria-describedby") or "")
    shot(page, "rollout-problem", full=False)
    assert len(rollouts(site)) == before  # nothing was stored

    share.fill("0.5")
    page.get_by_label("Method").select_option("blocked")
    expect(page.get_by_label("size band (thirds)")).to_be_checked()
    page.get_by_label("size band (thirds)").uncheck()
    page.get_by_role("button", name="Start the rollout").click()
    expect(problems.locator("tbody th")).to_have_text("assignment.blocks")
    expect(share).not_to_have_attribute("aria-invalid", "true")  # the earlier problem is gone
    assert len(rollouts(site)) == before

    # A power curve over numbers of schools: the values must be whole numbers of schools.
    page.get_by_label("Method").select_option("complete")
    page.get_by_label("Vary").select_option("schools")
    page.get_by_label("Values", exact=True).fill("4, 6.5")
    with page.expect_response(lambda r: r.url.endswith("/v1/rollouts") and r.request.method == "POST") as answer:
        page.get_by_role("button", name="Start the rollout").click()
    assert answer.value.status == 422
    assert answer.value.request.post_data_json["power_curve"]["vary"] == "schools"
    expect(problems.locator("tbody th")).to_have_text("power_curve.values")
    expect(page.locator("#ro-curve")).to_have_attribute("aria-invalid", "true")
    assert len(rollouts(site)) == before


def test_principal_has_no_rollouts(site: Site, page: Page) -> None:
    sign_in(page, site, "principal")
    expect(page.get_by_role("heading", level=1)).to_contain_text("S0001")
    views = page.get_by_role("navigation", name="Views").get_by_role("link")
    expect(views).to_have_text(["My school"])
    page.goto(f"{site.url}/#/rollouts")
    expect(page.get_by_role("heading", level=1)).to_have_text("No access")
    expect(page.get_by_role("alert")).to_contain_text("A principal key cannot open this page")
    expect(page.locator("form.design-form")).to_have_count(0)
    assert site.get("/v1/rollouts", "principal").status_code == 403
