"""Georeference from real and generated IFC files, checked against ifcopenshell and pyproj.

The values go the way the server sends them: ``ifc_processing.georef.extract_georef`` →
``georef.json`` (a dict) → :func:`geodata.georeference.choose_from_record`.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import ifcopenshell
import ifcopenshell.api.aggregate
import ifcopenshell.api.context
import ifcopenshell.api.georeference
import ifcopenshell.api.project
import ifcopenshell.api.root
import ifcopenshell.api.unit
import ifcopenshell.util.placement
import numpy as np
import pyproj
import pytest
from ifcopenshell.util import geolocation

from geodata.georeference import Georeference, choose_from_record, from_map_conversion
from ifc_processing.georef import extract_georef
from sample_models import generate_building
from sample_models.generate import SITE_LATITUDE_DEG, SITE_LONGITUDE_DEG

RNG = np.random.default_rng(7)


@dataclasses.dataclass(frozen=True)
class GeneratedCase:
    """One generated georeferenced model: what is written, and where its origin must land."""

    schema: str
    unit: str  # "MILLIMETERS" or "METERS", as ifcopenshell.api.unit spells them
    crs: dict[str, str]  # IfcProjectedCRS attributes
    epsg: int  # the CRS the origin's eastings/northings are computed in
    lon_lat: tuple[float, float]
    rotation_deg: float  # local +X from map east, anticlockwise
    scale: float | None
    factors: tuple[float, float, float] | None = None

    @property
    def unit_m(self) -> float:
        return 0.001 if self.unit == "MILLIMETERS" else 1.0


CASES = [
    pytest.param(
        GeneratedCase("IFC4", "MILLIMETERS", {"Name": "EPSG:4547"}, 4547, (114.0, 30.5), 30.0, 0.001),
        id="cgcs2000-gk-cm114-mm-rotated",
    ),
    pytest.param(
        GeneratedCase("IFC4", "METERS", {"Name": "EPSG:32650"}, 32650, (117.2, 39.1), -12.5, 0.9996),
        id="utm50n-m-rotated-combined-scale",
    ),
    pytest.param(
        GeneratedCase(
            "IFC4X3_ADD2", "MILLIMETERS", {"Name": "EPSG:4547"}, 4547, (114.3055, 30.5928), 135.0, 0.001,
            factors=(0.99985, 0.99985, 1.0),
        ),
        id="ifc4x3-map-conversion-scaled",
    ),
    pytest.param(
        GeneratedCase(
            "IFC4", "METERS",
            {"Name": "CGCS2000", "GeodeticDatum": "CGCS2000", "MapProjection": "GK", "MapZone": "39"},
            4548, (117.27, 31.86), 0.0, None,
        ),
        id="crs-from-datum-projection-zone",
    ),
]  # fmt: skip


def build_model(case: GeneratedCase, path: Path, *, site_lon_lat: tuple[float, float] | None = None) -> Path:
    """Write an IFC whose local origin is at ``case.lon_lat`` in ``case.epsg``, and return its path."""
    f = ifcopenshell.api.project.create_file(version=case.schema)
    project = ifcopenshell.api.root.create_entity(f, ifc_class="IfcProject", name="Georeferenced")
    ifcopenshell.api.unit.assign_unit(f, length={"is_metric": True, "raw": case.unit})
    ifcopenshell.api.context.add_context(f, context_type="Model")
    site = ifcopenshell.api.root.create_entity(f, ifc_class="IfcSite", name="Site")
    ifcopenshell.api.aggregate.assign_object(f, relating_object=project, products=[site])
    crs = pyproj.CRS.from_epsg(case.epsg)
    # From the CRS's own geographic datum, so no datum shift hides in the expected numbers.
    eastings, northings = pyproj.Transformer.from_crs(crs.geodetic_crs, crs, always_xy=True).transform(
        *case.lon_lat
    )
    scaled = case.factors is not None
    ifcopenshell.api.georeference.add_georeferencing(
        f, ifc_class="IfcMapConversionScaled" if scaled else "IfcMapConversion", name=case.crs["Name"]
    )
    conversion: dict[str, float] = {
        "Eastings": eastings,
        "Northings": northings,
        "OrthogonalHeight": 21.5,
        "XAxisAbscissa": math.cos(math.radians(case.rotation_deg)),
        "XAxisOrdinate": math.sin(math.radians(case.rotation_deg)),
    }
    if case.scale is not None:
        conversion["Scale"] = case.scale
    if case.factors is not None:
        conversion.update(zip(("FactorX", "FactorY", "FactorZ"), case.factors, strict=True))
    metre = f.create_entity("IfcSIUnit", UnitType="LENGTHUNIT", Name="METRE")
    ifcopenshell.api.georeference.edit_georeferencing(
        f, coordinate_operation=conversion, projected_crs={**case.crs, "MapUnit": metre}
    )
    if site_lon_lat is not None:
        site.RefLongitude = geolocation.dd2dms(site_lon_lat[0], use_us=True)
        site.RefLatitude = geolocation.dd2dms(site_lon_lat[1], use_us=True)
    f.write(str(path))
    return path


def georeference_of(path: Path, **options: object) -> tuple[ifcopenshell.file, Georeference, tuple[str, ...]]:
    model = ifcopenshell.open(str(path))
    choice = choose_from_record(dataclasses.asdict(extract_georef(model)), **options)  # type: ignore[arg-type]
    assert choice.georeference is not None, choice.warnings
    return model, choice.georeference, choice.warnings


@pytest.mark.parametrize("case", CASES)
def test_generated_model_matches_ifcopenshell_and_lands_on_its_point(
    case: GeneratedCase, tmp_path: Path
) -> None:
    model, georeference, warnings = georeference_of(build_model(case, tmp_path / "geo.ifc"))
    assert georeference.kind == "map_conversion"
    assert warnings == ()
    assert georeference.crs == f"EPSG:{case.epsg}"

    # Local points in project units, as ifcopenshell takes them: the same map coordinates.
    points_project = RNG.uniform(-200, 200, size=(20, 3)) / case.unit_m
    expected_map = np.array([geolocation.auto_xyz2enh(model, *p) for p in points_project])
    assert georeference.local_to_map(points_project * case.unit_m) == pytest.approx(expected_map, abs=1e-6)

    # The surveyed point the eastings/northings were computed from is the local origin.
    assert georeference.origin_wgs84() == pytest.approx(case.lon_lat, abs=1e-9)

    # local -> WGS-84 -> local comes back within a centimetre (it is far better).
    points_m = points_project * case.unit_m
    back = georeference.wgs84_to_local(georeference.local_to_wgs84(points_m))
    assert np.abs(back - points_m).max() < 0.01


@pytest.mark.parametrize("case", CASES[:2])
def test_site_point_at_the_same_place_agrees_with_the_map_conversion(
    case: GeneratedCase, tmp_path: Path
) -> None:
    path = build_model(case, tmp_path / "geo.ifc", site_lon_lat=case.lon_lat)
    _, georeference, warnings = georeference_of(path, contradiction_m=0.01)
    assert georeference.kind == "map_conversion"
    assert warnings == ()


def test_site_point_elsewhere_is_reported_as_contradictory(tmp_path: Path) -> None:
    case = CASES[0].values[0]
    elsewhere = (case.lon_lat[0] + 0.05, case.lon_lat[1])  # ~4.8 km east
    _, georeference, warnings = georeference_of(
        build_model(case, tmp_path / "geo.ifc", site_lon_lat=elsewhere)
    )
    assert georeference.kind == "map_conversion"
    (warning,) = warnings
    distance_m = pyproj.Geod(ellps="WGS84").inv(*case.lon_lat, *elsewhere)[2]
    assert f"is {distance_m:.0f} m from where IfcMapConversion puts the model" in warning


def test_revit_style_missing_scale_in_a_millimetre_model(tmp_path: Path) -> None:
    case = dataclasses.replace(CASES[0].values[0], scale=None)
    _, georeference, warnings = georeference_of(build_model(case, tmp_path / "geo.ifc"))
    assert "IfcMapConversion has no Scale" in warnings[0]
    # 10 000 mm along the rotated local X is 10 m on the map grid, not 10 km.
    start, end = georeference.local_to_map(np.array([[0.0, 0.0], [10.0, 0.0]]))
    assert np.hypot(*(end - start)) == pytest.approx(10.0, abs=1e-9)


def test_sample_building_site_and_map_conversion_agree() -> None:
    record = dataclasses.asdict(
        extract_georef(generate_building(storeys=1, bays_x=1, bays_y=1, with_schedule=False))
    )
    choice = choose_from_record(record, contradiction_m=1.0)
    assert choice.source == "map_conversion"
    assert choice.warnings == ()
    assert choice.georeference.origin_wgs84() == pytest.approx(  # type: ignore[union-attr]
        (SITE_LONGITUDE_DEG, SITE_LATITUDE_DEG), abs=1e-7
    )


# --------------------------------------------------------------------------- corpus


def _placements_project_units(model: ifcopenshell.file) -> np.ndarray:
    """Origins of every element's placement (project units): real local points of the file."""
    points = [
        ifcopenshell.util.placement.get_local_placement(element.ObjectPlacement)[:3, 3]
        for element in model.by_type("IfcProduct")
        if element.ObjectPlacement is not None
    ]
    return np.unique(np.array(points), axis=0)


@pytest.mark.corpus
def test_corpus_map_conversion_without_a_crs_name(corpus: Path) -> None:
    """Bonsai's geolocation test file: IfcMapConversion E 15000 in a mm model, IfcProjectedCRS ''."""
    model = ifcopenshell.open(str(corpus / "ifc" / "geolocation-mapconversion.ifc"))
    record = dataclasses.asdict(extract_georef(model))
    choice = choose_from_record(record)
    assert choice.georeference is None
    assert choice.warnings == (
        "IfcProjectedCRS has no name, and no GeodeticDatum/MapProjection/MapZone is given;"
        " no other georeferencing source is usable",
    )

    # The conversion maths itself still matches ifcopenshell once a CRS is supplied. The file
    # has no MapUnit, which ifcopenshell reads as the project unit (mm): say the same.
    georeference = from_map_conversion(
        **record["map_conversion"], crs_name="EPSG:4547", local_unit_m=0.001, map_unit_m=0.001
    )
    assert "IfcProjectedCRS MapUnit (mm) differs from the unit of EPSG:4547" in georeference.warnings[0]
    points = _placements_project_units(model)
    assert len(points) > 3
    expected_mm = np.array([geolocation.auto_xyz2enh(model, *p) for p in points])
    assert georeference.local_to_map(points * 0.001) == pytest.approx(expected_mm * 0.001, abs=1e-9)


@pytest.mark.corpus
def test_corpus_ifc4x3_alignment_in_map_coordinates(corpus: Path) -> None:
    """XBim's railway signal: EPSG:3065 (IGM95 / UTM 33N), E = N = 0, local coordinates are map ones."""
    model = ifcopenshell.open(str(corpus / "ifc" / "linear-placement-of-signal_IFC4X3_ADD2.ifc"))
    record = dataclasses.asdict(extract_georef(model))
    assert record["site"]["ref_latitude"] is None  # nothing else to cross-check against
    alignment_points = np.array(
        [p.Coordinates for p in model.by_type("IfcCartesianPoint") if max(map(abs, p.Coordinates)) > 100_000]
    )
    center = alignment_points[:, :2].mean(axis=0)

    choice = choose_from_record(record, model_center_local_m=center)
    georeference = choice.georeference
    assert georeference is not None
    assert georeference.kind == "map_conversion"
    assert georeference.crs == "EPSG:3065"
    assert choice.warnings == ()

    expected = np.array([geolocation.auto_xyz2enh(model, *p, 0.0) for p in alignment_points[:, :2]])
    assert georeference.local_to_map(
        np.column_stack((alignment_points[:, :2], np.zeros(len(alignment_points))))
    ) == (pytest.approx(expected, abs=1e-9))
    lon_lat = georeference.local_to_wgs84(alignment_points[:, :2])
    # Inside EPSG:3065's area of use (Italy between 12°E and 18°E), in Campania near 14.4°E 41.0°N.
    assert np.all((lon_lat[:, 0] > 12.0) & (lon_lat[:, 0] < 18.0))
    assert np.all((lon_lat[:, 1] > 34.79) & (lon_lat[:, 1] < 47.1))
    assert lon_lat.mean(axis=0) == pytest.approx((14.44, 41.01), abs=0.05)

    # Judged by its origin alone, the same model looks misplaced (0°N, 10.5°E): say so.
    by_origin = choose_from_record(record)
    assert by_origin.source == "map_conversion"
    assert "outside the area of use of EPSG:3065" in by_origin.warnings[0]
