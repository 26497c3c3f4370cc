"""Primavera P6 XER: tab-separated tables exported by P6.

The file starts with an ``ERMHDR`` line, then per table ``%T name``, ``%F`` field names,
``%R`` rows, and ``%E`` at the end. Text is UTF-8 when P6 was told so, else Windows-1252.

The format is small enough to read here rather than through ``xerparser`` (PyPI): errors
must name the line at fault, a file must load even when it lacks tables we do not use, and
the few tables we need map directly onto our records — a dependency would add nothing.

Mapping:

* PROJECT: the project (``schedule`` picks one by ``proj_short_name`` or name when the file
  holds several; default: the first with tasks); ``last_recalc_date`` → data date.
* PROJWBS: each WBS node becomes a summary task with key ``"wbs:<wbs_id>"``, wbs_code the
  path of ``wbs_short_name`` from the project node down (``"B1.L2"``), dates rolled up from
  the tasks below it. The project's own node (``proj_node_flag`` Y) names the schedule.
* TASK: key ``task_id``; wbs_code is the WBS path, a dot, and the activity ID ``task_code``
  (``"B1.L2.A1010"``; just ``task_code`` for tasks on the project node), so every task has a
  unique, tree-sorted code and the activity ID stays readable as its last part.
  ``TT_Mile``/``TT_FinMile`` are milestones, ``TT_WBS`` (WBS summary activities) summaries;
  ``target_start_date``/``target_end_date`` → planned; ``act_*`` → actual;
  ``phys_complete_pct`` → percent; ``target_drtn_hr_cnt`` and ``total_float_hr_cnt`` → days
  of the task calendar's ``day_hr_cnt`` (default 8 h); critical when ``driving_path_flag``
  is Y or total float ≤ 0 (P6's default criterion).
* TASKPRED: ``PR_FS``/``PR_SS``/``PR_FF``/``PR_SF``; ``lag_hr_cnt`` → days of the
  predecessor's calendar (P6's default lag calendar). Links to other projects are skipped
  with a warning.
* CALENDAR: working weekdays and holidays from ``clndr_data``; a calendar whose data cannot
  be read is taken as Monday–Friday with a warning.

Within a WBS node, its child WBS nodes come first (by ``seq_num``), then its activities in
file order.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

from ._common import MONDAY_TO_FRIDAY, make_calendar, parse_date
from .errors import ScheduleError
from .records import CalendarRecord, ScheduleRecord, TaskLinkRecord, TaskRecord
from .validate import finish_schedule

__all__ = ["parse_xer_tables", "read_xer"]

_DEFAULT_DAY_HOURS = 8.0
_MILESTONE_TYPES = ("TT_Mile", "TT_FinMile")
_LINK_KINDS = {"PR_FS": "FS", "PR_SS": "SS", "PR_FF": "FF", "PR_SF": "SF"}
_EXCEL_EPOCH = dt.date(1899, 12, 30)  # clndr_data day numbers count from here (as in Excel)


@dataclass(slots=True)
class XerRow:
    line: int
    values: dict[str, str]

    def get(self, name: str) -> str | None:
        value = self.values.get(name, "").strip()
        return value or None


@dataclass(slots=True)
class XerTable:
    name: str
    line: int
    fields: list[str]
    rows: list[XerRow]


def parse_xer_tables(path: Path, data: bytes) -> dict[str, XerTable]:
    """The tables of an XER file by name; ``ScheduleError`` naming the line on malformed input."""
    if b"\x00" in data[:4096]:
        raise ScheduleError(path, "binary data, not a Primavera XER file")
    text = _decode(data)
    tables: dict[str, XerTable] = {}
    current: XerTable | None = None
    seen_header = False
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        if not seen_header:
            if not line.startswith("ERMHDR"):
                raise ScheduleError(path, "not a Primavera XER file: it does not start with ERMHDR")
            seen_header = True
            continue
        tag, _, rest = line.partition("\t")
        if tag == "%T":
            name = rest.strip()
            if not name:
                raise ScheduleError(path, f"line {number}: %T without a table name")
            if name in tables:
                raise ScheduleError(path, f"line {number}: table {name} appears twice")
            current = tables[name] = XerTable(name, number, [], [])
        elif tag == "%F":
            if current is None:
                raise ScheduleError(path, f"line {number}: %F before any %T")
            current.fields = [f.strip() for f in rest.split("\t")]
        elif tag == "%R":
            if current is None or not current.fields:
                raise ScheduleError(path, f"line {number}: %R before the table's %F line")
            values = rest.split("\t")
            if len(values) > len(current.fields) and any(v.strip() for v in values[len(current.fields) :]):
                raise ScheduleError(
                    path,
                    f"line {number}: {len(values)} values for the {len(current.fields)} fields "
                    f"of table {current.name}",
                )
            current.rows.append(XerRow(number, dict(zip(current.fields, values, strict=False))))
        elif tag == "%E":
            current = None
        else:
            raise ScheduleError(path, f"line {number}: expected %T, %F, %R or %E, found {line[:20]!r}")
    if not seen_header:
        raise ScheduleError(path, "not a Primavera XER file: it does not start with ERMHDR")
    return tables


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # P6's default export code page; five bytes are undefined in it, and latin-1 maps them.
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")


def read_xer(path: Path, data: bytes, *, schedule: str | None = None) -> ScheduleRecord:
    """Read an XER file's bytes; ``schedule`` picks a project by short name or name."""
    tables = parse_xer_tables(path, data)
    if "TASK" not in tables:
        raise ScheduleError(path, "no TASK table: the export holds no activities")
    _require(path, tables["TASK"], "task_id", "task_name")
    return _XerSchedule(path, tables).read(schedule)


def _require(path: Path, table: XerTable, *names: str) -> None:
    missing = [n for n in names if n not in table.fields]
    if missing:
        raise ScheduleError(
            path,
            f"line {table.line}: table {table.name} lacks field{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}",
        )


class _XerSchedule:
    def __init__(self, path: Path, tables: dict[str, XerTable]) -> None:
        self.path = path
        self.tables = tables
        self.warnings: list[str] = []

    def rows(self, table: str) -> list[XerRow]:
        return self.tables[table].rows if table in self.tables else []

    def date(self, row: XerRow, name: str) -> dt.date | None:
        value = row.get(name)
        if value is None:
            return None
        try:
            return parse_date(value)
        except ValueError:
            raise ScheduleError(self.path, f"line {row.line}: {name} {value!r} is not a date") from None

    def number(self, row: XerRow, name: str) -> float | None:
        value = row.get(name)
        if value is None:
            return None
        try:
            number = float(value)
        except ValueError:
            raise ScheduleError(self.path, f"line {row.line}: {name} {value!r} is not a number") from None
        if not math.isfinite(number):  # "1e999" parses as infinity
            raise ScheduleError(self.path, f"line {row.line}: {name} {value!r} is not a finite number")
        return number

    # ------------------------------------------------------------------ project choice

    def name_of(self, project: XerRow) -> str | None:
        """The project's name: P6 keeps it on the project's own WBS node, not in PROJECT."""
        for row in self.rows("PROJWBS"):
            if row.get("proj_node_flag") == "Y" and row.get("proj_id") == project.get("proj_id"):
                return row.get("wbs_name")
        return None

    def read(self, wanted: str | None) -> ScheduleRecord:
        projects = self.rows("PROJECT")
        if wanted is not None:
            chosen = [p for p in projects if wanted in (p.get("proj_short_name"), self.name_of(p))]
            if not chosen:
                found = ", ".join(repr(p.get("proj_short_name") or self.name_of(p) or "") for p in projects)
                raise ScheduleError(self.path, f"no project named {wanted!r} (projects: {found or 'none'})")
            project = chosen[0]
        else:
            task_projects = {row.get("proj_id") for row in self.rows("TASK")}
            with_tasks = [p for p in projects if p.get("proj_id") in task_projects]
            project = (with_tasks or projects or [None])[0]
        if project is None:  # a bare TASK export: one unnamed project
            return self.schedule(None, self.path.stem, None)
        name = self.name_of(project) or project.get("proj_short_name") or self.path.stem
        return self.schedule(project.get("proj_id"), name, self.date(project, "last_recalc_date"))

    # ------------------------------------------------------------------ records

    def schedule(self, proj_id: str | None, name: str, data_date: dt.date | None) -> ScheduleRecord:
        calendars, day_hours = self.calendars()

        def mine(row: XerRow) -> bool:
            return proj_id is None or row.get("proj_id") in (None, proj_id)

        wbs_rows = [r for r in self.rows("PROJWBS") if mine(r)]
        wbs_by_id = {r.get("wbs_id"): r for r in wbs_rows if r.get("wbs_id")}
        project_node_ids = {r.get("wbs_id") for r in wbs_rows if r.get("proj_node_flag") == "Y"}
        wbs_paths = self.wbs_paths(wbs_by_id, project_node_ids)

        def wbs_parent(wbs_id: str | None) -> str | None:
            if wbs_id is None or wbs_id in project_node_ids or wbs_id not in wbs_by_id:
                return None
            return f"wbs:{wbs_id}"

        task_rows = [r for r in self.rows("TASK") if mine(r)]
        activities: list[TaskRecord] = []
        calendar_of: dict[str, str | None] = {}
        for row in task_rows:
            key = row.get("task_id")
            if key is None:
                raise ScheduleError(self.path, f"line {row.line}: TASK row without task_id")
            calendar = row.get("clndr_id")
            calendar_of[key] = calendar
            hours = day_hours.get(calendar or "", _DEFAULT_DAY_HOURS)
            duration_h = self.number(row, "target_drtn_hr_cnt")
            float_h = self.number(row, "total_float_hr_cnt")
            wbs_path = wbs_paths.get(row.get("wbs_id") or "")
            code = row.get("task_code")
            activities.append(
                TaskRecord(
                    key=key,
                    wbs_code=f"{wbs_path}.{code}" if wbs_path and code else (code or wbs_path or None),
                    name=row.get("task_name") or "",
                    parent_key=wbs_parent(row.get("wbs_id")),
                    is_milestone=row.get("task_type") in _MILESTONE_TYPES,
                    is_summary=row.get("task_type") == "TT_WBS",
                    planned_start=self.date(row, "target_start_date") or self.date(row, "early_start_date"),
                    planned_finish=self.date(row, "target_end_date") or self.date(row, "early_end_date"),
                    baseline_start=None,
                    baseline_finish=None,
                    actual_start=self.date(row, "act_start_date"),
                    actual_finish=self.date(row, "act_end_date"),
                    duration_days=None if duration_h is None else duration_h / hours,
                    percent_complete=self.number(row, "phys_complete_pct"),
                    is_critical=row.get("driving_path_flag") == "Y" or (float_h is not None and float_h <= 0),
                    total_float_days=None if float_h is None else float_h / hours,
                    calendar_key=calendar,
                )
            )
        summaries = self.wbs_tasks(wbs_rows, project_node_ids, wbs_paths, wbs_parent, activities)
        links = self.links(proj_id, set(calendar_of), calendar_of, day_hours)
        return finish_schedule(
            self.path,
            source_format="xer",
            name=name,
            data_date=data_date,
            tasks=[*summaries, *activities],
            links=links,
            calendars=calendars,
            warnings=self.warnings,
            task_label="task_id",
        )

    def wbs_paths(
        self, wbs_by_id: dict[str | None, XerRow], project_node_ids: set[str | None]
    ) -> dict[str, str]:
        paths: dict[str, str] = {}
        for wbs_id in wbs_by_id:
            parts: list[str] = []
            current: str | None = wbs_id
            seen: set[str | None] = set()
            while current in wbs_by_id and current not in project_node_ids and current not in seen:
                seen.add(current)
                row = wbs_by_id[current]
                parts.append(row.get("wbs_short_name") or current or "")
                current = row.get("parent_wbs_id")
            if wbs_id is not None:
                paths[wbs_id] = ".".join(reversed(parts))
        return paths

    def wbs_tasks(
        self,
        wbs_rows: list[XerRow],
        project_node_ids: set[str | None],
        wbs_paths: dict[str, str],
        wbs_parent,
        activities: list[TaskRecord],
    ) -> list[TaskRecord]:
        nodes = [r for r in wbs_rows if r.get("wbs_id") and r.get("wbs_id") not in project_node_ids]
        order = {id(r): i for i, r in enumerate(nodes)}
        nodes.sort(key=lambda r: ((self.number(r, "seq_num") or 0.0), order[id(r)]))
        # Roll dates up from the activities: P6 keeps none on WBS nodes in the export.
        below: dict[str, list[TaskRecord]] = {}
        parent_of = {f"wbs:{r.get('wbs_id')}": wbs_parent(r.get("parent_wbs_id")) for r in nodes}
        for task in activities:
            parent, seen = task.parent_key, set()
            while parent is not None and parent not in seen:
                seen.add(parent)
                below.setdefault(parent, []).append(task)
                parent = parent_of.get(parent)
        summaries = []
        for row in nodes:
            key = f"wbs:{row.get('wbs_id')}"
            tasks = below.get(key, [])
            finished = bool(tasks) and all(t.actual_finish for t in tasks)
            summaries.append(
                TaskRecord(
                    key=key,
                    wbs_code=wbs_paths.get(row.get("wbs_id") or "") or None,
                    name=row.get("wbs_name") or row.get("wbs_short_name") or "",
                    parent_key=parent_of[key],
                    is_milestone=False,
                    is_summary=True,
                    planned_start=min((t.planned_start for t in tasks if t.planned_start), default=None),
                    planned_finish=max((t.planned_finish for t in tasks if t.planned_finish), default=None),
                    baseline_start=None,
                    baseline_finish=None,
                    actual_start=min((t.actual_start for t in tasks if t.actual_start), default=None),
                    actual_finish=max(t.actual_finish for t in tasks if t.actual_finish)
                    if finished
                    else None,
                    duration_days=None,
                    percent_complete=None,
                    is_critical=any(t.is_critical for t in tasks),
                    total_float_days=None,
                    calendar_key=None,
                )
            )
        return summaries

    def links(
        self,
        proj_id: str | None,
        task_keys: set[str],
        calendar_of: dict[str, str | None],
        day_hours: dict[str, float],
    ) -> list[TaskLinkRecord]:
        links = []
        skipped = 0
        for row in self.rows("TASKPRED"):
            successor, predecessor = row.get("task_id"), row.get("pred_task_id")
            if successor is None or predecessor is None:
                raise ScheduleError(
                    self.path, f"line {row.line}: TASKPRED row without task_id or pred_task_id"
                )
            if successor not in task_keys and row.get("proj_id") not in (None, proj_id):
                continue  # a link inside another project of the same file
            if predecessor not in task_keys and row.get("pred_proj_id") not in (None, proj_id):
                skipped += 1  # from an activity of another project: nothing here to link to
                continue
            kind = _LINK_KINDS.get(row.get("pred_type") or "PR_FS")
            if kind is None:
                raise ScheduleError(
                    self.path,
                    f"line {row.line}: pred_type {row.get('pred_type')!r} is not "
                    "PR_FS, PR_SS, PR_FF or PR_SF",
                )
            lag_h = self.number(row, "lag_hr_cnt") or 0.0
            hours = day_hours.get(calendar_of.get(predecessor) or "", _DEFAULT_DAY_HOURS)
            links.append(TaskLinkRecord(predecessor, successor, kind, lag_h / hours))
        if skipped:
            self.warnings.append(f"{skipped} links from activities of other projects skipped")
        return links

    def calendars(self) -> tuple[list[CalendarRecord], dict[str, float]]:
        records = []
        day_hours: dict[str, float] = {}
        for row in self.rows("CALENDAR"):
            key = row.get("clndr_id")
            if key is None:
                raise ScheduleError(self.path, f"line {row.line}: CALENDAR row without clndr_id")
            hours = self.number(row, "day_hr_cnt")
            if hours:
                day_hours[key] = hours
            name = row.get("clndr_name") or ""
            try:
                weekdays, holidays, extra = parse_clndr_data(row.get("clndr_data") or "")
            except ValueError as exc:
                self.warnings.append(
                    f"line {row.line}: calendar {key} ({name!r}): {exc}; "
                    "taken as Monday–Friday without holidays"
                )
                weekdays, holidays, extra = list(MONDAY_TO_FRIDAY), [], []
            if extra:
                self.warnings.append(
                    f"line {row.line}: calendar {key} ({name!r}): {len(extra)} worked days outside "
                    f"the weekly pattern (first {extra[0]}) cannot be represented and are ignored"
                )
            records.append(make_calendar(key, name, weekdays, holidays))
        return records, day_hours


# --------------------------------------------------------------------------- clndr_data

_Node = tuple[str, str, list]  # (name, parameters, children)
_MAX_CALENDAR_DEPTH = 16  # P6 nests 4 deep; a limit keeps hostile input from exhausting the stack


def parse_clndr_data(text: str) -> tuple[list[int], list[dt.date], list[dt.date]]:
    """``(working ISO weekdays, holidays, worked days off-pattern)`` of a P6 ``clndr_data`` value.

    The value is a tree of ``(0||Name(params)(children))`` nodes; P6 writes its line breaks
    as DEL (0x7F). ``DaysOfWeek`` children ``1`` (Sunday) … ``7`` (Saturday) are worked when
    they hold time slots; ``Exceptions`` children ``(d|<day number>)`` without slots are
    holidays. Raises ``ValueError`` when the text is not such a tree.
    """
    if not text.strip():
        raise ValueError("no calendar data")
    root, end = _parse_node(text, _skip(text, 0))
    if _skip(text, end) != len(text):
        raise ValueError("text after the calendar data")
    if root[0] != "CalendarData":
        raise ValueError(f"calendar data starts with {root[0]!r}")
    days = next((c for c in root[2] if c[0] == "DaysOfWeek"), None)
    if days is None:
        raise ValueError("no DaysOfWeek in the calendar data")
    weekdays = []
    for name, _, slots in days[2]:
        if not (name.isdigit() and 1 <= int(name) <= 7):
            raise ValueError(f"day {name!r} in DaysOfWeek")
        if slots:
            weekdays.append(7 if name == "1" else int(name) - 1)
    holidays, worked = [], []
    for exceptions in (c for c in root[2] if c[0] == "Exceptions"):
        for _, params, slots in exceptions[2]:
            parts = params.split("|")
            if len(parts) < 2 or parts[0].strip() != "d" or not parts[1].strip().isdigit():
                raise ValueError(f"exception {params!r}")
            day = _EXCEL_EPOCH + dt.timedelta(days=int(parts[1]))
            (worked if slots else holidays).append(day)
    worked = sorted(d for d in worked if d.isoweekday() not in weekdays)
    return weekdays, holidays, worked


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n\x7f":
        pos += 1
    return pos


def _parse_node(text: str, pos: int, depth: int = 0) -> tuple[_Node, int]:
    if depth > _MAX_CALENDAR_DEPTH:
        raise ValueError("calendar data nested too deeply")
    if pos >= len(text) or text[pos] != "(":
        raise ValueError(f"'(' expected at character {pos + 1}")
    open_params = text.find("(", pos + 1)
    if open_params < 0:
        raise ValueError(f"unterminated node at character {pos + 1}")
    header = text[pos + 1 : open_params]
    name = header.split("||", 1)[1].strip() if "||" in header else header.strip()
    close_params = text.find(")", open_params)
    if close_params < 0:
        raise ValueError(f"unterminated parameters at character {open_params + 1}")
    params = text[open_params + 1 : close_params]
    pos = _skip(text, close_params + 1)
    if pos >= len(text) or text[pos] != "(":
        raise ValueError(f"'(' expected at character {pos + 1}")
    pos = _skip(text, pos + 1)
    children = []
    while pos < len(text) and text[pos] == "(":
        child, pos = _parse_node(text, pos, depth + 1)
        children.append(child)
        pos = _skip(text, pos)
    for _ in range(2):  # the children list's ')' and the node's own
        if pos >= len(text) or text[pos] != ")":
            raise ValueError(f"')' expected at character {pos + 1}")
        pos = _skip(text, pos + 1)
    return (name, params, children), pos
