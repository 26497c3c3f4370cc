"""The 4D status rules: where each element and task stands on a given day.

Pure: no I/O and no clock; the day is always an argument. The same rules run in the
browser (``viewer/js/src/status.js``) while the user scrubs the timeline, and a golden
table generated from this module (``tests/golden/fourd_status.json``) holds both to the
same answers.

Days are **day numbers**: whole days since 1970-01-01 (``date.toordinal() - 719163``), so
a date is one integer in Python, JavaScript and the binary 4D payload. Arrays hold them as
float64 with ``NaN`` for "no date": every comparison with ``NaN`` is false, in numpy and in
JavaScript alike, which is exactly the rule wanted for a missing date (a missing finish is
never reached, a missing baseline never makes anything late).

Rules, for an element on day ``d`` (a date is reached at the end of that day):

* ``no_task``      it is linked to no task;
* ``done``         its actual finish ≤ d (and it was due by then: see ``ahead``);
* ``late``         not done, and its baseline finish < d: it should have been done by now;
* ``in_progress``  its actual start ≤ d, not done, not late;
* ``ahead``        done before its baseline finish (d < baseline finish), or started before
                   its planned start (d < planned start);
* ``not_started``  everything else.

The baseline falls back to the plan where a task has no baseline (see ``element_dates``).
A task's ``delay_days`` on day d is ``max(0, forecast_or_actual_finish − baseline_finish)``
where the forecast of an unfinished task is its planned finish, or d once d has passed it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

__all__ = [
    "DEFAULT_RULES",
    "EPOCH_ORDINAL",
    "ElementDates",
    "Light",
    "Status",
    "TaskDates",
    "WarningRules",
    "day_number",
    "element_dates",
    "element_status",
    "schedule_performance_index",
    "task_delay_days",
    "task_lights",
    "task_status",
]

#: ``date.toordinal()`` of 1970-01-01: day numbers are ordinals minus this.
EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


class Status(IntEnum):
    """Element and task status codes (the values travel to the browser as bytes)."""

    NO_TASK = 0
    NOT_STARTED = 1
    IN_PROGRESS = 2
    DONE = 3
    LATE = 4
    AHEAD = 5


class Light(IntEnum):
    GREEN = 0
    YELLOW = 1
    RED = 2


def day_number(value: dt.date | None) -> float:
    """Day number of a date (``NaN`` for ``None``). ``day_number(date(1970, 1, 2)) == 1``."""
    if value is None:
        return float("nan")
    if isinstance(value, dt.datetime):
        value = value.date()
    return float(value.toordinal() - EPOCH_ORDINAL)


@dataclass(frozen=True, slots=True)
class TaskDates:
    """Dates of n tasks as day-number arrays (float64, ``NaN`` = none), plus flags.

    ``baseline_*`` are the dates of the baseline version; where a task has none, its
    plan stands in (``with_plan_as_baseline``).
    """

    planned_start: np.ndarray
    planned_finish: np.ndarray
    baseline_start: np.ndarray
    baseline_finish: np.ndarray
    actual_start: np.ndarray
    actual_finish: np.ndarray
    is_critical: np.ndarray  # bool
    is_milestone: np.ndarray  # bool
    total_float_days: np.ndarray  # float64, NaN = unknown

    @classmethod
    def from_rows(cls, rows: Sequence[dict]) -> TaskDates:
        """From dicts with the field names as keys (dates as ``date``/``None`` or day numbers)."""

        def column(name: str) -> np.ndarray:
            return np.array(
                [day_number(r.get(name)) if not _is_number(r.get(name)) else r[name] for r in rows],
                dtype=np.float64,
            )

        return cls(
            planned_start=column("planned_start"),
            planned_finish=column("planned_finish"),
            baseline_start=column("baseline_start"),
            baseline_finish=column("baseline_finish"),
            actual_start=column("actual_start"),
            actual_finish=column("actual_finish"),
            is_critical=np.array([bool(r.get("is_critical")) for r in rows], dtype=bool),
            is_milestone=np.array([bool(r.get("is_milestone")) for r in rows], dtype=bool),
            total_float_days=np.array(
                [np.nan if r.get("total_float_days") is None else r["total_float_days"] for r in rows],
                dtype=np.float64,
            ),
        ).with_plan_as_baseline()

    def with_plan_as_baseline(self) -> TaskDates:
        """Where a task has no baseline date, its planned date stands in."""
        start = np.where(np.isnan(self.baseline_start), self.planned_start, self.baseline_start)
        finish = np.where(np.isnan(self.baseline_finish), self.planned_finish, self.baseline_finish)
        return TaskDates(
            self.planned_start,
            self.planned_finish,
            start,
            finish,
            self.actual_start,
            self.actual_finish,
            self.is_critical,
            self.is_milestone,
            self.total_float_days,
        )

    def __len__(self) -> int:
        return len(self.planned_start)


@dataclass(frozen=True, slots=True)
class ElementDates:
    """Per element (in GLB order): the dates its status needs, and its main task.

    ``task_index`` is -1 for an element in no task. This is what the binary 4D payload
    carries to the browser.
    """

    planned_start: np.ndarray
    planned_finish: np.ndarray
    baseline_finish: np.ndarray
    actual_start: np.ndarray
    actual_finish: np.ndarray
    task_index: np.ndarray  # int32

    def __len__(self) -> int:
        return len(self.task_index)


def element_dates(
    tasks: TaskDates,
    element_count: int,
    links: tuple[np.ndarray, np.ndarray],
    *,
    installed_day: np.ndarray | None = None,
) -> ElementDates:
    """Dates of ``element_count`` elements from ``links`` = (element indices, task indices).

    An element in several tasks is finished when the last of them is: it takes the
    earliest start and the latest finish of its tasks, an actual finish only once every
    one of its tasks has one, and the task that starts first (per plan) as its main task.
    ``installed_day`` (per element, ``NaN`` = not marked) is an element-level actual
    finish from an "installed" mark; it wins over the tasks' actual finish.
    """
    element_index, task_index = (np.asarray(a, dtype=np.int64) for a in links)
    n = element_count
    planned_start = np.full(n, np.nan)
    planned_finish = np.full(n, np.nan)
    baseline_finish = np.full(n, np.nan)
    actual_start = np.full(n, np.nan)
    actual_finish = np.full(n, np.nan)
    main_task = np.full(n, -1, dtype=np.int32)
    if len(element_index):
        # Sort links so each element's tasks come in planned-start order (NaN last): the
        # first link of an element is then its main task.
        order = np.lexsort((task_index, _nan_last(tasks.planned_start[task_index]), element_index))
        element_index, task_index = element_index[order], task_index[order]
        first = np.ones(len(element_index), dtype=bool)
        first[1:] = element_index[1:] != element_index[:-1]
        main_task[element_index[first]] = task_index[first]
        _reduce(np.fmin, planned_start, element_index, tasks.planned_start[task_index])
        _reduce(np.fmax, planned_finish, element_index, tasks.planned_finish[task_index])
        _reduce(np.fmax, baseline_finish, element_index, tasks.baseline_finish[task_index])
        _reduce(np.fmin, actual_start, element_index, tasks.actual_start[task_index])
        _reduce(np.fmax, actual_finish, element_index, tasks.actual_finish[task_index])
        # fmax ignores NaN; an element is finished only when *all* its tasks are.
        unfinished = np.zeros(n, dtype=bool)
        np.logical_or.at(unfinished, element_index, np.isnan(tasks.actual_finish[task_index]))
        actual_finish[unfinished] = np.nan
    if installed_day is not None:
        marked = ~np.isnan(installed_day)
        actual_finish = np.where(marked, installed_day, actual_finish)
        actual_start = np.where(marked, np.fmin(actual_start, installed_day), actual_start)
    return ElementDates(
        planned_start, planned_finish, baseline_finish, actual_start, actual_finish, main_task
    )


def element_status(dates: ElementDates, day: float) -> np.ndarray:
    """Status code (``Status``, uint8) of every element on day number ``day``."""
    return _status(
        dates.planned_start,
        dates.baseline_finish,
        dates.actual_start,
        dates.actual_finish,
        day,
        linked=dates.task_index >= 0,
    )


def task_status(tasks: TaskDates, day: float) -> np.ndarray:
    """Status code of every task on ``day`` (the element rules, applied to the task's dates)."""
    return _status(
        tasks.planned_start,
        tasks.baseline_finish,
        tasks.actual_start,
        tasks.actual_finish,
        day,
        linked=np.ones(len(tasks), dtype=bool),
    )


def task_delay_days(tasks: TaskDates, day: float) -> np.ndarray:
    """``max(0, forecast_or_actual_finish − baseline_finish)`` per task on ``day``, in days.

    Finished by ``day``: the actual finish. Otherwise the forecast is the planned finish,
    and never earlier than ``day`` itself (an unfinished task cannot finish in the past).
    No baseline (nor plan): 0.
    """
    finished = tasks.actual_finish <= day
    forecast = np.where(finished, tasks.actual_finish, np.fmax(tasks.planned_finish, day))
    delay = forecast - tasks.baseline_finish
    return np.where(np.isnan(delay), 0.0, np.maximum(delay, 0.0))


@dataclass(frozen=True, slots=True)
class WarningRules:
    """Thresholds of the schedule light per task (days of delay); every one configurable.

    Defaults from the domain rules: RED when the delay exceeds 5 days; YELLOW for a delay
    of at least 1 day on a critical task, or beyond the task's total float. Milestones are
    stricter: RED beyond 2 days.
    """

    red_over_days: float = 5.0
    yellow_from_days: float = 1.0
    milestone_red_over_days: float = 2.0


DEFAULT_RULES = WarningRules()


def task_lights(tasks: TaskDates, delay_days: np.ndarray, rules: WarningRules = DEFAULT_RULES) -> np.ndarray:
    """``Light`` (uint8) per task from its delay."""
    red_limit = np.where(tasks.is_milestone, rules.milestone_red_over_days, rules.red_over_days)
    beyond_float = delay_days > tasks.total_float_days  # False where the float is unknown
    yellow = (delay_days >= rules.yellow_from_days) & (tasks.is_critical | tasks.is_milestone | beyond_float)
    lights = np.full(len(delay_days), Light.GREEN, dtype=np.uint8)
    lights[yellow] = Light.YELLOW
    lights[delay_days > red_limit] = Light.RED
    return lights


def schedule_performance_index(
    dates: ElementDates, day: float, weights: np.ndarray | None = None
) -> float | None:
    """SPI = earned value / planned value on ``day``, element-weighted.

    Planned value: the weight of linked elements whose baseline finish ≤ day; earned
    value: of linked elements actually finished by then. ``weights`` (e.g. quantities) default to 1 each.
    ``None`` while nothing was planned to be finished.
    """
    w = np.ones(len(dates)) if weights is None else np.asarray(weights, dtype=np.float64)
    # Only scheduled elements count: an installed element in no task was never planned
    # and would push SPI up (even above 1) without any planned value behind it.
    linked = dates.task_index >= 0
    planned = float(w[linked & (dates.baseline_finish <= day)].sum())
    earned = float(w[linked & (dates.actual_finish <= day)].sum())
    return None if planned == 0 else earned / planned


def _status(planned_start, baseline_finish, actual_start, actual_finish, day: float, *, linked) -> np.ndarray:
    done = actual_finish <= day
    started = (actual_start <= day) | done
    late = ~done & (baseline_finish < day)
    status = np.full(len(linked), Status.NOT_STARTED, dtype=np.uint8)
    status[started] = Status.IN_PROGRESS
    status[started & ~done & (day < planned_start)] = Status.AHEAD
    status[late] = Status.LATE
    status[done] = Status.DONE
    status[done & (day < baseline_finish)] = Status.AHEAD
    status[~linked] = Status.NO_TASK
    return status


def _reduce(ufunc, target: np.ndarray, index: np.ndarray, values: np.ndarray) -> None:
    ufunc.at(target, index, values)


def _nan_last(values: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(values), np.inf, values)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
