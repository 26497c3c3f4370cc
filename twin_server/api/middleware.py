"""ASGI middleware: request ids and access log lines, and request body limits.

Written as plain ASGI (not ``BaseHTTPMiddleware``) because it must see the body as it
streams in, to stop an oversized upload after ``limit`` bytes instead of after all of it.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..domain.errors import TooLarge
from .context import request_id_var

__all__ = ["BodyTooLarge", "RequestContextMiddleware"]

access_log = logging.getLogger("twin_server.access")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class BodyTooLarge(TooLarge):
    """Raised from ``receive`` when a request body passes its limit."""


class RequestContextMiddleware:
    """Gives each request an id (``X-Request-ID``, echoed or generated), logs one access
    line per request, and enforces ``body_limit(scope)`` bytes on request bodies.

    A declared ``Content-Length`` over the limit is refused before anything is read;
    a chunked body is counted as it arrives and cut off when it passes the limit.
    """

    def __init__(self, app: ASGIApp, *, body_limit: Callable[[Scope], int]) -> None:
        self.app = app
        self.body_limit = body_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _SAFE_REQUEST_ID.match(given) else uuid.uuid4().hex[:16]
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
                # PostgreSQL cannot store or compare text holding NUL; no id or filter needs one.
                await _respond(send_with_id, 422, "invalid_request", "NUL characters are not allowed in URLs")
                return
            limit = self.body_limit(scope)
            declared = headers.get(b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                await _refuse(send_with_id, limit)
                return
            await self.app(scope, _counting(receive, limit), send_with_id)
        except BodyTooLarge:
            # Raised outside the app's own error handling (e.g. while Starlette drains
            # the body); answer here if nothing was sent yet.
            if not response_started:
                await _refuse(send_with_id, limit)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            access_log.info("%s %s %s %.1fms", scope["method"], scope["path"], status, elapsed_ms)
            request_id_var.reset(token)


def _counting(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def receive_counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(f"the request body is larger than the limit of {limit:,} bytes")
        return message

    return receive_counted


async def _refuse(send: Send, limit: int) -> None:
    detail = f"the request body is larger than the limit of {limit:,} bytes"
    await _respond(send, 413, TooLarge.code, detail)


async def _respond(send: Send, status: int, code: str, detail: str) -> None:
    # Answers given before the app runs; same shape as api.errors' responses.
    body = orjson.dumps({"error": code, "detail": detail})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
