"""Projects on the map: where each model lies on Earth, and the sites the HQ map draws.

A processed revision is *placed* once (``place_revision``): its georeferencing data, read
by the pipeline into ``georef.json``, is interpreted by ``geodata`` (IfcMapConversion, else
IfcSite latitude/longitude, else the project's own site point), and the ground outline the
pipeline drew in the engineering frame is carried to WGS-84. What was missing or
contradictory is kept as warnings on the revision. A project's site point changing places
its revisions again (those placed by it move with it).

Stored coordinates are WGS-84 (CGCS2000 agrees to a few centimetres); the offsets of Chinese
web maps (GCJ-02, BD-09) are the map page's business, at render time.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import mapping, shape
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, undefer

import geodata
from geodata.offsets import Datum

from ..db.orm import AlertRow, OrgNodeRow, ProjectRow, RevisionRow
from ..domain.errors import NotFound
from ..domain.model import Principal
from ..domain.revisions import Processing, RevisionState
from . import portfolio as portfolio_service

__all__ = [
    "ProjectSite",
    "SiteAlert",
    "Sites",
    "export_sites",
    "place_project",
    "place_revision",
    "portfolio_sites",
    "sites_stamp",
]

#: A model placed farther than this from its project's site point is worth a warning:
#: one of the two is wrong (a site compound, even a large one, fits in this radius).
SITE_MISMATCH_M = 5_000.0
TOP_ALERTS = 3


# --------------------------------------------------------------------------- placing models


def place_revision(session: Session, *, revision_id: int, now: dt.datetime) -> None:
    """Interpret the revision's georeferencing data and place its footprint in WGS-84.

    Never raises for bad georeferencing data: what is missing, unusable or contradictory
    becomes a warning on the revision (``georef_warnings``). The caller commits.
    """
    row = session.get(RevisionRow, revision_id, options=[undefer(RevisionRow.georef_json)])
    if row is None:
        raise NotFound(f"no revision {revision_id}")
    project = session.get(ProjectRow, row.project_id)
    project_site = _site_point(project)
    record = _json(row.georef_json) or {}
    summary = _json(row.summary_json) or {}
    center_local_m = _model_center(summary)
    choice = geodata.choose_from_record(
        record, project_site=project_site, model_center_local_m=center_local_m
    )
    warnings = list(choice.warnings)
    georeference = choice.georeference
    footprint = None
    center = None
    if georeference is None:
        warnings.append(
            "the model has no usable georeferencing data (IfcMapConversion or IfcSite "
            "RefLatitude/RefLongitude) and the project has no site location: it is not on the map"
        )
    else:
        # The plan centre, not the local origin: some models keep map coordinates in their
        # local frame (the corpus' Italian railway signal sits 400 km from its origin).
        center = (
            tuple(float(v) for v in georeference.local_to_wgs84(np.array([center_local_m[:2]]))[0][:2])
            if center_local_m
            else georeference.origin_wgs84()
        )
        if georeference.kind == "project_site":
            warnings.append(
                "the model has no usable georeferencing data: its origin is put at the "
                "project's site location"
            )
        elif project_site is not None:
            distance_m = geodata.distance_m(center, project_site)
            if distance_m > SITE_MISMATCH_M:
                warnings.append(
                    f"the model's georeferencing puts it {distance_m / 1000:,.1f} km from the "
                    "project's site location; check one or the other"
                )
        local = (_json(row.footprint_local_json) or {}).get("geometry")
        if local:
            try:
                footprint = mapping(geodata.footprint_to_wgs84(shape(local), georeference))
            except (geodata.GeodataError, ValueError) as exc:
                warnings.append(f"the footprint could not be placed: {exc}")
    row.georef_kind = georeference.kind if georeference else None
    row.georef_crs = georeference.crs if georeference else None
    row.center_lon, row.center_lat = center if center else (None, None)
    row.footprint_json = json.dumps(footprint) if footprint else None
    row.georef_warnings_json = json.dumps(list(dict.fromkeys(warnings)), ensure_ascii=False)
    row.placed_at = now


def place_project(session: Session, *, project_id: int, now: dt.datetime) -> int:
    """Place every processed revision of the project again (after its site point moved);
    returns how many. The caller commits."""
    ids = session.scalars(
        select(RevisionRow.id).where(
            RevisionRow.project_id == project_id, RevisionRow.processing == Processing.SUCCEEDED.value
        )
    ).all()
    for revision_id in ids:
        place_revision(session, revision_id=revision_id, now=now)
    return len(ids)


def _site_point(project: ProjectRow | None) -> tuple[float, float] | None:
    if project is None or project.site_lon is None or project.site_lat is None:
        return None
    return (project.site_lon, project.site_lat)


def _model_center(summary: dict) -> tuple[float, float, float] | None:
    lo, hi = summary.get("bbox_min_m"), summary.get("bbox_max_m")
    if not lo or not hi:
        return None
    return tuple((a + b) / 2 for a, b in zip(lo, hi, strict=True))


def _json(text: str | None):
    return json.loads(text) if text else None


# --------------------------------------------------------------------------- the sites


@dataclass(frozen=True, slots=True)
class SiteAlert:
    level: str
    message_zh: str
    message_en: str


@dataclass(frozen=True, slots=True)
class ProjectSite:
    """One project as the map shows it. ``lon``/``lat`` (WGS-84) is the project's site point,
    else where its model's georeferencing puts the model; ``location_source`` says which."""

    id: int
    code: str
    name: str
    region_id: int | None
    region: str | None
    lon: float | None
    lat: float | None
    location_source: str | None  # "project", "model", None: not on the map
    light: str | None
    score: float | None
    rank_in_region: int | None
    contract_value_cny: float | None
    open_alerts: int
    red_alerts: int
    top_alerts: list[SiteAlert]
    footprint: dict | None  # GeoJSON geometry, WGS-84
    revision_id: int | None
    georef_kind: str | None
    georef_warnings: list[str]


@dataclass(frozen=True, slots=True)
class Sites:
    period: str
    sites: list[ProjectSite]


def sites_stamp(session: Session) -> tuple:
    """The portfolio's stamp and the newest placement: the sites change with either."""
    placed = session.execute(select(func.max(RevisionRow.placed_at))).scalar()
    return (*portfolio_service.portfolio_stamp(session), placed)


def portfolio_sites(
    session: Session,
    *,
    principal: Principal,
    period: str,
    region_id: int | None = None,
    datum: Datum = "wgs84",
) -> Sites:
    """Every project the caller may see (of one region, if given) with its location, health,
    contract value, top open alerts and footprint. Projects with no location are listed too
    (``lon`` None), so the map can say how many it could not place.

    ``datum`` "gcj02" or "bd09" shifts every coordinate of the answer for a Chinese base map
    (AMap / Tencent, Baidu) that is drawn in it; what is stored stays WGS-84."""
    summary = portfolio_service.portfolio_summary(session, principal=principal, period=period)
    lines = [line for line in summary.projects if region_id is None or line.region_id == region_id]
    if region_id is not None and not _visible_region(session, principal, region_id):
        raise NotFound(f"no region {region_id}")
    ids = [line.id for line in lines]
    placed = _placed_revisions(session, ids)
    alerts = _top_alerts(session, ids)
    sites = []
    for line in lines:
        revision = placed.get(line.id)
        if line.site_lon is not None and line.site_lat is not None:
            lon, lat, source = line.site_lon, line.site_lat, "project"
        elif revision is not None and revision.center_lon is not None:
            lon, lat, source = revision.center_lon, revision.center_lat, "model"
        else:
            lon = lat = source = None
        footprint = _json(revision.footprint_json) if revision else None
        if datum != "wgs84":
            if lon is not None:
                lon, lat = geodata.to_display(lon, lat, datum=datum)
            if footprint:
                footprint = mapping(_shifted(shape(footprint), datum))
        sites.append(
            ProjectSite(
                id=line.id,
                code=line.code,
                name=line.name,
                region_id=line.region_id,
                region=line.region,
                lon=lon,
                lat=lat,
                location_source=source,
                light=line.light,
                score=line.score,
                rank_in_region=line.rank_in_region,
                contract_value_cny=line.contract_value_cny,
                open_alerts=line.open_alerts,
                red_alerts=line.red_alerts,
                top_alerts=alerts.get(line.id, []),
                footprint=footprint,
                revision_id=revision.id if revision else None,
                georef_kind=revision.georef_kind if revision else None,
                georef_warnings=(_json(revision.georef_warnings_json) or []) if revision else [],
            )
        )
    return Sites(summary.period, sites)


def _shifted(geometry, datum: Datum):
    def shift(points):
        lon, lat = geodata.to_display(points[:, 0], points[:, 1], datum=datum)
        return np.column_stack((lon, lat))

    return shapely.transform(geometry, shift)


def _visible_region(session: Session, principal: Principal, region_id: int) -> bool:
    return (
        session.execute(
            select(OrgNodeRow.id).where(
                OrgNodeRow.id == region_id, OrgNodeRow.path.startswith(principal.scope_path)
            )
        ).first()
        is not None
    )


def _placed_revisions(session: Session, project_ids: Sequence[int]) -> dict[int, RevisionRow]:
    """Per project, the revision the map shows: the published one, else the newest placed."""
    if not project_ids:
        return {}
    published_first = case((RevisionRow.state == RevisionState.PUBLISHED.value, 0), else_=1)
    chosen: dict[int, RevisionRow] = {}
    for row in session.scalars(
        select(RevisionRow)
        .options(undefer(RevisionRow.footprint_json))
        .where(RevisionRow.project_id.in_(list(project_ids)), RevisionRow.placed_at.is_not(None))
        .order_by(RevisionRow.project_id, published_first, RevisionRow.id.desc())
    ):
        chosen.setdefault(row.project_id, row)
    return chosen


def _top_alerts(session: Session, project_ids: Sequence[int]) -> dict[int, list[SiteAlert]]:
    """Up to ``TOP_ALERTS`` open or acknowledged alerts per project, red and newest first."""
    if not project_ids:
        return {}
    red_first = case((AlertRow.level == "red", 0), else_=1)
    out: dict[int, list[SiteAlert]] = defaultdict(list)
    for row in session.execute(
        select(AlertRow.project_id, AlertRow.level, AlertRow.message_zh, AlertRow.message_en)
        .where(AlertRow.project_id.in_(list(project_ids)), AlertRow.open_key.is_not(None))
        .order_by(AlertRow.project_id, red_first, AlertRow.updated_at.desc(), AlertRow.id.desc())
    ):
        if len(out[row.project_id]) < TOP_ALERTS:
            out[row.project_id].append(SiteAlert(row.level, row.message_zh, row.message_en))
    return out


# --------------------------------------------------------------------------- export


def export_sites(sites: Sites, *, file_format: str) -> bytes:
    """The sites as a file for GIS tools: ``geojson`` (one FeatureCollection, points and
    footprints, told apart by ``layer``) or ``gpkg`` (a GeoPackage with the layers
    ``sites`` and ``footprints``). WGS-84 (EPSG:4326) throughout."""
    from geodata import io  # geopandas and GDAL load in half a second: only when exporting

    points, outlines = [], []
    for site in sites.sites:
        properties = {
            "project_id": site.id,
            "code": site.code,
            "name": site.name,
            "region": site.region,
            "light": site.light,
            "score": site.score,
            "rank_in_region": site.rank_in_region,
            "contract_value_cny": site.contract_value_cny,
            "open_alerts": site.open_alerts,
            "red_alerts": site.red_alerts,
            "period": sites.period,
        }
        if site.lon is not None:
            points.append(
                {
                    "geometry": {"type": "Point", "coordinates": [site.lon, site.lat]},
                    "properties": properties | {"location_source": site.location_source},
                }
            )
        if site.footprint:
            outlines.append(
                {
                    "geometry": site.footprint,
                    "properties": properties | {"revision_id": site.revision_id},
                }
            )
    if file_format == "gpkg":
        return io.write_geopackage({"sites": points, "footprints": outlines})
    layered = [f | {"properties": f["properties"] | {"layer": "sites"}} for f in points]
    layered += [f | {"properties": f["properties"] | {"layer": "footprints"}} for f in outlines]
    return io.geojson_bytes(layered)
