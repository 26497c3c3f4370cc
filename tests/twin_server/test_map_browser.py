"""The HQ site map in a real browser (Debian's chromium), end to end on a small demo
portfolio plus one project without a location: HQ goes from the dashboard to the map and
back, sees a marker per placed project and the count of the others, hovers a marker for its
name, clicks it for its card whose button opens the project's 4D model, and zooms in until
the model's footprint shows; a regional manager sees only their region; the page speaks
English with ``?lang=en``; an administrator's tile layer is drawn only when configured — and
no page asks anything of any other host."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import expect

from sample_models.generate import write_building
from tests.twin_server.conftest import live_server

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DEMO_PASSWORD = "erji-demo-2026"
DEMO_PROJECTS = 12
COMPLETE = "[data-role=site-map][data-complete=yes][data-basemap=yes]"
#: A same-origin template: the layer is drawn (and its requests made) without any real tiles.
TILE_TEMPLATE = "/test-tiles/{z}/{x}/{y}.png"


def _api(base: str, user: str) -> httpx.Client:
    response = httpx.post(f"{base}/api/auth/token", data={"username": user, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    return httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"})


def _environment(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWIN_")}
    return env | {"TWIN_DEVELOPMENT": "1", "TWIN_DATA_DIR": str(data_dir)}


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory):
    """``twin demo`` with a small portfolio, one more project that has no location, and
    ``twin serve`` on it."""
    folder = tmp_path_factory.mktemp("map")
    env = _environment(folder / "data")
    sample = write_building(folder / "sample.ifc", storeys=2, bays_x=2, bays_y=1)
    twin = Path(sys.executable).with_name("twin")
    subprocess.run(
        [str(twin), "demo", "--sample", str(sample), "--projects", str(DEMO_PROJECTS)],
        env=env,
        cwd=folder,
        check=True,
        timeout=600,
        capture_output=True,
    )
    with live_server(env, folder, folder / "server.log") as base:
        with _api(base, "admin") as admin:
            east = next(n for n in admin.get("/api/org/nodes").json() if n["code"] == "EAST")
            created = admin.post(
                f"/api/org/nodes/{east['id']}/projects", json={"code": "NOLOC-01", "name": "待定位项目"}
            )
            assert created.status_code == 201, created.text
        yield {"base": base, "log": folder / "server.log", "data": folder / "data", "folder": folder}


def _sites(base: str, user: str, datum: str = "gcj02") -> list[dict]:
    with _api(base, user) as client:
        response = client.get("/api/portfolio/sites", params={"datum": datum})
    assert response.status_code == 200, response.text
    return response.json()["features"]


def _log_in(page, base: str, user: str, target: str) -> None:
    page.goto(f"{base}/login?next={target}")
    page.fill("#username", user)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")


def _map_ready(page) -> None:
    page.wait_for_selector(COMPLETE, timeout=60_000)


def _marker_point(page, project_id: int) -> dict:
    point = page.evaluate(f"() => window.erjiMap.markerPoint({project_id})")
    assert point is not None and point["inView"], point
    return point


def _topmost(page) -> int:
    """The marker drawn last: nothing covers its centre."""
    return page.evaluate("() => window.erjiMap.state.markers[window.erjiMap.state.markers.length - 1].id")


def _only_this_host(page, base: str) -> None:
    hosts = {urlsplit(u).netloc for u in page.requested if not u.startswith(("data:", "blob:"))}
    assert hosts == {urlsplit(base).netloc}, sorted(set(page.requested))


def test_hq_finds_a_project_on_the_map_and_opens_its_model(portfolio, browser_page) -> None:
    page, base = browser_page, portfolio["base"]
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.set_viewport_size({"width": 1440, "height": 900})
    sites = _sites(base, "hq")
    placed = {f["id"]: f for f in sites if f["geometry"] is not None}
    unplaced = [f for f in sites if f["geometry"] is None]
    assert len(placed) == DEMO_PROJECTS and [f["properties"]["code"] for f in unplaced] == ["NOLOC-01"]

    # HQ lands on the map; the dashboard's header link leads back to it.
    _log_in(page, base, "hq", "/")
    page.wait_for_url("**/viewer/map**")
    _map_ready(page)
    page.locator("[data-role=dashboard-link]").click()
    page.wait_for_url("**/viewer/portfolio**")
    page.locator("[data-role=map-link]").click()
    page.wait_for_url("**/viewer/map**")
    _map_ready(page)
    site_map = page.locator("[data-role=site-map]")
    expect(site_map).to_have_attribute("data-markers", str(len(placed)))
    expect(site_map).to_have_attribute("data-tiles", "no")  # no tile layer unless configured
    counts = page.locator("[data-role=map-counts]")
    expect(counts).to_have_attribute("data-on-map", str(len(placed)))
    expect(counts).to_have_attribute("data-unplaced", "1")
    expect(page.locator("[data-role=map-legend]")).to_contain_text("合同额")
    drawn = set(page.evaluate("() => window.erjiMap.state.markers.map((m) => m.id)"))
    assert drawn == set(placed)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "map-zh.png"))

    # Hover: the project's name, region and light; click: its card.
    project_id = _topmost(page)
    name = placed[project_id]["properties"]["name"]
    point = _marker_point(page, project_id)
    page.mouse.move(point["x"], point["y"])
    tip = page.locator("[data-role=map-tip]")
    expect(tip).to_be_visible()
    expect(tip).to_contain_text(name)
    expect(tip).to_contain_text(placed[project_id]["properties"]["region"])
    page.mouse.click(point["x"], point["y"])
    card = page.locator(f"[data-role=site-card][data-project='{project_id}']")
    expect(card).to_be_visible(timeout=30_000)
    expect(card).to_contain_text(name)
    expect(card.locator("[data-role=card-dimensions]")).to_be_visible(timeout=30_000)  # the KPIs came
    page.screenshot(path=str(ARTIFACTS / "map-card.png"))

    # Zoomed in on it, its model's footprint shows (the demo places every model).
    assert placed[project_id]["properties"]["footprint"] is not None
    assert page.evaluate("() => window.erjiMap.metrics.footprintsDrawn") == 0
    page.evaluate(
        f"""() => {{
          const p = window.erjiMap.markerPoint({project_id});
          const box = window.erjiMap.root.getBoundingClientRect();
          window.erjiMap.zoomAt(18 - window.erjiMap.state.view.zoom, p.x - box.left, p.y - box.top);
        }}"""
    )
    page.wait_for_function("() => window.erjiMap.metrics.footprintsDrawn >= 1")
    page.screenshot(path=str(ARTIFACTS / "map-footprint.png"))

    # The card's button opens the project's 4D model.
    model_link = card.locator("[data-role=open-model]")
    assert parse_qs(urlsplit(model_link.get_attribute("href")).query)["project"] == [str(project_id)]
    model_link.click()
    page.wait_for_url("**/viewer/model?**")
    assert parse_qs(urlsplit(page.url).query)["project"] == [str(project_id)]

    # And back: the map's header links to the dashboard.
    page.goto(f"{base}/viewer/map")
    _map_ready(page)
    page.locator("[data-role=dashboard-link]").click()
    page.wait_for_url("**/viewer/portfolio**")
    page.wait_for_selector("[data-role=projects-table]", timeout=60_000)

    _only_this_host(page, base)
    assert errors == []
    assert "Traceback" not in portfolio["log"].read_text()


def test_a_regional_manager_sees_only_their_region(portfolio, browser_page) -> None:
    page, base = browser_page, portfolio["base"]
    page.set_viewport_size({"width": 1280, "height": 800})
    mine = {f["id"] for f in _sites(base, "east") if f["geometry"] is not None}
    everyone = {f["id"] for f in _sites(base, "hq") if f["geometry"] is not None}
    assert mine and mine < everyone
    _log_in(page, base, "east", "/viewer/map")
    page.wait_for_url("**/viewer/map**")
    _map_ready(page)
    expect(page.locator("[data-role=site-map]")).to_have_attribute("data-markers", str(len(mine)))
    assert set(page.evaluate("() => window.erjiMap.state.markers.map((m) => m.id)")) == mine
    expect(page.locator(".erji-region")).to_be_hidden()  # one region: nothing to choose
    _only_this_host(page, base)


def test_the_map_speaks_english(portfolio, browser_page) -> None:
    page, base = browser_page, portfolio["base"]
    page.set_viewport_size({"width": 1280, "height": 800})
    _log_in(page, base, "hq", "/viewer/map?lang=en")
    page.wait_for_url("**/viewer/map**")
    _map_ready(page)
    expect(page.get_by_text("Project map")).to_be_visible()
    expect(page.locator("[data-role=map-legend]")).to_contain_text("Size: contract value")
    expect(page.locator("[data-role=unplaced] summary")).to_have_text("1 project has no location yet")
    expect(page.locator("[data-role=map-zoom-in]")).to_have_attribute("title", "Zoom in")
    project_id = _topmost(page)
    point = _marker_point(page, project_id)
    page.mouse.move(point["x"], point["y"])
    expect(page.locator("[data-role=map-tip]")).to_contain_text("Score")
    page.mouse.click(point["x"], point["y"])
    card = page.locator(f"[data-role=site-card][data-project='{project_id}']")
    expect(card).to_contain_text("Open the 4D model", timeout=30_000)
    assert "lang=en" in card.locator("[data-role=open-model]").get_attribute("href")
    page.screenshot(path=str(ARTIFACTS / "map-en.png"))
    _only_this_host(page, base)


def test_a_configured_tile_layer_is_drawn_in_its_datum(portfolio, browser_page, tmp_path) -> None:
    """A second server on the same data with ``TWIN_MAP_TILE_URL`` (a same-origin template
    with no tiles behind it, so nothing leaves the machine) and ``TWIN_MAP_TILE_DATUM=wgs84``."""
    env = _environment(portfolio["data"]) | {
        "TWIN_MAP_TILE_URL": TILE_TEMPLATE,
        "TWIN_MAP_TILE_DATUM": "wgs84",
    }
    with live_server(env, tmp_path, tmp_path / "server.log") as base:
        page = browser_page
        page.set_viewport_size({"width": 1280, "height": 800})
        _log_in(page, base, "hq", "/viewer/map")
        page.wait_for_url("**/viewer/map**")
        _map_ready(page)
        expect(page.locator("[data-role=site-map]")).to_have_attribute("data-tiles", "yes")
        page.wait_for_function(
            "() => performance.getEntriesByType('resource').some((r) => r.name.includes('/test-tiles/'))"
        )
        # The sites came in the tiles' datum (WGS-84 here: the stored coordinates as they are).
        wgs84 = {f["id"]: f["geometry"]["coordinates"] for f in _sites(base, "hq", "wgs84") if f["geometry"]}
        drawn = page.evaluate("() => window.erjiMap.state.markers.map((m) => [m.id, m.lon, m.lat])")
        assert {i: [lon, lat] for i, lon, lat in drawn} == {i: pytest.approx(c) for i, c in wgs84.items()}
        _only_this_host(page, base)
