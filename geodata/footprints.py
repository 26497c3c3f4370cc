"""Building outlines on the earth.

The HQ map draws each model as its plan outline. ``ifc_processing`` draws that outline in
the model's engineering frame (local metres) while it processes the model;
:func:`footprint_to_wgs84` places it on the earth with the model's
:class:`~geodata.georeference.Georeference`. Simplify in metres, *before* going to degrees.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from .georeference import Georeference

__all__ = ["footprint_to_wgs84", "simplify_footprint"]


def footprint_to_wgs84(
    polygon_local_m: BaseGeometry | np.ndarray, georeference: Georeference
) -> BaseGeometry:
    """The footprint in WGS-84 ``(lon_deg, lat_deg)``: every vertex of every ring transformed.

    ``polygon_local_m`` is any shapely geometry in local metres (a Polygon, a MultiPolygon, a
    site Point...) or an N×2 array of one ring's vertices. Z values are dropped: a footprint
    is flat. The result has the same type and structure.

    Raises:
        InvalidGeoreferenceError: a vertex lands nowhere on the earth.

    Example::

        >>> from geodata.georeference import from_point
        >>> square = Polygon([(0, 0), (10, 0), (10, 10), (0, 10)])
        >>> outline = footprint_to_wgs84(square, from_point(lon_deg=114.3, lat_deg=30.6))
        >>> [round(v, 4) for v in outline.bounds]
        [114.3, 30.6, 114.3001, 30.6001]
    """
    geometry = polygon_local_m if isinstance(polygon_local_m, BaseGeometry) else Polygon(polygon_local_m)
    if geometry.is_empty:
        return geometry
    return shapely.transform(geometry, georeference.local_to_wgs84, include_z=False)


def simplify_footprint(geometry: BaseGeometry, *, tolerance_m: float) -> BaseGeometry:
    """Drop vertices closer than ``tolerance_m`` to the simplified outline; topology kept, validity repaired.

    The geometry must be in metres (local or a projected CRS). A footprint scanned from a
    detailed model can have thousands of vertices; at 0.2 m none of them shows on a map.

    Raises:
        ValueError: ``tolerance_m`` is negative or not finite.
    """
    if not np.isfinite(tolerance_m) or tolerance_m < 0:
        raise ValueError(f"tolerance_m must be a finite, non-negative number of metres, got {tolerance_m!r}")
    simplified = shapely.simplify(geometry, tolerance_m, preserve_topology=True)
    return simplified if simplified.is_valid else shapely.make_valid(simplified)
