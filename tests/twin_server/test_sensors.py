"""IoT monitoring through the API, on SQLite and PostgreSQL: devices and points linked to
model elements, scenario 15 end to end (32 mm held 10 minutes raises one 报警 in the alert
feed, 41 mm escalates the same alert to 控制, 10 mm resolves it), idempotent JSON and CSV
batches, bad items counted while good ones are stored, bad payloads answered with 4xx,
minute and hour aggregates, time travel, devices gone silent, retention.

The server judges "now" by its clock, so every reading here is stamped relative to it.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from twin_server.db.orm import SensorAggregateRow, SensorReadingRow
from twin_server.services import alerts as alert_service
from twin_server.services import sensors as sensor_service

NOW = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)


def minute(offset: float, base: dt.datetime) -> str:
    return (base + dt.timedelta(minutes=offset)).isoformat()


def held(point: str, value: float, first: int, last: int, base: dt.datetime) -> list[dict]:
    """One reading a minute from ``first`` to ``last`` (inclusive) minutes after ``base``."""
    return [{"point": point, "ts": minute(m, base), "value": value} for m in range(first, last + 1)]


# --------------------------------------------------------------------------- helpers


def new_project(api, code: str, region: str = "EAST") -> int:
    response = api.as_user(
        "admin",
        "POST",
        f"/api/org/nodes/{api.node(region)}/projects",
        json={"code": code, "name": f"项目 {code}", "site_lon": 121.4, "site_lat": 31.2},
    )
    assert response.status_code == 201, response.text
    api.world.nodes[code] = response.json()["id"]
    return response.json()["id"]


def add_device(api, code: str, project: str = "P-EAST", **body) -> dict:
    response = api.as_user(
        "admin",
        "POST",
        f"/api/projects/{api.node(project)}/sensor-devices",
        json={"code": code, "device_type": "excavation", **body},
    )
    assert response.status_code == 201, response.text
    return response.json()


def add_point(api, code: str, device: dict, project: str = "P-EAST", **body) -> dict:
    response = api.as_user(
        "admin",
        "POST",
        f"/api/projects/{api.node(project)}/monitor-points",
        json={"device_id": device["id"], "code": code, "metric": "displacement", **body},
    )
    assert response.status_code == 201, response.text
    return response.json()


def send(api, readings, project: str = "P-EAST", user: str = "site", **kwargs):
    return api.as_user(user, "POST", f"/api/projects/{api.node(project)}/readings", json=readings, **kwargs)


def sent(api, readings, project: str = "P-EAST", status: int = 200) -> dict:
    # The site manager's account is bound to P-EAST; the admin's sees every project.
    response = send(api, readings, project, user="site" if project == "P-EAST" else "admin")
    assert response.status_code == status, response.text
    return response.json()


def sensor_alerts(api, point: str, statuses=("open", "acknowledged"), user: str = "admin") -> list[dict]:
    response = api.as_user(user, "GET", "/api/alerts", params={"status": list(statuses)})
    assert response.status_code == 200, response.text
    return [a for a in response.json() if a["kind"].startswith("sensor_") and a["subject_key"] == point]


def series(api, point: dict, project: str = "P-EAST", **params) -> dict:
    response = api.as_user(
        "admin",
        "GET",
        f"/api/projects/{api.node(project)}/monitor-points/{point['id']}/readings",
        params=params,
    )
    assert response.status_code == 200, response.text
    return response.json()


def states(api, project: str = "P-EAST", **params) -> dict:
    response = api.as_user("admin", "GET", f"/api/projects/{api.node(project)}/sensor-states", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def stored(api, model, point: dict) -> int:
    with api.runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(model.point_id == point["id"]))


@pytest.fixture(scope="module")
def walls(api, small_ifc) -> list[str]:
    """The GlobalIds of the two walls of a processed revision of P-EAST."""
    model = api.create_model("P-EAST", "sensors")
    revision = api.upload("P-EAST", model["id"], small_ifc).json()
    assert revision["processing"] == "succeeded", revision
    base = f"/api/projects/{api.node('P-EAST')}/revisions/{revision['id']}/elements"
    return sorted(e["global_id"] for e in api.as_user("admin", "GET", base).json()["items"])


# --------------------------------------------------------------------------- setup


def test_a_device_and_a_point_linked_to_a_model_element(api, walls) -> None:
    device = add_device(
        api, "INC-1", name="测斜仪 1", serial="SN-001", protocol="mqtt", lon=121.47, lat=31.23
    )
    assert (device["heartbeat_timeout_s"], device["last_seen_at"], device["lon"]) == (600.0, None, 121.47)
    point = add_point(
        api,
        "S-01",
        device,
        name="基坑北侧测斜 S-01",
        alarm_upper=25,
        warn_lower="off",
        persist_s=300,
        element_global_id=walls[0],
    )
    assert (point["device_code"], point["unit"], point["element_global_id"]) == ("INC-1", "mm", walls[0])
    assert point["overrides"]["alarm_upper"] == 25 and point["overrides"]["warn_lower"] == "off"
    assert point["overrides"]["control_upper"] is None
    # In force: the point's own bounds over the metric's defaults (±20 / ±30 / ±40 mm).
    assert point["thresholds"] == {
        "warn": {"lower": None, "upper": 20.0},
        "alarm": {"lower": -30.0, "upper": 25.0},
        "control": {"lower": -40.0, "upper": 40.0},
    }
    assert (point["tier"], point["night_thresholds"]) == ("ok", None)
    base = f"/api/projects/{api.node('P-EAST')}"
    listed = api.as_user("site", "GET", f"{base}/monitor-points", params={"device_id": device["id"]}).json()
    assert [p["code"] for p in listed] == ["S-01"]
    assert "INC-1" in {d["code"] for d in api.as_user("site", "GET", f"{base}/sensor-devices").json()}
    one = api.as_user("site", "GET", f"{base}/monitor-points/{point['id']}")
    assert one.status_code == 200 and one.json() == point


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"code": "S-01"}, 409, "duplicate_point"),
        ({"element_global_id": "0" * 22}, 422, "unknown_element"),  # not in the model
        ({"element_global_id": "too-short"}, 422, "invalid_request"),
        ({"metric": "humidity"}, 422, "invalid_request"),
        ({"code": "A/B"}, 422, "invalid_request"),  # would break the MQTT topic
        ({"alarm_upper": 50}, 422, "invalid_input"),  # above the inherited control bound (40)
        ({"warn_upper": 35, "alarm_upper": 30}, 422, "invalid_input"),
        ({"persist_s": -1}, 422, "invalid_request"),
        ({"device_id": 2_000_000_000}, 422, "unknown_device"),
        ({"lon": 121.0}, 422, "invalid_input"),
    ],
)
def test_a_point_with_bad_settings_is_refused(api, walls, body, status, error) -> None:
    device = next(
        d
        for d in api.as_user("admin", "GET", f"/api/projects/{api.node('P-EAST')}/sensor-devices").json()
        if d["code"] == "INC-1"
    )
    response = api.as_user(
        "admin",
        "POST",
        f"/api/projects/{api.node('P-EAST')}/monitor-points",
        json={"device_id": device["id"], "code": "S-NEW", "metric": "displacement", **body},
    )
    assert (response.status_code, response.json()["error"]) == (status, error), response.text


def test_setup_needs_manage_org_and_readings_report_progress(api) -> None:
    base = f"/api/projects/{api.node('P-EAST')}"
    body = {"code": "X-1", "device_type": "dust"}
    assert api.as_user("site", "POST", f"{base}/sensor-devices", json=body).status_code == 403
    assert api.as_user("bim", "POST", f"{base}/sensor-devices", json=body).status_code == 403
    assert api.as_user("east", "POST", f"{base}/sensor-devices", json=body).status_code == 201
    assert api.as_user("hq", "POST", f"{base}/readings", json=[]).status_code == 403
    again = api.as_user("east", "POST", f"{base}/sensor-devices", json=body)
    assert (again.status_code, again.json()["error"]) == (409, "duplicate_device")


# --------------------------------------------------------------------------- scenario 15


@pytest.fixture(scope="module")
def pit(api, walls) -> dict:
    """P-PIT (EAST): excavation point S-07 with warn 20 / alarm 30 / control 40 mm held 10
    minutes, linked to a wall; and a late task, whose alert the sensors must leave alone."""
    new_project(api, "P-PIT")
    plan = "id,name,planned_start,planned_finish\nT1,土方开挖,2025-01-06,2025-01-10\n"
    imported = api.as_user(
        "admin",
        "POST",
        f"/api/projects/{api.node('P-PIT')}/schedules/import",
        data={"name": "总进度计划"},
        files={"file": ("plan.csv", plan.encode())},
    )
    assert imported.status_code == 201, imported.text
    device = add_device(api, "INC-07", project="P-PIT")
    point = add_point(
        api,
        "S-07",
        device,
        project="P-PIT",
        warn_upper=20,
        alarm_upper=30,
        control_upper=40,
        persist_s=600,
        element_global_id=None,
    )
    return {"device": device, "point": point, "base": NOW - dt.timedelta(hours=3)}


def project_alerts(api, project: str) -> list[dict]:
    return api.as_user("admin", "GET", f"/api/projects/{api.node(project)}/alerts").json()


def kpi(api, project: str, code: str) -> float | None:
    response = api.as_user("admin", "GET", f"/api/projects/{api.node(project)}/kpis")
    assert response.status_code == 200, response.text
    return response.json()["values"][code]


def test_scenario_15_alarm_held_ten_minutes_escalates_to_control_then_clears(api, pit) -> None:
    base = pit["base"]
    task_alert = next(a for a in project_alerts(api, "P-PIT") if a["rule_code"] == "task_delay")

    # 32 mm for 5 minutes: reached, not yet held long enough.
    report = sent(api, held("S-07", 32, 0, 5, base), "P-PIT")
    assert (report["accepted"], report["alerts_opened"], report["points"]) == (6, 0, ["S-07"])
    assert sensor_alerts(api, "S-07") == []

    # Held for 10 minutes: one 报警 alert in the feed, red, naming the point and the bound.
    report = sent(api, held("S-07", 32, 6, 10, base), "P-PIT")
    assert report["alerts_opened"] == 1
    (alarm,) = sensor_alerts(api, "S-07")
    assert (alarm["rule_code"], alarm["kind"], alarm["subject_type"], alarm["level"]) == (
        "sensor_threshold",
        "sensor_threshold",
        "sensor_point",
        "red",
    )
    assert alarm["message_zh"] == "监测点 S-07 位移 32 mm，达到报警值（上限 30 mm）"
    assert alarm["message_en"] == "Point S-07 displacement 32 mm reached the alarm limit (upper 30 mm)"
    facts = alarm["facts"]
    assert (facts["tier"], facts["device"], facts["value"], facts["bound"]) == ("alarm", "INC-07", 32.0, 30.0)
    assert dt.datetime.fromisoformat(facts["since"]) == base + dt.timedelta(minutes=10)
    assert kpi(api, "P-PIT", "open_alarms") == 1  # fed into the project's KPIs
    point = api.as_user(
        "admin", "GET", f"/api/projects/{api.node('P-PIT')}/monitor-points/{pit['point']['id']}"
    )
    assert (point.json()["tier"], point.json()["last_value"]) == ("alarm", 32.0)

    # The project's own evaluation neither resolves it nor is disturbed by it.
    with api.runtime.sessions() as session:
        alert_service.evaluate_alerts(session, today=dt.date.today(), now=dt.datetime.now(dt.UTC))
    assert [a["id"] for a in sensor_alerts(api, "S-07")] == [alarm["id"]]
    assert task_alert["id"] in {a["id"] for a in project_alerts(api, "P-PIT")}

    # 41 mm: control is pending for 10 minutes, then the same alert escalates.
    report = sent(api, held("S-07", 41, 11, 20, base), "P-PIT")
    assert report["alerts_updated"] == 0
    report = sent(api, held("S-07", 41, 21, 21, base), "P-PIT")
    assert report["alerts_updated"] == 1
    (control,) = sensor_alerts(api, "S-07")
    assert control["id"] == alarm["id"]
    assert (control["level"], control["facts"]["tier"], control["facts"]["value"]) == ("red", "control", 41.0)
    assert control["message_zh"] == "监测点 S-07 位移 41 mm，达到控制值（上限 40 mm）"
    # In force for over 30 minutes (its readings are hours old) and not acknowledged: RED.
    assert (kpi(api, "P-PIT", "open_alarms"), kpi(api, "P-PIT", "control_alarms_unacked")) == (1, 1)
    lights = api.as_user("admin", "GET", f"/api/projects/{api.node('P-PIT')}/kpis").json()["lights"]
    assert lights["other"] == "red"
    acknowledged = api.as_user(
        "admin", "POST", f"/api/projects/{api.node('P-PIT')}/alerts/{control['id']}/acknowledge"
    )
    assert acknowledged.status_code == 200, acknowledged.text
    api.runtime.queue.evaluate([api.node("P-PIT")])
    assert (kpi(api, "P-PIT", "open_alarms"), kpi(api, "P-PIT", "control_alarms_unacked")) == (1, 0)

    # Back to 10 mm: resolved at once (going down does not wait); the task alert stays.
    report = sent(api, held("S-07", 10, 22, 22, base), "P-PIT")
    assert report["alerts_resolved"] == 1
    assert sensor_alerts(api, "S-07") == []
    (resolved,) = sensor_alerts(api, "S-07", statuses=("resolved",))
    assert (resolved["id"], resolved["resolution"]) == (alarm["id"], "the condition no longer holds")
    assert task_alert["id"] in {a["id"] for a in project_alerts(api, "P-PIT")}
    assert kpi(api, "P-PIT", "open_alarms") == 0


def test_a_single_spike_raises_nothing_and_a_new_breach_raises_a_new_alert(api, pit) -> None:
    base = pit["base"] + dt.timedelta(minutes=30)
    sent(api, [*held("S-07", 45, 0, 0, base), *held("S-07", 10, 1, 2, base)], "P-PIT")
    assert sensor_alerts(api, "S-07") == []
    # The earlier alert ended by itself: no cooldown holds this one back.
    report = sent(api, held("S-07", 33, 5, 15, base), "P-PIT")
    assert report["alerts_opened"] == 1
    (alert,) = sensor_alerts(api, "S-07")
    assert alert["facts"]["tier"] == "alarm"
    sent(api, held("S-07", 0, 16, 16, base), "P-PIT")
    assert sensor_alerts(api, "S-07") == []


def test_resolved_by_hand_mutes_the_tier_for_the_cooldown_but_never_a_higher_one(api, pit) -> None:
    add_point(
        api,
        "S-08",
        pit["device"],
        project="P-PIT",
        warn_upper=20,
        alarm_upper=30,
        control_upper=40,
        persist_s=600,
    )
    base = pit["base"]
    sent(api, held("S-08", 33, 0, 10, base), "P-PIT")
    (alarm,) = sensor_alerts(api, "S-08")
    done = api.as_user(
        "admin",
        "POST",
        f"/api/projects/{api.node('P-PIT')}/alerts/{alarm['id']}/resolve",
        json={"note": "监测单位复核：仪器被碰"},
    )
    assert done.status_code == 200, done.text
    assert sent(api, held("S-08", 33, 11, 15, base), "P-PIT")["alerts_opened"] == 0  # muted
    assert sensor_alerts(api, "S-08") == []
    report = sent(api, held("S-08", 42, 16, 26, base), "P-PIT")
    assert report["alerts_opened"] == 1  # control is worse than what was resolved
    (control,) = sensor_alerts(api, "S-08")
    assert control["id"] != alarm["id"] and control["facts"]["tier"] == "control"
    sent(api, held("S-08", 0, 27, 27, base), "P-PIT")
    assert sensor_alerts(api, "S-08") == []


def test_changing_a_threshold_judges_the_point_again_at_once(api, pit) -> None:
    url = f"/api/projects/{api.node('P-PIT')}/monitor-points/{pit['point']['id']}"
    base = pit["base"] + dt.timedelta(minutes=60)
    sent(api, held("S-07", 18, 0, 10, base), "P-PIT")  # under warn (20)
    assert sensor_alerts(api, "S-07") == []
    lowered = api.as_user("admin", "PATCH", url, json={"warn_upper": 15})
    assert lowered.status_code == 200, lowered.text
    assert (lowered.json()["tier"], lowered.json()["thresholds"]["warn"]["upper"]) == ("warn", 15.0)
    (warn,) = sensor_alerts(api, "S-07")
    assert (warn["level"], warn["facts"]["tier"]) == ("yellow", "warn")
    assert "预警" in warn["message_zh"]
    back = api.as_user("admin", "PATCH", url, json={"warn_upper": 20, "persist_s": 600})
    assert (back.json()["tier"], back.json()["overrides"]["alarm_upper"]) == ("ok", 30.0)  # others kept
    assert sensor_alerts(api, "S-07") == []
    refused = api.as_user("admin", "PATCH", url, json={"control_upper": 25})  # below alarm (30)
    assert (refused.status_code, refused.json()["error"]) == (422, "invalid_input")
    assert api.as_user("hq", "PATCH", url, json={"warn_upper": 1}).status_code == 403
    missing = api.as_user("admin", "PATCH", url.rsplit("/", 1)[0] + "/2000000000", json={})
    assert missing.status_code == 404


def test_a_regions_own_sensor_rule_governs_its_projects(api, pit) -> None:
    created = api.as_user(
        "east",
        "POST",
        f"/api/org/nodes/{api.node('EAST')}/alert-rules",
        json={"code": "east-sensors", "kind": "sensor_threshold", "params": {}, "cooldown_minutes": 0},
    )
    assert created.status_code == 201, created.text
    base = pit["base"] + dt.timedelta(minutes=90)
    sent(api, held("S-07", 31, 0, 10, base), "P-PIT")
    (alert,) = sensor_alerts(api, "S-07")
    assert (alert["rule_code"], alert["kind"]) == ("east-sensors", "sensor_threshold")
    # Disabled, the default governs again: the region's alert ends, the default's begins.
    off = api.as_user(
        "east",
        "PATCH",
        f"/api/org/nodes/{api.node('EAST')}/alert-rules/{created.json()['id']}",
        json={"enabled": False},
    )
    assert off.status_code == 200, off.text
    sent(api, held("S-07", 31, 11, 11, base), "P-PIT")
    (alert,) = sensor_alerts(api, "S-07")
    assert alert["rule_code"] == "sensor_threshold"
    sent(api, held("S-07", 0, 12, 12, base), "P-PIT")
    assert sensor_alerts(api, "S-07") == []


# --------------------------------------------------------------------------- ingest


@pytest.fixture(scope="module")
def idem(api) -> dict:
    device = add_device(api, "D-IDEM")
    return add_point(api, "P-IDEM", device)


def test_the_same_batch_twice_stores_nothing_new(api, idem) -> None:
    base = NOW - dt.timedelta(hours=5)
    batch = [
        *held("P-IDEM", 1.5, 0, 4, base),
        {"point": "P-IDEM", "ts": minute(2, base), "value": 2.5},  # same (point, ts): the later wins
    ]
    first = sent(api, batch)
    assert (first["accepted"], first["updated"], first["duplicates"], first["rejected"]) == (5, 0, 1, 0)
    window = {"bucket": "minute", "start": base.isoformat(), "end": minute(10, base)}
    rows, aggregates = stored(api, SensorReadingRow, idem), series(api, idem, **window)
    again = sent(api, batch)
    assert (again["accepted"], again["updated"], again["duplicates"], again["points"]) == (0, 0, 6, [])
    assert stored(api, SensorReadingRow, idem) == rows == 5
    assert series(api, idem, **window) == aggregates
    assert [a["last"] for a in aggregates["aggregates"]] == [1.5, 1.5, 2.5, 1.5, 1.5]
    # A corrected value replaces the stored one (last write wins) and its minute follows.
    fixed = sent(api, [{"point": "P-IDEM", "ts": minute(2, base), "value": 3.0}])
    assert (fixed["accepted"], fixed["updated"]) == (0, 1)
    raw = series(api, idem, start=base.isoformat(), end=minute(4, base))["readings"]
    assert [r["value"] for r in raw] == [1.5, 1.5, 3.0, 1.5, 1.5]
    assert stored(api, SensorReadingRow, idem) == 5


def test_a_csv_batch(api, idem) -> None:
    base = NOW - dt.timedelta(hours=6)
    text = "\ufeffPoint,TS,Value,Quality\n" + "\n".join(
        f"P-IDEM,{minute(m, base)},{m / 10},{'bad' if m == 3 else ''}" for m in range(5)
    )
    response = api.as_user(
        "site",
        "POST",
        f"/api/projects/{api.node('P-EAST')}/readings",
        content=text.encode("utf-8"),
        headers={"Content-Type": "text/csv; charset=utf-8"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 5
    raw = series(api, idem, start=base.isoformat(), end=minute(4, base))["readings"]
    assert [(r["value"], r["quality"]) for r in raw] == [
        (0.0, "good"),
        (0.1, "good"),
        (0.2, "good"),
        (0.3, "bad"),
        (0.4, "good"),
    ]
    # Naive local times are taken in the zone the caller names.
    local = (base + dt.timedelta(minutes=10)).astimezone(dt.timezone(dt.timedelta(hours=8)))
    naive = f"point,ts,value\nP-IDEM,{local.replace(tzinfo=None).isoformat()},7\n"
    url = f"/api/projects/{api.node('P-EAST')}/readings"
    headers = {"Content-Type": "text/csv"}
    refused = api.as_user("site", "POST", url, content=naive, headers=headers)
    assert refused.status_code == 207 and refused.json()["rejected_by_code"] == {"ts": 1}
    taken = api.as_user("site", "POST", url, content=naive, headers=headers, params={"assume_tz": "china"})
    assert taken.status_code == 200 and taken.json()["accepted"] == 1
    assert series(api, idem, start=minute(10, base), end=minute(10, base))["readings"][0]["value"] == 7.0


def test_bad_items_are_counted_and_the_good_ones_stored(api, idem) -> None:
    west = add_device(api, "D-WEST", project="P-WEST")
    add_point(api, "W-01", west, project="P-WEST")
    base = NOW - dt.timedelta(hours=7)
    batch = {
        "readings": [
            {"point": "P-IDEM", "ts": minute(0, base), "value": 1},
            {"point": "P-IDEM", "ts": minute(1, base), "value": "abc"},
            {"point": "P-IDEM", "value": 3},
            {"point": "NOPE", "ts": minute(3, base), "value": 4},
            {"point": "W-01", "ts": minute(4, base), "value": 5},  # another project's point
            {"point": "P-IDEM", "ts": minute(5, base), "value": 6, "quality": "great"},
            {"point": "P-IDEM", "ts": minute(6, base), "value": "7.5"},
            {"point": "P-IDEM", "ts": (NOW + dt.timedelta(hours=1)).isoformat(), "value": 8},
            {"point": "P-IDEM", "ts": (NOW - dt.timedelta(days=365)).isoformat(), "value": 9},
            "not an object",
        ]
    }
    response = send(api, batch)
    assert response.status_code == 207, response.text
    report = response.json()
    assert (report["accepted"], report["rejected"]) == (2, 8)
    assert report["rejected_by_code"] == {"value": 1, "ts": 3, "point": 2, "quality": 1, "payload": 1}
    reasons = {r["position"]: r["reason"] for r in report["rejects"]}
    assert "not a finite number" in reasons[1] and "missing" in reasons[2]
    assert "in the future" in reasons[7]
    unknown = sorted(r["reason"] for r in report["rejects"] if r["code"] == "point")
    assert unknown == ["no monitor point 'NOPE' in this project", "no monitor point 'W-01' in this project"]
    assert any("older than the retention" in r["reason"] for r in report["rejects"])
    raw = series(api, idem, start=base.isoformat(), end=minute(6, base))["readings"]
    assert [r["value"] for r in raw] == [1.0, 7.5]
    with api.runtime.sessions() as session:  # nothing reached the other project's point
        assert (
            session.scalar(
                select(func.count()).select_from(SensorReadingRow).where(SensorReadingRow.value == 5)
            )
            == 0
        )


@pytest.mark.parametrize(
    ("content", "content_type", "status", "error"),
    [
        (b"{not json", "application/json", 422, "invalid_payload"),
        (b'"a string"', "application/json", 422, "invalid_payload"),
        (b"[]", "application/json", 422, "empty_batch"),
        (b'{"readings": []}', "application/json", 422, "empty_batch"),
        (b"", "application/json", 422, "invalid_payload"),
        (b'{"point": 7, "readings": []}', "application/json", 422, "invalid_payload"),
        (b"point,value\nP-IDEM,1\n", "text/csv", 422, "invalid_payload"),  # no ts column
        (b"point,ts,value\n", "text/csv", 422, "empty_batch"),
        (b"", "text/csv", 422, "invalid_payload"),
        (b"P-IDEM,1,2", "text/plain", 415, "unsupported_media_type"),
        (b"<readings/>", "application/xml", 415, "unsupported_media_type"),
        (b'[{"point": "P-IDEM"}]', "", 415, "unsupported_media_type"),
    ],
)
def test_a_payload_that_cannot_be_read_is_a_4xx(api, idem, content, content_type, status, error) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = api.as_user(
        "site", "POST", f"/api/projects/{api.node('P-EAST')}/readings", content=content, headers=headers
    )
    assert (response.status_code, response.json()["error"]) == (status, error), response.text


def test_an_oversized_batch_is_413(api, idem, monkeypatch) -> None:
    monkeypatch.setattr(api.runtime.settings, "sensor_batch_max", 3)
    response = send(api, held("P-IDEM", 1, 0, 3, NOW - dt.timedelta(hours=8)))
    assert (response.status_code, response.json()["error"]) == (413, "batch_too_large")
    assert send(api, held("P-IDEM", 1, 0, 2, NOW - dt.timedelta(hours=8))).status_code == 200
    monkeypatch.undo()
    padding = json.dumps([{"point": "P-IDEM", "ts": NOW.isoformat(), "value": 1, "x": "y" * 2_000_000}])
    response = api.as_user(
        "site",
        "POST",
        f"/api/projects/{api.node('P-EAST')}/readings",
        content=padding,
        headers={"Content-Type": "application/json"},
    )
    assert (response.status_code, response.json()["error"]) == (413, "too_large")


def test_unknown_ids_and_other_regions_projects_are_404(api, idem) -> None:
    east, west = api.node("P-EAST"), api.node("P-WEST")
    west_point = api.as_user("admin", "GET", f"/api/projects/{west}/monitor-points").json()[0]
    for url in (
        f"/api/projects/{east}/monitor-points/2000000000",
        f"/api/projects/{east}/monitor-points/2000000000/readings",
        f"/api/projects/{east}/monitor-points/{west_point['id']}",  # another project's point
        f"/api/projects/{east}/monitor-points/{west_point['id']}/readings",
    ):
        response = api.as_user("admin", "GET", url)
        assert (response.status_code, response.json()["error"]) == (404, "not_found"), url
    for method, url in (
        ("GET", f"/api/projects/{west}/sensor-devices"),
        ("GET", f"/api/projects/{west}/sensor-states"),
        ("GET", f"/api/projects/{west}/monitor-points/{west_point['id']}/readings"),
        ("POST", f"/api/projects/{west}/readings"),
    ):
        kwargs = {"json": held("W-01", 1, 0, 0, NOW)} if method == "POST" else {}
        response = api.as_user("east", method, url, **kwargs)
        assert (response.status_code, response.json()["error"]) == (404, "not_found"), url
    naive = api.as_user(
        "admin", "GET", f"/api/projects/{east}/sensor-states", params={"at": "2025-06-11T08:00:00"}
    )
    assert naive.status_code == 422
    wrong = api.as_user(
        "admin", "GET", f"/api/projects/{east}/monitor-points/{idem['id']}/readings", params={"bucket": "day"}
    )
    assert wrong.status_code == 422


# --------------------------------------------------------------------------- aggregates


def test_minute_and_hour_aggregates(api) -> None:
    device = add_device(api, "D-AGG", device_type="dust")
    point = add_point(api, "P-AGG", device, metric="pm25")
    hour = (NOW - dt.timedelta(hours=10)).replace(minute=0)

    def at(m: int, s: int) -> str:
        return (hour + dt.timedelta(minutes=m, seconds=s)).isoformat()

    def start(aggregate: dict) -> dt.datetime:
        return dt.datetime.fromisoformat(aggregate["bucket_start"])

    readings = [
        {"point": "P-AGG", "ts": at(0, 0), "value": 10},
        {"point": "P-AGG", "ts": at(0, 20), "value": 30},
        {"point": "P-AGG", "ts": at(0, 40), "value": 20},
        {"point": "P-AGG", "ts": at(0, 50), "value": 999, "quality": "bad"},  # left out
        {"point": "P-AGG", "ts": at(1, 0), "value": 40},
        {"point": "P-AGG", "ts": at(59, 59), "value": 50},
        {"point": "P-AGG", "ts": at(60, 30), "value": 70},  # the next hour
    ]
    sent(api, readings)
    minutes = series(api, point, bucket="minute", start=hour.isoformat(), end=at(61, 0))["aggregates"]
    assert [(start(a), a["count"], a["min"], a["max"], a["mean"], a["last"]) for a in minutes] == [
        (hour, 3, 10.0, 30.0, 20.0, 20.0),
        (hour + dt.timedelta(minutes=1), 1, 40.0, 40.0, 40.0, 40.0),
        (hour + dt.timedelta(minutes=59), 1, 50.0, 50.0, 50.0, 50.0),
        (hour + dt.timedelta(minutes=60), 1, 70.0, 70.0, 70.0, 70.0),
    ]
    hours = series(api, point, bucket="hour", start=hour.isoformat(), end=at(61, 0))
    assert [(start(a), a["count"], a["min"], a["max"], a["last"]) for a in hours["aggregates"]] == [
        (hour, 5, 10.0, 50.0, 50.0),
        (hour + dt.timedelta(hours=1), 1, 70.0, 70.0, 70.0),
    ]
    assert hours["aggregates"][0]["mean"] == pytest.approx(30.0)
    assert hours["thresholds"]["alarm"]["upper"] == 115.0 and hours["unit"] == "µg/m³"  # bands for the chart
    # A late reading in the first minute: that minute and its hour are recomputed.
    sent(api, [{"point": "P-AGG", "ts": at(0, 30), "value": 0}])
    first = series(api, point, bucket="minute", start=hour.isoformat(), end=at(0, 0))["aggregates"][0]
    assert (first["count"], first["min"], first["mean"], first["last"]) == (4, 0.0, 15.0, 20.0)
    assert (
        series(api, point, bucket="hour", start=hour.isoformat(), end=at(0, 0))["aggregates"][0]["count"] == 6
    )
    # All of a minute flagged bad later: the minute has no aggregate any more.
    sent(api, [{"point": "P-AGG", "ts": at(60, 30), "value": 70, "quality": "bad"}])
    later = series(api, point, bucket="minute", start=at(60, 0), end=at(61, 0))["aggregates"]
    assert (
        later == [] and series(api, point, bucket="hour", start=at(60, 0), end=at(61, 0))["aggregates"] == []
    )
    limited = series(api, point, start=hour.isoformat(), end=at(61, 0), limit=2)
    assert (len(limited["readings"]), limited["truncated"]) == (2, True)


# --------------------------------------------------------------------------- time travel


def test_states_now_and_at_a_past_moment(api, walls) -> None:
    device = add_device(api, "D-TT")
    add_point(api, "TT-1", device, persist_s=300, element_global_id=walls[1])
    base = NOW - dt.timedelta(hours=2)
    sent(api, [*held("TT-1", 10, 0, 4, base), *held("TT-1", 35, 5, 15, base)])

    def state(at: dt.datetime | None) -> tuple[str, dict]:
        body = states(api, **({"at": at.isoformat()} if at else {}))
        return body["elements"][walls[1]], {p["code"]: p for p in body["points"]}["TT-1"]

    before, point = state(base + dt.timedelta(minutes=3))
    assert (before, point["tier"], point["latest_value"]) == ("ok", "ok", 10.0)
    pending, point = state(base + dt.timedelta(minutes=7))
    assert (pending, point["pending"], point["latest_tier"]) == ("ok", "alarm", "alarm")
    assert dt.datetime.fromisoformat(point["pending_fires_at"]) == base + dt.timedelta(minutes=10)
    after, point = state(base + dt.timedelta(minutes=12))
    assert (after, point["tier"]) == ("alarm", "alarm")
    assert dt.datetime.fromisoformat(point["since"]) == base + dt.timedelta(minutes=10)
    assert point["offline"] is False
    # Before any reading: nothing known.
    nothing, point = state(base - dt.timedelta(minutes=1))
    assert (nothing, point["condition"]) == ("no_data", "no_data")
    # Now: the stored state; the device last reported 1 h 45 min ago, so it is offline too.
    body = states(api)
    assert body["live"] is True
    now_point = {p["code"]: p for p in body["points"]}["TT-1"]
    assert (now_point["tier"], now_point["condition"], now_point["offline"]) == ("alarm", "alarm", True)
    assert body["elements"][walls[1]] == "alarm"


# --------------------------------------------------------------------------- offline, retention


def test_a_silent_device_raises_one_offline_alert_until_heard_from(api) -> None:
    device = add_device(api, "D-OFF", heartbeat_timeout_s=600)
    add_point(api, "P-OFF-1", device)
    add_point(api, "P-OFF-2", device)
    never = add_device(api, "D-NEVER", heartbeat_timeout_s=600)
    add_point(api, "P-NEVER", never)
    sent(api, held("P-OFF-1", 1, 0, 0, NOW - dt.timedelta(minutes=30)))

    def check(now: dt.datetime):
        with api.runtime.sessions() as session:
            return sensor_service.evaluate_offline(session, now=now)

    check(NOW)
    (offline,) = sensor_alerts(api, "D-OFF")
    assert (offline["kind"], offline["subject_type"], offline["level"]) == (
        "sensor_offline",
        "sensor_device",
        "yellow",
    )
    assert (
        offline["message_zh"].startswith("设备 D-OFF 离线：最后上报")
        and "超过 10 分钟无数据" in offline["message_zh"]
    )
    assert sensor_alerts(api, "D-NEVER") == []  # registered moments ago: not silent for long yet
    check(NOW)  # the next round changes nothing
    assert [a["id"] for a in sensor_alerts(api, "D-OFF")] == [offline["id"]]
    check(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11))
    (never_seen,) = sensor_alerts(api, "D-NEVER")
    assert "从未上报" in never_seen["message_zh"] and "never seen" in never_seen["message_en"]
    # Heard from again (any of its points): resolved by the batch itself.
    report = sent(api, held("P-OFF-2", 1, 0, 0, dt.datetime.now(dt.UTC)))
    assert report["alerts_resolved"] == 1
    assert sensor_alerts(api, "D-OFF") == []
    # The periodic round checks the devices too.
    alert_service.evaluate_projects(
        api.runtime.sessions, None, every_s=600, now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    )
    assert len(sensor_alerts(api, "D-OFF")) == 1


def test_retention_refuses_old_readings_and_prunes_on_hour_boundaries(api) -> None:
    device = add_device(api, "D-RET")
    point = add_point(api, "P-RET", device)
    base = (NOW - dt.timedelta(days=3)).replace(minute=0)
    sent(api, held("P-RET", 1, 0, 90, base))
    assert stored(api, SensorReadingRow, point) == 91
    with api.runtime.sessions() as session:
        report = sensor_service.prune_readings(
            session, now=base + dt.timedelta(days=1, minutes=90), retention_days=1, aggregate_retention_days=2
        )
    # Cut at the whole hour: the first hour's readings and minutes go, its hour stays.
    assert (report.readings, report.minute_aggregates, report.hour_aggregates) == (60, 60, 0)
    assert stored(api, SensorReadingRow, point) == 31
    with api.runtime.sessions() as session:
        hours = session.scalar(
            select(func.count())
            .select_from(SensorAggregateRow)
            .where(SensorAggregateRow.point_id == point["id"], SensorAggregateRow.bucket == "hour")
        )
        assert hours == 2
        sensor_service.prune_readings(session, now=NOW, retention_days=90, aggregate_retention_days=730)
    assert stored(api, SensorReadingRow, point) == 31  # inside both retentions: kept
