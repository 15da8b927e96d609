"""Handouts over the API: a pair's page and a school's zip are the CLI's files, within the key's scope (a principal
their own school only, 403 otherwise without naming the other school), from the newest revision (re-matches
included), scores only when asked; the school view lists each pair's handout key and what its value counts, and
report.html links the handout routes."""

from __future__ import annotations

import io
import re
import zipfile
from html import escape, unescape
from pathlib import Path
from typing import Any

import pytest

from matcher.cli import main as cli
from matcher.io.file_keys import file_key
from matcher.report.handouts import handout_key

from .conftest import SAMPLES, Api

_API_LINK = re.compile(r'href="/v1/pairings/[^/"]+/schools/([^/"]+)/pairs/([^/"]+)/handout\.html(?:\?revision=\d+)?"')


def as_cli_page(html: str) -> str:
    """The API's report.html with its links to the handout routes written as the CLI's page writes them (relative
    links into handouts/): every other byte is the CLI's."""
    return _API_LINK.sub(lambda m: f'href="../handouts/{m.group(1)}/{m.group(2)}.html"', html)


@pytest.fixture(scope="module")
def cli_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "out"
    assert cli(["pair", str(SAMPLES / "observations.csv"), "--out", str(out), "--workers", "1"]) == 0
    return out


@pytest.fixture(scope="module")
def run(api: Api) -> dict[str, Any]:
    """The observation export paired (a run of this module's own: a test below re-matches S0003)."""
    ds = api.upload(SAMPLES / "observations.csv")
    assert ds.status_code == 201, ds.text
    out = api.run(ds.json()["id"])
    assert out["status"] == "succeeded", out
    return out


def _get(api: Api, path: str, who: str | None = "state", **params: Any) -> Any:
    return api.client.get(path, params=params, headers=api.headers(who) if who else {})


def test_handouts_are_the_cli_files(api: Api, run: dict[str, Any], cli_out: Path) -> None:
    base = f"/v1/pairings/{run['id']}/schools"
    for school, who in (("S0001", "principal"), ("S0002", "principal2"), ("S0003", "state")):
        view = _get(api, f"{base}/{school}", who).json()
        assert view["pairs"]
        for p in view["pairs"]:
            assert p["handout"] == handout_key(p["teacher_a"], p["teacher_b"])
            r = _get(api, f"{base}/{school}/pairs/{p['handout']}/handout.html", who)
            assert r.status_code == 200, r.text
            assert r.headers["content-type"].startswith("text/html")
            assert r.headers["content-disposition"] == f'inline; filename="{p["handout"]}.html"'
            assert r.text == (cli_out / "handouts" / school / f"{p['handout']}.html").read_text(encoding="utf-8")
        z = _get(api, f"{base}/{school}/handouts.zip", who)
        assert z.status_code == 200 and z.headers["content-type"] == "application/zip"
        assert z.headers["content-disposition"] == f'attachment; filename="handouts-{school}.zip"'
        with zipfile.ZipFile(io.BytesIO(z.content)) as f:
            names = sorted(f.namelist())
            assert names == sorted(f"handouts/{school}/{p.name}" for p in (cli_out / "handouts" / school).iterdir())
            for name in names:
                assert f.read(name).decode() == (cli_out / name).read_text(encoding="utf-8"), name


def test_report_links_the_handout_routes(api: Api, run: dict[str, Any], cli_out: Path) -> None:
    base = f"/v1/pairings/{run['id']}/schools"
    page = _get(api, f"{base}/S0001/report.html", "principal").text
    view = _get(api, f"{base}/S0001", "principal").json()
    links = re.findall(r'href="([^"]+)"', page)
    assert links == [f"{base}/S0001/pairs/{p['handout']}/handout.html" for p in view["pairs"]]
    for link in links:  # each leads to its handout, within the principal's scope
        assert _get(api, link, "principal").status_code == 200
    assert as_cli_page(page) == (cli_out / "schools" / "S0001.html").read_text(encoding="utf-8")
    old = _get(api, f"{base}/S0001/report.html", "principal", revision=0).text
    assert all(x.endswith("/handout.html?revision=0") for x in re.findall(r'href="([^"]+)"', old))
    # reports.zip is the CLI's folder: relative links that reach handouts/ once a school's handouts.zip is beside.
    with zipfile.ZipFile(io.BytesIO(_get(api, f"/v1/pairings/{run['id']}/reports.zip", "principal").content)) as z:
        assert z.read("schools/S0001.html").decode() == (cli_out / "schools" / "S0001.html").read_text("utf-8")


def test_school_view_says_what_values_count(api: Api, run: dict[str, Any]) -> None:
    view = _get(api, f"/v1/pairings/{run['id']}/schools/S0001", "principal").json()
    for p in view["pairs"]:
        n = int(p["value"])
        assert p["value_counts"] == f"{n} indicator{'' if n == 1 else 's'} where one can support the other"
    assert view["value_counts"] == (f"total value {view['value']:g}: indicators where one can support the other, "
                                    "added up over the pairs")
    overview = _get(api, f"/v1/pairings/{run['id']}/overview").json()
    assert overview["value_counts"] == "indicators where one can support the other, added up over the school's pairs"


def test_a_principal_gets_only_their_own_schools_handouts(api: Api, run: dict[str, Any]) -> None:
    base = f"/v1/pairings/{run['id']}/schools"
    other = _get(api, f"{base}/S0002").json()["pairs"][0]["handout"]
    for path in (f"{base}/S0002/pairs/{other}/handout.html", f"{base}/S0002/handouts.zip"):
        r = _get(api, path, "principal")
        assert r.status_code == 403
        assert "S0002" in r.json()["message"]  # the ref as sent, and nothing about the school behind it
        assert "Elementary" not in r.text and "School" not in r.text
        assert _get(api, path, "researcher").status_code == 403  # uploaded scores
        assert _get(api, path, None).status_code == 401
        assert _get(api, path, "principal2").status_code == 200
    own = _get(api, f"{base}/S0001", "principal").json()["pairs"][0]["handout"]
    # A pair of S0001 asked for under S0002's address, or a key no pair has: not found (and not S0001's page).
    assert _get(api, f"{base}/S0002/pairs/{own}/handout.html", "principal2").status_code == 404
    assert _get(api, f"{base}/S0001/pairs/T1--T2/handout.html", "principal").status_code == 404
    assert _get(api, f"{base}/S0001/pairs/{'X' * 201}/handout.html", "principal").status_code == 422
    assert _get(api, f"{base}/S9999/handouts.zip").status_code == 404


def test_handouts_follow_rematches(api: Api, run: dict[str, Any]) -> None:
    base = f"/v1/pairings/{run['id']}/schools/S0003"
    view = _get(api, base, "principal2").json()
    a, b = view["pairs"][0]["teacher_a"], view["pairs"][0]["teacher_b"]
    refused = view["pairs"][0]["handout"]
    r = api.client.post(f"{base}/rematch", headers=api.headers("principal2"),
                        json={"revision": 0, "forbid": [[a, b]], "stability": "full"})
    assert r.status_code == 201, r.text
    after = _get(api, base, "principal2").json()
    assert after["revision"] == 1 and refused not in {p["handout"] for p in after["pairs"]}
    with zipfile.ZipFile(io.BytesIO(_get(api, f"{base}/handouts.zip", "principal2").content)) as z:
        assert sorted(z.namelist()) == sorted(f"handouts/S0003/{p['handout']}.html" for p in after["pairs"])
        for p in after["pairs"]:
            page = z.read(f"handouts/S0003/{p['handout']}.html").decode()
            names = (p["teacher_a_name"] or p["teacher_a"], p["teacher_b_name"] or p["teacher_b"])
            assert all(escape(n) in page for n in names)
    assert _get(api, f"{base}/pairs/{refused}/handout.html", "principal2").status_code == 404
    # The revision the principal saw still has it.
    assert _get(api, f"{base}/pairs/{refused}/handout.html", "principal2", revision=0).status_code == 200


def test_scores_only_when_asked(api: Api, run: dict[str, Any]) -> None:
    base = f"/v1/pairings/{run['id']}/schools/S0001"
    p = _get(api, base, "principal").json()["pairs"][0]
    plain = _get(api, f"{base}/pairs/{p['handout']}/handout.html", "principal").text
    scored = _get(api, f"{base}/pairs/{p['handout']}/handout.html", "principal", scores="true").text
    body = unescape(re.sub(r"<[^>]+>", " ", plain.split("<body>")[1]))
    assert not re.search(r"\d", body.replace("(S0001)", ""))  # the school's id is the only number
    assert re.search(r"<td>\d\.\d\d</td>", scored) and "observation scores" in scored
    with zipfile.ZipFile(io.BytesIO(_get(api, f"{base}/handouts.zip", "principal", scores="true").content)) as z:
        assert z.read(f"handouts/S0001/{p['handout']}.html").decode() == scored


def test_hostile_school_and_teacher_ids(api: Api, tmp_path: Path) -> None:
    """Ids with "/", "..", markup and quotes: the school is reached by its key, each pair by its handout key, the
    file names in the zip and the Content-Disposition are keys, and the page escapes everything."""
    school = '../x/<b>"S"'
    rows = ["teacher_id,school_id,subject,grades,years_experience,teacher_name,questioning,academic_feedback",
            f'"<script>a</script>","{school.replace(chr(34), chr(34) * 2)}",math,7,3,"O\'Neil <i>",4,2',
            f'"A/B","{school.replace(chr(34), chr(34) * 2)}",math,7,3,"""Quote"" Name",2,4',
            f'CON,"{school.replace(chr(34), chr(34) * 2)}",math,7,3,,4,2',
            f'con,"{school.replace(chr(34), chr(34) * 2)}",math,7,3,,2,4']
    path = tmp_path / "hostile.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    ds = api.upload(path)
    assert ds.status_code == 201, ds.text
    run = api.run(ds.json()["id"])
    key = file_key(school)
    view = _get(api, f"/v1/pairings/{run['id']}/schools/{key}").json()
    assert view["school_id"] == school and len(view["pairs"]) == 2
    keys = [p["handout"] for p in view["pairs"]]
    assert len({k.lower() for k in keys}) == 2 and all(re.fullmatch(r"[A-Za-z0-9_.~-]+", k) for k in keys)
    z = _get(api, f"/v1/pairings/{run['id']}/schools/{key}/handouts.zip")
    assert z.headers["content-disposition"] == f'attachment; filename="handouts-{key}.zip"'
    with zipfile.ZipFile(io.BytesIO(z.content)) as f:
        assert sorted(f.namelist()) == sorted(f"handouts/{key}/{k}.html" for k in keys)
        text = "".join(f.read(n).decode() for n in f.namelist())
    assert "<script>" not in text and "<i>" not in text and "<b>" not in text
    assert "O&#x27;Neil &lt;i&gt;" in text and "&quot;Quote&quot; Name" in text and "&lt;b&gt;" in text
