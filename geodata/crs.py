"""Coordinate reference systems: identify the map CRS a model names, and transform between CRSs.

IFC files name their map CRS loosely: ``"EPSG:4547"``, ``"epsg:32650"``, ``"4547"``, a PROJ
name such as ``"CGCS2000 / 3-degree Gauss-Kruger CM 114E"``, or no usable name at all but a
geodetic datum, a projection and a zone (``"CGCS2000"``, ``"Gauss-Kruger"``, ``"3-degree CM
114E"``). :func:`resolve_crs` turns all of these into a projected :class:`pyproj.CRS` or says
why it cannot. Everything works offline: the PROJ database ships inside the pyproj wheel,
and no transformation grid is ever downloaded.

Axis order: every transformer here is built with ``always_xy=True``, so coordinates are
always ``(easting, northing)`` and ``(lon_deg, lat_deg)``, whatever axis order the EPSG
definition declares (EPSG:4547 declares northing first; EPSG:4326 latitude first).
"""

from __future__ import annotations

import functools
import math
import re

import pyproj
from pyproj.exceptions import CRSError

from .errors import UnknownCRSError

__all__ = [
    "WGS84",
    "CRSLike",
    "crs_to_string",
    "epsg_code",
    "gauss_kruger_variant",
    "resolve_crs",
    "transformer",
]

#: Geographic WGS-84, longitude/latitude in degrees (with ``always_xy=True``).
WGS84 = "EPSG:4326"

CRSLike = str | int | pyproj.CRS

# Datums whose EPSG CRS names we can build, keyed by a normalised spelling (lower case,
# no spaces, dashes or underscores). Value: (the datum as EPSG CRS names spell it, the PROJ
# ellipsoid for a custom projection on it, or None when we only trust EPSG definitions).
# CGCS2000's ellipsoid has GRS80's semi-major axis and flattening, hence "GRS80".
_DATUMS: dict[str, tuple[str, str | None]] = {
    **dict.fromkeys(
        ("cgcs2000", "cgcs", "china2000", "chinageodeticcoordinatesystem2000", "epsg:4490", "4490"),
        ("CGCS2000", "GRS80"),
    ),
    **dict.fromkeys(("2000国家大地坐标系", "国家2000", "中国2000"), ("CGCS2000", "GRS80")),
    **dict.fromkeys(
        ("wgs84", "wgs1984", "worldgeodeticsystem1984", "epsg:4326", "4326"), ("WGS 84", "WGS84")
    ),
    **dict.fromkeys(("xian1980", "xian80", "西安80", "1980西安坐标系", "epsg:4610"), ("Xian 1980", None)),
    **dict.fromkeys(
        ("beijing1954", "beijing54", "北京54", "1954北京坐标系", "epsg:4214"), ("Beijing 1954", None)
    ),
    **dict.fromkeys(("newbeijing", "新北京54", "epsg:4555"), ("New Beijing", None)),
}

_EPSG_IN_TEXT = re.compile(r"epsg\D{0,3}(\d{4,6})", re.IGNORECASE)
_UTM_ZONE = re.compile(r"(?<!\d)(\d{1,2})\s*([ns])(?![a-z])", re.IGNORECASE)
# A central meridian: "CM 114E", "central meridian 114", "114°E", "lon_0=114.5", "中央子午线114".
_CENTRAL_MERIDIAN = (
    re.compile(r"(?:\bcm|central\s+meridian|中央子午线|lon_0)\s*[:=]?\s*(\d{2,3}(?:\.\d+)?)", re.IGNORECASE),
    re.compile(r"(?<![\d.])(\d{2,3}(?:\.\d+)?)\s*°?\s*e(?![a-z])", re.IGNORECASE),
)
_ZONE_NUMBER = re.compile(r"(?:zone|带|第)\s*(\d{1,2})(?!\d)", re.IGNORECASE)
_BARE_NUMBER = re.compile(r"^\s*(\d{1,3}(?:\.\d+)?)\s*$")
_THREE_DEGREE = re.compile(r"(?<!\d)3\s*(?:-|\s)?\s*(?:degree|deg|°|度)", re.IGNORECASE)
_SIX_DEGREE = re.compile(r"(?<!\d)6\s*(?:-|\s)?\s*(?:degree|deg|°|度)", re.IGNORECASE)
_GAUSS_KRUGER_WORDS = ("gauss", "gk", "kruger", "krüger", "transverse mercator", "高斯")
_GAUSS_KRUGER_NAME = re.compile(
    r"^(?P<datum>.+) / (?P<three>3-degree )?Gauss-Kruger (?:CM (?P<cm>\d+)E|zone (?P<zone>\d+))$"
)


def resolve_crs(
    name: str | None,
    *,
    description: str | None = None,
    geodetic_datum: str | None = None,
    map_projection: str | None = None,
    map_zone: str | None = None,
    label: str = "CRS",
) -> pyproj.CRS:
    """Return the projected CRS an ``IfcProjectedCRS``-like description identifies.

    Tried in order: ``name`` as PROJ reads it (``"EPSG:4547"``, ``"epsg:32650"``, a bare
    ``"4547"``, a URN, a CRS name PROJ knows such as ``"WGS 84 / UTM zone 50N"``, or any text
    containing ``EPSG:nnnn``); then ``description`` the same way; then a CRS built from
    ``geodetic_datum`` + ``map_projection`` + ``map_zone`` when they are unambiguous:

    * Gauss-Krüger / transverse Mercator on CGCS2000, Xian 1980, Beijing 1954 or WGS 84, the
      zone given as a central meridian (``"114E"``, ``"CM 114E"``) or a 3°/6° zone number
      (``"38"``; 25–45 can only be 3° zones in China and 13–23 only 6° ones, otherwise the
      projection must say ``3-degree``/``6-degree``). The EPSG CRS with false easting 500 km
      is returned; a central meridian EPSG has no CRS for (a city's own meridian) gives a
      PROJ transverse Mercator on CGCS2000 or WGS 84 with k = 1 and false easting 500 km.
    * UTM on WGS 84 (or CGCS2000, as a PROJ UTM), the zone as ``"50N"`` / ``"zone 50 S"``.

    A compound CRS (projected + vertical, as IFC 4.3 asks for 3D contexts) gives its
    horizontal part: heights are never transformed here.

    ``label`` names the source in error messages (e.g. ``"IfcProjectedCRS"``).

    Raises:
        UnknownCRSError: nothing identifies a CRS, or the CRS identified is geographic
            (degrees), not a projected map grid.

    Example::

        >>> resolve_crs("EPSG:4547").name
        'CGCS2000 / 3-degree Gauss-Kruger CM 114E'
        >>> resolve_crs(None, geodetic_datum="CGCS2000", map_projection="Gauss-Kruger",
        ...             map_zone="3-degree CM 114E").to_epsg()
        4547
    """
    not_projected: list[str] = []
    for text in (name, description):
        crs = _from_text(text)
        if crs is None:
            continue
        horizontal = _horizontal(crs)
        if horizontal is not None:
            return horizontal
        not_projected.append(f"{text!r} is {crs.name} ({_kind(crs)}), not a projected map CRS")
    built = _from_parts(geodetic_datum, map_projection, map_zone)
    if built is not None:
        return built
    parts = ", ".join(
        f"{key} {value!r}"
        for key, value in (
            ("GeodeticDatum", geodetic_datum),
            ("MapProjection", map_projection),
            ("MapZone", map_zone),
        )
        if value
    )
    tail = (
        f"and ({parts}) identify no projected CRS PROJ knows"
        if parts
        else "and no GeodeticDatum/MapProjection/MapZone is given"
    )
    if not_projected:
        raise UnknownCRSError(f"{label} {'; '.join(not_projected)}; {tail}")
    if name and name.strip():
        raise UnknownCRSError(f"{label} {name!r} is unknown to PROJ, {tail}")
    raise UnknownCRSError(f"{label} has no name, {tail}")


def transformer(src: CRSLike, dst: CRSLike) -> pyproj.Transformer:
    """Return a cached ``always_xy=True`` transformer from ``src`` to ``dst``.

    CRSs may be given as ``"EPSG:nnnn"``, an EPSG integer, a PROJ string, WKT or a
    :class:`pyproj.CRS`. Building a transformer costs about a millisecond; the server asks
    for the same few pairs for every footprint, so they are cached (pyproj >= 3.1
    transformers are thread-safe, so one cached instance serves every thread).

    Raises:
        UnknownCRSError: PROJ does not know ``src`` or ``dst``.

    Example::

        >>> lon, lat = transformer("EPSG:4547", WGS84).transform(500000.0, 3375000.0)
        >>> round(lon, 6)
        114.0
    """
    return _cached_transformer(crs_to_string(src), crs_to_string(dst))


@functools.lru_cache(maxsize=128)
def _cached_transformer(src: str, dst: str) -> pyproj.Transformer:
    try:
        return pyproj.Transformer.from_crs(src, dst, always_xy=True)
    except CRSError as exc:
        raise UnknownCRSError(f"PROJ cannot transform from {src!r} to {dst!r}: {exc}") from exc


def epsg_code(crs: CRSLike) -> int | None:
    """Return the EPSG code of ``crs``, or None when it has none (a custom PROJ CRS) or is unknown.

    Example::

        >>> epsg_code("CGCS2000 / 3-degree Gauss-Kruger CM 114E")
        4547
        >>> epsg_code("+proj=tmerc +lon_0=114.5 +ellps=GRS80 +type=crs") is None
        True
    """
    try:
        value = crs if isinstance(crs, pyproj.CRS) else pyproj.CRS.from_user_input(_epsg_text(crs))
    except CRSError:
        return None
    return value.to_epsg()


def crs_to_string(crs: CRSLike) -> str:
    """Return the canonical text of ``crs``: ``"EPSG:nnnn"`` if it has a code, else PROJ text or WKT.

    Strings are returned as given (stripped), except that a bare code becomes ``"EPSG:nnnn"``;
    no lookup happens, so this is cheap enough for a cache key.
    """
    if isinstance(crs, pyproj.CRS):
        code = crs.to_epsg(min_confidence=90)
        if code is not None:
            return f"EPSG:{code}"
        # A CRS built from a PROJ string keeps that string as ``srs``; WKT keeps everything else.
        return crs.srs if crs.srs.lstrip().startswith("+proj") else crs.to_wkt()
    return _epsg_text(crs)


def gauss_kruger_variant(crs: pyproj.CRS, *, eastings_m: float) -> pyproj.CRS | None:
    """Return the EPSG Gauss-Krüger CRS that matches how ``eastings_m`` is written, if not ``crs``.

    Chinese surveys write Gauss-Krüger eastings either with the zone number in front
    (38 529 299.86 m in 3° zone 38, EPSG "... zone 38", false easting 38 500 km) or without
    it (529 299.86 m, EPSG "... CM 114E", false easting 500 km). Models often name one variant
    and use the other. Returns the other variant of the same datum and zone when ``eastings_m``
    fits it and not ``crs``; None when ``crs`` is not such a CRS or already fits.

    Example::

        >>> gauss_kruger_variant(resolve_crs("EPSG:4547"), eastings_m=38_529_299.86).to_epsg()
        4526
    """
    match = _GAUSS_KRUGER_NAME.match(crs.name)
    if match is None or not math.isfinite(eastings_m):
        return None
    three_degree = match["three"] is not None
    prefix = "3-degree " if three_degree else ""
    if match["cm"] is not None:
        central_meridian = int(match["cm"])
        zone = central_meridian // 3 if three_degree else (central_meridian + 3) // 6
        if eastings_m < 1e6 or int(eastings_m // 1e6) != zone:
            return None
        other = f"{match['datum']} / {prefix}Gauss-Kruger zone {zone}"
    else:
        zone = int(match["zone"])
        if eastings_m >= 1e6:
            return None
        central_meridian = 3 * zone if three_degree else 6 * zone - 3
        other = f"{match['datum']} / {prefix}Gauss-Kruger CM {central_meridian}E"
    try:
        return pyproj.CRS.from_user_input(other)
    except CRSError:
        return None


# --------------------------------------------------------------------------- helpers


def _epsg_text(crs: str | int) -> str:
    if isinstance(crs, bool):
        raise TypeError(f"a CRS cannot be a bool: {crs!r}")
    if isinstance(crs, int):
        return f"EPSG:{crs}"
    text = crs.strip()
    return f"EPSG:{text}" if text.isdigit() else text


def _from_text(text: str | None) -> pyproj.CRS | None:
    if text is None or not text.strip():
        return None
    try:
        return pyproj.CRS.from_user_input(_epsg_text(text))
    except CRSError:
        pass
    # "EPSG:4547 CGCS2000 / ..." or "CGCS2000 3-degree GK CM 114E (EPSG 4547)"
    match = _EPSG_IN_TEXT.search(text)
    if match is None:
        return None
    try:
        return pyproj.CRS.from_epsg(int(match[1]))
    except CRSError:
        return None


def _horizontal(crs: pyproj.CRS) -> pyproj.CRS | None:
    if crs.is_compound:
        crs = crs.sub_crs_list[0]
    return crs if crs.is_projected else None


def _kind(crs: pyproj.CRS) -> str:
    if crs.is_geographic:
        return "geographic, in degrees"
    if crs.is_vertical:
        return "a vertical CRS"
    return crs.type_name


def _normalise(text: str) -> str:
    return re.sub(r"[\s\-_/()]", "", text).lower()


def _from_parts(datum: str | None, projection: str | None, zone: str | None) -> pyproj.CRS | None:
    if not datum or not (projection or zone):
        return None
    # A datum we do not list is still tried by name ("ED50" -> "ED50 / UTM zone 31N"), but
    # never gets a hand-built projection: we would not know its ellipsoid.
    datum_name, ellipsoid = _DATUMS.get(_normalise(datum), (datum.strip(), None))
    projection_text = (projection or "").lower()
    text = f"{projection or ''} {zone or ''}"
    if "utm" in projection_text or "universal transverse" in projection_text:
        return _utm(datum_name, ellipsoid, text)
    if not projection_text.strip() and _UTM_ZONE.search(text):
        return _utm(datum_name, ellipsoid, text)  # "50N" alone can only be a UTM zone
    # No projection named but a zone: on these datums a bare zone means Gauss-Krüger.
    gauss_kruger = any(word in projection_text for word in _GAUSS_KRUGER_WORDS)
    if gauss_kruger or (projection_text.strip() in ("tm", "") and zone):
        return _gauss_kruger(datum_name, ellipsoid, text, zone or "")
    return None


def _utm(datum_name: str, ellipsoid: str | None, text: str) -> pyproj.CRS | None:
    match = _UTM_ZONE.search(text)
    if match is None or not 1 <= int(match[1]) <= 60:
        return None
    number, hemisphere = int(match[1]), match[2].upper()
    try:
        return pyproj.CRS.from_user_input(f"{datum_name} / UTM zone {number}{hemisphere}")
    except CRSError:
        pass
    if ellipsoid is None:
        return None
    south = " +south" if hemisphere == "S" else ""
    return pyproj.CRS(f"+proj=utm +zone={number}{south} +ellps={ellipsoid} +units=m +no_defs +type=crs")


def _gauss_kruger(datum_name: str, ellipsoid: str | None, text: str, zone: str) -> pyproj.CRS | None:
    width = 3 if _THREE_DEGREE.search(text) else 6 if _SIX_DEGREE.search(text) else None
    central_meridian: float | None = None
    for pattern in _CENTRAL_MERIDIAN:
        if match := pattern.search(text):
            central_meridian = float(match[1])
            break
    zone_number: int | None = None
    if central_meridian is None:
        if match := _ZONE_NUMBER.search(text):
            zone_number = int(match[1])
        elif match := _BARE_NUMBER.match(zone):
            value = float(match[1])
            # A bare number: zone numbers stop at 60, meridians in China start at 73.
            if value > 60:
                central_meridian = value
            elif value.is_integer():
                zone_number = int(value)
    if zone_number is not None:
        if width is None:
            # China spans 73-135 E: 3-degree zones 25-45 and 6-degree zones 13-23 never overlap.
            width = 3 if 25 <= zone_number <= 45 else 6 if 13 <= zone_number <= 23 else None
        if width is None:
            return None
        central_meridian = 3.0 * zone_number if width == 3 else 6.0 * zone_number - 3.0
    if central_meridian is None or not 0 < central_meridian <= 180:
        return None
    if central_meridian.is_integer():
        meridian = int(central_meridian)
        # 3-degree and 6-degree CRSs on one meridian share every parameter; prefer the one
        # the text names, then the one whose zone system has this meridian.
        names = [
            f"{datum_name} / 3-degree Gauss-Kruger CM {meridian}E",
            f"{datum_name} / Gauss-Kruger CM {meridian}E",
        ]
        if width == 6 or (width is None and meridian % 3 != 0):
            names.reverse()
        for candidate in names:
            try:
                return pyproj.CRS.from_user_input(candidate)
            except CRSError:
                continue
    if ellipsoid is None:
        return None
    return pyproj.CRS(
        f"+proj=tmerc +lat_0=0 +lon_0={central_meridian:g} +k=1 +x_0=500000 +y_0=0"
        f" +ellps={ellipsoid} +units=m +no_defs +type=crs"
    )
