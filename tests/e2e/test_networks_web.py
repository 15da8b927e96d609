"""School networks in a real browser, for everyone in them: the state office forms networks, downloads networks.csv
and every network's page, opens one network's page, re-forms a network (a school leaves, two are kept apart) and is
told to reload when another tab re-formed first, and assigns facilitators from a CSV; the principal of a host sees
its network with its partners by name and nothing of any other network (a left-out school sees why); a facilitator
sees the networks it facilitates only. Screenshots at 1280 and 768 px go to test-artifacts/e2e/."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from .conftest import LAPTOP, SAMPLES, TABLET, Site, shot, sign_in

HOST_SCHOOL = "S0003"  # principal_host's school: a host when the sample's networks are formed (checked below)
FACILITATORS = (
    "facilitator_id,name,latitude,longitude\n"
    "F01,Ana Ruiz,35.2000,-89.5300\n"  # near the sample's southern hosts
    "F02,Ben Okafor,35.3000,-89.5700\n"  # near its northern ones
)


def named(name: str, ident: str) -> str:
    return f"{name} ({ident})" if name else ident


def form_networks(site: Site, text: str | None = None, name: str = "schools.csv") -> dict[str, Any]:
    """A network run of its own (tests that change revisions must not share one), as the API answers."""
    data = text.encode() if text is not None else (SAMPLES / "schools.csv").read_bytes()
    r = site.client.post(f"{site.url}/v1/networks", files={"file": (name, data, "text/csv")},
                         headers=site.headers("state"))
    assert r.status_code == 201, r.text
    return r.json()


def assign(site: Site, run: dict[str, Any], caseload: int = 2) -> dict[str, Any]:
    r = site.client.post(f"{site.url}/v1/networks/{run['id']}/facilitators", headers=site.headers("state"),
                         files={"file": ("facilitators.csv", FACILITATORS.encode(), "text/csv")},
                         data={"revision": str(run["revision"]), "caseload": str(caseload)})
    assert r.status_code == 201, r.text
    return r.json()


def without(*school_ids: str) -> str:
    """The sample's schools file without some schools."""
    lines = (SAMPLES / "schools.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    return "".join(line for line in lines if line.split(",", 1)[0] not in school_ids)


def fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def both_sizes(page: Page, name: str) -> None:
    """Screenshots at laptop and tablet width (nothing wider than the window), back at laptop width after."""
    assert not re.search(r"\b(null|undefined|NaN)\b", page.locator("main").inner_text())
    page.set_viewport_size(LAPTOP)
    shot(page, f"{name}-laptop")
    fits(page)
    page.set_viewport_size(TABLET)
    shot(page, f"{name}-tablet")
    fits(page)
    page.set_viewport_size(LAPTOP)


def test_state_forms_networks_downloads_and_opens_a_page(site: Site, page: Page) -> None:
    sign_in(page, site, "state")
    page.get_by_role("navigation", name="Views").get_by_role("link", name="School networks").click()
    page.get_by_label("Schools CSV").set_input_files(str(SAMPLES / "schools.csv"))
    page.get_by_role("button", name="Form networks").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("School networks · schools.csv")
    run_id = page.url.rsplit("/", 1)[1]
    made = site.get(f"/v1/networks/{run_id}").json()
    names = made["school_names"]
    schools = {x["school_id"]: x for x in site.get(f"/v1/networks/{run_id}/schools").json()["schools"]}
    cards = page.locator("article.network-card")
    expect(cards).to_have_count(len(made["networks"]))
    # School type and grades beside each school, as the schools file gives them (grades from grade_min/max).
    host = made["networks"][0]["leader"]
    first = cards.first.locator("ul.members > li").first
    expect(first.locator("strong")).to_have_text(named(names[host], host))
    expect(first.locator(".facts")).to_contain_text(f"{schools[host]['level']} school")
    expect(page.locator("p.meta")).to_contain_text("Revision 0")

    # networks.csv: every school of every network, with its role and reason, as the API's file.
    with page.expect_download() as got:
        page.get_by_role("button", name="Download networks.csv").click()
    assert got.value.suggested_filename == f"networks-{run_id}-r0.csv"
    rows = list(csv.DictReader(io.StringIO(Path(got.value.path()).read_text(encoding="utf-8-sig"))))
    assert sorted((r["network_id"], r["school_id"], r["role"]) for r in rows) == sorted(
        (n["network_id"], x["school_id"], x["role"]) for n in made["networks"] for x in n["schools"])
    assert {r["school_id"]: r["school_name"] for r in rows} == {x["school_id"]: names[x["school_id"]]
                                                                 for n in made["networks"] for x in n["schools"]}
    assert all(r["explanation"] for r in rows)
    served = site.get(f"/v1/networks/{run_id}/networks.csv", revision=0)
    assert served.status_code == 200 and Path(got.value.path()).read_bytes() == served.content

    # Every network's page in one zip.
    with page.expect_download() as got:
        page.get_by_role("button", name="Every network's page (zip)").click()
    assert got.value.suggested_filename == f"network-pages-{run_id}-r0.zip"
    with zipfile.ZipFile(got.value.path()) as z:
        pages = [n for n in z.namelist() if n.endswith(".html")]
        assert len(pages) >= len(made["networks"])
        assert any(names[host] in z.read(n).decode() for n in pages)

    # One network's page, fetched with the key and shown in a new tab.
    net = made["networks"][0]
    with page.context.expect_page() as opened:
        cards.first.get_by_role("button", name=f"Open the network's page for {net['network_id']} (new tab, to "
                                             "print)").click()
    tab = opened.value
    tab.wait_for_url(re.compile(r"^blob:"))
    tab.wait_for_load_state()
    text = tab.locator("body").inner_text()
    for x in net["schools"]:
        assert names[x["school_id"]] in text
    others = {sid for n in made["networks"][1:] for sid in n["members"] + [n["leader"]]}
    assert not any(names[sid] in text for sid in others)
    # The page's own style applies (the web page's content security policy lets exactly that style block in).
    assert tab.evaluate("getComputedStyle(document.body).maxWidth") != "none"
    tab.set_viewport_size(LAPTOP)
    shot(tab, "network-page-laptop")
    tab.close()

    both_sizes(page, "networks-state")


def test_state_reforms_a_network_and_is_told_when_another_tab_did_first(site: Site, page: Page) -> None:
    made = form_networks(site)
    run_id = made["id"]
    names = made["school_names"]
    net = made["networks"][0]
    nid = net["network_id"]
    leaves = net["members"][0]
    out = sorted(made["left_out"])
    sign_in(page, site, "state", f"#/networks/{run_id}")
    expect(page.locator("p.meta")).to_contain_text("Revision 0")
    card = page.locator("article.network-card").first
    expect(card.get_by_role("heading", level=3)).to_contain_text(nid)
    toggle = card.get_by_role("button", name=f"Re-form this network ({nid})")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    panel = card.locator("form.reform")
    expect(panel.get_by_role("heading", name=f"Re-form {nid}")).to_be_focused()
    # Nothing chosen: the page says what to do, and sends nothing.
    panel.get_by_role("button", name=f"Re-form {nid}", exact=True).click()
    expect(panel.get_by_role("alert")).to_contain_text("Tick a school that leaves")
    panel.get_by_label(named(names[leaves], leaves), exact=False).check()
    # Two schools to keep apart: the same school twice is refused, then two left-out schools (either may join).
    panel.get_by_label("School", exact=True).select_option(net["leader"])
    panel.get_by_label("and school").select_option(net["leader"])
    panel.get_by_role("button", name="Add this pair").click()
    expect(panel.get_by_role("alert")).to_have_text("Choose two different schools.")
    assert len(out) >= 2
    apart = out[:2]
    panel.get_by_label("School", exact=True).select_option(apart[0])
    panel.get_by_label("and school").select_option(apart[1])
    panel.get_by_role("button", name="Add this pair").click()
    expect(panel.locator("ul.pending")).to_contain_text(f"{named(names[apart[0]], apart[0])} and "
                                                        f"{named(names[apart[1]], apart[1])}")
    panel.get_by_label("Note for the record (optional)").fill("moved to another program")
    panel.scroll_into_view_if_needed()
    page.set_viewport_size(LAPTOP)
    shot(page, "networks-reform-laptop", full=False)
    page.set_viewport_size(TABLET)
    panel.scroll_into_view_if_needed()
    shot(page, "networks-reform-tablet", full=False)
    fits(page)
    page.set_viewport_size(LAPTOP)

    with page.expect_request(lambda r: r.url.endswith(f"/v1/networks/{run_id}/rematch")) as sent:
        panel.get_by_role("button", name=f"Re-form {nid}", exact=True).click()
    body = json.loads(sent.value.post_data or "{}")
    assert body == {"revision": 0, "network_id": nid, "remove": [leaves], "avoid": [apart],
                    "note": "moved to another program"}
    # What changed: the new revision, the school that left now left out (highlighted), the network formed again.
    changes = page.locator("section.changes")
    expect(changes.get_by_role("heading", level=2)).to_have_text("What changed in revision 1")
    expect(changes.get_by_role("heading", level=2)).to_be_focused()
    expect(page.locator("p.meta")).to_contain_text("Revision 1")
    now = site.get(f"/v1/networks/{run_id}").json()
    assert now["revision"] == 1 and leaves in now["left_out"]
    expect(changes).to_contain_text(f"{nid} re-formed without {named(names[leaves], leaves)}")
    expect(changes.locator("li", has_text=now["left_out"][leaves])).to_have_text(
        f"{named(names[leaves], leaves)}: {now['left_out'][leaves]}")
    left = page.locator("section", has=page.get_by_role("heading", name=re.compile("^Left out")))
    expect(left.locator("li.changed", has_text=named(names[leaves], leaves))).to_contain_text(now["left_out"][leaves])
    assert left.locator("li.changed").count() == len(set(now["left_out"]) - set(made["left_out"]))
    expect(page.locator("article.network-card ul.members > li > strong", has_text=named(names[leaves], leaves))
           ).to_have_count(0)
    shot(page, "networks-reformed", full=False)

    # A second tab re-forms another network first; this tab's change is refused and it is told to reload.
    other = page.context.new_page()
    sign_in(other, site, "state", f"#/networks/{run_id}")
    expect(other.locator("p.meta")).to_contain_text("Revision 1")
    second = now["networks"][-1]
    other_card = other.locator("article.network-card").filter(
        has=other.get_by_role("heading", level=3, name=re.compile(f"^{second['network_id']} ")))
    other_card.get_by_role("button", name=f"Re-form this network ({second['network_id']})").click()
    gone = second["members"][0]
    other_card.get_by_label(named(names[gone], gone), exact=False).check()
    other_card.get_by_role("button", name=f"Re-form {second['network_id']}", exact=True).click()
    expect(other.locator("p.meta")).to_contain_text("Revision 2")
    other.close()

    card = page.locator("article.network-card").last
    card.get_by_role("button", name=re.compile(r"^Re-form this network \(")).click()
    card.locator("form.reform input[type=checkbox]").first.check()
    card.locator("form.reform button[type=submit]").click()
    alert = page.locator(".stale[role=alert]")
    expect(alert).to_contain_text("The networks have changed since you opened them")
    expect(alert).to_contain_text("Someone saved revision 2 meanwhile; this page shows revision 1")
    expect(alert).to_contain_text("Your changes were not applied and nothing was overwritten")
    expect(page.get_by_role("button", name="Reload the networks")).to_be_focused()
    expect(card.locator("form.reform button[type=submit]")).to_be_disabled()
    assert site.get(f"/v1/networks/{run_id}").json()["latest_revision"] == 2  # refused, not saved
    shot(page, "networks-stale", full=False)
    page.get_by_role("button", name="Reload the networks").click()
    expect(page.locator("p.meta")).to_contain_text("Revision 2")
    expect(page.locator(".stale")).to_have_count(0)


def test_state_assigns_facilitators(site: Site, page: Page, tmp_path: Path) -> None:
    made = form_networks(site)
    run_id = made["id"]
    sign_in(page, site, "state", f"#/networks/{run_id}")
    box = page.locator("form.fac-form")
    expect(box).to_contain_text("None assigned yet.")
    # A file with a problem: the API's problems, by row and column, and nothing stored.
    bad = tmp_path / "bad.csv"
    bad.write_text("facilitator_id,latitude\nF01,35.2\n", encoding="utf-8")
    box.get_by_label("Facilitators CSV").set_input_files(str(bad))
    box.get_by_role("button", name="Assign facilitators").click()
    alert = box.get_by_role("alert")
    expect(alert).to_contain_text("The facilitators file has problems; nothing was stored")
    expect(alert.locator("table.problems")).to_contain_text("longitude")
    assert site.get(f"/v1/networks/{run_id}").json()["latest_revision"] == 0

    good = tmp_path / "facilitators.csv"
    good.write_text(FACILITATORS, encoding="utf-8")
    box.get_by_label("Facilitators CSV").set_input_files(str(good))
    box.get_by_label("Networks per facilitator (optional)").fill("2")
    box.get_by_role("button", name="Assign facilitators").click()
    expect(page.locator("p.meta")).to_contain_text("Revision 1")
    now = site.get(f"/v1/networks/{run_id}").json()
    assigned = now["facilitators"]
    assert len(assigned) == len(now["networks"])
    people = {"F01": "Ana Ruiz", "F02": "Ben Okafor"}
    table = page.locator("table.facilitators")
    expect(table.locator("tbody tr")).to_have_count(len(assigned))
    for f in assigned:
        assert f["facilitator_name"] == people[f["facilitator_id"]]
        row = table.locator("tbody tr", has=page.get_by_role("cell", name=f["network_id"], exact=True))
        expect(row.locator("th")).to_have_text(named(f["facilitator_name"], f["facilitator_id"]))
        card = page.locator("article.network-card").filter(
            has=page.get_by_role("heading", level=3, name=re.compile(f"^{f['network_id']} ")))
        expect(card.locator("p.facilitator")).to_contain_text(
            f"Facilitator: {named(f['facilitator_name'], f['facilitator_id'])}, ")
        expect(card.locator("p.facilitator")).to_contain_text("km from the host")
    expect(page.locator("section.changes")).to_contain_text("Facilitators assigned from facilitators.csv")
    both_sizes(page, "networks-facilitators")


def test_principal_of_a_host_sees_its_network_only(site: Site, page: Page) -> None:
    made = form_networks(site)
    run_id = made["id"]
    names = made["school_names"]
    mine = next(n for n in made["networks"] if HOST_SCHOOL in [n["leader"], *n["members"]])
    assert mine["leader"] == HOST_SCHOOL, "the sample's S0003 hosts a network"
    elsewhere = form_networks(site, without("S0002", HOST_SCHOOL), name="without-us.csv")["id"]
    assert site.get(f"/v1/networks/{elsewhere}", "principal_host").status_code == 404
    listed = {r["id"] for r in site.get("/v1/networks", "principal_host").json()["network_runs"]}
    assert run_id in listed and elsewhere not in listed

    sign_in(page, site, "principal_host")
    views = page.get_by_role("navigation", name="Views")
    views.get_by_role("link", name="My network").click()
    me = named(names[HOST_SCHOOL], HOST_SCHOOL)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"My network · {me}")
    page.goto(f"{site.url}/#/my-networks/{run_id}")
    expect(page.locator("p.meta")).to_contain_text("revision 0 · 1 network")
    sections = page.locator("section.network-view")
    expect(sections).to_have_count(1)
    view = sections.first
    expect(view.get_by_role("heading", level=2)).to_have_text(
        f"Network {mine['network_id']} · {mine['focus_area'].replace('_', ' ')}")
    expect(view.locator("dl.net-facts")).to_contain_text(me)
    for sid in mine["members"]:
        expect(view.locator("dl.net-facts")).to_contain_text(named(names[sid], sid))
    items = view.locator("ul.member-list > li")
    expect(items.locator("strong")).to_have_text([named(x["school_name"], x["school_id"]) for x in mine["schools"]])
    for x, item in zip(mine["schools"], items.all(), strict=True):
        expect(item.locator("p.why")).to_have_text(x["explanation"])
        expect(item.locator(".role-tag")).to_contain_text(x["role"].capitalize())
        if x["school_id"] != HOST_SCHOOL:
            expect(item.locator(".facts")).to_contain_text("km from the host")
    expect(items.filter(has_text="your school")).to_have_count(1)
    expect(view).to_contain_text("No facilitator assigned yet.")
    # No other network's school anywhere on the page.
    ours = {mine["leader"], *mine["members"]}
    text = page.locator("main").inner_text()
    assert not [names[sid] for sid in names if sid not in ours and names[sid] in text]
    scoped = site.get(f"/v1/networks/{run_id}/schools", "principal_host").json()["schools"]
    assert {x["school_id"] for x in scoped} == ours
    # Its network's page opens from here.
    with page.context.expect_page() as opened:
        view.get_by_role("button", name=re.compile("^Open the network's page")).click()
    tab = opened.value
    tab.wait_for_url(re.compile(r"^blob:"))
    tab.wait_for_load_state()
    assert names[HOST_SCHOOL] in tab.locator("body").inner_text()
    tab.close()
    both_sizes(page, "networks-principal")

    # A principal whose school was left out sees why, and no network.
    page.get_by_role("button", name="Sign out").click()
    out = next(iter(sorted(made["left_out"])))
    assert out == "S0001", "the principal key's school is left out of the sample's networks"
    sign_in(page, site, "principal", f"#/my-networks/{run_id}")
    left = page.locator("section.left-mine")
    expect(left.get_by_role("heading", level=2)).to_have_text("Not in a network this time")
    expect(left.locator("li")).to_have_text([re.compile(re.escape(made["left_out"][out]))])
    expect(page.locator("section.network-view")).to_have_count(0)
    shot(page, "networks-principal-left-out", full=False)


def test_facilitator_sees_only_its_networks(site: Site, page: Page) -> None:
    made = assign(site, form_networks(site))
    run_id = made["id"]
    names = made["school_names"]
    ours = [f["network_id"] for f in made["facilitators"] if f["facilitator_id"] == "F01"]
    assert ours and len(ours) < len(made["networks"])
    unassigned = form_networks(site)["id"]  # no facilitators: not the facilitator's
    assert site.get(f"/v1/networks/{unassigned}", "facilitator").status_code == 404
    pairings = site.get("/v1/pairings", "facilitator")  # no teacher's data
    assert pairings.status_code == 403 or pairings.json()["pairings"] == []

    sign_in(page, site, "facilitator")
    expect(page.locator(".who .role")).to_have_text("Signed in: facilitator · F01")
    expect(page.get_by_role("navigation", name="Views").get_by_role("link")).to_have_text(["My networks"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Networks you facilitate")
    page.goto(f"{site.url}/#/my-networks/{run_id}")
    expect(page.locator("p.meta")).to_contain_text(
        f"{len(ours)} network{'' if len(ours) == 1 else 's'} · facilitator Ana Ruiz (F01)")
    sections = page.locator("section.network-view")
    expect(sections.get_by_role("heading", level=2)).to_have_text(
        [re.compile(f"^Network {re.escape(n)} · ") for n in ours])
    api = site.get(f"/v1/networks/{run_id}", "facilitator").json()
    assert [n["network_id"] for n in api["networks"]] == ours
    shown = {sid for n in made["networks"] if n["network_id"] in ours for sid in [n["leader"], *n["members"]]}
    for sid in shown:
        expect(sections.locator("ul.member-list strong", has_text=named(names[sid], sid))).to_have_count(1)
    text = page.locator("main").inner_text()
    assert not [names[sid] for sid in names if sid not in shown and names[sid] in text]
    expect(sections.locator("p.facilitator")).to_have_text(
        [re.compile(r"^Facilitator: Ana Ruiz \(F01\), [\d.]+ km from the host$")] * len(ours))
    both_sizes(page, "networks-facilitator")
    # The state office's views are not the facilitator's.
    page.goto(f"{site.url}/#/networks/{run_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("No access")

    # The host's principal sees its network's facilitator too.
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, site, "principal_host", f"#/my-networks/{run_id}")
    theirs = next(n for n in made["networks"] if n["leader"] == HOST_SCHOOL)
    f = next(x for x in made["facilitators"] if x["network_id"] == theirs["network_id"])
    expect(page.locator("section.network-view p.facilitator")).to_have_text(
        re.compile(rf"^Facilitator: {re.escape(named(f['facilitator_name'], f['facilitator_id']))}, [\d.]+ km from "
                   "the host$"))
