"""GCJ-02 and BD-09: the display offsets of Chinese online maps.

Maps licensed in China do not draw WGS-84. AMap (高德), Tencent and Google's China tiles use
GCJ-02 ("Mars coordinates", 火星坐标), a deliberately distorted datum shifting points by
100–700 m; Baidu adds its own BD-09 offset on top of that. A WGS-84 pin drawn on those tiles
lands in the wrong street. Convert at display time only and never store the result: every
coordinate the twin keeps is WGS-84 (or the model's map CRS).

Why hand-written: the forward GCJ-02 formula is a published ~30-line closed form that every
implementation copies, and BD-09 is four lines on top. The PyPI packages that carry it are
either unmaintained since 2018–2019 (``eviltransform``, ``coord-convert``, ``prcoords``) or a
single-author binary wheel whose GCJ-02 → WGS-84 is the one-step approximation, off by up to
~1e-5° (a metre) (``coordtransform`` 0.2); none works on numpy arrays. Here every function is
vectorised, and the inverses are iterated to 1e-9°.

All functions take scalars or array-likes of longitudes and latitudes in degrees, return a
``(lon_deg, lat_deg)`` pair of the same shape (floats for scalar input), and leave points
outside China unchanged.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "Datum",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "out_of_china",
    "to_display",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

Datum = Literal["wgs84", "gcj02", "bd09"]

# The GCJ-02 algorithm's constants: Krasovsky 1940 semi-major axis and squared eccentricity.
_A_M = 6378245.0
_EE = 0.00669342162296594323
# BD-09's x_pi, as Baidu's published conversion spells it.
_X_PI = np.pi * 3000.0 / 180.0
# The rectangle every public implementation treats as "China" (gcoord, eviltransform):
# it also covers neighbours, which is what the map providers' offsets do too.
_CHINA_LON = (72.004, 137.8347)
_CHINA_LAT = (0.8293, 55.8271)
# Inverses iterate the forward formula; it moves a point by < 1e-2°, with a derivative
# below 1e-2, so each step gains two digits: 1e-9° (0.1 mm) is reached in 4-5 steps.
_TOLERANCE_DEG = 1e-9
_MAX_ITERATIONS = 30

Pair = tuple[np.ndarray, np.ndarray] | tuple[float, float]


def out_of_china(lon_deg: ArrayLike, lat_deg: ArrayLike) -> np.ndarray | bool:
    """True where a point lies outside the rectangle in which Chinese maps apply an offset.

    Example::

        >>> out_of_china(116.4, 39.9), out_of_china(2.35, 48.86)
        (False, True)
    """
    lon, lat, scalar = _arrays(lon_deg, lat_deg)
    outside = (lon < _CHINA_LON[0]) | (lon > _CHINA_LON[1]) | (lat < _CHINA_LAT[0]) | (lat > _CHINA_LAT[1])
    return bool(outside) if scalar else outside


def wgs84_to_gcj02(lon_deg: ArrayLike, lat_deg: ArrayLike) -> Pair:
    """GCJ-02 (AMap/Tencent) coordinates of WGS-84 points.

    Example::

        >>> [round(v, 6) for v in wgs84_to_gcj02(116.377817, 39.911954)]
        [116.384047, 39.913345]
    """
    lon, lat, scalar = _arrays(lon_deg, lat_deg)
    d_lon, d_lat = _gcj02_delta(lon, lat)
    return _result(lon + d_lon, lat + d_lat, scalar)


def gcj02_to_wgs84(lon_deg: ArrayLike, lat_deg: ArrayLike) -> Pair:
    """WGS-84 coordinates of GCJ-02 points, by fixed-point iteration (error < 1e-9°)."""
    lon, lat, scalar = _arrays(lon_deg, lat_deg)
    wgs_lon, wgs_lat = _invert(_gcj02_forward, lon, lat)
    return _result(wgs_lon, wgs_lat, scalar)


def gcj02_to_bd09(lon_deg: ArrayLike, lat_deg: ArrayLike) -> Pair:
    """BD-09 (Baidu) coordinates of GCJ-02 points."""
    lon, lat, scalar = _arrays(lon_deg, lat_deg)
    bd_lon, bd_lat = _bd09_forward(lon, lat)
    return _result(bd_lon, bd_lat, scalar)


def bd09_to_gcj02(lon_deg: ArrayLike, lat_deg: ArrayLike) -> Pair:
    """GCJ-02 coordinates of BD-09 points: Baidu's closed form, refined by iteration to 1e-9°."""
    lon, lat, scalar = _arrays(lon_deg, lat_deg)
    gcj_lon, gcj_lat = _invert(_bd09_forward, lon, lat)
    return _result(gcj_lon, gcj_lat, scalar)


def wgs84_to_bd09(lon_deg: ArrayLike, lat_deg: ArrayLike) -> Pair:
    """BD-09 (Baidu) coordinates of WGS-84 points."""
    lon, lat, scalar = _arrays(lon_deg, lat_deg)
    bd_lon, bd_lat = _bd09_forward(*_gcj02_forward(lon, lat))
    return _result(bd_lon, bd_lat, scalar)


def bd09_to_wgs84(lon_deg: ArrayLike, lat_deg: ArrayLike) -> Pair:
    """WGS-84 coordinates of BD-09 points."""
    lon, lat, scalar = _arrays(lon_deg, lat_deg)
    wgs_lon, wgs_lat = _invert(_gcj02_forward, *_invert(_bd09_forward, lon, lat))
    return _result(wgs_lon, wgs_lat, scalar)


def to_display(lon_deg: ArrayLike, lat_deg: ArrayLike, *, datum: Datum) -> Pair:
    """WGS-84 points as the base map of ``datum`` draws them (``"wgs84"`` returns them unchanged).

    ``datum`` is the base map's: ``"gcj02"`` for AMap, Tencent and Google's China tiles,
    ``"bd09"`` for Baidu, ``"wgs84"`` for OpenStreetMap, Tianditu (天地图, CGCS2000 ≈ WGS-84)
    and offline tiles.

    Raises:
        ValueError: an unknown ``datum``.
    """
    if datum == "wgs84":
        lon, lat, scalar = _arrays(lon_deg, lat_deg)
        return _result(lon, lat, scalar)
    if datum == "gcj02":
        return wgs84_to_gcj02(lon_deg, lat_deg)
    if datum == "bd09":
        return wgs84_to_bd09(lon_deg, lat_deg)
    raise ValueError(f"unknown display datum {datum!r}: expected 'wgs84', 'gcj02' or 'bd09'")


# --------------------------------------------------------------------------- helpers


def _arrays(lon_deg: ArrayLike, lat_deg: ArrayLike) -> tuple[np.ndarray, np.ndarray, bool]:
    lon = np.asarray(lon_deg, dtype=float)
    lat = np.asarray(lat_deg, dtype=float)
    if lon.shape != lat.shape:
        raise ValueError(f"longitudes {lon.shape} and latitudes {lat.shape} differ in shape")
    return lon, lat, lon.ndim == 0


def _result(lon: np.ndarray, lat: np.ndarray, scalar: bool) -> Pair:
    if scalar:
        return float(lon), float(lat)
    return lon, lat


def _inside(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return ~((lon < _CHINA_LON[0]) | (lon > _CHINA_LON[1]) | (lat < _CHINA_LAT[0]) | (lat > _CHINA_LAT[1]))


def _gcj02_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The published GCJ-02 shift (degrees) of WGS-84 points; zero outside China."""
    x, y = lon - 105.0, lat - 35.0
    pi = np.pi
    shift_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    shift_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    shift_lat += common
    shift_lon += common
    shift_lat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    shift_lat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    shift_lon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    shift_lon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    # The shifts above are metres-ish; turn them into degrees on the Krasovsky ellipsoid.
    rad_lat = np.radians(lat)
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (shift_lat * 180.0) / ((_A_M * (1.0 - _EE)) / (magic * sqrt_magic) * pi)
    d_lon = (shift_lon * 180.0) / (_A_M / sqrt_magic * np.cos(rad_lat) * pi)
    inside = _inside(lon, lat)
    return np.where(inside, d_lon, 0.0), np.where(inside, d_lat, 0.0)


def _gcj02_forward(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d_lon, d_lat = _gcj02_delta(lon, lat)
    return lon + d_lon, lat + d_lat


def _bd09_forward(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Baidu's published GCJ-02 → BD-09 formula; identity outside China."""
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    inside = _inside(lon, lat)
    return np.where(inside, z * np.cos(theta) + 0.0065, lon), np.where(inside, z * np.sin(theta) + 0.006, lat)


def _invert(forward, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``forward(x) = (lon, lat)`` for x by fixed-point iteration from x = (lon, lat)."""
    guess_lon, guess_lat = lon.copy(), lat.copy()
    for _ in range(_MAX_ITERATIONS):
        out_lon, out_lat = forward(guess_lon, guess_lat)
        error_lon, error_lat = out_lon - lon, out_lat - lat
        guess_lon = guess_lon - error_lon
        guess_lat = guess_lat - error_lat
        if not (np.nanmax(np.abs(error_lon), initial=0.0) > _TOLERANCE_DEG) and not (
            np.nanmax(np.abs(error_lat), initial=0.0) > _TOLERANCE_DEG
        ):
            break
    return guess_lon, guess_lat
