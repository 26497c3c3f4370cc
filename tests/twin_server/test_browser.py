"""The server's browser pages in a real browser (Debian's chromium): offline, and working."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.twin_server.conftest import live_server

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def server(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWIN_")}
    env |= {"TWIN_DEVELOPMENT": "1", "TWIN_DATA_DIR": str(tmp_path / "data")}
    with live_server(env, tmp_path, tmp_path / "server.log") as base:
        yield base


def test_api_docs_render_with_no_request_to_another_host(server, browser_page) -> None:
    page = browser_page
    page.goto(f"{server}/docs", wait_until="networkidle")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "api-docs.png"))
    page.wait_for_selector("text=Erji Twin API", timeout=30_000)
    assert page.locator(".opblock").count() > 20  # every operation is listed
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "api-docs.png"))
    hosts = {urlsplit(url).netloc for url in page.requested if not url.startswith(("data:", "blob:"))}
    assert hosts == {urlsplit(server).netloc}, page.requested
