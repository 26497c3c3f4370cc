"""Plain records of a BCF file (BIM Collaboration Format 1.0, 2.0, 2.1 and 3.0).

What the rest of Erji Twin sees of a ``.bcf``/``.bcfzip``: frozen dataclasses of plain
values, the same whatever BCF version the file was. No XML, zip or bcf-client object
appears here.

Frames and units are BCF's own: viewpoint coordinates are in the IFC project's world frame
(Z up), in metres; angles in degrees. Times are timezone-aware ``datetime`` (a time written
without a zone is taken as UTC, as the BCF schema says); ``due_date`` keeps BCF's full
date-time. Colours are ``"RRGGBB"`` or ``"AARRGGBB"`` hex, upper case.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

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
    "BcfExtensions",
    "BcfFile",
    "BcfHeaderFile",
    "BcfLine",
    "BcfTopic",
    "BcfViewpoint",
]

Vector = tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class BcfComponent:
    """An IFC element referred to by a viewpoint: ``ifc_guid`` is its 22-character GlobalId."""

    ifc_guid: str | None
    originating_system: str | None = None
    authoring_tool_id: str | None = None


@dataclass(frozen=True, slots=True)
class BcfCamera:
    """``kind`` is ``"perspective"`` (``field_of_view_deg``) or ``"orthogonal"``
    (``view_to_world_scale``, the visible height in metres)."""

    kind: str
    position_m: Vector
    direction: Vector
    up: Vector
    field_of_view_deg: float | None = None
    view_to_world_scale: float | None = None
    aspect_ratio: float | None = None


@dataclass(frozen=True, slots=True)
class BcfColoring:
    color: str
    components: tuple[BcfComponent, ...]


@dataclass(frozen=True, slots=True)
class BcfLine:
    start_m: Vector
    end_m: Vector


@dataclass(frozen=True, slots=True)
class BcfClippingPlane:
    location_m: Vector
    direction: Vector


@dataclass(frozen=True, slots=True)
class BcfBitmap:
    """An image placed in the 3D scene (visinfo ``Bitmap``): ``format`` is ``"png"`` or
    ``"jpg"``, ``height_m`` its height in the scene, ``image`` the bytes stored in the file
    (``None`` when the file lacks them)."""

    format: str
    location_m: Vector
    normal: Vector
    up: Vector
    height_m: float
    image: bytes | None = None


@dataclass(frozen=True, slots=True)
class BcfViewpoint:
    """A saved view: camera, components selected / hidden / shown / coloured, and the
    snapshot image (PNG or JPEG bytes, as stored in the file)."""

    guid: str
    camera: BcfCamera | None = None
    selection: tuple[BcfComponent, ...] = ()
    default_visibility: bool = True
    visibility_exceptions: tuple[BcfComponent, ...] = ()
    spaces_visible: bool | None = None
    space_boundaries_visible: bool | None = None
    openings_visible: bool | None = None
    coloring: tuple[BcfColoring, ...] = ()
    lines: tuple[BcfLine, ...] = ()
    clipping_planes: tuple[BcfClippingPlane, ...] = ()
    snapshot: bytes | None = None
    snapshot_type: str | None = None  # "png" or "jpg"
    index: int | None = None
    bitmaps: tuple[BcfBitmap, ...] = ()


@dataclass(frozen=True, slots=True)
class BcfComment:
    guid: str
    date: dt.datetime
    author: str
    text: str
    viewpoint_guid: str | None = None
    modified_date: dt.datetime | None = None
    modified_author: str | None = None


@dataclass(frozen=True, slots=True)
class BcfDocumentReference:
    """A link to a document: ``url`` (external) or ``document_guid`` (BCF 3.0 documents
    folder) / ``referenced_document`` (2.1 path inside the file)."""

    guid: str | None
    url: str | None = None
    document_guid: str | None = None
    referenced_document: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class BcfDocument:
    """A document carried inside the BCF file: a BCF 3.0 ``documents.xml`` entry with its
    ``documents/<guid>`` bytes, or the target of a 2.x internal document reference.
    ``content`` is ``None`` when the file lists the document without its bytes."""

    guid: str
    filename: str
    content: bytes | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class BcfHeaderFile:
    """A model file the topic was raised on (markup ``Header/File``): ``ifc_project`` is the
    IfcProject GlobalId; ``reference`` a URL or, when not ``is_external``, a path in the BCF."""

    filename: str | None = None
    date: dt.datetime | None = None
    reference: str | None = None
    ifc_project: str | None = None
    ifc_spatial_structure_element: str | None = None
    is_external: bool = True


@dataclass(frozen=True, slots=True)
class BcfBimSnippet:
    """A piece of model data attached to a topic (``BimSnippet``): ``reference`` is a URL
    (``is_external``) or a path relative to the topic folder, whose bytes are ``content``."""

    snippet_type: str
    reference: str
    reference_schema: str | None = None
    is_external: bool = False
    content: bytes | None = None


@dataclass(frozen=True, slots=True)
class BcfTopic:
    """One issue. ``topic_type`` and ``topic_status`` are free text from the project's
    extensions (``None`` when the file gives none); ``labels`` keep the file's order."""

    guid: str
    title: str
    topic_type: str | None = None
    topic_status: str | None = None
    server_assigned_id: str | None = None
    priority: str | None = None
    index: int | None = None
    labels: tuple[str, ...] = ()
    creation_date: dt.datetime | None = None
    creation_author: str | None = None
    modified_date: dt.datetime | None = None
    modified_author: str | None = None
    due_date: dt.datetime | None = None
    assigned_to: str | None = None
    stage: str | None = None
    description: str | None = None
    reference_links: tuple[str, ...] = ()
    related_topics: tuple[str, ...] = ()
    document_references: tuple[BcfDocumentReference, ...] = ()
    comments: tuple[BcfComment, ...] = ()
    viewpoints: tuple[BcfViewpoint, ...] = ()
    bim_snippet: BcfBimSnippet | None = None
    header_files: tuple[BcfHeaderFile, ...] = ()


@dataclass(frozen=True, slots=True)
class BcfExtensions:
    """The values a project allows (BCF 3.0 ``extensions.xml``; 2.1 ``extensions.xsd``)."""

    topic_types: tuple[str, ...] = ()
    topic_statuses: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    snippet_types: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BcfFile:
    """A whole BCF file. ``version`` is what the file said (``"1.0"`` when it has no
    ``bcf.version``: the layout of the oldest exports)."""

    version: str
    topics: tuple[BcfTopic, ...]
    project_id: str | None = None
    project_name: str | None = None
    extensions: BcfExtensions = field(default_factory=BcfExtensions)
    documents: tuple[BcfDocument, ...] = ()
