"""The browser pages on the API's port: log-in page, Panel pages, and the gate in front.

Panel's FastAPI integration (``panel.io.fastapi.add_applications``) adds each page as a
GET route plus a websocket; ``PageGate`` stands in front of both and lets a request
through only with a valid session cookie (a page load without one is redirected to
``/login?next=…``; a websocket without one is refused). It hands the session token to
the page being built through a context variable, never through the page itself: Panel
would otherwise copy cookies into the session token it embeds in the HTML, which would
undo HttpOnly. The page's ``TwinClient`` then calls this same app in-process (no socket)
as that user, so the API's access rules decide what a page may show.

"/" sends a logged-in user to their home page — the portfolio dashboard for HQ and
regional users, the model page for everyone on a project — and anyone else to log in.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import hashlib
import hmac
import logging
from http.cookies import SimpleCookie
from urllib.parse import quote

import httpx
from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from viewer.app import MAP_PAGE, MODEL_PAGE, PAGE_PATHS, PORTFOLIO_PAGE
from viewer.app import mount_pages as mount_viewer_pages
from viewer.client import TwinClient
from viewer.i18n import DEFAULT_LANGUAGE, LANGUAGES
from viewer.pages.login import login_page, safe_next

from ..domain.access import NodeKind
from ..domain.errors import DomainError
from ..domain.model import Principal
from ..runtime import Runtime
from ..services import orgs
from ..services.auth import load_principal
from .deps import SESSION_COOKIE

__all__ = ["PageGate", "mount_pages"]

log = logging.getLogger(__name__)
_session_token: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "page_session_token", default=None
)
# "/" sends each user to their home page (see ``_home_page``); a log-in without a ``next``
# comes back here to be sent on.
_HOME = "/"
# Any host name works for in-process calls; this one only shows up in logs.
_INTERNAL_BASE_URL = "http://twin.internal"


def _gated(path: str) -> bool:
    return any(path == p or path == f"{p}/ws" for p in PAGE_PATHS)


class PageGate:
    """ASGI middleware: pages and their websockets need a live session (see module doc)."""

    def __init__(self, app: ASGIApp, *, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not _gated(scope["path"]):
            return await self.app(scope, receive, send)
        token = _session(self.runtime, scope)
        if token is None:
            if scope["type"] == "websocket":
                # Refuse the handshake (the browser sees a failed connection).
                return await send({"type": "websocket.close", "code": 4401})
            target = scope["path"] + (
                f"?{scope['query_string'].decode('latin-1')}" if scope["query_string"] else ""
            )
            response = RedirectResponse(f"/login?expired=1&next={quote(target, safe='')}", status_code=303)
            return await response(scope, receive, send)
        reset = _session_token.set(token)
        try:
            await self.app(scope, receive, _no_store(send) if scope["type"] == "http" else send)
        finally:
            _session_token.reset(reset)


def _session(runtime: Runtime, scope: Scope) -> str | None:
    """The request's session token if its cookie holds a live one, else None."""
    found = _session_principal(runtime, scope)
    return found[0] if found else None


def _session_principal(runtime: Runtime, scope: Scope) -> tuple[str, Principal] | None:
    """The request's session token and whose it is, if its cookie holds a live one."""
    cookies = SimpleCookie()
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            try:
                cookies.load(value.decode("latin-1"))
            except Exception:  # a malformed Cookie header is no session
                return None
    morsel = cookies.get(SESSION_COOKIE)
    if morsel is None or not morsel.value:
        return None
    try:
        claims = runtime.tokens.check(morsel.value)
        with runtime.sessions() as session:
            principal = load_principal(
                session,
                user_id=claims.user_id,
                token_version=claims.token_version,
                cache=runtime.principals,
            )
    except DomainError:
        return None
    return morsel.value, principal


def _home_page(runtime: Runtime, principal: Principal) -> str:
    """Where "/" sends a logged-in user: HQ users (admin, hq_viewer) to the site map — every
    site in the country first; regional users (regional manager, regional inspector) to the
    portfolio dashboard of their region; everyone on a project to its model page."""
    try:
        with runtime.sessions() as session:
            kind = orgs.get_node(session, principal.node_id).kind
    except DomainError:
        return MODEL_PAGE
    return {NodeKind.HQ: MAP_PAGE, NodeKind.REGION: PORTFOLIO_PAGE}.get(kind, MODEL_PAGE)


def _no_store(send: Send) -> Send:
    """A page embeds its Panel session token: no cache (browser or proxy) may keep it."""

    async def wrapped(message) -> None:
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
            message = {**message, "headers": [*headers, (b"cache-control", b"no-store")]}
        await send(message)

    return wrapped


def mount_pages(app: FastAPI, runtime: Runtime) -> None:
    """Add the log-in page, the Panel pages and their gate to ``app``."""
    transport = httpx.ASGITransport(app=app)

    def client_for_page() -> TwinClient | None:
        token = _session_token.get()
        if token is None:
            return None
        return TwinClient(base_url=_INTERNAL_BASE_URL, token=token, transport=transport)

    mount_viewer_pages(
        app,
        client_for_page=client_for_page,
        today=dt.date.today,  # the server's calendar day: sites and server share a time zone
        # Panel signs its session ids with a key of its own, derived from the server's secret.
        secret_key=hmac.new(
            runtime.settings.secret_key.encode(), b"panel-sessions", hashlib.sha256
        ).hexdigest(),
        map_tile_url=runtime.settings.map_tile_url,
        map_tile_datum=runtime.settings.map_tile_datum,
    )

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> RedirectResponse:
        # Without a session, log in first: the log-in page comes back here (its default
        # ``next``), and the user is then sent to their own home page.
        found = _session_principal(runtime, request.scope)
        target = "/login" if found is None else _home_page(runtime, found[1])
        return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        # Browsers ask on every page; "no icon" beats a 404 in every console.
        return Response(status_code=204)

    @app.get("/login", include_in_schema=False)
    async def login(
        request: Request,
        next: str | None = Query(None, max_length=2000),
        lang: str | None = Query(None, max_length=5),
        logout: bool = False,
        expired: bool = False,
    ) -> HTMLResponse:
        language = lang if lang in LANGUAGES else _preferred_language(request)
        page = login_page(
            language=language, next_url=safe_next(next, _HOME), logout=logout, expired=expired and not logout
        )
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})

    app.add_middleware(PageGate, runtime=runtime)


def _preferred_language(request: Request) -> str:
    accept = request.headers.get("accept-language", "").lower()
    if accept.startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE
