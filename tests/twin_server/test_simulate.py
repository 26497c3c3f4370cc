"""``twin simulate-sensors`` on the small demo portfolio: devices and points set up on each
project (the excavation points on elements of its processed model), a span of realistic
readings stored, exactly the designed breaches (an excavation point held in alarm after its
warn, a dust spike that fires nothing, a device gone silent), repeatable by seed; and the
same over HTTP against a live ``twin serve`` and over MQTT through the bridge.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from sample_models.generate import write_building
from tests.twin_server.conftest import live_server, make_settings
from twin_server.db.orm import SensorReadingRow
from twin_server.demo import DEMO_PASSWORD, seed_demo
from twin_server.domain.sensors import (
    NIGHT_NOISE_THRESHOLDS,
    DayNightThresholds,
    Metric,
    ThresholdOverrides,
    Tier,
    classify,
    effective_thresholds,
)
from twin_server.mqtt import MessageIngest, MqttBridge, parse_mqtt_url
from twin_server.runtime import build_runtime
from twin_server.services import alerts as alert_service
from twin_server.services import orgs
from twin_server.services import sensors as sensor_service
from twin_server.simulate import (
    BREACH_POINT,
    DEVICES,
    POINTS,
    SILENT_DEVICE,
    SPIKE_POINT,
    SPIKE_VALUE,
    DirectChannel,
    MqttChannel,
    Scenario,
    generate_readings,
    pick_elements,
    simulate_sensors,
)

TWIN = Path(sys.executable).with_name("twin")
PROJECTS = ("SH-PD-01", "HZ-XS-02", "SZ-NS-01")  # the small demo, oldest first
HOURS = 6.0
SEED = 11
END = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) - dt.timedelta(minutes=1)


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    return write_building(tmp_path_factory.mktemp("sample") / "sample.ifc", storeys=1, bays_x=2, bays_y=1)


def demo_runtime(folder: Path, sample: Path, projects: int = 3):
    runtime = build_runtime(make_settings(folder, f"sqlite:///{folder / 'twin.db'}", development=True))
    seed_demo(runtime, sample_ifc=sample, projects=projects, seed=7)
    return runtime


@pytest.fixture(scope="module")
def simulated(tmp_path_factory, sample):
    """The small demo, six hours simulated directly, and the report."""
    runtime = demo_runtime(tmp_path_factory.mktemp("direct"), sample)
    lines: list[str] = []
    report = simulate_sensors(DirectChannel(runtime), hours=HOURS, seed=SEED, end=END, say=lines.append)
    yield {"runtime": runtime, "report": report, "lines": lines}
    runtime.close()


def project_ids(runtime) -> dict[str, int]:
    with runtime.sessions() as session:
        return {code: orgs.find_node(session, code).id for code in PROJECTS}


def sensor_alerts(runtime, statuses=("open", "acknowledged", "resolved")) -> list:
    with runtime.sessions() as session:
        found = alert_service.list_alerts(session, scope_path="/", statuses=statuses)
    return [a for a in found if a.kind.startswith("sensor_")]


# --------------------------------------------------------------------------- pure parts


def test_excavation_points_go_on_footings_columns_and_slabs_in_turn() -> None:
    candidates = [
        ("c1", "IfcColumn"),
        ("w1", "IfcWall"),
        ("c2", "IfcColumn"),
        ("s1", "IfcSlab"),
        ("c3", "IfcColumn"),
    ]
    assert pick_elements(candidates, 3) == ["c1", "s1", "w1"]
    assert pick_elements(candidates, 5) == ["c1", "s1", "w1", "c2", "c3"]
    assert pick_elements([("c1", "ifccolumn"), ("c2", "IfcColumn"), ("c3", "IfcColumn")], 2) == ["c1", "c2"]
    assert pick_elements([("b1", "IfcBeam")], 3) == []
    assert pick_elements(candidates, 9) == ["c1", "s1", "w1", "c2", "c3"]


def _thresholds(spec):
    day = effective_thresholds(spec.metric, ThresholdOverrides(**spec.thresholds))
    return DayNightThresholds(day, NIGHT_NOISE_THRESHOLDS) if spec.metric is Metric.NOISE else day


@pytest.mark.parametrize("seed", [1, 2, 2026])
def test_only_the_designed_readings_reach_a_tier(seed) -> None:
    """Two days of three projects: every reading stays inside its warn band (noise by its
    own timestamp's day or night limits), but for the breached point's ramp and hold and
    the one spike."""
    scenario = Scenario.of(PROJECTS, end=END, hours=48)
    specs = {spec.code: spec for spec in POINTS}
    reached: Counter[tuple] = Counter()
    for project in PROJECTS:
        for reading in generate_readings(seed, project, scenario):
            thresholds = _thresholds(specs[reading.point])
            if isinstance(thresholds, DayNightThresholds):
                thresholds = thresholds.at(reading.ts)
            tier = classify(reading.value, thresholds)
            if tier is not Tier.OK:
                reached[(project, reading.point, tier)] += 1
    assert set(reached) == {
        ("SH-PD-01", BREACH_POINT, Tier.WARN),
        ("SH-PD-01", BREACH_POINT, Tier.ALARM),
        ("HZ-XS-02", SPIKE_POINT, Tier.CONTROL),
    }
    assert reached[("HZ-XS-02", SPIKE_POINT, Tier.CONTROL)] == 1
    assert reached[("SH-PD-01", BREACH_POINT, Tier.ALARM)] >= 18  # held 90 minutes, every 5


def test_values_are_a_function_of_the_seed() -> None:
    scenario = Scenario.of(PROJECTS, end=END, hours=HOURS)
    first = generate_readings(SEED, "HZ-XS-02", scenario)
    assert first == generate_readings(SEED, "HZ-XS-02", scenario)
    other = generate_readings(SEED + 1, "HZ-XS-02", scenario)
    assert [r.ts for r in first] == [r.ts for r in other]
    assert [r.value for r in first] != [r.value for r in other]
    # A later span shares its readings with the earlier one where they overlap.
    later = Scenario.of(PROJECTS, end=END + dt.timedelta(hours=1), hours=HOURS)
    shared = {(r.point, r.ts): r.value for r in generate_readings(SEED, "SZ-NS-01", later)}
    earlier = {(r.point, r.ts): r.value for r in generate_readings(SEED, "SZ-NS-01", scenario)}
    common = [key for key in earlier if key in shared and not key[0].startswith("DX")]  # DX: drift to the end
    assert common and all(earlier[key] == shared[key] for key in common)


def test_the_span_is_bounded() -> None:
    from twin_server.domain.errors import InvalidInput

    class NoChannel:
        name = "none"

    for hours in (0.5, 24 * 8):
        with pytest.raises(InvalidInput):
            simulate_sensors(NoChannel(), hours=hours)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- direct


def test_devices_and_points_on_every_project(simulated) -> None:
    runtime, report = simulated["runtime"], simulated["report"]
    assert report.projects == PROJECTS
    assert (report.points, report.points_added, report.devices_added, report.points_on_elements) == (
        18,
        18,
        9,
        9,
    )
    with runtime.sessions() as session:
        for code, project_id in project_ids(runtime).items():
            project = orgs.get_project(session, project_id)
            devices = sensor_service.list_devices(session, project_id=project_id)
            assert sorted(d.code for d in devices) == sorted(d.code for d in DEVICES)
            for device in devices:
                assert (
                    abs(device.lon - project.site_lon) < 0.002 and abs(device.lat - project.site_lat) < 0.002
                )
            points = {p.code: p for p in sensor_service.list_points(session, project_id=project_id)}
            assert sorted(points) == sorted(p.code for p in POINTS)
            linked = [points[c].element_global_id for c in ("DX-01", "DX-02", "DX-03")]
            assert all(linked) and len(set(linked)) == 3, code
            assert points["PM10-01"].element_global_id is None
            assert points["TC-1-LOAD"].thresholds.alarm.upper == 8.0  # the crane's rated load
            assert (points["DX-02"].persist_s, points["DX-02"].thresholds.alarm.upper) == (600, 30.0)


def test_every_reading_is_stored(simulated) -> None:
    runtime, report = simulated["runtime"], simulated["report"]
    scenario = Scenario.of(PROJECTS, end=END, hours=HOURS)
    expected = sum(len(generate_readings(SEED, code, scenario)) for code in PROJECTS)
    assert (report.readings, report.stored, report.duplicates, report.rejected) == (expected, expected, 0, 0)
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(SensorReadingRow)) == expected
    assert [line.split(":")[0] for line in simulated["lines"]] == [
        f"[{i}/3] {code}" for i, code in enumerate(PROJECTS, 1)
    ]


def test_exactly_the_designed_breaches(simulated) -> None:
    runtime, report = simulated["runtime"], simulated["report"]
    ids = project_ids(runtime)
    found = {(a.project_code, a.subject_key, a.kind, a.status) for a in sensor_alerts(runtime)}
    assert found == {
        ("SH-PD-01", BREACH_POINT, "sensor_threshold", "open"),
        ("SZ-NS-01", SILENT_DEVICE, "sensor_offline", "open"),
    }
    (alarm,) = [a for a in sensor_alerts(runtime) if a.subject_key == BREACH_POINT]
    assert (alarm.level, alarm.facts["tier"], alarm.facts["bound"]) == ("red", "alarm", 30.0)
    # Opened as 预警 (warn), escalated to 报警 (alarm) in place; the offline alert by the check.
    assert (report.alerts_opened, report.alerts_updated, report.alerts_resolved, report.offline_opened) == (
        1,
        1,
        0,
        1,
    )
    with runtime.sessions() as session:
        scenario = Scenario.of(PROJECTS, end=END, hours=HOURS)
        # Time travel: warn in force on the way up, alarm at the end.
        during = sensor_service.sensor_states(
            session, project_id=ids["SH-PD-01"], now=END, at=END - dt.timedelta(hours=2, minutes=30)
        )
        assert {p.code: p.state.tier for p in during.points}[BREACH_POINT] is Tier.WARN
        states = {
            p.code: p.state for p in sensor_service.point_states(session, project_id=ids["SH-PD-01"], now=END)
        }
        assert states[BREACH_POINT].tier is Tier.ALARM
        assert all(s.tier is Tier.OK for code, s in states.items() if code != BREACH_POINT)
        # The spike is stored, and fired nothing: a single reading never persists.
        after = scenario.spike_at + dt.timedelta(minutes=5)  # the next reading is back to normal
        spiky = sensor_service.sensor_states(session, project_id=ids["HZ-XS-02"], now=END, at=after)
        spike = {p.code: p.state for p in spiky.points}[SPIKE_POINT]
        assert (spike.tier, spike.peak_tier, spike.peak_value) == (Tier.OK, Tier.CONTROL, SPIKE_VALUE)
        assert (spike.peak_at, spike.latest_tier) == (scenario.spike_at, Tier.OK)
        # The silent device's points stopped at its silence; its other points did not.
        silent = {
            p.code: p.state for p in sensor_service.point_states(session, project_id=ids["SZ-NS-01"], now=END)
        }
        assert silent["PM10-01"].latest.ts <= scenario.silent_from < silent["TC-1-LOAD"].latest.ts
    assert "DX-02" in report.describe() and "must not fire" in report.describe()


def test_a_second_run_with_the_same_seed_changes_nothing(simulated) -> None:
    runtime, first = simulated["runtime"], simulated["report"]
    before = {(a.id, a.status, a.level) for a in sensor_alerts(runtime)}
    again = simulate_sensors(DirectChannel(runtime), hours=HOURS, seed=SEED, end=END)
    assert (again.points_added, again.devices_added) == (0, 0)
    assert (again.readings, again.stored, again.duplicates) == (first.readings, 0, first.readings)
    assert (again.alerts_opened, again.alerts_updated, again.offline_opened) == (0, 0, 0)
    assert {(a.id, a.status, a.level) for a in sensor_alerts(runtime)} == before


def test_direct_runs_in_development_mode_only(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWIN_")} | {
        "TWIN_DATA_DIR": str(tmp_path / "data"),
        "TWIN_SECRET_KEY": "s" * 32,
    }
    result = subprocess.run(
        [str(TWIN), "simulate-sensors"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: simulated readings would mix with real ones")
    unknown = subprocess.run(
        [str(TWIN), "simulate-sensors", "--projects", "NOPE"],
        env=env | {"TWIN_DEVELOPMENT": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (unknown.returncode, unknown.stderr.strip()) == (2, "error: no project NOPE")


# --------------------------------------------------------------------------- over MQTT and HTTP


def test_via_mqtt_through_the_bridge(tmp_path, sample, mqtt_broker) -> None:
    runtime = demo_runtime(tmp_path, sample, projects=1)
    prefix = f"erji-test-sim-{uuid.uuid4().hex[:10]}"
    ingest = MessageIngest(runtime.sessions, topic_prefix=prefix)
    bridge = MqttBridge(
        ingest,
        broker=parse_mqtt_url(mqtt_broker),
        client_id=f"{prefix}-bridge",
        persistent=False,
        batch_wait_s=0.2,
    )
    bridge.start()
    try:
        assert bridge.wait_subscribed(20)
        channel = MqttChannel(DirectChannel(runtime), url=mqtt_broker, topic_prefix=prefix)
        try:
            report = simulate_sensors(channel, hours=2, seed=SEED)
        finally:
            channel.close()
        assert (report.projects, report.stored) == (("SH-PD-01",), None)
        deadline = dt.datetime.now() + dt.timedelta(seconds=60)
        while bridge.stats.snapshot().stored < report.readings or bridge.pending:
            assert dt.datetime.now() < deadline, bridge.stats.snapshot().summary()
            time.sleep(0.05)
        counts = bridge.stats.snapshot()
    finally:
        bridge.stop()
    try:
        assert (counts.stored, counts.rejected_messages, counts.rejected_readings) == (
            report.readings,
            {},
            {},
        )
        assert counts.readings == report.readings and counts.messages >= len(
            POINTS
        )  # a message per point-hour
        kinds = {(a.subject_key, a.facts.get("tier")) for a in sensor_alerts(runtime, ("open",))}
        assert (BREACH_POINT, "alarm") in kinds
    finally:
        runtime.close()


def test_via_http_against_a_live_server(tmp_path, sample) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWIN_")} | {
        "TWIN_DATA_DIR": str(tmp_path / "data"),
        "TWIN_DEVELOPMENT": "1",
    }

    def twin(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(TWIN), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp_path,
            check=False,
        )

    demo = twin("demo", "--sample", str(sample), "--projects", "3")
    assert demo.returncode == 0, demo.stderr
    with live_server(env, tmp_path, tmp_path / "server.log") as base:
        result = twin(
            "simulate-sensors", "--via", "http", "--url", base, "--projects", "HZ-XS-02", "--hours", "2"
        )
        assert result.returncode == 0, result.stderr
        with httpx.Client(base_url=base, timeout=30) as client:
            token = client.post("/api/auth/token", data={"username": "admin", "password": DEMO_PASSWORD})
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            project = next(
                p for p in client.get("/api/projects", headers=headers).json() if p["code"] == "HZ-XS-02"
            )
            states = client.get(f"/api/projects/{project['id']}/sensor-states", headers=headers).json()
            alerts = client.get("/api/alerts", headers=headers).json()
    lines = result.stdout.splitlines()
    assert (
        lines[0].startswith("simulated sensors on 1 projects via http")
        and "6 points (6 new, 3 of them on model elements)" in lines[0]
    )
    sent = int(lines[1].split()[1].replace(",", ""))
    assert lines[1] == f"readings: {sent:,} sent, {sent:,} stored, 0 already there, 0 rejected"
    assert "offline alerts: raised by the server's periodic round" in result.stdout
    tiers = {p["code"]: p["tier"] for p in states["points"]}
    assert tiers == {p.code: ("alarm" if p.code == BREACH_POINT else "ok") for p in POINTS}
    # The three excavation points' elements: DX-02's in alarm.
    assert sorted(states["elements"].values()) == ["alarm", "ok", "ok"]
    (alarm,) = [a for a in alerts if a["kind"] == "sensor_threshold" and a["project_code"] == "HZ-XS-02"]
    assert (alarm["subject_key"], alarm["facts"]["tier"]) == (BREACH_POINT, "alarm")
