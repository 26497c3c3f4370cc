"""Tests of the deterministic sample building generator (sample_models)."""

from __future__ import annotations

import datetime
import itertools
import math
import os
import pathlib
import re
import subprocess
import sys

import ifcopenshell
import ifcopenshell.geom
import ifcopenshell.guid
import ifcopenshell.util.classification
import ifcopenshell.util.element
import ifcopenshell.util.geolocation
import ifcopenshell.util.unit
import ifcopenshell.validate
import pytest

import sample_models
from sample_models import (
    MIN_ELEMENTS,
    element_count,
    expected_counts,
    generate_building,
    iter_physical_elements,
    layout_for_element_count,
    write_building,
)
from sample_models.generate import (
    CRS_NAME,
    SITE_EASTING_M,
    SITE_ELEVATION_M,
    SITE_LATITUDE_DEG,
    SITE_LONGITUDE_DEG,
    SITE_NORTHING_M,
)

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
SCHEMA_IDS = {"IFC2X3": "IFC2X3", "IFC4": "IFC4", "IFC4X3": "IFC4X3_ADD2"}


@pytest.fixture(scope="module")
def default_model() -> ifcopenshell.file:
    return generate_building()


@pytest.fixture(scope="module")
def models_by_schema() -> dict[str, ifcopenshell.file]:
    """Two-storey models (so storey-to-storey links exist) in every schema, read back from disk."""
    return {schema: generate_building(storeys=2, schema=schema) for schema in SCHEMA_IDS}


def _reopen(model: ifcopenshell.file, tmp_path: pathlib.Path) -> ifcopenshell.file:
    path = tmp_path / f"model_{model.schema_identifier}.ifc"
    model.write(str(path))
    return ifcopenshell.open(str(path))


# --------------------------------------------------------------------------- counts and structure


@pytest.mark.parametrize(("storeys", "bays_x", "bays_y"), [(1, 1, 1), (3, 3, 2), (2, 5, 3)])
def test_counts_by_class_follow_the_layout_formula(storeys: int, bays_x: int, bays_y: int) -> None:
    model = generate_building(storeys=storeys, bays_x=bays_x, bays_y=bays_y, with_schedule=False)
    expected = expected_counts(storeys, bays_x, bays_y)
    actual = {ifc_class: len(model.by_type(ifc_class)) for ifc_class in expected}
    assert actual == expected
    assert expected["IfcColumn"] == storeys * (bays_x + 1) * (bays_y + 1)
    assert expected["IfcBeam"] == storeys * (bays_x * (bays_y + 1) + bays_y * (bays_x + 1))
    assert sum(1 for _ in iter_physical_elements(model)) == element_count(storeys, bays_x, bays_y)
    physical = [e for e in model.by_type("IfcElement") if not e.is_a("IfcFeatureElement")]
    assert len(physical) == element_count(storeys, bays_x, bays_y)


def test_default_building_has_the_documented_content(default_model: ifcopenshell.file) -> None:
    assert element_count(3, 3, 2) == 211
    storeys = default_model.by_type("IfcBuildingStorey")
    assert [s.Name for s in storeys] == ["1F", "2F", "3F", "RF"]
    assert [s.Elevation for s in storeys] == [0.0, 3600.0, 7200.0, 10800.0]
    roof_slabs = [s for s in default_model.by_type("IfcSlab") if s.PredefinedType == "ROOF"]
    assert len(roof_slabs) == 3 * 2
    parapets = [w for w in default_model.by_type("IfcWall") if w.PredefinedType == "PARAPET"]
    assert len(parapets) == 2 * (3 + 2)
    for stair in default_model.by_type("IfcStair"):
        parts = ifcopenshell.util.element.get_parts(stair)
        assert sorted(p.is_a() for p in parts) == ["IfcSlab", "IfcStairFlight", "IfcStairFlight"]
    for ifc_class in ("IfcColumn", "IfcBeam", "IfcSlab", "IfcWindow", "IfcDoor", "IfcStairFlight"):
        for element in default_model.by_type(ifc_class):
            element_type = ifcopenshell.util.element.get_type(element)
            assert element_type is not None, element
            assert element_type.RepresentationMaps, element_type
            assert element.Representation.Representations[0].RepresentationType == "MappedRepresentation"


def test_every_element_is_in_a_storey(default_model: ifcopenshell.file) -> None:
    storeys = set(default_model.by_type("IfcBuildingStorey"))
    for element in default_model.by_type("IfcElement"):
        if element.is_a("IfcOpeningElement"):
            assert element.VoidsElements, element
            continue
        container = ifcopenshell.util.element.get_container(element)
        if container is None:
            whole = ifcopenshell.util.element.get_aggregate(element)
            container = ifcopenshell.util.element.get_container(whole)
        assert container in storeys, element
    for space in default_model.by_type("IfcSpace"):
        assert ifcopenshell.util.element.get_aggregate(space) in storeys


def test_every_window_and_door_fills_an_opening_in_a_wall(default_model: ifcopenshell.file) -> None:
    fillings = default_model.by_type("IfcWindow") + default_model.by_type("IfcDoor")
    assert fillings
    for filling in fillings:
        assert len(filling.FillsVoids) == 1, filling
        opening = filling.FillsVoids[0].RelatingOpeningElement
        assert opening.is_a("IfcOpeningElement")
        host = opening.VoidsElements[0].RelatingBuildingElement
        assert host.is_a("IfcWall")
        # windows are in external walls, doors in internal ones
        assert ifcopenshell.util.element.get_pset(host, "Pset_WallCommon", "IsExternal") is filling.is_a(
            "IfcWindow"
        )


def test_geometry_is_processable(tmp_path: pathlib.Path) -> None:
    model = _reopen(generate_building(storeys=1, with_schedule=False), tmp_path)
    settings = ifcopenshell.geom.settings()
    iterator = ifcopenshell.geom.iterator(settings, model, 1)
    assert iterator.initialize()
    shaped = set()
    while True:
        shape = iterator.get()
        assert len(shape.geometry.verts) > 0
        shaped.add(shape.id)
        if not iterator.next():
            break
    with_body = {
        p.id() for p in model.by_type("IfcProduct") if p.Representation and not p.is_a("IfcOpeningElement")
    }
    assert with_body <= shaped


# --------------------------------------------------------------------------- determinism and schemas


@pytest.mark.parametrize("schema", list(SCHEMA_IDS))
def test_same_arguments_give_identical_bytes(schema: str, tmp_path: pathlib.Path) -> None:
    first, second = tmp_path / "a.ifc", tmp_path / "b.ifc"
    write_building(first, storeys=2, schema=schema)
    generate_building(storeys=1, bays_x=2, schema=schema)  # disturb memory layout in between
    write_building(second, storeys=2, schema=schema)
    assert first.read_bytes() == second.read_bytes()


def test_output_does_not_depend_on_the_process(tmp_path: pathlib.Path) -> None:
    """Set iteration order and addresses differ between processes; the file must not."""
    here, there = tmp_path / "here.ifc", tmp_path / "there.ifc"
    write_building(here, storeys=2, schema="IFC2X3")
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(REPO_ROOT)}
    code = f"import sample_models; sample_models.write_building({str(there)!r}, storeys=2, schema='IFC2X3')"
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=REPO_ROOT, timeout=120)
    assert here.read_bytes() == there.read_bytes()


def test_seed_changes_global_ids_only() -> None:
    a = generate_building(storeys=1, seed=1)
    b = generate_building(storeys=1, seed=2)
    ids_a = {e.GlobalId for e in a.by_type("IfcRoot")}
    ids_b = {e.GlobalId for e in b.by_type("IfcRoot")}
    assert len(ids_a) == len(a.by_type("IfcRoot"))  # unique
    assert not ids_a & ids_b
    for guid in list(ids_a)[:50]:
        assert ifcopenshell.guid.compress(ifcopenshell.guid.expand(guid)) == guid
    strip = re.compile(r"'[0-9A-Za-z_$]{22}'")
    assert strip.sub("'ID'", a.to_string()) == strip.sub("'ID'", b.to_string())


def test_header_and_owner_history_are_fixed(default_model: ifcopenshell.file) -> None:
    assert default_model.header.file_name.time_stamp == "2025-01-06T09:00:00+08:00"
    histories = default_model.by_type("IfcOwnerHistory")
    assert len(histories) == 1
    assert all(e.OwnerHistory == histories[0] for e in default_model.by_type("IfcRoot"))


@pytest.mark.parametrize("schema", list(SCHEMA_IDS))
def test_each_schema_opens_with_the_expected_identifier(
    schema: str, models_by_schema: dict[str, ifcopenshell.file], tmp_path: pathlib.Path
) -> None:
    model = _reopen(models_by_schema[schema], tmp_path)
    assert model.schema_identifier == SCHEMA_IDS[schema]
    assert len(model.by_type("IfcColumn")) == expected_counts(2, 3, 2)["IfcColumn"]
    standard_case = model.by_type("IfcWallStandardCase")
    if schema == "IFC2X3":
        assert len(standard_case) == expected_counts(2, 3, 2)["IfcWall"]
    else:
        assert not standard_case
    assert ifcopenshell.util.unit.calculate_unit_scale(model) == pytest.approx(0.001)  # millimetres


@pytest.mark.parametrize("schema", [*SCHEMA_IDS, "ifc4x3_add2"])
def test_schema_aliases(schema: str) -> None:
    assert sample_models.normalise_schema(schema) == SCHEMA_IDS.get(schema, "IFC4X3_ADD2")


# ifcopenshell.validate's EXPRESS-rule loader leaves its generated rule module's file open;
# that ResourceWarning is ifcopenshell's, not a problem of the model under test.
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("schema", list(SCHEMA_IDS))
def test_one_storey_model_validates_without_errors(schema: str, tmp_path: pathlib.Path) -> None:
    model = _reopen(generate_building(storeys=1, schema=schema), tmp_path)
    logger = ifcopenshell.validate.json_logger()
    ifcopenshell.validate.validate(model, logger, express_rules=True)
    errors = [s for s in logger.statements if s.get("level") == "error"]
    assert errors == []


# --------------------------------------------------------------------------- schedule


def _leaf_tasks(model: ifcopenshell.file) -> set[ifcopenshell.entity_instance]:
    """Tasks that nest no other task (IfcRelNests works the same in IFC2X3 and IFC4)."""
    parents = {
        rel.RelatingObject for rel in model.by_type("IfcRelNests") if rel.RelatingObject.is_a("IfcTask")
    }
    return set(model.by_type("IfcTask")) - parents


@pytest.mark.parametrize("schema", list(SCHEMA_IDS))
def test_every_physical_element_is_built_by_exactly_one_leaf_task(
    schema: str, models_by_schema: dict[str, ifcopenshell.file]
) -> None:
    model = models_by_schema[schema]
    leaves = _leaf_tasks(model)
    elements = list(iter_physical_elements(model))
    assert len(elements) == element_count(2, 3, 2)
    for element in elements:
        tasks = [
            task
            for rel in element.ReferencedBy
            if rel.is_a("IfcRelAssignsToProduct")
            for task in rel.RelatedObjects
            if task.is_a("IfcTask")
        ]
        assert len(tasks) == 1, element
        assert tasks[0] in leaves
    assert len(model.by_type("IfcRelAssignsToProduct")) == len(elements)


def _task_times(model: ifcopenshell.file) -> dict[str, tuple[datetime.datetime, datetime.datetime]]:
    times = {}
    for task in model.by_type("IfcTask"):
        time = task.TaskTime
        start = datetime.datetime.fromisoformat(time.ScheduleStart)
        finish = datetime.datetime.fromisoformat(time.ScheduleFinish)
        times[task.Identification] = (start, finish)
    return times


def test_schedule_wbs_dates_and_sequences(default_model: ifcopenshell.file) -> None:
    model = default_model
    (schedule,) = model.by_type("IfcWorkSchedule")
    assert schedule.PredefinedType == "PLANNED"
    times = _task_times(model)
    tasks = {t.Identification: t for t in model.by_type("IfcTask")}
    assert "1" in tasks and "1.2" in tasks and "1.2.3" in tasks
    assert all(re.fullmatch(r"1(\.\d+){0,2}", code) for code in tasks)
    for code, (start, finish) in times.items():
        assert start <= finish, code
        assert start.date() >= datetime.date(2025, 3, 3)
        assert start.isoweekday() != 7, code  # Sunday is the rest day
        assert (start.hour, finish.hour) in {(8, 17), (8, 8), (17, 17)}, code  # workday 08:00–17:00
    assert times["1"][0] == datetime.datetime(2025, 3, 3, 8, 0)
    milestones = {t.Name: t for t in model.by_type("IfcTask") if t.IsMilestone}
    assert any("主体结构封顶" in name for name in milestones)
    sequences = model.by_type("IfcRelSequence")
    assert sequences and all(s.SequenceType == "FINISH_START" for s in sequences)
    assert any(s.TimeLag is not None for s in sequences)
    for rel in sequences:
        predecessor, successor = (
            times[rel.RelatingProcess.Identification],
            times[rel.RelatedProcess.Identification],
        )
        assert successor[0] >= predecessor[1] or rel.RelatingProcess.IsMilestone
    # storey cycle: consecutive column tasks start 7–10 working days apart
    column_starts = sorted(
        times[t.Identification][0] for t in model.by_type("IfcTask") if t.Name.endswith("柱 Columns")
    )
    for earlier, later in itertools.pairwise(column_starts):
        days = sum(
            1 for n in range((later - earlier).days) if (earlier + datetime.timedelta(n)).isoweekday() != 7
        )
        assert 7 <= days <= 10


def test_schedule_can_be_left_out() -> None:
    model = generate_building(storeys=1, with_schedule=False)
    assert not model.by_type("IfcTask")
    assert not model.by_type("IfcRelAssignsToProduct")


def test_start_date_moves_the_schedule() -> None:
    model = generate_building(storeys=1, start_date=datetime.date(2026, 5, 4))
    assert min(start for start, _ in _task_times(model).values()) == datetime.datetime(2026, 5, 4, 8, 0)


# --------------------------------------------------------------------------- georeferencing


def _gauss_kruger_cgcs2000(
    lat_deg: float, lon_deg: float, central_meridian_deg: float
) -> tuple[float, float]:
    """Transverse Mercator on the CGCS2000 ellipsoid (Snyder 1987, eqs. 8-9, 8-10), false easting
    500 km, scale 1 — an independent check of the hard-coded eastings/northings (mm-level)."""
    a, flattening = 6378137.0, 1 / 298.257222101
    e2 = flattening * (2 - flattening)
    ep2 = e2 / (1 - e2)
    phi, dlam = math.radians(lat_deg), math.radians(lon_deg - central_meridian_deg)
    n = a / math.sqrt(1 - e2 * math.sin(phi) ** 2)
    t, c, big_a = math.tan(phi) ** 2, ep2 * math.cos(phi) ** 2, dlam * math.cos(phi)
    m = a * (
        (1 - e2 / 4 - 3 * e2**2 / 64 - 5 * e2**3 / 256) * phi
        - (3 * e2 / 8 + 3 * e2**2 / 32 + 45 * e2**3 / 1024) * math.sin(2 * phi)
        + (15 * e2**2 / 256 + 45 * e2**3 / 1024) * math.sin(4 * phi)
        - (35 * e2**3 / 3072) * math.sin(6 * phi)
    )
    x = n * (big_a + (1 - t + c) * big_a**3 / 6 + (5 - 18 * t + t**2 + 72 * c - 58 * ep2) * big_a**5 / 120)
    y = m + n * math.tan(phi) * (
        big_a**2 / 2
        + (5 - t + 9 * c + 4 * c**2) * big_a**4 / 24
        + (61 - 58 * t + t**2 + 600 * c - 330 * ep2) * big_a**6 / 720
    )
    return 500000.0 + x, y


def test_hard_coded_map_coordinates_match_the_site() -> None:
    easting, northing = _gauss_kruger_cgcs2000(SITE_LATITUDE_DEG, SITE_LONGITUDE_DEG, 114.0)
    assert easting == pytest.approx(SITE_EASTING_M, abs=0.05)
    assert northing == pytest.approx(SITE_NORTHING_M, abs=0.05)


@pytest.mark.parametrize("schema", ["IFC4", "IFC4X3"])
def test_map_conversion_and_projected_crs(
    schema: str, models_by_schema: dict[str, ifcopenshell.file]
) -> None:
    model = models_by_schema[schema]
    (conversion,) = model.by_type("IfcMapConversion")
    (crs,) = model.by_type("IfcProjectedCRS")
    assert crs.Name == CRS_NAME == "EPSG:4547"
    assert "CGCS2000" in crs.Description and "114E" in crs.Description
    assert crs.MapUnit.Name == "METRE" and crs.MapUnit.Prefix is None
    assert conversion.TargetCRS == crs
    # 10 m east of the project origin, in mm, lands 10 m east on the map.
    e, n, h = ifcopenshell.util.geolocation.auto_xyz2enh(model, 10000.0, 0.0, 0.0)
    assert (e, n, h) == pytest.approx((SITE_EASTING_M + 10.0, SITE_NORTHING_M, SITE_ELEVATION_M))
    site = model.by_type("IfcSite")[0]
    assert ifcopenshell.util.geolocation.dms2dd(*site.RefLatitude) == pytest.approx(SITE_LATITUDE_DEG)
    assert ifcopenshell.util.geolocation.dms2dd(*site.RefLongitude) == pytest.approx(SITE_LONGITUDE_DEG)


def test_ifc2x3_georeferencing_uses_project_property_sets(
    models_by_schema: dict[str, ifcopenshell.file],
) -> None:
    model = models_by_schema["IFC2X3"]
    project = model.by_type("IfcProject")[0]
    assert ifcopenshell.util.element.get_pset(project, "ePSet_ProjectedCRS", "Name") == CRS_NAME
    conversion = ifcopenshell.util.element.get_pset(project, "ePSet_MapConversion")
    assert conversion["Eastings"] == pytest.approx(SITE_EASTING_M)
    assert conversion["Scale"] == pytest.approx(0.001)
    e, n, _ = ifcopenshell.util.geolocation.auto_xyz2enh(model, 0.0, 7200.0, 0.0)
    assert (e, n) == pytest.approx((SITE_EASTING_M, SITE_NORTHING_M + 7.2))


# --------------------------------------------------------------------------- semantics


def test_classification_references(default_model: ifcopenshell.file) -> None:
    (system,) = default_model.by_type("IfcClassification")
    assert system.Name == "GB/T 51269-2017" and system.Edition == "2017"
    for element in iter_physical_elements(default_model):
        references = ifcopenshell.util.classification.get_references(element)
        assert len(references) == 1, element
        (reference,) = references
        assert reference.ReferencedSource == system
        assert re.fullmatch(r"1[24]-\d{2}\.\d{2}\.\d{2}", reference.Identification)
    column = default_model.by_type("IfcColumn")[0]
    (reference,) = ifcopenshell.util.classification.get_references(column)
    assert reference.Identification.startswith("14-")


def test_property_sets_quantities_and_materials(default_model: ifcopenshell.file) -> None:
    zones = set()
    for column in default_model.by_type("IfcColumn"):
        psets = ifcopenshell.util.element.get_psets(column)
        assert psets["Pset_ColumnCommon"]["LoadBearing"] is True  # inherited from the type
        info = psets["施工信息"]
        assert info["混凝土强度等级"] in {"C30", "C40"}
        zones.add(info["施工段"])
        assert psets["Qto_ColumnBaseQuantities"]["Length"] == pytest.approx(3600.0)
        assert psets["Qto_ColumnBaseQuantities"]["NetVolume"] == pytest.approx(0.6 * 0.6 * 3.6)
    assert zones == {"A区", "B区"}
    marks = [
        ifcopenshell.util.element.get_pset(e, "施工信息", "构件编号")
        for e in iter_physical_elements(default_model)
    ]
    assert len(marks) == len(set(marks))
    volume = next(q for q in default_model.by_type("IfcQuantityVolume") if q.Name == "NetVolume")
    assert volume.VolumeValue > 0
    wall = default_model.by_type("IfcWall")[0]
    usage = ifcopenshell.util.element.get_material(wall)
    assert (
        usage.is_a("IfcMaterialLayerSetUsage") and usage.ForLayerSet.MaterialLayers[0].LayerThickness == 200.0
    )
    names = {m.Name for m in default_model.by_type("IfcMaterial")}
    assert (
        any("C30" in n for n in names)
        and any("HRB400" in n for n in names)
        and any("玻璃" in n for n in names)
    )
    glass = next(s for s in default_model.by_type("IfcSurfaceStyleRendering") if s.Transparency)
    assert 0 < glass.Transparency < 1


# --------------------------------------------------------------------------- layout and CLI


@pytest.mark.parametrize("target", [100, 1_000, 10_000, 100_000])
def test_layout_for_element_count_is_within_ten_percent(target: int) -> None:
    layout = layout_for_element_count(target)
    assert abs(element_count(*layout) - target) <= 0.1 * target


def test_layout_for_element_count_covers_the_whole_range() -> None:
    for target in [*range(MIN_ELEMENTS, 2_000), 250_000, 1_000_000]:
        storeys, bays_x, bays_y = layout_for_element_count(target)
        assert abs(element_count(storeys, bays_x, bays_y) - target) <= 0.1 * target, target
    for bad in (MIN_ELEMENTS - 1, sample_models.MAX_ELEMENTS + 1, 1000.0, True):
        with pytest.raises(ValueError):
            layout_for_element_count(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "options",
    [
        {"storeys": 0},
        {"bays_x": -1},
        {"bays_y": 1.5},
        {"schema": "IFC5"},
        {"seed": "x"},
        {"start_date": "2025-03-03"},
    ],
)
def test_bad_arguments_raise_value_error(options: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        generate_building(**options)  # type: ignore[arg-type]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "sample_models", *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["{out}", "--storeys", "0"],
        ["{out}", "--storeys", "two"],
        ["{out}", "--schema", "IFC5"],
        ["{out}", "--elements", "10"],
        ["{out}", "--elements", "500", "--bays-x", "2"],
    ],
)
def test_cli_bad_arguments_exit_2_with_one_line(args: list[str], tmp_path: pathlib.Path) -> None:
    out = tmp_path / "out.ifc"
    result = _cli(*(a.format(out=out) for a in args))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_cli_writes_a_model(tmp_path: pathlib.Path) -> None:
    out = tmp_path / "cli.ifc"
    result = _cli(str(out), "--elements", "300", "--schema", "IFC4X3", "--seed", "7")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    model = ifcopenshell.open(str(out))
    assert model.schema_identifier == "IFC4X3_ADD2"
    count = sum(1 for _ in iter_physical_elements(model))
    assert abs(count - 300) <= 30
    assert f"{count} elements" in result.stdout


def test_cli_reports_unwritable_path(tmp_path: pathlib.Path) -> None:
    result = _cli(str(tmp_path), "--storeys", "1")  # a directory cannot be replaced by a file
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
