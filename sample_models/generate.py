"""Deterministic generator of a sample reinforced-concrete office building in Wuhan, China.

The model is built for tests and benchmarks of the IFC ingest pipeline and of the 4D
(schedule) features, so that no binary IFC has to live in the repository.  Everything
that varies between runs is derived from the arguments: the same arguments give a
byte-identical file (GlobalIds come from a seeded RNG, every timestamp is fixed).

Building, per structural storey ``k`` (1-based, elevation ``(k - 1) × 3.6 m``), following
the PKPM/YJK convention of Chinese structural models where a storey holds its columns and
the beams and slab at its *top*:

* columns on the (bays_x + 1) × (bays_y + 1) grid, from the storey level to the next;
* frame beams between adjacent columns in both directions, top flush with the slab above;
* one cast-in-place slab per bay at the storey's top (roof slabs on the top storey), the
  slab of the stair bay with a stairwell opening;
* perimeter infill walls between columns, each with one window in an opening;
* internal walls on the interior X grid lines (parallel to Y), each with one door;
* a half-turn stair (IfcStair aggregating two IfcStairFlight and a landing IfcSlab);
* one IfcSpace per bay (aggregated into the storey; not a physical element).

A roof level "RF 屋面" on top of the last storey holds the concrete parapets.

Units: lengths in millimetres (as in most Chinese BIM deliveries), areas in m², volumes
in m³.  All dimension constants below carry their unit in the name.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import io
import math
import pathlib
import random
from collections.abc import Iterable, Sequence
from typing import Any

import ifcopenshell
import ifcopenshell.api.classification
import ifcopenshell.api.context
import ifcopenshell.api.control
import ifcopenshell.api.geometry
import ifcopenshell.api.georeference
import ifcopenshell.api.material
import ifcopenshell.api.owner
import ifcopenshell.api.project
import ifcopenshell.api.pset
import ifcopenshell.api.root
import ifcopenshell.api.style
import ifcopenshell.api.unit
import ifcopenshell.ifcopenshell_wrapper
import ifcopenshell.util.date

# ifcopenshell.api.sequence prints a note on stdout when the optional networkx package
# (needed only by recalculate_schedule, which this module does not use) is missing; keep
# that noise out of the CLI's output.
with contextlib.redirect_stdout(io.StringIO()):
    import ifcopenshell.api.sequence

__all__ = [
    "MAX_ELEMENTS",
    "MIN_ELEMENTS",
    "SCHEMAS",
    "element_count",
    "expected_counts",
    "generate_building",
    "iter_physical_elements",
    "layout_for_element_count",
    "normalise_schema",
    "write_building",
]

# --------------------------------------------------------------------------- constants

#: Accepted ``schema`` arguments mapped to ifcopenshell's schema identifiers.
SCHEMAS: dict[str, str] = {
    "IFC2X3": "IFC2X3",
    "IFC4": "IFC4",
    "IFC4X3": "IFC4X3_ADD2",
    "IFC4X3_ADD2": "IFC4X3_ADD2",
}

STOREY_HEIGHT_MM = 3600.0
BAY_X_MM = 8400.0  # grid spacing along X (axes 1, 2, 3 ...)
BAY_Y_MM = 7200.0  # grid spacing along Y (axes A, B, C ...)
COLUMN_WIDTH_MM = 600.0
BEAM_X_WIDTH_MM, BEAM_X_DEPTH_MM = 300.0, 700.0  # KL1, spans BAY_X_MM (depth ≈ span / 12)
BEAM_Y_WIDTH_MM, BEAM_Y_DEPTH_MM = 300.0, 600.0  # KL2, spans BAY_Y_MM
SLAB_THICKNESS_MM = 120.0
ROOF_SLAB_THICKNESS_MM = 150.0
WALL_THICKNESS_MM = 200.0
PARAPET_HEIGHT_MM = 1200.0
WINDOW_WIDTH_MM, WINDOW_HEIGHT_MM, WINDOW_SILL_MM = 1800.0, 1500.0, 900.0
WINDOW_FRAME_DEPTH_MM, WINDOW_FRAME_WIDTH_MM, GLASS_THICKNESS_MM = 80.0, 60.0, 24.0
DOOR_WIDTH_MM, DOOR_HEIGHT_MM, DOOR_OFFSET_MM = 1000.0, 2100.0, 600.0
DOOR_FRAME_DEPTH_MM, DOOR_FRAME_WIDTH_MM, DOOR_LEAF_THICKNESS_MM = 120.0, 50.0, 45.0
OPENING_CLEARANCE_MM = 10.0  # openings stick out of their host so booleans are robust
RISERS_PER_FLIGHT = 12  # two flights per storey: 24 risers × 150 mm = 3600 mm
TREAD_LENGTH_MM = 280.0
FLIGHT_WIDTH_MM = 1200.0
FLIGHT_GAP_MM = 200.0
FLIGHT_LANDING_THICKNESS_MM = 300.0  # vertical thickness of the flight where it meets the landing
FLIGHT_BEARING_MM = 100.0  # how far a flight runs into the landing it is cast with
LANDING_DEPTH_MM = 1500.0
STAIR_ORIGIN_X_MM, STAIR_ORIGIN_Y_MM = 400.0, 800.0  # inside bay (1-2, A-B)
SPACE_INSET_MM = WALL_THICKNESS_MM / 2  # spaces stop at the wall faces

#: Site: central Wuhan (武汉), Hubei.  Elevation above the 1985 national height datum.
SITE_LATITUDE_DEG = 30.5928
SITE_LONGITUDE_DEG = 114.3055
SITE_ELEVATION_M = 23.0
#: The project origin in EPSG:4547 "CGCS2000 / 3-degree Gauss-Kruger CM 114E" (metres),
#: computed once with pyproj 3.7:
#: ``Transformer.from_crs(4490, 4547, always_xy=True).transform(114.3055, 30.5928)``.
SITE_EASTING_M = 529299.860
SITE_NORTHING_M = 3385869.453
#: Grid convergence at the site (true north is this many degrees anticlockwise of grid
#: north), from ``pyproj.Proj(CRS.from_epsg(4547)).get_factors(...).meridian_convergence``.
GRID_CONVERGENCE_DEG = 0.1555
CRS_NAME = "EPSG:4547"
CRS_DESCRIPTION = "CGCS2000 / 3-degree Gauss-Kruger CM 114E"

#: Fixed "authoring" timestamp for the header and owner history (determinism).
AUTHORING_TIME = datetime.datetime(2025, 1, 6, 9, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
WORKDAY_START = datetime.time(8, 0)
WORKDAY_FINISH = datetime.time(17, 0)
#: Chinese sites commonly work a six-day week; Sunday (ISO weekday 7) is the rest day.
WORKING_WEEKDAYS = (1, 2, 3, 4, 5, 6)

#: Smallest ``elements`` for which layout_for_element_count can stay within ±10 %.
MIN_ELEMENTS = 40
#: Largest ``elements`` accepted: generation needs ≈12 KiB of memory per element, so a
#: million elements already takes ≈12 GiB and ~20 minutes.
MAX_ELEMENTS = 1_000_000
_MAX_STOREYS = 200
_MAX_BAYS = 500

#: Trades per storey: key, WBS name, duration in working days.  The order is the WBS order.
_TRADES: tuple[tuple[str, str, int], ...] = (
    ("columns", "柱 Columns", 3),
    ("beams_slabs", "梁板 Beams & slabs", 5),
    ("stairs", "楼梯 Stairs", 2),
    ("walls", "墙体 Walls", 4),
    ("windows_doors", "门窗 Windows & doors", 3),
)
_PARAPET_DAYS = 3
_COLUMN_AFTER_SLAB_LAG_DAYS = 1  # concrete must set before the next lift of columns
_WALL_AFTER_SLAB_LAG_DAYS = 2  # infill masonry waits for formwork striking
_STRENGTH_CHANGE_FRACTION = 0.5  # the lower half of the storeys uses C40 columns

# --------------------------------------------------------------------------- layout formulas


def _check_layout(storeys: int, bays_x: int, bays_y: int) -> None:
    for name, value, maximum in (
        ("storeys", storeys, _MAX_STOREYS),
        ("bays_x", bays_x, _MAX_BAYS),
        ("bays_y", bays_y, _MAX_BAYS),
    ):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an integer, got {value!r}")
        if not 1 <= value <= maximum:
            raise ValueError(f"{name} must be between 1 and {maximum}, got {value}")


def expected_counts(storeys: int, bays_x: int, bays_y: int) -> dict[str, int]:
    """Return how many instances of each IFC class generate_building creates.

    The keys are IFC class names as used in IFC4 (``IfcWall`` is ``IfcWallStandardCase`` in
    IFC2X3 files); ``IfcSlab`` counts floor/roof slabs and stair landings; ``IfcOpeningElement``
    counts window, door and stairwell openings; ``IfcBuildingStorey`` includes the roof level.

    Example:
        >>> expected_counts(3, 3, 2)["IfcColumn"]
        36
    """
    _check_layout(storeys, bays_x, bays_y)
    s, nx, ny = storeys, bays_x, bays_y
    windows = s * 2 * (nx + ny)
    doors = s * (nx - 1) * ny
    return {
        "IfcColumn": s * (nx + 1) * (ny + 1),
        "IfcBeam": s * (nx * (ny + 1) + ny * (nx + 1)),
        "IfcSlab": s * (nx * ny + 1),
        "IfcWall": windows + doors + 2 * (nx + ny),
        "IfcWindow": windows,
        "IfcDoor": doors,
        "IfcStair": s,
        "IfcStairFlight": 2 * s,
        "IfcOpeningElement": windows + doors + s,
        "IfcSpace": s * nx * ny,
        "IfcBuildingStorey": s + 1,
    }


_PHYSICAL_CLASSES = (
    "IfcColumn",
    "IfcBeam",
    "IfcSlab",
    "IfcWall",
    "IfcWindow",
    "IfcDoor",
    "IfcStair",
    "IfcStairFlight",
)


def element_count(storeys: int, bays_x: int, bays_y: int) -> int:
    """Return the number of physical elements (what ``--elements`` counts).

    Physical elements are the built elements: columns, beams, slabs, walls, windows,
    doors, stairs and stair flights — not openings, spaces or spatial structure.  It equals
    ``storeys × (6·bx·by + 6·bx + 4·by + 5) + 2·(bx + by)``.

    Example:
        >>> element_count(3, 3, 2)
        211
    """
    counts = expected_counts(storeys, bays_x, bays_y)
    return sum(counts[c] for c in _PHYSICAL_CLASSES)


def _element_count_fast(s: int, nx: int, ny: int) -> int:
    return s * (6 * nx * ny + 6 * nx + 4 * ny + 5) + 2 * (nx + ny)


def layout_for_element_count(elements: int) -> tuple[int, int, int]:
    """Pick ``(storeys, bays_x, bays_y)`` whose element_count is close to ``elements``.

    The result is within ±10 % of ``elements`` for every MIN_ELEMENTS ≤ elements ≤
    MAX_ELEMENTS (within 1 % for 92 % of them).  Storeys grow with the cube root of the size (≈28 storeys for
    100 000 elements) and the floor plate is kept roughly 1.5 : 1, so large models look like
    plausible (if very large) towers.  Raises ValueError outside that range.

    Example:
        >>> layout_for_element_count(1_000)
        (7, 4, 4)
    """
    if isinstance(elements, bool) or not isinstance(elements, int):
        raise ValueError(f"elements must be an integer, got {elements!r}")
    if not MIN_ELEMENTS <= elements <= MAX_ELEMENTS:
        raise ValueError(f"elements must be between {MIN_ELEMENTS} and {MAX_ELEMENTS}, got {elements}")
    preferred_storeys = min(_MAX_STOREYS, max(1, round(0.6 * elements ** (1 / 3))))
    best: tuple[float, tuple[int, int, int]] | None = None
    for s in range(max(1, preferred_storeys // 2), min(_MAX_STOREYS, 2 * preferred_storeys + 1) + 1):
        for ny in range(1, _MAX_BAYS + 1):
            # element_count is linear in nx for fixed s and ny: solve for nx, try neighbours.
            per_nx = s * (6 * ny + 6) + 2
            rest = s * (4 * ny + 5) + 2 * ny
            if rest + per_nx * ny > 1.1 * elements and ny > 1:
                break
            guess = round((elements - rest) / per_nx)
            for nx in (guess - 1, guess, guess + 1):
                if not ny <= nx <= min(_MAX_BAYS, 4 * ny):
                    continue
                error = abs(_element_count_fast(s, nx, ny) - elements) / elements
                shape_penalty = 0.02 * abs(math.log(s / preferred_storeys)) + 0.01 * abs(
                    math.log(nx / (1.5 * ny))
                )
                cost = error + shape_penalty
                if best is None or cost < best[0]:
                    best = (cost, (s, nx, ny))
    assert best is not None
    return best[1]


def normalise_schema(schema: str) -> str:
    """Map a schema argument (``IFC2X3``, ``IFC4``, ``IFC4X3``/``IFC4X3_ADD2``, any case) to
    ifcopenshell's identifier; raise ValueError for anything else.

    Example:
        >>> normalise_schema("ifc4x3")
        'IFC4X3_ADD2'
    """
    if not isinstance(schema, str) or schema.upper() not in SCHEMAS:
        raise ValueError(f"schema must be one of IFC2X3, IFC4, IFC4X3; got {schema!r}")
    return SCHEMAS[schema.upper()]


# --------------------------------------------------------------------------- model state


@dataclasses.dataclass
class _Built:
    """One physical element and what the schedule and property sets need to know about it."""

    element: ifcopenshell.entity_instance
    storey: int  # 1-based; storeys + 1 is the roof level
    trade: str
    mark: str  # 构件编号, unique in the model
    zone: str  # 施工段
    concrete: str | None  # 混凝土强度等级 or None for non-concrete elements
    quantities: dict[str, tuple[str, float]]  # name -> (IfcQuantityXxx class, value)


@dataclasses.dataclass
class _Type:
    entity: ifcopenshell.entity_instance
    representation_map: ifcopenshell.entity_instance | None = None
    occurrences: list[ifcopenshell.entity_instance] = dataclasses.field(default_factory=list)
    usage: tuple[str, str, float] | None = None  # layer set usage (direction, sense, offset_mm)
    layer_set: ifcopenshell.entity_instance | None = None
    usage_elements: list[ifcopenshell.entity_instance] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class _Model:
    """Everything the builders share while one file is generated (never module-global)."""

    f: ifcopenshell.file
    storeys: int
    bays_x: int
    bays_y: int
    owner_history: ifcopenshell.entity_instance
    body: ifcopenshell.entity_instance
    axis: ifcopenshell.entity_instance
    directions: dict[tuple[float, float, float], ifcopenshell.entity_instance]
    identity: ifcopenshell.entity_instance
    rng: random.Random  # the only source of GlobalIds
    issued_guids: set[str] = dataclasses.field(default_factory=set)
    styles: dict[str, ifcopenshell.entity_instance] = dataclasses.field(default_factory=dict)
    materials: dict[str, ifcopenshell.entity_instance] = dataclasses.field(default_factory=dict)
    types: dict[str, _Type] = dataclasses.field(default_factory=dict)
    storey_entities: list[ifcopenshell.entity_instance] = dataclasses.field(default_factory=list)
    contained: dict[int, list[ifcopenshell.entity_instance]] = dataclasses.field(default_factory=dict)
    spaces: dict[int, list[ifcopenshell.entity_instance]] = dataclasses.field(default_factory=dict)
    built: list[_Built] = dataclasses.field(default_factory=list)
    shared_items: dict[str, list[ifcopenshell.entity_instance]] = dataclasses.field(default_factory=dict)
    attribute_names: dict[str, frozenset[str]] = dataclasses.field(default_factory=dict)

    def new_guid(self) -> str:
        guid = _compress_guid(self.rng.getrandbits(128))
        self.issued_guids.add(guid)
        return guid

    @property
    def is_ifc2x3(self) -> bool:
        return self.f.schema == "IFC2X3"

    @property
    def length_x_mm(self) -> float:
        return self.bays_x * BAY_X_MM

    def zone_at(self, x_mm: float) -> str:
        """施工段: the building is split into two pour zones at mid-length along X."""
        return "A区" if x_mm < self.length_x_mm / 2 else "B区"

    def direction(self, xyz: tuple[float, float, float]) -> ifcopenshell.entity_instance:
        if xyz not in self.directions:
            self.directions[xyz] = self.f.create_entity("IfcDirection", xyz)
        return self.directions[xyz]

    def has_attribute(self, ifc_class: str, name: str) -> bool:
        if ifc_class not in self.attribute_names:
            schema = ifcopenshell.ifcopenshell_wrapper.schema_by_name(self.f.schema_identifier)
            attributes = schema.declaration_by_name(ifc_class).all_attributes()
            self.attribute_names[ifc_class] = frozenset(a.name() for a in attributes)
        return name in self.attribute_names[ifc_class]


# --------------------------------------------------------------------------- low-level helpers
# Bulk occurrences (everything whose count grows with the floor area) are created with
# f.create_entity instead of ifcopenshell.api: measured on this machine, api.root.create_entity
# + geometry.edit_object_placement + type.assign_type + spatial.assign_container cost ≈1.5 ms
# per element and sequence.assign_product ≈8 ms per element at 2 000 elements (it scans all
# of a task's assignments), which would take well over ten minutes for 100 000 elements.
# The entities written are the same ones those api calls create.


def _root_entity(m: _Model, ifc_class: str, **attributes: Any) -> ifcopenshell.entity_instance:
    """An IfcRoot entity with a seeded GlobalId and the shared owner history."""
    return m.f.create_entity(ifc_class, GlobalId=m.new_guid(), OwnerHistory=m.owner_history, **attributes)


def _placement(
    m: _Model,
    relative_to: ifcopenshell.entity_instance | None,
    xyz_mm: tuple[float, float, float],
    x_dir: tuple[float, float, float] | None = None,
) -> ifcopenshell.entity_instance:
    """An IfcLocalPlacement at xyz_mm (Z up) whose local X axis points along x_dir."""
    point = m.f.create_entity("IfcCartesianPoint", tuple(float(c) for c in xyz_mm))
    if x_dir is None or x_dir == (1.0, 0.0, 0.0):
        axis_placement = m.f.create_entity("IfcAxis2Placement3D", point)
    else:
        axis_placement = m.f.create_entity(
            "IfcAxis2Placement3D", point, m.direction((0.0, 0.0, 1.0)), m.direction(x_dir)
        )
    return m.f.create_entity("IfcLocalPlacement", relative_to, axis_placement)


def _rectangle(
    m: _Model, x_mm: float, y_mm: float, centre_mm: tuple[float, float] = (0.0, 0.0), name: str | None = None
) -> ifcopenshell.entity_instance:
    """A rectangle profile of x_mm × y_mm centred on centre_mm (profile coordinates)."""
    position = m.f.create_entity(
        "IfcAxis2Placement2D",
        m.f.create_entity("IfcCartesianPoint", (float(centre_mm[0]), float(centre_mm[1]))),
    )
    return m.f.create_entity("IfcRectangleProfileDef", "AREA", name, position, float(x_mm), float(y_mm))


def _extrusion(
    m: _Model,
    profile: ifcopenshell.entity_instance,
    depth_mm: float,
    location_mm: tuple[float, float, float] = (0.0, 0.0, 0.0),
    axis: tuple[float, float, float] = (0.0, 0.0, 1.0),
    ref_direction: tuple[float, float, float] = (1.0, 0.0, 0.0),
) -> ifcopenshell.entity_instance:
    """An IfcExtrudedAreaSolid: profile in the XY plane of (axis, ref_direction), extruded along axis."""
    position = m.f.create_entity(
        "IfcAxis2Placement3D",
        m.f.create_entity("IfcCartesianPoint", tuple(float(c) for c in location_mm)),
        m.direction(axis),
        m.direction(ref_direction),
    )
    return m.f.create_entity(
        "IfcExtrudedAreaSolid", profile, position, m.direction((0.0, 0.0, 1.0)), float(depth_mm)
    )


# Profiles drawn in a vertical plane: (axis, ref_direction) such that profile X = local X
# and profile Y = local Z; the extrusion then runs along local -Y.
_VERTICAL_XZ = ((0.0, -1.0, 0.0), (1.0, 0.0, 0.0))


def _body(
    m: _Model, items: Sequence[ifcopenshell.entity_instance], kind: str = "SweptSolid"
) -> ifcopenshell.entity_instance:
    return m.f.create_entity("IfcShapeRepresentation", m.body, "Body", kind, list(items))


def _product_shape(
    m: _Model, representations: Sequence[ifcopenshell.entity_instance]
) -> ifcopenshell.entity_instance:
    return m.f.create_entity("IfcProductDefinitionShape", None, None, list(representations))


def _mapped_shape(m: _Model, type_key: str) -> ifcopenshell.entity_instance:
    """Per-occurrence mapped representation of the type's representation map."""
    item = m.f.create_entity("IfcMappedItem", m.types[type_key].representation_map, m.identity)
    return _product_shape(m, [_body(m, [item], "MappedRepresentation")])


def _shared_shape(m: _Model, key: str) -> ifcopenshell.entity_instance:
    """Per-occurrence representations whose geometry items are shared (same-sized elements).

    Representation items may be referenced by any number of representations, so equal
    walls, openings and spaces share one solid instead of repeating it.
    """
    body_items, axis_items = m.shared_items[key], m.shared_items.get(key + "/axis")
    representations = [_body(m, body_items)]
    if axis_items:
        representations.insert(
            0, m.f.create_entity("IfcShapeRepresentation", m.axis, "Axis", "Curve2D", axis_items)
        )
    return _product_shape(m, representations)


def _occurrence(
    m: _Model,
    ifc_class: str,
    name: str,
    placement: ifcopenshell.entity_instance,
    shape: ifcopenshell.entity_instance | None,
    **attributes: Any,
) -> ifcopenshell.entity_instance:
    """Create a product; attributes this schema lacks (e.g. PredefinedType in IFC2X3) are dropped."""
    values = {k: v for k, v in attributes.items() if v is not None and m.has_attribute(ifc_class, k)}
    return _root_entity(m, ifc_class, Name=name, ObjectPlacement=placement, Representation=shape, **values)


def _aggregate(
    m: _Model, whole: ifcopenshell.entity_instance, parts: Sequence[ifcopenshell.entity_instance]
) -> None:
    """IfcRelAggregates written directly: api.aggregate.assign_object merges parts through a
    Python set (so their order changes from run to run) and re-creates every part's placement;
    here placements are already relative to the whole, as IFC convention wants."""
    _root_entity(m, "IfcRelAggregates", RelatingObject=whole, RelatedObjects=list(parts))


def _record(
    m: _Model,
    element: ifcopenshell.entity_instance,
    *,
    storey: int,
    trade: str,
    mark: str,
    zone: str,
    concrete: str | None,
    quantities: dict[str, tuple[str, float]],
    type_key: str | None,
    contained: bool = True,
) -> None:
    """Register a physical element for typing, containment, property sets and scheduling."""
    element.Tag = mark
    if type_key is not None:
        m.types[type_key].occurrences.append(element)
        if m.types[type_key].usage is not None:
            m.types[type_key].usage_elements.append(element)
    if contained:
        m.contained.setdefault(storey, []).append(element)
    m.built.append(_Built(element, storey, trade, mark, zone, concrete, quantities))


def _axis_label_x(i: int) -> str:
    """Grid axes along X are numbered 1, 2, 3 …"""
    return str(i + 1)


# GB/T 50001 forbids I, O and Z as axis letters; beyond Y continue A1, B1 … (also per GB/T 50001).
_AXIS_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXY"


def _axis_label_y(j: int) -> str:
    letter, cycle = _AXIS_LETTERS[j % len(_AXIS_LETTERS)], j // len(_AXIS_LETTERS)
    return letter if cycle == 0 else f"{letter}{cycle}"


def _storey_name(k: int, storeys: int) -> str:
    return "RF" if k == storeys + 1 else f"{k}F"


def _column_concrete(k: int, storeys: int) -> str:
    return "C40" if k <= max(1, math.ceil(storeys * _STRENGTH_CHANGE_FRACTION)) else "C30"


# --------------------------------------------------------------------------- project setup


def _new_file(schema: str) -> ifcopenshell.file:
    f = ifcopenshell.api.project.create_file(version=schema)
    header = f.header
    header.file_name.name = "erji_twin_sample_building.ifc"
    header.file_name.time_stamp = AUTHORING_TIME.isoformat()
    header.file_name.author = ("Erji Twin sample_models",)
    header.file_name.organization = ("Erji Twin (二级孪生)",)
    header.file_name.originating_system = "Erji Twin sample_models generator"
    header.file_name.authorization = "none"
    return f


def _owner_history(f: ifcopenshell.file) -> ifcopenshell.entity_instance:
    """Create the user, application and the one fixed-time IfcOwnerHistory every root shares.

    ifcopenshell's default owner settings pick up the first IfcPersonAndOrganization and
    IfcApplication in the file (required for IFC2X3, where OwnerHistory is mandatory); the
    per-call histories the api then creates are merged into this one by _finalise_owners.
    """
    person = ifcopenshell.api.owner.add_person(
        f, identification="erji", family_name="Twin", given_name="Erji"
    )
    organisation = ifcopenshell.api.owner.add_organisation(
        f, identification="ERJI", name="Erji Twin 二级孪生"
    )
    user = ifcopenshell.api.owner.add_person_and_organisation(f, person=person, organisation=organisation)
    application = ifcopenshell.api.owner.add_application(
        f,
        application_developer=organisation,
        version="0.1.0",
        application_full_name="Erji Twin sample_models",
        application_identifier="erji-twin-sample-models",
    )
    timestamp = int(AUTHORING_TIME.timestamp())
    return f.create_entity(
        "IfcOwnerHistory",
        OwningUser=user,
        OwningApplication=application,
        State="READWRITE",
        ChangeAction="ADDED",
        LastModifiedDate=timestamp,
        LastModifyingUser=user,
        LastModifyingApplication=application,
        CreationDate=timestamp,
    )


def _setup_units_and_contexts(f: ifcopenshell.file) -> tuple[Any, Any, Any]:
    units = [
        ifcopenshell.api.unit.add_si_unit(f, unit_type="LENGTHUNIT", prefix="MILLI"),
        ifcopenshell.api.unit.add_si_unit(f, unit_type="AREAUNIT"),
        ifcopenshell.api.unit.add_si_unit(f, unit_type="VOLUMEUNIT"),
        ifcopenshell.api.unit.add_si_unit(f, unit_type="PLANEANGLEUNIT"),
        ifcopenshell.api.unit.add_si_unit(f, unit_type="MASSUNIT", prefix="KILO"),
        ifcopenshell.api.unit.add_si_unit(f, unit_type="TIMEUNIT"),
    ]
    assignment = ifcopenshell.api.unit.assign_unit(f, units=units)
    # assign_unit goes through a Python set (order varies per run); Units is an IFC SET.
    assignment.Units = sorted(assignment.Units, key=lambda u: u.id())
    model = ifcopenshell.api.context.add_context(f, context_type="Model")
    body = ifcopenshell.api.context.add_context(
        f, context_type="Model", context_identifier="Body", target_view="MODEL_VIEW", parent=model
    )
    axis = ifcopenshell.api.context.add_context(
        f, context_type="Model", context_identifier="Axis", target_view="GRAPH_VIEW", parent=model
    )
    return model, body, axis


def _dms(degrees: float) -> tuple[int, int, int, int]:
    """IfcCompoundPlaneAngleMeasure (degrees, minutes, seconds, millionths of a second)."""
    micro_seconds = round(abs(degrees) * 3600 * 1_000_000)
    sign = -1 if degrees < 0 else 1
    d, rest = divmod(micro_seconds, 3600 * 1_000_000)
    mnt, rest = divmod(rest, 60 * 1_000_000)
    s, us = divmod(rest, 1_000_000)
    return (sign * d, sign * mnt, sign * s, sign * us)


def _create_model(f: ifcopenshell.file, storeys: int, bays_x: int, bays_y: int, seed: int) -> _Model:
    owner_history = _owner_history(f)
    project = ifcopenshell.api.root.create_entity(f, ifc_class="IfcProject", name="示范项目 Demo Project")
    project.LongName = "二级孪生示范办公楼 Erji Twin demo office building"
    project.Phase = "施工图设计 Construction documents"
    _, body, axis = _setup_units_and_contexts(f)
    origin = f.create_entity("IfcCartesianPoint", (0.0, 0.0, 0.0))
    m = _Model(
        f=f,
        storeys=storeys,
        bays_x=bays_x,
        bays_y=bays_y,
        owner_history=owner_history,
        body=body,
        axis=axis,
        directions={},
        # one identity operator shared by every mapped item (occurrences carry the placement)
        identity=f.create_entity("IfcCartesianTransformationOperator3D", None, None, origin, 1.0, None),
        rng=random.Random(seed),
    )
    return m


def _create_spatial_structure(m: _Model) -> None:
    f = m.f
    project = f.by_type("IfcProject")[0]
    site = ifcopenshell.api.root.create_entity(f, ifc_class="IfcSite", name="武汉项目用地 Wuhan site")
    site.LongName = "湖北省武汉市 示范地块"
    site.RefLatitude = _dms(SITE_LATITUDE_DEG)
    site.RefLongitude = _dms(SITE_LONGITUDE_DEG)
    site.RefElevation = SITE_ELEVATION_M * 1000.0  # project length unit is mm
    site.ObjectPlacement = _placement(m, None, (0.0, 0.0, 0.0))
    building = ifcopenshell.api.root.create_entity(f, ifc_class="IfcBuilding", name="示范楼 Demo building")
    building.ObjectPlacement = _placement(m, site.ObjectPlacement, (0.0, 0.0, 0.0))
    building.BuildingAddress = f.create_entity(
        "IfcPostalAddress",
        Purpose="SITE",
        AddressLines=["示范路 1 号 No. 1 Demo Road"],
        Town="武汉市 Wuhan",
        Region="湖北省 Hubei",
        PostalCode="430000",
        Country="中国 China",
    )
    _aggregate(m, project, [site])
    _aggregate(m, site, [building])
    for k in range(1, m.storeys + 2):
        name = _storey_name(k, m.storeys)
        storey = ifcopenshell.api.root.create_entity(f, ifc_class="IfcBuildingStorey", name=name)
        storey.LongName = "屋面 Roof level" if k == m.storeys + 1 else f"{k}层 Storey {k}"
        storey.Elevation = (k - 1) * STOREY_HEIGHT_MM
        storey.ObjectPlacement = _placement(m, building.ObjectPlacement, (0.0, 0.0, storey.Elevation))
        m.storey_entities.append(storey)
    _aggregate(m, building, m.storey_entities)
    for entity in (site, building, *m.storey_entities):
        if m.is_ifc2x3 or m.has_attribute(entity.is_a(), "CompositionType"):
            entity.CompositionType = "ELEMENT"


# --------------------------------------------------------------------------- styles and materials

# name -> (red, green, blue, transparency)
_STYLES = {
    "concrete": ("混凝土灰 Concrete grey", (0.72, 0.72, 0.70), 0.0),
    "masonry": ("砌体 Masonry", (0.86, 0.84, 0.78), 0.0),
    "glass": ("玻璃蓝 Glass blue", (0.55, 0.75, 0.90), 0.6),
    "aluminium": ("铝合金 Aluminium", (0.60, 0.62, 0.65), 0.0),
    "timber": ("木材 Timber", (0.60, 0.42, 0.25), 0.0),
    "space": ("空间 Space", (0.85, 0.90, 0.95), 0.85),
}

# key -> (name, category, style key)
_MATERIALS = {
    "C30": ("混凝土 C30 Concrete C30", "concrete", "concrete"),
    "C40": ("混凝土 C40 Concrete C40", "concrete", "concrete"),
    "HRB400": ("钢筋 HRB400 Reinforcement", "steel", "concrete"),
    "AAC": ("蒸压加气混凝土砌块 B06 AAC block", "block", "masonry"),
    "aluminium": ("铝合金型材 Aluminium frame", "aluminium", "aluminium"),
    "glass": ("中空玻璃 Insulating glass", "glass", "glass"),
    "timber": ("木材 Timber", "wood", "timber"),
}


def _create_styles_and_materials(m: _Model) -> None:
    f = m.f
    for key, (name, rgb, transparency) in _STYLES.items():
        style = ifcopenshell.api.style.add_style(f, name=name)
        colour = {"Name": None, "Red": rgb[0], "Green": rgb[1], "Blue": rgb[2]}
        ifcopenshell.api.style.add_surface_style(
            f,
            style=style,
            ifc_class="IfcSurfaceStyleRendering",
            attributes={
                "SurfaceColour": colour,
                "Transparency": transparency,
                "ReflectanceMethod": "NOTDEFINED",
            },
        )
        m.styles[key] = style
    for key, (name, category, style_key) in _MATERIALS.items():
        # IFC2X3 materials have no Category attribute.
        material = ifcopenshell.api.material.add_material(
            f, name=name, category=None if m.is_ifc2x3 else category
        )
        ifcopenshell.api.style.assign_material_style(
            f, material=material, style=m.styles[style_key], context=m.body
        )
        m.materials[key] = material


def _constituent_set(m: _Model, name: str, parts: Sequence[tuple[str, str]]) -> ifcopenshell.entity_instance:
    """IfcMaterialConstituentSet (IFC4+) or IfcMaterialList (IFC2X3, which has no constituents)."""
    f = m.f
    if m.is_ifc2x3:
        material_list = ifcopenshell.api.material.add_material_set(f, name=name, set_type="IfcMaterialList")
        for _, material_key in parts:
            ifcopenshell.api.material.add_list_item(
                f, material_list=material_list, material=m.materials[material_key]
            )
        return material_list
    constituent_set = ifcopenshell.api.material.add_material_set(
        f, name=name, set_type="IfcMaterialConstituentSet"
    )
    for part_name, material_key in parts:
        ifcopenshell.api.material.add_constituent(
            f, constituent_set=constituent_set, material=m.materials[material_key], name=part_name
        )
    return constituent_set


def _layer_set(m: _Model, name: str, material_key: str, thickness_mm: float) -> ifcopenshell.entity_instance:
    layer_set = ifcopenshell.api.material.add_material_set(m.f, name=name, set_type="IfcMaterialLayerSet")
    layer = ifcopenshell.api.material.add_layer(m.f, layer_set=layer_set, material=m.materials[material_key])
    layer.LayerThickness = thickness_mm
    return layer_set


def _layer_usage(m: _Model, record: _Type) -> ifcopenshell.entity_instance:
    """The IfcMaterialLayerSetUsage shared by all occurrences of one wall or slab type.

    Created only for types that have occurrences: a usage must be associated to something.
    """
    assert record.usage is not None
    direction, sense, offset_mm = record.usage
    return m.f.create_entity("IfcMaterialLayerSetUsage", record.layer_set, direction, sense, float(offset_mm))


# --------------------------------------------------------------------------- classification

CLASSIFICATION_NAME = "GB/T 51269-2017"

# GB/T 51269-style codes.  Table 14 ("元素", elements) and table 12 ("按功能分建筑空间",
# spaces by function) follow the standard's structure (table number, then three two-digit
# levels), but the exact official codes were NOT verified against the published tables:
# treat them as plausible placeholders, stable for tests and rule-based linking.
_CLASSIFICATION_CODES = {
    "column": ("14-10.20.10", "现浇混凝土柱 Cast-in-place concrete column"),
    "beam": ("14-10.20.20", "现浇混凝土梁 Cast-in-place concrete beam"),
    "slab": ("14-10.20.30", "现浇混凝土楼板 Cast-in-place concrete floor slab"),
    "roof_slab": ("14-10.20.40", "现浇混凝土屋面板 Cast-in-place concrete roof slab"),
    "stair": ("14-10.40.10", "现浇混凝土楼梯 Cast-in-place concrete stair"),
    "flight": ("14-10.40.20", "楼梯梯段 Stair flight"),
    "landing": ("14-10.40.30", "楼梯休息平台 Stair landing"),
    "external_wall": ("14-20.10.10", "外墙 External wall"),
    "internal_wall": ("14-20.10.20", "内墙 Internal wall"),
    "parapet": ("14-20.10.30", "女儿墙 Parapet"),
    "window": ("14-20.30.10", "窗 Window"),
    "door": ("14-20.30.20", "门 Door"),
    "office": ("12-13.10.10", "办公室 Office"),
    "stairwell": ("12-31.20.10", "楼梯间 Stairwell"),
}


def _create_classification(m: _Model) -> ifcopenshell.entity_instance:
    f = m.f
    classification = ifcopenshell.api.classification.add_classification(f, classification=CLASSIFICATION_NAME)
    classification.Source = "中国建筑标准设计研究院 China Institute of Building Standard Design & Research"
    classification.Edition = "2017"
    if m.is_ifc2x3:
        classification.EditionDate = f.create_entity("IfcCalendarDate", 1, 10, 2017)
        # add_classification also associates the system itself with the project, which IFC2X3
        # does not allow (only references and notations may be associated); drop that link.
        for rel in f.by_type("IfcRelAssociatesClassification"):
            if rel.RelatingClassification == classification:
                f.remove(rel)
    else:
        classification.EditionDate = "2017-10-01"
        classification.Description = "建筑信息模型分类和编码标准 (GB/T 51269-style codes, not verified)"
    return classification


def _classify(
    m: _Model,
    classification: ifcopenshell.entity_instance,
    products: Sequence[ifcopenshell.entity_instance],
    code_key: str,
) -> None:
    identification, name = _CLASSIFICATION_CODES[code_key]
    ifcopenshell.api.classification.add_reference(
        m.f, products=list(products), identification=identification, name=name, classification=classification
    )


# --------------------------------------------------------------------------- types


def _add_type(
    m: _Model,
    key: str,
    ifc_class: str,
    predefined_type: str | None,
    name: str,
    *,
    representation: ifcopenshell.entity_instance | None,
    material: ifcopenshell.entity_instance,
    pset: tuple[str, dict[str, Any]],
    classification: ifcopenshell.entity_instance,
    code_key: str,
) -> _Type:
    f = m.f
    if m.is_ifc2x3:
        ifc_class = {"IfcWindowType": "IfcWindowStyle", "IfcDoorType": "IfcDoorStyle"}.get(
            ifc_class, ifc_class
        )
        if not m.has_attribute(ifc_class, "PredefinedType"):
            predefined_type = None
    entity = ifcopenshell.api.root.create_entity(
        f, ifc_class=ifc_class, predefined_type=predefined_type, name=name
    )
    if representation is not None:
        ifcopenshell.api.geometry.assign_representation(f, product=entity, representation=representation)
    ifcopenshell.api.material.assign_material(f, products=[entity], material=material)
    pset_entity = ifcopenshell.api.pset.add_pset(f, product=entity, name=pset[0])
    ifcopenshell.api.pset.edit_pset(f, pset=pset_entity, properties=pset[1])
    _classify(m, classification, [entity], code_key)
    record = _Type(entity, entity.RepresentationMaps[0] if representation is not None else None)
    m.types[key] = record
    return record


def _style_items(
    m: _Model, representation: ifcopenshell.entity_instance, style_key: str
) -> ifcopenshell.entity_instance:
    for item in representation.Items:
        ifcopenshell.api.style.assign_item_style(m.f, item=item, style=m.styles[style_key])
    return representation


def _column_types(m: _Model, classification: ifcopenshell.entity_instance) -> None:
    for key, grade in (("KZ1", "C40"), ("KZ2", "C30")):
        if key == "KZ2" and m.storeys == 1:
            continue  # a single storey uses only the lower-storey column grade
        profile = _rectangle(
            m, COLUMN_WIDTH_MM, COLUMN_WIDTH_MM, name=f"{COLUMN_WIDTH_MM:.0f}×{COLUMN_WIDTH_MM:.0f}"
        )
        representation = ifcopenshell.api.geometry.add_profile_representation(
            m.f, context=m.body, profile=profile, depth=STOREY_HEIGHT_MM / 1000, cardinal_point=5
        )
        _add_type(
            m,
            key,
            "IfcColumnType",
            "COLUMN",
            f"{key} 框架柱 600×600 {grade}",
            representation=_style_items(m, representation, "concrete"),
            material=_constituent_set(m, f"{key} {grade}+HRB400", (("混凝土", grade), ("钢筋", "HRB400"))),
            pset=("Pset_ColumnCommon", {"Reference": key, "IsExternal": False, "LoadBearing": True}),
            classification=classification,
            code_key="column",
        )


def _beam_representation(
    m: _Model, width_mm: float, depth_mm: float, length_mm: float
) -> ifcopenshell.entity_instance:
    """Beam along local +X from 0 to length_mm, top face at z = 0 (flush with the slab top)."""
    profile = _rectangle(
        m, width_mm, depth_mm, centre_mm=(0.0, -depth_mm / 2), name=f"{width_mm:.0f}×{depth_mm:.0f}"
    )
    solid = _extrusion(m, profile, length_mm, axis=(1.0, 0.0, 0.0), ref_direction=(0.0, 1.0, 0.0))
    return _style_items(m, _body(m, [solid]), "concrete")


def _beam_types(m: _Model, classification: ifcopenshell.entity_instance) -> None:
    for key, width, depth, length in (
        ("KL1", BEAM_X_WIDTH_MM, BEAM_X_DEPTH_MM, BAY_X_MM - COLUMN_WIDTH_MM),
        ("KL2", BEAM_Y_WIDTH_MM, BEAM_Y_DEPTH_MM, BAY_Y_MM - COLUMN_WIDTH_MM),
    ):
        direction = "X向" if key == "KL1" else "Y向"
        _add_type(
            m,
            key,
            "IfcBeamType",
            "BEAM",
            f"{key} 框架梁 {width:.0f}×{depth:.0f} C30 ({direction})",
            representation=_beam_representation(m, width, depth, length),
            material=_constituent_set(m, f"{key} C30+HRB400", (("混凝土", "C30"), ("钢筋", "HRB400"))),
            pset=("Pset_BeamCommon", {"Reference": key, "IsExternal": False, "LoadBearing": True}),
            classification=classification,
            code_key="beam",
        )


def _slab_types(m: _Model, classification: ifcopenshell.entity_instance) -> None:
    bay = [
        (0.0, 0.0),
        (BAY_X_MM / 1000, 0.0),
        (BAY_X_MM / 1000, BAY_Y_MM / 1000),
        (0.0, BAY_Y_MM / 1000),
        (0.0, 0.0),
    ]
    landing_width_m = (2 * FLIGHT_WIDTH_MM + FLIGHT_GAP_MM) / 1000
    landing = [(0.0, 0.0), (landing_width_m, 0.0), (landing_width_m, LANDING_DEPTH_MM / 1000)]
    landing += [(0.0, LANDING_DEPTH_MM / 1000), (0.0, 0.0)]
    for key, predefined, name, thickness, outline, code_key, external in (
        ("LB1", "FLOOR", "LB1 现浇楼板 120 C30", SLAB_THICKNESS_MM, bay, "slab", False),
        ("WB1", "ROOF", "WB1 现浇屋面板 150 C30", ROOF_SLAB_THICKNESS_MM, bay, "roof_slab", True),
        ("PT1", "LANDING", "PT1 楼梯休息平台 120 C30", SLAB_THICKNESS_MM, landing, "landing", False),
    ):
        # Slabs hang from their placement (the level of their top face) downwards.
        representation = ifcopenshell.api.geometry.add_slab_representation(
            m.f, context=m.body, depth=thickness / 1000, direction_sense="NEGATIVE", polyline=outline
        )
        layer_set = _layer_set(m, f"{key} C30 {thickness:.0f}", "C30", thickness)
        record = _add_type(
            m,
            key,
            "IfcSlabType",
            predefined,
            name,
            representation=_style_items(m, representation, "concrete"),
            material=layer_set,
            pset=("Pset_SlabCommon", {"Reference": key, "IsExternal": external, "LoadBearing": True}),
            classification=classification,
            code_key=code_key,
        )
        record.layer_set, record.usage = layer_set, ("AXIS3", "NEGATIVE", 0.0)


def _wall_types(m: _Model, classification: ifcopenshell.entity_instance) -> None:
    for key, predefined, name, material_key, external, code_key in (
        ("WQ1", "STANDARD", "WQ1 外墙 200 加气混凝土砌块", "AAC", True, "external_wall"),
        ("NQ1", "PARTITIONING", "NQ1 内墙 200 加气混凝土砌块", "AAC", False, "internal_wall"),
        ("NEQ1", "PARAPET", "NEQ1 女儿墙 200 C30", "C30", True, "parapet"),
    ):
        layer_set = _layer_set(m, f"{key} {material_key} 200", material_key, WALL_THICKNESS_MM)
        record = _add_type(
            m,
            key,
            "IfcWallType",
            predefined,
            name,
            representation=None,  # walls carry their own geometry (lengths differ), like exported models
            material=layer_set,
            pset=(
                "Pset_WallCommon",
                {"Reference": key, "IsExternal": external, "LoadBearing": key == "NEQ1"},
            ),
            classification=classification,
            code_key=code_key,
        )
        record.layer_set, record.usage = layer_set, ("AXIS2", "POSITIVE", -WALL_THICKNESS_MM / 2)


def _frame_and_panel(
    m: _Model,
    width_mm: float,
    height_mm: float,
    frame_depth_mm: float,
    frame_width_mm: float,
    panel_thickness_mm: float,
    styles: tuple[str, str],
) -> ifcopenshell.entity_instance:
    """Window/door body: origin at the bottom-left corner on the wall's centre plane, X along
    the wall, Z up; a hollow frame and a panel (glass or leaf), both centred in the wall."""
    centre = (width_mm / 2, height_mm / 2)
    frame_profile = m.f.create_entity(
        "IfcRectangleHollowProfileDef",
        "AREA",
        None,
        m.f.create_entity("IfcAxis2Placement2D", m.f.create_entity("IfcCartesianPoint", centre)),
        width_mm,
        height_mm,
        frame_width_mm,
        None,
        None,
    )
    frame = _extrusion(m, frame_profile, frame_depth_mm, (0.0, frame_depth_mm / 2, 0.0), *_VERTICAL_XZ)
    panel_profile = _rectangle(m, width_mm - 2 * frame_width_mm, height_mm - 2 * frame_width_mm, centre)
    panel = _extrusion(
        m, panel_profile, panel_thickness_mm, (0.0, panel_thickness_mm / 2, 0.0), *_VERTICAL_XZ
    )
    representation = _body(m, [frame, panel])
    ifcopenshell.api.style.assign_item_style(m.f, item=frame, style=m.styles[styles[0]])
    ifcopenshell.api.style.assign_item_style(m.f, item=panel, style=m.styles[styles[1]])
    return representation


def _window_and_door_types(m: _Model, classification: ifcopenshell.entity_instance) -> None:
    window = _add_type(
        m,
        "C1815",
        "IfcWindowType",
        "WINDOW",
        "C1815 铝合金窗 1800×1500",
        representation=_frame_and_panel(
            m,
            WINDOW_WIDTH_MM,
            WINDOW_HEIGHT_MM,
            WINDOW_FRAME_DEPTH_MM,
            WINDOW_FRAME_WIDTH_MM,
            GLASS_THICKNESS_MM,
            ("aluminium", "glass"),
        ),
        material=_constituent_set(m, "C1815 铝合金+玻璃", (("Framing", "aluminium"), ("Glazing", "glass"))),
        pset=("Pset_WindowCommon", {"Reference": "C1815", "IsExternal": True, "ThermalTransmittance": 2.4}),
        classification=classification,
        code_key="window",
    )
    door = _add_type(
        m,
        "M1021",
        "IfcDoorType",
        "DOOR",
        "M1021 木门 1000×2100",
        representation=_frame_and_panel(
            m,
            DOOR_WIDTH_MM,
            DOOR_HEIGHT_MM,
            DOOR_FRAME_DEPTH_MM,
            DOOR_FRAME_WIDTH_MM,
            DOOR_LEAF_THICKNESS_MM,
            ("timber", "timber"),
        ),
        material=m.materials["timber"],
        pset=("Pset_DoorCommon", {"Reference": "M1021", "IsExternal": False, "FireRating": "乙级 B"}),
        classification=classification,
        code_key="door",
    )
    if m.is_ifc2x3:
        for style, operation in ((window.entity, "SINGLE_PANEL"), (door.entity, "SINGLE_SWING_LEFT")):
            style.ConstructionType = "ALUMINIUM" if style.is_a("IfcWindowStyle") else "WOOD"
            style.OperationType = operation
    else:
        window.entity.PartitioningType = "SINGLE_PANEL"
        door.entity.OperationType = "SINGLE_SWING_LEFT"


def _flight_profile_points() -> list[tuple[float, float]]:
    """Saw-tooth section of one flight in its XZ plane (mm): run along X, rise along Z.

    The last riser ends at landing level and the flight runs FLIGHT_BEARING_MM into the
    landing it is cast with; the soffit is parallel to the pitch line.
    """
    rise, going = STOREY_HEIGHT_MM / (2 * RISERS_PER_FLIGHT), TREAD_LENGTH_MM
    points: list[tuple[float, float]] = [(0.0, 0.0)]
    for i in range(RISERS_PER_FLIGHT):
        points.append((i * going, (i + 1) * rise))
        end_x = (i + 1) * going if i < RISERS_PER_FLIGHT - 1 else i * going + FLIGHT_BEARING_MM
        points.append((end_x, (i + 1) * rise))
    top_x, top_z = points[-1]
    bottom_z = top_z - FLIGHT_LANDING_THICKNESS_MM
    points.append((top_x, bottom_z))
    points.append((top_x - bottom_z * going / rise, 0.0))
    return points


def _flight_profile(m: _Model) -> ifcopenshell.entity_instance:
    points = _flight_profile_points()
    points.append(points[0])  # IfcPolyline profiles are closed explicitly
    polyline = m.f.create_entity("IfcPolyline", [m.f.create_entity("IfcCartesianPoint", p) for p in points])
    return m.f.create_entity("IfcArbitraryClosedProfileDef", "AREA", "TB1", polyline)


def _stair_types(m: _Model, classification: ifcopenshell.entity_instance) -> None:
    # The flight spans local y ∈ [0, FLIGHT_WIDTH_MM] (extruded along -Y from y = width).
    solid = _extrusion(m, _flight_profile(m), FLIGHT_WIDTH_MM, (0.0, FLIGHT_WIDTH_MM, 0.0), *_VERTICAL_XZ)
    rise = STOREY_HEIGHT_MM / (2 * RISERS_PER_FLIGHT)
    _add_type(
        m,
        "TB1",
        "IfcStairFlightType",
        "STRAIGHT",
        f"TB1 梯段 {FLIGHT_WIDTH_MM:.0f}宽 {RISERS_PER_FLIGHT}级 C30",
        representation=_style_items(m, _body(m, [solid]), "concrete"),
        material=m.materials["C30"],
        pset=(
            "Pset_StairFlightCommon",
            {
                "Reference": "TB1",
                "NumberOfRiser": RISERS_PER_FLIGHT,
                "RiserHeight": rise,
                "TreadLength": TREAD_LENGTH_MM,
            },
        ),
        classification=classification,
        code_key="flight",
    )
    if m.is_ifc2x3:
        return  # IFC2X3 has no IfcStairType; _classify_untyped_stairs classifies occurrences
    _add_type(
        m,
        "LT1",
        "IfcStairType",
        "HALF_TURN_STAIR",
        "LT1 双跑楼梯 Half-turn stair",
        representation=None,
        material=m.materials["C30"],
        pset=("Pset_StairCommon", {"Reference": "LT1", "IsExternal": False, "FireExit": True}),
        classification=classification,
        code_key="stair",
    )


def _space_types(m: _Model, classification: ifcopenshell.entity_instance) -> None:
    for key, name, code_key in (
        ("SP-OFFICE", "办公室 Office", "office"),
        ("SP-STAIR", "楼梯间 Stairwell", "stairwell"),
    ):
        entity = ifcopenshell.api.root.create_entity(
            m.f, ifc_class="IfcSpaceType", predefined_type="SPACE", name=name
        )
        pset = ifcopenshell.api.pset.add_pset(m.f, product=entity, name="Pset_SpaceCommon")
        ifcopenshell.api.pset.edit_pset(m.f, pset=pset, properties={"Reference": key, "IsExternal": False})
        _classify(m, classification, [entity], code_key)
        m.types[key] = _Type(entity)


def _classify_untyped_stairs(m: _Model, classification: ifcopenshell.entity_instance) -> None:
    """Without a stair type (IFC2X3) the stair occurrences carry the classification."""
    if "LT1" not in m.types:
        _classify(m, classification, m.f.by_type("IfcStair"), "stair")


def _create_types(m: _Model, classification: ifcopenshell.entity_instance) -> None:
    _column_types(m, classification)
    _beam_types(m, classification)
    _slab_types(m, classification)
    _wall_types(m, classification)
    _window_and_door_types(m, classification)
    _stair_types(m, classification)
    _space_types(m, classification)


# --------------------------------------------------------------------------- shared geometry


def _create_shared_items(m: _Model) -> None:
    """Solids shared by equal walls, openings and spaces (see _shared_shape)."""
    t, c = WALL_THICKNESS_MM, OPENING_CLEARANCE_MM
    clear_x, clear_y = BAY_X_MM - COLUMN_WIDTH_MM, BAY_Y_MM - COLUMN_WIDTH_MM
    walls = {
        # key: (length, height, material style)
        "wall_x": (clear_x, STOREY_HEIGHT_MM - BEAM_X_DEPTH_MM, "masonry"),
        "wall_y": (clear_y, STOREY_HEIGHT_MM - BEAM_Y_DEPTH_MM, "masonry"),
        "parapet_x": (BAY_X_MM, PARAPET_HEIGHT_MM, "concrete"),
        "parapet_y": (BAY_Y_MM, PARAPET_HEIGHT_MM, "concrete"),
    }
    for key, (length, height, style_key) in walls.items():
        # Walls run along local +X from their placement, centred on the grid line.
        representation = ifcopenshell.api.geometry.add_wall_representation(
            m.f,
            context=m.body,
            length=length / 1000,
            height=height / 1000,
            thickness=t / 1000,
            offset=-t / 2000,
        )
        m.shared_items[key] = list(_style_items(m, representation, style_key).Items)
        m.f.remove(representation)
        axis = ifcopenshell.api.geometry.add_axis_representation(
            m.f, context=m.axis, axis=((0.0, 0.0), (length / 1000, 0.0))
        )
        m.shared_items[key + "/axis"] = list(axis.Items)
        m.f.remove(axis)
    for key, width, height in (
        ("window_opening", WINDOW_WIDTH_MM, WINDOW_HEIGHT_MM),
        ("door_opening", DOOR_WIDTH_MM, DOOR_HEIGHT_MM),
    ):
        # Opening origin = filling origin: bottom-left corner on the wall's centre plane.
        profile = _rectangle(m, width, height, (width / 2, height / 2))
        m.shared_items[key] = [_extrusion(m, profile, t + 2 * c, (0.0, t / 2 + c, 0.0), *_VERTICAL_XZ)]
    well_x = 2 * FLIGHT_WIDTH_MM + FLIGHT_GAP_MM
    well_y = (RISERS_PER_FLIGHT - 1) * TREAD_LENGTH_MM
    well_profile = _rectangle(m, well_x, well_y, (well_x / 2, well_y / 2))
    depth = ROOF_SLAB_THICKNESS_MM + 2 * c
    m.shared_items["stairwell_opening"] = [
        _extrusion(m, well_profile, depth, (0.0, 0.0, -ROOF_SLAB_THICKNESS_MM - c))
    ]
    space_x, space_y = BAY_X_MM - 2 * SPACE_INSET_MM, BAY_Y_MM - 2 * SPACE_INSET_MM
    space_profile = _rectangle(m, space_x, space_y, (space_x / 2, space_y / 2))
    space = _extrusion(m, space_profile, STOREY_HEIGHT_MM - SLAB_THICKNESS_MM)
    ifcopenshell.api.style.assign_item_style(m.f, item=space, style=m.styles["space"])
    m.shared_items["space"] = [space]


# --------------------------------------------------------------------------- building parts


def _add_columns(m: _Model, k: int) -> None:
    storey = m.storey_entities[k - 1]
    type_key = "KZ1" if _column_concrete(k, m.storeys) == "C40" or "KZ2" not in m.types else "KZ2"
    grade = _column_concrete(k, m.storeys)
    section_m2 = (COLUMN_WIDTH_MM / 1000) ** 2
    for i in range(m.bays_x + 1):
        for j in range(m.bays_y + 1):
            x, y = i * BAY_X_MM, j * BAY_Y_MM
            axis = f"{_axis_label_x(i)}/{_axis_label_y(j)}"
            column = _occurrence(
                m,
                "IfcColumn",
                f"{type_key} {axis}",
                _placement(m, storey.ObjectPlacement, (x, y, 0.0)),
                _mapped_shape(m, type_key),
                PredefinedType="COLUMN",
            )
            _record(
                m,
                column,
                storey=k,
                trade="columns",
                mark=f"{k}F-{type_key}-{axis}",
                zone=m.zone_at(x),
                concrete=grade,
                type_key=type_key,
                quantities={
                    "Length": ("IfcQuantityLength", STOREY_HEIGHT_MM),
                    "CrossSectionArea": ("IfcQuantityArea", section_m2),
                    "NetVolume": ("IfcQuantityVolume", section_m2 * STOREY_HEIGHT_MM / 1000),
                },
            )


def _add_beams(m: _Model, k: int) -> None:
    storey = m.storey_entities[k - 1]
    half = COLUMN_WIDTH_MM / 2
    beams = []  # (type key, start (x, y) at the column face, direction, axis label)
    for j in range(m.bays_y + 1):
        for i in range(m.bays_x):
            label = f"{_axis_label_x(i)}-{_axis_label_x(i + 1)}/{_axis_label_y(j)}"
            beams.append(("KL1", (i * BAY_X_MM + half, j * BAY_Y_MM), (1.0, 0.0, 0.0), label))
    for i in range(m.bays_x + 1):
        for j in range(m.bays_y):
            label = f"{_axis_label_x(i)}/{_axis_label_y(j)}-{_axis_label_y(j + 1)}"
            beams.append(("KL2", (i * BAY_X_MM, j * BAY_Y_MM + half), (0.0, 1.0, 0.0), label))
    for type_key, (x, y), direction, label in beams:
        width, depth, span = (
            (BEAM_X_WIDTH_MM, BEAM_X_DEPTH_MM, BAY_X_MM)
            if type_key == "KL1"
            else (BEAM_Y_WIDTH_MM, BEAM_Y_DEPTH_MM, BAY_Y_MM)
        )
        length = span - COLUMN_WIDTH_MM
        beam = _occurrence(
            m,
            "IfcBeam",
            f"{type_key} {label}",
            _placement(m, storey.ObjectPlacement, (x, y, STOREY_HEIGHT_MM), direction),
            _mapped_shape(m, type_key),
            PredefinedType="BEAM",
        )
        section_m2 = width * depth / 1e6
        _record(
            m,
            beam,
            storey=k,
            trade="beams_slabs",
            mark=f"{k}F-{type_key}-{label}",
            zone=m.zone_at(x + direction[0] * length / 2),
            concrete="C30",
            type_key=type_key,
            quantities={
                "Length": ("IfcQuantityLength", length),
                "CrossSectionArea": ("IfcQuantityArea", section_m2),
                "NetVolume": ("IfcQuantityVolume", section_m2 * length / 1000),
            },
        )


def _add_slabs(m: _Model, k: int) -> None:
    storey = m.storey_entities[k - 1]
    is_roof = k == m.storeys
    type_key = "WB1" if is_roof else "LB1"
    thickness = ROOF_SLAB_THICKNESS_MM if is_roof else SLAB_THICKNESS_MM
    area_m2 = BAY_X_MM * BAY_Y_MM / 1e6
    for i in range(m.bays_x):
        for j in range(m.bays_y):
            label = f"{_axis_label_x(i)}-{_axis_label_x(i + 1)}/{_axis_label_y(j)}-{_axis_label_y(j + 1)}"
            x, y = i * BAY_X_MM, j * BAY_Y_MM
            slab = _occurrence(
                m,
                "IfcSlab",
                f"{type_key} {label}",
                _placement(m, storey.ObjectPlacement, (x, y, STOREY_HEIGHT_MM)),
                _mapped_shape(m, type_key),
                PredefinedType="ROOF" if is_roof else "FLOOR",
            )
            net_area = area_m2
            if i == 0 and j == 0:
                net_area -= _add_stairwell_opening(m, slab, k)
            _record(
                m,
                slab,
                storey=k,
                trade="beams_slabs",
                mark=f"{k}F-{type_key}-{label}",
                zone=m.zone_at(x + BAY_X_MM / 2),
                concrete="C30",
                type_key=type_key,
                quantities={
                    "Width": ("IfcQuantityLength", thickness),
                    "Perimeter": ("IfcQuantityLength", 2 * (BAY_X_MM + BAY_Y_MM)),
                    "NetArea": ("IfcQuantityArea", net_area),
                    "NetVolume": ("IfcQuantityVolume", net_area * thickness / 1000),
                },
            )


def _add_opening(
    m: _Model,
    host: ifcopenshell.entity_instance,
    shape_key: str,
    xyz_mm: tuple[float, float, float],
    name: str,
) -> ifcopenshell.entity_instance:
    """An IfcOpeningElement voiding host (what ifcopenshell.api.feature.add_feature creates)."""
    opening = _occurrence(
        m,
        "IfcOpeningElement",
        name,
        _placement(m, host.ObjectPlacement, xyz_mm),
        _shared_shape(m, shape_key),
        PredefinedType="OPENING",
    )
    _root_entity(
        m,
        "IfcRelVoidsElement",
        RelatingBuildingElement=host,
        RelatedOpeningElement=opening,
    )
    return opening


def _add_stairwell_opening(m: _Model, slab: ifcopenshell.entity_instance, k: int) -> float:
    """Cut the stairwell out of the stair bay's slab; returns the removed area in m².

    On the top storey this is the stair's roof access (the stair penthouse is not modelled).
    """
    _add_opening(
        m, slab, "stairwell_opening", (STAIR_ORIGIN_X_MM, STAIR_ORIGIN_Y_MM, 0.0), f"{k}F 楼梯洞口 Stairwell"
    )
    well_x = 2 * FLIGHT_WIDTH_MM + FLIGHT_GAP_MM
    return well_x * (RISERS_PER_FLIGHT - 1) * TREAD_LENGTH_MM / 1e6


def _wall_segments(m: _Model) -> list[tuple[str, tuple[float, float], tuple[float, float, float], str, str]]:
    """Infill walls of one storey: (wall kind, start, direction, axis label, filling)."""
    half = COLUMN_WIDTH_MM / 2
    segments = []
    for j in (0, m.bays_y):
        for i in range(m.bays_x):
            label = f"{_axis_label_x(i)}-{_axis_label_x(i + 1)}/{_axis_label_y(j)}"
            segments.append(("wall_x", (i * BAY_X_MM + half, j * BAY_Y_MM), (1.0, 0.0, 0.0), label, "window"))
    for i in (0, m.bays_x):
        for j in range(m.bays_y):
            label = f"{_axis_label_x(i)}/{_axis_label_y(j)}-{_axis_label_y(j + 1)}"
            segments.append(("wall_y", (i * BAY_X_MM, j * BAY_Y_MM + half), (0.0, 1.0, 0.0), label, "window"))
    for i in range(1, m.bays_x):
        for j in range(m.bays_y):
            label = f"{_axis_label_x(i)}/{_axis_label_y(j)}-{_axis_label_y(j + 1)}"
            segments.append(("wall_y", (i * BAY_X_MM, j * BAY_Y_MM + half), (0.0, 1.0, 0.0), label, "door"))
    return segments


def _wall_quantities(length: float, height: float, opening_area_m2: float) -> dict[str, tuple[str, float]]:
    side_m2 = length * height / 1e6 - opening_area_m2
    return {
        "Length": ("IfcQuantityLength", length),
        "Height": ("IfcQuantityLength", height),
        "Width": ("IfcQuantityLength", WALL_THICKNESS_MM),
        "NetSideArea": ("IfcQuantityArea", side_m2),
        "NetVolume": ("IfcQuantityVolume", side_m2 * WALL_THICKNESS_MM / 1000),
    }


def _add_walls_windows_doors(m: _Model, k: int) -> None:
    storey = m.storey_entities[k - 1]
    wall_class = "IfcWallStandardCase" if m.is_ifc2x3 else "IfcWall"
    for kind, (x, y), direction, label, filling in _wall_segments(m):
        external = filling == "window"
        type_key = "WQ1" if external else "NQ1"
        length = (BAY_X_MM if kind == "wall_x" else BAY_Y_MM) - COLUMN_WIDTH_MM
        height = STOREY_HEIGHT_MM - (BEAM_X_DEPTH_MM if kind == "wall_x" else BEAM_Y_DEPTH_MM)
        wall = _occurrence(
            m,
            wall_class,
            f"{type_key} {label}",
            _placement(m, storey.ObjectPlacement, (x, y, 0.0), direction),
            _shared_shape(m, kind),
            PredefinedType="STANDARD" if external else "PARTITIONING",
        )
        zone = m.zone_at(x + direction[0] * length / 2)
        if external:
            width, height_fill, sill = WINDOW_WIDTH_MM, WINDOW_HEIGHT_MM, WINDOW_SILL_MM
            along = (length - width) / 2
        else:
            width, height_fill, sill = DOOR_WIDTH_MM, DOOR_HEIGHT_MM, 0.0
            along = DOOR_OFFSET_MM
        _record(
            m,
            wall,
            storey=k,
            trade="walls",
            mark=f"{k}F-{type_key}-{label}",
            zone=zone,
            concrete=None,
            type_key=type_key,
            quantities=_wall_quantities(length, height, width * height_fill / 1e6),
        )
        _add_filling(m, k, wall, filling, (along, 0.0, sill), label, zone)


def _add_filling(
    m: _Model,
    k: int,
    wall: ifcopenshell.entity_instance,
    filling: str,
    xyz_mm: tuple[float, float, float],
    label: str,
    zone: str,
) -> None:
    """An opening in wall filled by a window or door (what api.feature.add_filling creates)."""
    type_key, ifc_class = ("C1815", "IfcWindow") if filling == "window" else ("M1021", "IfcDoor")
    width, height = (
        (WINDOW_WIDTH_MM, WINDOW_HEIGHT_MM) if filling == "window" else (DOOR_WIDTH_MM, DOOR_HEIGHT_MM)
    )
    opening = _add_opening(m, wall, f"{filling}_opening", xyz_mm, f"{k}F {label} 洞口 Opening")
    element = _occurrence(
        m,
        ifc_class,
        f"{type_key} {label}",
        _placement(m, opening.ObjectPlacement, (0.0, 0.0, 0.0)),
        _mapped_shape(m, type_key),
        OverallWidth=width,
        OverallHeight=height,
        PredefinedType=filling.upper(),
        PartitioningType="SINGLE_PANEL" if filling == "window" else None,
        OperationType="SINGLE_SWING_LEFT" if filling == "door" else None,
    )
    _root_entity(
        m,
        "IfcRelFillsElement",
        RelatingOpeningElement=opening,
        RelatedBuildingElement=element,
    )
    _record(
        m,
        element,
        storey=k,
        trade="windows_doors",
        mark=f"{k}F-{type_key}-{label}",
        zone=zone,
        concrete=None,
        type_key=type_key,
        quantities={
            "Width": ("IfcQuantityLength", width),
            "Height": ("IfcQuantityLength", height),
            "Area": ("IfcQuantityArea", width * height / 1e6),
        },
    )


def _add_stair(m: _Model, k: int) -> None:
    """Half-turn stair in bay 1-2/A-B: flight up along +Y, landing, flight back along -Y."""
    storey = m.storey_entities[k - 1]
    stair = _occurrence(
        m,
        "IfcStair",
        f"LT1 {k}F",
        _placement(m, storey.ObjectPlacement, (0.0, 0.0, 0.0)),
        None,
        PredefinedType="HALF_TURN_STAIR",
        ShapeType="HALF_TURN_STAIR",
    )
    _record(
        m,
        stair,
        storey=k,
        trade="stairs",
        mark=f"{k}F-LT1",
        zone=m.zone_at(STAIR_ORIGIN_X_MM),
        concrete="C30",
        quantities={},
        type_key="LT1" if "LT1" in m.types else None,
    )
    _aggregate(m, stair, [*_add_flights(m, k, stair), _add_landing(m, k, stair)])


def _add_flights(
    m: _Model, k: int, stair: ifcopenshell.entity_instance
) -> list[ifcopenshell.entity_instance]:
    run = (RISERS_PER_FLIGHT - 1) * TREAD_LENGTH_MM
    x0, y0 = STAIR_ORIGIN_X_MM, STAIR_ORIGIN_Y_MM
    flights = (
        # local X = run direction; local Y = Z × X, so the flight width lies to its left.
        ((x0 + FLIGHT_WIDTH_MM, y0, 0.0), (0.0, 1.0, 0.0)),
        ((x0 + FLIGHT_WIDTH_MM + FLIGHT_GAP_MM, y0 + run, STOREY_HEIGHT_MM / 2), (0.0, -1.0, 0.0)),
    )
    quantities = {
        "Length": ("IfcQuantityLength", run),
        "NetVolume": ("IfcQuantityVolume", _flight_volume_m3()),
    }
    parts = []
    for n, (xyz, direction) in enumerate(flights, start=1):
        flight = _occurrence(
            m,
            "IfcStairFlight",
            f"TB1 {k}F-{n}",
            _placement(m, stair.ObjectPlacement, xyz, direction),
            _mapped_shape(m, "TB1"),
            PredefinedType="STRAIGHT",
            NumberOfRisers=RISERS_PER_FLIGHT,  # IFC4 name
            NumberOfRiser=RISERS_PER_FLIGHT,  # IFC2X3 name
            NumberOfTreads=RISERS_PER_FLIGHT - 1,
            RiserHeight=STOREY_HEIGHT_MM / (2 * RISERS_PER_FLIGHT),
            TreadLength=TREAD_LENGTH_MM,
        )
        _record(
            m,
            flight,
            storey=k,
            trade="stairs",
            mark=f"{k}F-TB1-{n}",
            zone=m.zone_at(STAIR_ORIGIN_X_MM),
            concrete="C30",
            quantities=quantities,
            type_key="TB1",
            contained=False,  # parts of the stair, which is the contained element
        )
        parts.append(flight)
    return parts


def _add_landing(m: _Model, k: int, stair: ifcopenshell.entity_instance) -> ifcopenshell.entity_instance:
    run = (RISERS_PER_FLIGHT - 1) * TREAD_LENGTH_MM
    xyz = (STAIR_ORIGIN_X_MM, STAIR_ORIGIN_Y_MM + run, STOREY_HEIGHT_MM / 2)
    landing = _occurrence(
        m,
        "IfcSlab",
        f"PT1 {k}F",
        _placement(m, stair.ObjectPlacement, xyz),
        _mapped_shape(m, "PT1"),
        PredefinedType="LANDING",
    )
    area_m2 = (2 * FLIGHT_WIDTH_MM + FLIGHT_GAP_MM) * LANDING_DEPTH_MM / 1e6
    _record(
        m,
        landing,
        storey=k,
        trade="stairs",
        mark=f"{k}F-PT1",
        zone=m.zone_at(STAIR_ORIGIN_X_MM),
        concrete="C30",
        quantities={
            "Width": ("IfcQuantityLength", SLAB_THICKNESS_MM),
            "NetArea": ("IfcQuantityArea", area_m2),
            "NetVolume": ("IfcQuantityVolume", area_m2 * SLAB_THICKNESS_MM / 1000),
        },
        type_key="PT1",
        contained=False,
    )
    return landing


def _flight_volume_m3() -> float:
    """Concrete volume of one flight: profile area (shoelace formula) × flight width."""
    points = _flight_profile_points()
    twice_area = sum(
        x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1], strict=True)
    )
    return abs(twice_area) / 2 * FLIGHT_WIDTH_MM / 1e9


def _add_spaces(m: _Model, k: int) -> None:
    storey = m.storey_entities[k - 1]
    height = STOREY_HEIGHT_MM - SLAB_THICKNESS_MM
    area_m2 = (BAY_X_MM - 2 * SPACE_INSET_MM) * (BAY_Y_MM - 2 * SPACE_INSET_MM) / 1e6
    spaces = m.spaces.setdefault(k, [])
    number = 0
    for j in range(m.bays_y):
        for i in range(m.bays_x):
            number += 1
            is_stair = i == 0 and j == 0
            type_key = "SP-STAIR" if is_stair else "SP-OFFICE"
            space = _occurrence(
                m,
                "IfcSpace",
                f"{k}{number:02d}" if number < 100 else f"{k}-{number}",
                _placement(
                    m,
                    storey.ObjectPlacement,
                    (i * BAY_X_MM + SPACE_INSET_MM, j * BAY_Y_MM + SPACE_INSET_MM, 0.0),
                ),
                _shared_shape(m, "space"),
                LongName="楼梯间 Stairwell" if is_stair else "办公室 Office",
                CompositionType="ELEMENT",
                InteriorOrExteriorSpace="INTERNAL",
                PredefinedType="SPACE",
            )
            m.types[type_key].occurrences.append(space)
            spaces.append(space)
            _add_quantities(
                m,
                space,
                _quantity_set_name(m, space),
                {
                    "Height": ("IfcQuantityLength", height),
                    "NetFloorArea": ("IfcQuantityArea", area_m2),
                    "NetVolume": ("IfcQuantityVolume", area_m2 * height / 1000),
                },
            )


def _add_parapets(m: _Model) -> None:
    k = m.storeys + 1
    roof = m.storey_entities[-1]
    wall_class = "IfcWallStandardCase" if m.is_ifc2x3 else "IfcWall"
    segments = []
    for j in (0, m.bays_y):
        for i in range(m.bays_x):
            label = f"{_axis_label_x(i)}-{_axis_label_x(i + 1)}/{_axis_label_y(j)}"
            segments.append(("parapet_x", (i * BAY_X_MM, j * BAY_Y_MM), (1.0, 0.0, 0.0), label, BAY_X_MM))
    for i in (0, m.bays_x):
        for j in range(m.bays_y):
            label = f"{_axis_label_x(i)}/{_axis_label_y(j)}-{_axis_label_y(j + 1)}"
            segments.append(("parapet_y", (i * BAY_X_MM, j * BAY_Y_MM), (0.0, 1.0, 0.0), label, BAY_Y_MM))
    for kind, (x, y), direction, label, length in segments:
        wall = _occurrence(
            m,
            wall_class,
            f"NEQ1 {label}",
            _placement(m, roof.ObjectPlacement, (x, y, 0.0), direction),
            _shared_shape(m, kind),
            PredefinedType="PARAPET",
        )
        _record(
            m,
            wall,
            storey=k,
            trade="parapets",
            mark=f"RF-NEQ1-{label}",
            zone=m.zone_at(x + direction[0] * length / 2),
            concrete="C30",
            type_key="NEQ1",
            quantities=_wall_quantities(length, PARAPET_HEIGHT_MM, 0.0),
        )


# --------------------------------------------------------------------------- relationships, psets


def _quantity_set_name(m: _Model, element: ifcopenshell.entity_instance) -> str:
    # IFC2X3 has no Qto_ templates; its implementer agreement names the set "BaseQuantities".
    if m.is_ifc2x3:
        return "BaseQuantities"
    ifc_class = element.is_a()
    return {"IfcStairFlight": "Qto_StairFlightBaseQuantities", "IfcStair": "Qto_StairBaseQuantities"}.get(
        ifc_class, f"Qto_{ifc_class[3:]}BaseQuantities"
    )


def _add_quantities(
    m: _Model, element: ifcopenshell.entity_instance, name: str, quantities: dict[str, tuple[str, float]]
) -> None:
    """An IfcElementQuantity: lengths in mm, areas in m², volumes in m³ (the project units)."""
    value_attribute = {
        "IfcQuantityLength": "LengthValue",
        "IfcQuantityArea": "AreaValue",
        "IfcQuantityVolume": "VolumeValue",
    }
    items = [
        m.f.create_entity(cls, Name=q_name, **{value_attribute[cls]: float(value)})
        for q_name, (cls, value) in quantities.items()
    ]
    qto = _root_entity(
        m, "IfcElementQuantity", Name=name, MethodOfMeasurement="GB 50854-2013 清单计量", Quantities=items
    )
    _root_entity(m, "IfcRelDefinesByProperties", RelatedObjects=[element], RelatingPropertyDefinition=qto)


def _add_construction_pset(m: _Model, built: _Built, storey_names: Sequence[str]) -> None:
    """施工信息: the per-element pset rule-based 4D linking keys on (zone, storey, mark)."""
    f = m.f
    values = {"构件编号": built.mark, "施工段": built.zone, "楼层": storey_names[built.storey - 1]}
    if built.concrete:
        values["混凝土强度等级"] = built.concrete
    properties = [
        f.create_entity("IfcPropertySingleValue", Name=name, NominalValue=f.create_entity("IfcLabel", value))
        for name, value in values.items()
    ]
    pset = _root_entity(m, "IfcPropertySet", Name="施工信息", HasProperties=properties)
    _root_entity(
        m, "IfcRelDefinesByProperties", RelatedObjects=[built.element], RelatingPropertyDefinition=pset
    )


def _create_relationships(m: _Model) -> None:
    """Containment, typing, material usage, quantities and per-element psets, in bulk."""
    for k, elements in sorted(m.contained.items()):
        _root_entity(
            m,
            "IfcRelContainedInSpatialStructure",
            Name=f"{_storey_name(k, m.storeys)} 构件",
            RelatedElements=elements,
            RelatingStructure=m.storey_entities[k - 1],
        )
    for k, spaces in sorted(m.spaces.items()):
        _root_entity(m, "IfcRelAggregates", RelatingObject=m.storey_entities[k - 1], RelatedObjects=spaces)
    for record in m.types.values():
        if record.occurrences:
            _root_entity(
                m, "IfcRelDefinesByType", RelatedObjects=record.occurrences, RelatingType=record.entity
            )
        if record.usage is not None and record.usage_elements:
            usage = _layer_usage(m, record)
            _root_entity(
                m, "IfcRelAssociatesMaterial", RelatedObjects=record.usage_elements, RelatingMaterial=usage
            )
    storey_names = [_storey_name(k, m.storeys) for k in range(1, m.storeys + 2)]
    for built in m.built:
        if built.quantities:
            _add_quantities(m, built.element, _quantity_set_name(m, built.element), built.quantities)
        _add_construction_pset(m, built, storey_names)


# --------------------------------------------------------------------------- georeferencing


def _add_georeferencing(m: _Model) -> None:
    """Map the project origin to EPSG:4547; project axes are aligned with grid north."""
    f = m.f
    ifcopenshell.api.georeference.add_georeferencing(f, ifc_class="IfcMapConversion", name=CRS_NAME)
    crs = {
        "Name": CRS_NAME,
        "Description": CRS_DESCRIPTION,
        "GeodeticDatum": "CGCS2000",
        "VerticalDatum": "1985国家高程基准 Yellow Sea 1985",
        "MapProjection": "Gauss-Kruger",
        "MapZone": "3-degree CM 114E",
    }
    # Map units are metres while the project is in millimetres: Scale converts mm -> m.
    # The Gauss-Krüger grid scale factor here (1.0000106) changes a 200 m building by 2 mm
    # and is deliberately left out.
    conversion = {
        "Eastings": SITE_EASTING_M,
        "Northings": SITE_NORTHING_M,
        "OrthogonalHeight": SITE_ELEVATION_M,
        "XAxisAbscissa": 1.0,
        "XAxisOrdinate": 0.0,
        "Scale": 0.001,
    }
    if m.is_ifc2x3:
        _georeference_ifc2x3(m, crs, conversion)
    else:
        crs["MapUnit"] = f.create_entity("IfcSIUnit", UnitType="LENGTHUNIT", Name="METRE")
        ifcopenshell.api.georeference.edit_georeferencing(
            f, coordinate_operation=conversion, projected_crs=crs
        )
    gamma = math.radians(GRID_CONVERGENCE_DEG)
    ifcopenshell.api.georeference.edit_true_north(f, true_north=(-math.sin(gamma), math.cos(gamma)))


def _georeference_ifc2x3(m: _Model, crs: dict[str, str], conversion: dict[str, float]) -> None:
    """IFC2X3 has no IfcMapConversion: the georeferencing guide's ePSet_MapConversion and
    ePSet_ProjectedCRS on IfcProject (created by api.georeference.add_georeferencing).

    api.georeference.edit_georeferencing converts values for IFC2X3 but then discards the
    conversion, so the psets are edited here with explicitly typed values.
    """
    f = m.f
    project = f.by_type("IfcProject")[0]
    psets = {d.RelatingPropertyDefinition.Name: d.RelatingPropertyDefinition for d in project.IsDefinedBy}
    typed_crs = {k: f.create_entity("IfcLabel", v) for k, v in crs.items()}
    typed_crs["MapUnit"] = f.create_entity("IfcLabel", "METRE")
    ifcopenshell.api.pset.edit_pset(f, pset=psets["ePSet_ProjectedCRS"], properties=typed_crs)
    typed_conversion = {
        k: f.create_entity(
            "IfcReal" if k in ("XAxisAbscissa", "XAxisOrdinate", "Scale") else "IfcLengthMeasure", v
        )
        for k, v in conversion.items()
    }
    ifcopenshell.api.pset.edit_pset(f, pset=psets["ePSet_MapConversion"], properties=typed_conversion)


# --------------------------------------------------------------------------- schedule


@dataclasses.dataclass
class _PlannedTask:
    key: str
    name: str
    parent: str | None
    duration_days: int = 0  # working days; 0 for milestones and summaries (computed)
    predecessors: tuple[tuple[str, int], ...] = ()  # (task key, lag in working days), FINISH_START
    milestone: bool = False
    wbs: str = ""
    start: datetime.datetime | None = None
    finish: datetime.datetime | None = None
    first_day: int = 0  # working-day indices from the schedule start
    last_day: int = 0


def _working_date(start_date: datetime.date, index: int) -> datetime.date:
    """The index-th working day (0-based) on or after start_date, Sundays off."""
    day = start_date
    while day.isoweekday() not in WORKING_WEEKDAYS:
        day += datetime.timedelta(days=1)
    remaining = index
    while remaining > 0:
        day += datetime.timedelta(days=1)
        if day.isoweekday() in WORKING_WEEKDAYS:
            remaining -= 1
    return day


def _plan_tasks(storeys: int) -> list[_PlannedTask]:
    """The WBS (building → storey → trade) with FINISH_START links, in WBS order."""
    tasks = [_PlannedTask("building", "示范楼主体结构 Demo building superstructure", None)]
    tasks.append(_PlannedTask("start", "开工 Construction start", "building", milestone=True))
    for k in range(1, storeys + 1):
        tasks.append(_PlannedTask(f"S{k}", f"{k}F 主体结构 Storey {k}", "building"))
        for trade, name, days in _TRADES:
            if trade == "columns":
                after = (
                    (("start", 0),) if k == 1 else ((f"S{k - 1}/beams_slabs", _COLUMN_AFTER_SLAB_LAG_DAYS),)
                )
            elif trade == "beams_slabs":
                after = ((f"S{k}/columns", 0),)
            elif trade == "walls":
                after = ((f"S{k}/beams_slabs", _WALL_AFTER_SLAB_LAG_DAYS),)
            elif trade == "windows_doors":
                after = ((f"S{k}/walls", 0),)
            else:  # stairs are cast once the slab they land on is poured
                after = ((f"S{k}/beams_slabs", 0),)
            tasks.append(_PlannedTask(f"S{k}/{trade}", f"{k}F {name}", f"S{k}", days, after))
    roof_after = ((f"S{storeys}/beams_slabs", _WALL_AFTER_SLAB_LAG_DAYS),)
    tasks.append(_PlannedTask("RF", "RF 屋面 Roof level", "building"))
    tasks.append(_PlannedTask("RF/parapets", "RF 女儿墙 Parapets", "RF", _PARAPET_DAYS, roof_after))
    tasks.append(
        _PlannedTask(
            "topping_out",
            "主体结构封顶 Topping out",
            "building",
            predecessors=((f"S{storeys}/beams_slabs", 0),),
            milestone=True,
        )
    )
    return tasks


def _schedule_tasks(tasks: list[_PlannedTask], start_date: datetime.date) -> None:
    """Forward pass on working-day indices, then roll dates up into the summary tasks."""
    by_key = {t.key: t for t in tasks}
    children: dict[str, list[_PlannedTask]] = {}
    for task in tasks:
        if task.parent:
            children.setdefault(task.parent, []).append(task)
    for task in tasks:  # tasks are listed after their predecessors
        if task.key in children:
            continue
        if task.milestone:
            # A start milestone sits at day 0; others at the finish of their predecessor.
            day = max((by_key[p].last_day for p, _ in task.predecessors), default=0)
            task.first_day = task.last_day = day
            at_start = not task.predecessors
            when = WORKDAY_START if at_start else WORKDAY_FINISH
            task.start = task.finish = datetime.datetime.combine(_working_date(start_date, day), when)
            continue
        first = 0
        for key, lag in task.predecessors:
            predecessor = by_key[key]
            first = max(
                first,
                predecessor.first_day + lag if predecessor.milestone else predecessor.last_day + 1 + lag,
            )
        task.first_day, task.last_day = first, first + task.duration_days - 1
        task.start = datetime.datetime.combine(_working_date(start_date, task.first_day), WORKDAY_START)
        task.finish = datetime.datetime.combine(_working_date(start_date, task.last_day), WORKDAY_FINISH)
    for task in reversed(tasks):  # children come after their parent, so reversed rolls up
        if task.key in children:
            kids = children[task.key]
            task.first_day = min(c.first_day for c in kids)
            task.last_day = max(c.last_day for c in kids)
            task.start = min(c.start for c in kids if c.start)
            task.finish = max(c.finish for c in kids if c.finish)
            task.duration_days = task.last_day - task.first_day + 1
    counters: dict[str | None, int] = {}
    for task in tasks:
        counters[task.parent] = counters.get(task.parent, 0) + 1
        task.wbs = (
            str(counters[task.parent])
            if task.parent is None
            else f"{by_key[task.parent].wbs}.{counters[task.parent]}"
        )


def _emit_schedule_ifc4(m: _Model, tasks: list[_PlannedTask], start_date: datetime.date) -> dict[str, Any]:
    f = m.f
    project_start = datetime.datetime.combine(start_date, WORKDAY_START)
    schedule = ifcopenshell.api.sequence.add_work_schedule(
        f,
        name="主体结构施工进度计划 Superstructure schedule",
        predefined_type="PLANNED",
        start_time=project_start,
    )
    schedule.CreationDate = AUTHORING_TIME.replace(tzinfo=None).isoformat()
    schedule.FinishTime = tasks[0].finish.isoformat()
    schedule.Purpose = "4D 施工模拟 4D construction simulation"
    calendar = _work_calendar(m)
    entities: dict[str, Any] = {}
    for task in tasks:
        parent = entities.get(task.parent) if task.parent else None
        entity = ifcopenshell.api.sequence.add_task(
            f,
            work_schedule=None if parent else schedule,
            parent_task=parent,
            name=task.name,
            identification=task.wbs,
            predefined_type="NOTDEFINED" if task.milestone else "CONSTRUCTION",
        )
        entity.Identification = task.wbs
        entity.IsMilestone = task.milestone
        entities[task.key] = entity
    ifcopenshell.api.control.assign_control(
        f, relating_control=calendar, related_objects=[entities["building"]]
    )
    _link_tasks_ifc4(m, tasks, entities)
    # Times come last: assign_sequence cascades (re-plans) the dates of tasks that already have
    # times, and edit_task_time re-derives them from the calendar; these are already planned.
    for task in tasks:
        task_time = ifcopenshell.api.sequence.add_task_time(f, task=entities[task.key])
        task_time.DurationType = "WORKTIME"
        task_time.ScheduleStart = ifcopenshell.util.date.datetime2ifc(task.start, "IfcDateTime")
        task_time.ScheduleFinish = ifcopenshell.util.date.datetime2ifc(task.finish, "IfcDateTime")
        task_time.ScheduleDuration = f"P{0 if task.milestone else task.duration_days}D"
    return entities


def _link_tasks_ifc4(m: _Model, tasks: list[_PlannedTask], entities: dict[str, Any]) -> None:
    f = m.f
    for task in tasks:
        for key, lag in task.predecessors:
            relation = ifcopenshell.api.sequence.assign_sequence(
                f,
                relating_process=entities[key],
                related_process=entities[task.key],
                sequence_type="FINISH_START",
            )
            if lag:
                ifcopenshell.api.sequence.assign_lag_time(
                    f, rel_sequence=relation, lag_value=f"P{lag}D", duration_type="WORKTIME"
                )


def _work_calendar(m: _Model) -> ifcopenshell.entity_instance:
    calendar = ifcopenshell.api.sequence.add_work_calendar(
        m.f, name="六天工作制 Six-day week", predefined_type="FIRSTSHIFT"
    )
    work_time = ifcopenshell.api.sequence.add_work_time(m.f, work_calendar=calendar, time_type="WorkingTimes")
    work_time.Name = "周一至周六 Mon–Sat"
    pattern = ifcopenshell.api.sequence.assign_recurrence_pattern(
        m.f, parent=work_time, recurrence_type="WEEKLY"
    )
    ifcopenshell.api.sequence.edit_recurrence_pattern(
        m.f, recurrence_pattern=pattern, attributes={"WeekdayComponent": list(WORKING_WEEKDAYS)}
    )
    pattern.TimePeriods = [
        m.f.create_entity("IfcTimePeriod", WORKDAY_START.isoformat(), WORKDAY_FINISH.isoformat())
    ]
    return calendar


def _ifc2x3_datetime(m: _Model, value: datetime.datetime) -> ifcopenshell.entity_instance:
    f = m.f
    date = f.create_entity("IfcCalendarDate", value.day, value.month, value.year)
    zone = f.create_entity("IfcCoordinatedUniversalTimeOffset", 8, None, "AHEAD")
    time = f.create_entity("IfcLocalTime", value.hour, value.minute, float(value.second), zone, None)
    return f.create_entity("IfcDateAndTime", date, time)


def _emit_schedule_ifc2x3(m: _Model, tasks: list[_PlannedTask], start_date: datetime.date) -> dict[str, Any]:
    """IFC2X3 scheduling entities, written directly: ifcopenshell.api.sequence targets IFC4
    (it sets IfcTask.Identification, which IFC2X3 lacks, and fails)."""
    f = m.f
    person = f.by_type("IfcPerson")[0]
    schedule = _root_entity(
        m,
        "IfcWorkSchedule",
        Name="主体结构施工进度计划 Superstructure schedule",
        Identifier="WS-01",
        CreationDate=_ifc2x3_datetime(m, AUTHORING_TIME.replace(tzinfo=None)),
        Creators=[person],
        Purpose="4D 施工模拟 4D construction simulation",
        StartTime=_ifc2x3_datetime(m, datetime.datetime.combine(start_date, WORKDAY_START)),
        FinishTime=_ifc2x3_datetime(m, tasks[0].finish),
        WorkControlType="PLANNED",
    )
    entities: dict[str, Any] = {}
    day_s = 8 * 3600.0  # IfcTimeMeasure is in seconds; one working day = 8 working hours
    for task in tasks:
        entity = _root_entity(m, "IfcTask", Name=task.name, TaskId=task.wbs, IsMilestone=task.milestone)
        time_control = _root_entity(
            m,
            "IfcScheduleTimeControl",
            Name=task.wbs,
            ScheduleStart=_ifc2x3_datetime(m, task.start),
            ScheduleFinish=_ifc2x3_datetime(m, task.finish),
            ScheduleDuration=(0 if task.milestone else task.duration_days) * day_s,
        )
        _root_entity(
            m,
            "IfcRelAssignsTasks",
            RelatedObjects=[entity],
            RelatingControl=schedule,
            TimeForTask=time_control,
        )
        entities[task.key] = entity
    children: dict[str, list[Any]] = {}
    for task in tasks:
        if task.parent:
            children.setdefault(task.parent, []).append(entities[task.key])
    for parent, kids in children.items():
        _root_entity(m, "IfcRelNests", RelatingObject=entities[parent], RelatedObjects=kids)
    for task in tasks:
        for key, lag in task.predecessors:
            _root_entity(
                m,
                "IfcRelSequence",
                RelatingProcess=entities[key],
                RelatedProcess=entities[task.key],
                TimeLag=lag * day_s,
                SequenceType="FINISH_START",
            )
    return entities


def _add_schedule(m: _Model, start_date: datetime.date) -> None:
    tasks = _plan_tasks(m.storeys)
    _schedule_tasks(tasks, start_date)
    emit = _emit_schedule_ifc2x3 if m.is_ifc2x3 else _emit_schedule_ifc4
    entities = emit(m, tasks, start_date)
    for built in m.built:
        key = f"RF/{built.trade}" if built.storey == m.storeys + 1 else f"S{built.storey}/{built.trade}"
        # What api.sequence.assign_product creates, one relationship per product.
        _root_entity(
            m, "IfcRelAssignsToProduct", RelatedObjects=[entities[key]], RelatingProduct=built.element
        )


# --------------------------------------------------------------------------- determinism

_GUID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_$"


def _compress_guid(value: int) -> str:
    """128-bit integer -> 22-character IFC GlobalId (same as ifcopenshell.guid.compress)."""
    chars = []
    for _ in range(22):
        value, digit = divmod(value, 64)
        chars.append(_GUID_ALPHABET[digit])
    return "".join(reversed(chars))


def _finalise_ids_and_owners(m: _Model) -> None:
    """Give the entities ifcopenshell.api created a seeded GlobalId and the shared owner history.

    The api assigns random GlobalIds and creates a timestamped IfcOwnerHistory per call;
    entity ids are deterministic, so renumbering those in id order makes the file reproducible.
    """
    for entity in sorted(m.f.by_type("IfcRoot"), key=lambda e: e.id()):
        if entity.GlobalId not in m.issued_guids:
            entity.GlobalId = m.new_guid()
            entity.OwnerHistory = m.owner_history
            if entity.is_a("IfcRelationship"):
                _sort_related(m, entity)
    for history in m.f.by_type("IfcOwnerHistory"):
        if history != m.owner_history:
            m.f.remove(history)


def _sort_related(m: _Model, rel: ifcopenshell.entity_instance) -> None:
    """Write the related side of an api-made relationship in id order.

    Several api calls (classification.add_reference, material.assign_material,
    project.assign_declaration …) merge into an existing relationship through a Python set,
    whose order varies between runs.  These attributes are unordered SETs in IFC — except
    IfcRelNests, whose LIST order means something and which the api keeps in call order.
    """
    if rel.is_a("IfcRelNests"):
        return
    for name in ("RelatedObjects", "RelatedDefinitions", "RelatedElements"):
        if m.has_attribute(rel.is_a(), name) and len(getattr(rel, name)) > 1:
            setattr(rel, name, sorted(getattr(rel, name), key=lambda e: e.id()))


# --------------------------------------------------------------------------- public API


def generate_building(
    *,
    storeys: int = 3,
    bays_x: int = 3,
    bays_y: int = 2,
    schema: str = "IFC4",
    with_schedule: bool = True,
    start_date: datetime.date = datetime.date(2025, 3, 3),
    seed: int = 0,
) -> ifcopenshell.file:
    """Build the sample RC office building in memory and return the ifcopenshell file.

    Args:
        storeys: structural storeys (1–200); a roof level with parapets is added on top.
        bays_x: bays along X, 8.4 m each (1–500).
        bays_y: bays along Y, 7.2 m each (1–500).
        schema: "IFC2X3", "IFC4" or "IFC4X3" (alias of IFC4X3_ADD2), case-insensitive.
        with_schedule: add the construction work schedule and link every physical element to
            exactly one leaf task (IfcRelAssignsToProduct).
        start_date: first planned working day (Sundays are skipped).
        seed: seeds the GlobalIds; nothing else depends on it.

    Returns:
        An ifcopenshell.file.  Same arguments → byte-identical output of ``file.write``.
        Class counts follow expected_counts(storeys, bays_x, bays_y).

    Raises:
        ValueError: for out-of-range or wrongly typed arguments.

    Example:
        >>> f = generate_building(storeys=1, bays_x=2, bays_y=1)
        >>> len(f.by_type("IfcColumn"))
        6
    """
    _check_layout(storeys, bays_x, bays_y)
    schema_id = normalise_schema(schema)
    if not isinstance(start_date, datetime.date) or isinstance(start_date, datetime.datetime):
        raise ValueError(f"start_date must be a datetime.date, got {start_date!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    f = _new_file(schema_id)
    m = _create_model(f, storeys, bays_x, bays_y, seed)
    _create_spatial_structure(m)
    _create_styles_and_materials(m)
    classification = _create_classification(m)
    _create_types(m, classification)
    _create_shared_items(m)
    for k in range(1, storeys + 1):
        _add_columns(m, k)
        _add_beams(m, k)
        _add_slabs(m, k)
        _add_walls_windows_doors(m, k)
        _add_stair(m, k)
        _add_spaces(m, k)
    _add_parapets(m)
    _classify_untyped_stairs(m, classification)
    _create_relationships(m)
    _add_georeferencing(m)
    if with_schedule:
        _add_schedule(m, start_date)
    _finalise_ids_and_owners(m)
    return f


def write_building(path: str | pathlib.Path, **options: Any) -> pathlib.Path:
    """Generate the building with generate_building(**options) and write it to path.

    Returns the path written; missing parent directories are created (as ifcopenshell's
    ``file.write`` does).  Raises ValueError for bad options and OSError if the file cannot
    be written.

    Example:
        >>> write_building("/tmp/demo.ifc", storeys=2, schema="IFC4X3")
        PosixPath('/tmp/demo.ifc')
    """
    target = pathlib.Path(path)
    model = generate_building(**options)
    try:
        model.write(str(target))
    except RuntimeError as error:  # ifcopenshell reports I/O failures as RuntimeError
        raise OSError(str(error)) from error
    return target


def iter_physical_elements(f: ifcopenshell.file) -> Iterable[ifcopenshell.entity_instance]:
    """The physical elements counted by element_count, in file order.

    Example:
        >>> sum(1 for _ in iter_physical_elements(generate_building(storeys=1))) == element_count(1, 3, 2)
        True
    """
    for ifc_class in _PHYSICAL_CLASSES:
        yield from f.by_type(ifc_class)
