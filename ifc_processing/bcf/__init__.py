"""BCF files (BIM Collaboration Format) in and out, as plain records.

``read_bcf`` reads BCF 1.0, 2.0, 2.1 and 3.0 files (``.bcf``/``.bcfzip``) into a
``BcfFile`` of frozen dataclasses, the same whatever the version; ``write_bcf`` writes those
records as a BCF 2.1 or 3.0 file. No database, no HTTP, and no XML, zip or bcf-client object
crosses this package's border. The upload is untrusted: zip slip, symlinks, zip bombs,
encrypted members, oversized archives and XML with DTD/entity declarations are refused
(``BcfLimits`` holds the limits). Every failure is a ``BcfError`` (an
``IfcProcessingError``; ``UnsafeBcfError`` for refused archives) with a one-line message
``"<file name>: <reason>"`` naming the member or topic at fault.

Example::

    from ifc_processing.bcf import read_bcf, write_bcf

    bcf = read_bcf(Path("Controle Multicom.bcfzip"))
    for topic in bcf.topics:
        print(topic.guid, topic.title, topic.topic_status, len(topic.comments))
        for viewpoint in topic.viewpoints:
            print("  selected:", [c.ifc_guid for c in viewpoint.selection])
    Path("issues.bcf").write_bytes(write_bcf(bcf, version="3.0"))
"""

from __future__ import annotations

from .errors import BcfError, UnsafeBcfError
from .read import read_bcf
from .records import (
    BcfBimSnippet,
    BcfBitmap,
    BcfCamera,
    BcfClippingPlane,
    BcfColoring,
    BcfComment,
    BcfComponent,
    BcfDocument,
    BcfDocumentReference,
    BcfExtensions,
    BcfFile,
    BcfHeaderFile,
    BcfLine,
    BcfTopic,
    BcfViewpoint,
)
from .safety import BcfLimits
from .write import write_bcf

__all__ = [
    "BcfBimSnippet",
    "BcfBitmap",
    "BcfCamera",
    "BcfClippingPlane",
    "BcfColoring",
    "BcfComment",
    "BcfComponent",
    "BcfDocument",
    "BcfDocumentReference",
    "BcfError",
    "BcfExtensions",
    "BcfFile",
    "BcfHeaderFile",
    "BcfLimits",
    "BcfLine",
    "BcfTopic",
    "BcfViewpoint",
    "UnsafeBcfError",
    "read_bcf",
    "write_bcf",
]
