"""The 3D component alone in Debian's chromium (software WebGL), on a phone-sized touch screen:
a harness page renders the committed bundle with a stand-in for Panel's model over the
generated sample building, so picking a point, the camera, saved views, pins and the defects
and sensor colours are checked without the server or the page (the page's own test covers
those)."""

from __future__ import annotations

import functools
import json
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from sample_models.generate import write_building
from viewer.components.scene import BUNDLE, ModelScene

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"

# The params the bundle reads, with the component's defaults (bytes travel as null when empty).
PARAMS = [
    "glb_url", "fourd_url", "day", "color_mode", "not_started", "element_colors", "defects_url", "storey",
    "storey_mode", "xray", "section_axis", "section_position", "selected_global_id", "picked_point_m",
    "camera", "goto_camera", "pins", "selected_issue", "pin_taps", "focus_rows", "url_query", "labels",
    "storey_names", "element_count", "load_error", "playing", "sensor_conditions", "sensor_pins",
    "selected_point", "point_taps", "legend_note",
]  # fmt: skip

HARNESS = """<!doctype html>
<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>html, body, #host { margin: 0; width: 100%; height: 100%; }</style>
<div id="host"></div>
<script type="module">
import { render } from './viewer.bundle.js';
// A stand-in for Panel's model: params as properties, `on` for Python's changes
// (window.setParam), and every value the browser writes back logged in window.sent.
const data = DEFAULTS;
const listeners = new Map();
const sent = [];
const model = new Proxy(data, {
  get(target, name) {
    if (name === 'on') {
      return (names, callback) => {
        for (const n of [].concat(names)) listeners.set(n, [...(listeners.get(n) || []), callback]);
      };
    }
    return target[name];
  },
  set(target, name, value) {
    target[name] = value;
    sent.push([name, JSON.parse(JSON.stringify(value))]);
    return true;
  },
});
window.sent = sent;
window.setParam = (name, value) => {
  data[name] = value;
  for (const callback of listeners.get(name) || []) callback();
};
window.lastSent = (name) => {
  for (let i = sent.length - 1; i >= 0; i--) if (sent[i][0] === name) return sent[i][1];
  return undefined;
};
render({ model, el: document.getElementById('host') });
</script>
"""


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory, processed):
    """A folder served over HTTP: the harness, the bundle and the sample building's GLB."""
    folder = tmp_path_factory.mktemp("scene-site")
    ifc = write_building(folder / "sample.ifc", storeys=2, bays_x=3, bays_y=2)
    out, summary = processed.get(ifc)
    shutil.copy(out / "model.glb", folder / "model.glb")
    shutil.copy(BUNDLE, folder / "viewer.bundle.js")
    defaults = {name: ModelScene.param[name].default for name in PARAMS}
    defaults |= {
        "element_colors": None,
        "sensor_conditions": None,
        "glb_url": "model.glb",
        "color_mode": "original",
    }
    defaults["labels"] = {
        "legend_defects": "Issues",
        "defects_critical": "Critical",
        "legend_sensors": "Sensors",
        "sensors_alarm": "Alarm",
    }
    (folder / "index.html").write_text(HARNESS.replace("DEFAULTS", json.dumps(defaults)), encoding="utf-8")
    count = summary.elements_with_geometry
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"base": f"http://127.0.0.1:{server.server_port}", "folder": folder, "count": count}
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def phone(phone_page):
    """The shared touch phone of ``tests/conftest.py``."""
    return phone_page


def _open(page, site) -> None:
    page.goto(f"{site['base']}/index.html")
    page.wait_for_selector(".erji-viewer[data-first-frame=yes]", timeout=90_000)


def _near(a, b, tol) -> bool:
    return len(a) == len(b) and all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def _element_box_m(page, row: int) -> tuple[list[float], list[float]]:
    """The element's box in the IFC world frame (from the GLB box and origin)."""
    return page.evaluate(
        """(row) => {
          const v = window.erjiViewer, t = v.scene.table, o = t.originM, mask = new Uint8Array(t.count);
          mask[row] = 1;
          const b = v.scene.boxOf(mask);
          return [[b.min.x + o[0], -b.max.z + o[1], b.min.y + o[2]],
                  [b.max.x + o[0], -b.min.z + o[1], b.max.y + o[2]]];
        }""",
        row,
    )


def test_a_tap_picks_the_point_on_the_element_and_the_camera_follows(site, phone) -> None:
    page = phone
    _open(page, site)
    # The first camera arrives once the model is in view: a BCF camera in the IFC frame.
    page.wait_for_function("window.lastSent('camera') !== undefined")
    camera = page.evaluate("window.lastSent('camera')")
    assert camera == page.evaluate("window.erjiViewer.camera()")
    canvas = page.locator(".erji-viewport canvas").bounding_box()
    assert camera["kind"] == "perspective"
    assert camera["aspect_ratio"] == pytest.approx(canvas["width"] / canvas["height"], abs=1e-3)
    assert camera["up"][2] > 0.5 and camera["direction"][2] < 0  # upright, looking down on the model
    assert page.evaluate("window.lastSent('element_count')") == site["count"]

    target = page.evaluate(
        """() => {
          const v = window.erjiViewer, ids = v.scene.table.globalIds;
          for (let row = 0; row < ids.length; row++) {
            const point = v.visiblePoint(ids[row]);
            if (point) return { row, globalId: ids[row], point };
          }
          return null;
        }"""
    )
    assert target is not None
    x, y = target["point"]["x"], target["point"]["y"]
    box = page.locator(".erji-viewport canvas").bounding_box()
    page.touchscreen.tap(box["x"] + x, box["y"] + y)
    page.wait_for_function("window.lastSent('selected_global_id') !== undefined")
    assert page.evaluate("window.lastSent('selected_global_id')") == target["globalId"]
    point = page.evaluate("window.lastSent('picked_point_m')")
    assert len(point) == 3
    # The point is on that element (inside its box) and under the finger (projects back there).
    lo, hi = _element_box_m(page, target["row"])
    assert all(lo[k] - 0.01 <= point[k] <= hi[k] + 0.01 for k in range(3)), (point, lo, hi)
    back = page.evaluate("(p) => window.erjiViewer.screenPoint(p)", point)
    assert abs(back["x"] - x) <= 1.5 and abs(back["y"] - y) <= 1.5, (back, x, y)
    # Point and camera are sent before the element, so a watcher on the element sees both.
    names = [name for name, _ in page.evaluate("window.sent")]
    assert names.index("picked_point_m") < len(names) - 1 - names[::-1].index("selected_global_id")

    # A tap on nothing clears both.
    page.touchscreen.tap(box["x"] + 4, box["y"] + 4)
    page.wait_for_function("window.lastSent('selected_global_id') === ''")
    assert page.evaluate("window.lastSent('picked_point_m')") == []
    assert page.errors == []


def test_goto_camera_restores_a_saved_view_and_ignores_malformed_ones(site, phone) -> None:
    page = phone
    _open(page, site)
    page.wait_for_function("window.lastSent('camera') !== undefined")
    saved = page.evaluate("window.erjiViewer.camera()")
    # Somewhere else first (Fit from another side), then back to the saved view.
    page.evaluate(
        """() => { const s = window.erjiViewer.scene, t = s.controls.target;
                   s.camera.position.set(t.x - 40, t.y + 5, t.z - 10);
                   s.fitModel(); }"""
    )
    assert not _near(page.evaluate("window.erjiViewer.camera()")["position_m"], saved["position_m"], 0.5)
    page.evaluate("(c) => window.setParam('goto_camera', c)", {**saved, "seq": 1})
    now = page.evaluate("window.erjiViewer.camera()")
    assert _near(now["position_m"], saved["position_m"], 1e-3)
    assert _near(now["direction"], saved["direction"], 1e-5) and _near(now["up"], saved["up"], 1e-5)
    assert page.evaluate("window.lastSent('camera')") == now  # sent right after it was applied
    # The orbit target lies ahead along the view direction (the orbit pivots on what is seen).
    ahead = page.evaluate(
        """() => { const s = window.erjiViewer.scene;
                   const d = s.controls.target.clone().sub(s.camera.position);
                   return d.clone().normalize().dot(s.camera.getWorldDirection(d.clone())); }"""
    )
    assert ahead == pytest.approx(1, abs=1e-6)

    # A plan view from a BCF orthogonal camera: looking down, north up, the given height shown.
    o = page.evaluate("window.erjiViewer.scene.table.originM")
    page.evaluate(
        "(c) => window.setParam('goto_camera', c)",
        {"kind": "orthogonal", "position_m": [o[0], o[1], o[2] + 100], "direction": [0, 0, -1],
         "up": [0, 1, 0], "view_to_world_scale": 40, "aspect_ratio": 1},
    )  # fmt: skip
    plan = page.evaluate("window.erjiViewer.camera()")
    assert plan["direction"][2] < -0.999 and plan["up"][1] > 0.999, plan
    height = page.evaluate(
        """() => { const s = window.erjiViewer.scene;
                   const d = s.camera.position.distanceTo(s.controls.target);
                   return 2 * d * Math.tan(s.camera.fov * Math.PI / 360); }"""
    )
    assert height == pytest.approx(40, rel=1e-3)

    before = page.evaluate("window.erjiViewer.camera()")
    for bad in ({"kind": "perspective"}, {"position_m": [1, 2], "direction": [0, 0, 1]}, {"kind": 3}):
        page.evaluate("(c) => window.setParam('goto_camera', c)", bad)
    assert page.evaluate("window.erjiViewer.camera()") == before
    assert page.errors == []


def test_pins_sit_on_their_points_and_a_tap_selects_the_issue_not_the_element(site, phone) -> None:
    page = phone
    _open(page, site)
    page.wait_for_function("window.lastSent('camera') !== undefined")
    gid = page.evaluate("window.erjiViewer.scene.table.globalIds[0]")
    found = page.evaluate(
        """() => { const v = window.erjiViewer, ids = v.scene.table.globalIds;
                   for (const id of ids) { const p = v.visiblePoint(id); if (p) return p; } return null; }"""
    )
    hit = page.evaluate("(p) => window.erjiViewer.pickPoint(p.x, p.y)", found)
    camera = page.evaluate("window.erjiViewer.camera()")
    behind = [camera["position_m"][k] - 5 * camera["direction"][k] for k in range(3)]
    pins = [
        {"id": 7, "number": 12, "point_m": hit["point_m"], "severity": "critical", "status": "open",
         "title": "裂缝 crack"},
        {"id": 8, "number": 13, "point_m": behind, "severity": "major", "status": "closed",
         "title": "behind"},
        {"id": 9, "point_m": "nowhere"},  # malformed: skipped
    ]  # fmt: skip
    page.evaluate("(p) => window.setParam('pins', p)", pins)
    page.evaluate("window.erjiViewer.scene.renderNow()")
    pin = page.locator(".erji-pin[data-issue-id='7']")
    assert pin.is_visible() and pin.inner_text() == "12" and pin.get_attribute("title") == "裂缝 crack"
    assert page.locator(".erji-pin").count() == 2
    assert not page.locator(".erji-pin[data-issue-id='8']").is_visible()  # behind the camera
    where = page.evaluate("window.erjiViewer.pinScreenPosition(7)")
    assert abs(where["x"] - found["x"]) <= 1.5 and abs(where["y"] - found["y"]) <= 1.5
    assert page.evaluate("window.erjiViewer.pinScreenPosition(8)") is None
    size = pin.bounding_box()
    assert size["width"] >= 28 and size["height"] >= 28  # a finger's tap target on a touch screen
    centre = (size["x"] + size["width"] / 2, size["y"] + size["height"] / 2)
    canvas = page.locator(".erji-viewport canvas").bounding_box()
    assert centre == pytest.approx((canvas["x"] + where["x"], canvas["y"] + where["y"]), abs=1.5)

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "viewer-phone-pins.png"))
    # Tapping the pin selects the issue; it neither picks the element behind nor orbits.
    sent_before = len(page.evaluate("window.sent"))
    page.touchscreen.tap(*centre)
    page.wait_for_function("window.lastSent('selected_issue') === 7")
    page.wait_for_timeout(500)  # longer than the camera's settle time
    names = [name for name, _ in page.evaluate("window.sent")[sent_before:]]
    assert "selected_global_id" not in names and "picked_point_m" not in names and "camera" not in names
    assert page.evaluate("window.erjiViewer.camera()") == camera
    assert "selected" in pin.get_attribute("class")
    # Python may choose the issue too; the old one loses the highlight.
    page.evaluate("window.setParam('selected_issue', 8)")
    assert "selected" not in pin.get_attribute("class")
    assert "selected" in page.locator(".erji-pin[data-issue-id='8']").get_attribute("class")
    # The pins follow the view: after an orbit the pin is still on its point.
    page.evaluate(
        """() => { const s = window.erjiViewer.scene;
                   s.camera.position.applyAxisAngle({x: 0, y: 1, z: 0}, 0.3);
                   s.controls.update(); s.renderNow(); }"""
    )
    moved = page.evaluate("window.erjiViewer.pinScreenPosition(7)")
    onscreen = page.evaluate("(p) => window.erjiViewer.screenPoint(p)", hit["point_m"])
    assert moved == pytest.approx(onscreen, abs=0.01) and moved != pytest.approx(where, abs=1)
    assert gid and page.errors == []


def test_defects_mode_paints_the_payload_and_refuses_one_of_another_length(site, phone) -> None:
    page = phone
    n = site["count"]
    payload = bytes([3, 2, 1] + [0] * (n - 3))
    (site["folder"] / "defects.bin").write_bytes(payload)
    (site["folder"] / "short.bin").write_bytes(payload[:-1])
    _open(page, site)
    page.evaluate("window.setParam('color_mode', 'defects')")
    # No payload yet: original colours (the texel code for "own colour").
    assert page.evaluate("window.erjiViewer.state.texels[3]") == 254
    page.evaluate("window.setParam('defects_url', 'defects.bin?v=1')")
    page.wait_for_function("window.erjiViewer.state.severity !== null")
    texels = page.evaluate("Array.from(window.erjiViewer.state.texels.slice(0, 16))")
    assert texels == [211, 47, 47, 255, 245, 124, 0, 255, 251, 192, 45, 255, 200, 203, 207, 255]
    legend = page.locator("[data-role=legend]")
    assert legend.inner_text().startswith("Issues")
    counts = {
        key: int(legend.locator(f".row[data-key={key}] .count").inner_text())
        for key in ("critical", "major", "minor", "none")
    }
    assert counts == {"critical": 1, "major": 1, "minor": 1, "none": n - 3}
    ARTIFACTS.mkdir(exist_ok=True)
    page.evaluate("window.erjiViewer.scene.renderNow()")
    page.screenshot(path=str(ARTIFACTS / "viewer-phone-defects.png"))
    # A payload made for another revision (wrong length) is not painted and is reported.
    page.evaluate("window.setParam('defects_url', 'short.bin?v=2')")
    page.wait_for_function("(window.lastSent('load_error') || '').includes('defects')")
    assert page.evaluate("window.erjiViewer.state.severity") is None
    assert page.evaluate("window.erjiViewer.state.texels[3]") == 254
    # A good one again clears the error.
    page.evaluate("window.setParam('defects_url', 'defects.bin?v=3')")
    page.wait_for_function("window.lastSent('load_error') === ''")
    assert page.errors == []


def test_the_overlays_fit_a_phone(site, phone) -> None:
    page = phone
    _open(page, site)
    # Show the timeline as a schedule would (this harness has no 4D payload).
    page.evaluate("document.querySelector('.erji-timeline').hidden = false")
    page.evaluate("window.setParam('labels', {home: '主视图', fit: '适应窗口', frame_selection: '定位选中'})")
    page.evaluate("document.querySelector('.erji-timeline [data-role=date]').textContent = '2025-03-27'")
    overflow = page.evaluate(
        """() => [...document.querySelectorAll('.erji-toolbar, .erji-timeline, .erji-legend, .erji-toolbar *,'
                                              + ' .erji-timeline *')]
              .filter((e) => e.offsetParent !== null)
              .map((e) => [e.className || e.dataset.role || e.tagName, e.getBoundingClientRect()])
              .filter(([, r]) => r.left < -0.5 || r.right > innerWidth + 0.5)
              .map(([name, r]) => [name, r.left, r.right])"""
    )
    assert overflow == []
    buttons = page.locator(".erji-toolbar button, .erji-timeline button")
    heights = [buttons.nth(i).bounding_box() for i in range(buttons.count())]
    assert all(b["height"] >= 32 for b in heights if b), heights  # touch-sized
    # The canvas ends where the timeline begins: nothing of the model hides under it.
    canvas = page.locator(".erji-viewport canvas").bounding_box()
    timeline = page.locator(".erji-timeline").bounding_box()
    assert canvas["y"] + canvas["height"] <= timeline["y"] + 0.5
    # A pin under the Home button does not cover it: the toolbar stays on top of the pins.
    home = page.locator("[data-role=home]").bounding_box()
    hx, hy = home["x"] + home["width"] / 2, home["y"] + home["height"] / 2
    under = page.evaluate(
        """([x, y]) => { const s = window.erjiViewer.scene, t = s.table.originM;
                         const r = s.renderer.domElement.getBoundingClientRect();
                         const p = s.rayAt(x - r.left, y - r.top).at(20, s.camera.position.clone());
                         return [p.x + t[0], -p.z + t[1], p.y + t[2]]; }""",
        [hx, hy],
    )
    page.evaluate(
        "(p) => window.setParam('pins', [{id: 1, number: 1, point_m: p, severity: 'critical'}])", under
    )
    assert page.locator(".erji-pin").is_visible()
    assert page.evaluate("([x, y]) => document.elementFromPoint(x, y).dataset.role", [hx, hy]) == "home"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "viewer-phone.png"))
    assert page.errors == []


def test_crowded_pins_move_as_dots_and_badges_return_when_the_view_settles(site, phone) -> None:
    page = phone
    _open(page, site)
    live = 400  # pins.js LIVE_PINS: more than this on screen move as dots
    page.evaluate(
        """(n) => {
          const v = window.erjiViewer, o = v.scene.table.originM, b = v.scene.bounds;
          const c = b.getCenter(b.min.clone());
          const pins = [];  // all on the model's centre: every one on screen
          for (let i = 0; i < n; i++) pins.push({ id: i + 1, number: i + 1, severity: 'major', status: 'open',
            title: '', point_m: [c.x + o[0], -c.z + o[1], c.y + o[2]] });
          window.setParam('pins', pins);
          window.setParam('selected_issue', 5);
        }""",
        live + 100,
    )
    assert page.locator(".erji-pin:visible").count() == live + 100
    # A still view costs nothing: a repaint (e.g. the 4D timeline playing) leaves the badges alone.
    page.evaluate("document.querySelector('.erji-pin').style.transform = 'none'")
    page.evaluate("window.erjiViewer.scene.renderNow()")
    assert page.evaluate("document.querySelector('.erji-pin').style.transform") == "none"
    # Moving: dots on one canvas, the badges hidden except the selected one, which follows.
    page.evaluate(
        """() => { const s = window.erjiViewer.scene, v = window.erjiViewer;
                   s.camera.position.applyAxisAngle({x: 0, y: 1, z: 0}, 0.2);
                   s.controls.update(); s.renderNow(); clearTimeout(v.pins.settleTimer); }"""
    )
    assert (
        page.locator(".erji-pins.moving").count() == 1
        and page.locator("[data-role=pins] .erji-pin-dots").is_visible()
    )
    assert page.locator(".erji-pin:visible").count() == 1
    assert page.locator(".erji-pin.selected").is_visible()
    # Still again: the badges come back where their points are.
    page.evaluate("window.erjiViewer.pins._settle()")
    assert page.locator(".erji-pin:visible").count() == live + 100
    assert not page.locator("[data-role=pins] .erji-pin-dots").is_visible()
    where = page.evaluate("window.erjiViewer.pinScreenPosition(1)")
    box = page.locator(".erji-pin[data-issue-id='1']").bounding_box()
    canvas = page.locator(".erji-viewport canvas").bounding_box()
    assert box["x"] + box["width"] / 2 == pytest.approx(canvas["x"] + where["x"], abs=1)
    assert box["y"] + box["height"] / 2 == pytest.approx(canvas["y"] + where["y"], abs=1)
    assert page.errors == []


def test_sensors_mode_paints_the_condition_bytes_and_pins_sit_on_top_of_their_elements(site, phone) -> None:
    page = phone
    n = site["count"]
    _open(page, site)
    page.wait_for_function("window.lastSent('camera') !== undefined")
    page.evaluate("window.setParam('color_mode', 'sensors')")
    # No bytes yet: original colours.
    assert page.evaluate("window.erjiViewer.state.texels[3]") == 254
    target = page.evaluate(
        """() => { const v = window.erjiViewer, ids = v.scene.table.globalIds;
                   for (let row = 0; row < ids.length; row++) if (v.visiblePoint(ids[row])) return row;
                   return null; }"""
    )
    assert target is not None
    codes = [0] * n
    codes[target], codes[(target + 1) % n], codes[(target + 2) % n] = 5, 2, 9  # alarm, ok, beyond: control
    page.evaluate("(c) => window.setParam('sensor_conditions', Uint8Array.from(c))", codes)
    texel = page.evaluate(f"Array.from(window.erjiViewer.state.texels.slice({4 * target}, {4 * target + 4}))")
    assert texel == [239, 108, 0, 255]  # alarm orange, solid
    assert page.evaluate(f"Array.from(window.erjiViewer.state.texels.slice({4 * ((target + 2) % n)}, "
                         f"{4 * ((target + 2) % n) + 3}))") == [183, 28, 28]  # fmt: skip
    legend = page.locator("[data-role=legend]")
    assert legend.inner_text().startswith("Sensors")
    counts = {
        key: int(legend.locator(f".row[data-key={key}] .count").inner_text())
        for key in ("control", "alarm", "ok", "none")
    }
    assert counts == {"control": 1, "alarm": 1, "ok": 1, "none": n - 3}
    page.evaluate("window.setParam('legend_note', 'Time travel: 2026-12-01 23:59')")
    assert legend.locator("[data-role=legend-note]").inner_text() == "Time travel: 2026-12-01 23:59"
    # Bytes made for another model (another length) are not painted.
    page.evaluate("(c) => window.setParam('sensor_conditions', Uint8Array.from(c))", codes[:-1])
    assert page.evaluate("window.erjiViewer.state.sensors") is None
    assert page.evaluate("window.erjiViewer.state.texels[3]") == 254
    page.evaluate("(c) => window.setParam('sensor_conditions', Uint8Array.from(c))", codes)

    # Pins: on the top centre of the element's box, labelled with the point's code.
    page.evaluate(
        "(row) => window.setParam('sensor_pins', ["
        " {id: 11, code: 'S-01', row, condition: 'alarm', title: 'S-01 · Alarm 33 mm'},"
        " {id: 12, code: 'S-02', row: 99999, condition: 'ok'},"  # no such row: skipped
        " {id: 'x', row}])",  # malformed: skipped
        target,
    )
    page.evaluate("window.erjiViewer.scene.renderNow()")
    pin = page.locator(".erji-sensor-pin[data-point-id='11']")
    assert pin.is_visible() and pin.inner_text() == "S-01" and pin.get_attribute("data-condition") == "alarm"
    assert (
        page.locator(".erji-sensor-pin").count() == 1
        and page.locator(".erji-pin[data-issue-id]").count() == 0
    )
    lo, hi = _element_box_m(page, target)
    top = [(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, hi[2]]
    where = page.evaluate("window.erjiViewer.sensorPinScreenPosition(11)")
    expected = page.evaluate("(p) => window.erjiViewer.screenPoint(p)", top)
    assert where == pytest.approx(expected, abs=0.5)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "viewer-phone-sensors.png"))
    # Tapping it chooses the point (and counts the tap); the element behind is not picked.
    box = pin.bounding_box()
    sent_before = len(page.evaluate("window.sent"))
    page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("window.lastSent('selected_point') === 11")
    assert page.evaluate("window.lastSent('point_taps')") == 1
    names = [name for name, _ in page.evaluate("window.sent")[sent_before:]]
    assert "selected_global_id" not in names and "selected_issue" not in names
    assert "selected" in pin.get_attribute("class")
    # Python clears the pins (another colour mode): none left.
    page.evaluate("window.setParam('sensor_pins', [])")
    assert page.locator(".erji-sensor-pin").count() == 0
    assert page.errors == []
