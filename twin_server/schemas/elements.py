from __future__ import annotations

from .common import Public


class ElementSummaryPublic(Public):
    global_id: str
    ifc_class: str
    name: str | None
    type_name: str | None
    storey_global_id: str | None
    storey_name: str | None
    glb_index: int | None


class ElementsPublic(Public):
    items: list[ElementSummaryPublic]
    total: int
    page: int
    page_size: int


class ElementRevisionPublic(Public):
    revision_id: int
    label: str
    state: str
    changed: bool
