"""GCJ-02 / BD-09 display offsets against published reference points, and their inverses."""

from __future__ import annotations

import numpy as np
import pytest

from geodata.offsets import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    out_of_china,
    to_display,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

# eviltransform's Python test suite (WGS-84 -> GCJ-02, asserted there to 6 decimals):
# https://github.com/googollee/eviltransform/blob/master/python/test.py
# (wgs lon, wgs lat) -> (gcj lon, gcj lat)
EVILTRANSFORM = {
    "shanghai": ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    "shenzhen": ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    "beijing": ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
}

# gcoord's unit tests for the point (123, 45), asserted there with toBeCloseTo(..., 5):
# https://github.com/hujiulong/gcoord/blob/main/test/unit/crs/WGS84.spec.ts
# https://github.com/hujiulong/gcoord/blob/main/test/unit/crs/GCJ02.spec.ts
# https://github.com/hujiulong/gcoord/blob/main/test/unit/crs/BD09.spec.ts
GCOORD_123_45 = {
    "wgs84_to_gcj02": (wgs84_to_gcj02, (123.00607541, 45.00197815)),
    "wgs84_to_bd09": (wgs84_to_bd09, (123.0124491, 45.0083293)),
    "gcj02_to_wgs84": (gcj02_to_wgs84, (122.99395597, 44.99804071)),
    "gcj02_to_bd09": (gcj02_to_bd09, (123.00636499, 45.00636899)),
    "bd09_to_gcj02": (bd09_to_gcj02, (122.99363304, 44.99365430)),
    "bd09_to_wgs84": (bd09_to_wgs84, (122.98762210, 44.99171540)),
}

# gcoord's city fixture (WGS-84, GCJ-02, BD-09 of real city centres; gcoord asserts 4 decimals):
# https://github.com/hujiulong/gcoord/blob/main/test/fixtures/china-cities.json
CITIES = {
    "驻马店市": ((114.0164322, 33.0133556), (114.022306, 33.0115324), (114.0287781, 33.0176697)),
    "邵阳市": ((111.4622119, 27.242124), (111.4677938, 27.2388981), (111.4742271, 27.2451662)),
    "那曲地区": ((92.0499619, 31.4784436), (92.0512438, 31.4762063), (92.0576832, 31.4824421)),
    "沈阳市": ((123.4253306, 41.8032629), (123.4314787, 41.8057023), (123.438095, 41.8114013)),
    "泉州市": ((118.6711365, 24.8770487), (118.6756787, 24.8741363), (118.6821251, 24.8804872)),
    "酒泉市": ((98.4937175, 39.7319946), (98.4943595, 39.7328234), (98.5008441, 39.7388949)),
}


@pytest.mark.parametrize(("wgs", "gcj"), EVILTRANSFORM.values(), ids=list(EVILTRANSFORM))
def test_wgs84_to_gcj02_matches_eviltransform(wgs: tuple[float, float], gcj: tuple[float, float]) -> None:
    assert wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=1e-9)
    # The iterated inverse recovers the WGS-84 point far below the 1e-6° asked of it.
    assert gcj02_to_wgs84(*gcj) == pytest.approx(wgs, abs=1e-9)


@pytest.mark.parametrize(("function", "expected"), GCOORD_123_45.values(), ids=list(GCOORD_123_45))
def test_matches_gcoord_at_123_45(function, expected: tuple[float, float]) -> None:
    # gcoord's own inverses are one-step approximations: agreement to 1e-6° is all there is.
    assert function(123.0, 45.0) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(("wgs", "gcj", "bd"), CITIES.values(), ids=list(CITIES))
def test_matches_gcoord_city_fixtures(
    wgs: tuple[float, float], gcj: tuple[float, float], bd: tuple[float, float]
) -> None:
    # The fixture's GCJ-02 values come rounded from a map service: 1e-5° (about a metre).
    assert wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=1e-5)
    assert wgs84_to_bd09(*wgs) == pytest.approx(bd, abs=1e-5)
    assert bd09_to_gcj02(*bd) == pytest.approx(gcj, abs=1e-6)


def test_vectorised_round_trips_across_china() -> None:
    rng = np.random.default_rng(3)
    lon = rng.uniform(73.7, 135.0, 2000)
    lat = rng.uniform(18.0, 53.5, 2000)
    for forward, inverse in ((wgs84_to_gcj02, gcj02_to_wgs84), (wgs84_to_bd09, bd09_to_wgs84)):
        back_lon, back_lat = inverse(*forward(lon, lat))
        assert back_lon.shape == lon.shape
        assert np.abs(back_lon - lon).max() < 1e-7
        assert np.abs(back_lat - lat).max() < 1e-7
    back_lon, back_lat = bd09_to_gcj02(*gcj02_to_bd09(lon, lat))
    assert max(np.abs(back_lon - lon).max(), np.abs(back_lat - lat).max()) < 1e-7


def test_offsets_are_a_few_hundred_metres_inside_china_and_none_outside() -> None:
    lon, lat = np.array([116.39, 2.35, -74.0, 183.0]), np.array([39.9, 48.86, 40.7, 45.0])
    assert out_of_china(lon, lat).tolist() == [False, True, True, True]
    gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
    shift_m = np.hypot((gcj_lon - lon) * 85_000, (gcj_lat - lat) * 111_000)
    assert 100 < shift_m[0] < 1000
    assert shift_m[1:].tolist() == [0.0, 0.0, 0.0]
    assert bd09_to_wgs84(lon[1:], lat[1:])[0].tolist() == lon[1:].tolist()


def test_scalars_in_floats_out_and_shapes_kept() -> None:
    result = wgs84_to_gcj02(116.39, 39.9)
    assert all(type(v) is float for v in result)
    grid_lon, grid_lat = np.meshgrid(np.linspace(110, 120, 4), np.linspace(25, 35, 3))
    out_lon, out_lat = gcj02_to_wgs84(grid_lon, grid_lat)
    assert out_lon.shape == out_lat.shape == (3, 4)
    with pytest.raises(ValueError, match="differ in shape"):
        wgs84_to_gcj02([116.0, 117.0], [39.0])


@pytest.mark.parametrize(
    ("datum", "function"),
    [("wgs84", None), ("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)],
)
def test_to_display(datum: str, function) -> None:
    point = (114.3055, 30.5928)
    expected = point if function is None else function(*point)
    assert to_display(*point, datum=datum) == expected  # type: ignore[arg-type]


def test_to_display_rejects_unknown_datums() -> None:
    with pytest.raises(ValueError, match="'gcj'"):
        to_display(114.0, 30.0, datum="gcj")  # type: ignore[arg-type]
