"""The MQTT bridge (``twin mqtt-bridge``): sensor readings from a broker into the twin.

The server never needs a broker: readings always come in over HTTP
(``POST /api/projects/{id}/readings``), and ``make run`` starts no broker. Sites whose
gateways speak MQTT run this bridge as a process of its own beside the server, on the same
``TWIN_*`` settings (database, queue), pointed at their broker by ``TWIN_MQTT_URL``.

Topics and payloads::

    {prefix}/{project}/{point}            readings: one {"ts", "value", "quality"?}, a list of
                                          them, or {"readings": [...]}; "point" may be left out
                                          (``domain.sensors.parse_readings_json``)
    {prefix}/{project}/{device}/status    the device is alive (a heartbeat at arrival), unless
                                          the payload says "offline" (a last will); retained
                                          status messages are old news and ignored

``{prefix}`` is ``TWIN_MQTT_TOPIC_PREFIX`` ("twin"); ``{project}`` is the project's code, or
its numeric id (``services.sensors.find_topic_project``).

The flow, one thread each side::

    broker ──QoS 1──► paho network thread ──on_message──► queue
    queue ──up to 200 messages, or what came within 1 s──► MessageIngest.ingest
        per message: topic → project → parse (a bad message costs only itself)
        per project: one transaction (``services.sensors.ingest_readings``) for the good
        readings of all its messages; should it fail unexpectedly, its messages one by one
    ──► PUBACK, only now: a message the bridge has not stored is not acknowledged

**Nothing taken is lost.** The bridge acknowledges a message once its readings are stored
or it was rejected for good, and it keeps a persistent session (clean session off) under
its client id. So a broker holds what arrives while the bridge restarts or waits for the
database, and hands over again what was not acknowledged; ingest is idempotent by
(point, ts), so a reading that arrives twice is a duplicate, not a second value. While the
database is unreachable, the bridge retries the batch with backoff and takes nothing new
(the broker stops sending once its in-flight window is full). Run one bridge per client id:
two with the same id take the session from each other.

**Bad payloads** — not JSON, the wrong shape, a NaN or text value, a timestamp without an
offset, an unknown point or project — are counted by reason and logged with the topic; they
never raise out of the callbacks and never cost the good readings of the same message or of
the messages around them.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import signal
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.exc import InterfaceError, OperationalError

from .domain.errors import Conflict, InvalidInput, NotFound, Unavailable
from .domain.sensors import ParsedReading, Rejected, parse_readings_json, parse_topic
from .services import sensors as sensor_service

if TYPE_CHECKING:
    from paho.mqtt.client import Client
    from sqlalchemy.orm import Session, sessionmaker

    from .config import Settings

__all__ = [
    "BridgeCounts",
    "BridgeStats",
    "BrokerAddress",
    "Message",
    "MessageIngest",
    "MqttBridge",
    "connect_publisher",
    "parse_mqtt_url",
    "reading_topic",
    "route_topic",
    "run_bridge",
    "status_topic",
    "topic_project",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Defaults of a batch: at most this many messages, taken within this long (s) of the first.
BATCH_MESSAGES = 200
BATCH_WAIT_S = 1.0
# A batch closes early once no message has come for this long (s): the broker sends no more
# than its in-flight window (Mosquitto: 20) of QoS 1 messages the bridge has not yet
# acknowledged, so waiting the full second would cap the bridge at 20 messages a second.
_IDLE_S = 0.05
#: Reconnect backoff (s): 1, 2, 4 … up to this. Database retries back off the same way.
RECONNECT_MAX_S = 30.0
# Broker keep-alive (s): a dead TCP connection is noticed within about 1.5 times this.
_KEEPALIVE_S = 30
# Immediate retries of a batch that met a concurrent change to the same alert (Conflict "retry").
_CONFLICT_RETRIES = 3
_SCHEMES = {"mqtt": False, "tcp": False, "mqtts": True, "ssl": True}


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --------------------------------------------------------------------------- addresses and topics


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """Where the broker is: ``mqtt://[user[:password]@]host[:port]`` (1883), ``mqtts://``
    for TLS (8883, the system's CA certificates)."""

    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def __str__(self) -> str:
        """The URL without the password, for logs."""
        user = f"{urllib.parse.quote(self.username)}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"


def parse_mqtt_url(url: str) -> BrokerAddress:
    """The broker named by ``url`` (``TWIN_MQTT_URL``); ``InvalidInput`` if it names none.

    Example: ``parse_mqtt_url("mqtt://127.0.0.1:1883")`` →
    ``BrokerAddress(host='127.0.0.1', port=1883, tls=False, username=None)``."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise InvalidInput(f"TWIN_MQTT_URL {url!r} is not a URL: {exc}") from None
    tls = _SCHEMES.get(parts.scheme.lower())
    if tls is None or not parts.hostname:
        raise InvalidInput(
            f"TWIN_MQTT_URL {url!r} is not mqtt://host[:port] or mqtts://host[:port] "
            "(user:password@ before the host when the broker asks)"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidInput(f"TWIN_MQTT_URL {url!r}: give only the scheme, host and port")
    return BrokerAddress(
        host=parts.hostname,
        port=port or (8883 if tls else 1883),
        tls=tls,
        username=urllib.parse.unquote(parts.username) if parts.username else None,
        password=urllib.parse.unquote(parts.password) if parts.password else None,
    )


def topic_project(code: str, project_id: int) -> str:
    """How a topic names a project: its code, or its id when the code cannot be a topic
    level (it holds ``/``, ``+`` or ``#``)."""
    return code if parse_topic(f"twin/{code}/x") is not None else str(project_id)


def reading_topic(prefix: str, project: str, point: str) -> str:
    """``{prefix}/{project}/{point}``: the topic of a point's readings."""
    return f"{prefix}/{project}/{point}"


def status_topic(prefix: str, project: str, device: str) -> str:
    """``{prefix}/{project}/{device}/status``: the topic of a device's heartbeat."""
    return f"{prefix}/{project}/{device}/status"


def route_topic(topic: str, prefix: str) -> tuple[str, str, str] | None:
    """What a topic is about: ``("reading", project, point)``, ``("status", project,
    device)``, or ``None`` when it has another shape (another prefix or depth, an empty
    level, a wildcard or control character).

    >>> route_topic("twin/SH-PD-01/S-07", "twin")
    ('reading', 'SH-PD-01', 'S-07')
    >>> route_topic("twin/SH-PD-01/INC-1/status", "twin")
    ('status', 'SH-PD-01', 'INC-1')
    """
    if not topic.startswith(prefix + "/"):
        return None
    levels = topic[len(prefix) + 1 :].split("/")
    if len(levels) == 3 and levels[2] == "status":
        parsed = parse_topic(f"twin/{levels[0]}/{levels[1]}")  # a device code obeys the point rules here
        return None if parsed is None else ("status", *parsed)
    parsed = parse_topic("twin/" + "/".join(levels))
    return None if parsed is None else ("reading", *parsed)


# --------------------------------------------------------------------------- counters


@dataclass(frozen=True, slots=True)
class BridgeCounts:
    """What a bridge has done since it started (a snapshot of ``BridgeStats``).

    ``messages``: messages taken from the broker; ``readings``: the items in them;
    ``stored``: readings that are new or changed a stored value at their (point, ts);
    ``duplicates``: readings already stored; ``heartbeats``: device status messages taken;
    ``rejected_messages``: whole messages refused, by reason (topic, project, payload,
    point, empty, too_large, device, error); ``rejected_readings``: single readings refused,
    by ``RejectCode`` (value, ts, point, quality, payload). Connection events: ``connects``,
    ``connect_failures`` (the broker could not be reached), ``disconnects``."""

    messages: int = 0
    readings: int = 0
    stored: int = 0
    duplicates: int = 0
    heartbeats: int = 0
    rejected_messages: Mapping[str, int] = field(default_factory=dict)
    rejected_readings: Mapping[str, int] = field(default_factory=dict)
    connects: int = 0
    connect_failures: int = 0
    disconnects: int = 0

    def summary(self) -> str:
        """One line, e.g. ``mqtt bridge: messages 12, readings 30, stored 27, duplicates 1,
        heartbeats 0; rejected messages 2 (payload 1, project 1), readings 2 (point 1, value 1)``."""

        def rejected(what: str, counts: Mapping[str, int]) -> str:
            reasons = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            return f"{what} {sum(counts.values()):,} ({', '.join(f'{code} {n:,}' for code, n in reasons)})"

        line = (
            f"mqtt bridge: messages {self.messages:,}, readings {self.readings:,}, stored {self.stored:,}, "
            f"duplicates {self.duplicates:,}, heartbeats {self.heartbeats:,}"
        )
        refused = [
            rejected(what, counts)
            for what, counts in (("messages", self.rejected_messages), ("readings", self.rejected_readings))
            if counts
        ]
        return f"{line}; rejected {', '.join(refused) if refused else 'nothing'}"


_COUNTERS = tuple(f.name for f in fields(BridgeCounts) if not f.name.startswith("rejected_"))


class BridgeStats:
    """Thread-safe counters of one bridge (``snapshot()`` → ``BridgeCounts``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._rejected_messages: Counter[str] = Counter()
        self._rejected_readings: Counter[str] = Counter()

    def add(self, **deltas: int) -> None:
        """Add to the plain counters (``messages=1, stored=3``)."""
        unknown = set(deltas) - set(_COUNTERS)
        if unknown:
            raise ValueError(f"no counter {', '.join(sorted(unknown))}")
        with self._lock:
            self._counts.update(deltas)

    def reject_message(self, reason: str) -> None:
        with self._lock:
            self._rejected_messages[reason] += 1

    def reject_readings(self, codes: Iterable[str]) -> None:
        with self._lock:
            self._rejected_readings.update(codes)

    def snapshot(self) -> BridgeCounts:
        with self._lock:
            return BridgeCounts(
                **{name: self._counts[name] for name in _COUNTERS},
                rejected_messages=dict(self._rejected_messages),
                rejected_readings=dict(self._rejected_readings),
            )


# --------------------------------------------------------------------------- the database side


@dataclass(frozen=True, slots=True)
class Message:
    """One MQTT message as the bridge took it. ``generation`` counts the connection it
    came on: it is acknowledged only on that one (after a reconnect the broker sends it
    again, and its packet id may belong to another message by then)."""

    topic: str
    payload: bytes
    received_at: dt.datetime
    retain: bool = False
    qos: int = 0
    mid: int = 0
    generation: int = 0


@dataclass(slots=True)
class _Parsed:
    message: Message
    good: list[ParsedReading]
    bad: list[Rejected]


class _Stopping(Exception):
    """The bridge is stopping while the database is away: leave the rest unacknowledged."""


_TRANSIENT = (OperationalError, InterfaceError)  # the database is down or the connection broke


class MessageIngest:
    """The database side of the bridge, no MQTT in it: a batch of messages in, each one
    stored or rejected on its own (see the module's flow).

    ``sessions`` makes database sessions; ``batch_max`` is the most readings one message may
    carry (``TWIN_SENSOR_BATCH_MAX``), ``retention_days`` refuses older readings;
    ``on_alerts(project_id)`` is called when a batch opened, changed or resolved an alert of
    the project (the bridge queues the project's KPI evaluation there, as the HTTP route does).

    Example::

        ingest = MessageIngest(runtime.sessions)
        ingest.ingest([Message("twin/SH-PD-01/S-07", b'{"ts": 1760000000, "value": 3.2}', now)])
        ingest.stats.snapshot().stored   # 1
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        topic_prefix: str = "twin",
        batch_max: int = 10_000,
        retention_days: float | None = None,
        stats: BridgeStats | None = None,
        on_alerts: Callable[[int], None] | None = None,
        clock: Callable[[], dt.datetime] = _utcnow,
    ) -> None:
        self.sessions = sessions
        self.topic_prefix = topic_prefix
        self.batch_max = batch_max
        self.retention_days = retention_days
        self.stats = stats or BridgeStats()
        self.on_alerts = on_alerts
        self.clock = clock

    def ingest(
        self, messages: Sequence[Message], *, wait: Callable[[float], bool] | None = None
    ) -> list[Message]:
        """Store what ``messages`` carry. Returns the messages dealt with — stored, or refused
        for good — which the caller acknowledges. Never raises for a bad message.

        While the database cannot be reached the batch is retried with backoff through
        ``wait(seconds)`` (True: stop waiting; the messages not yet dealt with are left out
        of the result). Without ``wait`` the database error is raised."""
        done: list[Message] = []
        try:
            self._ingest(messages, done, wait)
        except _Stopping:
            log.warning(
                "stopping with %d messages not stored: the broker sends them again", len(messages) - len(done)
            )
        return done

    def _ingest(self, messages: Sequence[Message], done: list[Message], wait) -> None:
        now = self.clock()
        projects: dict[str, int | None] = {}
        groups: dict[int, list[_Parsed]] = defaultdict(list)
        names: dict[int, str] = {}
        heartbeats: list[tuple[Message, int, str]] = []
        for message in messages:
            self.stats.add(messages=1)
            route = route_topic(message.topic, self.topic_prefix)
            if route is None:
                self._refuse(
                    message, "topic", f"not {self.topic_prefix}/{{project}}/{{point}} or …/{{device}}/status"
                )
                done.append(message)
                continue
            kind, ref, code = route
            if ref not in projects:
                projects[ref] = self._retrying(lambda ref=ref: self._find_project(ref), wait)
            project_id = projects[ref]
            if project_id is None:
                self._refuse(message, "project", f"no project {ref!r}")
                done.append(message)
                continue
            names[project_id] = ref
            if kind == "status":
                heartbeats.append((message, project_id, code))
                continue
            parsed = self._parse(message, code, now)
            if parsed is None:
                done.append(message)
            else:
                groups[project_id].append(parsed)
        for project_id, parsed in groups.items():
            self._store(project_id, names[project_id], parsed, wait)
            done += [p.message for p in parsed]
        for message, project_id, device in heartbeats:
            self._heartbeat(message, project_id, device, wait)
            done.append(message)

    # -- steps ------------------------------------------------------------------------------

    def _find_project(self, ref: str) -> int | None:
        with self.sessions() as session:
            try:
                return sensor_service.find_topic_project(session, ref=ref)
            except NotFound:
                return None

    def _parse(self, message: Message, point: str, now: dt.datetime) -> _Parsed | None:
        """The message's readings, or None when it is refused as a whole (counted, logged)."""
        good, bad = parse_readings_json(message.payload, now=now, point=point)
        whole = next((r for r in bad if r.position is None), None)
        if whole is not None:
            self._refuse(message, whole.code.value, whole.reason, raw=whole.raw)
            return None
        if not good and not bad:
            self._refuse(message, "empty", "the message holds no reading")
            return None
        items = len(good) + len(bad)
        if items > self.batch_max:
            self._refuse(
                message, "too_large", f"{items:,} readings; one message may carry {self.batch_max:,}"
            )
            return None
        self.stats.add(readings=items)
        if bad:
            log.warning(
                "%s: %d of %d readings rejected: %s",
                message.topic,
                len(bad),
                items,
                "; ".join(f"[{r.position}] {r.code.value}: {r.reason}" for r in bad[:3])
                + (f"; … ({len(bad) - 3} more)" if len(bad) > 3 else ""),
            )
        return _Parsed(message, good, bad)

    def _store(self, project_id: int, ref: str, parsed: list[_Parsed], wait) -> None:
        """One transaction for the project's messages; if it fails for another reason than
        an unreachable database, the messages one by one, so only the one at fault is lost."""
        try:
            report = self._retrying(lambda: self._write(project_id, parsed), wait)
        except _Stopping:
            raise
        except Exception:
            if len(parsed) == 1:
                log.exception("%s: could not store the message", parsed[0].message.topic)
                self._refuse(parsed[0].message, "error", "could not be stored (see the traceback above)")
                return
            log.exception(
                "project %s: a batch of %d messages failed; storing them one by one", ref, len(parsed)
            )
            for one in parsed:
                self._store(project_id, ref, [one], wait)
            return
        self._account(ref, report, passed=sum(len(p.bad) for p in parsed))
        if self.on_alerts and (report.alerts_opened or report.alerts_updated or report.alerts_resolved):
            self.on_alerts(project_id)

    def _write(self, project_id: int, parsed: list[_Parsed]) -> sensor_service.IngestReport:
        with self.sessions() as session:
            return sensor_service.ingest_readings(
                session,
                project_id=project_id,
                readings=[r for p in parsed for r in p.good],
                rejected=[r for p in parsed for r in p.bad],
                now=self.clock(),
                source="mqtt",
                retention_days=self.retention_days,
            )

    def _account(self, ref: str, report: sensor_service.IngestReport, *, passed: int) -> None:
        self.stats.add(stored=report.accepted + report.updated, duplicates=report.duplicates)
        self.stats.reject_readings(r.code.value for r in report.rejected)
        later = report.rejected[passed:]  # refused by the service: unknown points, past retention
        if later:
            reasons = Counter(r.reason for r in later)
            log.warning(
                "project %s: %d readings rejected: %s",
                ref,
                len(later),
                "; ".join(f"{reason} ({n})" for reason, n in reasons.most_common(3)),
            )
        if report.alerts_opened or report.alerts_updated or report.alerts_resolved:
            log.info(
                "project %s: alerts opened %d, changed %d, resolved %d (points %s)",
                ref,
                report.alerts_opened,
                report.alerts_updated,
                report.alerts_resolved,
                ", ".join(report.points),
            )

    def _heartbeat(self, message: Message, project_id: int, device: str, wait) -> None:
        if message.retain:
            log.debug("%s: retained status ignored (it is not news)", message.topic)
            return
        text = message.payload.decode("utf-8", "replace").strip().strip('"').lower()
        if text == "offline" or '"offline"' in text:
            log.info("%s: the device says it is offline", message.topic)
            return

        def beat() -> None:
            with self.sessions() as session:
                sensor_service.record_heartbeat(
                    session, project_id=project_id, device_code=device, at=message.received_at
                )

        try:
            self._retrying(beat, wait)
        except NotFound:
            self._refuse(message, "device", f"no device {device!r} in the project")
        except _Stopping:
            raise
        except Exception:
            log.exception("%s: could not record the heartbeat", message.topic)
            self._refuse(message, "error", "could not be stored (see the traceback above)")
        else:
            self.stats.add(heartbeats=1)

    def _refuse(self, message: Message, reason: str, detail: str, *, raw: str | None = None) -> None:
        self.stats.reject_message(reason)
        snippet = raw if raw is not None else message.payload[:120].decode("utf-8", "replace")
        log.warning("%s: message rejected (%s): %s; payload %r", message.topic, reason, detail, snippet)

    def _retrying(self, work: Callable[[], T], wait) -> T:
        """``work()``, again at once after a concurrent change to the same alerts, and with
        backoff while the database cannot be reached (``wait`` None: raise)."""
        delay, conflicts = 1.0, 0
        while True:
            try:
                return work()
            except Conflict as exc:
                if exc.code != "retry" or conflicts >= _CONFLICT_RETRIES:
                    raise
                conflicts += 1
            except _TRANSIENT as exc:
                if wait is None:
                    raise
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                log.warning("the database cannot be reached (%s): retrying in %.0f s", reason, delay)
                if wait(delay):
                    raise _Stopping from None
                delay = min(delay * 2, RECONNECT_MAX_S)


# --------------------------------------------------------------------------- the MQTT side


def _client(broker: BrokerAddress, *, client_id: str, persistent: bool, manual_ack: bool) -> Client:
    from paho.mqtt.client import Client, MQTTv311
    from paho.mqtt.enums import CallbackAPIVersion

    client = Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=not persistent,
        protocol=MQTTv311,
        manual_ack=manual_ack,
    )
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    if broker.tls:
        client.tls_set()
    return client


class MqttBridge:
    """The bridge: a paho client subscribed to ``{prefix}/+/+`` and
    ``{prefix}/+/+/status`` at QoS 1, feeding ``ingest`` from a worker thread in batches
    (see the module's flow). ``start()`` returns at once: the first connection, like every
    reconnection, is retried with backoff (1 s doubling to ``reconnect_max_s``) until
    ``stop()``. ``persistent``: keep the broker session (messages wait for the bridge);
    tests switch it off.

    Example::

        bridge = MqttBridge(MessageIngest(runtime.sessions), broker=parse_mqtt_url(url),
                            client_id="erji-twin-bridge")
        bridge.start(); ...; bridge.stop()
        print(bridge.stats.snapshot().summary())
    """

    def __init__(
        self,
        ingest: MessageIngest,
        *,
        broker: BrokerAddress,
        client_id: str,
        persistent: bool = True,
        batch_messages: int = BATCH_MESSAGES,
        batch_wait_s: float = BATCH_WAIT_S,
        reconnect_max_s: float = RECONNECT_MAX_S,
    ) -> None:
        if batch_messages < 1 or batch_wait_s < 0:
            raise InvalidInput("a batch holds at least one message and waits zero seconds or more")
        self.ingest = ingest
        self.stats = ingest.stats
        self.broker = broker
        self.client_id = client_id
        self.topic_prefix = ingest.topic_prefix
        self.batch_messages = batch_messages
        self.batch_wait_s = batch_wait_s
        self.reconnect_max_s = reconnect_max_s
        self._queue: queue.Queue[Message] = queue.Queue()
        self._pending = 0  # taken from the broker, not yet stored or refused
        self._pending_lock = threading.Lock()
        self._stopping = threading.Event()
        self._connected = threading.Event()
        self._subscribed = threading.Event()
        self._generation = 0
        self._failures_in_a_row = 0
        self._client = _client(broker, client_id=client_id, persistent=persistent, manual_ack=True)
        self._client.reconnect_delay_set(1, max(1, int(reconnect_max_s)))
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self._worker = threading.Thread(target=self._work, name="mqtt-ingest", daemon=True)

    @property
    def subscriptions(self) -> tuple[str, str]:
        return f"{self.topic_prefix}/+/+", f"{self.topic_prefix}/+/+/status"

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def running(self) -> bool:
        """The worker is alive: messages taken are being stored."""
        return self._worker.is_alive()

    @property
    def pending(self) -> int:
        """Messages taken from the broker and not yet stored or refused."""
        with self._pending_lock:
            return self._pending

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

    def wait_subscribed(self, timeout_s: float) -> bool:
        """Wait until the broker confirmed the subscriptions of the current connection."""
        return self._subscribed.wait(timeout_s)

    def start(self) -> None:
        """Connect (in the background, retrying) and start storing messages."""
        log.info(
            "mqtt bridge: connecting to %s as %r, topics %s",
            self.broker,
            self.client_id,
            ", ".join(self.subscriptions),
        )
        self._client.connect_async(self.broker.host, self.broker.port, keepalive=_KEEPALIVE_S)
        self._client.loop_start()
        self._worker.start()

    def stop(self, timeout_s: float = 30.0) -> BridgeCounts:
        """Stop taking messages, store and acknowledge those already taken, then disconnect.
        Messages the broker sends meanwhile stay unacknowledged: it keeps them for the next
        start. Returns the final counts."""
        self._stopping.set()
        if self._worker.is_alive():
            self._worker.join(timeout_s)
        self._client.disconnect()
        self._client.loop_stop()
        self._connected.clear()
        self._subscribed.clear()
        counts = self.stats.snapshot()
        log.info("mqtt bridge: stopped")
        log.info("%s", counts.summary())
        return counts

    # -- paho callbacks (network thread): quick, and never raise ------------------------------

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("mqtt bridge: the broker at %s refused the connection: %s", self.broker, reason_code)
            return
        self._generation += 1
        self._failures_in_a_row = 0
        self.stats.add(connects=1)
        self._connected.set()
        log.info(
            "mqtt bridge: connected to %s%s",
            self.broker,
            " (session resumed: messages kept while away follow)" if flags.session_present else "",
        )
        client.subscribe([(topic, 1) for topic in self.subscriptions])

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        refused = [code for code in reason_codes if code.is_failure]
        if refused:
            log.error(
                "mqtt bridge: the broker refused the subscription to %s: %s", self.subscriptions, refused
            )
        else:
            self._subscribed.set()
            log.info("mqtt bridge: subscribed to %s (QoS 1)", ", ".join(self.subscriptions))

    def _on_connect_fail(self, client, userdata) -> None:
        self._failures_in_a_row += 1
        self.stats.add(connect_failures=1)
        delay = min(2 ** (self._failures_in_a_row - 1), self.reconnect_max_s)
        log.warning(
            "mqtt bridge: cannot reach the broker at %s (attempt %d): retrying in %.0f s",
            self.broker,
            self._failures_in_a_row,
            delay,
        )

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        was_connected = self._connected.is_set()
        self._connected.clear()
        self._subscribed.clear()
        if self._stopping.is_set():
            return
        if was_connected:
            self.stats.add(disconnects=1)
            log.warning("mqtt bridge: lost the connection to %s (%s): reconnecting", self.broker, reason_code)

    def _on_message(self, client, userdata, msg) -> None:
        if self._stopping.is_set():
            return  # not taken and not acknowledged: the broker keeps it for the next start
        with self._pending_lock:
            self._pending += 1
        self._queue.put(
            Message(
                topic=msg.topic,
                payload=bytes(msg.payload),
                received_at=_utcnow(),
                retain=bool(msg.retain),
                qos=msg.qos,
                mid=msg.mid,
                generation=self._generation,
            )
        )

    # -- the worker ------------------------------------------------------------------------

    def _work(self) -> None:
        while (batch := self._next_batch()) is not None:
            try:
                done = self.ingest.ingest(batch, wait=self._stopping.wait)
            except Exception:  # a bug in the bridge itself: never let the worker die
                log.exception("mqtt bridge: could not process %d messages", len(batch))
                for _ in batch:
                    self.stats.reject_message("error")
                done = list(batch)
            for message in done:
                self._ack(message)
            with self._pending_lock:
                self._pending -= len(batch)

    def _next_batch(self) -> list[Message] | None:
        """The next batch, or None once stopping with nothing left to store."""
        while True:
            try:
                batch = [self._queue.get(timeout=0.2)]
                break
            except queue.Empty:
                if self._stopping.is_set():
                    return None
        deadline = time.monotonic() + self.batch_wait_s
        while len(batch) < self.batch_messages and (remaining := deadline - time.monotonic()) > 0:
            try:
                batch.append(self._queue.get(timeout=min(remaining, _IDLE_S)))
            except queue.Empty:
                break
        return batch

    def _ack(self, message: Message) -> None:
        if message.qos == 0 or message.generation != self._generation or not self._connected.is_set():
            return  # the broker sends it again on the next connection; it is stored: a duplicate
        try:
            self._client.ack(message.mid, message.qos)
        except Exception:  # the connection went away in between: same as above
            log.debug("could not acknowledge message %d", message.mid, exc_info=True)


# --------------------------------------------------------------------------- publishing


def connect_publisher(broker: BrokerAddress, *, client_id: str, timeout_s: float = 10.0) -> Client:
    """A connected paho client for publishing (its network loop running), or
    ``Unavailable`` when the broker cannot be reached within ``timeout_s``. Publish with
    ``client.publish(topic, payload, qos=1).wait_for_publish()``; end with
    ``client.disconnect(); client.loop_stop()``."""
    client = _client(broker, client_id=client_id, persistent=False, manual_ack=False)
    try:
        client.connect(broker.host, broker.port, keepalive=_KEEPALIVE_S)
    except OSError as exc:
        raise Unavailable(f"cannot reach the MQTT broker at {broker}: {exc}") from None
    client.loop_start()
    deadline = time.monotonic() + timeout_s
    while not client.is_connected():
        if time.monotonic() > deadline:
            client.loop_stop()
            raise Unavailable(f"the MQTT broker at {broker} did not accept the connection")
        time.sleep(0.02)
    return client


# --------------------------------------------------------------------------- the command


def run_bridge(
    settings: Settings,
    *,
    url: str | None = None,
    client_id: str | None = None,
    topic_prefix: str | None = None,
    summary_every_s: float = 60.0,
    log_level: str = "INFO",
) -> int:
    """``twin mqtt-bridge``: run until SIGINT or SIGTERM, logging the counts every
    ``summary_every_s`` while they change, and printing them at exit."""
    import logging.config

    from .commands import logging_config
    from .runtime import build_runtime

    broker = parse_mqtt_url(url or settings.mqtt_url)
    logging.config.dictConfig(logging_config(log_level))
    runtime = build_runtime(settings)
    ingest = MessageIngest(
        runtime.sessions,
        topic_prefix=topic_prefix or settings.mqtt_topic_prefix,
        batch_max=settings.sensor_batch_max,
        retention_days=settings.sensor_retention_days,
        on_alerts=lambda project_id: runtime.queue.evaluate([project_id]),
    )
    bridge = MqttBridge(ingest, broker=broker, client_id=client_id or settings.mqtt_client_id)
    stop = threading.Event()

    def request_stop(signum, frame) -> None:
        log.info("mqtt bridge: %s received, stopping", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        bridge.start()
        last = bridge.stats.snapshot()
        while not stop.wait(summary_every_s):
            counts = bridge.stats.snapshot()
            if counts != last:
                log.info("%s", counts.summary())
                last = counts
        counts = bridge.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        runtime.close()
    print(counts.summary(), flush=True)
    return 0
