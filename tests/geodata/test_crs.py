"""Resolving the CRS an IfcProjectedCRS names, and the cached always-xy transformers."""

from __future__ import annotations

import pyproj
import pytest

from geodata.crs import WGS84, crs_to_string, epsg_code, gauss_kruger_variant, resolve_crs, transformer
from geodata.errors import GeodataError, UnknownCRSError

# name as written in IFC files -> EPSG code PROJ should resolve it to
BY_NAME = {
    "EPSG:4547": 4547,
    "epsg:32650": 32650,
    "4547": 4547,
    " EPSG:4547 ": 4547,
    "urn:ogc:def:crs:EPSG::32650": 32650,
    "CGCS2000 / 3-degree Gauss-Kruger CM 114E": 4547,
    "WGS 84 / UTM zone 50N": 32650,
    "Xian 1980 / 3-degree Gauss-Kruger CM 114E": 2383,
    "CGCS2000 3-degree GK CM 114E (EPSG 4547)": 4547,  # free text with the code inside
    "EPSG:4547+5773": 4547,  # compound (projected + EGM96 height): the horizontal part
}


@pytest.mark.parametrize(("name", "code"), BY_NAME.items(), ids=list(BY_NAME))
def test_resolves_names_ifc_files_use(name: str, code: int) -> None:
    crs = resolve_crs(name)
    assert crs.is_projected
    assert crs.to_epsg() == code


# (geodetic datum, map projection, map zone) -> EPSG code, or the PROJ parameters expected
BY_PARTS = [
    pytest.param("CGCS2000", "Gauss-Kruger", "3-degree CM 114E", 4547, id="cgcs2000-gk-cm-text"),
    pytest.param("China Geodetic Coordinate System 2000", "Gauss-Kruger", "38", 4547, id="3deg-zone-38"),
    pytest.param("CGCS2000", "Transverse Mercator", "20", 4509, id="6deg-zone-20"),
    pytest.param("CGCS2000", "Gauss-Kruger 6-degree", "117E", 4509, id="6deg-cm-named"),
    pytest.param("CGCS2000", "GK", "117", 4548, id="bare-meridian-prefers-3deg"),
    pytest.param("CGCS2000", None, "CM 114E", 4547, id="cm-without-projection"),
    pytest.param("Xian 1980", "Gauss-Kruger", "3-degree zone 38", 2383, id="xian80"),
    pytest.param("WGS84", "UTM", "50N", 32650, id="wgs84-utm-50n"),
    pytest.param("WGS 84", "Universal Transverse Mercator", "zone 50 S", 32750, id="wgs84-utm-50s"),
    pytest.param("WGS84", None, "50N", 32650, id="utm-zone-alone"),
    pytest.param("ED50", "UTM", "31N", 23031, id="unlisted-datum-by-name"),
    pytest.param("CGCS2000", "Gauss", "CM 114.5E", {"lon_0": 114.5, "x_0": 500000.0}, id="city-meridian"),
    pytest.param("CGCS2000", "UTM", "50N", {"lon_0": 117.0, "x_0": 500000.0}, id="cgcs2000-utm"),
]


@pytest.mark.parametrize(("datum", "projection", "zone", "expected"), BY_PARTS)
def test_builds_the_crs_from_datum_projection_and_zone(
    datum: str, projection: str | None, zone: str, expected: int | dict[str, float]
) -> None:
    crs = resolve_crs(None, geodetic_datum=datum, map_projection=projection, map_zone=zone)
    assert crs.is_projected
    if isinstance(expected, int):
        assert crs.to_epsg() == expected
    else:
        assert crs.to_epsg() is None
        parameters = {p.name: p.value for p in crs.coordinate_operation.params}
        assert parameters["Longitude of natural origin"] == expected["lon_0"]
        assert parameters["False easting"] == expected["x_0"]
        assert parameters["Scale factor at natural origin"] in (1.0, 0.9996)


def test_an_unusable_name_falls_back_to_the_parts() -> None:
    # A datum in the Name (geographic EPSG:4490) with the projection spelled out elsewhere.
    crs = resolve_crs("CGCS2000", geodetic_datum="CGCS2000", map_projection="Gauss-Kruger", map_zone="114E")
    assert crs.to_epsg() == 4547
    assert resolve_crs("nonsense", description="EPSG:32650").to_epsg() == 32650


UNRESOLVABLE = [
    pytest.param("EPSG:999999", {}, "'EPSG:999999' is unknown to PROJ", id="unknown-code"),
    pytest.param(None, {}, "has no name, and no GeodeticDatum", id="nothing"),
    pytest.param("", {"geodetic_datum": "CGCS2000"}, "identify no projected CRS", id="datum-only"),
    pytest.param("EPSG:4326", {}, "geographic, in degrees), not a projected map CRS", id="geographic"),
    pytest.param("WGS84", {}, "geographic", id="geographic-by-name"),
    pytest.param(
        None,
        {"geodetic_datum": "CGCS2000", "map_projection": "Gauss-Kruger", "map_zone": "5"},
        "MapZone '5'",
        id="zone-number-ambiguous",
    ),
    pytest.param(
        None,
        {"geodetic_datum": "Bessel 1841", "map_projection": "Gauss-Kruger", "map_zone": "CM 114.5E"},
        "identify no projected CRS",
        id="custom-meridian-on-unknown-ellipsoid",
    ),
]


@pytest.mark.parametrize(("name", "parts", "message"), UNRESOLVABLE)
def test_unresolvable_crs_raises_a_clear_error(name: str | None, parts: dict[str, str], message: str) -> None:
    with pytest.raises(UnknownCRSError) as caught:
        resolve_crs(name, label="IfcProjectedCRS", **parts)
    assert str(caught.value).startswith("IfcProjectedCRS ")
    assert message in str(caught.value)
    assert isinstance(caught.value, GeodataError)


def test_transformer_is_cached_per_crs_pair_and_always_xy() -> None:
    first = transformer("EPSG:4547", WGS84)
    assert transformer(resolve_crs("4547"), 4326) is first
    # EPSG:4547 declares northing first and EPSG:4326 latitude first; always_xy ignores both.
    lon, lat = first.transform(500_000.0, 3_375_000.0)
    assert lon == pytest.approx(114.0, abs=1e-9)
    assert 30.0 < lat < 31.0
    assert transformer(WGS84, "EPSG:4547") is not first


def test_transformer_rejects_unknown_crs() -> None:
    with pytest.raises(UnknownCRSError, match="EPSG:999999"):
        transformer("EPSG:999999", WGS84)


@pytest.mark.parametrize(
    ("crs", "code"),
    [
        ("CGCS2000 / 3-degree Gauss-Kruger CM 114E", 4547),
        (4547, 4547),
        (pyproj.CRS.from_epsg(32650), 32650),
        ("+proj=tmerc +lon_0=114.5 +ellps=GRS80 +type=crs", None),
        ("not a crs", None),
    ],
)
def test_epsg_code(crs: str | int | pyproj.CRS, code: int | None) -> None:
    assert epsg_code(crs) == code


def test_crs_to_string_prefers_epsg_then_proj_text() -> None:
    assert crs_to_string(pyproj.CRS("WGS 84 / UTM zone 50N")) == "EPSG:32650"
    assert crs_to_string(4547) == "EPSG:4547"
    assert crs_to_string("4547") == "EPSG:4547"
    custom = (
        "+proj=tmerc +lat_0=0 +lon_0=114.5 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m +no_defs +type=crs"
    )
    assert crs_to_string(pyproj.CRS(custom)) == custom


@pytest.mark.parametrize(
    ("crs", "eastings_m", "expected"),
    [
        pytest.param("EPSG:4547", 38_529_299.86, 4526, id="zone-number-in-front"),
        pytest.param("EPSG:4526", 529_299.86, 4547, id="zone-number-missing"),
        pytest.param("EPSG:4547", 529_299.86, None, id="already-fits"),
        pytest.param("EPSG:4547", 39_529_299.86, None, id="another-zones-number"),
        pytest.param("EPSG:32650", 38_529_299.86, None, id="not-gauss-kruger"),
    ],
)
def test_gauss_kruger_variant_follows_how_eastings_are_written(
    crs: str, eastings_m: float, expected: int | None
) -> None:
    variant = gauss_kruger_variant(resolve_crs(crs), eastings_m=eastings_m)
    assert (variant.to_epsg() if variant is not None else None) == expected
