"""Reading BCF files of every version into ``BcfFile`` records.

One reader for BCF 1.0, 2.0, 2.1 and 3.0, by element names alone (namespace and case
ignored), because every version's elements are found in the wild in each other's places:

* **1.0** (Tekla BIMsight, old Solibri): no ``bcf.version``; ``markup.bcf`` with the Topic
  (Guid, Title, ReferenceLink only) and Markup-level ``<Comment>`` elements that carry the
  issue's ``<Status>`` (Error/Warning/Info/Unknown, what 2.0 calls TopicType) and
  ``<VerbalStatus>`` (what 2.0 calls TopicStatus) and a ``<Topic Guid>``; one
  ``viewpoint.bcfv`` + ``snapshot.png`` per topic folder, not listed in the markup; viewpoint
  components as one flat list (``Selected``/``Visible``/``Color`` attributes, often none).
* **2.0/2.1**: Markup-level ``<Comment>`` and ``<Viewpoints Guid>`` entries naming the
  ``.bcfv`` and snapshot files; 2.1 viewpoints split components into Selection / Visibility
  (DefaultVisibility + Exceptions) / Coloring; repeated ``<Labels>``, ``<ReferenceLink>``,
  ``<DocumentReference>`` (a URL, or a path inside the file), ``extensions.xsd``.
* **3.0**: Comments and ``<Viewpoints><ViewPoint>`` nested in the Topic, wrapper elements
  (``<Labels><Label>``, ``<DocumentReferences>``…), ``ViewSetupHints`` inside Visibility,
  ``extensions.xml``, ``documents.xml`` + ``documents/<guid>``, ``DocumentGuid``/``Url``.

Why by hand rather than bcf-client (IfcOpenShell's ``bcf`` package, installed for the
writer): its xsdata models are generated from the 2.1 and 3.0 XSDs and refuse what real
exports contain: the 1.0 layout (no ``bcf.version``, Markup-level ``Status``) and 2.0's
``Comment/VerbalStatus`` both fail on the two real files in the corpus, and an unknown
element anywhere (tool extensions) fails a whole topic. A fallback for those would be a
second reader of the same data anyway, so this one reader, written against the union of the
versions, tolerates what tools write (unknown elements, missing optional parts, BOMs, empty
attributes, 7 fractional digits, times without a zone, dates for date-times) and is strict
only about what the records cannot do without (a Topic Guid, well-formed XML).

Tolerance rules, each applied to every version:

* text values are stripped; an empty optional value is ``None`` (``<AssignedTo></AssignedTo>``);
* a time without a zone is UTC; a date without a time is midnight UTC; fractions beyond
  microseconds are cut;
* identifiers a version does not write (a 1.0 viewpoint, a 2.1 DocumentReference, a comment
  without Guid) get a deterministic UUID derived from the topic guid and the item's place,
  so reading the same file twice, or a file ``write_bcf`` wrote from these records, gives
  the same guids;
* a topic without CreationDate/CreationAuthor (1.0) takes its earliest comment's; a topic
  without TopicType/TopicStatus (1.0) takes its latest comment's ``Status``/``VerbalStatus``;
* ``DefaultVisibility`` missing: false (the schema's default) when Exceptions are listed,
  true when none are (a bare ``<Visibility/>`` cannot mean "hide the whole model");
* 1.0/2.0 flat component lists: ``Selected="true"`` selects, ``Visible="false"`` hides (a
  visibility exception), ``Color`` colours; a component listed with none of these (Tekla)
  is what the issue is about, so it is selected;
* topics come in ``Index`` order (topics without one after), then creation date, then guid.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import uuid
from pathlib import Path
from typing import Any, BinaryIO
from xml.etree.ElementTree import Element

from .errors import BcfError
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
    Vector,
)
from .safety import BcfArchive, BcfLimits, open_archive, resolve_reference, show

__all__ = ["derived_guid", "read_bcf"]

#: Namespace of the UUIDs the reader derives for items a BCF version leaves without a guid.
GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:erji-twin:bcf")

_UTC = dt.UTC
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=_UTC)
_DATETIME = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[Tt ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?$"
)
_VERSION_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_LAYOUT_DOCUMENT = re.compile(r"^documents/([0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12})/[^/]+$")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")
_IMAGE_SUFFIXES = {".png": "png", ".jpg": "jpg", ".jpeg": "jpg"}
_EXTENSION_LISTS = {
    # extensions.xml container -> field, and the 2.1 extensions.xsd simpleType name
    "topictypes": ("topic_types", "topictype"),
    "topicstatuses": ("topic_statuses", "topicstatus"),
    "priorities": ("priorities", "priority"),
    "topiclabels": ("labels", "topiclabel"),
    "stages": ("stages", "stage"),
    "users": ("users", "useridtype"),
    "snippettypes": ("snippet_types", "snippettype"),
}


def derived_guid(*parts: str) -> str:
    """The deterministic UUID the reader (and writer) give an item the file leaves without one."""
    return str(uuid.uuid5(GUID_NAMESPACE, "/".join(parts)))


def read_bcf(
    source: Path | str | bytes | BinaryIO,
    *,
    name: str = "upload.bcf",
    limits: BcfLimits = BcfLimits(),  # noqa: B008 - frozen, so one shared default is safe
) -> BcfFile:
    """Read a BCF file (1.0, 2.0, 2.1 or 3.0; ``.bcf``/``.bcfzip``) into plain records.

    ``source`` is a path, the file's bytes, or a seekable binary file. ``name`` is how the
    file is called in error messages (for a path source, the path's own name unless given).
    ``limits`` bound what the untrusted archive may hold (see ``BcfLimits``).

    Raises ``BcfError`` for a file that is missing, not a BCF file, or has a fault that
    matters (markup that is not XML, a topic without Guid, one Guid for two topics), and
    ``UnsafeBcfError`` (a ``BcfError``) for an archive refused as crafted or over limits.
    """
    if isinstance(source, str | Path) and name == "upload.bcf":
        name = Path(source).name
    with open_archive(source, name, limits) as archive:
        return _Reader(archive).read()


# --------------------------------------------------------------------------- XML helpers


def _name(el: Element) -> str:
    tag = el.tag
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _kids(el: Element | None, name: str) -> list[Element]:
    return [] if el is None else [child for child in el if _name(child) == name]


def _kid(el: Element | None, name: str) -> Element | None:
    if el is not None:
        for child in el:
            if _name(child) == name:
                return child
    return None


def _nested(el: Element, wrapper: str, name: str) -> list[Element]:
    """``name`` children of ``el`` (2.x: repeated) and of its ``wrapper`` children (3.0)."""
    found = _kids(el, name)
    for wrap in _kids(el, wrapper):
        found.extend(_kids(wrap, name))
    return found


def _text(el: Element | None, name: str | None = None) -> str | None:
    target = el if name is None else _kid(el, name)
    if target is None:
        return None
    text = "".join(target.itertext()).strip()
    return text or None


def _attr(el: Element | None, name: str) -> str | None:
    if el is None:
        return None
    for key, value in el.attrib.items():
        if key.rsplit("}", 1)[-1].lower() == name:
            value = value.strip()
            return value or None
    return None


def _bool(value: str | None) -> bool | None:
    if value is None:
        return None
    lowered = value.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    return None


def _float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        try:
            return float(value.replace(",", "."))  # a locale's decimal comma
        except ValueError:
            return None


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        number = _float(value)
        return int(number) if number is not None and number.is_integer() else None


def _vector(el: Element | None) -> Vector | None:
    if el is None:
        return None
    x, y, z = (_float(_text(el, axis)) for axis in ("x", "y", "z"))
    if x is None or y is None or z is None:
        return None
    return (x, y, z)


def parse_datetime(value: str) -> dt.datetime:
    """An xs:dateTime or xs:date as BCF tools write it, timezone-aware (no zone → UTC).

    Accepts any number of fractional digits (cut to microseconds), ``Z``, ``±hh:mm``,
    ``±hhmm``, ``±hh``, a space instead of ``T``, and ``24:00:00``; ``ValueError`` otherwise.
    """
    match = _DATETIME.match(value.strip())
    if match is None:
        raise ValueError(f"{value!r} is not a date-time")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    tz = _UTC
    if zone and zone not in ("Z", "z"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        tz = dt.timezone(sign * offset)
    hours = int(hour or 0)
    extra = dt.timedelta(0)
    if hours == 24 and int(minute or 0) == 0 and int(second or 0) == 0 and micro == 0:
        hours, extra = 0, dt.timedelta(days=1)
    result = dt.datetime(
        int(year), int(month), int(day), hours, int(minute or 0), int(second or 0), micro, tzinfo=tz
    )
    return result + extra


def _image_type(data: bytes, member: str) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    suffix = posixpath.splitext(member)[1].lower()
    return _IMAGE_SUFFIXES.get(suffix, suffix[1:] or None)


def _colour(value: str) -> str:
    return value.strip().lstrip("#").upper()


def _unique(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value for value in values if value))


def _since_epoch(value: dt.datetime | None) -> dt.timedelta:
    # A timedelta, not the datetime: comparing aware datetimes near year 1 can overflow.
    return dt.timedelta(0) if value is None else value - _EPOCH


# --------------------------------------------------------------------------- the reader


class _Reader:
    def __init__(self, archive: BcfArchive) -> None:
        self.archive = archive
        self.file_name = archive.file_name
        self.documents: dict[str, BcfDocument] = {}
        self.root = ""
        self.by_folder: dict[str, list[str]] = {}
        for member in archive.names:
            self.by_folder.setdefault(posixpath.dirname(member), []).append(member)

    def fail(self, reason: str) -> BcfError:
        return BcfError(self.file_name, reason)

    def member(self, path: str | None) -> str | None:
        return None if path is None else self.archive.find(path)

    def read(self) -> BcfFile:
        names = self.archive.names
        if not names:
            raise self.fail("not a BCF file: the archive is empty")
        markups = [n for n in names if posixpath.basename(n).lower() == "markup.bcf"]
        versions = [n for n in names if posixpath.basename(n).lower() == "bcf.version"]
        version_member = min(versions, key=lambda n: n.count("/"), default=None)
        if not markups and version_member is None:
            raise self.fail(
                "not a BCF file: it has neither a bcf.version nor a topic folder with a markup.bcf"
            )
        if version_member is not None:
            root = posixpath.dirname(version_member)
        else:
            shallowest = min(markups, key=lambda n: n.count("/"))
            root = posixpath.dirname(posixpath.dirname(shallowest))
        self.root = root
        version = self.version(version_member)
        project_id, project_name, extension_schema = self.project(root)
        extensions = self.extensions(root, extension_schema)
        self.documents_xml(root)
        topics: list[BcfTopic] = []
        seen: dict[str, str] = {}
        for markup in markups:
            topic = self.topic(markup)
            if topic.guid in seen:
                raise self.fail(
                    f"topic {topic.guid} appears twice ({show(seen[topic.guid])} and {show(markup)})"
                )
            seen[topic.guid] = markup
            topics.append(topic)
        self.layout_documents()
        topics.sort(
            key=lambda t: (
                t.index is None,
                t.index or 0,
                t.creation_date is None,
                _since_epoch(t.creation_date),
                t.guid,
            )
        )
        return BcfFile(
            version=version,
            topics=tuple(topics),
            project_id=project_id,
            project_name=project_name,
            extensions=extensions,
            documents=tuple(sorted(self.documents.values(), key=lambda d: d.guid)),
        )

    # ----------------------------------------------------------------- file-level parts

    def version(self, member: str | None) -> str:
        if member is None:
            return "1.0"
        root = self.archive.read_xml(member)
        said = _attr(root, "versionid") or _text(root, "detailedversion") or ""
        match = _VERSION_NUMBER.search(said)
        if match is None:
            return said or "unknown"
        number = match.group(0)
        return number if "." in number else f"{number}.0"

    def project(self, root: str) -> tuple[str | None, str | None, str | None]:
        member = self.member(posixpath.join(root, "project.bcfp"))
        if member is None:
            return None, None, None
        el = self.archive.read_xml(member)
        project = el if _name(el) == "project" else _kid(el, "project")
        return _attr(project, "projectid"), _text(project, "name"), _text(el, "extensionschema")

    def extensions(self, root: str, extension_schema: str | None) -> BcfExtensions:
        member = self.member(posixpath.join(root, "extensions.xml"))
        values: dict[str, list[str]] = {field: [] for field, _ in _EXTENSION_LISTS.values()}
        if member is not None:
            el = self.archive.read_xml(member)
            for container in el:
                entry = _EXTENSION_LISTS.get(_name(container))
                if entry is not None:
                    values[entry[0]].extend(_text(item) or "" for item in container)
            return BcfExtensions(**{field: _unique(items) for field, items in values.items()})
        schema = resolve_reference(root, extension_schema) if extension_schema else None
        member = self.member(schema or posixpath.join(root, "extensions.xsd"))
        if member is None:
            return BcfExtensions()
        by_type = {type_name: field for field, type_name in _EXTENSION_LISTS.values()}
        for simple in self.archive.read_xml(member).iter():
            if _name(simple) != "simpletype":
                continue
            field = by_type.get((_attr(simple, "name") or "").lower())
            if field is not None:
                values[field].extend(
                    _attr(item, "value") or "" for item in simple.iter() if _name(item) == "enumeration"
                )
        return BcfExtensions(**{field: _unique(items) for field, items in values.items()})

    def documents_xml(self, root: str) -> None:
        """BCF 3.0: ``documents.xml`` lists documents stored as ``documents/<guid>``."""
        member = self.member(posixpath.join(root, "documents.xml"))
        if member is None:
            return
        for doc in self.archive.read_xml(member).iter():
            if _name(doc) != "document" or (guid := _attr(doc, "guid")) is None:
                continue
            stored = self.member(posixpath.join(root, "documents", guid))
            self.documents.setdefault(
                guid,
                BcfDocument(
                    guid=guid,
                    filename=_text(doc, "filename") or guid,
                    content=self.archive.read(stored) if stored else None,
                    description=_text(doc, "description"),
                ),
            )

    def layout_documents(self) -> None:
        """Documents ``write_bcf`` stores in a 2.1 file as ``documents/<guid>/<file name>``."""
        for member in self.archive.names:
            match = _LAYOUT_DOCUMENT.match(self.relative(member))
            if match and match.group(1) not in self.documents:
                self.documents[match.group(1)] = BcfDocument(
                    guid=match.group(1),
                    filename=posixpath.basename(member),
                    content=self.archive.read(member),
                )

    def relative(self, member: str) -> str:
        """``member``'s path below the BCF root (the folder of ``bcf.version``)."""
        return member[len(self.root) + 1 :] if self.root and member.startswith(f"{self.root}/") else member

    def attached_document(self, member: str) -> str:
        """The guid of the document stored at archive path ``member`` (2.x internal reference):
        the folder's guid in ``write_bcf``'s ``documents/<guid>/<name>`` layout, else derived
        from the path, so the same file always gets the same guid."""
        relative = self.relative(member)
        match = _LAYOUT_DOCUMENT.match(relative)
        guid = match.group(1) if match else derived_guid("document", relative)
        if guid not in self.documents:
            self.documents[guid] = BcfDocument(
                guid=guid, filename=posixpath.basename(member), content=self.archive.read(member)
            )
        return guid

    # ----------------------------------------------------------------- topics

    def topic(self, member: str) -> BcfTopic:
        folder = posixpath.dirname(member)
        markup = self.archive.read_xml(member)
        topic_el = markup if _name(markup) == "topic" else _kid(markup, "topic")
        if topic_el is None:
            raise self.fail(f"{show(member)} has no Topic")
        guid = _attr(topic_el, "guid")
        if guid is None:
            raise self.fail(f"{show(member)}: the Topic has no Guid")
        where = f"{show(member)} (topic {guid})"

        def date(el: Element | None, field: str, what: str = "the topic") -> dt.datetime | None:
            value = _text(el, field.lower())
            if value is None:
                return None
            try:
                return parse_datetime(value)
            except ValueError:
                raise self.fail(f"{where}: {what} has {field} {value!r}, which is not a date-time") from None

        fields: dict[str, Any] = {
            "guid": guid,
            "title": _text(topic_el, "title") or "",
            "topic_type": _attr(topic_el, "topictype"),
            "topic_status": _attr(topic_el, "topicstatus"),
            "server_assigned_id": _attr(topic_el, "serverassignedid"),
            "priority": _text(topic_el, "priority"),
            "index": _int(_text(topic_el, "index")),
            "labels": self.labels(topic_el),
            "creation_date": date(topic_el, "CreationDate"),
            "creation_author": _text(topic_el, "creationauthor"),
            "modified_date": date(topic_el, "ModifiedDate"),
            "modified_author": _text(topic_el, "modifiedauthor"),
            "due_date": date(topic_el, "DueDate"),
            "assigned_to": _text(topic_el, "assignedto"),
            "stage": _text(topic_el, "stage"),
            "description": _text(topic_el, "description"),
            "reference_links": _unique(
                [_text(el) or "" for el in _nested(topic_el, "referencelinks", "referencelink")]
            ),
            "related_topics": _unique(
                [_attr(el, "guid") or "" for el in _nested(topic_el, "relatedtopics", "relatedtopic")]
            ),
            "document_references": tuple(
                self.document_reference(el, folder, guid, position)
                for position, el in enumerate(_nested(topic_el, "documentreferences", "documentreference"))
            ),
            "bim_snippet": self.bim_snippet(_kid(topic_el, "bimsnippet"), folder),
            "header_files": tuple(
                self.header_file(el) for el in _nested(_kid(markup, "header"), "files", "file")
            ),
        }

        # Comments: Markup-level (1.0-2.1) and nested in the Topic (3.0).
        comments: list[BcfComment] = []
        statuses: list[tuple[dt.timedelta, int, str | None, str | None]] = []
        for position, el in enumerate(_kids(markup, "comment") + _nested(topic_el, "comments", "comment")):
            comment_guid = _attr(el, "guid") or derived_guid(guid, "comment", str(position))
            what = f"comment {comment_guid}"
            when = date(el, "Date", what) or fields["creation_date"] or fields["modified_date"]
            if when is None:
                raise self.fail(f"{where}: {what} has no Date")
            comment = BcfComment(
                guid=comment_guid,
                date=when,
                author=_text(el, "author") or "",
                text=_text(el, "comment") or "",
                viewpoint_guid=_attr(_kid(el, "viewpoint"), "guid"),
                modified_date=date(el, "ModifiedDate", what),
                modified_author=_text(el, "modifiedauthor"),
            )
            comments.append(comment)
            status, verbal = _text(el, "status"), _text(el, "verbalstatus")
            if status or verbal:
                statuses.append((_since_epoch(comment.date), position, status, verbal))
        if comments and fields["creation_date"] is None:
            first = min(comments, key=lambda c: _since_epoch(c.date))
            fields["creation_date"] = first.date
            fields["creation_author"] = fields["creation_author"] or first.author or None
        if statuses:
            _, _, status, verbal = max(statuses, key=lambda s: (s[0], s[1]))
            fields["topic_type"] = fields["topic_type"] or status
            fields["topic_status"] = fields["topic_status"] or verbal
        fields["comments"] = tuple(comments)
        fields["viewpoints"] = self.viewpoints(markup, topic_el, folder, guid, where)
        return BcfTopic(**fields)

    def labels(self, topic_el: Element) -> tuple[str, ...]:
        labels: list[str] = []
        for el in _kids(topic_el, "labels"):
            inner = _kids(el, "label")
            if inner:
                labels.extend(_text(item) or "" for item in inner)
            else:
                labels.append(_text(el) or "")
        return _unique(labels)

    def header_file(self, el: Element) -> BcfHeaderFile:
        when = _text(el, "date")
        try:
            date = parse_datetime(when) if when else None
        except ValueError:
            date = None  # the model file's date is informative only: never worth refusing a file
        return BcfHeaderFile(
            filename=_text(el, "filename"),
            date=date,
            reference=_text(el, "reference"),
            ifc_project=_attr(el, "ifcproject"),
            ifc_spatial_structure_element=_attr(el, "ifcspatialstructureelement"),
            is_external=_bool(_attr(el, "isexternal")) is not False,
        )

    def document_reference(self, el: Element, folder: str, topic: str, position: int) -> BcfDocumentReference:
        url = _text(el, "url")
        document_guid = _text(el, "documentguid")
        referenced = _text(el, "referenceddocument")
        referenced_document = None
        if referenced is not None:
            external = _bool(_attr(el, "isexternal"))
            if external or (external is None and _URL.match(referenced)):
                url = url or referenced
            else:
                referenced_document = referenced
                stored = self.member(resolve_reference(folder, referenced))
                if stored is not None and document_guid is None:
                    document_guid = self.attached_document(stored)
        return BcfDocumentReference(
            guid=_attr(el, "guid") or derived_guid(topic, "document-reference", str(position)),
            url=url,
            document_guid=document_guid,
            referenced_document=referenced_document,
            description=_text(el, "description"),
        )

    def bim_snippet(self, el: Element | None, folder: str) -> BcfBimSnippet | None:
        reference = _text(el, "reference")
        if el is None or reference is None:
            return None
        external = _bool(_attr(el, "isexternal")) is True
        stored = None if external else self.member(resolve_reference(folder, reference))
        return BcfBimSnippet(
            snippet_type=_attr(el, "snippettype") or "",
            reference=reference,
            reference_schema=_text(el, "referenceschema"),
            is_external=external,
            content=self.archive.read(stored) if stored else None,
        )

    # ----------------------------------------------------------------- viewpoints

    def viewpoints(
        self, markup: Element, topic_el: Element, folder: str, topic: str, where: str
    ) -> tuple[BcfViewpoint, ...]:
        entries: list[Element] = []
        for el in _kids(markup, "viewpoints") + _kids(topic_el, "viewpoints"):
            inner = _kids(el, "viewpoint")
            # 3.0 wraps entries (<Viewpoints><ViewPoint Guid>…); 2.x repeats <Viewpoints Guid>
            # whose <Viewpoint> child is the file name.
            if any(_attr(item, "guid") or len(item) for item in inner):
                entries.extend(inner)
            elif _attr(el, "guid") or _text(el, "viewpoint") or _text(el, "snapshot"):
                entries.append(el)
            # else: an empty 3.0 <Viewpoints/>
        used: set[str] = set()
        viewpoints: dict[str, BcfViewpoint] = {}
        for position, entry in enumerate(entries):
            file_ref, snapshot_ref = _text(entry, "viewpoint"), _text(entry, "snapshot")
            visinfo = self.member(resolve_reference(folder, file_ref)) if file_ref else None
            snapshot = self.member(resolve_reference(folder, snapshot_ref)) if snapshot_ref else None
            key = _attr(entry, "guid") or f"{file_ref or snapshot_ref or position}"
            viewpoint = self.viewpoint(
                topic, key, _attr(entry, "guid"), visinfo, snapshot, _int(_text(entry, "index"))
            )
            used.update(m for m in (visinfo, snapshot) if m)
            viewpoints.setdefault(viewpoint.guid, viewpoint)
        # Files no entry names: the 1.0 layout (viewpoint.bcfv + snapshot.png), or a tool that
        # forgot the entry. Each .bcfv is a viewpoint; a lone snapshot*.png/jpg is one too.
        in_folder = sorted(n for n in self.by_folder.get(folder, ()) if n not in used)
        for visinfo in (n for n in in_folder if n.lower().endswith(".bcfv")):
            stem = posixpath.splitext(posixpath.basename(visinfo))[0]
            partner = re.sub("^viewpoint", "snapshot", stem, flags=re.IGNORECASE)
            snapshot = next(
                (
                    n
                    for n in in_folder
                    if n not in used
                    and posixpath.splitext(posixpath.basename(n))[0].lower() == partner.lower()
                    and posixpath.splitext(n)[1].lower() in _IMAGE_SUFFIXES
                ),
                None,
            )
            viewpoint = self.viewpoint(topic, posixpath.basename(visinfo), None, visinfo, snapshot, None)
            used.update(m for m in (visinfo, snapshot) if m)
            viewpoints.setdefault(viewpoint.guid, viewpoint)
        for snapshot in in_folder:
            base = posixpath.basename(snapshot).lower()
            if (
                snapshot not in used
                and base.startswith("snapshot")
                and posixpath.splitext(base)[1] in _IMAGE_SUFFIXES
            ):
                viewpoint = self.viewpoint(topic, posixpath.basename(snapshot), None, None, snapshot, None)
                viewpoints.setdefault(viewpoint.guid, viewpoint)
        return tuple(viewpoints.values())

    def viewpoint(
        self,
        topic: str,
        key: str,
        guid: str | None,
        visinfo: str | None,
        snapshot: str | None,
        index: int | None,
    ) -> BcfViewpoint:
        fields: dict[str, Any] = {}
        file_guid = None
        if visinfo is not None:
            root = self.archive.read_xml(visinfo)
            file_guid = _attr(root, "guid")
            fields = self.visualization(root, posixpath.dirname(visinfo))
        image = self.archive.read(snapshot) if snapshot else None
        return BcfViewpoint(
            guid=guid or file_guid or derived_guid(topic, "viewpoint", key),
            snapshot=image or None,
            snapshot_type=_image_type(image, snapshot) if image and snapshot else None,
            index=index,
            **fields,
        )

    def visualization(self, root: Element, folder: str) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        components = _kid(root, "components")
        if components is not None:
            fields.update(self.components(components))
        for el in root:
            kind = _name(el)
            if kind in ("perspectivecamera", "orthogonalcamera"):
                camera = self.camera(el, kind)
                if camera is not None:
                    fields["camera"] = camera
                    break
        lines = []
        for el in _nested(root, "lines", "line"):
            start, end = _vector(_kid(el, "startpoint")), _vector(_kid(el, "endpoint"))
            if start is not None and end is not None:
                lines.append(BcfLine(start_m=start, end_m=end))
        planes = []
        for el in _nested(root, "clippingplanes", "clippingplane"):
            location, direction = _vector(_kid(el, "location")), _vector(_kid(el, "direction"))
            if location is not None and direction is not None:
                planes.append(BcfClippingPlane(location_m=location, direction=direction))
        bitmaps = [
            b for el in _nested(root, "bitmaps", "bitmap") if (b := self.bitmap(el, folder)) is not None
        ]
        fields.update(lines=tuple(lines), clipping_planes=tuple(planes), bitmaps=tuple(bitmaps))
        return fields

    def bitmap(self, el: Element, folder: str) -> BcfBitmap | None:
        location, normal, up = (_vector(_kid(el, n)) for n in ("location", "normal", "up"))
        height = _float(_text(el, "height"))
        if location is None or normal is None or up is None or height is None:
            return None
        reference = _text(el, "reference")
        stored = self.member(resolve_reference(folder, reference)) if reference else None
        image = self.archive.read(stored) if stored else None
        kind = (_text(el, "format") or _text(el, "bitmap") or "").lower()
        kind = {"jpeg": "jpg"}.get(kind, kind) or (_image_type(image, stored) if image and stored else "png")
        return BcfBitmap(format=kind, location_m=location, normal=normal, up=up, height_m=height, image=image)

    @staticmethod
    def camera(el: Element, kind: str) -> BcfCamera | None:
        position = _vector(_kid(el, "cameraviewpoint"))
        direction = _vector(_kid(el, "cameradirection"))
        up = _vector(_kid(el, "cameraupvector"))
        if position is None or direction is None or up is None:
            return None
        return BcfCamera(
            kind="perspective" if kind == "perspectivecamera" else "orthogonal",
            position_m=position,
            direction=direction,
            up=up,
            field_of_view_deg=_float(_text(el, "fieldofview")),
            view_to_world_scale=_float(_text(el, "viewtoworldscale")),
            aspect_ratio=_float(_text(el, "aspectratio")),
        )

    @staticmethod
    def components(el: Element) -> dict[str, Any]:
        hints = next((h for h in el.iter() if _name(h) == "viewsetuphints"), None)
        fields: dict[str, Any] = {}
        if hints is not None:
            fields.update(
                spaces_visible=_bool(_attr(hints, "spacesvisible")) is True,
                space_boundaries_visible=_bool(_attr(hints, "spaceboundariesvisible")) is True,
                openings_visible=_bool(_attr(hints, "openingsvisible")) is True,
            )
        flat = _kids(el, "component")
        if flat:
            return fields | _flat_components(flat)
        selection = [
            _component(c) for s in _kids(el, "selection") for c in s.iter() if _name(c) == "component"
        ]
        visibility = _kid(el, "visibility")
        exceptions = [
            _component(c)
            for e in _kids(visibility, "exceptions")
            for c in e.iter()
            if _name(c) == "component"
        ]
        coloring = []
        for coloring_el in _kids(el, "coloring"):
            for colour_el in _kids(coloring_el, "color"):
                colour = _attr(colour_el, "color")
                members = tuple(_component(c) for c in colour_el.iter() if _name(c) == "component")
                if colour and members:
                    coloring.append(BcfColoring(color=_colour(colour), components=members))
        # DefaultVisibility says; without it the schema's default is false (show only the
        # exceptions), but a bare <Visibility/> listing no exception cannot mean "hide the whole
        # model", and no <Visibility> at all hides nothing.
        said = _bool(_attr(visibility, "defaultvisibility"))
        return fields | {
            "selection": tuple(selection),
            "default_visibility": (not exceptions) if said is None else said,
            "visibility_exceptions": tuple(exceptions),
            "coloring": tuple(coloring),
        }


def _component(el: Element) -> BcfComponent:
    return BcfComponent(
        ifc_guid=_attr(el, "ifcguid"),
        originating_system=_text(el, "originatingsystem"),
        authoring_tool_id=_text(el, "authoringtoolid"),
    )


def _flat_components(elements: list[Element]) -> dict[str, Any]:
    """BCF 1.0/2.0 ``<Components><Component Selected Visible Color>``."""
    selection, hidden = [], []
    colours: dict[str, list[BcfComponent]] = {}
    for el in elements:
        component = _component(el)
        selected, visible, colour = (
            _bool(_attr(el, "selected")),
            _bool(_attr(el, "visible")),
            _attr(el, "color"),
        )
        if selected is None:
            selected = visible is not False and colour is None
        if selected:
            selection.append(component)
        if visible is False:
            hidden.append(component)
        if colour:
            colours.setdefault(_colour(colour), []).append(component)
    return {
        "selection": tuple(selection),
        "default_visibility": True,
        "visibility_exceptions": tuple(hidden),
        "coloring": tuple(BcfColoring(color=c, components=tuple(m)) for c, m in colours.items()),
    }
