"""Open ``.ifc`` / ``.ifczip`` files, refusing the ones that would silently lose data.

ifcopenshell is lenient: a file cut off in the middle of its DATA section opens with
whatever came before the cut, raw UTF-8 text becomes ``''``, and a stray ``/*`` can
swallow the rest of a file without an error (the corpus' ``bimserver_errorfile.ifc``
parses 7 of its ~6,000 instances). A twin built on such a model is wrong without anyone
knowing, so this module checks the bytes before and after parsing and raises an
``IfcOpenError`` naming the file, the place and the reason instead.
"""

from __future__ import annotations

import json
import re
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import ifcopenshell
import ifcopenshell.ifcopenshell_wrapper as wrapper

from .errors import EncodingError, IfcOpenError, UnsupportedSchemaError

__all__ = ["SUPPORTED_SCHEMAS", "LoadedModel", "open_model"]

#: Schema identifiers we process and test (IFC4X3 means its final ADD2 release).
SUPPORTED_SCHEMAS = ("IFC2X3", "IFC4", "IFC4X3_ADD2")

_STEP_MAGIC = b"ISO-10303-21;"
_STEP_END = b"END-ISO-10303-21;"
_ZIP_MAGIC = b"PK\x03\x04"
_BLOCK_BYTES = 64 * 1024 * 1024  # the scan reads this much at a time, whatever the file size
_OVERLAP_BYTES = 64  # kept between blocks: longer than any pattern below
# \X\80..\X\9F are C1 control characters in ISO 8859-1: no real text contains them. Seeing
# them means a legacy code page (Shift-JIS, GBK, ...) was smuggled through 8-bit escapes,
# and every such string would reach users garbled.
_C1_ESCAPE = re.compile(rb"\\X\\[89][0-9A-Fa-f]")
_NON_ASCII = re.compile(rb"[\x80-\xff]+")
_ENTITY_LINE = re.compile(rb"\n#\d+\s*=")
_X2_RUN = re.compile(rb"\\X2\\((?:[0-9A-Fa-f]{4})+)\\X0\\")
# A UTF-16 surrogate code unit (D800-DFFF) on a 4-digit boundary inside a \X2\ escape.
_X2_SURROGATE = re.compile(rb"\\X2\\(?:[0-9A-Fa-f]{4})*?[Dd][89ABab][0-9A-Fa-f]{2}")
# A parsed model holding fewer instances than this share of the `#n=` lines in the file
# lost part of its DATA section (e.g. to an unterminated comment). 0.9 leaves room for
# lines that merely start with '#' inside long strings.
_MIN_PARSED_SHARE = 0.9
_DEFAULT_MAX_UNZIPPED_BYTES = 8 * 1024**3  # refuse zip members that inflate beyond 8 GiB

_KNOWN_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"%PDF": "a PDF document",
    b"\xff\xd8\xff": "a JPEG image",
    b"\x1f\x8b": "a gzip archive",
    b"Rar!": "a RAR archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
    b"<?xml": "an XML document (ifcXML is not supported; export IFC-SPF .ifc)",
    b"{": "a JSON document",
}


@dataclass(slots=True)
class LoadedModel:
    """An open IFC model plus what was noticed while opening it.

    ``warnings`` are user-facing notes (e.g. text re-encoded); ``parser_errors`` are
    error-level messages of the ifcopenshell parser for instances it had to skip.
    """

    file: ifcopenshell.file
    path: Path
    schema: str
    warnings: list[str] = field(default_factory=list)
    parser_errors: list[str] = field(default_factory=list)


@contextmanager
def open_model(
    path: str | Path,
    *,
    work_dir: str | Path | None = None,
    max_unzipped_bytes: int = _DEFAULT_MAX_UNZIPPED_BYTES,
) -> Iterator[LoadedModel]:
    """Open an IFC-SPF (``.ifc``) or zipped (``.ifczip``) file after checking its bytes.

    Temporary copies (a zip member, re-encoded text) live in ``work_dir`` (default: the
    system temp folder) and are removed when the context exits.

    Raises ``IfcOpenError`` (file missing, empty, not IFC, corrupt zip, truncated,
    partly unparseable), ``EncodingError`` or ``UnsupportedSchemaError``.

    Example::

        with open_model("building.ifczip") as loaded:
            print(loaded.schema, len(loaded.file.by_type("IfcWall")))
    """
    path = Path(path)
    if not path.is_file():
        raise IfcOpenError(path, "file not found" if not path.exists() else "not a regular file")
    if path.stat().st_size == 0:
        raise IfcOpenError(path, "file is empty")

    with tempfile.TemporaryDirectory(prefix="ifc-open-", dir=work_dir) as tmp:
        step_path = path
        with path.open("rb") as fh:
            head = fh.read(4096)
        if head.startswith(_ZIP_MAGIC):
            step_path = _extract_zip_member(path, Path(tmp), max_unzipped_bytes=max_unzipped_bytes)
            with step_path.open("rb") as fh:
                head = fh.read(4096)
        _check_magic(path, head)

        scan = _scan_step_bytes(path, step_path)
        warnings: list[str] = []
        if scan.needs_rewrite:
            step_path = _rewrite_text(path, step_path, Path(tmp) / "reencoded.ifc")
            warnings.append(
                "text was re-encoded as ISO 10303-21 escapes ifcopenshell reads (the exporter wrote raw "
                "UTF-8 bytes or UTF-16 surrogate pairs); nothing was lost"
            )

        wrapper.set_log_format_json()
        wrapper.get_log()  # drop messages left by earlier work in this process
        try:
            model = ifcopenshell.open(str(step_path))
        except ifcopenshell.SchemaError as exc:
            supported = ", ".join(SUPPORTED_SCHEMAS)
            raise UnsupportedSchemaError(path, f"{_first_line(exc)}; supported: {supported}") from exc
        except (ifcopenshell.Error, OSError, RuntimeError) as exc:
            raise IfcOpenError(path, f"cannot parse the file: {_first_line(exc)}{_log_hint()}") from exc
        parser_errors = _drain_log_errors()

        schema = model.schema_identifier
        if schema not in SUPPORTED_SCHEMAS:
            raise UnsupportedSchemaError(
                path, f"schema {schema} is not supported; supported: {', '.join(SUPPORTED_SCHEMAS)}"
            )
        _check_parsed_share(path, step_path, model, scan.line_starts, parser_errors)
        yield LoadedModel(model, path, schema, warnings, parser_errors)


@dataclass(slots=True)
class _ByteScan:
    line_starts: int  # lines starting with '#': at least the number of entity instances
    needs_rewrite: bool


def _check_magic(path: Path, head: bytes) -> None:
    body = head.lstrip(b"\xef\xbb\xbf \t\r\n")  # tolerate a UTF-8 BOM and blank lines
    if body.startswith(_STEP_MAGIC):
        return
    for magic, what in _KNOWN_MAGIC.items():
        if body.startswith(magic):
            raise IfcOpenError(path, f"not an IFC file: this is {what}")
    raise IfcOpenError(path, "not an IFC file: it does not start with ISO-10303-21;")


def _extract_zip_member(path: Path, tmp: Path, *, max_unzipped_bytes: int) -> Path:
    """Copy the single ``.ifc`` member of an ``.ifczip`` to ``tmp``, capping its size."""
    try:
        with zipfile.ZipFile(path) as archive:
            # Finder's zips carry __MACOSX/._name resource forks next to the real files.
            members = [
                i
                for i in archive.infolist()
                if not i.is_dir()
                and not i.filename.startswith("__MACOSX/")
                and not Path(i.filename).name.startswith("._")
            ]
            ifc_members = [i for i in members if i.filename.lower().endswith(".ifc")]
            if not ifc_members:
                if any(i.filename.lower().endswith(".ifcxml") for i in members):
                    raise IfcOpenError(path, "zip holds ifcXML, which is not supported; export IFC-SPF")
                names = ", ".join(i.filename for i in members[:5]) or "nothing"
                raise IfcOpenError(path, f"zip archive holds no .ifc file (it holds {names})")
            if len(ifc_members) > 1:
                names = ", ".join(i.filename for i in ifc_members[:5])
                count = len(ifc_members)
                raise IfcOpenError(path, f"zip archive holds {count} .ifc files ({names}); upload one")
            member = ifc_members[0]
            target = tmp / "member.ifc"
            written = 0
            with archive.open(member) as src, target.open("wb") as dst:
                # Count inflated bytes ourselves: the size in the zip directory can lie.
                while chunk := src.read(1024 * 1024):
                    written += len(chunk)
                    if written > max_unzipped_bytes:
                        raise IfcOpenError(
                            path, f"zip member {member.filename} inflates beyond {max_unzipped_bytes:,} bytes"
                        )
                    dst.write(chunk)
            return target
    except zipfile.BadZipFile as exc:
        raise IfcOpenError(path, f"corrupt zip archive: {_first_line(exc)}") from exc
    except RuntimeError as exc:  # zipfile's way of saying "encrypted, password required"
        raise IfcOpenError(
            path, f"zip archive is password-protected or unreadable: {_first_line(exc)}"
        ) from exc
    except (NotImplementedError, EOFError, zipfile.LargeZipFile, zlib.error) as exc:
        raise IfcOpenError(path, f"unreadable zip archive: {_first_line(exc)}") from exc


def _scan_step_bytes(path: Path, step_path: Path) -> _ByteScan:
    """One pass over the bytes: termination, encoding and the number of entity lines."""
    size = step_path.stat().st_size
    with step_path.open("rb") as fh:
        fh.seek(max(0, size - 4096))
        tail = fh.read()
    if _STEP_END not in tail:
        raise IfcOpenError(
            path,
            f"file is truncated: it ends without END-ISO-10303-21; (its last line is {_last_line(tail)!r})",
        )

    line_starts = 0
    needs_rewrite = False
    offset = 0
    previous = b""
    with step_path.open("rb") as fh:
        while block := fh.read(_BLOCK_BYTES):
            window = previous + block
            # Lines starting with '#': an upper bound of the entity count (a wrapped
            # reference list also starts lines with '#'), exact enough to pass good files
            # at C speed; _check_parsed_share recounts precisely if it looks short.
            line_starts += block.count(b"\n#") + (1 if previous.endswith(b"\n") and block[:1] == b"#" else 0)
            needs_rewrite = (
                needs_rewrite
                or not block.isascii()
                or (b"\\X2\\" in window and _X2_SURROGATE.search(window) is not None)
            )
            if match := _C1_ESCAPE.search(window):
                at = offset - len(previous) + match.start()
                escape = window[match.start() : match.end() + 1].decode("ascii", "replace")
                raise EncodingError(
                    path,
                    f"line {_line_at(step_path, at)}: text uses {escape} "
                    "escapes, control characters in ISO 8859-1: the text was written in a legacy code page "
                    "(e.g. Shift-JIS or GBK) and would be garbled; re-export with UTF-8 (\\X2\\) text",
                )
            offset += len(block)
            previous = block[-_OVERLAP_BYTES:]
    return _ByteScan(line_starts=line_starts, needs_rewrite=needs_rewrite)


def _rewrite_text(path: Path, step_path: Path, target: Path) -> Path:
    """Rewrite text ifcopenshell would lose into escapes it reads, in a copy.

    * Raw non-ASCII runs (exporters writing UTF-8 bytes into strings) become
      ``\\X2\\``/``\\X4\\`` escapes. Such bytes can only sit inside strings or comments, so
      escaping every run is safe; runs that are not valid UTF-8 mean an unknown code page,
      and the file is refused.
    * ``\\X2\\`` escapes holding UTF-16 surrogate pairs (characters beyond U+FFFF, e.g. rare
      CJK ideographs) become ``\\X4\\``: ifcopenshell drops surrogates without a word.
    * A UTF-8 byte order mark is dropped (the STEP header must come first).

    This reads the whole file into memory, which only files that need it pay for.
    """
    data = step_path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]

    def line_of(offset: int) -> int:
        return data.count(b"\n", 0, offset) + 1

    def escape_raw(match: re.Match[bytes]) -> bytes:
        try:
            text = match.group().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise EncodingError(
                path,
                f"line {line_of(match.start())}: bytes {match.group()[:4].hex(' ')} are neither "
                "ISO 10303-21 nor UTF-8 text; re-export the file with UTF-8 text",
            ) from exc
        return _escape(text)

    def widen_x2(match: re.Match[bytes]) -> bytes:
        try:
            text = bytes.fromhex(match.group(1).decode("ascii")).decode("utf-16-be")
        except (ValueError, UnicodeDecodeError) as exc:
            raise EncodingError(
                path, f"line {line_of(match.start())}: a \\X2\\ escape holds an unpaired UTF-16 surrogate"
            ) from exc
        return _escape(text)

    data = _NON_ASCII.sub(escape_raw, data)
    data = _X2_RUN.sub(lambda m: widen_x2(m) if _X2_SURROGATE.match(m.group()) else m.group(), data)
    target.write_bytes(data)
    return target


def _escape(text: str) -> bytes:
    """ISO 10303-21 escape of ``text``: \\X2\\ (UTF-16) if it fits the BMP, else \\X4\\."""
    if all(ord(ch) <= 0xFFFF for ch in text):
        return b"\\X2\\" + text.encode("utf-16-be").hex().upper().encode() + b"\\X0\\"
    return b"\\X4\\" + text.encode("utf-32-be").hex().upper().encode() + b"\\X0\\"


def _check_parsed_share(
    path: Path, step_path: Path, model: ifcopenshell.file, line_starts: int, parser_errors: list[str]
) -> None:
    parsed = len(model.entity_names())  # a tuple of ids: ~0.1 µs each, unlike list(model)
    if line_starts and parsed < _MIN_PARSED_SHARE * line_starts:
        entity_lines = _count_entity_lines(step_path)  # exact, slower: only when it looks short
    else:
        return
    if entity_lines and parsed < _MIN_PARSED_SHARE * entity_lines:
        where = _first_unparsed_line(step_path, model)
        hint = f"; parser: {parser_errors[0]}" if parser_errors else ""
        raise IfcOpenError(
            path,
            f"only {parsed:,} of {entity_lines:,} entity instances could be parsed; "
            f"the first one lost starts at line {where} (an unterminated comment or a syntax error "
            f"before it){hint}",
        )


def _count_entity_lines(step_path: Path) -> int:
    """Number of ``#n=`` entity lines, reading the file a block at a time."""
    count = 0
    previous = b""
    with step_path.open("rb") as fh:
        while block := fh.read(_BLOCK_BYTES):
            window = previous + block
            # A match crossing from the overlap into this block was not counted with the
            # previous block; one lying inside the overlap already was.
            count += sum(1 for m in _ENTITY_LINE.finditer(window) if m.end() > len(previous))
            previous = block[-_OVERLAP_BYTES:]
    return count


def _first_unparsed_line(step_path: Path, model: ifcopenshell.file) -> int | str:
    # Only reached for a file already known to be broken: reading it whole is acceptable.
    entity = re.compile(rb"^#(\d+)\s*=", re.MULTILINE)
    data = step_path.read_bytes()
    for match in entity.finditer(data):
        try:
            model.by_id(int(match.group(1)))
        except RuntimeError:
            return data.count(b"\n", 0, match.start()) + 1
    return "?"


def _last_line(tail: bytes) -> str:
    line = tail.rstrip().rsplit(b"\n", 1)[-1].decode("ascii", "replace")
    return line if len(line) <= 60 else "…" + line[-59:]


def _line_at(step_path: Path, offset: int) -> int:
    with step_path.open("rb") as fh:
        return fh.read(offset).count(b"\n") + 1


def _drain_log_errors() -> list[str]:
    """Error-level messages the ifcopenshell parser logged since the last drain."""
    errors = []
    for line in wrapper.get_log().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("level") == "error":
            errors.append(entry.get("message", "").strip())
    return errors


def _log_hint() -> str:
    errors = _drain_log_errors()
    return f" ({errors[0]})" if errors else ""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().strip("'\"") or type(exc).__name__
    return text.splitlines()[0]
