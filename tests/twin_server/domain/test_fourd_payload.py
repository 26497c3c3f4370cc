"""The binary 4D payload: layout, round trip, limits, and its JSON twin."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest

from twin_server.domain.fourd import ElementDates
from twin_server.domain.fourd_payload import (
    DATE_COLUMNS,
    HEADER_SIZE,
    MAX_DAY_SPAN,
    decode_fourd,
    encode_fourd,
    fourd_json,
    payload_size,
)

D = 20_000


def random_dates(n: int, *, seed: int = 1, task_count: int = 500, spread: int = 3_000) -> ElementDates:
    rng = np.random.default_rng(seed)
    columns = []
    for _ in DATE_COLUMNS:
        column = (D + rng.integers(-spread, spread, n)).astype(np.float64)
        column[rng.random(n) < 0.3] = np.nan
        columns.append(column)
    task_index = rng.integers(0, task_count, n).astype(np.int32)
    task_index[rng.random(n) < 0.1] = -1
    return ElementDates(*columns, task_index)


def dates_of(**columns) -> ElementDates:
    n = len(columns.get("task_index", next(iter(columns.values()))))
    filled = {name: np.asarray(columns.get(name, [math.nan] * n), dtype=np.float64) for name in DATE_COLUMNS}
    return ElementDates(**filled, task_index=np.asarray(columns.get("task_index", [0] * n), dtype=np.int32))


def assert_same(a: ElementDates, b: ElementDates) -> None:
    for name in DATE_COLUMNS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)  # NaN == NaN here
    np.testing.assert_array_equal(a.task_index, b.task_index)
    assert b.task_index.dtype == np.int32
    assert all(getattr(b, name).dtype == np.float64 for name in DATE_COLUMNS)


@pytest.mark.parametrize("n", [0, 1, 2, 7, 1_000, 1_001])
def test_round_trip(n: int) -> None:
    dates = random_dates(n, seed=n)
    data = encode_fourd(dates, task_count=500)
    assert len(data) == payload_size(n, task_count=500) and len(data) % 2 == 0
    decoded, task_count = decode_fourd(data)
    assert task_count == 500
    assert_same(dates, decoded)
    assert decode_fourd(bytearray(data))[1] == 500 and decode_fourd(memoryview(data))[1] == 500


def test_header_and_columns_are_laid_out_as_documented() -> None:
    dates = dates_of(
        planned_start=[D, D + 2, math.nan],
        planned_finish=[D + 5, math.nan, math.nan],
        baseline_finish=[D + 4, D + 9, math.nan],
        actual_start=[D - 3, math.nan, math.nan],  # the earliest date: the base day
        actual_finish=[math.nan, math.nan, math.nan],
        task_index=[4, -1, 0],
    )
    data = encode_fourd(dates, task_count=5)
    magic, version, flags, n, tasks, base_day = struct.unpack_from("<4sHHIIi", data)
    assert (magic, version, flags, n, tasks, base_day) == (b"E4D1", 1, 0, 3, 5, D - 3)
    assert data[20:32] == bytes(12)
    columns = struct.unpack_from("<15H", data, HEADER_SIZE)
    assert columns == (3, 5, 0xFFFF, 8, 0xFFFF, 0xFFFF, 7, 12, 0xFFFF, 0, 0xFFFF, 0xFFFF) + (0xFFFF,) * 3
    assert data[62:64] == b"\0\0"  # 32 + 30 bytes of columns, padded to 64
    assert struct.unpack_from("<3H", data, 64) == (4, 0xFFFF, 0)
    assert len(data) == 70


def test_u32_task_index_from_65535_tasks() -> None:
    dates = random_dates(101, task_count=70_000)
    assert len(encode_fourd(dates, task_count=70_000)) == payload_size(101, task_count=70_000)
    for task_count, wide in [(65_534, False), (65_535, True), (70_000, True)]:
        small = dates_of(planned_start=[D, D], task_index=[task_count - 1, -1])
        data = encode_fourd(small, task_count=task_count)
        assert struct.unpack_from("<H", data, 6)[0] == int(wide)
        assert len(data) == HEADER_SIZE + 20 + (8 if wide else 4)
        none = b"\xff\xff\xff\xff" if wide else b"\xff\xff"
        assert data.endswith(none)
        decoded, count = decode_fourd(data)
        assert count == task_count and list(decoded.task_index) == [task_count - 1, -1]
    decoded, _ = decode_fourd(encode_fourd(dates, task_count=70_000))
    assert_same(dates, decoded)


def test_100k_elements_fit_in_2_mb() -> None:
    dates = random_dates(100_000, task_count=2_000)
    data = encode_fourd(dates, task_count=2_000)
    assert len(data) == 32 + 100_000 * 12 <= 2_000_000
    assert payload_size(100_000, task_count=100_000) == 32 + 100_000 * 14 <= 2_000_000


def test_base_day_is_the_earliest_date_or_zero() -> None:
    data = encode_fourd(dates_of(planned_finish=[-500.0, 30.0]), task_count=1)
    assert struct.unpack_from("<i", data, 16)[0] == -500
    assert decode_fourd(data)[0].planned_finish.tolist() == [-500.0, 30.0]
    empty = dates_of(planned_start=[math.nan, math.nan], task_index=[-1, -1])
    data = encode_fourd(empty, task_count=0)
    assert struct.unpack_from("<i", data, 16)[0] == 0
    assert_same(empty, decode_fourd(data)[0])


def test_the_widest_span_is_65534_days() -> None:
    widest = dates_of(planned_start=[D], actual_finish=[D + MAX_DAY_SPAN])
    assert_same(widest, decode_fourd(encode_fourd(widest, task_count=1))[0])
    with pytest.raises(ValueError, match="span 65535 days"):
        encode_fourd(dates_of(planned_start=[D], actual_finish=[D + MAX_DAY_SPAN + 1]), task_count=1)


@pytest.mark.parametrize("bad", [D + 0.5, D - 1e-9, math.inf, -math.inf])
def test_days_must_be_whole(bad: float) -> None:
    dates = dates_of(planned_start=[D, D], baseline_finish=[D, bad])
    with pytest.raises(ValueError, match=r"baseline_finish of element 1 .*whole days"):
        encode_fourd(dates, task_count=1)
    with pytest.raises(ValueError, match="whole days"):
        fourd_json(dates, task_count=1)


@pytest.mark.parametrize(("task_index", "task_count"), [([0, 5], 5), ([-2, 0], 5), ([0], 0)])
def test_task_indices_must_be_in_range(task_index, task_count) -> None:
    with pytest.raises(ValueError, match="task indices"):
        encode_fourd(
            dates_of(planned_start=[D] * len(task_index), task_index=task_index), task_count=task_count
        )


def test_bad_payloads_are_refused_with_a_clear_message() -> None:
    data = encode_fourd(random_dates(9), task_count=500)
    with pytest.raises(ValueError, match="not a 4D payload: magic b'glTF'"):
        decode_fourd(b"glTF" + data[4:])
    with pytest.raises(ValueError, match="version 2 is not supported"):
        decode_fourd(data[:4] + struct.pack("<H", 2) + data[6:])
    with pytest.raises(ValueError, match="unknown flags 0x0002"):
        decode_fourd(data[:6] + struct.pack("<H", 2) + data[8:])
    with pytest.raises(ValueError, match="must be 142 bytes, got 140"):
        decode_fourd(data[:-2])
    with pytest.raises(ValueError, match="must be 142 bytes, got 146"):
        decode_fourd(data + bytes(4))
    with pytest.raises(ValueError, match="too short: 31 bytes"):
        decode_fourd(data[:31])
    with pytest.raises(ValueError, match="too short"):
        decode_fourd(b"")
    with pytest.raises(ValueError, match="task index 500"):
        decode_fourd(data[:-2] + struct.pack("<H", 500))


def test_json_twin() -> None:
    dates = dates_of(
        planned_start=[D, math.nan],
        planned_finish=[D + 3, math.nan],
        baseline_finish=[D + 2, math.nan],
        actual_start=[D - 1, math.nan],
        actual_finish=[math.nan, -7.0],
        task_index=[2, -1],
    )
    result = fourd_json(dates, task_count=3)
    assert result == {
        "format": "erji-4d-json-1",
        "day_zero": "1970-01-01",
        "element_count": 2,
        "task_count": 3,
        "planned_start": [D, None],
        "planned_finish": [D + 3, None],
        "baseline_finish": [D + 2, None],
        "actual_start": [D - 1, None],
        "actual_finish": [None, -7],
        "task_index": [2, None],
    }
    assert all(type(v) is int for v in result["planned_start"][:1] + result["task_index"][:1])


def test_json_and_binary_carry_the_same_content() -> None:
    dates = random_dates(300)
    as_json = fourd_json(dates, task_count=500)
    decoded, _ = decode_fourd(encode_fourd(dates, task_count=500))
    for name in DATE_COLUMNS:
        assert as_json[name] == [None if np.isnan(v) else int(v) for v in getattr(decoded, name)]
    assert as_json["task_index"] == [None if t < 0 else int(t) for t in decoded.task_index]
