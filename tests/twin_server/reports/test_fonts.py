"""Finding and loading the Chinese font for printed notices: an unusable font is
``Unavailable`` (HTTP 503), never a crash and never a PDF of empty boxes."""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

import pytest
from reportlab.pdfbase import pdfmetrics

from twin_server.domain.errors import Unavailable
from twin_server.reports import find_cjk_font, load_cjk_font, render_notice_pdf
from twin_server.reports.fonts import (
    KNOWN_CJK_FONTS,
    PROBE_TEXT,
    _fontconfig_chinese_fonts,
    has_truetype_outlines,
)

from .builders import finding, notice

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
WQY_ZENHEI = KNOWN_CJK_FONTS[0]


def _sfnt(tag: bytes, tables: list[bytes]) -> bytes:
    """An sfnt header whose table directory lists ``tables`` (no table data behind it)."""
    header = tag + struct.pack(">HHHH", len(tables), 16, 0, 0)
    return header + b"".join(t + struct.pack(">III", 0, 1000, 4) for t in tables)


@pytest.fixture
def cff_otf(tmp_path: Path) -> Path:
    """What Noto Sans CJK / Source Han ship as: an OpenType font with CFF outlines."""
    path = tmp_path / "NotoSansCJK-Regular.otf"
    path.write_bytes(_sfnt(b"OTTO", [b"CFF ", b"OS/2", b"cmap", b"head"]) + bytes(4096))
    return path


def test_find_cjk_font_finds_the_installed_chinese_font(cjk_font: Path) -> None:
    if WQY_ZENHEI.is_file():
        assert cjk_font == WQY_ZENHEI  # fonts-wqy-zenhei comes first
    assert has_truetype_outlines(cjk_font)
    face = pdfmetrics.getFont(load_cjk_font(cjk_font)).face
    assert all(ord(ch) in face.charToGlyph for ch in PROBE_TEXT + "整改通知单第页共")


def test_fontconfig_lists_the_installed_chinese_font(cjk_font: Path) -> None:
    if shutil.which("fc-list") is None:
        pytest.skip("fontconfig (fc-list) is not installed")
    listed = _fontconfig_chinese_fonts()
    assert cjk_font.resolve() in {p.resolve() for p in listed}
    assert find_cjk_font(candidates=listed) is not None


def test_load_registers_once_per_file_version(cjk_font: Path, tmp_path: Path) -> None:
    name = load_cjk_font(cjk_font)
    assert load_cjk_font(cjk_font) == name
    assert load_cjk_font(Path(str(cjk_font))) == name
    copy = tmp_path / cjk_font.name
    shutil.copyfile(cjk_font, copy)
    os.utime(copy, ns=(1_000_000_000, 1_000_000_000))
    first = load_cjk_font(copy)
    assert first != name
    os.utime(copy, ns=(2_000_000_000, 2_000_000_000))  # replaced on disk: loaded afresh
    second = load_cjk_font(copy)
    assert second not in (name, first)
    assert pdfmetrics.getFont(second).face.name == pdfmetrics.getFont(name).face.name


def test_missing_font_is_unavailable(tmp_path: Path) -> None:
    missing = tmp_path / "wqy-zenhei.ttc"
    with pytest.raises(Unavailable, match="missing"):
        load_cjk_font(missing)
    with pytest.raises(Unavailable):
        render_notice_pdf(notice([finding()]), font_path=missing)
    with pytest.raises(Unavailable, match="no Chinese TrueType font"):
        render_notice_pdf(notice([finding()]), font_path=None)


def test_cff_font_is_unavailable(cff_otf: Path) -> None:
    assert not has_truetype_outlines(cff_otf)
    with pytest.raises(Unavailable, match="TrueType outlines"):
        load_cjk_font(cff_otf)
    with pytest.raises(Unavailable):
        render_notice_pdf(notice([finding()]), font_path=cff_otf)
    assert find_cjk_font(candidates=[cff_otf]) is None


def test_truetype_font_without_chinese_is_unavailable() -> None:
    if not DEJAVU.is_file():
        pytest.skip(f"{DEJAVU} is not installed")
    assert has_truetype_outlines(DEJAVU)  # a good font: the glyph probe is what rejects it
    with pytest.raises(Unavailable, match="no Chinese glyphs"):
        load_cjk_font(DEJAVU)
    with pytest.raises(Unavailable, match="no Chinese glyphs"):
        render_notice_pdf(notice([finding()]), font_path=DEJAVU)
    assert find_cjk_font(candidates=[DEJAVU]) is None


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"ttcf\x00\x01\x00\x00\x00\x00", id="collection-header-cut-short"),
        pytest.param(
            b"ttcf\x00\x01\x00\x00\x00\x00\x00\x01\xff\xff\xff\x00", id="collection-offset-past-end"
        ),
        pytest.param(_sfnt(b"\x00\x01\x00\x00", [b"cmap", b"glyf", b"head"]), id="truetype-without-tables"),
        pytest.param(b"%PDF-1.4\n" + bytes(200), id="not-a-font"),
    ],
)
def test_damaged_font_is_unavailable_not_a_crash(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.ttf"
    path.write_bytes(content)
    with pytest.raises(Unavailable):
        load_cjk_font(path)
    with pytest.raises(Unavailable):
        render_notice_pdf(notice([finding()]), font_path=path)
    assert find_cjk_font(candidates=[path]) is None


def test_a_folder_or_device_is_unavailable(tmp_path: Path) -> None:
    for path in (tmp_path, Path("/dev/zero")):  # /dev/zero would be read forever
        with pytest.raises(Unavailable, match="not a file"):
            load_cjk_font(path)


def test_find_cjk_font_skips_unusable_candidates(cjk_font: Path, cff_otf: Path, tmp_path: Path) -> None:
    candidates = [tmp_path / "missing.ttf", tmp_path, cff_otf, DEJAVU, cjk_font]
    assert find_cjk_font(candidates=candidates) == cjk_font
    assert find_cjk_font(candidates=candidates[:-1]) is None
    assert find_cjk_font(candidates=[]) is None
