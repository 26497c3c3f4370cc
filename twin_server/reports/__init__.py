"""Printable reports: pure renderers from our own dataclasses to HTML and PDF bytes.

No database, no HTTP: the service layer builds the input, the API serves the output.
"""

from __future__ import annotations

from .fonts import find_cjk_font, load_cjk_font
from .notice import (
    LABELS,
    NoticeDocument,
    NoticeFinding,
    NoticeHandling,
    NoticeStatus,
    render_notice_html,
    render_notice_pdf,
)

__all__ = [
    "LABELS",
    "NoticeDocument",
    "NoticeFinding",
    "NoticeHandling",
    "NoticeStatus",
    "find_cjk_font",
    "load_cjk_font",
    "render_notice_html",
    "render_notice_pdf",
]
