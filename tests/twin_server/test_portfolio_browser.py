"""The portfolio dashboard in a real browser (Debian's chromium), end to end on the demo
portfolio: a regional manager and HQ log in at "/" and land on the dashboard, see the
projects table with lights and sparklines, the alert feed and the bottom three, switch to
English and back, acknowledge an alert, record an improvement action, and click through to
a project's 4D model page — with no request to any other host."""

from __future__ import annotations

import datetime as dt
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
#: A small portfolio keeps the demo quick (``twin demo --projects``, where it exists).
DEMO_PROJECTS = 12


def _token(base: str, user: str) -> str:
    response = httpx.post(f"{base}/api/auth/token", data={"username": user, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def _api(base: str, user: str) -> httpx.Client:
    return httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {_token(base, user)}"})


def _ensure_open_alert(base: str) -> None:
    """At least one open alert in the regional manager's region: if the demo raised none, a
    schedule with a task twelve days late raises a task_delay alert as it is imported."""
    with _api(base, "east") as east:
        if any(a["status"] == "open" for a in east.get("/api/alerts").json()):
            return
        project = east.get("/api/portfolio/summary").json()["projects"][0]["id"]
    today = dt.date.today()
    start, finish = today - dt.timedelta(days=40), today - dt.timedelta(days=12)
    plan = f"id,name,planned_start,planned_finish\nLATE-1,三层顶板浇筑,{start},{finish}\n"
    with _api(base, "admin") as admin:
        imported = admin.post(
            f"/api/projects/{project}/schedules/import",
            data={"name": "浏览器测试进度"},
            files={"file": ("plan.csv", plan.encode())},
        )
        assert imported.status_code == 201, imported.text


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory):
    """``twin demo`` (a small portfolio where the command allows it) + ``twin serve``."""
    folder = tmp_path_factory.mktemp("portfolio")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWIN_")}
    env |= {"TWIN_DEVELOPMENT": "1", "TWIN_DATA_DIR": str(folder / "data")}
    sample = write_building(folder / "sample.ifc", storeys=2, bays_x=2, bays_y=1)
    twin = Path(sys.executable).with_name("twin")
    command = [str(twin), "demo", "--sample", str(sample)]
    usage = subprocess.run([str(twin), "demo", "--help"], env=env, capture_output=True, text=True, check=True)
    if "--projects" in usage.stdout:
        command += ["--projects", str(DEMO_PROJECTS)]
    subprocess.run(command, env=env, cwd=folder, check=True, timeout=600, capture_output=True)
    with live_server(env, folder, folder / "server.log") as base:
        _ensure_open_alert(base)
        yield {"base": base, "log": folder / "server.log"}


def _log_in_at_home(page, base: str, user: str) -> None:
    """Log in the way a user does: open the site, log in, land on their home page — the
    dashboard for a regional user; HQ lands on the site map and follows its link here."""
    page.goto(f"{base}/")
    page.wait_for_url("**/login**")
    page.fill("#username", user)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    if user == "hq":
        page.wait_for_url("**/viewer/map**")
        page.locator("[data-role=dashboard-link]").click()
    page.wait_for_url("**/viewer/portfolio**")
    page.wait_for_selector("[data-role=projects-table]", timeout=60_000)


def _only_this_host(page, base: str) -> None:
    # blob: and data: URLs are made by the page itself.
    hosts = {urlsplit(u).netloc for u in page.requested if not u.startswith(("data:", "blob:"))}
    assert hosts == {urlsplit(base).netloc}, sorted(set(page.requested))


def _check_table(page, summary: dict) -> None:
    """Every project of the summary has its row, its light and (with history) its sparkline."""
    rows = page.locator("[data-role=project-row]")
    expect(rows).to_have_count(len(summary["projects"]))
    for project in summary["projects"]:
        row = page.locator(f"[data-role=project-row][data-project='{project['id']}']")
        assert row.get_attribute("data-light") == (project["light"] or "none")
        if project["trend"]:
            spark = row.locator("svg[data-role=sparkline]")
            assert spark.get_attribute("data-points") == str(len(project["trend"]))
        # The light is a coloured dot: the overall one plus one per dimension.
        assert row.locator(".erji-dot").count() == 1 + 4


def test_a_regional_manager_runs_the_region_from_the_dashboard(portfolio, browser_page) -> None:
    page, base = browser_page, portfolio["base"]
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_viewport_size({"width": 1440, "height": 900})
    _log_in_at_home(page, base, "east")
    with _api(base, "east") as east:
        summary = east.get("/api/portfolio/summary").json()
        ranking = east.get("/api/portfolio/ranking").json()
    assert {p["region_id"] for p in summary["projects"]} == {r["id"] for r in summary["regions"]}

    # Region card, the projects table with lights and sparklines, the feed, the bottom three.
    expect(page.locator("[data-role=region-card]")).to_have_count(len(summary["regions"]))
    _check_table(page, summary)
    expect(page.locator("[data-role=alert]").first).to_be_visible()
    bottom = [b for region in ranking["regions"] for b in region["bottom"]]
    expect(page.locator("[data-role=bottom-project]")).to_have_count(len(bottom))
    expect(page.get_by_text("区域管控看板")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "portfolio-zh.png"), full_page=True)

    # English and back: the same page, every word from the catalogue.
    page.get_by_role("button", name="English").click()
    expect(page.get_by_text("Portfolio dashboard")).to_be_visible(timeout=30_000)
    expect(page.locator("[data-role=projects-table]")).to_contain_text("Last 6 months")
    expect(page.locator(".erji-bottom-section")).to_contain_text("Bottom 3 per region")
    page.wait_for_function("location.search.includes('lang=en')")
    page.screenshot(path=str(ARTIFACTS / "portfolio-en.png"), full_page=True)
    page.get_by_role("button", name="中文").click()
    expect(page.get_by_text("区域管控看板")).to_be_visible(timeout=30_000)
    expect(page.locator("[data-role=projects-table]")).to_contain_text("近 6 个月")

    # Acknowledge the first open alert: the feed shows it acknowledged, the server agrees.
    first_open = page.locator("[data-role=alert][data-status=open]").first
    alert_id = int(first_open.get_attribute("data-alert"))
    page.locator(".erji-alert-ack button").first.click()
    expect(page.locator(f"[data-role=alert][data-alert='{alert_id}']")).to_have_attribute(
        "data-status", "acknowledged", timeout=30_000
    )
    with _api(base, "east") as east:
        after = {a["id"]: a for a in east.get("/api/alerts").json()}
    assert after[alert_id]["status"] == "acknowledged" and after[alert_id]["acknowledged_by"]

    # An improvement action for a bottom-three project, owned by the manager by default.
    target = bottom[0]["project_id"]
    block = page.locator(f"[data-role=bottom-project][data-project='{target}']")
    add_buttons = page.locator(".erji-improvement-add button")
    add_buttons.nth(next(i for i, b in enumerate(bottom) if b["project_id"] == target)).click()
    page.locator(".erji-action-text textarea").fill("每周召开进度协调会，增加一个钢筋班组")
    page.locator(".erji-action-save button").click()
    expect(block.locator("[data-role=improvement-action]")).to_contain_text(
        "每周召开进度协调会", timeout=30_000
    )
    with _api(base, "east") as east:
        actions = east.get(f"/api/projects/{target}/improvement-actions").json()
    assert any(a["action"].startswith("每周召开进度协调会") and a["owner"] for a in actions)

    # Drill-down: a project's name opens its 4D model page, which links back here.
    project = summary["projects"][0]
    page.locator(f"[data-role=project-row] a[data-project='{project['id']}']").click()
    page.wait_for_url("**/viewer/model?**")
    assert parse_qs(urlsplit(page.url).query)["project"] == [str(project["id"])]
    expect(page.get_by_text(project["code"]).first).to_be_visible(timeout=60_000)
    page.locator("[data-role=portfolio-link]").click()
    page.wait_for_url("**/viewer/portfolio**")
    page.wait_for_selector("[data-role=projects-table]", timeout=60_000)

    _only_this_host(page, base)
    assert errors == []
    assert "Traceback" not in portfolio["log"].read_text()


def test_hq_sees_every_region_and_filters_one(portfolio, browser_page) -> None:
    page, base = browser_page, portfolio["base"]
    page.set_viewport_size({"width": 1440, "height": 900})
    _log_in_at_home(page, base, "hq")
    with _api(base, "hq") as hq:
        summary = hq.get("/api/portfolio/summary").json()
    _check_table(page, summary)
    expect(page.locator("[data-role=alert]").first).to_be_visible()
    expect(page.locator("[data-role=bottom-project]").first).to_be_visible()
    # HQ reads; it does not handle alerts or record actions.
    expect(page.locator(".erji-alert-ack")).to_have_count(0)
    expect(page.locator(".erji-improvement-add")).to_have_count(0)

    if len(summary["regions"]) > 1:
        # One card per region plus one for all of them; the filter cuts the table to a region.
        expect(page.locator("[data-role=region-card]")).to_have_count(len(summary["regions"]) + 1)
        region = summary["regions"][0]
        page.locator(".erji-region select").select_option(label=region["name"])
        expect(page.locator("[data-role=project-row]")).to_have_count(region["projects"])
        page.wait_for_function(f"location.search.includes('region={region['id']}')")

    page.get_by_role("button", name="English").click()
    expect(page.get_by_text("Portfolio dashboard")).to_be_visible(timeout=30_000)
    row = page.locator("[data-role=project-row]").first
    project_id = row.get_attribute("data-project")
    row.locator("a[data-role=project-link]").click()
    page.wait_for_url("**/viewer/model?**")
    query = parse_qs(urlsplit(page.url).query)
    assert query["project"] == [project_id] and query["lang"] == ["en"]
    expect(page.get_by_text("Signed in as").first).to_be_visible(timeout=60_000)
    _only_this_host(page, base)
    assert "Traceback" not in portfolio["log"].read_text()
