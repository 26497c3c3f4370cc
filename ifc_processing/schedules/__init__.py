"""Schedule import: planners' files in, plain ``ScheduleRecord``s out.

Reads MS Project XML (MSPDI), Primavera P6 XER, IFC work schedules (``.ifc``/``.ifczip``)
and CSV, and element–task tables (CSV). No database, no HTTP, and no ifcopenshell or XML
object crosses this package's border. Every failure is a ``ScheduleError`` (an
``IfcProcessingError``) with a one-line message ``"<file name>: <reason>"``; every schedule
passes the same checks (``validate``) whatever its format.

Example::

    record = read_schedule("Uitvoering.xml")
    print(record.name, len(record.tasks), record.warnings)
"""

from __future__ import annotations

from pathlib import Path

from ._common import read_file_bytes
from .csv_schedule import read_csv_schedule
from .element_table import read_element_task_table
from .errors import ScheduleError
from .ifc import read_ifc
from .mspdi import MSPDI_NAMESPACE, read_mspdi
from .records import CalendarRecord, ElementTaskRecord, ScheduleRecord, TaskLinkRecord, TaskRecord
from .xer import read_xer

__all__ = [
    "CalendarRecord",
    "ElementTaskRecord",
    "ScheduleError",
    "ScheduleRecord",
    "TaskLinkRecord",
    "TaskRecord",
    "read_element_task_table",
    "read_schedule",
]

SOURCE_FORMATS = ("mspdi", "xer", "ifc", "csv")
_SUFFIXES = {".xml": "mspdi", ".xer": "xer", ".ifc": "ifc", ".ifczip": "ifc", ".csv": "csv"}
_SNIFF_BYTES = 4096


def read_schedule(
    path: str | Path, *, source_format: str | None = None, schedule: str | None = None
) -> ScheduleRecord:
    """Read the schedule in ``path``.

    ``source_format`` is one of ``SOURCE_FORMATS``; when ``None`` it comes from the suffix
    (``.xml`` MSPDI, ``.xer``, ``.ifc``/``.ifczip``, ``.csv``), else from the content.
    ``schedule`` picks one schedule in files that hold several: an IfcWorkSchedule by Name,
    a P6 project by short name or name (default: the first with tasks); MSPDI and CSV hold
    one, so there it only adds a warning.

    Raises ``ScheduleError`` for a missing, empty, unreadable, malformed or contradictory
    file, and ``ValueError`` for a ``source_format`` not in ``SOURCE_FORMATS``.
    """
    path = Path(path)
    if source_format is not None and source_format not in SOURCE_FORMATS:
        raise ValueError(f"source_format {source_format!r} is not one of {', '.join(SOURCE_FORMATS)}")
    if source_format == "ifc" or (source_format is None and path.suffix.lower() in (".ifc", ".ifczip")):
        return read_ifc(path, schedule=schedule)  # ifcopenshell reads the file itself
    data = read_file_bytes(path)
    chosen = source_format or _SUFFIXES.get(path.suffix.lower()) or _detect_format(path, data)
    if chosen == "ifc":
        return read_ifc(path, schedule=schedule)
    reader = {"mspdi": read_mspdi, "xer": read_xer, "csv": read_csv_schedule}[chosen]
    return reader(path, data, schedule=schedule)


def _detect_format(path: Path, data: bytes) -> str:
    """The source format of ``data`` from its first bytes; ``ScheduleError`` when none fits."""
    head = data[:_SNIFF_BYTES]
    if head.startswith(b"PK\x03\x04"):
        return "ifc"  # a zip: of our formats only .ifczip is one
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"ISO-10303-21"):
        return "ifc"
    if text.startswith(b"ERMHDR"):
        return "xer"
    if text.startswith(b"<"):
        if MSPDI_NAMESPACE.encode() in head or b"<Project" in head:
            return "mspdi"
        raise ScheduleError(path, "an XML file, but not MS Project XML (no Project element)")
    if b"\x00" in head:
        raise ScheduleError(path, "binary data, not a schedule file")
    first_line = text.split(b"\n", 1)[0].lower()
    if (b"," in first_line or b";" in first_line) and b"id" in first_line:
        return "csv"
    raise ScheduleError(
        path, "not a schedule file: expected MS Project XML, Primavera XER, IFC or CSV with a header"
    )
