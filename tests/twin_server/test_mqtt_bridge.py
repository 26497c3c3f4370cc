"""``twin mqtt-bridge`` end to end against the real broker (Mosquitto at 127.0.0.1:1883;
missing, it skips locally and fails under CI=true), on SQLite and PostgreSQL: good readings
stored, bad payloads counted by reason without costing the good ones around them, a breach
published over MQTT raising its alert, device heartbeats, reconnection after the broker
drops the bridge, messages kept by the broker while the bridge is down, a broker that is
not there yet, and the command as an operator runs it (signals, summary, exit codes).

Each test works under a topic prefix and a client id of its own, so parallel runs and other
users of the broker never see each other's messages.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from tests.twin_server.conftest import SECRET, make_settings, seed_world
from twin_server.domain.errors import InvalidInput
from twin_server.domain.sensors import Metric
from twin_server.mqtt import (
    BridgeCounts,
    Message,
    MessageIngest,
    MqttBridge,
    connect_publisher,
    parse_mqtt_url,
    route_topic,
)
from twin_server.runtime import build_runtime
from twin_server.services import alerts as alert_service
from twin_server.services import sensors as sensor_service

TWIN = Path(sys.executable).with_name("twin")


def unique(kind: str) -> str:
    return f"erji-test-{kind}-{uuid.uuid4().hex[:10]}"


def minutes_ago(minutes: float) -> dt.datetime:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)).replace(microsecond=0)


def wait_for(condition: Callable[[], bool], timeout_s: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what or condition}"
        time.sleep(0.05)


def forget_session(url: str, client_id: str) -> None:
    """Connect once with a clean session under ``client_id``: the broker drops what it kept."""
    client = connect_publisher(parse_mqtt_url(url), client_id=client_id)
    client.disconnect()
    client.loop_stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_bridge(
    url: str, sessions, *, prefix: str, client_id: str | None = None, persistent: bool = False, **options
) -> Iterator[MqttBridge]:
    """An in-process bridge on ``sessions``, subscribed before it is handed over."""
    ingest = MessageIngest(sessions, topic_prefix=prefix, on_alerts=options.pop("on_alerts", None))
    bridge = MqttBridge(
        ingest,
        broker=parse_mqtt_url(url),
        client_id=client_id or unique("bridge"),
        persistent=persistent,
        batch_wait_s=0.2,
        **options,
    )
    bridge.start()
    try:
        yield bridge
    finally:
        bridge.stop()


@pytest.fixture(scope="module")
def publisher(mqtt_broker) -> Iterator[Callable[..., None]]:
    """``publish(topic, payload, retain=False)``: QoS 1, returns once the broker has it."""
    client = connect_publisher(parse_mqtt_url(mqtt_broker), client_id=unique("publisher"))

    def publish(topic: str, payload: bytes | str, *, retain: bool = False) -> None:
        info = client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(timeout=10)
        assert info.is_published(), topic

    yield publish
    client.disconnect()
    client.loop_stop()


@pytest.fixture(scope="module")
def site(api) -> dict:
    """On P-EAST: device MB-DEV with points MB-1 (displacement, default thresholds) and
    MB-ALARM (alarm at 30 mm held one minute)."""
    project_id = api.node("P-EAST")
    with api.runtime.sessions() as session:
        device = sensor_service.register_device(
            session, project_id=project_id, code="MB-DEV", device_type="excavation"
        )
        for code, thresholds, persist_s in (("MB-1", {}, 0), ("MB-ALARM", {"alarm_upper": 30.0}, 60)):
            sensor_service.register_point(
                session,
                project_id=project_id,
                device_id=device.id,
                code=code,
                metric=Metric.DISPLACEMENT,
                thresholds=thresholds,
                persist_s=persist_s,
            )
    return {"project_id": project_id, "device_id": device.id}


def values(api, project_id: int, code: str) -> list[tuple[dt.datetime, float]]:
    with api.runtime.sessions() as session:
        point = next(p for p in sensor_service.list_points(session, project_id=project_id) if p.code == code)
        series = sensor_service.readings(
            session,
            project_id=project_id,
            point_id=point.id,
            start=dt.datetime.now(dt.UTC) - dt.timedelta(days=2),
            end=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5),
        )
    return [(r.ts, r.value) for r in series.readings]


# --------------------------------------------------------------------------- without a broker


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("twin/SH-PD-01/S-07", ("reading", "SH-PD-01", "S-07")),
        ("twin/7/S-07", ("reading", "7", "S-07")),
        ("twin/SH-PD-01/INC-1/status", ("status", "SH-PD-01", "INC-1")),
        ("twin/SH-PD-01/status", ("reading", "SH-PD-01", "status")),  # a point may be called status
        ("other/SH-PD-01/S-07", None),
        ("twin/SH-PD-01", None),
        ("twin/SH-PD-01/S-07/extra", None),
        ("twin//S-07", None),
        ("twin/SH-PD-01/S\x0107", None),
        ("twinx/SH-PD-01/S-07", None),
    ],
)
def test_topics_are_routed_by_shape(topic, expected) -> None:
    assert route_topic(topic, "twin") == expected


def test_a_topic_prefix_may_have_several_levels() -> None:
    assert route_topic("site-a/twin/P1/S-1", "site-a/twin") == ("reading", "P1", "S-1")
    assert route_topic("twin/P1/S-1", "site-a/twin") is None


def test_broker_urls() -> None:
    assert parse_mqtt_url("mqtt://127.0.0.1:1883") == parse_mqtt_url("tcp://127.0.0.1")
    secure = parse_mqtt_url("mqtts://gateway:s%40cret@broker.example.cn")
    assert (secure.host, secure.port, secure.tls, secure.username, secure.password) == (
        "broker.example.cn",
        8883,
        True,
        "gateway",
        "s@cret",
    )
    assert "s@cret" not in str(secure) and "s@cret" not in repr(secure)
    for bad in ("http://127.0.0.1", "127.0.0.1:1883", "mqtt://", "mqtt://h:99999", "mqtt://h/x"):
        with pytest.raises(InvalidInput):
            parse_mqtt_url(bad)


def test_the_summary_line() -> None:
    counts = BridgeCounts(
        messages=12,
        readings=30,
        stored=27,
        duplicates=1,
        rejected_messages={"project": 1, "payload": 1},
        rejected_readings={"value": 1, "point": 1},
    )
    assert counts.summary() == (
        "mqtt bridge: messages 12, readings 30, stored 27, duplicates 1, heartbeats 0; "
        "rejected messages 2 (payload 1, project 1), readings 2 (point 1, value 1)"
    )
    assert BridgeCounts().summary().endswith("; rejected nothing")


def test_the_bridge_waits_for_a_broker_that_is_not_there(tmp_path) -> None:
    """Started before its broker is reachable (here: a port nothing listens on), the bridge
    keeps retrying with backoff and stops cleanly."""
    ingest = MessageIngest(lambda: pytest.fail("no message can arrive"))
    bridge = MqttBridge(
        ingest, broker=parse_mqtt_url(f"mqtt://127.0.0.1:{free_port()}"), client_id=unique("x")
    )
    bridge.start()
    try:
        wait_for(lambda: bridge.stats.snapshot().connect_failures >= 2, 15, "two failed attempts")
        assert bridge.running and not bridge.connected
    finally:
        started = time.monotonic()
        counts = bridge.stop()
    assert time.monotonic() - started < 5
    assert (counts.connects, counts.messages) == (0, 0)


# --------------------------------------------------------------------------- the database side


def test_a_message_that_fails_unexpectedly_costs_only_itself(api, site, monkeypatch) -> None:
    """A batch whose transaction fails for a reason other than the database is stored
    again message by message; only the message at fault is lost, counted as an error."""
    real = sensor_service.ingest_readings

    def fragile(session, **kwargs):
        if any(r.value == 666 for r in kwargs["readings"]):
            raise RuntimeError("a bug")
        return real(session, **kwargs)

    monkeypatch.setattr(sensor_service, "ingest_readings", fragile)
    ingest = MessageIngest(api.runtime.sessions)
    base = minutes_ago(300)
    messages = [
        Message(
            "twin/P-EAST/MB-1",
            json.dumps({"ts": (base + dt.timedelta(minutes=i)).isoformat(), "value": v}).encode(),
            dt.datetime.now(dt.UTC),
        )
        for i, v in enumerate((11.0, 666, 12.0))
    ]
    done = ingest.ingest(messages)
    assert done == messages  # all dealt with: two stored, one refused for good
    counts = ingest.stats.snapshot()
    assert (counts.stored, counts.rejected_messages) == (2, {"error": 1})
    assert [v for ts, v in values(api, site["project_id"], "MB-1") if ts >= base] == [11.0, 12.0]


def test_an_unreachable_database_is_waited_for(api, site) -> None:
    """While the database cannot be reached the batch is retried with backoff; once it is
    back, everything is stored; told to stop, nothing is acknowledged."""
    failures = {"left": 2}

    def sessions():
        if failures["left"]:
            failures["left"] -= 1
            raise OperationalError("connect", {}, ConnectionRefusedError("the database is restarting"))
        return api.runtime.sessions()

    waited: list[float] = []
    ingest = MessageIngest(sessions)
    ts = minutes_ago(290).isoformat()
    message = Message(
        "twin/P-EAST/MB-1", json.dumps({"ts": ts, "value": 13}).encode(), dt.datetime.now(dt.UTC)
    )
    assert ingest.ingest([message], wait=lambda s: waited.append(s) or False) == [message]
    assert waited == [1.0, 2.0]
    assert ingest.stats.snapshot().stored == 1
    failures["left"] = 1
    assert ingest.ingest([message], wait=lambda s: True) == []  # stopping: left to the broker


# --------------------------------------------------------------------------- end to end


def test_good_readings_are_stored_and_bad_payloads_counted(api, site, mqtt_broker, publisher) -> None:
    prefix = unique("prefix")
    pid = site["project_id"]
    t = [minutes_ago(120 - i) for i in range(12)]
    with running_bridge(mqtt_broker, api.runtime.sessions, prefix=prefix) as bridge:
        assert bridge.wait_subscribed(20)
        topic = f"{prefix}/P-EAST/MB-1"
        sent = [
            (topic, json.dumps({"ts": t[0].isoformat(), "value": 1.5})),
            # a NaN and a word among good values: the good ones are kept
            (
                topic,
                f'[{{"ts": "{t[1].isoformat()}", "value": 2}}, '
                f'{{"ts": "{t[2].isoformat()}", "value": NaN}}, '
                f'{{"ts": "{t[3].isoformat()}", "value": "abc"}}, '
                f'{{"ts": {int(t[4].timestamp())}, "value": 3}}]',
            ),
            (topic, b"not json {"),
            (f"{prefix}/P-EAST/NOPE", json.dumps([{"ts": t[5].isoformat(), "value": 1}])),
            (f"{prefix}/NO-SUCH-PROJECT/MB-1", json.dumps({"ts": t[5].isoformat(), "value": 1})),
            (topic, json.dumps({"ts": t[6].replace(tzinfo=None).isoformat(), "value": 9})),  # no offset
            (topic, b""),
            (topic, json.dumps({"readings": "x"})),
            (topic, b"[]"),
            (topic, json.dumps({"readings": [{"ts": t[7].isoformat(), "value": 4}]})),
            (f"{prefix}/{pid}/MB-1", json.dumps({"ts": t[8].isoformat(), "value": 5, "quality": "suspect"})),
            (topic, json.dumps({"ts": t[0].isoformat(), "value": 1.5})),  # sent again
        ]
        for topic_, payload in sent:
            publisher(topic_, payload)
        wait_for(lambda: bridge.stats.snapshot().messages == len(sent) and not bridge.pending, what="all")
        counts = bridge.stats.snapshot()
        assert bridge.running and bridge.connected
    assert (counts.stored, counts.duplicates, counts.readings) == (5, 1, 10)
    assert counts.rejected_messages == {"payload": 3, "project": 1, "empty": 1}
    assert counts.rejected_readings == {"value": 2, "point": 1, "ts": 1}
    stored = [(ts, v) for ts, v in values(api, pid, "MB-1") if t[0] <= ts <= t[-1]]
    assert stored == [(t[0], 1.5), (t[1], 2.0), (t[4], 3.0), (t[7], 4.0), (t[8], 5.0)]


def test_a_breach_published_over_mqtt_raises_its_alert(api, site, mqtt_broker, publisher) -> None:
    prefix = unique("prefix")
    evaluated: list[int] = []
    base = minutes_ago(60)
    with running_bridge(
        mqtt_broker, api.runtime.sessions, prefix=prefix, on_alerts=evaluated.append
    ) as bridge:
        assert bridge.wait_subscribed(20)
        for minute in range(3):  # one device message a minute, held above 30 mm
            ts = (base + dt.timedelta(minutes=minute)).isoformat()
            publisher(f"{prefix}/P-EAST/MB-ALARM", json.dumps({"ts": ts, "value": 32.5}))
        wait_for(lambda: bridge.stats.snapshot().stored == 3, what="three readings")
    with api.runtime.sessions() as session:
        (alert,) = [
            a
            for a in alert_service.list_alerts(session, scope_path="/", project_id=site["project_id"])
            if a.subject_key == "MB-ALARM"
        ]
    assert (alert.kind, alert.level, alert.facts["tier"], alert.facts["value"]) == (
        "sensor_threshold",
        "red",
        "alarm",
        32.5,
    )
    assert site["project_id"] in evaluated  # the project's KPIs follow, as after an HTTP batch


def test_device_status_messages_are_heartbeats(api, site, mqtt_broker, publisher) -> None:
    prefix = unique("prefix")
    before = dt.datetime.now(dt.UTC)
    with running_bridge(mqtt_broker, api.runtime.sessions, prefix=prefix) as bridge:
        assert bridge.wait_subscribed(20)
        publisher(f"{prefix}/P-EAST/MB-DEV/status", b"online")
        publisher(f"{prefix}/P-EAST/MB-DEV/status", json.dumps({"status": "offline"}))  # a last will
        publisher(f"{prefix}/P-EAST/NO-DEVICE/status", b"online")
        wait_for(lambda: bridge.stats.snapshot().messages == 3 and not bridge.pending, what="all three")
        counts = bridge.stats.snapshot()
    assert (counts.heartbeats, counts.rejected_messages) == (1, {"device": 1})
    with api.runtime.sessions() as session:
        device = next(
            d
            for d in sensor_service.list_devices(session, project_id=site["project_id"])
            if d.code == "MB-DEV"
        )
    assert device.last_seen_at is not None and device.last_seen_at >= before.replace(microsecond=0)


def test_the_bridge_reconnects_when_the_broker_drops_it(api, site, mqtt_broker, publisher) -> None:
    """Another client taking the bridge's client id makes the broker close the bridge's
    connection; the bridge reconnects on its own, subscribes again and goes on storing."""
    prefix, client_id = unique("prefix"), unique("bridge")
    base = minutes_ago(100)
    with running_bridge(
        mqtt_broker, api.runtime.sessions, prefix=prefix, client_id=client_id, persistent=True
    ) as bridge:
        assert bridge.wait_subscribed(20)
        publisher(f"{prefix}/P-EAST/MB-1", json.dumps({"ts": base.isoformat(), "value": 6}))
        wait_for(lambda: bridge.stats.snapshot().stored == 1, what="the first reading")
        forget_session(mqtt_broker, client_id)  # the broker drops the bridge for the newcomer
        wait_for(lambda: bridge.stats.snapshot().disconnects == 1, what="the drop")
        wait_for(lambda: bridge.stats.snapshot().connects == 2, what="the reconnection")
        assert bridge.wait_subscribed(20)
        later = (base + dt.timedelta(minutes=1)).isoformat()
        publisher(f"{prefix}/P-EAST/MB-1", json.dumps({"ts": later, "value": 7}))
        wait_for(lambda: bridge.stats.snapshot().stored == 2, what="the reading after the reconnection")
    forget_session(mqtt_broker, client_id)
    assert [
        v for ts, v in values(api, site["project_id"], "MB-1") if base <= ts <= base + dt.timedelta(minutes=1)
    ] == [6, 7]


def test_messages_sent_while_the_bridge_is_down_arrive_when_it_is_back(
    api, site, mqtt_broker, publisher
) -> None:
    """The broker keeps the bridge's session: what is published between a stop and the next
    start (QoS 1) is delivered then. A restarted subscription works."""
    prefix, client_id = unique("prefix"), unique("bridge")
    base = minutes_ago(80)
    try:
        with running_bridge(
            mqtt_broker, api.runtime.sessions, prefix=prefix, client_id=client_id, persistent=True
        ) as bridge:
            assert bridge.wait_subscribed(20)
        for minute in range(2):
            ts = (base + dt.timedelta(minutes=minute)).isoformat()
            publisher(f"{prefix}/P-EAST/MB-1", json.dumps({"ts": ts, "value": 20 + minute}))
        with running_bridge(
            mqtt_broker, api.runtime.sessions, prefix=prefix, client_id=client_id, persistent=True
        ) as bridge:
            wait_for(lambda: bridge.stats.snapshot().stored == 2, what="the kept messages")
            assert bridge.stats.snapshot().connects == 1
    finally:
        forget_session(mqtt_broker, client_id)
    kept = [
        v for ts, v in values(api, site["project_id"], "MB-1") if base <= ts <= base + dt.timedelta(minutes=1)
    ]
    assert kept == [20, 21]


# --------------------------------------------------------------------------- the command


@pytest.fixture
def bridge_env(tmp_path) -> dict[str, str]:
    """A SQLite database with the test organisation and device MB-DEV / point MB-1 on P-EAST."""
    url = f"sqlite:///{tmp_path / 'twin.db'}"
    runtime = build_runtime(make_settings(tmp_path, url))
    try:
        world = seed_world(runtime)
        with runtime.sessions() as session:
            device = sensor_service.register_device(
                session, project_id=world.nodes["P-EAST"], code="MB-DEV", device_type="excavation"
            )
            sensor_service.register_point(
                session,
                project_id=world.nodes["P-EAST"],
                device_id=device.id,
                code="MB-1",
                metric="displacement",
            )
    finally:
        runtime.close()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TWIN_")}
    return clean | {
        "TWIN_DATA_DIR": str(tmp_path / "data"),
        "TWIN_DATABASE_URL": url,
        "TWIN_SECRET_KEY": SECRET,
        "TWIN_QUEUE": "immediate",
        "TWIN_MQTT_TOPIC_PREFIX": unique("prefix"),
        "TWIN_MQTT_CLIENT_ID": unique("bridge"),
    }


@contextlib.contextmanager
def bridge_process(env: dict[str, str], log: Path, *args: str) -> Iterator[subprocess.Popen]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(TWIN), "mqtt-bridge", *args], env=env, stdout=subprocess.PIPE, stderr=out
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def test_the_command_stores_counts_and_stops_on_sigterm(bridge_env, mqtt_broker, publisher, tmp_path) -> None:
    env = bridge_env | {"TWIN_MQTT_URL": mqtt_broker}
    prefix = env["TWIN_MQTT_TOPIC_PREFIX"]
    log = tmp_path / "bridge.log"
    try:
        with bridge_process(env, log, "--summary-every", "0.5") as process:
            wait_for(lambda: "subscribed to" in log.read_text(), 60, "the subscription")
            ts = minutes_ago(30).isoformat()
            publisher(f"{prefix}/P-EAST/MB-1", json.dumps({"ts": ts, "value": 2.5}))
            publisher(f"{prefix}/P-EAST/MB-1", b"\xff\xfe garbage")
            wait_for(lambda: "messages 2, readings 1, stored 1," in log.read_text(), 30, "the summary line")
            process.send_signal(signal.SIGTERM)
            stdout, _ = process.communicate(timeout=30)
    finally:
        forget_session(mqtt_broker, env["TWIN_MQTT_CLIENT_ID"])
    text = log.read_text()
    assert process.returncode == 0, text
    assert stdout.decode().strip() == (
        "mqtt bridge: messages 2, readings 1, stored 1, duplicates 0, heartbeats 0; "
        "rejected messages 1 (payload 1)"
    )
    assert "Traceback" not in text
    assert f"{prefix}/P-EAST/MB-1: message rejected (payload): not JSON" in text
    assert "SIGTERM received, stopping" in text and "mqtt bridge: stopped" in text


def test_the_command_retries_an_absent_broker_and_stops_on_ctrl_c(bridge_env, tmp_path) -> None:
    port = free_port()
    log = tmp_path / "bridge.log"
    with bridge_process(bridge_env, log, "--url", f"mqtt://127.0.0.1:{port}") as process:
        wait_for(lambda: log.read_text().count("cannot reach the broker") >= 2, 30, "two failed attempts")
        assert process.poll() is None  # still running, still trying
        process.send_signal(signal.SIGINT)
        stdout, _ = process.communicate(timeout=30)
    text = log.read_text()
    assert process.returncode == 0, text
    assert f"cannot reach the broker at mqtt://127.0.0.1:{port} (attempt 1): retrying in 1 s" in text
    assert "Traceback" not in text
    assert stdout.decode().startswith("mqtt bridge: messages 0,")


def test_a_bad_broker_url_is_a_one_line_error(bridge_env, tmp_path) -> None:
    for args, env in (
        (["--url", "http://127.0.0.1:1883"], bridge_env),
        ([], bridge_env | {"TWIN_MQTT_URL": "amqp://127.0.0.1"}),
    ):
        result = subprocess.run(
            [str(TWIN), "mqtt-bridge", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("error: ") and "TWIN_MQTT_URL" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
