"""Simulated monitoring for the demo portfolio (``twin simulate-sensors``): devices and
monitor points on each project, and realistic readings for them, with a few designed
threshold breaches, sent the way a site's gateways would send them.

Each project gets (codes are per project, so every project has the same ones)::

    INC-1  excavation monitoring station (heartbeat 30 min)
           DX-01 … DX-03   excavation wall displacement, mm, on model elements (a footing,
                           column or slab of the project's processed model); warn 20 / alarm
                           30 / control 40 mm held 10 min; every 5 min; slow drift, a daily
                           thermal swing of ±0.6 mm, noise
    ENV-1  dust and noise monitor at the site boundary (heartbeat 10 min)
           PM10-01         µg/m³, GB 3095 defaults (150 / 250 / 350) held 15 min; every 5 min;
                           higher in working hours
           NOISE-01        dB(A), GB 12523 day and night limits held 5 min; every 5 min; about
                           60 while the site works, 44 at night
    TC-1   tower crane safety monitor (heartbeat 10 min)
           TC-1-LOAD       hook load, t, rated 8 t: warn 7.2 / alarm 8 / control 8.8 at once;
                           every 2 min; lifts of 1–6 t every 8 minutes in working hours

**Designed breaches** (the first, second and third project of the selection; one project
may carry several when fewer are chosen):

* the first project's DX-02 ramps up over the last six hours, crosses warn and then alarm,
  and holds about 33 mm from 90 minutes before the end: a 预警 alert that escalates to 报警,
  still open at the end;
* the second project's PM10-01 has one reading of 420 µg/m³ (beyond control) among normal
  ones, ``min(8 h, ¾ of the span)`` before the end: a spike, which must **not** fire;
* the third project's ENV-1 falls silent ``min(2 h, ¼ of the span)`` before the end: it is
  offline (its alert is raised by the offline check: at once ``--via direct``, by the
  server's periodic round otherwise).

Everything else stays inside its warn band. Values are a pure function of (seed, project,
point, time), so a run is repeatable (``--seed``) and sending a span again changes nothing.

Channels: ``direct`` calls the services in this process (the database of the ``TWIN_*``
settings, development mode only: simulated readings must not mix with real ones); ``http``
logs in to a server and posts the batches to ``/api/projects/{id}/readings``; ``mqtt``
publishes to the broker for ``twin mqtt-bridge`` (points set up over HTTP when a server
``--url`` is given, else in the database).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import math
import signal
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Protocol

from .domain.access import Role
from .domain.errors import Conflict, InvalidInput, NotFound, Unavailable
from .domain.model import Principal
from .domain.sensors import CHINA_TZ, Metric, ParsedReading, rated_load_overrides

if TYPE_CHECKING:
    import argparse

    from .config import Settings
    from .runtime import Runtime

__all__ = [
    "DEVICES",
    "POINTS",
    "DeviceSpec",
    "DirectChannel",
    "HttpChannel",
    "MqttChannel",
    "PointSpec",
    "Scenario",
    "SimulationReport",
    "generate_readings",
    "pick_elements",
    "point_value",
    "run_simulation",
    "simulate_sensors",
    "stream_live",
]

log = logging.getLogger(__name__)

DEFAULT_SEED = 2026
MAX_HOURS = 7 * 24  # a week: 50 projects × a week is already about 750,000 readings
# Readings of one project go out in batches of this span (s), oldest first, as a gateway
# that buffered them would send them: alerts open, escalate and resolve along the way.
_BATCH_S = 3600


# --------------------------------------------------------------------------- the site


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    code: str
    device_type: str
    name: str
    heartbeat_timeout_s: float
    offset_m: tuple[float, float]  # east, north of the project's site point (m)


@dataclass(frozen=True, slots=True)
class PointSpec:
    code: str
    device: str
    metric: Metric
    name: str
    step_s: int  # one reading every step_s seconds, on multiples of it since the epoch
    persist_s: float
    thresholds: Mapping[str, float] = field(default_factory=dict)
    on_element: bool = False


def _bounds(overrides) -> dict[str, float]:
    return {
        f.name: getattr(overrides, f.name)
        for f in fields(overrides)
        if getattr(overrides, f.name) is not None
    }


# fmt: off
DEVICES = (
    DeviceSpec("INC-1", "excavation", "基坑自动化监测站", 1800.0, (-40.0, 30.0)),
    DeviceSpec("ENV-1", "environment", "扬尘噪声在线监测仪", 600.0, (60.0, -50.0)),
    DeviceSpec("TC-1", "crane", "1# 塔吊安全监控", 600.0, (10.0, 20.0)),
)
_PIT = {"warn_upper": 20.0, "alarm_upper": 30.0, "control_upper": 40.0}  # scenario 15's S-07
POINTS = (
    PointSpec("DX-01", "INC-1", Metric.DISPLACEMENT, "基坑围护水平位移 DX-01", 300, 600, _PIT, True),
    PointSpec("DX-02", "INC-1", Metric.DISPLACEMENT, "基坑围护水平位移 DX-02", 300, 600, _PIT, True),
    PointSpec("DX-03", "INC-1", Metric.DISPLACEMENT, "基坑围护水平位移 DX-03", 300, 600, _PIT, True),
    PointSpec("PM10-01", "ENV-1", Metric.PM10, "场界扬尘 PM10", 300, 900),
    PointSpec("NOISE-01", "ENV-1", Metric.NOISE, "场界噪声", 300, 300),
    PointSpec("TC-1-LOAD", "TC-1", Metric.LOAD, "1# 塔吊吊重（额定 8 t）", 120, 0,
              _bounds(rated_load_overrides(8.0))),
)
# fmt: on
_POINTS = {spec.code: spec for spec in POINTS}
#: Model elements the excavation points go on, in order of preference.
ELEMENT_CLASSES = ("IfcFooting", "IfcPile", "IfcColumn", "IfcSlab", "IfcWall")

BREACH_POINT, SPIKE_POINT, SILENT_DEVICE = "DX-02", "PM10-01", "ENV-1"
SPIKE_VALUE = 420.0  # µg/m³: beyond PM10's control bound (350)
_HELD_VALUE = 33.0  # mm: alarm (30) reached, control (40) not


def pick_elements(candidates: Sequence[tuple[str, str]], count: int) -> list[str]:
    """``count`` GlobalIds from ``(global_id, ifc_class)`` candidates in file order: the
    classes of ``ELEMENT_CLASSES`` in turn (a footing, a column, a slab …), each class's
    picks spread evenly over its elements; fewer when there are fewer.

    >>> pick_elements([("a", "IfcColumn"), ("b", "IfcColumn"), ("c", "IfcSlab")], 3)
    ['a', 'c', 'b']
    """
    by_class = {
        cls: [gid for gid, ifc_class in candidates if ifc_class.lower() == cls.lower()]
        for cls in ELEMENT_CLASSES
    }
    present = [cls for cls in ELEMENT_CLASSES if by_class[cls]]
    wanted: dict[str, int] = defaultdict(int)
    turn = 0
    while present and sum(wanted.values()) < min(count, sum(len(by_class[c]) for c in present)):
        cls = present[turn % len(present)]
        if wanted[cls] < len(by_class[cls]):
            wanted[cls] += 1
        turn += 1
    spread = {
        cls: [by_class[cls][(i * len(by_class[cls])) // n] for i in range(n)] for cls, n in wanted.items()
    }
    picked = []
    for i in range(max(wanted.values(), default=0)):
        picked += [spread[cls][i] for cls in present if i < wanted[cls]]
    return picked[:count]


# --------------------------------------------------------------------------- the values


@dataclass(frozen=True, slots=True)
class Scenario:
    """When the span ends and which project shows which breach (codes)."""

    end: dt.datetime
    hours: float
    breach_project: str
    spike_project: str
    silent_project: str

    @classmethod
    def of(cls, codes: Sequence[str], *, end: dt.datetime, hours: float) -> Scenario:
        if not codes:
            raise InvalidInput("no project to simulate")
        last = len(codes) - 1
        return cls(end, hours, codes[0], codes[min(1, last)], codes[min(2, last)])

    @property
    def start(self) -> dt.datetime:
        return self.end - dt.timedelta(hours=self.hours)

    @property
    def ramp_from(self) -> dt.datetime:
        return self.end - dt.timedelta(hours=6)

    @property
    def held_from(self) -> dt.datetime:
        return self.end - dt.timedelta(minutes=90)

    @property
    def spike_at(self) -> dt.datetime:
        """On the PM10 point's grid."""
        at = self.end - min(dt.timedelta(hours=8), dt.timedelta(hours=self.hours * 0.75))
        return _grid_floor(at, _POINTS[SPIKE_POINT].step_s)

    @property
    def silent_from(self) -> dt.datetime:
        return self.end - min(dt.timedelta(hours=2), dt.timedelta(hours=self.hours * 0.25))


def _grid_floor(ts: dt.datetime, step_s: float) -> dt.datetime:
    epoch = ts.timestamp()
    return dt.datetime.fromtimestamp(math.floor(epoch / step_s) * step_s, dt.UTC)


def _hash(seed: int, *key: object) -> bytes:
    return hashlib.blake2b(repr((seed, *key)).encode(), digest_size=16).digest()


def _uniform(seed: int, *key: object) -> float:
    """[0, 1), a pure function of its arguments."""
    return int.from_bytes(_hash(seed, *key)[:8], "big") / 2**64


def _gauss(seed: int, *key: object) -> float:
    """A standard normal draw (Box–Muller), a pure function of its arguments, cut at ±3."""
    digest = _hash(seed, *key)
    u1 = (int.from_bytes(digest[:8], "big") + 1) / (2**64 + 1)
    u2 = int.from_bytes(digest[8:], "big") / 2**64
    return max(-3.0, min(3.0, math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)))


def _local_hour(ts: dt.datetime) -> float:
    local = ts.astimezone(CHINA_TZ)
    return local.hour + local.minute / 60 + local.second / 3600


def _working(hour: float) -> bool:
    """07:00–12:00 and 13:00–18:00 China time: the site works."""
    return 7 <= hour < 12 or 13 <= hour < 18


def point_value(seed: int, project: str, point: str, ts: dt.datetime, scenario: Scenario) -> float | None:
    """The reading of ``point`` of ``project`` at ``ts`` (None: its device is silent then).

    Pure: the same arguments give the same value, whichever run or channel asks."""
    spec = _POINTS[point]
    if project == scenario.silent_project and spec.device == SILENT_DEVICE and ts > scenario.silent_from:
        return None
    second = int(ts.timestamp())
    noise = _gauss(seed, project, point, second)
    hour = _local_hour(ts)
    if spec.metric is Metric.DISPLACEMENT:
        # Slow creep towards the pit as it is dug (drift per day), a thermal swing peaking
        # at 14:00, instrument noise of 0.15 mm.
        base = 4.0 + 5.0 * _uniform(seed, project, point, "base")
        rate = 0.4 + 1.2 * _uniform(seed, project, point, "rate")
        days = max((ts - scenario.end) / dt.timedelta(days=1), -MAX_HOURS / 24)
        value = base + rate * days + 0.6 * math.sin(2 * math.pi * (hour - 8) / 24) + 0.15 * noise
        if project == scenario.breach_project and point == BREACH_POINT and ts >= scenario.ramp_from:
            if ts >= scenario.held_from:
                value = _HELD_VALUE + 0.5 * math.sin(second / 2000) + 0.15 * noise
            else:
                share = (ts - scenario.ramp_from) / (scenario.held_from - scenario.ramp_from)
                value = value * (1 - share) + _HELD_VALUE * share
        return round(value, 2)
    if spec.metric is Metric.PM10:
        if project == scenario.spike_project and ts == scenario.spike_at:
            return SPIKE_VALUE
        base = 55.0 + 20.0 * _uniform(seed, project, point, "base")
        works = 25.0 * math.sin(math.pi * (hour - 7) / 11) if 7 <= hour < 18 else 0.0
        return round(base + works + 6.0 * noise, 1)  # at most 55 + 20 + 25 + 18 = 118 < 150
    if spec.metric is Metric.NOISE:
        if _working(hour):
            level = 59.0 + 1.5 * math.sin(2 * math.pi * hour / 5)  # + noise: at most 63.5 < 65
        elif 12 <= hour < 13:
            level = 55.0
        elif 18 <= hour < 21:
            level = 54.0
        else:
            level = 44.0  # the night limit's warn band (50) is far off
        return round(level + noise, 1)
    if spec.metric is Metric.LOAD:
        minute = second // 60
        cycle, phase = divmod(minute, 8)
        if _working(hour) and phase < 4:  # hooked on for four minutes of every eight
            return round(1.2 + 5.0 * _uniform(seed, project, "lift", cycle) + 0.05 * noise, 2)  # ≤ 6.35 < 7.2
        return round(0.35 + 0.02 * noise, 2)  # the hook and rigging
    raise ValueError(f"no simulation for {spec.metric}")


def generate_readings(
    seed: int,
    project: str,
    scenario: Scenario,
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> list[ParsedReading]:
    """Every reading of ``project``'s points in ``(start, end]`` (default: the scenario's
    span), each point on its own grid, ordered by time then point."""
    start = start or scenario.start
    end = end or scenario.end
    found = []
    for spec in POINTS:
        ts = _grid_floor(start, spec.step_s) + dt.timedelta(seconds=spec.step_s)
        while ts <= end:
            value = point_value(seed, project, spec.code, ts, scenario)
            if value is not None:
                found.append(ParsedReading(spec.code, ts, value))
            ts += dt.timedelta(seconds=spec.step_s)
    return sorted(found, key=lambda r: (r.ts, r.point))


# --------------------------------------------------------------------------- channels


@dataclass(frozen=True, slots=True)
class SiteProject:
    id: int
    code: str
    lon: float | None
    lat: float | None


@dataclass(frozen=True, slots=True)
class Sent:
    """What one batch did; None where the channel cannot know (MQTT: the bridge stores)."""

    readings: int
    stored: int | None = None
    duplicates: int | None = None
    rejected: int | None = None
    alerts_opened: int | None = None
    alerts_updated: int | None = None
    alerts_resolved: int | None = None


class Channel(Protocol):
    """How the simulator reaches the twin: set-up (projects, devices, points, elements) and
    readings."""

    name: str

    def projects(self) -> list[SiteProject]: ...
    def devices(self, project: SiteProject) -> dict[str, int]: ...
    def add_device(
        self, project: SiteProject, spec: DeviceSpec, place: tuple[float, float] | None
    ) -> int: ...
    def points(self, project: SiteProject) -> set[str]: ...
    def add_point(
        self, project: SiteProject, device_id: int, spec: PointSpec, element: str | None, place
    ) -> None: ...
    def elements(self, project: SiteProject) -> list[tuple[str, str]]: ...
    def send(self, project: SiteProject, readings: Sequence[ParsedReading]) -> Sent: ...
    def check_offline(self, projects: Sequence[SiteProject], now: dt.datetime) -> int | None: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...


class DirectChannel:
    """The services, in this process, on ``runtime``'s database (development mode only)."""

    name = "direct"

    def __init__(self, runtime: Runtime) -> None:
        if not runtime.settings.development:
            raise Conflict(
                "simulated readings would mix with real ones: --via direct runs in development mode only "
                "(TWIN_DEVELOPMENT=1); use --via http against a test server otherwise"
            )
        self.runtime = runtime
        self._changed: set[int] = set()

    def projects(self) -> list[SiteProject]:
        from .services import orgs

        everything = Principal(0, "simulator", None, Role.ADMIN, 0, "/")
        with self.runtime.sessions() as session:
            found = orgs.list_projects(session, everything)
        return [SiteProject(p.id, p.code, p.site_lon, p.site_lat) for p in sorted(found, key=lambda p: p.id)]

    def devices(self, project: SiteProject) -> dict[str, int]:
        from .services import sensors

        with self.runtime.sessions() as session:
            return {d.code: d.id for d in sensors.list_devices(session, project_id=project.id)}

    def add_device(self, project: SiteProject, spec: DeviceSpec, place) -> int:
        from .services import sensors

        with self.runtime.sessions() as session:
            return sensors.register_device(session, project_id=project.id, **_device_fields(spec, place)).id

    def points(self, project: SiteProject) -> set[str]:
        from .services import sensors

        with self.runtime.sessions() as session:
            return {p.code for p in sensors.list_points(session, project_id=project.id)}

    def add_point(
        self, project: SiteProject, device_id: int, spec: PointSpec, element: str | None, place
    ) -> None:
        from .services import sensors

        with self.runtime.sessions() as session:
            sensors.register_point(
                session,
                project_id=project.id,
                device_id=device_id,
                thresholds=dict(spec.thresholds),
                **_point_fields(spec, element, place),
            )

    def elements(self, project: SiteProject) -> list[tuple[str, str]]:
        from .domain.revisions import Processing
        from .services import elements, revisions

        with self.runtime.sessions() as session:
            for model in revisions.list_models(session, project_id=project.id):
                processed = [
                    r
                    for r in revisions.list_revisions(session, project_id=project.id, model_id=model.id)
                    if r.processing is Processing.SUCCEEDED
                ]
                if processed:
                    page = elements.list_elements(
                        session,
                        project_id=project.id,
                        revision_id=processed[0].id,
                        where=elements.ElementFilter(ifc_classes=ELEMENT_CLASSES),
                        page=1,
                        page_size=elements.MAX_PAGE_SIZE,
                    )
                    return [(e.global_id, e.ifc_class) for e in page.items]
        return []

    def send(self, project: SiteProject, readings: Sequence[ParsedReading]) -> Sent:
        from .services import sensors

        with self.runtime.sessions() as session:
            report = sensors.ingest_readings(
                session,
                project_id=project.id,
                readings=readings,
                now=dt.datetime.now(dt.UTC),
                source="simulator",
                retention_days=self.runtime.settings.sensor_retention_days,
            )
        if report.alerts_opened or report.alerts_updated or report.alerts_resolved:
            self._changed.add(project.id)
        return Sent(
            len(readings),
            report.accepted + report.updated,
            report.duplicates,
            len(report.rejected),
            report.alerts_opened,
            report.alerts_updated,
            report.alerts_resolved,
        )

    def check_offline(self, projects: Sequence[SiteProject], now: dt.datetime) -> int | None:
        from .services import sensors

        with self.runtime.sessions() as session:
            report = sensors.evaluate_offline(session, now=now, project_ids=[p.id for p in projects])
        if report.opened or report.resolved:
            self._changed.update(p.id for p in projects)
        return report.opened

    def flush(self) -> None:
        """Queue the KPI evaluation of the projects whose alerts changed (open alarms count
        in the KPIs), as the server does after an HTTP batch."""
        if self._changed:
            self.runtime.queue.evaluate(sorted(self._changed))
            self._changed.clear()

    def close(self) -> None:
        self.flush()


class HttpChannel:
    """A server's API, as a gateway account would use it: ``POST …/readings`` (and the
    set-up calls, which need ``manage_org``: an admin or a regional manager)."""

    name = "http"

    def __init__(self, url: str, *, user: str, password: str, timeout_s: float = 60.0) -> None:
        import httpx

        self.url = url.rstrip("/")
        self._user, self._password = user, password
        self._http = httpx.Client(base_url=self.url, timeout=timeout_s)
        self._login()

    def _login(self) -> None:
        response = self._call(
            "POST", "/api/auth/token", data={"username": self._user, "password": self._password}
        )
        if response.status_code != 200:
            raise InvalidInput(f"cannot log in to {self.url} as {self._user!r}: {_detail(response)}")
        self._http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def _call(self, method: str, path: str, **kwargs):
        import httpx

        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise Unavailable(f"cannot reach the server at {self.url}: {exc}") from None
        if response.status_code == 401 and path != "/api/auth/token":  # the token ran out (live runs)
            self._login()
            response = self._http.request(method, path, **kwargs)
        return response

    def _json(self, method: str, path: str, *, ok: tuple[int, ...] = (200,), **kwargs):
        response = self._call(method, path, **kwargs)
        if response.status_code not in ok:
            raise InvalidInput(f"{method} {path}: {response.status_code} {_detail(response)}")
        return response.json()

    def projects(self) -> list[SiteProject]:
        found = self._json("GET", "/api/projects")
        return [
            SiteProject(p["id"], p["code"], p["site_lon"], p["site_lat"])
            for p in sorted(found, key=lambda p: p["id"])
        ]

    def devices(self, project: SiteProject) -> dict[str, int]:
        return {d["code"]: d["id"] for d in self._json("GET", f"/api/projects/{project.id}/sensor-devices")}

    def add_device(self, project: SiteProject, spec: DeviceSpec, place) -> int:
        body = _device_fields(spec, place)
        return self._json("POST", f"/api/projects/{project.id}/sensor-devices", ok=(201,), json=body)["id"]

    def points(self, project: SiteProject) -> set[str]:
        return {p["code"] for p in self._json("GET", f"/api/projects/{project.id}/monitor-points")}

    def add_point(
        self, project: SiteProject, device_id: int, spec: PointSpec, element: str | None, place
    ) -> None:
        body = {"device_id": device_id, **_point_fields(spec, element, place), **spec.thresholds}
        body["metric"] = spec.metric.value
        self._json("POST", f"/api/projects/{project.id}/monitor-points", ok=(201,), json=body)

    def elements(self, project: SiteProject) -> list[tuple[str, str]]:
        base = f"/api/projects/{project.id}"
        for model in self._json("GET", f"{base}/models"):
            revisions = self._json("GET", f"{base}/models/{model['id']}/revisions")
            processed = [r for r in revisions if r["processing"] == "succeeded"]
            if processed:
                params = [("ifc_class", cls) for cls in ELEMENT_CLASSES] + [("page_size", 1000)]
                page = self._json("GET", f"{base}/revisions/{processed[0]['id']}/elements", params=params)
                return [(e["global_id"], e["ifc_class"]) for e in page["items"]]
        return []

    def send(self, project: SiteProject, readings: Sequence[ParsedReading]) -> Sent:
        body = [{"point": r.point, "ts": r.ts.isoformat(), "value": r.value} for r in readings]
        report = self._json("POST", f"/api/projects/{project.id}/readings", ok=(200, 207), json=body)
        return Sent(
            len(readings),
            report["accepted"] + report["updated"],
            report["duplicates"],
            report["rejected"],
            report["alerts_opened"],
            report["alerts_updated"],
            report["alerts_resolved"],
        )

    def check_offline(self, projects: Sequence[SiteProject], now: dt.datetime) -> int | None:
        return None  # the server's periodic round checks its devices

    def flush(self) -> None:
        pass  # the server queues its own evaluations

    def close(self) -> None:
        self._http.close()


class MqttChannel:
    """Readings published to the broker, ``{prefix}/{project}/{point}`` at QoS 1, one
    message per point per batch (a JSON list of ``{"ts", "value"}``); set-up through
    ``setup`` (the database or a server)."""

    name = "mqtt"

    def __init__(self, setup: DirectChannel | HttpChannel, *, url: str, topic_prefix: str = "twin") -> None:
        import os

        from .mqtt import connect_publisher, parse_mqtt_url

        self.setup = setup
        self.topic_prefix = topic_prefix
        self.broker = parse_mqtt_url(url)
        self._client = connect_publisher(self.broker, client_id=f"erji-twin-simulator-{os.getpid()}")

    def projects(self) -> list[SiteProject]:
        return self.setup.projects()

    def devices(self, project: SiteProject) -> dict[str, int]:
        return self.setup.devices(project)

    def add_device(self, project: SiteProject, spec: DeviceSpec, place) -> int:
        return self.setup.add_device(project, spec, place)

    def points(self, project: SiteProject) -> set[str]:
        return self.setup.points(project)

    def add_point(
        self, project: SiteProject, device_id: int, spec: PointSpec, element: str | None, place
    ) -> None:
        self.setup.add_point(project, device_id, spec, element, place)

    def elements(self, project: SiteProject) -> list[tuple[str, str]]:
        return self.setup.elements(project)

    def send(self, project: SiteProject, readings: Sequence[ParsedReading]) -> Sent:
        from .mqtt import reading_topic, topic_project

        by_point: dict[str, list[dict]] = defaultdict(list)
        for r in readings:
            by_point[r.point].append({"ts": r.ts.isoformat(), "value": r.value})
        level = topic_project(project.code, project.id)
        sent = [
            self._client.publish(reading_topic(self.topic_prefix, level, point), json.dumps(items), qos=1)
            for point, items in by_point.items()
        ]
        for info in sent:
            info.wait_for_publish(timeout=30)
            if not info.is_published():
                raise Unavailable(f"the MQTT broker at {self.broker} did not take a message")
        return Sent(len(readings))

    def check_offline(self, projects: Sequence[SiteProject], now: dt.datetime) -> int | None:
        return None  # the bridge stores, the server's periodic round checks

    def flush(self) -> None:
        self.setup.flush()

    def close(self) -> None:
        """Disconnect from the broker (the set-up channel is its owner's to close)."""
        self._client.disconnect()
        self._client.loop_stop()


def _place(project: SiteProject, offset_m: tuple[float, float]) -> tuple[float, float] | None:
    """WGS-84 (lon, lat) ``offset_m`` (east, north) from the project's site point."""
    if project.lon is None or project.lat is None:
        return None
    east, north = offset_m
    lat = project.lat + north / 111_320
    lon = project.lon + east / (111_320 * math.cos(math.radians(project.lat)))
    return round(lon, 6), round(lat, 6)


def _device_fields(spec: DeviceSpec, place) -> dict:
    lon, lat = place if place else (None, None)
    return {
        "code": spec.code,
        "device_type": spec.device_type,
        "name": spec.name,
        "protocol": "mqtt",
        "heartbeat_timeout_s": spec.heartbeat_timeout_s,
        "lon": lon,
        "lat": lat,
    }


def _point_fields(spec: PointSpec, element: str | None, place) -> dict:
    lon, lat = place if place else (None, None)
    return {
        "code": spec.code,
        "metric": spec.metric,
        "name": spec.name,
        "persist_s": spec.persist_s,
        "element_global_id": element,
        "lon": lon,
        "lat": lat,
    }


def _detail(response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return str(body.get("detail", body)) if isinstance(body, dict) else str(body)[:200]


# --------------------------------------------------------------------------- the run


@dataclass(slots=True)
class SimulationReport:
    """What a run did (``describe()`` is what ``twin simulate-sensors`` prints). Counts the
    channel cannot know are None (MQTT: the bridge stores the readings)."""

    via: str
    scenario: Scenario
    projects: tuple[str, ...] = ()
    devices_added: int = 0
    points: int = 0
    points_added: int = 0
    points_on_elements: int = 0
    readings: int = 0
    stored: int | None = 0
    duplicates: int | None = 0
    rejected: int | None = 0
    alerts_opened: int | None = 0
    alerts_updated: int | None = 0
    alerts_resolved: int | None = 0
    offline_opened: int | None = None

    def add(self, sent: Sent) -> None:
        self.readings += sent.readings
        for name in (
            "stored",
            "duplicates",
            "rejected",
            "alerts_opened",
            "alerts_updated",
            "alerts_resolved",
        ):
            value = getattr(sent, name)
            setattr(
                self,
                name,
                None if value is None or getattr(self, name) is None else getattr(self, name) + value,
            )

    def describe(self) -> str:
        s = self.scenario

        def at(ts: dt.datetime) -> str:
            return ts.astimezone(CHINA_TZ).strftime("%m-%d %H:%M")

        lines = [
            f"simulated sensors on {len(self.projects)} projects via {self.via}, {at(s.start)} – {at(s.end)} "
            f"China time: {self.points} points ({self.points_added} new"
            + (f", {self.points_on_elements} of them on model elements" if self.points_added else "")
            + f"), {self.devices_added} new devices",
        ]
        readings = f"readings: {self.readings:,} sent"
        if self.stored is None:
            readings += " (published: `twin mqtt-bridge` stores them)"
        else:
            readings += (
                f", {self.stored:,} stored, {self.duplicates:,} already there, {self.rejected:,} rejected"
            )
        lines.append(readings)
        lines += [
            f"breach: {s.breach_project} {BREACH_POINT} displacement ramps over warn (20 mm) to alarm "
            f"(30 mm), held at ~{_HELD_VALUE:g} mm since {at(s.held_from)}: one alert, at 报警 by the end",
            f"spike:  {s.spike_project} {SPIKE_POINT} {SPIKE_VALUE:g} µg/m³ once at {at(s.spike_at)}: "
            "must not fire (persistence 15 min)",
            f"silent: {s.silent_project} {SILENT_DEVICE} (PM10, noise) since {at(s.silent_from)}: offline",
        ]
        if self.alerts_opened is not None:
            lines.append(
                f"threshold alerts: {self.alerts_opened} opened, {self.alerts_updated} changed, "
                f"{self.alerts_resolved} resolved"
            )
        if self.offline_opened is not None:
            lines.append(f"offline alerts: {self.offline_opened} opened")
        else:
            lines.append(
                "offline alerts: raised by the server's periodic round (TWIN_EVALUATION_INTERVAL_SECONDS)"
            )
        return "\n".join(lines)


def _select(channel: Channel, codes: Sequence[str] | None) -> list[SiteProject]:
    found = channel.projects()
    if not codes:
        if not found:
            raise NotFound("no project to simulate: load the demo first (`twin demo`)")
        return found
    by_code = {p.code: p for p in found}
    missing = [code for code in codes if code not in by_code]
    if missing:
        raise NotFound(f"no project {', '.join(missing)}")
    return [by_code[code] for code in dict.fromkeys(codes)]


def _set_up(channel: Channel, project: SiteProject, report: SimulationReport) -> None:
    """The project's devices and points, each added once (what exists is left as it is)."""
    devices = channel.devices(project)
    for spec in DEVICES:
        if spec.code not in devices:
            devices[spec.code] = channel.add_device(project, spec, _place(project, spec.offset_m))
            report.devices_added += 1
    existing = channel.points(project)
    wanted = [spec for spec in POINTS if spec.code not in existing]
    on_element = [spec for spec in wanted if spec.on_element]
    elements = pick_elements(channel.elements(project), len(on_element)) if on_element else []
    links = dict(zip((spec.code for spec in on_element), elements, strict=False))
    for spec in wanted:
        device = next(d for d in DEVICES if d.code == spec.device)
        channel.add_point(
            project, devices[spec.device], spec, links.get(spec.code), _place(project, device.offset_m)
        )
        report.points_added += 1
    report.points += len(POINTS)
    report.points_on_elements += len(links)


def _batches(readings: Sequence[ParsedReading], span_s: float) -> Iterator[list[ParsedReading]]:
    """``readings`` (sorted by time) cut into consecutive spans of ``span_s`` seconds."""
    batch: list[ParsedReading] = []
    edge = None
    for reading in readings:
        key = math.floor(reading.ts.timestamp() / span_s)
        if batch and key != edge:
            yield batch
            batch = []
        batch.append(reading)
        edge = key
    if batch:
        yield batch


def simulate_sensors(
    channel: Channel,
    *,
    projects: Sequence[str] | None = None,
    hours: float = 24.0,
    seed: int = DEFAULT_SEED,
    end: dt.datetime | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> SimulationReport:
    """Set up the simulated devices and points on each project (codes; default: every
    project, oldest first) and send ``hours`` of readings ending at ``end`` (default: now),
    oldest first in batches of an hour; then the offline check where the channel can run it.

    Example: ``simulate_sensors(DirectChannel(runtime), projects=["SH-PD-01"], hours=6)``."""
    if not 1 <= hours <= MAX_HOURS:
        raise InvalidInput(f"--hours must lie between 1 and {MAX_HOURS}")
    end = (end or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    chosen = _select(channel, projects)
    scenario = Scenario.of([p.code for p in chosen], end=end, hours=hours)
    report = SimulationReport(via=channel.name, scenario=scenario, projects=tuple(p.code for p in chosen))
    for number, project in enumerate(chosen, start=1):
        _set_up(channel, project, report)
        readings = generate_readings(seed, project.code, scenario)
        for batch in _batches(readings, _BATCH_S):
            report.add(channel.send(project, batch))
        say(f"[{number}/{len(chosen)}] {project.code}: {len(readings):,} readings")
    report.offline_opened = channel.check_offline(chosen, end)
    return report


def stream_live(
    channel: Channel,
    scenario: Scenario,
    projects: Sequence[SiteProject],
    *,
    seed: int,
    every_s: float,
    stop: threading.Event,
    say: Callable[[str], None] = lambda _: None,
) -> int:
    """Every ``every_s`` seconds until ``stop``: one reading per point at that moment (the
    silent device stays silent, the breached point stays in alarm). Returns the readings sent."""
    if every_s < 1:
        raise InvalidInput("--every must be at least 1 second")
    sent = 0
    last_check = last_say = time.monotonic()
    while not stop.is_set():
        ts = _grid_floor(dt.datetime.now(dt.UTC), every_s)
        for project in projects:
            readings = [
                ParsedReading(spec.code, ts, value)
                for spec in POINTS
                if (value := point_value(seed, project.code, spec.code, ts, scenario)) is not None
            ]
            if readings:
                sent += channel.send(project, readings).readings
        if time.monotonic() - last_check >= 60:
            channel.check_offline(projects, dt.datetime.now(dt.UTC))
            last_check = time.monotonic()
        if time.monotonic() - last_say >= 60:
            say(f"live: {sent:,} readings sent, the latest at {ts.astimezone(CHINA_TZ):%H:%M:%S} China time")
            last_say = time.monotonic()
        next_tick = (math.floor(time.time() / every_s) + 1) * every_s
        stop.wait(max(0.0, next_tick - time.time()))
    return sent


def run_simulation(settings: Settings, args: argparse.Namespace) -> int:
    """``twin simulate-sensors``: set up, back-fill, print the report, then stream with
    ``--live`` until SIGINT or SIGTERM."""
    from .demo import DEMO_PASSWORD

    def say(line: str) -> None:
        print(f"simulate: {line}", file=sys.stderr, flush=True)

    if args.live and args.every < 1:
        raise InvalidInput("--every must be at least 1 second")
    logging.basicConfig(level=logging.WARNING)
    codes = [c.strip() for c in (args.projects or "").split(",") if c.strip()] or None
    with contextlib.ExitStack() as stack:
        setup: DirectChannel | HttpChannel
        if args.via == "http" or (args.via == "mqtt" and args.url):
            password = args.password or DEMO_PASSWORD
            setup = HttpChannel(args.url or "http://127.0.0.1:8000", user=args.user, password=password)
        else:
            from .runtime import build_runtime

            runtime = build_runtime(settings)
            stack.callback(runtime.close)
            setup = DirectChannel(runtime)  # refuses outside development mode
        channel: Channel = setup
        if args.via == "mqtt":
            stack.callback(setup.close)
            channel = MqttChannel(
                setup,
                url=args.mqtt_url or settings.mqtt_url,
                topic_prefix=args.topic_prefix or settings.mqtt_topic_prefix,
            )
        stack.callback(channel.close)
        try:
            report = simulate_sensors(channel, projects=codes, hours=args.hours, seed=args.seed, say=say)
        except KeyboardInterrupt:
            print("interrupted: what was sent so far is stored", file=sys.stderr)
            return 130
        channel.flush()
        print(report.describe(), flush=True)
        if args.live:
            stop = threading.Event()
            previous = {
                sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
            }
            try:
                say(f"live: a reading per point every {args.every:g} s until Ctrl-C")
                chosen = _select(channel, list(report.projects))
                sent = stream_live(
                    channel, report.scenario, chosen, seed=args.seed, every_s=args.every, stop=stop, say=say
                )
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
            print(f"live: {sent:,} readings sent", flush=True)
    return 0
