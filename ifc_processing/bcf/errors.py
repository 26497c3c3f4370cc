"""The errors of ``ifc_processing.bcf``.

A BCF file that cannot become a ``BcfFile`` raises ``BcfError``, a subclass of the package
root ``IfcProcessingError``, so callers that already catch the root need nothing new. Its
message is one line, ``"<file name>: <reason>"``, and the reason names the place at fault:
the archive member (``"<topic guid>/markup.bcf"``) and, where there is one, the topic::

    IfcProcessingError
     └── BcfError            not a BCF file, or a BCF file that contradicts itself
          └── UnsafeBcfError the upload looks crafted: zip slip, symlink, zip bomb, DTD /
                             entity declarations, encryption, too many or too large members

Callers (the server) map both to a 4xx answer: the file is at fault, never the server.
"""

from __future__ import annotations

from ..errors import IfcProcessingError

__all__ = ["BcfError", "UnsafeBcfError"]


class BcfError(IfcProcessingError):
    """The file is missing, unreadable, not a BCF file, or a BCF file with a fault that
    matters (a topic without a Guid, markup that is not XML, two topics with one Guid)."""


class UnsafeBcfError(BcfError):
    """The archive was refused before its content was trusted: a member name that escapes
    the archive, a symlink, an encrypted member, sizes or compression ratios over the
    ``BcfLimits``, or XML that declares a DTD or entities."""
