"""Shared fixtures: the real-world corpus, Node.js tools, and cached pipeline runs.

The corpus lives outside the repository (``../shared/corpus``, or ``ERJI_CORPUS``) and is
never copied into it. Under CI (``CI=true``) a missing corpus or Node.js fails the run
instead of skipping, so corpus tests can never pass by not running.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("ERJI_CORPUS", ROOT.parent / "shared" / "corpus")).resolve()
NODE_TOOLS = ROOT / "viewer" / "js"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _missing(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} (CI=true: required, not skipped)", pytrace=False)
    pytest.skip(what)


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared real-world test corpus folder."""
    if not (CORPUS / "MANIFEST.md").is_file():
        _missing(f"test corpus not found at {CORPUS}")
    return CORPUS


def corpus_ifc_files() -> list[Path]:
    """Every IFC in the corpus' ifc/ folder (empty list if the corpus is absent)."""
    folder = CORPUS / "ifc"
    return (
        sorted(p for p in folder.glob("*") if p.suffix.lower() in (".ifc", ".ifczip"))
        if folder.is_dir()
        else []
    )


@pytest.fixture(scope="session")
def node_tools() -> Path:
    """``viewer/js`` with its npm dependencies installed (three.js, glTF validator)."""
    if shutil.which("node") is None:
        _missing("node is not installed")
    if not (NODE_TOOLS / "node_modules" / "three").is_dir():
        _missing("viewer/js/node_modules is missing: run `make test` (it runs npm ci)")
    return NODE_TOOLS


def run_node_tool(node_tools: Path, tool: str, *args: str | Path) -> dict:
    """Run ``viewer/js/tools/<tool>.mjs`` and parse its JSON output."""
    completed = subprocess.run(
        ["node", str(node_tools / "tools" / f"{tool}.mjs"), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return json.loads(completed.stdout)


class ProcessedModels:
    """Runs ``process_model`` once per (file, options) per test session."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._done: dict[tuple, tuple[Path, object]] = {}

    def get(self, path: Path, **options):
        from ifc_processing import process_model

        key = (str(path), tuple(sorted(options.items())))
        if key not in self._done:
            out = self.root / f"{len(self._done):03d}-{path.stem}"
            summary = process_model(path, out, **options)
            self._done[key] = (out, summary)
        return self._done[key]


@pytest.fixture(scope="session")
def processed(tmp_path_factory: pytest.TempPathFactory) -> ProcessedModels:
    """Cached pipeline outputs: ``processed.get(path, **options) -> (out_dir, summary)``."""
    return ProcessedModels(tmp_path_factory.mktemp("processed"))


#: The MQTT broker of the bridge's tests (Mosquitto on this machine; ``TWIN_TEST_MQTT`` to move it).
MQTT_URL = os.environ.get("TWIN_TEST_MQTT", "mqtt://127.0.0.1:1883")


@pytest.fixture(scope="session")
def mqtt_broker() -> str:
    """The URL of a real MQTT broker that accepted a connection (default
    ``mqtt://127.0.0.1:1883``). Missing: skipped locally, a failure under CI=true."""
    from twin_server.domain.errors import Unavailable
    from twin_server.mqtt import connect_publisher, parse_mqtt_url

    try:
        client = connect_publisher(
            parse_mqtt_url(MQTT_URL), client_id=f"erji-test-probe-{os.getpid()}", timeout_s=5
        )
    except Unavailable as exc:
        _missing(f"MQTT broker not reachable: {exc.detail}")
    client.disconnect()
    client.loop_stop()
    return MQTT_URL


#: Chromium flags for tests: no sandbox (containers), no GPU, and nothing that phones home.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@pytest.fixture
def browser_page(tmp_path_factory):
    """A page of Debian's chromium (never Playwright's download), in a fresh profile,
    driven by Playwright; ``page.requested`` lists every URL the page asked for."""
    executable = shutil.which("chromium")
    if executable is None:
        _missing("chromium is not installed: run `make test` (it installs the Debian package)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=executable,
            headless=True,
            args=list(CHROMIUM_FLAGS),
        )
        try:
            page = context.new_page()
            page.requested = []
            page.on("request", lambda request: page.requested.append(request.url))
            yield page
        finally:
            context.close()


PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone_page():
    """A touch phone (390×844 CSS px, device pixel ratio 2) in Debian's chromium, in a fresh
    profile; ``page.errors`` collects page errors and console errors, ``page.requested``
    every URL the page asked for."""
    executable = shutil.which("chromium")
    if executable is None:
        _missing("chromium is not installed: run `make test` (it installs the Debian package)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=list(CHROMIUM_FLAGS)
        )
        context = browser.new_context(viewport=PHONE, device_scale_factor=2, has_touch=True, is_mobile=True)
        page = context.new_page()
        page.errors = []
        page.requested = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
        page.on("request", lambda request: page.requested.append(request.url))
        try:
            yield page
        finally:
            context.close()
            browser.close()
