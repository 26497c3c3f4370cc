from __future__ import annotations

import datetime as dt

from pydantic import Field, field_validator

from .common import Input, Name, Public


class OrgNodePublic(Public):
    id: int
    kind: str
    code: str
    name: str
    parent_id: int | None
    path: str


class ProjectFields(Input):
    site_lon: float | None = Field(None, ge=-180, le=180, description="WGS-84 longitude, degrees")
    site_lat: float | None = Field(None, ge=-90, le=90, description="WGS-84 latitude, degrees")
    address: str | None = Field(None, max_length=400)
    project_type: str | None = Field(None, max_length=64)
    contract_value_cny: float | None = Field(None, ge=0, lt=1e15)
    planned_start: dt.date | None = None
    planned_finish: dt.date | None = None
    status: str = Field("active", max_length=32)


class RegionCreate(Input):
    code: Name = Field(max_length=64, examples=["EAST"])
    name: Name = Field(max_length=200, examples=["华东区域"])


class ProjectCreate(ProjectFields):
    code: Name = Field(max_length=64)
    name: Name = Field(max_length=200)


class ProjectUpdate(Input):
    name: Name | None = Field(None, max_length=200)
    site_lon: float | None = Field(None, ge=-180, le=180)
    site_lat: float | None = Field(None, ge=-90, le=90)
    address: str | None = Field(None, max_length=400)
    project_type: str | None = Field(None, max_length=64)
    contract_value_cny: float | None = Field(None, ge=0, lt=1e15)
    planned_start: dt.date | None = None
    planned_finish: dt.date | None = None
    status: Name | None = Field(None, max_length=32)

    @field_validator("name", "status")
    @classmethod
    def _not_null(cls, value: str | None) -> str:
        # Omit a field to keep it; these two cannot be emptied.
        if value is None:
            raise ValueError("cannot be null")
        return value


class ProjectPublic(Public):
    id: int
    code: str
    name: str
    region_id: int | None
    site_lon: float | None
    site_lat: float | None
    address: str | None
    project_type: str | None
    contract_value_cny: float | None
    planned_start: dt.date | None
    planned_finish: dt.date | None
    status: str
