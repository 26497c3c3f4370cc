"""Plain records of an imported schedule: what the rest of Erji Twin sees of a planner's file.

Every record is a frozen dataclass of plain values; no ifcopenshell, XML or CSV object
appears here. Dates are ``datetime.date`` (the time of day in the source is dropped);
durations, lags and floats are in working days (``_days``); percentages are 0–100.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["CalendarRecord", "ElementTaskRecord", "ScheduleRecord", "TaskLinkRecord", "TaskRecord"]


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """One task (activity, WBS summary or milestone).

    ``key`` is the task's stable id in the source: MS Project UID, P6 ``task_id`` (P6 WBS
    nodes: ``"wbs:<wbs_id>"``), IFC GlobalId, or the CSV ``id``. It stays the same when the
    planner re-exports the schedule, so links and progress can refer to it across versions.
    ``parent_key`` is the key of the enclosing summary task (``None`` at the top level).
    ``duration_days`` and ``total_float_days`` are in working days.
    """

    key: str
    wbs_code: str | None
    name: str
    parent_key: str | None
    is_milestone: bool
    is_summary: bool
    planned_start: dt.date | None
    planned_finish: dt.date | None
    baseline_start: dt.date | None
    baseline_finish: dt.date | None
    actual_start: dt.date | None
    actual_finish: dt.date | None
    duration_days: float | None
    percent_complete: float | None
    is_critical: bool
    total_float_days: float | None
    calendar_key: str | None


@dataclass(frozen=True, slots=True)
class TaskLinkRecord:
    """A dependency: ``kind`` is ``"FS"``, ``"SS"``, ``"FF"`` or ``"SF"`` (predecessor's
    Finish/Start to successor's Start/Finish); ``lag_days`` may be negative (a lead)."""

    predecessor_key: str
    successor_key: str
    kind: str
    lag_days: float


@dataclass(frozen=True, slots=True)
class CalendarRecord:
    """A work calendar: ISO weekdays worked (1 = Monday … 7 = Sunday) and the non-working
    days that fall outside that weekly pattern (holidays, sorted, each day once)."""

    key: str
    name: str
    working_weekdays: tuple[int, ...]
    holidays: tuple[dt.date, ...]


@dataclass(frozen=True, slots=True)
class ElementTaskRecord:
    """An IFC element linked to a task.

    ``role`` is ``"OUTPUT"`` when the task builds the element (IfcRelAssignsToProduct, and
    every row of an element–task table) and ``"INPUT"`` when the element is consumed or
    worked on by the task (IfcRelAssignsToProcess). ``task_key`` is ``None`` when a table
    names the task only by ``task_name``.
    """

    global_id: str
    task_key: str | None
    task_name: str | None
    role: str


@dataclass(frozen=True, slots=True)
class ScheduleRecord:
    """One imported schedule.

    ``tasks`` lists parents before their children and keeps the source order otherwise.
    ``warnings`` are one-line notes a planner should read (things skipped or assumed);
    errors never appear here: they raise ``ScheduleError``.
    """

    source_format: str  # "mspdi" | "xer" | "ifc" | "csv"
    name: str
    data_date: dt.date | None
    tasks: tuple[TaskRecord, ...]
    links: tuple[TaskLinkRecord, ...]
    calendars: tuple[CalendarRecord, ...]
    element_links: tuple[ElementTaskRecord, ...]
    warnings: tuple[str, ...]
