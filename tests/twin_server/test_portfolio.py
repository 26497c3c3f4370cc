"""The regional layer through the API, on SQLite and PostgreSQL: alerts raised by the twin's
own data (a late schedule, SPI over linked elements, an overdue 重大隐患, rework rising in a
zone), one alert per (rule, subject) however often it is evaluated, acknowledge and
resolve, rules scoped to a region, the feed and the portfolio cut to the caller's part of
the organisation, KPIs frozen with their month and the ranking read from them, inspection
lots and improvement actions, and bad input answered with 4xx.

The server judges "today" by its clock, so every date here is relative to it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from twin_server.db.orm import AlertRow
from twin_server.domain.kpis import iso_week
from twin_server.services.portfolio import period_of

TODAY = dt.date.today()
THIS_MONTH = period_of(TODAY)
LAST_MONTH_END = TODAY.replace(day=1) - dt.timedelta(days=1)
LAST_MONTH = period_of(LAST_MONTH_END)


def day(offset: int, base: dt.date = TODAY) -> str:
    return (base + dt.timedelta(days=offset)).isoformat()


# --------------------------------------------------------------------------- helpers


def new_region(api, code: str) -> int:
    response = api.as_user(
        "admin",
        "POST",
        f"/api/org/nodes/{api.node('HQ')}/regions",
        json={"code": code, "name": f"{code}区域"},
    )
    assert response.status_code == 201, response.text
    api.world.nodes[code] = response.json()["id"]
    return response.json()["id"]


def new_project(api, code: str, region: str) -> int:
    response = api.as_user(
        "admin",
        "POST",
        f"/api/org/nodes/{api.node(region)}/projects",
        json={"code": code, "name": f"项目 {code}", "site_lon": 116.4, "site_lat": 39.9},
    )
    assert response.status_code == 201, response.text
    api.world.nodes[code] = response.json()["id"]
    return response.json()["id"]


def import_schedule(api, project: str, rows: list[str], user: str = "admin") -> int:
    text = "id,name,milestone,planned_start,planned_finish,actual_finish\n" + "\n".join(rows) + "\n"
    response = api.as_user(
        user,
        "POST",
        f"/api/projects/{api.node(project)}/schedules/import",
        data={"name": "总进度计划"},
        files={"file": ("plan.csv", text.encode())},
    )
    assert response.status_code == 201, response.text
    return response.json()["schedule_id"]


def finish_task(api, project: str, schedule_id: int, key: str, on: str, user: str = "admin") -> None:
    response = api.as_user(
        user,
        "PUT",
        f"/api/projects/{api.node(project)}/schedules/{schedule_id}/progress",
        params={"task_key": key},
        json={"actual_start": on, "actual_finish": on, "percent_complete": 100},
    )
    assert response.status_code == 200, response.text


def alerts(api, project: str, user: str = "admin", **params) -> list[dict]:
    response = api.as_user(user, "GET", f"/api/projects/{api.node(project)}/alerts", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def by_subject(items: list[dict]) -> dict[tuple[str, str], dict]:
    return {(a["rule_code"], a["subject_key"]): a for a in items}


def stored_alerts(api, project: str) -> int:
    with api.runtime.sessions() as session:
        return session.scalar(
            select(func.count()).select_from(AlertRow).where(AlertRow.project_id == api.node(project))
        )


def recompute(api, node: str, periods: list[str] | None = None, user: str = "admin") -> dict:
    response = api.as_user(
        user, "POST", f"/api/org/nodes/{api.node(node)}/kpis/recompute", json={"periods": periods}
    )
    assert response.status_code == 200, response.text
    return response.json()


def add_lot(api, project: str, user: str = "site", **body) -> dict:
    response = api.as_user(user, "POST", f"/api/projects/{api.node(project)}/lots", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def lots_of_week(api, project: str, zone: str, on: str, *, accepted: int, reworked: list[str]) -> None:
    """``accepted`` lots accepted on ``on`` in ``zone``; those named by a trade in
    ``reworked`` were rejected once first (accepted on attempt 2)."""
    for n in range(accepted):
        trade = reworked[n] if n < len(reworked) else "砌体"
        code = f"{zone}-{on}-{n}"
        lot = {"code": code, "name": f"{trade}检验批", "zone": zone, "trade": trade, "inspected_on": on}
        if n < len(reworked):
            add_lot(api, project, **lot, accepted=False, note="钢筋间距超差")
        add_lot(api, project, **lot, accepted=True)


# --------------------------------------------------------------------------- schedule alerts


@pytest.fixture(scope="module")
def late(api) -> dict:
    """P-LATE (EAST): T1 eight days late, milestone M1 two days late, T2 three days late
    (under every threshold), T3 not due yet; imported, so evaluated at once."""
    new_project(api, "P-LATE", "EAST")
    schedule_id = import_schedule(
        api,
        "P-LATE",
        [
            f"T1,主体结构三层,0,{day(-30)},{day(-8)},",
            f"M1,主体封顶,1,{day(-2)},{day(-2)},",
            f"T2,二次结构,0,{day(-20)},{day(-3)},",
            f"T3,装饰装修,0,{day(-1)},{day(30)},",
        ],
    )
    return {"schedule_id": schedule_id}


def test_a_late_task_is_red_and_a_late_milestone_yellow(api, late) -> None:
    found = by_subject(alerts(api, "P-LATE"))
    assert set(found) == {("task_delay", "T1"), ("milestone_delay", "M1")}
    task, milestone = found["task_delay", "T1"], found["milestone_delay", "M1"]
    assert (task["level"], task["value"], task["status"]) == ("red", 8.0, "open")
    assert task["subject_type"] == "task" and task["project_code"] == "P-LATE"
    assert "主体结构三层" in task["message_zh"] and "8" in task["message_en"]
    assert (milestone["level"], milestone["value"], milestone["subject_type"]) == ("yellow", 2.0, "milestone")
    assert "主体封顶" in milestone["message_zh"]


def test_evaluating_again_keeps_one_alert_per_rule_and_subject(api, late) -> None:
    before = {a["id"] for a in alerts(api, "P-LATE")}
    count = stored_alerts(api, "P-LATE")
    for _ in range(3):
        recompute(api, "P-LATE")  # KPIs only
        api.runtime.queue.evaluate([api.node("P-LATE")])  # what every change queues
        api.runtime.queue.evaluate(None)  # the periodic round (claims its slot once)
    assert {a["id"] for a in alerts(api, "P-LATE")} == before
    assert stored_alerts(api, "P-LATE") == count == 2


def test_acknowledge_then_resolve_by_hand_and_the_cooldown_holds(api, late) -> None:
    base = f"/api/projects/{api.node('P-LATE')}/alerts"
    alert = by_subject(alerts(api, "P-LATE"))["milestone_delay", "M1"]
    assert api.as_user("inspector", "POST", f"{base}/{alert['id']}/acknowledge").status_code in (403, 404)
    assert api.as_user("hq", "POST", f"{base}/{alert['id']}/acknowledge").status_code == 403
    seen = api.as_user("east", "POST", f"{base}/{alert['id']}/acknowledge")
    assert seen.status_code == 200, seen.text
    assert (seen.json()["status"], seen.json()["acknowledged_by"]) == ("acknowledged", "east")
    api.runtime.queue.evaluate([api.node("P-LATE")])
    assert by_subject(alerts(api, "P-LATE"))["milestone_delay", "M1"]["status"] == "acknowledged"

    done = api.as_user("east", "POST", f"{base}/{alert['id']}/resolve", json={"note": "已调整封顶计划"})
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["resolution"], done.json()["resolved_by"]) == (
        "resolved",
        "已调整封顶计划",
        "east",
    )
    # The milestone is still late, but the rule's cooldown (a day) keeps it quiet.
    api.runtime.queue.evaluate([api.node("P-LATE")])
    assert ("milestone_delay", "M1") not in by_subject(alerts(api, "P-LATE"))
    resolved = alerts(api, "P-LATE", status="resolved")
    assert [a["id"] for a in resolved if a["subject_key"] == "M1"] == [alert["id"]]

    again = api.as_user("east", "POST", f"{base}/{alert['id']}/resolve", json={})
    assert (again.status_code, again.json()["error"]) == (409, "alert_resolved")
    assert api.as_user("east", "POST", f"{base}/{alert['id']}/acknowledge").status_code == 409
    assert api.as_user("east", "POST", f"{base}/999999/acknowledge").status_code == 404


def test_finishing_the_task_resolves_its_alert(api, late) -> None:
    t1 = by_subject(alerts(api, "P-LATE"))["task_delay", "T1"]
    finish_task(api, "P-LATE", late["schedule_id"], "T1", day(-1))
    assert ("task_delay", "T1") not in by_subject(alerts(api, "P-LATE"))
    closed = {a["id"]: a for a in alerts(api, "P-LATE", status="resolved")}[t1["id"]]
    assert closed["resolution"] == "the condition no longer holds" and closed["resolved_by"] is None


def test_an_alert_is_handled_only_through_its_own_project(api, late) -> None:
    alert_id = alerts(api, "P-LATE", status=["open", "acknowledged", "resolved"])[0]["id"]
    wrong = api.as_user("admin", "POST", f"/api/projects/{api.node('P-EAST')}/alerts/{alert_id}/acknowledge")
    assert wrong.status_code == 404
    west = api.as_user("west_bim", "GET", f"/api/projects/{api.node('P-LATE')}/alerts")
    assert west.status_code in (403, 404)


# --------------------------------------------------------------------------- SPI over the model


def test_spi_counts_linked_elements_and_recovers_when_they_are_done(api, small_ifc) -> None:
    model = api.create_model("P-WEST", "spi", user="west_bim")
    revision = api.upload("P-WEST", model["id"], small_ifc, user="west_bim").json()
    assert revision["processing"] == "succeeded"
    schedule_id = import_schedule(api, "P-WEST", [f"W1,墙体砌筑,0,{day(-20)},{day(-3)},"], user="west_bim")
    rule = api.as_user(
        "west_bim",
        "POST",
        f"/api/projects/{api.node('P-WEST')}/schedules/{schedule_id}/rules",
        json={"task_key": "W1", "filter": {"ifc_class": ["IfcWall"]}},
    )
    assert rule.status_code == 201, rule.text  # linking elements re-evaluates the project
    spi = by_subject(alerts(api, "P-WEST"))["spi", "project"]
    assert (spi["level"], spi["value"]) == ("red", 0.0)  # both walls due, neither built
    kpis = api.as_user("west_bim", "GET", f"/api/projects/{api.node('P-WEST')}/kpis").json()
    assert kpis["values"]["spi"] == 0.0 and kpis["lights"]["schedule"] == "red" and kpis["light"] == "red"

    finish_task(api, "P-WEST", schedule_id, "W1", day(-1), user="west_bim")
    assert ("spi", "project") not in by_subject(alerts(api, "P-WEST"))
    kpis = api.as_user("west_bim", "GET", f"/api/projects/{api.node('P-WEST')}/kpis").json()
    assert kpis["values"]["spi"] == 1.0 and kpis["lights"]["schedule"] == "green"


# --------------------------------------------------------------------------- 重大隐患


def test_an_overdue_major_hazard_is_red_until_the_rectification_is_replied(api) -> None:
    base = f"/api/projects/{api.node('P-EAST')}"
    users = {u["username"]: u["id"] for u in api.as_user("inspector", "GET", f"{base}/users").json()}
    hazard = api.as_user(
        "inspector",
        "POST",
        f"{base}/issues",
        json={
            "kind": "safety",
            "title": "塔吊基础积水",
            "severity": "major",
            "treatment_plan": "立即排水并设置围挡",
            "assignee_id": users["site"],
            "due_date": day(-3),
            "zone": "塔吊区",
        },
    )
    assert hazard.status_code == 201, hazard.text
    number = str(hazard.json()["number"])
    alert = by_subject(alerts(api, "P-EAST"))["major_hazard_overdue", number]
    assert (alert["level"], alert["value"], alert["subject_type"]) == ("red", 3.0, "issue")
    assert "塔吊基础积水" in alert["message_zh"]
    kpis = api.as_user("east", "GET", f"{base}/kpis").json()
    assert kpis["values"]["major_hazards_overdue"] == 1.0 and kpis["lights"]["safety"] == "red"

    photo = api.as_user(
        "site",
        "POST",
        f"{base}/issues/{hazard.json()['id']}/photos",
        data={"role": "after"},
        files={"file": ("after.jpg", _jpeg(), "image/jpeg")},
    )
    assert photo.status_code == 201, photo.text
    reply = api.as_user(
        "site", "POST", f"{base}/issues/{hazard.json()['id']}/actions", json={"action": "reply"}
    )
    assert reply.status_code == 200, reply.text
    assert ("major_hazard_overdue", number) not in by_subject(alerts(api, "P-EAST"))
    kpis = api.as_user("east", "GET", f"{base}/kpis").json()
    assert kpis["values"]["major_hazards_overdue"] == 0.0 and kpis["values"]["hazards_open_major"] == 1.0
    assert kpis["lights"]["safety"] == "yellow"  # open, but with the verifier


def _jpeg() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 30, 30)).save(out, "JPEG")
    return out.getvalue()


# --------------------------------------------------------------------------- lots and rework


def test_lot_attempts_are_numbered_and_an_accepted_lot_takes_no_more(api) -> None:
    lot = {"code": "GJ-001", "name": "三层梁钢筋", "zone": "1#楼", "trade": "钢筋", "inspected_on": day(-1)}
    first = add_lot(api, "P-EAST", **lot, accepted=False, note="箍筋间距超差")
    second = add_lot(api, "P-EAST", **lot, accepted=True)
    assert (first["attempt_no"], first["accepted"]) == (1, False)
    assert (second["attempt_no"], second["accepted"]) == (2, True)
    third = api.as_user(
        "site", "POST", f"/api/projects/{api.node('P-EAST')}/lots", json=lot | {"accepted": True}
    )
    assert (third.status_code, third.json()["error"]) == (409, "lot_accepted")
    listed = api.as_user("hq", "GET", f"/api/projects/{api.node('P-EAST')}/lots").json()
    assert [(x["code"], x["attempt_no"]) for x in listed if x["code"] == "GJ-001"] == [
        ("GJ-001", 2),
        ("GJ-001", 1),
    ]
    # Recording lots is site work: HQ reads, the west's coordinator cannot reach the east.
    assert api.as_user("hq", "POST", f"/api/projects/{api.node('P-EAST')}/lots", json=lot).status_code == 403
    other = api.as_user("west_bim", "POST", f"/api/projects/{api.node('P-EAST')}/lots", json=lot)
    assert other.status_code in (403, 404)


def test_rework_rising_two_weeks_running_predicts_risk_naming_zone_and_trades(api) -> None:
    # 3#楼: 0/5 → 1/5 → 2/5 over three consecutive weeks: rising twice, ≥ 5 lots a week.
    lots_of_week(api, "P-EAST", "3#楼", day(-14), accepted=5, reworked=[])
    lots_of_week(api, "P-EAST", "3#楼", day(-7), accepted=5, reworked=["钢筋"])
    lots_of_week(api, "P-EAST", "3#楼", day(0), accepted=5, reworked=["模板", "钢筋"])
    # 4#楼: 1/5 → 2/5 → 1/5: rose once, then fell — no prediction.
    lots_of_week(api, "P-EAST", "4#楼", day(-14), accepted=5, reworked=["钢筋"])
    lots_of_week(api, "P-EAST", "4#楼", day(-7), accepted=5, reworked=["钢筋", "模板"])
    lots_of_week(api, "P-EAST", "4#楼", day(0), accepted=5, reworked=["钢筋"])
    found = by_subject(alerts(api, "P-EAST"))
    assert ("rework_rising", "4#楼") not in found
    alert = found["rework_rising", "3#楼"]
    assert (alert["level"], alert["subject_type"], alert["value"]) == ("yellow", "zone", 0.4)
    assert alert["facts"]["trades"] == ["模板", "钢筋"]
    assert "3#楼" in alert["message_zh"] and "钢筋" in alert["message_zh"] and "模板" in alert["message_zh"]
    assert alert["facts"]["weeks"] == [iso_week(TODAY - dt.timedelta(days=k)) for k in (14, 7, 0)]

    cells = api.as_user("east", "GET", f"/api/projects/{api.node('P-EAST')}/kpis").json()[
        "rework_by_zone_week"
    ]
    this_week = {c["zone"]: c for c in cells if c["week"] == iso_week(TODAY)}
    assert (this_week["3#楼"]["accepted"], this_week["3#楼"]["reworked"], this_week["3#楼"]["rate"]) == (
        5,
        2,
        0.4,
    )
    assert this_week["3#楼"]["trades"] == ["模板", "钢筋"]


# --------------------------------------------------------------------------- rules


def test_a_region_overrides_a_default_rule_for_its_projects_only(api, late) -> None:
    # P-LATE's T2 is three days late: under the default (over 5 days), over the east's own.
    assert ("task_delay", "T2") not in by_subject(alerts(api, "P-LATE"))
    created = api.as_user(
        "east",
        "POST",
        f"/api/org/nodes/{api.node('EAST')}/alert-rules",
        json={"code": "east-task-delay", "kind": "task_delay", "params": {"over_days": 2}, "level": "yellow"},
    )
    assert created.status_code == 201, created.text
    rule = created.json()
    assert (rule["scope_node_id"], rule["scope"], rule["params"]) == (
        api.node("EAST"),
        "EAST",
        {"over_days": 2.0},
    )
    t2 = by_subject(alerts(api, "P-LATE"))["east-task-delay", "T2"]
    assert t2["level"] == "yellow"
    visible = {r["code"] for r in api.as_user("east", "GET", "/api/alert-rules").json()}
    assert {"task_delay", "spi", "east-task-delay"} <= visible
    assert "east-task-delay" not in {
        r["code"] for r in api.as_user("west_bim", "GET", "/api/alert-rules").json()
    }

    # Disabled, the default applies again (T2 is within it).
    off = api.as_user(
        "east",
        "PATCH",
        f"/api/org/nodes/{api.node('EAST')}/alert-rules/{rule['id']}",
        json={"enabled": False},
    )
    assert off.status_code == 200 and off.json()["enabled"] is False
    assert ("east-task-delay", "T2") not in by_subject(alerts(api, "P-LATE"))


def test_rules_refuse_bad_input_and_foreign_scopes(api) -> None:
    east = f"/api/org/nodes/{api.node('EAST')}/alert-rules"
    ok = {"code": "east-spi", "kind": "spi", "params": {"red_below": 0.85, "yellow_below": 0.9}}
    bad = [
        (ok | {"params": {"over_days": 3}}, 422),  # not an SPI parameter
        (ok | {"params": {}}, 422),  # SPI needs a threshold
        (ok | {"kind": "task_delay", "params": {}}, 422),
        (ok | {"kind": "weather"}, 422),
        (ok | {"level": "green"}, 422),
        (ok | {"cooldown_minutes": -1}, 422),
        (ok | {"code": ""}, 422),
        (ok | {"params": {"red_below": "low"}}, 422),
        (ok | {"surprise": 1}, 422),
    ]
    for body, status in bad:
        response = api.as_user("east", "POST", east, json=body)
        assert response.status_code == status, (body, response.text)
    assert (
        api.as_user(
            "east", "POST", east, content=b"{not json", headers={"Content-Type": "application/json"}
        ).status_code
        == 422
    )
    assert api.as_user("hq", "POST", east, json=ok).status_code == 403  # sees the region, manages nothing
    assert api.as_user("inspector", "POST", east, json=ok).status_code == 404  # the region is above them
    west = f"/api/org/nodes/{api.node('WEST')}/alert-rules"
    assert api.as_user("east", "POST", west, json=ok).status_code == 404
    assert api.as_user("east", "POST", east, json=ok).status_code == 201
    duplicate = api.as_user("east", "POST", east, json=ok)
    assert (duplicate.status_code, duplicate.json()["error"]) == (409, "duplicate_rule")

    default_spi = next(
        r for r in api.as_user("admin", "GET", "/api/alert-rules").json() if r["code"] == "spi"
    )
    # A region may not edit HQ's defaults, nor a rule by an id it cannot see.
    assert (
        api.as_user("east", "PATCH", f"{east}/{default_spi['id']}", json={"enabled": False}).status_code
        == 404
    )
    assert api.as_user("east", "PATCH", f"{east}/999999", json={"enabled": False}).status_code == 404
    wrong = api.as_user(
        "admin",
        "PATCH",
        f"/api/org/nodes/{api.node('HQ')}/alert-rules/{default_spi['id']}",
        json={"params": {"from_days": 1}},
    )
    assert wrong.status_code == 422
    emptied = api.as_user(
        "admin",
        "PATCH",
        f"/api/org/nodes/{api.node('HQ')}/alert-rules/{default_spi['id']}",
        json={"params": {}},
    )
    assert emptied.status_code == 422
    still = next(r for r in api.as_user("admin", "GET", "/api/alert-rules").json() if r["code"] == "spi")
    assert still == default_spi  # nothing refused was stored
    hq_rule = f"/api/org/nodes/{api.node('HQ')}/alert-rules/{default_spi['id']}"
    changed = api.as_user("admin", "PATCH", hq_rule, json={"cooldown_minutes": 720})
    assert changed.status_code == 200 and changed.json() == default_spi | {"cooldown_minutes": 720}
    api.as_user("admin", "PATCH", hq_rule, json={"cooldown_minutes": default_spi["cooldown_minutes"]})


# --------------------------------------------------------------------------- scope


@pytest.fixture(scope="module")
def west_late(api) -> None:
    """P-WEST2 (WEST) with a task ten days late."""
    new_project(api, "P-WEST2", "WEST")
    import_schedule(api, "P-WEST2", [f"T1,桩基施工,0,{day(-30)},{day(-10)},"])


def test_the_feed_and_the_portfolio_are_cut_to_the_callers_scope(api, late, west_late) -> None:

    def feed(user: str) -> set[str]:
        response = api.as_user(
            user, "GET", "/api/alerts", params={"status": ["open", "acknowledged", "resolved"]}
        )
        assert response.status_code == 200, response.text
        return {a["project_code"] for a in response.json()}

    everything = feed("hq")
    assert {"P-LATE", "P-WEST2"} <= everything
    assert "P-LATE" in feed("east") and not feed("east") & {"P-WEST", "P-WEST2"}
    assert feed("east") == {code for code in everything if api.node(code) in _projects_of(api, "EAST")}
    assert feed("west_bim") <= {"P-WEST"}  # a project's people see their project's alerts only
    assert feed("inspector") <= {"P-EAST"}
    reds = api.as_user(
        "hq", "GET", "/api/alerts", params={"level": "red", "status": ["open", "acknowledged", "resolved"]}
    ).json()
    assert reds and all(a["level"] == "red" for a in reds)

    def summary(user: str) -> dict:
        response = api.as_user(user, "GET", "/api/portfolio/summary")
        assert response.status_code == 200, response.text
        return response.json()

    hq, east, inspector = summary("hq"), summary("east"), summary("inspector")
    assert {p["code"] for p in hq["projects"]} >= {"P-EAST", "P-WEST", "P-LATE"}
    assert {p["code"] for p in east["projects"]} == {
        p["code"] for p in hq["projects"] if p["region"] == "EAST"
    }
    assert [r["code"] for r in east["regions"]] == ["EAST"]
    assert [p["code"] for p in inspector["projects"]] == ["P-EAST"] and inspector["regions"] == []
    # A rank is taken in the whole region, whoever asks.
    assert (
        inspector["projects"][0]["rank_in_region"]
        == {p["code"]: p for p in hq["projects"]}["P-EAST"]["rank_in_region"]
    )
    line = {p["code"]: p for p in hq["projects"]}["P-LATE"]
    kpis = api.as_user("hq", "GET", f"/api/projects/{api.node('P-LATE')}/kpis").json()
    assert (line["light"], line["score"]) == (kpis["light"], round(kpis["score"], 1))
    assert line["trend"][-1]["period"] == THIS_MONTH and line["rank_in_region"] >= 1
    assert line["open_alerts"] == len(alerts(api, "P-LATE"))
    region = {r["code"]: r for r in hq["regions"]}["EAST"]
    assert (
        region["projects"] == len(east["projects"]) and sum(region["by_light"].values()) == region["projects"]
    )
    assert sum(hq["by_light"].values()) == len(hq["projects"])
    # A region's roll-up is the region's: others are kept out.
    assert api.as_user("east", "GET", f"/api/org/nodes/{api.node('WEST')}/kpis").status_code in (403, 404)
    assert api.as_user("inspector", "GET", f"/api/org/nodes/{api.node('EAST')}/kpis").status_code in (
        403,
        404,
    )


def _projects_of(api, region: str) -> set[int]:
    nodes = api.as_user("admin", "GET", "/api/org/nodes").json()
    return {n["id"] for n in nodes if n["parent_id"] == api.node(region)}


# --------------------------------------------------------------------------- freezing and ranking


@pytest.fixture(scope="module")
def north(api) -> dict:
    """NORTH: four projects whose schedules were in different states at the end of last
    month — N1 twelve days late, N2 eight, N3 a milestone three days late, N4 on time —
    and last month's KPIs computed (and frozen: the month has ended)."""
    new_region(api, "NORTH")
    end = LAST_MONTH_END
    schedules = {}
    for code, rows in {
        "N1": [f"A,基础,0,{day(-40, end)},{day(-12, end)},"],
        "N2": [f"A,基础,0,{day(-40, end)},{day(-8, end)},"],
        "N3": [
            f"A,基础,0,{day(-40, end)},{day(-20, end)},{day(-20, end)}",
            f"M,验收,1,{day(-3, end)},{day(-3, end)},",
        ],
        "N4": [f"A,基础,0,{day(-40, end)},{day(-20, end)},{day(-20, end)}"],
    }.items():
        new_project(api, code, "NORTH")
        schedules[code] = import_schedule(api, code, rows)
    return {"schedules": schedules, "report": recompute(api, "NORTH", [LAST_MONTH])}


def ranking(api, user: str = "hq") -> dict:
    response = api.as_user(user, "GET", "/api/portfolio/ranking", params={"period": LAST_MONTH})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_closed_month_is_frozen_and_its_ranking_never_changes(api, north) -> None:
    report = north["report"]
    assert (report["periods"], report["computed"], report["frozen"], report["skipped_frozen"]) == (
        [LAST_MONTH],
        4,
        4,
        0,
    )
    first = ranking(api)
    region = next(r for r in first["regions"] if r["region"] == "NORTH区域")
    assert [line["code"] for line in region["ranked"]][-1] == "N1"  # the longest delay ranks last
    assert [line["rank_in_region"] for line in region["ranked"]] == [1, 2, 3, 4]
    scores = [line["score"] for line in region["ranked"]]
    assert scores == sorted(scores, reverse=True)
    assert [b["code"] for b in region["bottom"]] == [line["code"] for line in reversed(region["ranked"][-3:])]
    worst = region["bottom"][0]
    # N1 is last for its 12-day delay alone: that is its one reason.
    assert [(r["code"], r["value"]) for r in worst["reasons"]] == [("max_delay_days", 12.0)]
    n1 = api.as_user(
        "hq", "GET", f"/api/projects/{api.node('N1')}/kpis", params={"period": LAST_MONTH}
    ).json()
    assert n1["frozen"] is True and n1["values"]["max_delay_days"] == 12.0 and n1["light"] == "red"

    # The facts change afterwards (N1 reports it had finished after all) …
    finish_task(api, "N1", north["schedules"]["N1"], "A", day(-13, LAST_MONTH_END))
    again = recompute(api, "NORTH", [LAST_MONTH, THIS_MONTH])
    assert again["skipped_frozen"] == 4 and again["computed"] == 4  # only this month's rows
    # … but last month's numbers and ranking stay exactly as they were.
    assert ranking(api) == first
    later = api.as_user(
        "hq", "GET", f"/api/projects/{api.node('N1')}/kpis", params={"period": LAST_MONTH}
    ).json()
    assert later == n1
    now = api.as_user("hq", "GET", f"/api/projects/{api.node('N1')}/kpis").json()
    assert now["frozen"] is False and now["values"]["max_delay_days"] == 0.0


def test_the_ranking_of_a_fully_frozen_month_says_so(api, north) -> None:
    recompute(api, "HQ", [LAST_MONTH])
    north_only = ranking(api)
    assert north_only["frozen"] is True
    assert sum(len(r["ranked"]) for r in north_only["regions"]) == len(
        api.as_user("hq", "GET", "/api/portfolio/summary").json()["projects"]
    )
    east = ranking(api, "east")
    assert [r["region"] for r in east["regions"]] == ["EAST"]
    # A project's people see their project where it stands in the whole region.
    whole = next(r for r in east["regions"] if r["region"] == "EAST")
    mine = ranking(api, "inspector")["regions"]
    assert [[line["code"] for line in r["ranked"]] for r in mine] == [["P-EAST"]]
    assert mine[0]["ranked"][0] == next(line for line in whole["ranked"] if line["code"] == "P-EAST")
    assert [b["code"] for b in mine[0]["bottom"]] == [
        b["code"] for b in whole["bottom"] if b["code"] == "P-EAST"
    ]


def test_a_region_rolls_up_its_projects(api, north) -> None:
    rollup = api.as_user(
        "hq", "GET", f"/api/org/nodes/{api.node('NORTH')}/kpis", params={"period": LAST_MONTH}
    )
    assert rollup.status_code == 200, rollup.text
    body = rollup.json()
    assert body["projects"] == 4 and sum(body["by_light"].values()) == 4
    assert body["by_light"]["red"] >= 2  # N1 and N2 beyond five days
    # Late: N1's and N2's task and N3's milestone (a milestone is a task too).
    assert (body["totals"]["late_tasks"], body["totals"]["milestones_at_risk"]) == (3.0, 1.0)
    assert body["means"]["max_delay_days"] == pytest.approx((12 + 8 + 3 + 0) / 4)


def test_an_improvement_action_keeps_the_reasons_it_answers(api, north) -> None:
    base = f"/api/projects/{api.node('N1')}/improvement-actions"
    users = {
        u["username"]: u["id"]
        for u in api.as_user("admin", "GET", f"/api/projects/{api.node('P-EAST')}/users").json()
    }
    body = {
        "period": LAST_MONTH,
        "action": "每日碰头会追赶基础工期",
        "owner_id": users["east"],
        "due_date": day(14),
    }
    created = api.as_user("admin", "POST", base, json=body)
    assert created.status_code == 201, created.text
    action = created.json()
    assert action["status"] == "planned" and action["owner"] == "east"
    frozen = api.as_user(
        "hq", "GET", f"/api/projects/{api.node('N1')}/kpis", params={"period": LAST_MONTH}
    ).json()
    assert action["reasons"] == frozen["reasons"][:2] and action["reasons"]
    checked = api.as_user(
        "admin", "PATCH", f"{base}/{action['id']}", json={"status": "checked", "check_result": "基础已完成"}
    )
    assert checked.status_code == 200 and (checked.json()["status"], checked.json()["check_result"]) == (
        "checked",
        "基础已完成",
    )
    assert [a["id"] for a in api.as_user("hq", "GET", base).json()] == [action["id"]]

    for bad in (
        body | {"owner_id": 999_999},
        body | {"period": "2026-13"},
        body | {"action": ""},
        body | {"due_date": "tomorrow"},
    ):
        assert api.as_user("admin", "POST", base, json=bad).status_code == 422, bad
    assert api.as_user("admin", "PATCH", f"{base}/{action['id']}", json={"status": "lost"}).status_code == 422
    assert api.as_user("admin", "PATCH", f"{base}/999999", json={"status": "done"}).status_code == 404
    assert api.as_user("hq", "POST", base, json=body).status_code == 403
    assert api.as_user("inspector", "POST", base, json=body).status_code in (403, 404)
    assert [a["id"] for a in api.as_user("hq", "GET", base).json()] == [
        action["id"]
    ]  # nothing refused was stored


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", "/api/portfolio/summary", {"params": {"period": "2026-13"}}, 422),
        ("GET", "/api/portfolio/ranking", {"params": {"period": "26-01"}}, 422),
        ("GET", "/api/projects/{P-EAST}/kpis", {"params": {"period": "1850-01"}}, 422),
        ("GET", "/api/projects/{P-EAST}/kpis", {"params": {"period": "2001-01"}}, 404),  # never computed
        ("GET", "/api/projects/999999/kpis", {}, 404),
        ("POST", "/api/org/nodes/{HQ}/kpis/recompute", {"json": {"periods": ["2199-12"]}}, 422),
        ("POST", "/api/org/nodes/{HQ}/kpis/recompute", {"json": {"periods": "2026-01"}}, 422),
        ("POST", "/api/org/nodes/999999/kpis/recompute", {"json": {}}, 404),
        ("GET", "/api/alerts", {"params": {"status": "lost"}}, 422),
        ("GET", "/api/alerts", {"params": {"limit": 0}}, 422),
        ("POST", "/api/projects/{P-EAST}/lots", {"json": {"code": "X"}}, 422),
        (
            "POST",
            "/api/projects/{P-EAST}/lots",
            {"content": b"\xff\xfe", "headers": {"Content-Type": "application/json"}},
            422,
        ),
        (
            "POST",
            "/api/projects/{P-EAST}/lots",
            {
                "json": {
                    "code": "X",
                    "name": "x",
                    "zone": "a\nb",
                    "trade": "t",
                    "inspected_on": "2026-01-01",
                    "accepted": True,
                }
            },
            422,
        ),
        (
            "POST",
            "/api/projects/{P-EAST}/lots",
            {
                "json": {
                    "code": "X",
                    "name": "x",
                    "zone": "a",
                    "trade": "t",
                    "inspected_on": "2026-02-30",
                    "accepted": True,
                }
            },
            422,
        ),
    ],
)
def test_bad_input_is_a_4xx(api, method, path, kwargs, status) -> None:
    for code in ("P-EAST", "HQ"):
        path = path.replace("{" + code + "}", str(api.node(code)))
    response = api.as_user("admin", method, path, **kwargs)
    assert response.status_code == status, response.text
    assert "error" in response.json() or "detail" in response.json()


def test_the_periodic_round_runs_once_per_interval_across_processes(api) -> None:
    from twin_server.services.alerts import claim_periodic_run

    now = dt.datetime.now(dt.UTC)
    with api.runtime.sessions() as session:
        first = claim_periodic_run(session, name="test-round", now=now, every_s=600)
        second = claim_periodic_run(
            session, name="test-round", now=now + dt.timedelta(seconds=60), every_s=600
        )
        later = claim_periodic_run(
            session, name="test-round", now=now + dt.timedelta(seconds=700), every_s=600
        )
    assert (first, second, later) == (True, False, True)


# --------------------------------------------------------------------------- configurable health


def test_the_light_counts_only_the_configured_dimensions(tmp_path) -> None:
    """A group whose sites have no sensors yet and which judges schedule elsewhere: only
    quality and safety colour a project; a late schedule still shows, in its own light."""
    from tests.twin_server.conftest import running_api

    with running_api(
        "sqlite",
        tmp_path,
        health_dimensions=["quality", "safety"],
        health_weights={"quality": 1, "safety": 3},
    ) as api:
        new_project(api, "P-CFG", "EAST")
        import_schedule(api, "P-CFG", [f"T1,基础,0,{day(-30)},{day(-10)},"])
        kpis = api.as_user("hq", "GET", f"/api/projects/{api.node('P-CFG')}/kpis").json()
        assert kpis["lights"]["schedule"] == "red" and kpis["light"] == "green"
        assert kpis["score"] == 100.0 and kpis["reasons"] == []


def test_health_settings_are_read_from_the_environment_and_checked(monkeypatch) -> None:
    from pydantic import ValidationError

    from tests.twin_server.conftest import SECRET
    from twin_server.config import Settings
    from twin_server.domain.kpis import Dimension

    monkeypatch.setenv("TWIN_HEALTH_WEIGHTS", '{"schedule": 50, "other": 0}')
    monkeypatch.setenv("TWIN_HEALTH_DIMENSIONS", '["schedule", "quality", "safety"]')
    policy = Settings(secret_key=SECRET).health_policy
    assert (policy.weights.schedule, policy.weights.quality, policy.weights.other) == (50.0, 25.0, 0.0)
    assert policy.counted == {Dimension.SCHEDULE, Dimension.QUALITY, Dimension.SAFETY}
    for weights, dimensions in (
        ('{"schedule": -1}', '["schedule"]'),
        ('{"schedule": 0}', '["schedule"]'),  # nothing left to weigh
        ('{"weather": 1}', '["schedule"]'),
        ("{}", "[]"),
        ("{}", '["weather"]'),
    ):
        monkeypatch.setenv("TWIN_HEALTH_WEIGHTS", weights)
        monkeypatch.setenv("TWIN_HEALTH_DIMENSIONS", dimensions)
        with pytest.raises(ValidationError):
            Settings(secret_key=SECRET)


# --------------------------------------------------------------------------- the summary's cache


def test_the_summary_follows_every_alert_change_at_once(api, west_late) -> None:
    def line() -> dict:
        body = api.as_user("hq", "GET", "/api/portfolio/summary").json()
        return {p["code"]: p for p in body["projects"]}["P-WEST2"]

    before = line()
    assert before["open_alerts"] >= 1 and before["red_alerts"] >= 1
    alert = by_subject(alerts(api, "P-WEST2"))["task_delay", "T1"]
    done = api.as_user(
        "admin",
        "POST",
        f"/api/projects/{api.node('P-WEST2')}/alerts/{alert['id']}/resolve",
        json={"note": "x"},
    )
    assert done.status_code == 200, done.text
    after = line()  # no waiting: the resolution changed the stamp the cached copy was made under
    assert (after["open_alerts"], after["red_alerts"]) == (
        before["open_alerts"] - 1,
        before["red_alerts"] - 1,
    )


def test_the_summary_is_gzipped_for_clients_that_accept_it(api) -> None:
    url = f"{api.client.http.base_url}/api/portfolio/summary"
    packed = api.client.request("GET", url, headers=api.auth("hq") | {"Accept-Encoding": "gzip"})
    plain = api.client.request("GET", url, headers=api.auth("hq") | {"Accept-Encoding": "identity"})
    assert packed.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
    assert packed.json() == plain.json()  # httpx undid the gzip
    assert int(packed.headers["content-length"]) < len(plain.content)


def test_the_summary_cache_keeps_a_value_while_its_stamp_holds_and_for_its_age() -> None:
    from twin_server.services.portfolio import SummaryCache

    cache = SummaryCache(ttl_s=60, max_entries=2)
    cache.put(("/1/", "2026-11"), ("a",), b"one")
    assert cache.get(("/1/", "2026-11"), ("a",)) == b"one"
    assert cache.get(("/1/", "2026-11"), ("b",)) is None  # the portfolio changed since
    assert cache.get(("/1/2/", "2026-11"), ("a",)) is None  # another scope
    cache.put(("/1/2/", "2026-11"), ("a",), b"two")
    cache.put(("/1/3/", "2026-11"), ("a",), b"three")  # full: the oldest goes
    assert (
        cache.get(("/1/", "2026-11"), ("a",)) is None and cache.get(("/1/3/", "2026-11"), ("a",)) == b"three"
    )
    aged = SummaryCache(ttl_s=0)
    aged.put(("/1/", "2026-11"), ("a",), b"one")
    assert aged.get(("/1/", "2026-11"), ("a",)) is None


def test_the_summary_follows_a_renamed_project_at_once(api) -> None:
    new_project(api, "P-NAME", "WEST")

    def name() -> str:
        body = api.as_user("hq", "GET", "/api/portfolio/summary").json()
        return {p["code"]: p for p in body["projects"]}["P-NAME"]["name"]

    assert name() == "项目 P-NAME"
    renamed = api.as_user(
        "admin", "PATCH", f"/api/projects/{api.node('P-NAME')}", json={"name": "西部物流园"}
    )
    assert renamed.status_code == 200, renamed.text
    assert name() == "西部物流园"


# --------------------------------------------------------------------------- what the facts leave out


def test_leaving_settled_issues_out_of_the_facts_changes_no_kpi(api) -> None:
    """``gather_facts`` reads only the issues a period can count (a portfolio has years of
    closed ones); every KPI must come out as it would from all of them."""
    import itertools
    import uuid

    from twin_server.db.orm import IssueRow
    from twin_server.domain.kpis import IssueFact, ProjectFacts, compute_kpis
    from twin_server.services.portfolio import gather_facts, period_bounds

    pid = new_project(api, "P-FACTS", "WEST")
    start, end = period_bounds(LAST_MONTH)
    days = [
        start - dt.timedelta(days=40),
        start - dt.timedelta(days=1),
        start,
        start + dt.timedelta(days=9),
        end,
    ]
    rows = []
    combos = itertools.product(
        ("quality", "safety"), ("open", "closed", "ready_for_review", "void", "draft"), days, days, days
    )
    for number, (kind, status, created, closed, due) in enumerate(combos, start=1):
        if status == "closed" and closed < created:
            continue
        rows.append(
            IssueRow(
                project_id=pid,
                number=number,
                guid=str(uuid.uuid4()),
                kind=kind,
                severity="major" if number % 2 else "minor",
                title=f"问题 {number}",
                status=status,
                creator_name="test",
                due_date=due,
                created_at=dt.datetime.combine(created, dt.time(8), dt.UTC),
                closed_at=dt.datetime.combine(closed, dt.time(17), dt.UTC) if status == "closed" else None,
            )
        )
    with api.runtime.sessions() as session:
        session.add_all(rows)
        session.commit()
        everything = [
            IssueFact(
                number=r.number,
                kind=r.kind,
                severity=r.severity,
                status=r.status,
                created_on=r.created_at.date(),
                closed_on=r.closed_at.date() if r.closed_at else None,
                due_date=r.due_date,
                zone=None,
                category=None,
                reopened_count=0,
                title=r.title,
            )
            for r in rows
        ]
        for period in (LAST_MONTH, THIS_MONTH):
            (_, gathered) = gather_facts(session, period=period, today=TODAY, project_ids=[pid])[pid]
            assert len(gathered.issues) < len(everything)  # something was left out …
            reference = ProjectFacts(
                project_id=pid,
                period_start=gathered.period_start,
                period_end=gathered.period_end,
                as_of=gathered.as_of,
                spi=None,
                issues=tuple(everything),
            )
            assert compute_kpis(gathered) == compute_kpis(reference)  # … and no KPI moved
