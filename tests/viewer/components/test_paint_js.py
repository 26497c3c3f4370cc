"""paint.js (the per-element texels the GPU reads) under Node: every layer of the rules."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

CASES = Path(__file__).with_name("paint_cases.mjs")


def test_compose_colors_layers(node_tools) -> None:
    done = subprocess.run(
        ["node", str(CASES)],
        cwd=node_tools,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    r = json.loads(done.stdout)
    code, rgb = r["codes"], r["statusRgb"]
    # Status: each code its colour; not started is a ghost (or hidden on request).
    assert [t[:3] for t in r["status"]["texels"]] == rgb
    assert [t[3] for t in r["status"]["texels"]] == [255, code["GHOST"], 255, 255, 255, 255]
    assert r["status"]["counts"] == {"solid": 5, "ghost": 1, "hidden": 0, "byStatus": [1, 1, 1, 1, 1, 1]}
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
