"""Authorization matrix generated from the route table: every route × role × in/out of scope.

Each route must declare exactly one access rule (``api.deps.Access``); the expected answer
follows from the rule's capability, the role's rights (``ROLE_CAPABILITIES``) and whether
the target lies in the caller's subtree. A route added without a rule fails
``test_every_route_declares_one_access_rule``; a rule that is not enforced fails the matrix.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute

from twin_server.api.deps import Access, Authenticated, NodeAccess, ProjectAccess, Public
from twin_server.api.routers import ROUTERS
from twin_server.domain.access import Role, can

ROUTES = [
    (method, route)
    for router in ROUTERS
    for route in router.routes
    if isinstance(route, APIRoute)
    for method in sorted(route.methods - {"HEAD"})
]
PUBLIC = {("POST", "/api/auth/token"), ("POST", "/api/auth/session"), ("GET", "/api/health")}
ROLES = {
    # role → the user of that role in the seeded world, and the node they are bound to
    Role.ADMIN: ("admin", "HQ"),
    Role.HQ_VIEWER: ("hq", "HQ"),
    Role.REGIONAL_MANAGER: ("east", "EAST"),
    Role.BIM_COORDINATOR: ("bim", "P-EAST"),
    Role.INSPECTOR: ("inspector", "P-EAST"),
    Role.SITE_MANAGER: ("site", "P-EAST"),
}


def access_rules(route: APIRoute) -> list[Access]:
    found, stack = [], list(route.dependant.dependencies)
    while stack:
        dependant = stack.pop()
        if isinstance(dependant.call, Access):
            found.append(dependant.call)
        stack.extend(dependant.dependencies)
    return found


def route_id(item) -> str:
    method, route = item
    return f"{method} {route.path}"


def test_every_route_declares_one_access_rule(api) -> None:
    missing = [route_id(item) for item in ROUTES if len(access_rules(item[1])) != 1]
    assert missing == [], "routes without exactly one access rule (see twin_server.api.deps)"
    public = {(m, r.path) for m, r in ROUTES if isinstance(access_rules(r)[0], Public)}
    assert public == PUBLIC, "a route became public: add it to PUBLIC only if that is intended"
    # The routers are the whole API: nothing is mounted around them.
    schema_paths = {
        (method.upper(), path)
        for path, operations in api.client.get("/openapi.json").json()["paths"].items()
        for method in operations
    }
    assert schema_paths == {(m, r.path) for m, r in ROUTES}


@pytest.fixture(scope="module")
def targets(api, tmp_path_factory, small_ifc) -> dict[str, dict[str, object]]:
    """Real ids for every path parameter, in the EAST project and in the WEST project."""
    out = {}
    for project, user in (("P-EAST", "bim"), ("P-WEST", "west_bim")):
        model = api.create_model(project, "matrix", user=user)
        revision = api.upload(project, model["id"], small_ifc, user=user).json()
        assert revision["processing"] == "succeeded"
        base = f"/api/projects/{api.node(project)}/revisions/{revision['id']}/elements"
        element = api.as_user("admin", "GET", base).json()["items"][0]
        plan = tmp_path_factory.mktemp("plan") / "plan.csv"
        plan.write_text("id,name,planned_start,planned_finish\nT1,Walls,2025-03-03,2025-03-07\n")
        imported = api.as_user(
            user,
            "POST",
            f"/api/projects/{api.node(project)}/schedules/import",
            data={"name": "plan"},
            files={"file": ("plan.csv", plan.read_bytes())},
        )
        assert imported.status_code == 201, imported.text
        schedule_id = imported.json()["schedule_id"]
        rule = api.as_user(
            user,
            "POST",
            f"/api/projects/{api.node(project)}/schedules/{schedule_id}/rules",
            json={"task_key": "T1", "filter": {"ifc_class": ["IfcWall"]}},
        )
        issue, notice, photo = _issue_notice_photo(api, project, user)
        alert_id, alert_rule_id, action_id = _alert_rule_action(api, project)
        point_id = _monitor_point(api, project)
        out[project] = {
            "alert_id": alert_id,
            "alert_rule_id": alert_rule_id,
            "action_id": action_id,
            "issue_id": issue,
            "notice_id": notice,
            "photo_sha256": photo,
            "project_id": api.node(project),
            "model_id": model["id"],
            "revision_id": revision["id"],
            "global_id": element["global_id"],
            "sha256": revision["glb_sha256"],
            "document": "spatial",
            "schedule_id": schedule_id,
            "rule_id": rule.json()["id"],
            "point_id": point_id,
        }
    return out


def _monitor_point(api, project: str) -> int:
    """A sensor device of the project and a monitor point of it."""
    base = f"/api/projects/{api.node(project)}"
    device = api.as_user(
        "admin", "POST", f"{base}/sensor-devices", json={"code": "M-1", "device_type": "dust"}
    )
    assert device.status_code == 201, device.text
    point = api.as_user(
        "admin",
        "POST",
        f"{base}/monitor-points",
        json={"device_id": device.json()["id"], "code": "PM-1", "metric": "pm25"},
    )
    assert point.status_code == 201, point.text
    return point.json()["id"]


def _alert_rule_action(api, project: str) -> tuple[int, int, int]:
    """An alert of the project (its task is long overdue: the schedule import raised it), a
    rule scoped to the project's region, and an improvement action of the project."""
    base = f"/api/projects/{api.node(project)}"
    alerts = api.as_user("admin", "GET", f"{base}/alerts").json()
    assert alerts, "importing an overdue schedule raises an alert"
    region = "EAST" if project == "P-EAST" else "WEST"
    rule = api.as_user(
        "admin",
        "POST",
        f"/api/org/nodes/{api.node(region)}/alert-rules",
        json={"code": f"matrix-{region}", "kind": "task_delay", "params": {"over_days": 10}},
    )
    assert rule.status_code == 201, rule.text
    action = api.as_user(
        "admin",
        "POST",
        f"{base}/improvement-actions",
        json={"period": "2026-11", "action": "周例会跟踪进度", "due_date": "2099-01-01"},
    )
    assert action.status_code == 201, action.text
    return alerts[0]["id"], rule.json()["id"], action.json()["id"]


def _issue_notice_photo(api, project: str, user: str) -> tuple[int, int, str]:
    """An open issue (assigned to the admin, who sees every project), a photo of it, and a
    notice bundling it."""
    base = f"/api/projects/{api.node(project)}"
    admin = next(
        u["id"] for u in api.as_user(user, "GET", f"{base}/users").json() if u["username"] == "admin"
    )
    issue = api.as_user(
        user, "POST", f"{base}/issues", json={"kind": "quality", "title": "matrix", "assignee_id": admin}
    )
    assert issue.status_code == 201, issue.text
    issue_id = issue.json()["id"]
    photo = api.as_user(
        user,
        "POST",
        f"{base}/issues/{issue_id}/photos",
        data={"role": "before"},
        files={"file": ("p.png", _PNG)},
    )
    assert photo.status_code == 201, photo.text
    notice = api.as_user(
        user,
        "POST",
        f"{base}/notices",
        json={"issue_ids": [issue_id], "issued_to_company": "X", "deadline": "2199-12-31"},
    )
    assert notice.status_code == 201, notice.text
    return issue_id, notice.json()["id"], photo.json()["sha256"]


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), (1, 2, 3)).save(out, "PNG")
    return out.getvalue()


_PNG = _png()


def fill(path: str, values: dict[str, object]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path)


def call(api, method: str, route: APIRoute, values: dict[str, object], headers: dict[str, str]):
    # Writes carry an empty body: a request that passes the access rule then fails
    # validation (422) and changes nothing.
    body = {"json": {}} if method in ("POST", "PUT", "PATCH") and "revisions" not in route.path else {}
    return api.client.request(method, fill(route.path, values), headers=headers, **body)


@pytest.mark.parametrize("item", ROUTES, ids=route_id)
def test_no_credentials_is_401_except_on_public_routes(api, targets, item) -> None:
    method, route = item
    response = call(api, method, route, targets["P-EAST"] | {"node_id": api.node("EAST")}, {})
    if isinstance(access_rules(route)[0], Public):
        assert response.status_code != 401
    else:
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "not_authenticated"


PROTECTED = [item for item in ROUTES if not any(isinstance(r, Public) for r in access_rules(item[1]))]


@pytest.mark.parametrize("role", list(ROLES), ids=str)
@pytest.mark.parametrize("item", PROTECTED, ids=route_id)
def test_matrix(api, targets, item, role) -> None:
    method, route = item
    rule = access_rules(route)[0]
    user, home = ROLES[role]
    headers = api.auth(user)
    allowed = can(role, rule.capability)

    # In scope: the EAST project (every seeded role sees it), or the user's own node.
    in_scope = targets["P-EAST"] | {"node_id": api.node(home)}
    if (method, route.path) == (
        "DELETE",
        "/api/projects/{project_id}/schedules/{schedule_id}/rules/{rule_id}",
    ):
        in_scope |= {"rule_id": _fresh_rule(api, in_scope)}  # an allowed call deletes it
    response = call(api, method, route, in_scope, headers)
    if (method, route.path) == ("DELETE", "/api/auth/session"):
        api.world.tokens.pop(user)  # logging out ended the user's tokens
    assert response.status_code < 500
    if allowed:
        # Past the route's rule, an issue may still refuse a caller who has no part in it
        # ("not_a_party"): that is the issue's rule, not the route's.
        refused_by_rule = response.status_code == 403 and response.json()["error"] != "not_a_party"
        assert response.status_code not in (401, 404) and not refused_by_rule, (user, response.text)
    else:
        assert (response.status_code, response.json()["error"]) == (403, "permission_denied"), user

    # Out of scope: the WEST region and its project, invisible below HQ: 404, exactly
    # like an id that does not exist, whatever the role's rights.
    if home == "HQ" or isinstance(rule, Authenticated):
        return
    out_of_scope = targets["P-WEST"] | {"node_id": api.node("WEST")}
    hidden = call(api, method, route, out_of_scope, headers)
    assert (hidden.status_code, hidden.json()["error"]) == (404, "not_found"), (user, hidden.text)
    missing_id = {"project_id": 2_000_000_000, "node_id": 2_000_000_000}
    missing = call(api, method, route, out_of_scope | missing_id, headers)
    assert missing.status_code == 404
    if isinstance(rule, (ProjectAccess, NodeAccess)):
        # Same words for "hidden" and "missing", but for the id itself.
        assert hidden.json()["detail"].rsplit(" ", 1)[0] == missing.json()["detail"].rsplit(" ", 1)[0]


def _fresh_rule(api, target: dict) -> int:
    rule = api.as_user(
        "admin",
        "POST",
        f"/api/projects/{target['project_id']}/schedules/{target['schedule_id']}/rules",
        json={"task_key": "T1", "filter": {"ifc_class": ["IfcWall"]}},
    )
    return rule.json()["id"]


def test_lists_show_only_the_callers_subtree(api) -> None:
    def codes(user: str, url: str) -> set[str]:
        return {item["code"] for item in api.as_user(user, "GET", url).json()}

    assert codes("hq", "/api/projects") == {"P-EAST", "P-WEST"}
    assert codes("east", "/api/projects") == {"P-EAST"}
    assert codes("inspector", "/api/projects") == {"P-EAST"}
    assert codes("hq", "/api/org/nodes") == {"HQ", "EAST", "WEST", "P-EAST", "P-WEST"}
    assert codes("east", "/api/org/nodes") == {"EAST", "P-EAST"}
    assert codes("site", "/api/org/nodes") == {"P-EAST"}
