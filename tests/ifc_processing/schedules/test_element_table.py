"""Element–task tables: the Schependomlaan 4D event log and the column variants."""

from __future__ import annotations

import csv
import uuid
from pathlib import Path

import ifcopenshell.guid
import pytest

from ifc_processing.schedules import read_element_task_table

from .support import reason, write

EVENT_LOG = "schedule/Schependomlaan_eventlog_as_planned.csv"


@pytest.mark.corpus
def test_schependomlaan_event_log_gives_one_record_per_distinct_pair(corpus: Path) -> None:
    path = corpus / EVENT_LOG
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    pairs = list(dict.fromkeys((r["GUID"], r["Task"]) for r in rows))
    records = read_element_task_table(path)
    assert [(r.global_id, r.task_key) for r in records] == pairs
    assert len(records) == len(pairs)
    # stripped, like MS Project names: "Prefab trappen en bordes " has a trailing space in both files
    names = {(r["GUID"], r["Task"]): r["TaskName"].strip() for r in rows}
    assert all(r.task_name == names[r.global_id, r.task_key] for r in records)
    assert {r.role for r in records} == {"OUTPUT"}


def test_alternative_column_names_duplicates_and_uuids(tmp_path: Path) -> None:
    guid = "3iHy1LOhfAtfLt80$LZBqn"
    long_form = uuid.UUID("5a1c2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b")
    text = "\n".join(
        [
            "Task_Name, GLOBAL_ID ,task_id,extra",
            f"Pour slab,{guid},T1,a",
            f"Pour slab,{guid},T1,b",  # the same pair again: kept once
            f"Strip formwork,{guid},T2,c",
            f"Pour slab,{long_form},T1,d",
        ]
    )
    records = read_element_task_table(write(tmp_path / "links.csv", text))
    assert [(r.global_id, r.task_key, r.task_name, r.role) for r in records] == [
        (guid, "T1", "Pour slab", "OUTPUT"),
        (guid, "T2", "Strip formwork", "OUTPUT"),
        (ifcopenshell.guid.compress(long_form.hex), "T1", "Pour slab", "OUTPUT"),
    ]


def test_task_names_alone_are_enough(tmp_path: Path) -> None:
    text = "guid,taskname\n3iHy1LOhfAtfLt80$LZBqn,Pour slab\n3iHy1LOhfAtfLt80$LZBqn,Pour slab\n"
    (record,) = read_element_task_table(write(tmp_path / "links.csv", text))
    assert (record.task_key, record.task_name) == (None, "Pour slab")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "file is empty"),
        ("element,phase\nx,1\n", "line 1: no column GUID (or global_id) (columns found: element, phase)"),
        ("guid,phase\nx,1\n", "line 1: no column Task (or task_id) or TaskName (or task_name)"),
        (
            "guid,task\n3iHy1LOhfAtfLt80$LZBqn,T1\nnot-a-guid,T1\n",
            "line 3: 'not-a-guid' is not an IFC GlobalId",
        ),
        (
            "guid,task,taskname\n3iHy1LOhfAtfLt80$LZBqn,,\n",
            "line 2: element 3iHy1LOhfAtfLt80$LZBqn has no task",
        ),
        ("\x00\x01\x02\x03garbage", "binary data, not a CSV file"),
    ],
)
def test_bad_tables(tmp_path: Path, text: str, expected: str) -> None:
    assert reason(read_element_task_table, write(tmp_path / "links.csv", text)).startswith(expected)


def test_missing_file(tmp_path: Path) -> None:
    assert reason(read_element_task_table, tmp_path / "nope.csv") == "file not found"
