"""The project model page in a real browser (Debian's chromium, software WebGL), end to end:
log in, open the generated sample building with its 4D schedule, and check what a user
sees — pixels change colour with the timeline, a click shows the element, tasks frame
their elements, the language switches — with no request to any other host."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from PIL import Image
from playwright.sync_api import expect

from sample_models.generate import write_building
from tests.twin_server.conftest import live_server

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DEMO_PASSWORD = "erji-demo-2026"
EPOCH = dt.date(1970, 1, 1)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """``twin demo`` + ``twin serve`` (what ``make run`` does) on a small sample building,
    with every task reported done exactly as planned, so dates map to known statuses."""
    folder = tmp_path_factory.mktemp("viewer")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWIN_")}
    env |= {"TWIN_DEVELOPMENT": "1", "TWIN_DATA_DIR": str(folder / "data")}
    sample = write_building(folder / "sample.ifc", storeys=2, bays_x=3, bays_y=2)
    twin = Path(sys.executable).with_name("twin")
    command = [str(twin), "demo", "--sample", str(sample), "--projects", "3"]  # it tests the flagship
    subprocess.run(command, env=env, cwd=folder, check=True, timeout=300)
    with live_server(env, folder, folder / "server.log") as base:
        http = httpx.Client(base_url=base, timeout=60)
        token = http.post("/api/auth/token", data={"username": "bim", "password": DEMO_PASSWORD}).json()
        http.headers["Authorization"] = f"Bearer {token['access_token']}"
        project = next(p for p in http.get("/api/projects").json() if p["code"] == "SH-PD-01")
        pid = project["id"]
        model = http.get(f"/api/projects/{pid}/models").json()[0]
        revision = http.get(f"/api/projects/{pid}/models/{model['id']}/revisions").json()[0]
        schedule = http.get(f"/api/projects/{pid}/schedules").json()[0]
        tasks = http.get(f"/api/projects/{pid}/schedules/{schedule['id']}/tasks").json()
        for task in tasks:
            if task["is_summary"] or not task["planned_start"]:
                continue
            reported = http.put(
                f"/api/projects/{pid}/schedules/{schedule['id']}/progress",
                params={"task_key": task["key"]},
                json={"actual_start": task["planned_start"], "actual_finish": task["planned_finish"]},
            )
            assert reported.status_code == 200, reported.text
        # A second model of the project (not the default one) for links and switching.
        other = http.post(f"/api/projects/{pid}/models", json={"name": "B 楼"}).json()
        small = write_building(folder / "other.ifc", storeys=1, bays_x=1, bays_y=1)
        with small.open("rb") as fh:
            uploaded = http.post(
                f"/api/projects/{pid}/models/{other['id']}/revisions",
                data={"label": "B01"},
                files={"file": ("other.ifc", fh.read())},
            )
        assert uploaded.status_code == 202, uploaded.text
        other_revision = uploaded.json()["id"]
        deadline = time.monotonic() + 120
        while http.get(f"/api/projects/{pid}/revisions/{other_revision}").json()["processing"] != "succeeded":
            assert time.monotonic() < deadline, "the second revision was not processed"
            time.sleep(0.3)
        yield {
            "other_revision": other_revision,
            "base": base,
            "project": pid,
            "revision": revision["id"],
            "schedule": schedule["id"],
            "tasks": {t["index"]: t for t in tasks},
            "log": folder / "server.log",
            "http": http,
        }
        http.close()


def _log_in(page, base: str, target: str, user: str = "bim") -> None:
    page.goto(f"{base}{target}")
    page.wait_for_url("**/login?**")
    page.fill("#username", user)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/viewer/model**")
    page.wait_for_selector(".erji-viewer[data-first-frame=yes]", timeout=90_000)


def _pixel(page, point) -> tuple[int, int, int]:
    """The rendered colour at a canvas point (CSS px), read from a real screenshot."""
    canvas = page.locator(".erji-viewport canvas")
    box = canvas.bounding_box()
    png = page.screenshot(
        clip={"x": box["x"] + point["x"] - 1, "y": box["y"] + point["y"] - 1, "width": 3, "height": 3}
    )
    return Image.open(io.BytesIO(png)).convert("RGB").getpixel((1, 1))


def _day(iso: str) -> int:
    return (dt.date.fromisoformat(iso) - EPOCH).days


def _set_timeline(page, day: int) -> None:
    page.locator(".erji-timeline [data-role=slider]").fill(str(day))
    page.wait_for_function(f"window.erjiViewer.state.day === {day}")
    page.evaluate("window.erjiViewer.scene.renderNow()")  # the frame the screenshot reads


def test_model_page_end_to_end(demo, browser_page) -> None:
    page = browser_page
    page.set_viewport_size({"width": 1500, "height": 900})
    base = demo["base"]
    _log_in(page, base, "/viewer/model")
    ARTIFACTS.mkdir(exist_ok=True)

    # The URL now names the project, revision, schedule and date the page chose.
    query = parse_qs(urlsplit(page.url).query)
    assert query["project"] == [str(demo["project"])]
    assert query["revision"] == [str(demo["revision"])]
    assert query["schedule"] == [str(demo["schedule"])]

    # An element that is in a task and visible from the home view, at a date where all is built.
    all_days = [
        _day(t[k]) for t in demo["tasks"].values() for k in ("planned_start", "planned_finish") if t[k]
    ]
    first, last = min(all_days), max(all_days)
    _set_timeline(page, last)
    target = page.evaluate(
        """() => {
          const v = window.erjiViewer, ids = v.scene.table.globalIds, tasks = v.state.fourd.taskIndex;
          for (let row = ids.length - 1; row >= 0; row--) {
            if (tasks[row] < 0) continue;
            const point = v.visiblePoint(ids[row]);
            if (point) return {row, globalId: ids[row], task: tasks[row], point};
          }
          return null;
        }"""
    )
    assert target is not None, "no element of a task is visible"
    task = demo["tasks"][target["task"]]
    start, finish = _day(task["planned_start"]), _day(task["planned_finish"])

    # Timeline: before anything starts the element is a ghost (near the background); while
    # its task runs it is amber; once finished it is green.
    _set_timeline(page, first - 1)
    r, g, b = _pixel(page, target["point"])
    assert min(r, g, b) > 180 and max(r, g, b) - min(r, g, b) < 40, (r, g, b)  # pale grey, no status colour
    assert page.evaluate("window.erjiViewer.scene.ghosts.parent !== null")  # the ghost layer is drawn
    background = _pixel(page, {"x": 3, "y": 3})
    assert sum(background) - (r + g + b) >= 6, (
        "a ghost is a faint shell, not nothing",
        (r, g, b),
        background,
    )
    # "Hidden" instead of ghosted: the element vanishes into the background.
    page.get_by_role("button", name="隐藏", exact=True).click()
    page.wait_for_function("window.erjiViewer.scene.ghosts.parent === null")
    page.evaluate("window.erjiViewer.scene.renderNow()")
    assert _pixel(page, target["point"]) == background
    page.get_by_role("button", name="半透明", exact=True).click()
    page.wait_for_function("window.erjiViewer.scene.ghosts.parent !== null")
    if finish > start:
        _set_timeline(page, start)
        r, g, b = _pixel(page, target["point"])
        assert r > b + 60 and g > b + 20, ("in progress should be amber", (r, g, b))
    _set_timeline(page, finish)
    r, g, b = _pixel(page, target["point"])
    assert g > r + 40 and g > b + 30, ("done should be green", (r, g, b))
    page.screenshot(path=str(ARTIFACTS / "viewer-4d-done.png"))
    legend = page.locator("[data-role=legend] .row[data-key=done] .count")
    assert int(legend.inner_text()) > 0

    # The timeline date reaches Python: the URL follows, and the task list shows that day's tasks.
    page.wait_for_function(f"location.search.includes('date={task['planned_finish']}')")

    # Picking: a click on the element selects it and the side panel shows its GlobalId.
    canvas = page.locator(".erji-viewport canvas")
    canvas.click(position={"x": target["point"]["x"], "y": target["point"]["y"]})
    page.wait_for_selector(f"[data-role=global-id]:has-text('{target['globalId']}')", timeout=30_000)
    page.wait_for_function(f"location.search.includes('element={target['globalId']}')")
    r, g, b = _pixel(page, target["point"])
    assert b > r + 80, ("the selection is drawn in the highlight colour", (r, g, b))
    page.screenshot(path=str(ARTIFACTS / "viewer-picked.png"))

    # Clicking a task in the list selects and frames every element linked to that task,
    # and the picked element gives way to it.
    row = page.locator(".tabulator-row").first
    row.wait_for(timeout=30_000)
    wbs = row.locator(".tabulator-cell[tabulator-field='WBS']").inner_text().strip()
    chosen_task = next(t for t in demo["tasks"].values() if t["wbs_code"] == wbs)
    row.click()
    expected = (
        demo["http"]
        .get(
            f"/api/projects/{demo['project']}/revisions/{demo['revision']}/4d/task-elements",
            params={"schedule": demo["schedule"], "task": chosen_task["key"]},
        )
        .json()["glb_indices"]
    )
    assert expected
    page.wait_for_function(
        f"window.erjiViewer.state.selected.reduce((a, b) => a + b, 0) === {len(expected)}", timeout=30_000
    )
    selected = page.evaluate(
        "(() => { const r = []; window.erjiViewer.state.selected.forEach((v, i) => v && r.push(i));"
        " return r; })()"
    )
    assert selected == expected
    page.wait_for_function("!location.search.includes('element=')")
    expect(page.locator("[data-role=global-id]")).to_have_count(0)
    # Home brings the start view back; pick the element again for the link shared below.
    page.locator("[data-role=home]").click()
    page.evaluate("window.erjiViewer.scene.renderNow()")
    point = page.evaluate(f"window.erjiViewer.visiblePoint('{target['globalId']}')")
    assert point is not None
    canvas.click(position=point)
    page.wait_for_selector(f"[data-role=global-id]:has-text('{target['globalId']}')", timeout=30_000)

    # Language: Chinese by default, English on request, from the same catalogue.
    assert page.locator("[data-role=legend]").inner_text().startswith("进度状态")
    page.get_by_role("button", name="English").click()
    expect(page.locator("[data-role=legend]")).to_contain_text("Schedule status", timeout=30_000)
    assert page.locator("[data-role=play]").inner_text() == "Play"
    page.wait_for_function("location.search.includes('lang=en')")
    page.screenshot(path=str(ARTIFACTS / "viewer-english.png"))

    # The shared link reopens the same view: same date, same selection.
    shared = page.url
    page.goto(shared)
    page.wait_for_selector(".erji-viewer[data-first-frame=yes]", timeout=90_000)
    page.wait_for_selector(f"[data-role=global-id]:has-text('{target['globalId']}')", timeout=30_000)
    assert page.evaluate("window.erjiViewer.state.day") == finish
    page.wait_for_timeout(1000)  # any late reaction to the URL would show by now
    shown_date = (EPOCH + dt.timedelta(days=finish)).isoformat()
    assert f"schedule={demo['schedule']}" in page.url and f"date={shown_date}" in page.url
    assert page.get_by_text("No such project or revision, or no access.").count() == 0

    # Nothing came from another host (blob: and data: URLs are made by the page itself).
    hosts = {urlsplit(u).netloc for u in page.requested if not u.startswith(("data:", "blob:"))}
    assert hosts == {urlsplit(base).netloc}, sorted(set(page.requested))
    # The GLB and the 4D payload came over HTTP, not through the websocket.
    assert any(u.endswith(".glb") for u in page.requested)
    assert any("/4d?schedule=" in u for u in page.requested)
    assert "Traceback" not in demo["log"].read_text()


def test_a_link_to_a_revision_the_user_cannot_see_shows_a_message_not_an_error(demo, browser_page) -> None:
    page = browser_page
    _log_in(page, demo["base"], f"/viewer/model?project={demo['project']}")
    page.goto(f"{demo['base']}/viewer/model?project=999999&lang=en")
    page.wait_for_selector("text=No such project or revision, or no access.", timeout=30_000)
    page.goto(
        f"{demo['base']}/viewer/model?project={demo['project']}&revision=999999&element=bad&date=2025-99-01"
    )
    page.wait_for_selector(".erji-viewer[data-first-frame=yes]", timeout=90_000)
    assert "revision=999999" not in page.url  # the page fell back to the newest revision
    assert "Traceback" not in demo["log"].read_text()


def _codes(page) -> dict[int, int]:
    """How many elements carry each texel code (255 solid, 254 own colour, 64 ghost, 0 hidden)."""
    return {
        int(k): v
        for k, v in page.evaluate(
            """() => {
              const t = window.erjiViewer.state.texels, n = window.erjiViewer.scene.table.count, c = {};
              for (let i = 0; i < n; i++) c[t[4 * i + 3]] = (c[t[4 * i + 3]] || 0) + 1;
              return c;
            }"""
        ).items()
    }


def _canvas_png(page) -> bytes:
    page.evaluate("window.erjiViewer.scene.renderNow()")
    return page.locator(".erji-viewport canvas").screenshot()


def test_view_controls_filter_ghost_and_cut_the_model(demo, browser_page) -> None:
    page = browser_page
    page.set_viewport_size({"width": 1500, "height": 900})
    _log_in(page, demo["base"], "/viewer/model?lang=en")
    count = page.evaluate("window.erjiViewer.scene.table.count")
    storeys = page.evaluate("window.erjiViewer.scene.table.storeys")
    storey_of = page.evaluate("Array.from(window.erjiViewer.scene.table.storeyIndex)")
    on_first = sum(1 for s in storey_of if s == 0)

    def select(label: str, option: str) -> None:
        page.locator(f"select:has(option:text-is('{option}'))").select_option(label=option)

    # Storey filter: "show only" hides every other storey; "isolate" ghosts them instead.
    select("Storey", storeys[0])
    page.wait_for_function(
        f"(() => {{ const t = window.erjiViewer.state.texels; let h = 0;"
        f" for (let i = 3; i < t.length; i += 4) h += t[i] === 0; return h >= {count - on_first}; }})()"
    )
    assert _codes(page).get(0, 0) >= count - on_first
    page.get_by_role("button", name="Isolate (ghost the rest)").click()
    page.wait_for_function("window.erjiViewer.state.texels.some((v, i) => i % 4 === 3 && v === 64)")
    assert _codes(page).get(64, 0) >= count - on_first
    select("Storey", "All storeys")

    # Colour by class: every element solid, as many legend rows as classes shown.
    select("Colour by", "IFC class")
    expect(page.locator("[data-role=legend]")).to_contain_text("IFC class")
    page.wait_for_function("window.erjiViewer.state.texels.every((v, i) => i % 4 !== 3 || v === 255)")
    assert page.locator("[data-role=legend] .row").count() >= 3

    # X-ray: with one element picked, everything else becomes a ghost.
    first_gid = page.evaluate("window.erjiViewer.scene.table.globalIds[0]")
    point = page.evaluate(f"window.erjiViewer.visiblePoint('{first_gid}')") or {"x": 700, "y": 420}
    page.locator(".erji-viewport canvas").click(position=point)
    page.wait_for_function("window.erjiViewer.state.selected.some((v) => v)")
    xray = page.get_by_role("checkbox")  # the only one on the page: X-ray
    xray.check()
    page.wait_for_function(
        f"(() => {{ const t = window.erjiViewer.state.texels; let g = 0;"
        f" for (let i = 3; i < t.length; i += 4) g += t[i] === 64; return g === {count - 1}; }})()"
    )
    xray.uncheck()

    # Section: a horizontal cut changes what is drawn; switching it off restores the view.
    before = _canvas_png(page)
    select("Section", "Horizontal (height)")
    page.wait_for_function("window.erjiViewer.scene.shared.clippingPlanes.length === 1")
    cut = _canvas_png(page)
    assert cut != before
    page.screenshot(path=str(ARTIFACTS / "viewer-section.png"))
    select("Section", "Off")
    page.wait_for_function("window.erjiViewer.scene.shared.clippingPlanes.length === 0")
    assert _canvas_png(page) == before


def test_a_link_to_another_revision_keeps_it_and_switching_swaps_the_model(demo, browser_page) -> None:
    page = browser_page
    page.set_viewport_size({"width": 1500, "height": 900})
    base, pid, other = demo["base"], demo["project"], demo["other_revision"]
    elements = demo["http"].get(f"/api/projects/{pid}/revisions/{other}/elements").json()["items"]
    gid = elements[0]["global_id"]
    _log_in(page, base, f"/viewer/model?project={pid}&revision={other}&element={gid}&lang=en")
    # The page stays on the linked (non-default) revision, with its selection.
    page.wait_for_selector(f"[data-role=global-id]:has-text('{gid}')", timeout=30_000)
    assert f"revision={other}" in page.url and f"element={gid}" in page.url
    count = page.evaluate("window.erjiViewer.scene.table.count")
    assert count == len([e for e in elements if e["glb_index"] is not None])
    geometries = page.evaluate("window.erjiViewer.scene.renderer.info.memory.geometries")
    history = page.evaluate("history.length")

    # Switch to the default revision and straight back: the last choice wins, and the GPU
    # memory of the models left behind is freed.
    revision_select = page.locator("select:has(option:text-is('B 楼 · B01'))")
    default_label = revision_select.locator("option").first.inner_text()
    revision_select.select_option(label=default_label)
    page.wait_for_function(
        f"window.erjiViewer.scene.table && window.erjiViewer.scene.table.count !== {count}"
    )
    revision_select.select_option(label="B 楼 · B01")
    page.wait_for_function(f"window.erjiViewer.scene.table.count === {count}", timeout=30_000)
    page.wait_for_function(f"location.search.includes('revision={other}')")
    page.wait_for_timeout(1000)
    assert page.evaluate("window.erjiViewer.scene.table.count") == count
    assert page.evaluate("window.erjiViewer.scene.renderer.info.memory.geometries") <= geometries
    # The address bar follows in place: no history entry per change.
    assert page.evaluate("history.length") == history


def _tap_canvas(page, point) -> None:
    """Tap the 3D view at a canvas point (CSS px), scrolled into view first (on a phone the
    form below it may have scrolled it away)."""
    canvas = page.locator(".erji-viewport canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.touchscreen.tap(box["x"] + point["x"], box["y"] + point["y"])


def _jpeg(path: Path) -> Path:
    Image.new("RGB", (800, 600), (190, 60, 40)).save(path, "JPEG")
    return path


def test_an_inspector_raises_an_issue_on_a_phone_by_tapping_an_element(demo, phone_page, tmp_path) -> None:
    """The inspector's loop on site: tap an element, raise the issue with a photo, see its pin
    and its colour in the defects mode, come back to its view by tapping the pin."""
    page = phone_page
    base, pid = demo["base"], demo["project"]
    _log_in(page, base, "/viewer/model", user="inspector")
    canvas = page.locator(".erji-viewport canvas")
    box = canvas.bounding_box()
    assert box["width"] <= 390 and box["x"] >= 0  # the 3D view fits the phone's width

    # An element with no issue yet, visible from the start view.
    pinned = {
        g
        for issue in demo["http"].get(f"/api/projects/{pid}/issues").json()["items"]
        for g in issue["global_ids"]
    }
    target = page.evaluate(
        """(pinned) => {
          const v = window.erjiViewer, ids = v.scene.table.globalIds;
          for (let row = 0; row < ids.length; row++) {
            if (pinned.includes(ids[row])) continue;
            const point = v.visiblePoint(ids[row]);
            if (point) return {row, globalId: ids[row], point};
          }
          return null;
        }""",
        sorted(pinned),
    )
    assert target is not None
    expected_point = page.evaluate(
        f"window.erjiViewer.pickPoint({target['point']['x']}, {target['point']['y']}).point_m"
    )
    _tap_canvas(page, target["point"])
    page.wait_for_selector(f"[data-role=global-id]:has-text('{target['globalId']}')", timeout=30_000)
    page.wait_for_function("Object.keys(window.erjiViewer.camera() || {}).length > 0")
    camera = page.evaluate("window.erjiViewer.camera()")
    day = page.evaluate("window.erjiViewer.isoDate(window.erjiViewer.state.day)")

    # Raise it: the issues tab, the button, the form, a photo.
    page.locator(".erji-panel-switch button:has-text('质量安全问题')").tap()
    page.get_by_role("button", name="在选中构件上新建问题").tap()
    page.locator(".erji-issue-title input").fill("柱面露筋（手机）")
    page.get_by_role("textbox", name="问题描述").fill("现场巡查发现，需凿除修补。")
    page.locator(".erji-issue-form select:has(option:text-is('严重'))").select_option(label="严重")
    page.locator(".erji-issue-form input[type=file]").set_input_files(str(_jpeg(tmp_path / "现场.jpg")))
    page.wait_for_timeout(500)  # the file travels to Python before the button is pressed
    page.get_by_role("button", name="提交问题").tap()
    page.wait_for_selector("text=已创建问题", timeout=30_000)

    found = demo["http"].get(f"/api/projects/{pid}/issues", params={"element": target["globalId"]}).json()
    assert found["total"] == 1
    issue = demo["http"].get(f"/api/projects/{pid}/issues/{found['items'][0]['id']}").json()
    assert (
        issue["title"] == "柱面露筋（手机）" and issue["severity"] == "critical" and issue["status"] == "open"
    )
    assert issue["creator"] == "质量检查员" and issue["assignee"] == "项目经理"  # the site manager by default
    assert issue["global_ids"] == [target["globalId"]]
    assert all(abs(a - b) < 0.01 for a, b in zip(issue["point_m"], expected_point, strict=True))
    assert issue["fourd_date"] == day
    stored = issue["viewpoints"][0]["camera"]
    assert all(abs(a - b) < 1e-3 for a, b in zip(stored["position_m"], camera["position_m"], strict=True))
    assert [p["role"] for p in issue["photos"]] == ["before"] and issue["photos"][0][
        "file_name"
    ] == "现场.jpg"

    # Its pin sits where the element was tapped.
    pin = page.locator(f".erji-pin[data-issue-id='{issue['id']}']")
    expect(pin).to_be_visible(timeout=30_000)
    at = page.evaluate(f"window.erjiViewer.pinScreenPosition({issue['id']})")
    assert abs(at["x"] - target["point"]["x"]) < 3 and abs(at["y"] - target["point"]["y"]) < 3

    # Defects colours: the element turns red (critical) once nothing is selected.
    page.locator("select:has(option:text-is('质量安全问题'))").select_option(label="质量安全问题")
    page.wait_for_function("window.erjiViewer.state.severity && window.erjiViewer.state.severity.length > 0")
    canvas.scroll_into_view_if_needed()
    empty = page.evaluate(
        """() => {
          // A point of the canvas showing background, with no overlay (toolbar, legend) on it.
          const v = window.erjiViewer, c = v.scene.renderer.domElement, r = c.getBoundingClientRect();
          for (let y = 10; y < c.clientHeight; y += 20)
            for (let x = 10; x < c.clientWidth; x += 20) {
              const top = c.getRootNode().elementFromPoint(r.left + x, r.top + y);
              if (top === c && !v.pickPoint(x, y)) return {x, y};
            }
          return null;
        }"""
    )
    _tap_canvas(page, empty)
    page.wait_for_function("!window.erjiViewer.state.selected.some((v) => v)")
    page.wait_for_function(f"window.erjiViewer.state.severity[{target['row']}] === 3")
    page.evaluate("window.erjiViewer.scene.renderNow()")
    r, g, b = _pixel(page, target["point"])
    assert r > g + 80 and r > b + 80, ("a critical issue paints its element red", (r, g, b))
    page.screenshot(path=str(ARTIFACTS / "viewer-issue-phone.png"), full_page=True)

    # Tapping the pin after orbiting away brings back the issue's view and date.
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.move(*centre)
    page.mouse.down()
    page.mouse.move(centre[0] + 120, centre[1] + 30, steps=8)
    page.mouse.up()
    page.wait_for_function(
        f"Math.abs(window.erjiViewer.camera().position_m[0] - {camera['position_m'][0]}) > 0.5"
        f" || Math.abs(window.erjiViewer.camera().position_m[1] - {camera['position_m'][1]}) > 0.5",
        timeout=30_000,
    )
    page.evaluate("window.erjiViewer.scene.renderNow()")
    at = page.evaluate(f"window.erjiViewer.pinScreenPosition({issue['id']})")
    _tap_canvas(page, at)
    page.wait_for_function(
        f"(() => {{ const p = window.erjiViewer.camera().position_m, q = {camera['position_m']};"
        " return p.every((v, i) => Math.abs(v - q[i]) < 0.01); })()",
        timeout=30_000,
    )
    expect(page.locator("[data-role=issue-title]")).to_contain_text("柱面露筋（手机）")
    assert page.evaluate("window.erjiViewer.isoDate(window.erjiViewer.state.day)") == day
    page.wait_for_function(f"location.search.includes('issue={issue['id']}')")

    hosts = {urlsplit(u).netloc for u in page.requested if not u.startswith(("data:", "blob:"))}
    assert hosts == {urlsplit(base).netloc}, sorted(set(page.requested))
    assert not [e for e in page.errors if "GPU stall" not in e], page.errors
    assert "Traceback" not in demo["log"].read_text()
