"""Issues through the API, on SQLite and PostgreSQL: the 整改 → 复查 loop with photos, the
parties' permissions, major hazards, overdue, filters, the defects colouring per GLB row,
rectification notices (and their printouts), and the audit of the hash-chained event log."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image

TODAY = dt.date.today()


def jpeg(colour=(200, 30, 30), *, taken: str | None = "2026:11:30 09:15:00", size=(640, 480)) -> bytes:
    """A real JPEG, with EXIF DateTimeOriginal when ``taken`` is given."""
    image = Image.new("RGB", size, colour)
    out = io.BytesIO()
    exif = Image.Exif()
    if taken:
        exif.get_ifd(0x8769)[0x9003] = taken
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


@pytest.fixture(scope="module")
def site(api, small_ifc) -> dict:
    """A processed revision in P-EAST, its elements, and the users by name."""
    model = api.create_model("P-EAST", "issues")
    revision = api.upload("P-EAST", model["id"], small_ifc).json()
    assert revision["processing"] == "succeeded"
    base = f"/api/projects/{api.node('P-EAST')}"
    elements = api.as_user("bim", "GET", f"{base}/revisions/{revision['id']}/elements").json()["items"]
    users = {u["username"]: u for u in api.as_user("inspector", "GET", f"{base}/users").json()}
    return {"base": base, "revision": revision, "elements": elements, "users": users}


def new_issue(api, site, user="inspector", **fields) -> dict:
    body = {
        "kind": "quality",
        "title": "柱脚露筋",
        "description": "C轴/3轴柱脚混凝土剥落，钢筋外露",
        "severity": "major",
        "assignee_id": site["users"]["site"]["id"],
        "due_date": (TODAY + dt.timedelta(days=3)).isoformat(),
        "global_ids": [site["elements"][0]["global_id"]],
        "revision_id": site["revision"]["id"],
        "point_m": [1.25, 0.1, 1.5],
        "fourd_date": "2025-03-20",
        "viewpoint": {
            "camera": {
                "position_m": [10.0, -12.0, 8.0],
                "direction": [-0.6, 0.7, -0.4],
                "up": [0.0, 0.0, 1.0],
                "field_of_view_deg": 45.0,
            },
            "color_mode": "status",
        },
    } | fields
    response = api.as_user(user, "POST", f"{site['base']}/issues", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def act(api, site, issue, user, action, **body):
    return api.as_user(
        user, "POST", f"{site['base']}/issues/{issue['id']}/actions", json={"action": action, **body}
    )


def photo(api, site, issue, user, role="after", data: bytes | None = None, name="after.jpg"):
    return api.as_user(
        user,
        "POST",
        f"{site['base']}/issues/{issue['id']}/photos",
        data={"role": role},
        files={"file": (name, data if data is not None else jpeg(), "image/jpeg")},
    )


def events(api, site, issue) -> list[dict]:
    response = api.as_user("hq", "GET", f"{site['base']}/issues/{issue['id']}/events")
    assert response.status_code == 200, response.text
    return response.json()


# --------------------------------------------------------------------------- creating


def test_an_inspector_pins_an_issue_to_an_element_and_it_opens_with_the_assignee(api, site) -> None:
    issue = new_issue(api, site)
    assert issue["status"] == "open"
    assert issue["number"] >= 1 and len(issue["guid"]) == 36
    assert issue["global_ids"] == [site["elements"][0]["global_id"]]
    assert issue["point_m"] == [1.25, 0.1, 1.5]
    assert issue["fourd_date"] == "2025-03-20"
    assert issue["assignee"] == "site" and issue["creator"] == "inspector"
    assert issue["storey"] == site["elements"][0]["storey_name"]
    viewpoint = issue["viewpoints"][0]
    assert viewpoint["camera"]["position_m"] == [10.0, -12.0, 8.0]
    assert [c["ifc_guid"] for c in viewpoint["selection"]] == issue["global_ids"]
    assert viewpoint["color_mode"] == "status"
    assert [e["type"] for e in events(api, site, issue)] == [
        "created",
        "assigned_to_updated",
        "due_date_updated",
        "status_updated",
    ]
    # What each party may do next is on the issue, for the caller.
    as_site = api.as_user("site", "GET", f"{site['base']}/issues/{issue['id']}").json()
    assert set(as_site["allowed_actions"]) == {"reply", "dispute"}
    assert set(issue["allowed_actions"]) == {"void"}  # the inspector (verifier) while the ball is away


def test_numbers_are_unique_per_project_and_a_draft_waits_for_an_assignee(api, site) -> None:
    draft = new_issue(api, site, assignee_id=None, submit=True)
    assert draft["status"] == "draft"  # nobody to hand the ball to yet
    second = new_issue(api, site)
    assert second["number"] > draft["number"]
    refused = act(api, site, draft, "inspector", "submit")
    assert refused.status_code == 422 and "assign" in refused.json()["detail"]
    updated = api.as_user(
        "inspector",
        "PATCH",
        f"{site['base']}/issues/{draft['id']}",
        json={
            "assignee_id": site["users"]["site"]["id"],
            "labels": ["钢筋", "A区"],
            "title": "柱脚露筋（复核）",
        },
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["labels"] == ["A区", "钢筋"]
    assert act(api, site, draft, "inspector", "submit").json()["status"] == "open"
    types = [e["type"] for e in events(api, site, draft)]
    assert {"title_updated", "label_added", "assigned_to_updated"} <= set(types)
    assert types.count("label_added") == 2


# --------------------------------------------------------------------------- the loop


def test_the_rectification_loop_reply_fail_reply_pass(api, site) -> None:
    issue = new_issue(api, site)
    # A reply needs evidence: an after-photo of this round.
    bare = act(api, site, issue, "site", "reply")
    assert bare.status_code == 422 and "photo" in bare.json()["detail"]
    first = photo(api, site, issue, "site")
    assert first.status_code == 201, first.text
    assert first.json()["exif_time"] == "2026-11-30T09:15:00"
    replied = act(api, site, issue, "site", "reply", comment="已凿除松散混凝土并修补")
    assert replied.status_code == 200 and replied.json()["status"] == "ready_for_review"
    assert replied.json()["comments"][-1]["text"] == "已凿除松散混凝土并修补"

    # The verifier fails it: back to the assignee, reopened once, a reason is required.
    assert act(api, site, issue, "inspector", "reinspect_fail").status_code == 422
    failed = act(api, site, issue, "inspector", "reinspect_fail", reason="修补面积不足")
    assert failed.json()["status"] == "open" and failed.json()["reopened_count"] == 1
    # The first round's photo does not answer the second round.
    assert act(api, site, issue, "site", "reply").status_code == 422
    assert photo(api, site, issue, "site", data=jpeg((10, 120, 10))).status_code == 201
    assert act(api, site, issue, "site", "reply").json()["status"] == "ready_for_review"
    closed = act(api, site, issue, "inspector", "reinspect_pass", comment="复查合格")
    assert closed.json()["status"] == "closed" and closed.json()["closed_at"]
    statuses = [
        (e["value"]["from"], e["value"]["to"])
        for e in events(api, site, issue)
        if e["type"] == "status_updated"
    ]
    assert statuses == [
        ("draft", "open"),
        ("open", "ready_for_review"),
        ("ready_for_review", "open"),
        ("open", "ready_for_review"),
        ("ready_for_review", "closed"),
    ]
    # Closed is final: no step, no photo, no edit.
    again = act(api, site, issue, "inspector", "reinspect_fail", reason="x")
    assert (again.status_code, again.json()["error"]) == (409, "invalid_transition")
    assert photo(api, site, issue, "site").status_code == 409
    edit = api.as_user("inspector", "PATCH", f"{site['base']}/issues/{issue['id']}", json={"title": "x"})
    assert edit.status_code == 409


def test_only_the_party_whose_step_it_is_may_take_it(api, site) -> None:
    issue = new_issue(api, site)
    for user in ("bim", "inspector", "east", "admin"):
        response = act(api, site, issue, user, "dispute", reason="不是我方施工")
        assert response.status_code == 403, (user, response.text)
    assert (
        photo(api, site, issue, "inspector", role="after").status_code == 403
    )  # after-photos: assignee only
    assert photo(api, site, issue, "inspector", role="before").status_code == 201
    assert photo(api, site, issue, "hq", role="before").status_code == 403  # not a party, may not raise
    disputed = act(api, site, issue, "site", "dispute", reason="不是我方施工")
    assert disputed.json()["status"] == "disputed"
    assert act(api, site, issue, "site", "uphold").status_code == 403  # the verifier rules
    assert act(api, site, issue, "inspector", "uphold").json()["status"] == "open"
    assert act(api, site, issue, "site", "void", reason="x").status_code == 403
    assert act(api, site, issue, "inspector", "void").status_code == 422  # a reason is needed
    voided = act(api, site, issue, "inspector", "void", reason="重复录入")
    assert voided.json()["status"] == "void" and voided.json()["void_reason"] == "重复录入"


@pytest.mark.parametrize(
    ("user", "status"),
    [("inspector", 201), ("bim", 201), ("admin", 201), ("site", 403), ("hq", 403), ("east", 403)],
)
def test_who_may_raise_issues(api, site, user, status) -> None:
    response = api.as_user(
        user, "POST", f"{site['base']}/issues", json={"kind": "coordination", "title": "管线碰撞"}
    )
    assert response.status_code == status, response.text


def test_a_major_hazard_needs_a_plan_to_open_and_the_region_to_close(api, site) -> None:
    hazard = new_issue(
        api,
        site,
        kind="safety",
        title="临边防护缺失",
        severity="major",
        submit=False,
    )
    assert hazard["status"] == "draft"
    no_plan = act(api, site, hazard, "inspector", "submit")
    assert no_plan.status_code == 422 and "treatment plan" in no_plan.json()["detail"]
    api.as_user(
        "inspector",
        "PATCH",
        f"{site['base']}/issues/{hazard['id']}",
        json={"treatment_plan": "立即设置防护栏杆，专人监护，24小时内完成"},
    )
    assert act(api, site, hazard, "inspector", "submit").json()["status"] == "open"
    photo(api, site, hazard, "site")
    act(api, site, hazard, "site", "reply")
    unsigned = act(api, site, hazard, "inspector", "reinspect_pass")
    assert unsigned.status_code == 422 and "sign-off" in unsigned.json()["detail"]
    assert (
        api.as_user("inspector", "POST", f"{site['base']}/issues/{hazard['id']}/signoff").status_code == 403
    )
    signed = api.as_user("east", "POST", f"{site['base']}/issues/{hazard['id']}/signoff")
    assert signed.status_code == 200 and signed.json()["signed_off_by"] == "east"
    # A failed re-inspection takes the sign-off back: the next round needs a new one.
    act(api, site, hazard, "inspector", "reinspect_fail", reason="栏杆高度不足")
    assert act(api, site, hazard, "site", "dispute", reason="x").json()["signed_off_by"] is None
    act(api, site, hazard, "inspector", "uphold")
    too_early = api.as_user("east", "POST", f"{site['base']}/issues/{hazard['id']}/signoff")
    assert (too_early.status_code, too_early.json()["error"]) == (
        409,
        "invalid_transition",
    )  # not yet replied
    photo(api, site, hazard, "site", data=jpeg((9, 9, 9)))
    act(api, site, hazard, "site", "reply")
    assert act(api, site, hazard, "inspector", "reinspect_pass").status_code == 422
    api.as_user("east", "POST", f"{site['base']}/issues/{hazard['id']}/signoff")
    assert act(api, site, hazard, "inspector", "reinspect_pass").json()["status"] == "closed"
    types = [e["type"] for e in events(api, site, hazard)]
    assert types.count("signoff_added") == 2 and types.count("signoff_removed") == 1
    # A safety hazard is graded minor or major, never "critical".
    critical = api.as_user(
        "inspector",
        "POST",
        f"{site['base']}/issues",
        json={"kind": "safety", "title": "x", "severity": "critical"},
    )
    assert critical.status_code == 422


def test_overdue_only_while_the_ball_is_with_the_assignee(api, site) -> None:
    late = new_issue(api, site, due_date=(TODAY - dt.timedelta(days=2)).isoformat(), title="逾期未整改")
    assert late["overdue"] is True
    listed = api.as_user("east", "GET", f"{site['base']}/issues", params={"overdue": "true"}).json()
    assert late["id"] in {i["id"] for i in listed["items"]}
    assert all(i["overdue"] for i in listed["items"])
    photo(api, site, late, "site")
    replied = act(api, site, late, "site", "reply").json()
    assert replied["overdue"] is False  # the verifier holds the ball now
    listed = api.as_user("east", "GET", f"{site['base']}/issues", params={"overdue": "true"}).json()
    assert late["id"] not in {i["id"] for i in listed["items"]}
    not_overdue = api.as_user("east", "GET", f"{site['base']}/issues", params={"overdue": "false"}).json()
    assert late["id"] in {i["id"] for i in not_overdue["items"]}


def test_filters_combine(api, site) -> None:
    minor = new_issue(api, site, severity="minor", title="抹灰空鼓")
    element = site["elements"][1]["global_id"]
    pinned = new_issue(api, site, severity="critical", global_ids=[element], title="梁裂缝")

    def ids(**params) -> set[int]:
        response = api.as_user("inspector", "GET", f"{site['base']}/issues", params=params)
        assert response.status_code == 200, response.text
        return {i["id"] for i in response.json()["items"]}

    assert minor["id"] in ids(severity="minor") and pinned["id"] not in ids(severity="minor")
    assert ids(element=element) >= {pinned["id"]} and minor["id"] not in ids(element=element)
    both = ids(severity=["minor", "critical"], status="open")
    assert {minor["id"], pinned["id"]} <= both
    assert minor["id"] in ids(assignee=site["users"]["site"]["id"])
    assert ids(assignee=site["users"]["bim"]["id"]) & {minor["id"], pinned["id"]} == set()
    page = api.as_user("inspector", "GET", f"{site['base']}/issues", params={"limit": 1}).json()
    assert len(page["items"]) == 1 and page["total"] >= 2


def test_defects_colouring_gives_the_worst_live_severity_per_glb_row(api, site) -> None:
    element = site["elements"][1]
    url = f"{site['base']}/issues/severity"
    params = {"revision": site["revision"]["id"]}
    codes = api.as_user("hq", "GET", url, params=params)
    assert codes.status_code == 200 and codes.headers["content-type"] == "application/octet-stream"
    assert len(codes.content) == len(site["elements"])
    new_issue(api, site, severity="critical", global_ids=[element["global_id"]], title="最严重")
    codes = api.as_user("hq", "GET", url, params=params).content
    assert codes[element["glb_index"]] == 3
    listed = api.as_user("hq", "GET", url, params=params | {"format": "json"}).json()
    assert listed["severities"][listed["global_ids"].index(element["global_id"])] == "critical"
    rank = {"minor": 1, "major": 2, "critical": 3}

    def worst_listed() -> int:
        live = api.as_user(
            "hq",
            "GET",
            f"{site['base']}/issues",
            params={"element": element["global_id"], "status": ["open", "ready_for_review", "disputed"]},
        ).json()["items"]
        return max((rank[i["severity"]] for i in live), default=0)

    assert worst_listed() == 3
    # Void every live issue on the element but a minor one: the colour follows.
    live = api.as_user(
        "hq", "GET", f"{site['base']}/issues", params={"element": element["global_id"], "status": "open"}
    ).json()["items"]
    for other in live:
        assert act(api, site, other, "inspector", "void", reason="测试").status_code == 200
    new_issue(api, site, severity="minor", global_ids=[element["global_id"]], title="一般")
    after = api.as_user("hq", "GET", url, params=params).content
    assert after[element["glb_index"]] == worst_listed() == 1


# --------------------------------------------------------------------------- photos


def test_photos_keep_their_bytes_get_a_thumbnail_and_are_stored_once(api, site) -> None:
    issue = new_issue(api, site)
    original = jpeg(size=(1600, 1200))
    first = photo(api, site, issue, "inspector", role="before", data=original, name="现场.jpg")
    again = photo(api, site, issue, "inspector", role="before", data=original, name="现场.jpg")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]  # the same file in the same role: stored once
    sha = first.json()["sha256"]
    served = api.as_user("hq", "GET", f"{site['base']}/issues/{issue['id']}/photos/{sha}")
    assert served.content == original and served.headers["content-type"] == "image/jpeg"
    thumb = api.as_user(
        "hq", "GET", f"{site['base']}/issues/{issue['id']}/photos/{sha}", params={"thumbnail": 1}
    )
    with Image.open(io.BytesIO(thumb.content)) as image:
        assert max(image.size) == 320
    detail = api.as_user("hq", "GET", f"{site['base']}/issues/{issue['id']}").json()
    assert [p["file_name"] for p in detail["photos"]] == ["现场.jpg"]
    assert [e["type"] for e in events(api, site, issue)].count("photo_added") == 1


@pytest.mark.parametrize(
    ("name", "data", "status", "code"),
    [
        ("notes.txt", b"not an image at all", 415, "unsupported_file_type"),
        ("fake.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 200, 422, "invalid_input"),
        ("huge.jpg", b"\xff\xd8\xff" + b"\x00" * (21 * 1024 * 1024), 413, "too_large"),
    ],
)
def test_bad_photos_are_refused_and_nothing_is_attached(api, site, name, data, status, code) -> None:
    issue = new_issue(api, site)
    response = photo(api, site, issue, "inspector", role="before", data=data, name=name)
    assert (response.status_code, response.json()["error"]) == (status, code), response.text
    detail = api.as_user("hq", "GET", f"{site['base']}/issues/{issue['id']}").json()
    assert detail["photos"] == []


# --------------------------------------------------------------------------- bad input


def test_bad_requests_get_clear_4xx(api, site) -> None:
    base = site["base"]
    post = lambda body: api.as_user("inspector", "POST", f"{base}/issues", json=body)  # noqa: E731
    assert post({"kind": "quality"}).status_code == 422  # no title
    assert post({"kind": "weather", "title": "x"}).status_code == 422
    assert post({"kind": "quality", "title": "x", "surprise": 1}).status_code == 422
    assert post({"kind": "quality", "title": "x\x00"}).status_code == 422
    wrong = post(
        {"kind": "quality", "title": "x", "revision_id": site["revision"]["id"], "global_ids": ["0" * 22]}
    )
    assert wrong.status_code == 422 and "0000000000000000000000" in wrong.json()["detail"]
    west_user = post({"kind": "quality", "title": "x", "assignee_id": 10_000})
    assert west_user.status_code == 422
    raw = api.as_user(
        "inspector",
        "POST",
        f"{base}/issues",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert raw.status_code == 422
    assert api.as_user("inspector", "GET", f"{base}/issues/999999").status_code == 404
    west = f"/api/projects/{api.node('P-WEST')}/issues"
    hidden = api.as_user("inspector", "GET", west)
    assert hidden.status_code == 404
    assert api.as_user("inspector", "POST", west, json={"kind": "quality", "title": "x"}).status_code == 404
    bad_action = api.as_user("site", "POST", f"{base}/issues/1/actions", json={"action": "teleport"})
    assert bad_action.status_code == 422


def test_an_assignee_must_be_a_user_of_the_project(api, site) -> None:
    west_bim = api.as_user("admin", "GET", f"/api/projects/{api.node('P-WEST')}/users").json()
    west_id = next(u["id"] for u in west_bim if u["username"] == "west_bim")
    response = api.as_user(
        "inspector",
        "POST",
        f"{site['base']}/issues",
        json={"kind": "quality", "title": "x", "assignee_id": west_id},
    )
    assert response.status_code == 422 and "not a user of this project" in response.json()["detail"]
    users = {u["username"] for u in api.as_user("inspector", "GET", f"{site['base']}/users").json()}
    assert {"inspector", "site", "bim", "east", "admin", "hq"} <= users and "west_bim" not in users


# --------------------------------------------------------------------------- notices


def test_a_notice_follows_its_findings_and_prints(api, site) -> None:
    one = new_issue(api, site, title="临边防护缺失", kind="safety", severity="minor")
    two = new_issue(api, site, title="脚手架连墙件缺失", kind="safety", severity="minor")
    photo(api, site, one, "inspector", role="before")
    deadline = (TODAY + dt.timedelta(days=3)).isoformat()
    created = api.as_user(
        "inspector",
        "POST",
        f"{site['base']}/notices",
        json={
            "issue_ids": [one["id"], two["id"]],
            "issued_to_company": "XX劳务有限公司",
            "contact_person": "张三",
            "deadline": deadline,
            "required_measures": "立即整改，整改完成后回复照片",
            "cc": ["监理单位"],
        },
    )
    assert created.status_code == 201, created.text
    notice = created.json()
    assert notice["status"] == "issued" and notice["number"].startswith(f"ZG-{TODAY.year}-")
    url = f"{site['base']}/notices/{notice['id']}"
    finding = api.as_user("hq", "GET", f"{site['base']}/issues/{one['id']}").json()
    assert finding["due_date"] == deadline and finding["responsible_company"] == "XX劳务有限公司"
    # Bundling the same finding twice is refused.
    twice = api.as_user(
        "inspector",
        "POST",
        f"{site['base']}/notices",
        json={"issue_ids": [one["id"]], "issued_to_company": "Y", "deadline": deadline},
    )
    assert (twice.status_code, twice.json()["error"]) == (409, "already_on_notice")

    assert api.as_user("bim", "POST", f"{url}/acknowledge").status_code == 403
    assert api.as_user("site", "POST", f"{url}/acknowledge").json()["status"] == "acknowledged"
    for issue in (one, two):
        photo(api, site, issue, "site")
        act(api, site, issue, "site", "reply")
    assert api.as_user("hq", "GET", url).json()["status"] == "replied"
    act(api, site, one, "inspector", "reinspect_pass")
    act(api, site, two, "inspector", "reinspect_fail", reason="连墙件间距不符")
    replied = api.as_user("hq", "GET", url).json()
    assert replied["status"] == "replied" and replied["reopened_findings"] == 1  # scenario 6
    photo(api, site, two, "site", data=jpeg((1, 2, 3)))
    act(api, site, two, "site", "reply")
    act(api, site, two, "inspector", "reinspect_pass")
    assert api.as_user("hq", "GET", url).json()["status"] == "verified"

    pdf = api.as_user("hq", "GET", f"{url}/print")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    import pypdf

    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert "整改通知单" in text and notice["number"] in text and deadline in text and "XX劳务有限公司" in text
    page = api.as_user("hq", "GET", f"{url}/print", params={"format": "html", "lang": "en"})
    assert page.status_code == 200 and "Rectification Notice" in page.text and notice["number"] in page.text
    assert "data:image/jpeg;base64," in page.text  # the before-photo's thumbnail


def test_notices_refuse_bad_input(api, site) -> None:
    base = site["base"]
    draft = new_issue(api, site, assignee_id=None)
    future = (TODAY + dt.timedelta(days=1)).isoformat()
    body = {"issue_ids": [draft["id"]], "issued_to_company": "X", "deadline": future}
    assert api.as_user("inspector", "POST", f"{base}/notices", json=body).status_code == 409  # a draft
    body["issue_ids"] = [999_999]
    assert api.as_user("inspector", "POST", f"{base}/notices", json=body).status_code == 404
    body["deadline"] = (TODAY - dt.timedelta(days=1)).isoformat()
    assert api.as_user("inspector", "POST", f"{base}/notices", json=body).status_code == 422
    assert api.as_user("site", "POST", f"{base}/notices", json=body).status_code == 403
    assert api.as_user("hq", "GET", f"{base}/notices/999999").status_code == 404
    assert api.as_user("hq", "GET", f"{base}/notices/1/print", params={"format": "docx"}).status_code == 422


# --------------------------------------------------------------------------- audit


def test_the_audit_finds_edited_inserted_and_deleted_events(api, site) -> None:
    import sqlalchemy as sa

    issue = new_issue(api, site, title="审计")
    url = f"{site['base']}/issues/audit"
    clean = api.as_user("hq", "GET", url).json()
    assert clean["intact"] is True and clean["events_checked"] >= 4 and clean["problems"] == []

    def tampered(statement: str, **values) -> list[dict]:
        with api.runtime.engine.begin() as connection:
            connection.execute(sa.text(statement), {"issue": issue["id"], **values})
        report = api.as_user("hq", "GET", url).json()
        assert report["intact"] is False
        return [p for p in report["problems"] if p["issue_id"] == issue["id"]]

    original = _events(api, issue["id"])
    # Edited: the status event says something else now.
    edited = original[3]["content"].replace('"open"', '"closed"')
    problems = tampered(
        "UPDATE issue_events SET content = :content WHERE issue_id = :issue AND sequence = 4", content=edited
    )
    assert problems and problems[0]["sequence"] == 4 and "edited" in problems[0]["reason"]
    _restore(api, issue["id"], original)
    assert api.as_user("hq", "GET", url).json()["intact"] is True

    # Deleted: the middle event, then the last one.
    problems = tampered("DELETE FROM issue_events WHERE issue_id = :issue AND sequence = 2")
    assert problems
    _restore(api, issue["id"], original)
    problems = tampered("DELETE FROM issue_events WHERE issue_id = :issue AND sequence = 4")
    assert any("recorded" in p["reason"] for p in problems)
    _restore(api, issue["id"], original)

    # Inserted: a forged event appended after the last, with a hash that links correctly.
    from twin_server.domain.issues import canonical_json, chain_hash

    last = original[-1]
    forged = {
        "issue": issue["guid"],
        "sequence": 5,
        "type": "status_updated",
        "value": {"to": "closed"},
        "author": "x",
        "author_id": None,
        "at": "2026-01-01T00:00:00.000000+00:00",
    }
    digest = chain_hash(last["hash"], forged)
    with api.runtime.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO issue_events (issue_id, sequence, type, at, content, prev_hash, hash) "
                "VALUES (:issue, 5, 'status_updated', :at, :content, :prev, :hash)"
            ),
            {
                "issue": issue["id"],
                "at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                "content": canonical_json(forged).decode(),
                "prev": last["hash"],
                "hash": digest,
            },
        )
    report = api.as_user("hq", "GET", url).json()
    assert not report["intact"]
    assert any(p["issue_id"] == issue["id"] and "recorded" in p["reason"] for p in report["problems"])
    _restore(api, issue["id"], original)
    assert api.as_user("hq", "GET", url).json()["intact"] is True


def _events(api, issue_id: int) -> list[dict]:
    import sqlalchemy as sa

    with api.runtime.engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT * FROM issue_events WHERE issue_id = :i ORDER BY sequence"), {"i": issue_id}
        ).mappings()
        return [dict(r) for r in rows]


def _restore(api, issue_id: int, rows: list[dict]) -> None:
    import sqlalchemy as sa

    with api.runtime.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM issue_events WHERE issue_id = :i"), {"i": issue_id})
        for row in rows:
            connection.execute(
                sa.text(
                    "INSERT INTO issue_events (id, issue_id, sequence, type, at, content, prev_hash, hash) "
                    "VALUES (:id, :issue_id, :sequence, :type, :at, :content, :prev_hash, :hash)"
                ),
                row,
            )


def test_a_major_hazard_keeps_its_grade_once_opened(api, site) -> None:
    hazard = new_issue(
        api,
        site,
        kind="safety",
        severity="major",
        title="深基坑支护变形",
        treatment_plan="加设内支撑，加密监测",
    )
    url = f"{site['base']}/issues/{hazard['id']}"
    lowered = api.as_user("inspector", "PATCH", url, json={"severity": "minor"})
    assert (lowered.status_code, lowered.json()["error"]) == (409, "major_hazard_grade")
    minor = new_issue(api, site, kind="safety", severity="minor", title="安全帽未佩戴")
    raised = api.as_user(
        "inspector", "PATCH", f"{site['base']}/issues/{minor['id']}", json={"severity": "major"}
    )
    assert raised.status_code == 422 and "treatment plan" in raised.json()["detail"]
    with_plan = api.as_user(
        "inspector",
        "PATCH",
        f"{site['base']}/issues/{minor['id']}",
        json={"severity": "major", "treatment_plan": "全员安全教育，专人检查"},
    )
    assert with_plan.status_code == 200 and with_plan.json()["severity"] == "major"


def test_nobody_verifies_their_own_rectification(api, site) -> None:
    users = site["users"]
    same = api.as_user(
        "inspector",
        "POST",
        f"{site['base']}/issues",
        json={
            "kind": "quality",
            "title": "x",
            "assignee_id": users["site"]["id"],
            "verifier_id": users["site"]["id"],
        },
    )
    assert same.status_code == 422 and "verifier" in same.json()["detail"]
    issue = new_issue(api, site)
    to_self = api.as_user(
        "inspector",
        "PATCH",
        f"{site['base']}/issues/{issue['id']}",
        json={"assignee_id": users["inspector"]["id"]},
    )
    assert to_self.status_code == 422
    assert api.as_user("hq", "GET", f"{site['base']}/issues/{issue['id']}").json()["assignee"] == "site"


def test_a_reply_needs_the_assignees_own_evidence(api, site) -> None:
    users = site["users"]
    issue = new_issue(api, site)
    assert photo(api, site, issue, "site").status_code == 201  # site's evidence, then site is replaced
    api.as_user(
        "inspector", "PATCH", f"{site['base']}/issues/{issue['id']}", json={"assignee_id": users["bim"]["id"]}
    )
    refused = act(api, site, issue, "bim", "reply")
    assert refused.status_code == 422 and "after-photo" in refused.json()["detail"]
    assert photo(api, site, issue, "bim", data=jpeg((1, 1, 200))).status_code == 201
    assert act(api, site, issue, "bim", "reply").json()["status"] == "ready_for_review"


def test_only_an_issues_creator_or_verifier_puts_it_on_a_notice(api, site) -> None:
    issue = new_issue(api, site, due_date=(TODAY - dt.timedelta(days=1)).isoformat())
    moved = api.as_user(
        "bim",
        "POST",
        f"{site['base']}/notices",
        json={"issue_ids": [issue["id"]], "issued_to_company": "X", "deadline": "2099-01-01"},
    )
    assert (moved.status_code, moved.json()["error"]) == (403, "not_a_party")
    after = api.as_user("hq", "GET", f"{site['base']}/issues/{issue['id']}").json()
    assert after["overdue"] is True and after["notice_id"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "quality", "title": "x", "assignee_id": 2**40},
        {"kind": "quality", "title": "x", "revision_id": 2**63},
        {"kind": "quality", "title": "x", "schedule_id": 2**31},
        {"kind": "quality", "title": "bad\ttitle"},
        {"kind": "quality", "title": "x", "labels": ["erji:status=closed"]},
        {"kind": "quality", "title": "x", "labels": ["two\nlines"]},
    ],
    ids=["huge assignee", "huge revision", "huge schedule", "control character", "reserved label", "newline"],
)
def test_out_of_range_ids_and_unprintable_text_are_422(api, site, body) -> None:
    response = api.as_user("inspector", "POST", f"{site['base']}/issues", json=body)
    assert response.status_code == 422, response.text


def test_notice_fields_fit_their_columns(api, site) -> None:
    issue = new_issue(api, site)
    body = {
        "issue_ids": [issue["id"]],
        "issued_to_company": "X",
        "deadline": "2099-01-01",
        "contact_person": "张" * 150,
    }
    assert api.as_user("inspector", "POST", f"{site['base']}/notices", json=body).status_code == 422
    body["issue_ids"] = [2**40]
    body["contact_person"] = "张三"
    assert api.as_user("inspector", "POST", f"{site['base']}/notices", json=body).status_code == 422


def test_attachments_of_any_type_are_kept_and_only_downloaded(api, site) -> None:
    issue = new_issue(api, site)
    pdf = b"%PDF-1.4\n% a test report\n" + b"0" * 100
    report = photo(api, site, issue, "inspector", role="attachment", data=pdf, name="检测报告.pdf")
    assert report.status_code == 201 and report.json()["content_type"] == "application/pdf"
    assert report.json()["thumbnail_sha256"] is None
    page = photo(
        api, site, issue, "inspector", role="attachment", data=b"<script>alert(1)</script>", name="x.html"
    )
    assert page.status_code == 201 and page.json()["content_type"] == "application/octet-stream"
    url = f"{site['base']}/issues/{issue['id']}/photos/{page.json()['sha256']}"
    served = api.as_user("hq", "GET", url)
    assert served.headers["content-disposition"].startswith("attachment;")
    assert served.headers["content-type"] == "application/octet-stream"
    assert served.headers["content-security-policy"] == "sandbox"
    assert api.as_user("hq", "GET", url, params={"thumbnail": "true"}).status_code == 404
    # A before/after photo must still be an image.
    assert photo(api, site, issue, "inspector", role="before", data=pdf, name="x.pdf").status_code == 415


def _damaged_exif_jpeg() -> bytes:
    """A JPEG whose EXIF block makes Pillow's orientation code raise TypeError (found by
    fuzzing): three bytes changed at fixed offsets after the "Exif" marker."""
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif.get_ifd(0x8769)[0x9003] = "2026:11:30 09:15:00"
    exif.get_ifd(0x8769)[0x9011] = "+08:00"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    data = bytearray(out.getvalue())
    start = data.find(b"Exif\x00\x00")
    for offset, value in ((58, 1), (97, 223), (165, 133)):
        data[start + offset] = value
    return bytes(data)


def test_damaged_exif_is_ignored_not_fatal(api, site) -> None:
    issue = new_issue(api, site)
    damaged = photo(api, site, issue, "inspector", role="before", data=_damaged_exif_jpeg(), name="d.jpg")
    assert damaged.status_code == 201, damaged.text
    nul = photo(api, site, issue, "inspector", role="before", data=jpeg(taken="2026:11:30 09:1\x00:00xx"))
    assert nul.status_code == 201 and nul.json()["exif_time"] is None  # not a time: not stored


def test_the_audit_compares_the_issue_with_what_its_log_says(api, site) -> None:
    import sqlalchemy as sa

    issue = new_issue(api, site, title="审计二")
    photo(api, site, issue, "inspector", role="before")
    api.as_user(
        "inspector", "POST", f"{site['base']}/issues/{issue['id']}/comments", json={"text": "原始记录"}
    )
    url = f"{site['base']}/issues/audit"
    assert api.as_user("hq", "GET", url).json()["intact"] is True
    tables = ("issue_comments", "issue_photos", "issue_elements")

    for change in (
        "UPDATE issues SET status = 'closed' WHERE id = :issue",
        "UPDATE issues SET severity = 'minor' WHERE id = :issue",
        "UPDATE issues SET due_date = NULL WHERE id = :issue",
        "UPDATE issue_comments SET text = '改过的记录' WHERE issue_id = :issue",
        "DELETE FROM issue_photos WHERE issue_id = :issue",
        "DELETE FROM issue_elements WHERE issue_id = :issue",
    ):
        with api.runtime.engine.begin() as connection:
            issue_row = dict(
                connection.execute(sa.text("SELECT * FROM issues WHERE id = :i"), {"i": issue["id"]})
                .mappings()
                .one()
            )
            saved = {
                table: [
                    dict(r)
                    for r in connection.execute(
                        sa.text(f"SELECT * FROM {table} WHERE issue_id = :i"), {"i": issue["id"]}
                    ).mappings()
                ]
                for table in tables
            }
            connection.execute(sa.text(change), {"issue": issue["id"]})
        report = api.as_user("hq", "GET", url).json()
        found = [p for p in report["problems"] if p["issue_id"] == issue["id"]]
        assert found and "differ from what its event log says" in found[0]["reason"], change
        with api.runtime.engine.begin() as connection:  # put the rows back as they were
            for table, rows in saved.items():
                connection.execute(sa.text(f"DELETE FROM {table} WHERE issue_id = :i"), {"i": issue["id"]})
                for row in rows:
                    columns = ", ".join(row)
                    values = ", ".join(f":{c}" for c in row)
                    connection.execute(sa.text(f"INSERT INTO {table} ({columns}) VALUES ({values})"), row)
            sets = ", ".join(f"{c} = :{c}" for c in issue_row if c != "id")
            connection.execute(sa.text(f"UPDATE issues SET {sets} WHERE id = :id"), issue_row)
        assert api.as_user("hq", "GET", url).json()["intact"] is True, change


def test_an_issue_deleted_whole_is_found_against_an_anchor(api, site) -> None:
    """The chain alone cannot tell an issue never existed; an anchor kept outside can."""
    import sqlalchemy as sa

    from twin_server.services.issues import chain_anchor, verify_project_chain

    issue = new_issue(api, site, title="将被删除")
    with api.runtime.sessions() as session:
        anchor = chain_anchor(session, project_id=api.node("P-EAST"))
    assert issue["guid"] in anchor
    with pytest.raises(sa.exc.IntegrityError), api.runtime.engine.begin() as connection:
        # Its history holds it: no one-statement delete of an issue.
        connection.execute(sa.text("DELETE FROM issues WHERE id = :i"), {"i": issue["id"]})
    with api.runtime.engine.begin() as connection:
        for table in ("issue_events", "issue_elements", "issue_viewpoints", "issue_comments", "issue_photos"):
            connection.execute(sa.text(f"DELETE FROM {table} WHERE issue_id = :i"), {"i": issue["id"]})
        connection.execute(sa.text("DELETE FROM issues WHERE id = :i"), {"i": issue["id"]})
    with api.runtime.sessions() as session:
        plain = verify_project_chain(session, project_id=api.node("P-EAST"))
        anchored = verify_project_chain(session, project_id=api.node("P-EAST"), anchor=anchor)
    assert all(issue["guid"] not in p.reason for p in plain.problems)  # invisible without the anchor
    assert any(issue["guid"] in p.reason and "deleted" in p.reason for p in anchored.problems)
