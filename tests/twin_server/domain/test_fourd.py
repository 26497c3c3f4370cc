"""The 4D status rules, table-driven: one row per situation a planner would name."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from twin_server.domain.fourd import (
    ElementDates,
    Light,
    Status,
    TaskDates,
    WarningRules,
    day_number,
    element_dates,
    element_status,
    schedule_performance_index,
    task_delay_days,
    task_lights,
    task_status,
)

N = math.nan
D = 20_000  # the day we look at (2024-10-04)


def one_task(**fields) -> TaskDates:
    return TaskDates.from_rows([fields])


# (situation, task fields relative to D, expected element status, expected delay)
CASES = [
    ("nothing planned, nothing done", {}, Status.NOT_STARTED, 0),
    ("planned later, not started", dict(planned_start=D + 3, planned_finish=D + 9), Status.NOT_STARTED, 0),
    (
        "planned to have started, not started, not yet due",
        dict(planned_start=D - 3, planned_finish=D + 2),
        Status.NOT_STARTED,
        0,
    ),
    (
        "spans the date, started on time",
        dict(planned_start=D - 3, planned_finish=D + 2, actual_start=D - 3),
        Status.IN_PROGRESS,
        0,
    ),
    (
        "due today and still running: not late yet",
        dict(planned_start=D - 3, planned_finish=D, actual_start=D - 3),
        Status.IN_PROGRESS,
        0,
    ),
    (
        "due yesterday, running: late",
        dict(planned_start=D - 5, planned_finish=D - 1, actual_start=D - 5),
        Status.LATE,
        1,
    ),
    ("due long ago, never started: late", dict(planned_start=D - 20, planned_finish=D - 10), Status.LATE, 10),
    (
        "finished on its due day",
        dict(planned_start=D - 5, planned_finish=D - 1, actual_start=D - 5, actual_finish=D - 1),
        Status.DONE,
        0,
    ),
    (
        "finished late",
        dict(planned_start=D - 9, planned_finish=D - 6, actual_start=D - 9, actual_finish=D - 2),
        Status.DONE,
        4,
    ),
    (
        "finished before its due date: ahead",
        dict(planned_start=D - 5, planned_finish=D + 5, actual_start=D - 5, actual_finish=D),
        Status.AHEAD,
        0,
    ),
    (
        "started before planned: ahead",
        dict(planned_start=D + 2, planned_finish=D + 8, actual_start=D - 1),
        Status.AHEAD,
        0,
    ),
    (
        "actual finish recorded after the date: not done on the date",
        dict(planned_start=D - 5, planned_finish=D + 1, actual_start=D - 5, actual_finish=D + 3),
        Status.IN_PROGRESS,
        0,
    ),
    (
        "finish without a start counts as started",
        dict(planned_start=D - 5, planned_finish=D - 1, actual_finish=D - 2),
        Status.DONE,
        0,
    ),
    (
        "baseline decides lateness, not the re-planned finish",
        dict(planned_start=D - 5, planned_finish=D + 4, baseline_finish=D - 2, actual_start=D - 5),
        Status.LATE,
        6,  # the forecast is the re-planned finish
    ),
    (
        "re-planned earlier than baseline",
        dict(planned_start=D - 5, planned_finish=D - 1, baseline_finish=D + 3, actual_start=D - 5),
        Status.IN_PROGRESS,
        0,
    ),
    (
        "milestone reached on time",
        dict(planned_start=D - 1, planned_finish=D - 1, is_milestone=True, actual_finish=D - 1),
        Status.DONE,
        0,
    ),
    ("milestone missed", dict(planned_start=D - 3, planned_finish=D - 3, is_milestone=True), Status.LATE, 3),
    (
        "milestone ahead",
        dict(planned_start=D + 4, planned_finish=D + 4, is_milestone=True, actual_finish=D - 1),
        Status.AHEAD,
        0,
    ),
    ("only actual dates", dict(actual_start=D - 2), Status.IN_PROGRESS, 0),
    ("only a baseline", dict(baseline_finish=D - 1), Status.LATE, 1),
]


@pytest.mark.parametrize(("situation", "fields", "status", "delay"), CASES, ids=[c[0] for c in CASES])
def test_task_and_element_status(situation, fields, status, delay) -> None:
    tasks = one_task(**fields)
    assert task_status(tasks, D)[0] == status
    dates = element_dates(tasks, 1, (np.array([0]), np.array([0])))
    assert element_status(dates, D)[0] == status
    assert task_delay_days(tasks, D)[0] == delay


def test_an_unlinked_element_has_no_task() -> None:
    tasks = one_task(planned_start=D - 3, planned_finish=D - 1)
    dates = element_dates(tasks, 3, (np.array([1]), np.array([0])))
    assert list(element_status(dates, D)) == [Status.NO_TASK, Status.LATE, Status.NO_TASK]
    assert list(dates.task_index) == [-1, 0, -1]


def test_an_element_in_two_tasks_is_done_when_both_are() -> None:
    tasks = TaskDates.from_rows(
        [
            dict(
                planned_start=D - 10, planned_finish=D - 8, actual_start=D - 10, actual_finish=D - 8
            ),  # formwork
            dict(planned_start=D - 7, planned_finish=D + 2, actual_start=D - 7),  # concrete, running
        ]
    )
    links = (np.array([0, 0, 1]), np.array([1, 0, 0]))  # element 0 in both tasks; element 1 in the first
    dates = element_dates(tasks, 2, links)
    assert list(element_status(dates, D)) == [Status.IN_PROGRESS, Status.DONE]
    assert dates.task_index[0] == 0  # the task that starts first
    assert (dates.planned_start[0], dates.planned_finish[0]) == (D - 10, D + 2)
    assert math.isnan(dates.actual_finish[0]) and dates.actual_start[0] == D - 10
    finished = TaskDates.from_rows(
        [
            dict(planned_start=D - 10, planned_finish=D - 8, actual_finish=D - 8),
            dict(planned_start=D - 7, planned_finish=D + 2, actual_finish=D - 1),
        ]
    )
    assert element_dates(finished, 2, links).actual_finish[0] == D - 1


def test_an_installed_mark_finishes_one_element_of_a_running_task() -> None:
    tasks = one_task(planned_start=D - 5, planned_finish=D + 5, actual_start=D - 5)
    installed = np.array([D - 1, N])
    dates = element_dates(tasks, 2, (np.array([0, 1]), np.array([0, 0])), installed_day=installed)
    assert list(element_status(dates, D)) == [Status.AHEAD, Status.IN_PROGRESS]
    assert list(element_status(dates, D + 6)) == [Status.DONE, Status.LATE]


@pytest.mark.parametrize(
    ("fields", "delay", "light"),
    [
        (dict(planned_finish=D - 6), 6, Light.RED),
        (dict(planned_finish=D - 5), 5, Light.GREEN),  # not critical, float unknown
        (dict(planned_finish=D - 5, is_critical=True), 5, Light.YELLOW),
        (dict(planned_finish=D - 1, is_critical=True), 1, Light.YELLOW),
        (dict(planned_finish=D - 3, total_float_days=2), 3, Light.YELLOW),
        (dict(planned_finish=D - 3, total_float_days=4), 3, Light.GREEN),
        (dict(planned_finish=D - 3, is_milestone=True), 3, Light.RED),
        (dict(planned_finish=D + 3, is_critical=True), 0, Light.GREEN),
    ],
)
def test_warning_lights(fields, delay, light) -> None:
    tasks = one_task(planned_start=fields["planned_finish"] - 2, **fields)
    delays = task_delay_days(tasks, D)
    assert delays[0] == delay
    assert task_lights(tasks, delays)[0] == light


def test_warning_thresholds_are_configurable() -> None:
    tasks = one_task(planned_start=D - 9, planned_finish=D - 3)
    delays = task_delay_days(tasks, D)
    assert task_lights(tasks, delays)[0] == Light.GREEN
    assert task_lights(tasks, delays, WarningRules(red_over_days=2))[0] == Light.RED


def test_spi_is_element_weighted_earned_over_planned() -> None:
    tasks = TaskDates.from_rows(
        [
            dict(planned_start=D - 9, planned_finish=D - 5, actual_finish=D - 4),
            dict(planned_start=D - 9, planned_finish=D - 2),
            dict(planned_start=D + 1, planned_finish=D + 9),
        ]
    )
    # 4 elements in task 0 (done), 4 in task 1 (due, not done), 2 in task 2 (not due).
    elements = np.arange(10)
    links = (elements, np.array([0] * 4 + [1] * 4 + [2] * 2))
    dates = element_dates(tasks, 10, links)
    assert schedule_performance_index(dates, D) == pytest.approx(4 / 8)
    weights = np.array([3.0] * 4 + [1.0] * 6)  # e.g. concrete volume
    assert schedule_performance_index(dates, D, weights) == pytest.approx(12 / 16)
    assert schedule_performance_index(dates, D - 20) is None


def test_day_numbers() -> None:
    assert day_number(dt.date(1970, 1, 1)) == 0
    assert day_number(dt.date(2024, 10, 4)) == D
    assert day_number(dt.datetime(2024, 10, 4, 23, 59)) == D
    assert math.isnan(day_number(None))


def test_status_of_many_elements_matches_one_by_one() -> None:
    rng = np.random.default_rng(7)
    n = 2_000
    rows = []
    for _ in range(200):
        start = D + int(rng.integers(-60, 60))
        row = dict(planned_start=start, planned_finish=start + int(rng.integers(0, 20)))
        if rng.random() < 0.6:
            row["actual_start"] = start + int(rng.integers(-5, 5))
            if rng.random() < 0.6:
                row["actual_finish"] = row["actual_start"] + int(rng.integers(0, 25))
        if rng.random() < 0.5:
            row["baseline_finish"] = row["planned_finish"] + int(rng.integers(-5, 5))
        rows.append(row)
    tasks = TaskDates.from_rows(rows)
    links = (np.arange(n), rng.integers(0, 200, n))
    dates = element_dates(tasks, n, links)
    together = element_status(dates, D)
    for i in range(0, n, 97):
        single = ElementDates(*(np.array([getattr(dates, f)[i]]) for f in ElementDates.__slots__))
        assert element_status(single, D)[0] == together[i]
        assert together[i] == task_status(tasks, D)[links[1][i]]


def test_spi_ignores_elements_in_no_task() -> None:
    tasks = one_task(planned_start=D - 9, planned_finish=D - 5, actual_finish=D - 4)
    installed = np.array([N, D - 3])  # element 1 is in no task but marked installed
    dates = element_dates(tasks, 2, (np.array([0]), np.array([0])), installed_day=installed)
    assert schedule_performance_index(dates, D) == 1.0
