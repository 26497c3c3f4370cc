"""Element–task tables: CSV files that map IFC GlobalIds to the tasks that build them.

Such tables come from 4D tools (Synchro's event log, Navisworks TimeLiner exports) or are
typed by hand. Columns are matched case-insensitively, surrounding spaces ignored:

* the element: ``GUID``, ``global_id`` or ``GlobalId`` (required). A 22-character IFC
  GlobalId, or a 36-character UUID, which is compressed to its GlobalId;
* the task: ``Task`` or ``task_id`` (its key in the schedule) and/or ``TaskName`` or
  ``task_name``; at least one of the two columns, and a value in one of them on every row.

Other columns are ignored. Every row becomes an ``ElementTaskRecord`` with role
``"OUTPUT"``, in file order; a repeated (GlobalId, task) pair is kept once. The task is the
key when the table has one, else the name.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from ._common import csv_rows, read_file_bytes
from .errors import ScheduleError
from .records import ElementTaskRecord

__all__ = ["read_element_task_table"]

_GLOBAL_ID_COLUMNS = ("guid", "global_id", "globalid")
_TASK_KEY_COLUMNS = ("task", "task_id")
_TASK_NAME_COLUMNS = ("taskname", "task_name")
_GLOBAL_ID = re.compile(r"^[0-3][0-9A-Za-z_$]{21}$")
_GUID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_$"


def read_element_task_table(path: str | Path) -> tuple[ElementTaskRecord, ...]:
    """Read an element–task CSV table; ``ScheduleError`` naming the line on bad content."""
    path = Path(path)
    header, rows = csv_rows(path, read_file_bytes(path))
    guid_column = _first(header, _GLOBAL_ID_COLUMNS)
    key_column = _first(header, _TASK_KEY_COLUMNS)
    name_column = _first(header, _TASK_NAME_COLUMNS)
    if guid_column is None or (key_column is None and name_column is None):
        found = ", ".join(h for h in header if h) or "none"
        wanted = (
            "GUID (or global_id)" if guid_column is None else "Task (or task_id) or TaskName (or task_name)"
        )
        raise ScheduleError(path, f"line 1: no column {wanted} (columns found: {found})")
    records: list[ElementTaskRecord] = []
    seen: set[tuple[str, str]] = set()
    for line, cells in rows:
        global_id = _global_id(path, line, cells[guid_column].strip())
        task_key = cells[key_column].strip() or None if key_column is not None else None
        task_name = cells[name_column].strip() or None if name_column is not None else None
        task = task_key if task_key is not None else task_name
        if task is None:
            raise ScheduleError(path, f"line {line}: element {global_id} has no task")
        if (global_id, task) in seen:
            continue
        seen.add((global_id, task))
        records.append(ElementTaskRecord(global_id, task_key, task_name, "OUTPUT"))
    return tuple(records)


def _first(header: list[str], names: tuple[str, ...]) -> int | None:
    return next((header.index(n) for n in names if n in header), None)


def _global_id(path: Path, line: int, value: str) -> str:
    if _GLOBAL_ID.match(value):
        return value
    try:
        number = uuid.UUID(value).int
    except ValueError:
        shown = value if len(value) <= 40 else value[:40] + "…"
        raise ScheduleError(path, f"line {line}: {shown!r} is not an IFC GlobalId") from None
    # IFC's base-64 compression: 2 bits, then 21 groups of 6 bits.
    chars = []
    for _ in range(22):
        number, digit = divmod(number, 64)
        chars.append(_GUID_ALPHABET[digit])
    return "".join(reversed(chars))
