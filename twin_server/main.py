"""The FastAPI application: ``create_app(settings)``.

    uvicorn --factory twin_server.main:create_app      (or ``twin serve``)

The runtime (database, blobs, queue, caches) is built, and the database migrated, when
the app is created; the lifespan starts the in-process job consumer in embedded mode and
releases everything at shutdown.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import Scope

from .api.docs import mount_docs
from .api.errors import install_error_handlers
from .api.middleware import RequestContextMiddleware
from .api.pages import mount_pages
from .api.routers import ROUTERS
from .config import DEVELOPMENT_SECRET, Settings
from .runtime import Runtime, build_runtime

__all__ = ["create_app"]

log = logging.getLogger(__name__)
# Requests that carry files (IFC revisions, schedules, GlobalId tables, photos, BCF): these get
# the upload limit, everything else the small request limit.
_UPLOAD_PATH = re.compile(
    r"^/api/projects/[^/]+/(models/[^/]+/revisions|schedules/import|schedules/[^/]+/links/table"
    r"|elements/[^/]+/installed|issues/[^/]+/photos|bcf/import)/?$"
)
_MULTIPART_OVERHEAD = 1024 * 1024  # boundaries, part headers and text fields around the file

DESCRIPTION = """
Erji Twin (二级孪生): organisations, projects, IFC model revisions, elements and geometry.

Authenticate with `POST /api/auth/token` (OAuth2 password flow; the **Authorize** button
below) and send `Authorization: Bearer <token>`. Every error is JSON
`{"error": code, "detail": ...}`.
"""


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    """The API application. ``settings`` default to the ``TWIN_*`` environment."""
    settings = settings or Settings()
    runtime = runtime or build_runtime(settings)
    if settings.development and settings.secret_key == DEVELOPMENT_SECRET:
        log.warning("development mode: using the built-in secret key; never expose this server")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.queue == "embedded":
            runtime.queue.start_in_process()
            log.info("processing jobs in this process (embedded SQLite queue)")
        try:
            yield
        finally:
            runtime.close()

    app = FastAPI(
        title="Erji Twin API",
        description=DESCRIPTION,
        version="0.1.0",
        lifespan=lifespan,
        # FastAPI's own pages load Swagger UI and ReDoc from a CDN; ours are local.
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.settings = settings
    install_error_handlers(app)
    mount_docs(app)
    for router in ROUTERS:
        app.include_router(router)
    mount_pages(app, runtime)

    def body_limit(scope: Scope) -> int:
        if scope["method"] in ("POST", "PUT") and _UPLOAD_PATH.match(scope["path"]):
            return settings.max_upload_bytes + _MULTIPART_OVERHEAD
        return settings.max_request_bytes

    app.add_middleware(RequestContextMiddleware, body_limit=body_limit)
    return app
