"""Entities and value objects the services hand to the API (never ORM rows)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .access import Capability, NodeKind, Role, can, in_scope
from .revisions import Processing, RevisionState

__all__ = [
    "ElementPage",
    "ElementSummary",
    "ModelInfo",
    "OrgNode",
    "Principal",
    "ProjectInfo",
    "RevisionDiff",
    "RevisionInfo",
]


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: a user, their role and the subtree they act in."""

    user_id: int
    username: str
    display_name: str | None
    role: Role
    node_id: int
    scope_path: str

    def can(self, capability: Capability) -> bool:
        return can(self.role, capability)

    @property
    def capabilities(self) -> tuple[Capability, ...]:
        """What the role allows (within the scope), sorted: for clients to show or hide actions."""
        return tuple(sorted(c for c in Capability if can(self.role, c)))

    def sees(self, node_path: str) -> bool:
        return in_scope(self.scope_path, node_path)


@dataclass(frozen=True, slots=True)
class OrgNode:
    id: int
    kind: NodeKind
    code: str
    name: str
    parent_id: int | None
    path: str


@dataclass(frozen=True, slots=True)
class ProjectInfo:
    id: int
    code: str
    name: str
    region_id: int | None
    path: str
    site_lon: float | None
    site_lat: float | None
    address: str | None
    project_type: str | None
    contract_value_cny: float | None
    planned_start: dt.date | None
    planned_finish: dt.date | None
    status: str


@dataclass(frozen=True, slots=True)
class ModelInfo:
    id: int
    project_id: int
    name: str
    discipline: str | None
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class RevisionInfo:
    id: int
    model_id: int
    project_id: int
    label: str
    state: RevisionState
    processing: Processing
    stage: str | None
    progress_pct: float
    failure_reason: str | None
    file_name: str
    file_bytes: int
    file_sha256: str
    glb_sha256: str | None
    glb_bytes: int | None
    attempts: int
    uploaded_by: str | None
    uploaded_at: dt.datetime
    processed_at: dt.datetime | None
    summary: dict[str, Any] | None = None
    placement: Placement | None = None


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a processed revision lies on Earth: the georeference chosen (``kind``
    map_conversion / site_reference / project_site, or None: not on the map), its CRS, the
    WGS-84 longitude and latitude of the model's plan centre (its bounding box's centre; the
    local origin without geometry), and what was odd about the data."""

    kind: str | None
    crs: str | None
    center_lon: float | None
    center_lat: float | None
    warnings: list[str]


@dataclass(frozen=True, slots=True)
class ElementSummary:
    global_id: str
    ifc_class: str
    name: str | None
    type_name: str | None
    storey_global_id: str | None
    storey_name: str | None
    glb_index: int | None


@dataclass(frozen=True, slots=True)
class ElementPage:
    items: list[ElementSummary]
    total: int
    page: int
    page_size: int


@dataclass(slots=True)
class RevisionDiff:
    """What changed from revision ``base`` to revision ``target`` of one model, by GlobalId.

    ``changed`` maps a GlobalId to the fields that differ, each ``[before, after]``.
    """

    base_id: int
    target_id: int
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    unchanged: int = 0
