"""Photos as evidence: stored byte-for-byte (content-hashed), with a JPEG thumbnail and the
camera's EXIF time read out. The original is never re-encoded, so its sha256 stays the
proof of what was uploaded."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

from ..domain.errors import InvalidInput, TooLarge, UnsupportedFile
from ..storage import LocalBlobStore
from .issues import THUMBNAIL_MAX_PX, PhotoUpload

__all__ = ["MAX_PHOTO_BYTES", "MAX_PHOTO_PIXELS", "store_photo"]

MAX_PHOTO_BYTES = 20 * 1024 * 1024  # a 50-megapixel phone JPEG is ~15 MB
# 100 megapixels: above any phone or site camera; beyond it decoding for the thumbnail
# would take seconds and gigabytes (a "pixel bomb" in a tiny file).
MAX_PHOTO_PIXELS = 100_000_000
_MAGIC = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}
_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 0x9003
_OFFSET_TIME_ORIGINAL = 0x9011
_DATETIME = 0x0132


def store_photo(blobs: LocalBlobStore, chunks: Iterator[bytes], *, file_name: str) -> PhotoUpload:
    """Store an uploaded JPEG/PNG from ``chunks`` and its thumbnail; read its EXIF time.

    Raises ``UnsupportedFile`` for anything but JPEG/PNG, ``TooLarge`` over
    ``MAX_PHOTO_BYTES`` or ``MAX_PHOTO_PIXELS``, ``InvalidInput`` for a file that says it
    is an image but does not decode.
    """
    data = bytearray()
    for chunk in chunks:
        data += chunk
        if len(data) > MAX_PHOTO_BYTES:
            raise TooLarge(f"the photo is larger than {MAX_PHOTO_BYTES // 2**20} MB")
    content_type = next((kind for magic, kind in _MAGIC.items() if data.startswith(magic)), None)
    if content_type is None:
        raise UnsupportedFile(
            f"{file_name}: a photo must be a JPEG or PNG image", code="unsupported_file_type"
        )
    thumbnail, exif_time = _thumbnail(bytes(data), file_name)
    with blobs.writer() as (out, done):
        out.write(data)
    with blobs.writer() as (out, thumb_done):
        out.write(thumbnail)
    return PhotoUpload(
        sha256=done.sha256,
        size_bytes=done.size,
        content_type=content_type,
        file_name=file_name[:255] or "photo",
        thumbnail_sha256=thumb_done.sha256,
        exif_time=exif_time,
    )


def _thumbnail(data: bytes, file_name: str) -> tuple[bytes, str | None]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > MAX_PHOTO_PIXELS:
                    raise TooLarge(f"{file_name}: {width}×{height} pixels is more than a photo needs")
                exif_time = _exif_time(image)
                image.draft("RGB", (THUMBNAIL_MAX_PX * 2, THUMBNAIL_MAX_PX * 2))  # JPEG: decode at 1/2…1/8
                upright = ImageOps.exif_transpose(image).convert("RGB")
                upright.thumbnail((THUMBNAIL_MAX_PX, THUMBNAIL_MAX_PX))
                out = io.BytesIO()
                upright.save(out, "JPEG", quality=80)
                return out.getvalue(), exif_time
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise TooLarge(f"{file_name}: the image is too large to decode") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidInput(f"{file_name}: the image is damaged and cannot be read ({exc})") from exc


def _exif_time(image: Image.Image) -> str | None:
    """DateTimeOriginal (else DateTime) as ISO, with OffsetTimeOriginal when present."""
    exif = image.getexif()
    sub = exif.get_ifd(_EXIF_IFD)
    raw = sub.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
    if not isinstance(raw, str) or len(raw.strip("\x00 ")) < 19:
        return None
    raw = raw.strip("\x00 ")
    # EXIF writes "YYYY:MM:DD HH:MM:SS"; the colons in the date become dashes.
    iso = f"{raw[0:4]}-{raw[5:7]}-{raw[8:10]}T{raw[11:19]}"
    offset = sub.get(_OFFSET_TIME_ORIGINAL)
    if isinstance(offset, str) and len(offset.strip("\x00 ")) == 6:
        iso += offset.strip("\x00 ")
    return iso[:40]


def read_upload(handle: BinaryIO, chunk_bytes: int = 1024 * 1024) -> Iterator[bytes]:
    while chunk := handle.read(chunk_bytes):
        yield chunk
