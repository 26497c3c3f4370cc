"""Content-addressed blob storage for uploaded IFC files and processed GLBs.

A blob's name is the sha256 of its content, so a stored blob never changes: URLs built
from it can be cached forever, the same upload is stored once, and two processes writing
the same blob cannot corrupt each other (each writes a temporary file, then renames).
The local folder is the embedded default; scale-out deployments point ``root`` at
shared storage.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol

__all__ = ["BlobStore", "Encoding", "LocalBlobStore"]

Encoding = str  # "identity", "gzip"
_CHUNK = 1024 * 1024


class BlobStore(Protocol):
    """Where blobs live; see ``LocalBlobStore`` for the contract."""

    def put_file(self, source: Path, *, compress: bool = False) -> tuple[str, int]: ...

    def path(self, sha256: str, encoding: Encoding = "identity") -> Path | None: ...

    def exists(self, sha256: str) -> bool: ...


class LocalBlobStore:
    """Blobs in a local folder: ``<root>/<aa>/<sha256>`` (+ ``.gz`` when precompressed)."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def put_file(self, source: Path, *, compress: bool = False) -> tuple[str, int]:
        """Store ``source`` (copied, left in place); return ``(sha256, size in bytes)``.

        ``compress`` also stores a gzip variant when it is at least 10% smaller, for
        clients that accept it (a meshopt GLB shrinks by ~45%: Janesville 1.14 → 0.62 MB).
        """
        digest = hashlib.sha256()
        size = 0
        with source.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
        sha256 = digest.hexdigest()
        target = self._blob_path(sha256)
        if not target.exists():
            with self._staged(target) as staged, source.open("rb") as fh:
                shutil.copyfileobj(fh, staged, _CHUNK)
        if compress and not target.with_name(target.name + ".gz").exists():
            self._store_gzip(target, size)
        return sha256, size

    @contextmanager
    def writer(self) -> Iterator[tuple[BinaryIO, object]]:
        """Stream a new blob in: ``with store.writer() as (out, done): out.write(...)``.

        After the block, ``done.sha256`` and ``done.size`` describe the stored blob. Used
        for uploads, so a multi-GB file is hashed and stored in one pass.
        """
        digest = hashlib.sha256()
        result = _Written()
        handle, temp_name = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as raw:
                writer = _HashingWriter(raw, digest, result)
                yield writer, result
            result.sha256 = digest.hexdigest()
            target = self._blob_path(result.sha256)
            if target.exists():
                os.unlink(temp_name)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(temp_name, target)
        except BaseException:
            if os.path.exists(temp_name):
                os.unlink(temp_name)
            raise

    def path(self, sha256: str, encoding: Encoding = "identity") -> Path | None:
        """The file holding the blob (or its ``gzip`` variant), or ``None`` if absent."""
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            return None
        target = self._blob_path(sha256)
        if encoding == "gzip":
            target = target.with_name(target.name + ".gz")
        return target if target.is_file() else None

    def exists(self, sha256: str) -> bool:
        return self.path(sha256) is not None

    def _blob_path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    @contextmanager
    def _staged(self, target: Path) -> Iterator[BinaryIO]:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".staging-")
        try:
            with os.fdopen(handle, "wb") as out:
                yield out
            os.replace(temp_name, target)
        except BaseException:
            if os.path.exists(temp_name):
                os.unlink(temp_name)
            raise

    def _store_gzip(self, target: Path, size: int) -> None:
        gz_target = target.with_name(target.name + ".gz")
        with (
            self._staged(gz_target) as out,
            gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9, mtime=0) as packed,
            target.open("rb") as raw,
        ):
            shutil.copyfileobj(raw, packed, _CHUNK)
        # Not worth a second representation (and a second ETag) for < 10% savings.
        if gz_target.stat().st_size > 0.9 * size:
            gz_target.unlink()


class _Written:
    sha256: str = ""
    size: int = 0


class _HashingWriter:
    def __init__(self, raw: BinaryIO, digest, result: _Written) -> None:
        self._raw = raw
        self._digest = digest
        self._result = result

    def write(self, data: bytes) -> int:
        self._digest.update(data)
        self._result.size += len(data)
        return self._raw.write(data)
