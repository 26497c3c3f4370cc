"""The ground outline written as ``footprint.json``: built elements only, in the project frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import shapely
from shapely.geometry import shape

from ifc_processing import process_model
from ifc_processing.footprint import ground_outline
from ifc_processing.geometry import PlacedShape, Shape
from sample_models.generate import BAY_X_MM, BAY_Y_MM, COLUMN_WIDTH_MM, write_building
from tests.factories import add_wall, tiny_model


def _box(size_m: tuple[float, float, float]) -> Shape:
    corners = np.array([[(i >> a) & 1 for a in range(3)] for i in range(8)], dtype=np.float64)
    return Shape(corners * np.array(size_m), np.zeros((0, 3), np.uint32), np.zeros((8, 4), np.uint8))


def _placed(step_id: int, key: str, *, at_m=(0.0, 0.0, 0.0), turn_deg: float = 0.0) -> PlacedShape:
    matrix = np.eye(4)
    c, s = np.cos(np.radians(turn_deg)), np.sin(np.radians(turn_deg))
    matrix[:2, :2] = [[c, -s], [s, c]]
    matrix[:3, 3] = at_m
    return PlacedShape(step_id, key, matrix)


def test_the_outline_is_the_union_of_the_elements_plans() -> None:
    shapes = {"slab": _box((20.0, 10.0, 0.3)), "wing": _box((8.0, 12.0, 0.3))}
    placed = [_placed(1, "slab"), _placed(2, "wing", at_m=(0.0, 10.0, 0.0))]  # an L
    footprint = ground_outline(placed, shapes)
    outline = shape(footprint.geometry)
    assert footprint.element_count == 2
    assert outline.geom_type == "Polygon"
    assert abs(footprint.area_m2 - (200.0 + 96.0)) < 0.5
    assert outline.covers(shapely.Point(19.0, 1.0)) and outline.covers(shapely.Point(1.0, 21.0))
    assert not outline.covers(shapely.Point(15.0, 15.0))  # the L's inside corner stays open


def test_a_turned_element_projects_turned() -> None:
    footprint = ground_outline([_placed(1, "b", turn_deg=45.0)], {"b": _box((10.0, 10.0, 3.0))})
    minx, _, maxx, _ = shape(footprint.geometry).bounds
    assert abs((maxx - minx) - 10.0 * np.sqrt(2)) < 0.3  # a diamond, not the unturned square
    assert abs(footprint.area_m2 - 100.0) < 1.0


def test_excluded_elements_and_specks_leave_no_trace() -> None:
    shapes = {
        "house": _box((10.0, 10.0, 3.0)),
        "site": _box((500.0, 500.0, 1.0)),
        "post": _box((0.2, 0.2, 4)),
    }
    placed = [
        _placed(1, "house"),
        _placed(2, "site", at_m=(-250, -250, -1)),
        _placed(3, "post", at_m=(50, 0, 0)),
    ]
    footprint = ground_outline(placed, shapes, exclude_step_ids={2})
    assert abs(footprint.area_m2 - 100.0) < 0.5  # the terrain excluded, the 4 cm² post dropped
    assert ground_outline(placed, shapes, exclude_step_ids={1, 2, 3}).geometry is None
    assert ground_outline([], shapes).geometry is None


def test_courtyards_stay_and_gaps_between_elements_close() -> None:
    ring = _box((30.0, 5.0, 3.0)), _box((5.0, 30.0, 3.0))
    shapes = {"x": ring[0], "y": ring[1]}
    placed = [  # a 30 m square ring of 5 m wide wings around a 20 m courtyard
        _placed(1, "x"),
        _placed(2, "x", at_m=(0.0, 25.0, 0.0)),
        _placed(3, "y"),
        _placed(4, "y", at_m=(25.0, 0.0, 0.0)),
        _placed(5, "x", at_m=(0.0, 60.0, 0.0)),  # and a second block with a 2 cm joint
        _placed(6, "x", at_m=(30.02, 60.0, 0.0)),
    ]
    outline = shape(ground_outline(placed, shapes).geometry)
    assert outline.geom_type == "MultiPolygon" and len(outline.geoms) == 2
    ring_part = min(outline.geoms, key=lambda p: p.centroid.y)
    assert len(ring_part.interiors) == 1  # the 400 m² courtyard is kept
    block = max(outline.geoms, key=lambda p: p.centroid.y)
    assert len(block.interiors) == 0 and abs(block.area - 300.0) < 1.0


def test_the_pipeline_writes_the_outline_of_a_generated_building(tmp_path: Path) -> None:
    bays_x, bays_y = 3, 2
    source = write_building(tmp_path / "b.ifc", storeys=2, bays_x=bays_x, bays_y=bays_y, with_schedule=False)
    process_model(source, tmp_path / "out", workers=0)
    written = orjson.loads((tmp_path / "out" / "footprint.json").read_bytes())
    outline = shape(written["geometry"])
    # The column grid plus half a column all round; spaces (excluded) would not change it.
    width_m = (bays_x * BAY_X_MM + COLUMN_WIDTH_MM) / 1000
    depth_m = (bays_y * BAY_Y_MM + COLUMN_WIDTH_MM) / 1000
    minx, miny, maxx, maxy = outline.bounds
    assert abs((maxx - minx) - width_m) < 0.6 and abs((maxy - miny) - depth_m) < 0.6
    assert written["area_m2"] > 0.9 * width_m * depth_m
    assert written["element_count"] > 0


def test_a_model_of_walls_has_an_outline(tmp_path: Path) -> None:
    model = tiny_model()
    add_wall(model, "W1", length_m=6.0)
    path = model.write(tmp_path / "walls.ifc")
    process_model(path, tmp_path / "out", workers=0)
    written = orjson.loads((tmp_path / "out" / "footprint.json").read_bytes())
    assert abs(written["area_m2"] - 6.0 * 0.2) < 0.1
