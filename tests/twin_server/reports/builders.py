"""Builders for notices, findings and photos in the report tests."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from PIL import Image

from twin_server.reports import NoticeDocument, NoticeFinding

DEADLINE = dt.date(2026, 3, 15)


def jpeg(
    size: tuple[int, int] = (320, 200), *, mode: str = "RGB", color: Any = (200, 60, 40), **save: Any
) -> bytes:
    """A small JPEG made by Pillow."""
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, "JPEG", **save)
    return out.getvalue()


def png(size: tuple[int, int] = (64, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (0, 128, 0)).save(out, "PNG")
    return out.getvalue()


def finding(number: int = 1, **overrides: Any) -> NoticeFinding:
    values: dict[str, Any] = {
        "number": number,
        "title": f"问题{number}：楼板钢筋保护层不足",
        "location": "3F · 轴线 A-B/1-2 · 2O2Fr$t4X7Zf8NOew3FLOH",
        "description": f"第{number}项：现场实测楼板底筋保护层厚度 8mm，设计要求 15mm。",
        "severity": "major",
        "kind": "quality",
        "status": "open",
    }
    values.update(overrides)
    return NoticeFinding(**values)


def notice(
    findings: tuple[NoticeFinding, ...] | list[NoticeFinding] = (), **overrides: Any
) -> NoticeDocument:
    values: dict[str, Any] = {
        "number": "ZG-2026-0007",
        "project_name": "二级孪生示范项目",
        "project_code": "P-001",
        "issued_by": "张检查",
        "issued_by_org": "华东区域管理中心 质量安全部",
        "issued_to_company": "某某建筑工程有限公司",
        "issued_to_uscc": "91310000MA1FL0AB2X",
        "contact_person": "李项目",
        "issued_on": dt.date(2026, 3, 1),
        "deadline": DEADLINE,
        "handling": "rectify",
        "required_measures": "立即组织整改，整改完成后报送整改回执及整改后照片。",
        "cc": ("项目经理部", "监理单位"),
        "status": "issued",
        "findings": tuple(findings),
    }
    values.update(overrides)
    return NoticeDocument(**values)
