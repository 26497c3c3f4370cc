"""``TwinClient`` against the real app in-process (both databases): what the pages read,
as which user, and the errors they must turn into messages."""

from __future__ import annotations

import asyncio
import datetime as dt
import math

import httpx
import pytest

from sample_models.generate import write_building
from tests.twin_server.conftest import api  # noqa: F401 (the fixture)
from viewer.client import NotAuthenticated, NotFound, TwinClient


@pytest.fixture(scope="module")
def site(api, tmp_path_factory):  # noqa: F811
    path = write_building(tmp_path_factory.mktemp("client") / "b.ifc", storeys=2, bays_x=2, bays_y=1)
    model = api.create_model("P-EAST", "client")
    revision = api.upload("P-EAST", model["id"], path).json()
    assert revision["processing"] == "succeeded"
    imported = api.as_user(
        "bim",
        "POST",
        f"/api/projects/{api.node('P-EAST')}/schedules/import",
        data={"name": "进度"},
        files={"file": (path.name, path.read_bytes())},
    )
    assert imported.status_code == 201, imported.text
    return {"revision": revision}


def _run(api, user_token: str, work):  # noqa: F811
    async def main():
        client = TwinClient(
            base_url="http://twin.test", token=user_token, transport=httpx.ASGITransport(app=api.app)
        )
        try:
            return await work(client)
        finally:
            await client.close()

    return asyncio.run(main())


def test_the_client_reads_what_the_model_page_needs(api, site) -> None:  # noqa: F811
    project_id = api.node("P-EAST")

    async def work(client: TwinClient):
        assert await client.whoami() == "bim"
        projects = {p.id for p in await client.list_projects()}
        revisions = await client.list_revisions(project_id)
        schedules = await client.list_schedules(project_id)
        tasks = await client.list_tasks(project_id, schedules[0].id, at=dt.date(2025, 3, 20))
        revision = next(r for r in revisions if r.id == site["revision"]["id"])
        some_element = (
            await client._get(
                f"/api/projects/{project_id}/revisions/{revision.id}/elements", ifc_class="IfcWall"
            )
        )["items"][0]["global_id"]
        detail = await client.get_element(project_id, revision.id, some_element)
        linked = await client.list_tasks(
            project_id,
            schedules[0].id,
            at=dt.date(2025, 3, 20),
            revision_id=revision.id,
            global_id=some_element,
        )
        return projects, revision, schedules, tasks, detail, linked

    projects, revision, schedules, tasks, detail, linked = _run(api, api.token("bim"), work)
    assert project_id in projects and api.node("P-WEST") not in projects
    assert revision.glb_url and revision.glb_url.endswith(".glb")
    assert [s.name for s in schedules] == ["进度"]
    assert tasks and all(t.index == i for i, t in enumerate(tasks))
    assert detail.ifc_class == "IfcWall" and detail.storey_name in {"1F", "2F", "RF"}
    assert any(g.name == "Pset_WallCommon" for g in detail.groups)
    assert linked and {t.key for t in linked} <= {t.key for t in tasks}


def test_another_regions_project_and_unknown_ids_are_not_found(api, site) -> None:  # noqa: F811
    async def outside(client: TwinClient):
        await client.get_project(api.node("P-WEST"))

    async def unknown_element(client: TwinClient):
        await client.get_element(api.node("P-EAST"), site["revision"]["id"], "0" * 22)

    with pytest.raises(NotFound):
        _run(api, api.token("bim"), outside)
    with pytest.raises(NotFound):
        _run(api, api.token("bim"), unknown_element)


def test_an_ended_session_is_reported_as_such(api) -> None:  # noqa: F811
    async def work(client: TwinClient):
        await client.whoami()

    with pytest.raises(NotAuthenticated):
        _run(api, "not-a-token", work)


def test_the_issue_loop_through_the_client(api, site) -> None:  # noqa: F811
    """What the issues panel does: raise, answer with a photo, re-inspect; refusals come back
    as ``Refused`` with the server's one-line reason."""
    import io

    from PIL import Image

    from viewer.client import Refused

    project_id = api.node("P-EAST")
    photo = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 10)).save(photo, "JPEG")

    async def inspector(client: TwinClient):
        me = await client.me()
        users = {u.username: u for u in await client.list_users(project_id)}
        created = await client.create_issue(
            project_id,
            {
                "kind": "quality",
                "title": "墙面开裂",
                "assignee_id": users["site"].id,
                "point_m": [1.0, 2.0, 3.0],
            },
        )
        listed = await client.list_issues(project_id, statuses=("open",))
        try:
            await client.create_issue(project_id, {"kind": "quality"})
        except Refused as exc:
            refusal = str(exc)
        return me, users, created, listed, refusal

    me, users, created, listed, refusal = _run(api, api.token("inspector"), inspector)
    assert "raise_issue" in me.capabilities and users["site"].role == "site_manager"
    assert created.row.status == "open" and created.row.point_m == (1.0, 2.0, 3.0)
    assert created.row.id in {i.id for i in listed}
    assert refusal == "title: Field required"  # the field at fault, without the "body" prefix

    async def site_manager(client: TwinClient):
        try:
            await client.act_on_issue(project_id, created.row.id, "reply")
        except Refused as exc:
            without_photo = str(exc)
        await client.add_photo(
            project_id, created.row.id, role="after", file_name="after.jpg", data=photo.getvalue()
        )
        replied = await client.act_on_issue(project_id, created.row.id, "reply", comment="已修补")
        try:
            await client.act_on_issue(project_id, created.row.id, "reinspect_pass")
        except Refused as exc:
            not_mine = str(exc)
        return without_photo, replied, not_mine

    without_photo, replied, not_mine = _run(api, api.token("site"), site_manager)
    assert "after-photo" in without_photo
    assert replied.row.status == "ready_for_review" and replied.comments[-1].text == "已修补"
    assert [p.role for p in replied.photos] == ["after"]
    assert "verifier" in not_mine

    async def close(client: TwinClient):
        return await client.act_on_issue(project_id, created.row.id, "reinspect_pass")

    assert _run(api, api.token("inspector"), close).row.status == "closed"


def test_the_portfolio_through_the_client(api) -> None:  # noqa: F811
    """What the portfolio page reads and does, as the regional manager: the summary cut to
    their region, the ranking, the alert feed, acknowledging and resolving an alert, and an
    improvement action; a user without the right gets ``Refused``."""
    from viewer.client import Refused

    project_id = api.node("P-EAST")
    today = dt.date.today()
    start, finish = today - dt.timedelta(days=40), today - dt.timedelta(days=12)  # 12 days late
    plan = f"id,name,planned_start,planned_finish\nLATE-1,三层顶板浇筑,{start},{finish}\n"
    imported = api.as_user(
        "bim",
        "POST",
        f"/api/projects/{project_id}/schedules/import",
        data={"name": "总进度计划"},
        files={"file": ("plan.csv", plan.encode())},
    )
    assert imported.status_code == 201, imported.text
    period = f"{today.year:04d}-{today.month:02d}"

    async def manager(client: TwinClient):
        summary = await client.portfolio_summary(period)
        ranking = await client.portfolio_ranking(period)
        feed = await client.list_alerts()
        red = await client.list_alerts(levels=("red",))
        alert = next(a for a in feed if a.project_id == project_id and a.kind == "task_delay")
        acknowledged = await client.acknowledge_alert(project_id, alert.id)
        resolved = await client.resolve_alert(project_id, alert.id, note="已调整浇筑计划")
        me = await client.me()
        action = await client.create_action(
            project_id,
            period=period,
            action="每周进度例会，增加一个浇筑班组",
            due_date=today + dt.timedelta(days=14),
            owner_id=me.user_id,
        )
        actions = await client.list_actions(project_id)
        kpis = await client.project_kpis(project_id, period)
        return summary, ranking, red, alert, acknowledged, resolved, action, actions, kpis

    summary, ranking, red, alert, acknowledged, resolved, action, actions, kpis = _run(
        api, api.token("east"), manager
    )
    assert summary.period == period
    assert {p.code for p in summary.projects} == {"P-EAST"}  # the other region is not theirs
    assert [r.code for r in summary.regions] == ["EAST"]
    assert all(len(p.trend) <= 6 for p in summary.projects)
    assert [g.region for g in ranking.regions] == ["EAST"] and ranking.period == period
    assert (
        alert.level == "red" and "三层顶板浇筑" in alert.message_zh and "三层顶板浇筑" in alert.message("en")
    )
    assert alert.id in {a.id for a in red} and all(a.level == "red" for a in red)
    assert acknowledged.status == "acknowledged" and acknowledged.acknowledged_by
    assert resolved.status == "resolved"
    assert action.period == period and action.status == "planned" and action.owner == "east"
    assert action.id in {a.id for a in actions}
    assert kpis.project_id == project_id and kpis.period == period and "max_delay_days" in kpis.values

    async def inspector(client: TwinClient):
        live = await client.list_alerts(statuses=("open", "acknowledged", "resolved"))
        chosen = next(a for a in live if a.id == alert.id)
        try:
            await client.acknowledge_alert(project_id, chosen.id)
        except Refused as exc:
            refused_alert = str(exc)
        try:
            await client.create_action(project_id, period=period, action="x", due_date=today)
        except Refused as exc:
            refused_action = str(exc)
        return chosen, refused_alert, refused_action

    chosen, refused_alert, refused_action = _run(api, api.token("inspector"), inspector)
    assert chosen.status == "resolved" and refused_alert and refused_action


def test_the_map_sites_through_the_client(api) -> None:  # noqa: F811
    """What the map page reads: every visible project with its site point, in the datum the
    base map is drawn in (GCJ-02 moves points in China by a few hundred metres)."""

    async def read(client: TwinClient):
        return await client.portfolio_sites(), await client.portfolio_sites(datum="gcj02")

    wgs84, gcj02 = _run(api, api.token("hq"), read)
    assert wgs84.datum == "wgs84" and gcj02.datum == "gcj02" and wgs84.period == gcj02.period
    by_code = {s.code: s for s in wgs84.sites}
    assert set(by_code) == {"P-EAST", "P-WEST"}
    east = by_code["P-EAST"]
    assert east.lon_lat == pytest.approx((121.47, 31.23)) and east.location_source == "project"
    assert east.region_id == api.node("EAST") and east.region == "EAST"
    assert isinstance(east.top_alerts, tuple) and isinstance(east.georef_warnings, tuple)
    shifted = next(s for s in gcj02.sites if s.code == "P-EAST").lon_lat
    metres = math.dist(
        (shifted[0] * 111_320 * math.cos(math.radians(31.23)), shifted[1] * 110_574),
        (121.47 * 111_320 * math.cos(math.radians(31.23)), 31.23 * 110_574),
    )
    assert 100 < metres < 1000, metres

    async def regional(client: TwinClient):
        return await client.portfolio_sites()

    assert [s.code for s in _run(api, api.token("east"), regional).sites] == ["P-EAST"]


def test_the_sensors_through_the_client(api, site) -> None:  # noqa: F811
    """What the sensors panel reads: every point's state now and at a past moment, the
    element rows its colours are painted on, and a point's readings with their bands."""
    project_id = api.node("P-EAST")
    revision_id = site["revision"]["id"]
    walls = api.as_user(
        "admin",
        "GET",
        f"/api/projects/{project_id}/revisions/{revision_id}/elements",
        params={"ifc_class": "IfcWall"},
    ).json()["items"]
    wall = walls[0]
    device = api.as_user(
        "admin",
        "POST",
        f"/api/projects/{project_id}/sensor-devices",
        json={"code": "CLIENT-INC", "device_type": "excavation", "heartbeat_timeout_s": 5 * 86_400},
    ).json()
    point = api.as_user(
        "admin",
        "POST",
        f"/api/projects/{project_id}/monitor-points",
        json={
            "device_id": device["id"],
            "code": "CLIENT-S1",
            "metric": "displacement",
            "element_global_id": wall["global_id"],
            "warn_upper": 20,
            "alarm_upper": 30,
            "control_upper": "off",
            "alarm_lower": -30,
        },
    )
    assert point.status_code == 201, point.text
    point = point.json()
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    readings = [
        {"point": "CLIENT-S1", "ts": (now - dt.timedelta(hours=h)).isoformat(), "value": 5.0}
        for h in (30, 29, 28)
    ]
    readings += [
        {"point": "CLIENT-S1", "ts": (now - dt.timedelta(minutes=m)).isoformat(), "value": 33.0}
        for m in (20, 10)
    ]
    sent = api.as_user("site", "POST", f"/api/projects/{project_id}/readings", json=readings)
    assert sent.status_code == 200, sent.text
    before = now - dt.timedelta(hours=27)

    async def read(client: TwinClient):
        live = await client.sensor_states(project_id)
        past = await client.sensor_states(
            project_id, at=before.astimezone(dt.timezone(dt.timedelta(hours=8)))
        )
        rows = await client.element_rows(project_id, revision_id, [wall["global_id"], "0" * 22])
        minutes = await client.point_readings(
            project_id, point["id"], start=now - dt.timedelta(hours=24), end=now, bucket="minute"
        )
        raw = await client.point_readings(
            project_id, point["id"], start=now - dt.timedelta(days=2), end=now, bucket="raw"
        )
        return live, past, rows, minutes, raw

    live, past, rows, minutes, raw = _run(api, api.token("bim"), read)
    assert live.live and not past.live and past.at == before
    assert live.elements[wall["global_id"]] == "alarm" and past.elements[wall["global_id"]] == "ok"
    state = next(p for p in live.points if p.point_id == point["id"])
    assert (state.code, state.metric, state.unit, state.device_code) == (
        "CLIENT-S1",
        "displacement",
        "mm",
        "CLIENT-INC",
    )
    assert state.condition == "alarm" and state.tier == "alarm" and state.value == 33.0
    assert state.since == now - dt.timedelta(minutes=20) and state.latest_value == 33.0
    assert state.element_global_id == wall["global_id"] and not state.offline
    assert rows == {wall["global_id"]: wall["glb_index"]}  # the unknown GlobalId is left out
    assert minutes.bucket == "minute" and minutes.unit == "mm" and minutes.code == "CLIENT-S1"
    assert [(p.value, p.low, p.high) for p in minutes.points] == [(33.0, 33.0, 33.0)] * 2
    assert minutes.thresholds.warn[1] == 20.0 and minutes.thresholds.alarm == (-30.0, 30.0)
    assert minutes.thresholds.control[1] is None  # "off": no bound
    assert minutes.night_thresholds is None and not minutes.truncated
    assert [p.value for p in raw.points] == [5.0, 5.0, 5.0, 33.0, 33.0]
    assert raw.points[0].ts == now - dt.timedelta(hours=30)
