from __future__ import annotations

from typing import Any

from pydantic import Field

from ..domain.revisions import RevisionState
from .common import Input, Name, Public, UtcDatetime


class ModelCreate(Input):
    name: Name = Field(max_length=200, examples=["3# 楼 结构"])
    discipline: str | None = Field(None, max_length=64, examples=["structure"])


class ModelPublic(Public):
    id: int
    project_id: int
    name: str
    discipline: str | None
    created_at: UtcDatetime


class PlacementPublic(Public):
    kind: str | None = Field(description="map_conversion, site_reference, project_site; null: not on the map")
    crs: str | None
    center_lon: float | None = Field(description="WGS-84 longitude of the model's plan centre")
    center_lat: float | None
    warnings: list[str] = Field(description="missing or contradictory georeferencing data, in English")


class RevisionPublic(Public):
    id: int
    model_id: int
    project_id: int
    label: str
    state: RevisionState
    processing: str
    stage: str | None
    progress_pct: float
    failure_reason: str | None
    file_name: str
    file_bytes: int
    file_sha256: str
    glb_sha256: str | None
    glb_bytes: int | None
    glb_url: str | None = Field(None, description="content-addressed, cache forever")
    attempts: int
    uploaded_by: str | None
    uploaded_at: UtcDatetime
    processed_at: UtcDatetime | None
    summary: dict[str, Any] | None = None
    placement: PlacementPublic | None = Field(
        None, description="where the processed model lies on Earth, and georeferencing warnings"
    )


class RevisionStateUpdate(Input):
    state: RevisionState


class RevisionDiffPublic(Public):
    base_id: int
    target_id: int
    added: list[str]
    removed: list[str]
    changed: dict[str, dict[str, list[Any]]]
    unchanged: int
