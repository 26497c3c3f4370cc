"""Schedules as the services hand them to the API: versions, tasks with effective dates,
link rules and the coverage report (plain values, never ORM rows)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Coverage", "LinkDiff", "LinkRule", "ScheduleInfo", "ScheduleVersionInfo", "TaskInfo"]


@dataclass(frozen=True, slots=True)
class ScheduleVersionInfo:
    id: int
    schedule_id: int
    number: int
    source_format: str
    file_name: str
    data_date: dt.date | None
    task_count: int
    link_count: int
    element_link_count: int
    warnings: list[str]
    imported_at: dt.datetime
    calendars: list[dict[str, Any]] = field(default_factory=list)  # key, name, working_weekdays, holidays


@dataclass(frozen=True, slots=True)
class ScheduleInfo:
    id: int
    project_id: int
    name: str
    latest_version: int | None
    baseline_version: int | None
    baseline_pinned: bool


@dataclass(frozen=True, slots=True)
class TaskInfo:
    """A task with its *effective* dates: baseline from the baseline version (else the
    file's own baseline), actuals and % complete from progress reported on the twin
    (else the file's)."""

    index: int  # position in the version; the task index of the 4D payload
    key: str
    wbs_code: str | None
    name: str
    parent_key: str | None
    is_milestone: bool
    is_summary: bool
    is_critical: bool
    planned_start: dt.date | None
    planned_finish: dt.date | None
    baseline_start: dt.date | None
    baseline_finish: dt.date | None
    actual_start: dt.date | None
    actual_finish: dt.date | None
    duration_days: float | None
    percent_complete: float | None
    total_float_days: float | None
    reported: bool = False  # progress was reported on the twin (not only in the file)
    element_count: int | None = None
    status: str | None = None
    delay_days: float | None = None
    light: str | None = None


@dataclass(frozen=True, slots=True)
class LinkRule:
    id: int
    task_key: str
    filter: dict[str, Any]


@dataclass(slots=True)
class Coverage:
    """How a schedule covers a revision's elements."""

    elements: int
    linked_elements: int
    elements_without_task_count: int = 0
    elements_in_several_tasks_count: int = 0
    elements_without_task: list[str] = field(default_factory=list)  # the first 1,000
    tasks_without_element: list[str] = field(default_factory=list)  # leaf task keys
    elements_in_several_tasks: dict[str, list[str]] = field(default_factory=dict)


@dataclass(slots=True)
class LinkDiff:
    """Element–task links of ``target`` revision compared with ``base`` (GlobalId → task keys)."""

    base_id: int
    target_id: int
    added: dict[str, list[str]] = field(default_factory=dict)
    removed: dict[str, list[str]] = field(default_factory=dict)
