from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from .common import Public


class OrgNodePublic(Public):
    id: int
    kind: str
    code: str
    name: str
    parent_id: int | None
    path: str


class ProjectFields(BaseModel):
    site_lon: float | None = Field(None, ge=-180, le=180, description="WGS-84 longitude, degrees")
    site_lat: float | None = Field(None, ge=-90, le=90, description="WGS-84 latitude, degrees")
    address: str | None = Field(None, max_length=400)
    project_type: str | None = Field(None, max_length=64)
    contract_value_cny: float | None = Field(None, ge=0)
    planned_start: dt.date | None = None
    planned_finish: dt.date | None = None
    status: str = Field("active", max_length=32)


class RegionCreate(BaseModel):
    code: str = Field(min_length=1, max_length=64, examples=["EAST"])
    name: str = Field(min_length=1, max_length=200, examples=["华东区域"])


class ProjectCreate(ProjectFields):
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)


class ProjectUpdate(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    site_lon: float | None = Field(None, ge=-180, le=180)
    site_lat: float | None = Field(None, ge=-90, le=90)
    address: str | None = Field(None, max_length=400)
    project_type: str | None = Field(None, max_length=64)
    contract_value_cny: float | None = Field(None, ge=0)
    planned_start: dt.date | None = None
    planned_finish: dt.date | None = None
    status: str | None = Field(None, max_length=32)


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
