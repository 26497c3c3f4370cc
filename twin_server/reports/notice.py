"""The printable rectification notice (整改通知单): one HTML page and one A4 PDF.

Contract:

* Input is ``NoticeDocument`` (with its ``NoticeFinding`` rows): frozen, keyword-only
  dataclasses the service layer builds from the database. Codes may be passed as plain
  strings; they become the domain's enums (``NoticeHandling``, ``NoticeStatus``,
  ``Severity``, ``IssueKind``, ``Status``), and an unknown code raises ``InvalidInput``,
  as does a field of the wrong type (text, integer, date).
* ``render_notice_html(notice, lang=...)`` returns one self-contained page: inline CSS
  (screen and A4 print), photos as ``data:`` URIs, no script, no web font, no reference to
  any other URL; a Content-Security-Policy meta tag forbids loading anything else. All
  user text is escaped; control characters and bidirectional overrides are dropped.
* ``render_notice_pdf(notice, font_path=..., lang=...)`` returns A4 PDF bytes with the same
  content: the Chinese font at ``font_path`` is embedded as a subset with a ToUnicode map,
  long text (Chinese, or Latin without spaces such as IFC GlobalIds) wraps inside its
  cell, the findings table breaks across pages repeating its header row, and every page
  carries the notice number, the deadline and "第 n 页 / 共 m 页". A character the font
  lacks prints as □ rather than vanishing. A missing or unusable font raises
  ``Unavailable`` (HTTP 503). The output is deterministic: the same notice gives the same
  bytes (no timestamp, no random document id; same font file and library versions), so
  the server can cache it and derive an ETag from it.
* A photo is printed only if it decodes as a JPEG; it is re-encoded (upright, RGB, at most
  ``PHOTO_MAX_PX`` on its long side) before it is embedded. Anything else prints the
  "photo unreadable" label instead of failing the notice.
* Both are pure: no database, no clock, no network. Labels come from ``LABELS`` (Chinese
  by default, English), in the style of ``viewer/i18n.py``, which the server must not import.
  PDF builds take turns on a lock (ReportLab's font state is shared); HTML needs none.

``find_cjk_font()`` (from ``fonts``) locates an installed Chinese TrueType font for the
server's default ``font_path``.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import html
import io
import operator
import re
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, get_args
from xml.sax.saxutils import escape as xml_escape

from PIL import Image as PILImage
from PIL import ImageOps
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from twin_server.domain.errors import InvalidInput, Unavailable
from twin_server.domain.issues import IssueKind, NoticeHandling, NoticeStatus, Severity, Status

from .fonts import find_cjk_font, load_cjk_font

__all__ = [
    "LABELS",
    "PHOTO_MAX_PX",
    "Language",
    "NoticeDocument",
    "NoticeFinding",
    "NoticeHandling",
    "NoticeStatus",
    "find_cjk_font",
    "label",
    "render_notice_html",
    "render_notice_pdf",
]

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)

#: A photo's long side as embedded, in pixels: the service passes 320 px thumbnails; a
#: larger image is scaled down rather than bloating the page.
PHOTO_MAX_PX = 640
# Larger than any camera the photos come from (services.photos allows 100 MP originals);
# a bigger "thumbnail" is refused before it is decoded.
_PHOTO_MAX_SOURCE_PIXELS = 100_000_000


def _coerce(obj: object, name: str, enum: type[StrEnum]) -> None:
    # The service layer reads codes from the database as plain strings; turning them into
    # enums here makes a wrong code fail at construction, not half-way through a render.
    value = getattr(obj, name)
    try:
        object.__setattr__(obj, name, enum(value))
    except (ValueError, TypeError):
        allowed = ", ".join(member.value for member in enum)
        raise InvalidInput(f"{name} must be one of {allowed}; got {value!r}") from None


def _check_int(obj: object, name: str, *, minimum: int = 0) -> None:
    # Printed as is (no escaping needed for an int), so it must really be one.
    value = getattr(obj, name)
    try:
        if isinstance(value, bool):
            raise TypeError
        number = operator.index(value)
    except TypeError:
        raise InvalidInput(f"{name} must be an integer; got {value!r}") from None
    if number < minimum:
        raise InvalidInput(f"{name} must be at least {minimum}; got {number}")
    object.__setattr__(obj, name, number)


def _check_text(obj: object, *names: str, optional: bool = False) -> None:
    for name in names:
        value = getattr(obj, name)
        if not (isinstance(value, str) or (optional and value is None)):
            raise InvalidInput(f"{name} must be text; got {value!r}")


def _check_date(obj: object, name: str, *, optional: bool = False) -> None:
    value = getattr(obj, name)
    if value is None and optional:
        return
    if not isinstance(value, dt.date):
        raise InvalidInput(f"{name} must be a date; got {value!r}")
    if isinstance(value, dt.datetime):  # a date is printed, never a time of day
        object.__setattr__(obj, name, value.date())


@dataclass(frozen=True, slots=True, kw_only=True)
class NoticeFinding:
    """One issue listed on the notice."""

    number: int  # project-unique issue number
    title: str
    location: str  # 部位: storey, element names, GlobalIds — free text
    description: str
    severity: Severity
    kind: IssueKind
    status: Status
    required_measures: str | None = None  # None: the notice's own requirements apply
    due_date: dt.date | None = None  # None: the notice's deadline applies
    photo_jpeg: bytes | None = None  # a thumbnail JPEG, at most 320 px on its long side
    reopened_count: int = 0

    def __post_init__(self) -> None:
        _coerce(self, "severity", Severity)
        _coerce(self, "kind", IssueKind)
        _coerce(self, "status", Status)
        _check_int(self, "number", minimum=0)
        _check_int(self, "reopened_count", minimum=0)
        _check_text(self, "title", "location", "description")
        _check_text(self, "required_measures", optional=True)
        _check_date(self, "due_date", optional=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class NoticeDocument:
    """A rectification notice (整改通知单) as printed."""

    number: str  # e.g. "ZG-2026-0007"
    project_name: str
    project_code: str
    issued_by: str  # the inspector
    issued_by_org: str
    issued_to_company: str  # 受检单位 / 责任单位
    issued_to_uscc: str | None = None  # 统一社会信用代码
    contact_person: str
    issued_on: dt.date
    deadline: dt.date
    handling: NoticeHandling
    required_measures: str
    cc: tuple[str, ...] = ()
    status: NoticeStatus
    findings: tuple[NoticeFinding, ...] = field(default=())

    def __post_init__(self) -> None:
        _coerce(self, "handling", NoticeHandling)
        _coerce(self, "status", NoticeStatus)
        _check_date(self, "issued_on")
        _check_date(self, "deadline")
        _check_text(self, "number", "project_name", "project_code", "issued_by", "issued_by_org")
        _check_text(self, "issued_to_company", "contact_person", "required_measures")
        _check_text(self, "issued_to_uscc", optional=True)
        # A lone string is one recipient, not one per character.
        cc = (self.cc,) if isinstance(self.cc, str) else tuple(self.cc)
        if not all(isinstance(c, str) for c in cc):
            raise InvalidInput(f"cc must be text; got {cc!r}")
        object.__setattr__(self, "cc", cc)
        findings = tuple(self.findings)
        if not all(isinstance(finding, NoticeFinding) for finding in findings):
            raise InvalidInput("findings must be NoticeFinding rows")
        object.__setattr__(self, "findings", findings)


# --- labels ------------------------------------------------------------------------------

#: Every word the notice prints, Chinese (default) and English; a test checks each key has both.
LABELS: dict[str, dict[str, str]] = {
    "title": {"zh": "整改通知单", "en": "Rectification Notice"},
    "number": {"zh": "编号", "en": "No."},
    "status": {"zh": "状态", "en": "Status"},
    "project": {"zh": "项目名称", "en": "Project"},
    "project_code": {"zh": "项目编号", "en": "Project code"},
    "issued_to": {"zh": "受检单位（责任单位）", "en": "Responsible company"},
    "uscc": {"zh": "统一社会信用代码", "en": "Unified social credit code"},
    "contact_person": {"zh": "联系人", "en": "Contact person"},
    "handling": {"zh": "处理意见", "en": "Decision"},
    "issued_by": {"zh": "检查人", "en": "Inspector"},
    "issued_by_org": {"zh": "检查单位", "en": "Inspecting body"},
    "issued_on": {"zh": "检查日期", "en": "Inspection date"},
    "deadline": {"zh": "整改期限", "en": "Deadline"},
    "cc": {"zh": "抄送", "en": "Copy to"},
    "required_measures": {"zh": "整改要求", "en": "Required measures"},
    "findings": {"zh": "检查发现的问题（共 {n} 项）", "en": "Findings ({n})"},
    "no_findings": {"zh": "无", "en": "None"},
    "none": {"zh": "—", "en": "—"},
    # findings table
    "col_seq": {"zh": "序号/编号", "en": "# / No."},
    "col_location": {"zh": "部位", "en": "Location"},
    "col_description": {"zh": "问题描述", "en": "Description"},
    "col_severity": {"zh": "隐患等级/严重程度", "en": "Severity"},
    "col_measures": {"zh": "整改要求", "en": "Required measures"},
    "col_due": {"zh": "期限", "en": "Due"},
    "col_status": {"zh": "状态", "en": "Status"},
    "col_photo": {"zh": "照片", "en": "Photo"},
    "measures_see_notice": {"zh": "按本通知整改要求", "en": "As required above"},
    "photo_unreadable": {"zh": "（照片无法显示）", "en": "(photo unreadable)"},
    "reopened": {"zh": "（复查退回 {n} 次）", "en": " (reopened {n}×)"},
    # signatures
    "receipt": {"zh": "签收", "en": "Receipt"},
    "received_by": {"zh": "接收人（签字）", "en": "Received by (signature)"},
    "received_on": {"zh": "签收日期", "en": "Received on"},
    "inspector_signature": {"zh": "检查人（签字）", "en": "Inspector (signature)"},
    "reply": {"zh": "整改回执", "en": "Rectification reply"},
    "rectified_by": {"zh": "实际整改人", "en": "Rectified by"},
    "rectified_on": {"zh": "整改时间", "en": "Rectified on"},
    "rectification_note": {"zh": "整改说明", "en": "What was done"},
    "company_seal": {"zh": "责任单位（盖章）", "en": "Company (seal)"},
    "reinspection": {"zh": "复查", "en": "Re-inspection"},
    "reinspected_by": {"zh": "复查人", "en": "Re-inspected by"},
    "reinspected_on": {"zh": "复查时间", "en": "Re-inspected on"},
    "reinspection_result": {"zh": "复查结论", "en": "Result"},
    "result_pass": {"zh": "□ 合格，同意闭合", "en": "□ Passed, close"},
    "result_fail": {"zh": "□ 不合格，重新整改", "en": "□ Failed, rectify again"},
    # page furniture (PDF header and footer; the HTML print margins)
    "page_of": {"zh": "第 {page} 页 / 共 {pages} 页", "en": "Page {page} of {pages}"},
    # codes
    "handling_rectify": {"zh": "限期整改", "en": "Rectify by the deadline"},
    "handling_stop_work": {"zh": "停工整改", "en": "Stop work and rectify"},
    "handling_fine": {"zh": "罚款并整改", "en": "Fine and rectify"},
    "notice_issued": {"zh": "已签发", "en": "Issued"},
    "notice_acknowledged": {"zh": "已签收", "en": "Acknowledged"},
    "notice_replied": {"zh": "已回执", "en": "Replied"},
    "notice_verified": {"zh": "已复查闭合", "en": "Verified"},
    "issue_draft": {"zh": "草稿", "en": "Draft"},
    "issue_open": {"zh": "待整改", "en": "Open"},
    "issue_ready_for_review": {"zh": "待复查", "en": "Ready for review"},
    "issue_disputed": {"zh": "有异议", "en": "Disputed"},
    "issue_closed": {"zh": "已闭合", "en": "Closed"},
    "issue_void": {"zh": "已作废", "en": "Void"},
    "kind_quality": {"zh": "质量", "en": "Quality"},
    "kind_safety": {"zh": "安全", "en": "Safety"},
    "kind_coordination": {"zh": "协调", "en": "Coordination"},
    # severity: safety uses the hazard grades (一般隐患 / 重大隐患), quality 一般 / 较大 / 严重
    "severity_minor": {"zh": "一般", "en": "Minor"},
    "severity_major": {"zh": "较大", "en": "Major"},
    "severity_critical": {"zh": "严重", "en": "Critical"},
    "hazard_minor": {"zh": "一般隐患", "en": "General hazard"},
    "hazard_major": {"zh": "重大隐患", "en": "Major hazard"},
}


def label(key: str, lang: Language = "zh", **values: object) -> str:
    """The label ``key`` in ``lang``, with ``{placeholders}`` filled from ``values``."""
    text = LABELS[key][lang]
    return text.format(**values) if values else text


def _check_lang(lang: str) -> Language:
    if lang not in LANGUAGES:
        raise InvalidInput(f"lang must be one of {', '.join(LANGUAGES)}; got {lang!r}")
    return lang  # type: ignore[return-value]


def _severity_label(finding: NoticeFinding, lang: Language) -> str:
    hazard = finding.kind is IssueKind.SAFETY and finding.severity is not Severity.CRITICAL
    grade = label(f"{'hazard' if hazard else 'severity'}_{finding.severity.value}", lang)
    return f"{grade} · {label(f'kind_{finding.kind.value}', lang)}"


def _status_label(finding: NoticeFinding, lang: Language) -> str:
    text = label(f"issue_{finding.status.value}", lang)
    if finding.reopened_count > 0:
        text += label("reopened", lang, n=finding.reopened_count)
    return text


# Bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): in
# user text they can make a printed line read differently from what was stored
# ("Trojan Source"), so a legal notice drops them.
_BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))


def _dropped(ch: str) -> bool:
    # Control characters (bar newline and tab), lone surrogates (not encodable as UTF-8 or
    # in a PDF string), noncharacters (U+FDD0–U+FDEF, U+xxFFFE/F) and bidi controls.
    code = ord(ch)
    return (
        unicodedata.category(ch) in ("Cc", "Cs")
        or 0xFDD0 <= code <= 0xFDEF
        or (code & 0xFFFE) == 0xFFFE
        or ch in _BIDI_CONTROLS
    )


def _clean(text: str | None) -> str:
    """User text as it may be printed: newlines normalised to ``\\n``, everything in
    ``_dropped`` removed, outer whitespace stripped."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in text if ch in "\n\t" or not _dropped(ch)).strip()


def _is_jpeg(data: bytes | None) -> bool:
    return bool(data) and data[:3] == b"\xff\xd8\xff"  # SOI marker followed by a segment


def _photo_jpeg(data: bytes | None) -> tuple[bytes, int, int] | None:
    """The photo as it is embedded: ``(jpeg, width, height)``, or ``None`` when ``data`` is
    not a JPEG that decodes.

    It is decoded in full (a truncated file fails here, not as a grey box on paper),
    turned upright by its EXIF orientation, converted to RGB (a CMYK JPEG would print
    with inverted colours) and scaled to ``PHOTO_MAX_PX``, then re-encoded: ReportLab and
    browsers get one well-formed baseline JPEG without metadata, and the same input still
    gives the same bytes.
    """
    if not _is_jpeg(data):
        return None
    try:
        # (Pillow refuses a "pixel bomb" above 2 × MAX_IMAGE_PIXELS itself, with an error.)
        with PILImage.open(io.BytesIO(data), formats=["JPEG"]) as image:
            if image.width * image.height > _PHOTO_MAX_SOURCE_PIXELS:
                return None
            if max(image.size) > PHOTO_MAX_PX:
                image.draft("RGB", (PHOTO_MAX_PX, PHOTO_MAX_PX))  # decode at 1/2 … 1/8 scale
            image.load()
            upright = ImageOps.exif_transpose(image).convert("RGB")
        upright.thumbnail((PHOTO_MAX_PX, PHOTO_MAX_PX))
        out = io.BytesIO()
        upright.save(out, "JPEG", quality=85)
    except Exception:  # Pillow raises many types for a damaged or hostile file
        return None
    return out.getvalue(), upright.width, upright.height


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


@dataclass(frozen=True, slots=True)
class _Field:
    label: str
    value: str
    alert: bool = False  # printed in red (停工整改)


def _fields(notice: NoticeDocument, lang: Language) -> list[_Field]:
    """The header fields in print order, two per row (shared by HTML and PDF)."""
    none = label("none", lang)
    return [
        _Field(label("number", lang), notice.number),
        _Field(label("status", lang), label(f"notice_{notice.status.value}", lang)),
        _Field(label("project", lang), notice.project_name),
        _Field(label("project_code", lang), notice.project_code),
        _Field(label("issued_to", lang), notice.issued_to_company),
        _Field(label("uscc", lang), notice.issued_to_uscc or none),
        _Field(label("contact_person", lang), notice.contact_person),
        _Field(
            label("handling", lang),
            label(f"handling_{notice.handling.value}", lang),
            alert=notice.handling is NoticeHandling.STOP_WORK,
        ),
        _Field(label("issued_by", lang), notice.issued_by),
        _Field(label("issued_by_org", lang), notice.issued_by_org),
        _Field(label("issued_on", lang), _date(notice.issued_on)),
        _Field(label("deadline", lang), _date(notice.deadline)),
    ]


def _cc_text(notice: NoticeDocument, lang: Language) -> str:
    return "、".join(c for c in map(_clean, notice.cc) if c) or label("none", lang)


# --- HTML --------------------------------------------------------------------------------


def _e(text: str | None) -> str:
    return html.escape(_clean(text), quote=True)


def _css_string(text: str) -> str:
    # A CSS string literal that cannot end itself or the <style> element: everything but
    # letters, digits, spaces and non-ASCII text is written as a hex escape.
    out = []
    for ch in text.replace("\n", " "):
        if _dropped(ch):
            continue
        out.append(ch if ch.isalnum() or ch == " " or ord(ch) > 0x7F else f"\\{ord(ch):x} ")
    return '"' + "".join(out) + '"'


def _css_page_of(lang: Language) -> str:
    # "第 {page} 页 / 共 {pages} 页" -> "第 " counter(page) " 页 / 共 " counter(pages) " 页"
    pieces = re.split(r"(\{pages?\})", LABELS["page_of"][lang])
    return " ".join(
        f"counter({piece[1:-1]})" if piece in ("{page}", "{pages}") else _css_string(piece)
        for piece in pieces
        if piece
    )


_HTML_CSS = """
*{box-sizing:border-box}
html{font-family:"WenQuanYi Zen Hei","Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei",
"PingFang SC","Heiti SC",sans-serif;font-size:10.5pt;color:#111;line-height:1.45}
body{margin:0;background:#e8e8e8}
.sheet{width:210mm;min-height:297mm;margin:8mm auto;padding:14mm 12mm;background:#fff;
box-shadow:0 0.5mm 3mm rgba(0,0,0,.25)}
.org{text-align:center;font-size:11pt;margin:0}
h1{text-align:center;font-size:20pt;letter-spacing:0.3em;margin:1mm 0 4mm}
.running{display:flex;justify-content:space-between;font-size:8.5pt;color:#444;
border-bottom:0.3mm solid #444;margin-bottom:3mm}
table{border-collapse:collapse;width:100%}
th,td{border:0.25mm solid #333;padding:1.2mm 1.6mm;vertical-align:top;text-align:left;
overflow-wrap:anywhere;white-space:pre-wrap}
th{background:#f0f0f0;font-weight:bold}
.fields th{width:24mm}
.fields td{width:66mm}
h2{font-size:12pt;margin:5mm 0 2mm}
.findings{font-size:9pt;table-layout:fixed}
.findings thead th{text-align:center;white-space:normal}
.findings .seq{width:13mm;text-align:center}
.findings .loc{width:24mm}
.findings .sev{width:17mm}
.findings .meas{width:26mm}
.findings .due{width:21mm;white-space:nowrap}
.findings .st{width:16mm}
.findings .photo{width:24mm;text-align:center}
.findings img{max-width:100%;max-height:26mm;display:block;margin:0 auto}
.findings .ftitle{font-weight:bold;display:block}
.sign{margin-top:5mm;font-size:10pt;break-inside:avoid;page-break-inside:avoid}
.sign td{height:9mm;white-space:normal}
.sign .note{height:22mm}
.sign th[scope=rowgroup]{width:8mm;text-align:center;vertical-align:middle;writing-mode:vertical-rl}
.alert{color:#b00000;font-weight:bold}
@page{size:A4;margin:14mm 12mm 16mm}
@media print{
body{background:none}
.sheet{width:auto;min-height:0;margin:0;padding:0;box-shadow:none}
.findings thead{display:table-header-group}
.findings tr{break-inside:avoid;page-break-inside:avoid}
.running{display:none}
}
"""


def render_notice_html(notice: NoticeDocument, *, lang: Language = "zh") -> str:
    """The notice as one self-contained HTML page (see the module docstring)."""
    lang = _check_lang(lang)
    L = functools.partial(label, lang=lang)
    title = f"{L('title')} {notice.number}"
    running_left = f"{L('title')} {L('number')} {_clean(notice.number)}"
    running_right = f"{L('deadline')} {_date(notice.deadline)}"
    # Print headers and footers through CSS page-margin boxes (Chromium 131+, Firefox):
    # the browser knows the page count, we don't. On screen, .running shows the same.
    page_css = (
        "@page{"
        f"@top-left{{content:{_css_string(running_left)};font-size:8pt}}"
        f"@top-right{{content:{_css_string(running_right)};font-size:8pt}}"
        f"@bottom-center{{content:{_css_page_of(lang)};font-size:8pt}}}}"
    )
    parts: list[str] = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}">',
        "<head>",
        '<meta charset="utf-8">',
        # Nothing may load or run: a notice is printed and archived, and user text that
        # escaped escaping still could not fetch or execute anything.
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{_HTML_CSS}{page_css}</style>",
        "</head>",
        "<body>",
        '<main class="sheet">',
        f'<div class="running"><span>{_e(running_left)}</span><span>{_e(running_right)}</span></div>',
        f'<p class="org">{_e(notice.issued_by_org)}</p>',
        f"<h1>{_e(L('title'))}</h1>",
        '<table class="fields">',
    ]
    fields = _fields(notice, lang)
    for left, right in zip(fields[0::2], fields[1::2], strict=True):
        cells = []
        for f in (left, right):
            alert = ' class="alert"' if f.alert else ""
            cells.append(f"<th>{_e(f.label)}</th><td{alert}>{_e(f.value)}</td>")
        parts.append(f"<tr>{''.join(cells)}</tr>")
    parts += [
        f'<tr><th>{_e(L("cc"))}</th><td colspan="3">{_e(_cc_text(notice, lang))}</td></tr>',
        f'<tr><th>{_e(L("required_measures"))}</th><td colspan="3">{_e(notice.required_measures)}</td></tr>',
        "</table>",
        f"<h2>{_e(L('findings', n=len(notice.findings)))}</h2>",
        '<table class="findings">',
        "<thead><tr>",
        f'<th class="seq">{_e(L("col_seq"))}</th>',
        f'<th class="loc">{_e(L("col_location"))}</th>',
        f"<th>{_e(L('col_description'))}</th>",
        f'<th class="sev">{_e(L("col_severity"))}</th>',
        f'<th class="meas">{_e(L("col_measures"))}</th>',
        f'<th class="due">{_e(L("col_due"))}</th>',
        f'<th class="st">{_e(L("col_status"))}</th>',
        f'<th class="photo">{_e(L("col_photo"))}</th>',
        "</tr></thead>",
        "<tbody>",
    ]
    if not notice.findings:
        parts.append(f'<tr><td colspan="8">{_e(L("no_findings"))}</td></tr>')
    for seq, finding in enumerate(notice.findings, start=1):
        photo = ""
        if finding.photo_jpeg is not None:
            embedded = _photo_jpeg(finding.photo_jpeg)
            if embedded is None:
                photo = _e(L("photo_unreadable"))
            else:
                data = base64.b64encode(embedded[0]).decode("ascii")
                alt = _e(f"{L('col_photo')} #{finding.number}")
                photo = f'<img src="data:image/jpeg;base64,{data}" alt="{alt}">'
        measures = finding.required_measures or L("measures_see_notice")
        parts.append(
            "<tr>"
            f'<td class="seq">{seq}<br>#{finding.number}</td>'
            f'<td class="loc">{_e(finding.location)}</td>'
            f'<td><span class="ftitle">{_e(finding.title)}</span>{_e(finding.description)}</td>'
            f'<td class="sev">{_e(_severity_label(finding, lang))}</td>'
            f'<td class="meas">{_e(measures)}</td>'
            f'<td class="due">{_e(_date(finding.due_date or notice.deadline))}</td>'
            f'<td class="st">{_e(_status_label(finding, lang))}</td>'
            f'<td class="photo">{photo}</td>'
            "</tr>"
        )
    parts += ["</tbody>", "</table>", '<table class="sign">']
    for group, rows in _signature_rows(lang):
        for i, (left, right, text) in enumerate(rows):
            head = f'<th scope="rowgroup" rowspan="{len(rows)}">{_e(group)}</th>' if i == 0 else ""
            if right is None:
                note = "" if text else ' class="note"'
                cells = f'<th>{_e(left)}</th><td colspan="3"{note}>{_e(text)}</td>'
            else:
                cells = f"<th>{_e(left)}</th><td></td><th>{_e(right)}</th><td></td>"
            parts.append(f"<tr>{head}{cells}</tr>")
    parts += ["</table>", "</main>", "</body>", "</html>", ""]
    return "\n".join(parts)


def _signature_rows(lang: Language) -> list[tuple[str, list[tuple[str, str | None, str]]]]:
    """The blocks to sign, as (group, rows); a row is (label, second label, "") for two
    boxes side by side or (label, None, printed text) for one wide box."""
    L = functools.partial(label, lang=lang)
    return [
        (
            L("receipt"),
            [(L("received_by"), L("received_on"), ""), (L("inspector_signature"), L("company_seal"), "")],
        ),
        (
            L("reply"),
            [(L("rectified_by"), L("rectified_on"), ""), (L("rectification_note"), None, "")],
        ),
        (
            L("reinspection"),
            [
                (L("reinspected_by"), L("reinspected_on"), ""),
                (L("reinspection_result"), None, f"{L('result_pass')}　　{L('result_fail')}"),
            ],
        ),
    ]


# --- PDF ---------------------------------------------------------------------------------

_PAGE_W, _PAGE_H = A4  # 210 mm x 297 mm, in pt
_MARGIN_X = 15 * mm
_MARGIN_TOP = 20 * mm  # leaves room for the running header (number, deadline)
_MARGIN_BOTTOM = 18 * mm  # and for the footer (page n of m)
_CONTENT_W = _PAGE_W - 2 * _MARGIN_X  # 180 mm
_PAD_X = 1.5 * mm  # a cell's left and right padding

# Column widths of the findings table (sum = 180 mm, the A4 width less the margins). The
# due column fits "2026-03-15" at 8 pt on one line; the photo column holds a 20 mm photo.
_FINDING_COLS_MM = (12, 24, 43, 17, 27, 19, 15, 23)
_PHOTO_MAX_W = _FINDING_COLS_MM[-1] * mm - 2 * _PAD_X
_PHOTO_MAX_H = 24 * mm

_FURNITURE_SIZE = 8  # pt, the running header and the footer

# ReportLab keeps per-document font state in shared objects (the registered TTFont) and
# is not documented as thread-safe; FastAPI runs sync endpoints on a thread pool, so
# builds take turns.
_build_lock = threading.Lock()


def _styles(font: str, lang: Language) -> dict[str, ParagraphStyle]:
    # wordWrap="CJK" lets a line break between any two Chinese characters (Chinese has no
    # spaces); long Latin tokens such as IFC GlobalIds are split too rather than overflow.
    # User text is Chinese whatever the language, so only our English labels wrap at spaces
    # ("Required measures", not "Required measur-es").
    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    label_wrap = None if lang == "en" else "CJK"
    small = ParagraphStyle("small", parent=base, fontSize=8, leading=10.5)
    return {
        "base": base,
        "small": small,
        "label": ParagraphStyle("label", parent=small, wordWrap=label_wrap),
        "head": ParagraphStyle(
            "head", parent=base, fontSize=8.5, leading=10.5, alignment=TA_CENTER, wordWrap=label_wrap
        ),
        "org": ParagraphStyle("org", parent=base, fontSize=11, leading=14, alignment=TA_CENTER),
        "title": ParagraphStyle(
            "title", parent=base, fontSize=20, leading=26, alignment=TA_CENTER, spaceAfter=3 * mm
        ),
        "h2": ParagraphStyle(
            "h2", parent=base, fontSize=11.5, leading=15, spaceBefore=4 * mm, spaceAfter=2 * mm
        ),
        "alert": ParagraphStyle("alert", parent=base, textColor=colors.HexColor("#b00000")),
    }


def _printable(text: str | None, font: str) -> str:
    """``_clean`` text with every character ``font`` has no glyph for (emoji, rare CJK
    extension characters) replaced by □: ReportLab would print nothing for it, and a
    notice must not lose a character of a name silently."""
    cmap = pdfmetrics.getFont(font).face.charToGlyph
    missing = "□" if ord("□") in cmap else "?"
    return "".join(ch if ch in "\n\t " or ord(ch) in cmap else missing for ch in _clean(text))


def _markup(text: str | None, font: str) -> str:
    # Paragraph reads a small XML dialect: user text is escaped, newlines become <br/>.
    return xml_escape(_printable(text, font)).replace("\n", "<br/>")


def _p(text: str | None, style: ParagraphStyle) -> Paragraph:
    return Paragraph(_markup(text, style.fontName), style)


def _photo(data: bytes, lang: Language, style: ParagraphStyle) -> Flowable:
    embedded = _photo_jpeg(data)
    if embedded is None:
        return _p(label("photo_unreadable", lang), style)
    jpeg, width, height = embedded
    scale = min(_PHOTO_MAX_W / width, _PHOTO_MAX_H / height)
    return Image(io.BytesIO(jpeg), width=width * scale, height=height * scale)


_GRID = [
    ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#333333")),  # 0.5 pt lines
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("LEFTPADDING", (0, 0), (-1, -1), _PAD_X),
    ("RIGHTPADDING", (0, 0), (-1, -1), _PAD_X),
    ("TOPPADDING", (0, 0), (-1, -1), 1.2 * mm),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5 * mm),
]
_HEAD_FILL = colors.HexColor("#eeeeee")


def _fields_table(notice: NoticeDocument, lang: Language, st: dict[str, ParagraphStyle]) -> Table:
    L = functools.partial(label, lang=lang)
    fields = _fields(notice, lang)
    rows: list[list[Any]] = []
    for left, right in zip(fields[0::2], fields[1::2], strict=True):
        row: list[Any] = []
        for f in (left, right):
            row += [_p(f.label, st["label"]), _p(f.value, st["alert"] if f.alert else st["base"])]
        rows.append(row)
    rows.append([_p(L("cc"), st["label"]), _p(_cc_text(notice, lang), st["base"]), "", ""])
    rows.append([_p(L("required_measures"), st["label"]), _p(notice.required_measures, st["base"]), "", ""])
    n = len(rows)
    # splitInRow=1: a row taller than a page (very long requirements) splits inside itself.
    table = Table(rows, colWidths=[25 * mm, 65 * mm, 25 * mm, 65 * mm], splitInRow=1)
    table.setStyle(
        TableStyle(
            [
                *_GRID,
                ("BACKGROUND", (0, 0), (0, -1), _HEAD_FILL),
                ("BACKGROUND", (2, 0), (2, n - 3), _HEAD_FILL),
                ("SPAN", (1, n - 2), (3, n - 2)),
                ("SPAN", (1, n - 1), (3, n - 1)),
            ]
        )
    )
    return table


def _findings_table(notice: NoticeDocument, lang: Language, st: dict[str, ParagraphStyle]) -> Table:
    L = functools.partial(label, lang=lang)
    keys = (
        "col_seq",
        "col_location",
        "col_description",
        "col_severity",
        "col_measures",
        "col_due",
        "col_status",
        "col_photo",
    )
    rows: list[list[Any]] = [[_p(L(key), st["head"]) for key in keys]]
    small = st["small"]
    font = small.fontName
    for seq, finding in enumerate(notice.findings, start=1):
        rows.append(
            [
                _p(f"{seq}\n#{finding.number}", small),
                _p(finding.location, small),
                # The title sits a little larger above its description: the font has no bold.
                Paragraph(
                    f'<font size="9">{_markup(finding.title, font)}</font><br/>'
                    + _markup(finding.description, font),
                    small,
                ),
                _p(_severity_label(finding, lang), small),
                _p(finding.required_measures or L("measures_see_notice"), small),
                _p(_date(finding.due_date or notice.deadline), small),
                _p(_status_label(finding, lang), small),
                _photo(finding.photo_jpeg, lang, small) if finding.photo_jpeg is not None else "",
            ]
        )
    if not notice.findings:
        rows.append([_p(L("no_findings"), small), "", "", "", "", "", "", ""])
    # repeatRows=1: the header row on every page; splitInRow=1: a row taller than what is
    # left of the page (a very long description) splits inside itself instead of failing.
    table = Table(rows, colWidths=[w * mm for w in _FINDING_COLS_MM], repeatRows=1, splitInRow=1)
    style = [*_GRID, ("BACKGROUND", (0, 0), (-1, 0), _HEAD_FILL), ("VALIGN", (0, 0), (-1, 0), "MIDDLE")]
    if not notice.findings:
        style.append(("SPAN", (0, 1), (-1, 1)))
    table.setStyle(TableStyle(style))
    return table


def _signature_table(lang: Language, st: dict[str, ParagraphStyle]) -> Table:
    rows: list[list[Any]] = []
    spans: list[tuple[Any, ...]] = []
    heights: list[float] = []
    for group, pairs in _signature_rows(lang):
        first = len(rows)
        for left, right, text in pairs:
            if right is None:
                rows.append(["", _p(left, st["label"]), _p(text, st["base"]), "", ""])
                spans.append(("SPAN", (2, len(rows) - 1), (4, len(rows) - 1)))
                heights.append(12 * mm if text else 24 * mm)  # a printed choice, or room to write
            else:
                rows.append(["", _p(left, st["label"]), "", _p(right, st["label"]), ""])
                heights.append(10 * mm)
        rows[first][0] = _p(group, st["head"])
        spans.append(("SPAN", (0, first), (0, len(rows) - 1)))
    table = Table(rows, colWidths=[24 * mm, 28 * mm, 50 * mm, 28 * mm, 50 * mm], rowHeights=heights)
    table.setStyle(
        TableStyle(
            [
                *_GRID,
                *spans,
                ("BACKGROUND", (0, 0), (1, -1), _HEAD_FILL),
                ("VALIGN", (0, 0), (0, -1), "MIDDLE"),
            ]
        )
    )
    return table


def _fit(text: str, font: str, size: float, width: float) -> str:
    """``text``, cut short with … so that it is at most ``width`` wide."""
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    ellipsis = "…" if ord("…") in pdfmetrics.getFont(font).face.charToGlyph else "..."
    lo, hi = 0, len(text)  # the longest prefix that fits with the ellipsis: binary search
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if pdfmetrics.stringWidth(text[:mid] + ellipsis, font, size) <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + ellipsis


class _PagedCanvas(Canvas):
    """A canvas that holds the pages back until the end, so each can say "page n of m".

    ``showPage`` keeps the page's state (its content stream, images and resources, all
    per-page attributes that ``_startPage`` replaces rather than mutates) instead of
    emitting it; ``save`` then restores each kept page, puts the running header and footer
    in front of its content, now that the total is known, and emits it.
    """

    def __init__(self, *args: Any, furniture: Callable[[Canvas, int, int], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._furniture = furniture
        self._kept: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._kept.append({k: v for k, v in self.__dict__.items() if k != "_kept"})
        self._startPage()

    def save(self) -> None:
        if self._code:  # drawn on but not ended (platypus always ends its last page)
            self.showPage()
        kept, self._kept = self._kept, []
        for number, state in enumerate(kept, start=1):
            self.__dict__.update(state)
            body, self._code = self._code, []
            # Drawn first, inside saveState/restoreState, so the page's own content starts
            # from the same graphics state as before and text extraction reads header first.
            self._furniture(self, number, len(kept))
            self._code.extend(body)
            super().showPage()
        super().save()


def render_notice_pdf(
    notice: NoticeDocument, *, font_path: Path | str | None, lang: Language = "zh"
) -> bytes:
    """The notice as A4 PDF bytes (see the module docstring); ``Unavailable`` if there is
    no font (``font_path`` is ``None``) or the font at ``font_path`` is missing or unusable."""
    lang = _check_lang(lang)
    if font_path is None:
        raise Unavailable("no Chinese TrueType font is installed for printing (install fonts-wqy-zenhei)")
    font = load_cjk_font(Path(font_path))
    st = _styles(font, lang)
    L = functools.partial(label, lang=lang)
    # The header: number on the left, deadline on the right; an absurdly long number is cut
    # short here (the fields table prints it in full).
    header_right = _printable(f"{L('deadline')}: {_date(notice.deadline)}", font)
    room = _CONTENT_W - pdfmetrics.stringWidth(header_right, font, _FURNITURE_SIZE) - 8 * mm
    header_left = _fit(
        _printable(f"{L('title')}  {L('number')}: {notice.number}", font), font, _FURNITURE_SIZE, room
    )

    def furniture(canvas: Canvas, page: int, pages: int) -> None:
        canvas.saveState()
        canvas.setFont(font, _FURNITURE_SIZE)
        canvas.setFillColor(colors.HexColor("#444444"))
        canvas.setStrokeColor(colors.HexColor("#444444"))
        top = _PAGE_H - 12 * mm
        canvas.drawString(_MARGIN_X, top, header_left)
        canvas.drawRightString(_PAGE_W - _MARGIN_X, top, header_right)
        canvas.setLineWidth(0.4)  # pt
        canvas.line(_MARGIN_X, top - 1.8 * mm, _PAGE_W - _MARGIN_X, top - 1.8 * mm)
        canvas.drawCentredString(_PAGE_W / 2, 10 * mm, L("page_of", page=page, pages=pages))
        canvas.restoreState()

    story: list[Flowable] = [
        _p(notice.issued_by_org, st["org"]),
        _p(L("title"), st["title"]),
        _fields_table(notice, lang, st),
        _p(L("findings", n=len(notice.findings)), st["h2"]),
        _findings_table(notice, lang, st),
        Spacer(0, 5 * mm),
        KeepTogether([_signature_table(lang, st)]),
    ]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=_MARGIN_X,
        rightMargin=_MARGIN_X,
        topMargin=_MARGIN_TOP,
        bottomMargin=_MARGIN_BOTTOM,
        title=_clean(f"{L('title')} {_clean(notice.number)}"),
        author=_clean(notice.issued_by),
        subject=_clean(f"{_clean(notice.project_name)} ({_clean(notice.project_code)})"),
        creator="Erji Twin",
        lang="zh-CN" if lang == "zh" else "en",
        # invariant: no creation date and a fixed document id, so equal input gives equal bytes.
        invariant=True,
    )
    with _build_lock:
        doc.build(story, canvasmaker=functools.partial(_PagedCanvas, furniture=furniture))
    return buffer.getvalue()
