"""Photos and attachments as evidence: stored byte for byte (content-hashed), photos with a
JPEG thumbnail and the camera's EXIF time read out. The original is never re-encoded, so
its sha256 stays the proof of what was uploaded."""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

from ..domain.errors import InvalidInput, TooLarge, UnsupportedFile
from ..storage import LocalBlobStore
from .issues import THUMBNAIL_MAX_PX, PhotoUpload

__all__ = ["IMAGE_TYPES", "MAX_PHOTO_BYTES", "MAX_PHOTO_PIXELS", "read_upload", "store_upload"]

MAX_PHOTO_BYTES = 20 * 1024 * 1024  # a 50-megapixel phone JPEG is ~15 MB; a scanned PDF report fits too
# 100 megapixels: above any phone or site camera; beyond it decoding for the thumbnail
# would take seconds and gigabytes (a "pixel bomb" in a tiny file).
MAX_PHOTO_PIXELS = 100_000_000
IMAGE_TYPES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}
# What an attachment (a test report, a drawing, a plan) may be, recognised by its first bytes;
# anything else is stored as opaque bytes and only ever served as a download.
_DOCUMENT_TYPES = {b"%PDF-": "application/pdf"}
_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 0x9003
_OFFSET_TIME_ORIGINAL = 0x9011
_DATETIME = 0x0132
_EXIF_TIME = re.compile(r"^(\d{4}):(\d\d):(\d\d) (\d\d:\d\d:\d\d)$")
_EXIF_OFFSET = re.compile(r"^[+-]\d\d:\d\d$")


def store_upload(blobs: LocalBlobStore, chunks: Iterator[bytes], *, file_name: str, role: str) -> PhotoUpload:
    """Store an uploaded file from ``chunks``: a JPEG/PNG photo (with its thumbnail and EXIF
    time) for the ``before``/``after`` roles, any file for ``attachment``.

    Raises ``UnsupportedFile`` for a photo that is not a JPEG or PNG, ``TooLarge`` over
    ``MAX_PHOTO_BYTES`` or ``MAX_PHOTO_PIXELS``, ``InvalidInput`` for a file that says it is an
    image but does not decode. Nothing is stored when it raises.
    """
    data = bytearray()
    for chunk in chunks:
        data += chunk
        if len(data) > MAX_PHOTO_BYTES:
            raise TooLarge(f"{file_name}: larger than {MAX_PHOTO_BYTES // 2**20} MB")
    image_type = next((kind for magic, kind in IMAGE_TYPES.items() if data.startswith(magic)), None)
    thumbnail_sha256 = exif_time = None
    if image_type is None:
        if role != "attachment":
            raise UnsupportedFile(
                f"{file_name}: a photo must be a JPEG or PNG image", code="unsupported_file_type"
            )
        content_type = next(
            (kind for magic, kind in _DOCUMENT_TYPES.items() if data.startswith(magic)),
            "application/octet-stream",
        )
    else:
        content_type = image_type
        thumbnail, exif_time = _thumbnail(bytes(data), file_name)
        with blobs.writer() as (out, thumb_done):
            out.write(thumbnail)
        thumbnail_sha256 = thumb_done.sha256
    with blobs.writer() as (out, done):
        out.write(data)
    return PhotoUpload(
        sha256=done.sha256,
        size_bytes=done.size,
        content_type=content_type,
        file_name=file_name[:255] or "photo",
        thumbnail_sha256=thumbnail_sha256,
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
                upright = _upright(image).convert("RGB")
                upright.thumbnail((THUMBNAIL_MAX_PX, THUMBNAIL_MAX_PX))
                out = io.BytesIO()
                upright.save(out, "JPEG", quality=80)
                return out.getvalue(), exif_time
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise TooLarge(f"{file_name}: the image is too large to decode") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidInput(f"{file_name}: the image is damaged and cannot be read ({exc})") from exc


def _upright(image: Image.Image) -> Image.Image:
    # The EXIF orientation turns the thumbnail upright; a damaged EXIF block (Pillow raises
    # TypeError, KeyError, ... on some) only costs the rotation, never the photo.
    try:
        return ImageOps.exif_transpose(image)
    except Exception:
        return image


def _exif_time(image: Image.Image) -> str | None:
    """DateTimeOriginal (else DateTime) as ISO, with OffsetTimeOriginal when present; None
    when absent or not in EXIF's own format (a damaged tag is not a time)."""
    try:
        exif = image.getexif()
        sub = exif.get_ifd(_EXIF_IFD)
        raw = sub.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
        offset = sub.get(_OFFSET_TIME_ORIGINAL)
    except Exception:  # Pillow raises many types for a damaged EXIF block
        return None
    match = _EXIF_TIME.match(raw.strip("\x00 ")) if isinstance(raw, str) else None
    if match is None:
        return None
    year, month, day, clock = match.groups()
    iso = f"{year}-{month}-{day}T{clock}"
    if isinstance(offset, str) and _EXIF_OFFSET.match(offset.strip("\x00 ")):
        iso += offset.strip("\x00 ")
    return iso


def read_upload(handle: BinaryIO, chunk_bytes: int = 1024 * 1024) -> Iterator[bytes]:
    while chunk := handle.read(chunk_bytes):
        yield chunk
