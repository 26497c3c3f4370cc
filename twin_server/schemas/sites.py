"""The HQ map's sites as GeoJSON (RFC 7946): WGS-84 longitude, latitude."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .common import Public


class SiteAlertPublic(Public):
    level: str
    message_zh: str
    message_en: str


class PointPublic(Public):
    type: Literal["Point"] = "Point"
    coordinates: tuple[float, float] = Field(description="WGS-84 longitude, latitude (degrees)")


class SitePropertiesPublic(Public):
    id: int
    code: str
    name: str
    region_id: int | None
    region: str | None
    location_source: Literal["project", "model"] | None = Field(
        description="project: the project's own site point; model: where the model's georeferencing puts it"
    )
    light: str | None
    score: float | None
    rank_in_region: int | None
    contract_value_cny: float | None
    open_alerts: int
    red_alerts: int
    top_alerts: list[SiteAlertPublic]
    footprint: dict | None = Field(
        description="the building outline (GeoJSON Polygon or MultiPolygon, WGS-84) of the model shown"
    )
    revision_id: int | None = Field(description="the revision whose footprint is shown (the published one)")
    georef_kind: str | None = Field(description="map_conversion, site_reference, project_site")
    georef_warnings: list[str]


class SiteFeaturePublic(Public):
    type: Literal["Feature"] = "Feature"
    id: int
    geometry: PointPublic | None = Field(description="null: the project has no location yet")
    properties: SitePropertiesPublic


class SiteCollectionPublic(Public):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    period: str
    features: list[SiteFeaturePublic]

    @classmethod
    def of(cls, sites) -> SiteCollectionPublic:
        """From ``services.sites.Sites``."""
        features = []
        for site in sites.sites:
            geometry = None if site.lon is None else PointPublic(coordinates=(site.lon, site.lat))
            properties = SitePropertiesPublic.model_validate(site)
            features.append(SiteFeaturePublic(id=site.id, geometry=geometry, properties=properties))
        return cls(period=sites.period, features=features)
