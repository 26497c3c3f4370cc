"""frames.js, raycast.js and the pin projection under Node: what crosses to Python is in the
IFC world frame, the picked point is where the view ray meets the element, pins sit where
three.js would draw their points."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import pytest

CASES = Path(__file__).with_name("geometry_cases.mjs")
ORIGIN = [500123.25, 3456789.5, 12.75]


@pytest.fixture(scope="module")
def r(node_tools) -> dict:
    done = subprocess.run(
        ["node", str(CASES)], cwd=node_tools, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_points_and_directions_convert_between_the_glb_and_the_ifc_frame(r) -> None:
    f = r["frames"]
    # x_ifc = x + o0, y_ifc = -z + o1, z_ifc = y + o2 (docs/architecture.md, "GLB layout").
    assert f["point"] == [1 + ORIGIN[0], -3 + ORIGIN[1], 2 + ORIGIN[2]]
    assert f["pointBack"] == pytest.approx([1, 2, 3], abs=1e-9)
    assert f["up"] == [0, 0, 1] and f["east"] == [1, 0, 0]
    assert f["north"] == [0, 0, -1]
    assert f["directionBack"] == pytest.approx([0.3, -0.4, 0.5])


def test_the_camera_is_a_bcf_perspective_camera_in_the_ifc_frame_and_round_trips(r) -> None:
    c = r["camera"]
    d = c["dict"]
    assert set(d) == {"kind", "position_m", "direction", "up", "field_of_view_deg", "aspect_ratio"}
    assert d["kind"] == "perspective" and d["field_of_view_deg"] == 50 and d["aspect_ratio"] == 1.6
    assert c["positionError"] < 1e-4 and c["directionError"] < 2e-6
    assert c["upLength"] == pytest.approx(1, abs=1e-5) and abs(c["upDotDirection"]) < 1e-5
    assert d["up"][2] > 0  # a camera with the vertical up: IFC +Z is up on screen
    # Dict -> three.js camera again: the same camera within the rounding sent (0.1 mm, 1e-6).
    rt = c["roundTrip"]
    assert rt["position"] < 1e-4 and rt["direction"] < 2e-6 and rt["up"] < 2e-6 and rt["fov"] == 50
    assert rt["matrix"] < 1e-4


def test_orthogonal_and_partial_cameras_are_read_and_malformed_ones_are_ignored(r) -> None:
    o = r["orthogonal"]
    assert o["kind"] == "orthogonal" and o["viewHeightM"] == 30 and o["fovDeg"] is None
    assert o["position"] == pytest.approx([0, 50, 0])
    assert o["direction"] == pytest.approx([0, -1, 0])  # down, normalised
    assert o["up"] == pytest.approx([0, 0, -1])  # looking down without an up: north on top
    assert r["inferredKind"] == "orthogonal"
    # An up parallel to the direction is replaced by the vertical (GLB +Y).
    assert r["parallelUp"]["up"] == pytest.approx([0, 1, 0])
    h = math.sqrt(0.5)  # up (0, 0, 5) seen along (1, 0, -1)/√2: (½, 0, ½)·√2 in IFC -> GLB (x, z, -y)
    assert r["longUp"]["up"] == pytest.approx([h, h, 0])
    assert r["longUp"]["direction"] == pytest.approx([h, -h, 0])
    assert r["malformed"] == [None] * 13


def test_the_scan_finds_what_threes_raycaster_finds_on_the_element_alone(r) -> None:
    s = r["scan"]
    assert s["compared"] == 600 and s["hits"] > 30, s
    assert s["disagreements"] == 0 and s["worst"] < 1e-4, s


def test_the_scan_reads_interleaved_quantised_buffers_and_keeps_only_the_element(r) -> None:
    i = r["interleaved"]
    assert i["far"] == pytest.approx(8)  # element 7 in front is not element 4
    assert i["near"] == pytest.approx(9)
    assert i["clipped"] is None  # JSON has no Infinity: null
    assert i["fromBelow"] == pytest.approx(3)  # both faces count
    assert i["miss"] is None and i["other"] is None
    assert i["ranges"] == [4, 7]
    assert i["nonIndexed"] == pytest.approx(3)


def test_box_and_section_intervals(r) -> None:
    b = r["box"]
    assert b["outside"] == pytest.approx([5, 6]) and b["inside"] == pytest.approx([-0.5, 0.5])
    assert b["behind"] is None and b["miss"] is None
    c = r["clip"]
    assert c["down"] == [7, None] and c["up"] == [0, 3]  # [t0, Infinity] -> [7, null]
    assert c["parallelOut"][0] > c["parallelOut"][1] and c["parallelIn"] == [0, None]


def test_one_click_on_a_big_model_scans_fast(r) -> None:
    # 2.5 M triangles: a linear scan of the element attribute, well under a frame's budget
    # on a laptop; generous here (CI machines are slow and shared).
    assert r["bigScanMs"] < 500, r["bigScanMs"]


def test_pins_project_like_threejs_and_hide_behind_the_camera_or_off_the_canvas(r) -> None:
    p = r["pins"]
    assert p["visible"] == [1, 1, 0, 0]
    assert p["error"] < 1e-6
    assert p["centre"] == pytest.approx([195, 300])  # the point looked at is the canvas centre
    pins = r["readPins"]
    assert [pin["id"] for pin in pins] == [1, 2, 4]
    assert pins[0] == {
        "id": 1,
        "number": 3,
        "point": [1, 2, 3],
        "severity": "critical",
        "status": "open",
        "title": "crack",
    }
    assert pins[1]["severity"] == "minor" and pins[1]["number"] == 2  # unknown severity, no number
    assert pins[2]["severity"] == "minor" and pins[2]["status"] == "" and pins[2]["title"] == ""
    assert r["readPinsNotAList"] == []
    assert not any(math.isnan(v) for v in p["centre"])
