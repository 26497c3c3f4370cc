"""Streaming multipart upload of an IFC file straight into the blob store.

Written on ``python_multipart``'s low-level parser rather than FastAPI's ``UploadFile``
because ``UploadFile`` first spools the whole body to a temporary file: a 2 GB model
would be written twice and the size limit would only bite after all of it arrived. Here
the file part is hashed and written once, and refused as soon as it passes the limit or
its first bytes are not an IFC.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import PurePath

from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header

from ..domain.errors import InvalidInput, TooLarge, UnsupportedFile
from ..storage import LocalBlobStore

__all__ = ["ACCEPTED_SUFFIXES", "ReceivedFile", "receive_ifc_upload"]

#: File name suffix → how the content must start.
ACCEPTED_SUFFIXES = {".ifc": (b"ISO-10303-21",), ".ifczip": (b"PK\x03\x04",)}
_SNIFF_BYTES = 64  # enough for a BOM, blank lines and the STEP header keyword
_MAX_FIELD_BYTES = 4096
#: The text fields an upload may carry besides the file.
TEXT_FIELDS = frozenset({"label"})


@dataclass(slots=True)
class ReceivedFile:
    file_name: str
    sha256: str
    size: int
    fields: dict[str, str] = field(default_factory=dict)


class _Receiver:
    """Callbacks for ``MultipartParser``: text fields into memory, the file into a blob."""

    def __init__(self, blobs: LocalBlobStore, max_bytes: int) -> None:
        self.blobs = blobs
        self.max_bytes = max_bytes
        self.fields: dict[str, str] = {}
        self.file: ReceivedFile | None = None
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._part: _Part | None = None

    # --- parser callbacks -------------------------------------------------------------
    def on_part_begin(self) -> None:
        self._headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_name.strip().lower()] = self._header_value.strip()
        self._header_name = self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if filename is None:
            # Only the known fields are read: a body of thousands of fields must not pile
            # up in memory before it is refused.
            if name not in TEXT_FIELDS or name in self.fields:
                raise InvalidInput(f"unexpected form field {name!r}: send 'file' and optionally 'label'")
            self._part = _FieldPart(name)
            return
        if self.file is not None or isinstance(self._part, _FilePart):
            raise InvalidInput("send one file per upload")
        self._part = _FilePart(name, _clean_file_name(filename.decode("utf-8", "replace")), self)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._part is not None:
            self._part.write(data[start:end])

    def on_part_end(self) -> None:
        part, self._part = self._part, None
        if isinstance(part, _FieldPart):
            self.fields[part.name] = part.text()
        elif isinstance(part, _FilePart):
            self.file = part.finish()

    def abort(self) -> None:
        if isinstance(self._part, _FilePart):
            self._part.discard()


class _Part:
    def write(self, data: bytes) -> None: ...


class _FieldPart(_Part):
    def __init__(self, name: str) -> None:
        self.name = name
        self._data = bytearray()

    def write(self, data: bytes) -> None:
        self._data += data
        if len(self._data) > _MAX_FIELD_BYTES:
            raise InvalidInput(f"the form field {self.name!r} is longer than {_MAX_FIELD_BYTES} bytes")

    def text(self) -> str:
        try:
            text = self._data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(f"the form field {self.name!r} is not UTF-8 text") from None
        if "\x00" in text:
            raise InvalidInput(f"the form field {self.name!r} contains a NUL character")
        return text


class _FilePart(_Part):
    def __init__(self, name: str, file_name: str, receiver: _Receiver) -> None:
        suffix = PurePath(file_name).suffix.lower()
        if suffix not in ACCEPTED_SUFFIXES:
            raise UnsupportedFile(
                f"{file_name!r} is not an IFC model: upload a .ifc or .ifczip file",
                code="unsupported_file_type",
            )
        self.file_name = file_name
        self._magic = ACCEPTED_SUFFIXES[suffix]
        self._max_bytes = receiver.max_bytes
        self._head = bytearray()
        self._writer = receiver.blobs.writer()
        self._out, self._done = self._writer.__enter__()

    def write(self, data: bytes) -> None:
        if len(self._head) < _SNIFF_BYTES:
            self._head += data[: _SNIFF_BYTES - len(self._head)]
            if len(self._head) >= _SNIFF_BYTES:
                self._check_magic()
        if self._done.size + len(data) > self._max_bytes:
            raise TooLarge(f"the file is larger than the upload limit of {self._max_bytes:,} bytes")
        self._out.write(data)

    def finish(self) -> ReceivedFile:
        self._check_magic()
        if self._done.size == 0:
            self.discard()
            raise InvalidInput(f"{self.file_name!r} is empty")
        self._writer.__exit__(None, None, None)
        return ReceivedFile(self.file_name, self._done.sha256, self._done.size)

    def discard(self) -> None:
        error = InvalidInput("upload abandoned")
        with contextlib.suppress(InvalidInput):
            self._writer.__exit__(type(error), error, None)

    def _check_magic(self) -> None:
        head = bytes(self._head).lstrip(b"\xef\xbb\xbf").lstrip()
        if not any(head.startswith(magic) for magic in self._magic):
            kind = "a STEP file (ISO-10303-21)" if self._magic[0].startswith(b"ISO") else "a zip archive"
            raise UnsupportedFile(
                f"{self.file_name!r} does not look like {kind}", code="unsupported_file_type"
            )


async def receive_ifc_upload(request: Request, *, blobs: LocalBlobStore, max_bytes: int) -> ReceivedFile:
    """Read a ``multipart/form-data`` body with one IFC file part and small text fields.

    The file is stored in ``blobs`` as it streams (a stored blob is content-addressed, so
    storing a file that turns out to be a duplicate costs nothing). Raises
    ``UnsupportedFile`` (not multipart, not .ifc/.ifczip, wrong magic bytes), ``TooLarge``
    or ``InvalidInput`` (no file, empty file, malformed body).
    """
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise UnsupportedFile(
            "send the model as multipart/form-data with a 'file' part", code="unsupported_media_type"
        )
    receiver = _Receiver(blobs, max_bytes)
    callbacks = {
        name: getattr(receiver, name)
        for name in (
            "on_part_begin",
            "on_part_data",
            "on_part_end",
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
        )
    }
    parser = MultipartParser(boundary, callbacks)
    try:
        # Chunks are written synchronously: each is at most a socket read (~64 KB) and
        # lands in the page cache, cheaper than a thread hop per chunk.
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except (InvalidInput, UnsupportedFile, TooLarge):
        receiver.abort()
        raise
    except Exception as exc:  # python_multipart's parse errors
        receiver.abort()
        raise InvalidInput(f"the multipart body is malformed: {exc}") from None
    if receiver.file is None:
        raise InvalidInput("the form has no file part: send the model as the 'file' field")
    receiver.file.fields = receiver.fields
    return receiver.file


def _clean_file_name(name: str) -> str:
    # Browsers on Windows may send a full path; keep the last component only.
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name or len(name) > 255 or any(ord(c) < 32 for c in name):
        raise InvalidInput("the uploaded file needs a plain file name")
    return name
