"""GeoJSON and GeoPackage output, read back with geopandas (GDAL) as a GIS user would."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import MultiPolygon, Point, Polygon, box, shape

from geodata.io import features_to_geojson, geojson_bytes, write_geopackage

SITES = [
    {"id": "SH-PD-01", "geometry": Point(121.5447, 31.2215),
     "properties": {"code": "SH-PD-01", "name": "浦东新区办公楼", "light": "green", "score": 92.5}},
    {"geometry": {"type": "Point", "coordinates": [114.3055, 30.5928]},
     "properties": {"code": "WH-01", "name": "武汉中心 二期", "light": "red", "score": None}},
]  # fmt: skip
FOOTPRINTS = [
    {"geometry": box(121.5440, 31.2210, 121.5450, 31.2220), "properties": {"code": "SH-PD-01", "storeys": 6}},
    {"geometry": MultiPolygon([box(114.30, 30.59, 114.301, 30.591), box(114.302, 30.59, 114.303, 30.591)]),
     "properties": {"code": "WH-01", "storeys": 32}},
]  # fmt: skip


def test_features_to_geojson_builds_a_feature_collection() -> None:
    collection = features_to_geojson([*SITES, {"properties": {"name": "无坐标"}}])
    assert collection["type"] == "FeatureCollection"
    first, second, third = collection["features"]
    assert first == {
        "type": "Feature",
        "id": "SH-PD-01",
        "geometry": {"type": "Point", "coordinates": (121.5447, 31.2215)},
        "properties": SITES[0]["properties"],
    }
    assert second["geometry"] == SITES[1]["geometry"]
    assert "id" not in second
    assert third["geometry"] is None
    # the input is not modified
    assert isinstance(SITES[0]["geometry"], Point)


@pytest.mark.parametrize(
    ("features", "message"),
    [
        pytest.param(["not a feature"], "feature 0 is a str", id="not-a-mapping"),
        pytest.param([{"geometry": [1.0, 2.0]}], "feature 0 geometry is a list", id="bad-geometry"),
    ],
)
def test_features_to_geojson_rejects_malformed_features(features: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        features_to_geojson(features)


def test_geojson_bytes_is_compact_utf8_rounded_and_strict() -> None:
    feature = {
        "geometry": Point(114.305512345678, 30.592812345678),
        "properties": {
            "name": "武汉",
            "at": datetime.date(2026, 1, 5),
            "count": np.int64(3),
            "ratio": np.float32(0.5),
        },
    }
    data = geojson_bytes([feature])
    assert "武汉".encode() in data  # not \\u6b66 escapes
    parsed = json.loads(data)
    assert parsed["features"][0]["geometry"]["coordinates"] == [114.3055123, 30.5928123]
    assert parsed["features"][0]["properties"] == {
        "name": "武汉",
        "at": "2026-01-05",
        "count": 3,
        "ratio": 0.5,
    }
    full = json.loads(geojson_bytes([feature], decimals=None))
    assert full["features"][0]["geometry"]["coordinates"] == [114.305512345678, 30.592812345678]
    with pytest.raises(ValueError, match="nan"):
        geojson_bytes([{"geometry": {"type": "Point", "coordinates": [float("nan"), 1.0]}}])
    with pytest.raises(TypeError, match="cannot be written to GeoJSON"):
        geojson_bytes([{"geometry": None, "properties": {"x": object()}}])


def test_geopackage_layers_read_back_with_geometries_and_chinese_properties(tmp_path: Path) -> None:
    data = write_geopackage({"sites": SITES, "footprints": FOOTPRINTS})
    path = tmp_path / "portfolio.gpkg"
    path.write_bytes(data)
    layers = gpd.list_layers(path)
    assert dict(zip(layers["name"], layers["geometry_type"], strict=True)) == {
        "sites": "Point",
        "footprints": "MultiPolygon",  # single and multi polygons mixed: promoted to multi
    }

    sites = gpd.read_file(path, layer="sites")
    assert sites.crs.to_epsg() == 4326
    assert sites["name"].tolist() == ["浦东新区办公楼", "武汉中心 二期"]
    assert sites["code"].tolist() == ["SH-PD-01", "WH-01"]
    assert sites["score"].iloc[0] == pytest.approx(92.5)
    assert np.isnan(sites["score"].iloc[1])  # None -> NULL
    assert [(p.x, p.y) for p in sites.geometry] == [(121.5447, 31.2215), (114.3055, 30.5928)]
    assert list(sites.columns)[-1] == "geometry"

    footprints = gpd.read_file(path, layer="footprints")
    assert footprints["storeys"].tolist() == [6, 32]
    assert footprints.geometry.iloc[0].equals(MultiPolygon([FOOTPRINTS[0]["geometry"]]))
    assert footprints.geometry.iloc[1].equals(FOOTPRINTS[1]["geometry"])


def test_geopackage_keeps_empty_layers_nested_values_and_other_crs(tmp_path: Path) -> None:
    features = [
        {
            "geometry": Polygon([(0, 0), (10, 0), (10, 10)]),
            "properties": {"tags": ["主楼", "A"], "meta": {"k": 1}},
        }
    ]
    path = tmp_path / "local.gpkg"
    path.write_bytes(write_geopackage({"outline": features, "sensors": []}, crs="EPSG:4547"))
    assert set(gpd.list_layers(path)["name"]) == {"outline", "sensors"}
    outline = gpd.read_file(path, layer="outline")
    assert outline.crs.to_epsg() == 4547
    assert json.loads(outline["tags"].iloc[0]) == ["主楼", "A"]
    assert json.loads(outline["meta"].iloc[0]) == {"k": 1}
    assert gpd.read_file(path, layer="sensors").empty


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        pytest.param({}, "at least one layer", id="no-layers"),
        pytest.param({"": []}, "non-empty", id="empty-name"),
    ],
)
def test_geopackage_rejects_bad_layers(layers: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        write_geopackage(layers)


def test_geojson_of_a_geopackage_round_trip_is_the_same_geometry(tmp_path: Path) -> None:
    path = tmp_path / "f.gpkg"
    path.write_bytes(write_geopackage({"footprints": FOOTPRINTS}))
    back = json.loads(gpd.read_file(path, layer="footprints").to_json())
    original = json.loads(geojson_bytes(FOOTPRINTS))
    for read, written in zip(back["features"], original["features"], strict=True):
        geometry = shape(written["geometry"])
        expected = geometry if isinstance(geometry, MultiPolygon) else MultiPolygon([geometry])
        # GeoJSON was rounded to 7 decimals (1 cm): equal within that, not bit for bit.
        assert shape(read["geometry"]).equals_exact(expected, tolerance=1e-7)
