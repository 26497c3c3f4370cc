"""Writing ``BcfFile`` records as a BCF 2.1 or 3.0 file (a zip archive, returned as bytes).

The XML comes from bcf-client's xsdata models (``bcf.v2.model``, ``bcf.v3.model``), which are
generated from buildingSMART's XSDs: elements are written in schema order with the schema's
names and types, so the output follows markup.xsd / visinfo.xsd / project.xsd /
extensions.xsd / documents.xsd of the version without us restating the schemas. Only the
2.1 ``extensions.xsd`` (an XSD ``redefine``, which no model covers) is written by hand.

Layout written::

    bcf.version                      2.1: VersionId + DetailedVersion; 3.0: VersionId
    project.bcfp                     when the project id is known (2.1 also when extensions.xsd is)
    extensions.xml | extensions.xsd  3.0 always; 2.1 when the file declares extensions
    documents.xml, documents/<guid>  3.0, when there are documents
    documents/<guid>/<file name>     2.1: documents no reference path places elsewhere
    <topic guid>/markup.bcf
    <topic guid>/<viewpoint guid>.bcfv, <viewpoint guid>.png|jpg, <viewpoint guid>_bitmap<n>.png|jpg

What a version cannot carry, and what the writer does about it:

* 2.1 has no ServerAssignedId, no camera AspectRatio and no document table: those are
  dropped; documents become internal ``DocumentReference`` paths (isExternal="false").
* 3.0 links documents by guid only: a 2.1 path reference with its document becomes a
  ``DocumentGuid``; one without a document in the file becomes a ``Url``.
* Values the schema requires but a record may lack: CreationDate → the modified date, else
  the earliest comment's, else 1970-01-01Z; 3.0 text that must not be empty (TopicType,
  TopicStatus, Title, CreationAuthor, comment Author, BimSnippet SnippetType and
  ReferenceSchema) → ``"Unknown"`` (BCF 1.0's own word for an unknown type), where 2.1 writes
  ``""`` or leaves the optional attribute out; 3.0 AspectRatio → the snapshot's
  width/height, else 1.0; perspective FieldOfView → 60; orthogonal ViewToWorldScale → 1.
  A 3.0 viewpoint without camera is written without one (the schema wants one, but a made-up
  camera would mislead every viewer); a colour without components is left out.
* The extension lists written (3.0 always, 2.1 when declared) are the declared values plus
  every value the topics use, so every topic is valid against its own file's extensions.
* Text is written as given, except characters XML 1.0 cannot hold (control characters,
  lone surrogates), which are dropped; ``\\r`` is written as ``&#13;`` so it survives.

Output is deterministic: members in a fixed order, fixed timestamps and permissions, so the
same records always give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import re
import struct
import zipfile
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any, Literal
from xml.sax.saxutils import quoteattr

from .read import derived_guid
from .records import (
    BcfBitmap,
    BcfCamera,
    BcfComponent,
    BcfDocument,
    BcfDocumentReference,
    BcfExtensions,
    BcfFile,
    BcfTopic,
    BcfViewpoint,
)
from .safety import resolve_reference

__all__ = ["write_bcf"]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
#: What 3.0 text the schema requires (non-empty) but a record lacks is written as.
MISSING = "Unknown"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_INVALID_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_UNSAFE_FILE_CHARS = re.compile(r'[\x00-\x1f/\\:*?"<>|]')
_ROOT_FILES = ("bcf.version", "project.bcfp", "extensions.xml", "extensions.xsd", "documents.xml")
_XSD_TYPES = (
    ("topic_types", "TopicType"),
    ("topic_statuses", "TopicStatus"),
    ("labels", "TopicLabel"),
    ("snippet_types", "SnippetType"),
    ("priorities", "Priority"),
    ("users", "UserIdType"),
    ("stages", "Stage"),
)


def write_bcf(bcf: BcfFile, *, version: Literal["2.1", "3.0"]) -> bytes:
    """``bcf`` as a BCF ``version`` file (the bytes of a ``.bcf`` zip archive).

    Raises ``ValueError`` for a version other than ``"2.1"``/``"3.0"``, and for records that
    contradict themselves: two topics with one guid, two viewpoints of a topic with one guid.
    """
    if version not in ("2.1", "3.0"):
        raise ValueError(f"BCF version must be '2.1' or '3.0', not {version!r}")
    return _Writer(bcf, version).write()


# --------------------------------------------------------------------------- helpers


@cache
def _serializer() -> Any:
    from xsdata.formats.dataclass.context import XmlContext
    from xsdata.formats.dataclass.serializers import XmlSerializer
    from xsdata.formats.dataclass.serializers.config import SerializerConfig

    return XmlSerializer(context=XmlContext(), config=SerializerConfig(indent="  "))


def _xml(model: object) -> bytes:
    text = _serializer().render(model)
    return _INVALID_XML.sub("", text).replace("\r", "&#13;").encode("utf-8")


def _aware(value: dt.datetime) -> dt.datetime:
    """Records hold aware times; a naive one is taken as UTC, as BCF reads a time without zone."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _when(value: dt.datetime | None) -> Any:
    from xsdata.models.datatype import XmlDateTime

    return None if value is None else XmlDateTime.from_datetime(_aware(value))


def _safe_name(guid: str, *kind: str) -> str:
    """``guid`` if it can be a file name as is, else a UUID derived from it."""
    return guid if _SAFE_NAME.match(guid) and guid not in (".", "..") else derived_guid(*kind, guid)


def _safe_file_name(name: str) -> str:
    cleaned = _UNSAFE_FILE_CHARS.sub("_", posixpath.basename(name.replace("\\", "/"))).strip(" .")
    return cleaned or "document"


def _image_type(data: bytes | None, declared: str | None) -> str:
    if declared in ("png", "jpg"):
        return declared
    if declared == "jpeg" or (data or b"").startswith(b"\xff\xd8\xff"):
        return "jpg"
    return declared or "png"


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG or JPEG (baseline or progressive), from its header."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return (width, height) if width and height else None
    if not data.startswith(b"\xff\xd8"):
        return None
    at = 2
    while at + 9 < len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:
            at += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            at += 2
            continue
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return (width, height) if width and height else None
        at += 2 + length
    return None


def _unique(values: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def _in_use(bcf: BcfFile, missing: str | None) -> BcfExtensions:
    """The declared extension values plus every value the topics use (``missing`` standing in
    for a type or status the topic lacks)."""
    ext, topics = bcf.extensions, bcf.topics
    return BcfExtensions(
        topic_types=tuple(_unique([*ext.topic_types, *(t.topic_type or missing for t in topics)])),
        topic_statuses=tuple(_unique([*ext.topic_statuses, *(t.topic_status or missing for t in topics)])),
        priorities=tuple(_unique([*ext.priorities, *(t.priority for t in topics)])),
        labels=tuple(_unique([*ext.labels, *(label for t in topics for label in t.labels)])),
        stages=tuple(_unique([*ext.stages, *(t.stage for t in topics)])),
        users=tuple(_unique([*ext.users, *(t.assigned_to for t in topics)])),
        snippet_types=tuple(
            _unique(
                [
                    *ext.snippet_types,
                    *(t.bim_snippet.snippet_type or missing for t in topics if t.bim_snippet),
                ]
            )
        ),
    )


def _declares_extensions(ext: BcfExtensions) -> bool:
    return any(getattr(ext, field) for field, _ in _XSD_TYPES)


def _extensions_xsd(ext: BcfExtensions) -> bytes:
    """BCF 2.1 ``extensions.xsd``: the allowed values as restrictions of markup.xsd's types,
    in the form of buildingSMART's template (``xs:`` prefixed, so the unprefixed ``base``
    names markup.xsd's no-namespace types)."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">',
        '  <xs:redefine schemaLocation="markup.xsd">',
    ]
    for field, type_name in _XSD_TYPES:
        values = getattr(ext, field)
        if type_name == "SnippetType" and not values:
            # The released 2.1 markup.xsd has no SnippetType type to redefine (buildingSMART's
            # template and test files list it anyway): only written when there are values.
            continue
        lines.append(f'    <xs:simpleType name="{type_name}">')
        if values:
            lines.append(f'      <xs:restriction base="{type_name}">')
            lines.extend(f"        <xs:enumeration value={quoteattr(value)}/>" for value in values)
            lines.append("      </xs:restriction>")
        else:
            lines.append(f'      <xs:restriction base="{type_name}"/>')
        lines.append("    </xs:simpleType>")
    lines += ["  </xs:redefine>", "</xs:schema>", ""]
    return _INVALID_XML.sub("", "\n".join(lines)).encode("utf-8")


# --------------------------------------------------------------------------- the writer


class _Writer:
    def __init__(self, bcf: BcfFile, version: str) -> None:
        from bcf.v2 import model as v2
        from bcf.v3 import model as v3

        self.bcf = bcf
        self.version = version
        self.m: Any = v3 if version == "3.0" else v2
        self.members: dict[str, bytes] = {}
        self.reserved: set[str] = set(_ROOT_FILES)
        self.documents = {doc.guid: doc for doc in bcf.documents}
        self.placed: dict[str, str] = {}  # document guid -> archive path (2.1)
        self.folders: dict[str, str] = {}
        for topic in bcf.topics:
            folder = _safe_name(topic.guid, "topic")
            if folder in self.folders.values():
                raise ValueError(f"two topics have the guid {topic.guid!r}")
            self.folders[topic.guid] = folder
            self.reserved.add(f"{folder}/markup.bcf")
            for name in self.viewpoint_files(topic).values():
                self.reserved.update(name)

    def viewpoint_files(self, topic: BcfTopic) -> dict[str, list[str]]:
        """Archive paths of each viewpoint: .bcfv, snapshot, then its bitmaps."""
        folder = self.folders[topic.guid]
        files: dict[str, list[str]] = {}
        for vp in topic.viewpoints:
            if vp.guid in files:
                raise ValueError(f"topic {topic.guid!r} has two viewpoints with the guid {vp.guid!r}")
            stem = f"{folder}/{_safe_name(vp.guid, 'viewpoint')}"
            names = [f"{stem}.bcfv", f"{stem}.{_image_type(vp.snapshot, vp.snapshot_type)}"]
            names += [f"{stem}_bitmap{i}.{_image_type(b.image, b.format)}" for i, b in enumerate(vp.bitmaps)]
            files[vp.guid] = names
        return files

    def write(self) -> bytes:
        m, bcf = self.m, self.bcf
        if self.version == "3.0":
            self.members["bcf.version"] = _xml(m.Version(version_id="3.0"))
            self.members["extensions.xml"] = _xml(self.extensions_xml(_in_use(bcf, MISSING)))
            if bcf.project_id:
                project = m.Project(project_id=bcf.project_id, name=bcf.project_name or None)
                self.members["project.bcfp"] = _xml(m.ProjectInfo(project=project))
            if bcf.documents:
                self.documents_v3()
        else:
            self.members["bcf.version"] = _xml(m.Version(version_id="2.1", detailed_version="2.1"))
            schema = ""
            if _declares_extensions(bcf.extensions):
                self.members["extensions.xsd"] = _extensions_xsd(_in_use(bcf, None))
                schema = "extensions.xsd"
            if bcf.project_id or schema:
                project = (
                    m.Project(project_id=bcf.project_id, name=bcf.project_name or None)
                    if bcf.project_id
                    else None
                )
                self.members["project.bcfp"] = _xml(
                    m.ProjectExtension(project=project, extension_schema=schema)
                )
        for topic in bcf.topics:
            self.topic(topic)
        if self.version == "2.1":
            for doc in bcf.documents:  # documents no reference placed
                self.place_document(doc, None)
        return self.zip()

    def zip(self) -> bytes:
        first = [name for name in _ROOT_FILES if name in self.members]
        order = first + sorted(name for name in self.members if name not in first)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name in order:
                data = self.members[name]
                info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
                info.create_system = 3
                info.external_attr = 0o100644 << 16
                # PNG and JPEG are compressed already: deflating them again costs time for nothing.
                already = data.startswith((b"\x89PNG", b"\xff\xd8\xff"))
                info.compress_type = zipfile.ZIP_STORED if already else zipfile.ZIP_DEFLATED
                archive.writestr(info, data, compresslevel=None if already else 6)
        return buffer.getvalue()

    # ----------------------------------------------------------------- file-level parts

    def extensions_xml(self, ext: BcfExtensions) -> Any:
        m = self.m

        def wrap(cls: Callable[..., Any], field: str, values: tuple[str, ...]) -> Any:
            return cls(**{field: list(values)}) if values else None

        return m.Extensions(
            topic_types=wrap(m.ExtensionsTopicTypes, "topic_type", ext.topic_types),
            topic_statuses=wrap(m.ExtensionsTopicStatuses, "topic_status", ext.topic_statuses),
            priorities=wrap(m.ExtensionsPriorities, "priority", ext.priorities),
            topic_labels=wrap(m.ExtensionsTopicLabels, "topic_label", ext.labels),
            users=wrap(m.ExtensionsUsers, "user", ext.users),
            snippet_types=wrap(m.ExtensionsSnippetTypes, "snippet_type", ext.snippet_types),
            stages=wrap(m.ExtensionsStages, "stage", ext.stages),
        )

    def document_name(self, guid: str) -> str:
        return _safe_name(guid, "document")

    def documents_v3(self) -> None:
        m = self.m
        entries = []
        for doc in self.bcf.documents:
            name = self.document_name(doc.guid)
            entries.append(m.Document(guid=name, filename=doc.filename, description=doc.description))
            if doc.content is not None:
                self.members[f"documents/{name}"] = doc.content
        self.members["documents.xml"] = _xml(
            m.DocumentInfo(documents=m.DocumentInfoDocuments(document=entries))
        )

    def free(self, path: str | None, data: bytes) -> bool:
        """Whether an attachment may go to ``path``: inside the archive, not a BCF part, and
        not taken by other bytes."""
        if path is None or path in self.reserved or any(path.startswith(f"{r}/") for r in self.reserved):
            return False
        return self.members.get(path, data) == data and not any(
            m.startswith(f"{path}/") for m in self.members
        )

    def place_document(self, doc: BcfDocument, preferred: str | None) -> str | None:
        """2.1: the archive path of ``doc``'s bytes (written once), ``None`` without bytes."""
        if doc.guid in self.placed or doc.content is None:
            return self.placed.get(doc.guid)
        path = preferred if self.free(preferred, doc.content) else None
        if path is None:
            path = f"documents/{self.document_name(doc.guid)}/{_safe_file_name(doc.filename)}"
        self.members[path] = doc.content
        self.placed[doc.guid] = path
        return path

    # ----------------------------------------------------------------- topics

    def topic(self, topic: BcfTopic) -> None:
        m, v3 = self.m, self.version == "3.0"
        required = MISSING if v3 else ""
        folder = self.folders[topic.guid]
        files = self.viewpoint_files(topic)
        creation_date = (
            topic.creation_date
            or topic.modified_date
            or min((_aware(c.date) for c in topic.comments), default=None)
            or _EPOCH
        )
        comments = [
            m.Comment(
                guid=c.guid,
                date=_when(c.date),
                author=c.author or required,
                comment=(c.text or None) if v3 else c.text,
                viewpoint=m.CommentViewpoint(guid=c.viewpoint_guid) if c.viewpoint_guid else None,
                modified_date=_when(c.modified_date),
                modified_author=c.modified_author or None,
            )
            for c in topic.comments
        ]
        entries = [
            m.ViewPoint(
                guid=vp.guid,
                viewpoint=posixpath.basename(files[vp.guid][0]),
                snapshot=posixpath.basename(files[vp.guid][1]) if vp.snapshot else None,
                index=vp.index,
            )
            for vp in topic.viewpoints
        ]
        for vp in topic.viewpoints:
            self.viewpoint(vp, files[vp.guid])
        snippet = self.bim_snippet(topic, folder)
        references = [
            r
            for position, ref in enumerate(topic.document_references)
            if (r := self.reference(ref, folder, topic.guid, position)) is not None
        ]
        common: dict[str, Any] = {
            "guid": topic.guid,
            "title": topic.title or required,
            "priority": topic.priority or None,
            "index": topic.index,
            "creation_date": _when(creation_date),
            "creation_author": topic.creation_author or required,
            "modified_date": _when(topic.modified_date),
            "modified_author": topic.modified_author or None,
            "due_date": _when(topic.due_date),
            "assigned_to": topic.assigned_to or None,
            "stage": topic.stage or None,
            "description": topic.description or None,
            "bim_snippet": snippet,
        }
        header_files = [
            (m.File if v3 else m.HeaderFile)(
                filename=f.filename,
                date=_when(f.date),
                reference=f.reference,
                ifc_project=f.ifc_project,
                ifc_spatial_structure_element=f.ifc_spatial_structure_element,
                is_external=f.is_external,
            )
            for f in topic.header_files
        ]
        if v3:
            markup = m.Markup(
                header=m.Header(files=m.HeaderFiles(file=header_files)) if header_files else None,
                topic=m.Topic(
                    **common,
                    server_assigned_id=topic.server_assigned_id or None,
                    topic_type=topic.topic_type or MISSING,
                    topic_status=topic.topic_status or MISSING,
                    reference_links=m.TopicReferenceLinks(reference_link=list(topic.reference_links))
                    if topic.reference_links
                    else None,
                    labels=m.TopicLabels(label=list(topic.labels)) if topic.labels else None,
                    document_references=m.TopicDocumentReferences(document_reference=references)
                    if references
                    else None,
                    related_topics=m.TopicRelatedTopics(
                        related_topic=[m.TopicRelatedTopicsRelatedTopic(guid=g) for g in topic.related_topics]
                    )
                    if topic.related_topics
                    else None,
                    comments=m.TopicComments(comment=comments) if comments else None,
                    viewpoints=m.TopicViewpoints(view_point=entries) if entries else None,
                ),
            )
        else:
            markup = m.Markup(
                header=m.Header(file=header_files) if header_files else None,
                topic=m.Topic(
                    **common,
                    topic_type=topic.topic_type or None,
                    topic_status=topic.topic_status or None,
                    reference_link=list(topic.reference_links),
                    labels=list(topic.labels),
                    document_reference=references,
                    related_topic=[m.TopicRelatedTopic(guid=g) for g in topic.related_topics],
                ),
                comment=comments,
                viewpoints=entries,
            )
        self.members[f"{folder}/markup.bcf"] = _xml(markup)

    def bim_snippet(self, topic: BcfTopic, folder: str) -> Any:
        snippet = topic.bim_snippet
        if snippet is None:
            return None
        reference = snippet.reference
        if not snippet.is_external and snippet.content is not None:
            path = resolve_reference(folder, reference)
            if not self.free(path, snippet.content):
                path = f"{folder}/snippet_{_safe_file_name(reference)}"
                reference = posixpath.basename(path)
            self.members[path] = snippet.content
        required = MISSING if self.version == "3.0" else ""
        return self.m.BimSnippet(
            snippet_type=snippet.snippet_type or required,
            reference=reference,
            reference_schema=snippet.reference_schema or required,
            is_external=snippet.is_external,
        )

    def reference(self, ref: BcfDocumentReference, folder: str, topic: str, position: int) -> Any:
        m = self.m
        doc = self.documents.get(ref.document_guid) if ref.document_guid else None
        if self.version == "3.0":
            # The guid the reader gives a reference written without one (3.0 requires it).
            guid = ref.guid or derived_guid(topic, "document-reference", str(position))
            if ref.document_guid:
                document_guid = self.document_name(ref.document_guid) if doc else ref.document_guid
                return m.DocumentReference(
                    guid=guid, document_guid=document_guid, description=ref.description
                )
            url = ref.url or ref.referenced_document
            if url is None:
                return None
            return m.DocumentReference(guid=guid, url=url, description=ref.description)
        if doc is not None:
            preferred = (
                resolve_reference(folder, ref.referenced_document) if ref.referenced_document else None
            )
            path = self.place_document(doc, preferred)
            if path is not None:
                return m.TopicDocumentReference(
                    guid=ref.guid,
                    is_external=False,
                    referenced_document=posixpath.relpath(path, folder),
                    description=ref.description,
                )
        if ref.url and not ref.referenced_document:
            return m.TopicDocumentReference(
                guid=ref.guid, is_external=True, referenced_document=ref.url, description=ref.description
            )
        return m.TopicDocumentReference(
            guid=ref.guid,
            is_external=False,
            referenced_document=ref.referenced_document or ref.url,
            description=ref.description,
        )

    # ----------------------------------------------------------------- viewpoints

    def viewpoint(self, vp: BcfViewpoint, files: list[str]) -> None:
        m, v3 = self.m, self.version == "3.0"
        visinfo, snapshot, bitmap_files = files[0], files[1], files[2:]
        if vp.snapshot:
            self.members[snapshot] = vp.snapshot
        bitmaps = []
        for bitmap, path in zip(vp.bitmaps, bitmap_files, strict=True):
            if bitmap.image is not None:
                self.members[path] = bitmap.image
            bitmaps.append(self.bitmap(bitmap, posixpath.basename(path)))
        fields: dict[str, Any] = {
            "guid": vp.guid,
            "components": self.components(vp),
            "lines": m.VisualizationInfoLines(
                line=[
                    m.Line(start_point=self.point(ln.start_m), end_point=self.point(ln.end_m))
                    for ln in vp.lines
                ]
            )
            if vp.lines
            else None,
            "clipping_planes": m.VisualizationInfoClippingPlanes(
                clipping_plane=[
                    m.ClippingPlane(location=self.point(p.location_m), direction=self.direction(p.direction))
                    for p in vp.clipping_planes
                ]
            )
            if vp.clipping_planes
            else None,
        }
        if v3:
            fields["bitmaps"] = m.VisualizationInfoBitmaps(bitmap=bitmaps) if bitmaps else None
        else:
            fields["bitmap"] = bitmaps
        if vp.camera is not None:
            kind = "perspective_camera" if vp.camera.kind == "perspective" else "orthogonal_camera"
            fields[kind] = self.camera(vp.camera, vp.snapshot)
        self.members[visinfo] = _xml(m.VisualizationInfo(**fields))

    def point(self, value: tuple[float, float, float]) -> Any:
        return self.m.Point(x=value[0], y=value[1], z=value[2])

    def direction(self, value: tuple[float, float, float]) -> Any:
        return self.m.Direction(x=value[0], y=value[1], z=value[2])

    def bitmap(self, bitmap: BcfBitmap, reference: str) -> Any:
        m = self.m
        kind = _image_type(bitmap.image, bitmap.format)
        common = {
            "reference": reference,
            "location": self.point(bitmap.location_m),
            "normal": self.direction(bitmap.normal),
            "up": self.direction(bitmap.up),
            "height": bitmap.height_m,
        }
        if self.version == "3.0":
            return m.Bitmap(format=m.BitmapFormat.JPG if kind == "jpg" else m.BitmapFormat.PNG, **common)
        return m.VisualizationInfoBitmap(
            bitmap=m.BitmapFormat.JPG if kind == "jpg" else m.BitmapFormat.PNG, **common
        )

    def camera(self, camera: BcfCamera, snapshot: bytes | None) -> Any:
        m = self.m
        common: dict[str, Any] = {
            "camera_view_point": self.point(camera.position_m),
            "camera_direction": self.direction(camera.direction),
            "camera_up_vector": self.direction(camera.up),
        }
        if self.version == "3.0":
            aspect = camera.aspect_ratio
            size = _image_size(snapshot) if aspect is None and snapshot else None
            common["aspect_ratio"] = aspect if aspect is not None else (size[0] / size[1] if size else 1.0)
        if camera.kind == "perspective":
            fov = camera.field_of_view_deg
            return m.PerspectiveCamera(field_of_view=60.0 if fov is None else fov, **common)
        scale = camera.view_to_world_scale
        return m.OrthogonalCamera(view_to_world_scale=1.0 if scale is None else scale, **common)

    def components(self, vp: BcfViewpoint) -> Any:
        m, v3 = self.m, self.version == "3.0"
        hints_given = (vp.spaces_visible, vp.space_boundaries_visible, vp.openings_visible)
        if not (
            vp.selection
            or vp.visibility_exceptions
            or vp.coloring
            or not vp.default_visibility
            or any(h is not None for h in hints_given)
        ):
            return None

        def listed(components: tuple[BcfComponent, ...]) -> list[Any]:
            return [
                m.Component(
                    ifc_guid=c.ifc_guid,
                    originating_system=c.originating_system,
                    authoring_tool_id=c.authoring_tool_id,
                )
                for c in components
            ]

        hints = None
        if any(h is not None for h in hints_given):
            hints = m.ViewSetupHints(
                spaces_visible=vp.spaces_visible is True,
                space_boundaries_visible=vp.space_boundaries_visible is True,
                openings_visible=vp.openings_visible is True,
            )
        selection = m.ComponentSelection(component=listed(vp.selection)) if vp.selection else None
        exceptions = (
            m.ComponentVisibilityExceptions(component=listed(vp.visibility_exceptions))
            if vp.visibility_exceptions
            else None
        )
        coloring = [c for c in vp.coloring if c.components]
        if v3:
            colours = [
                m.ComponentColoringColor(
                    color=c.color,
                    components=m.ComponentColoringColorComponents(component=listed(c.components)),
                )
                for c in coloring
            ]
            visibility = m.ComponentVisibility(
                default_visibility=vp.default_visibility, view_setup_hints=hints, exceptions=exceptions
            )
            return m.Components(
                selection=selection,
                visibility=visibility,
                coloring=m.ComponentColoring(color=colours) if colours else None,
            )
        colours = [m.ComponentColoringColor(color=c.color, component=listed(c.components)) for c in coloring]
        return m.Components(
            view_setup_hints=hints,
            selection=selection,
            visibility=m.ComponentVisibility(default_visibility=vp.default_visibility, exceptions=exceptions),
            coloring=m.ComponentColoring(color=colours) if colours else None,
        )
