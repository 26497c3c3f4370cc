"""CSV schedules: the documented columns, forgiving where planners differ, exact where data is bad."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ifc_processing.schedules import read_schedule

from .support import reason, write

HEADER = (
    "id,wbs,name,parent_id,milestone,planned_start,planned_finish,baseline_start,baseline_finish,"
    "actual_start,actual_finish,duration_days,percent_complete,critical,total_float_days,predecessors"
)


def test_every_column_is_read(tmp_path: Path) -> None:
    text = "\n".join(
        [
            HEADER,
            "10,1,Shell,,0,2024-05-06,2024-05-20,,,,,11,,0,,",
            "11,1.1,Walls,10,no,2024-05-06,2024-05-10,2024-04-29,2024-05-03,2024-05-06,,5,40%,yes,-1.5,",
            '12,1.2,Roof,10,,6-5-2024,15-5-2024,,,,,3,0,,2,"11SS+2.5"',
            "13,2,Handover,,x,2024-05-20,2024-05-20,,,,,0,,,,12FF-1;11SF;10",
        ]
    )
    record = read_schedule(write(tmp_path / "plan.csv", text))
    assert record.source_format == "csv" and record.name == "plan" and record.warnings == ()
    shell, walls, roof, handover = record.tasks
    assert (shell.key, shell.wbs_code, shell.is_summary, shell.parent_key) == ("10", "1", True, None)
    assert (walls.name, walls.parent_key, walls.is_milestone, walls.is_critical) == (
        "Walls",
        "10",
        False,
        True,
    )
    assert (walls.baseline_start, walls.baseline_finish) == (dt.date(2024, 4, 29), dt.date(2024, 5, 3))
    assert (walls.actual_start, walls.actual_finish) == (dt.date(2024, 5, 6), None)
    assert (walls.duration_days, walls.percent_complete, walls.total_float_days) == (5.0, 40.0, -1.5)
    assert (roof.planned_start, roof.planned_finish) == (
        dt.date(2024, 5, 6),
        dt.date(2024, 5, 15),
    )  # D-M-YYYY
    assert handover.is_milestone and not handover.is_summary
    assert [(lk.predecessor_key, lk.successor_key, lk.kind, lk.lag_days) for lk in record.links] == [
        ("11", "12", "SS", 2.5),
        ("12", "13", "FF", -1.0),
        ("11", "13", "SF", 0.0),
        ("10", "13", "FS", 0.0),
    ]


def test_bom_header_case_order_semicolons_and_unknown_columns(tmp_path: Path) -> None:
    text = (
        "\ufeffName;ID;Parent_ID;Colour;Planned_Start\nChild;2;1;red;2024-01-02\nParent;1;;blue;2024-01-01\n"
    )
    record = read_schedule(write(tmp_path / "plan.csv", text))
    # the parent comes first although the file lists it second
    assert [(t.key, t.name, t.parent_key, t.is_summary) for t in record.tasks] == [
        ("1", "Parent", None, True),
        ("2", "Child", "1", False),
    ]
    assert record.warnings == ("columns ignored: colour",)


def test_an_id_that_looks_like_a_link_expression_is_taken_as_an_id(tmp_path: Path) -> None:
    text = "id,name,predecessors\nA-1,First,\nB,Second,A-1\n"
    (link,) = read_schedule(write(tmp_path / "plan.csv", text)).links
    assert (link.predecessor_key, link.kind, link.lag_days) == ("A-1", "FS", 0.0)


def test_header_only_gives_an_empty_schedule_with_a_warning(tmp_path: Path) -> None:
    record = read_schedule(write(tmp_path / "plan.csv", HEADER + "\n"))
    assert record.tasks == () and record.warnings == ("the file holds no tasks",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name,start\nx,2024-01-01\n", "line 1: missing column 'id' (columns found: name, start)"),
        ("id,name,name\n1,a,b\n", "line 1: column 'name' appears twice"),
        (
            "id,name,planned_start\n1,a,2024-01-01\n2,b,32-1-2024\n",
            "line 3, column planned_start: '32-1-2024'",
        ),
        ("id,name,duration_days\n1,a,three\n", "line 2, column duration_days: 'three' is not a number"),
        ("id,name,duration_days\n1,a,nan\n", "line 2, column duration_days: 'nan' is not a finite number"),
        ("id,name,milestone\n1,a,maybe\n", "line 2, column milestone: 'maybe' is not a yes/no value"),
        ("id,name\n1,a\n\n1,b\n", "line 4: task id 1 already used on line 2"),
        ("id,name\n,a\n", "line 2: empty id"),
        ("id,name\n1,a,extra\n", "line 2: 3 cells for 2 columns"),
        ("id,name,predecessors\n1,a,\n2,b,1XX+\n", "line 3, column predecessors: '1XX+' names no task id"),
        ("id,name,predecessors\n1,a,7FS\n", "line 2, column predecessors: '7FS' names no task id"),
        (
            "id,name,parent_id\n1,a,2\n2,b,1\n",
            "parent cycle: task id 1 ('a') → task id 2 ('b') → task id 1 ('a')",
        ),
        ("id,name,percent_complete\n1,a,101\n", "task id 1 ('a'): percent complete 101 is outside 0–100"),
        ("id,name,duration_days\n1,a,-2\n", "task id 1 ('a'): negative duration -2 days"),
    ],
)
def test_bad_values_name_the_line_and_column(tmp_path: Path, text: str, expected: str) -> None:
    assert reason(read_schedule, write(tmp_path / "plan.csv", text)).startswith(expected)


def test_non_utf8_text_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "plan.csv", "id,name\n1,Caf\u00e9\n", encoding="cp1252")
    assert reason(read_schedule, path) == "line 2: not UTF-8 text (save the CSV as UTF-8)"
