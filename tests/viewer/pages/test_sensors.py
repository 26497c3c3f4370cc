"""The sensors side of the model page without a server: the moment a timeline day means, the
byte per GLB row the 3D view paints, the pins, the chart's bands and data, and the panel's
requests with a stand-in client."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from viewer.client import PointState, ReadingSeries, SensorStates, SeriesPoint, Thresholds
from viewer.i18n import CATALOGUE, text
from viewer.pages.sensors import (
    CHINA_TZ,
    SENSOR_CODES,
    Band,
    SensorsPanel,
    chart_data,
    chart_window,
    condition_bytes,
    point_detail_html,
    sensor_chart,
    sensor_moment,
    sensor_pins,
    threshold_bands,
)

TODAY = dt.date(2026, 12, 6)
NOW = dt.datetime(2026, 12, 6, 3, 30, tzinfo=dt.UTC)  # 11:30 China time
UTC = dt.UTC


def en(key: str) -> str:
    return text(key, "en")


def zh(key: str) -> str:
    return text(key, "zh")


def _point(pid: int, code: str, gid: str | None, condition: str, **kw) -> PointState:
    values = {
        "name": None,
        "metric": "displacement",
        "unit": "mm",
        "device_code": "INC-01",
        "tier": "ok",
        "since": None,
        "value": None,
        "latest_value": 3.5,
        "latest_ts": NOW,
        "pending": None,
        "offline": False,
        "last_seen": NOW,
    } | kw
    return PointState(point_id=pid, code=code, element_global_id=gid, condition=condition, **values)


# ---------------------------------------------------------------------------- the moment


def test_the_timeline_day_means_now_today_and_the_end_of_a_past_day_in_china_time() -> None:
    assert sensor_moment(None, TODAY) is None
    assert sensor_moment(TODAY, TODAY) is None
    assert sensor_moment(TODAY + dt.timedelta(days=3), TODAY) is None  # the future is not known yet
    end = sensor_moment(dt.date(2026, 12, 1), TODAY)
    assert end.isoformat() == "2026-12-01T23:59:59.999999+08:00"
    assert end.astimezone(UTC) == dt.datetime(2026, 12, 1, 15, 59, 59, 999999, tzinfo=UTC)
    # The day after starts right after it: no reading falls between two timeline days.
    assert end + dt.timedelta(microseconds=1) == dt.datetime(2026, 12, 2, tzinfo=CHINA_TZ)


def test_the_chart_window_ends_at_the_moment_shown() -> None:
    assert chart_window(None, NOW, "24h") == (NOW - dt.timedelta(hours=24), NOW, "minute")
    past = sensor_moment(dt.date(2026, 12, 1), TODAY)
    assert chart_window(past, NOW, "7d") == (past - dt.timedelta(days=7), past, "hour")


# ---------------------------------------------------------------------------- colours and pins


def test_condition_bytes_are_one_per_glb_row_and_zero_where_nothing_is_watched() -> None:
    elements = {"A": "alarm", "B": "ok", "C": "control", "D": "offline", "E": "sparkle", "Z": "alarm"}
    rows = {"A": 0, "B": 2, "C": 3, "D": 4, "E": 5, "F": 1, "Y": 9}  # Z: not in this revision
    painted = condition_bytes(elements, rows, 6)
    assert list(painted) == [5, 0, 2, 6, 3, 1]  # unknown condition: no data
    assert list(condition_bytes({"W": "warn", "N": "no_data"}, {"W": 1, "N": 0}, 2)) == [1, 4]
    assert condition_bytes(elements, rows, 0) == b""  # no model loaded: nothing to paint
    assert condition_bytes({"Y": "alarm"}, rows, 6) == bytes(6)  # a row beyond the model: skipped
    assert SENSOR_CODES == {"no_data": 1, "ok": 2, "offline": 3, "warn": 4, "alarm": 5, "control": 6}


def test_pins_are_the_points_on_elements_of_the_revision_shown() -> None:
    points = [
        _point(1, "S-01", "A", "alarm", name="基坑北侧", latest_value=32.25),
        _point(2, "S-02", None, "ok"),  # on no element
        _point(3, "S-03", "Z", "ok"),  # on an element this revision lacks
        _point(4, "S-04", "B", "no_data", latest_value=None),
    ]
    pins = sensor_pins(points, {"A": 7, "B": 0}, zh)
    assert pins == [
        {"id": 1, "code": "S-01", "row": 7, "condition": "alarm", "title": "S-01 基坑北侧 · 报警 32.25 mm"},
        {"id": 4, "code": "S-04", "row": 0, "condition": "no_data", "title": "S-04 · 无数据"},
    ]


# ---------------------------------------------------------------------------- the chart


def test_bands_shade_beyond_each_bound_up_to_the_next_tier() -> None:
    upper = Thresholds(warn=(None, 20.0), alarm=(None, 30.0), control=(None, 40.0))
    assert threshold_bands(upper) == [
        Band("warn", 20.0, 30.0),
        Band("alarm", 30.0, 40.0),
        Band("control", 40.0, None),
    ]
    both = Thresholds(warn=(-10.0, 10.0), alarm=(None, 15.0), control=(-30.0, None))
    assert threshold_bands(both) == [
        Band("warn", 10.0, 15.0),
        Band("warn", -30.0, -10.0),  # below: down to the next tier that has a lower bound
        Band("alarm", 15.0, None),
        Band("control", None, -30.0),
    ]
    assert threshold_bands(Thresholds((None, None), (None, None), (None, None))) == []


def _series(points, bucket="minute", night=None) -> ReadingSeries:
    return ReadingSeries(
        point_id=1,
        code="S-01",
        metric="displacement",
        unit="mm",
        bucket=bucket,
        start=NOW - dt.timedelta(hours=24),
        end=NOW,
        thresholds=Thresholds(warn=(None, 20.0), alarm=(None, 30.0), control=(None, 40.0)),
        night_thresholds=night,
        points=tuple(points),
        truncated=False,
    )


def test_chart_data_is_in_china_time_and_its_range_shows_every_band() -> None:
    series = _series(
        [
            SeriesPoint(NOW - dt.timedelta(hours=2), 5.0, 4.0, 6.0),
            SeriesPoint(NOW - dt.timedelta(hours=1), 33.0, 31.0, 35.0),
        ]
    )
    data = chart_data(series)
    assert data.times == [dt.datetime(2026, 12, 6, 9, 30), dt.datetime(2026, 12, 6, 10, 30)]  # UTC+8, naive
    assert data.values == [5.0, 33.0] and data.lows == [4.0, 31.0] and data.highs == [6.0, 35.0]
    assert data.start == dt.datetime(2026, 12, 5, 11, 30) and data.end == dt.datetime(2026, 12, 6, 11, 30)
    assert [b.tier for b in data.bands] == ["warn", "alarm", "control"]
    lo, hi = data.y_range
    assert lo < 4.0 and hi > 40.0  # the readings and every bound (so the bands are in view)
    # No readings at all: the bands alone set the range.
    empty = chart_data(_series([]))
    assert empty.times == [] and empty.y_range[0] < 20.0 < 40.0 < empty.y_range[1]

    figure = sensor_chart(data, en)
    from bokeh.models import BoxAnnotation

    boxes = [r for r in figure.center if isinstance(r, BoxAnnotation)]
    assert [(b.bottom, b.top) for b in boxes][:2] == [(20.0, 30.0), (30.0, 40.0)]
    assert figure.y_range.start == lo and figure.y_range.end == hi
    assert figure.toolbar.logo is None


def test_point_detail_says_tier_since_and_value_and_escapes_everything() -> None:
    since = dt.datetime(2026, 12, 6, 1, 0, tzinfo=UTC)
    point = _point(
        1,
        "S-<01>",
        "2O2Fr$t4X7Zf8NOew3FLOH",
        "alarm",
        name="<b>北侧</b>",
        tier="alarm",
        since=since,
        value=32.0,
        latest_value=33.5,
        pending="control",
    )
    page = point_detail_html(point, zh)
    assert "<b>北侧" not in page and "&lt;b&gt;北侧" in page and "S-&lt;01&gt;" in page
    assert "报警" in page and "2026-12-06 09:00" in page  # since, in China time
    assert "32 mm" in page and "33.5 mm" in page and "控制" in page  # trigger, latest, pending
    english = point_detail_html(point, en)
    assert "Alarm" in english and "Tier in force" in english
    assert "Choose a point" in point_detail_html(None, en)


def test_every_condition_tier_and_metric_of_the_server_has_words() -> None:
    from twin_server.domain.sensors import Condition, Metric, Tier

    assert {f"sensors_{c.value}" for c in Condition} | {"sensors_none"} <= set(CATALOGUE)
    assert {f"tier_{t.value}" for t in Tier} <= set(CATALOGUE)
    assert {f"metric_{m.value}" for m in Metric} <= set(CATALOGUE)
    assert (
        text("tier_alarm", "zh") == Tier.ALARM.label_zh
        and text("tier_control", "zh") == Tier.CONTROL.label_zh
    )
    assert {"mode_sensors", "legend_sensors", "tab_sensors"} <= set(CATALOGUE)


# ---------------------------------------------------------------------------- the panel


class FakeClient:
    """Records what the panel asks; answers with ``states`` (a past moment: ``past``)."""

    def __init__(self) -> None:
        self.asked_at: list[dt.datetime | None] = []
        self.looked_up: list[list[str]] = []
        self.series_asked: list[tuple] = []
        self.points = [_point(1, "S-01", "A", "alarm"), _point(2, "S-02", "B", "ok")]

    async def sensor_states(self, project_id: int, *, at=None) -> SensorStates:
        self.asked_at.append(at)
        if at is None:
            return SensorStates(NOW, True, {"A": "alarm", "B": "ok"}, tuple(self.points))
        ok = [_point(1, "S-01", "A", "ok"), self.points[1]]
        return SensorStates(at, False, {"A": "ok", "B": "ok"}, tuple(ok))

    async def element_rows(self, project_id: int, revision_id: int, global_ids) -> dict[str, int]:
        self.looked_up.append(list(global_ids))
        return {"A": 3, "B": 0}

    async def point_readings(self, project_id, point_id, *, start, end, bucket) -> ReadingSeries:
        self.series_asked.append((point_id, start, end, bucket))
        return _series([SeriesPoint(end - dt.timedelta(minutes=5), 33.0, 33.0, 33.0)], bucket=bucket)


def test_the_panel_asks_now_or_the_end_of_the_day_and_paints_the_rows() -> None:
    client = FakeClient()
    panel = SensorsPanel(client=client, today=TODAY, now=lambda: NOW, lang="en")

    async def scenario():
        await panel.load(project_id=4, revision_id=9)
        panel.element_count = 5
        await panel.refresh(day=TODAY)
        now_bytes, now_pins = panel.conditions, panel.pins
        assert panel.live and panel.moment_label == "Now (live)"
        await panel.choose(1)
        await panel.refresh(day=dt.date(2026, 12, 1))
        return now_bytes, now_pins

    now_bytes, now_pins = asyncio.run(scenario())
    assert client.asked_at == [None, sensor_moment(dt.date(2026, 12, 1), TODAY)]
    assert client.looked_up == [["A", "B"]]  # rows looked up once per revision
    assert list(now_bytes) == [2, 0, 0, 5, 0]
    assert [(p["id"], p["row"], p["condition"]) for p in now_pins] == [(1, 3, "alarm"), (2, 0, "ok")]
    # Back in time: A was fine then; the chart ends at that moment, minute buckets over 24 h.
    assert list(panel.conditions) == [2, 0, 0, 2, 0]
    assert not panel.live and "2026-12-01 23:59" in panel.moment_label
    first, second = client.series_asked
    assert first == (1, NOW - dt.timedelta(hours=24), NOW, "minute")
    end = sensor_moment(dt.date(2026, 12, 1), TODAY)
    assert second == (1, end - dt.timedelta(hours=24), end, "minute")
    assert panel.chart.object is not None and "Alarm" not in panel.detail.object  # A is ok then
    # A model of another size (another revision's bytes would not fit): painted again.
    panel.element_count = 4
    assert list(panel.conditions) == [2, 0, 0, 2]
    assert not panel.needs_refresh(dt.date(2026, 12, 1)) and panel.needs_refresh(TODAY)


@pytest.mark.parametrize("span, bucket, hours", [("24h", "minute", 24), ("7d", "hour", 168)])
def test_the_chart_range_chooses_the_bucket(span, bucket, hours) -> None:
    client = FakeClient()
    panel = SensorsPanel(client=client, today=TODAY, now=lambda: NOW)

    async def scenario():
        await panel.load(project_id=4, revision_id=9)
        await panel.refresh(day=None)
        panel.span = span
        await panel.choose(2)

    asyncio.run(scenario())
    point_id, start, end, asked = client.series_asked[-1]
    assert (point_id, asked, end - start) == (2, bucket, dt.timedelta(hours=hours))
    assert panel.chart_box.visible and "S-02" in panel.detail.object
