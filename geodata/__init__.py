"""Georeferencing maths and site-map geometry on plain numbers and shapely geometry.

No package of ours is imported here: georeferencing values arrive as numbers and dicts (the
``georef.json`` record of ``ifc_processing``), and results leave as numpy arrays, shapely
geometry, GeoJSON and GeoPackage bytes. Start with :func:`choose_from_record` (or
:func:`choose_georeference`), then :meth:`Georeference.local_to_wgs84`,
:func:`footprint_to_wgs84`, and :func:`to_display` for Chinese
base maps. File output lives in :mod:`geodata.io`, not re-exported here because it loads
geopandas and GDAL (half a second) that the maths never needs.
"""

from .crs import WGS84, crs_to_string, epsg_code, gauss_kruger_variant, resolve_crs, transformer
from .errors import GeodataError, InvalidFootprintError, InvalidGeoreferenceError, UnknownCRSError
from .footprints import footprint_to_wgs84, simplify_footprint
from .georeference import (
    Georeference,
    GeoreferenceChoice,
    choose_from_record,
    choose_georeference,
    distance_m,
    dms_to_degrees,
    from_map_conversion,
    from_point,
    from_site_reference,
)
from .offsets import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    out_of_china,
    to_display,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

__all__ = [
    "WGS84",
    "GeodataError",
    "Georeference",
    "GeoreferenceChoice",
    "InvalidFootprintError",
    "InvalidGeoreferenceError",
    "UnknownCRSError",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "choose_from_record",
    "choose_georeference",
    "crs_to_string",
    "distance_m",
    "dms_to_degrees",
    "epsg_code",
    "footprint_to_wgs84",
    "from_map_conversion",
    "from_point",
    "from_site_reference",
    "gauss_kruger_variant",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "out_of_china",
    "resolve_crs",
    "simplify_footprint",
    "to_display",
    "transformer",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]
