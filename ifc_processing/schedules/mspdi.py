"""MS Project XML (MSPDI, namespace ``http://schemas.microsoft.com/project``).

Mapping: ``UID`` → key (the project summary task, UID 0, is skipped, and so are null rows,
``IsNull`` = 1); ``WBS``, else ``OutlineNumber`` → wbs_code; the parent is the nearest
earlier task whose ``OutlineLevel`` is one less; ``Start``/``Finish`` → planned,
``Baseline`` number 0 → baseline, ``ActualStart``/``ActualFinish`` → actual;
``Duration`` (ISO 8601 work time, ``PT16H0M0S``) → days of the project's ``MinutesPerDay``
(default 480); ``TotalSlack`` (tenths of minutes) → days the same way; ``CalendarUID`` -1
(the project calendar) → ``None``. Task names are stripped of surrounding spaces, which MS
Project keeps but no planner means.

``PredecessorLink``: ``Type`` 0 = FF, 1 = FS, 2 = SF, 3 = SS; ``LinkLag`` is in tenths of
minutes of work time (days of ``MinutesPerDay``), of elapsed time (days of 24 h) when
``LagFormat`` is an elapsed unit, and a plain percentage of the predecessor's duration when
``LagFormat`` is % (as MPXJ reads it). Cross-project links are skipped with a warning.

Calendars: weekly pattern from ``WeekDays`` (``DayType`` 1 = Sunday … 7 = Saturday),
non-working exceptions from ``WeekDays`` of ``DayType`` 0 (MS Project 2003) and from
``Exceptions`` (2007 and later; recurring exceptions other than daily are skipped with a
warning); a derived calendar inherits what it does not override from its base calendar.
Data date: ``StatusDate``, else ``CurrentDate``.

The standard library parser is used: expat ≥ 2.4.1 (Python ≥ 3.11 ships 2.5) refuses the
"billion laughs" expansion and ElementTree never fetches external entities, so defusedxml
adds nothing but a dependency; files declaring entities are refused outright anyway, as no
MS Project export has a DTD.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from ._common import expand_days, make_calendar, parse_date, parse_iso_duration
from .errors import ScheduleError
from .records import CalendarRecord, ScheduleRecord, TaskLinkRecord, TaskRecord
from .validate import finish_schedule

__all__ = ["MSPDI_NAMESPACE", "read_mspdi"]

MSPDI_NAMESPACE = "http://schemas.microsoft.com/project"
_DEFAULT_MINUTES_PER_DAY = 480
_LINK_KINDS = {"0": "FF", "1": "FS", "2": "SF", "3": "SS"}
# LagFormat codes (MSPDI schema): 3 m, 4 em, 5 h, 6 eh, 7 d, 8 ed, 9 w, 10 ew, 11 mo, 12 emo,
# 19 %, 20 e%; +32 marks the same unit as estimated ("?").
_ELAPSED_LAG_FORMATS = {4, 6, 8, 10, 12, 20, 36, 38, 40, 42, 44, 52}
_PERCENT_LAG_FORMATS = {19, 20, 51, 52}
_DAILY_EXCEPTION = "1"


def read_mspdi(path: Path, data: bytes, *, schedule: str | None = None) -> ScheduleRecord:
    """Read an MSPDI file's bytes. ``schedule`` does not apply (one project per file)."""
    if b"<!ENTITY" in data:
        raise ScheduleError(path, "XML entity declarations are not allowed in a schedule file")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ScheduleError(path, f"not well-formed XML: {exc}") from exc
    namespace, _, local = root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", root.tag)
    if local != "Project" or namespace not in ("", MSPDI_NAMESPACE):
        raise ScheduleError(path, f"not an MS Project XML file: the root element is <{local}>")
    reader = _Reader(path, root, f"{{{namespace}}}" if namespace else "")
    warnings = (
        [] if schedule is None else [f"schedule {schedule!r} ignored: an MS Project file holds one project"]
    )
    tasks, links, task_warnings = reader.tasks()
    calendars, calendar_warnings = reader.calendars()
    if not tasks:
        warnings.append("the file holds no tasks")
    return finish_schedule(
        path,
        source_format="mspdi",
        name=reader.text(root, "Name") or reader.text(root, "Title") or path.stem,
        data_date=reader.date(root, "StatusDate", "project") or reader.date(root, "CurrentDate", "project"),
        tasks=tasks,
        links=links,
        calendars=calendars,
        warnings=[*warnings, *task_warnings, *calendar_warnings],
        task_label="task UID",
    )


@dataclass(slots=True)
class _RawLink:
    predecessor: str
    successor: str
    kind: str
    lag_tenths_min: float
    lag_format: int


@dataclass(slots=True)
class _RawCalendar:
    name: str
    base: str | None
    weekdays: dict[int, bool] = field(default_factory=dict)
    off: set[dt.date] = field(default_factory=set)
    on: set[dt.date] = field(default_factory=set)


class _Reader:
    def __init__(self, path: Path, root: ET.Element, q: str) -> None:
        self.path, self.root, self.q = path, root, q
        minutes = self.number(root, "MinutesPerDay", "project")
        self.minutes_per_day = minutes if minutes else _DEFAULT_MINUTES_PER_DAY

    # ------------------------------------------------------------------ values

    def text(self, element: ET.Element, name: str) -> str | None:
        value = element.findtext(self.q + name)
        return value.strip() or None if value is not None else None

    def date(self, element: ET.Element, name: str, where: str) -> dt.date | None:
        value = self.text(element, name)
        if value is None:
            return None
        try:
            return parse_date(value)
        except ValueError:
            raise ScheduleError(self.path, f"{where}: {name} {value!r} is not a date") from None

    def number(self, element: ET.Element, name: str, where: str) -> float | None:
        value = self.text(element, name)
        if value is None:
            return None
        try:
            return float(value)
        except ValueError:
            raise ScheduleError(self.path, f"{where}: {name} {value!r} is not a number") from None

    def flag(self, element: ET.Element, name: str) -> bool:
        return (self.text(element, name) or "0").lower() in ("1", "true")

    def days(self, element: ET.Element, name: str, where: str) -> float | None:
        value = self.text(element, name)
        if value is None:
            return None
        try:
            return parse_iso_duration(value).elapsed_hours * 60 / self.minutes_per_day
        except ValueError:
            raise ScheduleError(self.path, f"{where}: {name} {value!r} is not an ISO 8601 duration") from None

    # ------------------------------------------------------------------ tasks

    def tasks(self) -> tuple[list[TaskRecord], list[TaskLinkRecord], list[str]]:
        q = self.q
        tasks: list[TaskRecord] = []
        raw_links: list[_RawLink] = []
        warnings: list[str] = []
        last_at_level: dict[int, str] = {}
        for position, element in enumerate(self.root.iterfind(f"{q}Tasks/{q}Task"), start=1):
            uid = self.text(element, "UID")
            if uid is None:
                raise ScheduleError(self.path, f"task #{position} (ID {self.text(element, 'ID')}) has no UID")
            where = f"task UID {uid}"
            if uid == "0" or self.flag(element, "IsNull"):
                continue  # the project summary task, and blank rows of the Gantt table
            level_number = self.number(element, "OutlineLevel", where)
            level = int(level_number) if level_number is not None else 1
            parent = last_at_level.get(level - 1) if level > 1 else None
            if level > 1 and parent is None:
                warnings.append(f"{where}: outline level {level} follows no task of level {level - 1}")
            last_at_level[level] = uid
            for deeper in [k for k in last_at_level if k > level]:
                del last_at_level[deeper]
            baseline_start = baseline_finish = None
            for baseline in element.iterfind(q + "Baseline"):
                if self.text(baseline, "Number") == "0":
                    baseline_start = self.date(baseline, "Start", f"{where} baseline 0")
                    baseline_finish = self.date(baseline, "Finish", f"{where} baseline 0")
            slack = self.number(element, "TotalSlack", where)
            calendar = self.text(element, "CalendarUID")
            tasks.append(
                TaskRecord(
                    key=uid,
                    wbs_code=self.text(element, "WBS") or self.text(element, "OutlineNumber"),
                    name=self.text(element, "Name") or "",
                    parent_key=parent,
                    is_milestone=self.flag(element, "Milestone"),
                    is_summary=self.flag(element, "Summary"),
                    planned_start=self.date(element, "Start", where),
                    planned_finish=self.date(element, "Finish", where),
                    baseline_start=baseline_start,
                    baseline_finish=baseline_finish,
                    actual_start=self.date(element, "ActualStart", where),
                    actual_finish=self.date(element, "ActualFinish", where),
                    duration_days=self.days(element, "Duration", where),
                    percent_complete=self.number(element, "PercentComplete", where),
                    is_critical=self.flag(element, "Critical"),
                    total_float_days=None if slack is None else slack / 10 / self.minutes_per_day,
                    calendar_key=None if calendar in (None, "-1") else calendar,
                )
            )
            raw_links.extend(self._links(element, uid, where, warnings))
        durations = {t.key: t.duration_days for t in tasks}
        links = [self._link(raw, durations, warnings) for raw in raw_links]
        return tasks, links, warnings

    def _links(self, element: ET.Element, uid: str, where: str, warnings: list[str]) -> list[_RawLink]:
        links = []
        for link in element.iterfind(self.q + "PredecessorLink"):
            predecessor = self.text(link, "PredecessorUID")
            if predecessor is None:
                raise ScheduleError(self.path, f"{where}: a PredecessorLink has no PredecessorUID")
            if self.flag(link, "CrossProject"):
                warnings.append(
                    f"{where}: link from {self.text(link, 'CrossProjectName') or 'another project'} skipped"
                )
                continue
            kind = _LINK_KINDS.get(self.text(link, "Type") or "1")
            if kind is None:
                raise ScheduleError(
                    self.path,
                    f"{where}: PredecessorLink from UID {predecessor} has Type "
                    f"{self.text(link, 'Type')!r}, not 0–3",
                )
            lag = self.number(link, "LinkLag", where) or 0.0
            lag_format = self.number(link, "LagFormat", where)
            links.append(_RawLink(predecessor, uid, kind, lag, int(lag_format) if lag_format else 7))
        return links

    def _link(self, raw: _RawLink, durations: dict[str, float | None], warnings: list[str]) -> TaskLinkRecord:
        if raw.lag_tenths_min == 0:
            lag_days = 0.0
        elif raw.lag_format in _PERCENT_LAG_FORMATS:
            # LinkLag holds the percentage itself here, not tenths of minutes.
            predecessor_days = durations.get(raw.predecessor)
            if predecessor_days is None:
                warnings.append(
                    f"link {raw.predecessor} → {raw.successor}: lag of {raw.lag_tenths_min:g}% of a task "
                    "without duration taken as 0 days"
                )
                predecessor_days = 0.0
            lag_days = raw.lag_tenths_min / 100 * predecessor_days
        elif raw.lag_format in _ELAPSED_LAG_FORMATS:
            lag_days = raw.lag_tenths_min / 10 / (24 * 60)
        else:
            lag_days = raw.lag_tenths_min / 10 / self.minutes_per_day
        return TaskLinkRecord(raw.predecessor, raw.successor, raw.kind, lag_days)

    # ------------------------------------------------------------------ calendars

    def calendars(self) -> tuple[list[CalendarRecord], list[str]]:
        q = self.q
        raw: dict[str, _RawCalendar] = {}
        warnings: list[str] = []
        for element in self.root.iterfind(f"{q}Calendars/{q}Calendar"):
            uid = self.text(element, "UID")
            if uid is None:
                raise ScheduleError(self.path, f"calendar {self.text(element, 'Name')!r} has no UID")
            base = self.text(element, "BaseCalendarUID")
            calendar = _RawCalendar(self.text(element, "Name") or "", None if base in (None, "-1") else base)
            where = f"calendar UID {uid}"
            for day in element.iterfind(f"{q}WeekDays/{q}WeekDay"):
                day_type = self.text(day, "DayType")
                working = self.flag(day, "DayWorking")
                if day_type == "0":
                    self._exception(day, working, calendar, where, warnings)
                elif day_type in ("1", "2", "3", "4", "5", "6", "7"):
                    sunday_first = int(day_type)
                    calendar.weekdays[7 if sunday_first == 1 else sunday_first - 1] = working
            for exception in element.iterfind(f"{q}Exceptions/{q}Exception"):
                kind = self.text(exception, "Type")
                if kind not in (None, _DAILY_EXCEPTION):
                    warnings.append(
                        f"{where}: recurring exception {self.text(exception, 'Name') or ''!r} skipped"
                    )
                    continue
                self._exception(exception, self.flag(exception, "DayWorking"), calendar, where, warnings)
            if element.find(f"{q}WorkWeeks/{q}WorkWeek") is not None:
                warnings.append(f"{where}: alternative work weeks ignored; the default week is used")
            raw[uid] = calendar
        return [self._resolve(uid, raw, warnings) for uid in raw], warnings

    def _exception(
        self, element: ET.Element, working: bool, calendar: _RawCalendar, where: str, warnings: list[str]
    ) -> None:
        period = element.find(self.q + "TimePeriod")
        if period is None:
            return
        first = self.date(period, "FromDate", where)
        last = self.date(period, "ToDate", where)
        if first is None or last is None:
            return
        try:
            days = expand_days(first, last)
        except ValueError as exc:
            warnings.append(f"{where}: exception skipped: {exc}")
            return
        (calendar.on if working else calendar.off).update(days)

    def _resolve(self, uid: str, raw: dict[str, _RawCalendar], warnings: list[str]) -> CalendarRecord:
        # Walk up to the base calendar, then apply overrides from the base down.
        chain = [uid]
        while (base := raw[chain[-1]].base) is not None:
            if base not in raw or base in chain:
                warnings.append(f"calendar UID {chain[-1]}: base calendar {base} is missing or circular")
                break
            chain.append(base)
        weekdays = {1: True, 2: True, 3: True, 4: True, 5: True, 6: False, 7: False}
        off: set[dt.date] = set()
        on: set[dt.date] = set()
        for key in reversed(chain):
            calendar = raw[key]
            weekdays.update(calendar.weekdays)
            off = (off - calendar.on) | calendar.off
            on = (on - calendar.off) | calendar.on
        working = [day for day, works in weekdays.items() if works]
        extra_working = sorted(d for d in on if d.isoweekday() not in working)
        if extra_working:
            warnings.append(
                f"calendar UID {uid}: {len(extra_working)} worked days outside the weekly pattern "
                f"(first {extra_working[0]}) cannot be represented and are ignored"
            )
        return make_calendar(uid, raw[uid].name, working, off)
