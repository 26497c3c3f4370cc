"""Models placed on the map and the HQ map's sites, through the API on SQLite and PostgreSQL:
a model's georeferencing chosen and its footprint carried to WGS-84, warnings for missing
or contradictory data, a moved site point moving the models placed by it, the sites cut to
the caller's scope, GeoJSON and GeoPackage exports, and bad requests answered with 4xx."""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import ifcopenshell
import ifcopenshell.api.georeference
import pyproj
import pytest
from ifcopenshell.util import geolocation
from shapely.geometry import Point, shape

from tests.conftest import CORPUS
from tests.factories import add_wall, tiny_model

WUHAN = (114.3055, 30.5928)  # lon, lat (WGS-84); CGCS2000 agrees to centimetres


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    return pyproj.Geod(ellps="WGS84").inv(a[0], a[1], b[0], b[1])[2]


def walls_ifc(
    path: Path,
    *,
    epsg: int | None = None,
    at: tuple[float, float] = WUHAN,
    rotation_deg: float = 0.0,
    site: tuple[float, float] | None = None,
) -> Path:
    """Two parallel 10 m walls 8 m apart (outer faces); with ``epsg``, an IfcMapConversion that puts the local
    origin at ``at``; with ``site``, IfcSite RefLatitude/RefLongitude."""
    m = tiny_model(project_name="Geo")
    add_wall(m, "S", length_m=10.0)
    add_wall(m, "N", at_m=(0.0, 7.8, 0.0), length_m=10.0)
    if epsg is not None:
        eastings, northings = pyproj.Transformer.from_crs(4326, epsg, always_xy=True).transform(*at)
        ifcopenshell.api.georeference.add_georeferencing(m.file, name=f"EPSG:{epsg}")
        metre = m.file.create_entity("IfcSIUnit", UnitType="LENGTHUNIT", Name="METRE")
        ifcopenshell.api.georeference.edit_georeferencing(
            m.file,
            coordinate_operation={
                "Eastings": eastings,
                "Northings": northings,
                "OrthogonalHeight": 20.0,
                "XAxisAbscissa": math.cos(math.radians(rotation_deg)),
                "XAxisOrdinate": math.sin(math.radians(rotation_deg)),
            },
            projected_crs={"Name": f"EPSG:{epsg}", "MapUnit": metre},
        )
    if site is not None:
        ifc_site = m.file.by_type("IfcSite")[0]
        ifc_site.RefLongitude = geolocation.dd2dms(site[0], use_us=True)
        ifc_site.RefLatitude = geolocation.dd2dms(site[1], use_us=True)
    return m.write(path)


def processed(api, project: str, path: Path, name: str, user: str = "admin") -> dict:
    model = api.create_model(project, name, user=user)
    response = api.upload(project, model["id"], path, user=user)
    assert response.status_code == 202, response.text
    revision = api.wait_processed(project, response.json()["id"])
    assert revision["processing"] == "succeeded", revision
    return revision


def sites(api, user: str = "admin", **params) -> dict:
    response = api.as_user(user, "GET", "/api/portfolio/sites", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/geo+json")
    return response.json()


def feature(collection: dict, project_id: int) -> dict:
    return next(f for f in collection["features"] if f["id"] == project_id)


# --------------------------------------------------------------------------- placing models


def test_a_map_conversion_places_the_model_and_its_footprint(api, tmp_path: Path) -> None:
    revision = processed(api, "P-EAST", walls_ifc(tmp_path / "gk.ifc", epsg=4547, rotation_deg=30), "GK")
    placement = revision["placement"]
    assert placement["kind"] == "map_conversion" and placement["crs"] == "EPSG:4547"
    # The walls' plan centre (5, 4) m from the origin, turned 30° with the model.
    centre = pyproj.Geod(ellps="WGS84").fwd(
        *WUHAN, 90 - 30 - math.degrees(math.atan2(4, 5)), math.hypot(5, 4)
    )
    assert distance_m((placement["center_lon"], placement["center_lat"]), centre[:2]) < 0.05
    # P-EAST's own site point is in Shanghai: one of the two is wrong, and the user is told.
    assert any("km from the project's site location" in w for w in placement["warnings"])
    site = feature(sites(api), api.node("P-EAST"))
    assert site["properties"]["revision_id"] == revision["id"]
    outline = shape(site["properties"]["footprint"])
    assert outline.geom_type == "MultiPolygon" and len(outline.geoms) == 2  # the two walls
    # Turned 30° about the origin: the far corner of the far wall lies where the rotation
    # puts it, within the raster's few centimetres.
    corner = pyproj.Geod(ellps="WGS84").fwd(
        *WUHAN, 90 - 30 - math.degrees(math.atan2(8, 10)), math.hypot(10, 8)
    )
    assert min(distance_m(corner[:2], c) for p in outline.geoms for c in p.exterior.coords) < 0.3
    lon, lat = outline.centroid.x, outline.centroid.y
    assert distance_m((lon, lat), WUHAN) < 10  # the walls' centre is ~6.4 m from the origin
    # The marker stays on the project's own site point; the footprint is the model's.
    assert site["geometry"]["coordinates"] == pytest.approx([121.47, 31.23])
    assert site["properties"]["location_source"] == "project"


def test_a_model_without_georeferencing_sits_on_the_site_point_and_moves_with_it(api, tmp_path: Path) -> None:
    revision = processed(api, "P-WEST", walls_ifc(tmp_path / "plain.ifc"), "Plain", user="west_bim")
    placement = revision["placement"]
    assert placement["kind"] == "project_site"
    assert distance_m((placement["center_lon"], placement["center_lat"]), (104.06, 30.67)) < 7  # (5, 4) m
    assert any("no usable georeferencing" in w for w in placement["warnings"])
    project = api.node("P-WEST")
    moved = api.as_user(
        "admin", "PATCH", f"/api/projects/{project}", json={"site_lon": 104.1, "site_lat": 30.7}
    )
    assert moved.status_code == 200, moved.text
    again = api.as_user("admin", "GET", f"/api/projects/{project}/revisions/{revision['id']}").json()
    assert distance_m((again["placement"]["center_lon"], again["placement"]["center_lat"]), (104.1, 30.7)) < 7
    outline = shape(feature(sites(api), project)["properties"]["footprint"])
    assert outline.distance(Point(104.1, 30.7)) < 1e-4  # the walls start at the new point


def test_site_latitude_longitude_places_a_model_without_a_map_conversion(api, tmp_path: Path) -> None:
    xian = (108.9402, 34.3416)
    revision = processed(api, "P-WEST", walls_ifc(tmp_path / "site.ifc", site=xian), "Site", user="west_bim")
    placement = revision["placement"]
    assert placement["kind"] == "site_reference"
    assert distance_m((placement["center_lon"], placement["center_lat"]), xian) < 7
    assert any("km from the project's site location" in w for w in placement["warnings"])


def test_an_unknown_crs_falls_back_to_the_site_point_with_a_warning(api, tmp_path: Path) -> None:
    path = walls_ifc(tmp_path / "bad.ifc", epsg=4547, site=WUHAN)
    model = ifcopenshell.open(str(path))
    model.by_type("IfcProjectedCRS")[0].Name = "EPSG:999999"
    model.write(str(path))
    revision = processed(api, "P-EAST", path, "Unknown CRS")
    placement = revision["placement"]
    assert placement["kind"] == "site_reference"
    assert any("EPSG:999999" in w and "IfcSite" in w for w in placement["warnings"])


# --------------------------------------------------------------------------- the sites


def test_sites_are_cut_to_the_callers_scope(api) -> None:
    everything = sites(api, "hq")
    ids = {f["id"] for f in everything["features"]}
    assert {api.node("P-EAST"), api.node("P-WEST")} <= ids
    east = sites(api, "east")
    assert {f["id"] for f in east["features"]} == {api.node("P-EAST")}
    one_region = sites(api, "hq", region=api.node("WEST"))
    assert {f["id"] for f in one_region["features"]} == {api.node("P-WEST")}
    for user, region in (("east", api.node("WEST")), ("hq", 2**31 - 1)):
        response = api.as_user(user, "GET", "/api/portfolio/sites", params={"region": region})
        assert response.status_code == 404, response.text
    for bad in ({"region": "x"}, {"region": 0}, {"period": "2026-13"}):
        response = api.as_user("hq", "GET", "/api/portfolio/sites", params=bad)
        assert response.status_code == 422, response.text
    assert api.client.get("/api/portfolio/sites").status_code == 401


def test_each_site_carries_health_alerts_and_value(api) -> None:
    site = feature(sites(api, "hq"), api.node("P-EAST"))
    properties = site["properties"]
    assert site["type"] == "Feature" and site["geometry"]["type"] == "Point"
    for key in ("light", "score", "rank_in_region", "contract_value_cny", "open_alerts", "top_alerts"):
        assert key in properties
    assert properties["name"] == "项目 P-EAST"


def test_the_sites_answer_changes_when_a_model_is_placed(api, tmp_path: Path) -> None:
    before = sites(api, "hq")
    processed(api, "P-EAST", walls_ifc(tmp_path / "again.ifc", epsg=32650), "UTM")
    after = feature(sites(api, "hq"), api.node("P-EAST"))
    assert after != feature(before, api.node("P-EAST"))  # the cached answer was not served
    assert after["properties"]["georef_kind"] == "map_conversion"


@pytest.mark.parametrize("file_format", ["geojson", "gpkg"])
def test_exports_open_in_gis_tools(api, file_format: str, tmp_path: Path) -> None:
    response = api.as_user("hq", "GET", "/api/portfolio/sites/export", params={"format": file_format})
    assert response.status_code == 200, response.text
    assert "attachment" in response.headers["content-disposition"]
    if file_format == "geojson":
        collection = json.loads(response.content)
        layers = {f["properties"]["layer"] for f in collection["features"]}
        assert layers == {"sites", "footprints"}
        names = {f["properties"]["name"] for f in collection["features"]}
        assert "项目 P-EAST" in names
        return
    path = tmp_path / "sites.gpkg"
    path.write_bytes(response.content)
    points = gpd.read_file(path, layer="sites")
    outlines = gpd.read_file(path, layer="footprints")
    assert set(points["code"]) >= {"P-EAST", "P-WEST"}
    assert points.crs.to_epsg() == 4326 and outlines.crs.to_epsg() == 4326
    assert (outlines.geometry.geom_type.isin(["Polygon", "MultiPolygon"])).all() and len(outlines) >= 1


def test_the_export_is_cut_to_the_callers_scope_and_checks_its_format(api) -> None:
    response = api.as_user("east", "GET", "/api/portfolio/sites/export", params={"format": "geojson"})
    codes = {f["properties"]["code"] for f in json.loads(response.content)["features"]}
    assert codes == {"P-EAST"}
    bad = api.as_user("east", "GET", "/api/portfolio/sites/export", params={"format": "kml"})
    assert bad.status_code == 422


def test_coordinates_shift_for_chinese_base_maps_only_in_the_answer(api) -> None:
    plain = feature(sites(api, "hq"), api.node("P-EAST"))
    amap = feature(sites(api, "hq", datum="gcj02"), api.node("P-EAST"))
    baidu = feature(sites(api, "hq", datum="bd09"), api.node("P-EAST"))
    lon, lat = plain["geometry"]["coordinates"]
    # GCJ-02 lies a few hundred metres from WGS-84 in Shanghai, BD-09 farther still.
    assert 100 < distance_m(tuple(amap["geometry"]["coordinates"]), (lon, lat)) < 1000
    assert distance_m(tuple(baidu["geometry"]["coordinates"]), tuple(amap["geometry"]["coordinates"])) > 100
    shifted = shape(amap["properties"]["footprint"])
    assert shifted.distance(shape(plain["properties"]["footprint"])) > 1e-3
    again = feature(sites(api, "hq"), api.node("P-EAST"))  # stored coordinates untouched
    assert again["geometry"]["coordinates"] == [lon, lat]
    bad = api.as_user("hq", "GET", "/api/portfolio/sites", params={"datum": "mars"})
    assert bad.status_code == 422


def test_corpus_models_are_placed_or_told_why_not(api) -> None:
    """Two real georeferenced files: the IFC4X3 railway signal lands in Italy by its map
    conversion; the IFC4 sample whose IfcProjectedCRS has no name falls back to the project's
    site point, and says why."""
    signal = processed(api, "P-WEST", CORPUS / "ifc" / "linear-placement-of-signal_IFC4X3_ADD2.ifc", "Signal")
    placement = signal["placement"]
    assert placement["kind"] == "map_conversion", placement
    assert abs(placement["center_lon"] - 14.44) < 0.5 and abs(placement["center_lat"] - 41.01) < 0.5
    unnamed = processed(api, "P-WEST", CORPUS / "ifc" / "geolocation-mapconversion.ifc", "Unnamed CRS")
    placement = unnamed["placement"]
    assert placement["kind"] == "project_site"
    assert any("IfcProjectedCRS" in w for w in placement["warnings"]), placement["warnings"]
