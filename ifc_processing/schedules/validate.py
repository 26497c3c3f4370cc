"""The checks every imported schedule passes, whatever its format, and the final task order.

Errors (``ScheduleError``) are contradictions no consumer can work around: two tasks with
one key, a parent or link naming a task that does not exist, a task linked to itself, a
cycle of links or of parents, a planned finish before the planned start, a negative
duration, or a percentage outside 0–100.

Warnings are what a planner should know but real schedules contain: actual finish before
actual start (a typing slip in progress reporting), a task pointing at a calendar the file
does not define, and a link given twice (kept once).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

from .errors import ScheduleError
from .records import CalendarRecord, ElementTaskRecord, ScheduleRecord, TaskLinkRecord, TaskRecord

__all__ = ["LINK_KINDS", "finish_schedule"]

LINK_KINDS = ("FS", "SS", "FF", "SF")
_MAX_CYCLE_NAMES = 8  # a longer cycle is cut with "…" to keep the message on one line


def finish_schedule(
    path: Path,
    *,
    source_format: str,
    name: str,
    data_date: dt.date | None,
    tasks: Sequence[TaskRecord],
    links: Iterable[TaskLinkRecord],
    calendars: Sequence[CalendarRecord] = (),
    element_links: Iterable[ElementTaskRecord] = (),
    warnings: Iterable[str] = (),
    task_label: str = "task",
) -> ScheduleRecord:
    """Validate the parts of a schedule read from ``path`` and assemble its ``ScheduleRecord``.

    ``tasks`` come in source order; the record lists parents before their children and
    keeps that order otherwise. ``task_label`` is how messages name a task's key in this
    format (``"task UID"`` for MS Project), so a planner can find it in the source tool.
    """
    notes = list(warnings)
    by_key: dict[str, TaskRecord] = {}
    for task in tasks:
        if task.key in by_key:
            raise ScheduleError(path, f"duplicate {_describe(task_label, task)}")
        by_key[task.key] = task

    def describe(key: str) -> str:
        return _describe(task_label, by_key[key]) if key in by_key else f"{task_label} {key}"

    for task in tasks:
        _check_task(path, task, describe, notes)
        if task.parent_key is not None and task.parent_key not in by_key:
            raise ScheduleError(
                path,
                f"{describe(task.key)} has parent {task.parent_key}, which is not a task of the schedule",
            )
    calendar_keys = {c.key for c in calendars}
    unknown_calendars = sorted({t.calendar_key for t in tasks if t.calendar_key is not None} - calendar_keys)
    if unknown_calendars:
        notes.append(f"tasks refer to calendars the file does not define: {', '.join(unknown_calendars)}")
    ordered = _parents_first(path, tasks, by_key, describe)
    unique_links = _check_links(path, links, by_key, describe, notes)
    _check_link_cycles(path, unique_links, [t.key for t in tasks], describe)
    return ScheduleRecord(
        source_format=source_format,
        name=name,
        data_date=data_date,
        tasks=tuple(ordered),
        links=tuple(unique_links),
        calendars=tuple(calendars),
        element_links=tuple(_unique(element_links, notes)),
        warnings=tuple(notes),
    )


def _describe(label: str, task: TaskRecord) -> str:
    return f"{label} {task.key} ({task.name!r})" if task.name else f"{label} {task.key}"


#: Longest key, WBS code and name a task may have (what the twin stores; longer ones are
#: not ids a planner types, and cutting them could make two keys equal).
MAX_KEY, MAX_WBS, MAX_NAME = 100, 200, 400
#: Dates outside this window are typing errors (0001-01-01, 9999-12-31), not plans.
EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2199, 12, 31)
_DATE_FIELDS = (
    "planned_start",
    "planned_finish",
    "baseline_start",
    "baseline_finish",
    "actual_start",
    "actual_finish",
)


def _check_task(path: Path, task: TaskRecord, describe, notes: list[str]) -> None:
    for field, value, limit in (
        ("id", task.key, MAX_KEY),
        ("parent id", task.parent_key, MAX_KEY),
        ("WBS code", task.wbs_code, MAX_WBS),
        ("name", task.name, MAX_NAME),
    ):
        if value is not None and (len(value) > limit or "\x00" in value):
            shown = value[:40].replace("\x00", "\\0")
            raise ScheduleError(
                path, f"task {shown!r}…: its {field} is over {limit} characters or holds a NUL"
            )
    for field in _DATE_FIELDS:
        value = getattr(task, field)
        if value is not None and not EARLIEST <= value <= LATEST:
            raise ScheduleError(
                path,
                f"{describe(task.key)}: {field.replace('_', ' ')} {value} "
                f"is outside {EARLIEST.year}–{LATEST.year}",
            )
    for field in ("duration_days", "percent_complete", "total_float_days"):
        value = getattr(task, field)
        if value is not None and not math.isfinite(value):
            raise ScheduleError(
                path, f"{describe(task.key)}: {field.replace('_', ' ')} is not a finite number"
            )
    if (
        task.planned_start is not None
        and task.planned_finish is not None
        and task.planned_finish < task.planned_start
    ):
        raise ScheduleError(
            path,
            f"{describe(task.key)}: planned finish {task.planned_finish} is before "
            f"planned start {task.planned_start}",
        )
    if (
        task.actual_start is not None
        and task.actual_finish is not None
        and task.actual_finish < task.actual_start
    ):
        notes.append(
            f"{describe(task.key)}: actual finish {task.actual_finish} is before "
            f"actual start {task.actual_start}"
        )
    if task.percent_complete is not None and not 0 <= task.percent_complete <= 100:
        raise ScheduleError(
            path, f"{describe(task.key)}: percent complete {task.percent_complete:g} is outside 0–100"
        )
    if task.duration_days is not None and task.duration_days < 0:
        raise ScheduleError(path, f"{describe(task.key)}: negative duration {task.duration_days:g} days")


def _parents_first(
    path: Path, tasks: Sequence[TaskRecord], by_key: dict[str, TaskRecord], describe
) -> list[TaskRecord]:
    """Depth-first pre-order over the parent tree, siblings in source order."""
    children: dict[str | None, list[TaskRecord]] = {}
    for task in tasks:
        children.setdefault(task.parent_key, []).append(task)
    # A parent cycle has no root, so the walk below would silently drop it: find it first.
    # Each task is walked once (1 = on the current walk up, 2 = known to reach a root).
    state: dict[str, int] = {}
    for task in tasks:
        chain: list[str] = []
        key: str | None = task.key
        while key is not None and key not in state:
            state[key] = 1
            chain.append(key)
            key = by_key[key].parent_key
        if key is not None and state[key] == 1:
            cycle = [*chain[chain.index(key) :], key]
            raise ScheduleError(path, f"parent cycle: {_chain(cycle, describe)}")
        for walked in chain:
            state[walked] = 2
    ordered: list[TaskRecord] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        task = stack.pop()
        ordered.append(task)
        stack.extend(reversed(children.get(task.key, [])))
    return ordered


def _check_links(
    path: Path, links: Iterable[TaskLinkRecord], by_key: dict[str, TaskRecord], describe, notes: list[str]
) -> list[TaskLinkRecord]:
    unique: dict[tuple[str, str, str], TaskLinkRecord] = {}
    for link in links:
        for end, key in (("predecessor", link.predecessor_key), ("successor", link.successor_key)):
            if key not in by_key:
                raise ScheduleError(
                    path,
                    f"link {link.predecessor_key} → {link.successor_key}: {end} {key} is not a task "
                    "of the schedule",
                )
        if link.predecessor_key == link.successor_key:
            raise ScheduleError(path, f"{describe(link.predecessor_key)} is linked to itself")
        if link.kind not in LINK_KINDS:
            raise ScheduleError(
                path,
                f"link {link.predecessor_key} → {link.successor_key}: kind {link.kind!r} is not one of "
                f"{', '.join(LINK_KINDS)}",
            )
        signature = (link.predecessor_key, link.successor_key, link.kind)
        if signature in unique:
            notes.append(
                f"link {link.predecessor_key} → {link.successor_key} ({link.kind}) is given twice; "
                "kept the first"
            )
            continue
        unique[signature] = link
    return list(unique.values())


def _check_link_cycles(path: Path, links: Sequence[TaskLinkRecord], keys: list[str], describe) -> None:
    """Any cycle of links, whatever their kinds, makes the schedule unschedulable."""
    successors: dict[str, list[str]] = {}
    for link in links:
        successors.setdefault(link.predecessor_key, []).append(link.successor_key)
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for root in keys:
        if root in state or root not in successors:
            continue
        # Iterative depth-first search: schedules with long chains would overflow recursion.
        path_keys = [root]
        iterators = [iter(successors.get(root, ()))]
        state[root] = 1
        while iterators:
            nxt = next(iterators[-1], None)
            if nxt is None:
                state[path_keys.pop()] = 2
                iterators.pop()
                continue
            if state.get(nxt) == 1:
                cycle = [*path_keys[path_keys.index(nxt) :], nxt]
                raise ScheduleError(path, f"link cycle: {_chain(cycle, describe)}")
            if nxt not in state:
                state[nxt] = 1
                path_keys.append(nxt)
                iterators.append(iter(successors.get(nxt, ())))


def _chain(keys: list[str], describe) -> str:
    shown = keys if len(keys) <= _MAX_CYCLE_NAMES else [*keys[: _MAX_CYCLE_NAMES - 1], "…", keys[-1]]
    return " → ".join(k if k == "…" else describe(k) for k in shown)


def _valid_global_id(global_id: str) -> bool:
    # IFC GlobalIds are 22 characters of the IFC base-64 alphabet.
    return len(global_id) == 22 and all(c.isalnum() or c in "_$" for c in global_id)


def _unique(element_links: Iterable[ElementTaskRecord], notes: list[str]) -> list[ElementTaskRecord]:
    seen: set[tuple[str, str | None, str | None, str]] = set()
    result = []
    invalid = 0
    for record in element_links:
        if not _valid_global_id(record.global_id):
            invalid += 1
            continue
        signature = (record.global_id, record.task_key, record.task_name, record.role)
        if signature not in seen:
            seen.add(signature)
            result.append(record)
    if invalid:
        notes.append(f"{invalid} element link(s) skipped: not an IFC GlobalId (22 characters)")
    return result
