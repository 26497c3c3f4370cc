"""The pipeline's output model: plain dataclasses keyed by ``global_id``.

No ifcopenshell object ever appears here; these records are what the rest of Erji Twin
sees of an IFC file. Lengths are in metres unless a field name says otherwise, and
property values keep the unit the model was authored in (see ``PropertySet.units``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "Classification",
    "ElementRecord",
    "GeoReference",
    "GeometryFailure",
    "MapConversion",
    "ModelSummary",
    "ProjectedCRS",
    "PropertySet",
    "SiteReference",
    "SpatialNode",
]


@dataclass(frozen=True, slots=True)
class PropertySet:
    """One property set or quantity set as seen on an element.

    ``properties`` maps property name to its value (str, number, bool, list for
    enumerated/list values, dict for bounded/table/complex values, ``None`` if unset).
    ``units`` maps a property name to its unit symbol (``"mm"``, ``"m2"``, ``"W/m2.K"``),
    either the property's own unit or the project default for its measure type;
    properties without a unit are absent from it. ``source`` says where the set came
    from: the element type, the occurrence, or both merged (occurrence values win).
    """

    name: str
    kind: Literal["pset", "qto"]
    source: Literal["type", "occurrence", "type+occurrence"]
    properties: dict[str, Any]
    units: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Classification:
    """A classification reference, e.g. ``("GB/T 51269-2017", "14-10.20.10", "混凝土柱")``."""

    system: str | None
    code: str | None
    name: str | None


@dataclass(slots=True)
class ElementRecord:
    """Everything the twin knows about one IfcElement or IfcSpace.

    ``glb_index`` is the element's row in the GLB element table (``None`` when it has no
    3D geometry or its geometry failed). ``storey_global_id`` is the nearest containing
    IfcBuildingStorey (for infrastructure: IfcFacilityPart), reached through containment,
    aggregation or the wall an opening filler sits in.
    """

    global_id: str
    step_id: int
    ifc_class: str
    predefined_type: str | None
    name: str | None
    description: str | None
    object_type: str | None
    tag: str | None
    is_space: bool
    type_global_id: str | None
    type_name: str | None
    type_class: str | None
    container_global_id: str | None
    storey_global_id: str | None
    building_global_id: str | None
    property_sets: list[PropertySet]
    materials: list[str]
    classifications: list[Classification]
    has_geometry: bool = False
    glb_index: int | None = None


@dataclass(slots=True)
class SpatialNode:
    """A node of the spatial tree (project, site, building, storey, facility, part).

    ``elevation_m`` is the storey/building reference elevation in metres in the project's
    engineering frame (IfcBuildingStorey.Elevation, else its placement height).
    ``element_count`` counts elements whose nearest ancestor in the tree is this node.
    """

    global_id: str
    ifc_class: str
    name: str | None
    long_name: str | None
    elevation_m: float | None
    element_count: int = 0
    children: list[SpatialNode] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class MapConversion:
    """IfcMapConversion values exactly as written (map units of the target CRS)."""

    eastings: float
    northings: float
    orthogonal_height: float
    x_axis_abscissa: float | None
    x_axis_ordinate: float | None
    scale: float | None
    factor_x: float | None = None
    factor_y: float | None = None
    factor_z: float | None = None


@dataclass(frozen=True, slots=True)
class ProjectedCRS:
    """IfcProjectedCRS values as written (``name`` is usually ``"EPSG:nnnn"``)."""

    name: str | None
    description: str | None
    geodetic_datum: str | None
    vertical_datum: str | None
    map_projection: str | None
    map_zone: str | None
    map_unit: str | None
    map_unit_scale_m: float | None


@dataclass(frozen=True, slots=True)
class SiteReference:
    """IfcSite RefLatitude/RefLongitude as compound angles (deg, min, s, millionths of s)."""

    site_global_id: str
    ref_latitude: tuple[int, ...] | None
    ref_longitude: tuple[int, ...] | None
    ref_elevation: float | None


@dataclass(frozen=True, slots=True)
class GeoReference:
    """Raw georeferencing data; interpreting it is the job of ``geodata``.

    ``source`` names the best data present: ``"map_conversion"`` (IfcMapConversion, or
    the IFC2X3 ePSet_MapConversion property set), ``"site_reference"`` (IfcSite
    lat/lon only) or ``"none"``. ``project_length_unit_m`` is the size of one project
    length unit in metres, needed to read ``ref_elevation`` and map conversion offsets.
    ``true_north_xy`` is the model context's TrueNorth direction, if given.
    """

    source: Literal["map_conversion", "site_reference", "none"]
    map_conversion: MapConversion | None
    projected_crs: ProjectedCRS | None
    site: SiteReference | None
    true_north_xy: tuple[float, float] | None
    project_length_unit_m: float


@dataclass(frozen=True, slots=True)
class GeometryFailure:
    """An element whose geometry could not be produced by any kernel we tried."""

    global_id: str
    step_id: int
    ifc_class: str
    reason: str
    kernels_tried: tuple[str, ...]


@dataclass(slots=True)
class ModelSummary:
    """What ``process_model`` did, as written to ``summary.json``.

    ``triangles`` counts triangles as drawn (what the geometry kernel produced);
    ``stored_triangles`` as stored in the GLB, where instanced shapes appear once.
    ``seconds`` holds wall time per stage; ``outputs`` maps each written file name to its
    size in bytes. ``origin_m`` is the point of the IFC engineering frame (Z up, metres)
    that the GLB's (0, 0, 0) stands for.
    """

    source_file: str
    source_bytes: int
    source_sha256: str
    schema: str
    ifcopenshell_version: str
    pipeline_version: str
    element_count: int
    space_count: int
    counts_by_class: dict[str, int]
    storey_count: int
    elements_with_geometry: int
    geometry_failures: int
    geometry_retried: int
    triangles: int
    stored_triangles: int
    instanced_shapes: int
    instances: int
    vertices: int
    unique_shapes: int
    glb_meshes: int
    origin_m: tuple[float, float, float]
    bbox_min_m: tuple[float, float, float] | None
    bbox_max_m: tuple[float, float, float] | None
    max_position_error_m: float
    compression: str
    georef_source: str
    seconds: dict[str, float]
    outputs: dict[str, int]
    warnings: list[str] = field(default_factory=list)
