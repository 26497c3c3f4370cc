"""Mount the viewer's Panel pages into a FastAPI app (Panel's FastAPI integration).

The server's composition root calls ``mount_pages`` with a ``client_for_page`` factory
(the viewer never imports the server): it returns a ``TwinClient`` acting as the user
whose request is building the page, or None without a session. The map's optional tile
layer comes the same way, as arguments: the viewer reads no settings of its own.

Besides the pages, one static route: the map's offline base map (``BASEMAP_URL``), public
(it is the same file for everyone), gzipped when the browser accepts it, and cached for good
under its versioned URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import html
import logging
import re
from collections.abc import Callable
from urllib.parse import urlencode

import panel as pn
from fastapi import FastAPI, Request
from fastapi.responses import Response
from panel.io.fastapi import add_applications

from .client import TwinClient
from .components.sitemap import BASEMAP_PATH, BASEMAP_URL, Basemap, Datum, read_basemap
from .i18n import DEFAULT_LANGUAGE, LANGUAGES, text
from .pages.model import ModelPage
from .pages.portfolio import PortfolioPage
from .pages.sitemap import SiteMapPage

__all__ = ["MAP_PAGE", "MODEL_PAGE", "PAGE_PATHS", "PORTFOLIO_PAGE", "mount_pages"]

log = logging.getLogger(__name__)
MODEL_PAGE = "/viewer/model"
PORTFOLIO_PAGE = "/viewer/portfolio"
MAP_PAGE = "/viewer/map"
PAGE_PATHS = (MODEL_PAGE, PORTFOLIO_PAGE, MAP_PAGE)

# URL query parameter ← page param: what a shared link carries.
_URL_PARAMS = {
    "project_id": "project",
    "revision_id": "revision",
    "schedule_id": "schedule",
    "date": "date",
    "element": "element",
    "issue_id": "issue",
    "lang": "lang",
}


def _page_head(extra: str = "") -> str:
    """The template every page's HTML extends Panel's base page with: the viewport tag, so
    phones lay the page out at their own width (without it a mobile browser renders a 980-px
    desktop page and shrinks it), then ``extra`` markup for the page's ``<head>``."""
    return (
        "{% block preamble %}{{ super() }}"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"{extra}{{% endblock %}}"
    )


_PAGE_HEAD = _page_head()


def _query_args() -> dict[str, str]:
    return {k: v[-1].decode("utf-8", "replace") for k, v in (pn.state.session_args or {}).items() if v}


def _initial_params() -> dict:
    """Page params from the URL query, each checked; a bad value is dropped, not fatal."""
    args = _query_args()
    params: dict = {}
    for name, query in _URL_PARAMS.items():
        value = args.get(query)
        if not value:
            continue
        if name.endswith("_id"):
            if value.isdigit() and 0 < int(value) < 2**31:
                params[name] = int(value)
        elif name == "lang":
            if value in LANGUAGES:
                params[name] = value
        elif name == "date":
            with contextlib.suppress(ValueError):
                params[name] = dt.date.fromisoformat(value).isoformat()
        elif len(value) == 22 and value.isascii():
            params[name] = value
    return params


def _portfolio_params() -> dict:
    """The portfolio and map pages' params from the URL query (``period``, ``region``,
    ``lang``), each checked like ``_initial_params``."""
    args = _query_args()
    params: dict = {}
    period = args.get("period", "")
    if re.fullmatch(r"(19|20|21)\d\d-(0[1-9]|1[0-2])", period):
        params["period"] = period
    region = args.get("region", "")
    if region.isdigit() and 0 < int(region) < 2**31:
        params["region_id"] = int(region)
    if args.get("lang") in LANGUAGES:
        params["lang"] = args["lang"]
    return params


def _mirror_in_url(page: ModelPage) -> None:
    """Keep the address bar equal to the page's state, so copying it shares the view.

    One way only (page → URL): the URL was read once, checked, by ``_initial_params``.
    Not Panel's ``Location.sync``: it would re-apply the original query when the browser
    connects (undoing the page's corrections, e.g. an unknown revision replaced by the
    newest), and it pushes a history entry per change (dozens while the timeline plays);
    the 3D component replaces the URL in place instead.
    """

    def update(*_events) -> None:
        query = {}
        for name, key in _URL_PARAMS.items():
            value = getattr(page, name)
            query[key] = "" if value is None else str(value)
        page.scene.url_query = "?" + urlencode({k: v for k, v in query.items() if v})

    page.param.watch(update, list(_URL_PARAMS))
    update()


def mount_pages(
    app: FastAPI,
    *,
    client_for_page: Callable[[], TwinClient | None],
    today: Callable[[], dt.date],
    secret_key: str,
    map_tile_url: str | None,
    map_tile_datum: Datum,
) -> None:
    """Add the project model page at ``/viewer/model``, the portfolio dashboard at
    ``/viewer/portfolio`` and the site map at ``/viewer/map`` (each with its websocket), and
    the map's base map at ``BASEMAP_URL``.

    ``map_tile_url`` is an XYZ tile URL template the map draws over its offline base map
    (None: no tile layer, and the map asks nothing of any other host); ``map_tile_datum`` the
    datum those tiles are drawn in (AMap's are GCJ-02), which the sites are then asked in."""

    @functools.cache
    def basemap() -> Basemap | None:
        # Read at first use, once: a missing file fails the map's base map, not the server.
        try:
            return read_basemap(BASEMAP_PATH)
        except (OSError, ValueError) as exc:
            log.error("the map's offline base map is unusable (%s): the map draws sites only", exc)
            return None

    @app.get(BASEMAP_URL, include_in_schema=False)
    def basemap_file(request: Request, v: str = "") -> Response:
        found = basemap()
        if found is None:
            return Response(status_code=404)
        # The versioned URL names these bytes for good; an unversioned one may change.
        cache = "public, max-age=31536000, immutable" if v == found.version else "no-cache"
        headers = {"Cache-Control": cache, "ETag": f'"{found.version}"', "Vary": "Accept-Encoding"}
        if request.headers.get("if-none-match") == headers["ETag"]:
            return Response(status_code=304, headers=headers)
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
            return Response(found.gzipped, media_type="application/geo+json", headers=headers)
        return Response(found.body, media_type="application/geo+json", headers=headers)

    def build_page(page_class, params: dict, *, extensions: tuple[str, ...] = (), head: str = _PAGE_HEAD):
        """One page for this websocket session, acting as the requesting user (its client's
        connections close with the session), or a link to the log-in page without a user."""
        pn.extension(*extensions, notifications=False)
        pn.state.curdoc.template = head
        client = client_for_page()
        if client is None:
            # A websocket reconnect outside any request: there is no session to act as.
            language = params.get("lang", DEFAULT_LANGUAGE)
            return pn.pane.HTML(f"<p><a href='/login'>{text('session_expired', language)}</a></p>")
        page = page_class(client=client, today=today(), **params)
        pn.state.onload(page.load)

        def closed(_context) -> None:
            asyncio.get_event_loop().create_task(client.close())

        pn.state.on_session_destroyed(closed)
        return page

    def model_page():
        page = build_page(ModelPage, _initial_params(), extensions=("tabulator",))
        if isinstance(page, ModelPage):
            _mirror_in_url(page)
        return page

    def portfolio_page():
        return build_page(PortfolioPage, _portfolio_params())

    def map_page():
        found = basemap()
        params = _portfolio_params() | {
            "basemap": found,
            "tile_url": map_tile_url,
            "tile_datum": map_tile_datum,
        }
        # The base map downloads while Panel's scripts load, rather than once the map is drawn
        # (the canvas's fetch then takes the preloaded answer: same URL, same credentials mode).
        preload = (
            f'<link rel="preload" href="{html.escape(found.url)}" as="fetch" crossorigin="anonymous">'
            if found
            else ""
        )
        return build_page(SiteMapPage, params, head=_page_head(preload))

    add_applications(
        {MODEL_PAGE: model_page, PORTFOLIO_PAGE: portfolio_page, MAP_PAGE: map_page},
        app=app,
        title=text("app_title", DEFAULT_LANGUAGE),
        # No request header or cookie goes into Panel's session token: the token is
        # embedded in the page, and the session cookie must stay HttpOnly.
        include_headers=[],
        include_cookies=[],
        secret_key=secret_key.encode("utf-8"),
        sign_sessions=True,
    )
    # Pages are not API operations: keep them out of the OpenAPI schema and /docs.
    for route in app.routes:
        if getattr(route, "path", None) in PAGE_PATHS and hasattr(route, "include_in_schema"):
            route.include_in_schema = False
