"""The one place where errors become HTTP responses: ``{"error": code, "detail": ...}``.

Domain errors map by class; request validation is 422 with the offending fields; routing
errors (unknown path, wrong method) keep their status; anything unexpected is logged with
its traceback and answered with a bare 500 naming the request id, never the traceback.
"""

from __future__ import annotations

import logging

import tornado.web
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..domain.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    NotSatisfiable,
    PermissionDenied,
    RateLimited,
    TooLarge,
    Unavailable,
    UnsupportedFile,
)
from .context import current_request_id

__all__ = ["STATUS_BY_ERROR", "error_response", "install_error_handlers"]

log = logging.getLogger(__name__)

STATUS_BY_ERROR: dict[type[DomainError], int] = {
    NotAuthenticated: 401,
    PermissionDenied: 403,
    NotFound: 404,
    Conflict: 409,
    TooLarge: 413,
    UnsupportedFile: 415,
    InvalidInput: 422,
    NotSatisfiable: 416,
    RateLimited: 429,
    Unavailable: 503,
}
_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "too_large",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
}


def error_response(status: int, code: str, detail: object, headers: dict[str, str] | None = None):
    return JSONResponse({"error": code, "detail": detail}, status_code=status, headers=headers)


def status_of(error: DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


async def _domain_error(request: Request, exc: DomainError):
    status = status_of(exc)
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after_s)
    if isinstance(exc, NotSatisfiable):
        headers["Content-Range"] = f"bytes */{exc.size}"
    return error_response(status, exc.code, exc.detail, headers)


async def _validation_error(request: Request, exc: RequestValidationError):
    # Only location, message and type: pydantic's ``ctx`` may hold exception objects
    # and ``input`` may echo a password back.
    fields = [
        {"loc": list(error.get("loc", ())), "msg": error.get("msg", ""), "type": error.get("type", "")}
        for error in exc.errors()
    ]
    return error_response(422, "invalid_request", fields)


async def _http_error(request: Request, exc: StarletteHTTPException):
    # FastAPI reports any failure while reading a form or JSON body as 400; when the
    # cause was the body limit, say so.
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, TooLarge):
        return await _domain_error(request, cause)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, exc.detail, dict(exc.headers or {}))


async def _tornado_http_error(request: Request, exc: tornado.web.HTTPError):
    # Panel's routes (its component files under /components/) raise Tornado's HTTPError for
    # an unknown or disallowed path: a client error like any other, never a 500.
    status = exc.status_code if 400 <= exc.status_code < 500 else 500
    if status == 500:
        return await _unexpected_error(request, exc)
    return error_response(status, _HTTP_CODES.get(status, "http_error"), "no such page resource")


async def _unexpected_error(request: Request, exc: Exception):
    log.exception("unhandled error in %s %s", request.method, request.url.path)
    return error_response(
        500, "internal_error", f"unexpected server error; quote request id {current_request_id()}"
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(tornado.web.HTTPError, _tornado_http_error)
    app.add_exception_handler(Exception, _unexpected_error)
