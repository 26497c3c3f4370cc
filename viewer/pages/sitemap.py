"""The HQ site map (domain.md scenario 12): every project the user may see on a map of China,
coloured by its health this month and sized by its contract value — the landing view of the
country for HQ and regional managers.

A marker per project with a location (its colour the traffic light, grey before the first
computation; its area in proportion to the contract value); hovering names it with its
region, light, score and top alerts; clicking opens its card beside the map (the project's
dashboard: light, score, rank, dimensions, alerts, how it was placed) with a link to its 4D
model. Zoomed in to a few kilometres, the model's footprint shows under the marker. A region
filter, a legend, and the count of projects that have no location yet (listed, so they are
not forgotten) complete the page; the header links to the portfolio dashboard.

The base map is offline (``viewer.components.sitemap``): provinces and countries from a file
that ships with the package, no tile server, nothing asked of any other host. An
administrator may configure an XYZ tile layer (``TWIN_MAP_TILE_URL``); the sites are then
asked for in the datum of the tiles, otherwise in the datum of the offline base map (its
metadata says which: AMap-derived outlines are GCJ-02), so markers sit where the map draws
the place.

State is params on ``SiteMapPage`` (month, region, language); data comes from the API
through ``TwinClient``; every number is the server's, this page lays them out.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import html
import math
import re
from collections.abc import Callable, Sequence
from urllib.parse import urlencode

import panel as pn
import param

from ..client import Me, NotFound, ProjectKpis, ProjectSite, TwinClient, ViewerError
from ..components.sitemap import Basemap, Datum, SiteMap, sites_datum
from ..i18n import DEFAULT_LANGUAGE, LANGUAGES, text
from .layout import load_or_warn, page_header
from .portfolio import DIMENSIONS, LIGHT_COLOURS, light_dot, model_link, months_back, reason_text

__all__ = [
    "DEFAULT_RADIUS_PX",
    "FOOTPRINT_MAX_WIDTH_M",
    "LEGEND_VALUES_CNY",
    "MAX_RADIUS_PX",
    "MIN_RADIUS_PX",
    "SiteMapPage",
    "card_html",
    "contract_text",
    "dashboard_link",
    "legend_html",
    "map_markers",
    "marker_colour",
    "marker_radius_px",
    "tip_html",
    "unplaced_html",
]

LIGHTS = ("green", "yellow", "red")
#: Marker size: the area is in proportion to the contract value, so a 20 亿元 project covers
#: twice the ink of a 10 亿元 one. A fixed scale (not the largest value shown) keeps a marker
#: the same size whichever region is shown: 10 亿元 is always a 12 px radius.
REFERENCE_VALUE_CNY = 1e9
REFERENCE_RADIUS_PX = 12.0
#: Clamped: a 1 亿元 school must stay clickable (a finger is ~9 px across at this radius), and
#: a 200 亿元 metro line must not hide a city.
MIN_RADIUS_PX = 4.5
MAX_RADIUS_PX = 26.0
#: No contract value: the size of a ~3.4 亿元 project, a typical one (drawn dashed).
DEFAULT_RADIUS_PX = 7.0
#: The values the legend draws, in CNY.
LEGEND_VALUES_CNY = (2e8, 5e8, 1e9, 2e9)
#: Footprints show while the view is narrower than this: wider, a building is a speck.
FOOTPRINT_MAX_WIDTH_M = 5000.0
#: The strings the canvas itself shows (its buttons' titles, the credit line).
MAP_LABELS = ("map_title", "map_zoom_in", "map_zoom_out", "map_fit", "map_basemap")
#: Draw order among markers of equal size: the worse light on top.
_LIGHT_ORDER = {None: 0, "green": 1, "yellow": 2, "red": 3}
SIDE_PX = 360

_Translate = Callable[..., str]

_CSS = """
:host { font-size: 13px; color: #1f2933; }
.erji-dot { display: inline-block; width: 12px; height: 12px; border-radius: 50%;
  vertical-align: middle; box-shadow: inset 0 0 0 1px rgba(0,0,0,.18); }
.erji-dot.small { width: 9px; height: 9px; margin-right: 3px; }
.erji-muted { color: #6a7480; }
.erji-code { color: #6a7480; font-size: 11px; }
.erji-box { background: #fff; border: 1px solid #dde3ea; border-radius: 8px; padding: 8px 10px; }
.erji-box h3 { margin: 0 0 2px; font-size: 15px; }
.erji-box h4 { margin: 8px 0 2px; font-size: 12px; color: #44505f; }
.erji-box ul { margin: 2px 0 2px 18px; padding: 0; }
.erji-box li { margin: 1px 0; }
.erji-facts { display: flex; flex-wrap: wrap; gap: 4px 14px; margin: 6px 0; }
.erji-facts b { font-size: 16px; }
table.erji-kv { border-collapse: collapse; width: 100%; }
table.erji-kv th { text-align: left; font-weight: 500; color: #6a7480; padding: 2px 8px 2px 0;
  white-space: nowrap; vertical-align: top; }
table.erji-kv td { padding: 2px 0; }
.erji-legend .row { display: flex; align-items: center; gap: 6px; margin: 2px 0; }
.erji-legend svg { vertical-align: middle; }
.erji-actions { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 10px; }
a.erji-button { display: inline-block; background: #1f5fbf; color: #fff; border-radius: 4px;
  padding: 6px 12px; text-decoration: none; font-weight: 500; }
a.erji-button.secondary { background: #fff; color: #1f5fbf; border: 1px solid #1f5fbf; }
a.erji-project { color: #1f5fbf; text-decoration: none; }
.erji-warning { color: #7a5a00; }
"""
# Map | side column on a desktop; on a phone the map takes the width and most of the height.
_FLEX_CSS = f"""
.erji-map-area {{ flex: 1 1 560px; min-width: 0; }}
.erji-map-side {{ flex: 0 1 {SIDE_PX}px; min-width: 280px; overflow-y: auto; }}
@media (max-width: 900px) {{
  :host {{ height: auto !important; align-content: flex-start; }}
  .erji-map-area {{ flex: 1 1 100%; height: 62vh; min-height: 320px; }}
  .erji-map-side {{ flex: 1 1 100%; min-width: 0; max-height: none !important; overflow: visible; }}
}}
"""


# --------------------------------------------------------------------------- pure parts


def marker_radius_px(value_cny: float | None) -> float:
    """A marker's radius for a contract value: area in proportion to the value on a fixed
    scale (``REFERENCE_VALUE_CNY`` ↦ ``REFERENCE_RADIUS_PX``), clamped to
    [``MIN_RADIUS_PX``, ``MAX_RADIUS_PX``]; ``DEFAULT_RADIUS_PX`` when the value is unknown
    (or not positive)."""
    if value_cny is None or not value_cny > 0 or math.isinf(value_cny):
        return DEFAULT_RADIUS_PX
    radius = REFERENCE_RADIUS_PX * math.sqrt(value_cny / REFERENCE_VALUE_CNY)
    return round(min(MAX_RADIUS_PX, max(MIN_RADIUS_PX, radius)), 2)


def marker_colour(light: str | None) -> str:
    """The light's colour, as on the dashboard; grey for a light not computed yet."""
    return LIGHT_COLOURS[light if light in LIGHTS else None]


def contract_text(value_cny: float | None, t: _Translate, lang: str) -> str:
    """``6.8 亿元`` / ``CNY 680 m``: how each language reads a contract value (亿元, 1e8
    CNY, to two decimals; English readers get millions)."""
    if value_cny is None:
        return "—"
    number = f"{value_cny / 1e8:.2f}".rstrip("0").rstrip(".") if lang == "zh" else f"{value_cny / 1e6:,.0f}"
    return t("map_value", v=number)


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _light_name(light: str | None, t: _Translate) -> str:
    return t(f"light_{light if light in LIGHTS else 'none'}")


def tip_html(site: ProjectSite, t: _Translate, lang: str) -> str:
    """What hovering a marker shows: name and code, region, light and score, top alerts —
    in the page language, every value escaped (the canvas shows it as HTML)."""
    e = html.escape
    alerts = "".join(
        f"<li>{_small_dot(a.level)}{e(a.message(lang))}</li>" for a in site.top_alerts if a.message(lang)
    )
    return (
        f"<div data-role='tip-body' data-project='{site.id}'><b>{e(site.name)}</b> "
        f"<span class='code'>{e(site.code)}</span><br>"
        f"{e(site.region or '—')} · {_small_dot(site.light)}{e(_light_name(site.light, t))} · "
        f"{e(t('col_score'))} <b>{_score(site.score)}</b>"
        + (f"<ul>{alerts}</ul>" if alerts else "")
        + "</div>"
    )


def _small_dot(light: str | None) -> str:
    # Styled by the canvas component's own stylesheet (`.tip .dot`): the tip lives in it, and
    # a thousand tips would otherwise each repeat the style.
    return f"<i class='dot' style='background:{marker_colour(light)}'></i>"


def _rings(footprint: dict | None) -> list[list[list[float]]] | None:
    """A GeoJSON Polygon/MultiPolygon as one list of rings (drawn even-odd: holes stay
    holes), coordinates rounded to 1e-7° (~1 cm) to keep the message small."""
    if not footprint:
        return None
    kind, coordinates = footprint.get("type"), footprint.get("coordinates") or []
    polygons = [coordinates] if kind == "Polygon" else coordinates if kind == "MultiPolygon" else []
    rings = [
        [[round(float(x), 7), round(float(y), 7)] for x, y, *_ in ring]
        for polygon in polygons
        for ring in polygon
        if len(ring) >= 3
    ]
    return rings or None


def map_markers(sites: Sequence[ProjectSite], t: _Translate, lang: str) -> list[dict]:
    """The canvas's markers (shape in ``SiteMap.markers``) for the sites with a location,
    largest first, so smaller ones are drawn over them and stay clickable; among equal sizes
    the worse light comes last, on top."""
    placed = [s for s in sites if s.lon_lat is not None]
    placed.sort(key=lambda s: (-marker_radius_px(s.contract_value_cny), _LIGHT_ORDER.get(s.light, 0), s.id))
    return [
        {
            "id": s.id,
            "lon": s.lon_lat[0],
            "lat": s.lon_lat[1],
            "radius_px": marker_radius_px(s.contract_value_cny),
            "colour": marker_colour(s.light),
            "dashed": s.contract_value_cny is None,
            "tip": tip_html(s, t, lang),
            "footprint": _rings(s.footprint),
        }
        for s in placed
    ]


def legend_html(t: _Translate, lang: str) -> str:
    """Colours (the four lights), sizes (a circle per ``LEGEND_VALUES_CNY``, exactly as the
    map draws it), the dashed default size, and when footprints appear."""
    e = html.escape
    lights = "".join(
        f"<div class='row'>{light_dot(light, t)} {e(_light_name(light, t))}</div>"
        for light in (*LIGHTS, None)
    )
    biggest = marker_radius_px(max(LEGEND_VALUES_CNY))
    height = 2 * biggest + 4

    def circle(radius: float, dashed: bool = False) -> str:
        dash = " stroke-dasharray='3 2'" if dashed else ""
        size = 2 * radius + 4
        return (
            f"<svg width='{size:.0f}' height='{height:.0f}' viewBox='0 0 {size:.1f} {height:.1f}' "
            f"aria-hidden='true'><circle cx='{size / 2:.1f}' cy='{height / 2:.1f}' r='{radius:.1f}' "
            f"fill='#b8c0cc' stroke='{'#44505f' if dashed else '#6a7480'}' stroke-width='1'{dash}/></svg>"
        )

    sizes = "".join(
        f"<span data-role='legend-size' data-radius='{marker_radius_px(v)}'>{circle(marker_radius_px(v))}"
        f"<br><small>{e(contract_text(v, t, lang))}</small></span>"
        for v in LEGEND_VALUES_CNY
    )
    return (
        f"<div class='erji-box erji-legend' data-role='map-legend'><h4>{e(t('map_legend'))}</h4>"
        f"<div class='erji-muted'>{e(t('map_legend_light'))}</div>{lights}"
        f"<div class='erji-muted' style='margin-top:6px'>{e(t('map_legend_size'))}</div>"
        f"<div style='display:flex;gap:10px;align-items:flex-end;text-align:center'>{sizes}</div>"
        f"<div class='row'>{circle(DEFAULT_RADIUS_PX, dashed=True)} {e(t('map_legend_no_value'))}</div>"
        f"<div class='erji-muted' style='margin-top:4px'>"
        f"{e(t('map_legend_footprint', km=f'{FOOTPRINT_MAX_WIDTH_M / 1000:g}'))}</div></div>"
    )


def unplaced_html(sites: Sequence[ProjectSite], t: _Translate, lang: str) -> str:
    """How many projects are on the map, and the ones that are not (no location yet), each
    a link to its model page, where its georeferencing can be checked."""
    e = html.escape
    placed = sum(1 for s in sites if s.lon_lat is not None)
    missing = [s for s in sites if s.lon_lat is None]
    on_map = t("map_on_map_one") if placed == 1 else t("map_on_map", n=placed)
    body = (
        f"<div data-role='map-counts' data-on-map='{placed}' data-unplaced='{len(missing)}'>"
        f"<b>{e(on_map)}</b></div>"
    )
    if missing:
        summary = t("map_unplaced_one") if len(missing) == 1 else t("map_unplaced", n=len(missing))
        items = "".join(
            f"<li><a class='erji-project' data-project='{s.id}' href='{e(model_link(s.id, lang))}'>"
            f"{e(s.code)} {e(s.name)}</a></li>"
            for s in missing
        )
        body += (
            f"<details data-role='unplaced'><summary class='erji-warning'>{e(summary)}</summary>"
            f"<ul>{items}</ul></details>"
        )
    return f"<div class='erji-box'>{body}</div>"


def dashboard_link(*, period: str, region_id: int | None, lang: str) -> str:
    """The portfolio dashboard showing the same month and region, in the same language."""
    query = {"period": period, "region": region_id or "", "lang": lang}
    return "/viewer/portfolio?" + urlencode({k: v for k, v in query.items() if v})


def card_html(site: ProjectSite, kpis: ProjectKpis | None, t: _Translate, *, lang: str, period: str) -> str:
    """A project's card (its dashboard on the map): light, score, rank in region, contract
    value, alerts and the top ones, each dimension's light and score and the main reasons
    (when ``kpis`` are known), where the location comes from and what is wrong with the
    model's placement; a button to its 4D model and a link to the dashboard."""
    e = html.escape
    rows = [
        (t("map_contract"), e(contract_text(site.contract_value_cny, t, lang))),
        (t("open_alerts"), e(t("map_alerts", open=site.open_alerts, red=site.red_alerts))),
        (
            t("map_location"),
            e(t(f"map_location_{site.location_source}" if site.location_source else "map_location_none")),
        ),
    ]
    if site.georef_kind in ("map_conversion", "site_reference", "project_site"):
        rows.append((t("map_georef"), e(t(f"map_georef_{site.georef_kind}"))))
    table = "".join(f"<tr><th>{e(k)}</th><td>{v}</td></tr>" for k, v in rows)
    parts = [
        f"<div class='erji-box' data-role='site-card' data-project='{site.id}' "
        f"data-light='{e(site.light or 'none')}'>",
        f"<h3>{light_dot(site.light, t)} {e(site.name)}</h3>",
        f"<div class='erji-code'>{e(site.code)} · {e(site.region or '—')}</div>",
        "<div class='erji-facts'>",
        f"<span>{e(_light_name(site.light, t))}</span>",
        f"<span>{e(t('col_score'))} <b data-role='card-score'>{_score(site.score)}</b></span>",
        f"<span>{e(t('map_rank'))} <b>{site.rank_in_region or '—'}</b></span>",
        "</div>",
        f"<table class='erji-kv'>{table}</table>",
    ]
    if kpis is not None:
        dims = "".join(
            f"<li>{light_dot(kpis.lights.get(d), t, small=True, label=t(f'dim_{d}'))}{e(t(f'dim_{d}'))} "
            f"<b>{_score(kpis.scores.get(d))}</b></li>"
            for d in DIMENSIONS
            if d in kpis.lights or d in kpis.scores
        )
        if dims:
            parts.append(f"<h4>{e(t('map_dimensions'))}</h4><ul data-role='card-dimensions'>{dims}</ul>")
        if kpis.reasons:
            reasons = "".join(f"<li>{e(reason_text(r, t))}</li>" for r in kpis.reasons[:2])
            parts.append(f"<h4>{e(t('map_reasons'))}</h4><ul>{reasons}</ul>")
    if site.top_alerts:
        alerts = "".join(
            f"<li data-role='card-alert'>{light_dot(a.level, t, small=True)}{e(a.message(lang))}</li>"
            for a in site.top_alerts
        )
        parts.append(f"<h4>{e(t('map_top_alerts'))}</h4><ul>{alerts}</ul>")
    if site.georef_warnings:
        warnings = "".join(f"<li>{e(w)}</li>" for w in site.georef_warnings)
        parts.append(
            f"<h4>{e(t('map_georef_warnings'))}</h4><ul class='erji-warning' data-role='card-warnings'>"
            f"{warnings}</ul>"
        )
    parts.append(
        "<div class='erji-actions'>"
        f"<a class='erji-button' data-role='open-model' href='{e(model_link(site.id, lang))}'>"
        f"{e(t('map_open_model'))}</a>"
        f"<a class='erji-button secondary' data-role='open-dashboard' "
        f"href='{e(dashboard_link(period=period, region_id=site.region_id, lang=lang))}'>"
        f"{e(t('map_open_dashboard'))}</a></div></div>"
    )
    return "".join(parts)


def _valid_period(value: str) -> bool:
    return re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value) is not None


# --------------------------------------------------------------------------- the page


class SiteMapPage(pn.viewable.Viewer):
    """One user's projects on the map (HQ: every region; a regional manager: their region);
    ``client`` acts as that user, so the server decides which projects appear.

    ``basemap`` is the offline base map (None: its file is missing, and the page says so);
    ``tile_url`` an administrator's XYZ tile layer drawn in ``tile_datum``, or None."""

    period = param.String(default="", doc="Month whose health is shown, YYYY-MM; '': this month.")
    region_id = param.Integer(default=None, allow_None=True, doc="Region shown; None: all.")
    lang = param.Selector(default=DEFAULT_LANGUAGE, objects=list(LANGUAGES), doc="Page language.")

    def __init__(
        self,
        *,
        client: TwinClient,
        today: dt.date,
        basemap: Basemap | None,
        tile_url: str | None = None,
        tile_datum: Datum = "gcj02",
        **params,
    ) -> None:
        super().__init__(**params)
        self._client = client
        self._today = today
        if not _valid_period(self.period):
            self.period = f"{today.year:04d}-{today.month:02d}"
        self._basemap = basemap
        #: The datum every coordinate is asked in: the one the map is drawn in.
        self.datum: Datum = sites_datum(
            basemap=basemap.datum if basemap else None, tile_url=tile_url, tile_datum=tile_datum
        )
        self._me: Me | None = None
        self._sites: tuple[ProjectSite, ...] = ()
        self._kpis: ProjectKpis | None = None
        self._sites_ticket = 0
        self._card_ticket = 0
        self._quiet = 0
        self.map = SiteMap(
            basemap_url=basemap.url if basemap else "",
            tile_url=tile_url or "",
            attribution=basemap.credit if basemap else "",
            footprint_max_width_m=FOOTPRINT_MAX_WIDTH_M,
            lang=self.lang,
            sizing_mode="stretch_both",
            min_height=420,
            css_classes=["erji-map-area"],
        )
        self.map.param.watch(self._on_marker_click, "selected")
        self._build_widgets()

    # ---- layout ---------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.title = pn.pane.HTML("", margin=(4, 10), styles={"font-size": "18px", "font-weight": "600"})
        self.nav = pn.pane.HTML("", margin=(10, 6))
        self.period_select = pn.widgets.Select(width=120, css_classes=["erji-period"])
        self.region_select = pn.widgets.Select(width=180, css_classes=["erji-region"], visible=False)
        self.period_select.param.watch(self._on_period_choice, "value")
        self.region_select.param.watch(self._on_region_choice, "value")
        self.user_line = pn.pane.HTML("", margin=(10, 10))
        self.language = pn.widgets.RadioButtonGroup(
            options={"中文": "zh", "English": "en"}, value=self.lang, width=150
        )
        self.language.link(self, value="lang")
        self.message = pn.pane.Alert("", alert_type="warning", visible=False, sizing_mode="stretch_width")
        self.counts = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[_CSS], margin=(8, 4, 4, 4))
        self.card = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[_CSS], margin=(4, 4))
        self.legend = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[_CSS], margin=(4, 4))
        self._relabel()

    def __panel__(self):
        header = page_header(
            self.title,
            self.nav,
            self.period_select,
            self.region_select,
            user_line=self.user_line,
            language=self.language,
        )
        side = pn.Column(
            self.counts,
            self.card,
            self.legend,
            width=SIDE_PX,
            css_classes=["erji-map-side"],
            styles={"background": "#eef1f5"},
        )
        return pn.Column(
            header,
            self.message,
            pn.FlexBox(
                self.map,
                side,
                flex_wrap="wrap",
                align_items="stretch",
                sizing_mode="stretch_both",
                stylesheets=[_FLEX_CSS],
            ),
            sizing_mode="stretch_both",
        )

    def _t(self, key: str, **values) -> str:
        value = text(key, self.lang)
        return value.format(**values) if values else value

    @contextlib.contextmanager
    def _syncing(self):
        """Widget changes made by the page itself (filling options) are not user choices."""
        self._quiet += 1
        try:
            yield
        finally:
            self._quiet -= 1

    @param.depends("lang", watch=True)
    def _relabel(self) -> None:
        """Every visible word in the current language (choices and the view are kept)."""
        t = self._t
        self.language.value = self.lang
        self.map.lang = self.lang
        self.map.labels = {key: t(key) for key in MAP_LABELS}
        with self._syncing():
            self.period_select.name = t("period")
            months = months_back(self._today)
            if self.period not in months:
                months = sorted({*months, self.period}, reverse=True)
            self.period_select.options = months
            self.period_select.value = self.period
            self.region_select.name = t("region")
            self._fill_regions()
        self.title.object = html.escape(f"{t('app_title')} · {t('map_title')}")
        self.legend.object = legend_html(t, self.lang)
        self._warn(t("map_no_basemap") if self._basemap is None else "")
        self._show_user()
        self._link_dashboard()
        self._render()

    def _show_user(self) -> None:
        if self._me is not None:
            self.user_line.object = (
                f"{html.escape(self._t('signed_in_as'))}: <b>{html.escape(self._me.username)}</b> · "
                f"<a href='/login?logout=1&lang={self.lang}'>{html.escape(self._t('log_out'))}</a>"
            )

    def _link_dashboard(self) -> None:
        href = dashboard_link(period=self.period, region_id=self.region_id, lang=self.lang)
        self.nav.object = (
            f"<a href='{html.escape(href)}' data-role='dashboard-link'>"
            f"← {html.escape(self._t('dashboard_link'))}</a>"
        )

    def _regions(self) -> dict[str, int]:
        """The regions of the sites, in order of first appearance (the server's order)."""
        found: dict[str, int] = {}
        for site in self._sites:
            if site.region_id is not None and site.region_id not in found.values():
                found[site.region or str(site.region_id)] = site.region_id
        return found

    def _fill_regions(self) -> None:
        regions = self._regions()
        options = {self._t("all_regions"): 0, **regions}
        self.region_select.options = options
        self.region_select.value = self.region_id if self.region_id in options.values() else 0
        # A regional manager has one region: nothing to choose.
        self.region_select.visible = len(regions) > 1

    def _warn(self, message: str) -> None:
        self.message.object = message
        self.message.visible = bool(message)

    # ---- loading --------------------------------------------------------------------
    async def load(self) -> None:
        """Who the user is, then the month's sites."""

        async def everything() -> None:
            self._me = await self._client.me()
            self._show_user()
            await self.load_sites()

        await self._reload(everything)

    # Answers can come back out of order (a quick second month chosen), so every fetch takes
    # a ticket and its result is dropped unless it is still the latest asked for.
    async def load_sites(self) -> None:
        """Every site of ``period`` in the map's datum, then the map fitted to them."""
        self._sites_ticket += 1
        ticket = self._sites_ticket
        found = await self._client.portfolio_sites(self.period, datum=self.datum)
        if ticket != self._sites_ticket:
            return
        self._sites = found.sites
        if self.region_id is not None and self.region_id not in self._regions().values():
            self.region_id = None
        with self._syncing():
            self._fill_regions()
        self._render()
        self.map.fit_request += 1
        if self.map.selected:
            await self.show_project(self.map.selected)

    async def _reload(self, what: Callable[[], object]) -> None:
        standing = "" if self._basemap is not None else self._t("map_no_basemap")
        await load_or_warn(what, warn=self._warn, text=self._t, standing=standing)

    # ---- choices --------------------------------------------------------------------
    def _on_period_choice(self, event) -> None:
        if self._quiet or not event.new or event.new == self.period:
            return
        self.period = event.new
        self._mirror_url()
        pn.state.execute(functools.partial(self._reload, self.load_sites))

    def _on_region_choice(self, event) -> None:
        if self._quiet:
            return
        self.region_id = event.new or None
        self._mirror_url()
        self._render()
        self.map.fit_request += 1

    def _on_marker_click(self, event) -> None:
        if self._quiet == 0 and event.new:
            pn.state.execute(functools.partial(self.show_project, event.new))

    @param.depends("lang", watch=True)
    def _mirror_url(self) -> None:
        """The address bar names the month, region and language, so a link or a reload
        shows the same view (one way, page → URL: see ``viewer.app``)."""
        self._link_dashboard()
        location = pn.state.location
        if location is None:
            return
        query = {"period": self.period, "region": self.region_id, "lang": self.lang}
        with contextlib.suppress(Exception):  # no browser connected yet: nothing to update
            location.search = "?" + "&".join(f"{k}={v}" for k, v in query.items() if v)

    # ---- drawing --------------------------------------------------------------------
    def _visible_sites(self) -> list[ProjectSite]:
        """The sites of the region chosen (all of them without one)."""
        if self.region_id is None:
            return list(self._sites)
        return [s for s in self._sites if s.region_id == self.region_id]

    def _render(self) -> None:
        sites = self._visible_sites()
        self.map.markers = map_markers(sites, self._t, self.lang)
        self.counts.object = unplaced_html(sites, self._t, self.lang)
        self._render_card()

    def _render_card(self) -> None:
        site = next((s for s in self._visible_sites() if s.id == self.map.selected), None)
        if site is None:
            hint = html.escape(self._t("map_hint"))
            self.card.object = f"<div class='erji-box erji-muted' data-role='card-hint'>{hint}</div>"
            return
        kpis = self._kpis if self._kpis is not None and self._kpis.project_id == site.id else None
        self.card.object = card_html(site, kpis, self._t, lang=self.lang, period=self.period)

    async def show_project(self, project_id: int) -> None:
        """Open a project's card: at once from the sites, then with its dimensions and main
        reasons once the server sends its KPIs for the month (none computed yet: without)."""
        self._card_ticket += 1
        ticket = self._card_ticket
        with self._syncing():  # not a click: no second call
            self.map.selected = project_id
        self._render_card()
        try:
            kpis = await self._client.project_kpis(project_id, self.period)
        except NotFound:
            kpis = None
        except ViewerError as exc:
            self._warn(f"{self._t('server_error')}: {exc}")
            return
        if ticket == self._card_ticket:
            self._kpis = kpis
            self._render_card()
