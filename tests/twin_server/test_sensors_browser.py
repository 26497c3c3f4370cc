"""The model page's sensors in a real browser (Debian's chromium, software WebGL), end to end
on a real server: a monitor point linked to an element of the demo building through the API,
readings that put it in alarm, then the page — the sensors colour mode paints the element,
its pin opens the chart of its readings over the threshold bands, moving the timeline back
before the breach shows it fine again — with no request to any other host."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import expect

from sample_models.generate import write_building
from tests.twin_server.conftest import live_server

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DEMO_PASSWORD = "erji-demo-2026"
EPOCH = dt.date(1970, 1, 1)
CHINA = dt.timezone(dt.timedelta(hours=8))
ALARM_RGB, OK_RGB = [239, 108, 0], [46, 160, 67]  # paint.js SENSOR_RGB


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """``twin demo`` + ``twin serve`` on a small sample building (the flagship SH-PD-01)."""
    folder = tmp_path_factory.mktemp("sensors")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWIN_")}
    env |= {"TWIN_DEVELOPMENT": "1", "TWIN_DATA_DIR": str(folder / "data")}
    sample = write_building(folder / "sample.ifc", storeys=2, bays_x=3, bays_y=2)
    twin = Path(sys.executable).with_name("twin")
    subprocess.run(
        [str(twin), "demo", "--sample", str(sample), "--projects", "3"],
        env=env,
        cwd=folder,
        check=True,
        timeout=300,
    )
    with live_server(env, folder, folder / "server.log") as base:
        clients = {}
        for user in ("admin", "bim"):
            token = httpx.post(f"{base}/api/auth/token", data={"username": user, "password": DEMO_PASSWORD})
            clients[user] = httpx.Client(
                base_url=base, timeout=60, headers={"Authorization": f"Bearer {token.json()['access_token']}"}
            )
        http = clients["bim"]
        project = next(p for p in http.get("/api/projects").json() if p["code"] == "SH-PD-01")
        pid = project["id"]
        model = http.get(f"/api/projects/{pid}/models").json()[0]
        revision = http.get(f"/api/projects/{pid}/models/{model['id']}/revisions").json()[0]
        yield {
            "base": base,
            "project": pid,
            "revision": revision["id"],
            "admin": clients["admin"],
            "bim": http,
            "log": folder / "server.log",
        }
        for client in clients.values():
            client.close()


def _log_in(page, base: str, target: str, user: str = "bim") -> None:
    page.goto(f"{base}{target}")
    page.wait_for_url("**/login?**")
    page.fill("#username", user)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/viewer/model**")
    page.wait_for_selector(".erji-viewer[data-first-frame=yes]", timeout=90_000)


def _day(day: dt.date) -> int:
    return (day - EPOCH).days


def _texel(page, row: int) -> list[int]:
    return page.evaluate(f"Array.from(window.erjiViewer.state.texels.slice({4 * row}, {4 * row + 4}))")


def _clear_spot(page) -> dict | None:
    """An element whose top centre (where its sensor pin will sit) is on the canvas with
    nothing over it (no issue pin, legend or toolbar) for a pin's width around it."""
    return page.evaluate(
        """() => {
          const v = window.erjiViewer, s = v.scene, t = s.table, o = t.originM;
          const c = s.renderer.domElement, r = c.getBoundingClientRect(), root = c.getRootNode();
          const rows = [];
          for (let row = 0; row < t.count; row++) rows.push(row);
          const tops = s.topCentres(rows);
          for (let row = t.count - 1; row >= 0; row--) {
            const top = tops.get(row);
            if (!top) continue;
            const p = v.screenPoint([top[0] + o[0], -top[2] + o[1], top[1] + o[2]]);
            if (!p || p.x < 40 || p.y < 60 || p.x > c.clientWidth - 40 || p.y > c.clientHeight - 40) continue;
            let clear = true;
            for (const [dx, dy] of [[0, 0], [-24, -14], [24, -14], [-24, 14], [24, 14]]) {
              if (root.elementFromPoint(r.left + p.x + dx, r.top + p.y + dy) !== c) clear = false;
            }
            if (clear) return { row, globalId: t.globalIds[row], point: p };
          }
          return null;
        }"""
    )


def test_sensors_colour_mode_pins_chart_and_time_travel(demo, browser_page) -> None:
    page = browser_page
    page.set_viewport_size({"width": 1500, "height": 900})
    base, pid = demo["base"], demo["project"]
    today = dt.date.today()
    _log_in(page, base, f"/viewer/model?project={pid}&revision={demo['revision']}&date={today}")
    target = _clear_spot(page)
    assert target is not None, "no element with a free spot for its pin"

    # A device and a point on that element (the region's set-up), then readings from the site:
    # fine two days ago, 33 mm (报警 over 30 mm) for the last half hour.
    admin, bim = demo["admin"], demo["bim"]
    device = admin.post(
        f"/api/projects/{pid}/sensor-devices",
        json={"code": "INC-01", "device_type": "excavation", "heartbeat_timeout_s": 5 * 86_400},
    )
    assert device.status_code == 201, device.text
    point = admin.post(
        f"/api/projects/{pid}/monitor-points",
        json={
            "device_id": device.json()["id"],
            "code": "S-07",
            "name": "基坑北侧测斜",
            "metric": "displacement",
            "element_global_id": target["globalId"],
            "warn_upper": 20,
            "alarm_upper": 30,
            "control_upper": 40,
        },
    )
    assert point.status_code == 201, point.text
    point_id = point.json()["id"]
    before = today - dt.timedelta(days=2)
    end_before = dt.datetime.combine(before + dt.timedelta(days=1), dt.time(0), CHINA)  # the page's moment
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    readings = [
        {"point": "S-07", "ts": (end_before - dt.timedelta(hours=h)).isoformat(), "value": 5.0 + h / 10}
        for h in range(12, 0, -1)
    ]
    readings += [
        {"point": "S-07", "ts": (now - dt.timedelta(minutes=m)).isoformat(), "value": 33.0}
        for m in (30, 20, 10, 1)
    ]
    sent = bim.post(f"/api/projects/{pid}/readings", json=readings)
    assert sent.status_code == 200 and sent.json()["alerts_opened"] == 1, sent.text

    # The sensors colour mode: the element turns alarm orange, the side panel lists the point.
    page.locator("select:has(option:text-is('监测状态'))").select_option(label="监测状态")
    row = target["row"]
    page.wait_for_function(
        f"window.erjiViewer.state.sensors && window.erjiViewer.state.sensors[{row}] === 5", timeout=30_000
    )
    assert _texel(page, row) == [*ALARM_RGB, 255]
    legend = page.locator("[data-role=legend]")
    expect(legend).to_contain_text("监测状态（最严重测点）")
    expect(legend.locator("[data-role=legend-note]")).to_have_text("实时")
    assert int(legend.locator(".row[data-key=alarm] .count").inner_text()) == 1
    expect(page.locator(".erji-sensor-table")).to_contain_text("S-07")
    expect(page.locator(".erji-sensor-table")).to_contain_text("报警")

    # Its pin sits on top of the element, labelled with its code; a click opens the chart.
    pin = page.locator(f".erji-sensor-pin[data-point-id='{point_id}']")
    expect(pin).to_be_visible(timeout=30_000)
    assert pin.inner_text() == "S-07" and pin.get_attribute("data-condition") == "alarm"
    at = page.evaluate(f"window.erjiViewer.sensorPinScreenPosition({point_id})")
    assert abs(at["x"] - target["point"]["x"]) < 2 and abs(at["y"] - target["point"]["y"]) < 2
    page.evaluate("window.erjiViewer.scene.renderNow()")
    page.screenshot(path=str(ARTIFACTS / "viewer-sensors-alarm.png"))
    pin.click()
    expect(page.locator("[data-role=sensor-title]")).to_contain_text("S-07", timeout=30_000)
    expect(page.locator("[data-role=sensor-tier]")).to_have_text("报警")
    chart = page.locator(".erji-sensor-chart canvas").first
    expect(chart).to_be_visible(timeout=30_000)
    box = chart.bounding_box()
    assert box["width"] > 200 and box["height"] > 150
    expect(page.locator("[data-role=sensor-bands]")).to_contain_text("预警")
    expect(page.locator("[data-role=sensor-bands]")).to_contain_text("控制")
    assert page.evaluate("window.erjiViewer.state.selected.every((v) => !v)")  # the pin picked no element
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "viewer-sensors-chart.png"))

    # Time travel: the timeline two days back, before the breach: the element is fine then.
    slider = page.locator(".erji-timeline [data-role=slider]")
    assert int(slider.get_attribute("min")) <= _day(before)
    slider.fill(str(_day(before)))
    page.wait_for_function(f"window.erjiViewer.state.day === {_day(before)}")
    page.wait_for_function(f"window.erjiViewer.state.sensors[{row}] === 2", timeout=30_000)
    assert _texel(page, row) == [*OK_RGB, 255]
    expect(legend.locator("[data-role=legend-note]")).to_contain_text(f"{before} 23:59")
    expect(page.locator("[data-role=sensor-moment]")).to_contain_text(f"时间回溯：截至 {before} 23:59")
    expect(pin).to_have_attribute("data-condition", "ok")
    expect(page.locator("[data-role=sensor-tier]")).to_have_text("正常")
    page.evaluate("window.erjiViewer.scene.renderNow()")
    page.screenshot(path=str(ARTIFACTS / "viewer-sensors-before.png"))
    # And back to today: in alarm again; the words in English on request.
    slider.fill(str(_day(today)))
    page.wait_for_function(f"window.erjiViewer.state.sensors[{row}] === 5", timeout=30_000)
    page.get_by_role("button", name="English").click()
    expect(legend).to_contain_text("Sensors (worst point)", timeout=30_000)
    expect(legend.locator("[data-role=legend-note]")).to_have_text("Now (live)")
    expect(page.locator("[data-role=sensor-tier]")).to_have_text("Alarm")

    # Nothing came from another host (blob: and data: URLs are made by the page itself).
    hosts = {urlsplit(u).netloc for u in page.requested if not u.startswith(("data:", "blob:"))}
    assert hosts == {urlsplit(base).netloc}, sorted(set(page.requested))
    assert "Traceback" not in demo["log"].read_text()
