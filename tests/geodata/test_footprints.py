"""Simplifying a footprint and placing it on WGS-84."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, box

from geodata.footprints import footprint_to_wgs84, simplify_footprint
from geodata.georeference import from_map_conversion, from_point


def corners(x0: float, y0: float, x1: float, y1: float, *, z: float | None = None) -> np.ndarray:
    points = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=float)
    return points if z is None else np.column_stack((points, np.full(4, z)))


def test_simplify_footprint_repairs_and_validates() -> None:
    bowtie = Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])  # self-intersecting
    repaired = simplify_footprint(bowtie, tolerance_m=0.1)
    assert repaired.is_valid
    assert repaired.area == pytest.approx(50.0)
    noisy = Polygon([(0, 0), (5, 0.01), (10, 0), (10, 10), (0, 10)])
    assert len(simplify_footprint(noisy, tolerance_m=0.05).exterior.coords) == 5
    with pytest.raises(ValueError, match="tolerance_m"):
        simplify_footprint(noisy, tolerance_m=-1)


def test_footprint_to_wgs84_moves_every_vertex_with_the_georeference() -> None:
    georeference = from_map_conversion(
        eastings=529_299.86, northings=3_385_869.453, orthogonal_height=23.0, crs_name="EPSG:4547",
        x_axis_abscissa=0.0, x_axis_ordinate=1.0,  # local +X points north
    )  # fmt: skip
    building = box(0, 0, 40, 10).difference(box(5, 2, 10, 4))  # with a hole
    outline = footprint_to_wgs84(building, georeference)
    assert outline.geom_type == "Polygon"
    assert len(outline.interiors) == 1
    expected = georeference.local_to_wgs84(np.asarray(building.exterior.coords))
    assert np.asarray(outline.exterior.coords) == pytest.approx(expected, abs=1e-12)
    # Local +X is grid north: the 40 m side runs north, east of true north by the grid convergence
    # (0.16° here), and the 10 m side runs west.
    origin, x_end, y_end = georeference.local_to_wgs84(np.array([[0.0, 0.0], [40.0, 0.0], [0.0, 10.0]]))
    geod = pyproj.Geod(ellps="WGS84")
    azimuth, _, length = geod.inv(*origin, *x_end)
    assert length == pytest.approx(40.0, abs=0.01)
    assert azimuth == pytest.approx(0.1555, abs=0.01)
    azimuth, _, length = geod.inv(*origin, *y_end)
    assert length == pytest.approx(10.0, abs=0.01)
    assert azimuth == pytest.approx(-89.8445, abs=0.01)
    # Area on the ellipsoid equals the local area (grid scale at this point: 1 + 1e-5).
    assert abs(geod.geometry_area_perimeter(outline)[0]) == pytest.approx(building.area, rel=1e-4)


def test_footprint_to_wgs84_takes_arrays_points_multipolygons_and_drops_z() -> None:
    georeference = from_point(lon_deg=121.47, lat_deg=31.23)
    ring = footprint_to_wgs84(np.array([[0, 0], [10, 0], [10, 10]]), georeference)
    assert ring.geom_type == "Polygon"
    point = footprint_to_wgs84(Point(0, 0, 5), georeference)
    assert not point.has_z
    assert (point.x, point.y) == pytest.approx((121.47, 31.23), abs=1e-12)
    parts = footprint_to_wgs84(MultiPolygon([box(0, 0, 1, 1), box(5, 5, 6, 6)]), georeference)
    assert parts.geom_type == "MultiPolygon"
    assert footprint_to_wgs84(Polygon(), georeference).is_empty
    assert shapely.get_num_coordinates(parts) == 10
