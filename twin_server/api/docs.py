"""Interactive API docs at ``/docs``, with Swagger UI served by this server.

Browser pages make no requests to other hosts (sites on closed networks, and no leaking
of who reads what), so the Swagger UI files come from the ``fastapi-offline`` package
instead of FastAPI's default CDN, and the online spec validator badge is off.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["mount_docs"]

_ASSETS = "/static/swagger-ui"
# fastapi-offline ships Swagger UI 5 (FastAPI's schema is OpenAPI 3.1, which Swagger UI 4 —
# e.g. the swagger-ui-bundle package — refuses to render); we use only its files.
_SWAGGER_DIR = Path(fastapi_offline.__file__).parent / "static"


def mount_docs(app: FastAPI) -> None:
    app.mount(_ASSETS, StaticFiles(directory=_SWAGGER_DIR), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url,
            title=f"{app.title} – docs",
            swagger_js_url=f"{_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{_ASSETS}/favicon.png",
            oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_ui_parameters={"persistAuthorization": True, "validatorUrl": None},
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
