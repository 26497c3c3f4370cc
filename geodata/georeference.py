"""Where a model's local engineering frame sits on the earth, and how to move points between frames.

Three frames, named in every argument and result:

* **local** — IFC project coordinates converted to metres by the caller (``x``, ``y``
  horizontal, ``z`` up): ``points_local_m``.
* **map** — the projected CRS :attr:`Georeference.crs`: ``(easting, northing)`` in that CRS's
  axis unit (metres for every grid used in China) and a height in metres.
* **wgs84** — ``(lon_deg, lat_deg[, h_m])`` on WGS-84 (EPSG:4326). ``h_m`` is the map height
  carried through unchanged (above the model's vertical datum); it is never converted to an
  ellipsoidal height, because no model states its geoid.

A :class:`Georeference` comes from the best source a model has (:func:`choose_georeference`):

1. ``IfcMapConversion`` + ``IfcProjectedCRS`` (:func:`from_map_conversion`): a Helmert
   transformation into a surveyed map grid. The maths is ``ifcopenshell.util.geolocation``'s
   ``xyz2enh`` / ``enh2xyz``, applied to whole numpy arrays at once.
2. ``IfcSite`` RefLatitude/RefLongitude (:func:`from_site_reference`) and
3. the project's site point known to the twin (:func:`from_point`): the local origin is put
   at that point on a transverse Mercator plane centred there, so local metres are ground
   metres, rotated by the model's TrueNorth.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, Literal

import numpy as np
import pyproj
from ifcopenshell.util import geolocation
from pyproj.exceptions import ProjError

from .crs import WGS84, crs_to_string, gauss_kruger_variant, resolve_crs, transformer
from .errors import GeodataError, InvalidGeoreferenceError

__all__ = [
    "Georeference",
    "GeoreferenceChoice",
    "Kind",
    "choose_from_record",
    "choose_georeference",
    "distance_m",
    "dms_to_degrees",
    "from_map_conversion",
    "from_point",
    "from_site_reference",
]

Kind = Literal["map_conversion", "site_reference", "project_site"]

#: How far (degrees) a map-conversion origin may lie outside its CRS's published area of use
#: before we call it misplaced. Area-of-use boxes are drawn tight around land (EPSG:4547 stops
#: at 112.5°E), and neighbouring Gauss-Krüger zones are routinely used across the edge.
AREA_OF_USE_MARGIN_DEG = 2.0

# A Scale within this factor of the units ratio is honoured as written: it may fold in a
# grid scale factor (0.9996 in UTM) or a surveyor's combined factor. Beyond it the Scale
# cannot be a unit conversion between these units and is an authoring slip.
_SCALE_TOLERANCE = 2.0

# What a bad source can raise while being read; choose_georeference turns these into warnings.
_UNUSABLE = (GeodataError, TypeError, ValueError, ProjError)

_NUMBER_FIELDS = (
    "eastings_m",
    "northings_m",
    "height_m",
    "x_axis_abscissa",
    "x_axis_ordinate",
    "scale",
    "factor_x",
    "factor_y",
    "factor_z",
    "map_unit_m",
)
_UNIT_NAMES = {1.0: "m", 0.001: "mm", 0.01: "cm", 0.1: "dm", 1000.0: "km", 0.3048: "ft", 0.0254: "in"}
_GEOD = pyproj.Geod(ellps="WGS84")


@dataclass(frozen=True, slots=True)
class Georeference:
    """How local engineering coordinates map to a projected CRS and to WGS-84.

    The transformation is IFC's map conversion, expressed in metres: a local point
    ``(x, y, z)`` (metres) goes to
    ``E = eastings_m + scale·(factor_x·cos θ·x − factor_y·sin θ·y)``,
    ``N = northings_m + scale·(factor_x·sin θ·x + factor_y·cos θ·y)``,
    ``H = height_m + scale·factor_z·z`` (metres), with ``θ = atan2(x_axis_ordinate,
    x_axis_abscissa)``, the direction of local +X in the map; ``E`` and ``N`` are then divided
    by ``map_unit_m`` to be in the CRS's unit.

    Attributes:
        kind: the source: ``"map_conversion"``, ``"site_reference"`` or ``"project_site"``.
        crs: the map CRS as ``"EPSG:nnnn"``, or a PROJ string (a Gauss-Krüger meridian EPSG
            lacks, or the transverse Mercator tangent plane of a site point).
        eastings_m, northings_m, height_m: the map position of the local origin, in metres.
        x_axis_abscissa, x_axis_ordinate: unit vector of local +X in map (east, north) axes.
        scale: local metres → map metres. 1.0 when the IFC Scale only converted units; the
            IFC Scale itself is ``scale × local_unit_m / map_unit_m``.
        factor_x, factor_y, factor_z: IfcMapConversionScaled factors (1.0 otherwise).
        map_unit_m: metres per axis unit of ``crs``.
        warnings: what was odd about the source data, in English, for the user.
    """

    kind: Kind
    crs: str
    eastings_m: float
    northings_m: float
    height_m: float
    x_axis_abscissa: float = 1.0
    x_axis_ordinate: float = 0.0
    scale: float = 1.0
    factor_x: float = 1.0
    factor_y: float = 1.0
    factor_z: float = 1.0
    map_unit_m: float = 1.0
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        numbers = {name: getattr(self, name) for name in _NUMBER_FIELDS}
        for name, value in numbers.items():
            if not math.isfinite(value):
                raise InvalidGeoreferenceError(f"Georeference {name} is {value}, not a finite number")
        for name in ("scale", "factor_x", "factor_y", "factor_z", "map_unit_m"):
            if numbers[name] <= 0:
                raise InvalidGeoreferenceError(f"Georeference {name} is {numbers[name]:g}, not positive")
        if math.hypot(self.x_axis_abscissa, self.x_axis_ordinate) == 0:
            raise InvalidGeoreferenceError("Georeference x axis (0, 0) has no direction")

    @property
    def rotation_deg(self) -> float:
        """Angle from map east to local +X, anticlockwise, in degrees (−180, 180]."""
        return math.degrees(math.atan2(self.x_axis_ordinate, self.x_axis_abscissa))

    def local_to_map(self, points_local_m: np.ndarray) -> np.ndarray:
        """Map coordinates of local points: N×2 → (E, N), N×3 → (E, N, H_m); one point → one row.

        Example::

            >>> g = from_map_conversion(eastings=500000.0, northings=3375000.0,
            ...                         orthogonal_height=20.0, crs_name="EPSG:4547")
            >>> g.local_to_map([[10.0, 0.0, 1.0]]).tolist()
            [[500010.0, 3375000.0, 21.0]]
        """
        points, single = _as_points(points_local_m, "points_local_m")
        x, y = points[:, 0], points[:, 1]
        z = points[:, 2] if points.shape[1] == 3 else np.zeros_like(x)
        e_m, n_m, h_m = geolocation.xyz2enh(x, y, z, *self._helmert())
        result = np.column_stack((e_m / self.map_unit_m, n_m / self.map_unit_m, h_m))
        return _shaped(result[:, : points.shape[1]], single)

    def map_to_local(self, points_map: np.ndarray) -> np.ndarray:
        """Local metres of map points (E, N[, H_m]); the inverse of :meth:`local_to_map`."""
        points, single = _as_points(points_map, "points_map")
        e_m, n_m = points[:, 0] * self.map_unit_m, points[:, 1] * self.map_unit_m
        h_m = points[:, 2] if points.shape[1] == 3 else np.full_like(e_m, self.height_m)
        x, y, z = geolocation.enh2xyz(e_m, n_m, h_m, *self._helmert())
        result = np.column_stack((x, y, z))
        return _shaped(result[:, : points.shape[1]], single)

    def local_to_wgs84(self, points_local_m: np.ndarray) -> np.ndarray:
        """WGS-84 ``(lon_deg, lat_deg[, h_m])`` of local points (N×2 or N×3, or one point).

        Raises:
            InvalidGeoreferenceError: a point lands nowhere on the earth (the map conversion
                puts the model far outside its CRS).
        """
        mapped = self.local_to_map(points_local_m)
        rows, single = _as_points(mapped, "points")
        lon, lat = transformer(self.crs, WGS84).transform(rows[:, 0], rows[:, 1])
        result = np.column_stack((lon, lat, rows[:, 2:]))
        if not np.all(np.isfinite(result[:, :2])):
            raise InvalidGeoreferenceError(
                f"map coordinates {rows[~np.isfinite(result[:, :2]).all(axis=1)][0, :2].tolist()}"
                f" of {self.crs} correspond to no longitude/latitude"
            )
        return _shaped(result, single)

    def wgs84_to_local(self, points_wgs84: np.ndarray) -> np.ndarray:
        """Local metres of WGS-84 ``(lon_deg, lat_deg[, h_m])`` points; inverse of :meth:`local_to_wgs84`."""
        points, single = _as_points(points_wgs84, "points_wgs84")
        east, north = transformer(WGS84, self.crs).transform(points[:, 0], points[:, 1])
        return _shaped(self.map_to_local(np.column_stack((east, north, points[:, 2:]))), single)

    def origin_wgs84(self) -> tuple[float, float]:
        """``(lon_deg, lat_deg)`` of the local origin: where the model's pin goes on the map."""
        lon, lat = self.local_to_wgs84(np.zeros(2))
        return float(lon), float(lat)

    def with_warnings(self, *warnings: str) -> Georeference:
        """A copy with ``warnings`` appended (duplicates dropped, order kept)."""
        merged = tuple(dict.fromkeys((*self.warnings, *warnings)))
        return dataclasses.replace(self, warnings=merged)

    def _helmert(self) -> tuple[float, ...]:
        # Argument order of geolocation.xyz2enh / enh2xyz after the three coordinates.
        return (
            self.eastings_m,
            self.northings_m,
            self.height_m,
            self.x_axis_abscissa,
            self.x_axis_ordinate,
            self.scale,
            self.factor_x,
            self.factor_y,
            self.factor_z,
        )


@dataclass(frozen=True, slots=True)
class GeoreferenceChoice:
    """What :func:`choose_georeference` found: the georeference (None if nothing is usable) and why.

    ``warnings`` holds every problem met, best source first; when ``georeference`` is not
    None they are also its own ``warnings``. An empty ``warnings`` with no georeference means
    the model simply has no georeferencing data; the caller words that message.
    """

    georeference: Georeference | None
    warnings: tuple[str, ...] = ()

    @property
    def source(self) -> Kind | Literal["none"]:
        """The kind of the chosen georeference, or ``"none"``."""
        return self.georeference.kind if self.georeference is not None else "none"


# --------------------------------------------------------------------------- constructors


def from_map_conversion(
    *,
    eastings: float | None,
    northings: float | None,
    orthogonal_height: float | None,
    x_axis_abscissa: float | None = None,
    x_axis_ordinate: float | None = None,
    scale: float | None = None,
    factor_x: float | None = None,
    factor_y: float | None = None,
    factor_z: float | None = None,
    crs_name: str | None,
    crs_description: str | None = None,
    geodetic_datum: str | None = None,
    map_projection: str | None = None,
    map_zone: str | None = None,
    local_unit_m: float = 1.0,
    map_unit_m: float | None = None,
    model_center_local_m: Sequence[float] | None = None,
) -> Georeference:
    """Georeference from ``IfcMapConversion`` (or ``IfcMapConversionScaled``) values as written.

    Units follow IFC: ``eastings``, ``northings`` and ``orthogonal_height`` are in map units,
    and ``scale`` converts the project length unit to map units. ``local_unit_m`` is the
    project length unit in metres (0.001 for millimetres); ``map_unit_m`` is
    ``IfcProjectedCRS.MapUnit`` in metres, and when it is None the CRS's own axis unit is used
    (metres for EPSG grids: an easting of 529 299.86 is never millimetres).

    Lenient where exporters are known to slip, with a warning each time:

    * ``scale`` missing while the units differ: IFC says 1.0, which would make a millimetre
      model 1000 times too large; the units ratio is used instead (Revit writes no Scale).
    * ``scale`` off from the units ratio by more than a factor 2: the units ratio is used.
    * Gauss-Krüger eastings written with the zone number in front (38 529 299.86) while the
      CRS is the one without it (or the reverse): the matching EPSG variant is used.
    * the model outside the CRS's area of use: kept, flagged. The model's position is
      ``model_center_local_m`` (e.g. its bounding-box centre, local metres) if given, else the
      local origin: infrastructure models often keep map coordinates as local coordinates
      with Eastings = Northings = 0, and then only the centre tells where the model is.

    Raises:
        UnknownCRSError: no projected CRS is identified (see :func:`geodata.crs.resolve_crs`).
        InvalidGeoreferenceError: a missing or non-finite offset, a zero-length x axis, a
            scale, factor or unit that is not positive, or an origin off the earth.

    Example::

        >>> g = from_map_conversion(eastings=529299.86, northings=3385869.453,
        ...                         orthogonal_height=23.0, scale=0.001,
        ...                         crs_name="EPSG:4547", local_unit_m=0.001)
        >>> [round(v, 4) for v in g.origin_wgs84()]
        [114.3055, 30.5928]
    """
    what = "IfcMapConversion"
    offsets = {"Eastings": eastings, "Northings": northings, "OrthogonalHeight": orthogonal_height}
    for name, value in offsets.items():
        if value is None:
            raise InvalidGeoreferenceError(f"{what} {name} is missing")
        _require_finite(f"{what} {name}", value)
    _require_positive("the project length unit (local_unit_m)", local_unit_m)
    if map_unit_m is not None:
        _require_positive("IfcProjectedCRS MapUnit (map_unit_m)", map_unit_m)
    crs = resolve_crs(
        crs_name,
        description=crs_description,
        geodetic_datum=geodetic_datum,
        map_projection=map_projection,
        map_zone=map_zone,
        label="IfcProjectedCRS",
    )
    warnings: list[str] = []
    crs_unit_m = _axis_unit_m(crs)
    unit_m = crs_unit_m if map_unit_m is None else float(map_unit_m)
    if not math.isclose(unit_m, crs_unit_m, rel_tol=1e-6):
        warnings.append(
            f"IfcProjectedCRS MapUnit ({_unit(unit_m)}) differs from the unit of {_crs_label(crs)}"
            f" ({_unit(crs_unit_m)}); the map conversion offsets are read in {_unit(unit_m)}"
        )
    x_axis = _x_axis(x_axis_abscissa, x_axis_ordinate, what)
    ifc_scale = _effective_scale(scale, local_unit_m=local_unit_m, map_unit_m=unit_m, warnings=warnings)
    factors = []
    for name, value in (("FactorX", factor_x), ("FactorY", factor_y), ("FactorZ", factor_z)):
        if value is None:
            factors.append(1.0)
        else:
            _require_positive(f"{what} {name}", value)
            factors.append(float(value))

    eastings_m = float(eastings) * unit_m
    variant = gauss_kruger_variant(crs, eastings_m=eastings_m / crs_unit_m)
    if variant is not None:
        warnings.append(
            f"{what} Eastings {float(eastings):.3f} do not fit {_crs_label(crs)}"
            f" ({'with' if 'zone' in crs.name else 'without'} the zone number in front);"
            f" using {_crs_label(variant)} instead"
        )
        crs = variant
    georeference = Georeference(
        kind="map_conversion",
        crs=crs_to_string(crs),
        eastings_m=eastings_m,
        northings_m=float(northings) * unit_m,
        height_m=float(orthogonal_height) * unit_m,
        x_axis_abscissa=x_axis[0],
        x_axis_ordinate=x_axis[1],
        scale=ifc_scale * unit_m / local_unit_m,
        factor_x=factors[0],
        factor_y=factors[1],
        factor_z=factors[2],
        map_unit_m=crs_unit_m,
    )
    georeference.origin_wgs84()  # raises InvalidGeoreferenceError when the origin is off the earth
    if problem := _misplaced(georeference, model_center_local_m):
        warnings.append(problem)
    return georeference.with_warnings(*warnings)


def from_site_reference(
    *,
    latitude_dms: Sequence[int],
    longitude_dms: Sequence[int],
    elevation: float | None = None,
    true_north_xy: Sequence[float] | None = None,
    local_unit_m: float = 1.0,
) -> Georeference:
    """Georeference from ``IfcSite`` RefLatitude / RefLongitude / RefElevation.

    The local origin is put at the site point on a transverse Mercator plane centred there
    (scale error below 1e-7 within 3 km, so local metres are ground metres), and grid north
    equals true north at the origin, so ``true_north_xy`` — the direction of north in local
    XY, as ``IfcGeometricRepresentationContext.TrueNorth`` gives it — fully fixes the
    rotation (None: local +Y is north). ``elevation`` is in the project length unit
    (``local_unit_m`` metres each) and becomes the height of local z = 0.

    Raises:
        InvalidGeoreferenceError: an invalid compound angle, a latitude outside ±90° or a
            longitude outside ±180°, the 0°, 0° default many exporters write, a zero or
            non-finite TrueNorth, or a non-finite elevation.

    Example::

        >>> g = from_site_reference(latitude_dms=(30, 35, 34, 80000),
        ...                         longitude_dms=(114, 18, 19, 800000))
        >>> [round(v, 4) for v in g.origin_wgs84()]
        [114.3055, 30.5928]
    """
    _require_positive("the project length unit (local_unit_m)", local_unit_m)
    lat_deg = dms_to_degrees(latitude_dms, label="IfcSite RefLatitude")
    lon_deg = dms_to_degrees(longitude_dms, label="IfcSite RefLongitude")
    _check_lon_lat(lon_deg, lat_deg, "IfcSite RefLatitude/RefLongitude")
    height_m = 0.0
    if elevation is not None:
        _require_finite("IfcSite RefElevation", elevation)
        height_m = float(elevation) * local_unit_m
    return _tangent_plane("site_reference", lon_deg, lat_deg, height_m, true_north_xy)


def from_point(
    *,
    lon_deg: float,
    lat_deg: float,
    true_north_xy: Sequence[float] | None = None,
    height_m: float = 0.0,
) -> Georeference:
    """Georeference that puts the model's local origin at a known WGS-84 point (kind ``"project_site"``).

    The last resort for a model without georeferencing: the project's registered site
    location. Same tangent plane and TrueNorth rule as :func:`from_site_reference`.

    Raises:
        InvalidGeoreferenceError: a non-finite or out-of-range longitude/latitude, or (0, 0).
    """
    for name, value in (("longitude", lon_deg), ("latitude", lat_deg), ("height_m", height_m)):
        _require_finite(f"project site {name}", value)
    _check_lon_lat(float(lon_deg), float(lat_deg), "project site")
    return _tangent_plane("project_site", float(lon_deg), float(lat_deg), float(height_m), true_north_xy)


def dms_to_degrees(parts: Sequence[int], *, label: str = "compound plane angle") -> float:
    """Decimal degrees of an IFC compound plane angle ``(deg, min, s[, millionths of s])``.

    IFC puts the sign on every component: 30°35'34.08" S is ``(-30, -35, -34, -80000)``.
    Components must be integers, minutes and seconds below 60, millionths below 10⁶.
    ``label`` names the value in error messages.

    Raises:
        InvalidGeoreferenceError: wrong length, a non-integer, mixed signs, or a component
            out of range.

    Example::

        >>> round(dms_to_degrees((30, 35, 34, 80000)), 9)
        30.5928
        >>> dms_to_degrees((-33, -51, -36))
        -33.86
    """
    values = tuple(parts)
    if not 3 <= len(values) <= 4:
        raise InvalidGeoreferenceError(
            f"{label} {values} must have 3 or 4 components (degrees, minutes, seconds[, millionths])"
        )
    integers: list[int] = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, Real):
            raise InvalidGeoreferenceError(
                f"{label} {values} has a component that is not a number: {value!r}"
            )
        if not isinstance(value, Integral) and not (math.isfinite(value) and float(value).is_integer()):
            raise InvalidGeoreferenceError(
                f"{label} {values} has a component that is not an integer: {value!r}"
            )
        integers.append(int(value))
    if any(v > 0 for v in integers) and any(v < 0 for v in integers):
        raise InvalidGeoreferenceError(
            f"{label} {values} mixes signs; IFC puts the sign on every component (e.g. (-30, -35, -34))"
        )
    limits = (None, 60, 60, 1_000_000)
    names = ("degrees", "minutes", "seconds", "millionths of a second")
    for value, limit, name in zip(integers, limits, names, strict=False):
        if limit is not None and abs(value) >= limit:
            raise InvalidGeoreferenceError(f"{label} {values}: {name} {value} must be below {limit}")
    degrees, minutes, seconds = integers[:3]
    millionths = integers[3] if len(integers) == 4 else 0
    return degrees + minutes / 60 + seconds / 3600 + millionths / 3_600_000_000


# --------------------------------------------------------------------------- choosing


def choose_georeference(
    *,
    map_conversion: Mapping[str, Any] | None,
    site_reference: Mapping[str, Any] | None,
    project_site: tuple[float, float] | None,
    local_unit_m: float,
    true_north_xy: Sequence[float] | None = None,
    projected_crs: Mapping[str, Any] | None = None,
    contradiction_m: float = 1000.0,
    model_center_local_m: Sequence[float] | None = None,
) -> GeoreferenceChoice:
    """Pick the best usable georeference of a model; never raises for bad data.

    Sources, best first: the map conversion, the site's RefLatitude/RefLongitude, then
    ``project_site`` = ``(lon_deg, lat_deg)`` of the project in the twin. A source that is
    missing is skipped silently; one that is present but unusable is skipped with a warning
    saying which value is wrong and what was used instead, e.g. ``"IfcProjectedCRS
    'EPSG:999999' is unknown to PROJ, and no GeodeticDatum/MapProjection/MapZone is given;
    placed by IfcSite RefLatitude/RefLongitude instead"``. A map conversion that puts the model
    outside its CRS's area of use gives way to a usable site point or project site. When both a
    map conversion and a site point are usable but the site point is more than
    ``contradiction_m`` metres from both the map-converted origin and the model centre, the map
    conversion is kept and the distance reported.

    Dictionaries use the keys of ``ifc_processing``'s ``georef.json``:

    * ``map_conversion``: ``eastings``, ``northings``, ``orthogonal_height``,
      ``x_axis_abscissa``, ``x_axis_ordinate``, ``scale``, ``factor_x/y/z``; the CRS either in
      ``projected_crs`` (``name``, ``description``, ``geodetic_datum``, ``map_projection``,
      ``map_zone``, ``map_unit_scale_m``) or inline as :func:`from_map_conversion`'s keywords
      (``crs_name``, ``crs_description``, ..., ``map_unit_m``).
    * ``site_reference``: ``ref_latitude``, ``ref_longitude`` (compound angles),
      ``ref_elevation`` (project units); or ``latitude_dms``, ``longitude_dms``, ``elevation``.

    ``local_unit_m`` is the project length unit in metres; ``true_north_xy`` is the model
    context's TrueNorth (used for site and project points; a map conversion has its own axis).
    ``model_center_local_m`` is a representative local point of the model (its bounding-box
    centre, metres), used to judge where a map conversion puts the model; default the origin.

    Returns:
        A :class:`GeoreferenceChoice`; its ``georeference`` is None only when no source is usable.
    """
    warnings: list[str] = []
    rejected: list[str] = []  # problems that still need "placed by ... instead" appended
    candidates: list[tuple[str, Georeference]] = []

    conversion = None
    if map_conversion is not None:
        try:
            conversion = from_map_conversion(
                **_map_conversion_arguments(map_conversion, projected_crs),
                local_unit_m=local_unit_m,
                model_center_local_m=model_center_local_m,
            )
        except _UNUSABLE as exc:
            rejected.append(str(exc))

    site = None
    site_arguments = _site_arguments(site_reference) if site_reference is not None else None
    if isinstance(site_arguments, str):
        rejected.append(site_arguments)
    elif site_arguments is not None:
        try:
            site = from_site_reference(
                **site_arguments, true_north_xy=true_north_xy, local_unit_m=local_unit_m
            )
        except _UNUSABLE as exc:
            rejected.append(str(exc))

    point = None
    if project_site is not None:
        try:
            lon_deg, lat_deg = project_site
            point = from_point(lon_deg=lon_deg, lat_deg=lat_deg, true_north_xy=true_north_xy)
        except _UNUSABLE as exc:
            rejected.append(f"the project site {project_site!r} is unusable: {exc}")

    if conversion is not None:
        misplaced = _misplaced(conversion, model_center_local_m)
        if misplaced and (site is not None or point is not None):
            rejected.append(misplaced)
        else:
            candidates.append(("IfcMapConversion", conversion))
            if site is not None and (contradiction := _contradiction(conversion, site, model_center_local_m)):
                distance_m, lon, lat = contradiction
                if distance_m > contradiction_m:
                    site_lon, site_lat = site.origin_wgs84()
                    warnings.append(
                        f"IfcSite RefLatitude/RefLongitude ({_format_lon_lat(site_lon, site_lat)}) is"
                        f" {_format_distance(distance_m)} from where IfcMapConversion puts the model"
                        f" ({_format_lon_lat(lon, lat)}); the map conversion is used"
                    )
    if site is not None:
        candidates.append(("IfcSite RefLatitude/RefLongitude", site))
    if point is not None:
        candidates.append(("the project's site location", point))

    if not candidates:
        messages = [f"{problem}; no other georeferencing source is usable" for problem in rejected]
        return GeoreferenceChoice(None, tuple(dict.fromkeys(messages)))
    chosen_label, chosen = candidates[0]
    messages = [f"{problem}; placed by {chosen_label} instead" for problem in rejected]
    messages += warnings
    chosen = chosen.with_warnings(*messages)
    return GeoreferenceChoice(chosen, chosen.warnings)


def choose_from_record(
    record: Mapping[str, Any],
    *,
    project_site: tuple[float, float] | None = None,
    contradiction_m: float = 1000.0,
    model_center_local_m: Sequence[float] | None = None,
) -> GeoreferenceChoice:
    """:func:`choose_georeference` for a whole ``georef.json`` record of ``ifc_processing``.

    Reads ``map_conversion``, ``projected_crs``, ``site``, ``true_north_xy`` and
    ``project_length_unit_m`` (1.0 if absent). Never raises for bad data either.
    """
    unit = record.get("project_length_unit_m")
    local_unit_m = 1.0
    warnings: list[str] = []
    if unit is not None:
        if isinstance(unit, Real) and math.isfinite(unit) and unit > 0:
            local_unit_m = float(unit)
        else:
            warnings.append(f"the project length unit {unit!r} is not a positive number; metres assumed")
    true_north = record.get("true_north_xy")
    choice = choose_georeference(
        map_conversion=record.get("map_conversion"),
        projected_crs=record.get("projected_crs"),
        site_reference=record.get("site"),
        project_site=project_site,
        local_unit_m=local_unit_m,
        true_north_xy=tuple(true_north) if true_north is not None else None,
        contradiction_m=contradiction_m,
        model_center_local_m=model_center_local_m,
    )
    if not warnings:
        return choice
    if choice.georeference is None:
        return GeoreferenceChoice(None, (*warnings, *choice.warnings))
    chosen = choice.georeference.with_warnings(*warnings)
    return GeoreferenceChoice(chosen, chosen.warnings)


def distance_m(a_lon_lat: Sequence[float], b_lon_lat: Sequence[float]) -> float:
    """Geodesic distance in metres between two WGS-84 ``(lon_deg, lat_deg)`` points.

    Example::

        >>> round(distance_m((114.3055, 30.5928), (114.3055, 30.6028)), 1)
        1108.6
    """
    return _distance_m(float(a_lon_lat[0]), float(a_lon_lat[1]), float(b_lon_lat[0]), float(b_lon_lat[1]))


# --------------------------------------------------------------------------- helpers


def _as_points(points: Any, name: str) -> tuple[np.ndarray, bool]:
    array = np.asarray(points, dtype=float)
    single = array.ndim == 1
    if single:
        array = array[np.newaxis, :]
    if array.ndim != 2 or array.shape[1] not in (2, 3):
        raise ValueError(
            f"{name} must be N×2 or N×3 (or one point of 2 or 3 values), got shape {np.shape(points)}"
        )
    return array, single


def _shaped(result: np.ndarray, single: bool) -> np.ndarray:
    return result[0] if single else result


def _require_finite(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise InvalidGeoreferenceError(f"{name} is {value!r}, not a finite number")


def _require_positive(name: str, value: Any) -> None:
    _require_finite(name, value)
    if value <= 0:
        raise InvalidGeoreferenceError(f"{name} is {value:g}, not positive")


def _x_axis(abscissa: float | None, ordinate: float | None, what: str) -> tuple[float, float]:
    if abscissa is None and ordinate is None:
        return 1.0, 0.0
    # IFC allows either to be omitted; ifcopenshell reads an omitted one as 0.
    a = 0.0 if abscissa is None else abscissa
    o = 0.0 if ordinate is None else ordinate
    _require_finite(f"{what} XAxisAbscissa", a)
    _require_finite(f"{what} XAxisOrdinate", o)
    length = math.hypot(a, o)
    if length == 0:
        raise InvalidGeoreferenceError(
            f"{what} XAxisAbscissa/XAxisOrdinate ({a:g}, {o:g}) is a zero-length vector:"
            " the direction of the local X axis is undefined"
        )
    return float(a) / length, float(o) / length


def _effective_scale(
    scale: float | None, *, local_unit_m: float, map_unit_m: float, warnings: list[str]
) -> float:
    """The IFC Scale to use (project units → map units)."""
    units_ratio = local_unit_m / map_unit_m
    if scale is None:
        if not math.isclose(units_ratio, 1.0, rel_tol=1e-9):
            warnings.append(
                f"IfcMapConversion has no Scale although the project length unit ({_unit(local_unit_m)})"
                f" differs from the map unit ({_unit(map_unit_m)}); using {units_ratio:g}"
                f" (IFC's default of 1.0 would make the model {1 / units_ratio:g} times too large)"
            )
        return units_ratio
    _require_positive("IfcMapConversion Scale", scale)
    if not 1 / _SCALE_TOLERANCE <= scale / units_ratio <= _SCALE_TOLERANCE:
        warnings.append(
            f"IfcMapConversion Scale {scale:g} does not convert the project length unit"
            f" ({_unit(local_unit_m)}) to the map unit ({_unit(map_unit_m)}), which needs"
            f" {units_ratio:g}; using {units_ratio:g}"
        )
        return units_ratio
    return float(scale)


def _x_axis_from_true_north(true_north_xy: Sequence[float] | None) -> tuple[float, float]:
    """Local +X in (east, north) axes, given north's direction in local XY."""
    if true_north_xy is None:
        return 1.0, 0.0
    values = tuple(true_north_xy)
    if len(values) < 2:
        raise InvalidGeoreferenceError(f"TrueNorth {values} needs two direction ratios")
    north_x, north_y = values[0], values[1]
    _require_finite("TrueNorth x", north_x)
    _require_finite("TrueNorth y", north_y)
    length = math.hypot(north_x, north_y)
    if length == 0:
        raise InvalidGeoreferenceError("TrueNorth (0, 0) has no direction")
    # Rotating local north (nx, ny) onto map north (0, 1) takes local +X to (ny, nx) / |n|.
    return float(north_y) / length, float(north_x) / length


def _tangent_plane(
    kind: Kind, lon_deg: float, lat_deg: float, height_m: float, true_north_xy: Sequence[float] | None
) -> Georeference:
    abscissa, ordinate = _x_axis_from_true_north(true_north_xy)
    # repr keeps every digit: the PROJ string is the CRS, and its origin is the model's.
    crs = (
        f"+proj=tmerc +lat_0={lat_deg!r} +lon_0={lon_deg!r} +k=1 +x_0=0 +y_0=0"
        " +datum=WGS84 +units=m +no_defs +type=crs"
    )
    return Georeference(
        kind=kind,
        crs=crs,
        eastings_m=0.0,
        northings_m=0.0,
        height_m=height_m,
        x_axis_abscissa=abscissa,
        x_axis_ordinate=ordinate,
    )


def _check_lon_lat(lon_deg: float, lat_deg: float, label: str) -> None:
    if not -90 <= lat_deg <= 90:
        raise InvalidGeoreferenceError(f"{label} latitude {lat_deg:g}° is outside -90..90°")
    if not -180 <= lon_deg <= 180:
        raise InvalidGeoreferenceError(f"{label} longitude {lon_deg:g}° is outside -180..180°")
    if lat_deg == 0 and lon_deg == 0:
        raise InvalidGeoreferenceError(
            f"{label} is 0°, 0° (in the Gulf of Guinea): the default many exporters write, not a site"
        )


def _axis_unit_m(crs: pyproj.CRS) -> float:
    factors = [axis.unit_conversion_factor for axis in crs.axis_info if axis.unit_conversion_factor]
    return float(factors[0]) if factors else 1.0


def _model_points(model_center_local_m: Sequence[float] | None) -> list[tuple[float, float]]:
    """The local points that stand for the model: its origin, and its centre if known."""
    points = [(0.0, 0.0)]
    if model_center_local_m is not None:
        x, y = (float(v) for v in tuple(model_center_local_m)[:2])
        if math.isfinite(x) and math.isfinite(y):
            points.append((x, y))
    return points


def _misplaced(georeference: Georeference, model_center_local_m: Sequence[float] | None) -> str | None:
    """Why the map conversion puts the model outside its CRS's area of use, or None."""
    points = _model_points(model_center_local_m)
    point = points[-1]
    what = "the model centre" if len(points) == 2 else "the project origin"
    try:
        lon, lat = georeference.local_to_wgs84(np.asarray(point))
    except InvalidGeoreferenceError as exc:
        return f"IfcMapConversion puts {what} nowhere on the earth: {exc}"
    problem = _outside_area_of_use(pyproj.CRS.from_user_input(georeference.crs), float(lon), float(lat), what)
    if problem and georeference.eastings_m == 0 and georeference.northings_m == 0:
        problem += "; Eastings 0, Northings 0 look like an unset default"
    return problem


def _contradiction(
    conversion: Georeference, site: Georeference, model_center_local_m: Sequence[float] | None
) -> tuple[float, float, float] | None:
    """(distance in metres, lon, lat) from the site point to the nearest model point of ``conversion``."""
    site_lon, site_lat = site.origin_wgs84()
    nearest: tuple[float, float, float] | None = None
    for point in _model_points(model_center_local_m):
        try:
            lon, lat = conversion.local_to_wgs84(np.asarray(point))
        except InvalidGeoreferenceError:
            continue
        distance_m = _distance_m(float(lon), float(lat), site_lon, site_lat)
        if nearest is None or distance_m < nearest[0]:
            nearest = (distance_m, float(lon), float(lat))
    return nearest


def _outside_area_of_use(crs: pyproj.CRS, lon_deg: float, lat_deg: float, what: str) -> str | None:
    area = crs.area_of_use
    if area is None:
        return None
    margin = AREA_OF_USE_MARGIN_DEG
    west, south, east, north = area.bounds
    inside_lat = south - margin <= lat_deg <= north + margin
    if west <= east:
        inside_lon = west - margin <= lon_deg <= east + margin
    else:  # the area crosses the antimeridian
        inside_lon = lon_deg >= west - margin or lon_deg <= east + margin
    if inside_lat and inside_lon:
        return None
    return (
        f"IfcMapConversion puts {what} at {_format_lon_lat(lon_deg, lat_deg)}, outside the area of"
        f" use of {_crs_label(crs)}, {west:g}..{east:g}°E and {south:g}..{north:g}°N"
        f" ({area.name.rstrip('.')})"
    )


def _crs_label(crs: pyproj.CRS) -> str:
    code = crs.to_epsg(min_confidence=90)
    return f"EPSG:{code} ({crs.name})" if code is not None else repr(crs.name)


def _unit(metres: float) -> str:
    for value, name in _UNIT_NAMES.items():
        if math.isclose(metres, value, rel_tol=1e-9):
            return name
    return f"{metres:g} m"


def _distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    return float(_GEOD.inv(lon1, lat1, lon2, lat2)[2])


def _format_lon_lat(lon_deg: float, lat_deg: float) -> str:
    ns = "N" if lat_deg >= 0 else "S"
    ew = "E" if lon_deg >= 0 else "W"
    return f"{abs(lat_deg):.5f}°{ns}, {abs(lon_deg):.5f}°{ew}"


def _format_distance(metres: float) -> str:
    return f"{metres / 1000:.1f} km" if metres >= 10_000 else f"{metres:.0f} m"


def _map_conversion_arguments(values: Mapping[str, Any], crs: Mapping[str, Any] | None) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        key: values.get(key)
        for key in (
            "eastings",
            "northings",
            "orthogonal_height",
            "x_axis_abscissa",
            "x_axis_ordinate",
            "scale",
            "factor_x",
            "factor_y",
            "factor_z",
        )
    }
    inline = {
        key: values.get(key)
        for key in (
            "crs_name",
            "crs_description",
            "geodetic_datum",
            "map_projection",
            "map_zone",
            "map_unit_m",
        )
    }
    crs = crs or {}
    arguments.update(
        crs_name=crs.get("name", inline["crs_name"]),
        crs_description=crs.get("description", inline["crs_description"]),
        geodetic_datum=crs.get("geodetic_datum", inline["geodetic_datum"]),
        map_projection=crs.get("map_projection", inline["map_projection"]),
        map_zone=crs.get("map_zone", inline["map_zone"]),
        map_unit_m=crs.get("map_unit_scale_m", crs.get("map_unit_m", inline["map_unit_m"])),
    )
    return arguments


def _site_arguments(values: Mapping[str, Any]) -> dict[str, Any] | str | None:
    """Keyword arguments for from_site_reference; None if the site has no location; a message if half."""
    latitude = values.get("ref_latitude", values.get("latitude_dms"))
    longitude = values.get("ref_longitude", values.get("longitude_dms"))
    elevation = values.get("ref_elevation", values.get("elevation"))
    if latitude is None and longitude is None:
        return None  # most sites carry no location at all: nothing to report
    if latitude is None or longitude is None:
        missing = "RefLatitude" if latitude is None else "RefLongitude"
        return f"IfcSite has {'RefLongitude' if latitude is None else 'RefLatitude'} but no {missing}"
    return {"latitude_dms": latitude, "longitude_dms": longitude, "elevation": elevation}
