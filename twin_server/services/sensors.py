"""IoT monitoring on the twin (智慧工地): a project's devices and monitor points, readings
ingested in batches (HTTP, the MQTT bridge, the simulator), their minute and hour
aggregates, each point's state and its one alert, devices gone silent, time travel and
retention.

The rules are ``domain.sensors`` (pure): parsing, thresholds, persistence, offline, alert
candidates and aggregates. Sensor alerts live in the regional layer's ``alerts`` table under
the two sensor rules (``sensor_threshold``, ``sensor_offline``), reconciled by
``domain.alerts.reconcile`` and written by ``services.alerts.apply_alert_plan`` like any
other alert, so they show in the feed, count in the KPIs and are acknowledged and resolved
the same way. The project evaluation leaves them alone, and this module touches no others.

One batch, one transaction (``ingest_readings``)::

    readings ──codes of THIS project only (others: rejected items)──► dedupe ──► compare
      with what is stored (new / updated / duplicate) ──► upsert on (point, ts)
      ──► minute aggregates recomputed from the raw readings of each touched minute,
          hours rolled up from their minutes (``domain.sensors.rollup``)
      ──► device last_seen ──► evaluate_point over the window the domain prescribes
      ──► the point's state columns ──► reconcile its threshold alert; a device heard
          from again has its offline alert resolved

**The MQTT topic** is ``twin/{project}/{point}``: ``{project}`` is the project's
organisation code (what people read on the site board and in the portal, and stable when
a database is moved), or its numeric id when the code cannot be a topic level (it holds
``/``, ``+`` or ``#``); ``find_topic_project`` resolves it, a code before an id.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db.orm import (
    AlertRow,
    AlertRuleRow,
    ElementRow,
    MonitorPointRow,
    OrgNodeRow,
    RevisionRow,
    SensorAggregateRow,
    SensorDeviceRow,
    SensorReadingRow,
)
from ..domain.access import NodeKind
from ..domain.alerts import AlertCandidate, AlertRule, OpenAlert, RuleKind, reconcile, rule_applies
from ..domain.errors import Conflict, InvalidInput, NotFound, TooLarge
from ..domain.kpis import Light
from ..domain.revisions import Processing
from ..domain.sensors import (
    NIGHT_NOISE_THRESHOLDS,
    Aggregate,
    Condition,
    DayNightThresholds,
    Metric,
    ParsedReading,
    PointState,
    Quality,
    Reading,
    RejectCode,
    Rejected,
    ThresholdOverrides,
    Thresholds,
    Tier,
    aggregate,
    classify,
    dedupe,
    effective_thresholds,
    evaluate_point,
    is_offline,
    parse_readings_csv,
    parse_readings_json,
    parse_topic,
    point_alert_candidates,
    rollup,
    state_at,
)
from ..domain.sensors import element_states as _element_states
from .alerts import LIVE, apply_alert_plan, ensure_default_rules
from .store import commit_or_conflict

__all__ = [
    "DEFAULT_HEARTBEAT_TIMEOUT_S",
    "DeviceRecord",
    "IngestReport",
    "OfflineReport",
    "PointRecord",
    "PointStatus",
    "PruneReport",
    "ReadingSeries",
    "SensorStates",
    "element_states",
    "evaluate_offline",
    "find_topic_project",
    "get_point",
    "ingest_payload",
    "ingest_readings",
    "list_devices",
    "list_points",
    "point_states",
    "prune_readings",
    "readings",
    "record_heartbeat",
    "register_device",
    "register_point",
    "sensor_states",
    "update_point",
]

log = logging.getLogger(__name__)

#: A device silent for longer than this (s) is offline, unless registered with its own.
DEFAULT_HEARTBEAT_TIMEOUT_S = 600.0
#: The most rows one ``readings`` call returns (a longer range: ask for minutes or hours).
MAX_SERIES_ROWS = 100_000

_OVERRIDES = ("warn_lower", "warn_upper", "alarm_lower", "alarm_upper", "control_lower", "control_upper")
_GLOBAL_ID = re.compile(r"[0-9A-Za-z_$]{22}")
_CHUNK = 500  # rows per multi-row statement (well inside SQLite's bound-parameter limit)
_RUN_GAP = dt.timedelta(hours=1)  # touched buckets further apart than this are read separately
_BUCKETS = {"minute": dt.timedelta(minutes=1), "hour": dt.timedelta(hours=1)}


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    id: int
    project_id: int
    code: str
    name: str | None
    device_type: str
    serial: str | None
    protocol: str | None
    heartbeat_timeout_s: float
    last_seen_at: dt.datetime | None
    lon: float | None
    lat: float | None
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class PointRecord:
    """A monitor point with its thresholds: ``overrides`` as set on the point (None
    inherits, ±inf switches a bound off), ``thresholds`` in force (the metric's defaults
    filled in; by day for noise, whose ``night_thresholds`` are GB 12523's night limits),
    and its state as the latest batch left it."""

    id: int
    project_id: int
    device_id: int
    device_code: str
    code: str
    name: str | None
    metric: Metric
    unit: str
    overrides: ThresholdOverrides
    thresholds: Thresholds
    night_thresholds: Thresholds | None
    persist_s: float
    element_global_id: str | None
    space_global_id: str | None
    lon: float | None
    lat: float | None
    tier: Tier
    tier_since: dt.datetime | None
    tier_value: float | None
    last_value: float | None
    last_ts: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What a batch did. ``accepted``: readings stored at a new (point, ts); ``updated``:
    readings that replaced the stored value at their (point, ts) (last write wins);
    ``duplicates``: readings that changed nothing (the same value is stored, or a later item
    of the batch has the same point and ts); ``rejected``: items not taken, with the reason
    (parse errors handed in, unknown points, readings older than the retention).
    ``points``: codes of the points whose readings changed (aggregated and evaluated)."""

    source: str
    received: int
    accepted: int
    updated: int
    duplicates: int
    rejected: tuple[Rejected, ...]
    points: tuple[str, ...]
    alerts_opened: int
    alerts_updated: int
    alerts_resolved: int


@dataclass(frozen=True, slots=True)
class ReadingSeries:
    """A point's readings (``bucket`` "raw") or aggregates ("minute" / "hour") between
    ``start`` and ``end``, oldest first, with the point and its thresholds for the chart.
    ``truncated``: there were more than ``limit`` rows; the first ones are given."""

    point: PointRecord
    bucket: str
    start: dt.datetime
    end: dt.datetime
    readings: tuple[Reading, ...]
    aggregates: tuple[Aggregate, ...]
    truncated: bool


@dataclass(frozen=True, slots=True)
class PointStatus:
    """A point and its state at ``SensorStates.at`` (``state.condition`` is its colour)."""

    point_id: int
    code: str
    name: str | None
    metric: Metric
    unit: str
    device_code: str
    element_global_id: str | None
    space_global_id: str | None
    state: PointState


@dataclass(frozen=True, slots=True)
class SensorStates:
    """Every point of a project at ``at``, and the viewer's colour of each linked element
    (GlobalId → the worst condition of its points). ``live``: read from the state the
    latest batches left (now); otherwise recomputed from the stored readings (time travel)."""

    at: dt.datetime
    live: bool
    points: tuple[PointStatus, ...]
    elements: dict[str, Condition]


@dataclass(frozen=True, slots=True)
class OfflineReport:
    devices: int
    offline: int
    opened: int
    resolved: int


@dataclass(frozen=True, slots=True)
class PruneReport:
    readings: int
    minute_aggregates: int
    hour_aggregates: int


# --------------------------------------------------------------------------- setup


def register_device(
    session: Session,
    *,
    project_id: int,
    code: str,
    device_type: str,
    name: str | None = None,
    serial: str | None = None,
    protocol: str | None = None,
    heartbeat_timeout_s: float = DEFAULT_HEARTBEAT_TIMEOUT_S,
    lon: float | None = None,
    lat: float | None = None,
) -> DeviceRecord:
    """A device of the project (``code`` unique in it: 409 otherwise). Silent for more than
    ``heartbeat_timeout_s`` it raises an offline alert; ``lon``/``lat`` place it (WGS-84).

    Example: ``register_device(s, project_id=7, code="INC-1", device_type="excavation")``."""
    _check_code(code, "a device code")
    if not (isinstance(heartbeat_timeout_s, int | float) and math.isfinite(heartbeat_timeout_s)):
        raise InvalidInput("heartbeat_timeout_s must be a number of seconds")
    if heartbeat_timeout_s <= 0:
        raise InvalidInput("heartbeat_timeout_s must be positive (seconds)")
    _check_place(lon, lat)
    row = SensorDeviceRow(
        project_id=project_id,
        code=code,
        name=name,
        device_type=device_type,
        serial=serial,
        protocol=protocol,
        heartbeat_timeout_s=float(heartbeat_timeout_s),
        lon=lon,
        lat=lat,
    )
    session.add(row)
    commit_or_conflict(
        session, f"a device with the code {code!r} exists in this project", code="duplicate_device"
    )
    return _device(row)


def list_devices(session: Session, *, project_id: int) -> list[DeviceRecord]:
    """The project's devices, by code."""
    rows = session.scalars(
        select(SensorDeviceRow).where(SensorDeviceRow.project_id == project_id).order_by(SensorDeviceRow.code)
    )
    return [_device(row) for row in rows]


def register_point(
    session: Session,
    *,
    project_id: int,
    device_id: int,
    code: str,
    metric: Metric | str,
    name: str | None = None,
    thresholds: Mapping[str, float | None] | None = None,
    persist_s: float = 0.0,
    element_global_id: str | None = None,
    space_global_id: str | None = None,
    lon: float | None = None,
    lat: float | None = None,
) -> PointRecord:
    """A monitor point of one of the project's devices. ``code`` is unique in the project
    (409) and names the point in payloads and MQTT topics, so it may not hold ``/ + #``.
    ``thresholds``: the point's own bounds by ``ThresholdOverrides`` field name (others
    inherit the metric's defaults); they must nest with what they inherit (422).
    ``persist_s``: how long a tier must hold before it fires (0: the first reading).
    ``element_global_id`` links the point to a model element (the viewer colours it): it
    must be an element of a processed revision once the project has one.

    Example (scenario 15): ``register_point(s, project_id=7, device_id=3, code="S-07",
    metric="displacement", thresholds={"warn_upper": 20, "alarm_upper": 30,
    "control_upper": 40}, persist_s=600, element_global_id="2O2Fr$t4X7Zf8NOew3FLOH")``."""
    _check_code(code, "a point code")
    if parse_topic(f"twin/project/{code}") is None:
        raise InvalidInput(f"the point code {code!r} may not hold '/', '+', '#' or control characters")
    device = session.get(SensorDeviceRow, device_id)
    if device is None or device.project_id != project_id:
        raise InvalidInput(f"no device {device_id} in this project", code="unknown_device")
    metric = _metric(metric)
    overrides = _merge_overrides(ThresholdOverrides(), thresholds or {})
    _point_thresholds(metric, overrides)  # refuses bounds that do not nest
    _check_persist(persist_s)
    _check_global_id(session, project_id, element_global_id, "element_global_id", must_exist=True)
    _check_global_id(session, project_id, space_global_id, "space_global_id", must_exist=False)
    _check_place(lon, lat)
    row = MonitorPointRow(
        project_id=project_id,
        device_id=device_id,
        code=code,
        name=name,
        metric=metric.value,
        persist_s=float(persist_s),
        element_global_id=element_global_id,
        space_global_id=space_global_id,
        lon=lon,
        lat=lat,
        tier=Tier.OK.value,
        **{field: getattr(overrides, field) for field in _OVERRIDES},
    )
    session.add(row)
    commit_or_conflict(
        session, f"a point with the code {code!r} exists in this project", code="duplicate_point"
    )
    return _point(row, device)


def list_points(session: Session, *, project_id: int, device_id: int | None = None) -> list[PointRecord]:
    """The project's monitor points (of one device, if given), by code."""
    query = (
        select(MonitorPointRow, SensorDeviceRow)
        .join(SensorDeviceRow, SensorDeviceRow.id == MonitorPointRow.device_id)
        .where(MonitorPointRow.project_id == project_id)
        .order_by(MonitorPointRow.code)
    )
    if device_id is not None:
        query = query.where(MonitorPointRow.device_id == device_id)
    return [_point(point, device) for point, device in session.execute(query)]


def get_point(session: Session, *, project_id: int, point_id: int) -> PointRecord:
    point, device = _point_row(session, project_id, point_id)
    return _point(point, device)


def update_point(
    session: Session,
    *,
    project_id: int,
    point_id: int,
    thresholds: Mapping[str, float | None] | None = None,
    persist_s: float | None = None,
    now: dt.datetime,
) -> PointRecord:
    """Change a point's thresholds (only the bounds named; None: inherit the default again)
    and persistence. The point is judged again at once under them, so its alert is raised,
    moved to another tier or resolved now, not at the next reading."""
    now = _utc(now)
    ensure_default_rules(session)
    point, device = _point_row(session, project_id, point_id, lock=True)
    metric = Metric(point.metric)
    overrides = _merge_overrides(_overrides(point), thresholds or {})
    _point_thresholds(metric, overrides)
    if persist_s is not None:
        _check_persist(persist_s)
        point.persist_s = float(persist_s)
    for field in _OVERRIDES:
        setattr(point, field, getattr(overrides, field))
    point.updated_at = now
    session.flush()
    rules = _sensor_rules(session, project_id)
    state = _evaluate(session, point, now, same_limits=False)
    _store_state(point, state, now)
    _reconcile_thresholds(session, project_id, [(point, device, state)], rules, now)
    _commit(session)
    return _point(point, device)


def find_topic_project(session: Session, *, ref: str) -> int:
    """The project an MQTT topic's ``{project}`` level names: a project's organisation code,
    else (when no project has that code) the decimal id of a project. ``NotFound`` if none."""
    project_id = session.scalar(
        select(OrgNodeRow.id).where(OrgNodeRow.code == ref, OrgNodeRow.kind == NodeKind.PROJECT.value)
    )
    if project_id is None and ref.isdecimal() and int(ref) <= 2_147_483_647:
        project_id = session.scalar(
            select(OrgNodeRow.id).where(OrgNodeRow.id == int(ref), OrgNodeRow.kind == NodeKind.PROJECT.value)
        )
    if project_id is None:
        raise NotFound(f"no project {ref!r}")
    return project_id


# --------------------------------------------------------------------------- ingest


def ingest_readings(
    session: Session,
    *,
    project_id: int,
    readings: Sequence[ParsedReading],
    now: dt.datetime,
    source: str,
    rejected: Sequence[Rejected] = (),
    retention_days: float | None = None,
) -> IngestReport:
    """Store a batch of parsed readings of one project and act on them (see the module's
    flow). Idempotent by (point, ts): the same batch twice stores nothing new, and the
    aggregates, states and alerts stay as they were. A reading of an unknown point, of
    another project's point, or older than ``retention_days`` (counted from the start of
    its hour, so hours never lose minutes to pruning) is a rejected item, not an error.
    ``rejected``: the parser's rejects, carried into the report. ``source`` names the
    channel in the log ("http", "mqtt", "simulator").

    The points are locked (PostgreSQL) for the transaction, so concurrent batches of one
    point take turns and each recomputes its aggregates from everything stored."""
    now = _utc(now)
    ensure_default_rules(session)
    rejects = list(rejected)
    codes = sorted({r.point for r in readings})
    ids: list[int] = []
    for chunk in _chunks(codes):
        ids += session.scalars(
            select(MonitorPointRow.id).where(
                MonitorPointRow.project_id == project_id, MonitorPointRow.code.in_(chunk)
            )
        )
    points: dict[str, MonitorPointRow] = {}
    for chunk in _chunks(sorted(ids)):  # locked in id order: concurrent batches cannot deadlock
        for row in session.scalars(
            select(MonitorPointRow)
            .where(MonitorPointRow.id.in_(chunk))
            .order_by(MonitorPointRow.id)
            .with_for_update()
        ):
            points[row.code] = row
    oldest = _floor(now - dt.timedelta(days=retention_days), "hour") if retention_days is not None else None
    known: list[ParsedReading] = []
    for reading in readings:
        if reading.point not in points:
            rejects.append(
                _reject(reading, RejectCode.POINT, f"no monitor point '{reading.point}' in this project")
            )
        elif oldest is not None and reading.ts < oldest:
            rejects.append(
                _reject(reading, RejectCode.TS, f"ts {reading.ts.isoformat()} is older than the retention")
            )
        else:
            known.append(reading)
    batch = dedupe(known)
    duplicates = len(known) - len(batch)
    by_point: dict[str, list[ParsedReading]] = defaultdict(list)
    for reading in batch:
        by_point[reading.point].append(reading)

    accepted = updated = 0
    written: dict[str, list[ParsedReading]] = {}
    for code, items in by_point.items():
        stored = _stored(session, points[code].id, [r.ts for r in items])
        changed = []
        for reading in items:
            before = stored.get(reading.ts)
            if before is None:
                accepted += 1
            elif before == (reading.value, Quality(reading.quality).value):
                duplicates += 1
                continue
            else:
                updated += 1
            changed.append(reading)
        if changed:
            written[code] = changed
    _upsert(
        session,
        SensorReadingRow,
        [
            {
                "point_id": points[r.point].id,
                "ts": r.ts,
                "value": r.value,
                "quality": Quality(r.quality).value,
            }
            for items in written.values()
            for r in items
        ],
        keys=("point_id", "ts"),
        values=("value", "quality"),
    )
    for code, items in written.items():
        _refresh_aggregates(session, points[code].id, [r.ts for r in items])

    # Devices: a reading is a heartbeat (never moved back by an older one).
    devices = {row.device_id: session.get(SensorDeviceRow, row.device_id) for row in points.values()}
    latest: dict[int, dt.datetime] = {}
    for reading in known:
        device_id = points[reading.point].device_id
        latest[device_id] = max(latest.get(device_id, reading.ts), reading.ts)
    for device_id, ts in latest.items():
        session.execute(
            update(SensorDeviceRow)
            .where(
                SensorDeviceRow.id == device_id,
                or_(SensorDeviceRow.last_seen_at.is_(None), SensorDeviceRow.last_seen_at < ts),
            )
            .values(last_seen_at=ts)
            .execution_options(synchronize_session=False)
        )
        session.refresh(devices[device_id], ["last_seen_at"])

    opened = changed_alerts = resolved = 0
    if written or latest:
        rules = _sensor_rules(session, project_id)
        judged = []
        for code in written:
            point = points[code]
            state = _evaluate(session, point, now, written_from=min(r.ts for r in written[code]))
            _store_state(point, state, now)
            judged.append((point, devices[point.device_id], state))
        counts = _reconcile_thresholds(session, project_id, judged, rules, now)
        heard = [devices[d] for d in latest if not _offline(devices[d], now)]
        more = _reconcile_offline(session, project_id, heard, {}, rules, now)
        opened, changed_alerts, resolved = (a + b for a, b in zip(counts, more, strict=True))
    _commit(session)
    report = IngestReport(
        source=source,
        received=len(readings),
        accepted=accepted,
        updated=updated,
        duplicates=duplicates,
        rejected=tuple(rejects),
        points=tuple(sorted(written)),
        alerts_opened=opened,
        alerts_updated=changed_alerts,
        alerts_resolved=resolved,
    )
    # Quiet for clean batches (a gateway sends one every few seconds), heard when items are refused.
    log.log(
        logging.INFO if rejects else logging.DEBUG,
        "sensor batch from %s for project %s: %d received, %d accepted, %d updated, %d duplicate, "
        "%d rejected, %d points, alerts +%d ~%d -%d",
        source,
        project_id,
        report.received,
        accepted,
        updated,
        duplicates,
        len(rejects),
        len(written),
        opened,
        changed_alerts,
        resolved,
    )
    return report


def ingest_payload(
    session: Session,
    *,
    project_id: int,
    payload: bytes | str,
    payload_format: str,
    now: dt.datetime,
    source: str,
    batch_max: int,
    point: str | None = None,
    naive_tz: dt.tzinfo | None = None,
    retention_days: float | None = None,
) -> IngestReport:
    """Parse a JSON or CSV batch (``payload_format`` "json" | "csv"; see
    ``domain.sensors.parse_readings_json`` / ``parse_readings_csv``) and ingest it. ``point``:
    the point the MQTT topic names. A payload that cannot be read as a whole (not JSON, no
    CSV header, the wrong shape) or holds no reading is ``InvalidInput``; more than
    ``batch_max`` items is ``TooLarge``. Bad items among good ones are rejected items of the
    report, and the good ones are stored."""
    now = _utc(now)
    parse = {"json": parse_readings_json, "csv": parse_readings_csv}.get(payload_format)
    if parse is None:
        raise InvalidInput(f"payload_format must be json or csv, not {payload_format!r}")
    good, bad = parse(payload, now=now, point=point, naive_tz=naive_tz)
    # The payload as a whole: JSON that is not JSON, has the wrong shape or names a batch
    # point the topic contradicts (no position); CSV without the header it needs or not
    # text (its only PAYLOAD rejects).
    whole = next(
        (r for r in bad if r.position is None or (payload_format == "csv" and r.code is RejectCode.PAYLOAD)),
        None,
    )
    if whole is not None:
        raise InvalidInput(f"the batch cannot be read: {whole.reason}", code="invalid_payload")
    if not good and not bad:
        raise InvalidInput("the batch holds no readings", code="empty_batch")
    if len(good) + len(bad) > batch_max:
        raise TooLarge(
            f"the batch holds {len(good) + len(bad):,} readings; one batch may carry {batch_max:,}",
            code="batch_too_large",
        )
    return ingest_readings(
        session,
        project_id=project_id,
        readings=good,
        now=now,
        source=source,
        rejected=bad,
        retention_days=retention_days,
    )


def record_heartbeat(session: Session, *, project_id: int, device_code: str, at: dt.datetime) -> DeviceRecord:
    """A device says it is alive without a reading (an MQTT status message): its
    ``last_seen_at`` moves to ``at`` (never back). The offline alert resolves in the next
    periodic round."""
    at = _utc(at)
    row = session.scalar(
        select(SensorDeviceRow).where(
            SensorDeviceRow.project_id == project_id, SensorDeviceRow.code == device_code
        )
    )
    if row is None:
        raise NotFound(f"no device {device_code!r} in this project")
    if row.last_seen_at is None or _utc(row.last_seen_at) < at:
        row.last_seen_at = at
    session.commit()
    return _device(row)


def _reject(reading: ParsedReading, code: RejectCode, reason: str) -> Rejected:
    raw = f"{reading.point},{reading.ts.isoformat()},{reading.value:g}"
    return Rejected(None, code, reason, raw)


def _stored(session: Session, point_id: int, stamps: Sequence[dt.datetime]) -> dict[dt.datetime, tuple]:
    """(value, quality) stored at each of ``stamps`` that has a reading."""
    out = {}
    for chunk in _chunks(stamps):
        for ts, value, quality in session.execute(
            select(SensorReadingRow.ts, SensorReadingRow.value, SensorReadingRow.quality).where(
                SensorReadingRow.point_id == point_id, SensorReadingRow.ts.in_(chunk)
            )
        ):
            out[_utc(ts)] = (value, quality)
    return out


def _upsert(
    session: Session, table, rows: list[dict], *, keys: tuple[str, ...], values: tuple[str, ...]
) -> None:
    """Insert ``rows``, replacing ``values`` of a row whose ``keys`` exist (last write wins)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the twin runs on SQLite or PostgreSQL
        raise NotImplementedError(f"no upsert for {dialect}")
    for chunk in _chunks(rows):
        statement = insert(table).values(chunk)
        statement = statement.on_conflict_do_update(
            index_elements=list(keys), set_={name: statement.excluded[name] for name in values}
        )
        session.execute(statement)


def _refresh_aggregates(session: Session, point_id: int, stamps: Iterable[dt.datetime]) -> None:
    """Recompute the minutes ``stamps`` fall in from their raw readings, then the hours of
    those minutes from their minute aggregates. A bucket left with no usable reading (all
    ``bad``) loses its row. Recomputing (rather than merging) keeps a replayed or corrected
    reading exact, at the cost of reading back one minute of raw readings per touched
    minute."""
    minutes = sorted({_floor(ts, "minute") for ts in stamps})
    fresh: dict[dt.datetime, Aggregate] = {}
    for first, last in _runs(minutes):
        rows = session.execute(
            select(SensorReadingRow.ts, SensorReadingRow.value, SensorReadingRow.quality).where(
                SensorReadingRow.point_id == point_id,
                SensorReadingRow.ts >= first,
                SensorReadingRow.ts < last + _BUCKETS["minute"],
            )
        )
        for agg in aggregate(
            (Reading(_utc(ts), value, Quality(quality)) for ts, value, quality in rows), bucket="minute"
        ):
            fresh[agg.bucket_start] = agg
    _write_buckets(session, point_id, "minute", minutes, fresh)

    hours = sorted({_floor(minute, "hour") for minute in minutes})
    fresh = {}
    for first, last in _runs(hours):
        rows = session.scalars(
            select(SensorAggregateRow).where(
                SensorAggregateRow.point_id == point_id,
                SensorAggregateRow.bucket == "minute",
                SensorAggregateRow.bucket_start >= first,
                SensorAggregateRow.bucket_start < last + _BUCKETS["hour"],
            )
        )
        for agg in rollup((_aggregate(row) for row in rows), bucket="hour"):
            fresh[agg.bucket_start] = agg
    _write_buckets(session, point_id, "hour", hours, fresh)


def _write_buckets(
    session: Session,
    point_id: int,
    bucket: str,
    touched: list[dt.datetime],
    fresh: Mapping[dt.datetime, Aggregate],
) -> None:
    _upsert(
        session,
        SensorAggregateRow,
        [
            {
                "point_id": point_id,
                "bucket": bucket,
                "bucket_start": start,
                "count": agg.count,
                "min": agg.min,
                "max": agg.max,
                "mean": agg.mean,
                "last": agg.last,
                "last_at": agg.last_at,
            }
            for start in touched
            if (agg := fresh.get(start)) is not None
        ],
        keys=("point_id", "bucket", "bucket_start"),
        values=("count", "min", "max", "mean", "last", "last_at"),
    )
    emptied = [start for start in touched if start not in fresh]
    for chunk in _chunks(emptied):
        session.execute(
            delete(SensorAggregateRow).where(
                SensorAggregateRow.point_id == point_id,
                SensorAggregateRow.bucket == bucket,
                SensorAggregateRow.bucket_start.in_(chunk),
            )
        )


def _runs(starts: Sequence[dt.datetime]) -> list[tuple[dt.datetime, dt.datetime]]:
    """Sorted bucket starts grouped into (first, last) runs with gaps of at most an hour:
    one range query per run reads little that is not needed."""
    runs: list[tuple[dt.datetime, dt.datetime]] = []
    for start in starts:
        if runs and start - runs[-1][1] <= _RUN_GAP:
            runs[-1] = (runs[-1][0], start)
        else:
            runs.append((start, start))
    return runs


# --------------------------------------------------------------------------- evaluation


def _evaluate(
    session: Session,
    point: MonitorPointRow,
    now: dt.datetime,
    *,
    written_from: dt.datetime | None = None,
    same_limits: bool = True,
) -> PointState:
    """The point's state at ``now`` from its stored readings (offline is the device's
    alert, judged in ``evaluate_offline``).

    The window the domain prescribes makes the tier exact, but it is cut ``persist_s``
    before the latest reading, so the start of a long run, and with it the trigger (the
    alert's value and "since"), would slide with every batch. So the window also reaches
    back to the latest reading of the previous evaluation and to the earliest reading this
    batch wrote (``written_from``): a run that holds the tier stored before and reaches back
    to that reading is the same run and keeps its stored trigger (``same_limits``: the
    thresholds did not change since), and its alert is written when its tier changes, not
    per batch. A run that is new is traced back to its first reading (``_reach_run_start``),
    so the trigger it stores is the true one."""
    since_before = _utc(point.last_ts) if point.last_ts is not None else None
    include = [ts for ts in (since_before, written_from) if ts is not None]
    thresholds = _thresholds(point)

    def judge(readings: list[Reading]) -> PointState:
        return evaluate_point(readings, thresholds=thresholds, persist_s=point.persist_s, now=now)

    readings = _window(session, point.id, point.persist_s, now, include_from=min(include, default=None))
    state = judge(readings)
    if (
        same_limits
        and state.tier is not Tier.OK
        and state.tier.value == point.tier
        and point.tier_since is not None
        and since_before is not None
        and state.exceeding_since is not None
        and state.exceeding_since <= since_before
    ):
        stored_start = _utc(point.exceeding_since) if point.exceeding_since else state.exceeding_since
        return replace(
            state,
            since=_utc(point.tier_since),
            value=point.tier_value,
            bound=point.tier_bound,
            side=point.tier_side,
            exceeding_since=min(state.exceeding_since, stored_start),
        )
    return _reach_run_start(session, point.id, readings, state, judge)


#: How far ``_reach_run_start`` looks back for the start of a run: steps of this many readings.
_STEP_ROWS, _MAX_STEPS = 2_000, 10


def _reach_run_start(
    session: Session, point_id: int, readings: list[Reading], state: PointState, judge
) -> PointState:
    """Judge again with earlier readings while the run of the tier in force reaches back to
    the first usable reading passed in (the window cut it, so its start and trigger may be
    later than the truth), up to ``_MAX_STEPS`` steps of ``_STEP_ROWS`` readings. The tier
    never changes by this; its "since", trigger value and run start become exact."""
    for _ in range(_MAX_STEPS):
        first = next((r for r in readings if Quality(r.quality) is not Quality.BAD), None)
        if state.tier is Tier.OK or first is None or state.exceeding_since is None:
            break
        if state.exceeding_since > first.ts:
            break  # the run begins inside the window
        earlier = session.scalars(
            select(SensorReadingRow)
            .where(SensorReadingRow.point_id == point_id, SensorReadingRow.ts < readings[0].ts)
            .order_by(SensorReadingRow.ts.desc())
            .limit(_STEP_ROWS)
        ).all()
        if not earlier:
            break
        readings = [Reading(_utc(r.ts), r.value, Quality(r.quality)) for r in reversed(earlier)] + readings
        state = judge(readings)
    return state


def _window(
    session: Session,
    point_id: int,
    persist_s: float,
    until: dt.datetime,
    *,
    include_from: dt.datetime | None = None,
) -> list[Reading]:
    """The readings ``evaluate_point`` needs for an exact tier at ``until``: from ``c``, the
    latest usable reading at or before ``L − persist_s`` (``L`` the latest usable reading at
    or before ``until``; the first reading if none is that early), or from ``include_from``
    if that is earlier, up to ``until``. Usable: not ``bad``, which the state skips;
    anchoring on a usable reading keeps a trailing bad one from cutting the run short."""
    usable = (SensorReadingRow.point_id == point_id, SensorReadingRow.quality != Quality.BAD.value)
    latest = session.scalar(
        select(func.max(SensorReadingRow.ts)).where(*usable, SensorReadingRow.ts <= until)
    )
    if latest is None:
        # Nothing usable: the latest reading of any quality still says when it was seen.
        query = (
            select(SensorReadingRow)
            .where(SensorReadingRow.point_id == point_id, SensorReadingRow.ts <= until)
            .order_by(SensorReadingRow.ts.desc())
            .limit(1)
        )
    else:
        anchor = _utc(latest) - dt.timedelta(seconds=persist_s)
        start = session.scalar(
            select(func.max(SensorReadingRow.ts)).where(*usable, SensorReadingRow.ts <= anchor)
        )
        if start is None:
            start = session.scalar(
                select(func.min(SensorReadingRow.ts)).where(SensorReadingRow.point_id == point_id)
            )
        start = _utc(start)
        if include_from is not None and include_from < start:
            start = include_from
        query = (
            select(SensorReadingRow)
            .where(
                SensorReadingRow.point_id == point_id,
                SensorReadingRow.ts >= start,
                SensorReadingRow.ts <= until,
            )
            .order_by(SensorReadingRow.ts)
        )
    return [Reading(_utc(row.ts), row.value, Quality(row.quality)) for row in session.scalars(query)]


def _store_state(point: MonitorPointRow, state: PointState, now: dt.datetime) -> None:
    point.tier = state.tier.value
    point.tier_since = state.since
    point.tier_value = state.value
    point.tier_bound = state.bound
    point.tier_side = state.side
    point.exceeding_since = state.exceeding_since
    point.last_value = state.latest.value if state.latest else None
    point.last_ts = state.latest.ts if state.latest else None
    point.evaluated_at = now


@dataclass(frozen=True, slots=True)
class _Rule:
    id: int
    code: str
    cooldown_minutes: int


def _sensor_rules(session: Session, project_id: int) -> dict[RuleKind, _Rule | None]:
    """Per sensor kind, the rule that governs the project: of the enabled rules whose scope
    contains it, one of the most specific scope (as ``domain.alerts.evaluate_rules`` picks);
    None when every rule of the kind is disabled there."""
    ensure_default_rules(session)
    rows = session.scalars(
        select(AlertRuleRow).where(
            AlertRuleRow.kind.in_([RuleKind.SENSOR_THRESHOLD.value, RuleKind.SENSOR_OFFLINE.value])
        )
    ).all()
    wanted = {project_id} | {row.scope_node_id for row in rows if row.scope_node_id}
    paths = dict(
        session.execute(select(OrgNodeRow.id, OrgNodeRow.path).where(OrgNodeRow.id.in_(wanted))).all()
    )
    found: dict[RuleKind, _Rule | None] = {}
    candidates: dict[RuleKind, list[tuple[int, int, _Rule]]] = defaultdict(list)
    for row in rows:
        scope = paths.get(row.scope_node_id, "/") if row.scope_node_id else "/"
        rule = AlertRule(
            row.code, RuleKind(row.kind), scope, {}, Light(row.level), row.cooldown_minutes, row.enabled
        )
        if rule_applies(rule, paths[project_id]):
            candidates[rule.kind].append((-len(scope), row.id, _Rule(row.id, row.code, row.cooldown_minutes)))
    for kind in (RuleKind.SENSOR_THRESHOLD, RuleKind.SENSOR_OFFLINE):
        found[kind] = min(candidates[kind], key=lambda c: c[:2])[2] if candidates[kind] else None
    return found


def _reconcile_thresholds(
    session: Session,
    project_id: int,
    judged: Sequence[tuple[MonitorPointRow, SensorDeviceRow, PointState]],
    rules: Mapping[RuleKind, _Rule | None],
    now: dt.datetime,
) -> tuple[int, int, int]:
    """One alert per point: raised when a tier comes into force, updated when the tier (or
    its trigger) changes, resolved at OK."""
    rule = rules[RuleKind.SENSOR_THRESHOLD]
    candidates = []
    if rule is not None:
        for point, device, state in judged:
            candidates += [
                c
                for c in point_alert_candidates(
                    state,
                    point_code=point.code,
                    metric=point.metric,
                    element_global_id=point.element_global_id,
                    device_code=device.code,
                    threshold_rule_code=rule.code,
                )
                if c.rule_code == rule.code
            ]
    subjects = [point.code for point, _, _ in judged]
    return _apply(session, project_id, RuleKind.SENSOR_THRESHOLD, rule, candidates, subjects, now)


def _reconcile_offline(
    session: Session,
    project_id: int,
    devices: Sequence[SensorDeviceRow],
    probes: Mapping[int, MonitorPointRow],
    rules: Mapping[RuleKind, _Rule | None],
    now: dt.datetime,
) -> tuple[int, int, int]:
    """One alert per silent device, resolved once it is heard from. ``probes``: a point of
    each offline device (the candidate is built from a point's state); a device without one
    in ``probes`` is judged online."""
    rule = rules[RuleKind.SENSOR_OFFLINE]
    candidates: list[AlertCandidate] = []
    for device in devices:
        point = probes.get(device.id)
        if rule is None or point is None or not _offline(device, now):
            continue
        silent = PointState(
            at=now,
            tier=Tier.OK,
            last_seen=_utc(device.last_seen_at) if device.last_seen_at else None,
            offline=True,
            heartbeat_timeout_s=device.heartbeat_timeout_s,
        )
        candidates += point_alert_candidates(
            silent,
            point_code=point.code,
            metric=point.metric,
            device_code=device.code,
            offline_rule_code=rule.code,
        )
    subjects = [device.code for device in devices]
    return _apply(session, project_id, RuleKind.SENSOR_OFFLINE, rule, candidates, subjects, now)


def _apply(
    session: Session,
    project_id: int,
    kind: RuleKind,
    rule: _Rule | None,
    candidates: list[AlertCandidate],
    subjects: Sequence[str],
    now: dt.datetime,
) -> tuple[int, int, int]:
    """Reconcile ``candidates`` with the stored alerts of ``kind`` about ``subjects``.

    The rule's cooldown holds only after a person resolved an alert by hand while its
    condition still held, and then only for that tier and the tiers below it: a higher tier
    (alarm → control) raises a new alert at once. An alert whose tier ended by itself holds
    nothing back, so the next persisted breach raises a new one: the persistence window is
    what keeps a flapping value from raising an alert per reading."""
    if not subjects:
        return 0, 0, 0
    cooldown = dt.timedelta(minutes=rule.cooldown_minutes if rule else 0)
    wanted_tier = {c.subject_key: _tier_of(c.facts) for c in candidates}
    existing = []
    for chunk in _chunks(sorted(set(subjects))):
        for row, code in session.execute(
            select(AlertRow, AlertRuleRow.code)
            .join(AlertRuleRow, AlertRuleRow.id == AlertRow.rule_id)
            .where(
                AlertRow.project_id == project_id,
                AlertRuleRow.kind == kind.value,
                AlertRow.subject_key.in_(chunk),
                or_(
                    AlertRow.status.in_(LIVE),
                    AlertRow.resolved_by_id.is_not(None) & (AlertRow.resolved_at >= now - cooldown),
                ),
            )
        ):
            if (
                row.status not in LIVE
                and wanted_tier.get(row.subject_key, Tier.OK).rank > _tier_of(json.loads(row.facts_json)).rank
            ):
                continue  # worse than what was resolved by hand: not muted
            existing.append(
                OpenAlert(
                    id=row.id,
                    rule_code=code,
                    subject_key=row.subject_key,
                    status=row.status,
                    level=Light(row.level),
                    value=row.value,
                    resolved_at=_utc(row.resolved_at) if row.resolved_at else None,
                )
            )
    cooldowns = {rule.code: rule.cooldown_minutes} if rule else {}
    plan = reconcile(candidates, existing, now=now, cooldown_minutes=cooldowns)
    return apply_alert_plan(
        session, plan, project_id=project_id, rule_ids={rule.code: rule.id} if rule else {}, now=now
    )


def _tier_of(facts: Mapping[str, object]) -> Tier:
    """The tier an alert's facts name (an offline alert names none: OK)."""
    try:
        return Tier(str(facts.get("tier") or Tier.OK.value))
    except ValueError:
        return Tier.OK


def evaluate_offline(
    session: Session, *, now: dt.datetime, project_ids: Sequence[int] | None = None
) -> OfflineReport:
    """The periodic check of devices (every project's, or the given ones'): a device with
    points that has been silent for longer than its heartbeat timeout raises one offline
    alert (YELLOW), which resolves once it is heard from. A device never heard from gets
    its timeout from registration before it counts as offline."""
    now = _utc(now)
    ensure_default_rules(session)
    probe_ids = select(func.min(MonitorPointRow.id)).group_by(MonitorPointRow.device_id)
    query = (
        select(SensorDeviceRow, MonitorPointRow)
        .join(MonitorPointRow, MonitorPointRow.device_id == SensorDeviceRow.id)
        .where(MonitorPointRow.id.in_(probe_ids))
        .order_by(SensorDeviceRow.project_id, SensorDeviceRow.id)
    )
    if project_ids is not None:
        query = query.where(SensorDeviceRow.project_id.in_(list(project_ids)))
    by_project: dict[int, list[tuple[SensorDeviceRow, MonitorPointRow]]] = defaultdict(list)
    for device, point in session.execute(query):
        by_project[device.project_id].append((device, point))
    opened = resolved = offline = 0
    for project_id, pairs in by_project.items():
        rules = _sensor_rules(session, project_id)
        devices = [device for device, _ in pairs]
        offline += sum(_offline(device, now) for device in devices)
        counts = _reconcile_offline(session, project_id, devices, {d.id: p for d, p in pairs}, rules, now)
        opened += counts[0]
        resolved += counts[2]
    try:
        session.commit()
    except IntegrityError:  # another round raised the same alert a moment ago: it stands
        session.rollback()
        return OfflineReport(sum(map(len, by_project.values())), offline, 0, 0)
    return OfflineReport(sum(map(len, by_project.values())), offline, opened, resolved)


def _offline(device: SensorDeviceRow, now: dt.datetime) -> bool:
    seen = _utc(device.last_seen_at) if device.last_seen_at else None
    if seen is None and now - _utc(device.created_at) <= dt.timedelta(seconds=device.heartbeat_timeout_s):
        return False  # just registered: not silent for long enough yet
    return is_offline(seen, heartbeat_timeout_s=device.heartbeat_timeout_s, now=now)


# --------------------------------------------------------------------------- reading back


def readings(
    session: Session,
    *,
    project_id: int,
    point_id: int,
    start: dt.datetime,
    end: dt.datetime,
    bucket: str = "raw",
    limit: int = 10_000,
) -> ReadingSeries:
    """A point's readings (``bucket="raw"``, ``start ≤ ts ≤ end``) or its ``"minute"`` /
    ``"hour"`` aggregates (the buckets that begin in the range, the one ``start`` falls in
    included), oldest first, at most ``limit`` rows."""
    if bucket not in ("raw", "minute", "hour"):
        raise InvalidInput(f"bucket must be raw, minute or hour, not {bucket!r}")
    start, end = _utc(start), _utc(end)
    if end < start:
        raise InvalidInput("end is before start")
    if not 1 <= limit <= MAX_SERIES_ROWS:
        raise InvalidInput(f"limit must be between 1 and {MAX_SERIES_ROWS}")
    point, device = _point_row(session, project_id, point_id)
    if bucket == "raw":
        rows = session.scalars(
            select(SensorReadingRow)
            .where(
                SensorReadingRow.point_id == point_id,
                SensorReadingRow.ts >= start,
                SensorReadingRow.ts <= end,
            )
            .order_by(SensorReadingRow.ts)
            .limit(limit + 1)
        ).all()
        found = tuple(Reading(_utc(r.ts), r.value, Quality(r.quality)) for r in rows[:limit])
        return ReadingSeries(_point(point, device), bucket, start, end, found, (), len(rows) > limit)
    rows = session.scalars(
        select(SensorAggregateRow)
        .where(
            SensorAggregateRow.point_id == point_id,
            SensorAggregateRow.bucket == bucket,
            SensorAggregateRow.bucket_start >= _floor(start, bucket),
            SensorAggregateRow.bucket_start <= end,
        )
        .order_by(SensorAggregateRow.bucket_start)
        .limit(limit + 1)
    ).all()
    found_aggregates = tuple(_aggregate(row) for row in rows[:limit])
    return ReadingSeries(_point(point, device), bucket, start, end, (), found_aggregates, len(rows) > limit)


def sensor_states(
    session: Session, *, project_id: int, now: dt.datetime, at: dt.datetime | None = None
) -> SensorStates:
    """Every point's state and every linked element's colour, now (``at`` None: the state the
    latest batches stored, with offline judged against ``now``) or at ``at`` (time travel:
    recomputed with ``state_at`` from the readings stored around it, offline judged from
    those readings alone, with today's thresholds)."""
    now = _utc(now)
    pairs = session.execute(
        select(MonitorPointRow, SensorDeviceRow)
        .join(SensorDeviceRow, SensorDeviceRow.id == MonitorPointRow.device_id)
        .where(MonitorPointRow.project_id == project_id)
        .order_by(MonitorPointRow.code)
    ).all()
    when = now if at is None else _utc(at)
    statuses = []
    for point, device in pairs:
        state = _stored_state(point, device, now) if at is None else _state_at(session, point, device, when)
        metric = Metric(point.metric)
        statuses.append(
            PointStatus(
                point_id=point.id,
                code=point.code,
                name=point.name,
                metric=metric,
                unit=metric.unit,
                device_code=device.code,
                element_global_id=point.element_global_id,
                space_global_id=point.space_global_id,
                state=state,
            )
        )
    elements = _element_states((s.element_global_id, s.state) for s in statuses)
    return SensorStates(when, at is None, tuple(statuses), elements)


def point_states(
    session: Session, *, project_id: int, now: dt.datetime, at: dt.datetime | None = None
) -> list[PointStatus]:
    """Every point of the project with its state now or at ``at`` (see ``sensor_states``)."""
    return list(sensor_states(session, project_id=project_id, now=now, at=at).points)


def element_states(
    session: Session, *, project_id: int, now: dt.datetime, at: dt.datetime | None = None
) -> dict[str, Condition]:
    """Element GlobalId → condition (the worst of its points) for the viewer's ``sensors``
    colour mode, now or at ``at``."""
    return sensor_states(session, project_id=project_id, now=now, at=at).elements


def _state_at(
    session: Session, point: MonitorPointRow, device: SensorDeviceRow, at: dt.datetime
) -> PointState:
    thresholds = _thresholds(point)

    def judge(readings: list[Reading]) -> PointState:
        return state_at(
            readings,
            thresholds=thresholds,
            persist_s=point.persist_s,
            at=at,
            heartbeat_timeout_s=device.heartbeat_timeout_s,
        )

    readings = _window(session, point.id, point.persist_s, at)
    return _reach_run_start(session, point.id, readings, judge(readings), judge)


def _stored_state(point: MonitorPointRow, device: SensorDeviceRow, now: dt.datetime) -> PointState:
    latest = None
    latest_tier = Tier.OK
    if point.last_ts is not None and point.last_value is not None:
        ts = _utc(point.last_ts)
        latest = Reading(ts, point.last_value)
        thresholds = _thresholds(point)
        latest_tier = classify(
            point.last_value, thresholds.at(ts) if isinstance(thresholds, DayNightThresholds) else thresholds
        )
    return PointState(
        at=now,
        tier=Tier(point.tier),
        since=_utc(point.tier_since) if point.tier_since else None,
        value=point.tier_value,
        latest=latest,
        latest_tier=latest_tier,
        last_seen=_utc(device.last_seen_at) if device.last_seen_at else None,
        offline=_offline(device, now),
        heartbeat_timeout_s=device.heartbeat_timeout_s,
    )


# --------------------------------------------------------------------------- retention


def prune_readings(
    session: Session, *, now: dt.datetime, retention_days: float, aggregate_retention_days: float
) -> PruneReport:
    """Delete raw readings and minute aggregates older than ``retention_days``, and hour
    aggregates older than ``aggregate_retention_days``. Cut-offs fall on whole hours, the
    same ones ``ingest_readings`` refuses older readings by, so an hour is never rolled up
    from a part of its minutes. Point by point, along the primary keys."""
    if not (retention_days > 0 and aggregate_retention_days > 0):
        raise InvalidInput("retention periods must be positive (days)")
    now = _utc(now)
    raw_cutoff = _floor(now - dt.timedelta(days=retention_days), "hour")
    hour_cutoff = _floor(now - dt.timedelta(days=aggregate_retention_days), "hour")
    counts = [0, 0, 0]
    for point_id in session.scalars(select(MonitorPointRow.id).order_by(MonitorPointRow.id)).all():
        for i, statement in enumerate(
            (
                delete(SensorReadingRow).where(
                    SensorReadingRow.point_id == point_id, SensorReadingRow.ts < raw_cutoff
                ),
                delete(SensorAggregateRow).where(
                    SensorAggregateRow.point_id == point_id,
                    SensorAggregateRow.bucket == "minute",
                    SensorAggregateRow.bucket_start < raw_cutoff,
                ),
                delete(SensorAggregateRow).where(
                    SensorAggregateRow.point_id == point_id,
                    SensorAggregateRow.bucket == "hour",
                    SensorAggregateRow.bucket_start < hour_cutoff,
                ),
            )
        ):
            counts[i] += session.execute(statement).rowcount or 0
        session.commit()  # one point at a time: no long lock over the whole table
    report = PruneReport(*counts)
    if any(counts):
        log.info("sensor retention: pruned %d readings, %d minute and %d hour aggregates", *counts)
    return report


# --------------------------------------------------------------------------- helpers


def _point_row(
    session: Session, project_id: int, point_id: int, *, lock: bool = False
) -> tuple[MonitorPointRow, SensorDeviceRow]:
    query = select(MonitorPointRow).where(
        MonitorPointRow.id == point_id, MonitorPointRow.project_id == project_id
    )
    point = session.scalar(query.with_for_update() if lock else query)
    if point is None:
        raise NotFound(f"no monitor point {point_id} in this project")
    return point, session.get(SensorDeviceRow, point.device_id)


def _metric(metric: Metric | str) -> Metric:
    try:
        return Metric(metric)
    except ValueError:
        raise InvalidInput(f"unknown metric '{metric}' ({', '.join(m.value for m in Metric)})") from None


def _overrides(point: MonitorPointRow) -> ThresholdOverrides:
    return ThresholdOverrides(**{field: getattr(point, field) for field in _OVERRIDES})


def _merge_overrides(base: ThresholdOverrides, changes: Mapping[str, float | None]) -> ThresholdOverrides:
    unknown = sorted(set(changes) - set(_OVERRIDES))
    if unknown:
        raise InvalidInput(f"unknown threshold field(s) {', '.join(unknown)} ({', '.join(_OVERRIDES)})")
    return ThresholdOverrides(**{field: changes.get(field, getattr(base, field)) for field in _OVERRIDES})


def _point_thresholds(metric: Metric, overrides: ThresholdOverrides) -> tuple[Thresholds, Thresholds | None]:
    """The thresholds in force: the point's bounds over the metric's defaults. Noise takes
    them by day; at night (22:00–06:00 China time) GB 12523's night limits apply."""
    day = effective_thresholds(metric, overrides)
    return day, (NIGHT_NOISE_THRESHOLDS if metric is Metric.NOISE else None)


def _thresholds(point: MonitorPointRow) -> Thresholds | DayNightThresholds:
    day, night = _point_thresholds(Metric(point.metric), _overrides(point))
    return day if night is None else DayNightThresholds(day=day, night=night)


def _check_code(code: str, what: str) -> None:
    if not isinstance(code, str) or not code or code != code.strip() or len(code) > 64:
        raise InvalidInput(f"{what} is 1 to 64 characters without surrounding spaces")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in code):
        raise InvalidInput(f"{what} may not hold control characters")


def _check_persist(persist_s: float) -> None:
    if not (isinstance(persist_s, int | float) and math.isfinite(persist_s) and persist_s >= 0):
        raise InvalidInput("persist_s must be zero or more (seconds)")


def _check_place(lon: float | None, lat: float | None) -> None:
    if (lon is None) != (lat is None):
        raise InvalidInput("give both lon and lat, or neither")
    if lon is not None and not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput("lon must lie in [-180, 180] and lat in [-90, 90] (WGS-84 degrees)")


def _check_global_id(
    session: Session, project_id: int, global_id: str | None, what: str, *, must_exist: bool
) -> None:
    """A GlobalId is 22 characters of IFC's base-64 alphabet. An element must be in a
    processed revision of the project, once it has one (a point may be set up before the
    model is uploaded)."""
    if global_id is None:
        return
    if not _GLOBAL_ID.fullmatch(global_id):
        raise InvalidInput(f"{what} {global_id!r} is not an IFC GlobalId (22 characters 0-9 A-Z a-z _ $)")
    if not must_exist:
        return
    processed = select(RevisionRow.id).where(
        RevisionRow.project_id == project_id, RevisionRow.processing == Processing.SUCCEEDED.value
    )
    if not session.scalar(select(exists(processed))):
        return
    found = session.scalar(
        select(exists().where(ElementRow.revision_id.in_(processed), ElementRow.global_id == global_id))
    )
    if not found:
        raise InvalidInput(
            f"no element {global_id} in a processed revision of this project", code="unknown_element"
        )


def _commit(session: Session) -> None:
    try:
        session.commit()
    except IntegrityError:
        # Another writer raised the same alert at the same moment; the batch is idempotent.
        session.rollback()
        raise Conflict("a concurrent change to the same alerts; send the batch again", code="retry") from None


def _floor(ts: dt.datetime, bucket: str) -> dt.datetime:
    ts = _utc(ts)
    if bucket == "minute":
        return ts.replace(second=0, microsecond=0)
    return ts.replace(minute=0, second=0, microsecond=0)


def _utc(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; every stored time is UTC.
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _chunks(items: Sequence, size: int = _CHUNK) -> Iterable[Sequence]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _aggregate(row: SensorAggregateRow) -> Aggregate:
    return Aggregate(
        _utc(row.bucket_start), row.count, row.min, row.max, row.mean, row.last, _utc(row.last_at)
    )


def _device(row: SensorDeviceRow) -> DeviceRecord:
    return DeviceRecord(
        id=row.id,
        project_id=row.project_id,
        code=row.code,
        name=row.name,
        device_type=row.device_type,
        serial=row.serial,
        protocol=row.protocol,
        heartbeat_timeout_s=row.heartbeat_timeout_s,
        last_seen_at=_utc(row.last_seen_at) if row.last_seen_at else None,
        lon=row.lon,
        lat=row.lat,
        created_at=_utc(row.created_at),
    )


def _point(row: MonitorPointRow, device: SensorDeviceRow) -> PointRecord:
    metric = Metric(row.metric)
    overrides = _overrides(row)
    day, night = _point_thresholds(metric, overrides)
    return PointRecord(
        id=row.id,
        project_id=row.project_id,
        device_id=row.device_id,
        device_code=device.code,
        code=row.code,
        name=row.name,
        metric=metric,
        unit=metric.unit,
        overrides=overrides,
        thresholds=day,
        night_thresholds=night,
        persist_s=row.persist_s,
        element_global_id=row.element_global_id,
        space_global_id=row.space_global_id,
        lon=row.lon,
        lat=row.lat,
        tier=Tier(row.tier),
        tier_since=_utc(row.tier_since) if row.tier_since else None,
        tier_value=row.tier_value,
        last_value=row.last_value,
        last_ts=_utc(row.last_ts) if row.last_ts else None,
        created_at=_utc(row.created_at),
        updated_at=_utc(row.updated_at) if row.updated_at else None,
    )
