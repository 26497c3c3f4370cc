"""Errors raised by ``ifc_processing``.

Every error a caller can act on derives from one root, and its message is one line
that names the file and the reason, ready to show to a user::

    IfcProcessingError                 root: catch this to handle any pipeline failure
     ├── IfcOpenError                  the file cannot be read as an IFC model at all
     │    ├── UnsupportedSchemaError   readable, but its schema is not one we process
     │    └── EncodingError            text is not ISO 10303-21 or UTF-8 encoded
     ├── InvalidModelError             readable, but unusable as a twin model
     │    ├── EmptyModelError          no IfcElement / IfcSpace to extract
     │    └── DuplicateGlobalIdError   two instances share one GlobalId
     └── OutputError                   the output folder cannot be written

Geometry failures of single elements are *not* errors: they are recorded in the
failure log and never abort a model.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "DuplicateGlobalIdError",
    "EmptyModelError",
    "EncodingError",
    "IfcOpenError",
    "IfcProcessingError",
    "InvalidModelError",
    "OutputError",
    "UnsupportedSchemaError",
]


class IfcProcessingError(Exception):
    """Root of all errors of this package; ``str(err)`` is ``"<file name>: <reason>"``."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path.name}: {reason}")


class IfcOpenError(IfcProcessingError):
    """The file is missing, not an IFC file, truncated or corrupt."""


class UnsupportedSchemaError(IfcOpenError):
    """The file declares a schema this pipeline does not process (e.g. ``IFC4X3_RC2``)."""


class EncodingError(IfcOpenError):
    """Text in the file is neither ISO 10303-21 encoded nor valid UTF-8."""


class InvalidModelError(IfcProcessingError):
    """The file parses, but cannot become a twin model."""


class EmptyModelError(InvalidModelError):
    """The model holds no IfcElement or IfcSpace."""


class DuplicateGlobalIdError(InvalidModelError):
    """Two instances share a GlobalId, the identity every defect and task link relies on."""


class OutputError(IfcProcessingError):
    """The output folder cannot be created or written."""
