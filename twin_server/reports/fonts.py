"""Chinese fonts for the printable reports: find one on the host, load it into ReportLab.

Contract:

* ``find_cjk_font()`` returns the path of an installed font file that has TrueType
  outlines and Chinese glyphs (``fonts-wqy-zenhei`` first), or ``None``. The server uses it
  as its default ``font_path``; it never raises.
* ``load_cjk_font(path)`` registers the font with ReportLab once per file version and
  returns the name to use in styles. A missing file, a file ReportLab cannot read, a font
  with CFF outlines, or a font without Chinese glyphs raises ``Unavailable`` (the server
  answers 503), never anything else: printing a notice as empty boxes (tofu) would be
  worse than not printing it.

Why TrueType outlines only: ReportLab embeds subsets of ``glyf``-based fonts (TTF and TTC)
but cannot embed CFF / PostScript outlines, which is what Noto Sans CJK and Source Han
ship as (``.otf`` / ``.ttc`` with a ``CFF`` table). So those are skipped even when
fontconfig prefers them.
"""

from __future__ import annotations

import hashlib
import shutil
import struct
import subprocess
import threading
from collections.abc import Iterable
from pathlib import Path
from stat import S_ISREG

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from twin_server.domain.errors import Unavailable

__all__ = ["KNOWN_CJK_FONTS", "PROBE_TEXT", "find_cjk_font", "has_truetype_outlines", "load_cjk_font"]

#: Debian's CJK fonts with TrueType outlines, best first (the package that installs each
#: is named in the comment). Index 0 of each collection is a proportional Chinese face.
KNOWN_CJK_FONTS: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),  # fonts-wqy-zenhei
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),  # fonts-wqy-microhei
    Path("/usr/share/fonts/truetype/arphic/uming.ttc"),  # fonts-arphic-uming
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),  # fonts-droid-fallback
)

#: Characters every notice prints (its title and field labels): a font lacking them is
#: not a Chinese font, whatever its file name says.
PROBE_TEXT = "整改通知单编号期限"

# A TrueType collection holds several faces; ReportLab takes one by ``subfontIndex``.
# wqy-zenhei.ttc holds Zen Hei (0, proportional), Zen Hei Mono (1) and Zen Hei Sharp (2,
# embedded bitmaps for screens): 0 is the one for print.
_SUBFONT_INDEX = 0

_lock = threading.Lock()
_registered: dict[tuple[str, int, int], str] = {}  # (path, mtime ns, size) -> ReportLab name


def has_truetype_outlines(path: Path) -> bool:
    """True when the font (or a collection's first face) has a ``glyf`` table.

    Reads only the sfnt table directory (a few hundred bytes), so probing every font
    fontconfig lists stays cheap.
    """
    try:
        with path.open("rb") as f:
            head = f.read(12)
            if head[:4] == b"ttcf":  # collection header: tag, version, count, offsets[]
                (offset,) = struct.unpack(">I", f.read(4))
                f.seek(offset)
                head = f.read(12)
            if len(head) < 12 or head[:4] not in (b"\x00\x01\x00\x00", b"true"):
                return False  # b"OTTO" is CFF; anything else is not a font
            (num_tables,) = struct.unpack(">H", head[4:6])
            directory = f.read(16 * num_tables)
    except (OSError, ValueError, struct.error):  # unreadable, or cut short inside its header
        return False
    tags = {directory[i : i + 4] for i in range(0, len(directory), 16)}
    return b"glyf" in tags and b"cmap" in tags


def _fontconfig_chinese_fonts() -> list[Path]:
    """Font files fontconfig says cover Chinese (``fc-list :lang=zh``); empty without it."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    try:
        out = subprocess.run(
            [fc_list, ":lang=zh", "file"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    files = {line.strip().rstrip(":") for line in out.splitlines() if line.strip()}
    return [Path(name) for name in sorted(files)]


def find_cjk_font(*, candidates: Iterable[Path] | None = None) -> Path | None:
    """The first Chinese TrueType font that ``load_cjk_font`` accepts: from ``candidates``
    if given, else Debian's known paths and then whatever fontconfig lists for
    ``:lang=zh``. ``None`` when there is none."""
    paths = list(candidates) if candidates is not None else [*KNOWN_CJK_FONTS, *_fontconfig_chinese_fonts()]
    for path in paths:
        try:
            load_cjk_font(path)  # the same check printing makes: loadable, with Chinese glyphs
        except Unavailable:
            continue
        return path
    return None


def load_cjk_font(path: Path) -> str:
    """Register ``path`` with ReportLab (once per file version) and return its font name.

    Raises ``Unavailable`` when the file is missing, not a TrueType font (a CFF ``.otf``
    included), unreadable, or has no Chinese glyphs.
    """
    try:
        path = Path(path)
        stat = path.stat()
        # Keyed by mtime and size too, so a font replaced on disk is loaded afresh.
        key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    except (OSError, RuntimeError, TypeError, ValueError) as exc:  # RuntimeError: a symlink loop
        raise Unavailable(
            f"the CJK font for printing is missing: {path} ({exc}); install fonts-wqy-zenhei"
        ) from None
    if not S_ISREG(stat.st_mode):  # a directory, or a device ReportLab would read forever
        raise Unavailable(f"the CJK font for printing is not a file: {path}")
    with _lock:
        name = _registered.get(key)
        if name is not None:
            return name
        if not has_truetype_outlines(path):
            raise Unavailable(
                f"the font {path} has no TrueType outlines (CFF/PostScript outlines, as in Noto Sans CJK"
                " .otf, cannot be embedded); install fonts-wqy-zenhei"
            )
        name = "ErjiCJK-" + hashlib.sha1(repr(key).encode(), usedforsecurity=False).hexdigest()[:10]
        try:
            font = TTFont(name, str(path), subfontIndex=_SUBFONT_INDEX)
        except Exception as exc:  # ReportLab raises TTFError, struct.error, IndexError, ...
            raise Unavailable(f"the CJK font {path} cannot be loaded for printing: {exc}") from None
        missing = [ch for ch in PROBE_TEXT if ord(ch) not in font.face.charToGlyph]
        if missing:
            raise Unavailable(f"the font {path} has no Chinese glyphs (lacks {''.join(missing)})")
        pdfmetrics.registerFont(font)
        _registered[key] = name
        return name
