"""Content negotiation shared by the routes that send large bodies (GLB, 4D payload)."""

from __future__ import annotations

import re

from starlette.requests import Request

__all__ = ["accepts_gzip"]

_GZIP = re.compile(r"(?:^|,)\s*gzip\s*(?:;\s*q\s*=\s*(?P<q>[0-9.]+))?\s*(?:,|$)")


def accepts_gzip(request: Request) -> bool:
    """Whether ``Accept-Encoding`` allows gzip (present, and not ``q=0``)."""
    match = _GZIP.search(request.headers.get("accept-encoding", "").lower())
    if match is None:
        return False
    try:
        return float(match.group("q") or 1) > 0
    except ValueError:
        return False
