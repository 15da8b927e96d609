"""The web page against the real server: `matcher serve` on 127.0.0.1 (a fresh SQLite database with a key per
role and the bundled sample paired), driven by Debian's headless Chromium through Playwright."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from matcher.store.db import open_engine, upgrade
from matcher.store.keys import create_key

from ..api.server import Server

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "data" / "samples"
CHROMIUM = os.environ.get("MATCHER_CHROMIUM", "/usr/bin/chromium")  # `make test` installs it (ensure-chromium.sh)
# Screenshots for people to look at (gitignored); MATCHER_TEST_ARTIFACTS moves them, e.g. into a CI upload folder.
ARTIFACTS = Path(os.environ.get("MATCHER_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "e2e"
LAPTOP = {"width": 1280, "height": 800}
TABLET = {"width": 768, "height": 1024}
MARKUP_SCHOOL = "S9001"  # the school of the small uploads with hostile names (principal9's)
ODD_SCHOOL = "../North/Elem 7"  # a school id with "/", ".." and a space (principal_odd's): reached by its key


@dataclass
class Site:
    """The running server, its keys, a client for checking what the API says, and the sample dataset."""

    url: str
    keys: dict[str, str]
    client: httpx.Client
    dataset_id: str = ""
    runs: list[str] = field(default_factory=list)

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def get(self, path: str, who: str = "state", **params: Any) -> httpx.Response:
        return self.client.get(f"{self.url}{path}", params=params, headers=self.headers(who))

    def new_run(self, policy: dict[str, Any] | None = None, dataset_id: str = "") -> str:
        """A finished pairing run of the sample (or of another dataset) of its own (re-matching tests must not share
        one)."""
        r = self.client.post(f"{self.url}/v1/pairings", json={"dataset_id": dataset_id or self.dataset_id,
                                                               "policy": policy or {}},
                             headers=self.headers("state"))
        assert r.status_code == 202, r.text
        run_id = r.json()["id"]
        deadline = time.monotonic() + 60
        while (status := self.get(f"/v1/pairings/{run_id}").json()["status"]) in ("queued", "running"):
            assert time.monotonic() < deadline, "run not finished in 60 s"
            time.sleep(0.05)
        assert status == "succeeded"
        self.runs.append(run_id)
        return run_id


@dataclass
class Booting:
    """The server starting in a thread, so that Chromium starts meanwhile (each takes seconds)."""

    server: Server
    keys: dict[str, str]
    thread: threading.Thread
    failure: list[BaseException]

    def wait(self) -> Server:
        self.thread.join()
        if self.failure:
            raise self.failure[0]
        return self.server


@pytest.fixture(scope="package")
def booting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Booting]:
    folder = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{folder / 'matcher.db'}"
    engine = open_engine(url)
    upgrade(engine)
    keys = {"state": create_key(engine, "state", label="state office"),
            "researcher": create_key(engine, "researcher"),
            "principal": create_key(engine, "principal", ["S0001"], label="Lincoln Bend"),
            "principal2": create_key(engine, "principal", ["S0002", "S0003"]),
            # A school of its own for the tests that upload small files of hostile or missing names.
            "principal9": create_key(engine, "principal", [MARKUP_SCHOOL]),
            "principal_odd": create_key(engine, "principal", [ODD_SCHOOL]),
            # School networks (test_networks_web.py): the principal of the sample's host S0003, and facilitator F01.
            "principal_host": create_key(engine, "principal", ["S0003"], label="Madison Ridge"),
            "facilitator": create_key(engine, "facilitator", facilitators=["F01"], label="Ana Ruiz")}
    engine.dispose()
    server = Server(url, folder / "server.log")
    failure: list[BaseException] = []

    def start() -> None:
        try:
            server.start()
        except BaseException as exc:  # handed to the test that waits for the server
            failure.append(exc)

    thread = threading.Thread(target=start, name="server-start", daemon=True)
    thread.start()
    try:
        yield Booting(server, keys, thread, failure)
    finally:
        thread.join()
        server.stop()


@pytest.fixture(scope="package")
def browser(booting: Booting) -> Iterator[Browser]:
    """Headless Chromium, launched while the server starts."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"no Chromium at {CHROMIUM}: `make test` installs Debian's (scripts/ensure-chromium.sh), "
                           "or set MATCHER_CHROMIUM")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="package")
def site(booting: Booting, browser: Browser) -> Iterator[Site]:
    server = booting.wait()
    with httpx.Client(timeout=60) as client:
        s = Site(server.url, booting.keys, client)
        # The export as a state's observation system writes it: one row per classroom observation, labelled
        # headers, teacher and school names (its averages are teachers.csv, so the pairs are the same).
        with (SAMPLES / "observations.csv").open("rb") as fh:
            r = client.post(f"{s.url}/v1/datasets", files={"file": ("observations.csv", fh, "text/csv")},
                            headers=s.headers("state"))
        assert r.status_code == 201, r.text
        s.dataset_id = r.json()["id"]
        # A first run now, not waited for: the job process's first solve loads the solvers (seconds), meanwhile the
        # first tests run.
        r = client.post(f"{s.url}/v1/pairings", json={"dataset_id": s.dataset_id}, headers=s.headers("state"))
        assert r.status_code == 202, r.text
        yield s


@pytest.fixture()
def page(browser: Browser, site: Site) -> Iterator[Page]:
    """A fresh browser context (empty sessionStorage) at laptop size. Every request must stay on our server and
    no script may throw."""
    context = browser.new_context(viewport=LAPTOP, accept_downloads=True)
    context.set_default_timeout(10_000)
    outside: list[str] = []
    errors: list[str] = []

    def only_ours(route: Any) -> None:
        if route.request.url.startswith(site.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_ours)
    p = context.new_page()
    p.on("pageerror", lambda e: errors.append(str(e)))
    yield p
    context.close()
    assert not outside, f"the page asked for files outside the server: {outside}"
    assert not errors, f"script errors: {errors}"


def sign_in(page: Page, site: Site, who: str, hash_: str = "") -> None:
    """Open the page (at an address inside it) and sign in with the keyboard only."""
    page.goto(f"{site.url}/{hash_}")
    key = page.get_by_label("API key")
    key.wait_for()
    assert page.evaluate("document.activeElement.id") == "key"  # the form takes the focus itself
    page.keyboard.type(site.keys[who])
    page.keyboard.press("Enter")


def shot(page: Page, name: str, full: bool = True) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full)
    return path
