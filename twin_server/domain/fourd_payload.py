"""The binary 4D payload: per-element dates and main task, as the browser reads them.

Pure: numpy only, no I/O. The browser decodes it with ``viewer/js/src/fourd.js`` and then
computes every element's status itself (``viewer/js/src/status.js``) while the user scrubs
the timeline, so this carries exactly what ``twin_server.domain.fourd.element_status``
needs, in GLB element order, and nothing else.

Layout, little-endian throughout::

    offset  size  field
    0       4     magic b"E4D1"
    4       2     u16 version = 1
    6       2     u16 flags: bit 0 set = the task index column is u32, else u16;
                  other bits 0
    8       4     u32 element_count (n)
    12      4     u32 task_count
    16      4     i32 base_day: the day number that offset 0 stands for
    20      12    reserved, zero
    32      2n    u16 planned_start    } value = day number − base_day,
    .       2n    u16 planned_finish   } 0xFFFF = no date
    .       2n    u16 baseline_finish  }
    .       2n    u16 actual_start     }
    .       2n    u16 actual_finish    }
    .       0|2   zero padding to a multiple of 4 bytes (so a u32 column is aligned)
    .       2n|4n task_index: u16 with 0xFFFF = none, or u32 with 0xFFFFFFFF = none;
                  u32 only when task_count ≥ 0xFFFF (a u16 index must leave 0xFFFF free)

Total ``32 + 10n (+2) + 2n`` bytes: 1.2 MB for 100,000 elements (u16 task index).

Why this shape: day numbers (days since 1970-01-01, see ``fourd``) are whole days, and a
project's dates fit in 65,535 consecutive days (179 years) after its earliest date, so
u16 offsets from ``base_day`` are exact at a quarter of float64's size. Columns rather
than records, so each decodes into one typed array in a single pass. ``base_day`` is the
smallest date present (0 when there is none); a date further than 65,534 days after it,
or a date that is not a whole day, is a ``ValueError`` rather than a silently wrong date.
"""

from __future__ import annotations

import struct

import numpy as np

from twin_server.domain.fourd import ElementDates

__all__ = [
    "DATE_COLUMNS",
    "FORMAT_VERSION",
    "HEADER_SIZE",
    "JSON_FORMAT",
    "MAGIC",
    "MAX_DAY_SPAN",
    "decode_fourd",
    "encode_fourd",
    "fourd_json",
    "payload_size",
]

MAGIC = b"E4D1"
FORMAT_VERSION = 1
HEADER_SIZE = 32
#: Flag bit 0: the task index column is u32.
FLAG_TASK_U32 = 0x1
#: u16 value of "no date" / "no task"; u32 value of "no task".
NONE_U16 = 0xFFFF
NONE_U32 = 0xFFFFFFFF
#: Largest offset from ``base_day`` a date can have (0xFFFF means "no date").
MAX_DAY_SPAN = NONE_U16 - 1
#: The date columns, in payload order (names of ``ElementDates`` fields).
DATE_COLUMNS = ("planned_start", "planned_finish", "baseline_finish", "actual_start", "actual_finish")
JSON_FORMAT = "erji-4d-json-1"

# magic, version, flags, element_count, task_count, base_day, reserved
_HEADER = struct.Struct("<4sHHIIi12x")
assert _HEADER.size == HEADER_SIZE


def payload_size(element_count: int, *, task_count: int) -> int:
    """Bytes of the payload of ``element_count`` elements and ``task_count`` tasks."""
    return _layout_size(element_count, _task_u32(task_count))


def encode_fourd(dates: ElementDates, *, task_count: int) -> bytes:
    """The binary payload of ``dates`` (see the module docstring).

    ``ValueError`` for a date that is not a whole day, dates spread over more than 65,534
    days, a task index outside ``[-1, task_count)``, or columns of unequal length.
    """
    n = len(dates)
    columns = _date_columns(dates, n)
    task_index = _task_index(dates, task_count)
    present = ~np.isnan(columns)
    base_day = int(columns[present].min()) if present.any() else 0
    if present.any():
        span = int(columns[present].max()) - base_day
        if span > MAX_DAY_SPAN:
            raise ValueError(
                f"4D dates span {span} days (day {base_day} to {base_day + span}); the payload holds "
                f"at most {MAX_DAY_SPAN} days (about 179 years) after the earliest date"
            )
    if not -(2**31) <= base_day < 2**31:
        raise ValueError(f"4D base day {base_day} does not fit an i32")
    offsets = np.where(present, columns - base_day, NONE_U16).astype("<u2")
    wide = _task_u32(task_count)
    if wide:
        tasks = np.where(task_index < 0, NONE_U32, task_index).astype("<u4")
    else:
        tasks = np.where(task_index < 0, NONE_U16, task_index).astype("<u2")
    header = _HEADER.pack(MAGIC, FORMAT_VERSION, FLAG_TASK_U32 if wide else 0, n, task_count, base_day)
    padding = b"\0" * ((-offsets.nbytes) % 4)  # the header is 32 bytes: only the columns matter
    return b"".join((header, offsets.tobytes(), padding, tasks.tobytes()))


def decode_fourd(data: bytes) -> tuple[ElementDates, int]:
    """``(dates, task_count)`` from a payload; ``ValueError`` if it is not a valid one."""
    view = memoryview(data).cast("B")
    if len(view) < HEADER_SIZE:
        raise ValueError(f"4D payload too short: {len(view)} bytes, the header alone is {HEADER_SIZE}")
    magic, version, flags, n, task_count, base_day = _HEADER.unpack_from(view)
    if magic != MAGIC:
        raise ValueError(f"not a 4D payload: magic {magic!r}, expected {MAGIC!r}")
    if version != FORMAT_VERSION:
        raise ValueError(f"4D payload version {version} is not supported (this reads version 1)")
    if flags & ~FLAG_TASK_U32:
        raise ValueError(f"4D payload has unknown flags 0x{flags:04x}")
    wide = bool(flags & FLAG_TASK_U32)
    expected = _layout_size(n, wide)
    if len(view) != expected:
        raise ValueError(
            f"4D payload of {n} elements must be {expected} bytes, got {len(view)} (truncated or corrupt)"
        )
    offsets = np.frombuffer(view, dtype="<u2", count=len(DATE_COLUMNS) * n, offset=HEADER_SIZE)
    days = np.where(offsets == NONE_U16, np.nan, offsets.astype(np.float64) + base_day)
    days = days.reshape(len(DATE_COLUMNS), n)
    raw = np.frombuffer(
        view, dtype="<u4" if wide else "<u2", count=n, offset=expected - (4 if wide else 2) * n
    )
    none = NONE_U32 if wide else NONE_U16
    task_index = np.where(raw == none, -1, raw.astype(np.int64))
    if n and task_index.max() >= min(task_count, 2**31):
        raise ValueError(f"4D payload has a task index {task_index.max()} ≥ its task count {task_count}")
    dates = ElementDates(*(days[i].copy() for i in range(len(DATE_COLUMNS))), task_index.astype(np.int32))
    return dates, task_count


def fourd_json(dates: ElementDates, *, task_count: int) -> dict:
    """The same content as JSON-ready lists (``None`` = no date / no task), for clients
    that want no binary decoding. Days are day numbers, as in the payload."""
    n = len(dates)
    columns = _date_columns(dates, n)
    task_index = _task_index(dates, task_count)
    result: dict = {
        "format": JSON_FORMAT,
        "day_zero": "1970-01-01",
        "element_count": n,
        "task_count": task_count,
    }
    for name, column in zip(DATE_COLUMNS, columns, strict=True):
        result[name] = [None if v != v else int(v) for v in column.tolist()]  # v != v: NaN
    result["task_index"] = [None if t < 0 else t for t in task_index.tolist()]
    return result


def _task_u32(task_count: int) -> bool:
    return task_count >= NONE_U16


def _layout_size(n: int, wide: bool) -> int:
    columns = HEADER_SIZE + 2 * len(DATE_COLUMNS) * n
    return columns + (-columns) % 4 + n * (4 if wide else 2)


def _date_columns(dates: ElementDates, n: int) -> np.ndarray:
    """The five date columns as one (5, n) float64 array; checks they are whole days."""
    columns = np.empty((len(DATE_COLUMNS), n), dtype=np.float64)
    for i, name in enumerate(DATE_COLUMNS):
        column = np.asarray(getattr(dates, name), dtype=np.float64)
        if column.shape != (n,):
            raise ValueError(f"4D column {name} has shape {column.shape}, expected ({n},)")
        columns[i] = column
    present = ~np.isnan(columns)
    # Whole days only: np.floor(inf) == inf, so infinities are caught separately.
    bad = present & ((np.floor(columns) != columns) | np.isinf(columns))
    if bad.any():
        row, col = (int(a[0]) for a in np.nonzero(bad))
        raise ValueError(
            f"4D {DATE_COLUMNS[row]} of element {col} is {columns[row, col]!r}: "
            "day numbers must be whole days"
        )
    return columns


def _task_index(dates: ElementDates, task_count: int) -> np.ndarray:
    if not 0 <= task_count <= NONE_U32:
        raise ValueError(f"task_count {task_count} does not fit a u32")
    task_index = np.asarray(dates.task_index, dtype=np.int64)
    # The index travels as int32 (ElementDates, the browser's Int32Array).
    if len(task_index) and (task_index.min() < -1 or task_index.max() >= min(task_count, 2**31)):
        raise ValueError(
            f"4D task indices must lie in [-1, {task_count}), got {task_index.min()}..{task_index.max()}"
        )
    return task_index
