"""Write the model's geometry as one GLB of merged, compressed meshes.

Layout (DESIGN.md "Delivery format", measured there):

* Elements are grouped per storey (opaque and translucent apart, so glass can blend),
  ordered along a Morton curve inside a storey so neighbours share a mesh, and packed
  into meshes of at most 65,535 vertices (16-bit indices). One draw call per mesh.
* Every vertex carries ``_ELEMENT``: the element's index *within its node*; the node's
  ``extras.element_offset`` turns it into the row of the element table, which lives in
  ``scenes[0].extras.erji_twin`` (GlobalId, class, storey per row). Rows of one node are
  contiguous, so ``row = element_offset + _ELEMENT``.
* A shape repeated often (a type's chair, window, column) is stored once and drawn per
  element with EXT_mesh_gpu_instancing; there ``_ELEMENT`` is a per-instance float32
  attribute (three.js: an InstancedBufferAttribute named ``_ELEMENT``; per-vertex ones
  are uint16, named ``_element``), so the same lookup works.
* ``COLOR_0`` holds the IFC style colour (linear RGBA bytes). No normals: the viewer
  shades flat.
* Positions are relative to ``origin_m`` (a point of the IFC engineering frame) and
  turned Y-up, so float32 keeps millimetres even for map coordinates. With
  ``compression="meshopt"`` (default) or ``"quantized"`` they are int16 per mesh
  (KHR_mesh_quantization, node scale/translation undo it) unless that would exceed
  ``max_position_error_m``; ``"meshopt"`` then compresses every buffer view with
  EXT_meshopt_compression. ``"none"`` writes core glTF only (float32), for readers that
  lack those extensions. three.js reads all three with what ships in its npm package.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import meshoptimizer
import numpy as np

from .geometry import PlacedShape, Shape, placed_box_corners

__all__ = ["Compression", "GlbElement", "GlbStats", "write_glb"]

Compression = Literal["meshopt", "quantized", "none"]

MAX_MESH_VERTICES = 65_535  # 16-bit indices; 65,535 itself is reserved (primitive restart)
# Instance a shape when storing it once saves this many triangles, (uses - 1) × triangles.
# On Janesville, 1,000 picks 29 shapes that hold 1.59 M of the 1.80 M triangles; lower
# values add draw calls for little gain.
DEFAULT_MIN_INSTANCING_SAVING = 1_000
# Half a millimetre: rounding to int16 may move a vertex by at most this much, so the
# model stays true to the millimetre. A mesh wider than ~65 m on some axis would need
# a coarser step; it keeps float32 positions instead.
DEFAULT_MAX_POSITION_ERROR_M = 0.0005
_TRIANGLES_PER_PIECE = MAX_MESH_VERTICES // 3  # any 21,845 triangles use ≤ 65,535 vertices
_MORTON_BITS = 10  # per axis: 1,024 cells across a storey orders elements well enough

_FLOAT, _SHORT, _USHORT, _UBYTE = 5126, 5122, 5123, 5121
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963
_GLB_MAGIC, _GLB_VERSION, _CHUNK_JSON, _CHUNK_BIN = 0x46546C67, 2, 0x4E4F534A, 0x004E4942


@dataclass(frozen=True, slots=True)
class GlbElement:
    """A row of the element table: who an element is and which storey group it joins.

    ``storey`` indexes the ``storeys`` list given to ``write_glb`` (``None``: no storey).
    """

    step_id: int
    global_id: str
    ifc_class: str
    storey: int | None


@dataclass(slots=True)
class GlbStats:
    """What was written: sizes, counts, the origin and the worst position error."""

    bytes: int
    triangles: int  # as drawn: instanced triangles counted once per instance
    stored_triangles: int  # as stored in the file
    vertices: int
    meshes: int
    instanced_meshes: int
    instances: int
    origin_m: tuple[float, float, float]
    bbox_min_m: tuple[float, float, float] | None
    bbox_max_m: tuple[float, float, float] | None
    max_position_error_m: float
    compression: str
    row_of_step_id: dict[int, int] = field(default_factory=dict)


def write_glb(
    path: str | Path,
    placed: Sequence[PlacedShape],
    shapes: dict[str, Shape],
    elements: dict[int, GlbElement],
    storeys: Sequence[tuple[str, str | None]],
    *,
    compression: Compression = "meshopt",
    max_position_error_m: float = DEFAULT_MAX_POSITION_ERROR_M,
    min_instancing_saving: int = DEFAULT_MIN_INSTANCING_SAVING,
) -> GlbStats:
    """Write the placed shapes to ``path`` as GLB and return what was written.

    ``elements`` describes every placed shape's element by step id; ``storeys`` lists
    ``(global_id, name)`` of storey-level nodes from lowest to highest. The returned
    ``row_of_step_id`` gives each element's row in the GLB element table. A shape
    placed often enough to save ``min_instancing_saving`` triangles is stored once and
    drawn per placement with EXT_mesh_gpu_instancing (not with ``compression="none"``).

    Example::

        stats = write_glb("model.glb", result.placed, result.shapes, elements, storeys)
        print(stats.bytes, stats.triangles, stats.row_of_step_id[some_step_id])
    """
    if compression not in ("meshopt", "quantized", "none"):
        raise ValueError(f"unknown compression {compression!r}")
    builder = _GltfBuilder(compression)
    lo, hi = _placed_bounds(placed, shapes)
    origin = _origin(lo, hi)
    instancing = compression != "none" and min_instancing_saving > 0
    groups = _ordered_groups(
        placed, shapes, elements, (lo + hi) / 2 - origin, min_instancing_saving if instancing else 0
    )

    rows: dict[int, int] = {}
    table_ids: list[str] = []
    table_classes: list[str] = []
    table_storeys: list[int | None] = []
    for group in groups:
        for item in group.items:
            item.row = rows[item.step_id] = len(table_ids)
            info = elements[item.step_id]
            table_ids.append(info.global_id)
            table_classes.append(info.ifc_class)
            table_storeys.append(info.storey)

    storey_nodes: dict[int | None, list[int]] = {}
    instanced_nodes: list[int] = []
    bounds = _Bounds()
    max_error = 0.0
    for group in groups:
        if group.shape_key is None:
            for chunk in _pack(group.items, shapes):
                mesh = _assemble(chunk, shapes, origin)
                bounds.add(mesh.positions_yup)
                node, error = builder.add_mesh(
                    mesh, translucent=group.translucent, max_error_m=max_position_error_m
                )
                max_error = max(max_error, error)
                storey_nodes.setdefault(group.storey, []).append(node)
        else:
            shape = shapes[group.shape_key]
            for start in range(0, len(group.items), MAX_MESH_VERTICES):
                batch = group.items[start : start + MAX_MESH_VERTICES]
                matrices = np.stack([_gltf_matrix(item.placed.matrix, origin) for item in batch])
                bounds.add_instances(shape, matrices)
                node, error = builder.add_instanced(
                    shape,
                    matrices,
                    first_row=batch[0].row,
                    translucent=group.translucent,
                    max_error_m=max_position_error_m,
                )
                max_error = max(max_error, error)
                instanced_nodes.append(node)

    builder.add_scene(
        storey_nodes,
        instanced_nodes,
        storeys,
        _table(origin, table_ids, table_classes, table_storeys, storeys),
    )
    size = builder.write(Path(path))
    return GlbStats(
        bytes=size,
        triangles=builder.triangles,
        stored_triangles=builder.stored_triangles,
        vertices=builder.vertices,
        meshes=builder.meshes,
        instanced_meshes=len(instanced_nodes),
        instances=builder.instances,
        origin_m=tuple(float(v) for v in origin),
        bbox_min_m=bounds.ifc_min(origin),
        bbox_max_m=bounds.ifc_max(origin),
        max_position_error_m=max_error,
        compression=compression,
        row_of_step_id=rows,
    )


# --- ordering and packing -------------------------------------------------------------

# glTF is Y up: IFC (x, y, z) -> glTF (x, z, -y).
_Y_UP = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, -1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]])


@dataclass(slots=True)
class _Item:
    step_id: int
    placed: PlacedShape
    centre: np.ndarray
    row: int = -1  # row in the element table, set once the order is known


@dataclass(slots=True)
class _Group:
    """Elements drawn together: merged per storey, or one instanced shape."""

    storey: int | None
    translucent: bool
    shape_key: str | None  # set for an instanced group
    items: list[_Item]


@dataclass(slots=True)
class _Piece:
    item: _Item
    triangles: np.ndarray  # (m, 3) indices into the shape's vertices
    vertices: np.ndarray | None  # shape vertex ids used, when the shape had to be split


@dataclass(slots=True)
class _Mesh:
    positions_yup: np.ndarray  # (n, 3) float64 metres, relative to origin, Y up
    rgba: np.ndarray  # (n, 4) uint8
    element: np.ndarray  # (n,) uint16 row - element_offset
    triangles: np.ndarray  # (m, 3) uint32
    element_offset: int
    element_count: int


class _Bounds:
    """Running bounding box in the GLB frame (Y up, relative to the origin)."""

    def __init__(self) -> None:
        self.lo = np.full(3, np.inf)
        self.hi = np.full(3, -np.inf)

    def add(self, points: np.ndarray) -> None:
        self.lo = np.minimum(self.lo, points.min(axis=0))
        self.hi = np.maximum(self.hi, points.max(axis=0))

    def add_instances(self, shape: Shape, matrices: np.ndarray) -> None:
        local = shape.positions_m @ _Y_UP[:3, :3].T  # the mesh is stored Y up
        corners = np.array([local.min(axis=0), local.max(axis=0)])
        box = np.array([[corners[(i >> a) & 1][a] for a in range(3)] for i in range(8)])
        world = np.einsum("nij,kj->nki", matrices[:, :3, :3], box) + matrices[:, None, :3, 3]
        self.add(world.reshape(-1, 3))

    def ifc_min(self, origin: np.ndarray) -> tuple[float, float, float] | None:
        # Y-up (x, y, z) -> IFC (x, -z, y): the IFC y minimum comes from the Y-up z maximum.
        if not np.isfinite(self.lo).all():
            return None
        return (float(self.lo[0] + origin[0]), float(-self.hi[2] + origin[1]), float(self.lo[1] + origin[2]))

    def ifc_max(self, origin: np.ndarray) -> tuple[float, float, float] | None:
        if not np.isfinite(self.hi).all():
            return None
        return (float(self.hi[0] + origin[0]), float(-self.lo[2] + origin[1]), float(self.hi[1] + origin[2]))


def _gltf_matrix(ifc_matrix: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """Placement in the GLB frame: Y up, relative to the origin, for a Y-up local mesh."""
    shifted = ifc_matrix.copy()
    shifted[:3, 3] -= origin
    return _Y_UP @ shifted @ _Y_UP.T


def _origin(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Centre of the model in plan, its bottom in height, rounded to the millimetre."""
    if not len(lo):
        return np.zeros(3)
    lo, hi = lo.min(axis=0), hi.max(axis=0)
    return np.round(np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]]), 3)


def _placed_bounds(placed: Sequence[PlacedShape], shapes: dict[str, Shape]) -> tuple[np.ndarray, np.ndarray]:
    """Axis-aligned bounds (IFC frame) of every placed shape, from its local box corners."""
    if not placed:
        return np.empty((0, 3)), np.empty((0, 3))
    world = placed_box_corners(placed, shapes)
    return world.min(axis=1), world.max(axis=1)


def _ordered_groups(
    placed: Sequence[PlacedShape],
    shapes: dict[str, Shape],
    elements: dict[int, GlbElement],
    centres: np.ndarray,
    min_instancing_saving: int,
) -> list[_Group]:
    """Merged groups per storey (bottom up, no storey last), then instanced shapes."""
    if not placed:
        return []
    translucent = {key: bool((s.rgba[:, 3] < 255).any()) for key, s in shapes.items()}
    instanced = _instanced_shapes(placed, shapes, min_instancing_saving)
    # Only rotation + scale + translation can be written as instance TRS; sheared
    # placements of an instanced shape are merged instead.
    rigid = _trs(np.stack([p.matrix for p in placed]))[3]
    merged: dict[tuple[int | None, bool], list[_Item]] = {}
    by_shape: dict[str, list[_Item]] = {}
    for p, centre, is_rigid in zip(placed, centres, rigid, strict=True):
        item = _Item(p.step_id, p, centre)
        if p.shape_key in instanced and is_rigid:
            by_shape.setdefault(p.shape_key, []).append(item)
        else:
            merged.setdefault((elements[p.step_id].storey, translucent[p.shape_key]), []).append(item)
    groups = [
        _Group(storey, clear, None, _morton_sorted(merged[storey, clear]))
        for storey, clear in sorted(
            merged, key=lambda k: (k[0] is None, k[0] if k[0] is not None else 0, k[1])
        )
    ]
    for key, items in by_shape.items():
        if len(items) < 2:  # the others of this shape were not rigid: nothing to share
            groups.append(_Group(elements[items[0].step_id].storey, translucent[key], None, items))
        else:
            items.sort(key=lambda it: (_storey_order(elements[it.step_id].storey), it.step_id))
            groups.append(_Group(None, translucent[key], key, items))
    return groups


def _storey_order(storey: int | None) -> int:
    return 1 << 30 if storey is None else storey


def _instanced_shapes(placed: Sequence[PlacedShape], shapes: dict[str, Shape], min_saving: int) -> set[str]:
    """Shapes whose repeats would save at least ``min_saving`` stored triangles."""
    if min_saving <= 0:
        return set()
    uses: dict[str, int] = {}
    for p in placed:
        uses[p.shape_key] = uses.get(p.shape_key, 0) + 1
    return {
        key
        for key, n in uses.items()
        if n > 1
        and len(shapes[key].triangles) * (n - 1) >= min_saving
        and len(shapes[key].positions_m) <= MAX_MESH_VERTICES
    }


def _morton_sorted(items: list[_Item]) -> list[_Item]:
    """Items along a Morton (Z-order) curve of their centres, so neighbours share meshes."""
    centres = np.array([it.centre for it in items])
    lo, hi = centres.min(axis=0), centres.max(axis=0)
    cells = (1 << _MORTON_BITS) - 1
    grid = np.round((centres - lo) / np.maximum(hi - lo, 1e-9) * cells).astype(np.int64)
    keys = np.zeros(len(items), dtype=np.int64)
    for bit in range(_MORTON_BITS):
        for axis in range(3):
            keys |= ((grid[:, axis] >> bit) & 1) << (3 * bit + axis)
    return [items[i] for i in np.argsort(keys, kind="stable")]


def _pack(members: list[_Item], shapes: dict[str, Shape]) -> Iterable[list[_Piece]]:
    """Group consecutive elements into meshes of at most MAX_MESH_VERTICES vertices."""
    chunk: list[_Piece] = []
    count = 0
    for item in members:
        shape = shapes[item.placed.shape_key]
        for piece, n in _pieces(item, shape):
            if chunk and count + n > MAX_MESH_VERTICES:
                yield chunk
                chunk, count = [], 0
            chunk.append(piece)
            count += n
    if chunk:
        yield chunk


def _pieces(item: _Item, shape: Shape) -> Iterable[tuple[_Piece, int]]:
    if len(shape.positions_m) <= MAX_MESH_VERTICES:
        yield _Piece(item, shape.triangles, None), len(shape.positions_m)
        return
    # A single element bigger than a mesh (a terrain, a detailed furniture piece) is cut
    # into runs of triangles; each run references at most 65,535 distinct vertices.
    for start in range(0, len(shape.triangles), _TRIANGLES_PER_PIECE):
        block = shape.triangles[start : start + _TRIANGLES_PER_PIECE]
        used, local = np.unique(block, return_inverse=True)
        yield _Piece(item, local.reshape(-1, 3).astype(np.uint32), used), len(used)


def _assemble(chunk: list[_Piece], shapes: dict[str, Shape], origin: np.ndarray) -> _Mesh:
    positions, colours, owners, triangles = [], [], [], []
    offset = 0
    first_row = min(piece.item.row for piece in chunk)
    for piece in chunk:
        shape = shapes[piece.item.placed.shape_key]
        local = shape.positions_m if piece.vertices is None else shape.positions_m[piece.vertices]
        rgba = shape.rgba if piece.vertices is None else shape.rgba[piece.vertices]
        matrix = _gltf_matrix(piece.item.placed.matrix, origin)
        positions.append(local @ (matrix[:3, :3] @ _Y_UP[:3, :3]).T + matrix[:3, 3])
        colours.append(rgba)
        owners.append(np.full(len(local), piece.item.row - first_row, dtype=np.uint16))
        triangles.append(piece.triangles + np.uint32(offset))
        offset += len(local)
    element = np.concatenate(owners)
    return _Mesh(
        positions_yup=np.concatenate(positions),
        rgba=np.concatenate(colours),
        element=element,
        triangles=np.concatenate(triangles),
        element_offset=first_row,
        element_count=int(element.max()) + 1,
    )


def _trs(matrices: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split (n, 4, 4) affine matrices into translation, quaternion (x, y, z, w), scale.

    Returns ``(t, q, s, ok)``; ``ok`` is False where a matrix has shear or a zero axis
    and so has no exact TRS form. A mirrored placement gets a negative x scale.
    """
    linear = matrices[:, :3, :3]
    scale = np.linalg.norm(linear, axis=1)  # column lengths
    ok = (scale > 1e-12).all(axis=1)
    rotation = linear / np.where(scale > 1e-12, scale, 1.0)[:, None, :]
    mirrored = np.linalg.det(rotation) < 0
    scale[mirrored, 0] *= -1
    rotation[mirrored, :, 0] *= -1
    gram = np.einsum("nji,njk->nik", rotation, rotation)
    ok &= np.abs(gram - np.eye(3)).max(axis=(1, 2)) < 1e-6
    quaternion = _quaternions(rotation)
    return matrices[:, :3, 3].copy(), quaternion, scale, ok


def _quaternions(rotation: np.ndarray) -> np.ndarray:
    """Unit quaternions (x, y, z, w) of (n, 3, 3) rotation matrices.

    Shepperd's method: each matrix is solved from whichever of w, x, y, z is largest, so
    the division is well conditioned and 180° turns (w = 0) keep their signs.
    """
    m = rotation
    trace = m[:, 0, 0] + m[:, 1, 1] + m[:, 2, 2]
    pick = np.argmax(np.stack([trace, m[:, 0, 0], m[:, 1, 1], m[:, 2, 2]], axis=1), axis=1)
    q = np.empty((len(m), 4))
    for case in range(4):
        rows = pick == case
        r = m[rows]
        if case == 0:
            s = np.sqrt(1.0 + r[:, 0, 0] + r[:, 1, 1] + r[:, 2, 2]) * 2  # s = 4w
            q[rows] = np.column_stack(
                [
                    (r[:, 2, 1] - r[:, 1, 2]) / s,
                    (r[:, 0, 2] - r[:, 2, 0]) / s,
                    (r[:, 1, 0] - r[:, 0, 1]) / s,
                    s / 4,
                ]
            )
        elif case == 1:
            s = np.sqrt(1.0 + r[:, 0, 0] - r[:, 1, 1] - r[:, 2, 2]) * 2  # s = 4x
            q[rows] = np.column_stack(
                [
                    s / 4,
                    (r[:, 0, 1] + r[:, 1, 0]) / s,
                    (r[:, 0, 2] + r[:, 2, 0]) / s,
                    (r[:, 2, 1] - r[:, 1, 2]) / s,
                ]
            )
        elif case == 2:
            s = np.sqrt(1.0 + r[:, 1, 1] - r[:, 0, 0] - r[:, 2, 2]) * 2  # s = 4y
            q[rows] = np.column_stack(
                [
                    (r[:, 0, 1] + r[:, 1, 0]) / s,
                    s / 4,
                    (r[:, 1, 2] + r[:, 2, 1]) / s,
                    (r[:, 0, 2] - r[:, 2, 0]) / s,
                ]
            )
        else:
            s = np.sqrt(1.0 + r[:, 2, 2] - r[:, 0, 0] - r[:, 1, 1]) * 2  # s = 4z
            q[rows] = np.column_stack(
                [
                    (r[:, 0, 2] + r[:, 2, 0]) / s,
                    (r[:, 1, 2] + r[:, 2, 1]) / s,
                    s / 4,
                    (r[:, 1, 0] - r[:, 0, 1]) / s,
                ]
            )
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def _table(
    origin: np.ndarray,
    global_ids: list[str],
    classes: list[str],
    storey_of_row: list[int | None],
    storeys: Sequence[tuple[str, str | None]],
) -> dict:
    class_names = sorted(set(classes))
    class_index = {name: i for i, name in enumerate(class_names)}
    return {
        "format": "erji-twin-glb/1",
        "origin_m": [float(v) for v in origin],
        "up_axis": "Y",
        "to_ifc": "x_ifc = x + origin[0]; y_ifc = -z + origin[1]; z_ifc = y + origin[2] (metres)",
        "element_count": len(global_ids),
        "global_ids": global_ids,
        "classes": class_names,
        "class_index": [class_index[c] for c in classes],
        "storeys": [{"global_id": gid, "name": name} for gid, name in storeys],
        "storey_index": [-1 if s is None else s for s in storey_of_row],
    }


# --- glTF document ----------------------------------------------------------------


class _GltfBuilder:
    """Accumulates buffer views, accessors, meshes and nodes, then writes the GLB.

    Written by hand rather than with pygltflib: its ``save_to_bytes`` folds all buffers
    into one and drops the byte-length-only fallback buffer that EXT_meshopt_compression
    requires.
    """

    def __init__(self, compression: Compression) -> None:
        self.compression = compression
        self.doc: dict = {
            "asset": {"version": "2.0", "generator": "Erji Twin ifc_processing"},
            "scene": 0,
            "scenes": [],
            "nodes": [],
            "meshes": [],
            "materials": [
                _material("opaque", blend=False),
                _material("translucent", blend=True),
            ],
            "accessors": [],
            "bufferViews": [],
            "buffers": [],
        }
        self.binary = bytearray()  # GLB BIN chunk: raw data, or meshopt streams
        self.fallback_bytes = 0  # size the views would have uncompressed (meshopt only)
        self.extensions: set[str] = set()
        self.triangles = 0
        self.stored_triangles = 0
        self.vertices = 0
        self.meshes = 0
        self.instances = 0
        self._instanced_mesh: dict[int, tuple[int, np.ndarray, float]] = {}  # id(shape) -> mesh, D, error

    def add_mesh(self, mesh: _Mesh, *, translucent: bool, max_error_m: float) -> tuple[int, float]:
        """One node drawing a merged mesh; returns the node and its worst position error."""
        triangles, order = _optimise(mesh.triangles, len(mesh.positions_yup))
        attributes, indices, dequantise, error = self._geometry(
            mesh.positions_yup[order], mesh.rgba[order], triangles, max_error_m
        )
        padded = np.zeros((len(order), 2), dtype=np.uint16)  # element, pad: 4-byte aligned
        padded[:, 0] = mesh.element[order]
        element_view = self._view(padded, stride=4, target=_ARRAY_BUFFER)
        attributes["_ELEMENT"] = self._accessor(element_view, _USHORT, "SCALAR", len(order))

        node: dict = {"mesh": self._mesh(attributes, indices, translucent)}
        if dequantise is not None:  # the node's transform undoes the int16 quantisation
            node["translation"] = [float(v) for v in dequantise[:3, 3]]
            node["scale"] = [float(v) for v in np.diag(dequantise)[:3]]
        node["extras"] = {"element_offset": mesh.element_offset, "element_count": mesh.element_count}
        self.doc["nodes"].append(node)
        self.triangles += len(triangles)
        return len(self.doc["nodes"]) - 1, error

    def add_instanced(
        self, shape: Shape, matrices: np.ndarray, *, first_row: int, translucent: bool, max_error_m: float
    ) -> tuple[int, float]:
        """One node drawing ``shape`` once per matrix (GLB frame, for a Y-up local mesh).

        Instance i is element table row ``first_row + i``. int16 dequantisation is folded
        into each instance's transform: glTF applies instance transforms before the
        node's, so the node cannot carry it.
        """
        count = len(matrices)
        max_scale = float(np.linalg.norm(matrices[:, :3, :3], axis=1).max())
        if id(shape) not in self._instanced_mesh:
            self._instanced_mesh[id(shape)] = self._shape_mesh(
                shape, translucent, max_error_m / max(max_scale, 1e-9)
            )
        mesh_index, dequantise, local_error = self._instanced_mesh[id(shape)]
        translation, rotation, scale, ok = _trs(matrices @ dequantise)
        if not ok.all():  # callers pass rigid placements only; this guards the contract
            raise ValueError("instanced placements must be rotation, scale and translation only")
        # float32, tightly packed: three.js builds InstancedBufferAttributes from the raw
        # array and would ignore a byte stride, and meshopt wants 4-byte elements. Row
        # numbers below 2**24 are exact in float32.
        element = np.arange(count, dtype=np.float32)
        attributes = {
            "TRANSLATION": self._accessor(
                self._view(translation.astype(np.float32), stride=12), _FLOAT, "VEC3", count
            ),
            "ROTATION": self._accessor(
                self._view(rotation.astype(np.float32), stride=16), _FLOAT, "VEC4", count
            ),
            "SCALE": self._accessor(self._view(scale.astype(np.float32), stride=12), _FLOAT, "VEC3", count),
            "_ELEMENT": self._accessor(self._view(element, stride=4), _FLOAT, "SCALAR", count),
        }
        self.doc["nodes"].append(
            {
                "mesh": mesh_index,
                "extensions": {"EXT_mesh_gpu_instancing": {"attributes": attributes}},
                "extras": {"element_offset": first_row, "element_count": count, "instanced": True},
            }
        )
        self.extensions.add("EXT_mesh_gpu_instancing")
        triangles = (
            self.doc["accessors"][self.doc["meshes"][mesh_index]["primitives"][0]["indices"]]["count"] // 3
        )
        self.triangles += triangles * count
        self.instances += count
        return len(self.doc["nodes"]) - 1, local_error * max_scale

    def _shape_mesh(
        self, shape: Shape, translucent: bool, max_error_m: float
    ) -> tuple[int, np.ndarray, float]:
        """Store a shape once, Y up in its local frame; return mesh, dequantisation, error."""
        triangles, order = _optimise(shape.triangles, len(shape.positions_m))
        local = (shape.positions_m @ _Y_UP[:3, :3].T)[order]
        attributes, indices, dequantise, error = self._geometry(
            local, shape.rgba[order], triangles, max_error_m
        )
        mesh = self._mesh(attributes, indices, translucent)
        return mesh, (dequantise if dequantise is not None else np.eye(4)), error

    def _geometry(
        self, positions: np.ndarray, rgba: np.ndarray, triangles: np.ndarray, max_error_m: float
    ) -> tuple[dict[str, int], int, np.ndarray | None, float]:
        """POSITION, COLOR_0 and index accessors of one mesh.

        Positions become int16 on a per-axis grid when that keeps every vertex within
        ``max_error_m`` (and compression allows it), else float32. Returns the attribute
        accessors, the index accessor, the 4×4 dequantisation matrix (``None`` for float32)
        and the worst position error in metres.
        """
        count = len(positions)
        lo, hi = positions.min(axis=0), positions.max(axis=0)
        step = np.maximum((hi - lo) / 65534.0, 1e-6)  # metres per int16 unit, per axis
        dequantise = None
        if self.compression != "none" and float(step.max()) / 2 <= max_error_m:
            centre = (lo + hi) / 2
            quantised = np.round((positions - centre) / step).astype(np.int16)
            error = float(np.abs(quantised * step + centre - positions).max())
            packed = np.zeros((count, 4), dtype=np.int16)  # x, y, z, pad: 4-byte aligned
            packed[:, :3] = quantised
            view = self._view(packed, stride=8, target=_ARRAY_BUFFER)
            position = self._accessor(view, _SHORT, "VEC3", count, quantised.min(0), quantised.max(0))
            dequantise = np.eye(4)
            dequantise[:3, :3] = np.diag(step)
            dequantise[:3, 3] = centre
            self.extensions.add("KHR_mesh_quantization")
        else:
            as_float = positions.astype(np.float32)
            error = float(np.abs(as_float.astype(np.float64) - positions).max())
            view = self._view(as_float, stride=12, target=_ARRAY_BUFFER)
            position = self._accessor(view, _FLOAT, "VEC3", count, as_float.min(0), as_float.max(0))
        colour_view = self._view(np.ascontiguousarray(rgba), stride=4, target=_ARRAY_BUFFER)
        colour = self._accessor(colour_view, _UBYTE, "VEC4", count, normalized=True)
        index_view = self._view(
            triangles.astype(np.uint16).ravel(), stride=None, target=_ELEMENT_ARRAY_BUFFER
        )
        indices = self._accessor(index_view, _USHORT, "SCALAR", triangles.size)
        self.stored_triangles += len(triangles)
        self.vertices += count
        return {"POSITION": position, "COLOR_0": colour}, indices, dequantise, error

    def _mesh(self, attributes: dict[str, int], indices: int, translucent: bool) -> int:
        self.doc["meshes"].append(
            {
                "primitives": [
                    {
                        "attributes": attributes,
                        "indices": indices,
                        "material": 1 if translucent else 0,
                        "mode": 4,
                    }
                ]
            }
        )
        self.meshes += 1
        return len(self.doc["meshes"]) - 1

    def add_scene(
        self,
        storey_nodes: dict[int | None, list[int]],
        instanced_nodes: list[int],
        storeys: Sequence[tuple[str, str | None]],
        table: dict,
    ) -> None:
        children = []
        for storey in sorted(storey_nodes, key=lambda s: (s is None, s if s is not None else 0)):
            if storey is None:
                node = {"name": "(no storey)", "children": storey_nodes[storey]}
            else:
                global_id, name = storeys[storey]
                node = {
                    "name": name or global_id,
                    "children": storey_nodes[storey],
                    "extras": {"global_id": global_id},
                }
            self.doc["nodes"].append(node)
            children.append(len(self.doc["nodes"]) - 1)
        if instanced_nodes:
            # Instances span storeys; the viewer hides per element, not per node.
            self.doc["nodes"].append({"name": "(instanced)", "children": instanced_nodes})
            children.append(len(self.doc["nodes"]) - 1)
        self.doc["nodes"].append({"name": "model", "children": children})
        self.doc["scenes"].append({"nodes": [len(self.doc["nodes"]) - 1], "extras": {"erji_twin": table}})

    def write(self, path: Path) -> int:
        doc = self.doc
        # glTF forbids empty buffers and empty child lists: a model without any geometry
        # becomes a scene with one empty "model" node and its element table.
        doc["buffers"] = [{"byteLength": len(self.binary)}] if self.binary else []
        if self.compression == "meshopt" and doc["bufferViews"]:
            doc["buffers"].append(
                {
                    "byteLength": self.fallback_bytes,
                    "extensions": {"EXT_meshopt_compression": {"fallback": True}},
                }
            )
            self.extensions.add("EXT_meshopt_compression")
        if self.extensions:
            doc["extensionsUsed"] = sorted(self.extensions)
            doc["extensionsRequired"] = sorted(self.extensions)
        for key in ("accessors", "bufferViews", "meshes", "buffers"):
            if not doc[key]:
                del doc[key]
        for node in doc["nodes"]:
            if "children" in node and not node["children"]:
                del node["children"]
        json_bytes = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        json_bytes += b" " * (-len(json_bytes) % 4)
        binary = bytes(self.binary) + b"\0" * (-len(self.binary) % 4)
        total = 12 + 8 + len(json_bytes) + (8 + len(binary) if binary else 0)
        with path.open("wb") as out:
            out.write(struct.pack("<III", _GLB_MAGIC, _GLB_VERSION, total))
            out.write(struct.pack("<II", len(json_bytes), _CHUNK_JSON))
            out.write(json_bytes)
            if binary:
                out.write(struct.pack("<II", len(binary), _CHUNK_BIN))
                out.write(binary)
        return total

    def _view(self, array: np.ndarray, *, stride: int | None, target: int | None = None) -> int:
        raw = np.ascontiguousarray(array)
        view: dict = {"byteLength": raw.nbytes}
        if target is not None:
            view["target"] = target
        if stride is not None:
            view["byteStride"] = stride
        if self.compression == "meshopt":
            if stride is None:  # triangle indices
                encoded = meshoptimizer.encode_index_buffer(
                    raw.astype(np.uint32), len(raw), int(raw.max()) + 1
                )
                mode, element_size, count = "TRIANGLES", raw.itemsize, len(raw)
            else:
                # Version 0 of the vertex codec is the one EXT_meshopt_compression defines.
                meshoptimizer.encode_vertex_version(0)
                encoded = meshoptimizer.encode_vertex_buffer(
                    raw.reshape(len(raw), -1).view(np.uint8), len(raw), stride
                )
                mode, element_size, count = "ATTRIBUTES", stride, len(raw)
            self._align(self.binary)
            view["buffer"] = 1
            view["byteOffset"] = self.fallback_bytes
            view["extensions"] = {
                "EXT_meshopt_compression": {
                    "buffer": 0,
                    "byteOffset": len(self.binary),
                    "byteLength": len(encoded),
                    "byteStride": element_size,
                    "mode": mode,
                    "count": count,
                }
            }
            self.binary += encoded
            self.fallback_bytes += raw.nbytes + (-raw.nbytes % 4)
        else:
            self._align(self.binary)
            view["buffer"] = 0
            view["byteOffset"] = len(self.binary)
            self.binary += raw.tobytes()
        self.doc["bufferViews"].append(view)
        return len(self.doc["bufferViews"]) - 1

    def _accessor(
        self,
        view: int,
        component: int,
        kind: str,
        count: int,
        lo: np.ndarray | None = None,
        hi: np.ndarray | None = None,
        *,
        normalized: bool = False,
    ) -> int:
        accessor: dict = {"bufferView": view, "componentType": component, "count": count, "type": kind}
        if normalized:
            accessor["normalized"] = True
        if lo is not None and hi is not None:
            cast = float if component == _FLOAT else int
            accessor["min"] = [cast(v) for v in lo]
            accessor["max"] = [cast(v) for v in hi]
        self.doc["accessors"].append(accessor)
        return len(self.doc["accessors"]) - 1

    @staticmethod
    def _align(buffer: bytearray) -> None:
        buffer += b"\0" * (-len(buffer) % 4)


def _material(name: str, *, blend: bool) -> dict:
    material = {
        "name": name,
        "pbrMetallicRoughness": {
            "baseColorFactor": [1.0, 1.0, 1.0, 1.0],
            "metallicFactor": 0.0,
            "roughnessFactor": 1.0,
        },
        # IFC exporters do not agree on face winding; culling would punch holes.
        "doubleSided": True,
    }
    if blend:
        material["alphaMode"] = "BLEND"
    return material


def _optimise(triangles: np.ndarray, vertex_count: int) -> tuple[np.ndarray, np.ndarray]:
    """Reorder triangles for the GPU's vertex cache and vertices for fetch locality.

    Returns the new triangles and ``order`` such that ``new_vertices = old[order]``.
    Both reorderings also make the meshopt streams smaller.
    """
    flat = np.ascontiguousarray(triangles.ravel(), dtype=np.uint32)
    cached = np.empty_like(flat)
    meshoptimizer.optimize_vertex_cache(cached, flat, len(flat), vertex_count)
    remap = np.empty(vertex_count, dtype=np.uint32)
    unique = meshoptimizer.optimize_vertex_fetch_remap(remap, cached, len(cached), vertex_count)
    used = remap != np.uint32(0xFFFFFFFF)  # vertices no triangle references are dropped
    order = np.empty(unique, dtype=np.int64)
    order[remap[used]] = np.nonzero(used)[0]
    return remap[cached].reshape(-1, 3), order
