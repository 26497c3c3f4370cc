"""Per-request context: the request id, carried into every log line of the request."""

from __future__ import annotations

import logging
from contextvars import ContextVar

__all__ = ["RequestIdFilter", "current_request_id", "request_id_var"]

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")


def current_request_id() -> str:
    return request_id_var.get()


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` so log formats can show ``%(request_id)s``."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True
