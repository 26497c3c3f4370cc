"""The golden 4D status table: the Python engine and the browser code give its answers.

The table (``tests/golden/fourd_status.json``) is generated from the Python engine by
``python -m tests.golden.make_fourd_golden``. The engine must reproduce it exactly, so a
rule change fails here until the table is regenerated on purpose; the browser's
``status.js``/``fourd.js`` must reproduce every status in it, from the table's columns and
from a binary payload written by ``encode_fourd``.
"""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from tests.conftest import run_node_tool
from tests.golden.make_fourd_golden import GOLDEN, build_table, render
from twin_server.domain.fourd import ElementDates, Status, element_status
from twin_server.domain.fourd_payload import DATE_COLUMNS, encode_fourd


@pytest.fixture(scope="module")
def golden() -> dict:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def golden_dates(golden: dict) -> ElementDates:
    elements = golden["elements"]
    columns = [
        np.array([np.nan if v is None else v for v in elements[name]], dtype=np.float64)
        for name in DATE_COLUMNS
    ]
    task_index = np.array([-1 if t is None else t for t in elements["task_index"]], dtype=np.int32)
    return ElementDates(*columns, task_index)


def test_the_engine_reproduces_the_committed_table_exactly() -> None:
    assert render(build_table()) == GOLDEN.read_text(encoding="utf-8"), (
        "the 4D rules changed: if on purpose, run `python -m tests.golden.make_fourd_golden` "
        "and review the diff (viewer/js/src/status.js must follow)"
    )


def test_the_table_covers_every_status_and_stays_small(golden: dict) -> None:
    seen = {s for day in golden["days"] for s in day["status"]}
    assert seen == {int(s) for s in Status}
    assert GOLDEN.stat().st_size < 100_000
    names = golden["elements"]["name"]
    assert len(set(names)) == len(names) == golden["element_count"]
    assert all(len(day["status"]) == len(names) for day in golden["days"])


def test_the_table_statuses_are_the_engine_on_the_table_columns(golden: dict) -> None:
    # The columns in the file (not just the engine's run) give the statuses in the file.
    dates = golden_dates(golden)
    for day in golden["days"]:
        assert element_status(dates, float(day["day"])).tolist() == day["status"], day["iso"]


def test_the_browser_code_reproduces_every_status(golden: dict, node_tools, tmp_path) -> None:
    payload = tmp_path / "golden.e4d"
    payload.write_bytes(encode_fourd(golden_dates(golden), task_count=golden["task_count"]))
    result = run_node_tool(node_tools, "check-status", GOLDEN, payload)
    assert result["mismatches"] == []
    assert result["mismatch_count"] == 0
    table_size = golden["element_count"] * len(golden["days"])
    assert result["checked"] == table_size
    assert result["payload_checked"] == table_size
    assert result["days_checked"] == len(golden["days"])


def test_the_browser_decodes_a_u32_task_index(golden: dict, node_tools, tmp_path) -> None:
    """Same elements, but a task count that needs the u32 index (and its alignment padding:
    the table has an odd number of elements)."""
    assert golden["element_count"] % 2 == 1
    wide = dict(golden, task_count=70_000)
    table = tmp_path / "wide.json"
    table.write_text(json.dumps(wide), encoding="utf-8")
    payload = tmp_path / "wide.e4d"
    data = encode_fourd(golden_dates(golden), task_count=70_000)
    assert struct.unpack_from("<H", data, 6)[0] == 1  # flags: u32 task index
    payload.write_bytes(data)
    result = run_node_tool(node_tools, "check-status", table, payload)
    assert result["mismatches"] == []
    assert result["payload_checked"] == golden["element_count"] * len(golden["days"])


def test_the_browser_refuses_bad_payloads(golden: dict, node_tools, tmp_path) -> None:
    data = encode_fourd(golden_dates(golden), task_count=golden["task_count"])
    cases = {
        "good": (data, None),
        "magic": (b"GLTF" + data[4:], "magic"),
        "version": (data[:4] + struct.pack("<H", 2) + data[6:], "version"),
        "truncated": (data[:-2], "bytes"),
        "too long": (data + b"\0\0\0\0", "bytes"),
        "header only": (data[:20], "too short"),
    }
    for name, (content, error) in cases.items():
        path = tmp_path / f"{name}.e4d"
        path.write_bytes(content)
        result = run_node_tool(node_tools, "check-status", "--decode", path)
        if error is None:
            assert result == {
                "element_count": golden["element_count"],
                "task_count": golden["task_count"],
                "base_day": struct.unpack_from("<i", data, 16)[0],
            }
        else:
            assert error in result.get("error", ""), (name, result)
