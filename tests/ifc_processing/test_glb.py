"""The GLB writer, read back by independent readers (three.js under Node, trimesh, pygltflib)."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import ifcopenshell
import numpy as np
import pygltflib
import pytest
import trimesh

from ifc_processing.elements import select_elements
from ifc_processing.geometry import Tessellation, TessellationResult
from ifc_processing.glb import GlbElement, _trs, write_glb
from ifc_processing.reader import open_model
from tests.conftest import run_node_tool
from tests.factories import add_item_element, add_typed_column, add_wall, tiny_model


def _json_chunk(path: Path) -> dict:
    data = path.read_bytes()
    length = struct.unpack("<I", data[12:16])[0]
    return json.loads(data[20 : 20 + length])


def _tessellate(path: Path) -> tuple[TessellationResult, dict[int, GlbElement], ifcopenshell.file]:
    with open_model(path) as loaded:
        elements = select_elements(loaded.file)
        result = Tessellation(loaded.file, elements).finish()
        table = {e.id(): GlbElement(e.id(), e.GlobalId, e.is_a(), 0) for e in elements}
    return result, table, loaded.file


def _expected_glb_frame(
    result: TessellationResult, table: dict[int, GlbElement], origin: list[float]
) -> dict:
    """Per GlobalId: (triangles, bbox min, bbox max) in the GLB frame (Y up, origin-relative)."""
    expected = {}
    for placed in result.placed:
        shape = result.shapes[placed.shape_key]
        ifc = shape.positions_m @ placed.matrix[:3, :3].T + placed.matrix[:3, 3] - np.asarray(origin)
        glb = np.column_stack([ifc[:, 0], ifc[:, 2], -ifc[:, 1]])
        expected[table[placed.step_id].global_id] = (len(shape.triangles), glb.min(axis=0), glb.max(axis=0))
    return expected


def _assert_decoded_matches(decoded: dict, expected: dict, tolerance_m: float) -> None:
    assert sorted(decoded["global_ids"]) == sorted(expected)
    for row, global_id in enumerate(decoded["global_ids"]):
        triangles, lo, hi = expected[global_id]
        assert decoded["triangles"][row] == triangles, global_id
        assert np.allclose(decoded["bbox_min"][row], lo, atol=tolerance_m), global_id
        assert np.allclose(decoded["bbox_max"][row], hi, atol=tolerance_m), global_id


@pytest.fixture(scope="module")
def mixed_building(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 columns of one type (instanced), walls, and a big triangulated terrain."""
    model = tiny_model()
    column_type = None
    for i in range(30):
        _, column_type = add_typed_column(
            model, f"C{i}", column_type=column_type, at_m=(6.0 * (i % 6), 6.0 * (i // 6), 0.0)
        )
    for i in range(4):
        add_wall(model, f"W{i}", at_m=(0.0, 6.0 * i, 0.0), length_m=30.0)
    # 70,000 vertices: more than one mesh may hold, so it must be split.
    side = 265
    grid = np.stack(np.meshgrid(np.linspace(0, 40, side), np.linspace(0, 40, side)), -1).reshape(-1, 2)
    points = np.column_stack([grid, np.sin(grid[:, 0]) * 0.5 - 1.0])
    cells = np.arange(side * side).reshape(side, side)
    quads = np.stack([cells[:-1, :-1], cells[:-1, 1:], cells[1:, 1:], cells[1:, :-1]], -1).reshape(-1, 4)
    triangles = np.concatenate([quads[:, [0, 1, 2]], quads[:, [0, 2, 3]]]) + 1  # 1-based in IFC
    point_list = model.file.createIfcCartesianPointList3D(points.tolist())
    face_set = model.file.createIfcTriangulatedFaceSet(point_list, None, None, triangles.tolist(), None)
    add_item_element(model, "terrain", face_set, "Tessellation", ifc_class="IfcGeographicElement")
    return model.write(tmp_path_factory.mktemp("glb") / "mixed.ifc")


@pytest.mark.parametrize("compression", ["meshopt", "quantized"])
def test_three_js_decodes_every_element_exactly(
    mixed_building: Path, tmp_path: Path, node_tools: Path, compression: str
) -> None:
    result, table, _ = _tessellate(mixed_building)
    stats = write_glb(
        tmp_path / "m.glb",
        result.placed,
        result.shapes,
        table,
        [("storey", "1F")],
        compression=compression,
        min_instancing_saving=100,
    )
    assert stats.instanced_meshes == 1 and stats.instances == 30
    assert stats.triangles == result.triangle_count
    assert stats.stored_triangles < stats.triangles
    assert stats.max_position_error_m <= 0.0005

    decoded = run_node_tool(node_tools, "inspect-glb", tmp_path / "m.glb")
    _assert_decoded_matches(
        decoded, _expected_glb_frame(result, table, decoded["origin_m"]), tolerance_m=0.0006
    )
    assert decoded["draw_calls"] == stats.meshes  # one per merged mesh, one per instanced shape

    doc = _json_chunk(tmp_path / "m.glb")
    assert "EXT_mesh_gpu_instancing" in doc["extensionsRequired"]
    assert ("EXT_meshopt_compression" in doc["extensionsRequired"]) == (compression == "meshopt")
    for mesh in doc["meshes"]:
        position = doc["accessors"][mesh["primitives"][0]["attributes"]["POSITION"]]
        assert position["count"] <= 65_535
    validation = run_node_tool(node_tools, "validate-glb", tmp_path / "m.glb")
    assert validation["errors"] == 0, validation["messages"]
    assert validation["warnings"] == 0, validation["messages"]


def test_core_gltf_variant_loads_in_trimesh_and_pygltflib(mixed_building: Path, tmp_path: Path) -> None:
    result, table, _ = _tessellate(mixed_building)
    stats = write_glb(
        tmp_path / "core.glb", result.placed, result.shapes, table, [("s", "1F")], compression="none"
    )
    assert stats.instanced_meshes == 0
    doc = _json_chunk(tmp_path / "core.glb")
    assert "extensionsUsed" not in doc

    scene = trimesh.load(tmp_path / "core.glb", force="scene")
    assert sum(len(g.faces) for g in scene.geometry.values()) == result.triangle_count

    gltf = pygltflib.GLTF2.load(str(tmp_path / "core.glb"))
    blob = gltf.binary_blob()
    rows = set()
    for node in gltf.nodes:
        if node.mesh is None:
            continue
        primitive = gltf.meshes[node.mesh].primitives[0]
        accessor = gltf.accessors[primitive.attributes._ELEMENT]
        view = gltf.bufferViews[accessor.bufferView]
        local = np.frombuffer(blob, dtype=np.uint16, count=accessor.count * 2, offset=view.byteOffset)[::2]
        rows.update((node.extras["element_offset"] + local).tolist())
    table_ids = gltf.scenes[0].extras["erji_twin"]["global_ids"]
    assert rows == set(range(len(table_ids)))
    assert sorted(table_ids) == sorted(table[p.step_id].global_id for p in result.placed)


def test_a_mesh_wider_than_the_int16_grid_keeps_float_positions(tmp_path: Path, node_tools: Path) -> None:
    model = tiny_model()
    add_wall(model, "W0", length_m=120.0)  # one mesh 120 m wide: int16 steps of 1.8 mm
    add_wall(model, "W1", at_m=(0.0, 3.0, 0.0), length_m=2.0)
    path = model.write(tmp_path / "long.ifc")
    result, table, _ = _tessellate(path)
    stats = write_glb(tmp_path / "long.glb", result.placed, result.shapes, table, [("s", "1F")])
    assert stats.max_position_error_m < 1e-5  # float32 near the origin
    doc = _json_chunk(tmp_path / "long.glb")
    assert {a["componentType"] for a in doc["accessors"] if a["type"] == "VEC3"} == {5126}
    decoded = run_node_tool(node_tools, "inspect-glb", tmp_path / "long.glb")
    _assert_decoded_matches(
        decoded, _expected_glb_frame(result, table, decoded["origin_m"]), tolerance_m=1e-5
    )


def test_map_coordinates_keep_millimetres(tmp_path: Path, node_tools: Path) -> None:
    model = tiny_model()
    add_wall(model, "W0", at_m=(538_412.123, 3_378_905.456, 21.5))
    add_wall(model, "W1", at_m=(538_420.000, 3_378_910.000, 21.5))
    path = model.write(tmp_path / "far.ifc")
    result, table, _ = _tessellate(path)
    stats = write_glb(tmp_path / "far.glb", result.placed, result.shapes, table, [("s", "1F")])
    assert stats.origin_m[0] == pytest.approx(538_416.0, abs=10)
    decoded = run_node_tool(node_tools, "inspect-glb", tmp_path / "far.glb")
    _assert_decoded_matches(
        decoded, _expected_glb_frame(result, table, decoded["origin_m"]), tolerance_m=0.0005
    )


def test_elements_are_grouped_by_storey_in_table_order(tmp_path: Path) -> None:
    model = tiny_model()
    add_wall(model, "W0")
    add_wall(model, "W1", at_m=(0.0, 3.0, 0.0))
    path = model.write(tmp_path / "two.ifc")
    result, table, _ = _tessellate(path)
    table = {
        k: GlbElement(v.step_id, v.global_id, v.ifc_class, i)
        for i, (k, v) in enumerate(sorted(table.items()))
    }
    write_glb(tmp_path / "two.glb", result.placed, result.shapes, table, [("a", "1F"), ("b", "2F")])
    doc = _json_chunk(tmp_path / "two.glb")
    info = doc["scenes"][0]["extras"]["erji_twin"]
    assert info["storey_index"] == [0, 1]
    names = [n.get("name") for n in doc["nodes"]]
    assert "1F" in names and "2F" in names


def test_trs_decomposition_round_trips_rotation_mirror_and_scale() -> None:
    rng = np.random.default_rng(7)
    matrices = []
    for mirrored in (False, True):
        for _ in range(20):
            q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
            q *= np.sign(np.linalg.det(q))  # a proper rotation
            scale = rng.uniform(0.5, 2.0, 3) * ([-1, 1, 1] if mirrored else 1)
            m = np.eye(4)
            m[:3, :3] = q * scale
            m[:3, 3] = rng.normal(size=3) * 100
            matrices.append(m)
    # Half turns (w = 0) about axes with mixed signs, where sign recovery is delicate.
    for axis in ([1, 0, 1], [1, -1, 0], [0, 1, -1], [1, 1, 1], [0, 0, 1]):
        a = np.array(axis, dtype=float) / np.linalg.norm(axis)
        m = np.eye(4)
        m[:3, :3] = 2 * np.outer(a, a) - np.eye(3)  # rotation by 180° about a
        matrices.append(m)
    upside_down = np.eye(4)  # IfcAxis2Placement3D with Axis (0,0,-1), RefDirection (0,1,0)
    upside_down[:3, :3] = np.column_stack([[0, 1, 0], [1, 0, 0], [0, 0, -1]])
    matrices.append(upside_down)
    matrices = np.array(matrices)
    t, quaternion, s, ok = _trs(matrices)
    assert ok.all()
    x, y, z, w = quaternion.T
    rotation = np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
            np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
            np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1),
        ],
        1,
    )
    assert np.allclose(rotation * s[:, None, :], matrices[:, :3, :3], atol=1e-9)
    assert np.allclose(t, matrices[:, :3, 3])


def test_sheared_placements_are_not_decomposed() -> None:
    shear = np.eye(4)
    shear[0, 1] = 0.3
    assert not _trs(shear[None])[3][0]
