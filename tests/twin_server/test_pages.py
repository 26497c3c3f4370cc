"""The browser pages' door: the log-in page and the session gate in front of Panel pages."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.twin_server.conftest import PASSWORD, make_settings
from viewer.components.sitemap import BASEMAP_PATH, BASEMAP_URL


def _session(api, user: str) -> tuple[str, str]:
    """A browser log-in: the session cookie and its CSRF secret."""
    response = api.client.post("/api/auth/session", json={"username": user, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.cookies["twin_session"], response.json()["csrf_token"]


def test_a_page_without_a_session_sends_the_browser_to_log_in(api) -> None:
    response = api.client.get("/viewer/model?project=3&date=2025-01-02")
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == ["/viewer/model?project=3&date=2025-01-02"]
    # A forged or stale cookie is no session either.
    forged = api.client.get("/viewer/model", headers={"Cookie": "twin_session=not.a.token"})
    assert forged.status_code == 303
    # "/" without a session: log in, then come back to "/" (the log-in page's default next).
    assert api.client.get("/").headers["location"] == "/login"
    portfolio = api.client.get("/viewer/portfolio?period=2026-01&lang=en")
    assert portfolio.status_code == 303
    assert parse_qs(urlsplit(portfolio.headers["location"]).query)["next"] == [
        "/viewer/portfolio?period=2026-01&lang=en"
    ]


@pytest.mark.parametrize(
    ("user", "home"),
    [
        ("admin", "/viewer/map"),
        ("hq", "/viewer/map"),
        ("east", "/viewer/portfolio"),
        ("inspector", "/viewer/model"),
        ("site", "/viewer/model"),
    ],
)
def test_home_is_the_map_for_hq_the_portfolio_for_regions_and_the_model_for_a_project(
    api, user, home
) -> None:
    cookie, _ = _session(api, user)
    response = api.client.get("/", headers={"Cookie": f"twin_session={cookie}"})
    assert response.status_code == 303 and response.headers["location"] == home
    assert response.headers["cache-control"] == "no-store"  # it depends on who asks
    assert api.client.get("/", headers={"Cookie": "twin_session=forged"}).headers["location"] == "/login"


def test_a_logged_in_user_gets_the_portfolio_page(api) -> None:
    cookie, _ = _session(api, "east")
    response = api.client.get("/viewer/portfolio", headers={"Cookie": f"twin_session={cookie}"})
    assert response.status_code == 200, response.text
    assert cookie not in response.text and response.headers["cache-control"] == "no-store"
    assert "/viewer/portfolio" not in {
        r.path for r in api.app.routes if getattr(r, "include_in_schema", False)
    }


def test_a_logged_in_user_gets_the_page_without_the_session_cookie_in_it(api) -> None:
    cookie, csrf = _session(api, "inspector")
    response = api.client.get("/viewer/model", headers={"Cookie": f"twin_session={cookie}"})
    assert response.status_code == 200, response.text
    assert "text/html" in response.headers["content-type"]
    # Panel embeds a session token in the page; the HttpOnly cookie must not be in it.
    assert cookie not in response.text
    assert "twin_session" not in response.text
    assert response.headers["cache-control"] == "no-store"  # it embeds a Panel session token
    # Logging out ends the session: the same cookie no longer opens the page.
    logout = api.client.request(
        "DELETE", "/api/auth/session", headers={"Cookie": f"twin_session={cookie}", "X-CSRF-Token": csrf}
    )
    assert logout.status_code == 204
    assert api.client.get("/viewer/model", headers={"Cookie": f"twin_session={cookie}"}).status_code == 303


def test_a_page_websocket_without_a_session_is_refused(api) -> None:
    sent: list[dict] = []

    async def receive():
        return {"type": "websocket.connect"}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "websocket",
        "path": "/viewer/model/ws",
        "raw_path": b"/viewer/model/ws",
        "query_string": b"",
        "headers": [(b"cookie", b"twin_session=forged")],
        "subprotocols": ["bokeh", "token"],
        "scheme": "ws",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
        "root_path": "",
        "asgi": {"version": "3.0"},
    }
    asyncio.run(api.app(scope, receive, send))
    assert sent and sent[0]["type"] == "websocket.close" and sent[0]["code"] == 4401


@pytest.mark.parametrize(
    ("query", "language", "words"),
    [("", "zh", ["登录", "用户名", "密码"]), ("?lang=en", "en", ["Log in", "User name", "Password"])],
)
def test_the_login_page_speaks_both_languages(api, query, language, words) -> None:
    response = api.client.get(f"/login{query}")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert f'lang="{"zh-CN" if language == "zh" else "en"}"' in response.text
    for word in words:
        assert word in response.text
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", response.text)  # nothing from another host


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/viewer/model?project=4", "/viewer/model?project=4"),
        ("/viewer/portfolio?period=2026-01", "/viewer/portfolio?period=2026-01"),
        ("", "/"),  # no next: back to "/", which sends the user to their home page
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/x</script><script>alert(1)</script>", None),
        # Browsers strip tabs and newlines from URLs, which would turn these into "//evil…".
        ("/\t/evil.example/phish", "/"),
        ("/\n/evil.example", "/"),
        ("/\r/evil.example", "/"),
        ("/\x7f/evil.example", "/"),
    ],
)
def test_login_only_returns_to_a_path_of_this_site(api, target, expected) -> None:
    response = api.client.get("/login", params={"next": target})
    assert response.status_code == 200
    next_value = re.search(r"const NEXT = (\"[^\"]*\")", response.text).group(1)
    assert "</script>" not in next_value and "<" not in next_value
    if expected is not None:
        assert next_value == f'"{expected}"'


def test_login_page_rejects_oversized_parameters(api) -> None:
    response = api.client.get("/login", params={"next": "/" + "a" * 5000})
    assert response.status_code == 422
    assert set(response.json()) == {"error", "detail"}


@pytest.mark.parametrize("path", ["/components/foo", "/components/a/b/c", "/components/../../etc/passwd"])
def test_unknown_page_resources_are_a_clear_4xx_not_a_500(api, path) -> None:
    response = api.client.get(path)
    assert response.status_code in (400, 404)
    assert set(response.json()) == {"error", "detail"}


def test_logging_out_takes_a_click_not_just_a_link(api) -> None:
    page = api.client.get("/login", params={"logout": "1"}).text
    assert "<form id='logout'>" in page and '<form id="login" autocomplete="on" hidden>' in page
    # The DELETE runs only in the logout form's submit handler.
    script = page[page.index("<script>") :]
    assert script.index("method: 'DELETE'") > script.index("logoutForm.addEventListener('submit'")


def test_the_map_page_needs_a_session_and_stays_out_of_the_api_docs(api) -> None:
    response = api.client.get("/viewer/map?region=3&lang=en")
    assert response.status_code == 303
    assert parse_qs(urlsplit(response.headers["location"]).query)["next"] == ["/viewer/map?region=3&lang=en"]
    cookie, _ = _session(api, "hq")
    page = api.client.get("/viewer/map", headers={"Cookie": f"twin_session={cookie}"})
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert cookie not in page.text
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", page.text)  # nothing from another host
    # The base map downloads while the page's scripts load (the canvas takes that answer).
    version = hashlib.sha256(BASEMAP_PATH.read_bytes()).hexdigest()[:16]
    assert f'<link rel="preload" href="{BASEMAP_URL}?v={version}" as="fetch"' in page.text
    assert "/viewer/map" not in {r.path for r in api.app.routes if getattr(r, "include_in_schema", False)}


def test_the_offline_base_map_is_served_gzipped_and_cached_under_its_version(api) -> None:
    """Public (the same file for everyone), the packaged bytes, gzipped when accepted; its
    versioned URL may be kept for good, the bare one is checked again (ETag)."""
    body = BASEMAP_PATH.read_bytes()
    version = hashlib.sha256(body).hexdigest()[:16]
    plain = api.client.get(BASEMAP_URL, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and plain.content == body
    assert plain.headers["content-type"] == "application/geo+json"
    assert plain.headers["cache-control"] == "no-cache" and plain.headers["etag"] == f'"{version}"'
    packed = api.client.get(f"{BASEMAP_URL}?v={version}", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip" and packed.content == body  # httpx unpacks it
    assert int(packed.headers["content-length"]) < len(body) / 2
    assert packed.headers["cache-control"] == "public, max-age=31536000, immutable"
    again = api.client.get(BASEMAP_URL, headers={"If-None-Match": f'"{version}"'})
    assert again.status_code == 304 and not again.content
    document = json.loads(body)
    assert document["type"] == "FeatureCollection" and document["metadata"]["datum"]


@pytest.mark.parametrize(
    "template",
    ["https://webrd01.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}&style=8", "/tiles/{z}/{x}/{y}.png", ""],
)
def test_a_tile_url_is_an_xyz_template_of_http_or_this_site(tmp_path, template) -> None:
    settings = make_settings(tmp_path, "sqlite://", map_tile_url=template, map_tile_datum="wgs84")
    assert settings.map_tile_url == (template or None) and settings.map_tile_datum == "wgs84"
    assert make_settings(tmp_path, "sqlite://").map_tile_url is None  # default: offline base map only
    assert make_settings(tmp_path, "sqlite://").map_tile_datum == "gcj02"  # AMap's tiles


@pytest.mark.parametrize(
    "template",
    ["ftp://tiles.example.cn/{z}/{x}/{y}.png", "https://tiles.example.cn/{z}/{x}.png", "tiles/{z}/{x}/{y}"],
)
def test_a_tile_url_that_is_no_template_is_refused(tmp_path, template) -> None:
    with pytest.raises(ValueError, match="TWIN_MAP_TILE_URL"):
        make_settings(tmp_path, "sqlite://", map_tile_url=template)
