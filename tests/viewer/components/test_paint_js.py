"""paint.js (the per-element texels the GPU reads) under Node: every layer of the rules."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

CASES = Path(__file__).with_name("paint_cases.mjs")


def _run_cases(node_tools) -> dict:
    done = subprocess.run(
        ["node", str(CASES)],
        cwd=node_tools,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_compose_colors_layers(node_tools) -> None:
    r = _run_cases(node_tools)
    code, rgb = r["codes"], r["statusRgb"]
    # Status: each code its colour; not started is a ghost (or hidden on request).
    assert [t[:3] for t in r["status"]["texels"]] == rgb
    assert [t[3] for t in r["status"]["texels"]] == [255, code["GHOST"], 255, 255, 255, 255]
    assert r["status"]["counts"] == {
        "solid": 5,
        "ghost": 1,
        "hidden": 0,
        "byStatus": [1, 1, 1, 1, 1, 1],
        "bySeverity": None,
        "bySensor": None,
    }
    assert r["hidden"]["texels"][1][3] == code["HIDDEN"] and r["hidden"]["counts"]["hidden"] == 1
    # Storey filter: "only" hides the other storeys, "isolate" ghosts them.
    assert [t[3] for t in r["only"]["texels"]] == [0, 0, 255, 255, 0, 0]
    assert [t[3] for t in r["isolate"]["texels"]] == [64, 64, 255, 255, 64, 64]
    # X-ray: the selection in the highlight colour, everything else a ghost.
    assert r["xray"]["texels"][3] == [*r["selectedRgb"], 255]
    assert [t[3] for i, t in enumerate(r["xray"]["texels"]) if i != 3] == [64] * 5
    # selectedCount 0 says nothing is selected: no highlight, no x-ray ghosts.
    assert r["unselected"]["counts"]["ghost"] == 0 and r["unselected"]["counts"]["solid"] == 6
    # Original colours: the ORIGINAL code everywhere; custom arrays pass through as given.
    assert {t[3] for t in r["original"]["texels"]} == {code["ORIGINAL"]}
    assert r["custom"]["texels"][0] == [9, 9, 9, 0] and r["custom"]["counts"]["hidden"] == 1
    assert "needs its array" in r["missing"] and "unknown mode" in r["unknown"]
    assert len({tuple(c) for c in r["categoryColors"]}) == 3
    assert r["span"] == {"first": 8, "last": 25}


def test_defects_mode_paints_the_worst_severity_under_the_filter_and_selection(node_tools) -> None:
    r = _run_cases(node_tools)
    code, rgb = r["codes"], r["severityRgb"]
    # One colour per severity, every element solid; bytes above 3 count as critical.
    assert rgb == [[200, 203, 207], [251, 192, 45], [245, 124, 0], [211, 47, 47]]
    texels = r["defects"]["texels"]
    assert texels == [[*rgb[s], code["SOLID"]] for s in (0, 1, 2, 3, 3, 3)]
    assert r["defects"]["counts"] == {
        "solid": 6,
        "ghost": 0,
        "hidden": 0,
        "byStatus": None,
        "bySeverity": [1, 1, 1, 3],
        "bySensor": None,
    }
    # The storey filter still applies on top ("only" hides, "isolate" ghosts) ...
    assert [t[3] for t in r["defectsOnly"]["texels"]] == [0, 0, 255, 255, 0, 0]
    assert r["defectsOnly"]["texels"][2][:3] == rgb[2]
    # ... and the selection over both: element 3 is selected and in the highlight colour.
    isolate = r["defectsIsolateSelected"]["texels"]
    assert [t[3] for t in isolate] == [64, 64, 255, 255, 64, 64]
    assert isolate[3] == [*r["selectedRgb"], 255] and isolate[2][:3] == rgb[2]
    xray = r["defectsXray"]["texels"]
    assert xray[3] == [*r["selectedRgb"], 255] and [t[3] for i, t in enumerate(xray) if i != 3] == [64] * 5
    # Counts are of the severities, whatever the layers above did to the texels.
    assert r["defectsXray"]["counts"]["bySeverity"] == [1, 1, 1, 3]
    assert "needs its array" in r["defectsMissing"]


def test_sensors_mode_paints_each_condition_and_python_speaks_the_same_codes(node_tools) -> None:
    from twin_server.domain.sensors import Condition
    from viewer.pages.sensors import CONDITION_RGB, SENSOR_CODES

    r = _run_cases(node_tools)
    code, rgb, keys = r["codes"], r["sensorRgb"], r["sensorKeys"]
    # The bytes Python builds are the JS's indices: 0 no point, then the server's conditions
    # in their rank order (worse is larger), each in the colour Python's chart uses too.
    assert keys == ["none", *(c.value for c in Condition)]
    assert {k: keys.index(k) for k in SENSOR_CODES} == dict(SENSOR_CODES)
    assert [list(CONDITION_RGB[k]) for k in keys] == rgb
    assert rgb[keys.index("ok")][1] > 150 and rgb[keys.index("control")][0] > 150  # green … dark red
    texels = r["sensors"]["texels"]
    assert texels == [[*rgb[s], code["SOLID"]] for s in (0, 2, 4, 5, 6, 6)]
    assert r["sensors"]["counts"]["bySensor"] == [1, 0, 1, 0, 1, 1, 2]
    assert r["sensors"]["counts"]["bySeverity"] is None
    # The storey filter and the selection still apply on top, as in every mode.
    isolate = r["sensorsIsolateSelected"]["texels"]
    assert [t[3] for t in isolate] == [64, 64, 255, 255, 64, 64]
    assert isolate[3] == [*r["selectedRgb"], 255] and isolate[2][:3] == rgb[4]
    assert "needs its array" in r["sensorsMissing"]
