"""Schedules as CSV, for planners whose tool exports nothing better (or who type them in).

One row per task, UTF-8 (with or without BOM), comma-separated (semicolons when the header
has no comma), header names case-insensitive and in any order. Columns:

============== ========= =================================================================
column         required  meaning
============== ========= =================================================================
id             yes       the task's stable key; unique
name           yes       task name
wbs                      WBS code, e.g. ``1.2.3``
parent_id                ``id`` of the enclosing summary task (a task with children is a summary)
milestone                ``1``/``0``, ``true``/``false``, ``yes``/``no``, ``y``/``n``, ``x``/empty
planned_start            dates: ``YYYY-MM-DD`` (a time after it is ignored) or ``D-M-YYYY``
planned_finish
baseline_start
baseline_finish
actual_start
actual_finish
duration_days            working days (decimal point ``.``)
percent_complete         0–100, a trailing ``%`` allowed
critical                 like ``milestone``
total_float_days         working days, may be negative
predecessors             ``;``-separated ``<id><type><lag>``: ``3FS+2;5SS;7`` = finish-start
                         from 3 with 2 days lag, start-start from 5, finish-start from 7;
                         type FS (default), SS, FF or SF; lag in days, ``+``/``-``
============== ========= =================================================================

Other columns are ignored with a warning. An empty cell means "not given". A value that
cannot be read raises ``ScheduleError`` naming the line and column.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from pathlib import Path

from ._common import csv_rows, parse_date
from .errors import ScheduleError
from .records import ScheduleRecord, TaskLinkRecord, TaskRecord
from .validate import finish_schedule

__all__ = ["CSV_COLUMNS", "parse_table_date", "read_csv_schedule"]

CSV_COLUMNS = (
    "id",
    "wbs",
    "name",
    "parent_id",
    "milestone",
    "planned_start",
    "planned_finish",
    "baseline_start",
    "baseline_finish",
    "actual_start",
    "actual_finish",
    "duration_days",
    "percent_complete",
    "critical",
    "total_float_days",
    "predecessors",
)
_REQUIRED = ("id", "name")
_TRUE = {"1", "true", "yes", "y", "x"}
_FALSE = {"", "0", "false", "no", "n"}
_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$")
_PREDECESSOR = re.compile(
    r"^(?P<id>.+?)(?P<kind>FS|SS|FF|SF)?(?:(?P<lag>[+-]\s*\d+(?:\.\d+)?)\s*(?:d|days?)?)?$", re.IGNORECASE
)


def parse_table_date(text: str) -> dt.date:
    """``YYYY-MM-DD`` (optionally with a time) or ``D-M-YYYY`` (as in Dutch exports); ``ValueError`` else."""
    match = _DAY_MONTH_YEAR.match(text.strip())
    if match:
        day, month, year = (int(g) for g in match.groups())
        return dt.date(year, month, day)
    return parse_date(text)


def read_csv_schedule(path: Path, data: bytes, *, schedule: str | None = None) -> ScheduleRecord:
    """Read a CSV schedule's bytes; see the module docstring for the columns."""
    header, rows = csv_rows(path, data)
    missing = [c for c in _REQUIRED if c not in header]
    if missing:
        found = ", ".join(h for h in header if h) or "none"
        raise ScheduleError(path, f"line 1: missing column {missing[0]!r} (columns found: {found})")
    warnings = [] if schedule is None else [f"schedule {schedule!r} ignored: a CSV file holds one schedule"]
    unknown = [h for h in header if h and h not in CSV_COLUMNS]
    if unknown:
        warnings.append(f"columns ignored: {', '.join(unknown)}")
    column = {name: i for i, name in enumerate(header) if name in CSV_COLUMNS}

    tasks: list[TaskRecord] = []
    raw_links: list[tuple[int, str, str]] = []  # (line, successor id, predecessors cell)
    first_line: dict[str, int] = {}
    for line, cells in rows:
        cell = _Cells(path, line, cells, column)
        key = cell.text("id")
        if key is None:
            raise ScheduleError(path, f"line {line}: empty id")
        if key in first_line:
            raise ScheduleError(path, f"line {line}: task id {key} already used on line {first_line[key]}")
        first_line[key] = line
        if (predecessors := cell.text("predecessors")) is not None:
            raw_links.append((line, key, predecessors))
        tasks.append(
            TaskRecord(
                key=key,
                wbs_code=cell.text("wbs"),
                name=cell.text("name") or "",
                parent_key=cell.text("parent_id"),
                is_milestone=cell.flag("milestone"),
                is_summary=False,  # set below, once every row's parent is known
                planned_start=cell.date("planned_start"),
                planned_finish=cell.date("planned_finish"),
                baseline_start=cell.date("baseline_start"),
                baseline_finish=cell.date("baseline_finish"),
                actual_start=cell.date("actual_start"),
                actual_finish=cell.date("actual_finish"),
                duration_days=cell.number("duration_days"),
                percent_complete=cell.number("percent_complete", percent=True),
                is_critical=cell.flag("critical"),
                total_float_days=cell.number("total_float_days"),
                calendar_key=None,
            )
        )
    parents = {t.parent_key for t in tasks}
    tasks = [replace(t, is_summary=True) if t.key in parents else t for t in tasks]
    links = [
        link
        for line, successor, cell in raw_links
        for link in _links(path, line, successor, cell, first_line)
    ]
    if not tasks:
        warnings.append("the file holds no tasks")
    return finish_schedule(
        path,
        source_format="csv",
        name=path.stem,
        data_date=None,
        tasks=tasks,
        links=links,
        warnings=warnings,
        task_label="task id",
    )


def _links(path: Path, line: int, successor: str, cell: str, ids: dict[str, int]) -> list[TaskLinkRecord]:
    links = []
    for item in (part.strip() for part in re.split(r"[;,]", cell)):
        if not item:
            continue
        if item in ids:  # an id that merely looks like "<id><type><lag>", e.g. "A-1"
            links.append(TaskLinkRecord(item, successor, "FS", 0.0))
            continue
        match = _PREDECESSOR.match(item)
        if match is None or match.group("id").strip() not in ids:
            raise ScheduleError(path, f"line {line}, column predecessors: {item!r} names no task id")
        lag = match.group("lag")
        links.append(
            TaskLinkRecord(
                match.group("id").strip(),
                successor,
                (match.group("kind") or "FS").upper(),
                float(lag.replace(" ", "")) if lag else 0.0,
            )
        )
    return links


class _Cells:
    def __init__(self, path: Path, line: int, cells: list[str], column: dict[str, int]) -> None:
        self.path, self.line, self.cells, self.column = path, line, cells, column

    def text(self, name: str) -> str | None:
        index = self.column.get(name)
        value = self.cells[index].strip() if index is not None else ""
        return value or None

    def fail(self, name: str, value: str, expected: str) -> ScheduleError:
        return ScheduleError(self.path, f"line {self.line}, column {name}: {value!r} is not {expected}")

    def date(self, name: str) -> dt.date | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return parse_table_date(value)
        except ValueError:
            raise self.fail(name, value, "a date (YYYY-MM-DD or D-M-YYYY)") from None

    def number(self, name: str, *, percent: bool = False) -> float | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            number = float(value.removesuffix("%").strip() if percent else value)
        except ValueError:
            raise self.fail(name, value, "a number") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise self.fail(name, value, "a finite number")
        return number

    def flag(self, name: str) -> bool:
        value = (self.text(name) or "").lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise self.fail(name, value, "a yes/no value (1/0, true/false, yes/no, y/n, x)")
