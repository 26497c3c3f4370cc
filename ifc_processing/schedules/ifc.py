"""IFC work schedules (IFC4, IFC4X3; IFC2X3 through its own entities).

The schedule is an IfcWorkSchedule; its root tasks are assigned to it by
IfcRelAssignsToControl and their subtasks nested by IfcRelNests (IFC2X3:
IfcRelAssignsTasks, which may assign subtasks too). ``schedule`` picks a work schedule by
Name; by default the first (in file order) that has tasks and is not a BASELINE, else the
first with tasks.

Task fields: GlobalId → key, Identification (IFC2X3: TaskId) → wbs_code, a task with
nested tasks is a summary. From IfcTaskTime (IFC2X3: the IfcScheduleTimeControl of the
assignment): ScheduleStart/ScheduleFinish → planned (EarlyStart/EarlyFinish when those are
empty, as some exporters write only them), ActualStart/ActualFinish, Completion (a ratio,
0–1) → percent, IsCritical, TotalFloat and ScheduleDuration → days. The calendar is the
IfcWorkCalendar assigned to the task or to its nearest ancestor.

IFC durations carry no hours-per-day setting, and exporters disagree on what a day is:
Bonsai writes working days (``P5D``), others clock time with 24-hour days
(``P0Y0M1DT16H0M0S`` for five 8-hour days). So a duration with only date parts counts its
days (and weeks of 7 days) as working days, and one with a time part is taken as clock time
and divided by 8 hours a day; IFC2X3 durations (seconds) are divided by 8 hours too.
Durations in years or months are left out with a warning.

Links: IfcRelSequence (START_START → SS, FINISH_FINISH → FF, START_FINISH → SF,
FINISH_START and anything else → FS), TimeLag as a duration (days, as above) or a ratio of
the predecessor's duration. Element links: IfcRelAssignsToProduct (task → product) with role
OUTPUT, IfcRelAssignsToProcess (products → task) with role INPUT.

Baseline: when the file has another work schedule of type BASELINE whose tasks share
Identifications with the chosen one's, its planned dates become their baseline dates.
Calendars: every IfcWorkCalendar of the file (weekly WorkingTimes, daily or one-off
ExceptionTimes as holidays). Data date: the latest StatusTime of the schedule's tasks.

Files are opened by ``ifc_processing.reader.open_model``, so a schedule gets the same
checks as a model (zip members, truncation, text encoding, supported schemas); its errors
come back as ``ScheduleError`` with the same reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import IfcProcessingError
from ..reader import open_model
from ._common import MONDAY_TO_FRIDAY, expand_days, make_calendar, parse_date, parse_iso_duration
from .errors import ScheduleError
from .records import CalendarRecord, ElementTaskRecord, ScheduleRecord, TaskLinkRecord, TaskRecord
from .validate import finish_schedule

__all__ = ["read_ifc"]

_HOURS_PER_DAY = 8.0
_SEQUENCE_KINDS = {"START_START": "SS", "START_FINISH": "SF", "FINISH_START": "FS", "FINISH_FINISH": "FF"}
_BASELINE = "BASELINE"


def read_ifc(path: Path, *, schedule: str | None = None) -> ScheduleRecord:
    """Read the work schedule of an ``.ifc`` or ``.ifczip`` file."""
    try:
        with open_model(path) as loaded:
            return _IfcSchedule(path, loaded.file, list(loaded.warnings)).read(schedule)
    except ScheduleError:
        raise
    except IfcProcessingError as exc:  # the model reader's errors: not IFC, truncated, schema, ...
        raise ScheduleError(path, exc.reason) from exc


class _IfcSchedule:
    def __init__(self, path: Path, model: Any, warnings: list[str]) -> None:
        self.path = path
        self.model = model
        self.is_ifc2x3 = model.schema == "IFC2X3"
        self.warnings = warnings
        self.time_of: dict[int, Any] = {}  # IFC2X3: task id → IfcScheduleTimeControl

    # ------------------------------------------------------------------ structure

    def kind(self, work_schedule: Any) -> str | None:
        return work_schedule.WorkControlType if self.is_ifc2x3 else work_schedule.PredefinedType

    def identification(self, task: Any) -> str | None:
        value = task.TaskId if self.is_ifc2x3 else task.Identification
        return value.strip() or None if value else None

    def children(self, task: Any) -> list[Any]:
        rels = task.IsDecomposedBy if self.is_ifc2x3 else task.IsNestedBy
        return [
            obj
            for rel in sorted(rels, key=lambda r: r.id())
            if rel.is_a("IfcRelNests")
            for obj in rel.RelatedObjects
            if obj.is_a("IfcTask")
        ]

    def tasks_of(self, work_schedule: Any) -> tuple[list[Any], dict[int, Any]]:
        """Every task of the schedule, parents first (assigned ones and all nested below
        them), and each task's parent task by entity id (``None`` for roots)."""
        assigned: list[Any] = []
        for rel in sorted(work_schedule.Controls, key=lambda r: r.id()):
            for obj in rel.RelatedObjects:
                if obj.is_a("IfcTask"):
                    assigned.append(obj)
                    if self.is_ifc2x3 and rel.is_a("IfcRelAssignsTasks") and rel.TimeForTask is not None:
                        self.time_of.setdefault(obj.id(), rel.TimeForTask)
        members: dict[int, Any] = {}
        pending = list(reversed(assigned))
        while pending:
            task = pending.pop()
            if task.id() not in members:
                members[task.id()] = task
                pending.extend(reversed(self.children(task)))
        child_ids = {c.id() for t in members.values() for c in self.children(t)}
        # Assigned tasks first, in assignment order, then any unassigned root reached by nesting.
        roots = {t.id(): t for t in assigned if t.id() not in child_ids}
        roots.update((i, t) for i, t in members.items() if i not in child_ids and i not in roots)
        ordered: list[Any] = []
        parent_of: dict[int, Any] = {}
        stack = [(root, None) for root in reversed(roots.values())]
        while stack:
            task, parent = stack.pop()
            if task.id() in parent_of:
                self.warnings.append(f"{self.where(task)} is nested in two tasks; kept under the first")
                continue
            parent_of[task.id()] = parent
            ordered.append(task)
            stack.extend((child, task) for child in reversed(self.children(task)))
        lost = [t for i, t in members.items() if i not in parent_of]
        if lost:
            names = ", ".join(self.where(t) for t in lost[:4])
            raise ScheduleError(self.path, f"parent cycle: tasks nested in each other: {names}")
        return ordered, parent_of

    # ------------------------------------------------------------------ values

    def where(self, task: Any) -> str:
        return f"task {task.GlobalId} ({task.Name!r})" if task.Name else f"task {task.GlobalId}"

    def date(self, value: Any, owner: str, attribute: str) -> dt.date | None:
        if value is None:
            return None
        try:
            if isinstance(value, str):
                return parse_date(value)
            # IFC2X3: IfcDateAndTime or IfcCalendarDate entities
            day = value.DateComponent if value.is_a("IfcDateAndTime") else value
            return dt.date(day.YearComponent, day.MonthComponent, day.DayComponent)
        except (ValueError, AttributeError, RuntimeError):
            raise ScheduleError(self.path, f"{owner}: {attribute} {value!r} is not a date") from None

    def days(self, value: Any, owner: str, attribute: str) -> float | None:
        if value is None:
            return None
        if isinstance(value, int | float):  # IFC2X3 IfcTimeMeasure: seconds
            return value / 3600 / _HOURS_PER_DAY
        try:
            duration = parse_iso_duration(value)
        except ValueError:
            raise ScheduleError(self.path, f"{owner}: {attribute} {value!r} is not a duration") from None
        if duration.years or duration.months:
            self.warnings.append(f"{owner}: {attribute} {value} in years or months is left out")
            return None
        if duration.has_time:
            return duration.elapsed_hours / _HOURS_PER_DAY
        return duration.sign * (duration.weeks * 7 + duration.days)

    def time(self, task: Any) -> Any:
        return self.time_of.get(task.id()) if self.is_ifc2x3 else task.TaskTime

    # ------------------------------------------------------------------ reading

    def read(self, wanted: str | None) -> ScheduleRecord:
        schedules = sorted(self.model.by_type("IfcWorkSchedule"), key=lambda s: s.id())
        if not schedules:
            raise ScheduleError(self.path, "no work schedule (IfcWorkSchedule) in the model")
        if wanted is not None:
            matching = [s for s in schedules if s.Name == wanted]
            if not matching:
                found = ", ".join(repr(s.Name or "") for s in schedules)
                raise ScheduleError(self.path, f"no work schedule named {wanted!r} (found: {found})")
            chosen = matching[0]
        else:
            with_tasks = [
                s for s in schedules if any(o.is_a("IfcTask") for r in s.Controls for o in r.RelatedObjects)
            ]
            planned = [s for s in with_tasks if self.kind(s) != _BASELINE]
            chosen = (planned or with_tasks or schedules)[0]
        tasks, parent_of = self.tasks_of(chosen)
        if not tasks:
            self.warnings.append("the work schedule holds no tasks")
        records = [self.task_record(t, parent_of) for t in tasks]
        records = self.with_baseline(chosen, schedules, records)
        durations = {r.key: r.duration_days for r in records}
        status_times = [
            d
            for t in tasks
            if (time := self.time(t)) is not None
            and (d := self.date(time.StatusTime, self.where(t), "StatusTime")) is not None
        ]
        identification = chosen.Identifier if self.is_ifc2x3 else chosen.Identification
        return finish_schedule(
            self.path,
            source_format="ifc",
            name=chosen.Name or identification or self.path.stem,
            data_date=max(status_times, default=None),
            tasks=records,
            links=self.links(tasks, durations),
            calendars=self.calendars(),
            element_links=self.element_links(tasks),
            warnings=self.warnings,
        )

    def task_record(self, task: Any, parent_of: dict[int, Any]) -> TaskRecord:
        where = self.where(task)
        time = self.time(task)

        def value(name: str) -> Any:
            return getattr(time, name, None) if time is not None else None

        completion = value("Completion")
        percent = None
        if completion is not None:
            percent = completion * 100
            if 1 < completion <= 100:  # a percentage written where IFC wants a ratio
                percent = completion
                self.warnings.append(f"{where}: Completion {completion:g} read as a percentage")
        parent = parent_of.get(task.id())
        return TaskRecord(
            key=task.GlobalId,
            wbs_code=self.identification(task),
            name=task.Name or "",
            parent_key=parent.GlobalId if parent is not None else None,
            is_milestone=bool(task.IsMilestone),
            is_summary=bool(self.children(task)),
            planned_start=self.date(value("ScheduleStart") or value("EarlyStart"), where, "ScheduleStart"),
            planned_finish=self.date(
                value("ScheduleFinish") or value("EarlyFinish"), where, "ScheduleFinish"
            ),
            baseline_start=None,
            baseline_finish=None,
            actual_start=self.date(value("ActualStart"), where, "ActualStart"),
            actual_finish=self.date(value("ActualFinish"), where, "ActualFinish"),
            duration_days=self.days(value("ScheduleDuration"), where, "ScheduleDuration"),
            percent_complete=percent,
            is_critical=bool(value("IsCritical")),
            total_float_days=self.days(value("TotalFloat"), where, "TotalFloat"),
            calendar_key=self.calendar_key(task, parent_of),
        )

    def calendar_key(self, task: Any, parent_of: dict[int, Any]) -> str | None:
        if self.is_ifc2x3:
            return None
        current = task
        while current is not None:
            for rel in sorted(current.HasAssignments, key=lambda r: r.id()):
                if rel.is_a("IfcRelAssignsToControl") and rel.RelatingControl.is_a("IfcWorkCalendar"):
                    return rel.RelatingControl.GlobalId
            current = parent_of.get(current.id())
        return None

    def with_baseline(self, chosen: Any, schedules: list[Any], records: list[TaskRecord]) -> list[TaskRecord]:
        codes = {r.wbs_code for r in records if r.wbs_code}
        for candidate in schedules:
            if candidate is chosen or self.kind(candidate) != _BASELINE:
                continue
            dates: dict[str, tuple[dt.date | None, dt.date | None]] = {}
            baseline_tasks, baseline_parents = self.tasks_of(candidate)
            for task in baseline_tasks:
                code = self.identification(task)
                if code is None or code in dates:
                    continue
                record = self.task_record(task, baseline_parents)
                dates[code] = (record.planned_start, record.planned_finish)
            if not codes & dates.keys():
                continue
            name = candidate.Name or candidate.GlobalId
            self.warnings.append(
                f"baseline dates from work schedule {name!r}, matched by task Identification"
            )
            return [
                replace(r, baseline_start=dates[r.wbs_code][0], baseline_finish=dates[r.wbs_code][1])
                if r.wbs_code in dates
                else r
                for r in records
            ]
        return records

    def links(self, tasks: list[Any], durations: dict[str, float | None]) -> list[TaskLinkRecord]:
        members = {t.id() for t in tasks}
        links = []
        outside = untyped = 0
        for task in tasks:
            for rel in sorted(task.IsPredecessorTo, key=lambda r: r.id()):
                successor = rel.RelatedProcess
                if successor.id() not in members:
                    outside += 1
                    continue
                kind = _SEQUENCE_KINDS.get(rel.SequenceType or "")
                if kind is None:
                    untyped += 1
                    kind = "FS"
                lag_days = self.lag_days(rel, task, durations)
                links.append(TaskLinkRecord(task.GlobalId, successor.GlobalId, kind, lag_days))
        if outside:
            self.warnings.append(f"{outside} links to tasks outside the work schedule skipped")
        if untyped:
            self.warnings.append(f"{untyped} links without a standard SequenceType taken as finish-start")
        return links

    def lag_days(self, rel: Any, predecessor: Any, durations: dict[str, float | None]) -> float:
        lag = rel.TimeLag
        if lag is None:
            return 0.0
        where = f"sequence {rel.GlobalId}"
        if self.is_ifc2x3:
            return self.days(float(lag), where, "TimeLag") or 0.0
        value = lag.LagValue
        if value is None:
            return 0.0
        if value.is_a("IfcRatioMeasure") or value.is_a("IfcPositiveRatioMeasure"):
            return float(value.wrappedValue) * (durations.get(predecessor.GlobalId) or 0.0)
        return self.days(value.wrappedValue, where, "LagValue") or 0.0

    def element_links(self, tasks: list[Any]) -> list[ElementTaskRecord]:
        records = []
        to_types = 0
        for task in tasks:
            for rel in sorted(task.HasAssignments, key=lambda r: r.id()):
                if not rel.is_a("IfcRelAssignsToProduct"):
                    continue
                if rel.RelatingProduct.is_a("IfcProduct"):
                    records.append(
                        ElementTaskRecord(rel.RelatingProduct.GlobalId, task.GlobalId, task.Name, "OUTPUT")
                    )
                else:  # IFC4 also allows an element type here; the twin links occurrences only
                    to_types += 1
            for rel in sorted(task.OperatesOn, key=lambda r: r.id()):
                for obj in rel.RelatedObjects:
                    if obj.is_a("IfcProduct"):
                        records.append(ElementTaskRecord(obj.GlobalId, task.GlobalId, task.Name, "INPUT"))
        if to_types:
            self.warnings.append(f"{to_types} task outputs that are element types, not elements, skipped")
        return records

    def calendars(self) -> list[CalendarRecord]:
        if self.is_ifc2x3:
            return []
        records = []
        for calendar in sorted(self.model.by_type("IfcWorkCalendar"), key=lambda c: c.id()):
            where = f"calendar {calendar.GlobalId} ({calendar.Name!r})"
            weekdays: set[int] = set()
            for work_time in calendar.WorkingTimes or ():
                pattern = work_time.RecurrencePattern
                if pattern is not None and pattern.RecurrenceType == "WEEKLY":
                    weekdays.update(pattern.WeekdayComponent or ())
                elif pattern is not None and pattern.RecurrenceType == "DAILY":
                    weekdays.update(range(1, 8))
            if not weekdays:
                self.warnings.append(f"{where}: no weekly working times; taken as Monday–Friday")
                weekdays.update(MONDAY_TO_FRIDAY)
            records.append(
                make_calendar(
                    calendar.GlobalId,
                    calendar.Name or calendar.Identification or "",
                    weekdays,
                    self.exception_days(calendar.ExceptionTimes or (), where),
                )
            )
        return records

    def exception_days(self, work_times: Iterable[Any], where: str) -> list[dt.date]:
        days: list[dt.date] = []
        for work_time in work_times:
            pattern = work_time.RecurrencePattern
            if pattern is not None and pattern.RecurrenceType != "DAILY":
                self.warnings.append(
                    f"{where}: {pattern.RecurrenceType.lower()} exception {work_time.Name or ''!r} skipped"
                )
                continue
            # IFC4 names the bounds Start/Finish, IFC4X3 StartDate/FinishDate
            start = self.date(
                getattr(work_time, "StartDate", None) or getattr(work_time, "Start", None), where, "Start"
            )
            finish = self.date(
                getattr(work_time, "FinishDate", None) or getattr(work_time, "Finish", None), where, "Finish"
            )
            if start is None:
                self.warnings.append(
                    f"{where}: exception {work_time.Name or ''!r} without a start date skipped"
                )
                continue
            try:
                days.extend(expand_days(start, finish or start))
            except ValueError as exc:
                self.warnings.append(f"{where}: exception skipped: {exc}")
        return days
