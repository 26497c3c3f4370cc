"""The printed rectification notice (整改通知单): the HTML page and the A4 PDF.

The PDFs are read back with pypdf: their text (which needs the embedded font's ToUnicode
map), fonts, images and page furniture; hostile user text must stay text.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import string
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pypdf
import pytest
from PIL import Image
from reportlab.pdfbase import pdfmetrics

from twin_server.domain import issues as domain
from twin_server.domain.errors import InvalidInput
from twin_server.domain.issues import IssueKind, NoticeHandling, NoticeStatus, Severity, Status
from twin_server.reports import (
    LABELS,
    NoticeDocument,
    NoticeFinding,
    load_cjk_font,
    render_notice_html,
    render_notice_pdf,
)
from twin_server.reports import notice as notice_module

from .builders import DEADLINE, finding, jpeg, notice, png

ROOT = Path(__file__).resolve().parents[3]

# User text that must stay text: markup for HTML and for ReportLab's paragraph dialect,
# quotes, an entity, a CSS breakout, control characters, a bidi override, a lone surrogate.
HOSTILE = (
    "<script>alert('x')</script> \"q\" & <b>粗</b> <font size=40>大</font> </style> &amp; "
    "<img src=x onerror=alert(1)> ]]> <para>"
)
CONTROL = "\x00\x01\x07\x08\x0b\x0c\x1b\x7f\x85\x9b\u202e\u2066\ud800\ufffe"


def _text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def _squash(text: str) -> str:
    """Without whitespace: wrapped lines break text at arbitrary places."""
    return re.sub(r"\s+", "", text)


def _fonts(pdf: bytes) -> dict[str, pypdf.generic.DictionaryObject]:
    """Every font any page uses, by BaseFont."""
    found = {}
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            found[str(font["/BaseFont"])] = font
    return found


def _images(pdf: bytes) -> list[pypdf.generic.DictionaryObject]:
    found = []
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        for ref in page["/Resources"].get("/XObject", {}).values():
            xobject = ref.get_object()
            if xobject["/Subtype"] == "/Image":
                found.append(xobject)
    return found


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the text of <style> elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.style = ""
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.style += data


def _tags(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    parser.close()
    return parser


# --- the input -----------------------------------------------------------------------------


def test_one_definition_of_the_notice_codes() -> None:
    assert notice_module.NoticeHandling is domain.NoticeHandling
    assert notice_module.NoticeStatus is domain.NoticeStatus
    assert not hasattr(notice_module, "Handling")
    assert "reopened" not in {s.value for s in NoticeStatus}  # stays REPLIED while reworked
    assert not [key for key in LABELS if "reopened" in key and key.startswith("notice_")]


def test_codes_arrive_as_plain_strings() -> None:
    doc = notice([finding(severity="critical", kind="safety", status="ready_for_review")])
    doc = notice([doc.findings[0]], handling="stop_work", status="replied")
    assert doc.handling is NoticeHandling.STOP_WORK
    assert doc.status is NoticeStatus.REPLIED
    only = doc.findings[0]
    assert (only.severity, only.kind, only.status) == (
        Severity.CRITICAL,
        IssueKind.SAFETY,
        Status.READY_FOR_REVIEW,
    )


@pytest.mark.parametrize(
    ("where", "field", "value"),
    [
        ("notice", "handling", "ban"),
        ("notice", "status", "reopened"),
        ("notice", "status", None),
        ("finding", "severity", "fatal"),
        ("finding", "kind", "Quality"),
        ("finding", "status", "closed "),
        ("finding", "status", ["open"]),
    ],
)
def test_unknown_code_is_invalid_input(where: str, field: str, value: object) -> None:
    with pytest.raises(InvalidInput, match=field):
        if where == "notice":
            notice(**{field: value})
        else:
            finding(**{field: value})


@pytest.mark.parametrize(
    ("where", "field", "value"),
    [
        ("finding", "number", "7"),
        ("finding", "number", True),
        ("finding", "reopened_count", -1),
        ("finding", "due_date", "2026-03-15"),
        ("notice", "deadline", "2026-03-15"),
        ("notice", "issued_on", None),
        ("notice", "findings", ("not a finding",)),
        ("notice", "number", 7),
        ("notice", "cc", ("a", None)),
        ("notice", "issued_to_company", None),
        ("finding", "description", None),
        ("finding", "required_measures", 1),
    ],
)
def test_wrong_types_are_invalid_input(where: str, field: str, value: object) -> None:
    with pytest.raises(InvalidInput):
        if where == "notice":
            notice(**{field: value})
        else:
            finding(**{field: value})


def test_a_lone_cc_string_is_one_recipient() -> None:
    assert notice(cc="监理单位").cc == ("监理单位",)
    assert notice(cc=["a", "b"]).cc == ("a", "b")


def test_every_label_has_chinese_and_english() -> None:
    for key, texts in LABELS.items():
        assert set(texts) == {"zh", "en"}, key
        assert texts["zh"].strip() and texts["en"].strip(), key
        placeholders = [
            {f for _, f, _, _ in string.Formatter().parse(texts[lang]) if f} for lang in ("zh", "en")
        ]
        assert placeholders[0] == placeholders[1], key


def test_every_code_has_a_label() -> None:
    for prefix, enum in [
        ("notice", NoticeStatus),
        ("handling", NoticeHandling),
        ("issue", Status),
        ("kind", IssueKind),
        ("severity", Severity),
    ]:
        for member in enum:
            assert f"{prefix}_{member.value}" in LABELS
    for member in (Severity.MINOR, Severity.MAJOR):  # safety grades: 一般隐患 / 重大隐患
        assert f"hazard_{member.value}" in LABELS


# --- HTML ----------------------------------------------------------------------------------


def test_html_prints_the_notice() -> None:
    findings = [finding(1), finding(2, title="卸料平台无限位", kind="safety", description="限位装置缺失")]
    page = render_notice_html(notice(findings))
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="zh-CN">' in page
    for text in [
        "整改通知单",
        "ZG-2026-0007",
        DEADLINE.isoformat(),
        "某某建筑工程有限公司",
        "91310000MA1FL0AB2X",
        "李项目",
        "项目经理部、监理单位",
        "立即组织整改",
        "检查发现的问题（共 2 项）",
        "重大隐患 · 安全",  # a safety finding's grade
        "较大 · 质量",
        *(f.title for f in findings),
        *(f.description for f in findings),
    ]:
        assert text in page, text
    # One row per finding in the findings table.
    assert page.count('<td class="seq">') == 2


@pytest.mark.parametrize("status", list(NoticeStatus))
def test_html_status_labels_in_both_languages(status: NoticeStatus) -> None:
    doc = notice(
        [finding(1, status="open", reopened_count=2), finding(2, status="closed")],
        status=status,
        handling="stop_work",
    )
    zh = render_notice_html(doc)  # Chinese by default
    en = render_notice_html(doc, lang="en")
    assert f"<td>{LABELS[f'notice_{status.value}']['zh']}</td>" in zh
    assert f"<td>{LABELS[f'notice_{status.value}']['en']}</td>" in en
    assert "待整改（复查退回 2 次）" in zh and "已闭合" in zh
    assert "Open (reopened 2×)" in en and "Closed" in en
    assert '<td class="alert">停工整改</td>' in zh
    assert '<td class="alert">Stop work and rectify</td>' in en
    assert '<html lang="en">' in en and "Rectification Notice" in en and "整改通知单" not in en


def test_html_rejects_unknown_language() -> None:
    with pytest.raises(InvalidInput, match="lang"):
        render_notice_html(notice(), lang="fr")


def test_html_escapes_user_text() -> None:
    doc = notice(
        [finding(1, title=HOSTILE, description=HOSTILE, location=HOSTILE, required_measures=HOSTILE)],
        number="ZG-1</style><script>x()</script>",
        project_name=HOSTILE,
        issued_to_company='"><img src=x>',
        cc=(HOSTILE,),
        required_measures=HOSTILE,
    )
    page = render_notice_html(doc)
    parsed = _tags(page)
    assert {tag for tag, _ in parsed.tags} <= {
        *("html", "head", "meta", "title", "style", "body", "main", "div", "span", "p"),
        *("h1", "h2", "table", "thead", "tbody", "tr", "th", "td", "br"),
    }
    assert "<script" not in page.lower() and "<img" not in page.lower() and "<b>" not in page
    assert page.lower().count("</style") == 1  # the number also goes into the CSS page header
    assert "<" not in parsed.style and "\\3c " in parsed.style
    assert (
        "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &quot;q&quot; &amp; &lt;b&gt;粗&lt;/b&gt;" in page
    )
    assert "&amp;amp;" in page  # an entity in user text is printed, not interpreted
    # Every attribute is ours.
    assert all(
        name in ("charset", "http-equiv", "content", "name", "lang", "class", "colspan", "scope", "rowspan")
        for _, attrs in parsed.tags
        for name in attrs
    )


def test_html_drops_control_characters() -> None:
    doc = notice(
        [finding(1, title=f"标{CONTROL}题", description=f"一行\r\n二行\r三行\t{CONTROL}完")],
        number=f"ZG{CONTROL}-7",
        issued_to_company="\u202e公司\u202c名",
    )
    page = render_notice_html(doc)
    page.encode("utf-8")  # no lone surrogate left
    assert not [ch for ch in page if ch in CONTROL or ch in "\r\u202c"]
    assert "标题" in page and "ZG-7" in page and "公司名" in page
    assert "一行\n二行\n三行\t完" in page  # CR LF and CR become LF; tab stays


def test_html_is_self_contained() -> None:
    page = render_notice_html(
        notice([finding(1, photo_jpeg=jpeg()), finding(2, title="http://evil.example/x")])
    )
    assert '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:;' in page
    without_data = re.sub(r"data:image/jpeg;base64,[A-Za-z0-9+/=]+", "", page)
    assert "data:image/jpeg;base64," in page
    # The only URL-like text is the user's own, escaped and never in an attribute.
    without_user = without_data.replace("http://evil.example/x", "")
    for needle in ("http://", "https://", "//", "url(", "@import", "<link", "<script", 'src="http'):
        assert needle not in without_user, needle
    for tag, attrs in _tags(page).tags:
        if tag == "img":
            assert attrs["src"].startswith("data:image/jpeg;base64,")


def test_html_embeds_only_decodable_jpeg_photos() -> None:
    good = jpeg((200, 320))
    findings = [
        finding(1, photo_jpeg=good),
        finding(2, photo_jpeg=png()),
        finding(3, photo_jpeg=good[: len(good) // 2]),  # a JPEG cut short
        finding(4, photo_jpeg=b"\xff\xd8\xffnot really"),
        finding(5, photo_jpeg=b""),
        finding(6),  # no photo
    ]
    page = render_notice_html(notice(findings))
    images = [attrs for tag, attrs in _tags(page).tags if tag == "img"]
    assert len(images) == 1 and images[0]["alt"] == "照片 #1"
    data = images[0]["src"].removeprefix("data:image/jpeg;base64,")
    with Image.open(io.BytesIO(base64.b64decode(data))) as embedded:
        assert embedded.format == "JPEG" and embedded.size == (200, 320)
    assert page.count("（照片无法显示）") == 4
    assert render_notice_html(notice(findings), lang="en").count("(photo unreadable)") == 4


def test_html_keeps_long_text_whole() -> None:
    description = "混凝土表面出现蜂窝麻面" * 200
    global_ids = "".join(f"{i:02d}Ab$_" for i in range(40))[:200]  # no space
    page = render_notice_html(notice([finding(1, description=description, location=global_ids)]))
    assert description in page and global_ids in page
    assert "overflow-wrap:anywhere" in page


def test_html_without_findings() -> None:
    page = render_notice_html(notice([]))
    assert "检查发现的问题（共 0 项）" in page and '<td colspan="8">无</td>' in page


def test_html_print_margins_carry_number_deadline_and_page_count() -> None:
    css = _tags(render_notice_html(notice(number="ZG-1'\"7"))).style
    # Quotes (and all ASCII punctuation) are CSS escapes: user text cannot end the string.
    assert '@top-left{content:"整改通知单 编号 ZG\\2d 1\\27 \\22 7"' in css
    assert '@top-right{content:"整改期限 ' + DEADLINE.isoformat().replace("-", "\\2d ") + '"' in css
    # Spaces around the counters are kept: "第 1 页 / 共 3 页", as in the PDF.
    assert '@bottom-center{content:"第 " counter(page) " 页 \\2f  共 " counter(pages) " 页"' in css
    en = _tags(render_notice_html(notice(), lang="en")).style
    assert '@bottom-center{content:"Page " counter(page) " of " counter(pages)' in en


def test_html_printed_by_chromium_has_the_running_header_on_every_page(browser_page) -> None:
    findings = [finding(i, description="混凝土表面出现蜂窝麻面，" * 60, photo_jpeg=jpeg()) for i in range(10)]
    browser_page.set_content(render_notice_html(notice(findings)))
    pages = _text(browser_page.pdf(prefer_css_page_size=True))
    assert len(pages) > 1
    for number, text in enumerate(pages, start=1):
        assert "ZG-2026-0007" in text and DEADLINE.isoformat() in text, number
        assert f"第 {number} 页 / 共 {len(pages)} 页" in text, number
    assert [url for url in browser_page.requested if not url.startswith("data:")] == []


# --- PDF -----------------------------------------------------------------------------------


def _many_findings() -> list[NoticeFinding]:
    """30 findings with 2,000-character Chinese descriptions and 200-character GlobalId
    strings (no spaces), some with a photo, some with a damaged one."""
    out = []
    for i in range(1, 31):
        global_ids = "".join(f"{i:02d}{k:02d}OeWxyz$_Ab" for k in range(15))[:200]
        description = (f"【第{i}项】" + "模板支撑体系立杆间距超出专项方案要求，扫地杆缺失，" * 80)[:2000]
        photo = jpeg((240, 320)) if i % 5 == 0 else (png() if i % 7 == 0 else None)
        out.append(finding(100 + i, description=description, location=global_ids, photo_jpeg=photo))
    return out


@pytest.fixture(scope="module")
def big_notice() -> NoticeDocument:
    return notice(_many_findings(), handling="stop_work")


@pytest.fixture(scope="module")
def big_pdf(big_notice: NoticeDocument, cjk_font: Path) -> bytes:
    return render_notice_pdf(big_notice, font_path=cjk_font)


@pytest.fixture(scope="module")
def big_text(big_pdf: bytes) -> list[str]:
    return _text(big_pdf)


def test_pdf_is_a_pdf(big_pdf: bytes) -> None:
    assert big_pdf.startswith(b"%PDF-") and big_pdf.rstrip().endswith(b"%%EOF")
    reader = pypdf.PdfReader(io.BytesIO(big_pdf), strict=True)
    assert reader.metadata.title == "整改通知单 ZG-2026-0007"
    assert all(page.mediabox.width == pytest.approx(595.28, abs=0.1) for page in reader.pages)  # A4
    assert all(page.mediabox.height == pytest.approx(841.89, abs=0.1) for page in reader.pages)


def test_pdf_long_findings_all_render(big_notice: NoticeDocument, big_text: list[str]) -> None:
    assert len(big_text) > 30  # 30 × 2,000 characters of Chinese do not fit on a few pages
    everything = _squash("".join(big_text))
    for f in big_notice.findings:
        assert f"#{f.number}" in everything
        assert f"【第{f.number - 100}项】" in everything
    # No character is lost (a phrase may straddle a page break, a character cannot).
    for ch in "扫【":
        assert everything.count(ch) == sum(f.description.count(ch) for f in big_notice.findings)
    assert "照片无法显示" in everything  # the PNG photos


def test_pdf_running_header_and_footer_on_every_page(big_text: list[str]) -> None:
    pages = len(big_text)
    assert pages > 1
    for number, text in enumerate(big_text, start=1):
        assert "整改通知单" in text, number
        assert "ZG-2026-0007" in text, number
        assert DEADLINE.isoformat() in text, number
        assert f"第 {number} 页 / 共 {pages} 页" in text, number
    # The findings table repeats its header row on every page it spans.
    assert all("问题描述" in text for text in big_text[1:-1])


def test_pdf_prints_the_fields(big_text: list[str], big_notice: NoticeDocument) -> None:
    first = _squash(big_text[0])
    for text in [
        big_notice.issued_by_org,
        "整改通知单",
        "某某建筑工程有限公司",
        "91310000MA1FL0AB2X",
        "停工整改",
        "项目经理部、监理单位",
        "检查发现的问题（共30项）",
    ]:
        assert _squash(text) in first, text
    assert "较大·质量" in first and "待整改" in first  # the findings table starts on page 1
    last = _squash(big_text[-1])
    assert "整改回执" in last and "□合格，同意闭合" in last  # the signature blocks end the notice


def test_pdf_embeds_a_font_subset_with_tounicode(big_pdf: bytes, cjk_font: Path) -> None:
    face_name = pdfmetrics.getFont(load_cjk_font(cjk_font)).face.name.decode()
    fonts = _fonts(big_pdf)
    embedded = {name: font for name, font in fonts.items() if font["/Subtype"] == "/TrueType"}
    assert embedded, fonts
    for name, font in embedded.items():
        assert re.fullmatch(rf"/[A-Z]{{6}}\+{re.escape(face_name)}-\d+", name), name  # a subset
        assert "/FontFile2" in font["/FontDescriptor"].get_object()  # TrueType program embedded
        assert "/ToUnicode" in font
    # Everything else is ReportLab's unused default (Helvetica), never a font drawing text.
    assert set(fonts) - set(embedded) <= {"/Helvetica"}


def test_pdf_chinese_text_is_extractable(cjk_font: Path) -> None:
    doc = notice([finding(1, description="外墙脚手架连墙件缺失，存在坍塌风险。")])
    text = _squash("".join(_text(render_notice_pdf(doc, font_path=cjk_font))))
    assert "外墙脚手架连墙件缺失，存在坍塌风险。" in text
    assert "问题1：楼板钢筋保护层不足" in text


def test_pdf_is_deterministic(cjk_font: Path) -> None:
    findings = [finding(i, description="钢筋" * 300, photo_jpeg=jpeg() if i % 2 else None) for i in range(6)]
    doc = notice(findings)
    first = render_notice_pdf(doc, font_path=cjk_font)
    assert render_notice_pdf(doc, font_path=cjk_font) == first
    assert len(_text(first)) > 1
    metadata = pypdf.PdfReader(io.BytesIO(first)).metadata
    assert metadata["/CreationDate"] == metadata["/ModDate"] == "D:20000101000000+00'00'"  # no clock
    other = render_notice_pdf(replace(doc, deadline=DEADLINE.replace(day=16)), font_path=cjk_font)
    assert other != first


def test_pdf_is_deterministic_across_processes(cjk_font: Path) -> None:
    """Another worker process (another hash seed) prints the same bytes: the ETag holds."""
    script = (
        "import hashlib, sys\n"
        "from tests.twin_server.reports.builders import finding, jpeg, notice\n"
        "from twin_server.reports import render_notice_pdf\n"
        "doc = notice([finding(i, description='钢筋' * 300, photo_jpeg=jpeg()) for i in range(4)])\n"
        "print(hashlib.sha256(render_notice_pdf(doc, font_path=sys.argv[1])).hexdigest())\n"
    )
    here = notice([finding(i, description="钢筋" * 300, photo_jpeg=jpeg()) for i in range(4)])
    expected = hashlib.sha256(render_notice_pdf(here, font_path=cjk_font)).hexdigest()
    for seed in ("1", "2"):
        done = subprocess.run(
            [sys.executable, "-c", script, str(cjk_font)],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.strip() == expected


def test_pdf_in_english(cjk_font: Path) -> None:
    doc = notice([finding(1, status="open", reopened_count=1)], handling="fine", status="acknowledged")
    text = "".join(_text(render_notice_pdf(doc, font_path=cjk_font, lang="en")))
    squashed = _squash(text)
    for expected in [
        "Rectification Notice",
        "No.: ZG-2026-0007",
        f"Deadline: {DEADLINE.isoformat()}",
        "Page 1 of 1",
        "Acknowledged",
        "Fine and rectify",
        "Open (reopened 1×)",
        "Required measures",
        "Re-inspection",
    ]:
        assert _squash(expected) in squashed, expected
    assert "整改通知单" not in text and "第 1 页" not in text
    assert "某某建筑工程有限公司" in text  # user text stays as written


def test_pdf_rejects_unknown_language(cjk_font: Path) -> None:
    with pytest.raises(InvalidInput, match="lang"):
        render_notice_pdf(notice(), font_path=cjk_font, lang="de")


def test_pdf_embeds_jpeg_photos(cjk_font: Path) -> None:
    photos = [
        jpeg((320, 200)),
        jpeg((200, 320), mode="CMYK", color=(0, 200, 200, 0)),
        jpeg((320, 200), color=(10, 20, 240), progressive=True),
    ]
    pdf = render_notice_pdf(
        notice([finding(i, photo_jpeg=p) for i, p in enumerate(photos)]), font_path=cjk_font
    )
    images = _images(pdf)
    assert len(images) == 3
    for image in images:
        filters = image["/Filter"] if isinstance(image["/Filter"], list) else [image["/Filter"]]
        assert "/DCTDecode" in filters
        assert image["/ColorSpace"] == "/DeviceRGB"  # CMYK is converted, not printed inverted
    assert sorted((i["/Width"], i["/Height"]) for i in images) == [(200, 320), (320, 200), (320, 200)]
    assert "照片无法显示" not in _squash("".join(_text(pdf)))


def test_pdf_prints_unreadable_photos_as_a_label(cjk_font: Path) -> None:
    good = jpeg()
    damaged = [png(), good[: len(good) // 2], b"\xff\xd8\xff" + bytes(100), b"", b"GIF89a"]
    pdf = render_notice_pdf(
        notice([finding(i, photo_jpeg=p) for i, p in enumerate(damaged)]), font_path=cjk_font
    )
    assert _images(pdf) == []
    assert _squash("".join(_text(pdf))).count("（照片无法显示）") == len(damaged)


def test_pdf_scales_down_a_large_photo(cjk_font: Path) -> None:
    pdf = render_notice_pdf(notice([finding(1, photo_jpeg=jpeg((3000, 2000)))]), font_path=cjk_font)
    (image,) = _images(pdf)
    assert (image["/Width"], image["/Height"]) == (notice_module.PHOTO_MAX_PX, 427)


def test_pdf_keeps_hostile_text_as_text(cjk_font: Path) -> None:
    doc = notice(
        [finding(1, title=HOSTILE + CONTROL, description=f"一行\r\n二行{CONTROL}", location=HOSTILE)],
        number=f"ZG-{CONTROL}1",
        issued_to_company=HOSTILE,
        cc=(HOSTILE,),
        required_measures=HOSTILE,
        issued_by=f"张{CONTROL}检查",
    )
    pdf = render_notice_pdf(doc, font_path=cjk_font)
    text = _squash("".join(_text(pdf)))
    # ReportLab's paragraph markup was not interpreted: the tags are printed.
    assert _squash("<b>粗</b><fontsize=40>大</font></style>&amp;") in text
    assert "<script>alert('x')</script>" in text
    assert "ZG-1" in text and "一行二行" in text
    assert pypdf.PdfReader(io.BytesIO(pdf)).metadata.author == "张检查"


def test_pdf_marks_characters_the_font_lacks(cjk_font: Path) -> None:
    pdf = render_notice_pdf(notice([finding(1, description="裂缝😀宽度超限")]), font_path=cjk_font)
    assert "裂缝□宽度超限" in _squash("".join(_text(pdf)))


def test_pdf_cuts_a_very_long_number_short_in_the_header(cjk_font: Path) -> None:
    number = "ZG-" + "0123456789" * 30
    pdf = render_notice_pdf(notice([finding(1)], number=number), font_path=cjk_font)
    (text,) = _text(pdf)
    header = next(line for line in text.splitlines() if "…" in line)
    assert header.startswith("整改通知单") and "ZG-0123456789" in header
    assert DEADLINE.isoformat() in text
    assert number in _squash(text)  # printed in full in the fields table


def test_pdf_without_findings(cjk_font: Path) -> None:
    (text,) = _text(render_notice_pdf(notice([]), font_path=cjk_font))
    assert "检查发现的问题（共 0 项）" in text and "第 1 页 / 共 1 页" in text


def test_pdf_very_long_header_fields_break_across_pages(cjk_font: Path) -> None:
    doc = notice([finding(1)], required_measures="整改要求" * 3000, issued_to_company="公司" * 500)
    text = _text(render_notice_pdf(doc, font_path=cjk_font))
    assert len(text) > 3
    assert _squash("".join(text)).count("求") >= 3000


def test_pdf_concurrent_renders_do_not_interfere(cjk_font: Path) -> None:
    docs = [
        notice([finding(i, description=f"第{k}份通知" * 60) for i in range(4)], number=f"ZG-{k}")
        for k in range(6)
    ]
    expected = [render_notice_pdf(doc, font_path=cjk_font) for doc in docs]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda doc: render_notice_pdf(doc, font_path=cjk_font), docs * 2))
    assert results == expected * 2
