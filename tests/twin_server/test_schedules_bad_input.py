"""Schedules under careless and hostile input: 4xx with the reason, nothing half stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import add_wall, tiny_model
from tests.twin_server.test_bad_input import _race


def _csv(tmp: Path, name: str, body: str) -> Path:
    path = tmp / name
    path.write_text("id,name,planned_start,planned_finish,percent_complete\n" + body, encoding="utf-8")
    return path


def _import(api, path: Path, name: str, file_name: str | None = None):
    return api.as_user(
        "bim",
        "POST",
        f"/api/projects/{api.node('P-EAST')}/schedules/import",
        data={"name": name},
        files={"file": (file_name or path.name, path.read_bytes())},
    )


@pytest.fixture(scope="module")
def plan(api, tmp_path_factory) -> dict:
    """A two-task CSV schedule (0 % complete, as MS Project writes it) and a processed
    two-wall revision linked to task T1 by hand."""
    folder = tmp_path_factory.mktemp("plan")
    m = tiny_model(project_name="Plan")
    walls = [add_wall(m, f"W{i}", at_m=(0.0, 4.0 * i, 0.0)) for i in range(2)]
    model = api.create_model("P-EAST", "plan")
    revision = api.upload("P-EAST", model["id"], m.write(folder / "plan.ifc")).json()
    imported = _import(
        api,
        _csv(folder, "plan.csv", "T1,Walls,2025-03-03,2025-03-10,0\nT2,Slab,2025-03-11,2025-03-20,0\n"),
        "plan",
    )
    assert imported.status_code == 201, imported.text
    schedule_id = imported.json()["schedule_id"]
    base = f"/api/projects/{api.node('P-EAST')}"
    linked = api.as_user(
        "bim",
        "POST",
        f"{base}/schedules/{schedule_id}/links",
        json={"task_key": "T1", "global_ids": [w.GlobalId for w in walls]},
    )
    assert linked.json()["added"] == 2
    return {
        "folder": folder,
        "schedule": schedule_id,
        "revision": revision,
        "walls": [w.GlobalId for w in walls],
        "base": base,
    }


def test_rule_filters_of_the_wrong_shape_are_422(api, plan) -> None:
    url = f"{plan['base']}/schedules/{plan['schedule']}/rules"
    for spec in (
        {"prop": 5},
        {"ifc_class": None},
        {"ifc_class": {"IfcWall": 1}},
        {"prop": True},
        {"storey": "2F\u0000"},
        {"ifc_class": ["Ifc\u0000Wall"]},
        {"colour": "red"},
        {},
        {"prop": ["no operator"]},
    ):
        response = api.as_user("bim", "POST", url, json={"task_key": "T1", "filter": spec})
        assert response.status_code == 422, (spec, response.text)
    # Nothing of it was stored: coverage still works on PostgreSQL and SQLite alike.
    coverage = api.as_user(
        "bim",
        "GET",
        f"{plan['base']}/revisions/{plan['revision']['id']}/coverage",
        params={"schedule": plan["schedule"]},
    )
    assert coverage.status_code == 200


def test_manual_links_take_only_globalids(api, plan) -> None:
    url = f"{plan['base']}/schedules/{plan['schedule']}/links"
    for bad in ("x" * 40, "ab\u0000c", "  ", "x" * 10_000):
        response = api.as_user("bim", "POST", url, json={"task_key": "T1", "global_ids": [bad]})
        assert response.status_code == 422, bad


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("T" * 101 + ",Long,2025-03-03,2025-03-04,0\n", "over 100 characters"),
        ("T9,Ancient,0001-01-01,2025-03-04,0\n", "outside 1900–2199"),
        ("T9,Forever,2025-03-03,9999-12-31,0\n", "outside 1900–2199"),
        (
            "T9,Nul,2025-03-03,2025-03-04,0\n"
            + "T8,x,2025-03-03,2025-03-04,0\n" * 200
            + "T7,a\u0000b,2025-03-03,2025-03-04,0\n",
            "NUL",
        ),
    ],
)
def test_schedule_files_with_impossible_values_are_422(api, plan, body, reason) -> None:
    response = _import(api, _csv(plan["folder"], "bad.csv", body), "bad-values")
    assert (response.status_code, response.json()["error"]) == (422, "invalid_schedule"), response.text
    assert reason in response.json()["detail"]
    names = [s["name"] for s in api.as_user("bim", "GET", f"{plan['base']}/schedules").json()]
    assert "bad-values" not in names  # a failed import leaves no empty schedule


def test_schedule_name_with_nul_and_the_same_file_twice(api, plan) -> None:
    path = _csv(plan["folder"], "again.csv", "A1,One,2025-03-03,2025-03-04,0\n")
    assert _import(api, path, "x\u0000y").status_code == 422
    assert _import(api, path, "twice").status_code == 201
    again = _import(api, path, "twice")
    assert (again.status_code, again.json()["error"]) == (409, "duplicate_file")


def test_dates_and_numbers_out_of_range_are_422(api, plan) -> None:
    base, schedule = plan["base"], plan["schedule"]
    progress = f"{base}/schedules/{schedule}/progress"
    for body in (
        b'{"actual_start": "0001-01-01"}',
        b'{"actual_finish": "9999-12-31"}',
        b'{"percent_complete": 1e400}',
    ):
        response = api.as_user(
            "site",
            "PUT",
            progress,
            params={"task_key": "T2"},
            content=body,
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 422, body
    mark = f"{base}/elements/{plan['walls'][1]}/installed"
    assert api.as_user("site", "PUT", mark, data={"installed_on": "9999-12-31"}).status_code == 422
    assert (
        api.as_user(
            "site", "PUT", f"{base}/elements/not-a-guid/installed", data={"installed_on": "2025-03-05"}
        ).status_code
        == 422
    )
    assert (
        api.as_user(
            "bim", "PUT", f"{base}/schedules/{schedule}/baseline", json={"version": 2**40}
        ).status_code
        == 422
    )
    fourd = api.as_user(
        "site", "GET", f"{base}/revisions/{plan['revision']['id']}/4d", params={"schedule": schedule}
    )
    assert fourd.status_code == 200


def test_parallel_identical_writes_all_succeed(api, plan) -> None:
    base, schedule = plan["base"], plan["schedule"]
    headers = api.auth("site")
    progress = (
        "PUT",
        f"{base}/schedules/{schedule}/progress",
        {"params": {"task_key": "T2"}, "json": {"percent_complete": 10}, "headers": headers},
    )
    assert _race(api, [progress] * 4) == [200] * 4
    mark = (
        "PUT",
        f"{base}/elements/{plan['walls'][1]}/installed",
        {"data": {"installed_on": "2025-03-06"}, "headers": headers},
    )
    assert _race(api, [mark] * 4) == [204] * 4
    links = (
        "POST",
        f"{base}/schedules/{schedule}/links",
        {"json": {"task_key": "T2", "global_ids": plan["walls"]}, "headers": api.auth("bim")},
    )
    statuses = _race(api, [links] * 4)
    assert statuses == [201] * 4
    assert api.as_user("site", "DELETE", f"{base}/elements/{plan['walls'][1]}/installed").status_code == 204


def test_marks_roll_up_even_when_the_file_says_zero_percent(api, plan) -> None:
    base, schedule = plan["base"], plan["schedule"]
    first = plan["walls"][0]
    assert (
        api.as_user(
            "site", "PUT", f"{base}/elements/{first}/installed", data={"installed_on": "2025-03-05"}
        ).status_code
        == 204
    )
    tasks = api.as_user(
        "site",
        "GET",
        f"{base}/schedules/{schedule}/tasks",
        params={"revision": plan["revision"]["id"], "at": "2025-03-06"},
    ).json()
    walls = next(t for t in tasks if t["key"] == "T1")
    assert (walls["actual_start"], walls["actual_finish"], walls["status"]) == (
        "2025-03-05",
        None,
        "in_progress",
    )
    assert 0 < walls["percent_complete"] < 100
    api.as_user("site", "DELETE", f"{base}/elements/{first}/installed")


def test_an_old_version_is_compared_with_the_one_before_it(api, plan) -> None:
    folder = plan["folder"]
    for number, finish in ((1, "2025-03-10"), (2, "2025-03-14"), (3, "2025-03-20")):
        path = _csv(folder, f"v{number}.csv", f"V1,Walls,2025-03-03,{finish},0\n")
        assert _import(api, path, "versions").json()["number"] == number
    schedule = next(
        s for s in api.as_user("bim", "GET", f"{plan['base']}/schedules").json() if s["name"] == "versions"
    )
    url = f"{plan['base']}/schedules/{schedule['id']}/tasks"
    baseline = {
        v: api.as_user("bim", "GET", url, params={"version": v}).json()[0]["baseline_finish"]
        for v in (1, 2, 3)
    }
    assert baseline == {1: None, 2: "2025-03-10", 3: "2025-03-14"}  # v1 has none: its plan stands in
