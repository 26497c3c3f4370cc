"""GeoJSON and GeoPackage output of the site map.

Features are GeoJSON-like dicts, ``{"geometry": ..., "properties": {...}}``, whose geometry
is a GeoJSON geometry mapping or a shapely geometry, in WGS-84 ``(lon_deg, lat_deg)`` unless
said otherwise. GeoPackage is written by GDAL through pyogrio (no fiona), and is what GIS
users open in QGIS or ArcGIS: one file, several layers ("sites" points, "footprints"
polygons), Chinese text kept as UTF-8.
"""

from __future__ import annotations

import datetime
import json
import math
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely.geometry
from shapely.geometry.base import BaseGeometry

from .crs import WGS84

__all__ = ["features_to_geojson", "geojson_bytes", "write_geopackage"]


def features_to_geojson(features: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection dict of ``features``.

    Each feature keeps its ``id`` if it has one; a shapely geometry becomes a GeoJSON
    mapping; a missing geometry becomes ``null`` (allowed by RFC 7946) and missing
    properties ``{}``.

    Raises:
        ValueError: a feature is not a mapping, or its geometry is neither a mapping, a
            shapely geometry nor None.

    Example::

        >>> from shapely.geometry import Point
        >>> site = {"geometry": Point(114.3, 30.6), "properties": {"name": "武汉"}}
        >>> collection = features_to_geojson([site])
        >>> collection["features"][0]["geometry"]
        {'type': 'Point', 'coordinates': (114.3, 30.6)}
    """
    return {
        "type": "FeatureCollection",
        "features": [_feature(item, index) for index, item in enumerate(features)],
    }


def geojson_bytes(features: Sequence[Mapping[str, Any]], *, decimals: int | None = 7) -> bytes:
    """UTF-8 GeoJSON text of a FeatureCollection of ``features``; Chinese stays readable, unescaped.

    Coordinates are rounded to ``decimals`` places (7 decimal degrees is 1 cm; None keeps
    every digit).

    Raises:
        ValueError: a geometry or property holds NaN or infinity (invalid JSON), or a feature
            is malformed (see :func:`features_to_geojson`).
    """
    collection = features_to_geojson(features)
    if decimals is not None:
        for feature in collection["features"]:
            if feature["geometry"] is not None:
                feature["geometry"] = _rounded(feature["geometry"], decimals)
    return json.dumps(
        collection, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_json_default
    ).encode()


def write_geopackage(layers: Mapping[str, Sequence[Mapping[str, Any]]], *, crs: str = WGS84) -> bytes:
    """The bytes of a GeoPackage holding one layer per entry of ``layers``, all in ``crs``.

    A layer's geometries may mix single and multi parts (they are promoted to multi); a
    layer with no features is written empty. Property values that are lists or dicts are
    stored as JSON text (GeoPackage columns are flat); None stays NULL.

    Raises:
        ValueError: no layer, a layer name that is empty, or a malformed feature.

    Example::

        >>> from shapely.geometry import Point
        >>> site = {"geometry": Point(114.3, 30.6), "properties": {"name": "武汉"}}
        >>> data = write_geopackage({"sites": [site]})
        >>> data[:16]
        b'SQLite format 3\\x00'
    """
    if not layers:
        raise ValueError("a GeoPackage needs at least one layer")
    with tempfile.TemporaryDirectory(prefix="geodata-") as folder:
        path = Path(folder) / "export.gpkg"
        for name, features in layers.items():
            if not isinstance(name, str) or not name.strip():
                raise ValueError(f"layer names must be non-empty strings, got {name!r}")
            _layer_frame(features, crs).to_file(path, driver="GPKG", layer=name)
        return path.read_bytes()


# --------------------------------------------------------------------------- helpers


def _feature(item: Mapping[str, Any], index: int) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise ValueError(f"feature {index} is a {type(item).__name__}, not a mapping")
    geometry = item.get("geometry")
    if isinstance(geometry, BaseGeometry):
        geometry = None if geometry.is_empty else shapely.geometry.mapping(geometry)
    elif geometry is not None and not isinstance(geometry, Mapping):
        raise ValueError(f"feature {index} geometry is a {type(geometry).__name__}, not GeoJSON or shapely")
    feature: dict[str, Any] = {
        "type": "Feature",
        "geometry": geometry,
        "properties": dict(item.get("properties") or {}),
    }
    if "id" in item:
        feature["id"] = item["id"]
    return feature


def _rounded(value: Any, decimals: int) -> Any:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"a coordinate is {value}, which GeoJSON cannot hold")
        return round(value, decimals)
    if isinstance(value, list | tuple):
        return [_rounded(v, decimals) for v in value]
    if isinstance(value, Mapping):
        return {
            k: (_rounded(v, decimals) if k in ("coordinates", "geometries") else v) for k, v in value.items()
        }
    return value


def _layer_frame(features: Sequence[Mapping[str, Any]], crs: str) -> gpd.GeoDataFrame:
    collection = features_to_geojson(features)
    if not collection["features"]:
        return gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    for feature in collection["features"]:
        feature["properties"] = {key: _flat(value) for key, value in feature["properties"].items()}
    frame = gpd.GeoDataFrame.from_features(collection, crs=crs)
    # from_features puts geometry first; GIS users expect attributes first, geometry last.
    return frame[[*[c for c in frame.columns if c != "geometry"], "geometry"]]


def _flat(value: Any) -> Any:
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=_json_default)
    return value


def _json_default(value: Any) -> Any:
    """JSON for the values a property dict realistically holds beyond JSON's own types."""
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    if isinstance(value, BaseGeometry):
        return shapely.geometry.mapping(value)
    raise TypeError(f"a {type(value).__name__} cannot be written to GeoJSON: {value!r}")
