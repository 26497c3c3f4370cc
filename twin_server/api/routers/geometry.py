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
from ...domain.errors import NotFound
from ...services import revisions as revision_service
from ..deps import ProjectAccess, ProjectScope, RuntimeDep, SessionDep

router = APIRouter(prefix="/api/projects/{project_id}", tags=["geometry"])

Sha256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="sha256 of the GLB")]
# Private: a model is confidential to its project, so shared caches must not keep it.
_CACHE_CONTROL = "private, max-age=31536000, immutable"
_GZIP = re.compile(r"(?:^|,)\s*gzip\s*(?:;\s*q\s*=\s*(?P<q>[0-9.]+))?\s*(?:,|$)")


@router.get("/geometry/{sha256}.glb", response_class=FileResponse)
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
    gzipped = runtime.blobs.path(sha256, "gzip")
    use_gzip = gzipped is not None and "range" not in request.headers and _accepts_gzip(request)
    etag = f'"{sha256}-gzip"' if use_gzip else f'"{sha256}"'
    headers = {"ETag": etag, "Cache-Control": _CACHE_CONTROL, "Vary": "Accept-Encoding"}
    if _matches(request.headers.get("if-none-match"), {f'"{sha256}"', f'"{sha256}-gzip"'}):
        return Response(status_code=304, headers=headers)
    if use_gzip:
        headers["Content-Encoding"] = "gzip"
        return FileResponse(gzipped, media_type="model/gltf-binary", headers=headers)
    return FileResponse(identity, media_type="model/gltf-binary", headers=headers)


def _accepts_gzip(request: Request) -> bool:
    match = _GZIP.search(request.headers.get("accept-encoding", "").lower())
    if match is None:
        return False
    try:
        return float(match.group("q") or 1) > 0
    except ValueError:
        return False


def _matches(if_none_match: str | None, etags: set[str]) -> bool:
    if not if_none_match:
        return False
    given = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in given or bool(given & etags)
