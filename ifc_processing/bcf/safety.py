"""Opening an untrusted BCF upload: the zip checks, capped reads and the one XML parser.

A BCF file is a zip archive a user uploaded, so nothing in it is trusted until checked:

* the archive: not a zip at all, more members than ``max_members`` (counted from the end
  record *before* ``zipfile`` builds its member list), a member name that escapes the
  archive (absolute, drive letter, ``..``, backslash variants), a symlink, an encrypted
  member, a declared total size or compression ratio over the limits: all refused up front;
* every read: decompressed in chunks with a hard cap (the member limit, the remaining total
  and the compression-ratio cap), so a member whose header lies about its size is stopped
  after at most one chunk over the cap, and ``zipfile`` checks the CRC at the end;
* XML: parsed with ``defusedxml`` with DTDs forbidden, so no entity expansion (billion
  laughs), no external entity (``file:///etc/passwd``) and no network access can happen.

Nothing is ever extracted to disk; members are only read into memory by name. Members the
reader does not need (embedded IFC models, nested archives, ``__MACOSX``) are never opened.
"""

from __future__ import annotations

import contextlib
import io
import lzma
import posixpath
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as defused_etree
from defusedxml import DefusedXmlException

from .errors import BcfError, UnsafeBcfError

__all__ = ["BcfArchive", "BcfLimits", "open_archive", "parse_xml", "resolve_reference", "show"]

_MiB = 1 << 20
_CHUNK_BYTES = 64 * 1024
_MAX_NAME_CHARS = 1024  # longer member names are no file name a BCF tool writes
_DRIVE = re.compile(r"^[A-Za-z]:")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True, slots=True)
class BcfLimits:
    """What a BCF upload may hold. Every archive over a limit is refused with
    ``UnsafeBcfError``; the defaults hold the largest real exchanges we know of with room
    to spare, and keep one upload's memory and CPU bounded on a shared server."""

    # A topic folder holds a markup, a few viewpoints and their snapshots (~5 members): 20,000
    # members is ~4,000 topics, beyond any exchange a tool writes in one file; a zip with
    # millions of tiny members costs seconds and hundreds of MB just to list.
    max_members: int = 20_000
    # Sum of all members' declared sizes, and the cap on what is actually decompressed: a
    # few thousand snapshots (~250 kB each) plus an embedded IFC model fit; everything read
    # ends up in memory as records, so this bounds one upload's memory.
    max_total_bytes: int = 1024 * _MiB
    # One snapshot, bitmap or attached document: real snapshots are 50 kB-2 MB, attached PDFs
    # rarely over 50 MB.
    max_member_bytes: int = 64 * _MiB
    # One XML member (markup, viewpoint): the largest real viewpoints list ~100,000 components
    # (~6 MB); parsing a bigger XML tree costs seconds and ~10x its size in memory.
    max_xml_bytes: int = 16 * _MiB
    # Decompressed / compressed size of one member. Real members stay under 20:1 (XML that
    # repeats one element ~50:1); a zip bomb is ~1,000:1 (DEFLATE's maximum is ~1,032:1).
    max_ratio: float = 200.0
    # Members that expand to at most this are exempt from the ratio test: tiny, repetitive
    # files compress oddly well and cannot hurt at this size.
    ratio_exempt_bytes: int = 1 * _MiB


def show(name: str) -> str:
    """A member name as it may appear in a one-line message: control characters escaped,
    long names shortened."""
    text = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in name)
    return text if len(text) <= 120 else text[:80] + "…" + text[-30:]


def _normalise_member_name(raw: str) -> str:
    """The member's path with ``/`` separators, or ``ValueError`` naming why it is unsafe.

    Backslashes count as separators (old Windows zip tools write them, and a backslash path
    is how ``..\\..\\x`` or ``C:\\x`` sneak past ``/``-only checks)."""
    if "\x00" in raw:
        raise ValueError("contains a NUL character")
    if len(raw) > _MAX_NAME_CHARS:
        raise ValueError(f"is longer than {_MAX_NAME_CHARS} characters")
    name = raw.replace("\\", "/")
    if name.startswith("/"):
        raise ValueError("is an absolute path")
    if _DRIVE.match(name):
        raise ValueError("starts with a drive letter")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise ValueError("has a '..' component (zip slip)")
    if any(_DRIVE.match(part) for part in parts):
        raise ValueError("has a drive letter inside the path")
    return "/".join(parts) + ("/" if name.endswith("/") and parts else "")


def resolve_reference(folder: str, reference: str) -> str | None:
    """The archive path a relative reference written in ``folder`` points at (``"../x.ifc"``
    from a topic folder is ``"x.ifc"``), or ``None`` for a URL, an absolute or drive path, or
    one that climbs out of the archive. Never touches the file system."""
    ref = reference.strip().replace("\\", "/")
    if not ref or _URL.match(ref) or ref.startswith("/") or _DRIVE.match(ref):
        return None
    joined = posixpath.normpath(posixpath.join(folder, ref))
    if joined.startswith("../") or joined in ("..", ".") or joined.startswith("/"):
        return None
    return joined


def _declared_entry_count(stream: BinaryIO, size: int) -> int | None:
    """The member count the zip's end record declares (zip64 aware), or ``None`` when there
    is no end record (not a zip). Read before ``zipfile`` lists the members, which would
    otherwise cost time and memory proportional to a crafted count."""
    tail_bytes = min(size, 22 + 65535)
    stream.seek(size - tail_bytes)
    tail = stream.read(tail_bytes)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    (count,) = struct.unpack_from("<H", tail, at + 10)
    if count != 0xFFFF:
        return count
    locator = at - 20
    if locator < 0 or tail[locator : locator + 4] != b"PK\x06\x07":
        return count
    (record_offset,) = struct.unpack_from("<Q", tail, locator + 8)
    if record_offset + 56 > size:
        return count
    stream.seek(record_offset)
    record = stream.read(56)
    if record[:4] != b"PK\x06\x06":
        return count
    (count64,) = struct.unpack_from("<Q", record, 32)
    return count64


def _sniff(head: bytes) -> str:
    """What a non-zip upload most likely is, for the error message."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith((b"<?xml", b"<Markup", b"<VisualizationInfo")):
        return "an XML document (a BCF file is a zip archive of XML files)"
    if text.startswith(b"ISO-10303-21"):
        return "an IFC model"
    if head.startswith(b"\x89PNG"):
        return "a PNG image"
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if head.startswith((b"Rar!", b"7z\xbc\xaf")):
        return "a RAR/7z archive (a BCF file is a zip archive)"
    return "not a zip archive"


class BcfArchive:
    """The checked members of one BCF upload, read by name with hard caps."""

    def __init__(self, archive: zipfile.ZipFile, file_name: str, limits: BcfLimits) -> None:
        self._zip = archive
        self.file_name = file_name
        self.limits = limits
        self._infos: dict[str, zipfile.ZipInfo] = {}
        self._folded: dict[str, str] = {}
        self._read_bytes = 0
        self._cache: dict[str, bytes] = {}
        self._check_members()

    def _fail(self, reason: str) -> UnsafeBcfError:
        return UnsafeBcfError(self.file_name, reason)

    def _check_members(self) -> None:
        infos = self._zip.infolist()
        limits = self.limits
        if len(infos) > limits.max_members:
            raise self._fail(f"the archive has {len(infos)} members, more than {limits.max_members}")
        declared_total = 0
        for info in infos:
            try:
                name = _normalise_member_name(info.filename)
            except ValueError as exc:
                raise self._fail(f"member {show(info.filename)!r} {exc}") from None
            mode = info.external_attr >> 16
            if info.create_system == 3 and stat.S_ISLNK(mode):
                raise self._fail(f"member {show(name)!r} is a symbolic link")
            if info.flag_bits & 0x1:
                raise self._fail(f"member {show(name)!r} is encrypted")
            if not name or name.endswith("/") or name.startswith("__MACOSX/"):
                continue
            declared_total += info.file_size
            if declared_total > limits.max_total_bytes:
                raise self._fail(f"the members expand to more than {limits.max_total_bytes:,} bytes in total")
            ratio_cap = max(limits.max_ratio * max(info.compress_size, 1), limits.ratio_exempt_bytes)
            if info.file_size > ratio_cap:
                ratio = info.file_size / max(info.compress_size, 1)
                raise self._fail(
                    f"member {show(name)!r} expands {ratio:,.0f}:1 to {info.file_size:,} bytes "
                    f"(more than {limits.max_ratio:g}:1: a zip bomb?)"
                )
            if name in self._infos:
                raise self._fail(f"member {show(name)!r} appears twice in the archive")
            self._infos[name] = info
            self._folded.setdefault(name.casefold(), name)

    @property
    def names(self) -> list[str]:
        """Every file member (no folders), normalised, in archive order."""
        return list(self._infos)

    def find(self, path: str) -> str | None:
        """The member at ``path`` (exact, else ignoring case, as Windows tools write it)."""
        if path in self._infos:
            return path
        return self._folded.get(path.casefold())

    def read(self, path: str, *, xml: bool = False) -> bytes:
        """The bytes of member ``path`` (a name from ``names``/``find``), decompressed in
        chunks and stopped at the first chunk over a cap."""
        if path in self._cache:
            return self._cache[path]
        info = self._infos[path]
        limits = self.limits
        member_cap = limits.max_xml_bytes if xml else limits.max_member_bytes
        ratio_cap = max(int(limits.max_ratio * max(info.compress_size, 1)), limits.ratio_exempt_bytes)
        total_left = limits.max_total_bytes - self._read_bytes
        data = bytearray()
        try:
            with self._zip.open(info) as stream:
                while chunk := stream.read(_CHUNK_BYTES):
                    data += chunk
                    if len(data) > member_cap:
                        raise self._fail(f"member {show(path)!r} is larger than {member_cap:,} bytes")
                    if len(data) > ratio_cap:
                        raise self._fail(
                            f"member {show(path)!r} expands more than {limits.max_ratio:g}:1 (a zip bomb?)"
                        )
                    if len(data) > total_left:
                        raise self._fail(
                            f"the members expand to more than {limits.max_total_bytes:,} bytes in total"
                        )
        except UnsafeBcfError:
            raise
        except NotImplementedError as exc:
            raise BcfError(self.file_name, f"member {show(path)!r} cannot be read: {exc}") from None
        except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, ValueError) as exc:
            raise BcfError(self.file_name, f"member {show(path)!r} is corrupt ({exc})") from None
        self._read_bytes += len(data)
        result = bytes(data)
        self._cache[path] = result
        return result

    def read_xml(self, path: str) -> Element:
        """Member ``path`` parsed as XML (``BcfError`` naming the member if it is not)."""
        return parse_xml(self.read(path, xml=True), path, self.file_name)


@contextlib.contextmanager
def open_archive(
    source: Path | str | bytes | bytearray | memoryview | BinaryIO, file_name: str, limits: BcfLimits
) -> Iterator[BcfArchive]:
    """The checked archive of ``source`` (a path, the bytes, or a seekable binary file)."""
    with contextlib.ExitStack() as stack:
        if isinstance(source, bytes | bytearray | memoryview):
            stream: BinaryIO = io.BytesIO(bytes(source))
        elif isinstance(source, str | Path):
            path = Path(source)
            if not path.is_file():
                raise BcfError(file_name, "file not found" if not path.exists() else "not a regular file")
            try:
                stream = stack.enter_context(path.open("rb"))
            except OSError as exc:
                raise BcfError(file_name, f"cannot read the file: {exc.strerror or exc}") from None
        elif hasattr(source, "read") and hasattr(source, "seek"):
            stream = source
        else:
            raise TypeError(f"source must be a path, bytes or a binary file, not {type(source).__name__}")
        try:
            size = stream.seek(0, io.SEEK_END)
            stream.seek(0)
            head = stream.read(16)
            if size == 0:
                raise BcfError(file_name, "the file is empty")
            count = _declared_entry_count(stream, size)
        except OSError as exc:
            raise BcfError(file_name, f"cannot read the file: {exc.strerror or exc}") from None
        if count is None:
            raise BcfError(file_name, f"not a BCF file: {_sniff(head)}")
        if count > limits.max_members:
            raise UnsafeBcfError(
                file_name, f"the archive has {count} members, more than {limits.max_members}"
            )
        try:
            stream.seek(0)
            archive = stack.enter_context(zipfile.ZipFile(stream))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
            raise BcfError(file_name, f"not a BCF file: corrupt zip archive ({exc})") from None
        yield BcfArchive(archive, file_name, limits)


_XML_DECLARATION = re.compile(rb"^<\?xml[^>]*\?>")


def _prepare_xml(data: bytes) -> bytes:
    """UTF-8 bytes without BOM or leading blanks (expat refuses a declaration that is not at
    the very start, which some tools write); UTF-16 (with BOM) becomes UTF-8."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
        return _XML_DECLARATION.sub(b"", text.lstrip().encode("utf-8"), count=1)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.lstrip(b" \t\r\n")


def parse_xml(data: bytes, member: str, file_name: str) -> Element:
    """``data`` parsed with defusedxml, DTDs (hence entities) forbidden."""
    try:
        prepared = _prepare_xml(data)
    except UnicodeDecodeError:
        raise BcfError(file_name, f"{show(member)} is not well-formed XML (bad UTF-16 text)") from None
    for attempt in (prepared, _XML_DECLARATION.sub(b"", prepared, count=1)):
        try:
            return defused_etree.fromstring(attempt, forbid_dtd=True)
        except DefusedXmlException:
            raise UnsafeBcfError(
                file_name,
                f"{show(member)} declares a DTD or entities (refused: entity expansion and "
                "external entities are not allowed)",
            ) from None
        except ParseError as exc:
            error = exc
            # A declaration naming the wrong encoding (utf-16 on UTF-8 bytes) is a known tool
            # bug: retry once without the declaration, which makes expat read UTF-8.
            if "encoding" not in str(exc):
                break
    raise BcfError(file_name, f"{show(member)} is not well-formed XML ({error})")
