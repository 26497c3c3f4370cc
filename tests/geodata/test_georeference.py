"""Georeference from numbers: the Helmert maths, the sources, and choosing between them."""

from __future__ import annotations

import math

import numpy as np
import pyproj
import pytest
from ifcopenshell.util import geolocation

from geodata.errors import InvalidGeoreferenceError, UnknownCRSError
from geodata.georeference import (
    Georeference,
    choose_from_record,
    choose_georeference,
    dms_to_degrees,
    from_map_conversion,
    from_point,
    from_site_reference,
)

RNG = np.random.default_rng(20260101)
# Wuhan, in EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger CM 114E); the sample building's site.
WUHAN_LON_LAT = (114.3055, 30.5928)
WUHAN_EN = pyproj.Transformer.from_crs(4490, 4547, always_xy=True).transform(*WUHAN_LON_LAT)
WUHAN_DMS = ((30, 35, 34, 80000), (114, 18, 19, 800000))


def wuhan(**overrides: object) -> Georeference:
    arguments: dict[str, object] = {
        "eastings": WUHAN_EN[0],
        "northings": WUHAN_EN[1],
        "orthogonal_height": 23.0,
        "crs_name": "EPSG:4547",
    }
    arguments.update(overrides)
    return from_map_conversion(**arguments)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- compound angles

DMS = [
    pytest.param((30, 35, 34, 80000), 30.5928, id="with-millionths"),
    pytest.param((114, 18, 19), 114.30527777777778, id="three-parts"),
    pytest.param((-33, -51, -36, -500000), -(33 + 51 / 60 + 36.5 / 3600), id="south-every-part-negative"),
    pytest.param((0, -30, 0), -0.5, id="negative-below-one-degree"),
    pytest.param((12.0, 0, 0), 12.0, id="integral-float"),
]


@pytest.mark.parametrize(("parts", "degrees"), DMS)
def test_dms_to_degrees(parts: tuple[int, ...], degrees: float) -> None:
    assert dms_to_degrees(parts) == pytest.approx(degrees, abs=1e-12)


BAD_DMS = [
    pytest.param((30, 35), "3 or 4 components", id="too-short"),
    pytest.param((30, 35, 34, 1, 2), "3 or 4 components", id="too-long"),
    pytest.param((-30, 35, 34), "mixes signs", id="mixed-signs"),
    pytest.param((30, 60, 0), "minutes 60 must be below 60", id="minutes"),
    pytest.param((30, 0, 61), "seconds 61", id="seconds"),
    pytest.param((30, 0, 0, 1_000_000), "millionths", id="millionths"),
    pytest.param((30, 35.5, 0), "not an integer", id="fraction"),
    pytest.param((30, float("nan"), 0), "not an integer", id="nan"),
    pytest.param((30, "35", 0), "not a number", id="string"),
]


@pytest.mark.parametrize(("parts", "message"), BAD_DMS)
def test_dms_to_degrees_rejects_malformed_angles(parts: tuple, message: str) -> None:
    with pytest.raises(InvalidGeoreferenceError, match=message):
        dms_to_degrees(parts, label="IfcSite RefLatitude")


# --------------------------------------------------------------------------- map conversion


MAP_CONVERSIONS = [
    pytest.param({}, id="identity-axes"),
    pytest.param({"x_axis_abscissa": math.cos(0.5), "x_axis_ordinate": math.sin(0.5)}, id="rotated"),
    pytest.param({"x_axis_abscissa": -3.0, "x_axis_ordinate": -4.0}, id="unnormalised-axis"),
    pytest.param({"scale": 0.9996}, id="combined-scale"),
    pytest.param({"factor_x": 0.9998, "factor_y": 0.9997, "factor_z": 1.0001}, id="scaled-factors"),
    pytest.param(
        {"scale": 0.001, "local_unit_m": 0.001, "x_axis_ordinate": 0.2, "x_axis_abscissa": 1.0}, id="mm"
    ),
]


@pytest.mark.parametrize("overrides", MAP_CONVERSIONS)
def test_local_to_map_matches_ifcopenshell(overrides: dict[str, float]) -> None:
    georeference = wuhan(**overrides)
    local_unit_m = overrides.get("local_unit_m", 1.0)
    points_m = RNG.uniform(-300, 300, size=(50, 3))
    expected = np.array(
        [
            geolocation.xyz2enh(
                *(p / local_unit_m),
                WUHAN_EN[0],
                WUHAN_EN[1],
                23.0,
                overrides.get("x_axis_abscissa", 1.0),
                overrides.get("x_axis_ordinate", 0.0),
                overrides.get("scale", 1.0),
                overrides.get("factor_x", 1.0),
                overrides.get("factor_y", 1.0),
                overrides.get("factor_z", 1.0),
            )
            for p in points_m
        ]
    )
    assert georeference.local_to_map(points_m) == pytest.approx(expected, abs=1e-7)
    assert georeference.map_to_local(expected) == pytest.approx(points_m, abs=1e-7)
    assert georeference.warnings == ()


def test_points_keep_their_shape() -> None:
    georeference = wuhan()
    assert georeference.local_to_map(np.zeros((4, 2))).shape == (4, 2)
    assert georeference.local_to_map(np.zeros((4, 3))).shape == (4, 3)
    assert georeference.local_to_wgs84([1.0, 2.0]).shape == (2,)
    assert georeference.local_to_wgs84(np.empty((0, 2))).shape == (0, 2)
    with pytest.raises(ValueError, match="N×2 or N×3"):
        georeference.local_to_map(np.zeros((4, 4)))


def test_origin_lands_on_the_projected_point_and_heights_pass_through() -> None:
    georeference = wuhan()
    assert georeference.origin_wgs84() == pytest.approx(WUHAN_LON_LAT, abs=1e-9)
    lon, _, h = georeference.local_to_wgs84([0.0, 0.0, 4.5])
    assert h == pytest.approx(27.5)
    # 100 m east of the origin: a bit less than 0.001° of longitude at 30.6°N.
    east = georeference.local_to_wgs84([100.0, 0.0])
    assert east[0] - lon == pytest.approx(100 / (111_320 * math.cos(math.radians(30.5928))), rel=2e-3)


def test_round_trip_local_wgs84_local_is_sub_millimetre() -> None:
    georeference = wuhan(x_axis_abscissa=0.8, x_axis_ordinate=-0.6, scale=0.9999)
    points = RNG.uniform(-500, 500, size=(200, 3))
    back = georeference.wgs84_to_local(georeference.local_to_wgs84(points))
    assert np.abs(back - points).max() < 1e-4


LENIENT = [
    pytest.param(
        {"local_unit_m": 0.001},
        1.0,
        "no Scale although the project length unit (mm) differs from the map unit (m); using 0.001",
        id="missing-scale-mm",
    ),
    pytest.param(
        {"local_unit_m": 0.001, "scale": 1.0},
        1.0,
        "Scale 1 does not convert the project length unit (mm) to the map unit (m), which needs 0.001",
        id="unit-confused-scale",
    ),
    pytest.param(
        {"map_unit_m": 0.001, "eastings": WUHAN_EN[0] * 1000, "northings": WUHAN_EN[1] * 1000,
         "orthogonal_height": 23_000.0, "scale": 1000.0},
        1.0,
        "MapUnit (mm) differs from the unit of EPSG:4547",
        id="map-unit-mm",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("overrides", "scale", "warning"), LENIENT)
def test_known_exporter_slips_are_repaired_with_a_warning(
    overrides: dict[str, float], scale: float, warning: str
) -> None:
    georeference = wuhan(**overrides)
    assert georeference.scale == pytest.approx(scale)
    assert any(warning in w for w in georeference.warnings), georeference.warnings
    assert georeference.origin_wgs84() == pytest.approx(WUHAN_LON_LAT, abs=1e-8)
    # one project unit along X is one unit of length on the ground
    one_unit = georeference.local_to_map([overrides.get("local_unit_m", 1.0), 0.0])[0] - WUHAN_EN[0]
    assert one_unit == pytest.approx(overrides.get("local_unit_m", 1.0), abs=1e-9)


def test_zone_prefixed_eastings_switch_to_the_matching_gauss_kruger_crs() -> None:
    georeference = wuhan(eastings=38_000_000 + WUHAN_EN[0])
    assert georeference.crs == "EPSG:4526"
    assert "using EPSG:4526" in georeference.warnings[0]
    assert georeference.origin_wgs84() == pytest.approx(WUHAN_LON_LAT, abs=1e-8)


def test_a_model_outside_its_crs_is_flagged() -> None:
    georeference = from_map_conversion(
        eastings=0.0, northings=0.0, orthogonal_height=0.0, crs_name="EPSG:3065"
    )
    (warning,) = georeference.warnings
    assert "outside the area of use of EPSG:3065" in warning
    assert "Eastings 0, Northings 0 look like an unset default" in warning
    # The same numbers with model coordinates that are themselves UTM 33N: nothing wrong.
    in_italy = from_map_conversion(
        eastings=0.0, northings=0.0, orthogonal_height=0.0, crs_name="EPSG:3065",
        model_center_local_m=(452_700.0, 4_539_600.0),
    )  # fmt: skip
    assert in_italy.warnings == ()


INVALID_MAP_CONVERSIONS = [
    pytest.param(
        {"crs_name": "EPSG:999999"}, UnknownCRSError, "IfcProjectedCRS 'EPSG:999999'", id="unknown-crs"
    ),
    pytest.param({"crs_name": "EPSG:4490"}, UnknownCRSError, "not a projected map CRS", id="geographic-crs"),
    pytest.param(
        {"x_axis_abscissa": 0.0, "x_axis_ordinate": 0.0}, InvalidGeoreferenceError, "zero-length", id="axis"
    ),
    pytest.param({"scale": 0.0}, InvalidGeoreferenceError, "Scale is 0, not positive", id="scale-zero"),
    pytest.param({"scale": -1.0}, InvalidGeoreferenceError, "not positive", id="scale-negative"),
    pytest.param({"factor_x": 0.0}, InvalidGeoreferenceError, "FactorX", id="factor"),
    pytest.param({"eastings": float("nan")}, InvalidGeoreferenceError, "Eastings is nan", id="nan"),
    pytest.param({"northings": None}, InvalidGeoreferenceError, "Northings is missing", id="missing"),
    pytest.param({"local_unit_m": 0.0}, InvalidGeoreferenceError, "project length unit", id="unit"),
    pytest.param(
        {"eastings": 1e9, "northings": 1e9}, InvalidGeoreferenceError, "no longitude", id="off-earth"
    ),
]


@pytest.mark.parametrize(("overrides", "error", "message"), INVALID_MAP_CONVERSIONS)
def test_unusable_map_conversions_raise(
    overrides: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        wuhan(**overrides)


def test_georeference_itself_refuses_impossible_numbers() -> None:
    with pytest.raises(InvalidGeoreferenceError, match="scale"):
        Georeference(kind="project_site", crs="EPSG:4547", eastings_m=0, northings_m=0, height_m=0, scale=0)
    with pytest.raises(InvalidGeoreferenceError, match="no direction"):
        Georeference("project_site", "EPSG:4547", 0, 0, 0, x_axis_abscissa=0.0, x_axis_ordinate=0.0)


# --------------------------------------------------------------------------- site points


def test_site_reference_puts_the_origin_at_the_site_and_keeps_ground_metres() -> None:
    georeference = from_site_reference(
        latitude_dms=WUHAN_DMS[0], longitude_dms=WUHAN_DMS[1], elevation=23_000, local_unit_m=0.001
    )
    assert georeference.kind == "site_reference"
    assert georeference.origin_wgs84() == pytest.approx(WUHAN_LON_LAT, abs=1e-9)
    assert georeference.height_m == pytest.approx(23.0)
    # 1 km north of the site along local +Y: the geodesic distance is 1 km and due north.
    lon, lat = georeference.local_to_wgs84([0.0, 1000.0])
    azimuth, _, distance = pyproj.Geod(ellps="WGS84").inv(*WUHAN_LON_LAT, lon, lat)
    assert distance == pytest.approx(1000.0, abs=1e-3)
    assert azimuth == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(
    ("true_north_xy", "bearing_of_local_y_deg"),
    [
        pytest.param((0.0, 1.0), 0.0, id="north-is-up"),
        pytest.param((-math.sin(math.radians(30)), math.cos(math.radians(30))), 30.0, id="north-30-ccw"),
        pytest.param((1.0, 0.0), -90.0, id="north-is-local-x"),
        pytest.param((0.0, -2.0), 180.0, id="north-is-down-unnormalised"),
    ],
)
def test_true_north_rotates_the_local_frame(
    true_north_xy: tuple[float, float], bearing_of_local_y_deg: float
) -> None:
    georeference = from_point(lon_deg=WUHAN_LON_LAT[0], lat_deg=WUHAN_LON_LAT[1], true_north_xy=true_north_xy)
    # A point along local north lands due north.
    north = georeference.local_to_wgs84(100 * np.asarray(true_north_xy) / np.hypot(*true_north_xy))
    azimuth, _, _ = pyproj.Geod(ellps="WGS84").inv(*WUHAN_LON_LAT, *north)
    assert azimuth == pytest.approx(0.0, abs=1e-6)
    along_y = georeference.local_to_wgs84([0.0, 100.0])
    azimuth, _, _ = pyproj.Geod(ellps="WGS84").inv(*WUHAN_LON_LAT, *along_y)
    assert (azimuth - bearing_of_local_y_deg + 180) % 360 - 180 == pytest.approx(0.0, abs=1e-6)


INVALID_SITES = [
    pytest.param({"latitude_dms": (95, 0, 0)}, "latitude 95° is outside -90..90°", id="latitude-range"),
    pytest.param({"longitude_dms": (190, 0, 0)}, "longitude 190°", id="longitude-range"),
    pytest.param({"latitude_dms": (0, 0, 0), "longitude_dms": (0, 0, 0)}, "0°, 0°", id="null-island"),
    pytest.param({"latitude_dms": (30, 75, 0)}, "minutes 75", id="bad-minutes"),
    pytest.param({"true_north_xy": (0.0, 0.0)}, "TrueNorth", id="zero-true-north"),
    pytest.param({"elevation": float("inf")}, "RefElevation", id="elevation"),
]


@pytest.mark.parametrize(("overrides", "message"), INVALID_SITES)
def test_unusable_site_references_raise(overrides: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"latitude_dms": WUHAN_DMS[0], "longitude_dms": WUHAN_DMS[1]}
    arguments.update(overrides)
    with pytest.raises(InvalidGeoreferenceError, match=message):
        from_site_reference(**arguments)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- choosing

GOOD_MAP_CONVERSION = {"eastings": WUHAN_EN[0], "northings": WUHAN_EN[1], "orthogonal_height": 23.0}
GOOD_CRS = {"name": "EPSG:4547", "map_unit_scale_m": 1.0}
GOOD_SITE = {"ref_latitude": WUHAN_DMS[0], "ref_longitude": WUHAN_DMS[1], "ref_elevation": 23.0}
BEIJING = (116.3975, 39.9087)

ZERO_AXIS = {**GOOD_MAP_CONVERSION, "x_axis_abscissa": 0.0, "x_axis_ordinate": 0.0}
AT_ZERO = {"eastings": 0.0, "northings": 0.0, "orthogonal_height": 0.0}
BY_SITE = "placed by IfcSite RefLatitude/RefLongitude instead"
BY_PROJECT = "placed by the project's site location instead"
NOTHING_ELSE = "no other georeferencing source is usable"


def case(name: str, source: str, *warnings: str, **sources: object):
    """One row: the sources given, the source chosen, fragments every warning must contain."""
    return pytest.param(sources, source, warnings, id=name)


CHOICES = [
    case("map-conversion-first", "map_conversion",
         map_conversion=GOOD_MAP_CONVERSION, projected_crs=GOOD_CRS, site_reference=GOOD_SITE),
    case("unknown-epsg", "site_reference",
         "IfcProjectedCRS 'EPSG:999999' is unknown to PROJ, and no GeodeticDatum/MapProjection/MapZone"
         f" is given; {BY_SITE}",
         map_conversion=GOOD_MAP_CONVERSION, projected_crs={"name": "EPSG:999999"}, site_reference=GOOD_SITE),
    case("zero-axis", "site_reference", "zero-length vector", BY_SITE,
         map_conversion=ZERO_AXIS, projected_crs=GOOD_CRS, site_reference=GOOD_SITE),
    case("scale-zero", "project_site", f"IfcMapConversion Scale is 0, not positive; {BY_PROJECT}",
         map_conversion={**GOOD_MAP_CONVERSION, "scale": 0.0}, projected_crs=GOOD_CRS, project_site=BEIJING),
    case("site-latitude-out-of-range", "project_site", "latitude 91° is outside -90..90°", BY_PROJECT,
         site_reference={**GOOD_SITE, "ref_latitude": (91, 0, 0)}, project_site=BEIJING),
    case("half-a-site", "none", f"IfcSite has RefLatitude but no RefLongitude; {NOTHING_ELSE}",
         site_reference={**GOOD_SITE, "ref_longitude": None}),
    case("text-instead-of-number", "none", "Eastings is '529299', not a finite number",
         map_conversion={**GOOD_MAP_CONVERSION, "eastings": "529299"}, projected_crs=GOOD_CRS),
    case("map-conversion-misplaced", "site_reference", "outside the area of use of EPSG:3065", BY_SITE,
         map_conversion=AT_ZERO, projected_crs={"name": "EPSG:3065"}, site_reference=GOOD_SITE),
    case("misplaced-but-all-there-is", "map_conversion", "outside the area of use of EPSG:3065",
         map_conversion=AT_ZERO, projected_crs={"name": "EPSG:3065"}),
    case("site-without-location", "none", site_reference={"ref_latitude": None, "ref_longitude": None}),
    case("nothing-at-all", "none"),
    case("bad-project-site", "none", "the project site ('x', 30.0) is unusable", project_site=("x", 30.0)),
]  # fmt: skip


@pytest.mark.parametrize(("sources", "source", "warnings"), CHOICES)
def test_choose_georeference_falls_through_with_warnings(
    sources: dict[str, object], source: str, warnings: tuple[str, ...]
) -> None:
    arguments: dict[str, object] = {"map_conversion": None, "site_reference": None, "project_site": None}
    arguments.update(sources)
    choice = choose_georeference(local_unit_m=1.0, **arguments)  # type: ignore[arg-type]
    assert choice.source == source
    for fragment in warnings:
        assert all(fragment in warning for warning in choice.warnings), (fragment, choice.warnings)
    if not warnings:
        assert choice.warnings == ()
    if choice.georeference is not None:
        assert choice.georeference.warnings == choice.warnings


def test_contradictory_site_keeps_the_map_conversion_and_reports_the_distance() -> None:
    site_10km_north = {**GOOD_SITE, "ref_latitude": (30, 40, 58, 0)}
    choice = choose_georeference(
        map_conversion={**GOOD_MAP_CONVERSION, "crs_name": "EPSG:4547"},
        site_reference=site_10km_north,
        project_site=None,
        local_unit_m=1.0,
    )
    assert choice.source == "map_conversion"
    (warning,) = choice.warnings
    assert warning == (
        "IfcSite RefLatitude/RefLongitude (30.68278°N, 114.30550°E) is 9975 m from where IfcMapConversion"
        " puts the model (30.59280°N, 114.30550°E); the map conversion is used"
    )
    # Raise the threshold and the same data is not contradictory.
    relaxed = choose_georeference(
        map_conversion={**GOOD_MAP_CONVERSION, "crs_name": "EPSG:4547"},
        site_reference=site_10km_north,
        project_site=None,
        local_unit_m=1.0,
        contradiction_m=20_000,
    )
    assert relaxed.warnings == ()


def test_site_reference_uses_true_north_and_project_units() -> None:
    choice = choose_georeference(
        map_conversion=None,
        site_reference={**GOOD_SITE, "ref_elevation": 23_000},
        project_site=None,
        local_unit_m=0.001,
        true_north_xy=(1.0, 0.0),
    )
    georeference = choice.georeference
    assert georeference is not None
    assert georeference.height_m == pytest.approx(23.0)
    assert georeference.rotation_deg == pytest.approx(90.0)


def test_choose_from_record_reads_a_georef_json_document() -> None:
    record = {
        "source": "map_conversion",
        "map_conversion": {
            **GOOD_MAP_CONVERSION,
            "scale": 0.001,
            "x_axis_abscissa": 1.0,
            "x_axis_ordinate": 0.0,
        },
        "projected_crs": {**GOOD_CRS, "description": None, "geodetic_datum": "CGCS2000", "map_unit": "m"},
        "site": {"site_global_id": "0abc", **GOOD_SITE, "ref_elevation": 23_000.0},
        "true_north_xy": [-0.0027, 1.0],
        "project_length_unit_m": 0.001,
    }
    choice = choose_from_record(record)
    assert choice.source == "map_conversion"
    assert choice.warnings == ()
    assert choice.georeference.origin_wgs84() == pytest.approx(WUHAN_LON_LAT, abs=1e-8)  # type: ignore[union-attr]
    broken = choose_from_record({**record, "project_length_unit_m": "mm", "map_conversion": None})
    assert broken.source == "site_reference"
    assert "project length unit 'mm' is not a positive number; metres assumed" in broken.warnings[0]
