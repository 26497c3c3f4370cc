"""Request and response bodies of IoT monitoring: devices, monitor points and their
thresholds, the report of an ingested batch, readings and aggregates for charts, and the
state of every point (and the colour of every linked element) now or at a past moment.

A threshold bound in a request is a number, ``null`` (inherit the metric's default) or
``"off"`` (no bound on that side, even where the metric has a default); responses show
a point's own bounds the same way and the thresholds in force as plain numbers.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, StringConstraints

from ..domain.sensors import Metric
from .common import GlobalIdText, Input, Public, UtcDatetime

__all__ = [
    "DeviceCreate",
    "DevicePublic",
    "IngestPublic",
    "PointCreate",
    "PointPublic",
    "PointUpdate",
    "SensorStatesPublic",
    "SeriesPublic",
]

_MAX_ID = 2_147_483_647
_OFF = "off"

#: A point code: it names the point in payloads and in the MQTT topic twin/{project}/{point}.
PointCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[^/+#\x00-\x1f\x7f]+$"),
]
DeviceCode = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
DeviceType = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, min_length=1, max_length=32, pattern=r"^[a-z0-9_]+$"
    ),
]
Lon = Annotated[float, Field(ge=-180, le=180, description="WGS-84 longitude (degrees)")]
Lat = Annotated[float, Field(ge=-90, le=90, description="WGS-84 latitude (degrees)")]
Seconds = Annotated[float, Field(ge=0, le=7 * 86_400)]
#: A bound in a request: a number, null (inherit the default) or "off" (no bound).
BoundIn = float | Literal["off"] | None


def _off_if_infinite(value: object) -> object:
    return _OFF if isinstance(value, float) and math.isinf(value) else value


BoundOut = Annotated[float | Literal["off"] | None, BeforeValidator(_off_if_infinite)]


class DeviceCreate(Input):
    code: DeviceCode = Field(examples=["INC-01"], description="unique in the project")
    device_type: DeviceType = Field(
        examples=["excavation"],
        description="dust, noise, crane, hoist, excavation, formwork, curing_room, weighbridge, gate, …",
    )
    name: Label | None = None
    serial: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    protocol: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = Field(
        default=None, examples=["mqtt"]
    )
    heartbeat_timeout_s: float = Field(
        600.0, gt=0, le=30 * 86_400, description="silent for longer than this (s), the device is offline"
    )
    lon: Lon | None = None
    lat: Lat | None = None


class DevicePublic(Public):
    id: int
    project_id: int
    code: str
    name: str | None
    device_type: str
    serial: str | None
    protocol: str | None
    heartbeat_timeout_s: float
    last_seen_at: UtcDatetime | None
    lon: float | None
    lat: float | None
    created_at: UtcDatetime


class _Bounds(Input):
    """The six bounds of a point (预警 warn / 报警 alarm / 控制 control × lower / upper)."""

    warn_lower: BoundIn = None
    warn_upper: BoundIn = None
    alarm_lower: BoundIn = None
    alarm_upper: BoundIn = None
    control_lower: BoundIn = None
    control_upper: BoundIn = None

    def threshold_changes(self) -> dict[str, float | None]:
        """The bounds the request names, "off" as ±inf (``domain.sensors.ThresholdOverrides``)."""
        names = ("warn_lower", "warn_upper", "alarm_lower", "alarm_upper", "control_lower", "control_upper")
        out: dict[str, float | None] = {}
        for name in names:
            if name in self.model_fields_set:
                value = getattr(self, name)
                out[name] = (math.inf if name.endswith("upper") else -math.inf) if value == _OFF else value
        return out


class PointCreate(_Bounds):
    device_id: int = Field(ge=1, le=_MAX_ID)
    code: PointCode = Field(examples=["S-07"], description="unique in the project; no / + #")
    metric: Metric
    name: Label | None = None
    persist_s: Seconds = Field(0.0, description="how long a tier must hold before it fires (s)")
    element_global_id: GlobalIdText | None = Field(default=None, description="the model element it watches")
    space_global_id: GlobalIdText | None = None
    lon: Lon | None = None
    lat: Lat | None = None


class PointUpdate(_Bounds):
    """Only the fields given change; a bound given as null inherits the default again."""

    persist_s: Seconds | None = None


class BoundsPublic(Public):
    lower: float | None
    upper: float | None


class ThresholdsPublic(Public):
    warn: BoundsPublic
    alarm: BoundsPublic
    control: BoundsPublic


class OverridesPublic(Public):
    warn_lower: BoundOut
    warn_upper: BoundOut
    alarm_lower: BoundOut
    alarm_upper: BoundOut
    control_lower: BoundOut
    control_upper: BoundOut


class PointPublic(Public):
    id: int
    project_id: int
    device_id: int
    device_code: str
    code: str
    name: str | None
    metric: str
    unit: str
    overrides: OverridesPublic = Field(description="the point's own bounds (null: the metric's default)")
    thresholds: ThresholdsPublic = Field(description="the thresholds in force (by day, for noise)")
    night_thresholds: ThresholdsPublic | None = Field(description="noise: the limits 22:00–06:00 China time")
    persist_s: float
    element_global_id: str | None
    space_global_id: str | None
    lon: float | None
    lat: float | None
    tier: str = Field(description="ok / warn / alarm / control, as the latest readings left it")
    tier_since: UtcDatetime | None
    tier_value: float | None
    last_value: float | None
    last_ts: UtcDatetime | None
    created_at: UtcDatetime
    updated_at: UtcDatetime | None


class RejectPublic(Public):
    position: int | None = Field(description="index in a JSON list, line number in CSV (header: 1)")
    code: str
    reason: str
    raw: str


#: The rejected items listed in a report (all are counted).
MAX_LISTED_REJECTS = 100


class IngestPublic(Public):
    source: str
    received: int = Field(description="well-formed readings in the batch")
    accepted: int = Field(description="stored at a new (point, ts)")
    updated: int = Field(description="replaced the value stored at their (point, ts)")
    duplicates: int = Field(description="changed nothing (already stored, or repeated in the batch)")
    rejected: int
    rejected_by_code: dict[str, int]
    rejects: list[RejectPublic] = Field(description=f"the first {MAX_LISTED_REJECTS} rejected items")
    points: list[str] = Field(description="points whose readings changed")
    alerts_opened: int
    alerts_updated: int
    alerts_resolved: int

    @classmethod
    def of(cls, report) -> IngestPublic:
        return cls(
            source=report.source,
            received=report.received,
            accepted=report.accepted,
            updated=report.updated,
            duplicates=report.duplicates,
            rejected=len(report.rejected),
            rejected_by_code=dict(Counter(r.code.value for r in report.rejected)),
            rejects=[RejectPublic.model_validate(r) for r in report.rejected[:MAX_LISTED_REJECTS]],
            points=list(report.points),
            alerts_opened=report.alerts_opened,
            alerts_updated=report.alerts_updated,
            alerts_resolved=report.alerts_resolved,
        )


class ReadingPublic(Public):
    ts: UtcDatetime
    value: float
    quality: str


class AggregatePublic(Public):
    bucket_start: UtcDatetime
    count: int
    min: float
    max: float
    mean: float
    last: float
    last_at: UtcDatetime


class SeriesPublic(Public):
    point_id: int
    code: str
    metric: str
    unit: str
    bucket: Literal["raw", "minute", "hour"]
    start: UtcDatetime
    end: UtcDatetime
    thresholds: ThresholdsPublic = Field(description="the bands to draw behind the line")
    night_thresholds: ThresholdsPublic | None
    persist_s: float
    readings: list[ReadingPublic] = Field(description="bucket=raw")
    aggregates: list[AggregatePublic] = Field(description="bucket=minute or hour")
    truncated: bool = Field(description="more rows than the limit: ask a coarser bucket or a shorter range")

    @classmethod
    def of(cls, series) -> SeriesPublic:
        point = series.point
        return cls(
            point_id=point.id,
            code=point.code,
            metric=point.metric.value,
            unit=point.unit,
            bucket=series.bucket,
            start=series.start,
            end=series.end,
            thresholds=ThresholdsPublic.model_validate(point.thresholds),
            night_thresholds=ThresholdsPublic.model_validate(point.night_thresholds)
            if point.night_thresholds
            else None,
            persist_s=point.persist_s,
            readings=[ReadingPublic.model_validate(r) for r in series.readings],
            aggregates=[AggregatePublic.model_validate(a) for a in series.aggregates],
            truncated=series.truncated,
        )


class PointStatePublic(Public):
    point_id: int
    code: str
    name: str | None
    metric: str
    unit: str
    device_code: str
    element_global_id: str | None
    space_global_id: str | None
    condition: str = Field(description="no_data, ok, offline, warn, alarm, control: the viewer's colour")
    tier: str = Field(description="the tier in force (it held for the point's persist_s)")
    since: UtcDatetime | None = Field(description="when the tier came into force")
    value: float | None = Field(description="the reading that brought the tier into force")
    bound: float | None
    side: str | None
    exceeding_since: UtcDatetime | None
    pending: str | None = Field(description="a higher tier reached but not held long enough yet")
    pending_fires_at: UtcDatetime | None
    latest_value: float | None
    latest_ts: UtcDatetime | None
    latest_tier: str
    last_seen: UtcDatetime | None
    offline: bool

    @classmethod
    def of(cls, status) -> PointStatePublic:
        state = status.state
        return cls(
            point_id=status.point_id,
            code=status.code,
            name=status.name,
            metric=status.metric.value,
            unit=status.unit,
            device_code=status.device_code,
            element_global_id=status.element_global_id,
            space_global_id=status.space_global_id,
            condition=state.condition.value,
            tier=state.tier.value,
            since=state.since,
            value=state.value,
            bound=state.bound,
            side=state.side,
            exceeding_since=state.exceeding_since,
            pending=state.pending.value if state.pending else None,
            pending_fires_at=state.pending_fires_at,
            latest_value=state.latest.value if state.latest else None,
            latest_ts=state.latest.ts if state.latest else None,
            latest_tier=state.latest_tier.value,
            last_seen=state.last_seen,
            offline=state.offline,
        )


class SensorStatesPublic(Public):
    at: UtcDatetime
    live: bool = Field(description="true: now, from the stored state; false: recomputed for a past moment")
    elements: dict[str, str] = Field(description="element GlobalId → the worst condition of its points")
    points: list[PointStatePublic]

    @classmethod
    def of(cls, states) -> SensorStatesPublic:
        return cls(
            at=states.at,
            live=states.live,
            elements={gid: condition.value for gid, condition in states.elements.items()},
            points=[PointStatePublic.of(s) for s in states.points],
        )
