"""Schedules through the API: import, versions and baselines, links (IFC relations, tables,
rules), coverage, progress, installed marks and the 4D payload — checked against the IFC."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import ifcopenshell
import ifcopenshell.util.element
import pytest

from sample_models.generate import write_building
from twin_server.domain.fourd_payload import decode_fourd

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture(scope="module")
def site(api, tmp_path_factory) -> dict:
    """A building uploaded as a revision and its own IFC work schedule imported."""
    folder = tmp_path_factory.mktemp("schedule")
    path = write_building(folder / "building.ifc", storeys=2, bays_x=2, bays_y=1)
    model = api.create_model("P-EAST", "4d")
    revision = api.upload("P-EAST", model["id"], path).json()
    assert revision["processing"] == "succeeded"
    imported = _import(api, path, "总进度计划")
    assert imported.status_code == 201, imported.text
    schedule = api.as_user("bim", "GET", f"/api/projects/{api.node('P-EAST')}/schedules").json()[0]
    return {
        "ifc": ifcopenshell.open(str(path)),
        "path": path,
        "folder": folder,
        "model": model,
        "revision": revision,
        "version": imported.json(),
        "schedule": schedule,
        "base": f"/api/projects/{api.node('P-EAST')}",
    }


def _import(api, path: Path, name: str, user: str = "bim", file_name: str | None = None):
    return api.as_user(
        user,
        "POST",
        f"/api/projects/{api.node('P-EAST')}/schedules/import",
        data={"name": name},
        files={"file": (file_name or path.name, path.read_bytes())},
    )


def _products_of_tasks(model: ifcopenshell.file) -> dict[str, set[str]]:
    """GlobalId of element → GlobalIds of the tasks producing it, read with ifcopenshell."""
    produced: dict[str, set[str]] = defaultdict(set)
    for rel in model.by_type("IfcRelAssignsToProduct"):
        for task in rel.RelatedObjects:
            if task.is_a("IfcTask"):
                produced[rel.RelatingProduct.GlobalId].add(task.GlobalId)
    return produced


def test_import_reads_the_ifc_work_schedule_and_its_links(api, site) -> None:
    model = site["ifc"]
    version = site["version"]
    assert (version["number"], version["source_format"]) == (1, "ifc")
    assert version["task_count"] == len(model.by_type("IfcTask"))
    assert version["element_link_count"] == sum(len(t) for t in _products_of_tasks(model).values())
    tasks = api.as_user("inspector", "GET", f"{site['base']}/schedules/{site['schedule']['id']}/tasks").json()
    assert [t["index"] for t in tasks] == list(range(len(tasks)))
    by_key = {t["key"]: t for t in tasks}
    for task in model.by_type("IfcTask"):
        row = by_key[task.GlobalId]
        assert (row["name"], row["wbs_code"]) == (task.Name, task.Identification)
        if task.TaskTime and task.TaskTime.ScheduleFinish:
            assert row["planned_finish"] == task.TaskTime.ScheduleFinish[:10]


def test_the_4d_payload_follows_the_glb_order_and_the_ifc_links(api, site) -> None:
    url = f"{site['base']}/revisions/{site['revision']['id']}/4d"
    response = api.as_user("site", "GET", url, params={"schedule": site["schedule"]["id"]})
    assert response.status_code == 200 and response.headers["content-type"] == "application/vnd.erji.4d"
    dates, task_count = decode_fourd(response.content)
    tasks = api.as_user("site", "GET", f"{site['base']}/schedules/{site['schedule']['id']}/tasks").json()
    assert task_count == len(tasks)
    elements = api.as_user(
        "site",
        "GET",
        f"{site['base']}/revisions/{site['revision']['id']}/elements",
        params={"page_size": 1000},
    ).json()["items"]
    with_geometry = {e["global_id"]: e["glb_index"] for e in elements if e["glb_index"] is not None}
    assert len(dates) == max(with_geometry.values()) + 1
    produced = _products_of_tasks(site["ifc"])
    for global_id, index in with_geometry.items():
        task = dates.task_index[index]
        if global_id in produced:
            assert tasks[task]["key"] in produced[global_id], global_id
        else:
            assert task == -1, global_id
    as_json = api.as_user(
        "site", "GET", url, params={"schedule": site["schedule"]["id"], "format": "json"}
    ).json()
    assert as_json["element_count"] == len(dates)
    assert [(-1 if i is None else i) for i in as_json["task_index"]] == [int(i) for i in dates.task_index]


def test_the_4d_payload_is_gzipped_for_clients_that_accept_it(api, site) -> None:
    path = write_building(site["folder"] / "bigger-4d.ifc", storeys=4, bays_x=3, bays_y=2)
    model = api.create_model("P-EAST", "4d-gzip")
    revision = api.upload("P-EAST", model["id"], path).json()
    assert revision["processing"] == "succeeded"
    url = f"{site['base']}/revisions/{revision['id']}/4d"
    params = {"schedule": site["schedule"]["id"]}
    plain = api.as_user("site", "GET", url, params=params, headers={"Accept-Encoding": "identity"})
    zipped = api.as_user("site", "GET", url, params=params, headers={"Accept-Encoding": "gzip, br"})
    assert len(plain.content) > 1024 and "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip" and zipped.headers["vary"] == "Accept-Encoding"
    assert zipped.content == plain.content  # httpx decodes it: the same payload
    assert int(zipped.headers["content-length"]) < len(plain.content) / 2


def test_coverage_report_matches_the_ifc(api, site) -> None:
    url = f"{site['base']}/revisions/{site['revision']['id']}/coverage"
    report = api.as_user("bim", "GET", url, params={"schedule": site["schedule"]["id"]}).json()
    model = site["ifc"]
    produced = _products_of_tasks(model)
    from ifc_processing.elements import select_elements

    elements = [e.GlobalId for e in select_elements(model) if not e.is_a("IfcSpace")]
    assert report["elements"] == len(elements)
    assert set(report["elements_without_task"]) == {g for g in elements if g not in produced}
    assert report["elements_without_task_count"] == len(report["elements_without_task"])
    assert report["linked_elements"] == report["elements"] - report["elements_without_task_count"]
    leaf_tasks = {  # milestones mark dates and carry no work
        t.GlobalId
        for t in model.by_type("IfcTask")
        if not any(r.RelatedObjects for r in t.IsNestedBy) and not t.IsMilestone
    }
    used = {k for keys in produced.values() for k in keys}
    assert set(report["tasks_without_element"]) == leaf_tasks - used
    assert set(report["elements_in_several_tasks"]) == {g for g, keys in produced.items() if len(keys) > 1}


def test_a_rule_links_matching_elements_in_later_revisions(api, site, tmp_path) -> None:
    schedule_id = site["schedule"]["id"]
    base = site["base"]
    tasks = api.as_user("bim", "GET", f"{base}/schedules/{schedule_id}/tasks").json()
    leaf = next(t["key"] for t in tasks if not t["is_summary"])
    # A third storey is not in the schedule's IFC links: a rule covers its windows ahead of time.
    rule = api.as_user(
        "bim",
        "POST",
        f"{base}/schedules/{schedule_id}/rules",
        json={"task_key": leaf, "filter": {"ifc_class": ["ifcwindow"], "storey": "3F"}},
    )
    assert rule.status_code == 201, rule.text
    rules = api.as_user("inspector", "GET", f"{base}/schedules/{schedule_id}/rules").json()
    assert rules == [
        {"id": rule.json()["id"], "task_key": leaf, "filter": {"ifc_class": ["ifcwindow"], "storey": "3F"}}
    ]

    bigger_path = write_building(tmp_path / "bigger.ifc", storeys=3, bays_x=2, bays_y=1)
    bigger = ifcopenshell.open(str(bigger_path))
    second = api.upload("P-EAST", site["model"]["id"], bigger_path).json()
    third_floor_windows = {
        w.GlobalId
        for w in bigger.by_type("IfcWindow")
        if ifcopenshell.util.element.get_container(w).Name == "3F"
    }
    assert third_floor_windows
    coverage_url = f"{base}/revisions/{second['id']}/coverage"
    covered = api.as_user("bim", "GET", coverage_url, params={"schedule": schedule_id}).json()
    assert not third_floor_windows & set(covered["elements_without_task"])
    diff = api.as_user(
        "bim",
        "GET",
        f"{base}/schedules/{schedule_id}/link-diff",
        params={"base": site["revision"]["id"], "target": second["id"]},
    ).json()
    assert {g for g, keys in diff["added"].items() if leaf in keys} >= third_floor_windows

    assert (
        api.as_user("bim", "DELETE", f"{base}/schedules/{schedule_id}/rules/{rule.json()['id']}").status_code
        == 204
    )
    uncovered = api.as_user("bim", "GET", coverage_url, params={"schedule": schedule_id}).json()
    assert third_floor_windows <= set(uncovered["elements_without_task"])
    bad = api.as_user(
        "bim",
        "POST",
        f"{base}/schedules/{schedule_id}/rules",
        json={"task_key": leaf, "filter": {"colour": "red"}},
    )
    assert bad.status_code == 422
    unknown = api.as_user(
        "bim",
        "POST",
        f"{base}/schedules/{schedule_id}/rules",
        json={"task_key": "nope", "filter": {"ifc_class": ["IfcWall"]}},
    )
    assert unknown.status_code == 404
    assert (
        api.as_user("inspector", "POST", f"{base}/schedules/{schedule_id}/rules", json={}).status_code == 403
    )


def test_reimport_keeps_the_previous_version_as_baseline(api, site, tmp_path) -> None:
    model = ifcopenshell.open(str(site["path"]))
    task = next(
        t for t in model.by_type("IfcTask") if t.TaskTime and t.TaskTime.ScheduleFinish and not t.IsNestedBy
    )
    old_finish = dt.date.fromisoformat(task.TaskTime.ScheduleFinish[:10])
    task.TaskTime.ScheduleFinish = (old_finish + dt.timedelta(days=5)).isoformat() + "T17:00:00"
    path = tmp_path / "replanned.ifc"
    model.write(str(path))
    assert _import(api, path, "总进度计划").json()["number"] == 2
    schedule_id = site["schedule"]["id"]
    info = api.as_user("bim", "GET", f"{site['base']}/schedules/{schedule_id}").json()
    assert (info["latest_version"], info["baseline_version"], info["baseline_pinned"]) == (2, 1, False)
    tasks = api.as_user(
        "bim",
        "GET",
        f"{site['base']}/schedules/{schedule_id}/tasks",
        params={"at": (old_finish + dt.timedelta(days=3)).isoformat()},
    ).json()
    row = next(t for t in tasks if t["key"] == task.GlobalId)
    assert (row["baseline_finish"], row["planned_finish"]) == (
        old_finish.isoformat(),
        (old_finish + dt.timedelta(days=5)).isoformat(),
    )
    assert row["status"] == "late" and row["delay_days"] == 5
    compare = api.as_user(
        "bim", "GET", f"{site['base']}/schedules/{schedule_id}/compare", params={"version": 2, "against": 1}
    ).json()
    moved = [t for t in compare["tasks"] if t["status"] == "moved"]
    assert [(t["key"], t["finish_shift_days"]) for t in moved] == [(task.GlobalId, 5)]
    pinned = api.as_user(
        "bim", "PUT", f"{site['base']}/schedules/{schedule_id}/baseline", json={"version": 2}
    ).json()
    assert (pinned["baseline_version"], pinned["baseline_pinned"]) == (2, True)
    assert (
        api.as_user(
            "bim", "PUT", f"{site['base']}/schedules/{schedule_id}/baseline", json={"version": 9}
        ).status_code
        == 404
    )
    api.as_user("bim", "PUT", f"{site['base']}/schedules/{schedule_id}/baseline", json={"version": None})


def test_progress_and_installed_marks(api, site) -> None:
    schedule_id = site["schedule"]["id"]
    base = site["base"]
    tasks = api.as_user("bim", "GET", f"{base}/schedules/{schedule_id}/tasks").json()
    produced = _products_of_tasks(site["ifc"])
    members: dict[str, list[str]] = defaultdict(list)
    for global_id, keys in produced.items():
        for key in keys:
            members[key].append(global_id)
    reported, rolled = [t for t in tasks if len(members.get(t["key"], [])) >= 2][:2]
    start = dt.date.fromisoformat(reported["planned_start"])
    progress = api.as_user(
        "site",
        "PUT",
        f"{base}/schedules/{schedule_id}/progress",
        params={"task_key": reported["key"]},
        json={
            "actual_start": start.isoformat(),
            "actual_finish": (start + dt.timedelta(days=1)).isoformat(),
            "percent_complete": 100,
        },
    )
    assert progress.status_code == 200, progress.text
    assert progress.json()["actual_finish"] == (start + dt.timedelta(days=1)).isoformat()
    assert (
        api.as_user(
            "hq",
            "PUT",
            f"{base}/schedules/{schedule_id}/progress",
            params={"task_key": reported["key"]},
            json={},
        ).status_code
        == 403
    )
    for body, status in (
        ({"percent_complete": 150}, 422),
        ({"actual_start": "2025-03-05", "actual_finish": "2025-03-01"}, 422),
    ):
        assert (
            api.as_user(
                "site",
                "PUT",
                f"{base}/schedules/{schedule_id}/progress",
                params={"task_key": reported["key"]},
                json=body,
            ).status_code
            == status
        )
    assert (
        api.as_user(
            "site", "PUT", f"{base}/schedules/{schedule_id}/progress", params={"task_key": "nope"}, json={}
        ).status_code
        == 404
    )

    # One of two elements of another task installed: the task starts, half done by count or quantity.
    first = members[rolled["key"]][0]
    marked = api.as_user(
        "inspector",
        "PUT",
        f"{base}/elements/{first}/installed",
        data={"installed_on": rolled["planned_start"], "note": "浇筑完成"},
        files={"photo": ("p.png", PNG, "image/png")},
    )
    assert marked.status_code == 204, marked.text
    url = f"{base}/revisions/{site['revision']['id']}/4d"
    dates, _ = decode_fourd(api.as_user("site", "GET", url, params={"schedule": schedule_id}).content)
    elements = api.as_user(
        "site", "GET", f"{base}/revisions/{site['revision']['id']}/elements", params={"page_size": 1000}
    ).json()["items"]
    glb = {e["global_id"]: e["glb_index"] for e in elements}
    from twin_server.domain.fourd import day_number

    assert dates.actual_finish[glb[first]] == day_number(dt.date.fromisoformat(rolled["planned_start"]))

    # The mark rolls up into the task: started that day, its share by quantity done.
    with_marks = api.as_user(
        "site", "GET", f"{base}/schedules/{schedule_id}/tasks", params={"revision": site["revision"]["id"]}
    ).json()
    task = next(t for t in with_marks if t["key"] == rolled["key"])
    weights = _quantities(site["ifc"], members[rolled["key"]])
    expected = round(100 * weights[first] / sum(weights.values()), 1)
    assert (task["actual_start"], task["actual_finish"], task["percent_complete"]) == (
        rolled["planned_start"],
        None,
        expected,
    )
    assert 0 < expected < 100

    summary = api.as_user(
        "site",
        "GET",
        f"{base}/revisions/{site['revision']['id']}/4d/summary",
        params={"schedule": schedule_id, "at": "2030-01-01"},
    ).json()
    assert sum(summary["by_status"].values()) == summary["elements"] == len(dates)
    finished = int(((dates.actual_finish <= day_number(dt.date(2030, 1, 1))) & (dates.task_index >= 0)).sum())
    due = int(((dates.baseline_finish <= day_number(dt.date(2030, 1, 1))) & (dates.task_index >= 0)).sum())
    assert summary["spi"] == pytest.approx(finished / due)
    strict = api.as_user(
        "site",
        "GET",
        f"{base}/schedules/{schedule_id}/tasks",
        params={"at": "2030-01-01", "red_over_days": 0},
    ).json()
    assert all(t["light"] == "red" for t in strict if t["delay_days"] > 0)
    bad_photo = api.as_user(
        "inspector",
        "PUT",
        f"{base}/elements/{first}/installed",
        data={"installed_on": "2025-03-03"},
        files={"photo": ("p.gif", b"GIF89a...", "image/gif")},
    )
    assert bad_photo.status_code == 415
    assert api.as_user("inspector", "DELETE", f"{base}/elements/{first}/installed").status_code == 204


def _quantities(model: ifcopenshell.file, global_ids: list[str]) -> dict[str, float]:
    """The first quantity (volume, then area, then length) that every element has, or 1 each."""
    sets = {g: ifcopenshell.util.element.get_psets(model.by_guid(g), qtos_only=True) for g in global_ids}
    flat = {g: {n: v for q in qs.values() for n, v in q.items() if n != "id"} for g, qs in sets.items()}
    for name in ("NetVolume", "GrossVolume", "NetArea", "GrossArea", "NetSideArea", "Length"):
        if all(isinstance(flat[g].get(name), (int, float)) and flat[g][name] > 0 for g in global_ids):
            return {g: float(flat[g][name]) for g in global_ids}
    return dict.fromkeys(global_ids, 1.0)


def test_bad_schedule_files_and_unknown_ids(api, site, tmp_path) -> None:
    base = site["base"]
    (tmp_path / "plan.pdf").write_bytes(b"%PDF-1.7")
    assert _import(api, tmp_path / "plan.pdf", "x").status_code == 415
    (tmp_path / "broken.xml").write_text("<Project><Tasks><Task>")
    broken = _import(api, tmp_path / "broken.xml", "x")
    assert (broken.status_code, broken.json()["error"]) == (422, "invalid_schedule")
    assert broken.json()["detail"].startswith("broken.xml: ")
    assert _import(api, site["path"], "x", user="inspector").status_code == 403
    for url in (f"{base}/schedules/999999", f"{base}/schedules/999999/tasks"):
        assert api.as_user("bim", "GET", url).status_code == 404
    west = f"/api/projects/{api.node('P-WEST')}/schedules/{site['schedule']['id']}"
    assert api.as_user("admin", "GET", west).status_code == 404  # the schedule is EAST's
    fourd = api.as_user(
        "bim", "GET", f"{base}/revisions/{site['revision']['id']}/4d", params={"schedule": 999999}
    )
    assert fourd.status_code == 404


@pytest.mark.corpus
def test_corpus_ms_project_schedule_and_its_globalid_table(api, corpus) -> None:
    from ifc_processing.schedules import read_element_task_table, read_schedule

    base = f"/api/projects/{api.node('P-EAST')}"
    xml = corpus / "schedule" / "Schependomlaan_Uitvoering_18-02-2015.xml"
    imported = _import(api, xml, "Schependomlaan")
    assert imported.status_code == 201, imported.text
    assert (imported.json()["task_count"], imported.json()["source_format"]) == (157, "mspdi")
    calendars = imported.json()["calendars"]
    assert calendars and all(set(c["working_weekdays"]) <= set(range(1, 8)) for c in calendars)
    assert any(c["holidays"] for c in calendars)  # calendar 1 carries years of exceptions
    schedule_id = imported.json()["schedule_id"]
    table = corpus / "schedule" / "Schependomlaan_eventlog_as_planned.csv"
    response = api.as_user(
        "bim",
        "POST",
        f"{base}/schedules/{schedule_id}/links/table",
        files={"file": (table.name, table.read_bytes())},
    )
    assert response.status_code == 201, response.text
    # The table's task ids are not MS Project's: rows link by task name where exactly one
    # task has that name.
    names: dict[str, int] = defaultdict(int)
    for task in read_schedule(xml).tasks:
        names[task.name] += 1
    rows = read_element_task_table(table)
    linkable = {(r.global_id, r.task_name) for r in rows if names.get(r.task_name or "") == 1}
    assert response.json()["added"] == len(linkable)
    unmatched = len(rows) - sum(1 for r in rows if names.get(r.task_name or "") == 1)
    assert len(response.json()["unmatched"]) == min(unmatched, 100)
    again = api.as_user(
        "bim",
        "POST",
        f"{base}/schedules/{schedule_id}/links/table",
        files={"file": (table.name, table.read_bytes())},
    )
    assert again.json()["added"] == 0  # the same links twice are stored once


def test_tasks_of_one_element_are_the_ifc_tasks_producing_it(api, site) -> None:
    """The element filter the viewer's side panel uses: exactly the tasks linked to it."""
    base, schedule_id, revision_id = site["base"], site["schedule"]["id"], site["revision"]["id"]
    produced = _products_of_tasks(site["ifc"])
    url = f"{base}/schedules/{schedule_id}/tasks"
    for global_id in sorted(produced)[:3]:
        response = api.as_user("bim", "GET", url, params={"revision": revision_id, "element": global_id})
        assert response.status_code == 200, response.text
        assert {t["key"] for t in response.json()} == produced[global_id]
        assert all(t["status"] is not None for t in response.json())
    # A rule counts too, asked about this one element only.
    column = next(e.GlobalId for e in site["ifc"].by_type("IfcColumn"))
    other_task = next(
        t["key"] for t in api.as_user("bim", "GET", url).json() if t["key"] not in produced[column]
    )
    rule = api.as_user(
        "bim",
        "POST",
        f"{base}/schedules/{schedule_id}/rules",
        json={"task_key": other_task, "filter": {"ifc_class": ["IfcColumn"]}},
    )
    assert rule.status_code == 201, rule.text
    try:
        with_rule = api.as_user("bim", "GET", url, params={"revision": revision_id, "element": column}).json()
        assert {t["key"] for t in with_rule} == produced[column] | {other_task}
        wall = next(e.GlobalId for e in site["ifc"].by_type("IfcWall"))
        wall_tasks = api.as_user("bim", "GET", url, params={"revision": revision_id, "element": wall}).json()
        assert other_task not in {t["key"] for t in wall_tasks} - produced[wall]
    finally:
        api.as_user("bim", "DELETE", f"{base}/schedules/{schedule_id}/rules/{rule.json()['id']}")
    # Bad requests: no revision to resolve against, an unknown element, a malformed one.
    some = sorted(produced)[0]
    assert api.as_user("bim", "GET", url, params={"element": some}).status_code == 422
    unknown = api.as_user("bim", "GET", url, params={"revision": revision_id, "element": "0" * 22})
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"
    malformed = api.as_user("bim", "GET", url, params={"revision": revision_id, "element": "x'; drop"})
    assert malformed.status_code == 422
    other_region = api.as_user("west_bim", "GET", url, params={"revision": revision_id, "element": some})
    assert other_region.status_code == 404


def test_task_elements_are_every_element_the_ifc_links_to_the_task(api, site) -> None:
    base, schedule_id, revision_id = site["base"], site["schedule"]["id"], site["revision"]["id"]
    produced = _products_of_tasks(site["ifc"])
    members: dict[str, set[str]] = defaultdict(set)
    for global_id, keys in produced.items():
        for key in keys:
            members[key].add(global_id)
    listing = api.as_user(
        "bim", "GET", f"{base}/revisions/{revision_id}/elements", params={"page_size": 1000}
    ).json()["items"]
    row_of = {e["global_id"]: e["glb_index"] for e in listing if e["glb_index"] is not None}
    url = f"{base}/revisions/{revision_id}/4d/task-elements"
    for key in sorted(members)[:4]:
        response = api.as_user("inspector", "GET", url, params={"schedule": schedule_id, "task": key})
        assert response.status_code == 200, response.text
        assert response.json() == {
            "task_key": key,
            "glb_indices": sorted(row_of[g] for g in members[key] if g in row_of),
        }
    unknown = api.as_user("bim", "GET", url, params={"schedule": schedule_id, "task": "no-such-task"})
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"
    assert api.as_user("bim", "GET", url, params={"task": "x"}).status_code == 422
    some = sorted(members)[0]
    assert (
        api.as_user("west_bim", "GET", url, params={"schedule": schedule_id, "task": some}).status_code == 404
    )
