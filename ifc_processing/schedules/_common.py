"""Helpers shared by the format readers: reading bytes, dates, ISO 8601 durations, calendars.

Parsing helpers raise ``ValueError`` with a short reason; each reader turns it into a
``ScheduleError`` naming the line or record, which only the reader knows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .errors import ScheduleError
from .records import CalendarRecord

__all__ = [
    "MONDAY_TO_FRIDAY",
    "IsoDuration",
    "csv_rows",
    "expand_days",
    "make_calendar",
    "parse_date",
    "parse_iso_duration",
    "read_file_bytes",
]

MONDAY_TO_FRIDAY = (1, 2, 3, 4, 5)
# A calendar exception longer than this is a data error (or a "forever" range), not a holiday
# list: expanding it day by day would bloat every record for nothing.
MAX_EXCEPTION_DAYS = 3 * 366

_ISO_DURATION = re.compile(
    r"^(?P<sign>[-+])?P(?!$)"
    r"(?:(?P<years>\d+(?:[.,]\d+)?)Y)?"
    r"(?:(?P<months>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<weeks>\d+(?:[.,]\d+)?)W)?"
    r"(?:(?P<days>\d+(?:[.,]\d+)?)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+(?:[.,]\d+)?)H)?(?:(?P<minutes>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?$"
)


def read_file_bytes(path: Path) -> bytes:
    """The whole file; ``ScheduleError`` if it is missing, a folder, unreadable or empty."""
    if not path.exists():
        raise ScheduleError(path, "file not found")
    if not path.is_file():
        raise ScheduleError(path, "not a regular file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ScheduleError(path, f"cannot read the file: {exc.strerror or exc}") from exc
    if not data.strip():
        raise ScheduleError(path, "file is empty")
    return data


def parse_date(text: str) -> dt.date:
    """``YYYY-MM-DD`` optionally followed by a time (``T08:00:00``, `` 08:00``); the time is dropped.

    A planner's date is a working day, and every source here writes times in the project's
    local time, so dropping the time never moves a task to another day.
    """
    text = text.strip()
    if len(text) > 10 and text[10] in "T ":
        text = text[:10]
    return dt.date.fromisoformat(text)


@dataclass(frozen=True, slots=True)
class IsoDuration:
    """The components of an ISO 8601 duration such as ``PT16H0M0S`` or ``P1DT8H``."""

    sign: int
    years: float
    months: float
    weeks: float
    days: float
    hours: float
    minutes: float
    seconds: float

    @property
    def has_time(self) -> bool:
        return bool(self.hours or self.minutes or self.seconds)

    @property
    def elapsed_hours(self) -> float:
        """Clock hours, counting a day as 24 h and a week as 7 days (years and months excluded)."""
        return self.sign * (
            (self.weeks * 7 + self.days) * 24 + self.hours + self.minutes / 60 + self.seconds / 3600
        )


def parse_iso_duration(text: str) -> IsoDuration:
    match = _ISO_DURATION.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not an ISO 8601 duration")

    def part(name: str) -> float:
        value = match.group(name)
        return float(value.replace(",", ".")) if value else 0.0

    return IsoDuration(
        -1 if match.group("sign") == "-" else 1,
        part("years"),
        part("months"),
        part("weeks"),
        part("days"),
        part("hours"),
        part("minutes"),
        part("seconds"),
    )


def expand_days(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every day from ``first`` to ``last`` inclusive; ``ValueError`` beyond ``MAX_EXCEPTION_DAYS``."""
    count = (last - first).days + 1
    if count < 1:
        raise ValueError(f"range {first} to {last} ends before it starts")
    if count > MAX_EXCEPTION_DAYS:
        raise ValueError(f"range {first} to {last} spans {count} days")
    return [first + dt.timedelta(days=i) for i in range(count)]


def make_calendar(
    key: str, name: str, working_weekdays: Iterable[int], non_working_days: Iterable[dt.date]
) -> CalendarRecord:
    """A ``CalendarRecord`` whose holidays are only the non-working days that would otherwise
    be worked: a "holiday" on a Sunday of a Monday–Friday calendar changes nothing."""
    weekdays = tuple(sorted(set(working_weekdays)))
    holidays = tuple(sorted({d for d in non_working_days if d.isoweekday() in weekdays}))
    return CalendarRecord(key, name, weekdays, holidays)


def csv_rows(path: Path, data: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """``(header, [(line number, cells), ...])`` of a UTF-8 CSV file (BOM optional).

    Header names come lower-cased and stripped. The delimiter is ``,`` unless the header
    line has none and has ``;`` (Excel's export in locales with a decimal comma). Blank
    rows are dropped; short rows are padded with empty cells; a row with more non-empty
    cells than the header is an error naming its line.
    """
    if b"\x00" in data[:4096]:
        raise ScheduleError(path, "binary data, not a CSV file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ScheduleError(path, f"line {line}: not UTF-8 text (save the CSV as UTF-8)") from None
    if "\x00" in text:  # past the sniffed head: a NUL no database would store
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ScheduleError(path, f"line {line}: a NUL character in the text")
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if "," not in first_line and ";" in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = [c.strip().lower() for c in cells]
                duplicates = sorted({h for h in header if h and header.count(h) > 1})
                if duplicates:
                    raise ScheduleError(
                        path, f"line {reader.line_num}: column {duplicates[0]!r} appears twice"
                    )
                continue
            if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
                raise ScheduleError(
                    path, f"line {reader.line_num}: {len(cells)} cells for {len(header)} columns"
                )
            rows.append((reader.line_num, cells + [""] * (len(header) - len(cells))))
    except csv.Error as exc:
        raise ScheduleError(path, f"line {reader.line_num}: {exc}") from None
    if header is None:
        raise ScheduleError(path, "file is empty")
    return header, rows
