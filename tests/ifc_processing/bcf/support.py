"""Shared helpers of the BCF tests: zips built in code, error reasons, record comparison, and
what a record should read back as after a round trip through a BCF version."""

from __future__ import annotations

import dataclasses
import io
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from ifc_processing.bcf import (
    BcfCamera,
    BcfDocument,
    BcfDocumentReference,
    BcfError,
    BcfExtensions,
    BcfFile,
    BcfTopic,
    BcfViewpoint,
)

#: The BCF files of the shared corpus (``<corpus>/bcf/``), read in place, never copied.
CORPUS_BCF = (
    "Schependomlaan_Controle_Multicom_01-04-2015.bcfzip",
    "Schependomlaan_ROOT-Compleet_interne_modelkwaliteit.bcfzip",
    "v2.1_ComponentSelection.bcf",
    "v2.1_MaximumInformation.bcf",
    "v2.1_MinimumInformation.bcf",
    "v2.1_PerspectiveCamera.bcf",
    "v3.0_Document_reference_internal.bcf",
    "v3.0_DueDate.bcf",
    "v3.0_Labels.bcf",
    "v3.0_Milestone.bcf",
    "v3.0_component_selection.bcf",
)

VERSION_21 = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Version VersionId="2.1"><DetailedVersion>2.1</DetailedVersion></Version>'
)
TOPIC_GUID = "0b6a8f4e-1c1d-4b8e-9f0a-3d2c1b0a9f8e"


def make_zip(members: dict[str, bytes | str] | list[tuple[str | zipfile.ZipInfo, bytes | str]]) -> bytes:
    """A zip archive of ``members`` (name or ZipInfo → content), deflated."""
    items = members.items() if isinstance(members, dict) else members
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in items:
            archive.writestr(name, content.encode("utf-8") if isinstance(content, str) else content)
    return buffer.getvalue()


def markup(topic: str = "", *, guid: str = TOPIC_GUID, rest: str = "", title: str = "T") -> str:
    """A BCF 2.1 markup.bcf whose Topic holds ``topic`` and whose Markup holds ``rest``."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Markup>'
        f'<Topic Guid="{guid}"><Title>{title}</Title><CreationDate>2024-05-01T08:00:00Z</CreationDate>'
        f"<CreationAuthor>a@example.com</CreationAuthor>{topic}</Topic>{rest}</Markup>"
    )


def one_topic(markup_text: str | bytes, **more: bytes | str) -> bytes:
    """A 2.1 BCF file with one topic folder holding ``markup_text`` and ``more`` files."""
    members: dict[str, bytes | str] = {"bcf.version": VERSION_21, f"{TOPIC_GUID}/markup.bcf": markup_text}
    members.update({f"{TOPIC_GUID}/{name}": data for name, data in more.items()})
    return make_zip(members)


def reason(call: Callable[..., object], source: object, *, name: str = "upload.bcf", **kwargs: object) -> str:
    """Call ``call(source, name=name, ...)``, expect a ``BcfError`` whose message is one line
    ``"<name>: <reason>"``, and return the reason."""
    with pytest.raises(BcfError) as caught:
        call(source, name=name, **kwargs)
    message = str(caught.value)
    assert message.startswith(f"{name}: "), message
    assert "\n" not in message and "Traceback" not in message, message
    return caught.value.reason


def image(kind: str, size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A small PNG or JPEG."""
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="JPEG" if kind == "jpg" else "PNG")
    return buffer.getvalue()


def differences(actual: object, expected: object, path: str = "bcf") -> list[str]:
    """Where two records differ, as ``path: actual != expected`` lines (bytes by length)."""
    return list(_differences(actual, expected, path))


def _differences(actual: object, expected: object, path: str) -> Iterator[str]:
    if dataclasses.is_dataclass(actual) and type(actual) is type(expected):
        for field in dataclasses.fields(actual):
            yield from _differences(
                getattr(actual, field.name), getattr(expected, field.name), f"{path}.{field.name}"
            )
    elif isinstance(actual, tuple) and isinstance(expected, tuple):
        if len(actual) != len(expected):
            yield f"{path}: {len(actual)} items != {len(expected)}"
        for i, (a, e) in enumerate(zip(actual, expected, strict=False)):
            yield from _differences(a, e, f"{path}[{i}]")
    elif actual != expected:
        show = (lambda v: f"<{len(v)} bytes>") if isinstance(actual, bytes) else repr
        yield f"{path}: {show(actual)[:120]} != {show(expected)[:120]}"


# --------------------------------------------------------------------------- round trips


def _unique(*groups: object) -> tuple[str, ...]:
    values: list[str] = []
    for group in groups:
        values.extend(v for v in group if v)  # type: ignore[attr-defined]
    return tuple(dict.fromkeys(values))


def _snapshot_aspect(snapshot: bytes | None) -> float:
    if not snapshot:
        return 1.0
    with Image.open(io.BytesIO(snapshot)) as picture:
        return picture.width / picture.height


def expected_after(source: BcfFile, version: str) -> BcfFile:
    """What ``read_bcf(write_bcf(source, version=version))`` must give: ``source`` changed
    only where the version cannot carry a value or the schema demands one.

    * ``version`` is the one written.
    * 2.1: no ServerAssignedId, no camera AspectRatio, no document description (2.1 keeps
      documents as paths, without a document table).
    * 3.0: a missing TopicType/TopicStatus is written as ``"Unknown"`` (the schema requires
      both); a missing AspectRatio as the snapshot's width/height (else 1.0); a reference that
      is a path without its document in the file becomes a URL.
    * Extensions: when written (3.0 always, 2.1 when declared), the declared values plus the
      values the topics use, so each topic is valid against its file's own extensions.

    What a version keeps unchanged is not touched, so everything else (topics, comments,
    viewpoints, components by IfcGuid, cameras, snapshot bytes, labels, due date, stage,
    assigned_to, priority, type, status, header files, snippets, documents) must survive
    exactly. ``linked`` is applied to both sides on top of this.
    """
    v3 = version == "3.0"
    documents = {d.guid for d in source.documents}

    def camera(cam: BcfCamera | None, snapshot: bytes | None) -> BcfCamera | None:
        if cam is None:
            return None
        if not v3:
            return dataclasses.replace(cam, aspect_ratio=None)
        aspect = cam.aspect_ratio if cam.aspect_ratio is not None else _snapshot_aspect(snapshot)
        return dataclasses.replace(cam, aspect_ratio=aspect)

    def viewpoint(vp: BcfViewpoint) -> BcfViewpoint:
        return dataclasses.replace(vp, camera=camera(vp.camera, vp.snapshot))

    def reference(ref: BcfDocumentReference) -> BcfDocumentReference:
        attached = ref.document_guid is not None and ref.document_guid in documents
        if v3 and not attached and ref.url is None and ref.referenced_document is not None:
            return dataclasses.replace(ref, url=ref.referenced_document, referenced_document=None)
        return ref

    def topic(t: BcfTopic) -> BcfTopic:
        changes: dict[str, object] = {
            "viewpoints": tuple(viewpoint(vp) for vp in t.viewpoints),
            "document_references": tuple(reference(r) for r in t.document_references),
        }
        if v3:
            changes.update(topic_type=t.topic_type or "Unknown", topic_status=t.topic_status or "Unknown")
        else:
            changes.update(server_assigned_id=None)
        return dataclasses.replace(t, **changes)

    topics = tuple(topic(t) for t in source.topics)
    ext = source.extensions
    if v3 or any(dataclasses.astuple(ext)):
        ext = BcfExtensions(
            topic_types=_unique(ext.topic_types, [t.topic_type for t in topics]),
            topic_statuses=_unique(ext.topic_statuses, [t.topic_status for t in topics]),
            priorities=_unique(ext.priorities, [t.priority for t in topics]),
            labels=_unique(ext.labels, [label for t in topics for label in t.labels]),
            stages=_unique(ext.stages, [t.stage for t in topics]),
            users=_unique(ext.users, [t.assigned_to for t in topics]),
            snippet_types=_unique(
                ext.snippet_types, [t.bim_snippet.snippet_type for t in topics if t.bim_snippet]
            ),
        )
    docs = (
        source.documents if v3 else tuple(dataclasses.replace(d, description=None) for d in source.documents)
    )
    return dataclasses.replace(source, version=version, topics=topics, extensions=ext, documents=docs)


def linked(bcf: BcfFile) -> BcfFile:
    """``bcf`` with the path of attached documents left out: where a document lives in the
    archive is each version's layout (3.0 ``documents/<guid>``, 2.1 a path next to the
    topics); the link that matters is ``document_guid``, which is compared."""
    return dataclasses.replace(
        bcf,
        topics=tuple(
            dataclasses.replace(
                t,
                document_references=tuple(
                    dataclasses.replace(r, referenced_document=None) if r.document_guid else r
                    for r in t.document_references
                ),
            )
            for t in bcf.topics
        ),
    )


def documents_by_guid(bcf: BcfFile) -> dict[str, BcfDocument]:
    return {d.guid: d for d in bcf.documents}


def corpus_bcf(corpus: Path, name: str) -> Path:
    path = corpus / "bcf" / name
    assert path.is_file(), f"corpus file missing: {path}"
    return path
