"""The rollouts view in a real browser against the real server: a researcher starts a small synthetic rollout from
the form and reads the API's own numbers back from the page (every diagnosand with its Monte Carlo SE, each
estimator's inference and warnings, the scales of the effects, the textbook formula beside the simulation, the size
check, a glossary, balance, the power curve drawn from its rows, power_curve.png as a download); a bad setting shows
the API's problem next to the form; a principal has no rollouts view. Screenshots of a finished rollout go to
test-artifacts/e2e/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

from .conftest import ARTIFACTS, LAPTOP, TABLET, Site, shot, sign_in

# The estimators table's rows (data-key) and where the API has each value: (value, its Monte Carlo SE or None).
DIAGNOSANDS = {
    "truth_mean": lambda e: (e["truth_mean"], None),
    "mean_estimate": lambda e: (e["mean_estimate"], None),
    **{key: (lambda e, key=key: (e[key], e[f"{key}_mc_se"]))
       for key in ("bias", "rmse", "sd_estimate", "mean_se", "power", "coverage", "type_s_rate",
                   "exaggeration_ratio", "mdes")},
    "ri_power": lambda e: (e["randomization"]["power"], e["randomization"]["power_mc_se"]),
    "ri_coverage": lambda e: (e["randomization"]["coverage"], e["randomization"]["coverage_mc_se"]),
    "analytic_power": lambda e: (e["analytic_power"], None),
    "analytic_mdes": lambda e: (e["analytic_mdes"], None),
    "mdes_effect_target": lambda e: (e["mdes_effect_target"], None),
    "targets_paired_share": lambda e: (e["targets_paired_share"], None),
}
GLOSSARY = ("ITT", "CACE", "Bias", "RMSE", "SD of the estimate", "Mean SE", "Power", "Size", "Coverage",
            "Type S rate", "Exaggeration ratio", "MDES", "SMD", "Monte Carlo SE", "Randomization inference")


def shown(cell: Locator) -> float | None:
    """A number as the page prints it (three decimals; '–' for none)."""
    text = cell.inner_text().strip().lstrip("±").strip()
    return None if text == "–" else float(text)


def same(cell: Locator, value: float | None, tolerance: float = 0.0005) -> None:
    got = shown(cell)
    if value is None:
        assert got is None, cell.inner_text()
    else:
        assert got is not None and abs(got - value) <= tolerance + 1e-9, (cell.inner_text(), value)


def same_with_se(cell: Locator, value: float | None, mc_se: float | None) -> None:
    """A value and, when the API has one, its Monte Carlo SE printed beside it ("0.412 ± 0.011")."""
    same(cell.locator(".v"), value)
    se = cell.locator(".mc-se")
    if value is None or mc_se is None:
        expect(se).to_have_count(0)
    else:
        expect(se).to_contain_text("Monte Carlo SE")  # said to screen readers, hidden on the screen
        text = se.text_content() or ""
        got = re.match(r"\s*±\s*(-?[0-9.]+)", text)
        assert got and abs(float(got.group(1)) - mc_se) <= 0.0005 + 1e-9, (text, mc_se)


def shot_of(part: Locator, name: str) -> None:
    """A screenshot of one part of the page (the estimators' section: the whole page is too tall to read)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    part.screenshot(path=str(ARTIFACTS / f"{name}.png"))


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
    page.get_by_label("Principals who implement").fill("0.8")  # some schools do not: a complier effect too
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

    # Each estimator's operating characteristics, as the API's summary has them: every diagnosand with its Monte
    # Carlo SE, randomization inference's and the formula's power beside the estimator's own.
    summary = run["summary"]
    estimators = summary["estimators"]
    assert set(estimators) == {"difference_in_means", "regression", "complier_iv"}
    expect(table.locator("thead th[data-estimator]")).to_have_count(len(estimators))
    for name, e in estimators.items():
        head = table.locator(f"thead th[data-estimator='{name}']")
        expect(head).to_contain_text({"itt": "ITT", "cace": "CACE"}[e["estimand"]])
        expect(head).to_contain_text({"cr1": "CR1", "cr2": "CR2", "cr3": "CR3", "pair_difference": "Pair difference",
                                      "randomization": "Randomization"}[e["inference"]])
        for key, where in DIAGNOSANDS.items():
            same_with_se(table.locator(f"tr[data-key='{key}'] td[data-estimator='{name}']"), *where(e))
        same(table.locator(f"tr[data-key='df'] td[data-estimator='{name}']"), e["df"], 0.05)
        expect(table.locator(f"tr[data-key='replications'] td[data-estimator='{name}']")).to_contain_text(
            str(e["replications"]))
    some_se = [e["power_mc_se"] for e in estimators.values()]
    assert all(se is not None and se > 0 for se in some_se)
    expect(table.locator("tr[data-key='power'] .mc-se")).to_have_count(len(estimators))

    # What each estimator estimates and its inference, said in words; each warning, with its message, as an alert.
    notes = page.locator("dl.est-notes")
    for name, e in estimators.items():
        expect(notes.locator(f"div[data-estimator='{name}'] dd.inference")).to_contain_text(e["inference_label"])
        expect(notes.locator(f"div[data-estimator='{name}'] dd.estimand")).to_contain_text(e["estimand_label"])
    flags = [(name, f) for name, e in estimators.items() for f in e["flags"]]
    shown_flags = page.locator(".ro-flags[role=alert] li.flag")
    expect(shown_flags).to_have_count(len(flags))
    for (name, f), li in zip(flags, shown_flags.all(), strict=True):
        assert li.get_attribute("data-estimator") == name and li.get_attribute("data-kind") == f["kind"]
        expect(li).to_contain_text(f["message"])
    # So few replications that a flag may be chance: the page says so, with the Monte Carlo SE it implies.
    size_reps = {name: c["replications"] for name, c in summary.get("size", {}).get("estimators", {}).items()}
    few = min(min(e["replications"], size_reps.get(name, e["replications"])) for name, e in estimators.items()
              if e["flags"]) if flags else None
    if few is not None and few < 500:
        expect(page.locator(".ro-flags .few-replications")).to_contain_text(
            f"With {few} replications a flag can be chance: one Monte Carlo SE of a 5% rate is "
            f"{100 * (0.05 * 0.95 / few) ** 0.5:.1f} points")
    for name, e in estimators.items():
        badge = table.locator(f"thead th[data-estimator='{name}'] .flag-badge")
        expect(badge).to_have_count(1 if e["flags"] else 0)

    # The scales: the set effect on students of paired targets, its dilution to the ITT, the complier effect.
    scales = summary["scales"]
    box = page.locator("section.scales")
    expect(box.locator("div[data-key='paired_target_share'] dd")).to_have_text(
        f"{100 * scales['paired_target_share']:.1f}%")
    for key in ("effect_target", "itt", "cace"):
        dd = box.locator(f"div[data-key='{key}'] dd")
        assert abs(float((dd.inner_text()).removesuffix(" SD")) - scales[key]) <= 0.0005
    expect(box.locator("ul.explanation li")).to_have_text(scales["explanation"])

    # The textbook formula beside the simulation, and why they differ.
    analytic = summary["analytic"]
    expect(page.locator("section.formula code")).to_have_text(analytic["case"])
    expect(page.locator("section.formula ul.differences li")).to_have_text(analytic["differences"])
    for name, a in analytic["estimators"].items():
        cells = page.locator(f"table.analytic tr[data-estimator='{name}'] td")
        same(cells.nth(0), a["se"])
        same(cells.nth(1), estimators[name]["sd_estimate"])
        same(cells.nth(2), a["simulated_sd_over_formula_se"], 0.005)
        same(cells.nth(5), a["mdes"])
        same(cells.nth(6), estimators[name]["mdes"])

    # The size check (the curve's point without effect): each test's rejection rate, randomization inference's too.
    size = summary["size"]
    assert size["source"] == "the power curve's point without effect"
    for name, check in size["estimators"].items():
        row = page.locator(f"table.size tr[data-estimator='{name}']")
        same_with_se(row.locator("td[data-key='size']"), check["size"], check["size_mc_se"])
        same(row.locator("td[data-key='randomization_size']"), check["randomization_size"])
        flagged = [f for f in check["flags"] if f["kind"] == "size"]
        expect(row.locator("td[data-key='verdict']")).to_have_text(
            ("✗ too high" if flagged[0]["value"] > flagged[0]["nominal"] else "✗ too low") if flagged else "✓ within")

    # A glossary beside the tables, one line for each word they use.
    glossary = page.locator("aside.glossary")
    expect(glossary).to_have_attribute("aria-labelledby", "glossary-title")
    expect(glossary.locator("dl dt")).to_have_text(list(GLOSSARY))
    for dd in glossary.locator("dl dd").all():
        assert dd.inner_text().strip()
    if page.viewport_size and page.viewport_size["width"] >= 1200:  # beside the table, not under it
        g, t = glossary.bounding_box(), table.bounding_box()
        assert g and t and g["x"] >= t["x"] + t["width"] and g["y"] < t["y"] + t["height"]

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
    # One chart only: the simulator's PNG is a download (below), not a second picture of the same curve.
    expect(page.locator("section[aria-labelledby='curve-title'] img")).to_have_count(0)
    expect(page.locator("img")).to_have_count(0)

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
    # Every file the rollout wrote is offered, the power curve's PNG among them.
    buttons = page.locator(".downloads button")
    expect(buttons).to_have_text([f"Download {f['name']}" for f in run["files"]])
    with page.expect_download() as got:
        page.get_by_role("button", name="Download power_curve.png").click()
    assert got.value.suggested_filename == f"rollout-{rollout_id}-power_curve.png"
    png = Path(got.value.path()).read_bytes()
    assert png.startswith(b"\x89PNG") and png == site.get(f"/v1/rollouts/{rollout_id}/files/power_curve.png",
                                                         "researcher").content
    # The finished toast goes after a few seconds; take it away now so that it covers nothing in the pictures.
    page.evaluate("document.getElementById('status').textContent = ''")
    shot(page, "rollout-laptop")
    shot_of(page.locator("section[aria-labelledby='est-title']"), "rollout-laptop-estimators")
    page.set_viewport_size(TABLET)
    shot(page, "rollout-tablet")
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "rollout-tablet-top", full=False)
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]  # nothing sticks out
    wrap = page.locator("table.characteristics").locator("xpath=..")
    assert wrap.evaluate("e => e.scrollWidth <= e.clientWidth"), "the estimators' table scrolls on a tablet"
    for other in ("table.size", "table.analytic"):  # the size check and the formula's table fit too
        assert page.locator(other).locator("xpath=..").evaluate("e => e.scrollWidth <= e.clientWidth"), other
    g, t = page.locator("aside.glossary").bounding_box(), table.bounding_box()
    assert g and t and g["y"] >= t["y"] + t["height"]  # under the tables on a tablet
    shot_of(page.locator("section[aria-labelledby='est-title']"), "rollout-tablet-estimators")
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
    expect(views).to_have_text(["My school", "My network"])  # and no Rollouts
    page.goto(f"{site.url}/#/rollouts")
    expect(page.get_by_role("heading", level=1)).to_have_text("No access")
    expect(page.get_by_role("alert")).to_contain_text("A principal key cannot open this page")
    expect(page.locator("form.design-form")).to_have_count(0)
    assert site.get("/v1/rollouts", "principal").status_code == 403
