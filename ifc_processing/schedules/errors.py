"""The one error of ``ifc_processing.schedules``.

A schedule file that cannot become a ``ScheduleRecord`` raises ``ScheduleError``, a
subclass of the package root ``IfcProcessingError``, so callers that already catch the root
need nothing new. Its message is one line, ``"<file name>: <reason>"``, and the reason names
the place at fault: the line number (CSV, XER) or the record (task UID, task key, element).
"""

from __future__ import annotations

from ..errors import IfcProcessingError

__all__ = ["ScheduleError"]


class ScheduleError(IfcProcessingError):
    """The file is missing, unreadable, not a schedule, or a schedule that contradicts itself
    (duplicate task keys, links to unknown tasks, cycles, finish before start, ...)."""
