"""IoT monitoring: a project's devices and monitor points, reading batches in (JSON or CSV,
idempotent by point and timestamp), readings and aggregates out for charts, and the state
of every point and linked element now or at a past moment (the viewer's time travel).

Who may do what: anyone who reads the project reads its sensors; readings come in with
``report_progress`` (the site's accounts and gateways, like task actuals); devices, points
and thresholds are set up with ``manage_org`` (the region and HQ), because the thresholds
are the project's alarm limits, governed like the alert rules, and a site that could move
its own limits could silence its own alarms. Sensor alerts appear in ``/api/alerts``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AwareDatetime
from starlette.concurrency import run_in_threadpool

from ...domain.access import Capability
from ...domain.errors import UnsupportedFile
from ...domain.sensors import CHINA_TZ
from ...schemas.common import ErrorPublic
from ...schemas.sensors import (
    DeviceCreate,
    DevicePublic,
    IngestPublic,
    PointCreate,
    PointPublic,
    PointUpdate,
    SensorStatesPublic,
    SeriesPublic,
)
from ...services import sensors as sensor_service
from ..deps import Id, IdQuery, ProjectAccess, ProjectScope, RuntimeDep, SessionDep

router = APIRouter(prefix="/api/projects/{project_id}", tags=["sensors"])

Reader = Annotated[ProjectScope, Depends(ProjectAccess(Capability.READ))]
Reporter = Annotated[ProjectScope, Depends(ProjectAccess(Capability.REPORT_PROGRESS))]
Manager = Annotated[ProjectScope, Depends(ProjectAccess(Capability.MANAGE_ORG))]

_JSON_TYPES = frozenset({"application/json", "text/json"})
_CSV_TYPES = frozenset({"text/csv", "application/csv"})
_ZONES = {"utc": dt.UTC, "china": CHINA_TZ}
_BOUNDS = {"warn_lower", "warn_upper", "alarm_lower", "alarm_upper", "control_lower", "control_upper"}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --------------------------------------------------------------------------- setup


@router.post("/sensor-devices", status_code=201)
def register_device(body: DeviceCreate, scope: Manager, session: SessionDep) -> DevicePublic:
    """A device on site (code unique in the project). Silent for longer than its heartbeat
    timeout, it raises an offline alert."""
    device = sensor_service.register_device(session, project_id=scope.project.id, **body.model_dump())
    return DevicePublic.model_validate(device)


@router.get("/sensor-devices")
def list_devices(scope: Reader, session: SessionDep) -> list[DevicePublic]:
    return [
        DevicePublic.model_validate(d)
        for d in sensor_service.list_devices(session, project_id=scope.project.id)
    ]


@router.post("/monitor-points", status_code=201)
def register_point(body: PointCreate, scope: Manager, session: SessionDep) -> PointPublic:
    """A monitor point of one of the project's devices: its metric, its own threshold bounds
    over the metric's defaults (they must nest: warn inside alarm inside control), how long
    a tier must hold before it fires, and the model element it watches."""
    fields = body.model_dump(exclude=_BOUNDS)
    point = sensor_service.register_point(
        session, project_id=scope.project.id, thresholds=body.threshold_changes(), **fields
    )
    return PointPublic.model_validate(point)


@router.get("/monitor-points")
def list_points(scope: Reader, session: SessionDep, device_id: IdQuery | None = None) -> list[PointPublic]:
    points = sensor_service.list_points(session, project_id=scope.project.id, device_id=device_id)
    return [PointPublic.model_validate(p) for p in points]


@router.get("/monitor-points/{point_id}")
def read_point(point_id: Id, scope: Reader, session: SessionDep) -> PointPublic:
    point = sensor_service.get_point(session, project_id=scope.project.id, point_id=point_id)
    return PointPublic.model_validate(point)


@router.patch("/monitor-points/{point_id}")
def update_point(
    point_id: Id, body: PointUpdate, scope: Manager, runtime: RuntimeDep, session: SessionDep
) -> PointPublic:
    """Change a point's bounds (a bound set to null inherits the default again, "off" has
    none) or its persistence. The point is judged again at once, so its alert follows."""
    point = sensor_service.update_point(
        session,
        project_id=scope.project.id,
        point_id=point_id,
        thresholds=body.threshold_changes(),
        persist_s=body.persist_s,
        now=_now(),
    )
    runtime.queue.evaluate([scope.project.id])  # an alert may have moved: the KPIs follow
    return PointPublic.model_validate(point)


# --------------------------------------------------------------------------- readings


_READING = {
    "type": "object",
    "properties": {
        "point": {"type": "string", "description": "the point code"},
        "ts": {
            "description": "ISO 8601 with a UTC offset, or epoch seconds or milliseconds",
            "oneOf": [{"type": "string"}, {"type": "number"}],
        },
        "value": {"oneOf": [{"type": "number"}, {"type": "string"}]},
        "quality": {"type": "string", "enum": ["good", "suspect", "bad"]},
    },
    "required": ["point", "ts", "value"],
}
_BATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"type": "array", "items": _READING},
                        {
                            "type": "object",
                            "properties": {
                                "point": {"type": "string", "description": "default point of the items"},
                                "readings": {"type": "array", "items": _READING},
                            },
                            "required": ["readings"],
                        },
                    ]
                },
                "example": [{"point": "S-07", "ts": "2025-06-11T08:00:00+08:00", "value": 32.1}],
            },
            "text/csv": {
                "schema": {"type": "string"},
                "example": "point,ts,value,quality\nS-07,2025-06-11T08:00:00+08:00,32.1,good\n",
            },
        },
    },
}


@router.post(
    "/readings",
    openapi_extra=_BATCH_BODY,
    responses={
        207: {"model": IngestPublic, "description": "stored, but some items were rejected (listed)"},
        413: {"model": ErrorPublic, "description": "more readings or bytes than one batch may carry"},
        415: {"model": ErrorPublic, "description": "neither application/json nor text/csv"},
        422: {"model": ErrorPublic, "description": "not JSON, no CSV header, or no reading at all"},
    },
)
async def ingest_readings(
    request: Request,
    response: Response,
    scope: Reporter,
    runtime: RuntimeDep,
    session: SessionDep,
    assume_tz: Annotated[
        Literal["utc", "china"] | None,
        Query(description="the zone of timestamps written without an offset (default: refuse them)"),
    ] = None,
) -> IngestPublic:
    """A batch of readings: JSON (a list of ``{point, ts, value, quality?}`` or
    ``{"readings": [...]}``) or CSV (header ``point,ts,value[,quality]``). Idempotent by
    (point, ts): sending a batch again changes nothing, a new value at a stored (point, ts)
    replaces it. Bad items (malformed, an unknown point, another project's point) are
    counted and listed with their reason while the good ones are stored: 207 then, 200 when
    every item was taken. Thresholds are judged at once, and alerts raised, escalated or
    resolved."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media in _JSON_TYPES or media.endswith("+json"):
        payload_format = "json"
    elif media in _CSV_TYPES:
        payload_format = "csv"
    else:
        raise UnsupportedFile(
            f"send readings as application/json or text/csv, not {media or 'no content type'}",
            code="unsupported_media_type",
        )
    body = await request.body()
    settings = runtime.settings
    report = await run_in_threadpool(
        sensor_service.ingest_payload,
        session,
        project_id=scope.project.id,
        payload=body,
        payload_format=payload_format,
        now=_now(),
        source="http",
        batch_max=settings.sensor_batch_max,
        naive_tz=_ZONES.get(assume_tz) if assume_tz else None,
        retention_days=settings.sensor_retention_days,
    )
    if report.alerts_opened or report.alerts_updated or report.alerts_resolved:
        runtime.queue.evaluate([scope.project.id])  # open alarms count in the project's KPIs
    if report.rejected:
        response.status_code = 207
    return IngestPublic.of(report)


@router.get("/monitor-points/{point_id}/readings")
def read_readings(
    point_id: Id,
    scope: Reader,
    session: SessionDep,
    start: Annotated[AwareDatetime | None, Query(description="default: a day before end")] = None,
    end: Annotated[AwareDatetime | None, Query(description="default: now")] = None,
    bucket: Literal["raw", "minute", "hour"] = "raw",
    limit: Annotated[int, Query(ge=1, le=sensor_service.MAX_SERIES_ROWS)] = 10_000,
) -> SeriesPublic:
    """A point's readings, or its minute or hour aggregates (count, min, max, mean, last),
    oldest first, with its threshold bands for the chart."""
    end = end or _now()
    start = start or end - dt.timedelta(days=1)
    series = sensor_service.readings(
        session,
        project_id=scope.project.id,
        point_id=point_id,
        start=start,
        end=end,
        bucket=bucket,
        limit=limit,
    )
    return SeriesPublic.of(series)


@router.get("/sensor-states")
def sensor_states(
    scope: Reader,
    session: SessionDep,
    at: Annotated[
        AwareDatetime | None, Query(description="a past moment (time travel); default: now")
    ] = None,
) -> SensorStatesPublic:
    """Every point's state (tier in force, condition, latest reading, offline) and, per
    linked element GlobalId, the worst condition of its points: the viewer's ``sensors``
    colour mode. With ``at``: as it was then, recomputed from the stored readings."""
    states = sensor_service.sensor_states(session, project_id=scope.project.id, now=_now(), at=at)
    return SensorStatesPublic.of(states)
