"""The checks every schedule passes, on records built directly."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ifc_processing.schedules import (
    CalendarRecord,
    ElementTaskRecord,
    ScheduleError,
    TaskLinkRecord,
    TaskRecord,
)
from ifc_processing.schedules.validate import finish_schedule

PATH = Path("plan.xer")


def task(key: str, parent: str | None = None, **fields) -> TaskRecord:
    values = dict(
        key=key,
        wbs_code=None,
        name=f"Task {key}",
        parent_key=parent,
        is_milestone=False,
        is_summary=False,
        planned_start=None,
        planned_finish=None,
        baseline_start=None,
        baseline_finish=None,
        actual_start=None,
        actual_finish=None,
        duration_days=None,
        percent_complete=None,
        is_critical=False,
        total_float_days=None,
        calendar_key=None,
    )
    values.update(fields)
    return TaskRecord(**values)


def fs(a: str, b: str, kind: str = "FS") -> TaskLinkRecord:
    return TaskLinkRecord(a, b, kind, 0.0)


def finish(tasks, links=(), **kwargs):
    return finish_schedule(
        PATH, source_format="xer", name="p", data_date=None, tasks=tasks, links=links, **kwargs
    )


def error(tasks, links=(), **kwargs) -> str:
    with pytest.raises(ScheduleError) as caught:
        finish(tasks, links, **kwargs)
    assert str(caught.value).startswith("plan.xer: ")
    return caught.value.reason


def test_parents_come_before_children_and_siblings_keep_source_order() -> None:
    tasks = [task("c2", "p2"), task("a"), task("c1", "p1"), task("p2", "p1"), task("p1"), task("b")]
    record = finish(tasks)
    assert [t.key for t in record.tasks] == ["a", "p1", "c1", "p2", "c2", "b"]


def test_a_deep_chain_of_links_and_parents_needs_no_recursion() -> None:
    count = 5_000
    tasks = [task("0")] + [task(str(i), str(i - 1)) for i in range(1, count)]
    links = [fs(str(i), str(i + 1)) for i in range(count - 1)]
    record = finish(tasks, links)
    assert len(record.tasks) == count and len(record.links) == count - 1


def test_duplicate_keys() -> None:
    assert error([task("1"), task("1")]) == "duplicate task 1 ('Task 1')"


def test_unknown_parent() -> None:
    assert error([task("1", "9")]) == "task 1 ('Task 1') has parent 9, which is not a task of the schedule"


def test_parent_cycle_names_its_tasks() -> None:
    message = error([task("1", "3"), task("2", "1"), task("3", "2"), task("4")])
    assert (
        message
        == "parent cycle: task 1 ('Task 1') → task 3 ('Task 3') → task 2 ('Task 2') → task 1 ('Task 1')"
    )


def test_links_to_unknown_tasks_and_self_links() -> None:
    assert error([task("1")], [fs("1", "2")]) == "link 1 → 2: successor 2 is not a task of the schedule"
    assert error([task("1")], [fs("0", "1")]) == "link 0 → 1: predecessor 0 is not a task of the schedule"
    assert error([task("1")], [fs("1", "1")]) == "task 1 ('Task 1') is linked to itself"
    assert "kind 'XX' is not one of FS, SS, FF, SF" in error([task("1"), task("2")], [fs("1", "2", "XX")])


def test_link_cycle_names_the_tasks_in_order() -> None:
    tasks = [task(k) for k in "abcde"]
    links = [fs("a", "b"), fs("b", "c"), fs("c", "d", "SS"), fs("d", "b", "FF"), fs("d", "e")]
    assert error(tasks, links) == (
        "link cycle: task b ('Task b') → task c ('Task c') → task d ('Task d') → task b ('Task b')"
    )


def test_a_long_cycle_is_shortened_to_one_line() -> None:
    tasks = [task(str(i)) for i in range(20)]
    links = [fs(str(i), str((i + 1) % 20)) for i in range(20)]
    message = error(tasks, links, task_label="task UID")
    assert message.startswith("link cycle: task UID 0 ('Task 0') → task UID 1")
    assert " → … → task UID 0 ('Task 0')" in message
    assert message.count("→") == 8


def test_diamond_of_links_is_no_cycle() -> None:
    tasks = [task(k) for k in "abcd"]
    finish(tasks, [fs("a", "b"), fs("a", "c"), fs("b", "d"), fs("c", "d")])


def test_planned_finish_before_start_is_an_error_actuals_only_warn() -> None:
    day = dt.date(2024, 5, 6)
    late = task("1", planned_start=day, planned_finish=day - dt.timedelta(days=1))
    assert error([late]) == "task 1 ('Task 1'): planned finish 2024-05-05 is before planned start 2024-05-06"
    slip = task("1", actual_start=day, actual_finish=day - dt.timedelta(days=2))
    assert finish([slip]).warnings == (
        "task 1 ('Task 1'): actual finish 2024-05-04 is before actual start 2024-05-06",
    )
    assert finish([task("1", planned_start=day, planned_finish=day)]).warnings == ()  # a one-day task


@pytest.mark.parametrize("percent", [-0.5, 100.5])
def test_percent_outside_0_to_100(percent: float) -> None:
    assert "is outside 0–100" in error([task("1", percent_complete=percent)])


def test_percent_bounds_are_allowed() -> None:
    finish([task("1", percent_complete=0.0), task("2", percent_complete=100.0)])


def test_duplicate_links_and_element_links_are_kept_once_with_a_note() -> None:
    tasks = [task("1"), task("2")]
    element = ElementTaskRecord("3iHy1LOhfAtfLt80$LZBqn", "1", "Task 1", "OUTPUT")
    record = finish(tasks, [fs("1", "2"), fs("1", "2"), fs("1", "2", "SS")], element_links=[element, element])
    assert [(lk.kind) for lk in record.links] == ["FS", "SS"]
    assert record.element_links == (element,)
    assert record.warnings == ("link 1 → 2 (FS) is given twice; kept the first",)


def test_unknown_calendar_is_a_warning() -> None:
    calendars = [CalendarRecord("1", "Standard", (1, 2, 3, 4, 5), ())]
    record = finish([task("1", calendar_key="1"), task("2", calendar_key="7")], calendars=calendars)
    assert record.calendars == tuple(calendars)
    assert record.warnings == ("tasks refer to calendars the file does not define: 7",)
