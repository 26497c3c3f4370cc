"""Processed geometry (GLB) by content-addressed URL.

The URL names the GLB's sha256, so its content never changes: a strong ETag (the hash)
and ``immutable`` caching are exact. A gzip variant is served to clients that accept it
when one was stored (it is only stored when it saves ≥ 10%); Range requests (resumed
downloads of large models) are answered from the uncompressed file.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import FileResponse

from ...domain.access import Capability
from ...domain.errors import NotFound, NotSatisfiable
from ...services import revisions as revision_service
from ..deps import ProjectAccess, ProjectScope, RuntimeDep, SessionDep
from ..encoding import accepts_gzip

router = APIRouter(prefix="/api/projects/{project_id}", tags=["geometry"])

Sha256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="sha256 of the GLB")]
# Private: a model is confidential to its project, so shared caches must not keep it.
_CACHE_CONTROL = "private, max-age=31536000, immutable"
_RANGE = re.compile(r"\d+-\d*|-\d+")


@router.get("/geometry/{sha256}.glb", response_class=FileResponse)
@router.head("/geometry/{sha256}.glb", include_in_schema=False)
def read_geometry(
    sha256: Sha256,
    request: Request,
    scope: Annotated[ProjectScope, Depends(ProjectAccess(Capability.READ))],
    runtime: RuntimeDep,
    session: SessionDep,
) -> Response:
    revision_service.check_geometry(session, project_id=scope.project.id, glb_sha256=sha256)
    identity = runtime.blobs.path(sha256)
    if identity is None:
        raise NotFound(f"the geometry {sha256} is missing from storage")
    ranged = _usable_range(request, identity.stat().st_size)
    gzipped = runtime.blobs.path(sha256, "gzip")
    use_gzip = gzipped is not None and not ranged and accepts_gzip(request)
    etag = f'"{sha256}-gzip"' if use_gzip else f'"{sha256}"'
    headers = {"ETag": etag, "Cache-Control": _CACHE_CONTROL, "Vary": "Accept-Encoding"}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    if use_gzip:
        headers["Content-Encoding"] = "gzip"
        return FileResponse(gzipped, media_type="model/gltf-binary", headers=headers)
    return FileResponse(identity, media_type="model/gltf-binary", headers=headers)


def _usable_range(request: Request, size: int) -> bool:
    """True if the request has a byte range for ``FileResponse`` to serve.

    A range in another unit, or one that does not parse, is ignored (RFC 9110 §14.2: the
    whole file is sent); a well-formed byte range entirely beyond the file is 416, as JSON
    like every other error. Starlette would answer both in plain text itself.
    """
    header = request.headers.get("range")
    if header is None:
        return False
    unit, _, ranges = header.partition("=")
    specs = [spec.strip() for spec in ranges.split(",")]
    if unit.strip().lower() != "bytes" or not all(_RANGE.fullmatch(spec) for spec in specs):
        _drop_header(request, b"range")
        return False
    starts = [int(spec.split("-")[0]) for spec in specs if not spec.startswith("-")]
    if starts and all(start >= size for start in starts):
        raise NotSatisfiable(f"the range {header!r} lies beyond the {size:,} bytes of the file", size=size)
    return True


def _drop_header(request: Request, name: bytes) -> None:
    request.scope["headers"] = [(k, v) for k, v in request.scope["headers"] if k != name]


def _matches(if_none_match: str | None, etag: str) -> bool:
    # Only the representation being sent: a client holding the other encoding's ETag
    # would otherwise be told its copy is this one.
    if not if_none_match:
        return False
    given = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in given or etag in given
