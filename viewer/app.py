"""Mount the viewer's Panel pages into a FastAPI app (Panel's FastAPI integration).

The server's composition root calls ``mount_pages`` with a ``client_for_page`` factory
(the viewer never imports the server): it returns a ``TwinClient`` acting as the user
whose request is building the page, or None without a session.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import re
from collections.abc import Callable
from urllib.parse import urlencode

import panel as pn
from fastapi import FastAPI
from panel.io.fastapi import add_applications

from .client import TwinClient
from .i18n import DEFAULT_LANGUAGE, LANGUAGES, text
from .pages.model import ModelPage
from .pages.portfolio import PortfolioPage

__all__ = ["MODEL_PAGE", "PAGE_PATHS", "PORTFOLIO_PAGE", "mount_pages"]

log = logging.getLogger(__name__)
MODEL_PAGE = "/viewer/model"
PORTFOLIO_PAGE = "/viewer/portfolio"
PAGE_PATHS = (MODEL_PAGE, PORTFOLIO_PAGE)

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


# Phones lay the page out at their own width (without this tag a mobile browser renders a
# 980-px desktop page and shrinks it); Panel extends a string template from its own base page.
_PAGE_HEAD = (
    "{% block preamble %}{{ super() }}"
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "{% endblock %}"
)


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
    """The portfolio page's params from the URL query (``period``, ``region``, ``lang``),
    each checked like ``_initial_params``."""
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
) -> None:
    """Add the project model page at ``/viewer/model`` and the portfolio dashboard at
    ``/viewer/portfolio`` (each with its websocket)."""

    def build_page(page_class, params: dict, *, extensions: tuple[str, ...] = ()):
        """One page for this websocket session, acting as the requesting user (its client's
        connections close with the session), or a link to the log-in page without a user."""
        pn.extension(*extensions, notifications=False)
        pn.state.curdoc.template = _PAGE_HEAD
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

    add_applications(
        {MODEL_PAGE: model_page, PORTFOLIO_PAGE: portfolio_page},
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
